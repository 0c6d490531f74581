/* test_metrics.c: Prometheus rendering, escaping, and the HTTP endpoint. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "admin.h"
#include "config.h"
#include "dp.h"
#include "lb.h"
#include "metrics.h"
#include "metrics_int.h"
#include "util.h"
#include "world.h"

struct fake {
	const struct dp_counter	*v;
	size_t			 n;
};

/* metrics_foreach_fn over a fixed array. */
static void
fake_foreach(void *arg, dp_counter_cb cb, void *cbarg)
{
	const struct fake	*f = arg;
	size_t			 i;

	for (i = 0; i < f->n; i++)
		cb(cbarg, &f->v[i]);
}

/* Render f; the text, malloc'd. */
static char *
render(const struct dp_counter *v, size_t n)
{
	struct fake	 f = { v, n };
	struct evbuffer	*b;
	char		*s;
	size_t		 len;

	assert_non_null(b = evbuffer_new());
	assert_int_equal(metrics_render(b, fake_foreach, &f), 0);
	len = evbuffer_get_length(b);
	assert_non_null(s = malloc(len + 1));
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	evbuffer_free(b);
	return (s);
}

#define S1	"service=\"web\",server=\"192.0.2.21\""
#define S2	"service=\"web\",server=\"192.0.2.22\""

/* The shape daemon_foreach_counter has: per-server gauges interleaved. */
static const struct dp_counter families[] = {
	{ "lb", "rx", "packets received", DP_COUNTER, "", 7 },
	{ "dp", "no_mac", "dropped: no MAC", DP_COUNTER, "", 0 },
	{ "lb", "ltoc_entries", "connections in the LTOC", DP_GAUGE, "", 3 },
	{ "server", "active_connections", "owned", DP_GAUGE, S1, 1 },
	{ "server", "up", "1 if eligible", DP_GAUGE, S1, 1 },
	{ "server", "weight", "current weight", DP_GAUGE, S1, 2 },
	{ "server", "active_connections", "owned", DP_GAUGE, S2, 4 },
	{ "server", "up", "1 if eligible", DP_GAUGE, S2, 0 },
	{ "server", "weight", "current weight", DP_GAUGE, S2, 1 },
	{ "lb", "rx", "packets received", DP_COUNTER, "x=\"late\"", 1 },
	{ "repl", "big", "a large counter", DP_COUNTER, "",
	    18446744073709551615ULL },
};

/* lb rx, dp no_mac, lb ltoc_entries: renamed by metrics_map. */
static const char families_text[] =
    "# HELP ilbd_packets_received_total packets received\n"
    "# TYPE ilbd_packets_received_total counter\n"
    "ilbd_packets_received_total 7\n"
    "ilbd_packets_received_total{x=\"late\"} 1\n"
    "# HELP ilbd_packets_dropped_total packets dropped, by reason\n"
    "# TYPE ilbd_packets_dropped_total counter\n"
    "ilbd_packets_dropped_total{reason=\"no_mac\"} 0\n"
    "# HELP ilbd_table_entries entries in the table (ltoc: owned and "
    "backed-up connections; cache: learned from others)\n"
    "# TYPE ilbd_table_entries gauge\n"
    "ilbd_table_entries{table=\"ltoc\"} 3\n"
    "# HELP ilbd_server_active_connections owned\n"
    "# TYPE ilbd_server_active_connections gauge\n"
    "ilbd_server_active_connections{" S1 "} 1\n"
    "ilbd_server_active_connections{" S2 "} 4\n"
    "# HELP ilbd_server_up 1 if eligible\n"
    "# TYPE ilbd_server_up gauge\n"
    "ilbd_server_up{" S1 "} 1\n"
    "ilbd_server_up{" S2 "} 0\n"
    "# HELP ilbd_server_weight current weight\n"
    "# TYPE ilbd_server_weight gauge\n"
    "ilbd_server_weight{" S1 "} 2\n"
    "ilbd_server_weight{" S2 "} 1\n"
    "# HELP ilbd_repl_big_total a large counter\n"
    "# TYPE ilbd_repl_big_total counter\n"
    "ilbd_repl_big_total 18446744073709551615\n";

static void
test_render_families(void **state)
{
	char	*s;

	(void)state;
	s = render(families, sizeof(families) / sizeof(families[0]));
	assert_string_equal(s, families_text);
	free(s);
}

static void
test_render_empty(void **state)
{
	char	*s;

	(void)state;
	s = render(NULL, 0);
	assert_string_equal(s, "");
	free(s);
}

static void
test_render_escape(void **state)
{
	static const struct dp_counter v[] = {
		{ "lb", "esc", "back\\slash\nnew \"quoted\"", DP_GAUGE,
		    "a=\"q\"uote\",b=\"back\\slash\",c=\"new\nline\"", 1 },
		/* ", not followed by key=" stays inside the value */
		{ "lb", "esc", "", DP_GAUGE, "a=\"x\",y\",b=\"\"", 2 },
	};
	char	*s;

	(void)state;
	s = render(v, 2);
	assert_string_equal(s,
	    "# HELP ilbd_lb_esc back\\\\slash\\nnew \"quoted\"\n"
	    "# TYPE ilbd_lb_esc gauge\n"
	    "ilbd_lb_esc{a=\"q\\\"uote\",b=\"back\\\\slash\","
	    "c=\"new\\nline\"} 1\n"
	    "ilbd_lb_esc{a=\"x\\\",y\",b=\"\"} 2\n");
	free(s);
}

static void
test_render_sanitise(void **state)
{
	static const struct dp_counter v[] = {
		{ "a-b", "x.y z", "h", DP_COUNTER, "", 1 },
		{ "lb", "done_total", "h", DP_COUNTER, "", 2 },
		{ "", "up", "", DP_GAUGE, "", 1 },
		{ "é", "n", "h", DP_GAUGE, "1bad-key=\"v\"", 3 },
		{ "lb", "total", "h", DP_COUNTER, "", 4 },
	};
	char	*s;

	(void)state;
	s = render(v, sizeof(v) / sizeof(v[0]));
	assert_string_equal(s,
	    "# HELP ilbd_a_b_x_y_z_total h\n"
	    "# TYPE ilbd_a_b_x_y_z_total counter\n"
	    "ilbd_a_b_x_y_z_total 1\n"
	    "# HELP ilbd_lb_done_total h\n"
	    "# TYPE ilbd_lb_done_total counter\n"
	    "ilbd_lb_done_total 2\n"
	    "# HELP ilbd_up up\n"
	    "# TYPE ilbd_up gauge\n"
	    "ilbd_up 1\n"
	    "# HELP ilbd____n h\n"
	    "# TYPE ilbd____n gauge\n"
	    "ilbd____n{_bad_key=\"v\"} 3\n"
	    "# HELP ilbd_lb_total h\n"
	    "# TYPE ilbd_lb_total counter\n"
	    "ilbd_lb_total 4\n");
	free(s);
}

/* Labels that do not parse: the sample is left out, the rest stays. */
static void
test_render_bad_labels(void **state)
{
	static const struct dp_counter v[] = {
		{ "lb", "a", "h", DP_GAUGE, "k=v", 1 },
		{ "lb", "a", "h", DP_GAUGE, "k=\"unterminated", 2 },
		{ "lb", "a", "h", DP_GAUGE, "=\"nokey\"", 3 },
		{ "lb", "a", "h", DP_GAUGE, "k=\"v\",", 4 },
		{ "lb", "b", "h", DP_GAUGE, "k=\"ok\"", 5 },
	};
	char	*s;

	(void)state;
	s = render(v, sizeof(v) / sizeof(v[0]));
	assert_string_equal(s,
	    "# HELP ilbd_lb_b h\n"
	    "# TYPE ilbd_lb_b gauge\n"
	    "ilbd_lb_b{k=\"ok\"} 5\n");
	free(s);
}

/* A client of the endpoint over a Unix socket: no network traffic. */
struct http_test {
	char			 dir[64];
	char			 path[128];
	struct event_base	*base;
	struct metrics		*m;
	struct fake		 f;
};

static int
http_setup(void **state)
{
	struct http_test	*t;
	struct sockaddr_un	 sun;
	char			*cause = NULL;
	int			 fd;

	assert_non_null(t = calloc(1, sizeof(*t)));
	strcpy(t->dir, "/tmp/test_metrics.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/m.sock", t->dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, t->path, sizeof(sun.sun_path));
	assert_int_not_equal(fd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	assert_non_null(t->base = event_base_new());
	t->f.v = families;
	t->f.n = sizeof(families) / sizeof(families[0]);
	t->m = metrics_open_fd(t->base, fd, fake_foreach, &t->f, &cause);
	assert_non_null(t->m);
	*state = t;
	return (0);
}

static int
http_teardown(void **state)
{
	struct http_test	*t = *state;

	metrics_close(t->m);
	event_base_free(t->base);
	unlink(t->path);
	rmdir(t->dir);
	free(t);
	return (0);
}

struct http_reply {
	struct event_base	*base;
	struct evbuffer		*in;
};

static void
http_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct http_reply	*r = arg;
	char			 buf[4096];
	ssize_t			 n;

	if (what & EV_TIMEOUT) {
		event_base_loopbreak(r->base);
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		evbuffer_add(r->in, buf, (size_t)n);
	if (n == 0 || (n == -1 && errno != EAGAIN))
		event_base_loopbreak(r->base);
}

/* Send req raw, run the loop until the server closes (5 s at most). */
static char *
http_ask(struct http_test *t, const char *req)
{
	struct sockaddr_un	 sun;
	struct http_reply	 r;
	struct event		*ev;
	struct timeval		 tv = { 5, 0 };
	char			*s;
	size_t			 len;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, t->path, sizeof(sun.sun_path));
	assert_int_not_equal(fd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	r.base = t->base;
	assert_non_null(r.in = evbuffer_new());
	assert_non_null(ev = event_new(t->base, fd, EV_READ | EV_PERSIST,
	    http_on_read, &r));
	event_add(ev, &tv);
	event_base_dispatch(t->base);
	event_free(ev);
	close(fd);
	len = evbuffer_get_length(r.in);
	assert_non_null(s = malloc(len + 1));
	evbuffer_remove(r.in, s, len);
	s[len] = '\0';
	evbuffer_free(r.in);
	return (s);
}

static void
test_http_get(void **state)
{
	char	*s, *body;

	s = http_ask(*state, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_true(strncmp(s, "HTTP/1.0 200 OK\r\n", 17) == 0 ||
	    strncmp(s, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(s, "\r\nContent-Type: " METRICS_CONTENT_TYPE
	    "\r\n"));
	assert_non_null(body = strstr(s, "\r\n\r\n"));
	body += 4;
	assert_non_null(strstr(body, "# TYPE ilbd_up gauge\nilbd_up 1\n"));
	assert_non_null(strstr(body, "# TYPE process_start_time_seconds "
	    "gauge\n"));
	assert_non_null(strstr(body, "# TYPE process_cpu_seconds_total "
	    "counter\n"));
	assert_non_null(strstr(body, "\nprocess_open_fds "));
	assert_non_null(strstr(body, "\nprocess_resident_memory_bytes "));
	assert_non_null(strstr(body, families_text));
	free(s);
	/* a query string does not matter */
	s = http_ask(*state, "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	assert_true(strncmp(s, "HTTP/1.1 200 OK\r\n", 17) == 0);
	free(s);
}

static void
test_http_head(void **state)
{
	char	*s, *body;

	s = http_ask(*state, "HEAD /metrics HTTP/1.0\r\n\r\n");
	assert_true(strncmp(s, "HTTP/1.0 200 OK\r\n", 17) == 0 ||
	    strncmp(s, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(s, "\r\nContent-Type: " METRICS_CONTENT_TYPE
	    "\r\n"));
	assert_non_null(body = strstr(s, "\r\n\r\n"));
	assert_string_equal(body + 4, "");	/* headers only */
	assert_non_null(strstr(s, "\r\nContent-Length: "));
	assert_null(strstr(s, "\r\nContent-Length: 0\r\n"));
	free(s);
}

static void
test_http_errors(void **state)
{
	char	*s, big[METRICS_MAX_HEADERS + 512];

	s = http_ask(*state, "GET /other HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(s, " 404 "));
	free(s);
	s = http_ask(*state, "GET / HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(s, " 404 "));
	free(s);
	s = http_ask(*state, "POST /metrics HTTP/1.0\r\n"
	    "Content-Length: 0\r\n\r\n");
	assert_non_null(strstr(s, " 405 "));
	assert_non_null(strstr(s, "\r\nAllow: GET, HEAD\r\n"));
	free(s);
	s = http_ask(*state, "DELETE /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(s, " 405 "));
	free(s);
	/* oversized headers and garbage: refused, the server lives on */
	snprintf(big, sizeof(big), "GET /metrics HTTP/1.0\r\nX-Big: %0*d"
	    "\r\n\r\n", METRICS_MAX_HEADERS, 0);
	s = http_ask(*state, big);
	assert_null(strstr(s, " 200 "));
	free(s);
	s = http_ask(*state, "\x01\x02garbage\r\n\r\n");
	assert_null(strstr(s, " 200 "));
	free(s);
	s = http_ask(*state, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(s, " 200 OK\r\n"));
	free(s);
}

static struct ilbd_conf *
conf_metrics(const char *listen)
{
	struct ilbd_conf	*conf;

	assert_non_null(conf = calloc(1, sizeof(*conf)));
	if (*listen == '\0')
		return (conf);
	conf->metrics_enabled = 1;
	assert_int_equal(util_hostport_parse(listen, &conf->metrics_addr,
	    &conf->metrics_port), 0);
	return (conf);
}

/* Disabled: a handle that serves nothing; metrics_close takes it. */
static void
test_open_disabled(void **state)
{
	struct event_base	*base;
	struct ilbd_conf	*conf = conf_metrics("");
	struct metrics		*m;
	char			*cause = NULL;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(m = metrics_open(base, conf, NULL, &cause));
	assert_null(cause);
	metrics_close(m);
	metrics_close(NULL);
	event_base_free(base);
	free(conf);
}

/* A bind failure names the setting, the address and the reason. */
static void
test_open_bind_fails(void **state)
{
	struct event_base	*base;
	struct ilbd_conf	*conf;
	char			*cause = NULL;

	(void)state;
	assert_non_null(base = event_base_new());
	/* TEST-NET-1 and -2: not configured here, so bind fails; no traffic */
	conf = conf_metrics("192.0.2.254:9650");
	assert_null(metrics_open(base, conf, NULL, &cause));
	assert_non_null(cause);
	assert_string_equal(cause, "metrics.listen 192.0.2.254:9650: "
	    "Cannot assign requested address");
	free(cause);
	free(conf);
	cause = NULL;
	conf = conf_metrics("[2001:db8::fe]:9650");
	assert_null(metrics_open(base, conf, NULL, &cause));
	assert_non_null(cause);
	assert_true(strncmp(cause, "metrics.listen [2001:db8::fe]:9650: ",
	    36) == 0);
	free(cause);
	free(conf);
	event_base_free(base);
}

/* The port is taken: "Address already in use" (bound only, no packet). */
static void
test_open_in_use(void **state)
{
	struct event_base	*base;
	struct ilbd_conf	*conf;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			*cause = NULL, want[96];
	int			 fd;

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_not_equal(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(want, sizeof(want), "127.0.0.1:%u", ntohs(sin.sin_port));
	conf = conf_metrics(want);
	assert_non_null(base = event_base_new());
	assert_null(metrics_open(base, conf, NULL, &cause));
	snprintf(want, sizeof(want), "metrics.listen 127.0.0.1:%u: "
	    "Address already in use", ntohs(sin.sin_port));
	assert_non_null(cause);
	assert_string_equal(cause, want);
	free(cause);
	free(conf);
	close(fd);
	event_base_free(base);
}

/*
 * Reasons as labels, one family; a sum of labelled counters left out;
 * milliseconds and microseconds printed as seconds.
 */
static void
test_render_map(void **state)
{
	static const struct dp_counter v[] = {
		{ "lb", "drop", "all", DP_COUNTER, "", 9 },
		{ "lb", "no_service", "x", DP_COUNTER, "", 4 },
		{ "lb", "orphan", "y", DP_COUNTER, "", 5 },
		{ "peer", "rejected", "all", DP_COUNTER, "", 3 },
		{ "peer", "rejected_auth", "a", DP_COUNTER, "", 3 },
		{ "member", "last_heard_ms", "h", DP_GAUGE, "member=\"a\"",
		    1502 },
		{ "process", "cpu_us", "c", DP_COUNTER, "", 2000042 },
		{ "gre", "sent_bytes", "b", DP_COUNTER, "", 7 },
	};
	char	*s;

	(void)state;
	s = render(v, sizeof(v) / sizeof(v[0]));
	assert_string_equal(s,
	    "# HELP ilbd_packets_dropped_total packets dropped, by reason\n"
	    "# TYPE ilbd_packets_dropped_total counter\n"
	    "ilbd_packets_dropped_total{reason=\"no_service\"} 4\n"
	    "ilbd_packets_dropped_total{reason=\"orphan\"} 5\n"
	    "# HELP ilbd_peer_rejected_messages_total reliable-channel "
	    "messages rejected (connection closed), by reason\n"
	    "# TYPE ilbd_peer_rejected_messages_total counter\n"
	    "ilbd_peer_rejected_messages_total{reason=\"auth\"} 3\n"
	    "# HELP ilbd_member_last_heard_seconds h\n"
	    "# TYPE ilbd_member_last_heard_seconds gauge\n"
	    "ilbd_member_last_heard_seconds{member=\"a\"} 1.502\n"
	    "# HELP process_cpu_seconds_total c\n"
	    "# TYPE process_cpu_seconds_total counter\n"
	    "process_cpu_seconds_total 2.000042\n"
	    "# HELP ilbd_gre_sent_bytes_total b\n"
	    "# TYPE ilbd_gre_sent_bytes_total counter\n"
	    "ilbd_gre_sent_bytes_total 7\n");
	free(s);
}

/* Every name of the map by the conventions: _total on counters only. */
static void
test_map_conventions(void **state)
{
	const struct metrics_map	*m;
	size_t				 i, n = 0;

	(void)state;
	for (m = metrics_map; m->sub != NULL; m++, n++) {
		assert_true(metrics_map_find(m->sub, m->name) == m);
		if (m->family == NULL)
			continue;
		for (i = 0; m->family[i] != '\0'; i++)
			assert_true(strchr("abcdefghijklmnopqrstuvwxyz0123456789_",
			    m->family[i]) != NULL);
		assert_true(strncmp(m->family, "ilbd_", 5) == 0 ||
		    strncmp(m->family, "process_", 8) == 0);
		/* no unit left in a name as ms, us or a bare "bytes_" */
		assert_null(strstr(m->family, "_ms"));
		assert_null(strstr(m->family, "_us"));
		assert_true(m->label[0] == '\0' ||
		    (strstr(m->label, "=\"") != NULL &&
		    m->label[strlen(m->label) - 1] == '"'));
	}
	assert_true(n > 50);
}

/* Unchanged enumeration: the layout is reused; changed: built again. */
struct changing {
	struct dp_counter	v[3];
	size_t			n;
};

static void
changing_foreach(void *arg, dp_counter_cb cb, void *cbarg)
{
	struct changing	*c = arg;
	size_t		 i;

	for (i = 0; i < c->n; i++)
		cb(cbarg, &c->v[i]);
}

static char *
take(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);
	char	*s;

	assert_non_null(s = malloc(len + 1));
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	return (s);
}

static void
test_layout_reuse(void **state)
{
	struct metrics_layout	*l;
	struct evbuffer		*b;
	struct changing		 c = {
		{ { "lb", "rx", "h", DP_COUNTER, "", 1 },
		  { "server", "up", "u", DP_GAUGE, S1, 1 },
		  { "server", "up", "u", DP_GAUGE, S2, 0 } }, 3 };
	char			*s;
	int			 i;

	(void)state;
	assert_non_null(l = metrics_layout_new());
	assert_non_null(b = evbuffer_new());
	for (i = 0; i < 5; i++) {
		c.v[0].value = (uint64_t)i;
		assert_int_equal(metrics_render_layout(b, l, changing_foreach,
		    &c), 0);
		s = take(b);
		assert_non_null(strstr(s, i == 4 ?
		    "\nilbd_packets_received_total 4\n" :
		    "\nilbd_packets_received_total "));
		free(s);
	}
	assert_int_equal(metrics_layout_builds(l), 1);
	/* a server's labels change (a reload): built again, once */
	c.v[2].labels = "service=\"web\",server=\"192.0.2.99\"";
	for (i = 0; i < 3; i++) {
		assert_int_equal(metrics_render_layout(b, l, changing_foreach,
		    &c), 0);
		s = take(b);
		assert_non_null(strstr(s, "ilbd_server_up{service=\"web\","
		    "server=\"192.0.2.99\"} 0\n"));
		assert_null(strstr(s, "192.0.2.22"));
		free(s);
	}
	assert_int_equal(metrics_layout_builds(l), 2);
	/* one sample fewer */
	c.n = 2;
	assert_int_equal(metrics_render_layout(b, l, changing_foreach, &c), 0);
	s = take(b);
	assert_null(strstr(s, "192.0.2.99"));
	free(s);
	assert_int_equal(metrics_layout_builds(l), 3);
	evbuffer_free(b);
	metrics_layout_free(l);
}

struct server_samples {
	size_t		n;
	size_t		nup;
	const char	*labels[16];	/* of ilbd_server_up */
	uint64_t	packets[16];	/* ilbd_server_packets_total */
	uint64_t	bytes[16];
	uint64_t	conns[16];
	size_t		npk;
	uint64_t	svc_packets;	/* ilbd_service_packets_total */
	uint64_t	svc_bytes;
	uint64_t	svc_conns;
	const char	*svc_labels;
};

static void
server_collect(void *arg, const struct dp_counter *c)
{
	struct server_samples	*ss = arg;
	int			 svc = strcmp(c->sub, "service") == 0;

	if (!svc && strcmp(c->name, "up") == 0 && ss->nup < 16)
		ss->labels[ss->nup++] = c->labels;
	if (svc && strcmp(c->name, "packets") == 0) {
		ss->svc_packets = c->value;
		ss->svc_labels = c->labels;
	} else if (svc && strcmp(c->name, "bytes") == 0)
		ss->svc_bytes = c->value;
	else if (svc && strcmp(c->name, "connections") == 0)
		ss->svc_conns = c->value;
	else if (strcmp(c->name, "packets") == 0 && ss->npk < 16) {
		assert_int_equal(c->type, DP_COUNTER);
		ss->packets[ss->npk] = c->value;
	} else if (strcmp(c->name, "bytes") == 0 && ss->npk < 16)
		ss->bytes[ss->npk] = c->value;
	else if (strcmp(c->name, "connections") == 0 && ss->npk < 16)
		ss->conns[ss->npk++] = c->value;
	ss->n++;
}

/* Samples per server (gauges and traffic) and per service (traffic). */
#define SERVER_SAMPLES	9
#define SERVICE_SAMPLES	3

/*
 * Per-server label strings: built once, the same pointers scrape after
 * scrape, built again after a reload (a server's address may change).
 */
static void
test_server_labels(void **state)
{
	struct ilbd_conf	*c = world_conf_new(1024, 1024), *c2;
	struct metrics_labels	*l;
	struct server_samples	 ss;
	struct lb_reload_summary sum;
	struct world		 w;
	const char		*first;
	char			*cause = NULL;
	int			 i;

	(void)state;
	assert_non_null(l = calloc(1, sizeof(*l)));
	world_web(c, "web", 10, SCHED_WLC, 3);
	world_init(&w, c, 3);
	assert_int_equal(world_start(&w, 1, 42, 0), 0);
	for (i = 0; i < 3; i++) {
		memset(&ss, 0, sizeof(ss));
		metrics_servers_walk(l, &w.lb[0], server_collect, &ss);
		assert_int_equal(ss.n, 3 * SERVER_SAMPLES + SERVICE_SAMPLES);
		if (i == 0)
			first = ss.labels[0];
		assert_ptr_equal(ss.labels[0], first);
	}
	assert_int_equal(l->builds, 1);
	assert_non_null(strstr(first, "service=\"web\",server=\""));
	/* a reload: a new weight (world_web gives 1) */
	c2 = world_conf_new(1024, 1024);
	world_web(c2, "web", 10, SCHED_WLC, 3)->servers[1].weight = 7;
	assert_int_equal(lb_reload(&w.lb[0], c2, 1000, &sum, &cause), 0);
	world_conf_free(c2);
	memset(&ss, 0, sizeof(ss));
	metrics_servers_walk(l, &w.lb[0], server_collect, &ss);
	assert_int_equal(l->builds, 2);
	assert_int_equal(ss.n, 3 * SERVER_SAMPLES + SERVICE_SAMPLES);
	memset(&ss, 0, sizeof(ss));
	metrics_servers_walk(l, &w.lb[0], server_collect, &ss);
	assert_int_equal(l->builds, 2);
	metrics_labels_free(l);
	free(l);
	world_free(&w);
}

/* What /metrics renders of one lb's servers and of an admin. */
struct traffic_src {
	struct metrics_labels	*l;
	const struct lb		*lb;
	const struct admin	*admin;
};

static void
traffic_foreach(void *arg, dp_counter_cb cb, void *cbarg)
{
	struct traffic_src	*ts = arg;

	metrics_servers_walk(ts->l, ts->lb, cb, cbarg);
	metrics_admin_walk(ts->admin, cb, cbarg);
}

/*
 * Per-server and per-service traffic as counters with the labels built
 * once; the cluster-wide admin counters by their names.
 */
static void
test_server_traffic(void **state)
{
	struct ilbd_conf	*c = world_conf_new(1024, 1024);
	struct metrics_labels	*l;
	struct traffic_src	 ts;
	struct admin		 ad;
	struct evbuffer		*b;
	struct world		 w;
	char			 a[ILB_ADDRSTRLEN], want[256];
	char			*text;

	(void)state;
	assert_non_null(l = calloc(1, sizeof(*l)));
	world_web(c, "web", 10, SCHED_WLC, 3);
	world_init(&w, c, 1);
	assert_int_equal(world_start(&w, 1, 42, 0), 0);
	lb_traffic_sent(&w.lb[0], 0, 1, 60);
	lb_traffic_sent(&w.lb[0], 0, 1, 1500);
	lb_traffic_sent(&w.lb[0], 0, 2, 40);
	w.lb[0].svc[0].srv[1].traffic.conns = 4;
	w.lb[0].svc[0].traffic.conns = 4;
	memset(&ad, 0, sizeof(ad));
	ad.stats.admin_commands = 2;
	ad.stats.admin_stale = 3;
	ts.l = l;
	ts.lb = &w.lb[0];
	ts.admin = &ad;
	assert_non_null(b = evbuffer_new());
	assert_int_equal(metrics_render(b, traffic_foreach, &ts), 0);
	text = take(b);
	util_addr_fmt(&w.lb[0].svc[0].srv[1].conf->addr, a, sizeof(a));
	assert_non_null(strstr(text,
	    "# TYPE ilbd_server_packets_total counter\n"));
	snprintf(want, sizeof(want), "ilbd_server_packets_total{service="
	    "\"web\",server=\"%s\"} 2\n", a);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "ilbd_server_bytes_total{service="
	    "\"web\",server=\"%s\"} 1560\n", a);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "ilbd_server_connections_total{service="
	    "\"web\",server=\"%s\"} 4\n", a);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text,
	    "ilbd_service_packets_total{service=\"web\"} 3\n"));
	assert_non_null(strstr(text,
	    "ilbd_service_bytes_total{service=\"web\"} 1600\n"));
	assert_non_null(strstr(text,
	    "ilbd_service_connections_total{service=\"web\"} 4\n"));
	assert_non_null(strstr(text, "ilbd_admin_commands_total 2\n"));
	assert_non_null(strstr(text,
	    "ilbd_admin_records_processed_total{result=\"stale\"} 3\n"));
	assert_non_null(strstr(text, "ilbd_admin_save_errors_total 0\n"));
	assert_null(strstr(text, "admin_admin"));
	free(text);
	/* no cluster: no admin counters */
	ts.admin = NULL;
	assert_int_equal(metrics_render(b, traffic_foreach, &ts), 0);
	text = take(b);
	assert_null(strstr(text, "ilbd_admin_"));
	free(text);
	evbuffer_free(b);
	metrics_labels_free(l);
	free(l);
	world_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_families),
		cmocka_unit_test(test_render_empty),
		cmocka_unit_test(test_render_escape),
		cmocka_unit_test(test_render_sanitise),
		cmocka_unit_test(test_render_bad_labels),
		cmocka_unit_test(test_render_map),
		cmocka_unit_test(test_map_conventions),
		cmocka_unit_test(test_layout_reuse),
		cmocka_unit_test(test_server_labels),
		cmocka_unit_test(test_server_traffic),
		cmocka_unit_test_setup_teardown(test_http_get, http_setup,
		    http_teardown),
		cmocka_unit_test_setup_teardown(test_http_head, http_setup,
		    http_teardown),
		cmocka_unit_test_setup_teardown(test_http_errors, http_setup,
		    http_teardown),
		cmocka_unit_test(test_open_disabled),
		cmocka_unit_test(test_open_bind_fails),
		cmocka_unit_test(test_open_in_use),
	};

	return (cmocka_run_group_tests_name("metrics", tests, NULL, NULL));
}
