/* test_event.c: monitor events: text and JSON, escaping, fan-out. */
#include <sys/types.h>
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "util.h"

#define T0	1796515141	/* 2026-12-05T23:59:01Z */

static void
fmt(const struct ilbd_event *ev, int json, const char *want)
{
	char	buf[ILBD_EVENT_LINE_MAX];
	size_t	n;

	n = ilbd_event_format(ev, json, buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void
test_member_dead(void **state)
{
	struct ilbd_event	ev;

	(void)state;
	ilbd_event_init(&ev, ILBD_EV_MEMBER_DEAD);
	ev.time = T0;
	ilbd_event_add(&ev, "id", ILBD_EVF_ID, "3");
	ilbd_event_add(&ev, "addr", ILBD_EVF_STR, "192.0.2.13");
	fmt(&ev, 0, "2026-12-05T23:59:01Z member-dead id=3 addr=192.0.2.13\n");
	fmt(&ev, 1, "{\"time\":\"2026-12-05T23:59:01Z\","
	    "\"event\":\"member-dead\",\"id\":3,\"addr\":\"192.0.2.13\"}\n");
}

static void
test_id_kinds(void **state)
{
	struct ilbd_event	ev;

	(void)state;
	ilbd_event_init(&ev, ILBD_EV_MEMBER_JOIN);
	ev.time = T0;
	ilbd_event_add(&ev, "id", ILBD_EVF_ID, "2001:db8::1");
	ilbd_event_add(&ev, "n", ILBD_EVF_NUM, "007");	/* not a JSON number */
	ilbd_event_add(&ev, "w", ILBD_EVF_NUM, "0");
	fmt(&ev, 1, "{\"time\":\"2026-12-05T23:59:01Z\","
	    "\"event\":\"member-join\",\"id\":\"2001:db8::1\","
	    "\"n\":\"007\",\"w\":0}\n");
	fmt(&ev, 0, "2026-12-05T23:59:01Z member-join id=2001:db8::1 n=007 "
	    "w=0\n");
}

static void
test_escaping(void **state)
{
	struct ilbd_event	ev;

	(void)state;
	ilbd_event_init(&ev, ILBD_EV_RELOAD);
	ev.time = T0;
	ilbd_event_add(&ev, "result", ILBD_EVF_STR, "failed");
	ilbd_event_add(&ev, "reason", ILBD_EVF_STR,
	    "/etc/ilbd.conf:3: \"x\" a\\b\tc\n");
	ilbd_event_add(&ev, "empty", ILBD_EVF_STR, "");
	ilbd_event_add(&ev, "eq", ILBD_EVF_STR, "a=b");
	fmt(&ev, 0, "2026-12-05T23:59:01Z reload result=failed "
	    "reason=\"/etc/ilbd.conf:3: \\\"x\\\" a\\\\b\\x09c\\x0a\" "
	    "empty=\"\" eq=\"a=b\"\n");
	fmt(&ev, 1, "{\"time\":\"2026-12-05T23:59:01Z\",\"event\":\"reload\","
	    "\"result\":\"failed\",\"reason\":\"/etc/ilbd.conf:3: \\\"x\\\" "
	    "a\\\\b\\u0009c\\u000a\",\"empty\":\"\",\"eq\":\"a=b\"}\n");
}

static void
test_utf8(void **state)
{
	struct ilbd_event	ev;

	(void)state;
	ilbd_event_init(&ev, ILBD_EV_RELOAD);
	ev.time = T0;
	/* é kept; a lone 0xff, an overlong '/', a surrogate: not UTF-8 */
	ilbd_event_add(&ev, "r", ILBD_EVF_STR,
	    "caf\xc3\xa9 \xff \xc0\xaf \xed\xa0\x80 \x7f");
	fmt(&ev, 0, "2026-12-05T23:59:01Z reload r=\"caf\xc3\xa9 \\xff "
	    "\\xc0\\xaf \\xed\\xa0\\x80 \\x7f\"\n");
	fmt(&ev, 1, "{\"time\":\"2026-12-05T23:59:01Z\",\"event\":\"reload\","
	    "\"r\":\"caf\xc3\xa9 \\ufffd \\ufffd\\ufffd "
	    "\\ufffd\\ufffd\\ufffd \\u007f\"}\n");
}

static void
test_limits(void **state)
{
	struct ilbd_event	ev;
	char			big[1000], buf[ILBD_EVENT_LINE_MAX], small[40];
	size_t			n;
	int			i;

	(void)state;
	ilbd_event_init(&ev, ILBD_EV_SERVER_DRAIN);
	ev.time = T0;
	memset(big, 1, sizeof(big) - 1);	/* all control bytes */
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < ILBD_EVENT_FIELDS + 2; i++)
		ilbd_event_add(&ev, "k", ILBD_EVF_STR, big);
	assert_int_equal(ev.nfields, ILBD_EVENT_FIELDS);
	assert_int_equal(strlen(ev.f[0].val), ILBD_EVENT_VALLEN - 1);
	/* the worst case fits whole */
	n = ilbd_event_format(&ev, 1, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_true(n < sizeof(buf) - 1);
	assert_string_equal(buf + n - 3, "\"}\n");
	/* a small buffer: cut, still one line */
	n = ilbd_event_format(&ev, 0, small, sizeof(small));
	assert_int_equal(n, sizeof(small) - 1);
	assert_int_equal(small[n - 1], '\n');
	assert_null(memchr(small, '\n', n - 1));
	assert_null(ilbd_event_name(ILBD_EV_MAX));
}

struct sink_log {
	struct ilbd_event_sink	sink;
	char			got[4][ILBD_EVENT_LINE_MAX];
	int			n;
	int			leave;	/* unsubscribe on the first line */
};

static void
sink_write(void *arg, const char *line, size_t len)
{
	struct sink_log	*s = arg;

	assert_int_equal(strlen(line), len);
	if (s->n < 4)
		util_strlcpy(s->got[s->n], line, sizeof(s->got[0]));
	s->n++;
	if (s->leave)
		ilbd_event_unsubscribe(&s->sink);
}

static void
sink_init(struct sink_log *s, int json, int leave)
{
	memset(s, 0, sizeof(*s));
	s->sink.json = json;
	s->sink.write = sink_write;
	s->sink.arg = s;
	s->leave = leave;
}

static void
test_fanout(void **state)
{
	struct sink_log	a, b, c;
	struct ilb_addr	addr;

	(void)state;
	assert_int_equal(ilbd_event_subscribers(), 0);
	/* nobody listens: nothing to do (and nothing breaks) */
	ilbd_event_reload(1, "configuration reloaded");
	sink_init(&a, 0, 0);
	sink_init(&b, 1, 1);	/* leaves inside its write */
	sink_init(&c, 1, 0);
	ilbd_event_subscribe(&a.sink);
	ilbd_event_subscribe(&b.sink);
	ilbd_event_subscribe(&c.sink);
	assert_int_equal(ilbd_event_subscribers(), 3);
	assert_int_equal(util_addr_parse("10.0.0.2", &addr), 0);
	ilbd_event_server(ILBD_EV_SERVER_WEIGHT, "web", &addr, 5, "cluster");
	assert_int_equal(ilbd_event_subscribers(), 2);
	ilbd_event_server(ILBD_EV_SERVER_DOWN, "web", &addr, -1, NULL);
	assert_int_equal(a.n, 2);
	assert_int_equal(b.n, 1);
	assert_int_equal(c.n, 2);
	/* after the date */
	assert_string_equal(a.got[0] + 20, " server-weight service=web "
	    "server=10.0.0.2 weight=5 scope=cluster\n");
	assert_string_equal(a.got[1] + 20, " server-down service=web "
	    "server=10.0.0.2\n");
	assert_string_equal(b.got[0], c.got[0]);
	assert_non_null(strstr(c.got[0], "\",\"event\":\"server-weight\","
	    "\"service\":\"web\",\"server\":\"10.0.0.2\",\"weight\":5,"
	    "\"scope\":\"cluster\"}\n"));
	assert_non_null(strstr(c.got[1], "\"event\":\"server-down\""));
	ilbd_event_member(ILBD_EV_MEMBER_DEAD, "3", NULL, "leaving");
	assert_string_equal(a.got[2] + 20, " member-dead id=3 was=leaving\n");
	ilbd_event_unsubscribe(&a.sink);
	ilbd_event_unsubscribe(&c.sink);
	assert_int_equal(ilbd_event_subscribers(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_member_dead),
		cmocka_unit_test(test_id_kinds),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_fanout),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
