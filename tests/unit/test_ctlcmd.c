/* test_ctlcmd.c: ilbctl's command handlers: rendering, filters, tuples, errors. */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "admin.h"
#include "cache.h"
#include "ctl.h"
#include "ctlcmd.h"
#include "digest.h"
#include "lb.h"
#include "ltoc.h"
#include "msg.h"
#include "world.h"

#define TEST_MEMBERS	3
#define T0		1000000ULL	/* ms */

/* One ILB (10.0.0.1 of 10.0.0.1..3), service web 198.51.100.10:80. */
struct test_node {
	struct world		 world;
	struct lb		*lb;		/* world.lb[0] */
	struct evbuffer		*out;
	char			*err;
	struct ctlcmd_view	 view;
};

static struct test_node	node;

static int
setup_node(void **state)
{
	struct test_node	*n = &node;
	struct ilbd_conf	*c = world_conf_new(1024, 1024);

	memset(n, 0, sizeof(*n));
	world_web(c, "web", 10, SCHED_WLC, 3);
	world_init(&n->world, c, TEST_MEMBERS);
	if (world_start(&n->world, 1, 42, 0) != 0)
		return (-1);
	n->lb = &n->world.lb[0];
	if ((n->out = evbuffer_new()) == NULL)
		return (-1);
	n->view.lb = n->lb;
	n->view.now_ms = T0 + 5000;
	*state = n;
	return (0);
}

static int
teardown_node(void **state)
{
	struct test_node	*n = *state;

	world_free(&n->world);
	evbuffer_free(n->out);
	free(n->err);
	n->err = NULL;
	return (0);
}

/* The answer so far as a string (the buffer is drained). */
static char *
test_take(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);
	char	*s = malloc(len + 1);

	assert_non_null(s);
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	return (s);
}

static struct ctl_req
test_req(enum ctl_cmd cmd, int json, int argc, ...)
{
	struct ctl_req	req;
	va_list		ap;
	int		i;

	memset(&req, 0, sizeof(req));
	req.cmd = cmd;
	req.json = json;
	req.argc = argc;
	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		strcpy(req.argv[i], va_arg(ap, const char *));
	va_end(ap);
	return (req);
}

/* Run a request that must succeed; its answer (free it). */
static char *
test_run(struct test_node *n, struct ctl_req req)
{
	int	rc = ctlcmd_view_handle(&n->view, &req, n->out, &n->err);

	if (rc != 0)
		fail_msg("request failed: %s", n->err ? n->err : "(null)");
	return (test_take(n->out));
}

/* Run a request that must fail with an error containing want. */
static void
test_run_fail(struct test_node *n, struct ctl_req req, const char *want)
{
	free(n->err);
	n->err = NULL;
	assert_int_equal(ctlcmd_view_handle(&n->view, &req, n->out, &n->err),
	    -1);
	assert_non_null(n->err);
	if (strstr(n->err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", n->err, want);
	assert_int_equal(evbuffer_get_length(n->out), 0);
	free(n->err);
	n->err = NULL;
}

static void
test_expect_contains(const char *s, const char *want)
{
	if (s == NULL || strstr(s, want) == NULL)
		fail_msg("\"%s\" not in:\n%s", want, s != NULL ? s : "");
}

static void
test_json_string(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "", "\"\"" },
		{ "web", "\"web\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "l1\nl2\tx\r", "\"l1\\nl2\\tx\\r\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
		{ "x\xffy", "\"x\\ufffdy\"" },
		{ "\xc0\x80", "\"\\ufffd\\ufffd\"" },	/* overlong NUL */
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" }, /* surrogate */
		{ "\xe2\x82", "\"\\ufffd\\ufffd\"" },	/* truncated */
	};
	struct evbuffer	*b = evbuffer_new();
	char		*s;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctlcmd_json_string(b, cases[i].in);
		s = test_take(b);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
	evbuffer_free(b);
}

static void
test_labels_json(void **state)
{
	struct evbuffer		*b = evbuffer_new();
	static const char *const bad[] = { "a=b", "a=\"x", "=\"x\"",
	    "a=\"x\",", "a=\"x\"b=\"y\"", "a=\"\\q\"", NULL };
	char			*s;
	int			 i;

	(void)state;
	assert_int_equal(ctlcmd_labels_json(b,
	    "service=\"web\",server=\"192.0.2.21\""), 0);
	s = test_take(b);
	assert_string_equal(s, "{\"service\":\"web\",\"server\":\"192.0.2.21\"}");
	free(s);
	assert_int_equal(ctlcmd_labels_json(b, "a=\"x\\\"y\\\\z\\n\""), 0);
	s = test_take(b);
	assert_string_equal(s, "{\"a\":\"x\\\"y\\\\z\\n\"}");
	free(s);
	assert_int_equal(ctlcmd_labels_json(b, ""), 0);
	s = test_take(b);
	assert_string_equal(s, "{}");
	free(s);
	for (i = 0; bad[i] != NULL; i++) {
		assert_int_equal(ctlcmd_labels_json(b, bad[i]), -1);
		assert_int_equal(evbuffer_get_length(b), 0);
	}
	evbuffer_free(b);
}

/* claim 4 order: dport, daddr, sport, saddr; and back. */
static void
test_flow_key(void **state)
{
	static const uint8_t v4[FLOW_ID_V4] = { 0, 80, 198, 51, 100, 10,
	    0x9c, 0x40, 203, 0, 113, 7 };
	struct flow_key	k;
	char		c[64], v[64], *cause = NULL;

	(void)state;
	assert_int_equal(ctlcmd_flow_key("203.0.113.7:40000",
	    "198.51.100.10:80", &k, &cause), 0);
	assert_int_equal(k.len, FLOW_ID_V4);
	assert_memory_equal(k.id, v4, sizeof(v4));
	assert_int_equal(k.id[FLOW_ID_V4], 0);
	ctlcmd_flow_fmt(&k, c, sizeof(c), v, sizeof(v));
	assert_string_equal(c, "203.0.113.7:40000");
	assert_string_equal(v, "198.51.100.10:80");

	assert_int_equal(ctlcmd_flow_key("[2001:db8::7]:1234",
	    "[2001:db8::10]:443", &k, &cause), 0);
	assert_int_equal(k.len, FLOW_ID_V6);
	assert_int_equal(k.id[0], 443 >> 8);
	assert_int_equal(k.id[1], 443 & 0xff);
	assert_int_equal(k.id[2], 0x20);
	assert_int_equal(k.id[17], 0x10);
	assert_int_equal(k.id[18], 1234 >> 8);
	assert_int_equal(k.id[19], 1234 & 0xff);
	assert_int_equal(k.id[35], 7);
	ctlcmd_flow_fmt(&k, c, sizeof(c), v, sizeof(v));
	assert_string_equal(c, "[2001:db8::7]:1234");
	assert_string_equal(v, "[2001:db8::10]:443");

	assert_int_equal(ctlcmd_flow_key("203.0.113.7", "198.51.100.10:80",
	    &k, &cause), -1);
	assert_non_null(strstr(cause, "bad client"));
	free(cause);
	cause = NULL;
	assert_int_equal(ctlcmd_flow_key("203.0.113.7:1", "198.51.100.10:0",
	    &k, &cause), -1);
	assert_non_null(strstr(cause, "bad VIP"));
	free(cause);
	cause = NULL;
	assert_int_equal(ctlcmd_flow_key("203.0.113.7:1", "[2001:db8::1]:80",
	    &k, &cause), -1);
	assert_non_null(strstr(cause, "family"));
	free(cause);
}

static void
test_filter(void **state)
{
	struct ctlcmd_filter	f;
	struct flow_key		k;
	struct ctl_req		req;
	char			*err = NULL;
	static const char *const bad[][2] = { { "limit", "0" },
	    { "limit", "x" }, { "limit", "100001" }, { "bogus", "1" },
	    { "vip", "junk" }, { "client", "1.2.3.4:0" } };
	size_t			i;

	(void)state;
	req = test_req(CTL_SHOW_CONNECTIONS, 0, 0);
	assert_int_equal(ctlcmd_filter_parse(&req, &f, &err), 0);
	assert_int_equal(f.limit, CTLCMD_LIMIT_DEFAULT);
	assert_int_equal(ctlcmd_flow_key("203.0.113.7:40000",
	    "198.51.100.10:80", &k, &err), 0);
	assert_true(ctlcmd_filter_match(&f, &k));

	req = test_req(CTL_SHOW_CONNECTIONS, 0, 6, "limit", "5", "vip",
	    "198.51.100.10", "client", "203.0.113.7:40000");
	assert_int_equal(ctlcmd_filter_parse(&req, &f, &err), 0);
	assert_int_equal(f.limit, 5);
	assert_true(f.has_vip && f.has_client);
	assert_int_equal(f.vport, 0);
	assert_int_equal(f.cport, 40000);
	assert_true(ctlcmd_filter_match(&f, &k));
	f.cport = 40001;
	assert_false(ctlcmd_filter_match(&f, &k));
	f.cport = 0;
	f.vport = 81;
	assert_false(ctlcmd_filter_match(&f, &k));
	f.vport = 80;
	f.client.u.b[3] = 8;
	assert_false(ctlcmd_filter_match(&f, &k));

	req = test_req(CTL_SHOW_CONNECTIONS, 0, 2, "vip", "2001:db8::10");
	assert_int_equal(ctlcmd_filter_parse(&req, &f, &err), 0);
	assert_false(ctlcmd_filter_match(&f, &k));	/* other family */

	req = test_req(CTL_SHOW_CONNECTIONS, 0, 1, "limit");
	assert_int_equal(ctlcmd_filter_parse(&req, &f, &err), -1);
	assert_non_null(strstr(err, "needs a value"));
	free(err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		req = test_req(CTL_SHOW_CONNECTIONS, 0, 2, bad[i][0],
		    bad[i][1]);
		assert_int_equal(ctlcmd_filter_parse(&req, &f, &err), -1);
		assert_non_null(err);
		free(err);
	}
}

static const struct ctlcmd_col test_cols[] = {
	{ "NAME", "name", CTLCMD_STR },
	{ "N", "n", CTLCMD_NUM },
	{ "ON", "on", CTLCMD_BOOL },
	{ "LAST", "last", CTLCMD_STR }
};

static void
test_table(void **state)
{
	struct ctlcmd_table	 t;
	struct evbuffer		*b = evbuffer_new();
	const char		*r1[] = { "web", "12345", "yes", "x" };
	const char		*r2[] = { "a\"b", NULL, "no", NULL };
	char			*s;

	(void)state;
	ctlcmd_table_init(&t, test_cols, 4);
	ctlcmd_table_text(&t, b);
	s = test_take(b);
	assert_string_equal(s, "NAME  N  ON  LAST\n");
	free(s);
	assert_int_equal(ctlcmd_table_add(&t, r1), 0);
	assert_int_equal(ctlcmd_table_add(&t, r2), 0);
	ctlcmd_table_text(&t, b);
	s = test_take(b);
	assert_string_equal(s,
	    "NAME      N  ON   LAST\n"
	    "web   12345  yes  x\n"
	    "a\"b       -  no   -\n");
	free(s);
	ctlcmd_table_json(&t, b);
	s = test_take(b);
	assert_string_equal(s, "[{\"name\":\"web\",\"n\":12345,\"on\":true,"
	    "\"last\":\"x\"},{\"name\":\"a\\\"b\",\"n\":null,\"on\":false,"
	    "\"last\":null}]");
	free(s);
	ctlcmd_table_free(&t);
	evbuffer_free(b);
}

static void
test_stats(void **state)
{
	struct evbuffer		*b = evbuffer_new();
	struct ctlcmd_stats	 st;
	const struct dp_counter	 c[] = {
		{ "lb", "rx", "packets", DP_COUNTER, "", 7 },
		{ "cluster", "sent", "sent", DP_COUNTER, "", 3 },
		{ "server", "up", "up", DP_GAUGE,
		  "service=\"web\",server=\"192.0.2.21\"", 1 },
		{ "server", "weight", "w", DP_GAUGE, "bad", 2 }
	};
	char			*s;
	size_t			 i;

	(void)state;
	assert_int_equal(ctlcmd_stats_begin(&st, b, 0), 0);
	for (i = 0; i < 4; i++)
		ctlcmd_stats_put(&st, &c[i]);
	ctlcmd_stats_end(&st);
	s = test_take(b);
	assert_string_equal(s, "rx 7\ncluster_sent 3\n"
	    "server_up{service=\"web\",server=\"192.0.2.21\"} 1\n"
	    "server_weight{bad} 2\n");
	free(s);
	assert_int_equal(ctlcmd_stats_begin(&st, b, 1), 0);
	for (i = 0; i < 4; i++)
		ctlcmd_stats_put(&st, &c[i]);
	ctlcmd_stats_end(&st);
	s = test_take(b);
	assert_string_equal(s, "{\"counters\":{\"rx\":7,\"cluster_sent\":3},"
	    "\"labelled\":[{\"name\":\"server_up\",\"type\":\"gauge\","
	    "\"labels\":{\"service\":\"web\",\"server\":\"192.0.2.21\"},"
	    "\"value\":1},{\"name\":\"server_weight\",\"type\":\"gauge\","
	    "\"labels\":\"bad\",\"value\":2}]}\n");
	free(s);
	evbuffer_free(b);
}

/* A client port of 203.0.113.7 whose owner is member o (-1: any) and backup b. */
static uint16_t
test_port_ranked(struct test_node *n, int o, int b)
{
	struct flow_key	k;
	char		c[32];
	uint32_t	port;
	int		ro, rb;

	for (port = 1024; port < 65536; port++) {
		snprintf(c, sizeof(c), "203.0.113.7:%u", port);
		assert_int_equal(ctlcmd_flow_key(c, "198.51.100.10:80", &k,
		    NULL), 0);
		lb_rank(n->lb, &k, &ro, &rb);
		if ((o < 0 || ro == o) && (b < 0 || rb == b))
			return ((uint16_t)port);
	}
	fail_msg("no port found");
	return (0);
}

/* Learn a connection with owner and backup member indices. */
static void
test_learn(struct test_node *n, uint16_t port, unsigned int srv, int o, int b)
{
	struct flow_key	k;
	char		c[32];

	snprintf(c, sizeof(c), "203.0.113.7:%u", port);
	assert_int_equal(ctlcmd_flow_key(c, "198.51.100.10:80", &k, NULL), 0);
	assert_int_equal(lb_learn_conn(n->lb, &k, 0, srv,
	    n->world.slots[o], n->world.slots[b], CONN_ESTABLISHED, 0, T0), 0);
}

static void
test_show_owner(void **state)
{
	struct test_node	*n = *state;
	uint16_t		 p_own, p_bak, p_none;
	char			 c[32], want[512], *s;

	p_own = test_port_ranked(n, 0, 1);
	p_bak = test_port_ranked(n, 2, 0);
	p_none = test_port_ranked(n, 1, 2);
	test_learn(n, p_own, 1, 0, 1);
	test_learn(n, p_none, 2, 1, 2);

	snprintf(c, sizeof(c), "203.0.113.7:%u", p_own);
	s = test_run(n, test_req(CTL_SHOW_OWNER, 1, 2, c, "198.51.100.10:80"));
	snprintf(want, sizeof(want), "{\"client\":\"%s\",\"vip\":"
	    "\"198.51.100.10:80\",\"service\":\"web\",\"owner\":\"10.0.0.1\","
	    "\"backup\":\"10.0.0.2\",\"self\":\"owner\",\"ltoc\":{\"role\":"
	    "\"owner\",\"state\":\"established\",\"server\":\"192.0.2.22\","
	    "\"owner\":\"10.0.0.1\",\"backup\":\"10.0.0.2\",\"idle_s\":5},"
	    "\"cache\":null}\n", c);
	assert_string_equal(s, want);
	free(s);

	snprintf(c, sizeof(c), "203.0.113.7:%u", p_bak);
	s = test_run(n, test_req(CTL_SHOW_OWNER, 1, 2, c, "198.51.100.10:80"));
	test_expect_contains(s, "\"owner\":\"10.0.0.3\",\"backup\":"
	    "\"10.0.0.1\",\"self\":\"backup\",\"ltoc\":null,\"cache\":null}");
	free(s);

	snprintf(c, sizeof(c), "203.0.113.7:%u", p_none);
	s = test_run(n, test_req(CTL_SHOW_OWNER, 1, 2, c, "198.51.100.10:80"));
	test_expect_contains(s, "\"self\":\"neither\",\"ltoc\":null,"
	    "\"cache\":{\"role\":\"cache\",\"state\":\"established\","
	    "\"server\":\"192.0.2.23\",\"owner\":\"10.0.0.2\",\"backup\":"
	    "\"10.0.0.3\"");
	free(s);
	s = test_run(n, test_req(CTL_SHOW_OWNER, 0, 2, c, "198.51.100.10:80"));
	test_expect_contains(s, "owner    10.0.0.2\nbackup   10.0.0.3\n"
	    "self     neither\nltoc     -\ncache    cache established server "
	    "192.0.2.23 owner 10.0.0.2 backup 10.0.0.3 idle 5s\n");
	free(s);

	test_run_fail(n, test_req(CTL_SHOW_OWNER, 1, 2, c, "198.51.100.10:81"),
	    "no service for 198.51.100.10:81");
	test_run_fail(n, test_req(CTL_SHOW_OWNER, 1, 2, "x", "198.51.100.10:80"),
	    "bad client");
	test_run_fail(n, test_req(CTL_SHOW_OWNER, 1, 1, c), "missing operand");
	/* the same tuple as a UDP flow: no UDP service here */
	test_run_fail(n, test_req(CTL_SHOW_OWNER, 1, 3, c, "198.51.100.10:80",
	    "udp"), "no service for 198.51.100.10:80");
	s = test_run(n, test_req(CTL_SHOW_OWNER, 1, 3, c, "198.51.100.10:80",
	    "tcp"));
	test_expect_contains(s, "\"self\":\"neither\"");
	free(s);
	test_run_fail(n, test_req(CTL_SHOW_OWNER, 1, 3, c, "198.51.100.10:80",
	    "sctp"), "want tcp or udp");
}

static void
test_show_connections(void **state)
{
	struct test_node	*n = *state;
	char			*s;

	test_learn(n, test_port_ranked(n, 0, 1), 0, 0, 1);
	test_learn(n, test_port_ranked(n, 2, 0), 0, 2, 0);
	test_learn(n, test_port_ranked(n, 1, 2), 1, 1, 2);

	s = test_run(n, test_req(CTL_SHOW_CONNECTIONS, 0, 0));
	test_expect_contains(s, "CLIENT");
	test_expect_contains(s, "  owner   established  10.0.0.1  10.0.0.2");
	test_expect_contains(s, "  backup  established  10.0.0.3  10.0.0.1");
	test_expect_contains(s, "2 of 2 entries shown\n");
	free(s);
	s = test_run(n, test_req(CTL_SHOW_CONNECTIONS, 1, 2, "limit", "1"));
	test_expect_contains(s, "{\"connections\":[{\"client\":"
	    "\"203.0.113.7:");
	test_expect_contains(s, "],\"total\":2,\"shown\":1,\"limit\":1,"
	    "\"truncated\":true,\"enabled\":true}\n");
	free(s);
	s = test_run(n, test_req(CTL_SHOW_CONNECTIONS, 0, 2, "vip",
	    "198.51.100.11"));
	test_expect_contains(s, "0 of 0 entries shown\n");
	free(s);
	s = test_run(n, test_req(CTL_SHOW_CACHE, 1, 0));
	test_expect_contains(s, "\"role\":\"cache\"");
	test_expect_contains(s, "\"server\":\"192.0.2.22\"");
	test_expect_contains(s, "\"total\":1,\"shown\":1");
	free(s);
	test_run_fail(n, test_req(CTL_SHOW_CACHE, 0, 2, "limit", "0"),
	    "bad limit");
	test_run_fail(n, test_req(CTL_SHOW_CACHE, 0, 7, "a", "b", "c", "d",
	    "e", "f", "g"), "too many operands");
}

/* A cluster-wide state for n whose sends are decoded here. */
static struct admin	test_admin;
static unsigned int	test_admin_sent;
static struct msg_admin	test_admin_last;

static int
test_admin_send(void *arg, const uint8_t *body, size_t len)
{
	struct msg_view	 v;
	const uint8_t	*rec;
	size_t		 off = 0, rlen;

	(void)arg;
	memset(&v, 0, sizeof(v));
	v.hdr.type = MSG_T_ADMIN;
	v.hdr.body_len = (uint16_t)len;
	v.body = body;
	assert_int_equal(msg_rec_next(&v, &off, &rec, &rlen), 1);
	assert_int_equal(msg_admin_get(rec, rlen, &test_admin_last), 0);
	test_admin_sent++;
	return (0);
}

static void
test_admin_attach(struct test_node *n)
{
	struct member_id	self = { 4, 0, { 10, 0, 0, 1 } };

	admin_init(&test_admin, n->lb, &self, test_admin_send, NULL);
	test_admin_sent = 0;
	n->lb->admin = &test_admin;
}

static void
test_show_services_servers(void **state)
{
	struct test_node	*n = *state;
	char			*s;
	int			 i;

	test_learn(n, test_port_ranked(n, 0, 1), 1, 0, 1);
	test_learn(n, test_port_ranked(n, 1, 2), 1, 1, 2);
	/* 20 packets of 1500 bytes to 192.0.2.22 over a 10 s window */
	lb_traffic_rates(n->lb, 1000);
	for (i = 0; i < 20; i++)
		lb_traffic_sent(n->lb, 0, 1, 1500);
	lb_traffic_rates(n->lb, 1000 + LB_RATE_MS);
	n->lb->svc[0].srv[1].traffic.conns = 3;
	n->lb->svc[0].traffic.conns = 3;
	s = test_run(n, test_req(CTL_SHOW_SERVICES, 0, 0));
	assert_string_equal(s,
	    "NAME  VIP               FORWARD  SCHEDULER  ELIGIBLE  SERVERS"
	    "  OWNED  CONNS  PACKETS  BYTES  PPS   BPS  PROTO  QUIC\n"
	    "web   198.51.100.10:80  dsr      wlc               3        3"
	    "      1      3       20  30000    2  3000  tcp    off\n");
	free(s);
	s = test_run(n, test_req(CTL_SHOW_SERVICES, 1, 0));
	assert_string_equal(s, "{\"services\":[{\"name\":\"web\",\"vip\":"
	    "\"198.51.100.10:80\",\"forward\":\"dsr\",\"scheduler\":\"wlc\","
	    "\"servers_eligible\":3,\"servers\":3,\"owned_connections\":1,"
	    "\"connections_total\":3,\"packets_total\":20,\"bytes_total\":"
	    "30000,\"packets_per_s\":2,\"bytes_per_s\":3000,\"protocol\":"
	    "\"tcp\",\"quic\":\"off\"}]}\n");
	free(s);

	/* without a cluster, only this member can change */
	test_run_fail(n, test_req(CTL_SERVER_DRAIN, 0, 2, "web", "192.0.2.22"),
	    "no cluster here: add 'local'");
	test_admin_attach(n);
	s = test_run(n, test_req(CTL_SERVER_DRAIN, 0, 2, "web", "192.0.2.22"));
	test_expect_contains(s, "server 192.0.2.22 of web drained "
	    "(cluster-wide, version ");
	free(s);
	/* sent at once: one ADMIN record, drained, from this member */
	assert_int_equal(test_admin_sent, 1);
	assert_int_equal(test_admin_last.flags,
	    MSG_ADMIN_F_DRAIN | MSG_ADMIN_F_DRAINED);
	assert_string_equal(test_admin_last.service, "web");
	s = test_run(n, test_req(CTL_SERVER_WEIGHT, 1, 4, "web", "192.0.2.21",
	    "7", "local"));
	assert_string_equal(s, "{\"result\":\"server 192.0.2.21 of web: "
	    "weight 7 (local only: this member; the others still use it)"
	    "\"}\n");
	free(s);
	assert_int_equal(test_admin_sent, 1);		/* local: not sent */
	assert_int_equal(n->lb->svc[0].sched.srv[0].weight, 7);
	assert_int_equal(n->lb->svc[0].sched.srv[1].drained, 1);
	assert_false(sched_eligible(&n->lb->svc[0].sched, 1));

	s = test_run(n, test_req(CTL_SHOW_SERVERS, 0, 0));
	test_expect_contains(s, "# ACTIVE: connections as known to this node");
	test_expect_contains(s, "SERVICE  ADDRESS     HEALTH  DRAINED  WEIGHT"
	    "  CONF  OWNED  CACHED  ACTIVE  ADMIN             CONNS  PACKETS"
	    "  BYTES  PPS   BPS  CHECK_AGE  LAST_CHECK\n");
	test_expect_contains(s, "web      192.0.2.21  up      no            7"
	    "     1      0       0       0  local                 0        0"
	    "      0    0     0          -  -\n");
	/* no checker here: no last check */
	test_expect_contains(s, "web      192.0.2.22  up      yes           1"
	    "     1      1       1       2  cluster:10.0.0.1      3       20"
	    "  30000    2  3000          -  -\n");
	free(s);
	s = test_run(n, test_req(CTL_SHOW_SERVERS, 1, 0));
	test_expect_contains(s, "{\"service\":\"web\",\"address\":"
	    "\"192.0.2.22\",\"health\":\"up\",\"drained\":true,\"weight\":1,"
	    "\"weight_configured\":1,\"owned\":1,\"cached\":1,"
	    "\"active_known_to_this_node\":2,\"admin\":\"cluster:10.0.0.1\","
	    "\"connections_total\":3,\"packets_total\":20,\"bytes_total\":"
	    "30000,\"packets_per_s\":2,\"bytes_per_s\":3000,"
	    "\"last_check_age_s\":null,\"last_check\":\"-\"}");
	free(s);
	s = test_run(n, test_req(CTL_SERVER_ENABLE, 0, 2, "web", "192.0.2.22"));
	test_expect_contains(s, "server 192.0.2.22 of web enabled "
	    "(cluster-wide, version ");
	free(s);
	assert_int_equal(test_admin_sent, 2);
	assert_int_equal(test_admin_last.flags, MSG_ADMIN_F_DRAIN);
	test_run_fail(n, test_req(CTL_SERVER_DRAIN, 0, 3, "web", "192.0.2.22",
	    "lokal"), "unexpected \"lokal\"");
	assert_true(sched_eligible(&n->lb->svc[0].sched, 1));

	test_run_fail(n, test_req(CTL_SERVER_DRAIN, 0, 2, "wbe", "192.0.2.22"),
	    "unknown service \"wbe\"");
	test_run_fail(n, test_req(CTL_SERVER_DRAIN, 0, 2, "web", "192.0.2.29"),
	    "no server 192.0.2.29 in service web");
	test_run_fail(n, test_req(CTL_SERVER_DRAIN, 0, 2, "web", "nope"),
	    "bad server address");
	test_run_fail(n, test_req(CTL_SERVER_WEIGHT, 0, 3, "web", "192.0.2.21",
	    "1001"), "bad weight");
	test_run_fail(n, test_req(CTL_SERVER_WEIGHT, 0, 3, "web", "192.0.2.21",
	    "-1"), "bad weight");
}

/*
 * After a reload that moves service web to another VIP, the old copy
 * drains (a connection still uses it) beside the new one of the same
 * name: server drain, enable and weight act on the live service, the one
 * that takes new connections, never on the draining copy.
 */
static void
test_server_cmd_after_vip_change(void **state)
{
	struct test_node	*n = *state;
	struct ilbd_conf	*nc = world_conf_new(1024, 1024);
	char			*s, *cause = NULL;
	int			 live;

	test_learn(n, test_port_ranked(n, 0, 1), 1, 0, 1);
	world_web(nc, "web", 20, SCHED_WLC, 3);		/* 198.51.100.20 */
	assert_int_equal(lb_reload(n->lb, nc, T0, NULL, &cause), 0);
	world_conf_free(nc);
	assert_null(cause);
	assert_int_equal(n->lb->nsvc, 2);		/* the old copy drains */
	live = lb_service_by_name(n->lb, "web");
	assert_true(live >= 0 && n->lb->svc[live].removed == 0);
	assert_int_equal(n->lb->svc[1 - live].removed, 1);

	s = test_run(n, test_req(CTL_SERVER_DRAIN, 0, 3, "web", "192.0.2.22",
	    "local"));
	assert_string_equal(s, "server 192.0.2.22 of web drained (local "
	    "only: this member; the others still use it)\n");
	free(s);
	assert_int_equal(n->lb->svc[live].sched.srv[1].drained, 1);
	assert_false(sched_eligible(&n->lb->svc[live].sched, 1));
	s = test_run(n, test_req(CTL_SERVER_WEIGHT, 0, 4, "web", "192.0.2.21",
	    "9", "local"));
	free(s);
	assert_int_equal(n->lb->svc[live].sched.srv[0].weight, 9);
	/* cluster-wide too: on the live copy */
	test_admin_attach(n);
	s = test_run(n, test_req(CTL_SERVER_ENABLE, 0, 2, "web", "192.0.2.22"));
	free(s);
	assert_true(sched_eligible(&n->lb->svc[live].sched, 1));
}

static int	test_left;

static void
test_leave_cb(void *arg)
{
	(void)arg;
	test_left++;
}

static int
test_reload_cb(void *arg, char **result)
{
	*result = strdup(*(int *)arg ? "ilbd.conf:3: unknown scheduler \"x\"" :
	    "reloaded: 1 service, 3 servers");
	return (*(int *)arg ? -1 : 0);
}

static void
test_dispatch(void **state)
{
	struct test_node	*n = *state;
	struct ctlcmd_env	 env;
	struct ctl_req		 req;
	int			 bad = 0;
	char			*s;

	test_run_fail(n, test_req(CTL_LEAVE, 0, 0), "not available");
	test_run_fail(n, test_req(CTL_RELOAD, 0, 0), "not available");
	test_run_fail(n, test_req(CTL_SHOW_MEMBERS, 0, 0), "no cluster");
	test_run_fail(n, test_req(CTL_SHOW_STATS, 0, 0), "no data path");
	test_run_fail(n, test_req(CTL_CMD_MAX, 0, 0), "unknown command");
	test_run_fail(n, test_req((enum ctl_cmd)-1, 0, 0), "unknown command");
	test_run_fail(n, test_req(CTL_SHOW_STATS, 0, 1, "x"),
	    "show stats: too many operands");
	req = test_req(CTL_SHOW_OWNER, 0, 2, "a", "b");
	memset(req.argv[1], 'x', CTL_ARG_LEN);
	test_run_fail(n, req, "too long");
	req.argc = CTL_ARGS_MAX + 1;
	test_run_fail(n, req, "malformed");
	assert_string_equal(ctlcmd_name(CTL_SHOW_OWNER), "show owner");
	assert_null(ctlcmd_name(CTL_CMD_MAX));

	memset(&env, 0, sizeof(env));
	env.leave = test_leave_cb;
	env.reload = test_reload_cb;
	env.arg = &bad;
	n->view.env = &env;
	s = test_run(n, test_req(CTL_LEAVE, 0, 0));
	assert_string_equal(s, "leaving the cluster\n");
	free(s);
	assert_int_equal(test_left, 1);
	s = test_run(n, test_req(CTL_RELOAD, 1, 0));
	assert_string_equal(s, "{\"result\":\"reloaded: 1 service, "
	    "3 servers\"}\n");
	free(s);
	bad = 1;
	test_run_fail(n, test_req(CTL_RELOAD, 0, 0), "unknown scheduler");
	n->view.env = NULL;
}

/* show info: both renderings; no daemon, no answer; the digest. */
static void
test_show_info(void **state)
{
	struct test_node	*n = *state;
	struct ctlcmd_info	 in;
	char			*s, hex[DIGEST_SHA256_HEX];
	char			 path[] = "/tmp/test_ctlcmd.XXXXXX";
	int			 fd;

	memset(&in, 0, sizeof(in));
	in.version = "1.2.3";
	in.id = "192.0.2.11";
	in.state = "active";
	in.epoch = 7;
	in.start_time = 1764936000;	/* 2025-12-05T12:00:00Z */
	in.uptime_s = 90061;		/* 1 d 01:01:01 */
	in.conf_file = "/etc/ilbd.conf";
	in.conf_sha256 = "ab01";
	ctlcmd_info_render(&in, 0, n->out);
	s = test_take(n->out);
	assert_string_equal(s, "version        1.2.3\n"
	    "id             192.0.2.11\n"
	    "state          active\n"
	    "epoch          7\n"
	    "started        2025-12-05T12:00:00Z\n"
	    "uptime         90061 s (1d 01:01:01)\n"
	    "config         /etc/ilbd.conf\n"
	    "config sha256  ab01\n"
	    "reloads        0 (0 failed)\n"
	    "last reload    never\n");
	free(s);
	ctlcmd_info_render(&in, 1, n->out);
	s = test_take(n->out);
	test_expect_contains(s, "\"last_reload\":null}");
	test_expect_contains(s, "\"uptime_s\":90061,");
	free(s);
	in.reloads = 2;
	in.reload_failures = 1;
	in.reload_time = in.start_time + 60;
	in.reload_ok = 0;
	in.reload_result = "ilbd.conf:3: \"x\"";
	in.conf_sha256 = NULL;
	ctlcmd_info_render(&in, 0, n->out);
	s = test_take(n->out);
	test_expect_contains(s, "config sha256  unknown\n"
	    "reloads        2 (1 failed)\n"
	    "last reload    2025-12-05T12:01:00Z failed: ilbd.conf:3: "
	    "\"x\"\n");
	free(s);
	ctlcmd_info_render(&in, 1, n->out);
	s = test_take(n->out);
	assert_string_equal(s, "{\"version\":\"1.2.3\",\"id\":\"192.0.2.11\","
	    "\"state\":\"active\",\"epoch\":7,\"start_time\":1764936000,"
	    "\"started\":\"2025-12-05T12:00:00Z\",\"uptime_s\":90061,"
	    "\"config_file\":\"/etc/ilbd.conf\",\"config_sha256\":null,"
	    "\"reloads\":2,\"reload_failures\":1,\"last_reload\":"
	    "{\"time\":1764936060,\"at\":\"2025-12-05T12:01:00Z\","
	    "\"ok\":false,\"result\":\"ilbd.conf:3: \\\"x\\\"\"}}\n");
	free(s);
	/* the unit tests have no daemon */
	test_run_fail(n, test_req(CTL_SHOW_INFO, 0, 0), "no daemon");
	assert_string_equal(ctlcmd_name(CTL_SHOW_INFO), "show info");

	/* SHA-256("abc"), FIPS 180-2 */
	assert_int_not_equal(fd = mkstemp(path), -1);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	assert_int_equal(digest_file_sha256(path, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	unlink(path);
	assert_int_equal(digest_file_sha256(path, hex), -1);
	assert_string_equal(hex, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_labels_json),
		cmocka_unit_test(test_flow_key),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_stats),
		cmocka_unit_test_setup_teardown(test_show_owner, setup_node,
		    teardown_node),
		cmocka_unit_test_setup_teardown(test_show_connections,
		    setup_node, teardown_node),
		cmocka_unit_test_setup_teardown(test_show_services_servers,
		    setup_node, teardown_node),
		cmocka_unit_test_setup_teardown(test_server_cmd_after_vip_change,
		    setup_node, teardown_node),
		cmocka_unit_test_setup_teardown(test_show_info, setup_node,
		    teardown_node),
		cmocka_unit_test_setup_teardown(test_dispatch, setup_node,
		    teardown_node),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
