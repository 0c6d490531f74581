/* test_ctl.c: ilbctl command words, prefixes, operands and the wire codec. */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl.h"
#include "util.h"

/* Split s at spaces and parse it; returns ctl_parse()'s result. */
static int
parse(const char *s, struct ctl_req *req, char **cause)
{
	char	 buf[4096], *words[64], *p, *w;
	int	 n = 0;

	util_strlcpy(buf, s, sizeof(buf));
	for (p = buf; (w = strsep(&p, " ")) != NULL;)
		if (*w != '\0')
			words[n++] = w;
	memset(req, 0, sizeof(*req));
	return (ctl_parse(n, words, req, cause));
}

static void
want_cmd(const char *s, enum ctl_cmd cmd)
{
	struct ctl_req	 req;
	char		*cause = NULL;

	if (parse(s, &req, &cause) != 0)
		fail_msg("'%s': %s", s, cause);
	assert_null(cause);
	if (req.cmd != cmd)
		fail_msg("'%s': cmd %d, want %d", s, req.cmd, cmd);
}

static void
want_err(const char *s, const char *msg)
{
	struct ctl_req	 req;
	char		*cause = NULL;

	if (parse(s, &req, &cause) != -1)
		fail_msg("'%s' parsed, want error '%s'", s, msg);
	assert_non_null(cause);
	if (strcmp(cause, msg) != 0)
		fail_msg("'%s': got '%s', want '%s'", s, cause, msg);
	free(cause);
}

static void
test_full_words(void **state)
{
	(void)state;
	want_cmd("show members", CTL_SHOW_MEMBERS);
	want_cmd("show services", CTL_SHOW_SERVICES);
	want_cmd("show servers", CTL_SHOW_SERVERS);
	want_cmd("show connections", CTL_SHOW_CONNECTIONS);
	want_cmd("show cache", CTL_SHOW_CACHE);
	want_cmd("show stats", CTL_SHOW_STATS);
	want_cmd("show owner 203.0.113.7:51000 198.51.100.10:80",
	    CTL_SHOW_OWNER);
	want_cmd("show owner 203.0.113.7:51000 198.51.100.10:53 udp",
	    CTL_SHOW_OWNER);
	want_cmd("show owner 203.0.113.7:51000 198.51.100.10:80 t",
	    CTL_SHOW_OWNER);
	want_cmd("server drain web 192.0.2.21", CTL_SERVER_DRAIN);
	want_cmd("server enable web 192.0.2.21", CTL_SERVER_ENABLE);
	want_cmd("server weight web 192.0.2.21 3", CTL_SERVER_WEIGHT);
	want_cmd("server drain web 192.0.2.21 local", CTL_SERVER_DRAIN);
	want_cmd("server enable web 192.0.2.21 l", CTL_SERVER_ENABLE);
	want_cmd("server weight web 192.0.2.21 3 loc", CTL_SERVER_WEIGHT);
	want_cmd("leave", CTL_LEAVE);
	want_cmd("reload", CTL_RELOAD);
	want_cmd("show info", CTL_SHOW_INFO);
	want_cmd("sh i", CTL_SHOW_INFO);
}

static void
test_shortest_prefixes(void **state)
{
	(void)state;
	want_cmd("sh m", CTL_SHOW_MEMBERS);
	want_cmd("sh mem", CTL_SHOW_MEMBERS);
	want_cmd("sh servi", CTL_SHOW_SERVICES);
	want_cmd("sh serve", CTL_SHOW_SERVERS);
	want_cmd("sh co", CTL_SHOW_CONNECTIONS);
	want_cmd("sh ca", CTL_SHOW_CACHE);
	want_cmd("sh st", CTL_SHOW_STATS);
	want_cmd("sh o 203.0.113.7:51000 198.51.100.10:80", CTL_SHOW_OWNER);
	want_cmd("show own 203.0.113.7:51000 198.51.100.10:80",
	    CTL_SHOW_OWNER);
	want_cmd("se d web 192.0.2.21", CTL_SERVER_DRAIN);
	want_cmd("se e web 192.0.2.21", CTL_SERVER_ENABLE);
	want_cmd("se w web 192.0.2.21 0", CTL_SERVER_WEIGHT);
	want_cmd("server dr web 192.0.2.21", CTL_SERVER_DRAIN);
	want_cmd("l", CTL_LEAVE);
	want_cmd("r", CTL_RELOAD);
	want_cmd("sh co l 20 v 198.51.100.10 c 203.0.113.7",
	    CTL_SHOW_CONNECTIONS);
}

static void
test_ambiguous(void **state)
{
	(void)state;
	want_err("s", "ambiguous: 's' could be show, server");
	want_err("s members", "ambiguous: 's' could be show, server");
	want_err("show s", "show: ambiguous: 's' could be services, servers, "
	    "stats");
	want_err("show serv", "show: ambiguous: 'serv' could be services, "
	    "servers");
	want_err("show c", "show: ambiguous: 'c' could be connections, cache");
}

static void
test_unknown(void **state)
{
	(void)state;
	want_err("", "expected a command: one of show, server, leave, reload, "
	    "monitor");
	want_err("frobnicate", "unknown command 'frobnicate'; expected one of "
	    "show, server, leave, reload, monitor");
	want_err("show", "show: expected one of members, services, servers, "
	    "connections, cache, stats, owner, info");
	want_err("show memberz", "show: unknown word 'memberz'; expected one "
	    "of members, services, servers, connections, cache, stats, "
	    "owner, info");
	want_err("server", "server: expected one of drain, enable, weight");
	want_err("server stop web 192.0.2.21", "server: unknown word 'stop'; "
	    "expected one of drain, enable, weight");
	want_err("show connections sort 1", "show connections: unknown word "
	    "'sort'; expected one of limit, vip, client");
	/* A word longer than the whole command ("shows") is not a prefix. */
	want_err("shows members", "unknown command 'shows'; expected one of "
	    "show, server, leave, reload, monitor");
}

static void
test_operands_missing_extra(void **state)
{
	(void)state;
	want_err("show owner", "show owner: expected CLIENT:PORT VIP:PORT");
	want_err("show owner 203.0.113.7:51000", "show owner: expected "
	    "VIP:PORT");
	want_err("server drain", "server drain: expected SERVICE ADDRESS");
	want_err("server drain web", "server drain: expected ADDRESS");
	want_err("server weight web 192.0.2.21", "server weight: expected N");
	want_err("server weight", "server weight: expected SERVICE ADDRESS N");
	want_err("leave now", "leave: unexpected 'now'");
	want_err("reload x", "reload: unexpected 'x'");
	want_err("show members x", "show members: unexpected 'x'");
	want_err("server enable web 192.0.2.21 3", "server enable: unknown "
	    "word '3'; expected one of local");
	want_err("server weight web 192.0.2.21 3 local x", "server weight: "
	    "unexpected 'x'");
	want_err("show owner 203.0.113.7:51000 198.51.100.10:80 x",
	    "show owner: unknown word 'x'; expected one of tcp, udp");
	want_err("show owner 203.0.113.7:51000 198.51.100.10:80 udp x",
	    "show owner: unexpected 'x'");
	want_err("show connections limit", "show connections: expected N");
	want_err("show cache vip", "show cache: expected ADDRESS[:PORT]");
}

static void
test_operands_bad(void **state)
{
	(void)state;
	want_err("server weight web 192.0.2.21 1001", "server weight: N must "
	    "be 0..1000, not '1001'");
	want_err("server weight web 192.0.2.21 -1", "server weight: N must "
	    "be 0..1000, not '-1'");
	want_err("server weight web 192.0.2.21 3x", "server weight: N must "
	    "be 0..1000, not '3x'");
	want_err("server drain web 192.0.2.300", "server drain: "
	    "'192.0.2.300' is not an IP address");
	want_err("server drain w/b 192.0.2.21", "server drain: 'w/b' is not "
	    "a service name (1..32 of A-Z a-z 0-9 _ . -)");
	want_err("server drain abcdefghijabcdefghijabcdefghijabc 192.0.2.21",
	    "server drain: 'abcdefghijabcdefghijabcdefghijabc' is not a "
	    "service name (1..32 of A-Z a-z 0-9 _ . -)");
	want_err("show owner 203.0.113.7 198.51.100.10:80", "show owner: "
	    "CLIENT:PORT: '203.0.113.7' is not ADDRESS:PORT "
	    "(203.0.113.7:51000, [2001:db8::7]:51000)");
	want_err("show owner 203.0.113.7:51000 198.51.100.10:0", "show owner: "
	    "VIP:PORT: '198.51.100.10:0' is not ADDRESS:PORT "
	    "(198.51.100.10:80, [2001:db8::10]:80)");
	want_err("show owner [2001:db8::7]:51000 198.51.100.10:80", "show "
	    "owner: the client and the VIP are not of the same address "
	    "family");
	want_err("show connections limit 0", "show connections: limit N must "
	    "be 1..100000, not '0'");
	want_err("show connections limit 5 limit 6", "show connections: limit "
	    "given twice");
	want_err("show cache vip 1.2.3.4 vip 1.2.3.5", "show cache: vip given "
	    "twice");
	want_err("show cache client nope", "show cache: client: 'nope' is not "
	    "ADDRESS or ADDRESS:PORT");
}

static void
test_operands_values(void **state)
{
	struct ctl_req	 req;
	struct ilb_addr	 a;
	char		*cause = NULL;

	(void)state;
	assert_int_equal(parse("sh co", &req, &cause), 0);
	assert_int_equal(req.flags, 0);
	assert_int_equal(req.limit, CTL_LIMIT_DEFAULT);
	assert_int_equal(req.argc, 0);

	assert_int_equal(parse("show conn limit 20 vip 198.51.100.10", &req,
	    &cause), 0);
	assert_int_equal(req.cmd, CTL_SHOW_CONNECTIONS);
	assert_int_equal(req.flags, CTL_F_LIMIT | CTL_F_VIP);
	assert_int_equal(req.limit, 20);
	util_addr_parse("198.51.100.10", &a);
	assert_true(util_addr_eq(&req.vip, &a));
	assert_int_equal(req.vip_port, 0);
	assert_int_equal(req.argc, 4);
	assert_string_equal(req.argv[0], "limit");
	assert_string_equal(req.argv[3], "198.51.100.10");

	assert_int_equal(parse("sh ca c [2001:db8::7]:51000 l 1", &req,
	    &cause), 0);
	assert_int_equal(req.flags, CTL_F_LIMIT | CTL_F_CLIENT);
	assert_int_equal(req.client.family, AF_INET6);
	assert_int_equal(req.client_port, 51000);
	assert_string_equal(req.argv[0], "client");	/* canonical word */
	assert_string_equal(req.argv[2], "limit");

	assert_int_equal(parse("show own 203.0.113.7:51000 198.51.100.10:80",
	    &req, &cause), 0);
	assert_int_equal(req.client_port, 51000);
	assert_int_equal(req.vip_port, 80);
	util_addr_parse("203.0.113.7", &a);
	assert_true(util_addr_eq(&req.client, &a));

	assert_int_equal(parse("server weight web-1.a 2001:db8::21 1000",
	    &req, &cause), 0);
	assert_string_equal(req.service, "web-1.a");
	assert_int_equal(req.server.family, AF_INET6);
	assert_int_equal(req.weight, 1000);
	assert_int_equal(req.argc, 3);

	/* A service may be named like a keyword: operands never match. */
	assert_int_equal(parse("server drain show 192.0.2.21", &req, &cause),
	    0);
	assert_string_equal(req.service, "show");
	assert_null(cause);
}

static void
test_cmd_name(void **state)
{
	(void)state;
	assert_string_equal(ctl_cmd_name(CTL_SERVER_WEIGHT), "server weight");
	assert_string_equal(ctl_cmd_name(CTL_LEAVE), "leave");
	assert_string_equal(ctl_cmd_name(CTL_CMD_MAX), "?");
}

/* Encode s, check the line, decode it and compare. */
static void
round_trip(const char *s, int json, const char *line)
{
	struct ctl_req	 req, back;
	char		 buf[CTL_REQ_MAX + 1], *cause = NULL;
	int		 n;

	assert_int_equal(parse(s, &req, &cause), 0);
	req.json = json;
	n = ctl_req_encode(&req, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(line));
	assert_string_equal(buf, line);
	memset(&back, 0xa5, sizeof(back));
	assert_int_equal(ctl_req_decode(buf, (size_t)n, &back, &cause), 0);
	assert_null(cause);
	assert_int_equal(back.cmd, req.cmd);
	assert_int_equal(back.json, json);
	assert_int_equal(back.argc, req.argc);
	assert_memory_equal(back.argv, req.argv, sizeof(req.argv));
	assert_int_equal(back.flags, req.flags);
	assert_int_equal(back.limit, req.limit);
	assert_memory_equal(&back.client, &req.client, sizeof(req.client));
	assert_memory_equal(&back.vip, &req.vip, sizeof(req.vip));
	assert_int_equal(back.vip_port, req.vip_port);
	assert_int_equal(back.client_port, req.client_port);
	assert_string_equal(back.service, req.service);
	assert_memory_equal(&back.server, &req.server, sizeof(req.server));
	assert_int_equal(back.weight, req.weight);
}

static void
test_round_trip(void **state)
{
	(void)state;
	round_trip("sh mem", 0, "ILBCTL/1 show members\n");
	round_trip("sh mem", 1, "ILBCTL/1 json show members\n");
	round_trip("show serve", 0, "ILBCTL/1 show servers\n");
	round_trip("sh st", 1, "ILBCTL/1 json show stats\n");
	round_trip("show own 203.0.113.7:51000 198.51.100.10:80", 1,
	    "ILBCTL/1 json show owner 203.0.113.7:51000 198.51.100.10:80\n");
	round_trip("show conn l 20 v 198.51.100.10", 0,
	    "ILBCTL/1 show connections limit 20 vip 198.51.100.10\n");
	round_trip("sh ca c [2001:db8::7]:1 v 2001:db8::10 l 5", 0,
	    "ILBCTL/1 show cache client [2001:db8::7]:1 vip 2001:db8::10 "
	    "limit 5\n");
	round_trip("se w web 192.0.2.21 3", 0,
	    "ILBCTL/1 server weight web 192.0.2.21 3\n");
	round_trip("se dr web 192.0.2.21", 0,
	    "ILBCTL/1 server drain web 192.0.2.21\n");
	round_trip("se en web 192.0.2.21", 0,
	    "ILBCTL/1 server enable web 192.0.2.21\n");
	round_trip("l", 0, "ILBCTL/1 leave\n");
	round_trip("reload", 0, "ILBCTL/1 reload\n");
}

static void
test_encode_limits(void **state)
{
	struct ctl_req	req;
	char		buf[CTL_REQ_MAX + 1], small[16];

	(void)state;
	memset(&req, 0, sizeof(req));
	req.cmd = CTL_SHOW_MEMBERS;
	assert_int_equal(ctl_req_encode(&req, small, sizeof(small)), -1);
	req.cmd = CTL_CMD_MAX;
	assert_int_equal(ctl_req_encode(&req, buf, sizeof(buf)), -1);
	req.cmd = CTL_SERVER_DRAIN;
	req.argc = 2;
	util_strlcpy(req.argv[0], "a b", CTL_ARG_LEN);	/* space inside */
	util_strlcpy(req.argv[1], "192.0.2.1", CTL_ARG_LEN);
	assert_int_equal(ctl_req_encode(&req, buf, sizeof(buf)), -1);
	req.argc = CTL_ARGS_MAX + 1;
	assert_int_equal(ctl_req_encode(&req, buf, sizeof(buf)), -1);
}

static void
want_decode(const char *line, int rv, const char *msg)
{
	struct ctl_req	 req;
	char		*cause = NULL;

	memset(&req, 0, sizeof(req));
	if (ctl_req_decode(line, strlen(line), &req, &cause) != rv)
		fail_msg("'%s': want %d (%s)", line, rv, cause);
	if (msg == NULL) {
		assert_null(cause);
		return;
	}
	assert_non_null(cause);
	if (strcmp(cause, msg) != 0)
		fail_msg("'%s': got '%s', want '%s'", line, cause, msg);
	free(cause);
}

static void
test_decode(void **state)
{
	struct ctl_req	req;
	char		*cause;

	(void)state;
	/* Lenient about spacing and CRLF, so nc(1) and socat(1) work. */
	want_decode("ILBCTL/1  sh\tmem \r\n", 0, NULL);
	want_decode("ILBCTL/1 json sh mem", 0, NULL);
	want_decode("ILBCTL/1 json", -1, "expected a command: one of show, "
	    "server, leave, reload, monitor");
	want_decode("ILBCTL/1 show frob\n", -1, "show: unknown word 'frob'; "
	    "expected one of members, services, servers, connections, "
	    "cache, stats, owner, info");
	want_decode("ILBCTL/2 show members\n", -1, "ilbctl speaks protocol "
	    "version 2, this ilbd speaks 1: use the ilbctl installed with "
	    "ilbd");
	want_decode("GET / HTTP/1.0\r\n", -2, "not an ilbctl request");
	want_decode("ILBCTL/x show members\n", -2, "not an ilbctl request");
	want_decode("ILBCTL/ show members\n", -2, "not an ilbctl request");
	want_decode("\n", -2, "not an ilbctl request");
	want_decode("ILBCTL/1 show\001members\n", -2, "request has a control "
	    "or non-ASCII byte");
	want_decode("ILBCTL/1 show members\xff\n", -2, "request has a control "
	    "or non-ASCII byte");
	want_decode("ILBCTL/1 show\nmembers\n", -2, "request has a control "
	    "or non-ASCII byte");
	/* An embedded NUL is a control byte too. */
	cause = NULL;
	assert_int_equal(ctl_req_decode("ILBCTL/1 show\0members\n", 22, &req,
	    &cause), -2);
	free(cause);
}

static void
test_decode_oversized(void **state)
{
	struct ctl_req	 req;
	char		 line[CTL_REQ_MAX + 64], word[CTL_ARG_LEN + 8], *cause;
	size_t		 len;

	(void)state;
	/* Exactly CTL_REQ_MAX bytes, '\n' included, is allowed. */
	memset(line, ' ', sizeof(line));
	memcpy(line, "ILBCTL/1 leave", 14);
	line[CTL_REQ_MAX - 1] = '\n';
	cause = NULL;
	assert_int_equal(ctl_req_decode(line, CTL_REQ_MAX, &req, &cause), 0);
	cause = NULL;
	line[CTL_REQ_MAX] = '\n';
	assert_int_equal(ctl_req_decode(line, CTL_REQ_MAX + 1, &req, &cause),
	    -2);
	assert_string_equal(cause, "request longer than 1024 bytes");
	free(cause);

	/* One word longer than an operand may be. */
	memset(word, 'a', sizeof(word));
	word[sizeof(word) - 1] = '\0';
	len = (size_t)snprintf(line, sizeof(line), "ILBCTL/1 server drain "
	    "%s 192.0.2.1\n", word);
	cause = NULL;
	assert_int_equal(ctl_req_decode(line, len, &req, &cause), -1);
	assert_non_null(strstr(cause, "server drain: word too long"));
	free(cause);
}

static void
want_header(const char *line, int rv, int ok, size_t len, const char *msg)
{
	char	*cause = NULL;
	size_t	 got = 12345;
	int	 gok = -1;

	if (ctl_resp_header_decode(line, strlen(line), &gok, &got, &cause) !=
	    rv)
		fail_msg("'%s': want %d (%s)", line, rv, cause);
	if (rv == 0) {
		assert_int_equal(gok, ok);
		assert_int_equal(got, len);
		assert_null(cause);
		return;
	}
	assert_non_null(cause);
	if (strcmp(cause, msg) != 0)
		fail_msg("'%s': got '%s', want '%s'", line, cause, msg);
	free(cause);
}

static void
test_resp_header(void **state)
{
	char	buf[CTL_HDR_MAX], tiny[8];
	int	n;

	(void)state;
	n = ctl_resp_header_encode(buf, sizeof(buf), 1, 1234);
	assert_int_equal(n, (int)strlen("ILBCTL/1 OK 1234\n"));
	assert_string_equal(buf, "ILBCTL/1 OK 1234\n");
	want_header(buf, 0, 1, 1234, NULL);
	ctl_resp_header_encode(buf, sizeof(buf), 0, 0);
	assert_string_equal(buf, "ILBCTL/1 ERR 0\n");
	want_header(buf, 0, 0, 0, NULL);
	assert_int_equal(ctl_resp_header_encode(tiny, sizeof(tiny), 1, 5), -1);

	want_header("ILBCTL/2 OK 5\n", -1, 0, 0, "ilbd speaks protocol "
	    "version 2, this ilbctl speaks 1: use the ilbctl installed with "
	    "ilbd");
	want_header("HTTP/1.0 200 OK\n", -1, 0, 0, "malformed response "
	    "header: not an ilbd control socket?");
	want_header("ILBCTL/1 MAYBE 5\n", -1, 0, 0, "malformed response "
	    "header");
	want_header("ILBCTL/1 OK\n", -1, 0, 0, "malformed response header");
	want_header("ILBCTL/1 OK -5\n", -1, 0, 0, "malformed response header");
	want_header("ILBCTL/1 OK 5x\n", -1, 0, 0, "malformed response header");
	want_header("ILBCTL/1 OK 99999999999\n", -1, 0, 0, "malformed "
	    "response header");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_words),
		cmocka_unit_test(test_shortest_prefixes),
		cmocka_unit_test(test_ambiguous),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_operands_missing_extra),
		cmocka_unit_test(test_operands_bad),
		cmocka_unit_test(test_operands_values),
		cmocka_unit_test(test_cmd_name),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_decode_oversized),
		cmocka_unit_test(test_resp_header),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
