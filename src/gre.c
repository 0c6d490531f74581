/* gre.c: GRE encapsulation, pure codec and raw IPPROTO_GRE sockets. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "be.h"
#include "config.h"
#include "gre.h"
#include "log.h"
#include "util.h"

#ifndef IPPROTO_GRE
#define IPPROTO_GRE	47
#endif

#define GRE_BATCH	32	/* datagrams per recvmmsg() */
#define GRE_ROUNDS	4	/* recvmmsg() calls per event at most */
#define GRE_BUF_SIZE	10240	/* outer headers + a 9216-byte jumbo frame */

static const char *gre_reason_names[GRE_REASON_MAX] = {
	"ok", "truncated", "bad_outer", "bad_ihl", "bad_totlen", "fragment",
	"bad_version", "bad_flags", "bad_checksum", "bad_proto", "bad_inner"
};

/* One raw socket, its event and its preallocated receive batch. */
struct gre_sock {
	struct gre		*g;
	int			 family;	/* AF_INET or AF_INET6 */
	int			 fd;		/* -1 if not open */
	struct event		*ev;
	struct mmsghdr		 msgs[GRE_BATCH];
	struct iovec		 iov[GRE_BATCH];
	struct sockaddr_storage	 names[GRE_BATCH];
	uint8_t			*bufs;		/* GRE_BATCH * GRE_BUF_SIZE */
};

/* One queued packet: its message parts, its address and its copy. */
struct gre_txslot {
	struct iovec		 iov[2];
	struct sockaddr_storage	 name;
	struct gre_sock		*s;
	int			 with_key;
	uint8_t			 hdr[GRE_HDR_KEY_LEN];
	uint8_t			 data[GRE_TXQ_SLOT];
};

struct gre {
	struct gre_sock		 s4;
	struct gre_sock		 s6;
	unsigned int		 ntx;		/* packets queued */
	struct mmsghdr		 txmsgs[GRE_TXQ];
	struct gre_txslot	*tx;		/* GRE_TXQ slots */
	gre_recv_cb		 cb;
	void			*arg;
	gre_batch_cb		 batch_cb;
	void			*batch_arg;
	struct gre_stats	 stats;
};

const char *
gre_reason_name(int r)
{
	if (r < 0 || r >= GRE_REASON_MAX)
		return ("unknown");
	return (gre_reason_names[r]);
}

/*
 * Write a GRE header for an inner packet of ethertype proto into out (at
 * least GRE_HDR_KEY_LEN bytes): 4 bytes, or 8 with the key. flags:
 * GRE_ENC_KEY (or any nonzero value without GRE_ENC_RELAY: with_key),
 * GRE_ENC_RELAY. Returns the length written.
 */
size_t
gre_encap_hdr(uint8_t *out, uint16_t proto, int flags, uint32_t key)
{
	int	with_key = (flags & ~GRE_ENC_RELAY) != 0;

	be16_store(out, (with_key ? GRE_F_KEY : 0) |
	    ((flags & GRE_ENC_RELAY) ? GRE_F_ILBD_RELAY : 0));
	be16_store(out + 2, proto);
	if (!with_key)
		return (GRE_HDR_LEN);
	be32_store(out + 4, key);
	return (GRE_HDR_KEY_LEN);
}

/* The Internet checksum of p verifies. */
static int
gre_csum_ok(const uint8_t *p, size_t len)
{
	return (util_inet_csum(p, len) == 0);
}

/* The inner packet's version nibble must match the GRE protocol. */
static int
gre_inner_ok(const uint8_t *p, size_t len, uint16_t proto)
{
	if (len == 0)
		return (0);
	return ((p[0] >> 4) == (proto == GRE_PROTO_IPV4 ? 4 : 6));
}

/*
 * Parse the GRE header at buf + off, the GRE packet running to buf + end;
 * fill the GRE fields of gi. Returns GRE_OK or a reason.
 */
static int
gre_parse(const uint8_t *buf, size_t off, size_t end, struct gre_info *gi)
{
	const uint8_t	*p = buf + off;
	size_t		 len = end - off, hlen = GRE_HDR_LEN;
	uint16_t	 flags;

	if (len < GRE_HDR_LEN)
		return (GRE_TRUNCATED);
	flags = be16_load(p);
	if ((flags & GRE_VERSION) != 0)
		return (GRE_BAD_VERSION);
	if (flags & (GRE_F_ROUTING | GRE_F_SSR | GRE_F_RECUR))
		return (GRE_BAD_FLAGS);
	hlen += (flags & GRE_F_CSUM) ? 4 : 0;
	hlen += (flags & GRE_F_KEY) ? 4 : 0;
	hlen += (flags & GRE_F_SEQ) ? 4 : 0;
	if (len < hlen)
		return (GRE_TRUNCATED);
	if ((flags & GRE_F_CSUM) && !gre_csum_ok(p, len))
		return (GRE_BAD_CHECKSUM);
	gi->proto = be16_load(p + 2);
	if (gi->proto != GRE_PROTO_IPV4 && gi->proto != GRE_PROTO_IPV6)
		return (GRE_BAD_PROTO);
	p += (flags & GRE_F_CSUM) ? 8 : 4;
	gi->has_key = (flags & GRE_F_KEY) != 0;
	gi->key = gi->has_key ? be32_load(p) : 0;
	p += gi->has_key ? 4 : 0;
	gi->has_seq = (flags & GRE_F_SEQ) != 0;
	gi->relayed = (flags & GRE_F_ILBD_RELAY) != 0;
	gi->seq = gi->has_seq ? be32_load(p) : 0;
	gi->inner_off = (uint32_t)(off + hlen);
	gi->inner_len = (uint32_t)(len - hlen);
	if (!gre_inner_ok(buf + gi->inner_off, gi->inner_len, gi->proto))
		return (GRE_BAD_INNER);
	return (GRE_OK);
}

/*
 * Decode a GRE packet as an IPv4 raw socket delivers it: outer IPv4 header
 * (network byte order, options allowed), GRE header, inner packet. Bytes
 * past the outer total length are ignored. Returns GRE_OK or a reason.
 */
int
gre_decap(const uint8_t *buf, size_t len, struct gre_info *gi)
{
	size_t	ihl, totlen;

	memset(gi, 0, sizeof(*gi));
	if (len < 20)
		return (GRE_TRUNCATED);
	if ((buf[0] >> 4) != 4 || buf[9] != IPPROTO_GRE)
		return (GRE_BAD_OUTER);
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len)
		return (GRE_BAD_IHL);
	totlen = be16_load(buf + 2);
	if (totlen < ihl || totlen > len)
		return (GRE_BAD_TOTLEN);
	if ((be16_load(buf + 6) & 0x3fff) != 0)	/* MF or an offset */
		return (GRE_FRAGMENT);
	gi->src.family = gi->dst.family = AF_INET;
	memcpy(gi->src.u.b, buf + 12, 4);
	memcpy(gi->dst.u.b, buf + 16, 4);
	return (gre_parse(buf, ihl, totlen, gi));
}

/* Decode a GRE packet without outer header (an IPv6 raw socket's). */
int
gre_decap6(const uint8_t *buf, size_t len, struct gre_info *gi)
{
	memset(gi, 0, sizeof(*gi));
	return (gre_parse(buf, 0, len, gi));
}

/*
 * The 32-bit cluster identifier carried in the GRE key of handoffs, so
 * that two clusters on one LAN never take each other's packets. With a
 * cluster key (CONF_KEY_LEN bytes): the first 4 bytes, big-endian, of the
 * 32-byte BLAKE2b (crypto_generichash) of "ilbd gre cluster id v1" keyed
 * with it. Without (cluster.authenticate = false, key NULL): of the
 * unkeyed BLAKE2b of that message, the group's family and 16 address
 * bytes and the port (2 bytes, big-endian). Not a secret: an identifier.
 */
uint32_t
gre_cluster_key(const uint8_t *key, const struct ilbd_conf *conf)
{
	static const char	 msg[] = "ilbd gre cluster id v1";
	uint8_t			 in[sizeof(msg) - 1 + 1 + 16 + 2];
	uint8_t			 out[crypto_generichash_BYTES];
	size_t			 n = sizeof(msg) - 1;

	memcpy(in, msg, n);
	if (key != NULL) {
		crypto_generichash(out, sizeof(out), in, n, key, CONF_KEY_LEN);
		return (be32_load(out));
	}
	in[n++] = conf->cluster.group.family;
	memcpy(in + n, conf->cluster.group.u.b, 16);
	n += 16;
	be16_store(in + n, conf->cluster.port);
	n += 2;
	crypto_generichash(out, sizeof(out), in, n, NULL, 0);
	return (be32_load(out));
}

/* The outer header of an address family, as the kernel builds it. */
static unsigned int
gre_outer_len(int family)
{
	return (family == AF_INET6 ? 40 : 20);
}

unsigned int
gre_overhead(const struct ilbd_conf *conf)
{
	const struct service_conf	*svc;
	unsigned int			 i, j, o, max;

	max = gre_outer_len(conf->cluster.group.family) + GRE_HDR_KEY_LEN;
	for (i = 0; i < conf->nservices; i++) {
		svc = &conf->services[i];
		if (svc->forward != FORWARD_GRE)
			continue;
		for (j = 0; j < svc->nservers; j++) {
			o = gre_outer_len(svc->servers[j].addr.family) +
			    GRE_HDR_LEN;
			if (o > max)
				max = o;
		}
	}
	return (max);
}

unsigned int
gre_inner_mtu(unsigned int if_mtu, unsigned int overhead)
{
	if (if_mtu < GRE_INNER_MTU_MIN + overhead)
		return (GRE_INNER_MTU_MIN);
	return (if_mtu - overhead);
}

/*
 * Send inner (an IPv4 or IPv6 packet) in GRE to dst, with the key if
 * with_key. The kernel adds the outer header; its source is the bound
 * local address or the routing choice. Servers with a kernel GRE device
 * usually configure no key: send to them without one; handoffs to peers
 * carry the cluster identifier. No allocation, no copy. Returns 0 or -1
 * (counted).
 */
int
gre_send(struct gre *g, const struct ilb_addr *dst, int with_key,
    uint32_t key, const uint8_t *inner, size_t len)
{
	struct gre_sock		*s = dst->family == AF_INET6 ? &g->s6 : &g->s4;
	struct sockaddr_storage	 ss;
	struct msghdr		 msg;
	struct iovec		 iov[2];
	uint8_t			 hdr[GRE_HDR_KEY_LEN];
	uint16_t		 proto;

	if (len == 0 || ((inner[0] >> 4) != 4 && (inner[0] >> 4) != 6) ||
	    s->fd == -1) {
		g->stats.send_errors++;
		return (-1);
	}
	proto = (inner[0] >> 4) == 4 ? GRE_PROTO_IPV4 : GRE_PROTO_IPV6;
	iov[0].iov_base = hdr;
	iov[0].iov_len = gre_encap_hdr(hdr, proto, with_key, key);
	iov[1].iov_base = (void *)(uintptr_t)inner;
	iov[1].iov_len = len;
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &ss;
	msg.msg_namelen = util_sockaddr(dst, 0, &ss);
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	if (sendmsg(s->fd, &msg, MSG_DONTWAIT) == -1) {
		if (errno == EMSGSIZE) {
			g->stats.too_big++;
			log_trace("gre: send: %s", strerror(EMSGSIZE));
			return (GRE_TOO_BIG);
		}
		g->stats.send_errors++;
		log_trace("gre: send: %s", strerror(errno));
		return (-1);
	}
	g->stats.sent++;
	g->stats.sent_bytes += len;
	return (0);
}

int
gre_queue(struct gre *g, const struct ilb_addr *dst, int with_key,
    uint32_t key, const uint8_t *inner, size_t len)
{
	struct gre_sock		*s = dst->family == AF_INET6 ? &g->s6 : &g->s4;
	struct gre_txslot	*t;
	struct msghdr		*h;
	uint16_t		 proto;

	if (len == 0 || ((inner[0] >> 4) != 4 && (inner[0] >> 4) != 6) ||
	    s->fd == -1) {
		g->stats.send_errors++;
		return (-1);
	}
	if (len > GRE_TXQ_SLOT)
		return (GRE_QUEUE_LARGE);
	if (g->ntx == GRE_TXQ)
		return (GRE_QUEUE_FULL);
	proto = (inner[0] >> 4) == 4 ? GRE_PROTO_IPV4 : GRE_PROTO_IPV6;
	t = &g->tx[g->ntx];
	h = &g->txmsgs[g->ntx].msg_hdr;
	g->ntx++;
	t->s = s;
	t->with_key = with_key;
	t->iov[0].iov_base = t->hdr;
	t->iov[0].iov_len = gre_encap_hdr(t->hdr, proto, with_key, key);
	t->iov[1].iov_base = t->data;
	t->iov[1].iov_len = len;
	memcpy(t->data, inner, len);
	memset(h, 0, sizeof(*h));
	h->msg_name = &t->name;
	h->msg_namelen = util_sockaddr(dst, 0, &t->name);
	h->msg_iov = t->iov;
	h->msg_iovlen = 2;
	return (0);
}

/*
 * Send queued packets i to end, all for socket s, in order: one
 * sendmmsg() for as many as the kernel takes; the one it refused is
 * counted and reported, and the rest are tried again.
 */
static void
gre_flush_run(struct gre *g, struct gre_sock *s, unsigned int i,
    unsigned int end, gre_fail_cb cb, void *arg)
{
	struct gre_txslot	*t;
	int			 r, rc;

	while (i < end) {
		r = sendmmsg(s->fd, g->txmsgs + i, end - i, MSG_DONTWAIT);
		if (r > 0) {
			for (; r > 0; r--, i++) {
				g->stats.sent++;
				g->stats.sent_bytes += g->tx[i].iov[1].iov_len;
			}
			continue;
		}
		t = &g->tx[i++];
		if (errno == EMSGSIZE) {
			g->stats.too_big++;
			rc = GRE_TOO_BIG;
		} else {
			g->stats.send_errors++;
			rc = -1;
		}
		log_trace("gre: send: %s", strerror(errno));
		if (cb != NULL)
			cb(arg, rc, t->with_key, t->data, t->iov[1].iov_len);
	}
}

void
gre_flush(struct gre *g, gre_fail_cb cb, void *arg)
{
	unsigned int	i, j, n = g->ntx;

	/* cb may queue nothing: it sees an empty queue */
	g->ntx = 0;
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && g->tx[j].s == g->tx[i].s; j++)
			;
		gre_flush_run(g, g->tx[i].s, i, j, cb, arg);
	}
}

unsigned int
gre_queued(const struct gre *g)
{
	return (g->ntx);
}

/* Decode one received datagram and give it to the callback. */
static void
gre_input(struct gre_sock *s, struct mmsghdr *m, const uint8_t *buf)
{
	struct gre		*g = s->g;
	struct gre_info		 gi;
	struct sockaddr_in6	*sin6;
	char			 a[ILB_ADDRSTRLEN];
	int			 r;

	if (m->msg_hdr.msg_flags & MSG_TRUNC) {
		g->stats.recv_truncated++;
		return;
	}
	if (s->family == AF_INET)
		r = gre_decap(buf, m->msg_len, &gi);
	else {
		r = gre_decap6(buf, m->msg_len, &gi);
		sin6 = (struct sockaddr_in6 *)m->msg_hdr.msg_name;
		gi.src.family = AF_INET6;
		gi.src.u.v6 = sin6->sin6_addr;
	}
	if (r != GRE_OK) {
		g->stats.malformed++;
		g->stats.reason[r]++;
		log_debug("gre: from %s: %s", s->family == AF_INET6 ?
		    util_addr_fmt(&gi.src, a, sizeof(a)) : "?",
		    gre_reason_name(r));
		return;
	}
	g->stats.received++;
	g->stats.received_bytes += gi.inner_len;
	g->cb(g->arg, &gi, buf + gi.inner_off, gi.inner_len);
}

/* Read up to GRE_ROUNDS batches from a socket, then end the batch. */
static void
gre_read(evutil_socket_t fd, short what, void *arg)
{
	struct gre_sock	*s = arg;
	int		 i, n, round;

	(void)what;
	for (round = 0; round < GRE_ROUNDS; round++) {
		for (i = 0; i < GRE_BATCH; i++) {
			s->msgs[i].msg_hdr.msg_namelen = sizeof(s->names[i]);
			s->msgs[i].msg_hdr.msg_flags = 0;
			s->msgs[i].msg_len = 0;
		}
		n = recvmmsg(fd, s->msgs, GRE_BATCH, MSG_DONTWAIT, NULL);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				s->g->stats.recv_errors++;
				log_debug("gre: recv: %s", strerror(errno));
			}
			break;
		}
		for (i = 0; i < n; i++)
			gre_input(s, &s->msgs[i],
			    s->bufs + (size_t)i * GRE_BUF_SIZE);
		if (n < GRE_BATCH)
			break;
	}
	if (s->g->batch_cb != NULL)
		s->g->batch_cb(s->g->batch_arg);
}

/* Point every message of the batch at its buffer and name. */
static void
gre_sock_prepare(struct gre_sock *s)
{
	int	i;

	memset(s->msgs, 0, sizeof(s->msgs));
	for (i = 0; i < GRE_BATCH; i++) {
		s->iov[i].iov_base = s->bufs + (size_t)i * GRE_BUF_SIZE;
		s->iov[i].iov_len = GRE_BUF_SIZE;
		s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
		s->msgs[i].msg_hdr.msg_iovlen = 1;
		s->msgs[i].msg_hdr.msg_name = &s->names[i];
	}
}

/*
 * Set DF and never fragment locally: a packet that does not fit the path
 * MTU is refused with EMSGSIZE (counted as too_big) rather than sent in
 * fragments.
 */
static int
gre_sock_pmtu(struct gre_sock *s)
{
	int	v4 = IP_PMTUDISC_DO, v6 = IPV6_PMTUDISC_DO;

	if (s->family == AF_INET)
		return (setsockopt(s->fd, IPPROTO_IP, IP_MTU_DISCOVER, &v4,
		    sizeof(v4)));
	return (setsockopt(s->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6,
	    sizeof(v6)));
}

/*
 * Open the raw socket of s->family, bound to local if it has that family,
 * with its event. Returns 0 or -1 with *cause set.
 */
static int
gre_sock_open(struct event_base *base, struct gre_sock *s,
    const struct ilb_addr *local, char **cause)
{
	struct sockaddr_storage	ss;
	char			a[ILB_ADDRSTRLEN];

	s->fd = socket(s->family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_GRE);
	if (s->fd == -1)
		goto fail;
	if (gre_sock_pmtu(s) == -1)
		goto fail;
	if (local != NULL && local->family == s->family &&
	    bind(s->fd, (struct sockaddr *)&ss,
	    util_sockaddr(local, 0, &ss)) == -1)
		goto fail;
	if ((s->bufs = malloc((size_t)GRE_BATCH * GRE_BUF_SIZE)) == NULL)
		goto fail;
	gre_sock_prepare(s);
	s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, gre_read, s);
	if (s->ev == NULL || event_add(s->ev, NULL) == -1)
		goto fail;
	return (0);
fail:
	return (util_cause(cause, "GRE %s socket%s%s: %s",
	    s->family == AF_INET ? "IPv4" : "IPv6",
	    local != NULL && local->family == s->family ? " on " : "",
	    local != NULL && local->family == s->family ?
	    util_addr_fmt(local, a, sizeof(a)) : "", strerror(errno)));
}

static void
gre_sock_close(struct gre_sock *s)
{
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->fd != -1)
		close(s->fd);
	free(s->bufs);
	s->ev = NULL;
	s->fd = -1;
	s->bufs = NULL;
}

/*
 * Open raw IPPROTO_GRE sockets for IPv4 and IPv6 on base; local, if not
 * NULL, is bound as the source of its family. IPv6 is optional: without
 * it (no IPv6 in the kernel) only IPv4 is used, and said at debug level.
 * cb gets every well-formed packet. Returns NULL with *cause on error.
 */
struct gre *
gre_open(struct event_base *base, const struct ilb_addr *local,
    gre_recv_cb cb, void *arg, char **cause)
{
	struct gre	*g;
	char		*cause6 = NULL;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		*cause = strdup("out of memory");
		return (NULL);
	}
	g->cb = cb;
	g->arg = arg;
	g->s4.g = g->s6.g = g;
	g->s4.family = AF_INET;
	g->s6.family = AF_INET6;
	g->s4.fd = g->s6.fd = -1;
	if ((g->tx = calloc(GRE_TXQ, sizeof(*g->tx))) == NULL) {
		*cause = strdup("out of memory");
		goto fail;
	}
	if (gre_sock_open(base, &g->s4, local, cause) == -1)
		goto fail;
	if (gre_sock_open(base, &g->s6, local, &cause6) == -1) {
		if (local != NULL && local->family == AF_INET6) {
			*cause = cause6;
			goto fail;
		}
		log_debug("gre: no IPv6: %s", cause6 ? cause6 : "?");
		free(cause6);
		gre_sock_close(&g->s6);
	}
	return (g);
fail:
	gre_close(g);
	return (NULL);
}

/* Call cb(arg) after each batch of received packets (NULL: none). */
void
gre_set_batch_cb(struct gre *g, gre_batch_cb cb, void *arg)
{
	g->batch_cb = cb;
	g->batch_arg = arg;
}

const struct counter_desc gre_counters[] = {
#define GRE_COUNTER(name, help)						\
	COUNTER_FIELD(struct gre_stats, name, help)
	GRE_STATS_FOREACH(GRE_COUNTER)
#undef GRE_COUNTER
	COUNTER_END
};

const struct gre_stats *
gre_stats(const struct gre *g)
{
	return (&g->stats);
}

void
gre_close(struct gre *g)
{
	if (g == NULL)
		return;
	gre_sock_close(&g->s4);
	gre_sock_close(&g->s6);
	free(g->tx);
	free(g);
}
