/* test_cache.c: unit tests for the LRU cache of associations. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "conntab.h"

#define TCP_S	900
#define FIN_S	60
#define GRAN_MS	32000	/* TCP_S's granule: 900 / 16 rounded down to 2^5 s */

/* A key from i, v4 or v6 (same first 12 bytes). */
static struct flow_key
test_key(uint32_t i, int v6)
{
	struct flow_key	k;

	memset(&k, 0, sizeof(k));
	k.len = v6 ? FLOW_ID_V6 : FLOW_ID_V4;
	k.id[1] = 80;
	k.id[2] = 10;
	k.id[5] = 1;
	k.id[6] = (uint8_t)(i >> 8);
	k.id[7] = (uint8_t)i;
	k.id[8] = 192;
	k.id[10] = (uint8_t)(i >> 24);
	k.id[11] = (uint8_t)(i >> 16);
	return (k);
}

static struct cache *
test_cache_new_tcp(uint32_t size, uint32_t tcp_s)
{
	static struct cache	c;
	struct tables_conf	conf = {
		.ltoc_size = 1024,
		.cache_size = size,
		.tcp_timeout_s = tcp_s,
		.fin_timeout_s = FIN_S,
		.syn_timeout_s = 30,
	};

	assert_int_equal(cache_init(&c, &conf, 42), 0);
	return (&c);
}

static struct cache *
test_cache_new(uint32_t size)
{
	return (test_cache_new_tcp(size, TCP_S));
}

static struct conn_entry *
test_learn(struct cache *c, uint32_t i, uint64_t now)
{
	struct flow_key		 k = test_key(i, 0);
	struct conn_entry	*e;

	assert_non_null(e = cache_insert(c, &k, now));
	e->service = 1;
	e->server = (uint16_t)i;
	e->owner = 2;
	e->backup = 3;
	return (e);
}

static int
test_has(struct cache *c, uint32_t i, uint64_t now)
{
	struct flow_key	k = test_key(i, 0);

	return (cache_lookup(c, &k, now) != NULL);
}

static void
test_disabled(void **state)
{
	struct cache	*c = test_cache_new(0);
	struct flow_key	 k = test_key(1, 0);
	uint32_t	 cursor = 0;

	(void)state;
	assert_false(cache_enabled(c));
	assert_null(cache_insert(c, &k, 0));
	assert_null(cache_lookup(c, &k, 0));
	assert_null(cache_peek(c, &k));
	assert_int_equal(cache_count(c), 0);
	assert_int_equal(cache_expire(c, 1000000000, 100), 0);
	assert_null(cache_next(c, &cursor));
	assert_int_equal(cache_stats(c)->evictions, 0);
	assert_int_equal(cache_stats(c)->full, 0);
	cache_free(c);
}

static void
test_insert_lookup(void **state)
{
	struct cache		*c = test_cache_new(64);
	struct flow_key		 k4 = test_key(5, 0), k6 = test_key(5, 1);
	struct conn_entry	*e;

	(void)state;
	assert_true(cache_enabled(c));
	e = test_learn(c, 5, 0);
	assert_ptr_equal(cache_lookup(c, &k4, 0), e);
	assert_int_equal(e->server, 5);
	assert_int_equal(e->backup, 3);
	assert_null(cache_lookup(c, &k6, 0));
	assert_non_null(e = cache_insert(c, &k6, 0));
	e->server = 6;
	assert_int_equal(cache_lookup(c, &k4, 0)->server, 5);
	assert_int_equal(cache_lookup(c, &k6, 0)->server, 6);

	/* insert of a present key replaces its association */
	e = cache_insert(c, &k4, 0);
	assert_int_equal(e->server, 0);
	assert_int_equal(e->owner, CONN_SLOT_NONE);
	assert_int_equal(cache_count(c), 2);
	assert_int_equal(cache_stats(c)->replaces, 1);

	cache_remove(c, e);
	assert_null(cache_lookup(c, &k4, 0));
	assert_int_equal(cache_count(c), 1);
	cache_free(c);
}

/* Uses a second apart: strict LRU order. */
/*
 * issue 22: a cache's UDP flows are on their service's FIFO: they expire
 * by its timeouts, and a full cache evicts new UDP flows (before TCP
 * ones) from each service's FIFO in turn.
 */
static void
test_udp_services(void **state)
{
	struct cache		*c = test_cache_new(4);
	struct flow_key		 k[5];
	struct conn_entry	*e;
	unsigned int		 i;

	(void)state;
	cache_set_udp_timeouts(c, 1, 5, 50);
	cache_set_udp_timeouts(c, 2, 20, 200);
	for (i = 0; i < 5; i++) {
		k[i] = test_key(300 + i, 0);
		if (i < 4)
			k[i].len |= FLOW_KEY_UDP;
	}
	/* flows 0 and 1 of service 1, 2 and 3 of service 2; 4 is TCP */
	for (i = 0; i < 4; i++) {
		assert_non_null(e = cache_insert(c, &k[i], 1000 * i));
		cache_set_service(c, e, i < 2 ? 1 : 2);
	}
	assert_int_equal(conntab_sub_count(&c->tab, CACHE_LIST_UDP_NEW, 1), 2);
	assert_int_equal(conntab_sub_count(&c->tab, CACHE_LIST_UDP_NEW, 2), 2);
	/* full: each insert evicts a new UDP flow, services in turn */
	assert_non_null(cache_insert(c, &k[4], 5000));
	assert_int_equal(cache_stats(c)->evictions, 1);
	assert_null(cache_peek(c, &k[0]));
	assert_int_equal(cache_count(c), 4);
	assert_non_null(e = cache_peek(c, &k[3]));
	cache_remove(c, e);
	assert_non_null(e = cache_insert(c, &k[0], 6000));
	cache_set_service(c, e, 1);
	assert_non_null(e = cache_insert(c, &k[3], 6000));	/* evicts 2 */
	cache_set_service(c, e, 2);
	assert_null(cache_peek(c, &k[2]));
	/* expiry: service 1's after 5 s, service 2's after 20 s */
	assert_int_equal(cache_expire(c, 10999, 100), 1);	/* 1 (1 s) */
	assert_null(cache_peek(c, &k[1]));
	assert_int_equal(cache_expire(c, 11000, 100), 1);	/* 0 (6 s) */
	assert_null(cache_peek(c, &k[0]));
	assert_int_equal(cache_expire(c, 25999, 100), 0);
	assert_int_equal(cache_expire(c, 26000, 100), 1);	/* 3 */
	assert_non_null(cache_peek(c, &k[4]));			/* TCP */
	cache_free(c);
}

/* LRU to the granule of the TCP list (GRAN_MS, conntab_touch()). */
static void
test_lru_eviction(void **state)
{
	struct cache	*c = test_cache_new(4);
	struct flow_key	 k;
	uint32_t	 i;

	(void)state;
	for (i = 1; i <= 4; i++)
		test_learn(c, i, i * GRAN_MS);
	assert_true(test_has(c, 1, 5 * GRAN_MS)); /* 1 is now the most recent */
	test_learn(c, 5, 6 * GRAN_MS);		/* evicts 2 */
	test_learn(c, 6, 7 * GRAN_MS);		/* evicts 3 */
	assert_int_equal(cache_stats(c)->evictions, 2);
	assert_int_equal(cache_count(c), 4);
	assert_false(test_has(c, 2, 8 * GRAN_MS));
	assert_false(test_has(c, 3, 8 * GRAN_MS));
	assert_true(test_has(c, 4, 8 * GRAN_MS));
	assert_true(test_has(c, 1, 8 * GRAN_MS));
	assert_true(test_has(c, 5, 8 * GRAN_MS));
	assert_true(test_has(c, 6, 8 * GRAN_MS));
	/* order is now 4 1 5 6; a peek does not count as use */
	k = test_key(4, 0);
	assert_non_null(cache_peek(c, &k));
	test_learn(c, 7, 9 * GRAN_MS);
	assert_null(cache_peek(c, &k));
	/* replacing a present key when full evicts nothing */
	test_learn(c, 7, 9 * GRAN_MS);
	assert_int_equal(cache_stats(c)->evictions, 3);
	assert_int_equal(cache_count(c), 4);
	cache_free(c);
}

/*
 * LRU to the granule: a use within the granule an entry was last moved
 * in does not reorder it (conntab_touch()), so among entries of one
 * granule the first used in it is evicted first. With a timeout under
 * 32 s the granule is 1 s (base 1000 ms), else GRAN_MS here.
 */
static void
test_lru_granule_run(uint32_t tcp_s, uint64_t g)
{
	struct cache	*c = test_cache_new_tcp(3, tcp_s);
	/* the granule's last ms that rounds up into it (seconds round up) */
	uint64_t	 end = 2 * g - (g == 1000 ? 100 : 1100);

	test_learn(c, 1, g + 1);
	test_learn(c, 2, g + g / 5);
	test_learn(c, 3, g + g / 2);
	assert_true(test_has(c, 1, end));	/* same granule: stays first */
	test_learn(c, 4, end);		/* evicts 1 */
	assert_false(test_has(c, 1, end));
	assert_true(test_has(c, 2, 2 * g + 1));	/* a later granule: moves */
	test_learn(c, 5, 2 * g + 1);		/* evicts 3 */
	assert_false(test_has(c, 3, 2 * g + 1));
	assert_true(test_has(c, 2, 2 * g + 1));
	assert_true(test_has(c, 4, 2 * g + 1));
	assert_true(test_has(c, 5, 2 * g + 1));
	cache_free(c);
}

static void
test_lru_same_second(void **state)
{
	(void)state;
	test_lru_granule_run(20, 1000);
	test_lru_granule_run(TCP_S, GRAN_MS);
}

/*
 * The granule's price: an idle entry behind a head that was used within
 * its granule expires late, by less than a granule, and never early.
 */
static void
test_expiry_granule(void **state)
{
	struct cache	*c = test_cache_new(8);
	struct flow_key	 k;

	(void)state;
	test_learn(c, 1, 0);
	test_learn(c, 2, 1000);			/* behind 1 */
	assert_true(test_has(c, 1, 20000));	/* same granule: 1 stays head */
	assert_int_equal(cache_expire(c, TCP_S * 1000, 100), 0);
	assert_int_equal(cache_expire(c, (TCP_S + 1) * 1000 - 1, 100), 0);
	/* 2 idle since TCP_S + 1 s, but behind 1 (used at 20 s) */
	assert_int_equal(cache_expire(c, (TCP_S + 1) * 1000, 100), 0);
	k = test_key(2, 0);
	assert_non_null(cache_peek(c, &k));	/* late, not lost */
	assert_int_equal(cache_expire(c, (TCP_S + 20) * 1000 - 1, 100), 0);
	assert_int_equal(cache_expire(c, (TCP_S + 20) * 1000, 100), 2);
	assert_int_equal(cache_count(c), 0);
	cache_free(c);
}

static void
test_closing_evicted_first(void **state)
{
	struct cache		*c = test_cache_new(3);
	struct conn_entry	*e;

	(void)state;
	test_learn(c, 1, 0);
	test_learn(c, 2, 0);
	e = test_learn(c, 3, 0);
	cache_set_state(c, e, CONN_CLOSING, 0);
	test_learn(c, 4, 0);
	assert_false(test_has(c, 3, 0));
	assert_true(test_has(c, 1, 0));
	assert_true(test_has(c, 2, 0));
	cache_free(c);
}

static void
test_expiry(void **state)
{
	struct cache		*c = test_cache_new(64);
	struct conn_entry	*e;

	(void)state;
	test_learn(c, 1, 0);
	test_learn(c, 2, 0);
	e = test_learn(c, 3, 0);
	cache_set_state(c, e, CONN_ESTABLISHED, 0);
	e = test_learn(c, 4, 0);
	cache_set_state(c, e, CONN_CLOSING, 0);

	assert_int_equal(cache_expire(c, FIN_S * 1000 - 1, 100), 0);
	assert_int_equal(cache_expire(c, FIN_S * 1000, 100), 1);
	assert_false(test_has(c, 4, FIN_S * 1000));
	/* a lookup hit postpones expiry */
	assert_true(test_has(c, 2, 100 * 1000));
	assert_int_equal(cache_expire(c, TCP_S * 1000 - 1, 100), 0);
	assert_int_equal(cache_expire(c, TCP_S * 1000, 100), 2);
	assert_int_equal(cache_count(c), 1);
	assert_int_equal(cache_expire(c, (100 + TCP_S) * 1000, 100), 1);
	assert_int_equal(cache_count(c), 0);
	assert_int_equal(cache_stats(c)->expiries, 4);
	cache_free(c);
}

static void
test_expire_budget(void **state)
{
	struct cache	*c = test_cache_new(2000);
	uint32_t	 i;

	(void)state;
	for (i = 0; i < 1000; i++)
		test_learn(c, i, 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(cache_expire(c, TCP_S * 1000, 100), 100);
	assert_int_equal(cache_expire(c, TCP_S * 1000, 100), 0);
	cache_free(c);
}

static void
test_iterate_remove(void **state)
{
	struct cache		*c = test_cache_new(256);
	struct conn_entry	*e;
	uint32_t		 i, cursor, seen = 0;

	(void)state;
	for (i = 0; i < 200; i++)
		test_learn(c, i, 0);
	CACHE_FOREACH(e, c, cursor) {
		seen++;
		cache_remove(c, e);
	}
	assert_int_equal(seen, 200);
	assert_int_equal(cache_count(c), 0);
	cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_insert_lookup),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_udp_services),
		cmocka_unit_test(test_lru_same_second),
		cmocka_unit_test(test_closing_evicted_first),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_expiry_granule),
		cmocka_unit_test(test_expire_budget),
		cmocka_unit_test(test_iterate_remove),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
