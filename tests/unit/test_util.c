/* test_util.c: addresses, host:port, strlcpy, error causes, be.h. */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "be.h"
#include "util.h"

static void
test_addr_parse_v4(void **state)
{
	struct ilb_addr	a;
	static const uint8_t want[16] = { 192, 0, 2, 1 };

	(void)state;
	memset(&a, 0xee, sizeof(a));
	assert_int_equal(util_addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.pad, "\0\0\0", 3);
	assert_memory_equal(a.u.b, want, 16);	/* unused bytes zeroed */
	assert_int_equal(util_addr_len(&a), 4);
}

static void
test_addr_parse_v6(void **state)
{
	struct ilb_addr	a;
	static const uint8_t want[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 1 };

	(void)state;
	assert_int_equal(util_addr_parse("2001:db8::1", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_memory_equal(a.u.b, want, 16);
	assert_int_equal(util_addr_len(&a), 16);
	assert_int_equal(util_addr_parse("::ffff:192.0.2.1", &a), 0);
	assert_int_equal(a.family, AF_INET6);
}

static void
test_addr_parse_bad(void **state)
{
	static const char *const bad[] = { "", " 192.0.2.1", "192.0.2.1 ",
	    "192.0.2 .1", "192.0.2", "192.0.2.256", "junk", "2001:db8::g",
	    "2001:db8:::1", "[2001:db8::1]", "192.0.2.1:80", "1.2.3.4/24",
	    NULL };
	struct ilb_addr	a, before;
	int		i;

	(void)state;
	memset(&a, 0x55, sizeof(a));
	before = a;
	for (i = 0; bad[i] != NULL; i++) {
		assert_int_equal(util_addr_parse(bad[i], &a), -1);
		assert_memory_equal(&a, &before, sizeof(a));
	}
	assert_int_equal(util_addr_parse(NULL, &a), -1);
}

static void
test_addr_fmt(void **state)
{
	struct ilb_addr	a;
	char		buf[ILB_ADDRSTRLEN], small[4];

	(void)state;
	assert_int_equal(util_addr_parse("2001:DB8:0:0::10", &a), 0);
	assert_string_equal(util_addr_fmt(&a, buf, sizeof(buf)),
	    "2001:db8::10");
	assert_int_equal(util_addr_parse("198.51.100.7", &a), 0);
	assert_ptr_equal(util_addr_fmt(&a, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "198.51.100.7");
	assert_string_equal(util_addr_fmt(&a, small, sizeof(small)), "?");
	memset(&a, 0, sizeof(a));
	assert_string_equal(util_addr_fmt(&a, buf, sizeof(buf)), "?");
	assert_int_equal(util_addr_len(&a), 0);
}

static void
test_addr_eq(void **state)
{
	struct ilb_addr	a, b, c, d;

	(void)state;
	assert_int_equal(util_addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(util_addr_parse("192.0.2.1", &b), 0);
	assert_int_equal(util_addr_parse("192.0.2.2", &c), 0);
	assert_int_equal(util_addr_parse("::ffff:192.0.2.1", &d), 0);
	assert_true(util_addr_eq(&a, &b));
	assert_false(util_addr_eq(&a, &c));
	assert_false(util_addr_eq(&a, &d));
	assert_int_equal(memcmp(&a, &b, sizeof(a)), 0);
}

static void
test_hostport(void **state)
{
	struct ilb_addr	a;
	uint16_t	port;
	char		buf[ILB_ADDRSTRLEN];

	(void)state;
	assert_int_equal(util_hostport_parse("192.0.2.1:80", &a, &port), 0);
	assert_int_equal(a.family, AF_INET);
	assert_string_equal(util_addr_fmt(&a, buf, sizeof(buf)), "192.0.2.1");
	assert_int_equal(port, 80);
	assert_int_equal(util_hostport_parse("[2001:db8::1]:65535", &a,
	    &port), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_string_equal(util_addr_fmt(&a, buf, sizeof(buf)),
	    "2001:db8::1");
	assert_int_equal(port, 65535);
	assert_int_equal(util_hostport_parse("127.0.0.1:1", &a, &port), 0);
	assert_int_equal(port, 1);
}

static void
test_hostport_bad(void **state)
{
	static const char *const bad[] = { "", ":80", "192.0.2.1",
	    "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536", "192.0.2.1:-1",
	    "192.0.2.1:+80", "192.0.2.1: 80", "192.0.2.1:80 ", "192.0.2.1:8a",
	    "192.0.2.1:123456", "2001:db8::1:80", "[2001:db8::1]80",
	    "[2001:db8::1]:", "[2001:db8::1:80", "[192.0.2.1]:80",
	    "[]:80", "host:80", " 192.0.2.1:80", NULL };
	struct ilb_addr	a;
	uint16_t	port = 7;
	int		i;

	(void)state;
	memset(&a, 0x55, sizeof(a));
	for (i = 0; bad[i] != NULL; i++) {
		if (util_hostport_parse(bad[i], &a, &port) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(port, 7);
		assert_int_equal(a.family, 0x55);
	}
	assert_int_equal(util_hostport_parse(NULL, &a, &port), -1);
}

static void
test_strlcpy(void **state)
{
	char	buf[8];

	(void)state;
	assert_int_equal(util_strlcpy(buf, "abc", sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(util_strlcpy(buf, "abcdefghij", sizeof(buf)), 10);
	assert_string_equal(buf, "abcdefg");
	assert_int_equal(util_strlcpy(buf, "1234567", sizeof(buf)), 7);
	assert_string_equal(buf, "1234567");
	buf[0] = 'x';
	assert_int_equal(util_strlcpy(buf, "zz", 0), 2);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(util_strlcpy(buf, "", sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

/* util_sockaddr: family, address and port, in network order. */
static void
test_sockaddr(void **state)
{
	struct ilb_addr		 a;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	(void)state;
	assert_int_equal(util_addr_parse("192.0.2.11", &a), 0);
	assert_int_equal(util_sockaddr(&a, 7946, &ss), sizeof(*sin));
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 7946);
	assert_memory_equal(&sin->sin_addr, &a.u.v4, 4);
	assert_int_equal(util_addr_parse("2001:db8::11", &a), 0);
	assert_int_equal(util_sockaddr(&a, 0, &ss), sizeof(*sin6));
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(sin6->sin6_port, 0);
	assert_memory_equal(&sin6->sin6_addr, &a.u.v6, 16);
	memset(&a, 0, sizeof(a));
	assert_int_equal(util_sockaddr(&a, 80, &ss), 0);
}

/* util_cause: the message, -1, errno untouched; a NULL cause is allowed. */
static void
test_cause(void **state)
{
	char	*cause = NULL;

	(void)state;
	errno = ENOENT;
	assert_int_equal(util_cause(&cause, "%s:%d: %s", "f", 12, "bad"), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(cause);
	assert_string_equal(cause, "f:12: bad");
	free(cause);
	assert_int_equal(util_cause(NULL, "unused %d", 1), -1);
	assert_int_equal(errno, ENOENT);
}

/* be.h: network order at an odd address; le64_load the other way. */
static void
test_be(void **state)
{
	static const uint8_t	want[9] = { 0xee, 0x01, 0x02, 0x03, 0x04,
				    0x05, 0x06, 0x07, 0x08 };
	uint8_t			b[9];

	(void)state;
	assert_int_equal(be16_load(want + 1), 0x0102);
	assert_int_equal(be32_load(want + 1), 0x01020304);
	assert_true(be64_load(want + 1) == 0x0102030405060708ULL);
	assert_true(le64_load(want + 1) == 0x0807060504030201ULL);
	memset(b, 0xee, sizeof(b));
	be16_store(b + 1, 0x0102);
	assert_memory_equal(b, want, 3);
	be32_store(b + 1, 0x01020304);
	assert_memory_equal(b, want, 5);
	be64_store(b + 1, 0x0102030405060708ULL);
	assert_memory_equal(b, want, 9);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse_v4),
		cmocka_unit_test(test_addr_parse_v6),
		cmocka_unit_test(test_addr_parse_bad),
		cmocka_unit_test(test_addr_fmt),
		cmocka_unit_test(test_addr_eq),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_hostport_bad),
		cmocka_unit_test(test_strlcpy),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_cause),
		cmocka_unit_test(test_be),
	};

	return (cmocka_run_group_tests_name("util", tests, NULL, NULL));
}
