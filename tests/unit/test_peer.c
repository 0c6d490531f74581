/* test_peer.c: the TCP peer channel, two or three instances in one process. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <sodium.h>

#include "config.h"
#include "log.h"
#include "msg.h"
#include "peer.h"
#include "util.h"

#define NMSG		1000
#define EPOCH_A		1000
#define EPOCH_B		2000

/* What one instance received. */
struct rx {
	struct peer	*self;
	uint64_t	 n;		/* messages */
	uint64_t	 bad;		/* wrong sender, order or body */
	uint64_t	 last_seq;
	uint32_t	 next;		/* index expected in the body */
	struct ilb_addr	 from;
	uint8_t		 raw[PEER_MSG_MAX];	/* the last one, as received */
	size_t		 rawlen;
	size_t		 blen;		/* body length of the last one */
	int		 drop;		/* peer_drop(from) on each message */
	uint16_t	 echo_port;	/* reply to from:echo_port if set */
};

static struct event_base	*base;
static struct ilbd_conf		 conf_a, conf_b, conf_c;
static struct member_id		 id_a, id_b, id_c;
static struct ilb_addr		 lo;
static struct rx		 rx_a, rx_b, rx_c;

static void
mkid(struct member_id *id, uint8_t n)
{
	memset(id, 0, sizeof(*id));
	id->len = 4;
	id->is_index = 1;
	id->b[3] = n;
}

/* node.address addr, an ephemeral port, key byte k (0: no auth). */
static void
mkconf(struct ilbd_conf *c, const char *addr, uint8_t k)
{
	memset(c, 0, sizeof(*c));
	if (addr != NULL) {
		assert_int_equal(util_addr_parse(addr, &c->node.address), 0);
		c->node.has_address = 1;
	}
	c->cluster.port = 0;
	c->cluster.authenticate = k != 0;
	memset(c->cluster.key, k, sizeof(c->cluster.key));
}

/* Body i: its index then (i % 200) bytes of a pattern. */
static size_t
mkbody(uint8_t *b, uint32_t i)
{
	size_t	n = 4 + i % 200, j;

	b[0] = (uint8_t)(i >> 24);
	b[1] = (uint8_t)(i >> 16);
	b[2] = (uint8_t)(i >> 8);
	b[3] = (uint8_t)i;
	for (j = 4; j < n; j++)
		b[j] = (uint8_t)(i + j);
	return (n);
}

static void
on_msg(void *arg, const struct msg_view *v, const uint8_t *raw,
    const struct ilb_addr *from)
{
	struct rx	*r = arg;
	uint8_t		 want[256];
	size_t		 wlen;

	if (v->hdr.seq <= r->last_seq)
		r->bad++;
	r->last_seq = v->hdr.seq;
	r->from = *from;
	r->blen = v->hdr.body_len;
	r->rawlen = v->len;
	memcpy(r->raw, raw, v->len);
	if (v->hdr.type == MSG_T_TRANSFER) {
		wlen = mkbody(want, r->next++);
		if (v->hdr.body_len != wlen || memcmp(v->body, want, wlen) != 0)
			r->bad++;
	}
	r->n++;
	if (r->echo_port != 0 &&
	    peer_send(r->self, from, r->echo_port, MSG_T_ACK, v->body, 4) != 0)
		r->bad++;
	if (r->drop)
		peer_drop(r->self, from);
}

/* ---- a bounded event loop -------------------------------------------- */

struct wait {
	int		(*done)(void);
	uint64_t	 deadline;
};

static void
wait_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct wait	*w = arg;

	(void)fd;
	(void)ev;
	if ((w->done != NULL && w->done()) || util_now_ms() >= w->deadline)
		event_base_loopbreak(base);
}

/* Run the loop until done() or ms have passed; returns done(). */
static int
run_until(int (*done)(void), unsigned int ms)
{
	struct wait	 w = { done, util_now_ms() + ms };
	struct timeval	 tv = { 0, 2000 };
	struct event	*ev;

	ev = event_new(base, -1, EV_PERSIST, wait_tick, &w);
	assert_non_null(ev);
	event_add(ev, &tv);
	event_base_dispatch(base);
	event_free(ev);
	return (done != NULL ? done() : 1);
}

static void
run_for(unsigned int ms)
{
	run_until(NULL, ms);
}

/* ---- raw connections, for hostile input ------------------------------ */

static int
raw_connect(uint16_t port)
{
	struct sockaddr_in	sin;
	int			fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd != -1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return (fd);
}

static void
raw_send(int fd, const uint8_t *b, size_t len)
{
	assert_int_equal(write(fd, b, len), (ssize_t)len);
}

#define WAIT_MS		30000	/* only a hang takes this long */

static int	raw_fd;		/* raw_closed()'s */

/* 1 if the remote closed raw_fd (EOF or reset). */
static int
raw_closed_now(void)
{
	struct pollfd	pfd = { raw_fd, POLLIN, 0 };
	uint8_t		b[16];
	ssize_t		n;

	if (poll(&pfd, 1, 0) != 1)
		return (0);
	n = recv(raw_fd, b, sizeof(b), MSG_DONTWAIT);
	return (n == 0 || (n == -1 && errno == ECONNRESET));
}

/*
 * The peer closed fd: wait for it with the event loop running (the close
 * may come on a later turn of the loop), up to WAIT_MS on a busy machine.
 */
static int
raw_closed(int fd)
{
	raw_fd = fd;
	return (run_until(raw_closed_now, WAIT_MS));
}

/* Encode as id_a with this epoch and sequence (key byte k, 0: none). */
static size_t
forge(uint8_t *buf, uint64_t epoch, uint64_t seq, uint8_t k, size_t blen)
{
	struct msg_hdr	h;
	uint8_t		key[MSG_KEY_LEN], body[MSG_BODY_MAX];

	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.type = MSG_T_ACK;
	h.epoch = epoch;
	h.seq = seq;
	h.sender = id_a;
	memset(key, k, sizeof(key));
	memset(body, 0x5a, sizeof(body));
	return (msg_encode(buf, PEER_MSG_MAX, &h, body, blen,
	    k != 0 ? key : NULL));
}

/* ---- fixtures -------------------------------------------------------- */

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() == -1 || (base = event_base_new()) == NULL)
		return (-1);
	mkid(&id_a, 1);
	mkid(&id_b, 2);
	mkid(&id_c, 3);
	util_addr_parse("127.0.0.1", &lo);
	mkconf(&conf_a, "127.0.0.1", 0x42);
	mkconf(&conf_b, "127.0.0.1", 0x42);
	mkconf(&conf_c, "127.0.0.1", 0x43);
	memset(&rx_a, 0, sizeof(rx_a));
	memset(&rx_b, 0, sizeof(rx_b));
	memset(&rx_c, 0, sizeof(rx_c));
	return (0);
}

static int
teardown(void **state)
{
	(void)state;
	event_base_free(base);
	base = NULL;
	return (0);
}

static struct peer *
open_peer(const struct ilbd_conf *c, const struct member_id *id,
    uint64_t epoch, struct rx *r)
{
	struct peer	*p;
	char		*cause = NULL;

	p = peer_open(base, c, id, epoch, on_msg, r, &cause);
	if (p == NULL)
		fail_msg("peer_open: %s", cause != NULL ? cause : "?");
	r->self = p;
	return (p);
}

/* ---- tests ----------------------------------------------------------- */

/* The bound of run_until, which returns once the condition holds: a hang. */

static int	done_b1000(void) { return (rx_b.n >= NMSG); }
static int	done_b1(void) { return (rx_b.n >= 1); }
static int	done_b2(void) { return (rx_b.n >= 2); }
static int	done_b5(void) { return (rx_b.n >= 5); }
static int	done_a3(void) { return (rx_a.n >= 3); }

/* 1000 messages from A arrive at B in order, intact, with A's id. */
static void
test_order(void **state)
{
	struct peer	*a, *b;
	uint8_t		 body[256];
	uint16_t	 pb;
	uint32_t	 i;

	(void)state;
	a = open_peer(&conf_a, &id_a, EPOCH_A, &rx_a);
	b = open_peer(&conf_b, &id_b, EPOCH_B, &rx_b);
	pb = peer_local_port(b);
	assert_true(pb != 0);
	for (i = 0; i < NMSG; i++)
		assert_int_equal(peer_send(a, &lo, pb, MSG_T_TRANSFER, body,
		    mkbody(body, i)), 0);
	assert_true(peer_queued(a, &lo) > 0);
	assert_true(run_until(done_b1000, WAIT_MS));
	assert_int_equal(rx_b.bad, 0);
	assert_int_equal(rx_b.next, NMSG);
	assert_true(util_addr_eq(&rx_b.from, &lo));
	assert_int_equal(rx_b.last_seq, NMSG);
	assert_int_equal(peer_queued(a, &lo), 0);
	assert_int_equal(peer_stats(a)->sent, NMSG);
	assert_int_equal(peer_stats(a)->connects, 1);
	assert_int_equal(peer_stats(b)->received, NMSG);
	assert_int_equal(peer_stats(b)->accepts, 1);
	assert_int_equal(peer_stats(b)->rejected, 0);
	assert_int_equal(peer_stats(b)->bytes_in, peer_stats(a)->bytes_out);
	peer_close(a);
	peer_close(b);
}

static int	done_badkey(void);
static struct peer	*g_b, *g_c;

static int
done_badkey(void)
{
	return (peer_stats(g_b)->rejected >= 1 &&
	    peer_stats(g_c)->disconnects >= 1);
}

/* A sender with another key: rejected, counted, connection closed. */
static void
test_bad_key(void **state)
{
	struct peer	*b, *c;
	uint8_t		 body[256];

	(void)state;
	g_b = b = open_peer(&conf_b, &id_b, EPOCH_B, &rx_b);
	g_c = c = open_peer(&conf_c, &id_c, 7, &rx_c);
	assert_int_equal(peer_send(c, &lo, peer_local_port(b), MSG_T_TRANSFER,
	    body, mkbody(body, 0)), 0);
	assert_true(run_until(done_badkey, WAIT_MS));
	assert_int_equal(rx_b.n, 0);
	assert_int_equal(peer_stats(b)->rejected_auth, 1);
	assert_int_equal(peer_stats(b)->disconnects, 1);
	assert_int_equal(peer_stats(c)->connects, 1);
	peer_close(c);
	/* Without a MAC at all: rejected too. */
	mkconf(&conf_c, "127.0.0.1", 0);
	g_c = c = open_peer(&conf_c, &id_c, 7, &rx_c);
	assert_int_equal(peer_send(c, &lo, peer_local_port(b), MSG_T_TRANSFER,
	    body, mkbody(body, 0)), 0);
	assert_true(run_until(done_badkey, WAIT_MS));
	assert_int_equal(peer_stats(b)->rejected_auth, 2);
	assert_int_equal(rx_b.n, 0);
	peer_close(c);
	peer_close(b);
}

static int	done_replay1(void) { return (peer_stats(g_b)->rejected >= 1); }
static int	done_replay2(void) { return (peer_stats(g_b)->rejected >= 2); }
static int	done_replay3(void) { return (peer_stats(g_b)->rejected >= 3); }

/* A captured message replayed on a fresh connection; an older epoch. */
static void
test_replay(void **state)
{
	struct peer	*a, *b;
	uint8_t		 body[256], buf[PEER_MSG_MAX], cap[PEER_MSG_MAX];
	size_t		 caplen, n;
	uint16_t	 pb;
	int		 fd;

	(void)state;
	a = open_peer(&conf_a, &id_a, EPOCH_A, &rx_a);
	g_b = b = open_peer(&conf_b, &id_b, EPOCH_B, &rx_b);
	pb = peer_local_port(b);
	assert_int_equal(peer_send(a, &lo, pb, MSG_T_TRANSFER, body,
	    mkbody(body, 0)), 0);
	assert_true(run_until(done_b1, WAIT_MS));
	caplen = rx_b.rawlen;
	memcpy(cap, rx_b.raw, caplen);

	fd = raw_connect(pb);
	raw_send(fd, cap, caplen);
	assert_true(run_until(done_replay1, WAIT_MS));
	assert_int_equal(peer_stats(b)->rejected_replay, 1);
	assert_true(raw_closed(fd));
	close(fd);

	/* Same id, an older epoch with a high sequence: a replay too. */
	fd = raw_connect(pb);
	n = forge(buf, EPOCH_A - 1, 1000000, 0x42, 8);
	raw_send(fd, buf, n);
	assert_true(run_until(done_replay2, WAIT_MS));
	assert_int_equal(peer_stats(b)->rejected_replay, 2);
	assert_true(raw_closed(fd));
	close(fd);

	/* A newer epoch (the sender restarted) is accepted from seq 1. */
	fd = raw_connect(pb);
	n = forge(buf, EPOCH_A + 1, 1, 0x42, 8);
	raw_send(fd, buf, n);
	assert_true(run_until(done_b2, WAIT_MS));
	assert_int_equal(rx_b.last_seq, 1);
	assert_int_equal(peer_stats(b)->rejected, 2);
	close(fd);
	/* ...and A's old epoch is now stale. */
	assert_int_equal(peer_send(a, &lo, pb, MSG_T_TRANSFER, body,
	    mkbody(body, 1)), 0);
	assert_true(run_until(done_replay3, WAIT_MS));
	assert_int_equal(rx_b.n, 2);
	peer_close(a);
	peer_close(b);
}

static struct peer	*g_a;

static int
done_a_disc(void)
{
	return (peer_stats(g_a)->disconnects >= 1);
}

static int	done_a_cfail1(void) { return (peer_stats(g_a)->connect_failures >= 1); }
static int	done_a_cfail2(void) { return (peer_stats(g_a)->connect_failures >= 2); }

/* B stops and restarts on the same port: A reconnects, nothing lost. */
static void
test_restart(void **state)
{
	struct peer	*a, *b;
	uint8_t		 body[256];
	uint32_t	 i;
	uint16_t	 pb;

	(void)state;
	g_a = a = open_peer(&conf_a, &id_a, EPOCH_A, &rx_a);
	b = open_peer(&conf_b, &id_b, EPOCH_B, &rx_b);
	pb = peer_local_port(b);
	assert_int_equal(peer_send(a, &lo, pb, MSG_T_TRANSFER, body,
	    mkbody(body, 0)), 0);
	assert_true(run_until(done_b1, WAIT_MS));
	peer_close(b);
	assert_true(run_until(done_a_disc, WAIT_MS));

	/* B is down: queued, connects refused, the queue is kept. */
	for (i = 1; i < 6; i++)
		assert_int_equal(peer_send(a, &lo, pb, MSG_T_TRANSFER, body,
		    mkbody(body, i)), 0);
	run_for(500);
	assert_true(run_until(done_a_cfail1, WAIT_MS));	/* a loaded machine */
	assert_true(peer_stats(a)->connect_failures <= 4);	/* backoff */
	assert_true(peer_queued(a, &lo) > 0);

	memset(&rx_b, 0, sizeof(rx_b));
	rx_b.next = 1;
	conf_b.cluster.port = pb;
	b = open_peer(&conf_b, &id_b, EPOCH_B, &rx_b);
	assert_true(run_until(done_b5, WAIT_MS));
	assert_int_equal(rx_b.bad, 0);
	assert_int_equal(rx_b.next, 6);
	assert_int_equal(peer_stats(a)->connects, 2);
	assert_int_equal(peer_stats(a)->lost, 0);
	assert_int_equal(peer_queued(a, &lo), 0);
	peer_close(a);
	peer_close(b);
}

/* A port nobody listens on (bound, not listening: refused). */
static int
dead_port(uint16_t *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return (fd);
}

/* Over the bound: -1 and queue_full; the queue survives retries. */
static void
test_queue_bound(void **state)
{
	struct peer	*a;
	uint8_t		 body[MSG_BODY_MAX];
	size_t		 bound = 256 * 1024, msglen, queued;
	uint16_t	 port;
	int		 fd, i, rv = 0;

	(void)state;
	fd = dead_port(&port);
	g_a = a = open_peer(&conf_a, &id_a, EPOCH_A, &rx_a);
	peer_set_queue_max(a, bound);
	memset(body, 0x77, sizeof(body));
	msglen = MSG_HDR_LEN + sizeof(body) + MSG_MAC_LEN;
	for (i = 0; i < 10000; i++)
		if ((rv = peer_send(a, &lo, port, MSG_T_TRANSFER, body,
		    sizeof(body))) == -1)
			break;
	assert_int_equal(rv, -1);
	assert_int_equal(peer_stats(a)->queue_full, 1);
	assert_int_equal((size_t)i, bound / msglen);
	queued = peer_queued(a, &lo);
	assert_int_equal(queued, (size_t)i * msglen);
	run_for(450);
	assert_true(run_until(done_a_cfail2, WAIT_MS));
	assert_int_equal(peer_stats(a)->connects, 0);
	assert_int_equal(peer_queued(a, &lo), queued);
	assert_int_equal(peer_send(a, &lo, port, MSG_T_TRANSFER, body,
	    sizeof(body)), -1);
	assert_int_equal(peer_stats(a)->queue_full, 2);
	peer_drop(a, &lo);
	assert_int_equal(peer_queued(a, &lo), 0);
	assert_int_equal(peer_stats(a)->lost, queued);
	/* The destination is gone, so is its queue: sending works again. */
	assert_int_equal(peer_send(a, &lo, port, MSG_T_TRANSFER, body,
	    sizeof(body)), 0);
	run_for(50);
	peer_close(a);
	close(fd);
}

static int	done_size(void) { return (peer_stats(g_b)->rejected_size >= 1); }

/* The largest body goes through, one byte more is refused both ways. */
static void
test_max_body(void **state)
{
	struct peer	*a, *b;
	uint8_t		 body[MSG_BODY_MAX + 1], hdr[MSG_HDR_LEN];
	uint16_t	 pb;
	int		 fd;

	(void)state;
	a = open_peer(&conf_a, &id_a, EPOCH_A, &rx_a);
	g_b = b = open_peer(&conf_b, &id_b, EPOCH_B, &rx_b);
	pb = peer_local_port(b);
	memset(body, 0x33, sizeof(body));
	assert_int_equal(peer_send(a, &lo, pb, MSG_T_ACK, body,
	    MSG_BODY_MAX), 0);
	assert_int_equal(peer_send(a, &lo, pb, MSG_T_ACK, NULL, 0), 0);
	assert_int_equal(peer_send(a, &lo, pb, MSG_T_ACK, body,
	    MSG_BODY_MAX + 1), -1);
	assert_int_equal(peer_stats(a)->send_errors, 1);
	assert_true(run_until(done_b2, WAIT_MS));
	run_for(20);
	assert_int_equal(rx_b.n, 2);
	assert_int_equal(rx_b.blen, 0);
	assert_int_equal(peer_stats(b)->bytes_in,
	    2 * (MSG_HDR_LEN + MSG_MAC_LEN) + MSG_BODY_MAX);
	assert_int_equal(rx_b.bad, 0);

	/* A header announcing more than the bound closes the connection. */
	forge(hdr, EPOCH_A, 1 << 30, 0x42, 0);
	hdr[MSG_OFF_BODYLEN] = (uint8_t)((MSG_BODY_MAX + 1) >> 8);
	hdr[MSG_OFF_BODYLEN + 1] = (uint8_t)(MSG_BODY_MAX + 1);
	fd = raw_connect(pb);
	raw_send(fd, hdr, sizeof(hdr));
	assert_true(run_until(done_size, WAIT_MS));
	assert_true(raw_closed(fd));
	close(fd);
	assert_int_equal(rx_b.n, 2);
	peer_close(a);
	peer_close(b);
}

/* B answers from its callback; then drops A from inside the callback. */
static void
test_echo_and_drop(void **state)
{
	struct peer	*a, *b;
	uint8_t		 body[256];
	uint16_t	 pb;
	uint32_t	 i;

	(void)state;
	g_a = a = open_peer(&conf_a, &id_a, EPOCH_A, &rx_a);
	b = open_peer(&conf_b, &id_b, EPOCH_B, &rx_b);
	pb = peer_local_port(b);
	rx_b.echo_port = peer_local_port(a);
	for (i = 0; i < 3; i++)
		assert_int_equal(peer_send(a, &lo, pb, MSG_T_TRANSFER, body,
		    mkbody(body, i)), 0);
	assert_true(run_until(done_a3, WAIT_MS));
	assert_int_equal(rx_a.bad, 0);
	assert_int_equal(peer_stats(b)->sent, 3);
	assert_int_equal(peer_stats(b)->connects, 1);

	/* Drop the sender from inside the read loop, several queued. */
	rx_b.drop = 1;
	rx_b.echo_port = 0;
	for (i = 3; i < 13; i++)
		assert_int_equal(peer_send(a, &lo, pb, MSG_T_TRANSFER, body,
		    mkbody(body, i)), 0);
	assert_true(run_until(done_a_disc, WAIT_MS));
	assert_true(rx_b.n >= 4 && rx_b.n < 13);
	assert_int_equal(rx_b.bad, 0);
	assert_int_equal(peer_queued(b, &lo), 0);
	peer_close(a);
	peer_close(b);
}

/* Without authentication on both sides; a MAC'd message is refused. */
static void
test_unauth(void **state)
{
	struct peer	*a, *b;
	uint8_t		 body[256], buf[PEER_MSG_MAX];
	size_t		 n;
	int		 fd;

	(void)state;
	mkconf(&conf_a, "127.0.0.1", 0);
	mkconf(&conf_b, NULL, 0);		/* any address */
	a = open_peer(&conf_a, &id_a, EPOCH_A, &rx_a);
	g_b = b = open_peer(&conf_b, &id_b, EPOCH_B, &rx_b);
	assert_int_equal(peer_send(a, &lo, peer_local_port(b), MSG_T_TRANSFER,
	    body, mkbody(body, 0)), 0);
	assert_true(run_until(done_b1, WAIT_MS));
	assert_int_equal(rx_b.rawlen, MSG_HDR_LEN + 4);
	assert_true(util_addr_eq(&rx_b.from, &lo));	/* not v4-mapped */
	fd = raw_connect(peer_local_port(b));
	n = forge(buf, EPOCH_A, 99, 0x42, 4);
	raw_send(fd, buf, n);
	assert_true(run_until(done_replay1, WAIT_MS));
	assert_int_equal(peer_stats(b)->rejected_auth, 1);
	assert_true(raw_closed(fd));
	close(fd);
	peer_close(a);
	peer_close(b);
}

/* The same over IPv6 loopback, when the host has it. */
static void
test_ipv6(void **state)
{
	struct peer	*a, *b;
	struct ilb_addr	 lo6;
	uint8_t		 body[256];
	char		*cause = NULL;
	uint32_t	 i;

	(void)state;
	mkconf(&conf_a, "::1", 0x42);
	mkconf(&conf_b, "::1", 0x42);
	util_addr_parse("::1", &lo6);
	if ((b = peer_open(base, &conf_b, &id_b, EPOCH_B, on_msg, &rx_b,
	    &cause)) == NULL) {
		free(cause);
		skip();
	}
	a = open_peer(&conf_a, &id_a, EPOCH_A, &rx_a);
	for (i = 0; i < 5; i++)
		assert_int_equal(peer_send(a, &lo6, peer_local_port(b),
		    MSG_T_TRANSFER, body, mkbody(body, i)), 0);
	assert_true(run_until(done_b5, WAIT_MS));
	assert_int_equal(rx_b.bad, 0);
	assert_true(util_addr_eq(&rx_b.from, &lo6));
	peer_close(a);
	peer_close(b);
}

/* peer_open reports a port in use as a cause. */
static void
test_open_error(void **state)
{
	struct peer	*a, *b;
	char		*cause = NULL;

	(void)state;
	a = open_peer(&conf_a, &id_a, EPOCH_A, &rx_a);
	conf_b.cluster.port = peer_local_port(a);
	b = peer_open(base, &conf_b, &id_b, EPOCH_B, on_msg, &rx_b, &cause);
	if (b != NULL) {
		/* SO_REUSEADDR does not allow two listeners on Linux. */
		peer_close(b);
		fail_msg("second listener on the same port");
	}
	assert_non_null(cause);
	assert_non_null(strstr(cause, "bind 127.0.0.1 port"));
	free(cause);
	assert_string_equal(peer_counters[0].name, "sent");
	assert_int_equal(counter_value(&peer_counters[0], peer_stats(a)),
	    peer_stats(a)->sent);
	peer_close(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_max_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_and_drop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unauth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_error, setup,
		    teardown),
	};

	log_init("test_peer", 1, 0);	/* MOCK_LOG_ECHO=1 shows the log */
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
