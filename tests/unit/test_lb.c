/* test_lb.c: unit tests for the per-packet decision (claims 13-15). */

#include <sys/socket.h>

#include <errno.h>
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

enum { SVC_WLC = 0, SVC_HASH = 1, TEST_NSVC };

static struct world	world;

/*
 * n members 10.0.0.1..n, each with its lb; VIP 198.51.100.10:80 (wlc) and
 * .11:80 (hash), servers 192.0.2.21..23.
 */
static struct world *
test_world_new(size_t n, uint32_t ltoc_size, uint32_t cache_size)
{
	struct ilbd_conf	*c = world_conf_new(ltoc_size, cache_size);

	world_web(c, "web", 10, SCHED_WLC, 3);
	world_web(c, "hashed", 11, SCHED_HASH, 3);
	world_init(&world, c, n);
	assert_int_equal(world_start(&world, n, 42, 0), 0);
	return (&world);
}

/* A TCP packet 203.0.113.7:sport -> 198.51.100.(10 + svc):dport. */
static struct pkt_info
test_pkt(unsigned int svc, uint16_t dport, uint16_t sport, uint8_t flags)
{
	static uint32_t	seq = 1000;
	struct pkt_info	pi = world_pkt((uint8_t)(10 + svc), dport, sport,
			    flags);

	pi.seq = seq++;			/* a new SYN, a new tag */
	return (pi);
}

/* A client port whose owner and backup in lb's view are indices (-1: any). */
static uint16_t
test_find_lb(const struct lb *lb, unsigned int svc, int owner, int backup)
{
	struct pkt_info	pi;
	uint32_t	sport;
	int		o, b;

	for (sport = 1024; sport < 65536; sport++) {
		pi = test_pkt(svc, 80, (uint16_t)sport, PKT_TH_SYN);
		lb_rank(lb, &pi.key, &o, &b);
		if (o == owner && (backup == -1 || b == backup))
			return ((uint16_t)sport);
	}
	fail_msg("no tuple with owner %d backup %d", owner, backup);
	return (0);
}

/* The same in the view of the whole cluster (member 0's). */
static uint16_t
test_find(struct world *w, unsigned int svc, int owner, int backup)
{
	return (test_find_lb(&w->lb[0], svc, owner, backup));
}

static int
test_send(struct lb *lb, unsigned int svc, uint16_t sport, uint8_t flags,
    int by_handoff, uint64_t now, struct lb_action *act)
{
	struct pkt_info	pi = test_pkt(svc, 80, sport, flags);

	return (lb_decide(lb, &pi, by_handoff, now, act));
}

/* The IPv4 header checksum of the 20-byte header at p. */
static void
test_csum4(uint8_t *p)
{
	uint32_t	sum = 0;
	int		i;

	p[10] = p[11] = 0;
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	p[10] = (uint8_t)(~sum >> 8);
	p[11] = (uint8_t)~sum;
}

static struct conn_entry *
test_entry(struct lb *lb, unsigned int svc, uint16_t sport)
{
	struct pkt_info	pi = test_pkt(svc, 80, sport, 0);

	return (ltoc_lookup(&lb->ltoc, &pi.key));
}

static uint32_t
test_active(struct lb *lb, unsigned int svc, unsigned int server)
{
	return (lb->svc[svc].sched.srv[server].active);
}

static void
test_syn_at_owner(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb		*lb = &w->lb[1];
	struct lb_action	 act;
	struct lb_record	 r;
	struct conn_entry	*e;
	uint16_t		 sport = test_find(w, SVC_WLC, 1, 2);

	(void)state;
	assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_SYN, 0, T0,
	    &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_OWNER);
	assert_int_equal(act.service, SVC_WLC);
	/* lb keeps its own copy of the configuration */
	assert_string_equal(act.svc->name, w->conf->services[SVC_WLC].name);
	assert_memory_equal(&act.srv->addr,
	    &w->conf->services[SVC_WLC].servers[act.server].addr,
	    sizeof(act.srv->addr));
	e = test_entry(lb, SVC_WLC, sport);
	assert_non_null(e);
	assert_int_equal(e->role, CONN_ROLE_OWNER);
	assert_int_equal(e->state, CONN_SYN);
	assert_int_equal(e->server, act.server);
	assert_int_equal(e->owner, WORLD_SLOT0 + 1);
	assert_int_equal(e->backup, WORLD_SLOT0 + 2);
	assert_int_equal(test_active(lb, SVC_WLC, act.server), 1);
	assert_int_equal(lb_queue_len(lb), 1);
	assert_true(lb_queue_pop(lb, &r));
	assert_int_equal(r.type, LB_REC_NEW);
	assert_int_equal(r.service, SVC_WLC);
	assert_int_equal(r.server, act.server);
	assert_int_equal(r.owner, WORLD_SLOT0 + 1);
	assert_int_equal(r.backup, WORLD_SLOT0 + 2);
	assert_memory_equal(&r.key, &e->key, sizeof(r.key));
	assert_false(lb_queue_pop(lb, &r));
	assert_int_equal(lb->stats.syn, 1);
	assert_int_equal(lb->stats.new_conn, 1);
	assert_int_equal(lb->stats.forward_owner, 1);
	world_free(w);
}

static void
test_retransmitted_syn(void **state)
{
	struct world	*w = test_world_new(2, 1024, 1024);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 a1, a2;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, -1);
	struct pkt_info		 syn = test_pkt(SVC_WLC, 80, sport, PKT_TH_SYN);
	int			 i;

	(void)state;
	assert_int_equal(lb_decide(lb, &syn, 0, T0, &a1), LB_FORWARD);
	/*
	 * wlc would pick another server for a new connection now; a
	 * retransmission repeats the SYN's sequence number (its tag)
	 */
	for (i = 0; i < 3; i++) {
		assert_int_equal(lb_decide(lb, &syn, i == 2,
		    T0 + 1000 * (uint64_t)i, &a2), LB_FORWARD);
		assert_int_equal(a2.server, a1.server);
	}
	assert_int_equal(ltoc_count(&lb->ltoc), 1);
	assert_int_equal(lb_queue_len(lb), 1);
	assert_int_equal(lb->stats.retransmitted_syn, 3);
	assert_int_equal(lb->stats.new_queued, 1);
	assert_int_equal(test_active(lb, SVC_WLC, a1.server), 1);
	world_free(w);
}

static void
test_syn_at_non_owner(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb_action	 act;
	uint16_t		 sport = test_find(w, SVC_WLC, 2, 0);

	(void)state;
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_SYN, 0,
	    T0, &act), LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 2);
	/* the backup hands a SYN on too: only the owner picks servers */
	assert_int_equal(test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_SYN, 0,
	    T0, &act), LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 2);
	assert_int_equal(ltoc_count(&w->lb[1].ltoc), 0);
	assert_int_equal(lb_queue_len(&w->lb[1]), 0);
	assert_int_equal(w->lb[1].stats.handoff_out, 1);
	/* the owner takes the handed-off packet */
	assert_int_equal(test_send(&w->lb[2], SVC_WLC, sport, PKT_TH_SYN, 1,
	    T0, &act), LB_FORWARD);
	assert_int_equal(w->lb[2].stats.handoff_in, 1);
	assert_int_equal(w->lb[2].stats.new_conn, 1);
	world_free(w);
}

static void
test_handed_off_syn_at_non_owner(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb_action	 act;
	uint16_t		 sport = test_find(w, SVC_WLC, 2, -1);

	(void)state;
	assert_int_equal(test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_SYN, 1,
	    T0, &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_MISROUTED);
	assert_int_equal(w->lb[0].stats.misrouted, 1);
	assert_int_equal(w->lb[0].stats.handoff_out, 0);
	assert_int_equal(w->lb[0].stats.drop, 1);
	assert_string_equal(lb_drop_name(act.drop), "misrouted");
	world_free(w);
}

static void
test_non_syn_at_owner(void **state)
{
	struct world	*w = test_world_new(2, 1024, 1024);
	struct lb		*lb = &w->lb[1];
	struct lb_action	 a1, a2;
	uint16_t		 sport = test_find(w, SVC_WLC, 1, 0);

	(void)state;
	test_send(lb, SVC_WLC, sport, PKT_TH_SYN, 0, T0, &a1);
	assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0 + 10, &a2), LB_FORWARD);
	assert_int_equal(a2.path, LB_PATH_OWNER);
	assert_int_equal(a2.server, a1.server);
	assert_int_equal(test_entry(lb, SVC_WLC, sport)->state,
	    CONN_ESTABLISHED);
	assert_int_equal(test_send(lb, SVC_WLC, sport,
	    PKT_TH_ACK | PKT_TH_PSH, 1, T0 + 20, &a2), LB_FORWARD);
	assert_int_equal(a2.server, a1.server);
	assert_int_equal(lb->stats.established, 1);
	assert_int_equal(lb->stats.forward_owner, 3);
	/* the NEW; the handshake's REFRESH waits for lb_tick() */
	assert_int_equal(lb_queue_len(lb), 1);
	assert_int_equal(lb->stats.est_deferred, 1);
	world_free(w);
}

static void
test_non_syn_at_backup(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb_action	 a1, a2;
	struct conn_entry	*e;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);

	(void)state;
	test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_SYN, 0, T0, &a1);
	/* before it learns the entry, the backup hands off */
	assert_int_equal(test_send(&w->lb[2], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0, &a2), LB_HANDOFF);
	assert_int_equal(a2.member, WORLD_SLOT0 + 0);
	assert_int_equal(world_broadcast(w, 0, T0), 1);
	e = test_entry(&w->lb[2], SVC_WLC, sport);
	assert_non_null(e);
	assert_int_equal(e->role, CONN_ROLE_BACKUP);
	assert_int_equal(e->server, a1.server);
	assert_int_equal(w->lb[2].stats.learn_backup, 1);
	assert_null(test_entry(&w->lb[1], SVC_WLC, sport));
	assert_int_equal(w->lb[1].stats.learn_cache, 1);
	/* a backup entry does not count on the backup's scheduler */
	assert_int_equal(test_active(&w->lb[2], SVC_WLC, a1.server), 0);
	assert_int_equal(test_send(&w->lb[2], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0 + 10, &a2), LB_FORWARD);
	assert_int_equal(a2.path, LB_PATH_BACKUP);
	assert_int_equal(a2.server, a1.server);
	assert_int_equal(w->lb[2].stats.forward_backup, 1);
	world_free(w);
}

static void
test_non_syn_other_member_cache_hit(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb_action	 a1, a2;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);

	(void)state;
	test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_SYN, 0, T0, &a1);
	assert_true(world_broadcast(w, 0, T0) >= 0);
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0 + 10, &a2), LB_FORWARD);
	assert_int_equal(a2.path, LB_PATH_CACHE);
	assert_int_equal(a2.server, a1.server);
	/* by handoff too: a cache hit forwards */
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_ACK, 1,
	    T0 + 20, &a2), LB_FORWARD);
	assert_int_equal(w->lb[1].stats.forward_cache, 2);
	assert_int_equal(ltoc_count(&w->lb[1].ltoc), 0);
	/* the handshake completed at this cache holder: REFRESH deferred */
	assert_int_equal(lb_queue_len(&w->lb[1]), 0);
	assert_int_equal(w->lb[1].stats.est_deferred, 1);
	world_free(w);
}

static void
test_non_syn_other_member_cache_miss(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb_action	 act;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);

	(void)state;
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0, &act), LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 0);
	assert_int_equal(w->lb[1].stats.handoff_out, 1);
	/* never handed on twice */
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_ACK, 1,
	    T0, &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_MISROUTED);
	world_free(w);
}

static void
test_cache_disabled_claim15(void **state)
{
	struct world	*w = test_world_new(3, 1024, 0);
	struct lb_action	 act;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);

	(void)state;
	assert_false(cache_enabled(&w->lb[1].cache));
	test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_SYN, 0, T0, &act);
	assert_true(world_broadcast(w, 0, T0) >= 0);
	assert_int_equal(w->lb[1].stats.learn_cache, 0);
	assert_int_equal(w->lb[2].stats.learn_backup, 1);
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0 + 10, &act), LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 0);
	assert_int_equal(w->lb[1].stats.forward_cache, 0);
	world_free(w);
}

/* FIN or RST at the owner: END once, closing, later packets forwarded. */
static void
test_end_at_owner(uint8_t flag)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb		*lb = &w->lb[2];
	struct lb_action	 a1, a2;
	struct lb_record	 r;
	struct conn_entry	*e;
	uint16_t		 sport = test_find(w, SVC_WLC, 2, 0);

	test_send(lb, SVC_WLC, sport, PKT_TH_SYN, 0, T0, &a1);
	test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 0, T0 + 1, &a2);
	assert_true(world_broadcast(w, 2, T0) >= 0);
	assert_int_equal(test_send(lb, SVC_WLC, sport, flag | PKT_TH_ACK, 0,
	    T0 + 2, &a2), LB_FORWARD);
	assert_int_equal(a2.server, a1.server);
	e = test_entry(lb, SVC_WLC, sport);
	assert_int_equal(e->state, CONN_CLOSING);
	assert_true(lb_queue_pop(lb, &r));
	assert_int_equal(r.type, LB_REC_END);
	assert_int_equal(r.server, a1.server);
	assert_int_equal(r.owner, WORLD_SLOT0 + 2);
	assert_int_equal(r.backup, WORLD_SLOT0 + 0);
	assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 0, T0 + 3,
	    &a2), LB_FORWARD);
	assert_int_equal(test_send(lb, SVC_WLC, sport, flag | PKT_TH_ACK, 0,
	    T0 + 4, &a2), LB_FORWARD);
	assert_int_equal(a2.server, a1.server);
	assert_int_equal(lb_queue_len(lb), 0);	/* one END only */
	assert_int_equal(lb->stats.end_queued, 1);
	assert_int_equal(e->state, CONN_CLOSING);
	/* the END reaches the backup and the caches */
	assert_int_equal(lb_learn_end(&w->lb[0], &r, T0), 0);
	assert_int_equal(lb_learn_end(&w->lb[1], &r, T0), 0);
	assert_int_equal(test_entry(&w->lb[0], SVC_WLC, sport)->state,
	    CONN_CLOSING);
	assert_int_equal(cache_peek(&w->lb[1].cache,
	    &test_entry(lb, SVC_WLC, sport)->key)->state, CONN_CLOSING);
	world_free(w);
}

static void
test_fin_queues_end(void **state)
{
	(void)state;
	test_end_at_owner(PKT_TH_FIN);
}

static void
test_rst_queues_end(void **state)
{
	struct world	*w;
	struct lb_action	 act;
	struct lb_record	 r;
	uint16_t		 sport;

	(void)state;
	test_end_at_owner(PKT_TH_RST);
	/* an RST seen through the cache queues END there */
	w = test_world_new(3, 1024, 1024);
	sport = test_find(w, SVC_WLC, 0, 2);
	test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_SYN, 0, T0, &act);
	assert_true(world_broadcast(w, 0, T0) >= 0);
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_RST, 0,
	    T0 + 1, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_CACHE);
	assert_true(lb_queue_pop(&w->lb[1], &r));
	assert_int_equal(r.type, LB_REC_END);
	assert_int_equal(r.owner, WORLD_SLOT0 + 0);
	assert_int_equal(w->lb[1].stats.end_queued, 1);
	/* the next one meets a closing entry: the owner decides, no END */
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_RST, 0,
	    T0 + 2, &act), LB_HANDOFF);
	assert_int_equal(w->lb[1].stats.closing_to_owner, 1);
	assert_int_equal(lb_queue_len(&w->lb[1]), 0);
	world_free(w);
}

/*
 * The client reuses the tuple of a closed connection. The owner takes the
 * new SYN, but its NEW has not reached the cache holder and the backup,
 * which still hold the old connection's closing entry: their packets go
 * to the owner, which knows the new server. A packet that came by handoff
 * is not handed on; once the NEW is learnt they forward it themselves.
 */
static void
test_closing_entry_to_owner(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb_action	 act;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);
	unsigned int		 srv;

	(void)state;
	assert_int_equal(test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_SYN, 0,
	    T0, &act), LB_FORWARD);
	assert_true(world_broadcast(w, 0, T0) >= 0);
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport,
	    PKT_TH_FIN | PKT_TH_ACK, 0, T0 + 1, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_CACHE);
	assert_true(world_broadcast(w, 1, T0 + 1) >= 0);	/* END */
	assert_int_equal(test_entry(&w->lb[2], SVC_WLC, sport)->state,
	    CONN_CLOSING);
	/* the new connection's SYN reaches its owner; no NEW delivered */
	assert_int_equal(test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_SYN, 0,
	    T0 + 2, &act), LB_FORWARD);
	assert_int_equal(w->lb[0].stats.port_reuse, 1);
	srv = act.server;
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0 + 3, &act), LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 0);
	assert_int_equal(w->lb[1].stats.closing_to_owner, 1);
	assert_int_equal(w->lb[1].stats.forward_cache, 1);
	assert_int_equal(test_send(&w->lb[2], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0 + 3, &act), LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 0);
	assert_int_equal(w->lb[2].stats.closing_to_owner, 1);
	assert_int_equal(w->lb[2].stats.forward_backup, 0);
	/* the owner forwards them by its new entry */
	assert_int_equal(test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_ACK, 1,
	    T0 + 3, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_OWNER);
	assert_int_equal(act.server, srv);
	/* by handoff (views disagree): from the entry, never handed on */
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_ACK, 1,
	    T0 + 3, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_CACHE);
	assert_int_equal(w->lb[1].stats.closing_to_owner, 1);
	/* the NEW arrives: the holders forward to the new server */
	assert_int_equal(world_broadcast(w, 0, T0 + 4), 1);
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0 + 5, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_CACHE);
	assert_int_equal(act.server, srv);
	assert_int_equal(test_send(&w->lb[2], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0 + 5, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_BACKUP);
	assert_int_equal(act.server, srv);
	assert_int_equal(w->lb[1].stats.closing_to_owner, 1);
	assert_int_equal(w->lb[2].stats.closing_to_owner, 1);
	world_free(w);
}

/*
 * The client reuses a tuple at once: its FIN and then its new SYN reach a
 * cache holder, which queues the old connection's END and hands the SYN
 * to the owner. The END must leave first (lb_syn_after_close()), and the
 * owner, whose entry is still established, must read the END before it
 * decides the SYN (lb_syn_on_live()): then the SYN opens a new connection
 * (port_reuse, a NEW) instead of passing for a retransmission whose
 * entries the late END would then mark closing.
 */
static void
test_late_end(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb_action	 act;
	struct pkt_info		 syn, ack;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);

	(void)state;
	syn = test_pkt(SVC_WLC, 80, sport, PKT_TH_SYN);
	ack = test_pkt(SVC_WLC, 80, sport, PKT_TH_ACK);
	/* no entry yet: nothing to wait for, anywhere */
	assert_int_equal(lb_syn_on_live(&w->lb[0], &syn), 0);
	assert_int_equal(test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_SYN, 0,
	    T0, &act), LB_FORWARD);
	/* NEW: lb1 caches it */
	assert_true(world_broadcast(w, 0, T0) >= 0);
	assert_int_equal(test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0 + 1, &act), LB_FORWARD);
	assert_int_equal(test_entry(&w->lb[0], SVC_WLC, sport)->state,
	    CONN_ESTABLISHED);
	/* the client's FIN at lb1: END queued there, not sent yet */
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport,
	    PKT_TH_FIN | PKT_TH_ACK, 0, T0 + 2, &act), LB_FORWARD);
	assert_int_equal(lb_queue_len(&w->lb[1]), 1);
	/* then its new SYN there: handed off, the END first */
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_SYN, 0,
	    T0 + 2, &act), LB_HANDOFF);
	assert_int_equal(lb_syn_after_close(&w->lb[1], &syn), 1);
	assert_int_equal(w->lb[1].stats.syn_records_first, 1);
	assert_int_equal(lb_syn_after_close(&w->lb[1], &ack), 0);
	assert_int_equal(lb_syn_after_close(&w->lb[0], &syn), 0); /* owner */
	/* at the owner the SYN finds the entry live: read first */
	assert_int_equal(lb_syn_on_live(&w->lb[0], &syn), 1);
	assert_int_equal(w->lb[0].stats.syn_sync, 1);
	assert_int_equal(lb_syn_on_live(&w->lb[0], &ack), 0);
	assert_int_equal(lb_syn_on_live(&w->lb[1], &syn), 0); /* not owner */
	/* what the read finds: END */
	assert_true(world_broadcast(w, 1, T0 + 2) >= 0);
	assert_int_equal(lb_syn_after_close(&w->lb[1], &syn), 0); /* sent */
	assert_int_equal(lb_syn_on_live(&w->lb[0], &syn), 0);
	assert_int_equal(test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_SYN, 1,
	    T0 + 2, &act), LB_FORWARD);
	assert_int_equal(w->lb[0].stats.port_reuse, 1);
	assert_int_equal(w->lb[0].stats.retransmitted_syn, 0);
	assert_int_equal(test_entry(&w->lb[0], SVC_WLC, sport)->state,
	    CONN_SYN);
	/* its NEW replaces lb1's closing entry: lb1 forwards again */
	assert_int_equal(world_broadcast(w, 0, T0 + 3), 1);
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0 + 3, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_CACHE);
	assert_int_equal(w->lb[1].stats.closing_to_owner, 0);
	world_free(w);
}

/* The state of lb's cache entry for the tuple from sport. */
static int
test_cache_state(struct lb *lb, unsigned int svc, uint16_t sport)
{
	struct pkt_info		 pi = test_pkt(svc, 80, sport, 0);
	struct conn_entry	*e = cache_peek(&lb->cache, &pi.key);

	return (e != NULL ? e->state : -1);
}

/*
 * A client connecting on a reused tuple answers a segment of the old
 * connection (the old server's retransmitted FIN) with a reset, and then
 * retransmits its SYN. The reset closed the new connection's entries;
 * the retransmitted SYN (the same sequence number) opens it again on its
 * server (syn_reopen), and its fresh NEW makes the other holders' copies
 * live again although the server is the same. Another SYN on the closed
 * entry is a new connection (port_reuse).
 */
static void
test_syn_reopen(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb_action	 act;
	struct pkt_info		 syn, rst;
	struct conn_entry	*e;
	unsigned int		 server;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);

	(void)state;
	syn = test_pkt(SVC_WLC, 80, sport, PKT_TH_SYN);
	rst = test_pkt(SVC_WLC, 80, sport, PKT_TH_RST);
	assert_int_equal(lb_decide(&w->lb[0], &syn, 1, T0, &act), LB_FORWARD);
	server = act.server;
	assert_int_equal(world_deliver(w, 0, T0, WORLD_AS_REPL), 1);
	assert_int_equal(test_cache_state(&w->lb[1], SVC_WLC, sport), CONN_SYN);
	/* the client's reset at lb1: closing everywhere */
	assert_int_equal(lb_decide(&w->lb[1], &rst, 0, T0 + 1, &act),
	    LB_FORWARD);
	assert_int_equal(world_deliver(w, 1, T0 + 1, WORLD_AS_REPL), 1);
	assert_int_equal(test_entry(&w->lb[0], SVC_WLC, sport)->state,
	    CONN_CLOSING);
	assert_int_equal(test_entry(&w->lb[2], SVC_WLC, sport)->state,
	    CONN_CLOSING);
	/* the SYN again, handed off: same server, opened again */
	assert_int_equal(lb_decide(&w->lb[0], &syn, 1, T0 + 2, &act),
	    LB_FORWARD);
	assert_int_equal(act.server, server);
	assert_int_equal(w->lb[0].stats.syn_reopen, 1);
	assert_int_equal(w->lb[0].stats.port_reuse, 0);
	assert_int_equal(w->lb[0].stats.retransmitted_syn, 0);
	assert_int_equal(w->lb[0].stats.new_conn, 1);
	assert_int_equal(test_active(&w->lb[0], SVC_WLC, server), 1);
	e = test_entry(&w->lb[0], SVC_WLC, sport);
	assert_int_equal(e->state, CONN_SYN);
	assert_int_equal(lb_queue_len(&w->lb[0]), 1);
	/* without the fresh flag the holders keep their copies closing */
	assert_int_equal(lb_learn_conn(&w->lb[1], &e->key, SVC_WLC, server,
	    e->owner, e->backup, CONN_SYN, 0, T0 + 2), 0);
	assert_int_equal(test_cache_state(&w->lb[1], SVC_WLC, sport),
	    CONN_CLOSING);
	/* with it they are live again, and lb1 forwards from its cache */
	assert_int_equal(world_deliver(w, 0, T0 + 2, WORLD_AS_REPL), 1);
	assert_int_equal(test_cache_state(&w->lb[1], SVC_WLC, sport), CONN_SYN);
	assert_int_equal(test_entry(&w->lb[2], SVC_WLC, sport)->state,
	    CONN_SYN);
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0 + 3, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_CACHE);
	assert_int_equal(act.server, server);
	/* a late copy of that NEW leaves a live copy as it is */
	assert_int_equal(test_cache_state(&w->lb[1], SVC_WLC, sport),
	    CONN_ESTABLISHED);
	assert_int_equal(lb_learn_conn(&w->lb[1], &e->key, SVC_WLC, server,
	    e->owner, e->backup, CONN_SYN, LB_LEARN_FRESH, T0 + 3), 0);
	assert_int_equal(test_cache_state(&w->lb[1], SVC_WLC, sport),
	    CONN_ESTABLISHED);
	/* closed again; a SYN with another number is a new connection */
	assert_int_equal(lb_decide(&w->lb[1], &rst, 0, T0 + 4, &act),
	    LB_FORWARD);
	assert_int_equal(world_deliver(w, 1, T0 + 4, WORLD_AS_REPL), 1);
	syn.seq += 0x10001;
	assert_int_equal(lb_decide(&w->lb[0], &syn, 1, T0 + 5, &act),
	    LB_FORWARD);
	assert_int_equal(w->lb[0].stats.port_reuse, 1);
	assert_int_equal(w->lb[0].stats.syn_reopen, 1);
	assert_int_equal(w->lb[0].stats.new_conn, 2);
	world_free(w);
}

/*
 * Connection tags (issue 18, point 6). A record as repl_sm.c applies it:
 * NEW with its flags and tag, END with its tag.
 */
static void
test_learn(struct lb *lb, const struct lb_record *r, uint64_t now)
{
	if (r->type == LB_REC_NEW)
		assert_int_equal(lb_learn_conn(lb, &r->key, r->service,
		    r->server, r->owner, r->backup, CONN_SYN,
		    ((r->flags & LB_REC_F_FRESH) ? LB_LEARN_FRESH : 0) |
		    ((r->flags & LB_REC_F_REOPEN) ? LB_LEARN_REOPEN : 0) |
		    LB_LEARN_TAG(r->tag), now), 0);
	else
		assert_int_equal(lb_learn_end(lb, r, now), 0);
}

/* The one record lb queued, of type. */
static void
test_pop1(struct lb *lb, enum lb_rec_type type, struct lb_record *r)
{
	assert_true(lb_queue_pop(lb, r));
	assert_int_equal(r->type, type);
	assert_int_equal(lb_queue_len(lb), 0);
}

/*
 * Owner lb0, backup lb2, lb1 a cache. Connection 1 opens at lb0 (the NEW
 * returned in new1, the END of its close through lb1 in end1), and its
 * server is drained at lb0 so that the tuple's next connection goes to
 * another one.
 */
static unsigned int
test_tag_conn1(struct world *w, uint16_t sport, int to_backup,
    struct lb_record *new1, struct lb_record *end1)
{
	struct pkt_info		syn, rst;
	struct lb_action	act;

	syn = test_pkt(SVC_WLC, 80, sport, PKT_TH_SYN);
	assert_int_equal(lb_decide(&w->lb[0], &syn, 0, T0, &act), LB_FORWARD);
	test_pop1(&w->lb[0], LB_REC_NEW, new1);
	assert_int_equal(new1->tag, conn_syn_tag(syn.seq));
	assert_true(new1->flags & LB_REC_F_FRESH);
	test_learn(&w->lb[1], new1, T0);		/* multicast */
	if (to_backup)
		test_learn(&w->lb[2], new1, T0);
	rst = test_pkt(SVC_WLC, 80, sport, PKT_TH_RST);
	rst.seq = syn.seq + 1;
	assert_int_equal(lb_decide(&w->lb[1], &rst, 0, T0 + 2, &act),
	    LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_CACHE);
	test_pop1(&w->lb[1], LB_REC_END, end1);
	assert_int_equal(end1->tag, new1->tag);
	test_learn(&w->lb[0], end1, T0 + 2);
	assert_int_equal(lb_server_set_drained(&w->lb[0], SVC_WLC,
	    new1->server, 1), 0);
	return (new1->server);
}

/*
 * The multicast NEW of connection 1 never reached the backup; its END
 * (from lb1, which saw the client's reset) did; then the owner's reliable
 * copy of the NEW, staged, arrives. It must not give the backup a syn
 * entry for connection 1's server, which the tuple's next connection
 * would meet (the servers' resets of issue 18).
 */
static void
test_tag_late_end_then_late_new(void **state)
{
	struct world		*w = test_world_new(3, 1024, 1024);
	struct lb_record	 new1, end1;
	struct lb_action	 act;
	struct pkt_info		 pi;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);

	(void)state;
	test_tag_conn1(w, sport, 0, &new1, &end1);
	test_learn(&w->lb[2], &end1, T0 + 2);
	assert_null(test_entry(&w->lb[2], SVC_WLC, sport));
	test_learn(&w->lb[2], &new1, T0 + 50);		/* reliable, late */
	assert_null(test_entry(&w->lb[2], SVC_WLC, sport));
	assert_int_equal(w->lb[2].stats.learn_stale, 1);
	/* the tuple's next connection: its ACK at lb2 goes to the owner */
	pi = test_pkt(SVC_WLC, 80, sport, PKT_TH_SYN);
	assert_int_equal(lb_decide(&w->lb[0], &pi, 0, T0 + 2000, &act),
	    LB_FORWARD);
	assert_int_not_equal(act.server, new1.server);
	pi.tcp_flags = PKT_TH_ACK;
	pi.seq++;
	assert_int_equal(lb_decide(&w->lb[2], &pi, 0, T0 + 2001, &act),
	    LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 0);
	world_free(w);
}

/*
 * The backup had connection 1 and its END; the reliable copy of its
 * fresh NEW comes after the END: the entry stays closing (the same tag,
 * not a reopen), and a packet of the tuple's next connection goes to the
 * owner rather than to connection 1's server.
 */
static void
test_tag_late_new_after_end(void **state)
{
	struct world		*w = test_world_new(3, 1024, 1024);
	struct lb_record	 new1, end1;
	struct lb_action	 act;
	struct pkt_info		 pi;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);

	(void)state;
	test_tag_conn1(w, sport, 1, &new1, &end1);
	test_learn(&w->lb[2], &end1, T0 + 2);
	assert_int_equal(test_entry(&w->lb[2], SVC_WLC, sport)->state,
	    CONN_CLOSING);
	test_learn(&w->lb[2], &new1, T0 + 50);		/* reliable, late */
	assert_int_equal(test_entry(&w->lb[2], SVC_WLC, sport)->state,
	    CONN_CLOSING);
	pi = test_pkt(SVC_WLC, 80, sport, PKT_TH_ACK);
	assert_int_equal(lb_decide(&w->lb[2], &pi, 0, T0 + 2000, &act),
	    LB_HANDOFF);
	/* a reopen (the same SYN again after a reset) does open it */
	new1.flags |= LB_REC_F_REOPEN;
	test_learn(&w->lb[2], &new1, T0 + 2001);
	assert_int_equal(test_entry(&w->lb[2], SVC_WLC, sport)->state,
	    CONN_SYN);
	world_free(w);
}

/*
 * Connection 2 on the tuple is known to the backup (its NEW came); then
 * the late reliable copies of connection 1's NEW and END arrive. Neither
 * changes connection 2's entry: server, state and tag stay.
 */
static void
test_tag_late_new_after_next(void **state)
{
	struct world		*w = test_world_new(3, 1024, 1024);
	struct lb_record	 new1, end1, new2;
	struct lb_action	 act;
	struct conn_entry	*e;
	struct pkt_info		 pi;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);

	(void)state;
	test_tag_conn1(w, sport, 1, &new1, &end1);
	test_learn(&w->lb[2], &end1, T0 + 2);
	pi = test_pkt(SVC_WLC, 80, sport, PKT_TH_SYN);
	assert_int_equal(lb_decide(&w->lb[0], &pi, 0, T0 + 20, &act),
	    LB_FORWARD);
	assert_int_equal(w->lb[0].stats.port_reuse, 1);
	assert_int_not_equal(act.server, new1.server);
	test_pop1(&w->lb[0], LB_REC_NEW, &new2);
	test_learn(&w->lb[2], &new2, T0 + 21);
	e = test_entry(&w->lb[2], SVC_WLC, sport);
	assert_int_equal(e->state, CONN_SYN);
	assert_int_equal(e->server, new2.server);
	/* connection 1's copies, 100 ms late */
	test_learn(&w->lb[2], &new1, T0 + 100);
	test_learn(&w->lb[2], &end1, T0 + 100);
	e = test_entry(&w->lb[2], SVC_WLC, sport);
	assert_int_equal(e->state, CONN_SYN);
	assert_int_equal(e->server, new2.server);
	assert_int_equal(e->syn_tag, new2.tag);
	assert_int_equal(w->lb[2].stats.learn_stale, 1);
	assert_int_equal(w->lb[2].stats.learn_end_stale, 1);
	/* connection 2's ACK at lb2 goes to its own server */
	pi.tcp_flags = PKT_TH_ACK;
	pi.seq++;
	assert_int_equal(lb_decide(&w->lb[2], &pi, 0, T0 + 101, &act),
	    LB_FORWARD);
	assert_int_equal(act.server, new2.server);
	world_free(w);
}

/*
 * The backup carries the tuple's packets: connection 1 and then 2 open
 * and end through it (it sends both ENDs itself), then the owner's late
 * reliable copy of connection 1's NEW arrives. A newer connection's tag
 * on the closing entry must not let the older one back in: the entry
 * stays closing, and a packet of the tuple's next connection goes to the
 * owner (the netns churn test's last resets).
 */
static void
test_tag_late_new_after_own_close(void **state)
{
	struct world		*w = test_world_new(3, 1024, 1024);
	struct lb_record	 new1, new2, end;
	struct lb_action	 act;
	struct pkt_info		 syn, pi;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);
	int			 i;
	struct lb_record	*nw[2] = { &new1, &new2 };

	(void)state;
	for (i = 0; i < 2; i++) {
		syn = test_pkt(SVC_WLC, 80, sport, PKT_TH_SYN);
		assert_int_equal(lb_decide(&w->lb[0], &syn, 1, T0 + 10 * i,
		    &act), LB_FORWARD);
		test_pop1(&w->lb[0], LB_REC_NEW, nw[i]);
		test_learn(&w->lb[2], nw[i], T0 + 10 * i);	/* multicast */
		pi = syn;
		pi.tcp_flags = PKT_TH_RST | PKT_TH_ACK;
		pi.seq = syn.seq + 49;
		assert_int_equal(lb_decide(&w->lb[2], &pi, 0, T0 + 10 * i + 1,
		    &act), LB_FORWARD);
		assert_int_equal(act.server, nw[i]->server);
		test_pop1(&w->lb[2], LB_REC_END, &end);
		test_learn(&w->lb[0], &end, T0 + 10 * i + 1);
	}
	test_learn(&w->lb[2], &new1, T0 + 100);		/* reliable, late */
	assert_int_equal(test_entry(&w->lb[2], SVC_WLC, sport)->state,
	    CONN_CLOSING);
	assert_int_equal(w->lb[2].stats.learn_stale, 1);
	pi = test_pkt(SVC_WLC, 80, sport, PKT_TH_ACK);
	pi.seq = syn.seq + 1;	/* the next connection, its number close */
	assert_int_equal(lb_decide(&w->lb[2], &pi, 0, T0 + 200, &act),
	    LB_HANDOFF);
	world_free(w);
}

/* Another key of the test's tuples than key, in key's ended-table set. */
static struct flow_key
test_key_same_set(const struct flow_key *key)
{
	struct pkt_info	pi;
	uint32_t	sport, set;

	set = lb_svc_hash(key->id, key->len) & (LB_ENDED_SLOTS - 1);
	for (sport = 1024; sport < 65536; sport++) {
		pi = test_pkt(SVC_WLC, 80, (uint16_t)sport, 0);
		if (memcmp(&pi.key, key, sizeof(*key)) != 0 &&
		    (lb_svc_hash(pi.key.id, pi.key.len) &
		    (LB_ENDED_SLOTS - 1)) == set)
			return (pi.key);
	}
	fail_msg("no other tuple in set %u", set);
	return (pi.key);
}

/*
 * The ended table: a tuple's end is remembered until LB_ENDED_WAYS other
 * ends came to its set (here another tuple's, the worst case): a late
 * NEW of that connection is ignored until then, and applied after.
 */
static void
test_tag_ended_table(void **state)
{
	struct world		*w = test_world_new(3, 1024, 1024);
	struct lb		*lb = &w->lb[1];
	struct lb_record	 end, other;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);
	int			 i;

	(void)state;
	memset(&end, 0, sizeof(end));
	end.type = LB_REC_END;
	end.service = SVC_WLC;
	end.key = test_pkt(SVC_WLC, 80, sport, 0).key;
	end.tag = 0x1234;
	test_learn(lb, &end, T0);
	other = end;
	other.key = test_key_same_set(&end.key);
	for (i = 1; i <= LB_ENDED_WAYS; i++) {
		other.tag = (uint16_t)(0x100 + i);
		test_learn(lb, &other, T0 + 1);
		assert_int_equal(lb_learn_conn(lb, &end.key, SVC_WLC, 0,
		    WORLD_SLOT0, WORLD_SLOT0 + 2, CONN_SYN, LB_LEARN_FRESH |
		    LB_LEARN_TAG(end.tag), T0 + 2), 0);
		if (i < LB_ENDED_WAYS) {
			assert_int_equal(lb->stats.learn_stale, (uint64_t)i);
			assert_null(cache_peek(&lb->cache, &end.key));
		}
	}
	assert_int_equal(lb->stats.learn_stale, LB_ENDED_WAYS - 1);
	assert_non_null(cache_peek(&lb->cache, &end.key));
	world_free(w);
}

/*
 * A holder other than the owner with a syn entry: a packet within a few
 * segments of the entry's SYN is its connection's; one far past it
 * belongs to another connection on the tuple (a newer one whose NEW has
 * not come yet) and goes to the owner; by handoff it is forwarded.
 */
static void
test_syn_entry_stranger(void **state)
{
	struct world		*w = test_world_new(3, 1024, 1024);
	struct lb_record	 new1;
	struct lb_action	 act;
	struct pkt_info		 syn, pi;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);
	int			 i;

	(void)state;
	syn = test_pkt(SVC_WLC, 80, sport, PKT_TH_SYN);
	syn.seq = 0x7fff0000;
	assert_int_equal(lb_decide(&w->lb[0], &syn, 0, T0, &act), LB_FORWARD);
	test_pop1(&w->lb[0], LB_REC_NEW, &new1);
	for (i = 1; i <= 2; i++) {
		test_learn(&w->lb[i], &new1, T0);
		pi = syn;
		pi.tcp_flags = PKT_TH_ACK;
		pi.seq = syn.seq + 50000;	/* another connection's */
		assert_int_equal(lb_decide(&w->lb[i], &pi, 0, T0 + 1, &act),
		    LB_HANDOFF);
		assert_int_equal(act.member, WORLD_SLOT0 + 0);
		assert_int_equal(w->lb[i].stats.syn_stranger, 1);
		assert_int_equal(lb_decide(&w->lb[i], &pi, 1, T0 + 1, &act),
		    LB_FORWARD);
		/* its own connection's first packet: forwarded */
		pi.seq = syn.seq + 1;
		assert_int_equal(lb_decide(&w->lb[i], &pi, 0, T0 + 2, &act),
		    LB_FORWARD);
		assert_int_equal(act.server, new1.server);
		assert_int_equal(w->lb[i].stats.syn_stranger, 1);
	}
	world_free(w);
}

/*
 * The client reuses the tuple: a new connection's SYN at a holder that is
 * not the owner (backup 2, cache 1), whose entry is the old connection's.
 * Its first segments fall within LB_STRANGER_SEQ of the old tag here (one
 * new connection in 16 does), so the syn entry took them for its own and
 * sent them to the old server, which reset them (test_churn). The SYN now
 * makes the entry defer to the owner until the new connection's NEW
 * comes; a retransmitted SYN of the entry's own connection does not, and
 * an established entry defers the same way.
 */
static void
test_syn_supersede(void **state)
{
	struct world		*w = test_world_new(3, 1024, 1024);
	struct lb_record	 new1;
	struct lb_action	 act;
	struct pkt_info		 syn, syn2, pi;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);
	int			 i;

	(void)state;
	syn = test_pkt(SVC_WLC, 80, sport, PKT_TH_SYN);
	syn.seq = 0x7fff1000;
	assert_int_equal(lb_decide(&w->lb[0], &syn, 0, T0, &act), LB_FORWARD);
	test_pop1(&w->lb[0], LB_REC_NEW, &new1);
	syn2 = syn;
	pi = syn;
	pi.tcp_flags = PKT_TH_ACK;
	for (i = 1; i <= 2; i++) {
		new1.tag = conn_syn_tag(syn.seq);
		syn2.seq = 0x80001100;	/* low 16 bits 0x100 past the old */
		pi.seq = syn2.seq + 1;
		test_learn(&w->lb[i], &new1, T0);
		/* the old connection's SYN again: nothing changes */
		assert_int_equal(lb_decide(&w->lb[i], &syn, 0, T0 + 1, &act),
		    LB_HANDOFF);
		assert_int_equal(w->lb[i].stats.syn_superseded, 0);
		/* the new one's SYN, then its ACK: to the owner */
		assert_int_equal(lb_decide(&w->lb[i], &syn2, 0, T0 + 2, &act),
		    LB_HANDOFF);
		assert_int_equal(lb_decide(&w->lb[i], &pi, 0, T0 + 3, &act),
		    LB_HANDOFF);
		assert_int_equal(act.member, WORLD_SLOT0 + 0);
		assert_int_equal(w->lb[i].stats.syn_superseded, 1);
		/* its NEW: forwarded from the entry at last */
		new1.tag = conn_syn_tag(syn2.seq);
		test_learn(&w->lb[i], &new1, T0 + 4);
		assert_int_equal(lb_decide(&w->lb[i], &pi, 0, T0 + 5, &act),
		    LB_FORWARD);
		assert_int_equal(act.server, new1.server);
		/* established now: a third connection's SYN defers it too */
		syn2.seq += 0x4000;
		assert_int_equal(lb_decide(&w->lb[i], &syn2, 0, T0 + 6, &act),
		    LB_HANDOFF);
		assert_int_equal(w->lb[i].stats.syn_superseded, 2);
		pi.seq = syn2.seq + 1;
		assert_int_equal(lb_decide(&w->lb[i], &pi, 0, T0 + 7, &act),
		    LB_HANDOFF);
	}
	world_free(w);
}

static void
test_owner_without_entry_orphan(void **state)
{
	struct world	*w = test_world_new(2, 1024, 1024);
	struct lb_action	 act;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 1);

	(void)state;
	assert_int_equal(test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0, &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_ORPHAN);
	assert_int_equal(w->lb[0].stats.orphan, 1);
	assert_int_equal(ltoc_count(&w->lb[0].ltoc), 0);
	/* the backup without entry hands to the owner instead */
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0, &act), LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 0);
	world_free(w);
}

static void
test_owner_without_entry_hash_fallback(void **state)
{
	struct world	*w = test_world_new(2, 1024, 1024);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 act;
	struct lb_record	 r;
	struct conn_entry	*e;
	struct pkt_info		 pi;
	uint16_t		 sport = test_find(w, SVC_HASH, 0, 1);

	(void)state;
	pi = test_pkt(SVC_HASH, 80, sport, PKT_TH_ACK);
	assert_int_equal(lb_decide(lb, &pi, 1, T0, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_HASH);
	assert_int_equal(act.service, SVC_HASH);
	assert_int_equal(act.server,
	    sched_pick_hash(&lb->svc[SVC_HASH].sched, &pi.key));
	e = test_entry(lb, SVC_HASH, sport);
	assert_non_null(e);
	assert_int_equal(e->state, CONN_ESTABLISHED);
	assert_int_equal(e->role, CONN_ROLE_OWNER);
	assert_int_equal(e->backup, WORLD_SLOT0 + 1);
	assert_int_equal(test_active(lb, SVC_HASH, act.server), 1);
	assert_true(lb_queue_pop(lb, &r));
	assert_int_equal(r.type, LB_REC_NEW);
	assert_int_equal(r.server, act.server);
	assert_int_equal(lb->stats.hash_fallback, 1);
	assert_int_equal(lb->stats.orphan, 0);
	/* the next packet finds the entry */
	assert_int_equal(lb_decide(lb, &pi, 0, T0 + 1, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_OWNER);
	assert_int_equal(lb->stats.hash_fallback, 1);
	/*
	 * The NEW gives the backup a copy in state syn; the deferred
	 * REFRESH makes it established, as the owner's is.
	 */
	assert_int_equal(lb_learn_new(&w->lb[1], &r, T0), 0);
	assert_int_equal(test_entry(&w->lb[1], SVC_HASH, sport)->state,
	    CONN_SYN);
	assert_int_equal(lb->stats.est_deferred, 1);
	assert_int_equal(lb_queue_len(lb), 0);
	lb_tick(lb, T0 + LB_EST_DELAY_MS, 100);
	assert_true(lb_queue_pop(lb, &r));
	assert_int_equal(r.type, LB_REC_REFRESH);
	assert_memory_equal(&r.key, &pi.key, sizeof(pi.key));
	assert_int_equal(lb_refresh(&w->lb[1], &r.key, T0 + LB_EST_DELAY_MS),
	    0);
	assert_int_equal(test_entry(&w->lb[1], SVC_HASH, sport)->state,
	    CONN_ESTABLISHED);
	world_free(w);
}

/*
 * SYN flood defence: from 15/16 full, SYNs get no entry and the hash picks
 * their server; for two SYN timeouts the owner forwards entry-less
 * non-SYNs by the same hash, re-creating entries (state syn) while there
 * is room, and established entries are never touched. Then orphans again.
 */
static void
test_ltoc_full(void **state)
{
	struct world	*w = test_world_new(1, 32, 0);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 act;
	struct conn_entry	*e;
	uint16_t		 sport, hashed;
	unsigned int		 i, before[3];

	(void)state;
	for (sport = 2000; sport < 2030; sport++)
		assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_SYN, 0,
		    T0, &act), LB_FORWARD);
	assert_int_equal(ltoc_count(&lb->ltoc), 30);
	for (i = 0; i < 3; i++)
		before[i] = test_active(lb, SVC_WLC, i);

	assert_int_equal(test_send(lb, SVC_WLC, 2030, PKT_TH_SYN, 0, T0,
	    &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_HASH);
	hashed = act.server;
	assert_null(test_entry(lb, SVC_WLC, 2030));
	assert_int_equal(lb->stats.syn_hash_fallback, 1);
	assert_int_equal(lb->stats.ltoc_full, 0);
	assert_int_equal(lb->stats.new_queued, 30);
	for (i = 0; i < 3; i++)
		assert_int_equal(test_active(lb, SVC_WLC, i), before[i]);

	/* Its ACK: same server by the hash, an entry in state syn. */
	assert_int_equal(test_send(lb, SVC_WLC, 2030, PKT_TH_ACK, 0, T0 + 1,
	    &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_HASH);
	assert_int_equal(act.server, hashed);
	assert_non_null(e = test_entry(lb, SVC_WLC, 2030));
	assert_int_equal(e->state, CONN_SYN);
	assert_int_equal(e->server, hashed);
	assert_int_equal(lb->stats.hash_fallback, 1);
	assert_int_equal(lb->stats.new_queued, 31);
	assert_int_equal(test_send(lb, SVC_WLC, 2030, PKT_TH_ACK, 0, T0 + 2,
	    &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_OWNER);
	assert_int_equal(test_entry(lb, SVC_WLC, 2030)->state,
	    CONN_ESTABLISHED);

	/* The last room goes; then the hash alone, counted as ltoc_full. */
	assert_int_equal(test_send(lb, SVC_WLC, 2031, PKT_TH_SYN, 0, T0,
	    &act), LB_FORWARD);
	assert_int_equal(test_send(lb, SVC_WLC, 2031, PKT_TH_ACK, 0, T0 + 1,
	    &act), LB_FORWARD);
	assert_int_equal(ltoc_count(&lb->ltoc), 32);
	assert_int_equal(test_send(lb, SVC_WLC, 2032, PKT_TH_SYN, 0, T0,
	    &act), LB_FORWARD);
	hashed = act.server;
	assert_int_equal(test_send(lb, SVC_WLC, 2032, PKT_TH_ACK, 0, T0 + 1,
	    &act), LB_FORWARD);
	assert_int_equal(act.server, hashed);
	assert_int_equal(lb->stats.ltoc_full, 1);
	assert_int_equal(lb->stats.syn_hash_fallback, 3);

	/* Two SYN timeouts after the last fallback: orphans again. */
	assert_int_equal(test_send(lb, SVC_WLC, 2033, PKT_TH_ACK, 0,
	    T0 + 2000ULL * WORLD_SYN_S, &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_ORPHAN);
	for (sport = 2000; sport < 2030; sport++) {
		assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 0,
		    T0 + 1, &act), LB_FORWARD);
		assert_int_equal(act.path, LB_PATH_OWNER);
		assert_int_equal(test_entry(lb, SVC_WLC, sport)->state,
		    CONN_ESTABLISHED);
	}
	world_free(w);
}

/* An ICMP frag-needed about the connection of sport, as the parser makes. */
static int
test_icmp(struct lb *lb, unsigned int svc, uint16_t sport, int by_handoff,
    struct lb_action *act)
{
	struct pkt_info	pi = test_pkt(svc, 80, sport, 0);

	pi.proto = 1;
	pi.flags |= PKT_F_ICMP_ERR;
	return (lb_decide(lb, &pi, by_handoff, T0 + 5, act));
}

/*
 * PMTU discovery through the cluster: an ICMP error about a connection
 * goes to its server from the owner's or backup's LTOC or a cache, is
 * handed to the owner by anyone else, and changes no entry. Unknown
 * connections: icmp_orphan (a handed-off one is never handed on).
 */
static void
test_icmp_ptb(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb_action	 act;
	uint16_t		 sport = test_find(w, SVC_WLC, 2, 0);
	unsigned int		 server;
	size_t			 i;

	(void)state;
	assert_int_equal(test_icmp(&w->lb[1], SVC_WLC, sport, 0, &act),
	    LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 2);
	assert_int_equal(test_icmp(&w->lb[1], SVC_WLC, sport, 1, &act),
	    LB_DROP);
	assert_int_equal(act.drop, LB_DROP_ICMP_ORPHAN);
	assert_int_equal(test_icmp(&w->lb[2], SVC_WLC, sport, 1, &act),
	    LB_DROP);
	assert_int_equal(act.drop, LB_DROP_ICMP_ORPHAN);
	assert_int_equal(w->lb[2].stats.icmp_orphan, 1);
	assert_string_equal(lb_drop_name(act.drop), "icmp_orphan");

	assert_int_equal(test_send(&w->lb[2], SVC_WLC, sport, PKT_TH_SYN, 0,
	    T0, &act), LB_FORWARD);
	server = act.server;
	assert_true(world_broadcast(w, 2, T0) >= 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(test_icmp(&w->lb[i], SVC_WLC, sport, 0, &act),
		    LB_FORWARD);
		assert_int_equal(act.server, server);
		assert_int_equal(act.path, i == 2 ? LB_PATH_OWNER : i == 0 ?
		    LB_PATH_BACKUP : LB_PATH_CACHE);
		assert_int_equal(w->lb[i].stats.icmp_ptb, i == 1 ? 2 : 1);
		assert_int_equal(lb_queue_len(&w->lb[i]), 0);
	}
	assert_int_equal(test_entry(&w->lb[2], SVC_WLC, sport)->state,
	    CONN_SYN);

	/* scheduler hash: the owner recomputes, creating nothing */
	sport = test_find(w, SVC_HASH, 2, -1);
	assert_int_equal(test_icmp(&w->lb[2], SVC_HASH, sport, 0, &act),
	    LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_HASH);
	assert_null(test_entry(&w->lb[2], SVC_HASH, sport));
	world_free(w);
}

/* Parse failures count under their reason as well as bad_packet. */
static void
test_refuse_reasons(void **state)
{
	struct world	*w = test_world_new(1, 1024, 1024);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 act;
	size_t			 i;

	(void)state;
	assert_int_equal(lb_refuse(lb, PKT_BAD_CSUM, 0, &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_BAD_PACKET);
	assert_int_equal(lb_refuse(lb, PKT_BAD_TCP_FLAGS, 1, &act), LB_DROP);
	assert_int_equal(lb_refuse(lb, PKT_FRAGMENT, 0, &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_FRAGMENT);
	assert_int_equal(lb->stats.parse_bad_csum, 1);
	assert_int_equal(lb->stats.parse_bad_tcp_flags, 1);
	assert_int_equal(lb->stats.bad_packet, 2);
	assert_int_equal(lb->stats.fragment, 1);
	assert_int_equal(lb->stats.handoff_in, 1);
	assert_int_equal(lb->stats.rx, 3);
	for (i = PKT_OK + 1; i < PKT_REASON_MAX; i++)
		lb_refuse(lb, (int)i, 0, &act);
	assert_int_equal(lb->stats.parse_truncated, 1);
	assert_int_equal(lb->stats.parse_bad_icmp, 1);
	assert_int_equal(lb->stats.parse_tiny_fragment, 1);
	assert_int_equal(lb->stats.not_tcp, 1);
	assert_int_equal(lb->stats.bad_packet, 2 + PKT_REASON_MAX - 3);
	world_free(w);
}

/*
 * The handshake's ACK reaches an ILB that only caches the connection: it
 * queues a REFRESH LB_EST_DELAY_MS later (lb_tick()), so the owner's and
 * the backup's entries leave state syn (else they expire after
 * syn_timeout_s under a working connection).
 */
static void
test_cache_ack_refreshes_holders(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb_action	 act;
	struct lb_record	 r;
	uint16_t		 sport = test_find(w, SVC_WLC, 2, 0);
	struct flow_key		 k = test_pkt(SVC_WLC, 80, sport, 0).key;

	(void)state;
	assert_int_equal(test_send(&w->lb[2], SVC_WLC, sport, PKT_TH_SYN, 0,
	    T0, &act), LB_FORWARD);
	assert_true(world_broadcast(w, 2, T0) >= 0);
	assert_int_equal(test_entry(&w->lb[0], SVC_WLC, sport)->state,
	    CONN_SYN);
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0 + 1, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_CACHE);
	/* nothing at once, nor just before the delay */
	assert_int_equal(lb_queue_len(&w->lb[1]), 0);
	assert_int_equal(w->lb[1].stats.est_deferred, 1);
	assert_int_equal(lb_tick(&w->lb[1], T0 + LB_EST_DELAY_MS, 100), 0);
	assert_int_equal(lb_queue_len(&w->lb[1]), 0);
	assert_int_equal(lb_tick(&w->lb[1], T0 + 1 + LB_EST_DELAY_MS, 100), 0);
	assert_int_equal(lb_queue_len(&w->lb[1]), 1);
	assert_true(lb_queue_pop(&w->lb[1], &r));
	assert_int_equal(r.type, LB_REC_REFRESH);
	assert_memory_equal(&r.key, &k, sizeof(k));
	assert_int_equal(r.owner, WORLD_SLOT0 + 2);
	assert_int_equal(r.backup, WORLD_SLOT0 + 0);
	assert_int_equal(w->lb[1].stats.refresh_queued, 1);
	assert_int_equal(w->lb[1].stats.est_refresh_skipped, 0);
	assert_int_equal(lb_refresh(&w->lb[2], &r.key, T0 + 1002), 0);
	assert_int_equal(lb_refresh(&w->lb[0], &r.key, T0 + 1002), 0);
	assert_int_equal(test_entry(&w->lb[2], SVC_WLC, sport)->state,
	    CONN_ESTABLISHED);
	assert_int_equal(test_entry(&w->lb[0], SVC_WLC, sport)->state,
	    CONN_ESTABLISHED);
	/* the next ACK and tick queue nothing more */
	assert_int_equal(test_send(&w->lb[1], SVC_WLC, sport, PKT_TH_ACK, 0,
	    T0 + 1003, &act), LB_FORWARD);
	lb_tick(&w->lb[1], T0 + 10000, 100);
	assert_int_equal(lb_queue_len(&w->lb[1]), 0);
	assert_int_equal(w->lb[1].stats.est_deferred, 1);
	world_free(w);
}

/*
 * The same through the owner's LTOC: the ACK at the owner defers the
 * REFRESH; the tick queues it and it makes the backup's copy (and a
 * cache's) established.
 */
static void
test_ltoc_ack_refreshes_backup(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb		*lb = &w->lb[2];
	struct lb_action	 act;
	struct lb_record	 r;
	uint16_t		 sport = test_find(w, SVC_WLC, 2, 0);
	struct flow_key		 k = test_pkt(SVC_WLC, 80, sport, 0).key;

	(void)state;
	assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_SYN, 0, T0,
	    &act), LB_FORWARD);
	assert_int_equal(world_broadcast(w, 2, T0), 1);
	assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 0, T0 + 1,
	    &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_OWNER);
	assert_int_equal(test_entry(lb, SVC_WLC, sport)->state,
	    CONN_ESTABLISHED);
	assert_int_equal(lb_queue_len(lb), 0);
	assert_int_equal(lb->stats.est_deferred, 1);
	lb_tick(lb, T0 + LB_EST_DELAY_MS, 100);
	assert_int_equal(lb_queue_len(lb), 0);
	lb_tick(lb, T0 + 1 + LB_EST_DELAY_MS, 100);
	assert_int_equal(lb_queue_len(lb), 1);
	assert_true(lb_queue_pop(lb, &r));
	assert_int_equal(r.type, LB_REC_REFRESH);
	assert_int_equal(lb->stats.refresh_queued, 1);
	assert_int_equal(lb->stats.est_refresh_skipped, 0);
	assert_int_equal(lb->stats.est_refresh_now, 0);
	assert_memory_equal(&r.key, &k, sizeof(k));
	assert_int_equal(r.owner, WORLD_SLOT0 + 2);
	assert_int_equal(r.backup, WORLD_SLOT0 + 0);
	assert_int_equal(test_entry(&w->lb[0], SVC_WLC, sport)->state,
	    CONN_SYN);
	assert_int_equal(lb_refresh(&w->lb[0], &r.key, T0 + 1002), 0);
	assert_int_equal(lb_refresh(&w->lb[1], &r.key, T0 + 1002), 0);
	assert_int_equal(test_entry(&w->lb[0], SVC_WLC, sport)->state,
	    CONN_ESTABLISHED);
	assert_int_equal(cache_peek(&w->lb[1].cache, &k)->state,
	    CONN_ESTABLISHED);
	world_free(w);
}

/*
 * A connection that closes before the delay sends its END only: the tick
 * finds it closing and drops the deferred REFRESH (at the owner and at a
 * cache holder alike).
 */
static void
test_est_closed_before_delay(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb_action	 act;
	struct lb_record	 r;
	uint16_t		 sport = test_find(w, SVC_WLC, 2, 0);
	uint16_t		 other = test_find(w, SVC_WLC, 0, 2);
	size_t			 i;

	(void)state;
	/* sport through its owner, 2; other through a cache, 1 */
	test_send(&w->lb[2], SVC_WLC, sport, PKT_TH_SYN, 0, T0, &act);
	test_send(&w->lb[0], SVC_WLC, other, PKT_TH_SYN, 0, T0, &act);
	assert_true(world_broadcast(w, 2, T0) >= 0);
	assert_true(world_broadcast(w, 0, T0) >= 0);
	test_send(&w->lb[2], SVC_WLC, sport, PKT_TH_ACK, 0, T0 + 1, &act);
	test_send(&w->lb[1], SVC_WLC, other, PKT_TH_ACK, 0, T0 + 1, &act);
	assert_int_equal(act.path, LB_PATH_CACHE);
	test_send(&w->lb[2], SVC_WLC, sport, PKT_TH_FIN | PKT_TH_ACK, 0,
	    T0 + 5, &act);
	test_send(&w->lb[1], SVC_WLC, other, PKT_TH_FIN | PKT_TH_ACK, 0,
	    T0 + 5, &act);
	for (i = 1; i < 3; i++) {
		assert_true(lb_queue_pop(&w->lb[i], &r));
		assert_int_equal(r.type, LB_REC_END);
		assert_false(lb_queue_pop(&w->lb[i], &r));
		lb_tick(&w->lb[i], T0 + 1 + LB_EST_DELAY_MS, 100);
		assert_int_equal(lb_queue_len(&w->lb[i]), 0);
		assert_int_equal(w->lb[i].stats.est_deferred, 1);
		assert_int_equal(w->lb[i].stats.est_refresh_skipped, 1);
		assert_int_equal(w->lb[i].stats.refresh_queued, 0);
		assert_int_equal(w->lb[i].stats.end_queued, 1);
	}
	world_free(w);
}

/*
 * An entry that moved between the tables before the tick is still found:
 * the owner leaves and its LTOC entry goes to its cache (lb_rebalance()),
 * a cache entry becomes an LTOC one by a TRANSFER naming self.
 */
static void
test_est_entry_moved(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 act;
	struct lb_record	 r;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 1);
	uint16_t		 other = test_find(w, SVC_WLC, 2, 1);
	struct flow_key		 k = test_pkt(SVC_WLC, 80, sport, 0).key;
	struct flow_key		 ko = test_pkt(SVC_WLC, 80, other, 0).key;
	unsigned int		 n = 0;

	(void)state;
	test_send(lb, SVC_WLC, sport, PKT_TH_SYN, 0, T0, &act);
	test_send(&w->lb[2], SVC_WLC, other, PKT_TH_SYN, 0, T0, &act);
	assert_true(world_broadcast(w, 0, T0) >= 0);
	assert_true(world_broadcast(w, 2, T0) >= 0);
	test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 0, T0 + 1, &act);
	assert_int_equal(act.path, LB_PATH_OWNER);
	test_send(lb, SVC_WLC, other, PKT_TH_ACK, 0, T0 + 1, &act);
	assert_int_equal(act.path, LB_PATH_CACHE);
	assert_int_equal(lb->stats.est_deferred, 2);
	/* sport: self leaves, its entry goes to the cache */
	assert_true(lb_rebalance(lb, w->ids + 1, w->slots + 1, 2,
	    LB_SELF_NONE, NULL, NULL) >= 0);
	assert_null(ltoc_lookup(&lb->ltoc, &k));
	assert_int_equal(cache_peek(&lb->cache, &k)->state, CONN_ESTABLISHED);
	/* other: a TRANSFER makes self its owner, established */
	assert_int_equal(lb_learn_conn(lb, &ko, SVC_WLC, act.server,
	    WORLD_SLOT0, WORLD_SLOT0 + 1, CONN_ESTABLISHED, 0, T0 + 2), 0);
	assert_null(cache_peek(&lb->cache, &ko));
	assert_non_null(ltoc_lookup(&lb->ltoc, &ko));
	lb_tick(lb, T0 + 1 + LB_EST_DELAY_MS, 100);
	while (lb_queue_pop(lb, &r)) {
		assert_int_equal(r.type, LB_REC_REFRESH);
		assert_true(memcmp(&r.key, n == 0 ? &k : &ko,
		    sizeof(k)) == 0);
		n++;
	}
	assert_int_equal(n, 2);
	assert_int_equal(lb->stats.est_refresh_skipped, 0);
	world_free(w);
}

/*
 * The delay is at most a quarter of syn_timeout_s; the ring is in time
 * order, so a tick takes the old enough ones and leaves the rest.
 */
static void
test_est_delay_capped(void **state)
{
	struct world	*w = test_world_new(1, 1024, 0);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 act;
	struct lb_record	 r;
	struct flow_key		 k0 = test_pkt(SVC_WLC, 80, 7000, 0).key;
	struct flow_key		 k1 = test_pkt(SVC_WLC, 80, 7001, 0).key;
	char			*cause = NULL;

	(void)state;
	w->conf->tables.syn_timeout_s = 2;	/* delay 500 ms */
	assert_int_equal(lb_reload(lb, w->conf, T0, NULL, &cause), 0);
	test_send(lb, SVC_WLC, 7000, PKT_TH_SYN, 0, T0, &act);
	test_send(lb, SVC_WLC, 7001, PKT_TH_SYN, 0, T0, &act);
	while (lb_queue_pop(lb, &r))
		;
	test_send(lb, SVC_WLC, 7000, PKT_TH_ACK, 0, T0 + 1, &act);
	test_send(lb, SVC_WLC, 7001, PKT_TH_ACK, 0, T0 + 300, &act);
	lb_tick(lb, T0 + 500, 100);
	assert_int_equal(lb_queue_len(lb), 0);
	lb_tick(lb, T0 + 501, 100);
	assert_int_equal(lb_queue_len(lb), 1);
	assert_true(lb_queue_pop(lb, &r));
	assert_memory_equal(&r.key, &k0, sizeof(k0));
	lb_tick(lb, T0 + 799, 100);
	assert_int_equal(lb_queue_len(lb), 0);
	lb_tick(lb, T0 + 800, 100);
	assert_true(lb_queue_pop(lb, &r));
	assert_memory_equal(&r.key, &k1, sizeof(k1));
	assert_int_equal(lb->stats.refresh_queued, 2);
	world_free(w);
}

/* A full ring: the next establishment's REFRESH is queued at once. */
static void
test_est_ring_full(void **state)
{
	struct world	*w = test_world_new(1, 1U << 14, 0);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 act;
	struct lb_record	 r;
	struct flow_key		 last;
	unsigned int		 i, n = 0;

	(void)state;
	last = test_pkt(SVC_WLC, 80, (uint16_t)(1024 + LB_EST_RING), 0).key;
	for (i = 0; i <= LB_EST_RING; i++) {
		assert_int_equal(test_send(lb, SVC_WLC, (uint16_t)(1024 + i),
		    PKT_TH_SYN, 0, T0, &act), LB_FORWARD);
		assert_int_equal(test_send(lb, SVC_WLC, (uint16_t)(1024 + i),
		    PKT_TH_ACK, 0, T0 + 1, &act), LB_FORWARD);
	}
	assert_int_equal(lb->stats.est_deferred, LB_EST_RING);
	assert_int_equal(lb->stats.est_refresh_now, 1);
	assert_int_equal(lb->stats.refresh_queued, 1);
	while (lb_queue_pop(lb, &r)) {
		if (r.type != LB_REC_REFRESH)
			continue;
		assert_memory_equal(&r.key, &last, sizeof(last));
		n++;
	}
	assert_int_equal(n, 1);
	/* the ring empties at the tick, and takes new ones again */
	lb_tick(lb, T0 + 1 + LB_EST_DELAY_MS, 100);
	assert_int_equal(lb_queue_len(lb), LB_EST_RING);
	assert_int_equal(lb->stats.refresh_queued, LB_EST_RING + 1);
	assert_int_equal(lb->stats.est_refresh_skipped, 0);
	test_send(lb, SVC_WLC, 1000, PKT_TH_SYN, 0, T0 + 2000, &act);
	test_send(lb, SVC_WLC, 1000, PKT_TH_ACK, 0, T0 + 2001, &act);
	assert_int_equal(lb->stats.est_deferred, LB_EST_RING + 1);
	assert_int_equal(lb->stats.est_refresh_now, 1);
	world_free(w);
}

/*
 * A full record queue at the tick: the pending REFRESHes stay in the ring
 * for the next tick instead of being dropped as queue_full.
 */
static void
test_est_queue_full(void **state)
{
	struct world	*w = test_world_new(1, 1U << 14, 0);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 act;
	struct lb_record	 r;
	struct flow_key		 k = test_pkt(SVC_WLC, 80, 999, 0).key;
	unsigned int		 i;

	(void)state;
	test_send(lb, SVC_WLC, 999, PKT_TH_SYN, 0, T0, &act);
	test_send(lb, SVC_WLC, 999, PKT_TH_ACK, 0, T0 + 1, &act);
	assert_int_equal(lb->stats.est_deferred, 1);
	/* NEWs of other connections fill the queue */
	for (i = 1; lb_queue_len(lb) < LB_QUEUE_LEN; i++)
		assert_int_equal(test_send(lb, SVC_WLC, (uint16_t)(1000 + i),
		    PKT_TH_SYN, 0, T0 + 2, &act), LB_FORWARD);
	lb_tick(lb, T0 + 1 + LB_EST_DELAY_MS, 100);
	assert_int_equal(lb->stats.queue_full, 0);
	assert_int_equal(lb->stats.refresh_queued, 0);
	assert_int_equal(lb->stats.est_refresh_skipped, 0);
	while (lb_queue_pop(lb, &r))
		assert_int_equal(r.type, LB_REC_NEW);
	lb_tick(lb, T0 + 101 + LB_EST_DELAY_MS, 100);
	assert_true(lb_queue_pop(lb, &r));
	assert_int_equal(r.type, LB_REC_REFRESH);
	assert_memory_equal(&r.key, &k, sizeof(k));
	assert_int_equal(lb_queue_len(lb), 0);
	world_free(w);
}

static void
test_no_service(void **state)
{
	struct world	*w = test_world_new(1, 1024, 1024);
	struct lb_action	 act;
	struct pkt_info		 pi = test_pkt(SVC_WLC, 81, 1234, PKT_TH_SYN);

	(void)state;
	assert_int_equal(lb_decide(&w->lb[0], &pi, 0, T0, &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_NO_SERVICE);
	pi = test_pkt(5, 80, 1234, PKT_TH_SYN);	/* 198.51.100.15 */
	assert_int_equal(lb_decide(&w->lb[0], &pi, 0, T0, &act), LB_DROP);
	pi.key.len = FLOW_ID_V6;		/* same bytes, v6 */
	assert_int_equal(lb_decide(&w->lb[0], &pi, 0, T0, &act), LB_DROP);
	assert_int_equal(w->lb[0].stats.no_service, 3);
	assert_int_equal(w->lb[0].stats.rx, 3);
	assert_int_equal(ltoc_count(&w->lb[0].ltoc), 0);
	world_free(w);
}

static void
test_no_healthy_server(void **state)
{
	struct world	*w = test_world_new(1, 1024, 1024);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 act;
	unsigned int		 s, i;

	(void)state;
	for (s = 0; s < TEST_NSVC; s++) {
		for (i = 0; i < 3; i++)
			sched_set_up(&lb->svc[s].sched, i, 0);
		sched_rebuild(&lb->svc[s].sched);
	}
	assert_int_equal(test_send(lb, SVC_WLC, 3000, PKT_TH_SYN, 0, T0,
	    &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_NO_SERVER);
	assert_int_equal(test_send(lb, SVC_HASH, 3000, PKT_TH_ACK, 0, T0,
	    &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_NO_SERVER);
	assert_int_equal(lb->stats.no_server, 2);
	assert_int_equal(ltoc_count(&lb->ltoc), 0);
	assert_int_equal(lb_queue_len(lb), 0);
	world_free(w);
}

static void
test_port_reuse_after_close(void **state)
{
	struct world	*w = test_world_new(1, 1024, 1024);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 act;
	struct lb_record	 r;
	struct conn_entry	*e;
	unsigned int		 i, total;

	(void)state;
	test_send(lb, SVC_WLC, 4000, PKT_TH_SYN, 0, T0, &act);
	test_send(lb, SVC_WLC, 4000, PKT_TH_ACK, 0, T0 + 1, &act);
	test_send(lb, SVC_WLC, 4000, PKT_TH_FIN | PKT_TH_ACK, 0, T0 + 2,
	    &act);
	while (lb_queue_pop(lb, &r))
		;
	assert_int_equal(test_send(lb, SVC_WLC, 4000, PKT_TH_SYN, 0, T0 + 3,
	    &act), LB_FORWARD);
	assert_int_equal(lb->stats.port_reuse, 1);
	assert_int_equal(lb->stats.retransmitted_syn, 0);
	assert_int_equal(lb->stats.new_conn, 2);
	e = test_entry(lb, SVC_WLC, 4000);
	assert_int_equal(e->state, CONN_SYN);
	assert_int_equal(e->role, CONN_ROLE_OWNER);
	assert_int_equal(e->server, act.server);
	assert_true(lb_queue_pop(lb, &r));
	assert_int_equal(r.type, LB_REC_NEW);
	assert_int_equal(ltoc_count(&lb->ltoc), 1);
	for (total = 0, i = 0; i < 3; i++)
		total += test_active(lb, SVC_WLC, i);
	assert_int_equal(total, 1);
	assert_int_equal(test_active(lb, SVC_WLC, act.server), 1);
	world_free(w);
}

static void
test_expiry_releases_server(void **state)
{
	struct world	*w = test_world_new(1, 1024, 1024);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 a1, a2;

	(void)state;
	test_send(lb, SVC_WLC, 5000, PKT_TH_SYN, 0, T0, &a1);
	test_send(lb, SVC_WLC, 5001, PKT_TH_SYN, 0, T0, &a2);
	test_send(lb, SVC_WLC, 5001, PKT_TH_ACK, 0, T0, &a2);
	assert_int_equal(test_active(lb, SVC_WLC, a1.server), 1);
	assert_int_equal(test_active(lb, SVC_WLC, a2.server), 1);
	assert_int_equal(lb_tick(lb, T0 + (WORLD_SYN_S - 1) * 1000ULL, 100), 0);
	assert_int_equal(lb_tick(lb, T0 + (WORLD_SYN_S + 1) * 1000ULL, 100), 1);
	assert_null(test_entry(lb, SVC_WLC, 5000));
	assert_int_equal(test_active(lb, SVC_WLC, a1.server), 0);
	assert_int_equal(test_active(lb, SVC_WLC, a2.server), 1);
	assert_int_equal(lb_tick(lb, T0 + (WORLD_TCP_S + 1) * 1000ULL, 100), 1);
	assert_int_equal(test_active(lb, SVC_WLC, a2.server), 0);
	assert_int_equal(lb->stats.ltoc_expired, 2);
	assert_int_equal(ltoc_count(&lb->ltoc), 0);
	world_free(w);
}

/* Extras: one member owns all; no membership; roles; queue; names. */
static void
test_single_member_owns_all(void **state)
{
	struct world	*w = test_world_new(1, 1024, 1024);
	struct lb_action	 act;
	struct lb_record	 r;
	uint16_t		 sport;

	(void)state;
	for (sport = 6000; sport < 6100; sport++)
		assert_int_equal(test_send(&w->lb[0], SVC_WLC, sport,
		    PKT_TH_SYN, 0, T0, &act), LB_FORWARD);
	assert_true(lb_queue_pop(&w->lb[0], &r));
	assert_int_equal(r.owner, WORLD_SLOT0);
	assert_int_equal(r.backup, CONN_SLOT_NONE);
	assert_int_equal(w->lb[0].stats.handoff_out, 0);
	world_free(w);
}

static void
test_no_members(void **state)
{
	struct world	*w = test_world_new(2, 1024, 1024);
	struct lb_action	 act;

	(void)state;
	/* only an empty membership drops 'no_members' */
	assert_int_equal(lb_set_members(&w->lb[0], w->ids, w->slots, 0,
	    LB_SELF_NONE), 0);
	assert_int_equal(test_send(&w->lb[0], SVC_WLC, 1, PKT_TH_SYN, 0, T0,
	    &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_NO_MEMBERS);
	assert_int_equal(test_send(&w->lb[0], SVC_WLC, 1, PKT_TH_ACK, 0, T0,
	    &act), LB_DROP);
	assert_int_equal(lb_set_members(&w->lb[0], w->ids, w->slots, 2, 2),
	    -1);
	assert_int_equal(test_send(&w->lb[0], SVC_WLC, 1, PKT_TH_ACK, 0, T0,
	    &act), LB_DROP);
	assert_int_equal(w->lb[0].stats.no_members, 3);
	world_free(w);
}

/*
 * Member 2 of 3 joins: the active membership is members 0 and 1 only.
 * It scores like them and acts as a member that is neither owner nor
 * backup.
 */
static struct lb *
test_joiner(struct world *w)
{
	struct lb	*lb = &w->lb[2];

	assert_int_equal(lb_set_members(lb, w->ids, w->slots, 2,
	    LB_SELF_NONE), 0);
	lb_set_self_slot(lb, WORLD_SLOT0 + 2);
	assert_int_equal(lb_set_members(&w->lb[0], w->ids, w->slots, 2, 0),
	    0);
	assert_int_equal(lb_set_members(&w->lb[1], w->ids, w->slots, 2, 1),
	    0);
	return (lb);
}

static void
test_not_member_syn_handoff(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb		*lb = test_joiner(w);
	struct lb_action	 act;
	uint16_t		 sport = test_find_lb(lb, SVC_WLC, 1, 0);

	(void)state;
	assert_int_equal(lb->self_slot, WORLD_SLOT0 + 2);
	assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_SYN, 0, T0,
	    &act), LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 1);
	assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_SYN, 1, T0,
	    &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_MISROUTED);
	/* cache miss: to the owner; a hash service creates nothing either */
	assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 0, T0,
	    &act), LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 1);
	assert_int_equal(test_send(lb, SVC_HASH, sport, PKT_TH_ACK, 0, T0,
	    &act), LB_HANDOFF);
	assert_int_equal(test_send(lb, SVC_HASH, sport, PKT_TH_ACK, 1, T0,
	    &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_MISROUTED);
	assert_int_equal(ltoc_count(&lb->ltoc), 0);
	assert_int_equal(lb_queue_len(lb), 0);
	assert_int_equal(lb->stats.no_members, 0);
	assert_int_equal(lb->stats.handoff_out, 3);
	world_free(w);
}

static void
test_not_member_cache_hit(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb		*lb = test_joiner(w);
	struct lb_action	 a1, a2;
	struct lb_record	 r;
	uint16_t		 sport = test_find_lb(lb, SVC_WLC, 0, 1);

	(void)state;
	test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_SYN, 0, T0, &a1);
	assert_int_equal(lb_queue_pop(&w->lb[0], &r), 1);
	assert_int_equal(lb_learn_new(lb, &r, T0), 0);
	assert_int_equal(lb->stats.learn_cache, 1);
	assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 0, T0 + 10,
	    &a2), LB_FORWARD);
	assert_int_equal(a2.path, LB_PATH_CACHE);
	assert_int_equal(a2.server, a1.server);
	assert_int_equal(ltoc_count(&lb->ltoc), 0);
	world_free(w);
}

static void
test_not_member_ltoc_hit_leaving(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 a1, a2;
	struct lb_record	 r;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 1);
	uint16_t		 other = test_find(w, SVC_WLC, 1, 2);

	(void)state;
	test_send(lb, SVC_WLC, sport, PKT_TH_SYN, 0, T0, &a1);
	test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 0, T0 + 10, &a2);
	while (lb_queue_pop(lb, &r))
		;
	/* member 0 leaves: the active members are 1 and 2 */
	assert_int_equal(lb_set_members(lb, w->ids + 1, w->slots + 1, 2,
	    LB_SELF_NONE), 0);
	assert_int_equal(lb->self_slot, WORLD_SLOT0);
	assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 0, T0 + 20,
	    &a2), LB_FORWARD);
	assert_int_equal(a2.path, LB_PATH_OWNER);
	assert_int_equal(a2.server, a1.server);
	/* also by handoff: the LTOC is checked first */
	assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 1, T0 + 30,
	    &a2), LB_FORWARD);
	assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_FIN | PKT_TH_ACK,
	    0, T0 + 40, &a2), LB_FORWARD);
	assert_int_equal(lb_queue_pop(lb, &r), 1);
	assert_int_equal(r.type, LB_REC_END);
	/* unknown connection: to its owner in the new membership */
	assert_int_equal(test_send(lb, SVC_WLC, other, PKT_TH_ACK, 0, T0 + 40,
	    &a2), LB_HANDOFF);
	assert_int_not_equal(a2.member, WORLD_SLOT0);
	assert_int_equal(ltoc_count(&lb->ltoc), 1);
	world_free(w);
}

static struct flow_key
test_key(unsigned int svc, uint16_t sport)
{
	struct pkt_info	pi = test_pkt(svc, 80, sport, 0);

	return (pi.key);
}

static void
test_learn_conn_roles(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb		*lb = &w->lb[1];
	struct flow_key		 k1 = test_key(SVC_WLC, 1001);
	struct flow_key		 k2 = test_key(SVC_WLC, 1002);
	struct flow_key		 k3 = test_key(SVC_WLC, 1003);
	struct conn_entry	*e;

	(void)state;
	assert_int_equal(lb_learn_conn(lb, &k1, SVC_WLC, 2, WORLD_SLOT0 + 1,
	    WORLD_SLOT0 + 2, CONN_ESTABLISHED, 0, T0), 0);
	assert_non_null(e = ltoc_lookup(&lb->ltoc, &k1));
	assert_int_equal(e->role, CONN_ROLE_OWNER);
	assert_int_equal(e->server, 2);
	assert_int_equal(e->state, CONN_ESTABLISHED);
	assert_int_equal(e->backup, WORLD_SLOT0 + 2);
	assert_int_equal(test_active(lb, SVC_WLC, 2), 1);
	assert_int_equal(lb_learn_conn(lb, &k2, SVC_WLC, 1, WORLD_SLOT0,
	    WORLD_SLOT0 + 1, CONN_SYN, 0, T0), 0);
	assert_non_null(e = ltoc_lookup(&lb->ltoc, &k2));
	assert_int_equal(e->role, CONN_ROLE_BACKUP);
	assert_int_equal(test_active(lb, SVC_WLC, 1), 0);
	assert_int_equal(lb_learn_conn(lb, &k3, SVC_WLC, 0, WORLD_SLOT0,
	    WORLD_SLOT0 + 2, CONN_ESTABLISHED, 0, T0), 0);
	assert_null(ltoc_lookup(&lb->ltoc, &k3));
	assert_non_null(e = cache_peek(&lb->cache, &k3));
	assert_int_equal(e->owner, WORLD_SLOT0);
	assert_int_equal(e->state, CONN_ESTABLISHED);
	assert_int_equal(lb->stats.learn_owner, 1);
	assert_int_equal(lb->stats.learn_backup, 1);
	assert_int_equal(lb->stats.learn_cache, 1);
	/* self's slot unknown: never a holder */
	lb_set_self_slot(&w->lb[2], CONN_SLOT_NONE);
	w->lb[2].self = LB_SELF_NONE;
	assert_int_equal(lb_learn_conn(&w->lb[2], &k1, SVC_WLC, 0,
	    WORLD_SLOT0, CONN_SLOT_NONE, CONN_SYN, 0, T0), 0);
	assert_int_equal(ltoc_count(&w->lb[2].ltoc), 0);
	assert_int_equal(cache_count(&w->lb[2].cache), 1);
	world_free(w);
}

static void
test_learn_conn_update_in_place(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb		*lb = &w->lb[1];
	struct flow_key		 k = test_key(SVC_WLC, 2001);
	struct conn_entry	*e;

	(void)state;
	assert_int_equal(lb_learn_conn(lb, &k, SVC_WLC, 2, WORLD_SLOT0 + 1,
	    WORLD_SLOT0, CONN_CLOSING, 0, T0), 0);
	/* owner -> backup: same entry, no longer counted */
	assert_int_equal(lb_learn_conn(lb, &k, SVC_WLC, 2, WORLD_SLOT0,
	    WORLD_SLOT0 + 1, CONN_ESTABLISHED, 0, T0), 0);
	assert_int_equal(ltoc_count(&lb->ltoc), 1);
	e = ltoc_lookup(&lb->ltoc, &k);
	assert_int_equal(e->role, CONN_ROLE_BACKUP);
	assert_int_equal(e->owner, WORLD_SLOT0);
	assert_int_equal(e->state, CONN_CLOSING);	/* never back */
	assert_int_equal(test_active(lb, SVC_WLC, 2), 0);
	assert_int_equal(lb->stats.learn_update, 1);
	/* another server on the tuple: replaced, counted on the new one */
	assert_int_equal(lb_learn_conn(lb, &k, SVC_WLC, 0, WORLD_SLOT0 + 1,
	    WORLD_SLOT0 + 2, CONN_SYN, 0, T0), 0);
	e = ltoc_lookup(&lb->ltoc, &k);
	assert_int_equal(e->role, CONN_ROLE_OWNER);
	assert_int_equal(e->server, 0);
	assert_int_equal(e->state, CONN_SYN);
	assert_int_equal(test_active(lb, SVC_WLC, 0), 1);
	assert_int_equal(test_active(lb, SVC_WLC, 2), 0);
	/* neither: to the cache, released */
	assert_int_equal(lb_learn_conn(lb, &k, SVC_WLC, 0, WORLD_SLOT0,
	    WORLD_SLOT0 + 2, CONN_ESTABLISHED, 0, T0), 0);
	assert_int_equal(ltoc_count(&lb->ltoc), 0);
	assert_int_equal(test_active(lb, SVC_WLC, 0), 0);
	assert_non_null(e = cache_peek(&lb->cache, &k));
	assert_int_equal(e->state, CONN_ESTABLISHED);
	assert_int_equal(lb->stats.to_cache, 1);
	/*
	 * And back up to the LTOC from an older record (a syn TRANSFER of
	 * a holder that missed the handshake): the cache copy goes, what it
	 * knew stays (test_repl's test_issue18_pull_joining).
	 */
	assert_int_equal(lb_learn_conn(lb, &k, SVC_WLC, 0, WORLD_SLOT0,
	    WORLD_SLOT0 + 1, CONN_SYN, 0, T0), 0);
	assert_int_equal(cache_count(&lb->cache), 0);
	assert_int_equal(ltoc_lookup(&lb->ltoc, &k)->role, CONN_ROLE_BACKUP);
	assert_int_equal(ltoc_lookup(&lb->ltoc, &k)->state, CONN_ESTABLISHED);
	world_free(w);
}

/*
 * The conflict rule (ilbd-protocol(7), CONFLICTS): after a partition a
 * merge record may name another server than the live entry self holds
 * for the tuple; the live connection keeps its server (counted), unless
 * the record is the fresh NEW of a newer connection (another tag).
 */
static void
test_learn_conflict(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb		*lb = &w->lb[1];
	struct flow_key		 k = test_key(SVC_WLC, 2101);
	struct flow_key		 k2 = test_key(SVC_WLC, 2102);
	struct conn_entry	*e;
	uint16_t		 o = WORLD_SLOT0 + 1, b = WORLD_SLOT0 + 2;

	(void)state;
	assert_int_equal(lb_learn_conn(lb, &k, SVC_WLC, 2, o, b,
	    CONN_ESTABLISHED, LB_LEARN_TAG(0x1111), T0), 0);
	/* a transfer of the other side's view of the tuple: refused */
	assert_int_equal(lb_learn_conn(lb, &k, SVC_WLC, 0, o, b,
	    CONN_ESTABLISHED, LB_LEARN_TAG(0x2222), T0), 0);
	assert_int_equal(lb->stats.learn_conflict, 1);
	e = ltoc_lookup(&lb->ltoc, &k);
	assert_int_equal(e->server, 2);
	assert_int_equal(e->syn_tag, 0x1111);
	assert_int_equal(test_active(lb, SVC_WLC, 2), 1);
	assert_int_equal(test_active(lb, SVC_WLC, 0), 0);
	/* closing or untagged, it does not move the live entry either */
	assert_int_equal(lb_learn_conn(lb, &k, SVC_WLC, 0, o, b,
	    CONN_CLOSING, LB_LEARN_TAG(0x2222), T0), 0);
	assert_int_equal(lb_learn_conn(lb, &k, SVC_WLC, 1, o, b,
	    CONN_SYN, 0, T0), 0);
	assert_int_equal(lb->stats.learn_conflict, 3);
	assert_int_equal(ltoc_lookup(&lb->ltoc, &k)->server, 2);
	assert_int_equal(ltoc_lookup(&lb->ltoc, &k)->state, CONN_ESTABLISHED);
	/* the same SYN decided twice (both sides of a partition): refused */
	assert_int_equal(lb_learn_conn(lb, &k, SVC_WLC, 0, o, b, CONN_SYN,
	    LB_LEARN_FRESH | LB_LEARN_TAG(0x1111), T0), 0);
	assert_int_equal(lb->stats.learn_conflict, 4);
	/* the same server: no conflict, applied (the holders change) */
	assert_int_equal(lb_learn_conn(lb, &k, SVC_WLC, 2, b, o,
	    CONN_ESTABLISHED, LB_LEARN_TAG(0x1111), T0), 0);
	assert_int_equal(lb->stats.learn_conflict, 4);
	assert_int_equal(ltoc_lookup(&lb->ltoc, &k)->role, CONN_ROLE_BACKUP);
	/* a newer connection's fresh NEW (another tag) takes the tuple */
	assert_int_equal(lb_learn_conn(lb, &k, SVC_WLC, 0, o, b, CONN_SYN,
	    LB_LEARN_FRESH | LB_LEARN_TAG(0x3333), T0), 0);
	e = ltoc_lookup(&lb->ltoc, &k);
	assert_int_equal(e->server, 0);
	assert_int_equal(e->syn_tag, 0x3333);
	assert_int_equal(lb->stats.learn_conflict, 4);
	/* the cache too: a live cache entry keeps its server */
	assert_int_equal(lb_learn_conn(lb, &k2, SVC_WLC, 1, WORLD_SLOT0, b,
	    CONN_ESTABLISHED, LB_LEARN_TAG(0x4444), T0), 0);
	assert_int_equal(lb_learn_conn(lb, &k2, SVC_WLC, 2, WORLD_SLOT0, b,
	    CONN_ESTABLISHED, LB_LEARN_TAG(0x5555), T0), 0);
	assert_int_equal(lb->stats.learn_conflict, 5);
	assert_int_equal(cache_peek(&lb->cache, &k2)->server, 1);
	/* once closing, its connection has ended: the record takes over */
	assert_int_equal(lb_learn_conn(lb, &k2, SVC_WLC, 1, WORLD_SLOT0, b,
	    CONN_CLOSING, LB_LEARN_TAG(0x4444), T0), 0);
	assert_int_equal(lb_learn_conn(lb, &k2, SVC_WLC, 2, WORLD_SLOT0, b,
	    CONN_ESTABLISHED, LB_LEARN_TAG(0x5555), T0), 0);
	assert_int_equal(cache_peek(&lb->cache, &k2)->server, 2);
	assert_int_equal(lb->stats.learn_conflict, 5);
	world_free(w);
}

static void
test_learn_conn_bad(void **state)
{
	struct world	*w = test_world_new(2, 1024, 1024);
	struct flow_key		 k = test_key(SVC_WLC, 3001);
	struct flow_key		 bad = k;

	(void)state;
	assert_int_equal(lb_learn_conn(&w->lb[0], &k, TEST_NSVC, 0,
	    WORLD_SLOT0, WORLD_SLOT0 + 1, CONN_SYN, 0, T0), -1);
	assert_int_equal(lb_learn_conn(&w->lb[0], &k, SVC_WLC, 3,
	    WORLD_SLOT0, WORLD_SLOT0 + 1, CONN_SYN, 0, T0), -1);
	assert_int_equal(lb_learn_conn(&w->lb[0], &k, SVC_WLC, 0,
	    WORLD_SLOT0, WORLD_SLOT0 + 1, CONN_NSTATES, 0, T0), -1);
	bad.len = 0;
	assert_int_equal(lb_learn_conn(&w->lb[0], &bad, SVC_WLC, 0,
	    WORLD_SLOT0, WORLD_SLOT0 + 1, CONN_SYN, 0, T0), -1);
	assert_int_equal(w->lb[0].stats.learn_bad, 4);
	assert_int_equal(ltoc_count(&w->lb[0].ltoc), 0);
	assert_int_equal(cache_count(&w->lb[0].cache), 0);
	world_free(w);
}

static void
test_refresh_in(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 act;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 1);
	struct flow_key		 k = test_key(SVC_WLC, sport);
	struct flow_key		 c = test_key(SVC_WLC, 4001);
	struct conn_entry	*e;

	(void)state;
	test_send(lb, SVC_WLC, sport, PKT_TH_SYN, 0, T0, &act);
	assert_int_equal(lb_refresh(lb, &k, T0 + 5000), 0);
	e = ltoc_lookup(&lb->ltoc, &k);
	assert_int_equal(e->state, CONN_ESTABLISHED);
	assert_int_equal(e->last, (T0 + 5000) / 1000);
	assert_int_equal(lb_learn_conn(lb, &c, SVC_WLC, 0, WORLD_SLOT0 + 1,
	    WORLD_SLOT0 + 2, CONN_ESTABLISHED, 0, T0), 0);
	assert_int_equal(lb_refresh(lb, &c, T0 + 7000), 0);
	assert_int_equal(cache_peek(&lb->cache, &c)->last, (T0 + 7000) / 1000);
	assert_int_equal(lb_refresh(lb, &k, T0 + 8000), 0);
	c.id[7] ^= 1;
	assert_int_equal(lb_refresh(lb, &c, T0), -1);
	assert_int_equal(lb->stats.refresh_in, 3);
	assert_int_equal(lb->stats.refresh_unknown, 1);
	world_free(w);
}

/* Cache forwarding of a busy connection: one REFRESH per 10 s window. */
static void
test_refresh_once_per_window(void **state)
{
	struct world	*w = test_world_new(3, 1024, 1024);
	struct lb		*lb = &w->lb[2];
	struct lb_action	 act;
	struct lb_record	 r;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 1);
	uint64_t		 t;
	unsigned int		 n = 0;

	(void)state;
	lb->refresh_s = LB_REFRESH_S;	/* tcp_timeout_s / 8 is longer */
	test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_SYN, 0, T0, &act);
	/* T0, 1000 s, starts a window */
	assert_true(world_broadcast(w, 0, T0) >= 0);
	/*
	 * The handshake's ACK: one REFRESH (syn -> established), queued by
	 * the first tick LB_EST_DELAY_MS later (at T0 + 2000 here).
	 */
	test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 0, T0 + 500, &act);
	assert_int_equal(lb_queue_len(lb), 0);
	for (t = T0 + 1000; t <= T0 + 30000; t += 1000) {
		assert_int_equal(test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 0,
		    t, &act), LB_FORWARD);
		assert_int_equal(act.path, LB_PATH_CACHE);
		lb_tick(lb, t, 0);
		while (lb_queue_pop(lb, &r)) {
			assert_int_equal(r.type, LB_REC_REFRESH);
			assert_int_equal(r.server, act.server);
			assert_int_equal(r.owner, WORLD_SLOT0);
			assert_true(t == T0 + 2000 || t == T0 + 10000 ||
			    t == T0 + 20000 || t == T0 + 30000);
			n++;
		}
	}
	assert_int_equal(n, 4);
	/* idle past a window: the next packet refreshes at once */
	test_send(lb, SVC_WLC, sport, PKT_TH_ACK, 0, T0 + 45000, &act);
	assert_int_equal(lb_queue_len(lb), 1);
	assert_int_equal(lb->stats.refresh_queued, 5);
	/* a FIN queues its END, no refresh */
	test_send(lb, SVC_WLC, sport, PKT_TH_FIN | PKT_TH_ACK, 0, T0 + 60000,
	    &act);
	assert_int_equal(lb->stats.refresh_queued, 5);
	assert_int_equal(lb->stats.end_queued, 1);
	world_free(w);
}

static void
test_service_server(void **state)
{
	struct world	*w = test_world_new(1, 1024, 1024);
	struct ilb_addr		 a;

	(void)state;
	world_addr4(&a, 192, 0, 2, 22);
	assert_int_equal(lb_service_server(&w->lb[0], SVC_HASH, &a), 1);
	world_addr4(&a, 192, 0, 2, 99);
	assert_int_equal(lb_service_server(&w->lb[0], SVC_HASH, &a), -1);
	assert_int_equal(lb_service_server(&w->lb[0], TEST_NSVC, &a), -1);
	world_free(w);
}

static void
test_role_accounting(void **state)
{
	struct world	*w = test_world_new(2, 1024, 1024);
	struct lb_action	 act;
	struct conn_entry	*e;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 1);

	(void)state;
	test_send(&w->lb[0], SVC_WLC, sport, PKT_TH_SYN, 0, T0, &act);
	assert_true(world_broadcast(w, 0, T0) >= 0);
	e = test_entry(&w->lb[1], SVC_WLC, sport);
	lb_entry_set_role(&w->lb[1], e, CONN_ROLE_OWNER);	/* takeover */
	assert_int_equal(test_active(&w->lb[1], SVC_WLC, act.server), 1);
	lb_entry_remove(&w->lb[1], e);
	assert_int_equal(test_active(&w->lb[1], SVC_WLC, act.server), 0);
	assert_int_equal(ltoc_count(&w->lb[1].ltoc), 0);
	world_free(w);
}

static void
test_queue_full(void **state)
{
	struct world	*w = test_world_new(1, 1U << 14, 0);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 act;
	struct pkt_info		 pi;
	unsigned int		 i;

	(void)state;
	for (i = 0; i < LB_QUEUE_LEN + 10; i++) {
		pi = test_pkt(SVC_WLC, 80, (uint16_t)i, PKT_TH_SYN);
		pi.key.id[10] = (uint8_t)(i >> 16);
		assert_int_equal(lb_decide(lb, &pi, 0, T0, &act), LB_FORWARD);
	}
	assert_int_equal(lb_queue_len(lb), LB_QUEUE_LEN);
	assert_int_equal(lb->stats.queue_full, 10);
	assert_int_equal(lb->stats.new_queued, LB_QUEUE_LEN);
	world_free(w);
}

static void
test_learn_bad(void **state)
{
	struct world	*w = test_world_new(2, 1024, 1024);
	struct lb_record	 r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.type = LB_REC_NEW;
	r.key = test_pkt(SVC_WLC, 80, 1, 0).key;
	r.service = TEST_NSVC;
	assert_int_equal(lb_learn_new(&w->lb[0], &r, T0), -1);
	r.service = SVC_WLC;
	r.server = 3;
	assert_int_equal(lb_learn_end(&w->lb[0], &r, T0), -1);
	assert_int_equal(w->lb[0].stats.learn_bad, 2);
	world_free(w);
}

static void
test_input_and_names(void **state)
{
	struct world	*w = test_world_new(1, 1024, 1024);
	struct lb_action	 act;
	struct pkt_info		 pi;
	uint8_t			 pkt[40];
	size_t			 i;

	(void)state;
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[3] = 40;
	pkt[8] = 64;
	pkt[9] = 6;
	memcpy(pkt + 12, "\xcb\x00\x71\x07\xc6\x33\x64\x0a", 8);
	pkt[20] = 0x1f;		/* sport 8000 */
	pkt[21] = 0x40;
	pkt[23] = 80;
	pkt[32] = 0x50;
	pkt[33] = PKT_TH_SYN;
	test_csum4(pkt);
	assert_int_equal(lb_input(&w->lb[0], pkt, sizeof(pkt), 0, T0, &pi,
	    &act), LB_FORWARD);
	pkt[9] = 47;		/* GRE: neither TCP nor UDP */
	test_csum4(pkt);
	assert_int_equal(lb_input(&w->lb[0], pkt, sizeof(pkt), 0, T0, &pi,
	    &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_NOT_TCP);
	assert_int_equal(lb_input(&w->lb[0], pkt, 10, 0, T0, &pi, &act),
	    LB_DROP);
	assert_int_equal(act.drop, LB_DROP_BAD_PACKET);
	assert_int_equal(w->lb[0].stats.drop, 2);
	for (i = 0; i < LB_STATS_N; i++)
		assert_non_null(lb_counters[i].name);
	assert_string_equal(lb_counters[0].name, "rx");
	assert_int_equal(lb_stats_get(&w->lb[0].stats, 0), 3);
	for (i = 0; i < LB_STATS_N; i++)
		if (strcmp(lb_counters[i].name, "not_tcp") == 0)
			assert_int_equal(lb_stats_get(&w->lb[0].stats, i), 1);
	assert_string_equal(lb_drop_name(LB_DROP_LTOC_FULL), "ltoc_full");
	world_free(w);
}

/*
 * test_churn.sh with every kind of multicast record lost (issue 18,
 * point 6, MIXED messages): a lost END. Owner lb0, backup lb2; lb1 is
 * where the router sends the tuple (a cache). Connection 1 ends with the
 * client's reset at lb1, whose multicast END never reaches lb0 (its
 * reliable copy is staged); the client opens connection 2 on the tuple at
 * once. Its SYN must not pass for a retransmission of connection 1's at
 * lb0: decided anew (syn_end_missed), it carries its own tag, so that the
 * late END of connection 1 does not close it, and its retransmitted SYN
 * (after the client answered a segment of connection 1 with a reset,
 * which closes connection 2's entry) opens it again on the server of the
 * first SYN. Before, the first SYN kept connection 1's server and tag, the
 * reset closed connection 1 there, and the retransmitted SYN was decided
 * anew: the two SYNs of one connection went to two servers, the second
 * answering the client's ACK of the first's SYN-ACK with a reset.
 */
static void
test_syn_after_lost_end(void **state)
{
	struct world		*w = test_world_new(3, 1024, 1024);
	struct lb_record	 new1, end1, new2, end2;
	struct lb_action	 act;
	struct pkt_info		 syn1, syn2, pi;
	struct conn_entry	*e;
	unsigned int		 s2;
	uint16_t		 sport = test_find(w, SVC_WLC, 0, 2);

	(void)state;
	syn1 = test_pkt(SVC_WLC, 80, sport, PKT_TH_SYN);
	assert_int_equal(lb_decide(&w->lb[0], &syn1, 1, T0, &act), LB_FORWARD);
	test_pop1(&w->lb[0], LB_REC_NEW, &new1);
	test_learn(&w->lb[1], &new1, T0);
	test_learn(&w->lb[2], &new1, T0);
	/* connection 1's server takes no new connection now */
	assert_int_equal(lb_server_set_drained(&w->lb[0], SVC_WLC,
	    new1.server, 1), 0);
	/* its client's reset at lb1; the END reaches the backup only */
	pi = syn1;
	pi.tcp_flags = PKT_TH_RST | PKT_TH_ACK;
	pi.seq = syn1.seq + 49;
	assert_int_equal(lb_decide(&w->lb[1], &pi, 0, T0 + 5, &act),
	    LB_FORWARD);
	assert_int_equal(act.server, new1.server);
	test_pop1(&w->lb[1], LB_REC_END, &end1);
	test_learn(&w->lb[2], &end1, T0 + 5);
	assert_int_equal(test_entry(&w->lb[0], SVC_WLC, sport)->state,
	    CONN_SYN);
	/* connection 2's SYN, handed off by lb1 */
	syn2 = test_pkt(SVC_WLC, 80, sport, PKT_TH_SYN);
	syn2.seq = syn1.seq + 1000000;
	assert_int_equal(lb_decide(&w->lb[0], &syn2, 1, T0 + 6, &act),
	    LB_FORWARD);
	s2 = act.server;
	assert_int_not_equal(s2, new1.server);
	assert_int_equal(w->lb[0].stats.syn_end_missed, 1);
	assert_int_equal(w->lb[0].stats.retransmitted_syn, 0);
	assert_int_equal(w->lb[0].stats.port_reuse, 1);
	assert_int_equal(test_active(&w->lb[0], SVC_WLC, new1.server), 0);
	assert_int_equal(test_active(&w->lb[0], SVC_WLC, s2), 1);
	test_pop1(&w->lb[0], LB_REC_NEW, &new2);
	assert_int_equal(new2.tag, conn_syn_tag(syn2.seq));
	assert_true(new2.flags & LB_REC_F_FRESH);
	/* the holders take connection 2 for connection 1 */
	test_learn(&w->lb[1], &new2, T0 + 6);
	test_learn(&w->lb[2], &new2, T0 + 6);
	assert_int_equal(test_entry(&w->lb[2], SVC_WLC, sport)->server, s2);
	assert_int_equal(test_entry(&w->lb[2], SVC_WLC, sport)->state,
	    CONN_SYN);
	/* the late reliable END of connection 1 leaves connection 2 open */
	test_learn(&w->lb[0], &end1, T0 + 100);
	e = test_entry(&w->lb[0], SVC_WLC, sport);
	assert_int_equal(e->state, CONN_SYN);
	assert_int_equal(e->syn_tag, conn_syn_tag(syn2.seq));
	/* a reset answering connection 1's late segment, by handoff */
	pi.tcp_flags = PKT_TH_RST;
	assert_int_equal(lb_decide(&w->lb[1], &pi, 0, T0 + 101, &act),
	    LB_HANDOFF);
	assert_int_equal(act.member, WORLD_SLOT0 + 0);
	assert_int_equal(lb_decide(&w->lb[0], &pi, 1, T0 + 101, &act),
	    LB_FORWARD);
	assert_int_equal(act.server, s2);
	test_pop1(&w->lb[0], LB_REC_END, &end2);
	assert_int_equal(end2.tag, new2.tag);
	test_learn(&w->lb[1], &end2, T0 + 101);
	/* the client sends its SYN again: the same server */
	assert_int_equal(lb_decide(&w->lb[1], &syn2, 0, T0 + 115, &act),
	    LB_HANDOFF);
	assert_int_equal(lb_decide(&w->lb[0], &syn2, 1, T0 + 115, &act),
	    LB_FORWARD);
	assert_int_equal(act.server, s2);
	assert_int_equal(w->lb[0].stats.syn_reopen, 1);
	assert_int_equal(world_deliver(w, 0, T0 + 115, WORLD_AS_REPL), 1);
	/* and its ACK of that server's SYN-ACK, at lb1: the same server */
	pi = syn2;
	pi.tcp_flags = PKT_TH_ACK;
	pi.seq = syn2.seq + 1;
	assert_int_equal(lb_decide(&w->lb[1], &pi, 0, T0 + 116, &act),
	    LB_FORWARD);
	assert_int_equal(act.server, s2);
	/* a retransmission of a live entry's own SYN stays what it was */
	assert_int_equal(lb_decide(&w->lb[0], &syn2, 1, T0 + 117, &act),
	    LB_FORWARD);
	assert_int_equal(act.server, s2);
	assert_int_equal(w->lb[0].stats.retransmitted_syn, 1);
	assert_int_equal(w->lb[0].stats.syn_end_missed, 1);
	world_free(w);
}

/*
 * Traffic counts: the owner counts the connections it assigns, the data
 * path the packets and bytes it sends (lb_traffic_sent()), on the server
 * and on its service; indices out of range count nothing.
 */
static void
test_traffic_counts(void **state)
{
	struct world		*w = test_world_new(1, 1024, 1024);
	struct lb		*lb = &w->lb[0];
	struct lb_action	 act;
	const struct lb_traffic	*t, *st;
	struct pkt_info		 pi;
	uint64_t		 conns = 0;
	unsigned int		 j;
	uint16_t		 sport;

	(void)state;
	for (sport = 2000; sport < 2009; sport++) {
		pi = world_pkt(10 + SVC_WLC, 80, sport, PKT_TH_SYN);
		pi.seq = 5000U + sport;
		assert_int_equal(lb_decide(lb, &pi, 0, T0, &act),
		    LB_FORWARD);
	}
	/* a retransmitted SYN is no new connection */
	assert_int_equal(lb_decide(lb, &pi, 0, T0 + 1000, &act), LB_FORWARD);
	assert_int_equal(lb->stats.retransmitted_syn, 1);
	for (j = 0; j < lb->svc[SVC_WLC].nsrv; j++) {
		t = &lb->svc[SVC_WLC].srv[j].traffic;
		assert_int_equal(t->conns, 3);	/* wlc spreads them */
		conns += t->conns;
		assert_int_equal(t->packets, 0);
	}
	st = &lb->svc[SVC_WLC].traffic;
	assert_int_equal(st->conns, conns);
	assert_int_equal(lb->stats.new_conn, conns);
	assert_int_equal(lb->svc[SVC_HASH].traffic.conns, 0);
	lb_traffic_sent(lb, SVC_WLC, 1, 60);
	lb_traffic_sent(lb, SVC_WLC, 1, 1500);
	lb_traffic_sent(lb, SVC_WLC, 2, 40);
	lb_traffic_sent(lb, SVC_WLC, 3, 40);	/* no such server */
	lb_traffic_sent(lb, TEST_NSVC, 0, 40);	/* no such service */
	t = &lb->svc[SVC_WLC].srv[1].traffic;
	assert_int_equal(t->packets, 2);
	assert_int_equal(t->bytes, 1560);
	assert_int_equal(lb->svc[SVC_WLC].srv[2].traffic.packets, 1);
	assert_int_equal(lb->svc[SVC_WLC].srv[0].traffic.packets, 0);
	assert_int_equal(st->packets, 3);
	assert_int_equal(st->bytes, 1600);
	world_free(w);
}

/*
 * Rates: the first lb_tick() opens a window; one closes once it is
 * LB_RATE_MS old, with the packets and bytes per second over it.
 */
static void
test_traffic_rates(void **state)
{
	struct world		*w = test_world_new(1, 1024, 1024);
	struct lb		*lb = &w->lb[0];
	const struct lb_traffic	*t = &lb->svc[SVC_WLC].srv[0].traffic;
	const struct lb_traffic	*st = &lb->svc[SVC_WLC].traffic;
	int			 i;

	(void)state;
	lb_traffic_sent(lb, SVC_WLC, 0, 100);	/* before any window */
	lb_tick(lb, T0, 16);
	for (i = 0; i < 200; i++)
		lb_traffic_sent(lb, SVC_WLC, 0, 100);
	lb_tick(lb, T0 + LB_RATE_MS - 1, 16);	/* too early */
	assert_int_equal(t->pps, 0);
	lb_tick(lb, T0 + 2 * LB_RATE_MS, 16);	/* 200 in 20 s */
	assert_int_equal(t->pps, 10);
	assert_int_equal(t->bps, 1000);
	assert_int_equal(st->pps, 10);
	assert_int_equal(st->bps, 1000);
	assert_int_equal(lb->svc[SVC_WLC].srv[1].traffic.pps, 0);
	/* a quiet window: back to 0 */
	lb_tick(lb, T0 + 3 * LB_RATE_MS, 16);
	assert_int_equal(t->pps, 0);
	assert_int_equal(t->packets, 201);
	world_free(w);
}

/*
 * A reload keeps the counts of the servers and services it keeps; a new
 * server starts at 0. A server that comes up forgets the error that took
 * it down.
 */
static void
test_traffic_reload(void **state)
{
	struct world			*w = test_world_new(1, 1024, 1024);
	struct lb			*lb = &w->lb[0];
	struct ilbd_conf		*c = world_conf_new(1024, 1024);
	struct lb_reload_summary	 sum;
	char				*cause = NULL;

	(void)state;
	lb_traffic_sent(lb, SVC_WLC, 2, 100);
	lb->svc[SVC_WLC].srv[2].traffic.conns = 5;
	assert_int_equal(lb_server_set_up(lb, SVC_WLC, 1, 0, ECONNREFUSED),
	    0);
	world_web(c, "web", 10, SCHED_WLC, 4);
	world_web(c, "hashed", 11, SCHED_HASH, 3);
	assert_int_equal(lb_reload(lb, c, T0, &sum, &cause), 0);
	world_conf_free(c);
	assert_int_equal(sum.servers_added, 1);
	assert_int_equal(lb->svc[SVC_WLC].srv[2].traffic.packets, 1);
	assert_int_equal(lb->svc[SVC_WLC].srv[2].traffic.bytes, 100);
	assert_int_equal(lb->svc[SVC_WLC].srv[2].traffic.conns, 5);
	assert_int_equal(lb->svc[SVC_WLC].srv[3].traffic.packets, 0);
	assert_int_equal(lb->svc[SVC_WLC].traffic.bytes, 100);
	assert_int_equal(lb->svc[SVC_WLC].srv[1].last_error, ECONNREFUSED);
	assert_int_equal(lb_server_set_up(lb, SVC_WLC, 1, 1, ECONNREFUSED),
	    0);
	assert_int_equal(lb->svc[SVC_WLC].srv[1].last_error, 0);
	world_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_at_owner),
		cmocka_unit_test(test_retransmitted_syn),
		cmocka_unit_test(test_syn_at_non_owner),
		cmocka_unit_test(test_handed_off_syn_at_non_owner),
		cmocka_unit_test(test_non_syn_at_owner),
		cmocka_unit_test(test_non_syn_at_backup),
		cmocka_unit_test(test_non_syn_other_member_cache_hit),
		cmocka_unit_test(test_non_syn_other_member_cache_miss),
		cmocka_unit_test(test_cache_disabled_claim15),
		cmocka_unit_test(test_fin_queues_end),
		cmocka_unit_test(test_rst_queues_end),
		cmocka_unit_test(test_icmp_ptb),
		cmocka_unit_test(test_cache_ack_refreshes_holders),
		cmocka_unit_test(test_ltoc_ack_refreshes_backup),
		cmocka_unit_test(test_est_closed_before_delay),
		cmocka_unit_test(test_est_entry_moved),
		cmocka_unit_test(test_est_delay_capped),
		cmocka_unit_test(test_est_ring_full),
		cmocka_unit_test(test_est_queue_full),
		cmocka_unit_test(test_refuse_reasons),
		cmocka_unit_test(test_owner_without_entry_orphan),
		cmocka_unit_test(test_owner_without_entry_hash_fallback),
		cmocka_unit_test(test_ltoc_full),
		cmocka_unit_test(test_no_service),
		cmocka_unit_test(test_no_healthy_server),
		cmocka_unit_test(test_port_reuse_after_close),
		cmocka_unit_test(test_closing_entry_to_owner),
		cmocka_unit_test(test_late_end),
		cmocka_unit_test(test_syn_reopen),
		cmocka_unit_test(test_tag_late_end_then_late_new),
		cmocka_unit_test(test_tag_late_new_after_end),
		cmocka_unit_test(test_tag_late_new_after_next),
		cmocka_unit_test(test_tag_late_new_after_own_close),
		cmocka_unit_test(test_tag_ended_table),
		cmocka_unit_test(test_syn_entry_stranger),
		cmocka_unit_test(test_syn_supersede),
		cmocka_unit_test(test_expiry_releases_server),
		cmocka_unit_test(test_single_member_owns_all),
		cmocka_unit_test(test_no_members),
		cmocka_unit_test(test_not_member_syn_handoff),
		cmocka_unit_test(test_not_member_cache_hit),
		cmocka_unit_test(test_not_member_ltoc_hit_leaving),
		cmocka_unit_test(test_learn_conn_roles),
		cmocka_unit_test(test_learn_conn_update_in_place),
		cmocka_unit_test(test_learn_conflict),
		cmocka_unit_test(test_learn_conn_bad),
		cmocka_unit_test(test_refresh_in),
		cmocka_unit_test(test_refresh_once_per_window),
		cmocka_unit_test(test_service_server),
		cmocka_unit_test(test_role_accounting),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_learn_bad),
		cmocka_unit_test(test_input_and_names),
		cmocka_unit_test(test_syn_after_lost_end),
		cmocka_unit_test(test_traffic_counts),
		cmocka_unit_test(test_traffic_rates),
		cmocka_unit_test(test_traffic_reload),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
