/*
 * test_lb_udp.c: the per-packet decision for UDP flows (issue 22): a flow
 * opens at its owner, is replicated only once seen again, becomes a
 * stream past UDP_STREAM_PKTS packets, survives its owner's loss.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "conntab.h"
#include "lb.h"
#include "lb_int.h"
#include "ltoc.h"
#include "packet.h"
#include "stats.h"
#include "world.h"

#define T0		1000000ULL	/* ms */
#define UDP_S		30		/* udp_timeout_s */
#define STREAM_S	120		/* udp_stream_timeout_s */
#define REPL_MS		1000		/* udp_replicate_ms */

enum { SVC_TCP = 0, SVC_UDP = 1 };

static struct world	world;

static struct world	*test_world_timeouts(size_t, uint32_t, uint32_t,
			    uint32_t);

/* A "web" TCP and a "dns" UDP service, both on 198.51.100.10:80. */
static struct world *
test_world_new(size_t n, uint32_t cache_size)
{
	return (test_world_timeouts(n, cache_size, 0, 0));
}

/* The same, "dns" with its own idle timeouts (0: the tables'). */
static struct world *
test_world_timeouts(size_t n, uint32_t cache_size, uint32_t udp_s,
    uint32_t stream_s)
{
	struct ilbd_conf	*c = world_conf_new(1024, cache_size);
	struct service_conf	*s;

	world_web(c, "web", 10, SCHED_WLC, 3);
	s = world_web(c, "dns", 10, SCHED_WLC, 3);
	s->protocol = PROTO_UDP;
	s->udp_timeout_s = udp_s;
	s->udp_stream_timeout_s = stream_s;
	c->tables.udp_timeout_s = UDP_S;
	c->tables.udp_stream_timeout_s = STREAM_S;
	c->tables.udp_replicate_ms = REPL_MS;
	world_init(&world, c, n);
	assert_int_equal(world_start(&world, n, 42, 0), 0);
	return (&world);
}

/* A UDP datagram 203.0.113.7:sport -> 198.51.100.10:80, as parsed. */
static struct pkt_info
test_udp(uint16_t sport)
{
	struct pkt_info	pi = world_pkt(10, 80, sport, 0);

	pi.key.len |= FLOW_KEY_UDP;
	pi.proto = 17;
	return (pi);
}

/* A client port whose owner and backup (member indices) are these. */
static uint16_t
test_find(struct world *w, int owner, int backup)
{
	struct pkt_info	pi;
	uint32_t	sport;
	int		o, b;

	for (sport = 1024; sport < 65536; sport++) {
		pi = test_udp((uint16_t)sport);
		lb_rank(&w->lb[0], &pi.key, &o, &b);
		if (o == owner && b == backup)
			return ((uint16_t)sport);
	}
	fail_msg("no tuple with owner %d backup %d", owner, backup);
	return (0);
}

static int
test_send(struct lb *lb, uint16_t sport, int by_handoff, uint64_t now,
    struct lb_action *act)
{
	struct pkt_info	pi = test_udp(sport);

	return (lb_decide(lb, &pi, by_handoff, now, act));
}

static struct conn_entry *
test_entry(struct lb *lb, uint16_t sport)
{
	struct pkt_info	pi = test_udp(sport);

	return (ltoc_lookup(&lb->ltoc, &pi.key));
}

static void
test_sent(void *arg, const struct conn_entry *e, uint16_t dst)
{
	(void)e;
	(void)dst;
	(*(int *)arg)++;
}

/* A one-packet flow (a DNS query): an entry at the owner, no record. */
static void
test_udp_one_packet(void **state)
{
	struct world		*w = test_world_new(3, 1024);
	struct lb		*lb = &w->lb[1];
	struct lb_action	 act;
	struct conn_entry	*e;
	uint16_t		 sport = test_find(w, 1, 2);

	(void)state;
	assert_int_equal(test_send(lb, sport, 0, T0, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_OWNER);
	assert_int_equal(act.service, SVC_UDP);
	assert_non_null(e = test_entry(lb, sport));
	assert_int_equal(e->state, CONN_SYN);
	assert_int_equal(e->role, CONN_ROLE_OWNER);
	assert_int_equal(lb->stats.udp_new_flow, 1);
	assert_int_equal(lb->stats.udp_rx, 1);
	assert_int_equal(lb_queue_len(lb), 0);
	/* still there just before udp_timeout_s, gone after, never sent */
	lb_tick(lb, T0 + (UDP_S - 1) * 1000, 100);
	assert_non_null(test_entry(lb, sport));
	lb_tick(lb, T0 + (UDP_S + 1) * 1000, 100);
	assert_null(test_entry(lb, sport));
	assert_int_equal(lb->stats.udp_unreplicated, 1);
	assert_int_equal(lb->stats.udp_replicated, 0);
	assert_int_equal(lb->stats.new_queued, 0);
	assert_int_equal(lb_queue_len(lb), 0);
	world_free(w);
}

/*
 * Seen again within udp_replicate_ms: still nothing sent; seen again
 * after it: the NEW leaves, the backup stores it in its LTOC, the third
 * member in its cache, and both forward the flow to the same server.
 */
static void
test_udp_replicated_when_seen_again(void **state)
{
	struct world		*w = test_world_new(3, 1024);
	struct lb		*lb = &w->lb[1];
	struct lb_action	 act;
	struct lb_record	 r;
	struct conn_entry	*e;
	uint16_t		 sport = test_find(w, 1, 2), server;

	(void)state;
	assert_int_equal(test_send(lb, sport, 0, T0, &act), LB_FORWARD);
	server = act.server;
	assert_int_equal(test_send(lb, sport, 0, T0 + 300, &act), LB_FORWARD);
	assert_int_equal(act.server, server);
	assert_int_equal(lb_queue_len(lb), 0);
	assert_int_equal(test_send(lb, sport, 0, T0 + 2 * REPL_MS, &act),
	    LB_FORWARD);
	assert_int_equal(act.server, server);
	assert_int_equal(lb->stats.udp_replicated, 1);
	assert_true(lb_queue_pop(lb, &r));
	assert_int_equal(r.type, LB_REC_NEW);
	assert_int_equal(r.tag, 0);		/* UDP: no connection tag */
	assert_true(flow_key_is_udp(&r.key));
	assert_int_equal(lb_queue_len(lb), 0);
	/* once replicated, more packets send nothing more in the window */
	assert_int_equal(test_send(lb, sport, 0, T0 + 2 * REPL_MS + 10,
	    &act), LB_FORWARD);
	assert_int_equal(lb_queue_len(lb), 0);
	assert_int_equal(lb->stats.udp_replicated, 1);

	assert_int_equal(lb_learn_new(&w->lb[2], &r, T0 + 2 * REPL_MS), 0);
	assert_int_equal(lb_learn_new(&w->lb[0], &r, T0 + 2 * REPL_MS), 0);
	assert_non_null(e = test_entry(&w->lb[2], sport));
	assert_int_equal(e->role, CONN_ROLE_BACKUP);
	assert_int_equal(test_send(&w->lb[2], sport, 0, T0 + 3 * REPL_MS,
	    &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_BACKUP);
	assert_int_equal(act.server, server);
	assert_int_equal(test_send(&w->lb[0], sport, 0, T0 + 3 * REPL_MS,
	    &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_CACHE);
	assert_int_equal(act.server, server);
	/* the owner's entry expires, but it was replicated */
	lb_tick(lb, T0 + 2 * REPL_MS + (UDP_S + 2) * 1000, 100);
	assert_int_equal(lb->stats.udp_unreplicated, 0);
	world_free(w);
}

/*
 * More than UDP_STREAM_PKTS packets: replicated at once even within
 * udp_replicate_ms, then a stream (established, the longer timeout),
 * whose REFRESH makes the other holders' copies streams too.
 */
static void
test_udp_stream(void **state)
{
	struct world		*w = test_world_new(3, 1024);
	struct lb		*lb = &w->lb[1];
	struct lb_action	 act;
	struct conn_entry	*e;
	uint16_t		 sport = test_find(w, 1, 2);
	int			 i;

	(void)state;
	for (i = 0; i < UDP_STREAM_PKTS; i++)
		assert_int_equal(test_send(lb, sport, 0, T0 + (uint64_t)i,
		    &act), LB_FORWARD);
	assert_int_equal(lb_queue_len(lb), 0);
	assert_int_equal(test_send(lb, sport, 0, T0 + 10, &act), LB_FORWARD);
	assert_int_equal(lb->stats.udp_replicated, 1);
	assert_int_equal(lb->stats.udp_stream, 1);
	assert_non_null(e = test_entry(lb, sport));
	assert_int_equal(e->state, CONN_ESTABLISHED);
	assert_int_equal(e->list, LTOC_LIST_UDP_STREAM + 1);
	assert_int_equal(world_deliver(w, 1, T0 + 10, WORLD_AS_REPL), 1);
	assert_non_null(e = test_entry(&w->lb[2], sport));
	assert_int_equal(e->state, CONN_SYN);
	assert_int_equal(e->list, LTOC_LIST_UDP_NEW + 1);
	/* the deferred REFRESH */
	lb_tick(lb, T0 + 10 + 1000, 100);
	assert_int_equal(world_deliver(w, 1, T0 + 1010, WORLD_AS_REPL), 1);
	assert_int_equal(e->state, CONN_ESTABLISHED);
	assert_int_equal(e->list, LTOC_LIST_UDP_STREAM + 1);
	/* a stream outlives udp_timeout_s, not udp_stream_timeout_s */
	lb_tick(lb, T0 + (UDP_S + 5) * 1000, 100);
	assert_non_null(test_entry(lb, sport));
	lb_tick(lb, T0 + (STREAM_S + 5) * 1000, 100);
	assert_null(test_entry(lb, sport));
	world_free(w);
}

/*
 * A holder's REFRESH window for a UDP flow is a third of udp_timeout_s
 * while it is new (its copies elsewhere expire after udp_timeout_s), so
 * a flow sending every 8 s through a cache keeps its backup's copy.
 */
static void
test_udp_refresh_window(void **state)
{
	struct world		*w = test_world_new(3, 1024);
	struct lb_action	 act;
	struct lb_record	 r;
	struct conn_entry	*e;
	uint16_t		 sport = test_find(w, 1, 2);
	uint64_t		 t;
	int			 refreshes = 0;

	(void)state;
	assert_int_equal(test_send(&w->lb[1], sport, 0, T0, &act), LB_FORWARD);
	assert_int_equal(test_send(&w->lb[1], sport, 0, T0 + 2 * REPL_MS,
	    &act), LB_FORWARD);
	assert_int_equal(world_deliver(w, 1, T0 + 2 * REPL_MS, WORLD_AS_REPL),
	    1);
	/* member 0 (cache) takes the flow's datagrams, one every 8 s */
	for (t = T0 + 10000; t < T0 + 10000 + 4 * 8000; t += 8000) {
		assert_int_equal(test_send(&w->lb[0], sport, 0, t, &act),
		    LB_FORWARD);
		assert_int_equal(act.path, LB_PATH_CACHE);
		while (lb_queue_pop(&w->lb[0], &r)) {
			assert_int_equal(r.type, LB_REC_REFRESH);
			assert_int_equal(lb_refresh(&w->lb[2], &r.key, t), 0);
			refreshes++;
		}
		lb_tick(&w->lb[2], t, 100);
	}
	assert_true(refreshes >= 2);
	/* the backup's copy lived on, a stream now (REFRESH: established) */
	assert_non_null(e = test_entry(&w->lb[2], sport));
	assert_int_equal(e->state, CONN_ESTABLISHED);
	world_free(w);
}

/*
 * issue 22: a service's own udp_timeout_s applies at the owner, the
 * backup and the caches; the owner's expiry of a replicated flow sends
 * END, which closes the other copies; a reload's new timeout applies.
 */
static void
test_udp_service_timeout_end(void **state)
{
	struct world		*w = test_world_timeouts(3, 1024, 5, 20);
	struct lb_action	 act;
	struct conn_entry	*e;
	struct pkt_info		 pi;
	uint16_t		 sport = test_find(w, 1, 2);
	uint64_t		 t1 = T0 + 2 * REPL_MS;	/* last packet */
	char			*cause = NULL;
	int			 i;

	(void)state;
	pi = test_udp(sport);
	assert_int_equal(test_send(&w->lb[1], sport, 0, T0, &act), LB_FORWARD);
	assert_int_equal(test_send(&w->lb[1], sport, 0, t1, &act), LB_FORWARD);
	/* the NEW, and a REFRESH: t1 is in another 1 s window (5 s / 3) */
	assert_int_equal(world_deliver(w, 1, t1, WORLD_AS_REPL), 2);
	assert_non_null(test_entry(&w->lb[2], sport));
	assert_non_null(cache_peek(&w->lb[0].cache, &pi.key));
	/* 5 s, not the tables' 30 s: nothing at 4.999 s, the END at 5 s */
	for (i = 0; i < 3; i++)
		lb_tick(&w->lb[i], t1 + 4999, 100);
	assert_non_null(test_entry(&w->lb[1], sport));
	assert_int_equal(w->lb[1].stats.udp_expired_end, 0);
	lb_tick(&w->lb[1], t1 + 5000, 100);
	assert_null(test_entry(&w->lb[1], sport));
	assert_int_equal(w->lb[1].stats.udp_expired_end, 1);
	assert_int_equal(w->lb[1].stats.end_queued, 1);
	assert_int_equal(world_deliver(w, 1, t1 + 5000, WORLD_AS_REPL), 1);
	assert_non_null(e = test_entry(&w->lb[2], sport));
	assert_int_equal(e->state, CONN_CLOSING);
	assert_non_null(e = cache_peek(&w->lb[0].cache, &pi.key));
	assert_int_equal(e->state, CONN_CLOSING);
	/* closing copies go after fin_timeout_s */
	for (i = 0; i < 3; i += 2)
		lb_tick(&w->lb[i], t1 + 5000 + WORLD_FIN_S * 1000, 100);
	assert_null(test_entry(&w->lb[2], sport));
	assert_null(cache_peek(&w->lb[0].cache, &pi.key));

	/* A reload to 40 s applies to the flows in the table at once. */
	w->conf->services[SVC_UDP].udp_timeout_s = 40;
	assert_int_equal(lb_reload(&w->lb[1], w->conf, T0, NULL, &cause), 0);
	t1 = T0 + 100 * 1000;
	assert_int_equal(test_send(&w->lb[1], sport, 0, t1, &act), LB_FORWARD);
	lb_tick(&w->lb[1], t1 + 39999, 100);
	assert_non_null(test_entry(&w->lb[1], sport));
	lb_tick(&w->lb[1], t1 + 40000, 100);
	assert_null(test_entry(&w->lb[1], sport));
	/* never replicated: no END */
	assert_int_equal(w->lb[1].stats.udp_expired_end, 1);
	assert_int_equal(w->lb[1].stats.udp_unreplicated, 1);
	world_free(w);
}

/* TCP and UDP on one tuple: two services, two entries, one score. */
static void
test_udp_tcp_same_tuple(void **state)
{
	struct world		*w = test_world_new(3, 1024);
	struct lb		*lb = &w->lb[1];
	struct lb_action	 act;
	struct pkt_info		 tcp, udp;
	struct conn_entry	*et, *eu;
	int			 ot, bt, ou, bu;
	uint16_t		 sport = test_find(w, 1, 2);

	(void)state;
	tcp = world_pkt(10, 80, sport, PKT_TH_SYN);
	tcp.seq = 77;
	udp = test_udp(sport);
	lb_rank(lb, &tcp.key, &ot, &bt);
	lb_rank(lb, &udp.key, &ou, &bu);
	assert_int_equal(ot, ou);
	assert_int_equal(bt, bu);
	assert_int_equal(lb_service_find(lb, &tcp.key), SVC_TCP);
	assert_int_equal(lb_service_find(lb, &udp.key), SVC_UDP);
	assert_int_equal(lb_decide(lb, &tcp, 0, T0, &act), LB_FORWARD);
	assert_int_equal(act.service, SVC_TCP);
	assert_int_equal(lb_decide(lb, &udp, 0, T0, &act), LB_FORWARD);
	assert_int_equal(act.service, SVC_UDP);
	assert_int_equal(ltoc_count(&lb->ltoc), 2);
	assert_non_null(et = ltoc_lookup(&lb->ltoc, &tcp.key));
	assert_non_null(eu = ltoc_lookup(&lb->ltoc, &udp.key));
	assert_ptr_not_equal(et, eu);
	assert_int_equal(et->service, SVC_TCP);
	assert_int_equal(eu->service, SVC_UDP);
	/* only the TCP one sent its NEW */
	assert_int_equal(lb->stats.new_queued, 1);
	/* a UDP packet to a VIP without a UDP service: no service */
	udp = world_pkt(11, 80, sport, 0);
	udp.key.len |= FLOW_KEY_UDP;
	udp.proto = 17;
	assert_int_equal(lb_decide(lb, &udp, 0, T0, &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_NO_SERVICE);
	world_free(w);
}

/*
 * Not the owner, no entry: handed off; by handoff: handed on once to
 * self's owner (relayed, where TCP is misrouted); relayed: misrouted.
 */
static void
test_udp_handoff(void **state)
{
	struct world		*w = test_world_new(3, 1024);
	struct lb_action	 act;
	uint16_t		 sport = test_find(w, 1, 2);

	(void)state;
	assert_int_equal(test_send(&w->lb[0], sport, 0, T0, &act),
	    LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 1);
	assert_int_equal(act.flags, 0);
	assert_int_equal(test_send(&w->lb[0], sport, LB_BY_HANDOFF, T0, &act),
	    LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 1);
	assert_int_equal(act.flags, LB_ACT_F_RELAY);
	assert_int_equal(w->lb[0].stats.udp_relayed, 1);
	assert_int_equal(test_send(&w->lb[0], sport, LB_BY_RELAY, T0, &act),
	    LB_DROP);
	assert_int_equal(act.drop, LB_DROP_MISROUTED);
	assert_int_equal(w->lb[0].stats.udp_relayed, 1);
	/* the backup has no entry either: to the owner */
	assert_int_equal(test_send(&w->lb[2], sport, 0, T0, &act),
	    LB_HANDOFF);
	assert_int_equal(test_send(&w->lb[1], sport, 1, T0, &act),
	    LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_OWNER);
	world_free(w);
}

/*
 * The owner dies: a replicated flow keeps its server at the backup, now
 * owner (claim 18); its packets no longer go anywhere else. The backup
 * will not send the flow's NEW again: it was learnt.
 */
static void
test_udp_owner_lost(void **state)
{
	struct world		*w = test_world_new(3, 1024);
	struct lb_action	 act;
	struct conn_entry	*e;
	struct member_id	 ids[2];
	uint16_t		 slots[2];
	uint16_t		 sport = test_find(w, 1, 2), server;
	int			 sent = 0;

	(void)state;
	assert_int_equal(test_send(&w->lb[1], sport, 0, T0, &act), LB_FORWARD);
	server = act.server;
	assert_int_equal(test_send(&w->lb[1], sport, 0, T0 + 2 * REPL_MS,
	    &act), LB_FORWARD);
	assert_int_equal(world_deliver(w, 1, T0 + 2 * REPL_MS,
	    WORLD_AS_REPL), 1);
	/* member 1 is gone: members 0 and 2 remain */
	ids[0] = w->ids[0];
	ids[1] = w->ids[2];
	slots[0] = w->slots[0];
	slots[1] = w->slots[2];
	assert_true(lb_rebalance(&w->lb[2], ids, slots, 2, 1, test_sent,
	    &sent) >= 0);
	assert_non_null(e = test_entry(&w->lb[2], sport));
	assert_int_equal(e->role, CONN_ROLE_OWNER);
	assert_int_equal(test_send(&w->lb[2], sport, 0, T0 + 3 * REPL_MS,
	    &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_OWNER);
	assert_int_equal(act.server, server);
	assert_int_equal(test_send(&w->lb[2], sport, 0, T0 + 5 * REPL_MS,
	    &act), LB_FORWARD);
	assert_int_equal(act.server, server);
	assert_int_equal(w->lb[2].stats.udp_replicated, 0);
	assert_int_equal(w->lb[2].stats.udp_new_flow, 0);
	world_free(w);
}

/* What a plan or rebalance sent: for each send, the entry and where. */
struct test_xfer {
	struct conn_entry	e[8];
	uint16_t		dst[8];
	int			n;
};

static void
test_xfer_cb(void *arg, const struct conn_entry *e, uint16_t dst)
{
	struct test_xfer	*x = arg;

	assert_true(x->n < 8);
	x->e[x->n] = *e;
	x->dst[x->n++] = dst;
}

/* Deliver x's sends to the lbs (member index: slot - WORLD_SLOT0). */
static void
test_xfer_deliver(struct world *w, struct test_xfer *x, uint64_t now)
{
	const struct conn_entry	*e;
	int			 i;

	for (i = 0; i < x->n; i++) {
		e = &x->e[i];
		assert_int_equal(lb_learn_conn(&w->lb[x->dst[i] - WORLD_SLOT0],
		    &e->key, e->service, e->server, e->owner, e->backup,
		    (enum conn_state)e->state, 0, now), 0);
	}
	x->n = 0;
}

/*
 * issue 22: a member joins and takes over a flow its owner has not
 * replicated yet: the owner's rebalance sends it to the joiner (the new
 * owner), which keeps its server; a flow whose holders do not change is
 * sent nowhere (no control traffic for one-shot flows on every
 * membership change).
 */
static void
test_udp_join_unreplicated(void **state)
{
	struct world		*w = test_world_new(4, 1024);
	struct lb_action	 act;
	struct conn_entry	*e;
	struct test_xfer	 x;
	struct pkt_info		 pi;
	uint16_t		 sport, still = 0, server;
	uint32_t		 p;
	int			 o, b, o4, b4, i;

	(void)state;
	memset(&x, 0, sizeof(x));
	/* members 0..2 only; member 3 joins later */
	for (i = 0; i < 3; i++)
		assert_int_equal(lb_set_members(&w->lb[i], w->ids, w->slots, 3,
		    (size_t)i), 0);
	sport = 0;
	for (p = 1024; p < 65536 && (sport == 0 || still == 0); p++) {
		pi = test_udp((uint16_t)p);
		lb_rank(&w->lb[0], &pi.key, &o, &b);
		lb_rank(&w->lb[3], &pi.key, &o4, &b4);
		if (o != 0)
			continue;
		if (o4 == 3 && sport == 0)
			sport = (uint16_t)p;
		else if (o4 == 0 && b4 == b && still == 0)
			still = (uint16_t)p;
	}
	assert_true(sport != 0 && still != 0);
	assert_int_equal(test_send(&w->lb[0], sport, 0, T0, &act), LB_FORWARD);
	server = act.server;
	assert_int_equal(test_send(&w->lb[0], still, 0, T0, &act), LB_FORWARD);
	assert_int_equal(lb_queue_len(&w->lb[0]), 0);
	assert_int_equal(lb_rebalance(&w->lb[0], w->ids, w->slots, 4, 0,
	    test_xfer_cb, &x), 1);
	assert_int_equal(x.dst[0], w->slots[3]);
	assert_int_equal(x.e[0].owner, w->slots[3]);
	assert_int_equal(x.e[0].backup, w->slots[0]);
	test_xfer_deliver(w, &x, T0 + 100);
	assert_non_null(e = test_entry(&w->lb[3], sport));
	assert_int_equal(e->role, CONN_ROLE_OWNER);
	assert_int_equal(test_send(&w->lb[3], sport, 0, T0 + 200, &act),
	    LB_FORWARD);
	assert_int_equal(act.server, server);
	assert_int_equal(w->lb[3].stats.udp_new_flow, 0);
	world_free(w);
}

/* udp_replicate_ms 0: the second packet replicates, however soon. */
static void
test_udp_replicate_zero(void **state)
{
	struct world		*w;
	struct ilbd_conf	*c = world_conf_new(1024, 1024);
	struct service_conf	*s;
	struct lb_action	 act;
	uint16_t		 sport;

	(void)state;
	s = world_web(c, "dns", 10, SCHED_WLC, 2);
	s->protocol = PROTO_UDP;
	c->tables.udp_timeout_s = UDP_S;
	c->tables.udp_stream_timeout_s = STREAM_S;
	c->tables.udp_replicate_ms = 0;
	world_init(&world, c, 2);
	assert_int_equal(world_start(&world, 2, 42, 0), 0);
	w = &world;
	sport = test_find(w, 0, 1);
	assert_int_equal(test_send(&w->lb[0], sport, 0, T0, &act), LB_FORWARD);
	assert_int_equal(lb_queue_len(&w->lb[0]), 0);
	assert_int_equal(test_send(&w->lb[0], sport, 0, T0 + 1, &act),
	    LB_FORWARD);
	assert_int_equal(lb_queue_len(&w->lb[0]), 1);
	assert_int_equal(w->lb[0].stats.udp_replicated, 1);
	world_free(w);
}

/*
 * An ICMP "fragmentation needed" quoting a server's reply of a UDP flow
 * (its key is the flow's, the parser sets the UDP bit) goes to the flow's
 * server, as for TCP; the owner's entry stays untouched (unreplicated).
 */
static void
test_udp_icmp_ptb(void **state)
{
	struct world		*w = test_world_new(3, 1024);
	struct lb		*lb = &w->lb[1];
	struct lb_action	 act;
	struct pkt_info		 pi;
	uint16_t		 sport = test_find(w, 1, 2), server;

	(void)state;
	assert_int_equal(test_send(lb, sport, 0, T0, &act), LB_FORWARD);
	server = act.server;
	pi = test_udp(sport);
	pi.proto = 1;
	pi.flags |= PKT_F_ICMP_ERR;
	assert_int_equal(lb_decide(lb, &pi, 0, T0 + 3000, &act), LB_FORWARD);
	assert_int_equal(act.server, server);
	assert_int_equal(lb->stats.icmp_ptb, 1);
	assert_int_equal(lb_queue_len(lb), 0);
	/* at another member, no entry: to the owner */
	assert_int_equal(lb_decide(&w->lb[0], &pi, 0, T0 + 3000, &act),
	    LB_HANDOFF);
	world_free(w);
}

/*
 * A reload that turns "dns" into a TCP service removes it and adds it
 * again (changed): UDP datagrams find no service any more, its flows
 * drain on their entries.
 */
static void
test_udp_reload_protocol(void **state)
{
	struct world			*w = test_world_new(1, 1024);
	struct lb			*lb = &w->lb[0];
	struct ilbd_conf		*c = world_conf_new(1024, 1024);
	struct lb_reload_summary	 sum;
	struct lb_action		 act;
	char				*cause = NULL;
	uint16_t			 sport = 5000, server;

	(void)state;
	assert_int_equal(test_send(lb, sport, 0, T0, &act), LB_FORWARD);
	server = act.server;
	world_web(c, "web", 10, SCHED_WLC, 3);
	world_web(c, "dns", 11, SCHED_WLC, 3);	/* TCP now, elsewhere */
	c->tables = w->conf->tables;
	assert_int_equal(lb_reload(lb, c, T0 + 1000, &sum, &cause), 0);
	assert_null(cause);
	assert_int_equal(sum.services_changed, 1);
	/* the flow drains on its entry; a new one finds no service */
	assert_int_equal(test_send(lb, sport, 0, T0 + 2000, &act), LB_FORWARD);
	assert_int_equal(act.server, server);
	assert_int_equal(test_send(lb, sport + 1, 0, T0 + 2000, &act),
	    LB_DROP);
	assert_int_equal(act.drop, LB_DROP_NO_SERVICE);
	world_conf_free(c);
	world_free(w);
}

/* lb_pull_cb: count the questions. */
static int
test_pull(void *arg, const struct conn_entry *e)
{
	(void)e;
	(*(int *)arg)++;
	return (0);
}

/*
 * issue 22: a holder whose copy of a stream is still new (it missed the
 * REFRESH that said stream: here, never sent) asks the members once when
 * udp_timeout_s runs out instead of dropping a live flow; an answer (a
 * REFRESH from an established copy) makes it a stream, which outlives
 * udp_timeout_s; with none it expires one udp_timeout_s later, asking
 * no more.
 */
static void
test_udp_pull_new_copy(void **state)
{
	struct world		*w = test_world_new(3, 1024);
	struct lb		*lb = &w->lb[2];
	struct lb_action	 act;
	struct conn_entry	*e;
	struct pkt_info		 pi;
	uint16_t		 sport = test_find(w, 1, 2);
	uint16_t		 other = test_find(w, 0, 2);
	uint64_t		 t;
	int			 i, pulls = 0;

	(void)state;
	lb_set_pull_cb(lb, test_pull, &pulls);
	/* a stream at its owner (member 1), another flow at member 0 */
	for (i = 0; i <= UDP_STREAM_PKTS; i++) {
		assert_int_equal(test_send(&w->lb[1], sport, 0,
		    T0 + (uint64_t)i, &act), LB_FORWARD);
		assert_int_equal(test_send(&w->lb[0], other, 0,
		    T0 + (uint64_t)i, &act), LB_FORWARD);
	}
	assert_int_equal(world_deliver(w, 1, T0 + 10, WORLD_AS_REPL), 1);
	assert_int_equal(world_deliver(w, 0, T0 + 10, WORLD_AS_REPL), 1);
	assert_non_null(e = test_entry(lb, sport));
	assert_int_equal(e->role, CONN_ROLE_BACKUP);
	assert_int_equal(e->state, CONN_SYN);
	assert_non_null(test_entry(lb, other));
	/* udp_timeout_s runs out at the backup: kept, each asked once */
	t = T0 + (UDP_S + 1) * 1000;
	lb_tick(lb, t, 100);
	assert_int_equal(pulls, 2);
	assert_non_null(e = test_entry(lb, sport));
	assert_int_equal(e->state, CONN_SYN);
	assert_non_null(test_entry(lb, other));
	/* the owner's answer for the stream */
	pi = test_udp(sport);
	assert_int_equal(lb_refresh(lb, &pi.key, t), 0);
	assert_int_equal(e->state, CONN_ESTABLISHED);
	t += (UDP_S + 1) * 1000;
	lb_tick(lb, t, 100);
	assert_non_null(test_entry(lb, sport));
	assert_null(test_entry(lb, other));
	assert_int_equal(pulls, 2);
	/*
	 * The answer was activity: at the stream's timeout it asks again
	 * and is kept once more; with no answer, the next timeout ends it.
	 */
	t += (STREAM_S + 1) * 1000;
	lb_tick(lb, t, 100);
	assert_non_null(test_entry(lb, sport));
	assert_int_equal(pulls, 3);
	assert_false(lb_udp_live(lb, test_entry(lb, sport), t));
	lb_tick(lb, t + (STREAM_S + 1) * 1000, 100);
	assert_null(test_entry(lb, sport));
	assert_int_equal(pulls, 3);
	world_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_one_packet),
		cmocka_unit_test(test_udp_replicated_when_seen_again),
		cmocka_unit_test(test_udp_stream),
		cmocka_unit_test(test_udp_tcp_same_tuple),
		cmocka_unit_test(test_udp_handoff),
		cmocka_unit_test(test_udp_owner_lost),
		cmocka_unit_test(test_udp_join_unreplicated),
		cmocka_unit_test(test_udp_replicate_zero),
		cmocka_unit_test(test_udp_reload_protocol),
		cmocka_unit_test(test_udp_icmp_ptb),
		cmocka_unit_test(test_udp_refresh_window),
		cmocka_unit_test(test_udp_service_timeout_end),
		cmocka_unit_test(test_udp_pull_new_copy),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
