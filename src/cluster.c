/*
 * cluster.c: the membership edge: the cluster socket (multicast, or
 * unicast to cluster.peers), ID messages, timers.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "cluster.h"
#include "cluster_peers.h"
#include "log.h"
#include "msg.h"
#include "score.h"

#define CLUSTER_READ_BATCH	64	/* datagrams per read event */

struct cluster {
	struct event_base	*base;
	struct event		*ev_read;
	struct event		*ev_hello;	/* send an ID message */
	struct event		*ev_expire;	/* look for silent members */
	int			 fd;
	struct sockaddr_storage	 group_sa;	/* where ID messages go */
	socklen_t		 group_salen;
	int			 unicast;	/* cluster.peers set: no group */
	struct cluster_peers	 peers;		/* where they go instead */
	unsigned int		 ifindex;
	struct ilbd_conf	 conf;		/* what open used (no services) */
	int			 authenticate;
	uint8_t			 key[MSG_KEY_LEN];
	uint8_t			 key_next[MSG_KEY_LEN];	/* accepted too */
	int			 has_key_next;
	uint64_t		 epoch;		/* boot epoch */
	uint64_t		 seq;		/* last multicast sequence sent */
	uint64_t		 useq;		/* last unicast sequence used */
	uint32_t		 hello_ms;
	void			(*members_cb)(void *);
	void			*arg;
	struct cluster_table	 t;
};

#define CLUSTER_EPOCH_TMP	CLUSTER_EPOCH_FILE ".new"
#define CLUSTER_EPOCH_TEXT	24	/* a uint64_t in decimal, newline */

/* Wall-clock ns: the boot epoch when no state directory says more. */
static uint64_t
cluster_clock_epoch(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* The directory, created (one level, 0755) if missing; fd or -1. */
static int
cluster_epoch_dir(const char *dir, char **cause)
{
	int	fd;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return (util_cause(cause, "node.state_dir %s: cannot create "
		    "it: %s", dir, strerror(errno)));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (util_cause(cause, "node.state_dir %s: %s", dir,
		    strerror(errno)));
	return (fd);
}

/* The epoch recorded in dir (0 if none yet) into *last; 0 or -1. */
static int
cluster_epoch_read(int dfd, const char *dir, uint64_t *last, char **cause)
{
	char			 buf[CLUSTER_EPOCH_TEXT + 1], *end;
	unsigned long long	 v;
	ssize_t			 n;
	int			 fd;

	*last = 0;
	if ((fd = openat(dfd, CLUSTER_EPOCH_FILE, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return (0);
		return (util_cause(cause, "%s/%s: %s", dir,
		    CLUSTER_EPOCH_FILE, strerror(errno)));
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n == -1)
		return (util_cause(cause, "%s/%s: %s", dir,
		    CLUSTER_EPOCH_FILE, strerror(errno)));
	buf[n] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (n == 0 || buf[0] < '0' || buf[0] > '9' || errno != 0 ||
	    (*end != '\0' && strcmp(end, "\n") != 0) || v == ULLONG_MAX)
		return (util_cause(cause, "%s/%s: not a boot epoch (a decimal "
		    "number); remove it to start from the clock alone", dir,
		    CLUSTER_EPOCH_FILE));
	*last = v;
	return (0);
}

/* Replace dir's epoch file with epoch: write, fsync, rename, fsync dir. */
static int
cluster_epoch_write(int dfd, const char *dir, uint64_t epoch, char **cause)
{
	char	buf[CLUSTER_EPOCH_TEXT];
	int	fd, len, e;

	len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)epoch);
	if ((fd = openat(dfd, CLUSTER_EPOCH_TMP, O_WRONLY | O_CREAT |
	    O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) == -1)
		return (util_cause(cause, "%s/%s: %s", dir, CLUSTER_EPOCH_TMP,
		    strerror(errno)));
	errno = 0;
	if (write(fd, buf, (size_t)len) != len || fsync(fd) == -1) {
		e = errno != 0 ? errno : EIO;
		close(fd);
		unlinkat(dfd, CLUSTER_EPOCH_TMP, 0);
		return (util_cause(cause, "%s/%s: %s", dir, CLUSTER_EPOCH_TMP,
		    strerror(e)));
	}
	if (close(fd) == -1 || renameat(dfd, CLUSTER_EPOCH_TMP, dfd,
	    CLUSTER_EPOCH_FILE) == -1) {
		e = errno;
		unlinkat(dfd, CLUSTER_EPOCH_TMP, 0);
		return (util_cause(cause, "%s/%s: %s", dir, CLUSTER_EPOCH_FILE,
		    strerror(e)));
	}
	if (fsync(dfd) == -1)
		return (util_cause(cause, "node.state_dir %s: fsync: %s", dir,
		    strerror(errno)));
	return (0);
}

/*
 * Epochs grow across restarts even when the clock goes back: the last
 * one is kept in the state directory, and a replayed message of an old
 * incarnation can never pass for a new one (DESIGN 5).
 */
int
cluster_epoch_boot(const char *dir, uint64_t clock_ns, uint64_t *epoch,
    char **cause)
{
	uint64_t	last;
	int		dfd, rv;

	*epoch = clock_ns;
	if (dir == NULL || *dir == '\0')
		return (0);
	if ((dfd = cluster_epoch_dir(dir, cause)) == -1)
		return (-1);
	if ((rv = cluster_epoch_read(dfd, dir, &last, cause)) == 0) {
		if (last >= *epoch)
			*epoch = last + 1;
		rv = cluster_epoch_write(dfd, dir, *epoch, cause);
	}
	close(dfd);
	return (rv);
}

static void
cluster_sa_to_addr(const struct sockaddr_storage *ss, struct ilb_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->u.b, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		a->family = AF_INET6;
		memcpy(a->u.b, &((const struct sockaddr_in6 *)ss)->sin6_addr,
		    16);
	}
}

/* Rank an interface address: global beats link-local (IPv6). */
static int
cluster_ifaddr_rank(const struct sockaddr *sa)
{
	const struct sockaddr_in6	*s6;

	if (sa->sa_family != AF_INET6)
		return (2);
	s6 = (const struct sockaddr_in6 *)sa;
	return (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) ? 1 : 2);
}

/* node.address unset: the first address of node.interface in family. */
static int
cluster_ifaddr(const char *ifname, int family, struct ilb_addr *a,
    char **cause)
{
	struct ifaddrs		*ifa, *i;
	struct sockaddr_storage	 ss;
	int			 best = 0, r;

	if (getifaddrs(&ifa) == -1)
		return (util_cause(cause, "getifaddrs: %s", strerror(errno)));
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != family ||
		    strcmp(i->ifa_name, ifname) != 0)
			continue;
		if ((r = cluster_ifaddr_rank(i->ifa_addr)) <= best)
			continue;
		best = r;
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, i->ifa_addr, family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		cluster_sa_to_addr(&ss, a);
	}
	freeifaddrs(ifa);
	if (best == 0)
		return (util_cause(cause, "interface %s has no %s address: set "
		    "node.address", ifname, family == AF_INET ? "IPv4" :
		    "IPv6"));
	return (0);
}

static int
cluster_setopt(int fd, int level, int name, const void *v, socklen_t len,
    const char *what, char **cause)
{
	if (setsockopt(fd, level, name, v, len) == 0)
		return (0);
	return (util_cause(cause, "cluster socket: %s: %s", what,
	    strerror(errno)));
}

/* Join the IPv4 group on the interface; TTL 1, no loop. */
static int
cluster_socket4(struct cluster *c, char **cause)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&c->group_sa;
	struct ip_mreqn		 mr;
	int			 ttl = 1, off = 0;

	sin->sin_family = AF_INET;
	sin->sin_port = htons(c->conf.cluster.port);
	memcpy(&sin->sin_addr, c->conf.cluster.group.u.b, 4);
	c->group_salen = sizeof(*sin);
	memset(&mr, 0, sizeof(mr));
	mr.imr_multiaddr = sin->sin_addr;
	mr.imr_ifindex = (int)c->ifindex;
	if (cluster_setopt(c->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
	    sizeof(mr), "IP_ADD_MEMBERSHIP", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IP, IP_MULTICAST_IF, &mr,
	    sizeof(mr), "IP_MULTICAST_IF", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
	    sizeof(ttl), "IP_MULTICAST_TTL", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off,
	    sizeof(off), "IP_MULTICAST_LOOP", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IP, IP_MULTICAST_ALL, &off,
	    sizeof(off), "IP_MULTICAST_ALL", cause) == -1)
		return (-1);
	return (0);
}

/* Join the IPv6 group on the interface; hop limit 1, no loop. */
static int
cluster_socket6(struct cluster *c, char **cause)
{
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&c->group_sa;
	struct ipv6_mreq	 mr;
	int			 hops = 1, off = 0, on = 1;
	unsigned int		 ifindex = c->ifindex;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(c->conf.cluster.port);
	memcpy(&sin6->sin6_addr, c->conf.cluster.group.u.b, 16);
	sin6->sin6_scope_id = c->ifindex;
	c->group_salen = sizeof(*sin6);
	memset(&mr, 0, sizeof(mr));
	mr.ipv6mr_multiaddr = sin6->sin6_addr;
	mr.ipv6mr_interface = c->ifindex;
	if (cluster_setopt(c->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
	    sizeof(on), "IPV6_V6ONLY", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr,
	    sizeof(mr), "IPV6_JOIN_GROUP", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex,
	    sizeof(ifindex), "IPV6_MULTICAST_IF", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
	    sizeof(hops), "IPV6_MULTICAST_HOPS", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off,
	    sizeof(off), "IPV6_MULTICAST_LOOP", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &off,
	    sizeof(off), "IPV6_MULTICAST_ALL", cause) == -1)
		return (-1);
	return (0);
}

/*
 * cluster.peers: bound to node.address (or any) and the cluster port,
 * joined to no group and deaf to every group (IP_MULTICAST_ALL off): only
 * unicast arrives, from the peers.
 */
static int
cluster_socket_unicast(struct cluster *c, char **cause)
{
	struct ilb_addr	 any;
	int		 on = 1, off = 0;
	char		 a[ILB_ADDRSTRLEN];

	memset(&any, 0, sizeof(any));
	any.family = c->conf.cluster.group.family;
	if (c->conf.node.has_address)
		any = c->conf.node.address;
	c->group_salen = util_sockaddr(&any, c->conf.cluster.port,
	    &c->group_sa);
	if ((any.family == AF_INET && cluster_setopt(c->fd, IPPROTO_IP,
	    IP_MULTICAST_ALL, &off, sizeof(off), "IP_MULTICAST_ALL",
	    cause) == -1) || (any.family == AF_INET6 && (cluster_setopt(c->fd,
	    IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on), "IPV6_V6ONLY",
	    cause) == -1 || cluster_setopt(c->fd, IPPROTO_IPV6,
	    IPV6_MULTICAST_ALL, &off, sizeof(off), "IPV6_MULTICAST_ALL",
	    cause) == -1)))
		return (-1);
	if (bind(c->fd, (struct sockaddr *)&c->group_sa, c->group_salen)
	    == -1)
		return (util_cause(cause, "cluster socket: bind %s port %u: %s",
		    c->conf.node.has_address ? util_addr_fmt(&any, a,
		    sizeof(a)) : "any", c->conf.cluster.port,
		    strerror(errno)));
	log_info("cluster: unicast to %u peer%s, no multicast", c->peers.n,
	    c->peers.n == 1 ? "" : "s");
	return (0);
}

/*
 * A UDP socket bound to group:port and joined to it on the interface;
 * with cluster.peers, a unicast one instead.
 */
static int
cluster_socket(struct cluster *c, char **cause)
{
	int	family = c->conf.cluster.group.family, on = 1, rv;
	char	g[ILB_ADDRSTRLEN];

	c->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return (util_cause(cause, "cluster socket: %s",
		    strerror(errno)));
	if (cluster_setopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on),
	    "SO_REUSEADDR", cause) == -1)
		return (-1);
	memset(&c->group_sa, 0, sizeof(c->group_sa));
	if (c->unicast)
		return (cluster_socket_unicast(c, cause));
	rv = family == AF_INET ? cluster_socket4(c, cause) :
	    cluster_socket6(c, cause);
	if (rv == -1)
		return (-1);
	if (bind(c->fd, (struct sockaddr *)&c->group_sa, c->group_salen)
	    == -1) {
		return (util_cause(cause, "cluster socket: bind %s port %u: %s",
		    util_addr_fmt(&c->conf.cluster.group, g, sizeof(g)),
		    c->conf.cluster.port, strerror(errno)));
	}
	return (0);
}

/* A header from this node: our id and epoch, type, seq. */
static void
cluster_hdr(const struct cluster *c, uint8_t type, uint64_t seq,
    struct msg_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->version = MSG_VERSION;
	h->type = type;
	h->sender = c->t.m[c->t.self].id;
	h->epoch = c->epoch;
	h->seq = seq;
}

static const uint8_t *
cluster_key(const struct cluster *c)
{
	return (c->authenticate ? c->key : NULL);
}

/* msg_verify() under the key, or the next key (counted: key_next). */
static enum msg_reason
cluster_verify(struct cluster *c, const uint8_t *buf,
    const struct msg_view *v)
{
	enum msg_reason	r;
	int		by_next;

	r = msg_verify_next(buf, v, cluster_key(c), c->has_key_next ?
	    c->key_next : NULL, &by_next);
	if (r == MSG_OK && by_next)
		c->t.stats.key_next++;
	return (r);
}

/*
 * Multicast an encoded message, or with cluster.peers unicast the same
 * datagram to each peer; 0 or -1 (counted).  The single send point.
 */
static int
cluster_sendto(struct cluster *c, const uint8_t *buf, size_t len)
{
	if (c->unicast)
		return (cluster_peers_send(&c->peers, c->fd, buf, len,
		    &c->t.stats.send_errors));
	if (sendto(c->fd, buf, len, 0, (struct sockaddr *)&c->group_sa,
	    c->group_salen) == -1) {
		c->t.stats.send_errors++;
		log_debug("cluster: sendto: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

/* Send one ID message with the next sequence number (claim 16). */
static void
cluster_send_id(struct cluster *c)
{
	uint8_t		buf[MSG_MAX_LEN];
	struct msg_hdr	h;
	struct msg_id	id;
	size_t		len;

	cluster_hdr(c, MSG_T_ID, ++c->seq, &h);
	cluster_table_self_id(&c->t, c->hello_ms, &id);
	len = msg_encode_id(buf, sizeof(buf), &h, &id, cluster_key(c));
	if (cluster_sendto(c, buf, len) == 0)
		c->t.stats.sent++;
}

/* claims 13, 14: NEW, END and REFRESH go to every member at once. */
int
cluster_send(struct cluster *c, uint8_t type, const uint8_t *body,
    size_t blen)
{
	uint8_t		buf[MSG_MAX_LEN];
	struct msg_hdr	h;
	size_t		len;

	if (type == MSG_T_ID || type > MSG_T_MAX || blen > MSG_BODY_MAX) {
		c->t.stats.send_errors++;
		log_debug("cluster: cannot send a %s message of %zu bytes",
		    msg_type_name(type), blen);
		return (-1);
	}
	cluster_hdr(c, type, ++c->seq, &h);
	if ((len = msg_encode(buf, sizeof(buf), &h, body, blen,
	    cluster_key(c))) == 0) {
		c->t.stats.send_errors++;
		return (-1);
	}
	if (cluster_sendto(c, buf, len) == -1)
		return (-1);
	c->t.stats.sent_msgs++;
	return (0);
}

size_t
cluster_encode(struct cluster *c, uint8_t type, const uint8_t *body,
    size_t blen, uint8_t *buf, size_t size)
{
	struct msg_hdr	h;

	if (type == MSG_T_ID || type > MSG_T_MAX)
		return (0);
	cluster_hdr(c, type, c->useq + 1, &h);
	if ((size = msg_encode(buf, size, &h, body, blen,
	    cluster_key(c))) != 0)
		c->useq++;
	return (size);
}

int
cluster_accept(struct cluster *c, const uint8_t *buf, size_t len,
    const struct ilb_addr *from, struct msg_view *v)
{
	enum msg_reason	r;

	if ((r = msg_decode(buf, len, v)) != MSG_OK ||
	    (r = cluster_verify(c, buf, v)) != MSG_OK) {
		cluster_table_reject(&c->t, r, from);
		return (-1);
	}
	if (v->hdr.type == MSG_T_ID) {
		cluster_table_reject(&c->t, MSG_R_TYPE, from);
		return (-1);
	}
	return (cluster_table_unicast(&c->t, v, from));
}

/* The table made self join again (a partition merge): say so at once. */
static void
cluster_rejoin_announce(struct cluster *c)
{
	if (!c->t.rejoin)
		return;
	c->t.rejoin = 0;
	cluster_send_id(c);
}

/* One datagram: decode, authenticate, dispatch by type; 1 if changed. */
static int
cluster_input(struct cluster *c, const uint8_t *buf, size_t len,
    const struct ilb_addr *from, uint64_t now)
{
	struct msg_view	v;
	struct msg_id	id;
	enum msg_reason	r;
	int		changed;

	if ((r = msg_decode(buf, len, &v)) != MSG_OK ||
	    (r = cluster_verify(c, buf, &v)) != MSG_OK) {
		cluster_table_reject(&c->t, r, from);
		return (0);
	}
	if (v.hdr.type != MSG_T_ID) {
		cluster_table_msg(&c->t, &v, from);
		return (0);
	}
	if ((r = msg_decode_id(&v, &id)) != MSG_OK) {
		cluster_table_reject(&c->t, r, from);
		return (0);
	}
	changed = cluster_table_input(&c->t, &v, &id, from, now);
	cluster_rejoin_announce(c);
	return (changed);
}

/*
 * cluster.peers: a datagram from elsewhere is refused before its MAC is
 * even checked: unicast can come from beyond the link, and a member that
 * is not listed would not hear us either (membership stays symmetric).
 */
static void
cluster_not_peer(struct cluster *c, const struct ilb_addr *from)
{
	char	a[ILB_ADDRSTRLEN];

	c->t.stats.not_peer++;
	log_debug("cluster: datagram from %s dropped: not in cluster.peers "
	    "(%llu so far)", util_addr_fmt(from, a, sizeof(a)),
	    (unsigned long long)c->t.stats.not_peer);
}

/* Read what is queued, in a bounded batch; 1 if the active set changed. */
static int
cluster_read(struct cluster *c)
{
	uint8_t			buf[MSG_MAX_LEN + 1];
	struct sockaddr_storage	ss;
	struct ilb_addr		from;
	socklen_t		sslen;
	ssize_t			n;
	int			i, changed = 0;

	for (i = 0; i < CLUSTER_READ_BATCH; i++) {
		sslen = sizeof(ss);
		n = recvfrom(c->fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&ss, &sslen);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				c->t.stats.recv_errors++;
				log_debug("cluster: recvfrom: %s",
				    strerror(errno));
			}
			break;
		}
		c->t.stats.received++;
		cluster_sa_to_addr(&ss, &from);
		if (c->unicast && !cluster_peers_has(&c->peers, &from)) {
			cluster_not_peer(c, &from);
			continue;
		}
		changed |= cluster_input(c, buf, (size_t)n, &from,
		    util_now_ms());
	}
	return (changed);
}

void
cluster_poll(struct cluster *c)
{
	if (cluster_read(c))
		c->members_cb(c->arg);
}

static void
cluster_on_read(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	cluster_poll(arg);
}

static void
cluster_timer_add(struct event *ev, uint32_t ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/* claim 16: announce this node every hello_ms. */
static void
cluster_on_hello(evutil_socket_t fd, short events, void *arg)
{
	struct cluster	*c = arg;

	(void)fd;
	(void)events;
	cluster_send_id(c);
	cluster_timer_add(c->ev_hello, c->hello_ms);
}

static uint32_t
cluster_expire_ms(const struct cluster *c)
{
	return (c->hello_ms / 2 > 5 ? c->hello_ms / 2 : 5);
}

/* claim 18: drain what is queued first, so a stalled loop kills no one. */
static void
cluster_on_expire(evutil_socket_t fd, short events, void *arg)
{
	struct cluster	*c = arg;
	int		 changed;

	(void)fd;
	(void)events;
	changed = cluster_read(c);
	changed |= cluster_table_expire(&c->t, util_now_ms());
	cluster_rejoin_announce(c);
	if (changed)
		c->members_cb(c->arg);
	cluster_timer_add(c->ev_expire, cluster_expire_ms(c));
}

/* Our GRE and unicast address: node.address, else the interface's. */
static int
cluster_self_addr(const struct ilbd_conf *conf, struct ilb_addr *a,
    char **cause)
{
	if (conf->node.has_address) {
		*a = conf->node.address;
		return (0);
	}
	return (cluster_ifaddr(conf->node.interface,
	    conf->cluster.group.family, a, cause));
}

/* The keys: sent with key, key_next accepted beside it (rotation). */
static void
cluster_keys_set(struct cluster *c, const struct ilbd_conf *conf)
{
	c->authenticate = conf->cluster.authenticate;
	c->has_key_next = c->authenticate && conf->cluster.has_key_next;
	if (c->authenticate)
		memcpy(c->key, conf->cluster.key, sizeof(c->key));
	if (c->has_key_next)
		memcpy(c->key_next, conf->cluster.key_next,
		    sizeof(c->key_next));
	else
		sodium_memzero(c->key_next, sizeof(c->key_next));
}

/* Copy what the cluster needs of conf (services are not ours). */
static void
cluster_conf_copy(struct cluster *c, const struct ilbd_conf *conf)
{
	c->conf = *conf;
	c->conf.services = NULL;
	c->conf.nservices = 0;
	cluster_keys_set(c, conf);
	sodium_memzero(c->conf.cluster.key, sizeof(c->conf.cluster.key));
	sodium_memzero(c->conf.cluster.key_next,
	    sizeof(c->conf.cluster.key_next));
	c->hello_ms = conf->cluster.hello_ms;
}

static int
cluster_events(struct cluster *c, char **cause)
{
	c->ev_read = event_new(c->base, c->fd, EV_READ | EV_PERSIST,
	    cluster_on_read, c);
	c->ev_hello = evtimer_new(c->base, cluster_on_hello, c);
	c->ev_expire = evtimer_new(c->base, cluster_on_expire, c);
	if (c->ev_read == NULL || c->ev_hello == NULL ||
	    c->ev_expire == NULL || event_add(c->ev_read, NULL) == -1) {
		return (util_cause(cause, "cluster: cannot set up events"));
	}
	cluster_timer_add(c->ev_expire, cluster_expire_ms(c));
	return (0);
}

struct cluster *
cluster_open(struct event_base *base, const struct ilbd_conf *conf,
    void (*members_cb)(void *), void *arg, char **cause)
{
	struct cluster	*c;
	struct ilb_addr	 self;

	if (cluster_self_addr(conf, &self, cause) == -1)
		return (NULL);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		util_cause(cause, "cluster: %s", strerror(errno));
		return (NULL);
	}
	c->base = base;
	c->fd = -1;
	c->members_cb = members_cb;
	c->arg = arg;
	cluster_conf_copy(c, conf);
	if (cluster_epoch_boot(conf->node.state_dir, cluster_clock_epoch(),
	    &c->epoch, cause) == -1) {
		cluster_close(c);
		return (NULL);
	}
	cluster_table_init(&c->t, &conf->node.id, &self, c->epoch,
	    conf->cluster.scoring, conf->cluster.dead_ms, util_now_ms());
	if ((c->ifindex = if_nametoindex(conf->node.interface)) == 0) {
		util_cause(cause, "interface %s: %s", conf->node.interface,
		    strerror(errno));
		cluster_close(c);
		return (NULL);
	}
	c->unicast = conf->cluster.npeers > 0;
	cluster_peers_set(&c->peers, &conf->cluster, &self, c->ifindex);
	if (cluster_socket(c, cause) == -1 || cluster_events(c, cause) == -1) {
		cluster_close(c);
		return (NULL);
	}
	cluster_on_hello(-1, 0, c);	/* announce at once */
	return (c);
}

void
cluster_close(struct cluster *c)
{
	if (c == NULL)
		return;
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_hello != NULL)
		event_free(c->ev_hello);
	if (c->ev_expire != NULL)
		event_free(c->ev_expire);
	if (c->fd != -1)
		close(c->fd);	/* leaves the group */
	sodium_memzero(c->key, sizeof(c->key));
	sodium_memzero(c->key_next, sizeof(c->key_next));
	free(c);
}

/* What changed that only a restart applies, or NULL. */
static const char *
cluster_reload_blocker(const struct cluster *c, const struct ilbd_conf *n)
{
	const struct ilbd_conf	*o = &c->conf;

	if (!util_addr_eq(&o->cluster.group, &n->cluster.group) ||
	    o->cluster.port != n->cluster.port)
		return ("cluster.group or cluster.port");
	if (strcmp(o->node.interface, n->node.interface) != 0)
		return ("node.interface");
	if (score_id_cmp(&o->node.id, &n->node.id) != 0 ||
	    o->node.id.is_index != n->node.id.is_index)
		return ("node.id");
	if (o->node.has_address != n->node.has_address ||
	    (n->node.has_address && !util_addr_eq(&o->node.address,
	    &n->node.address)))
		return ("node.address");
	if (o->cluster.authenticate != n->cluster.authenticate)
		return ("cluster.authenticate");
	/* the key may change (rotation, key_file_next), unless it scores */
	if (n->cluster.authenticate && n->cluster.scoring == SCORING_KEYED &&
	    sodium_memcmp(c->key, n->cluster.key, sizeof(c->key)) != 0)
		return ("the cluster key with scoring \"keyed\" (it chooses "
		    "the owners)");
	if (o->cluster.scoring != n->cluster.scoring)
		return ("cluster.scoring");
	if ((o->cluster.npeers > 0) != (n->cluster.npeers > 0))
		return (n->cluster.npeers > 0 ? "cluster.peers (from multicast "
		    "to unicast)" : "cluster.peers (from unicast to multicast)");
	return (NULL);
}

/* What in conf cannot change while running, or NULL. */
const char *
cluster_reload_check(const struct cluster *c, const struct ilbd_conf *conf)
{
	return (cluster_reload_blocker(c, conf));
}

/* A new cluster.peers list (unicast before and after): from now on. */
static void
cluster_reload_peers(struct cluster *c, const struct ilbd_conf *conf)
{
	unsigned int	was = c->peers.n, i;

	if (!c->unicast)
		return;
	for (i = 0; i < conf->cluster.npeers &&
	    conf->cluster.npeers == c->conf.cluster.npeers; i++)
		if (!util_addr_eq(&conf->cluster.peers[i],
		    &c->conf.cluster.peers[i]))
			break;
	if (i == c->conf.cluster.npeers && i == conf->cluster.npeers)
		return;		/* the same list */
	memcpy(c->conf.cluster.peers, conf->cluster.peers,
	    sizeof(c->conf.cluster.peers));
	c->conf.cluster.npeers = conf->cluster.npeers;
	cluster_peers_set(&c->peers, &c->conf.cluster,
	    &c->t.m[c->t.self].addr, c->ifindex);
	log_info("cluster: unicast to %u peer%s (was %u)", c->peers.n,
	    c->peers.n == 1 ? "" : "s", was);
}

int
cluster_reload(struct cluster *c, const struct ilbd_conf *conf)
{
	const char	*why;

	c->hello_ms = conf->cluster.hello_ms;
	c->t.dead_ms = conf->cluster.dead_ms;
	c->t.m[c->t.self].dead_ms = conf->cluster.dead_ms;
	c->conf.cluster.hello_ms = conf->cluster.hello_ms;
	c->conf.cluster.dead_ms = conf->cluster.dead_ms;
	cluster_timer_add(c->ev_hello, c->hello_ms);
	cluster_timer_add(c->ev_expire, cluster_expire_ms(c));
	if ((why = cluster_reload_blocker(c, conf)) == NULL) {
		cluster_reload_peers(c, conf);
		if (c->authenticate && sodium_memcmp(c->key, conf->cluster.key,
		    sizeof(c->key)) != 0)
			log_info("cluster: new key: messages are sent with "
			    "the key of %s now", conf->cluster.key_file);
		cluster_keys_set(c, conf);
		return (0);
	}
	log_warnx("cluster: a change of %s takes effect at restart only", why);
	return (-1);
}

void
cluster_set_event_cb(struct cluster *c, cluster_event_cb cb, void *arg)
{
	c->t.event_cb = cb;
	c->t.event_arg = arg;
}

const struct cluster_stats *
cluster_stats(const struct cluster *c)
{
	return (&c->t.stats);
}

void
cluster_set_msg_cb(struct cluster *c, cluster_msg_cb cb, void *arg)
{
	c->t.msg_cb = cb;
	c->t.msg_arg = arg;
}

/* claims 17, 18: joining until the transfers are in; leaving at the end. */
int
cluster_set_state(struct cluster *c, enum msg_state st)
{
	int	was, r;

	was = c->t.m[c->t.self].state == MSG_S_ACTIVE;
	if ((r = cluster_table_set_state(&c->t, st)) <= 0)
		return (r);
	log_info("this node is now %s", msg_state_name(st));
	cluster_send_id(c);
	if (was != (st == MSG_S_ACTIVE))
		c->members_cb(c->arg);
	return (0);
}

enum msg_state
cluster_state(const struct cluster *c)
{
	return ((enum msg_state)c->t.m[c->t.self].state);
}

size_t
cluster_joining(const struct cluster *c, struct member_id *ids,
    uint16_t *slots, struct ilb_addr *addrs, size_t max)
{
	return (cluster_table_joining(&c->t, ids, slots, addrs, max));
}

int
cluster_find_id(const struct cluster *c, const struct member_id *id)
{
	return (cluster_table_find_id(&c->t, id));
}

const struct member_id *
cluster_slot_id(const struct cluster *c, uint16_t slot)
{
	const struct cluster_member	*m;

	if ((m = cluster_slot_member(c, slot)) == NULL)
		return (NULL);
	return (&m->id);
}

const struct cluster_member *
cluster_slot_member(const struct cluster *c, uint16_t slot)
{
	return (cluster_table_member(&c->t, slot));
}

const struct cluster_table *
cluster_get_table(const struct cluster *c)
{
	return (&c->t);
}

uint16_t
cluster_self_slot(const struct cluster *c)
{
	return (c->t.self);
}

size_t
cluster_active(const struct cluster *c, struct member_id *ids,
    uint16_t *slots, struct ilb_addr *addrs, size_t max, size_t *self_index)
{
	return (cluster_table_active(&c->t, ids, slots, addrs, max,
	    self_index));
}

const struct ilb_addr *
cluster_slot_addr(const struct cluster *c, uint16_t slot, int gone)
{
	if (gone && slot < c->t.nslots && c->t.m[slot].in_use &&
	    !c->t.m[slot].self)
		return (&c->t.m[slot].addr);
	return (cluster_table_slot_addr(&c->t, slot));
}

int
cluster_find_addr(const struct cluster *c, const struct ilb_addr *a)
{
	return (cluster_table_find_addr(&c->t, a));
}

void
cluster_foreach_member(const struct cluster *c,
    void (*cb)(void *, uint16_t, const struct cluster_member *, uint64_t),
    void *arg)
{
	uint64_t	now = util_now_ms();
	uint16_t	i;

	for (i = 0; i < c->t.nslots; i++)
		if (c->t.m[i].in_use)
			cb(arg, i, &c->t.m[i], now - c->t.m[i].last_heard);
}

uint64_t
cluster_epoch(const struct cluster *c)
{
	return (c->epoch);
}

#define CLUSTER_IO_COUNTER(n, field, h)					\
	{ .name = n, .help = h,						\
	    .off = offsetof(struct cluster_table, stats.field) }

/* The socket's counters, after cluster_table.c's. */
const struct counter_desc cluster_io_counters[] = {
	CLUSTER_IO_COUNTER("tx_errors", send_errors, "cluster messages not "
	    "sent: too big, or the kernel refused them (with cluster.peers: "
	    "one per peer refused)"),
	CLUSTER_IO_COUNTER("rx_not_peer", not_peer, "cluster datagrams "
	    "refused: unicast from an address not in cluster.peers"),
	COUNTER_END
};
