/* peer.c: reliable unicast channel between members (TCP, authenticated). */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <sodium.h>

#include "be.h"
#include "log.h"
#include "peer.h"

#define PEER_READ_HIWAT		(64 * 1024)	/* input buffered per connection */
#define PEER_ACCEPT_PAUSE_MS	100	/* listener off after accept fails */
#define PEER_KEEPIDLE_S		10
#define PEER_KEEPINTVL_S	3
#define PEER_KEEPCNT		3

/* One TCP connection; an outgoing one outlives its sockets. */
struct peer_conn {
	TAILQ_ENTRY(peer_conn)	 entry;
	struct peer		*p;
	struct bufferevent	*bev;		/* NULL between attempts */
	struct evbuffer		*queue;		/* outgoing data while no bev */
	struct event		*ev_retry;	/* next connect attempt */
	struct ilb_addr		 addr;		/* remote */
	uint16_t		 port;		/* remote */
	uint8_t			 outgoing;
	uint8_t			 connected;	/* outgoing: connect completed */
	uint8_t			 busy;		/* inside the read loop */
	uint8_t			 dead;		/* free when the loop ends */
	uint64_t		 last_attempt;	/* ms, monotonic */
	char			 name[ILB_ADDRSTRLEN + 16];
};
TAILQ_HEAD(peer_conns, peer_conn);

/* Last epoch and sequence accepted from one sender id. */
struct peer_sender {
	struct member_id	 id;
	uint64_t		 epoch;
	uint64_t		 seq;
	uint64_t		 used;		/* tick of last use, for eviction */
};

struct peer {
	struct event_base	*base;
	struct evconnlistener	*lev;
	struct event		*ev_accept;	/* re-enable the listener */
	struct peer_conns	 out;
	struct peer_conns	 in;
	unsigned int		 nin;
	struct member_id	 self;
	uint64_t		 epoch;
	uint64_t		 seq;		/* last sequence sent */
	int			 authenticate;
	uint8_t			 key[MSG_KEY_LEN];
	uint8_t			 key_next[MSG_KEY_LEN];	/* accepted too */
	int			 has_key_next;
	struct ilb_addr		 src;		/* outgoing source, if has_src */
	int			 has_src;
	uint16_t		 port;		/* listened on */
	size_t			 queue_max;
	peer_msg_cb		 cb;
	void			*arg;
	struct peer_sender	 senders[PEER_SENDERS_MAX];
	unsigned int		 nsenders;
	uint64_t		 tick;
	struct peer_stats	 stats;
};

static void	peer_conn_read(struct bufferevent *, void *);
static void	peer_conn_event(struct bufferevent *, short, void *);

/* ---- helpers --------------------------------------------------------- */

/* A sockaddr as an address and port; v4-mapped IPv6 becomes IPv4. */
static void
peer_from_sockaddr(const struct sockaddr *sa, struct ilb_addr *a,
    uint16_t *port)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	memset(a, 0, sizeof(*a));
	*port = 0;
	if (sa->sa_family == AF_INET) {
		a->family = AF_INET;
		a->u.v4 = sin->sin_addr;
		*port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		*port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			a->family = AF_INET;
			memcpy(a->u.b, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			a->family = AF_INET6;
			a->u.v6 = sin6->sin6_addr;
		}
	}
}

static void
peer_setopt(int fd, int level, int name, int val, const char *what)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)) == -1)
		log_debug("peer: setsockopt %s: %s", what, strerror(errno));
}

/* TCP_NODELAY and keepalive, on every connection. */
static void
peer_sockopts(int fd)
{
	peer_setopt(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	peer_setopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
	peer_setopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, PEER_KEEPIDLE_S,
	    "TCP_KEEPIDLE");
	peer_setopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, PEER_KEEPINTVL_S,
	    "TCP_KEEPINTVL");
	peer_setopt(fd, IPPROTO_TCP, TCP_KEEPCNT, PEER_KEEPCNT, "TCP_KEEPCNT");
}

/* ---- connections ----------------------------------------------------- */

static struct peer_conn *
peer_conn_new(struct peer *p, const struct ilb_addr *a, uint16_t port,
    int outgoing)
{
	struct peer_conn	*c;
	char			 s[ILB_ADDRSTRLEN];

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->p = p;
	c->addr = *a;
	c->port = port;
	c->outgoing = outgoing != 0;
	snprintf(c->name, sizeof(c->name), "%s %s port %u",
	    outgoing ? "to" : "from", util_addr_fmt(a, s, sizeof(s)), port);
	return (c);
}

/* Bytes not yet written on this connection. */
static size_t
peer_conn_queued(const struct peer_conn *c)
{
	size_t	n = 0;

	if (c->queue != NULL)
		n += evbuffer_get_length(c->queue);
	if (c->bev != NULL)
		n += evbuffer_get_length(bufferevent_get_output(c->bev));
	return (n);
}

/* Free the connection, or mark it if its read loop is running. */
static void
peer_conn_free(struct peer_conn *c)
{
	struct peer	*p = c->p;

	if (!c->dead) {
		c->dead = 1;
		if (c->outgoing)
			TAILQ_REMOVE(&p->out, c, entry);
		else {
			TAILQ_REMOVE(&p->in, c, entry);
			p->nin--;
		}
	}
	if (c->busy) {
		if (c->bev != NULL)
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->queue != NULL)
		evbuffer_free(c->queue);
	if (c->ev_retry != NULL)
		event_free(c->ev_retry);
	free(c);
}

/* Drop a connection and what it still had to write (counted in lost). */
static void
peer_conn_discard(struct peer_conn *c)
{
	c->p->stats.lost += peer_conn_queued(c);
	peer_conn_free(c);
}

/* ---- outgoing -------------------------------------------------------- */

static struct peer_conn *
peer_out_find(struct peer *p, const struct ilb_addr *a, uint16_t port)
{
	struct peer_conn	*c;

	TAILQ_FOREACH(c, &p->out, entry)
		if (c->port == port && util_addr_eq(&c->addr, a))
			return (c);
	return (NULL);
}

static void
peer_out_retry(evutil_socket_t fd, short ev, void *arg);

static struct peer_conn *
peer_out_new(struct peer *p, const struct ilb_addr *a, uint16_t port)
{
	struct peer_conn	*c;

	if ((c = peer_conn_new(p, a, port, 1)) == NULL)
		return (NULL);
	c->queue = evbuffer_new();
	c->ev_retry = evtimer_new(p->base, peer_out_retry, c);
	if (c->queue == NULL || c->ev_retry == NULL) {
		c->dead = 1;
		peer_conn_free(c);
		return (NULL);
	}
	TAILQ_INSERT_TAIL(&p->out, c, entry);
	return (c);
}

/* A non-blocking TCP socket, bound to node.address when it has one. */
static int
peer_out_socket(struct peer *p, int family)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	peer_sockopts(fd);
	if (!p->has_src || p->src.family != family)
		return (fd);
#ifdef IP_BIND_ADDRESS_NO_PORT
	peer_setopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1,
	    "IP_BIND_ADDRESS_NO_PORT");
#endif
	len = util_sockaddr(&p->src, 0, &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		log_debug("peer: bind source address: %s", strerror(errno));
	return (fd);
}

/* Start a non-blocking connect; what was queued moves to the socket. */
static int
peer_out_connect(struct peer_conn *c)
{
	struct peer		*p = c->p;
	struct sockaddr_storage	 ss;
	struct timeval		 tv;
	socklen_t		 len;
	int			 fd;

	c->last_attempt = util_now_ms();
	if ((len = util_sockaddr(&c->addr, c->port, &ss)) == 0)
		return (-1);
	if ((fd = peer_out_socket(p, c->addr.family)) == -1) {
		log_debug("peer %s: socket: %s", c->name, strerror(errno));
		return (-1);
	}
	c->bev = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		return (-1);
	}
	bufferevent_setcb(c->bev, peer_conn_read, NULL, peer_conn_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, PEER_READ_HIWAT);
	tv.tv_sec = PEER_CONNECT_MS / 1000;
	tv.tv_usec = (PEER_CONNECT_MS % 1000) * 1000;
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1 ||
	    bufferevent_socket_connect(c->bev, (struct sockaddr *)&ss,
	    (int)len) == -1) {
		log_debug("peer %s: connect: %s", c->name, strerror(errno));
		bufferevent_free(c->bev);
		c->bev = NULL;
		return (-1);
	}
	bufferevent_write_buffer(c->bev, c->queue);
	c->connected = 0;
	return (0);
}

/* Connect now, or when the backoff allows; -1 if an attempt failed. */
static int
peer_out_kick(struct peer_conn *c)
{
	uint64_t	now = util_now_ms(), wait;
	struct timeval	tv;
	int		rv = 0;

	if (c->bev != NULL || evtimer_pending(c->ev_retry, NULL))
		return (0);
	if (c->last_attempt == 0 || now - c->last_attempt >= PEER_BACKOFF_MS) {
		if (peer_out_connect(c) == 0)
			return (0);
		c->p->stats.connect_failures++;
		wait = PEER_BACKOFF_MS;
		rv = -1;
	} else
		wait = PEER_BACKOFF_MS - (now - c->last_attempt);
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(c->ev_retry, &tv);
	return (rv);
}

/* The backoff has passed: try again if something is waiting. */
static void
peer_out_retry(evutil_socket_t fd, short ev, void *arg)
{
	struct peer_conn	*c = arg;

	(void)fd;
	(void)ev;
	if (c->bev == NULL && evbuffer_get_length(c->queue) > 0)
		peer_out_kick(c);
}

/*
 * An outgoing connection failed.  Before it was up nothing was written:
 * keep the queue and try again after the backoff.  After, the remote
 * dropped any partial message, so the rest cannot be resent: discard.
 */
static void
peer_out_failed(struct peer_conn *c, short what)
{
	struct peer	*p = c->p;
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	if (!c->connected) {
		p->stats.connect_failures++;
		log_debug("peer %s: connect failed (%s%s)", c->name,
		    (what & BEV_EVENT_TIMEOUT) ? "timeout" : "error: ",
		    (what & BEV_EVENT_TIMEOUT) ? "" : strerror(errno));
		evbuffer_add_buffer(c->queue, out);
	} else {
		p->stats.disconnects++;
		p->stats.lost += evbuffer_get_length(out);
		log_debug("peer %s: connection closed (%s), %zu bytes unsent",
		    c->name, (what & BEV_EVENT_EOF) ? "eof" : "error",
		    evbuffer_get_length(out));
	}
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->connected = 0;
	if (evbuffer_get_length(c->queue) > 0)
		peer_out_kick(c);
}

/* ---- incoming -------------------------------------------------------- */

/* Close a connection after bad input or an error (not in its read loop). */
static void
peer_conn_fail(struct peer_conn *c, short what)
{
	if (c->outgoing) {
		peer_out_failed(c, what);
		return;
	}
	c->p->stats.disconnects++;
	log_debug("peer %s: connection closed", c->name);
	peer_conn_free(c);
}

/* Find or add the replay state of a sender id, evicting the oldest. */
static struct peer_sender *
peer_sender_get(struct peer *p, const struct member_id *id, int *isnew)
{
	struct peer_sender	*s, *old = NULL;
	unsigned int		 i;

	*isnew = 0;
	for (i = 0; i < p->nsenders; i++) {
		s = &p->senders[i];
		if (s->id.len == id->len && s->id.is_index == id->is_index &&
		    memcmp(s->id.b, id->b, sizeof(id->b)) == 0)
			return (s);
		if (old == NULL || s->used < old->used)
			old = s;
	}
	if (p->nsenders < PEER_SENDERS_MAX)
		old = &p->senders[p->nsenders++];
	memset(old, 0, sizeof(*old));
	old->id = *id;
	*isnew = 1;
	return (old);
}

/* 0 if the sequence is new for its sender and epoch (and record it). */
static int
peer_check_replay(struct peer *p, const struct msg_hdr *h)
{
	struct peer_sender	*s;
	int			 isnew;

	s = peer_sender_get(p, &h->sender, &isnew);
	if (!isnew && (h->epoch < s->epoch ||
	    (h->epoch == s->epoch && h->seq <= s->seq)))
		return (-1);
	s->epoch = h->epoch;
	s->seq = h->seq;
	s->used = ++p->tick;
	return (0);
}

/* Total length announced by the header at the front of in, or 0. */
static size_t
peer_frame_len(struct evbuffer *in)
{
	uint8_t		h[MSG_HDR_LEN];
	size_t		blen;

	if (evbuffer_get_length(in) < MSG_HDR_LEN ||
	    evbuffer_copyout(in, h, MSG_HDR_LEN) != MSG_HDR_LEN)
		return (0);
	blen = be16_load(h + MSG_OFF_BODYLEN);
	return (MSG_HDR_LEN + blen +
	    ((h[MSG_OFF_FLAGS + 1] & MSG_F_AUTH) ? MSG_MAC_LEN : 0));
}

/* Decode, verify and check for replay; a counter to bump, or NULL. */
static uint64_t *
peer_check(struct peer *p, const uint8_t *raw, size_t len,
    struct msg_view *v, enum msg_reason *r)
{
	int	by_next;

	if ((*r = msg_decode(raw, len, v)) != MSG_OK)
		return (&p->stats.rejected_decode);
	*r = msg_verify_next(raw, v, p->authenticate ? p->key : NULL,
	    p->has_key_next ? p->key_next : NULL, &by_next);
	if (*r != MSG_OK)
		return (&p->stats.rejected_auth);
	if (by_next)
		p->stats.received_key_next++;
	if (peer_check_replay(p, &v->hdr) == -1)
		return (&p->stats.rejected_replay);
	return (NULL);
}

/* Handle one complete message: 1 done, 0 need more, -1 rejected. */
static int
peer_conn_one(struct peer_conn *c)
{
	struct peer	*p = c->p;
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	struct msg_view	 v;
	enum msg_reason	 r = MSG_OK;
	uint64_t	*bad;
	uint8_t		*raw;
	size_t		 len;

	if ((len = peer_frame_len(in)) == 0)
		return (0);
	if (len > PEER_MSG_MAX) {
		p->stats.rejected++;
		p->stats.rejected_size++;
		log_debug("peer %s: message of %zu bytes over %u: closing",
		    c->name, len, (unsigned int)PEER_MSG_MAX);
		return (-1);
	}
	if (evbuffer_get_length(in) < len)
		return (0);
	if ((raw = evbuffer_pullup(in, (ev_ssize_t)len)) == NULL)
		return (0);
	if ((bad = peer_check(p, raw, len, &v, &r)) != NULL) {
		p->stats.rejected++;
		(*bad)++;
		log_debug("peer %s: message rejected (%s): closing", c->name,
		    bad == &p->stats.rejected_replay ? "replay" :
		    msg_reason_name(r));
		return (-1);
	}
	p->stats.received++;
	p->stats.bytes_in += len;
	p->cb(p->arg, &v, raw, &c->addr);
	evbuffer_drain(in, len);
	return (1);
}

/* Read every complete message; the callback may drop this connection. */
static void
peer_conn_read(struct bufferevent *bev, void *arg)
{
	struct peer_conn	*c = arg;
	int			 rv = 0;

	(void)bev;
	c->busy = 1;
	while (!c->dead && (rv = peer_conn_one(c)) == 1)
		;
	c->busy = 0;
	if (c->dead)
		peer_conn_free(c);
	else if (rv == -1)
		peer_conn_fail(c, BEV_EVENT_ERROR);
}

static void
peer_conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct peer_conn	*c = arg;
	struct peer		*p = c->p;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		c->connected = 1;
		p->stats.connects++;
		bufferevent_set_timeouts(c->bev, NULL, NULL);
		log_debug("peer %s: connected", c->name);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		peer_conn_fail(c, what);
}

static void
peer_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct peer		*p = arg;
	struct peer_conn	*c;
	struct ilb_addr		 a;
	uint16_t		 port;

	(void)lev;
	(void)salen;
	peer_from_sockaddr(sa, &a, &port);
	if (p->nin >= PEER_INCOMING_MAX ||
	    (c = peer_conn_new(p, &a, port, 0)) == NULL) {
		p->stats.accept_refused++;
		log_debug("peer: incoming connection refused (%u open)",
		    p->nin);
		close(fd);
		return;
	}
	peer_sockopts(fd);
	c->bev = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		p->stats.accept_refused++;
		close(fd);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, peer_conn_read, NULL, peer_conn_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, PEER_READ_HIWAT);
	bufferevent_enable(c->bev, EV_READ);
	TAILQ_INSERT_TAIL(&p->in, c, entry);
	p->nin++;
	p->stats.accepts++;
	log_debug("peer %s: accepted", c->name);
}

/* accept() failed (EMFILE...): pause the listener rather than spin. */
static void
peer_accept_error(struct evconnlistener *lev, void *arg)
{
	struct peer	*p = arg;
	struct timeval	 tv = { 0, PEER_ACCEPT_PAUSE_MS * 1000 };

	p->stats.accept_errors++;
	log_debug("peer: accept: %s", strerror(errno));
	evconnlistener_disable(lev);
	evtimer_add(p->ev_accept, &tv);
}

static void
peer_accept_resume(evutil_socket_t fd, short ev, void *arg)
{
	struct peer	*p = arg;

	(void)fd;
	(void)ev;
	evconnlistener_enable(p->lev);
}

/* ---- setup ----------------------------------------------------------- */

/* The listening socket: node.address, or any (IPv6 and IPv4). */
static int
peer_listen_socket(const struct ilbd_conf *conf, char **cause)
{
	struct sockaddr_storage	ss;
	struct ilb_addr		any;
	socklen_t		len;
	char			s[ILB_ADDRSTRLEN];
	int			fd;

	memset(&any, 0, sizeof(any));
	any.family = AF_INET6;
	if (conf->node.has_address)
		any = conf->node.address;
	len = util_sockaddr(&any, conf->cluster.port, &ss);
	fd = socket(any.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 && !conf->node.has_address && errno == EAFNOSUPPORT) {
		any.family = AF_INET;	/* no IPv6 here: any IPv4 */
		len = util_sockaddr(&any, conf->cluster.port, &ss);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
	}
	if (fd == -1)
		return (util_cause(cause, "peer socket: %s", strerror(errno)));
	peer_setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	if (!conf->node.has_address && any.family == AF_INET6)
		peer_setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0, "IPV6_V6ONLY");
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 128) == -1) {
		util_cause(cause, "peer socket: bind %s port %u: %s",
		    conf->node.has_address ? util_addr_fmt(&any, s, sizeof(s)) :
		    "any", conf->cluster.port, strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* The port actually bound (cluster.port, or the kernel's pick for 0). */
static uint16_t
peer_bound_port(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	struct ilb_addr		a;
	uint16_t		port;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (0);
	peer_from_sockaddr((struct sockaddr *)&ss, &a, &port);
	return (port);
}

static int
peer_listen(struct peer *p, const struct ilbd_conf *conf, char **cause)
{
	int	fd;

	if ((fd = peer_listen_socket(conf, cause)) == -1)
		return (-1);
	p->port = peer_bound_port(fd);
	p->lev = evconnlistener_new(p->base, peer_accept, p,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	p->ev_accept = evtimer_new(p->base, peer_accept_resume, p);
	if (p->lev == NULL || p->ev_accept == NULL) {
		if (p->lev == NULL)
			close(fd);
		return (util_cause(cause, "peer: cannot set up the listener"));
	}
	evconnlistener_set_error_cb(p->lev, peer_accept_error);
	return (0);
}

struct peer *
peer_open(struct event_base *base, const struct ilbd_conf *conf,
    const struct member_id *self, uint64_t epoch, peer_msg_cb cb, void *arg,
    char **cause)
{
	struct peer	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		util_cause(cause, "peer: %s", strerror(errno));
		return (NULL);
	}
	p->base = base;
	TAILQ_INIT(&p->out);
	TAILQ_INIT(&p->in);
	p->self = *self;
	p->epoch = epoch;
	peer_set_keys(p, conf);
	p->has_src = conf->node.has_address;
	p->src = conf->node.address;
	p->queue_max = PEER_QUEUE_MAX;
	p->cb = cb;
	p->arg = arg;
	if (peer_listen(p, conf, cause) == -1) {
		peer_close(p);
		return (NULL);
	}
	return (p);
}

void
peer_set_keys(struct peer *p, const struct ilbd_conf *conf)
{
	p->authenticate = conf->cluster.authenticate;
	p->has_key_next = p->authenticate && conf->cluster.has_key_next;
	if (p->authenticate)
		memcpy(p->key, conf->cluster.key, MSG_KEY_LEN);
	if (p->has_key_next)
		memcpy(p->key_next, conf->cluster.key_next, MSG_KEY_LEN);
	else
		sodium_memzero(p->key_next, sizeof(p->key_next));
}

void
peer_close(struct peer *p)
{
	struct peer_conn	*c;

	if (p == NULL)
		return;
	while ((c = TAILQ_FIRST(&p->out)) != NULL)
		peer_conn_free(c);
	while ((c = TAILQ_FIRST(&p->in)) != NULL)
		peer_conn_free(c);
	if (p->lev != NULL)
		evconnlistener_free(p->lev);
	if (p->ev_accept != NULL)
		event_free(p->ev_accept);
	sodium_memzero(p->key, sizeof(p->key));
	sodium_memzero(p->key_next, sizeof(p->key_next));
	free(p);
}

/* ---- sending --------------------------------------------------------- */

/* Encode the next message into buf; its length, or 0. */
static size_t
peer_encode(struct peer *p, uint8_t *buf, uint8_t type, const uint8_t *body,
    size_t len)
{
	struct msg_hdr	h;

	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.type = type;
	h.epoch = p->epoch;
	h.seq = p->seq + 1;
	h.sender = p->self;
	return (msg_encode(buf, PEER_MSG_MAX, &h, body, len,
	    p->authenticate ? p->key : NULL));
}

int
peer_send(struct peer *p, const struct ilb_addr *to, uint16_t port,
    uint8_t type, const uint8_t *body, size_t len)
{
	struct peer_conn	*c;
	uint8_t			 buf[PEER_MSG_MAX];
	size_t			 n;

	if ((to->family != AF_INET && to->family != AF_INET6) ||
	    (n = peer_encode(p, buf, type, body, len)) == 0) {
		p->stats.send_errors++;
		return (-1);
	}
	if ((c = peer_out_find(p, to, port)) == NULL &&
	    (c = peer_out_new(p, to, port)) == NULL) {
		p->stats.send_errors++;
		return (-1);
	}
	if (peer_conn_queued(c) + n > p->queue_max) {
		p->stats.queue_full++;
		log_debug("peer %s: queue full (%zu bytes)", c->name,
		    peer_conn_queued(c));
		return (-1);
	}
	if (peer_out_kick(c) == -1) {
		p->stats.send_errors++;
		return (-1);
	}
	if (c->bev != NULL)
		bufferevent_write(c->bev, buf, n);
	else
		evbuffer_add(c->queue, buf, n);
	p->seq++;
	p->stats.sent++;
	p->stats.bytes_out += n;
	return (0);
}

size_t
peer_queued(const struct peer *p, const struct ilb_addr *to)
{
	const struct peer_conn	*c;
	size_t			 n = 0;

	TAILQ_FOREACH(c, &p->out, entry)
		if (util_addr_eq(&c->addr, to))
			n += peer_conn_queued(c);
	return (n);
}

void
peer_drop(struct peer *p, const struct ilb_addr *to)
{
	struct peer_conn	*c, *next;

	for (c = TAILQ_FIRST(&p->out); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (util_addr_eq(&c->addr, to))
			peer_conn_discard(c);
	}
	for (c = TAILQ_FIRST(&p->in); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (util_addr_eq(&c->addr, to))
			peer_conn_free(c);
	}
}

/* ---- small accessors ------------------------------------------------- */

const struct counter_desc peer_counters[] = {
#define PEER_COUNTER(name, help)					\
	COUNTER_FIELD(struct peer_stats, name, help)
	PEER_STATS_FOREACH(PEER_COUNTER)
#undef PEER_COUNTER
	COUNTER_END
};

const struct peer_stats *
peer_stats(const struct peer *p)
{
	return (&p->stats);
}

void
peer_set_queue_max(struct peer *p, size_t max)
{
	p->queue_max = max;
}

uint16_t
peer_local_port(const struct peer *p)
{
	return (p->port);
}
