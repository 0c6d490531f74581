/* test_icmp.c: the "fragmentation needed" / "packet too big" builder. */
#include <sys/socket.h>

#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "icmp.h"

/* A 1500-byte IPv4 TCP packet from 203.0.113.2 to 198.51.100.10, DF. */
static void
pkt4(uint8_t *p, size_t len)
{
	memset(p, 0xab, len);
	p[0] = 0x45;
	p[1] = 0;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[6] = 0x40;		/* DF, offset 0 */
	p[7] = 0;
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	memcpy(p + 12, "\xcb\x00\x71\x02", 4);
	memcpy(p + 16, "\xc6\x33\x64\x0a", 4);
}

/* A 1500-byte IPv6 TCP packet from 2001:db8::2 to 2001:db8:100::10. */
static void
pkt6(uint8_t *p, size_t len)
{
	memset(p, 0xab, len);
	p[0] = 0x60;
	p[4] = (uint8_t)((len - 40) >> 8);
	p[5] = (uint8_t)(len - 40);
	p[6] = IPPROTO_TCP;
	p[7] = 64;
	memcpy(p + 8, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	memcpy(p + 24, "\x20\x01\x0d\xb8\x01\0\0\0\0\0\0\0\0\0\0\x10", 16);
}

/* The one's complement sum of a message with its checksum: 0 if right. */
static uint16_t
sum16(const uint8_t *p, size_t n)
{
	uint32_t	s = 0;
	size_t		i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ((uint16_t)~s);
}

/* A 1500-byte packet from make() with byte off set to v gets no message. */
static void
unanswered(void (*make)(uint8_t *, size_t), size_t off, uint8_t v)
{
	uint8_t	p[1500], out[8 + ICMP_QUOTE6_MAX];

	make(p, sizeof(p));
	p[off] = v;
	assert_int_equal(icmp_build_too_big(out, sizeof(out), p, sizeof(p),
	    1472), 0);
}

static void
test_v4(void **state)
{
	uint8_t	p[1500], out[8 + ICMP_QUOTE6_MAX];
	size_t	n;

	(void)state;
	pkt4(p, sizeof(p));
	n = icmp_build_too_big(out, sizeof(out), p, sizeof(p), 1472);
	assert_int_equal(n, 8 + ICMP_QUOTE4_MAX);	/* 576 in all */
	assert_int_equal(out[0], 3);
	assert_int_equal(out[1], 4);
	assert_int_equal(out[4] << 8 | out[5], 0);
	assert_int_equal(out[6] << 8 | out[7], 1472);
	assert_memory_equal(out + 8, p, ICMP_QUOTE4_MAX);
	assert_int_equal(sum16(out, n), 0);
	/* a short packet is quoted whole; an odd length still sums right */
	pkt4(p, 61);
	n = icmp_build_too_big(out, sizeof(out), p, 61, 1280);
	assert_int_equal(n, 8 + 61);
	assert_int_equal(sum16(out, n), 0);
	/* the output buffer bounds the quote */
	pkt4(p, sizeof(p));
	assert_int_equal(icmp_build_too_big(out, 100, p, sizeof(p), 1472),
	    100);
}

static void
test_v4_not_answered(void **state)
{
	uint8_t	p[1500], out[600];

	(void)state;
	unanswered(pkt4, 6, 0);			/* DF clear: may be fragmented */
	unanswered(pkt4, 7, 0x10);		/* a later fragment */
	unanswered(pkt4, 9, IPPROTO_ICMP);	/* never ICMP about ICMP */
	unanswered(pkt4, 12, 224);		/* not a unicast source */
	pkt4(p, sizeof(p));
	p[0] = 0x4f;				/* IHL past the end */
	assert_int_equal(icmp_build_too_big(out, sizeof(out), p, 40, 1472),
	    0);
	assert_int_equal(icmp_build_too_big(out, sizeof(out), p, 19, 1472),
	    0);
	assert_int_equal(icmp_build_too_big(out, 7, p, sizeof(p), 1472), 0);
}

static void
test_v6(void **state)
{
	uint8_t	p[1500], out[8 + ICMP_QUOTE6_MAX];
	size_t	n;

	(void)state;
	pkt6(p, sizeof(p));
	n = icmp_build_too_big(out, sizeof(out), p, sizeof(p), 1452);
	assert_int_equal(n, 8 + ICMP_QUOTE6_MAX);	/* 1280 with IPv6 */
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2] << 8 | out[3], 0);	/* the kernel's */
	assert_int_equal((uint32_t)out[4] << 24 | (uint32_t)out[5] << 16 |
	    (uint32_t)out[6] << 8 | out[7], 1452);
	assert_memory_equal(out + 8, p, ICMP_QUOTE6_MAX);
	/* not answered: ICMPv6, multicast or link-local source, short */
	unanswered(pkt6, 6, IPPROTO_ICMPV6);
	unanswered(pkt6, 8, 0xff);
	pkt6(p, sizeof(p));
	p[8] = 0xfe;
	p[9] = 0x80;
	assert_int_equal(icmp_build_too_big(out, sizeof(out), p, sizeof(p),
	    1452), 0);
	pkt6(p, sizeof(p));
	assert_int_equal(icmp_build_too_big(out, sizeof(out), p, 39, 1452), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4),
		cmocka_unit_test(test_v4_not_answered),
		cmocka_unit_test(test_v6),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
