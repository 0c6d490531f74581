/* test_spsc.c: the ring from an input worker to the daemon's loop. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "spsc.h"

/* Records come out in order, whole, with their lengths; then empty. */
static void
test_order(void **state)
{
	struct spsc	 r;
	const uint8_t	*p[8];
	size_t		 l[8];
	uint8_t		 a[3] = { 1, 2, 3 }, b[9] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };

	(void)state;
	assert_int_equal(spsc_init(&r, 4096), 0);
	assert_int_equal(spsc_put(&r, a, sizeof(a)), 0);
	assert_int_equal(spsc_put(&r, b, sizeof(b)), 0);
	/* not published: the consumer sees nothing */
	assert_int_equal(spsc_peek(&r, p, l, 8), 0);
	spsc_release(&r);
	assert_int_equal(spsc_publish(&r), 1);	/* it was asleep */
	assert_int_equal(spsc_peek(&r, p, l, 8), 2);
	assert_int_equal(l[0], 3);
	assert_memory_equal(p[0], a, 3);
	assert_int_equal(l[1], 9);
	assert_memory_equal(p[1], b, 9);
	spsc_release(&r);
	assert_int_equal(spsc_peek(&r, p, l, 8), 0);
	/* an empty record is a record */
	assert_int_equal(spsc_put(&r, a, 0), 0);
	assert_int_equal(spsc_publish(&r), 0);	/* awake: no wake-up */
	assert_int_equal(spsc_peek(&r, p, l, 8), 1);
	assert_int_equal(l[0], 0);
	spsc_release(&r);
	spsc_free(&r);
	assert_int_equal(spsc_init(&r, 5000), -1);	/* not a power of 2 */
	assert_int_equal(spsc_init(&r, 2048), -1);	/* too small */
}

/*
 * Full: a put that does not fit fails and changes nothing; records that
 * would cross the end go to the start (a pad in between), and space
 * comes back only when the consumer releases.
 */
static void
test_full_wrap(void **state)
{
	struct spsc	 r;
	const uint8_t	*p[64];
	size_t		 l[64], n, i, total = 0;
	uint8_t		 buf[2048];
	unsigned int	 round, put, got;

	(void)state;
	assert_int_equal(spsc_init(&r, 4096), 0);
	assert_int_equal(spsc_max_record(&r), 2048 - 8);
	assert_int_equal(spsc_put(&r, buf, 2041), -1);
	for (round = 0; round < 50; round++) {
		/* sizes that do not divide the ring: every round wraps */
		for (put = 0; ; put++) {
			memset(buf, (int)(round * 7 + put), 700);
			if (spsc_put(&r, buf, 700) == -1)
				break;
		}
		assert_true(put >= 4 && put <= 5);	/* 4096 / 712 */
		spsc_publish(&r);
		n = spsc_peek(&r, p, l, 64);
		assert_int_equal(n, put);
		for (i = 0, got = 0; i < n; i++, got++) {
			assert_int_equal(l[i], 700);
			assert_int_equal(p[i][0], (uint8_t)(round * 7 + i));
			assert_int_equal(p[i][699], (uint8_t)(round * 7 + i));
			assert_true(p[i] + 700 <= r.buf + r.size);
		}
		/* peeked, not released: still full */
		assert_int_equal(spsc_put(&r, buf, 700), put == 5 ? -1 : 0);
		if (put < 5) {
			/* that one went in: take it in this round too */
			spsc_publish(&r);
			assert_int_equal(spsc_peek(&r, p, l, 64), 1);
		}
		spsc_release(&r);
		total += put;
	}
	assert_true(total >= 200);
	spsc_free(&r);
}

/*
 * spsc_sleep() and spsc_publish(): a consumer that says it sleeps on an
 * empty ring is woken by the next publish, once; one that finds a record
 * does not sleep.
 */
static void
test_sleep(void **state)
{
	struct spsc	 r;
	const uint8_t	*p[4];
	size_t		 l[4];
	uint8_t		 x = 42;

	(void)state;
	assert_int_equal(spsc_init(&r, 4096), 0);
	assert_int_equal(spsc_put(&r, &x, 1), 0);
	assert_int_equal(spsc_publish(&r), 1);	/* asleep from the start */
	assert_int_equal(spsc_publish(&r), 0);	/* woken once */
	assert_int_equal(spsc_sleep(&r), 0);	/* a record waits */
	assert_int_equal(spsc_peek(&r, p, l, 4), 1);
	spsc_release(&r);
	assert_int_equal(spsc_sleep(&r), 1);
	assert_int_equal(spsc_put(&r, &x, 1), 0);
	assert_int_equal(spsc_publish(&r), 1);
	spsc_free(&r);
}

/* Two threads: a million records of varying size, in order, no loss. */
#define STRESS_N	1000000u

struct stress {
	struct spsc	r;
	unsigned int	full;		/* puts retried */
};

struct drained {
	size_t		calls, recs, max;
	uint8_t		next;		/* the first byte expected */
};

static void
drain_fn(void *arg, const uint8_t *const *recs, const size_t *lens,
    size_t n)
{
	struct drained	*d = arg;
	size_t		 i;

	d->calls++;
	d->recs += n;
	if (n > d->max)
		d->max = n;
	for (i = 0; i < n; i++) {
		assert_int_equal(lens[i], 1);
		assert_int_equal(recs[i][0], d->next);
		d->next++;
	}
}

/*
 * spsc_drain(): bursts of SPSC_BURST at most, in order; stops once the
 * budget is used (1: call again) with the rest left on the ring; an empty
 * ring ends with the consumer asleep (0), so the next publish wakes it.
 */
static void
test_drain(void **state)
{
	struct spsc	 r;
	struct drained	 d = { 0 };
	uint8_t		 b;
	unsigned int	 i;

	(void)state;
	assert_int_equal(spsc_init(&r, 4096), 0);
	for (i = 0; i < 100; i++) {
		b = (uint8_t)i;
		assert_int_equal(spsc_put(&r, &b, 1), 0);
	}
	assert_int_equal(spsc_publish(&r), 1);
	assert_int_equal(spsc_drain(&r, 40, drain_fn, &d), 1);
	assert_int_equal(d.recs, 48);	/* whole bursts: 3 of 16 */
	assert_int_equal(d.max, SPSC_BURST);
	assert_int_equal(spsc_drain(&r, 1000, drain_fn, &d), 0);
	assert_int_equal(d.recs, 100);
	assert_int_equal(d.next, 100);
	/* asleep: the next publish says so, once */
	b = 100;
	assert_int_equal(spsc_put(&r, &b, 1), 0);
	assert_int_equal(spsc_publish(&r), 1);
	assert_int_equal(spsc_drain(&r, 1000, drain_fn, &d), 0);
	assert_int_equal(d.recs, 101);
	spsc_free(&r);
}

static void *
stress_producer(void *arg)
{
	struct stress	*s = arg;
	uint8_t		 buf[600];
	uint32_t	 i, len;

	for (i = 0; i < STRESS_N; i++) {
		len = 4 + (i * 2654435761u >> 23) % 590;
		memcpy(buf, &i, 4);
		memset(buf + 4, (int)(i & 0xff), len - 4);
		while (spsc_put(&s->r, buf, len) == -1) {
			spsc_publish(&s->r);
			s->full++;
		}
		if (i % 13 == 0)
			spsc_publish(&s->r);
	}
	spsc_publish(&s->r);
	return (NULL);
}

static void
test_threads(void **state)
{
	struct stress	 s;
	pthread_t	 t;
	const uint8_t	*p[16];
	size_t		 l[16], n, k;
	uint32_t	 want = 0, got, len;
	unsigned long	 spins = 0;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(spsc_init(&s.r, 1u << 16), 0);
	assert_int_equal(pthread_create(&t, NULL, stress_producer, &s), 0);
	while (want < STRESS_N) {
		if ((n = spsc_peek(&s.r, p, l, 16)) == 0) {
			spins++;
			continue;
		}
		for (k = 0; k < n; k++, want++) {
			len = 4 + (want * 2654435761u >> 23) % 590;
			assert_int_equal(l[k], len);
			memcpy(&got, p[k], 4);
			assert_int_equal(got, want);
			if (len > 4)
				assert_int_equal(p[k][len - 1],
				    (uint8_t)(want & 0xff));
		}
		spsc_release(&s.r);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(spsc_peek(&s.r, p, l, 16), 0);
	print_message("# %u records, producer found it full %u times, "
	    "consumer found it empty %lu times\n", STRESS_N, s.full, spins);
	spsc_free(&s.r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_full_wrap),
		cmocka_unit_test(test_sleep),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_threads),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
