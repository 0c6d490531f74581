/* test_frag.c: cmocka tests of the fragment table (later fragments). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "frag.h"

#define T0	1000000ULL

/* An IPv4 header from 203.0.113.7 to 198.51.100.10 with the given id. */
static void
tf_ip4(uint8_t *p, uint16_t id, uint8_t fill)
{
	memset(p, fill, 60);
	p[0] = 0x45;
	p[4] = (uint8_t)(id >> 8);
	p[5] = (uint8_t)id;
	memcpy(p + 12, "\xcb\x00\x71\x07\xc6\x33\x64\x0a", 8);
}

static void
tf_key(struct frag_key *k, const uint8_t *p, uint16_t id)
{
	frag_key_of(k, p, 4, 6, id);
}

/* Later fragments before the first are held, then handed back in order. */
static void
test_frag_held_then_first(void **state)
{
	struct frag		 f;
	struct frag_key		 k;
	struct frag_action	 a, got;
	struct frag_buf		*fb;
	uint8_t			 p1[60], p2[60];
	int32_t			 chain, i;
	int			 n;

	(void)state;
	assert_int_equal(frag_init(&f), 0);
	tf_ip4(p1, 7, 1);
	tf_ip4(p2, 7, 2);
	tf_key(&k, p1, 7);
	assert_int_equal(frag_later(&f, &k, p1, 60, 0, T0, &got), 0);
	assert_int_equal(frag_later(&f, &k, p2, 50, 1, T0 + 1, &got), 0);
	assert_int_equal(f.nheld, 2);

	memset(&a, 0, sizeof(a));
	a.kind = FRAG_FORWARD;
	a.service = 1;
	a.server = 2;
	chain = frag_first(&f, &k, &a, T0 + 2);
	n = 0;
	for (i = chain; (fb = frag_buf_get(&f, i)) != NULL; i = fb->next) {
		assert_int_equal(fb->len, n == 0 ? 60 : 50);
		assert_int_equal(fb->by_handoff, n);
		assert_memory_equal(fb->data, n == 0 ? p1 : p2, fb->len);
		n++;
	}
	assert_int_equal(n, 2);
	frag_release(&f, chain);
	assert_int_equal(f.nheld, 0);

	/* from now on later fragments follow at once */
	assert_int_equal(frag_later(&f, &k, p2, 60, 0, T0 + 3, &got), 1);
	assert_int_equal(got.kind, FRAG_FORWARD);
	assert_int_equal(got.service, 1);
	assert_int_equal(got.server, 2);
	/* another datagram (id) is not this one */
	tf_key(&k, p1, 8);
	assert_int_equal(frag_later(&f, &k, p2, 60, 0, T0 + 3, &got), 0);
	assert_int_equal(f.dropped, 0);
	frag_free(&f);
}

/* Decisions and held fragments last FRAG_TIMEOUT_MS; expiry counts drops. */
static void
test_frag_expiry(void **state)
{
	struct frag		f;
	struct frag_key		k1, k2;
	struct frag_action	a, got;
	uint8_t			p[60];

	(void)state;
	assert_int_equal(frag_init(&f), 0);
	tf_ip4(p, 1, 0);
	tf_key(&k1, p, 1);
	tf_key(&k2, p, 2);
	memset(&a, 0, sizeof(a));
	a.kind = FRAG_HANDOFF;
	a.member = 5;
	assert_int_equal(frag_first(&f, &k1, &a, T0), -1);
	assert_int_equal(frag_later(&f, &k1, p, 60, 0, T0 + 10, &got), 1);
	assert_int_equal(got.kind, FRAG_HANDOFF);
	assert_int_equal(got.member, 5);
	assert_int_equal(frag_later(&f, &k2, p, 60, 0, T0, &got), 0);
	assert_int_equal(frag_expire(&f, T0 + FRAG_TIMEOUT_MS - 1), 0);
	assert_int_equal(frag_expire(&f, T0 + FRAG_TIMEOUT_MS), 1);
	assert_int_equal(f.dropped, 1);
	assert_int_equal(f.nheld, 0);
	/* the decision expired too: the next later fragment waits again */
	assert_int_equal(frag_later(&f, &k1, p, 60, 0, T0 + FRAG_TIMEOUT_MS,
	    &got), 0);
	frag_free(&f);
}

/* Bounded: the pool and the size limit refuse, nothing grows. */
static void
test_frag_bounds(void **state)
{
	static uint8_t		big[FRAG_BUF_MAX + 1];
	struct frag		f;
	struct frag_key		k;
	struct frag_action	got;
	uint8_t			p[60];
	unsigned int		i;

	(void)state;
	assert_int_equal(frag_init(&f), 0);
	tf_ip4(p, 0, 0);
	tf_key(&k, p, 0);
	assert_int_equal(frag_later(&f, &k, big, sizeof(big), 0, T0, &got),
	    -1);
	for (i = 0; i < FRAG_POOL; i++) {
		tf_key(&k, p, (uint16_t)(i + 1));
		assert_int_equal(frag_later(&f, &k, p, 60, 0, T0, &got), 0);
	}
	assert_int_equal(f.nheld, FRAG_POOL);
	tf_key(&k, p, 60000);
	assert_int_equal(frag_later(&f, &k, p, 60, 0, T0, &got), -1);
	assert_int_equal(frag_expire(&f, T0 + FRAG_TIMEOUT_MS), FRAG_POOL);
	assert_int_equal(f.nheld, 0);
	assert_int_equal(frag_later(&f, &k, p, 60, 0, T0 + FRAG_TIMEOUT_MS,
	    &got), 0);
	frag_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frag_held_then_first),
		cmocka_unit_test(test_frag_expiry),
		cmocka_unit_test(test_frag_bounds),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
