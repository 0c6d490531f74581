/* neigh.c: server MAC addresses learned from the kernel neighbour table. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "neigh.h"
#include "util.h"

#define NEIGH_BUF_SIZE	65536	/* a netlink dump skb fits */
#define NEIGH_RCVBUF	(1024 * 1024)
#define NEIGH_ROUNDS	64	/* recvmsg() calls per event at most */
#define NEIGH_MIN_CAP	16	/* table slots, a power of two */
#define NEIGH_USABLE	(NUD_REACHABLE | NUD_STALE | NUD_DELAY | \
	NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

/* A watched address; a slot of the open-addressing table. */
struct neigh_entry {
	struct ilb_addr	addr;
	uint8_t		mac[6];
	uint8_t		used;		/* slot occupied */
	uint8_t		known;		/* mac is usable */
	uint32_t	gen;		/* watch generation that kept it */
	uint16_t	state;		/* last NUD_* seen */
	uint64_t	trigger_ms;	/* last resolution attempt, 0 never */
};

struct neigh {
	struct event_base	*base;
	char			 ifname[IF_NAMESIZE];
	unsigned int		 ifindex;
	int			 nlfd;		/* NETLINK_ROUTE, RTNLGRP_NEIGH */
	int			 udp4;		/* resolution triggers */
	int			 udp6;
	struct event		*ev;
	struct neigh_entry	*tab;
	unsigned int		 cap;		/* power of two */
	unsigned int		 count;
	uint32_t		 gen;
	uint32_t		 seq;		/* of the dump in progress */
	int			 dumping;
	int			 dump_again;	/* asked for during a dump */
	uint8_t			*buf;		/* NEIGH_BUF_SIZE */
	struct neigh_stats	 stats;
};

static uint32_t
neigh_hash(const struct ilb_addr *a)
{
	uint32_t	h = a->family, w;
	int		i;

	for (i = 0; i < 16; i += 4) {
		memcpy(&w, a->u.b + i, 4);
		h = (h ^ w) * 0x9e3779b1U;
		h ^= h >> 15;
	}
	return (h);
}

/* The slot of a, or the empty slot where it would go. */
static struct neigh_entry *
neigh_slot(struct neigh_entry *tab, unsigned int cap, const struct ilb_addr *a)
{
	unsigned int	i = neigh_hash(a) & (cap - 1);

	while (tab[i].used && memcmp(&tab[i].addr, a, sizeof(*a)) != 0)
		i = (i + 1) & (cap - 1);
	return (&tab[i]);
}

static struct neigh_entry *
neigh_find(struct neigh *n, const struct ilb_addr *a)
{
	struct neigh_entry	*e;

	if (n->cap == 0)
		return (NULL);
	e = neigh_slot(n->tab, n->cap, a);
	return (e->used ? e : NULL);
}

/*
 * Rebuild the table with cap slots, keeping the entries of generation gen
 * (all of them if keep_all). Returns 0 or -1 (out of memory).
 */
static int
neigh_rebuild(struct neigh *n, unsigned int cap, int keep_all)
{
	struct neigh_entry	*tab, *e;
	unsigned int		 i, count = 0;

	if ((tab = calloc(cap, sizeof(*tab))) == NULL)
		return (-1);
	for (i = 0; i < n->cap; i++) {
		if (!n->tab[i].used || (!keep_all && n->tab[i].gen != n->gen))
			continue;
		e = neigh_slot(tab, cap, &n->tab[i].addr);
		*e = n->tab[i];
		count++;
	}
	free(n->tab);
	n->tab = tab;
	n->cap = cap;
	n->count = count;
	return (0);
}

/* Ask the kernel for its whole neighbour table, or again after this one. */
static void
neigh_dump(struct neigh *n)
{
	struct {
		struct nlmsghdr	nh;
		struct ndmsg	nd;
	}			req;
	struct sockaddr_nl	sa;

	if (n->dumping) {
		n->dump_again = 1;
		return;
	}
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.nd));
	req.nh.nlmsg_type = RTM_GETNEIGH;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = ++n->seq;
	req.nd.ndm_family = AF_UNSPEC;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (sendto(n->nlfd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa,
	    sizeof(sa)) == -1) {
		log_warn("neigh: dump request");
		return;
	}
	n->dumping = 1;
	n->dump_again = 0;
	n->stats.dumps++;
}

/*
 * Watch a (a server's address) from now on: its MAC is kept from the
 * table dump and every neighbour event. Called at start-up and reload
 * (between neigh_watch_begin() and neigh_watch_end()); a new address asks
 * the kernel for its table again. Returns 0 or -1 (out of memory).
 */
int
neigh_watch(struct neigh *n, const struct ilb_addr *a)
{
	struct neigh_entry	*e;

	if (a->family != AF_INET && a->family != AF_INET6)
		return (-1);
	if ((e = neigh_find(n, a)) != NULL) {
		e->gen = n->gen;
		return (0);
	}
	if ((n->count + 1) * 2 > n->cap && neigh_rebuild(n,
	    n->cap ? n->cap * 2 : NEIGH_MIN_CAP, 1) == -1)
		return (-1);
	e = neigh_slot(n->tab, n->cap, a);
	memset(e, 0, sizeof(*e));
	e->addr = *a;
	e->used = 1;
	e->gen = n->gen;
	n->count++;
	neigh_dump(n);
	return (0);
}

/* Start a reload: addresses not watched again before _end are forgotten. */
void
neigh_watch_begin(struct neigh *n)
{
	n->gen++;
}

/* End a reload: forget what was not watched again. Returns 0 or -1. */
int
neigh_watch_end(struct neigh *n)
{
	unsigned int	cap = NEIGH_MIN_CAP, i, kept = 0;

	for (i = 0; i < n->cap; i++)
		kept += n->tab[i].used && n->tab[i].gen == n->gen;
	while (cap < kept * 2)
		cap *= 2;
	return (neigh_rebuild(n, cap, 0));
}

/*
 * Resolve e, at most once per NEIGH_TRIGGER_MS: send an empty UDP datagram
 * to its port 9 (discard) from a socket bound to the interface. The kernel
 * then resolves the address (ARP or neighbour discovery), queues the
 * datagram meanwhile, and the RTM_NEWNEIGH event that follows gives us the
 * MAC. The datagram reaches the server (discarded, or answered by an ICMP
 * port unreachable that nobody reads). The address must be on-link on the
 * interface: through a gateway the kernel would resolve the gateway.
 */
static void
neigh_trigger(struct neigh *n, struct neigh_entry *e)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	struct timeval		tv;
	uint64_t		now;
	int			r;

	event_base_gettimeofday_cached(n->base, &tv);
	now = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	if (e->trigger_ms != 0 && now - e->trigger_ms < NEIGH_TRIGGER_MS)
		return;
	e->trigger_ms = now;
	n->stats.triggered++;
	if (e->addr.family == AF_INET) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(NEIGH_TRIGGER_PORT);
		sin.sin_addr = e->addr.u.v4;
		r = sendto(n->udp4, "", 0, MSG_DONTWAIT,
		    (struct sockaddr *)&sin, sizeof(sin));
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(NEIGH_TRIGGER_PORT);
		sin6.sin6_addr = e->addr.u.v6;
		sin6.sin6_scope_id = n->ifindex;
		r = n->udp6 == -1 ? -1 : sendto(n->udp6, "", 0, MSG_DONTWAIT,
		    (struct sockaddr *)&sin6, sizeof(sin6));
	}
	if (r == -1) {
		n->stats.trigger_errors++;
		log_debug("neigh: resolve on %s: %s", n->ifname,
		    strerror(errno));
	}
}

/*
 * The MAC of a (a watched address) into mac: 0 if the kernel knows it in
 * a usable state, else -1 (and a rate-limited resolution is triggered).
 * The caller drops and counts the packet: never a guess. Per packet: a
 * table probe, no system call but the rate-limited trigger.
 */
int
neigh_lookup(struct neigh *n, const struct ilb_addr *a, uint8_t mac[6])
{
	struct neigh_entry	*e;

	if ((e = neigh_find(n, a)) == NULL) {
		n->stats.unwatched++;
		return (-1);
	}
	if (e->known) {
		memcpy(mac, e->mac, 6);
		return (0);
	}
	n->stats.misses++;
	neigh_trigger(n, e);
	return (-1);
}

/* Parse NDA_DST and NDA_LLADDR of an ndmsg; 0 if a has an address. */
static int
neigh_attrs(struct nlmsghdr *nh, struct ilb_addr *a, const uint8_t **lladdr)
{
	struct ndmsg		*nd = NLMSG_DATA(nh);
	struct rtattr		*rta = (struct rtattr *)((char *)nd +
	    NLMSG_ALIGN(sizeof(*nd)));
	int			 len = (int)NLMSG_PAYLOAD(nh, sizeof(*nd));
	size_t			 alen = nd->ndm_family == AF_INET ? 4 : 16;

	memset(a, 0, sizeof(*a));
	*lladdr = NULL;
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == NDA_DST && RTA_PAYLOAD(rta) == alen) {
			a->family = nd->ndm_family;
			memcpy(a->u.b, RTA_DATA(rta), alen);
		} else if (rta->rta_type == NDA_LLADDR &&
		    RTA_PAYLOAD(rta) == 6)
			*lladdr = RTA_DATA(rta);
	}
	return (a->family != 0 ? 0 : -1);
}

/*
 * RTM_NEWNEIGH or RTM_DELNEIGH for the interface: a usable state with a
 * MAC sets it at once (a changed MAC replaces the old one); a deletion,
 * NUD_FAILED or any other state forgets it.
 */
static void
neigh_on_msg(struct neigh *n, struct nlmsghdr *nh)
{
	struct ndmsg		*nd = NLMSG_DATA(nh);
	const uint8_t		*lladdr;
	struct neigh_entry	*e;
	struct ilb_addr		 a;
	char			 buf[ILB_ADDRSTRLEN];

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*nd))) {
		n->stats.bad_messages++;
		return;
	}
	if ((unsigned int)nd->ndm_ifindex != n->ifindex ||
	    (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6) ||
	    neigh_attrs(nh, &a, &lladdr) == -1 ||
	    (e = neigh_find(n, &a)) == NULL)
		return;
	e->state = nd->ndm_state;
	if (nh->nlmsg_type == RTM_NEWNEIGH && (nd->ndm_state & NEIGH_USABLE) &&
	    lladdr != NULL) {
		if (!e->known || memcmp(e->mac, lladdr, 6) != 0) {
			memcpy(e->mac, lladdr, 6);
			e->known = 1;
			n->stats.updates++;
			log_debug("neigh: %s is %02x:%02x:%02x:%02x:%02x:%02x",
			    util_addr_fmt(&a, buf, sizeof(buf)), lladdr[0],
			    lladdr[1], lladdr[2], lladdr[3], lladdr[4],
			    lladdr[5]);
		}
	} else if (e->known) {
		e->known = 0;
		n->stats.removals++;
		log_debug("neigh: %s unresolved (state 0x%x%s)",
		    util_addr_fmt(&a, buf, sizeof(buf)), nd->ndm_state,
		    nh->nlmsg_type == RTM_DELNEIGH ? ", deleted" : "");
	}
}

/* The end of our dump (done or error): start the next one if asked. */
static void
neigh_dump_done(struct neigh *n, const struct nlmsghdr *nh)
{
	if (!n->dumping || nh->nlmsg_seq != n->seq)
		return;
	n->dumping = 0;
	if (n->dump_again)
		neigh_dump(n);
}

/* Every netlink message of one datagram. */
static void
neigh_input(struct neigh *n, size_t len)
{
	struct nlmsghdr		*nh = (struct nlmsghdr *)n->buf;
	unsigned int		 rem = (unsigned int)len;

	for (; NLMSG_OK(nh, rem); nh = NLMSG_NEXT(nh, rem)) {
		switch (nh->nlmsg_type) {
		case RTM_NEWNEIGH:
		case RTM_DELNEIGH:
			neigh_on_msg(n, nh);
			break;
		case NLMSG_ERROR:
			log_debug("neigh: netlink error, seq %u",
			    nh->nlmsg_seq);
			/* FALLTHROUGH */
		case NLMSG_DONE:
			neigh_dump_done(n, nh);
			break;
		default:
			break;
		}
	}
}

/* Read netlink datagrams, a bounded number per event. */
static void
neigh_read(evutil_socket_t fd, short what, void *arg)
{
	struct neigh		*n = arg;
	struct sockaddr_nl	 sa;
	struct iovec		 iov;
	struct msghdr		 msg;
	ssize_t			 r;
	int			 i;

	(void)what;
	for (i = 0; i < NEIGH_ROUNDS; i++) {
		iov.iov_base = n->buf;
		iov.iov_len = NEIGH_BUF_SIZE;
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &sa;
		msg.msg_namelen = sizeof(sa);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if ((r = recvmsg(fd, &msg, MSG_DONTWAIT)) == -1) {
			if (errno == ENOBUFS) {		/* events lost */
				n->stats.overruns++;
				neigh_dump(n);
				continue;
			}
			break;
		}
		if (sa.nl_pid != 0 || (msg.msg_flags & MSG_TRUNC)) {
			n->stats.bad_messages++;
			continue;
		}
		neigh_input(n, (size_t)r);
	}
}

/* The UDP socket, bound to the interface, that triggers resolution. */
static int
neigh_udp(const char *ifname, int family)
{
	int	fd, small = 1;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
	    strlen(ifname) + 1) == -1) {
		close(fd);
		return (-1);
	}
	/* Nothing is read from it: keep what arrives small. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	return (fd);
}

static int
neigh_netlink(struct neigh *n)
{
	struct sockaddr_nl	sa;
	int			rcvbuf = NEIGH_RCVBUF;

	n->nlfd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE);
	if (n->nlfd == -1)
		return (-1);
	/* Room for bursts of events; an overrun costs a dump. */
	(void)setsockopt(n->nlfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf));
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = 1U << (RTNLGRP_NEIGH - 1);
	return (bind(n->nlfd, (struct sockaddr *)&sa, sizeof(sa)));
}

static struct neigh *
neigh_fail(struct neigh *n, const char *ifname, const char *what,
    char **cause)
{
	util_cause(cause, "%s: %s: %s", ifname, what, strerror(errno));
	neigh_close(n);
	return (NULL);
}

/*
 * Open the neighbour watcher for ifname on base: a non-blocking
 * NETLINK_ROUTE socket in RTNLGRP_NEIGH with its event, a table dump as
 * soon as addresses are watched, UDP sockets bound to the interface for
 * triggers (IPv6 optional). Returns NULL with *cause on error.
 */
struct neigh *
neigh_open(struct event_base *base, const char *ifname, char **cause)
{
	struct neigh	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return (neigh_fail(NULL, ifname, "neigh", cause));
	n->base = base;
	n->nlfd = n->udp4 = n->udp6 = -1;
	util_strlcpy(n->ifname, ifname, sizeof(n->ifname));
	if ((n->ifindex = if_nametoindex(ifname)) == 0)
		return (neigh_fail(n, ifname, "interface", cause));
	if ((n->buf = malloc(NEIGH_BUF_SIZE)) == NULL)
		return (neigh_fail(n, ifname, "neigh", cause));
	if (neigh_netlink(n) == -1)
		return (neigh_fail(n, ifname, "netlink socket", cause));
	if ((n->udp4 = neigh_udp(ifname, AF_INET)) == -1)
		return (neigh_fail(n, ifname, "UDP socket", cause));
	if ((n->udp6 = neigh_udp(ifname, AF_INET6)) == -1)
		log_debug("neigh: %s: no IPv6 trigger: %s", ifname,
		    strerror(errno));
	n->ev = event_new(base, n->nlfd, EV_READ | EV_PERSIST, neigh_read, n);
	if (n->ev == NULL || event_add(n->ev, NULL) == -1)
		return (neigh_fail(n, ifname, "event", cause));
	return (n);
}

/* Number of watched addresses. */
unsigned int
neigh_count(const struct neigh *n)
{
	return (n->count);
}

const struct counter_desc neigh_counters[] = {
#define NEIGH_COUNTER(name, help)					\
	COUNTER_FIELD(struct neigh_stats, name, help)
	NEIGH_STATS_FOREACH(NEIGH_COUNTER)
#undef NEIGH_COUNTER
	COUNTER_END
};

const struct neigh_stats *
neigh_stats(const struct neigh *n)
{
	return (&n->stats);
}

void
neigh_close(struct neigh *n)
{
	if (n == NULL)
		return;
	if (n->ev != NULL)
		event_free(n->ev);
	if (n->nlfd != -1)
		close(n->nlfd);
	if (n->udp4 != -1)
		close(n->udp4);
	if (n->udp6 != -1)
		close(n->udp6);
	free(n->tab);
	free(n->buf);
	free(n);
}
