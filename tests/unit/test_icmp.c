/* test_icmp.c: the "fragmentation needed" / "packet too big" builder;
 * echo replies (ping to a VIP) and their token bucket. */
#include <sys/socket.h>

#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "icmp.h"
#include "lb.h"
#include "util.h"
#include "world.h"

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

/* The sum of the IPv6 pseudo-header of p (src, dst, length, 58). */
static uint32_t
pseudo6(const uint8_t *p, size_t n)
{
	uint32_t	s = 0;
	size_t		i;

	for (i = 8; i < 40; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	return (s + (uint32_t)n + IPPROTO_ICMPV6);
}

/* The ICMPv6 message of IPv6 packet p (n bytes after the header) sums. */
static uint16_t
sum6(const uint8_t *p, size_t n)
{
	uint32_t	s = pseudo6(p, n);
	size_t		i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[40 + i] << 8 | p[40 + i + 1]);
	if (n & 1)
		s += (uint32_t)(p[40 + n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ((uint16_t)~s);
}

/* ping's echo request, 64 bytes of ICMP, client to VIP (as pkt4). */
static size_t
echo4(uint8_t *p)
{
	size_t	i;
	uint16_t c;

	memset(p, 0, 84);
	p[0] = 0x45;
	p[3] = 84;
	p[6] = 0x40;
	p[8] = 63;
	p[9] = IPPROTO_ICMP;
	memcpy(p + 12, "\xcb\x00\x71\x02", 4);
	memcpy(p + 16, "\xc6\x33\x64\x0a", 4);
	p[20] = 8;
	p[24] = 0x12;				/* identifier */
	p[25] = 0x34;
	p[27] = 7;				/* sequence */
	for (i = 28; i < 84; i++)
		p[i] = (uint8_t)i;
	c = sum16(p + 20, 64);
	p[22] = (uint8_t)(c >> 8);
	p[23] = (uint8_t)c;
	c = sum16(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	return (84);
}

/* The same over IPv6 (as pkt6), 64 bytes of ICMPv6 (type 128). */
static size_t
echo6(uint8_t *p)
{
	size_t		i;
	uint16_t	c;

	memset(p, 0, 104);
	p[0] = 0x60;
	p[5] = 64;
	p[6] = IPPROTO_ICMPV6;
	p[7] = 63;
	memcpy(p + 8, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	memcpy(p + 24, "\x20\x01\x0d\xb8\x01\0\0\0\0\0\0\0\0\0\0\x10", 16);
	p[40] = 128;
	p[44] = 0x56;
	p[45] = 0x78;
	p[47] = 9;
	for (i = 48; i < 104; i++)
		p[i] = (uint8_t)i;
	c = sum6(p, 64);
	p[42] = (uint8_t)(c >> 8);
	p[43] = (uint8_t)c;
	return (104);
}

static void
test_echo4(void **state)
{
	uint8_t		p[84], out[200];
	struct ilb_addr	dst;
	size_t		n;

	(void)state;
	n = echo4(p);
	assert_int_equal(icmp_echo_dst(p, n, &dst), 1);
	assert_int_equal(dst.family, AF_INET);
	assert_memory_equal(dst.u.b, p + 16, 4);
	assert_int_equal(icmp_build_echo_reply(out, sizeof(out), p, n), 84);
	assert_int_equal(out[0], 0x45);
	assert_int_equal(out[2] << 8 | out[3], 84);
	assert_int_equal(out[9], IPPROTO_ICMP);
	assert_int_equal(sum16(out, 20), 0);		/* header checksum */
	assert_memory_equal(out + 12, p + 16, 4);	/* from the VIP */
	assert_memory_equal(out + 16, p + 12, 4);	/* to the client */
	assert_int_equal(out[20], 0);			/* echo reply */
	assert_int_equal(out[21], 0);
	assert_memory_equal(out + 24, p + 24, 60);	/* id, seq, data */
	assert_int_equal(sum16(out + 20, 64), 0);
	/* too small an output, short input */
	assert_int_equal(icmp_build_echo_reply(out, 83, p, n), 0);
	assert_int_equal(icmp_build_echo_reply(out, sizeof(out), p, 83), 0);
	/* IPv4 options are not copied: the reply has a 20-byte header */
}

/* echo4() with byte off set to v is not an echo request to answer. */
static void
echo4_not(size_t off, uint8_t v)
{
	uint8_t		p[84], out[200];
	struct ilb_addr	dst;

	echo4(p);
	p[off] = v;
	assert_int_equal(icmp_echo_dst(p, sizeof(p), &dst), 0);
	assert_int_equal(icmp_build_echo_reply(out, sizeof(out), p,
	    sizeof(p)), 0);
}

static void
test_echo4_not(void **state)
{
	(void)state;
	echo4_not(20, 0);		/* an echo reply */
	echo4_not(20, 3);		/* an error */
	echo4_not(21, 1);		/* code not 0 */
	echo4_not(30, 0xff);		/* bad ICMP checksum */
	echo4_not(6, 0x20);		/* a first fragment (MF) */
	echo4_not(7, 0x10);		/* a later fragment */
	echo4_not(12, 224);		/* multicast source */
	echo4_not(12, 255);		/* broadcast source */
	echo4_not(12, 127);		/* loopback source */
	echo4_not(12, 0);		/* unspecified source */
	echo4_not(9, IPPROTO_TCP);
}

static void
test_echo6(void **state)
{
	uint8_t		p[104], out[200];
	struct ilb_addr	dst;
	size_t		n;

	(void)state;
	n = echo6(p);
	assert_int_equal(icmp_echo_dst(p, n, &dst), 1);
	assert_int_equal(dst.family, AF_INET6);
	assert_memory_equal(dst.u.b, p + 24, 16);
	assert_int_equal(icmp_build_echo_reply(out, sizeof(out), p, n), 104);
	assert_int_equal(out[0], 0x60);
	assert_int_equal(out[4] << 8 | out[5], 64);
	assert_int_equal(out[6], IPPROTO_ICMPV6);
	assert_memory_equal(out + 8, p + 24, 16);	/* from the VIP */
	assert_memory_equal(out + 24, p + 8, 16);	/* to the client */
	assert_int_equal(out[40], 129);
	assert_memory_equal(out + 44, p + 44, 60);
	assert_int_equal(sum6(out, 64), 0);
	/* not answered: bad checksum, multicast, link-local, ::1 source */
	p[60] ^= 1;
	assert_int_equal(icmp_echo_dst(p, n, &dst), 0);
	echo6(p);
	p[8] = 0xff;
	assert_int_equal(icmp_echo_dst(p, n, &dst), 0);
	echo6(p);
	p[8] = 0xfe;
	p[9] = 0x80;
	assert_int_equal(icmp_echo_dst(p, n, &dst), 0);
	echo6(p);
	memset(p + 8, 0, 16);
	p[23] = 1;
	assert_int_equal(icmp_echo_dst(p, n, &dst), 0);
	echo6(p);
	p[40] = 129;				/* a reply */
	assert_int_equal(icmp_echo_dst(p, n, &dst), 0);
	echo6(p);
	assert_int_equal(icmp_echo_dst(p, 103, &dst), 0);	/* truncated */
}

static void
test_bucket(void **state)
{
	struct icmp_bucket	b;
	int			i, n;

	(void)state;
	memset(&b, 0, sizeof(b));
	icmp_bucket_set(&b, 5, 1000);
	for (n = 0, i = 0; i < 20; i++)
		n += icmp_bucket_take(&b, 1000);
	assert_int_equal(n, 5);				/* a burst of rate */
	assert_int_equal(icmp_bucket_take(&b, 1199), 0);	/* 0.995 */
	assert_int_equal(icmp_bucket_take(&b, 1200), 1);	/* one more */
	assert_int_equal(icmp_bucket_take(&b, 1200), 0);
	for (n = 0, i = 0; i < 20; i++)			/* a minute later */
		n += icmp_bucket_take(&b, 61200);
	assert_int_equal(n, 5);				/* still rate */
	icmp_bucket_set(&b, 0, 70000);			/* 0: never */
	assert_int_equal(icmp_bucket_take(&b, 90000), 0);
	icmp_bucket_set(&b, 1000000, 100000);
	for (n = 0, i = 0; i < 2000; i++)
		n += icmp_bucket_take(&b, 100000);
	assert_int_equal(n, 2000);
}

/*
 * lb_echo_to_vip(): the destination of an echo request is a service's VIP
 * (counted in rx, and handoff_in by handoff), or not; after a reload the
 * VIP of a service it removed (without connections: freed) no longer
 * answers, and a new service's does.
 */
static void
test_echo_vip(void **state)
{
	static struct world	 w;
	struct ilbd_conf	*c = world_conf_new(1024, 1024), *c2;
	struct lb_reload_summary sum;
	struct ilb_addr		 a;
	uint8_t			 p[84];
	char			*cause = NULL;

	(void)state;
	world_web(c, "web", 10, SCHED_WLC, 3);
	world_init(&w, c, 1);
	assert_int_equal(world_start(&w, 1, 42, 0), 0);
	assert_int_equal(icmp_echo_dst(p, echo4(p), &a), 1);	/* .10 */
	assert_int_equal(lb_echo_to_vip(&w.lb[0], &a, 0), 1);
	assert_int_equal(w.lb[0].stats.rx, 1);
	assert_int_equal(lb_echo_to_vip(&w.lb[0], &a, 1), 1);
	assert_int_equal(w.lb[0].stats.rx, 2);
	assert_int_equal(w.lb[0].stats.handoff_in, 1);
	world_addr(&a, "198.51.100.99");
	assert_int_equal(lb_echo_to_vip(&w.lb[0], &a, 0), 0);
	world_addr(&a, "2001:db8:100::10");
	assert_int_equal(lb_echo_to_vip(&w.lb[0], &a, 0), 0);
	assert_int_equal(w.lb[0].stats.rx, 2);
	/* reload: web (.10) removed, other (.11) added */
	c2 = world_conf_new(1024, 1024);
	world_web(c2, "other", 11, SCHED_WLC, 3);
	assert_int_equal(lb_reload(&w.lb[0], c2, 1000, &sum, &cause), 0);
	world_addr(&a, "198.51.100.10");
	assert_int_equal(lb_echo_to_vip(&w.lb[0], &a, 0), 0);
	world_addr(&a, "198.51.100.11");
	assert_int_equal(lb_echo_to_vip(&w.lb[0], &a, 0), 1);
	world_free(&w);
	world_conf_free(c2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4),
		cmocka_unit_test(test_v4_not_answered),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_echo4),
		cmocka_unit_test(test_echo4_not),
		cmocka_unit_test(test_echo6),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_echo_vip),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
