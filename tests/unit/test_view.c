/* test_view.c: the one ranking of members (view.c) and those that use it. */

#include <sys/socket.h>

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
#include "ltoc.h"
#include "packet.h"
#include "score.h"
#include "view.h"
#include "world.h"

#define TEST_NODES	5		/* ILBs 10.0.0.1..5 */
#define TEST_SLOT0	200		/* slot of node i: 200 + i */
#define TEST_KEYS	400		/* entries in the plan tests */
#define TEST_SENDS	(4 * TEST_KEYS)
#define T0		1000000ULL	/* ms */

static const enum conf_scoring test_methods[] = {
	SCORING_CRC32C_MIX, SCORING_CRC32, SCORING_KEYED
};

/* One send call of lb_plan() or lb_rebalance(). */
struct test_sent {
	uint16_t		dst;
	struct conn_entry	e;
};

struct test_world {
	struct member_id	ids[TEST_NODES];
	uint16_t		slots[TEST_NODES];
	struct lb		lb;
	struct flow_key		keys[TEST_KEYS];
	uint16_t		owner[TEST_KEYS];	/* as learnt */
	uint16_t		backup[TEST_KEYS];
	struct test_sent	sent[TEST_SENDS];
	size_t			nsent;
};

static struct test_world	world;

static uint64_t
test_rand(uint64_t *s)
{
	uint64_t	x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (x * 0x2545f4914f6cdd1dULL);
}

static void
test_ctx(struct score_ctx *ctx, enum conf_scoring method)
{
	uint8_t	key[CONF_KEY_LEN];
	int	i;

	for (i = 0; i < CONF_KEY_LEN; i++)
		key[i] = (uint8_t)i;
	assert_int_equal(score_init(ctx, method, key), 0);
}

/* A random IPv4 (12-byte) or IPv6 (36-byte) connection key. */
static void
test_key(uint64_t *s, struct flow_key *key, int v6)
{
	size_t	i;

	memset(key, 0, sizeof(*key));
	key->len = v6 ? FLOW_ID_V6 : FLOW_ID_V4;
	for (i = 0; i < key->len; i++)
		key->id[i] = (uint8_t)test_rand(s);
}

/* Member i: 10.0.0.(i + 1), or 2001:db8::(i + 1) if v6. */
static void
test_id(struct member_id *id, size_t i, int v6)
{
	memset(id, 0, sizeof(*id));
	if (v6) {
		id->len = 16;
		id->b[0] = 0x20;
		id->b[1] = 0x01;
		id->b[2] = 0x0d;
		id->b[3] = 0xb8;
		id->b[14] = (uint8_t)((i + 1) >> 8);
		id->b[15] = (uint8_t)(i + 1);
	} else {
		id->len = 4;
		id->b[0] = 10;
		id->b[2] = (uint8_t)((i + 1) >> 8);
		id->b[3] = (uint8_t)(i + 1);
	}
}

/* Owner and backup by a full sort on score_one() and score_better(). */
static void
test_rank_ref(const struct score_ctx *ctx, const struct score_member *m,
    size_t n, const struct flow_key *key, int *o, int *b)
{
	uint64_t	s, so = 0, sb = 0;
	size_t		i;

	*o = *b = -1;
	for (i = 0; i < n; i++) {
		s = score_one(ctx, &m[i], key);
		if (*o < 0 || score_better(s, &m[i].id, so, &m[*o].id)) {
			*b = *o;
			sb = so;
			*o = (int)i;
			so = s;
		} else if (*b < 0 || score_better(s, &m[i].id, sb,
		    &m[*b].id)) {
			*b = (int)i;
			sb = s;
		}
	}
}

/* view_load() computes each member's constant and copies the slots. */
static void
test_load(void **state)
{
	struct score_ctx	ctx;
	struct score_member	m[8], want;
	struct member_id	ids[8];
	uint16_t		slots[8], ms[8];
	struct view		v;
	size_t			i;
	int			meth;

	(void)state;
	for (meth = 0; meth < 3; meth++) {
		test_ctx(&ctx, test_methods[meth]);
		for (i = 0; i < 8; i++) {
			test_id(&ids[i], i, i & 1);
			slots[i] = (uint16_t)(7 * i + 3);
		}
		memset(ms, 0xff, sizeof(ms));
		view_load(&v, &ctx, m, ms, ids, slots, 8);
		assert_ptr_equal(v.ctx, &ctx);
		assert_ptr_equal(v.m, m);
		assert_ptr_equal(v.slots, ms);
		assert_int_equal(v.n, 8);
		for (i = 0; i < 8; i++) {
			score_member_init(&ctx, &want, &ids[i]);
			assert_memory_equal(&m[i], &want, sizeof(want));
			assert_int_equal(ms[i], slots[i]);
		}
		/* the slots may be loaded in place */
		view_load(&v, &ctx, m, slots, ids, slots, 8);
		for (i = 0; i < 8; i++)
			assert_int_equal(v.slots[i], 7 * i + 3);
		view_load(&v, &ctx, m, ms, ids, slots, 0);
		assert_int_equal(v.n, 0);
	}
}

/*
 * view_rank() is score_rank() with slots, and both are the order of a
 * full sort: larger score, then larger id. Every method, IPv4 and IPv6
 * keys and ids, views of 0 to LB_MEMBERS_MAX members in any order.
 */
static void
test_rank_same_as_score_rank(void **state)
{
	static const size_t	sizes[] = { 0, 1, 2, 3, 5, 8, 33,
				    LB_MEMBERS_MAX };
	static struct score_member	m[LB_MEMBERS_MAX];
	static struct member_id		ids[LB_MEMBERS_MAX];
	static uint16_t			slots[LB_MEMBERS_MAX];
	static uint16_t			ms[LB_MEMBERS_MAX];
	struct score_ctx	ctx;
	struct flow_key		key;
	struct view		v;
	struct view_pick	p;
	uint64_t		s = 0x1234567;
	size_t			z, i, j, n;
	int			meth, k, o, b, ro, rb;

	(void)state;
	for (meth = 0; meth < 3; meth++) {
		test_ctx(&ctx, test_methods[meth]);
		for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
			n = sizes[z];
			for (i = 0; i < n; i++) {
				/* shuffled ids, mixed families */
				j = (i * 37 + 11) % n;
				test_id(&ids[i], j, (int)(j % 3 == 0));
				slots[i] = (uint16_t)(1000 + 13 * j);
			}
			view_load(&v, &ctx, m, ms, ids, slots, n);
			for (k = 0; k < 300; k++) {
				test_key(&s, &key, k & 1);
				view_rank(&v, &key, &p);
				score_rank(&ctx, m, n, &key, &o, &b);
				assert_int_equal(p.owner, o);
				assert_int_equal(p.backup, b);
				test_rank_ref(&ctx, m, n, &key, &ro, &rb);
				assert_int_equal(p.owner, ro);
				assert_int_equal(p.backup, rb);
				assert_int_equal(p.oslot, o < 0 ?
				    CONN_SLOT_NONE : slots[o]);
				assert_int_equal(p.bslot, b < 0 ?
				    CONN_SLOT_NONE : slots[b]);
			}
		}
	}
}

/* Equal scores: the larger id wins; a longer id is larger. */
static void
test_rank_tie(void **state)
{
	struct score_ctx	ctx;
	struct score_member	m[3];
	struct member_id	ids[3];
	uint16_t		slots[3] = { 50, 51, 52 }, ms[3];
	struct flow_key		key;
	struct view		v;
	struct view_pick	p;
	uint64_t		s = 99;

	(void)state;
	test_ctx(&ctx, SCORING_CRC32C_MIX);
	test_id(&ids[0], 1, 0);		/* 10.0.0.2 */
	test_id(&ids[1], 0, 1);		/* 2001:db8::1: longest */
	test_id(&ids[2], 4, 0);		/* 10.0.0.5 */
	view_load(&v, &ctx, m, ms, ids, slots, 3);
	m[0].crc_state = m[1].crc_state = m[2].crc_state = 0x12345678U;
	m[0].zero[0] = m[1].zero[0] = m[2].zero[0] = 0x9abcdef0U;
	m[0].zero[1] = m[1].zero[1] = m[2].zero[1] = 0x9abcdef0U;
	test_key(&s, &key, 0);
	view_rank(&v, &key, &p);
	assert_int_equal(p.owner, 1);
	assert_int_equal(p.backup, 2);
	assert_int_equal(p.oslot, 51);
	assert_int_equal(p.bslot, 52);
	v.n = 1;
	view_rank(&v, &key, &p);
	assert_int_equal(p.owner, 0);
	assert_int_equal(p.backup, -1);
	assert_int_equal(p.oslot, 50);
	assert_int_equal(p.bslot, CONN_SLOT_NONE);
	v.n = 0;
	view_rank(&v, &key, &p);
	assert_int_equal(p.owner, -1);
	assert_int_equal(p.oslot, CONN_SLOT_NONE);
	assert_int_equal(p.bslot, CONN_SLOT_NONE);
}

static void
test_find(void **state)
{
	struct score_ctx	ctx;
	struct score_member	m[3];
	struct member_id	ids[3];
	uint16_t		slots[3] = { 9, 4, 7 }, ms[3];
	struct view		v;
	size_t			i;

	(void)state;
	test_ctx(&ctx, SCORING_CRC32C_MIX);
	for (i = 0; i < 3; i++)
		test_id(&ids[i], i, 0);
	view_load(&v, &ctx, m, ms, ids, slots, 3);
	assert_int_equal(view_find(&v, 9), 0);
	assert_int_equal(view_find(&v, 4), 1);
	assert_int_equal(view_find(&v, 7), 2);
	assert_int_equal(view_find(&v, 5), -1);
	assert_int_equal(view_find(&v, CONN_SLOT_NONE), -1);
	v.n = 0;
	assert_int_equal(view_find(&v, 9), -1);
}

/* One ILB (node 0, no membership yet); VIP 198.51.100.10:80, 3 servers. */
static int
test_setup(void **state)
{
	struct test_world	*w = &world;
	struct ilbd_conf	*c = world_conf_new(4096, 4096);
	unsigned int		 i;
	int			 rc;

	memset(w, 0, sizeof(*w));
	world_web(c, "web", 10, SCHED_WLC, 3);
	for (i = 0; i < TEST_NODES; i++) {
		test_id(&w->ids[i], i, 0);
		w->slots[i] = (uint16_t)(TEST_SLOT0 + i);
	}
	rc = lb_init(&w->lb, c, 5);	/* lb keeps a copy of c */
	world_conf_free(c);
	if (rc == -1)
		return (-1);
	lb_set_self_slot(&w->lb, TEST_SLOT0);
	*state = w;
	return (0);
}

static int
test_teardown(void **state)
{
	struct test_world	*w = *state;

	lb_free(&w->lb);
	return (0);
}

/* The membership of nodes who[0..n) into ids and slots. */
static void
test_members(const struct test_world *w, const int *who, size_t n,
    struct member_id *ids, uint16_t *slots)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		ids[i] = w->ids[who[i]];
		slots[i] = w->slots[who[i]];
	}
}

/* A SYN to the service from client port sport. */
static struct pkt_info
test_syn(uint16_t sport)
{
	return (world_pkt(10, 80, sport, PKT_TH_SYN));
}

/*
 * The decision ranks by view_rank(): lb_rank() agrees, a SYN self owns
 * gets an LTOC entry holding the view's owner and backup slots, any
 * other SYN goes to the view's owner slot.
 */
static void
test_decision_uses_view(void **state)
{
	static const int	 who[4] = { 3, 0, 2, 1 };
	struct test_world	*w = *state;
	struct member_id	 ids[4];
	uint16_t		 slots[4], ms[4];
	struct score_member	 m[4];
	struct view		 v;
	struct view_pick	 p;
	struct pkt_info		 pi;
	struct lb_action	 act;
	struct conn_entry	*e;
	int			 o, b, port, mine = 0;

	test_members(w, who, 4, ids, slots);
	assert_int_equal(lb_set_members(&w->lb, ids, slots, 4, 1), 0);
	view_load(&v, &w->lb.score, m, ms, ids, slots, 4);
	for (port = 1000; port < 1400; port++) {
		pi = test_syn((uint16_t)port);
		view_rank(&v, &pi.key, &p);
		lb_rank(&w->lb, &pi.key, &o, &b);
		assert_int_equal(o, p.owner);
		assert_int_equal(b, p.backup);
		if (lb_decide(&w->lb, &pi, 0, T0, &act) == LB_HANDOFF) {
			assert_int_not_equal(p.oslot, TEST_SLOT0);
			assert_int_equal(act.member, p.oslot);
			continue;
		}
		assert_int_equal(act.verdict, LB_FORWARD);
		assert_int_equal(p.oslot, TEST_SLOT0);
		assert_non_null(e = ltoc_lookup(&w->lb.ltoc, &pi.key));
		assert_int_equal(e->owner, p.oslot);
		assert_int_equal(e->backup, p.bslot);
		mine++;
	}
	assert_true(mine > 50);
}

/*
 * TEST_KEYS LTOC entries at node 0 under the membership of nodes
 * 0, 1, 2, 3: self is owner or backup, the other holder any of 1..3 or
 * none.
 */
static void
test_fill(struct test_world *w)
{
	static const int	who[4] = { 0, 1, 2, 3 };
	struct member_id	ids[4];
	uint16_t		slots[4], other;
	uint64_t		s = 77;
	int			k;

	test_members(w, who, 4, ids, slots);
	assert_int_equal(lb_set_members(&w->lb, ids, slots, 4, 0), 0);
	for (k = 0; k < TEST_KEYS; k++) {
		test_key(&s, &w->keys[k], 0);
		other = k % 4 == 0 ? CONN_SLOT_NONE :
		    w->slots[k % 4];
		if (k % 8 < 4 || other == CONN_SLOT_NONE) {
			w->owner[k] = TEST_SLOT0;
			w->backup[k] = other;
		} else {
			w->owner[k] = other;
			w->backup[k] = TEST_SLOT0;
		}
		assert_int_equal(lb_learn_conn(&w->lb, &w->keys[k], 0,
		    (unsigned int)k % 3, w->owner[k], w->backup[k],
		    CONN_ESTABLISHED, 0, T0), 0);
	}
	assert_int_equal(ltoc_count(&w->lb.ltoc), TEST_KEYS);
}

static void
test_on_send(void *arg, const struct conn_entry *e, uint16_t dst)
{
	struct test_world	*w = arg;

	assert_true(w->nsent < TEST_SENDS);
	w->sent[w->nsent].dst = dst;
	w->sent[w->nsent].e = *e;
	w->nsent++;
}

/* Node of a slot. */
static int
test_node(uint16_t slot)
{
	return (slot - TEST_SLOT0);
}

/*
 * Is node 0 the one to tell key k's new holders under v? The best ranked
 * of its old holders in v, by view_rank() over them alone; when neither
 * is in v, the old owner.
 */
static int
test_expect_responsible(const struct test_world *w, const struct view *v,
    int k)
{
	struct member_id	ids[2];
	uint16_t		slots[2], ms[2];
	struct score_member	m[2];
	struct view		old;
	struct view_pick	p;
	size_t			n = 0;

	if (view_find(v, w->owner[k]) >= 0) {
		ids[n] = w->ids[test_node(w->owner[k])];
		slots[n++] = w->owner[k];
	}
	if (view_find(v, w->backup[k]) >= 0) {
		ids[n] = w->ids[test_node(w->backup[k])];
		slots[n++] = w->backup[k];
	}
	if (n == 0)
		return (w->owner[k] == TEST_SLOT0);
	view_load(&old, v->ctx, m, ms, ids, slots, n);
	view_rank(&old, &w->keys[k], &p);
	return (p.oslot == TEST_SLOT0);
}

/*
 * What lb_plan() or lb_rebalance() sent for key k under v: each new
 * holder by view_rank() that was not an old one, if node 0 is
 * responsible, with the new holders in the entry. Returns how many.
 */
static size_t
test_check_sent(const struct test_world *w, const struct view *v, int k,
    int *nresp)
{
	struct view_pick	p;
	uint16_t		dst[2];
	size_t			i, n = 0;
	int			d, want, got;

	view_rank(v, &w->keys[k], &p);
	dst[0] = p.oslot;
	dst[1] = p.bslot;
	for (d = 0; d < 2; d++) {
		want = test_expect_responsible(w, v, k) &&
		    dst[d] != CONN_SLOT_NONE && dst[d] != w->owner[k] &&
		    dst[d] != w->backup[k];
		got = 0;
		for (i = 0; i < w->nsent; i++) {
			if (w->sent[i].dst != dst[d] ||
			    memcmp(&w->sent[i].e.key, &w->keys[k],
			    sizeof(w->keys[k])) != 0)
				continue;
			got++;
			assert_int_equal(w->sent[i].e.owner, p.oslot);
			assert_int_equal(w->sent[i].e.backup, p.bslot);
		}
		assert_int_equal(got, want);
		n += (size_t)want;
	}
	*nresp += test_expect_responsible(w, v, k);
	return (n);
}

/* lb_plan() places entries and picks the sender by view_rank(). */
static void
test_plan_uses_view(void **state)
{
	static const int	 join[5] = { 0, 1, 2, 3, 4 };
	static const int	 swap[4] = { 4, 2, 0, 1 };	/* 3 gone */
	static const int	 leave[3] = { 1, 2, 4 };	/* self gone */
	static const struct {
		const int	*who;
		size_t		 n;
	} plans[] = { { join, 5 }, { swap, 4 }, { leave, 3 } };
	struct test_world	*w = *state;
	struct member_id	 ids[5];
	uint16_t		 slots[5], ms[5];
	struct score_member	 m[5];
	struct view		 v;
	size_t			 i, want;
	int			 k, nresp, sent;

	test_fill(w);
	for (i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		test_members(w, plans[i].who, plans[i].n, ids, slots);
		view_load(&v, &w->lb.score, m, ms, ids, slots, plans[i].n);
		w->nsent = 0;
		sent = lb_plan(&w->lb, ids, slots, plans[i].n, test_on_send,
		    w);
		assert_int_equal(sent, (int)w->nsent);
		nresp = 0;
		want = 0;
		for (k = 0; k < TEST_KEYS; k++)
			want += test_check_sent(w, &v, k, &nresp);
		assert_int_equal(want, w->nsent);
		assert_true(nresp > 0 && w->nsent > 0);
	}
}

/*
 * lb_rebalance() gives every entry the holders view_rank() names, and
 * sends as lb_plan() does.
 */
static void
test_rebalance_uses_view(void **state)
{
	static const int	 who[4] = { 4, 2, 0, 1 };	/* 3 gone */
	struct test_world	*w = *state;
	struct member_id	 ids[4];
	uint16_t		 slots[4], ms[4];
	struct score_member	 m[4];
	struct view		 v;
	struct view_pick	 p;
	struct conn_entry	*e;
	size_t			 want = 0;
	int			 k, nresp = 0, sent;

	test_fill(w);
	test_members(w, who, 4, ids, slots);
	view_load(&v, &w->lb.score, m, ms, ids, slots, 4);
	w->nsent = 0;
	sent = lb_rebalance(&w->lb, ids, slots, 4, 2, test_on_send, w);
	assert_int_equal(sent, (int)w->nsent);
	for (k = 0; k < TEST_KEYS; k++) {
		want += test_check_sent(w, &v, k, &nresp);
		view_rank(&v, &w->keys[k], &p);
		if ((e = ltoc_lookup(&w->lb.ltoc, &w->keys[k])) != NULL)
			assert_true(p.oslot == TEST_SLOT0 ||
			    p.bslot == TEST_SLOT0);
		else {
			assert_true(p.oslot != TEST_SLOT0 &&
			    p.bslot != TEST_SLOT0);
			assert_non_null(e = cache_peek(&w->lb.cache,
			    &w->keys[k]));
		}
		assert_int_equal(e->owner, p.oslot);
		assert_int_equal(e->backup, p.bslot);
	}
	assert_int_equal(want, w->nsent);
	assert_true(nresp > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_rank_same_as_score_rank),
		cmocka_unit_test(test_rank_tie),
		cmocka_unit_test(test_find),
		cmocka_unit_test_setup_teardown(test_decision_uses_view,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_plan_uses_view,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_rebalance_uses_view,
		    test_setup, test_teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
