/* test_ltoc.c: unit tests for the lookup table of owned connections. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conntab.h"
#include "ltoc.h"

#define SYN_S	30
#define TCP_S	900
#define FIN_S	60

static struct tables_conf	test_conf = {
	.ltoc_size = 1024,
	.cache_size = 1024,
	.tcp_timeout_s = TCP_S,
	.fin_timeout_s = FIN_S,
	.syn_timeout_s = SYN_S,
};

/* A v4 key: dport 80, daddr 10.0.0.1, sport and saddr from i. */
static struct flow_key
test_key4(uint32_t i)
{
	struct flow_key	k;

	memset(&k, 0, sizeof(k));
	k.len = FLOW_ID_V4;
	k.id[0] = 0;
	k.id[1] = 80;
	k.id[2] = 10;
	k.id[5] = 1;
	k.id[6] = (uint8_t)(i >> 8);
	k.id[7] = (uint8_t)i;
	k.id[8] = 192;
	k.id[9] = 168;
	k.id[10] = (uint8_t)(i >> 24);
	k.id[11] = (uint8_t)(i >> 16);
	return (k);
}

/* A v6 key whose first 12 bytes equal test_key4(i)'s. */
static struct flow_key
test_key6(uint32_t i)
{
	struct flow_key	k = test_key4(i);

	k.len = FLOW_ID_V6;
	return (k);
}

static struct ltoc *
test_ltoc_new(uint32_t size)
{
	static struct ltoc	l;
	struct tables_conf	conf = test_conf;

	conf.ltoc_size = size;
	assert_int_equal(ltoc_init(&l, &conf, 0x1234567890abcdefULL), 0);
	return (&l);
}

static void
test_expire_count(void *arg, const struct conn_entry *e)
{
	unsigned int	*n = arg;

	assert_int_equal(e->list, 0);	/* already unlinked */
	(*n)++;
}

static void
test_entry_size(void **state)
{
	(void)state;
	assert_true(sizeof(struct conn_entry) <= 128);
	assert_int_equal(sizeof(struct conn_entry), 64);
}

static void
test_insert_lookup_remove(void **state)
{
	struct ltoc		*l = test_ltoc_new(1024);
	struct flow_key		 k = test_key4(7), k2 = test_key4(8);
	struct conn_entry	*e;

	(void)state;
	assert_null(ltoc_lookup(l, &k));
	assert_non_null(e = ltoc_insert(l, &k, 1000));
	assert_int_equal(e->state, CONN_SYN);
	assert_int_equal(e->owner, CONN_SLOT_NONE);
	assert_int_equal(e->backup, CONN_SLOT_NONE);
	assert_int_equal(e->server, 0);
	e->server = 42;
	e->backup = 3;
	e->role = CONN_ROLE_OWNER;
	assert_ptr_equal(ltoc_lookup(l, &k), e);
	assert_null(ltoc_lookup(l, &k2));
	assert_int_equal(ltoc_count(l), 1);

	/* inserting the same key again resets the entry, no duplicate */
	assert_ptr_equal(ltoc_insert(l, &k, 2000), e);
	assert_int_equal(e->server, 0);
	assert_int_equal(ltoc_count(l), 1);
	assert_int_equal(ltoc_stats(l)->replaces, 1);

	ltoc_remove(l, e);
	assert_null(ltoc_lookup(l, &k));
	assert_int_equal(ltoc_count(l), 0);
	assert_int_equal(ltoc_stats(l)->removes, 1);
	ltoc_free(l);
}

static void
test_v4_v6_distinct(void **state)
{
	struct ltoc		*l = test_ltoc_new(1024);
	struct flow_key		 k4 = test_key4(1), k6 = test_key6(1);
	struct conn_entry	*e4, *e6;

	(void)state;
	assert_non_null(e4 = ltoc_insert(l, &k4, 0));
	e4->server = 4;
	assert_null(ltoc_lookup(l, &k6));
	assert_non_null(e6 = ltoc_insert(l, &k6, 0));
	e6->server = 6;
	assert_ptr_not_equal(e4, e6);
	assert_int_equal(ltoc_lookup(l, &k4)->server, 4);
	assert_int_equal(ltoc_lookup(l, &k6)->server, 6);
	assert_int_equal(ltoc_count(l), 2);
	ltoc_free(l);
}

static void
test_many(void **state)
{
	struct ltoc		*l = test_ltoc_new(128 * 1024);
	struct flow_key		 k;
	struct conn_entry	*e;
	uint32_t		 i, n = 100000;

	(void)state;
	for (i = 0; i < n; i++) {
		k = (i & 1) ? test_key6(i * 2654435761U) :
		    test_key4(i * 2654435761U);
		assert_non_null(e = ltoc_insert(l, &k, 0));
		e->server = (uint16_t)i;
	}
	assert_int_equal(ltoc_count(l), n);
	for (i = 0; i < n; i++) {
		k = (i & 1) ? test_key6(i * 2654435761U) :
		    test_key4(i * 2654435761U);
		assert_non_null(e = ltoc_lookup(l, &k));
		assert_int_equal(e->server, (uint16_t)i);
		if (i % 2 == 0)
			ltoc_remove(l, e);
	}
	for (i = 0; i < n; i++) {
		k = (i & 1) ? test_key6(i * 2654435761U) :
		    test_key4(i * 2654435761U);
		if (i % 2 == 0)
			assert_null(ltoc_lookup(l, &k));
		else
			assert_non_null(ltoc_lookup(l, &k));
	}
	assert_int_equal(ltoc_count(l), n / 2);
	ltoc_free(l);
}

static void
test_full(void **state)
{
	struct ltoc		*l = test_ltoc_new(1024);
	struct flow_key		 k;
	struct conn_entry	*e;
	uint32_t		 i;

	(void)state;
	for (i = 0; i < 1024; i++) {
		k = test_key4(i);
		assert_non_null(e = ltoc_insert(l, &k, 0));
		e->server = (uint16_t)(i + 1);
	}
	k = test_key4(5000);
	assert_null(ltoc_insert(l, &k, 0));
	k = test_key6(5001);
	assert_null(ltoc_insert(l, &k, 0));
	assert_int_equal(ltoc_stats(l)->full, 2);
	assert_int_equal(ltoc_count(l), 1024);
	for (i = 0; i < 1024; i++) {
		k = test_key4(i);
		assert_non_null(e = ltoc_lookup(l, &k));
		assert_int_equal(e->server, i + 1);
	}
	/* a freed entry is reusable */
	ltoc_remove(l, ltoc_lookup(l, &k));
	k = test_key4(5000);
	assert_non_null(ltoc_insert(l, &k, 0));
	ltoc_free(l);
}

/* Insert n entries at now and put them in state. */
static void
test_fill(struct ltoc *l, uint32_t first, uint32_t n, enum conn_state st,
    uint64_t now)
{
	struct flow_key		 k;
	struct conn_entry	*e;
	uint32_t		 i;

	for (i = first; i < first + n; i++) {
		k = test_key4(i);
		assert_non_null(e = ltoc_insert(l, &k, now));
		if (st != CONN_SYN)
			ltoc_set_state(l, e, st, now);
	}
}

static void
test_expire_per_state(void **state)
{
	struct ltoc	*l = test_ltoc_new(1024);
	unsigned int	 n = 0;

	(void)state;
	ltoc_set_expire_cb(l, test_expire_count, &n);
	test_fill(l, 0, 10, CONN_SYN, 0);
	test_fill(l, 100, 20, CONN_ESTABLISHED, 0);
	test_fill(l, 200, 30, CONN_CLOSING, 0);

	assert_int_equal(ltoc_expire(l, SYN_S * 1000 - 1, 1000), 0);
	assert_int_equal(ltoc_expire(l, SYN_S * 1000, 1000), 10);
	assert_int_equal(ltoc_expire(l, FIN_S * 1000 - 1, 1000), 0);
	assert_int_equal(ltoc_expire(l, FIN_S * 1000, 1000), 30);
	assert_int_equal(ltoc_expire(l, TCP_S * 1000 - 1, 1000), 0);
	assert_int_equal(ltoc_count(l), 20);
	assert_int_equal(ltoc_expire(l, TCP_S * 1000, 1000), 20);
	assert_int_equal(ltoc_count(l), 0);
	assert_int_equal(n, 60);
	assert_int_equal(ltoc_stats(l)->expiries, 60);
	ltoc_free(l);
}

static void
test_expire_budget(void **state)
{
	struct ltoc	*l = test_ltoc_new(2048);
	unsigned int	 i, n = 0;

	(void)state;
	ltoc_set_expire_cb(l, test_expire_count, &n);
	test_fill(l, 0, 1000, CONN_SYN, 0);
	for (i = 0; i < 10; i++) {
		assert_int_equal(ltoc_expire(l, SYN_S * 1000, 100), 100);
		assert_int_equal(ltoc_count(l), 1000 - 100 * (i + 1));
	}
	assert_int_equal(ltoc_expire(l, SYN_S * 1000, 100), 0);
	assert_int_equal(n, 1000);
	assert_int_equal(ltoc_expire(l, SYN_S * 1000, 0), 0);
	ltoc_free(l);
}

/* Keep each syn entry once, as lb_ltoc_keep() does with its question. */
static int
test_keep_once(void *arg, struct conn_entry *e)
{
	unsigned int	*kept = arg;

	if (e->pulled || e->state != CONN_SYN)
		return (0);
	e->pulled = 1;
	(*kept)++;
	return (1);
}

static void
test_expire_keep(void **state)
{
	struct ltoc	*l = test_ltoc_new(1024);
	unsigned int	 n = 0, kept = 0;

	(void)state;
	ltoc_set_expire_cb(l, test_expire_count, &n);
	ltoc_set_keep_cb(l, test_keep_once, &kept);
	test_fill(l, 0, 10, CONN_SYN, 0);
	test_fill(l, 100, 5, CONN_CLOSING, 0);
	/* the syn ones are kept, one more SYN_S from now; closing ones go */
	assert_int_equal(ltoc_expire(l, FIN_S * 1000, 1000), 15);
	assert_int_equal(kept, 10);
	assert_int_equal(n, 5);
	assert_int_equal(ltoc_count(l), 10);
	assert_int_equal(ltoc_stats(l)->kept, 10);
	assert_int_equal(ltoc_expire(l, (FIN_S + SYN_S) * 1000 - 1000, 1000),
	    0);
	assert_int_equal(ltoc_count(l), 10);
	assert_int_equal(ltoc_expire(l, (FIN_S + SYN_S) * 1000, 1000), 10);
	assert_int_equal(kept, 10);
	assert_int_equal(n, 15);
	assert_int_equal(ltoc_count(l), 0);
	ltoc_free(l);
}

static void
test_touch(void **state)
{
	struct ltoc		*l = test_ltoc_new(1024);
	struct flow_key		 k0 = test_key4(0), k1 = test_key4(1);
	struct conn_entry	*e0;

	(void)state;
	test_fill(l, 0, 2, CONN_ESTABLISHED, 0);
	e0 = ltoc_lookup(l, &k0);
	ltoc_touch(l, e0, 500 * 1000);
	assert_int_equal(ltoc_expire(l, TCP_S * 1000, 100), 1);
	assert_null(ltoc_lookup(l, &k1));
	assert_ptr_equal(ltoc_lookup(l, &k0), e0);
	assert_int_equal(ltoc_expire(l, (500 + TCP_S) * 1000 - 1, 100), 0);
	assert_int_equal(ltoc_expire(l, (500 + TCP_S) * 1000, 100), 1);
	assert_int_equal(ltoc_count(l), 0);
	ltoc_free(l);
}

static void
test_state_moves(void **state)
{
	struct ltoc		*l = test_ltoc_new(1024);
	struct flow_key		 k = test_key4(9);
	struct conn_entry	*e;

	(void)state;
	assert_non_null(e = ltoc_insert(l, &k, 0));
	assert_int_equal(conntab_list_count(&l->tab, CONN_SYN), 1);
	ltoc_set_state(l, e, CONN_ESTABLISHED, 10 * 1000);
	assert_int_equal(e->state, CONN_ESTABLISHED);
	assert_int_equal(conntab_list_count(&l->tab, CONN_SYN), 0);
	assert_int_equal(conntab_list_count(&l->tab, CONN_ESTABLISHED), 1);
	/* a SYN would be gone by now */
	assert_int_equal(ltoc_expire(l, 100 * 1000, 100), 0);
	ltoc_set_state(l, e, CONN_CLOSING, 200 * 1000);
	assert_int_equal(conntab_list_count(&l->tab, CONN_ESTABLISHED), 0);
	assert_int_equal(conntab_list_count(&l->tab, CONN_CLOSING), 1);
	assert_int_equal(ltoc_expire(l, (200 + FIN_S) * 1000 - 1, 100), 0);
	assert_int_equal(ltoc_expire(l, (200 + FIN_S) * 1000, 100), 1);
	assert_null(ltoc_lookup(l, &k));
	ltoc_free(l);
}

/*
 * issue 22: UDP flows expire by their service's timeouts; each service's
 * FIFO keeps its order, a TCP entry its list's timeout.
 */
static void
test_udp_service_timeouts(void **state)
{
	struct ltoc		*l = test_ltoc_new(1024);
	struct flow_key		 k[4];
	struct conn_entry	*e[4];
	unsigned int		 i, n = 0;

	(void)state;
	ltoc_set_expire_cb(l, test_expire_count, &n);
	ltoc_set_udp_timeouts(l, 1, 5, 50);
	ltoc_set_udp_timeouts(l, 2, 20, 200);
	for (i = 0; i < 3; i++) {
		k[i] = test_key4(100 + i);
		k[i].len |= FLOW_KEY_UDP;
		assert_non_null(e[i] = ltoc_insert(l, &k[i], 0));
		ltoc_set_service(l, e[i], i);
		assert_int_equal(e[i]->service, i);
	}
	k[3] = test_key4(200);			/* TCP, service 1: syn 30 s */
	assert_non_null(e[3] = ltoc_insert(l, &k[3], 0));
	ltoc_set_service(l, e[3], 1);
	assert_int_equal(conntab_sub_count(&l->tab, LTOC_LIST_UDP_NEW, 1), 1);
	assert_int_equal(conntab_list_count(&l->tab, LTOC_LIST_UDP_NEW), 3);
	assert_int_equal(conntab_list_count(&l->tab, CONN_SYN), 1);
	/* test_conf has no UDP timeouts (0): service 0's are set here */
	ltoc_set_udp_timeouts(l, 0, 30, 120);
	assert_int_equal(ltoc_expire(l, 4999, 100), 0);
	assert_int_equal(ltoc_expire(l, 5000, 100), 1);
	assert_null(ltoc_lookup(l, &k[1]));
	assert_int_equal(ltoc_expire(l, 19999, 100), 0);
	assert_int_equal(ltoc_expire(l, 20000, 100), 1);
	assert_null(ltoc_lookup(l, &k[2]));
	assert_int_equal(ltoc_expire(l, 29999, 100), 0);
	assert_int_equal(ltoc_expire(l, SYN_S * 1000, 100), 2);
	assert_null(ltoc_lookup(l, &k[0]));
	assert_null(ltoc_lookup(l, &k[3]));
	assert_int_equal(n, 4);

	/* A stream of service 1: 50 s; a reload to 60 s applies at once. */
	assert_non_null(e[1] = ltoc_insert(l, &k[1], 100 * 1000));
	ltoc_set_service(l, e[1], 1);
	ltoc_set_state(l, e[1], CONN_ESTABLISHED, 100 * 1000);
	assert_int_equal(conntab_sub_count(&l->tab, LTOC_LIST_UDP_STREAM, 1),
	    1);
	ltoc_set_udp_timeouts(l, 1, 5, 60);
	assert_int_equal(ltoc_expire(l, 159999, 100), 0);
	/* Moved to service 2 (a transfer's record): its FIFO, same last. */
	ltoc_set_service(l, e[1], 2);
	assert_int_equal(conntab_sub_count(&l->tab, LTOC_LIST_UDP_STREAM, 1),
	    0);
	assert_int_equal(conntab_sub_count(&l->tab, LTOC_LIST_UDP_STREAM, 2),
	    1);
	assert_int_equal(ltoc_expire(l, 299999, 100), 0);
	assert_int_equal(ltoc_expire(l, 300000, 100), 1);
	assert_int_equal(ltoc_count(l), 0);
	/* Lists cannot split once the table holds entries. */
	assert_non_null(ltoc_insert(l, &k[0], 0));
	assert_int_equal(conntab_split(&l->tab, CONN_SYN, 4), -1);
	ltoc_free(l);
}

static void
test_iterate_remove(void **state)
{
	struct ltoc		*l = test_ltoc_new(1024);
	struct conn_entry	*e;
	uint32_t		 cursor, seen = 0;

	(void)state;
	test_fill(l, 0, 500, CONN_ESTABLISHED, 0);
	/* leave holes so the walk crosses free entries */
	LTOC_FOREACH(e, l, cursor) {
		if (seen++ % 3 == 0)
			ltoc_remove(l, e);
	}
	assert_int_equal(seen, 500);
	assert_int_equal(ltoc_count(l), 500 - 167);
	seen = 0;
	LTOC_FOREACH(e, l, cursor) {
		seen++;
		ltoc_remove(l, e);
	}
	assert_int_equal(seen, 500 - 167);
	assert_int_equal(ltoc_count(l), 0);
	cursor = 0;
	assert_null(ltoc_next(l, &cursor));
	ltoc_free(l);
}

/*
 * VmFlags of the mapping of /proc/self/smaps that holds address a, into
 * flags; 0 if found.
 */
static int
test_vmflags(uintptr_t a, char *flags, size_t size)
{
	FILE		*f;
	char		 line[512];
	unsigned long	 lo, hi;
	int		 in = 0, found = -1;

	if ((f = fopen("/proc/self/smaps", "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = a >= lo && a < hi;
			continue;
		}
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(flags, size, "%s", line + 8);
			found = 0;
			break;
		}
	}
	fclose(f);
	return (found);
}

/*
 * A table of several MiB asks for transparent huge pages (madvise: "hg"
 * in VmFlags) on its 2 MiB-aligned part, so that lookups, which land on
 * random entries, do not also miss the TLB each time.
 */
static void
test_huge_pages(void **state)
{
	struct ltoc	*l = test_ltoc_new(200000);	/* 12.8 MB of entries */
	uintptr_t	 a;
	char		 flags[512];

	(void)state;
	a = ((uintptr_t)l->tab.pool + (2u << 20) - 1) &
	    ~(uintptr_t)((2u << 20) - 1);
	assert_int_equal(test_vmflags(a, flags, sizeof(flags)), 0);
	assert_non_null(strstr(flags, " hg"));
	ltoc_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_size),
		cmocka_unit_test(test_insert_lookup_remove),
		cmocka_unit_test(test_v4_v6_distinct),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_expire_per_state),
		cmocka_unit_test(test_expire_budget),
		cmocka_unit_test(test_expire_keep),
		cmocka_unit_test(test_touch),
		cmocka_unit_test(test_state_moves),
		cmocka_unit_test(test_udp_service_timeouts),
		cmocka_unit_test(test_iterate_remove),
		cmocka_unit_test(test_huge_pages),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
