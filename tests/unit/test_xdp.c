/*
 * test_xdp.c: cmocka tests of the AF_XDP input's pure parts: the link
 * header stripped from a frame, and the number of queues read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "xdp.h"

/* A frame: dst, src, then the given ethertype(s) and payload bytes. */
static size_t
frame(uint8_t *f, const uint16_t *types, size_t ntypes, size_t payload)
{
	size_t	o = 12, i;

	memset(f, 0xaa, 12);
	for (i = 0; i < ntypes; i++) {
		f[o] = (uint8_t)(types[i] >> 8);
		f[o + 1] = (uint8_t)types[i];
		o += 2;
		if (i + 1 < ntypes) {	/* the tag's TCI */
			f[o] = 0;
			f[o + 1] = 7;
			o += 2;
		}
	}
	memset(f + o, 0x45, payload);
	return (o + payload);
}

static void
test_strip_plain(void **state)
{
	static const uint16_t	v4[] = { 0x0800 }, v6[] = { 0x86dd };
	uint8_t			f[128];
	size_t			off = 0, len;

	(void)state;
	len = frame(f, v4, 1, 20);
	assert_int_equal(xdp_strip(f, len, &off), 0);
	assert_int_equal(off, 14);
	len = frame(f, v6, 1, 40);
	off = 0;
	assert_int_equal(xdp_strip(f, len, &off), 0);
	assert_int_equal(off, 14);
}

static void
test_strip_tagged(void **state)
{
	static const uint16_t	q[] = { 0x8100, 0x0800 },
				ad[] = { 0x88a8, 0x86dd },
				two[] = { 0x88a8, 0x8100, 0x0800 };
	uint8_t			f[128];
	size_t			off = 0, len;

	(void)state;
	len = frame(f, q, 2, 20);
	assert_int_equal(xdp_strip(f, len, &off), 0);
	assert_int_equal(off, 18);
	len = frame(f, ad, 2, 40);
	off = 0;
	assert_int_equal(xdp_strip(f, len, &off), 0);
	assert_int_equal(off, 18);
	/* Two tags: the inner one is not IP, as the XDP program sees it. */
	len = frame(f, two, 3, 20);
	assert_int_equal(xdp_strip(f, len, &off), -1);
}

static void
test_strip_refused(void **state)
{
	static const uint16_t	arp[] = { 0x0806 }, v4[] = { 0x0800 },
				q[] = { 0x8100, 0x0800 };
	uint8_t			f[128];
	size_t			off = 99, len;

	(void)state;
	len = frame(f, arp, 1, 28);
	assert_int_equal(xdp_strip(f, len, &off), -1);
	len = frame(f, v4, 1, 0);	/* no IP byte */
	assert_int_equal(xdp_strip(f, len, &off), -1);
	assert_int_equal(xdp_strip(f, 13, &off), -1);
	len = frame(f, q, 2, 0);
	assert_int_equal(xdp_strip(f, 16, &off), -1);	/* cut in the tag */
	assert_int_equal(xdp_strip(f, len, &off), -1);
	assert_int_equal(off, 99);	/* untouched on failure */
}

static void
test_queues(void **state)
{
	struct ilbd_conf	conf;

	(void)state;
	memset(&conf, 0, sizeof(conf));
	conf.input.queues = 3;
	assert_int_equal(xdp_queues(&conf), 3);
	/* No such interface, no channel count: one queue. */
	conf.input.queues = 0;
	strcpy(conf.node.interface, "ilbt-none0");
	assert_int_equal(xdp_queues(&conf), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strip_plain),
		cmocka_unit_test(test_strip_tagged),
		cmocka_unit_test(test_strip_refused),
		cmocka_unit_test(test_queues),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
