/* test_sched.c: unit tests for server selection (sched.c). */

#include <sys/socket.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sched.h"

#define NKEYS	100000

static const enum conf_sched all_kinds[] = {
	SCHED_RR, SCHED_WRR, SCHED_LC, SCHED_WLC, SCHED_HASH
};

static uint64_t	test_rand(uint64_t *);
static void	test_conf(struct server_conf *, unsigned int, const uint32_t *);
static void	test_key(uint64_t *, struct flow_key *, int);
static void	test_map(const struct sched *, int *);
static void	test_fill_ref(const struct sched *, uint16_t *);

/* xorshift64*: reproducible keys. */
static uint64_t
test_rand(uint64_t *st)
{
	*st ^= *st >> 12;
	*st ^= *st << 25;
	*st ^= *st >> 27;
	return *st * 0x2545f4914f6cdd1dULL;
}

/* n servers 10.0.0.1.., weights w (or 1 each when w is NULL). */
static void
test_conf(struct server_conf *c, unsigned int n, const uint32_t *w)
{
	unsigned int	i;

	memset(c, 0, n * sizeof(*c));
	for (i = 0; i < n; i++) {
		c[i].addr.family = AF_INET;
		c[i].addr.u.b[0] = 10;
		c[i].addr.u.b[2] = (uint8_t)(i >> 8);
		c[i].addr.u.b[3] = (uint8_t)(i + 1);
		c[i].weight = w != NULL ? w[i] : 1;
		c[i].line = (int)i + 1;
	}
}

static void
test_key(uint64_t *st, struct flow_key *k, int v6)
{
	uint64_t	r = 0;
	unsigned int	i;

	memset(k, 0, sizeof(*k));
	k->len = v6 ? FLOW_ID_V6 : FLOW_ID_V4;
	for (i = 0; i < k->len; i++) {
		if (i % 8 == 0)
			r = test_rand(st);
		k->id[i] = (uint8_t)(r >> (8 * (i % 8)));
	}
}

/* The hash choice of NKEYS fixed keys. */
static void
test_map(const struct sched *s, int *out)
{
	struct flow_key	k;
	uint64_t	st = 0x1234567887654321ULL;
	unsigned int	i;

	for (i = 0; i < NKEYS; i++) {
		test_key(&st, &k, i & 1);
		out[i] = sched_pick_hash(s, &k);
	}
}

/*
 * The weighted Maglev fill written plainly, O(rounds * n): round by round,
 * each eligible server in index order earns its weight and claims a slot
 * per max_w of credit. sched.c must build exactly this table.
 */
static void
test_fill_ref(const struct sched *s, uint16_t *t)
{
	uint32_t	pos[CONF_SERVERS_MAX], credit[CONF_SERVERS_MAX];
	uint32_t	m = s->maglev_size, filled = 0, max_w = 0, slot;
	unsigned int	i;

	for (i = 0; i < m; i++)
		t[i] = SCHED_MAGLEV_EMPTY;
	for (i = 0; i < s->n; i++) {
		pos[i] = s->srv[i].mg_offset;
		credit[i] = 0;
		if (sched_eligible(s, i) && s->srv[i].weight > max_w)
			max_w = s->srv[i].weight;
	}
	if (max_w == 0)
		return;
	while (filled < m) {
		for (i = 0; i < s->n && filled < m; i++) {
			if (!sched_eligible(s, i))
				continue;
			credit[i] += s->srv[i].weight;
			if (credit[i] < max_w)
				continue;
			credit[i] -= max_w;
			do {
				slot = pos[i];
				pos[i] = (pos[i] + s->srv[i].mg_skip) % m;
			} while (t[slot] != SCHED_MAGLEV_EMPTY);
			t[slot] = (uint16_t)i;
			filled++;
		}
	}
}

/* The heap-driven fill equals the plain one, for assorted services. */
static void
test_sched_hash_fill(void **state)
{
	struct server_conf	*c;
	struct sched		 s;
	uint16_t		*t;
	uint64_t		 st = 5;
	const unsigned int	 ns[] = { 1, 2, 3, 7, 31, 200 };
	unsigned int		 r, i, n;

	(void)state;
	c = calloc(CONF_SERVERS_MAX, sizeof(*c));
	t = calloc(SCHED_MAGLEV_MAX, sizeof(*t));
	assert_non_null(c);
	assert_non_null(t);
	for (r = 0; r < 24; r++) {
		n = ns[r % (sizeof(ns) / sizeof(ns[0]))];
		test_conf(c, n, NULL);
		for (i = 0; i < n; i++)
			c[i].weight = (uint32_t)(test_rand(&st) % 1001);
		c[0].weight = 1 + r % 3 * 499;
		assert_int_equal(sched_init(&s, SCHED_HASH, c, n), 0);
		test_fill_ref(&s, t);
		assert_memory_equal(s.maglev, t, s.maglev_size * sizeof(*t));
		for (i = 0; i < n; i++)
			if (test_rand(&st) % 4 == 0)
				sched_set_up(&s, i, 0);
		sched_rebuild(&s);
		test_fill_ref(&s, t);
		assert_memory_equal(s.maglev, t, s.maglev_size * sizeof(*t));
		sched_free(&s);
	}
	free(c);
	free(t);
}

static void
test_sched_init_errors(void **state)
{
	struct server_conf	c[4];
	struct sched		s;
	uint32_t		w[4] = { 1, 1001, 1, 1 };
	uint32_t		m, d;
	unsigned int		n;

	(void)state;
	test_conf(c, 4, NULL);
	errno = 0;
	assert_int_equal(sched_init(&s, SCHED_RR, c, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(sched_init(&s, SCHED_RR, c, CONF_SERVERS_MAX + 1), -1);
	test_conf(c, 4, w);
	assert_int_equal(sched_init(&s, SCHED_WLC, c, 4), -1);
	test_conf(c, 4, NULL);
	assert_int_equal(sched_init(&s, SCHED_WLC, c, 4), 0);
	assert_int_equal(sched_set_weight(&s, 0, 1001), -1);
	assert_int_equal(sched_set_up(&s, 4, 0), -1);
	assert_int_equal(sched_set_drained(&s, 4, 1), -1);
	assert_int_equal(sched_neligible(&s), 4);
	sched_free(&s);

	assert_int_equal(sched_maglev_size(1), 4093);
	assert_int_equal(sched_maglev_size(10), 4093);
	assert_int_equal(sched_maglev_size(20), 8009);
	assert_int_equal(sched_maglev_size(100), 40009);
	assert_int_equal(sched_maglev_size(164), 65537);
	assert_int_equal(sched_maglev_size(1024), 65537);
	for (n = 1; n <= CONF_SERVERS_MAX; n++) {
		m = sched_maglev_size(n);
		assert_true(m >= SCHED_MAGLEV_MIN && m <= SCHED_MAGLEV_MAX);
		assert_true(m >= SCHED_MAGLEV_MAX ||
		    m >= n * SCHED_MAGLEV_PER_SRV);
		for (d = 2; d * d <= m; d++)
			assert_int_not_equal(m % d, 0);
	}
}

/* Down (1), drained (2) and weight 0 (3) are never picked, by any kind. */
static void
test_sched_eligible_only(void **state)
{
	struct server_conf	c[5];
	struct sched		s;
	struct flow_key		k;
	uint64_t		st = 42;
	unsigned int		ki, i, seen[5];
	int			p;

	(void)state;
	test_conf(c, 5, NULL);
	for (ki = 0; ki < sizeof(all_kinds) / sizeof(all_kinds[0]); ki++) {
		assert_int_equal(sched_init(&s, all_kinds[ki], c, 5), 0);
		assert_int_equal(sched_set_up(&s, 1, 0), 0);
		assert_int_equal(sched_set_drained(&s, 2, 1), 0);
		assert_int_equal(sched_set_weight(&s, 3, 0), 0);
		assert_int_equal(sched_neligible(&s), 2);
		/* Before the rebuild: a stale table still never gives them. */
		for (i = 0; i < 1000; i++) {
			test_key(&st, &k, 0);
			p = sched_pick_hash(&s, &k);
			assert_true(p == 0 || p == 4);
		}
		sched_rebuild(&s);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < 1000; i++) {
			test_key(&st, &k, i & 1);
			p = sched_pick(&s, &k);
			assert_true(p == 0 || p == 4);
			sched_conn_add(&s, (unsigned int)p);
			seen[p]++;
			p = sched_pick_hash(&s, &k);
			assert_true(p == 0 || p == 4);
		}
		assert_true(seen[0] > 0 && seen[4] > 0);
		sched_free(&s);
	}
}

static void
test_sched_none_eligible(void **state)
{
	struct server_conf	c[3];
	struct sched		s;
	struct flow_key		k;
	uint64_t		st = 7;
	unsigned int		ki, i;

	(void)state;
	test_conf(c, 3, NULL);
	test_key(&st, &k, 0);
	for (ki = 0; ki < sizeof(all_kinds) / sizeof(all_kinds[0]); ki++) {
		assert_int_equal(sched_init(&s, all_kinds[ki], c, 3), 0);
		sched_set_up(&s, 0, 0);
		sched_set_drained(&s, 1, 1);
		sched_set_weight(&s, 2, 0);
		assert_int_equal(sched_pick_hash(&s, &k), -1);	/* dirty */
		sched_rebuild(&s);
		for (i = 0; i < 10; i++) {
			assert_int_equal(sched_pick(&s, &k), -1);
			assert_int_equal(sched_pick_hash(&s, &k), -1);
		}
		/* And back. */
		sched_set_up(&s, 0, 1);
		sched_rebuild(&s);
		assert_int_equal(sched_pick(&s, &k), 0);
		assert_int_equal(sched_pick_hash(&s, &k), 0);
		sched_free(&s);
	}
}

static void
test_sched_rr(void **state)
{
	struct server_conf	c[3];
	struct sched		s;
	const int		all[] = { 0, 1, 2, 0, 1, 2, 0 };
	const int		some[] = { 0, 2, 0, 2 };
	unsigned int		i;

	(void)state;
	test_conf(c, 3, NULL);
	assert_int_equal(sched_init(&s, SCHED_RR, c, 3), 0);
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		assert_int_equal(sched_pick(&s, NULL), all[i]);
	sched_set_up(&s, 1, 0);
	/* the cursor is past 0: 2 comes next, then 0 */
	assert_int_equal(sched_pick(&s, NULL), 2);
	for (i = 0; i < sizeof(some) / sizeof(some[0]); i++)
		assert_int_equal(sched_pick(&s, NULL), some[i]);
	sched_free(&s);
}

/* Weights 1,2,3: 1:2:3 in every 6 picks, interleaved (nginx order). */
static void
test_sched_wrr(void **state)
{
	struct server_conf	c[3];
	struct sched		s;
	const uint32_t		w[3] = { 1, 2, 3 };
	const int		order[6] = { 2, 1, 0, 2, 1, 2 };
	unsigned int		i, cnt[3] = { 0, 0, 0 };
	int			p;

	(void)state;
	test_conf(c, 3, w);
	assert_int_equal(sched_init(&s, SCHED_WRR, c, 3), 0);
	for (i = 0; i < 600; i++) {
		p = sched_pick(&s, NULL);
		assert_int_equal(p, order[i % 6]);
		cnt[p]++;
		if (i % 6 == 5) {
			assert_int_equal(cnt[0] * 2, cnt[1]);
			assert_int_equal(cnt[0] * 3, cnt[2]);
		}
	}
	/* weight change: restart, still exact over a cycle (1,1,3 -> 5) */
	sched_set_weight(&s, 1, 1);
	memset(cnt, 0, sizeof(cnt));
	for (i = 0; i < 5; i++)
		cnt[sched_pick(&s, NULL)]++;
	assert_int_equal(cnt[0], 1);
	assert_int_equal(cnt[1], 1);
	assert_int_equal(cnt[2], 3);
	sched_free(&s);
}

static void
test_sched_lc(void **state)
{
	struct server_conf	c[3];
	struct sched		s;
	unsigned int		i, cnt[3] = { 0, 0, 0 };
	int			p;

	(void)state;
	test_conf(c, 3, NULL);
	assert_int_equal(sched_init(&s, SCHED_LC, c, 3), 0);
	/* All idle and nobody counts: ties rotate. */
	for (i = 0; i < 6; i++)
		assert_int_equal(sched_pick(&s, NULL), (int)(i % 3));
	s.srv[0].active = 5;
	s.srv[1].active = 2;
	s.srv[2].active = 7;
	assert_int_equal(sched_pick(&s, NULL), 1);
	/* Counting: 1 fills up to 5, then they share. */
	for (i = 0; i < 3; i++) {
		p = sched_pick(&s, NULL);
		assert_int_equal(p, 1);
		sched_conn_add(&s, (unsigned int)p);
	}
	assert_int_equal(s.srv[1].active, 5);
	for (i = 0; i < 4; i++) {
		p = sched_pick(&s, NULL);
		assert_true(p == 0 || p == 1);
		sched_conn_add(&s, (unsigned int)p);
	}
	assert_int_equal(s.srv[0].active, 7);
	assert_int_equal(s.srv[1].active, 7);
	for (i = 0; i < 3000; i++) {
		p = sched_pick(&s, NULL);
		sched_conn_add(&s, (unsigned int)p);
		cnt[p]++;
	}
	assert_int_equal(cnt[0], 1000);
	assert_int_equal(cnt[1], 1000);
	assert_int_equal(cnt[2], 1000);
	sched_conn_del(&s, 2);
	assert_int_equal(sched_pick(&s, NULL), 2);
	s.srv[2].active = 0;
	sched_conn_del(&s, 2);			/* saturates */
	assert_int_equal(s.srv[2].active, 0);
	sched_set_up(&s, 2, 0);
	assert_int_not_equal(sched_pick(&s, NULL), 2);
	sched_free(&s);
}

static void
test_sched_wlc(void **state)
{
	struct server_conf	c[3];
	struct sched		s;
	const uint32_t		w[3] = { 1, 2, 4 };
	unsigned int		i;
	int			p;

	(void)state;
	test_conf(c, 3, w);
	assert_int_equal(sched_init(&s, SCHED_WLC, c, 3), 0);
	/* active/weight: 3, 2, 2.5 */
	s.srv[0].active = 3;
	s.srv[1].active = 4;
	s.srv[2].active = 10;
	assert_int_equal(sched_pick(&s, NULL), 1);
	/* From idle, with counting, the load follows the weights. */
	for (i = 0; i < 3; i++)
		s.srv[i].active = 0;
	for (i = 0; i < 7000; i++) {
		p = sched_pick(&s, NULL);
		sched_conn_add(&s, (unsigned int)p);
	}
	assert_int_equal(s.srv[0].active, 1000);
	assert_int_equal(s.srv[1].active, 2000);
	assert_int_equal(s.srv[2].active, 4000);
	/* No 32-bit overflow: 4e9 * 1000 would wrap. */
	sched_set_weight(&s, 0, 1000);
	sched_set_weight(&s, 1, 999);
	sched_set_weight(&s, 2, 0);
	s.srv[0].active = 4000000000U;
	s.srv[1].active = 3999999000U;
	/* 4e9/1000 = 4.0e6 < 3999999000/999 = 4.004e6 */
	assert_int_equal(sched_pick(&s, NULL), 0);
	sched_free(&s);
}

static void
test_sched_hash_deterministic(void **state)
{
	struct server_conf	c[8];
	struct sched		s, t;
	struct flow_key		k, k2;
	uint64_t		st = 99;
	unsigned int		i;
	int			p;

	(void)state;
	test_conf(c, 8, NULL);
	assert_int_equal(sched_init(&s, SCHED_HASH, c, 8), 0);
	/* The fallback works with any scheduler and agrees. */
	assert_int_equal(sched_init(&t, SCHED_WLC, c, 8), 0);
	for (i = 0; i < 10000; i++) {
		test_key(&st, &k, i & 1);
		p = sched_pick(&s, &k);
		assert_in_range(p, 0, 7);
		assert_int_equal(sched_pick(&s, &k), p);
		assert_int_equal(sched_pick_hash(&s, &k), p);
		assert_int_equal(sched_pick_hash(&t, &k), p);
		/* Only id[0..len) counts. */
		k2 = k;
		assert_int_equal(sched_hash_key(&k2), sched_hash_key(&k));
	}
	/* A fixed vector: the hash must not change between hosts/builds. */
	memset(&k, 0, sizeof(k));
	k.len = FLOW_ID_V4;
	for (i = 0; i < FLOW_ID_V4; i++)
		k.id[i] = (uint8_t)i;
	print_message("hash(00..0b) = %016llx\n",
	    (unsigned long long)sched_hash_key(&k));
	assert_true(sched_hash_key(&k) == 0xfb92fd834d7f2511ULL);
	k.len = FLOW_ID_V6;
	assert_true(sched_hash_key(&k) != 0xfb92fd834d7f2511ULL);
	sched_free(&s);
	sched_free(&t);
}

/* Shares of NKEYS keys within 10% (relative) of the weights' shares. */
static void
test_sched_hash_distribution(void **state)
{
	struct server_conf	c[5];
	struct sched		s;
	const uint32_t		w[2][5] = {
		{ 1, 1, 1, 1, 1 }, { 100, 200, 300, 400, 1000 }
	};
	int			*map;
	unsigned int		i, t, cnt[5];
	double			want, got, sum;

	(void)state;
	map = malloc(NKEYS * sizeof(*map));
	assert_non_null(map);
	for (t = 0; t < 2; t++) {
		test_conf(c, 5, w[t]);
		assert_int_equal(sched_init(&s, SCHED_HASH, c, 5), 0);
		test_map(&s, map);
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < NKEYS; i++)
			cnt[map[i]]++;
		for (sum = 0, i = 0; i < 5; i++)
			sum += w[t][i];
		for (i = 0; i < 5; i++) {
			want = w[t][i] / sum;
			got = (double)cnt[i] / NKEYS;
			print_message("weights %u: server %u want %.4f got "
			    "%.4f\n", t, i, want, got);
			assert_true(got > want * 0.9 && got < want * 1.1);
		}
		sched_free(&s);
	}
	free(map);
}

/* Remove one of 5, then bring it back: minimal disruption, same map. */
static void
test_sched_hash_remove(void **state)
{
	struct server_conf	c[5];
	struct sched		s;
	int			*a, *b;
	unsigned int		i, moved = 0, others = 0, on_others = 0;

	(void)state;
	a = malloc(NKEYS * sizeof(*a));
	b = malloc(NKEYS * sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	test_conf(c, 5, NULL);
	assert_int_equal(sched_init(&s, SCHED_HASH, c, 5), 0);
	test_map(&s, a);
	sched_set_up(&s, 2, 0);
	sched_rebuild(&s);
	test_map(&s, b);
	for (i = 0; i < NKEYS; i++) {
		assert_int_not_equal(b[i], 2);
		if (a[i] != b[i])
			moved++;
		if (a[i] != 2) {
			on_others++;
			if (a[i] != b[i])
				others++;
		}
	}
	print_message("remove 1 of 5: moved %.4f of keys, %.4f of the keys "
	    "on the other servers\n", (double)moved / NKEYS,
	    (double)others / on_others);
	assert_true((double)moved / NKEYS < 0.2 + 0.03);
	assert_true((double)others / on_others < 0.03);

	sched_set_up(&s, 2, 1);
	sched_rebuild(&s);
	test_map(&s, b);
	assert_memory_equal(a, b, NKEYS * sizeof(*a));
	sched_free(&s);
	free(a);
	free(b);
}

/* Add a sixth server (weight 0 -> 1, as `server weight` would). */
static void
test_sched_hash_add(void **state)
{
	struct server_conf	c[6];
	struct sched		s;
	int			*a, *b;
	unsigned int		i, moved = 0, stray = 0;
	double			f;

	(void)state;
	a = malloc(NKEYS * sizeof(*a));
	b = malloc(NKEYS * sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	test_conf(c, 6, NULL);
	c[5].weight = 0;
	assert_int_equal(sched_init(&s, SCHED_HASH, c, 6), 0);
	test_map(&s, a);
	assert_int_equal(sched_set_weight(&s, 5, 1), 0);
	sched_rebuild(&s);
	test_map(&s, b);
	for (i = 0; i < NKEYS; i++) {
		assert_int_not_equal(a[i], 5);
		if (a[i] != b[i]) {
			moved++;
			if (b[i] != 5)
				stray++;	/* moved between old servers */
		}
	}
	f = (double)moved / NKEYS;
	print_message("add 6th: moved %.4f of keys (1/6 = %.4f), %.4f "
	    "between old servers\n", f, 1.0 / 6, (double)stray / NKEYS);
	assert_true(f > 1.0 / 6 - 0.03 && f < 1.0 / 6 + 0.03);
	assert_true((double)stray / NKEYS < 0.03);
	sched_free(&s);
	free(a);
	free(b);
}

/* A large service: build time and balance with 1024 servers. */
static void
test_sched_hash_large(void **state)
{
	struct server_conf	*c;
	struct sched		 s;
	unsigned int		 i, cnt_min = UINT32_MAX, cnt_max = 0;
	unsigned int		*cnt;

	(void)state;
	c = calloc(CONF_SERVERS_MAX, sizeof(*c));
	cnt = calloc(CONF_SERVERS_MAX, sizeof(*cnt));
	assert_non_null(c);
	assert_non_null(cnt);
	test_conf(c, CONF_SERVERS_MAX, NULL);
	c[0].weight = 1000;	/* worst case for the weighted fill */
	assert_int_equal(sched_init(&s, SCHED_HASH, c, CONF_SERVERS_MAX), 0);
	assert_int_equal(s.maglev_size, 65537);
	for (i = 0; i < s.maglev_size; i++)
		cnt[s.maglev[i]]++;
	for (i = 1; i < CONF_SERVERS_MAX; i++) {
		if (cnt[i] < cnt_min)
			cnt_min = cnt[i];
		if (cnt[i] > cnt_max)
			cnt_max = cnt[i];
	}
	print_message("1024 servers, one at 1000: slots %u, others %u..%u\n",
	    cnt[0], cnt_min, cnt_max);
	/* 1000/2023 of the slots; the others get 32 or 33 each. */
	assert_in_range(cnt[0], 65537 * 1000 / 2023 - 1024,
	    65537 * 1000 / 2023 + 1024);
	assert_true(cnt_min >= 31 && cnt_max <= 33);
	sched_free(&s);
	free(c);
	free(cnt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched_init_errors),
		cmocka_unit_test(test_sched_eligible_only),
		cmocka_unit_test(test_sched_none_eligible),
		cmocka_unit_test(test_sched_rr),
		cmocka_unit_test(test_sched_wrr),
		cmocka_unit_test(test_sched_lc),
		cmocka_unit_test(test_sched_wlc),
		cmocka_unit_test(test_sched_hash_deterministic),
		cmocka_unit_test(test_sched_hash_distribution),
		cmocka_unit_test(test_sched_hash_remove),
		cmocka_unit_test(test_sched_hash_add),
		cmocka_unit_test(test_sched_hash_fill),
		cmocka_unit_test(test_sched_hash_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
