/*
 * test_burst.c: lb_input_burst() decides as lb_input() does packet by
 * packet: the same verdicts and actions, records, counters and tables.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "lb.h"
#include "lb_int.h"
#include "ltoc.h"
#include "packet.h"
#include "sched.h"
#include "world.h"

#define TEST_T0		1000000ULL	/* ms */
#define TEST_FLOWS	300
#define TEST_PKTS	20000
#define TEST_PKTLEN	40		/* IPv4 + TCP, no options */

static struct world	ws, wb;		/* single packets, bursts */
static uint64_t		rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
test_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return ((uint32_t)((rng * 0x2545f4914f6cdd1dULL) >> 32));
}

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

/*
 * Packet i: flow f of TEST_FLOWS (203.0.113.x:port -> 198.51.100.10:80),
 * mostly ACKs, some SYNs (new or retransmitted), FINs and RSTs, random
 * sequence numbers; one in 50 has a bad checksum (refused).
 */
static void
test_packet(uint8_t *p)
{
	static const uint8_t	flags[8] = { PKT_TH_SYN, PKT_TH_ACK,
	    PKT_TH_ACK, PKT_TH_ACK, PKT_TH_ACK, PKT_TH_FIN | PKT_TH_ACK,
	    PKT_TH_RST, PKT_TH_ACK };
	uint32_t		f = test_rand() % TEST_FLOWS, seq = test_rand();

	memset(p, 0, TEST_PKTLEN);
	p[0] = 0x45;
	p[3] = TEST_PKTLEN;
	p[8] = 64;
	p[9] = 6;
	p[12] = 203;
	p[14] = 113;
	p[15] = (uint8_t)(1 + f % 200);
	p[16] = 198;
	p[17] = 51;
	p[18] = 100;
	p[19] = 10;
	p[20] = (uint8_t)((1024 + f) >> 8);
	p[21] = (uint8_t)(1024 + f);
	p[23] = 80;
	p[24] = (uint8_t)(seq >> 24);
	p[25] = (uint8_t)(seq >> 16);
	p[26] = (uint8_t)((seq >> 8) & 0x3);	/* near the SYN's, mostly */
	p[27] = (uint8_t)seq;
	p[32] = 0x50;
	p[33] = flags[test_rand() % 8];
	test_csum4(p);
	if (test_rand() % 50 == 0)
		p[11] ^= 1;
}

/* What the owner's NEW would teach lb for a SYN it handed off. */
static void
test_peer_new(struct lb *lb, const struct pkt_info *pi, uint64_t now)
{
	struct lb_record	r;
	int			o, b, svc;

	if ((svc = lb_service_find(lb, &pi->key)) < 0)
		return;
	lb_rank(lb, &pi->key, &o, &b);
	if (o < 0 || (size_t)o == lb->self)
		return;
	memset(&r, 0, sizeof(r));
	r.type = LB_REC_NEW;
	r.key = pi->key;
	r.service = (uint16_t)svc;
	r.server = (uint16_t)sched_pick_hash(&lb->svc[svc].sched, &pi->key);
	r.owner = lb->slots[o];
	r.backup = b < 0 ? CONN_SLOT_NONE : lb->slots[b];
	r.tag = conn_syn_tag(pi->seq);
	lb_learn_new(lb, &r, now);
}

static void
test_same_action(const struct lb_action *a, const struct lb_action *b)
{
	assert_int_equal(a->verdict, b->verdict);
	assert_int_equal(a->drop, b->drop);
	assert_int_equal(a->path, b->path);
	assert_int_equal(a->service, b->service);
	assert_int_equal(a->server, b->server);
	assert_int_equal(a->member, b->member);
}

/* Both queues hold the same records; both are emptied. */
static void
test_same_records(struct lb *a, struct lb *b)
{
	struct lb_record	ra, rb;

	while (lb_queue_pop(a, &ra)) {
		assert_true(lb_queue_pop(b, &rb));
		assert_int_equal(ra.type, rb.type);
		assert_int_equal(ra.flags, rb.flags);
		assert_int_equal(ra.service, rb.service);
		assert_int_equal(ra.server, rb.server);
		assert_int_equal(ra.owner, rb.owner);
		assert_int_equal(ra.backup, rb.backup);
		assert_int_equal(ra.tag, rb.tag);
		assert_memory_equal(&ra.key, &rb.key, sizeof(ra.key));
	}
	assert_false(lb_queue_pop(b, &rb));
}

static void
test_start(struct world *w)
{
	struct ilbd_conf	*c = world_conf_new(256, 256);

	world_web(c, "web", 10, SCHED_WLC, 3);
	world_init(w, c, 4);
	assert_int_equal(world_start(w, 1, 42, 0), 0);
}

/*
 * Bursts of 1 to 40 packets (past LB_BURST_MAX too), tables small enough
 * to fill (SYN fallback, cache eviction), time going on so that entries
 * expire: after each burst the two lbs agree on everything.
 */
static void
test_burst_equals_single(void **state)
{
	uint8_t			 pkt[40][TEST_PKTLEN];
	const uint8_t		*bufs[40];
	size_t			 lens[40], i, j, k;
	struct pkt_info		 pis[40], pia[40];
	struct lb_action	 acts[40], act;
	struct lb		*a, *b;
	uint64_t		 now = TEST_T0, npkts = 0;
	uint32_t		 cursor;
	struct conn_entry	*e, *f;
	int			 v[40], r;

	(void)state;
	test_start(&ws);
	test_start(&wb);
	a = &ws.lb[0];
	b = &wb.lb[0];
	for (i = 0; i < TEST_PKTS; i += k) {
		k = 1 + test_rand() % 40;
		for (j = 0; j < k; j++) {
			test_packet(pkt[j]);
			bufs[j] = pkt[j];
			lens[j] = TEST_PKTLEN;
		}
		lb_input_burst(b, bufs, lens, k, 0, now, pis, acts, v);
		npkts += k;
		for (j = 0; j < k; j++) {
			r = lb_input(a, pkt[j], TEST_PKTLEN, 0, now, &pia[j],
			    &act);
			assert_int_equal(r, v[j]);
			test_same_action(&act, &acts[j]);
		}
		/* the owners' NEWs arrive after the burst */
		for (j = 0; j < k; j++) {
			if (v[j] == LB_HANDOFF && PKT_IS_SYN_ONLY(&pis[j])) {
				test_peer_new(a, &pia[j], now);
				test_peer_new(b, &pis[j], now);
			}
		}
		test_same_records(a, b);
		now += 1 + test_rand() % 2000;
		assert_int_equal(lb_tick(a, now, 64), lb_tick(b, now, 64));
		test_same_records(a, b);
	}
	for (i = 0; i < LB_STATS_N; i++)
		assert_int_equal(lb_stats_get(&a->stats, i),
		    lb_stats_get(&b->stats, i));
	assert_int_equal(a->stats.rx, npkts);
	assert_int_equal(ltoc_count(&a->ltoc), ltoc_count(&b->ltoc));
	assert_int_equal(cache_count(&a->cache), cache_count(&b->cache));
	assert_true(a->stats.forward_owner > 0 && a->stats.handoff_out > 0 &&
	    a->stats.bad_packet > 0 && a->ltoc.tab.stats.expiries > 0);
	LTOC_FOREACH(e, &a->ltoc, cursor) {
		assert_non_null(f = ltoc_lookup(&b->ltoc, &e->key));
		assert_int_equal(e->state, f->state);
		assert_int_equal(e->server, f->server);
		assert_int_equal(e->last, f->last);
	}
	world_free(&ws);
	world_free(&wb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_equals_single),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
