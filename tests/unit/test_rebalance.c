/* test_rebalance.c: membership changes on the tables (claims 17 and 18). */

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
#include "stats.h"
#include "world.h"

#define TEST_NODES	4		/* ILBs 10.0.0.1..4 */
#define TEST_SENDS	4096
#define T0		1000000ULL	/* ms */
#define SVC		0

/* A membership: which nodes, in order, with their scoring constants. */
struct test_view {
	size_t			n;
	int			who[TEST_NODES];	/* node numbers */
	struct member_id	ids[TEST_NODES];
	uint16_t		slots[TEST_NODES];
	struct score_member	m[TEST_NODES];
};

/* One send call: who made it, to which slot, with what. */
struct test_sent {
	int			from;
	uint16_t		dst;
	struct conn_entry	e;
};

/* What lb_rebalance() sent, until test_deliver(). */
struct test_sends {
	struct test_sent	sent[TEST_SENDS];
	size_t			n;
	int			node[TEST_NODES];	/* send cb args */
};

static struct world		world;
static struct test_sends	sends;

/* Four ILBs, no membership yet; VIP 198.51.100.10:80, wlc, 3 servers. */
static struct world *
test_world_new(void)
{
	struct ilbd_conf	*c = world_conf_new(4096, 4096);
	int			 i;

	world_web(c, "web", 10, SCHED_WLC, 3);
	world_init(&world, c, TEST_NODES);
	memset(&sends, 0, sizeof(sends));
	for (i = 0; i < TEST_NODES; i++)
		sends.node[i] = i;
	assert_int_equal(world_start(&world, TEST_NODES, 7,
	    WORLD_NO_MEMBERS), 0);
	return (&world);
}

/* The view of nodes who[0..n). */
static void
test_view(struct world *w, struct test_view *v, const int *who,
    size_t n)
{
	size_t	i;

	memset(v, 0, sizeof(*v));
	v->n = n;
	for (i = 0; i < n; i++) {
		v->who[i] = who[i];
		v->ids[i] = w->ids[who[i]];
		v->slots[i] = (uint16_t)(WORLD_SLOT0 + who[i]);
		score_member_init(&w->lb[0].score, &v->m[i], &v->ids[i]);
	}
}

/* Node's index in v, or LB_SELF_NONE. */
static size_t
test_view_self(const struct test_view *v, int node)
{
	size_t	i;

	for (i = 0; i < v->n; i++)
		if (v->who[i] == node)
			return (i);
	return (LB_SELF_NONE);
}

/* Owner and backup of key under v, as node numbers (-1: none). */
static void
test_view_rank(struct world *w, const struct test_view *v,
    const struct flow_key *key, int *o, int *b)
{
	int	io, ib;

	score_rank(&w->lb[0].score, v->m, v->n, key, &io, &ib);
	*o = io < 0 ? -1 : v->who[io];
	*b = ib < 0 ? -1 : v->who[ib];
}

/* Every node in v takes v as its membership; the others join or left. */
static void
test_apply(struct world *w, const struct test_view *v)
{
	int	i;

	for (i = 0; i < TEST_NODES; i++)
		assert_int_equal(lb_set_members(&w->lb[i], v->ids, v->slots,
		    v->n, test_view_self(v, i)), 0);
}

static struct pkt_info
test_pkt(uint16_t sport, uint8_t flags)
{
	return (world_pkt(10, 80, sport, flags));
}

/* Owner and backup of the connection from sport under v, node numbers. */
static void
test_rank_port(struct world *w, const struct test_view *v,
    uint16_t sport, int *o, int *b)
{
	struct pkt_info	pi = test_pkt(sport, 0);

	test_view_rank(w, v, &pi.key, o, b);
}

/*
 * A client port whose holders are (oo, ob) under old and (no, nb) under
 * nv, node numbers, -1 for any; 0 if there is none.
 */
static uint16_t
test_find2(struct world *w, const struct test_view *old, int oo, int ob,
    const struct test_view *nv, int no, int nb)
{
	struct pkt_info	pi;
	uint32_t	sport;
	int		o, b;

	for (sport = 1024; sport < 65536; sport++) {
		pi = test_pkt((uint16_t)sport, 0);
		test_view_rank(w, old, &pi.key, &o, &b);
		if ((oo != -1 && o != oo) || (ob != -1 && b != ob))
			continue;
		test_view_rank(w, nv, &pi.key, &o, &b);
		if ((no != -1 && o != no) || (nb != -1 && b != nb))
			continue;
		return ((uint16_t)sport);
	}
	return (0);
}

/*
 * Open a connection: SYN at its owner under the current membership, NEW
 * delivered to every other node. Returns the server.
 */
static unsigned int
test_open(struct world *w, const struct test_view *v, uint16_t sport)
{
	struct pkt_info		pi = test_pkt(sport, PKT_TH_SYN);
	struct lb_action	act;
	int			o, b;

	test_view_rank(w, v, &pi.key, &o, &b);
	assert_int_equal(lb_decide(&w->lb[o], &pi, 0, T0, &act), LB_FORWARD);
	pi.tcp_flags = PKT_TH_ACK;
	assert_int_equal(lb_decide(&w->lb[o], &pi, 0, T0 + 1, &act),
	    LB_FORWARD);
	assert_true(world_broadcast(w, (size_t)o, T0) >= 0);
	return (act.server);
}

static void
test_record(void *arg, const struct conn_entry *e, uint16_t dst)
{
	assert_true(sends.n < TEST_SENDS);
	sends.sent[sends.n].from = *(const int *)arg;
	sends.sent[sends.n].dst = dst;
	sends.sent[sends.n].e = *e;
	sends.n++;
}

/* lb_rebalance() at node to v; returns its send count. */
static int
test_rebalance(struct world *w, const struct test_view *v, int node)
{
	return (lb_rebalance(&w->lb[node], v->ids, v->slots, v->n,
	    test_view_self(v, node), test_record, &sends.node[node]));
}

/* Deliver the recorded sends as TRANSFER records, then forget them. */
static void
test_deliver(struct world *w)
{
	const struct conn_entry	*e;
	size_t			 i;

	for (i = 0; i < sends.n; i++) {
		e = &sends.sent[i].e;
		assert_int_equal(lb_learn_conn(&w->lb[sends.sent[i].dst -
		    WORLD_SLOT0], &e->key, e->service, e->server, e->owner,
		    e->backup, (enum conn_state)e->state, 0, T0 + 100), 0);
	}
	sends.n = 0;
}

static struct conn_entry *
test_ltoc(struct world *w, int node, uint16_t sport)
{
	struct pkt_info	pi = test_pkt(sport, 0);

	return (ltoc_lookup(&w->lb[node].ltoc, &pi.key));
}

static struct conn_entry *
test_cached(struct world *w, int node, uint16_t sport)
{
	struct pkt_info	pi = test_pkt(sport, 0);

	return (cache_peek(&w->lb[node].cache, &pi.key));
}

static uint32_t
test_active(struct world *w, int node, unsigned int server)
{
	return (w->lb[node].svc[SVC].sched.srv[server].active);
}

/* Expect exactly one recorded send: from node to dst as (owner, backup). */
static void
test_expect_one(int from, int dst, int owner, int backup,
    unsigned int server)
{
	assert_int_equal(sends.n, 1);
	assert_int_equal(sends.sent[0].from, from);
	assert_int_equal(sends.sent[0].dst, WORLD_SLOT0 + dst);
	assert_int_equal(sends.sent[0].e.owner, WORLD_SLOT0 + owner);
	assert_int_equal(sends.sent[0].e.backup, WORLD_SLOT0 + backup);
	assert_int_equal(sends.sent[0].e.server, server);
	assert_int_equal(sends.sent[0].e.service, SVC);
}

/* An entry held in the LTOC with role and holders as node numbers. */
static void
test_expect_ltoc(struct world *w, int node, uint16_t sport, int role,
    int owner, int backup)
{
	struct conn_entry	*e = test_ltoc(w, node, sport);

	assert_non_null(e);
	assert_int_equal(e->role, role);
	assert_int_equal(e->owner, WORLD_SLOT0 + owner);
	assert_int_equal(e->backup, WORLD_SLOT0 + backup);
}

/* Dropped to the cache: out of the LTOC, cached with the new holders. */
static void
test_expect_cache(struct world *w, int node, uint16_t sport,
    unsigned int server, int owner, int backup)
{
	struct conn_entry	*e = test_cached(w, node, sport);

	assert_null(test_ltoc(w, node, sport));
	assert_non_null(e);
	assert_int_equal(e->server, server);
	assert_int_equal(e->owner, WORLD_SLOT0 + owner);
	assert_int_equal(e->backup, WORLD_SLOT0 + backup);
}

static const int	test_abc[] = { 0, 1, 2 };
static const int	test_abcd[] = { 0, 1, 2, 3 };

/*
 * Claim 17 row 1 at R = node 0, J = node 3 joins: R owner -> J owner, R
 * backup. R sends the entry to J as owned and becomes backup; the old
 * backup B drops it to its cache; the fourth node sends nothing.
 */
static void
test_join_r_owner_to_j_owner(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, nv;
	unsigned int		 srv;
	uint16_t		 sport;
	int			 o, b, other, i;

	(void)state;
	test_view(w, &old, test_abc, 3);
	test_view(w, &nv, test_abcd, 4);
	test_apply(w, &old);
	assert_int_not_equal(sport = test_find2(w, &old, 0, -1, &nv, 3, 0),
	    0);
	srv = test_open(w, &old, sport);
	test_rank_port(w, &old, sport, &o, &b);
	other = 3 - b;			/* neither old holder nor J */
	assert_int_equal(test_active(w, 0, srv), 1);
	for (i = 0; i < TEST_NODES; i++)
		assert_int_equal(test_rebalance(w, &nv, i), i == 0 ? 1 : 0);
	test_expect_one(0, 3, 3, 0, srv);
	test_expect_ltoc(w, 0, sport, CONN_ROLE_BACKUP, 3, 0);
	assert_int_equal(test_active(w, 0, srv), 0);
	assert_int_equal(w->lb[0].stats.to_backup, 1);
	assert_int_equal(w->lb[0].stats.entries_sent, 1);
	test_expect_cache(w, b, sport, srv, 3, 0);
	assert_int_equal(w->lb[b].stats.to_cache, 1);
	assert_null(test_ltoc(w, other, sport));
	test_deliver(w);
	test_expect_ltoc(w, 3, sport, CONN_ROLE_OWNER, 3, 0);
	assert_int_equal(test_ltoc(w, 3, sport)->server, srv);
	assert_int_equal(test_active(w, 3, srv), 1);
	assert_null(test_cached(w, 3, sport));
	world_free(w);
}

/*
 * Claim 17 row 2: R owner -> R owner, J backup. R sends to J as backup
 * and records backup = J; its count is unchanged; old backup -> cache.
 */
static void
test_join_j_backup(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, nv;
	unsigned int		 srv;
	uint16_t		 sport;
	int			 o, b, i;

	(void)state;
	test_view(w, &old, test_abc, 3);
	test_view(w, &nv, test_abcd, 4);
	test_apply(w, &old);
	assert_int_not_equal(sport = test_find2(w, &old, 0, -1, &nv, 0, 3),
	    0);
	srv = test_open(w, &old, sport);
	test_rank_port(w, &old, sport, &o, &b);
	for (i = 0; i < TEST_NODES; i++)
		assert_int_equal(test_rebalance(w, &nv, i), i == 0 ? 1 : 0);
	test_expect_one(0, 3, 0, 3, srv);
	test_expect_ltoc(w, 0, sport, CONN_ROLE_OWNER, 0, 3);
	assert_int_equal(test_active(w, 0, srv), 1);
	assert_int_equal(w->lb[0].stats.promoted, 0);
	assert_int_equal(w->lb[0].stats.to_backup, 0);
	test_expect_cache(w, b, sport, srv, 0, 3);
	test_deliver(w);
	test_expect_ltoc(w, 3, sport, CONN_ROLE_BACKUP, 0, 3);
	assert_int_equal(test_active(w, 3, srv), 0);
	world_free(w);
}

/*
 * Claim 17 row 3: R backup -> J owner or J backup, R neither. The old
 * owner O sends to J; R sends nothing and moves the entry to its cache.
 */
static void
test_join_r_backup_to_neither(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, nv;
	unsigned int		 srv;
	uint16_t		 sport;
	int			 o, jo, i, k;

	(void)state;
	test_view(w, &old, test_abc, 3);
	test_view(w, &nv, test_abcd, 4);
	for (k = 0; k < 2; k++) {	/* J owner, then J backup */
		test_apply(w, &old);
		for (o = 1, sport = 0; o <= 2 && sport == 0; o++)
			sport = k == 0 ?
			    test_find2(w, &old, o, 0, &nv, 3, o) :
			    test_find2(w, &old, o, 0, &nv, o, 3);
		assert_int_not_equal(sport, 0);
		o--;
		srv = test_open(w, &old, sport);
		for (i = 0; i < TEST_NODES; i++)
			assert_int_equal(test_rebalance(w, &nv, i),
			    i == o ? 1 : 0);
		jo = k == 0 ? 3 : o;
		test_expect_one(o, 3, jo, jo == 3 ? o : 3, srv);
		test_expect_ltoc(w, o, sport, jo == o ? CONN_ROLE_OWNER :
		    CONN_ROLE_BACKUP, jo, jo == 3 ? o : 3);
		assert_int_equal(test_active(w, o, srv), jo == o ? 1 : 0);
		test_expect_cache(w, 0, sport, srv, jo, jo == 3 ? o : 3);
		assert_int_equal(test_active(w, 0, srv), 0);
		test_deliver(w);
		test_expect_ltoc(w, 3, sport, jo == 3 ? CONN_ROLE_OWNER :
		    CONN_ROLE_BACKUP, jo, jo == 3 ? o : 3);
		assert_int_equal(test_active(w, 3, srv), jo == 3 ? 1 : 0);
	}
	world_free(w);
}

/*
 * Claim 18 row 1 at R = node 0 when F = node 3 leaves: R owner, F backup.
 * New backup N = next score; R sends it the entry. The others, F
 * included, send nothing.
 */
static void
test_leave_backup_left(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, nv;
	unsigned int		 srv;
	uint16_t		 sport;
	int			 o, n, i;

	(void)state;
	test_view(w, &old, test_abcd, 4);
	test_view(w, &nv, test_abc, 3);
	test_apply(w, &old);
	assert_int_not_equal(sport = test_find2(w, &old, 0, 3, &nv, 0, -1),
	    0);
	srv = test_open(w, &old, sport);
	test_rank_port(w, &nv, sport, &o, &n);
	for (i = 0; i < TEST_NODES; i++)
		assert_int_equal(test_rebalance(w, &nv, i), i == 0 ? 1 : 0);
	test_expect_one(0, n, 0, n, srv);
	test_expect_ltoc(w, 0, sport, CONN_ROLE_OWNER, 0, n);
	assert_int_equal(test_active(w, 0, srv), 1);
	/* F, not a member any more, dropped it to its cache */
	test_expect_cache(w, 3, sport, srv, 0, n);
	/* N, the new backup, adopted it from its cache; R survives: R sends */
	test_expect_ltoc(w, n, sport, CONN_ROLE_BACKUP, 0, n);
	assert_null(test_cached(w, n, sport));
	assert_int_equal(w->lb[n].stats.adopted, 1);
	test_deliver(w);
	test_expect_ltoc(w, n, sport, CONN_ROLE_BACKUP, 0, n);
	assert_null(test_cached(w, n, sport));
	assert_int_equal(test_active(w, n, srv), 0);
	world_free(w);
}

/*
 * Claim 18 row 2: R backup, F owner. R becomes owner (counted on its
 * scheduler), picks the new backup N and sends it the entry; the node
 * that only caches it drops F from the cached owner.
 */
static void
test_leave_owner_left(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, nv;
	unsigned int		 srv;
	uint16_t		 sport;
	int			 o, n, m, i;

	(void)state;
	test_view(w, &old, test_abcd, 4);
	test_view(w, &nv, test_abc, 3);
	test_apply(w, &old);
	assert_int_not_equal(sport = test_find2(w, &old, 3, 0, &nv, 0, -1),
	    0);
	srv = test_open(w, &old, sport);
	test_rank_port(w, &nv, sport, &o, &n);
	m = 3 - n;			/* the member that only caches it */
	assert_int_equal(test_active(w, 0, srv), 0);
	assert_int_equal(test_cached(w, m, sport)->owner, WORLD_SLOT0 + 3);
	/* F first: it is an old holder, but R survives: F sends nothing */
	assert_int_equal(test_rebalance(w, &nv, 3), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(test_rebalance(w, &nv, i), i == 0 ? 1 : 0);
	test_expect_one(0, n, 0, n, srv);
	test_expect_ltoc(w, 0, sport, CONN_ROLE_OWNER, 0, n);
	assert_int_equal(test_active(w, 0, srv), 1);
	assert_int_equal(test_active(w, 3, srv), 0);
	assert_int_equal(w->lb[0].stats.promoted, 1);
	assert_int_equal(test_cached(w, m, sport)->owner, WORLD_SLOT0);
	assert_int_equal(test_cached(w, m, sport)->backup, WORLD_SLOT0 + n);
	assert_int_equal(w->lb[m].stats.cache_rehomed, 1);
	test_deliver(w);
	test_expect_ltoc(w, n, sport, CONN_ROLE_BACKUP, 0, n);
	world_free(w);
}

/* An LTOC walk's fingerprint: entries with holders, role and state. */
static uint64_t
test_sum(struct lb *lb)
{
	struct conn_entry	*e;
	uint32_t		 cursor;
	uint64_t		 h = ltoc_count(&lb->ltoc);

	LTOC_FOREACH(e, &lb->ltoc, cursor)
		h = h * 1000003 + sched_hash_key(&e->key) + e->owner * 7 +
		    e->backup * 11 + e->role * 13 + e->state * 17 +
		    e->server * 19;
	return (h * 31 + cache_count(&lb->cache));
}

/*
 * lb_plan(): each entry whose prospective holders include J goes to J
 * once, from the responsible node, with its prospective holders; nothing
 * changes in any table or membership.
 */
static void
test_plan(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, nv;
	uint64_t		 sum[TEST_NODES];
	uint16_t		 sport;
	size_t			 i, expect = 0;
	int			 n, o, b, no, nb;

	(void)state;
	test_view(w, &old, test_abc, 3);
	test_view(w, &nv, test_abcd, 4);
	test_apply(w, &old);
	for (sport = 2000; sport < 2300; sport++) {
		test_open(w, &old, sport);
		test_rank_port(w, &nv, sport, &no, &nb);
		expect += no == 3 || nb == 3;
	}
	for (n = 0; n < TEST_NODES; n++)
		sum[n] = test_sum(&w->lb[n]);
	for (n = 0; n < TEST_NODES; n++)
		assert_true(lb_plan(&w->lb[n], nv.ids, nv.slots, nv.n,
		    test_record, &sends.node[n]) >= 0);
	assert_int_equal(sends.n, expect);
	for (i = 0; i < sends.n; i++) {
		const struct conn_entry *e = &sends.sent[i].e;

		assert_int_equal(sends.sent[i].dst, WORLD_SLOT0 + 3);
		test_view_rank(w, &old, &e->key, &o, &b);
		test_view_rank(w, &nv, &e->key, &no, &nb);
		assert_int_equal(e->owner, WORLD_SLOT0 + no);
		assert_int_equal(e->backup, WORLD_SLOT0 + nb);
		/* the best ranked old holder: on a join, the old owner */
		assert_int_equal(sends.sent[i].from, o);
		assert_true(o == no || o == nb);
	}
	for (n = 0; n < TEST_NODES; n++) {
		assert_int_equal(test_sum(&w->lb[n]), sum[n]);
		assert_int_equal(w->lb[n].nmembers, 3);
		assert_int_equal(w->lb[n].stats.rebalances, 0);
	}
	/* J learns them; the switch then moves them once more to J */
	test_deliver(w);
	assert_int_equal(ltoc_count(&w->lb[3].ltoc), expect);
	assert_int_equal(lb_plan(&w->lb[0], nv.ids, nv.slots, LB_MEMBERS_MAX +
	    1, test_record, &sends.node[0]), -1);
	world_free(w);
}

/*
 * Any membership change: every new holder that was not an old one gets
 * the entry exactly once; afterwards every connection is held by its new
 * owner and backup only, and each scheduler counts its owned entries.
 */
static void
test_change(struct world *w, const struct test_view *old,
    const struct test_view *nv)
{
	unsigned int	 got[TEST_NODES], held;
	uint16_t	 sport;
	size_t		 i;
	int		 n, o, b, no, nb, want;

	test_apply(w, old);
	for (sport = 3000; sport < 3400; sport++)
		test_open(w, old, sport);
	for (n = 0; n < TEST_NODES; n++)
		assert_true(test_rebalance(w, nv, n) >= 0);
	for (sport = 3000; sport < 3400; sport++) {
		struct flow_key k = test_pkt(sport, 0).key;

		test_view_rank(w, old, &k, &o, &b);
		test_view_rank(w, nv, &k, &no, &nb);
		memset(got, 0, sizeof(got));
		for (i = 0; i < sends.n; i++)
			if (memcmp(&sends.sent[i].e.key, &k, sizeof(k)) == 0)
				got[sends.sent[i].dst - WORLD_SLOT0]++;
		for (n = 0; n < TEST_NODES; n++) {
			/* every node rebalances, a leaving owner too */
			want = (n == no || n == nb) && n != o && n != b;
			assert_int_equal(got[n], want);
		}
	}
	test_deliver(w);
	for (n = 0, held = 0; n < TEST_NODES; n++) {
		uint32_t owned = 0, active = 0;
		struct conn_entry *e;
		uint32_t cursor;

		LTOC_FOREACH(e, &w->lb[n].ltoc, cursor) {
			test_view_rank(w, nv, &e->key, &no, &nb);
			assert_true(n == no || n == nb);
			assert_int_equal(e->role, n == no ? CONN_ROLE_OWNER :
			    CONN_ROLE_BACKUP);
			owned += e->role == CONN_ROLE_OWNER;
			held++;
		}
		for (i = 0; i < 3; i++)
			active += test_active(w, n, (unsigned int)i);
		assert_int_equal(active, owned);
	}
	assert_int_equal(held, 2 * 400);	/* each at owner and backup */
}

static void
test_exactly_one_sender_join(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, nv;

	(void)state;
	test_view(w, &old, test_abc, 3);
	test_view(w, &nv, test_abcd, 4);
	test_change(w, &old, &nv);
	world_free(w);
}

static void
test_exactly_one_sender_leave(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, nv;
	static const int	 acd[] = { 0, 2, 3 };

	(void)state;
	test_view(w, &old, test_abcd, 4);
	test_view(w, &nv, acd, 3);
	test_change(w, &old, &nv);
	world_free(w);
}

/* Join and leave at once: node 3 joins while node 1 leaves. */
static void
test_exactly_one_sender_swap(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, nv;
	static const int	 acd[] = { 0, 2, 3 };

	(void)state;
	test_view(w, &old, test_abc, 3);
	test_view(w, &nv, acd, 3);
	test_change(w, &old, &nv);
	world_free(w);
}

/* Both holders leave: the survivors cannot send; a leaving holder does. */
static void
test_both_holders_leave(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, nv;
	static const int	 ab[] = { 0, 1 };
	unsigned int		 srv;
	uint16_t		 sport;
	int			 o, b;

	(void)state;
	test_view(w, &old, test_abcd, 4);
	test_view(w, &nv, ab, 2);
	test_apply(w, &old);
	assert_int_not_equal(sport = test_find2(w, &old, 2, 3, &nv, -1, -1),
	    0);
	srv = test_open(w, &old, sport);
	test_rank_port(w, &nv, sport, &o, &b);
	/* the survivors adopt it from their caches, send it each other */
	assert_int_equal(test_rebalance(w, &nv, 0), 1);
	assert_int_equal(test_rebalance(w, &nv, 1), 1);
	/* node 2, the old owner, leaving: sends to both new holders */
	assert_int_equal(test_rebalance(w, &nv, 2), 2);
	assert_int_equal(test_rebalance(w, &nv, 3), 0);
	assert_int_equal(test_active(w, 2, srv), 0);
	test_expect_cache(w, 2, sport, srv, o, b);
	test_deliver(w);
	test_expect_ltoc(w, o, sport, CONN_ROLE_OWNER, o, b);
	test_expect_ltoc(w, b, sport, CONN_ROLE_BACKUP, o, b);
	assert_int_equal(test_active(w, o, srv), 1);
	world_free(w);
}

/*
 * Owner and backup die together (no rebalance of theirs): each survivor
 * that is a new holder and has the association in its cache adopts it in
 * its new role and sends it to the other new holder.
 */
static void
test_both_holders_die(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, nv;
	static const int	 ab[] = { 0, 1 };
	unsigned int		 srv;
	uint16_t		 sport;
	int			 o, b;

	(void)state;
	test_view(w, &old, test_abcd, 4);
	test_view(w, &nv, ab, 2);
	test_apply(w, &old);
	assert_int_not_equal(sport = test_find2(w, &old, 2, 3, &nv, -1, -1),
	    0);
	srv = test_open(w, &old, sport);
	test_rank_port(w, &nv, sport, &o, &b);
	assert_non_null(test_cached(w, o, sport));
	assert_int_equal(test_rebalance(w, &nv, o), 1);
	test_expect_one(o, b, o, b, srv);
	test_expect_ltoc(w, o, sport, CONN_ROLE_OWNER, o, b);
	assert_null(test_cached(w, o, sport));
	assert_int_equal(test_active(w, o, srv), 1);
	assert_int_equal(w->lb[o].stats.adopted, 1);
	assert_int_equal(w->lb[o].stats.holders_gone, 1);
	assert_int_equal(test_rebalance(w, &nv, b), 1);
	test_expect_ltoc(w, b, sport, CONN_ROLE_BACKUP, o, b);
	assert_int_equal(test_active(w, b, srv), 0);
	test_deliver(w);
	/* the copies update in place: roles and counts unchanged */
	test_expect_ltoc(w, o, sport, CONN_ROLE_OWNER, o, b);
	test_expect_ltoc(w, b, sport, CONN_ROLE_BACKUP, o, b);
	assert_int_equal(test_active(w, o, srv), 1);
	assert_int_equal(w->lb[0].stats.left_together, 0);	/* cache on */
	world_free(w);
}

/*
 * The backup dies; the owner dies too before its rebalance sends the
 * entry on. The survivor named new backup by the first change adopts it
 * from its cache (the owner survived then: it sends nothing); after the
 * second it is the only holder left, takes its new role and sends it on.
 */
static void
test_holders_die_one_after_other(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, mid, nv;
	static const int	 ab[] = { 0, 1 };
	unsigned int		 srv;
	uint16_t		 sport;
	int			 x, o, b, i;

	(void)state;
	test_view(w, &old, test_abcd, 4);
	test_view(w, &mid, test_abc, 3);
	test_view(w, &nv, ab, 2);
	test_apply(w, &old);
	assert_int_not_equal(sport = test_find2(w, &old, 2, 3, &mid, 2, -1),
	    0);
	srv = test_open(w, &old, sport);
	test_rank_port(w, &mid, sport, &o, &x);		/* o == 2 */
	for (i = 0; i < 2; i++)
		assert_int_equal(test_rebalance(w, &mid, i), 0);
	test_expect_ltoc(w, x, sport, CONN_ROLE_BACKUP, 2, x);
	assert_int_equal(w->lb[x].stats.adopted, 1);
	assert_int_equal(w->lb[x].stats.holders_gone, 0);
	/* node 2 dies before it sent anything */
	test_rank_port(w, &nv, sport, &o, &b);
	for (i = 0; i < 2; i++)
		test_rebalance(w, &nv, i);
	assert_true(sends.n >= 1);
	test_deliver(w);
	test_expect_ltoc(w, o, sport, CONN_ROLE_OWNER, o, b);
	test_expect_ltoc(w, b, sport, CONN_ROLE_BACKUP, o, b);
	assert_int_equal(test_active(w, o, srv), 1);
	assert_int_equal(test_active(w, b, srv), 0);
	world_free(w);
}

/* No cache: two members leaving at once is counted, nothing adopted. */
static void
test_both_holders_die_nocache(void **state)
{
	struct ilbd_conf	*c = world_conf_new(4096, 0);
	struct test_view	 old, nv;
	static const int	 ab[] = { 0, 1 };
	uint16_t		 sport;
	int			 i;

	(void)state;
	world_web(c, "web", 10, SCHED_WLC, 3);
	world_init(&world, c, TEST_NODES);
	memset(&sends, 0, sizeof(sends));
	for (i = 0; i < TEST_NODES; i++)
		sends.node[i] = i;
	assert_int_equal(world_start(&world, TEST_NODES, 7,
	    WORLD_NO_MEMBERS), 0);
	test_view(&world, &old, test_abcd, 4);
	test_view(&world, &nv, ab, 2);
	test_apply(&world, &old);
	assert_int_not_equal(sport = test_find2(&world, &old, 2, 3, &nv, -1,
	    -1), 0);
	test_open(&world, &old, sport);
	for (i = 0; i < 2; i++) {
		assert_int_equal(test_rebalance(&world, &nv, i), 0);
		assert_null(test_ltoc(&world, i, sport));
		assert_int_equal(world.lb[i].stats.left_together, 1);
		assert_int_equal(world.lb[i].stats.adopted, 0);
	}
	world_free(&world);
}

/*
 * The cache walk in slices: lb_rebalance() adopts the first slice only,
 * lb_adopt_step() the rest, each entry once, each copy sent once.
 */
static void
test_adopt_slices(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, nv;
	static const int	 ab[] = { 0, 1 };
	struct pkt_info		 pi;
	uint16_t		 ports[8];
	uint32_t		 sport;
	size_t			 n = 0, i, steps = 0;
	int			 o, b, sent;

	(void)state;
	test_view(w, &old, test_abcd, 4);
	test_view(w, &nv, ab, 2);
	test_apply(w, &old);
	/* 8 connections held by 2 and 3, owned by 0 once they are gone */
	for (sport = 1024; sport < 65536 && n < 8; sport++) {
		pi = test_pkt((uint16_t)sport, 0);
		test_view_rank(w, &old, &pi.key, &o, &b);
		if (o + b != 5)
			continue;
		test_view_rank(w, &nv, &pi.key, &o, &b);
		if (o != 0)
			continue;
		test_open(w, &old, (uint16_t)sport);
		ports[n++] = (uint16_t)sport;
	}
	assert_int_equal(n, 8);
	w->lb[0].adopt_slice = 2;
	sent = test_rebalance(w, &nv, 0);
	assert_true(sent <= 2);
	assert_true(w->lb[0].stats.adopted <= 2);
	assert_int_equal(w->lb[0].adopt_walking, 1);
	while (w->lb[0].adopt_walking) {
		sent += lb_adopt_step(&w->lb[0], 2, test_record,
		    &sends.node[0]);
		assert_true(++steps < 4096);
	}
	assert_true(steps >= 3);
	assert_int_equal(sent, 8);
	assert_int_equal(sends.n, 8);
	for (i = 0; i < sends.n; i++)
		assert_int_equal(sends.sent[i].dst, WORLD_SLOT0 + 1);
	assert_int_equal(w->lb[0].stats.adopted, 8);
	assert_int_equal(w->lb[0].stats.holders_gone, 8);
	for (i = 0; i < n; i++)
		test_expect_ltoc(w, 0, ports[i], CONN_ROLE_OWNER, 0, 1);
	assert_int_equal(lb_adopt_step(&w->lb[0], 2, test_record,
	    &sends.node[0]), 0);
	world_free(w);
}

/*
 * Owner and backup die; one of them restarts before the cache walk
 * reached the entry, and is its new owner, self its backup: the
 * restarted one knows nothing, so it still counts as departed and self
 * sends it the entry.
 */
static void
test_adopt_restarted(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old, nv, back;
	static const int	 ab[] = { 0, 1 }, abd[] = { 0, 1, 3 };
	struct pkt_info		 pi;
	uint16_t		 filler, sport;
	size_t			 i, found;
	int			 o, b;

	(void)state;
	test_view(w, &old, test_abcd, 4);
	test_view(w, &nv, ab, 2);
	test_view(w, &back, abd, 3);
	test_apply(w, &old);
	assert_int_not_equal(filler = test_find2(w, &old, 1, 2, &nv, -1,
	    -1), 0);
	assert_int_not_equal(sport = test_find2(w, &old, 2, 3, &back, 3, 0),
	    0);
	test_open(w, &old, filler);	/* first in node 0's cache */
	test_open(w, &old, sport);
	w->lb[0].adopt_slice = 1;
	test_rebalance(w, &nv, 0);
	assert_non_null(test_cached(w, 0, sport));	/* not reached yet */
	sends.n = 0;
	test_rebalance(w, &back, 0);	/* node 3 restarted, active again */
	while (w->lb[0].adopt_walking)
		lb_adopt_step(&w->lb[0], 1, test_record, &sends.node[0]);
	test_rank_port(w, &back, sport, &o, &b);
	assert_int_equal(o, 3);
	test_expect_ltoc(w, 0, sport, CONN_ROLE_BACKUP, 3, 0);
	pi = test_pkt(sport, 0);
	for (i = 0, found = 0; i < sends.n; i++)
		if (memcmp(&sends.sent[i].e.key, &pi.key, sizeof(pi.key)) ==
		    0) {
			assert_int_equal(sends.sent[i].dst, WORLD_SLOT0 + 3);
			assert_int_equal(sends.sent[i].e.owner,
			    WORLD_SLOT0 + 3);
			found++;
		}
	assert_int_equal(found, 1);
	world_free(w);
}

static void
test_rebalance_bad(void **state)
{
	struct world	*w = test_world_new();
	struct test_view	 old;

	(void)state;
	test_view(w, &old, test_abc, 3);
	test_apply(w, &old);
	assert_int_equal(lb_rebalance(&w->lb[0], old.ids, old.slots, 3, 3,
	    test_record, &sends.node[0]), -1);
	assert_int_equal(lb_rebalance(&w->lb[0], old.ids, old.slots,
	    LB_MEMBERS_MAX + 1, 0, test_record, &sends.node[0]), -1);
	assert_int_equal(w->lb[0].nmembers, 3);	/* nothing changed */
	assert_int_equal(w->lb[0].self, 0);
	/* no change: nothing moves, nothing sent */
	test_open(w, &old, 5000);
	assert_int_equal(test_rebalance(w, &old, 0) + test_rebalance(w,
	    &old, 1) + test_rebalance(w, &old, 2), 0);
	assert_int_equal(w->lb[0].stats.rebalances, 1);
	world_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_r_owner_to_j_owner),
		cmocka_unit_test(test_join_j_backup),
		cmocka_unit_test(test_join_r_backup_to_neither),
		cmocka_unit_test(test_leave_backup_left),
		cmocka_unit_test(test_leave_owner_left),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_exactly_one_sender_join),
		cmocka_unit_test(test_exactly_one_sender_leave),
		cmocka_unit_test(test_exactly_one_sender_swap),
		cmocka_unit_test(test_both_holders_leave),
		cmocka_unit_test(test_both_holders_die),
		cmocka_unit_test(test_holders_die_one_after_other),
		cmocka_unit_test(test_both_holders_die_nocache),
		cmocka_unit_test(test_adopt_slices),
		cmocka_unit_test(test_adopt_restarted),
		cmocka_unit_test(test_rebalance_bad),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
