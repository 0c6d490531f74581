/*
 * test_health.c: the rise/fall state machine, the HTTP status line, and
 * real TCP, HTTP and UDP checks on loopback.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "config.h"
#include "health.h"
#include "log.h"
#include "mock_log.h"
#include "util.h"

#define SEQ_LEN		10	/* results per sequence: 1024 sequences */
#define CB_MAX		64

/* What the callback saw. */
struct cb_log {
	unsigned int	n;
	unsigned int	svc[CB_MAX];
	unsigned int	srv[CB_MAX];
	int		up[CB_MAX];
};

static struct event_base	*base;
static struct cb_log		 cbs;
static struct ilbd_conf		*conf;

static void
on_change(void *arg, unsigned int svc, unsigned int srv, int up)
{
	struct cb_log	*l = arg;

	if (l->n < CB_MAX) {
		l->svc[l->n] = svc;
		l->srv[l->n] = srv;
		l->up[l->n] = up;
	}
	l->n++;
}

/* The transitions seen for (svc, srv): "" or e.g. "du" (down, then up). */
static const char *
cb_trace(unsigned int svc, unsigned int srv)
{
	static char	buf[CB_MAX + 1];
	unsigned int	i, k = 0;

	for (i = 0; i < cbs.n && i < CB_MAX; i++)
		if (cbs.svc[i] == svc && cbs.srv[i] == srv)
			buf[k++] = cbs.up[i] ? 'u' : 'd';
	buf[k] = '\0';
	return (buf);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Run the loop until cond(h) holds or ms passed; returns cond(h). */
static int
run_until(int (*cond)(struct health *), struct health *h, unsigned int ms)
{
	struct event	*tick;
	struct timeval	 tv = { 0, 10 * 1000 };
	uint64_t	 end = util_now_ms() + ms;
	int		 r;

	tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	assert_non_null(tick);
	assert_int_equal(event_add(tick, &tv), 0);
	while (!(r = cond(h)) && util_now_ms() < end)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(tick);
	return (r);
}

/*
 * The bound of run_until: it returns as soon as the condition holds, so
 * the bound only catches a hang (a loaded machine runs the checks late).
 */
#define WAIT_MS		30000

/* srv0 has been checked at least 3 times. */
static int
srv0_checked3(struct health *h)
{
	struct health_info	hi;

	return (health_info(h, 0, 0, &hi) == 0 && hi.checks >= 3);
}

static int
srv0_down(struct health *h)
{
	return (health_state(h, 0, 0) == 0);
}

static int
srv0_up(struct health *h)
{
	return (health_state(h, 0, 0) == 1);
}

static int
srv1_down(struct health *h)
{
	return (health_state(h, 0, 1) == 0);
}

/* A TCP listener on addr (port 0: any), backlog; its port in *port. */
static int
listener(const char *addr, uint16_t *port, int backlog)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(*port);
	assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return (fd);
}

/* Accept and close whatever the checks open. */
static void
on_accept(evutil_socket_t fd, short what, void *arg)
{
	int	c;

	(void)what;
	(void)arg;
	if ((c = accept(fd, NULL, NULL)) >= 0)
		close(c);
}

/* Service i of conf: name, port, tcp checks, the given servers. */
static void
set_service(unsigned int i, const char *name, uint16_t port,
    enum conf_check check, const char **addrs, unsigned int n)
{
	struct service_conf	*sv = &conf->services[i];
	unsigned int		 j;

	free(sv->servers);
	memset(sv, 0, sizeof(*sv));
	util_strlcpy(sv->name, name, sizeof(sv->name));
	assert_int_equal(util_addr_parse("198.51.100.10", &sv->vip), 0);
	sv->port = port;
	sv->health = (struct health_conf){ .check = check, .interval_ms = 100,
	    .timeout_ms = 50, .rise = 2, .fall = 2, .initial_up = 1,
	    .status_min = 200, .status_max = 200, .method = "GET",
	    .path = "/" };
	sv->servers = calloc(n, sizeof(*sv->servers));
	assert_non_null(sv->servers);
	sv->nservers = n;
	for (j = 0; j < n; j++) {
		assert_int_equal(util_addr_parse(addrs[j],
		    &sv->servers[j].addr), 0);
		sv->servers[j].weight = 1;
	}
	if (conf->nservices <= i)
		conf->nservices = i + 1;
}

static int
setup(void **state)
{
	(void)state;
	memset(&cbs, 0, sizeof(cbs));
	mock_log_reset();
	base = event_base_new();
	conf = calloc(1, sizeof(*conf));
	if (base == NULL || conf == NULL)
		return (-1);
	conf->services = calloc(4, sizeof(*conf->services));
	return (conf->services == NULL ? -1 : 0);
}

static int
teardown(void **state)
{
	unsigned int	i;

	(void)state;
	for (i = 0; i < 4; i++)
		free(conf->services[i].servers);
	free(conf->services);
	free(conf);
	event_base_free(base);
	return (0);
}

/*
 * The reference: after results r[0..t], the state is that of the last run
 * of equal results long enough (rise successes, fall failures), or up.
 */
static int
ref_up(const int *r, unsigned int t, uint32_t rise, uint32_t fall)
{
	int		up = 1;
	unsigned int	i, run = 0;

	for (i = 0; i <= t; i++) {
		run = (i > 0 && r[i] == r[i - 1]) ? run + 1 : 1;
		if (r[i] && run >= rise)
			up = 1;
		else if (!r[i] && run >= fall)
			up = 0;
	}
	return (up);
}

/* Every sequence of SEQ_LEN results, rise and fall 1..5. */
static void
test_fsm_exhaustive(void **state)
{
	struct health_fsm	f;
	int			r[SEQ_LEN], up, changed;
	unsigned int		seq, t;
	uint32_t		rise, fall;

	(void)state;
	for (rise = 1; rise <= 5; rise++)
	for (fall = 1; fall <= 5; fall++)
	for (seq = 0; seq < (1U << SEQ_LEN); seq++) {
		health_fsm_init(&f, 1);
		assert_int_equal(f.up, 1);
		up = 1;
		for (t = 0; t < SEQ_LEN; t++) {
			r[t] = (seq >> t) & 1;
			changed = health_fsm_feed(&f, r[t], rise, fall);
			assert_int_equal(f.up, ref_up(r, t, rise, fall));
			assert_int_equal(changed, f.up != up);
			up = f.up;
			if (r[t]) {
				assert_int_equal(f.nfail, 0);
				assert_true(f.nok >= 1);
			} else {
				assert_int_equal(f.nok, 0);
				assert_true(f.nfail >= 1);
			}
		}
	}
}

/* rise or fall 0 acts as 1; counts saturate; repeated results are quiet. */
static void
test_fsm_edges(void **state)
{
	struct health_fsm	f;
	int			i;

	(void)state;
	health_fsm_init(&f, 1);
	assert_int_equal(health_fsm_feed(&f, 0, 0, 0), 1);
	assert_int_equal(f.up, 0);
	assert_int_equal(health_fsm_feed(&f, 1, 0, 0), 1);
	assert_int_equal(f.up, 1);

	health_fsm_init(&f, 1);
	for (i = 0; i < 2; i++)
		assert_int_equal(health_fsm_feed(&f, 0, 2, 3), 0);
	assert_int_equal(health_fsm_feed(&f, 0, 2, 3), 1);
	for (i = 0; i < 100; i++)
		assert_int_equal(health_fsm_feed(&f, 0, 2, 3), 0);
	assert_int_equal(f.nfail, 103);
	f.nfail = UINT32_MAX;
	assert_int_equal(health_fsm_feed(&f, 0, 2, 3), 0);
	assert_int_equal(f.nfail, UINT32_MAX);
	/* one success in a run of failures restarts the count */
	assert_int_equal(health_fsm_feed(&f, 1, 2, 3), 0);
	assert_int_equal(f.nok, 1);
	assert_int_equal(f.nfail, 0);
	assert_int_equal(health_fsm_feed(&f, 0, 2, 3), 0);
	assert_int_equal(health_fsm_feed(&f, 1, 2, 3), 0);
	assert_int_equal(health_fsm_feed(&f, 1, 2, 3), 1);
	assert_int_equal(f.up, 1);
	f.nok = UINT32_MAX;
	assert_int_equal(health_fsm_feed(&f, 1, 2, 3), 0);
	assert_int_equal(f.nok, UINT32_MAX);
}

/*
 * initial = "down": down until the first success, whatever rise and
 * however many failures came first; after that, rise and fall as usual.
 */
static void
test_fsm_initial_down(void **state)
{
	struct health_fsm	f;
	int			i;

	(void)state;
	health_fsm_init(&f, 0);
	assert_int_equal(f.up, 0);
	assert_int_equal(f.fresh, 1);
	for (i = 0; i < 5; i++)
		assert_int_equal(health_fsm_feed(&f, 0, 3, 2), 0);
	assert_int_equal(f.up, 0);
	assert_int_equal(health_fsm_feed(&f, 1, 3, 2), 1);
	assert_int_equal(f.up, 1);
	assert_int_equal(f.fresh, 0);
	assert_int_equal(health_fsm_feed(&f, 0, 3, 2), 0);
	assert_int_equal(health_fsm_feed(&f, 0, 3, 2), 1);
	assert_int_equal(f.up, 0);
	/* no longer fresh: rise (3) successes */
	assert_int_equal(health_fsm_feed(&f, 1, 3, 2), 0);
	assert_int_equal(health_fsm_feed(&f, 1, 3, 2), 0);
	assert_int_equal(health_fsm_feed(&f, 1, 3, 2), 1);
	health_fsm_init(&f, 1);
	assert_int_equal(f.fresh, 0);
}

/* The status line: a code once 13 bytes are in, more wanted, or not HTTP. */
static void
test_http_status(void **state)
{
	static const struct {
		const char	*in;
		int		 want;
	} v[] = {
		{ "HTTP/1.1 200 OK\r\n", 200 },
		{ "HTTP/1.0 503 Service Unavailable\r\n", 503 },
		{ "HTTP/1.1 204\r\n", 204 },
		{ "HTTP/1.1 301\n", 301 },
		{ "HTTP/2.0 404 x", 404 },
		{ "", 0 },
		{ "H", 0 },
		{ "HTTP/1.", 0 },
		{ "HTTP/1.1 20", 0 },
		{ "HTTP/1.1 200", 0 },
		{ "X", -1 },
		{ "http/1.1 200 OK\r\n", -1 },
		{ "HTTP/x.1 200 OK\r\n", -1 },
		{ "HTTP/1-1 200 OK\r\n", -1 },
		{ "HTTP/1.1  200 OK\r\n", -1 },
		{ "HTTP/1.1 2a0 OK\r\n", -1 },
		{ "HTTP/1.1 2000 OK\r\n", -1 },
		{ "HTTP/1.1 099 OK\r\n", -1 },
		{ "SSH-2.0-OpenSSH_9.2\r\n", -1 },
	};
	unsigned int	i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (health_http_status(v[i].in, strlen(v[i].in)) != v[i].want)
			fail_msg("\"%s\": %d, want %d", v[i].in,
			    health_http_status(v[i].in, strlen(v[i].in)),
			    v[i].want);
	}
}

/* The request's parts: request line, Host (given, v4, [v6]:port). */
static void
test_http_request(void **state)
{
	struct health_conf	hc = { .check = CHECK_HTTP, .method = "HEAD",
				    .path = "/healthz?x=1" };
	struct ilb_addr		a;
	char			buf[300];

	(void)state;
	assert_int_equal(health_http_head(&hc, buf, sizeof(buf)),
	    strlen("HEAD /healthz?x=1 HTTP/1.0\r\nHost: "));
	assert_string_equal(buf, "HEAD /healthz?x=1 HTTP/1.0\r\nHost: ");
	assert_int_equal(health_http_head(&hc, buf, 10), 0);
	assert_int_equal(util_addr_parse("192.0.2.21", &a), 0);
	assert_int_equal(health_http_host(&hc, &a, 80, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "192.0.2.21");
	health_http_host(&hc, &a, 8080, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.21:8080");
	assert_int_equal(util_addr_parse("2001:db8::21", &a), 0);
	health_http_host(&hc, &a, 8080, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::21]:8080");
	health_http_host(&hc, &a, 80, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::21]");
	assert_int_equal(health_http_host(&hc, &a, 80, buf, 5), 0);
	util_strlcpy(hc.host, "www.example.org", sizeof(hc.host));
	health_http_host(&hc, &a, 8080, buf, sizeof(buf));
	assert_string_equal(buf, "www.example.org");
}

/* The first checks of n servers are spread evenly over the interval. */
static void
test_first_delay(void **state)
{
	static uint8_t	seen[1000];
	unsigned int	i;
	uint32_t	d;

	(void)state;
	assert_int_equal(health_first_delay(0, 0, 1000), 0);
	assert_int_equal(health_first_delay(5, 1, 1000), 0);
	for (i = 0; i < 1000; i++) {
		d = health_first_delay(i, 1000, 1000);
		assert_true(d < 1000);
		assert_int_equal(seen[d], 0);
		seen[d] = 1;
	}
	assert_int_equal(health_first_delay(1, 2, 3600000), 1800000);
	assert_int_equal(health_first_delay(3, 2, 100), 50);
	assert_true(health_first_delay(4095, 4096, 3600000) < 3600000);
}

/*
 * 127.0.0.1 listens, 127.0.0.2 refuses: srv1 goes down after fall checks,
 * srv0 stays up; the listener closed, srv0 goes down; listening again, it
 * comes back after rise checks.
 */
static void
test_tcp_checks(void **state)
{
	const char		*addrs[] = { "127.0.0.1", "127.0.0.2" };
	const struct health_stats *st;
	struct health_info	 hi;
	struct health		*h;
	struct event		*ev;
	char			*cause = NULL;
	uint16_t		 port = 0;
	int			 lfd;

	(void)state;
	lfd = listener("127.0.0.1", &port, 64);
	ev = event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, NULL);
	assert_int_equal(event_add(ev, NULL), 0);
	set_service(0, "web", port, CHECK_TCP, addrs, 2);
	h = health_open(base, conf, on_change, &cbs, &cause);
	assert_non_null(h);
	assert_null(cause);
	assert_int_equal(health_state(h, 0, 0), 1);
	assert_int_equal(health_state(h, 0, 1), 1);

	assert_true(run_until(srv1_down, h, WAIT_MS));
	assert_string_equal(cb_trace(0, 1), "d");
	assert_int_equal(health_info(h, 0, 1, &hi), 0);
	assert_int_equal(hi.checked, 1);
	assert_int_equal(hi.nfail, 2);
	assert_int_equal(hi.last_error, ECONNREFUSED);
	assert_int_equal(hi.failures, 2);
	/* a few more rounds: srv0 is still up, nothing else happened */
	assert_true(run_until(srv0_checked3, h, WAIT_MS));
	assert_int_equal(health_state(h, 0, 0), 1);
	assert_int_equal(health_info(h, 0, 0, &hi), 0);
	assert_true(hi.checks >= 3);
	assert_int_equal(hi.failures, 0);
	assert_true(hi.nok >= 3);
	assert_int_equal(cbs.n, 1);

	/* the listener goes away: refused, down after 2 checks */
	event_free(ev);
	close(lfd);
	assert_true(run_until(srv0_down, h, WAIT_MS));
	assert_string_equal(cb_trace(0, 0), "d");

	/* back on the same port: up after 2 checks */
	lfd = listener("127.0.0.1", &port, 64);
	ev = event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, NULL);
	assert_int_equal(event_add(ev, NULL), 0);
	assert_true(run_until(srv0_up, h, WAIT_MS));
	assert_string_equal(cb_trace(0, 0), "du");
	assert_int_equal(health_info(h, 0, 0, &hi), 0);
	assert_int_equal(hi.nok, 2);
	assert_string_equal(cb_trace(0, 1), "d");

	st = health_stats(h);
	assert_int_equal(st->downs, 2);
	assert_int_equal(st->ups, 1);
	assert_true(st->checks >= 10);
	assert_true(st->failures >= 4);
	assert_int_equal(st->errors, 0);
	assert_int_equal(health_info(h, 0, 2, &hi), -1);
	assert_int_equal(health_info(h, 1, 0, &hi), -1);
	assert_int_equal(health_state(h, 1, 0), 1);
	/* each change told once, with the reason; the service's as well */
	assert_int_equal(mock_log_count("server 127.0.0.2 is down "
	    "(2 checks failed: Connection refused)"), 1);
	assert_int_equal(mock_log_count("server 127.0.0.1 is down "), 1);
	assert_int_equal(mock_log_count("server 127.0.0.1 is up "
	    "(2 checks succeeded)"), 1);
	assert_int_equal(mock_log_count("web: no server is up"), 1);
	assert_int_equal(mock_log_count("web: a server is up again"), 1);

	health_close(h);
	event_free(ev);
	close(lfd);
}

/*
 * A listener whose accept queue is full drops SYNs: the connect does not
 * complete within timeout_ms and the server goes down with ETIMEDOUT.
 */
static void
test_tcp_timeout(void **state)
{
	const char		*addrs[] = { "127.0.0.1" };
	struct sockaddr_in	 sin;
	struct health_info	 hi;
	struct health		*h;
	char			*cause = NULL;
	uint16_t		 port = 0;
	int			 lfd, c;

	(void)state;
	lfd = listener("127.0.0.1", &port, 0);
	/* fill the accept queue (backlog 0 holds one) and never accept */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	set_service(0, "web", port, CHECK_TCP, addrs, 1);
	h = health_open(base, conf, on_change, &cbs, &cause);
	assert_non_null(h);
	assert_true(run_until(srv0_down, h, WAIT_MS));
	assert_int_equal(health_info(h, 0, 0, &hi), 0);
	assert_int_equal(hi.last_error, ETIMEDOUT);
	assert_true(health_stats(h)->timeouts >= 2);
	health_close(h);
	close(c);
	close(lfd);
}

/*
 * check = "none": no check ever runs and every server stays up.  Reload
 * keeps the state of servers found again (name, address), with their new
 * indexes, and reports every server still down through the callback.
 */
static void
test_none_and_reload(void **state)
{
	const char		*two[] = { "127.0.0.1", "127.0.0.2" };
	const char		*three[] = { "127.0.0.3", "127.0.0.2",
				    "127.0.0.1" };
	struct health_info	 hi;
	struct health		*h;
	char			*cause = NULL;
	uint16_t		 port = 0;
	int			 lfd;

	(void)state;
	lfd = listener("127.0.0.1", &port, 64);	/* backlog: never accepted */
	set_service(0, "web", port, CHECK_TCP, two, 2);
	set_service(1, "quiet", 9, CHECK_NONE, two, 2);
	h = health_open(base, conf, on_change, &cbs, &cause);
	assert_non_null(h);
	assert_true(run_until(srv1_down, h, WAIT_MS));
	assert_int_equal(health_state(h, 1, 0), 1);
	assert_int_equal(health_state(h, 1, 1), 1);
	assert_int_equal(health_info(h, 1, 1, &hi), 0);
	assert_int_equal(hi.checked, 0);
	assert_int_equal(hi.checks, 0);

	/* web: one new server first; "quiet" renamed, so a new service */
	set_service(0, "web", port, CHECK_TCP, three, 3);
	set_service(1, "other", 9, CHECK_TCP, two, 2);
	cbs.n = 0;
	assert_int_equal(health_reload(h, conf, &cause), 0);
	assert_int_equal(cbs.n, 1);
	assert_string_equal(cb_trace(0, 1), "d");
	assert_int_equal(health_state(h, 0, 0), 1);
	assert_int_equal(health_state(h, 0, 1), 0);
	assert_int_equal(health_state(h, 0, 2), 1);
	assert_int_equal(health_info(h, 0, 1, &hi), 0);
	assert_int_equal(hi.nfail, 2);
	assert_int_equal(hi.last_error, ECONNREFUSED);
	assert_string_equal(health_service_name(h, 1), "other");
	assert_null(health_service_name(h, 2));
	assert_true(util_addr_eq(health_server_addr(h, 0, 1),
	    &conf->services[0].servers[1].addr));
	assert_null(health_server_addr(h, 0, 3));
	assert_null(health_server_addr(h, 2, 0));
	assert_int_equal(health_info(h, 1, 0, &hi), 0);
	assert_int_equal(hi.checked, 1);
	assert_int_equal(hi.checks, 0);
	/* the new server (refused) and "other"'s (port 9, refused) go down */
	assert_true(run_until(srv0_down, h, WAIT_MS));
	assert_int_equal(health_state(h, 0, 2), 1);
	health_close(h);
	close(lfd);
}

/*
 * A loopback HTTP server in the test's loop: it reads one request and
 * answers http_answer ("" : nothing, the connection stays open).
 */
static char		 http_answer[64] = "HTTP/1.1 200 OK\r\n\r\n";
static char		 http_req[1024];
static int		 http_silent[64];
static unsigned int	 http_nsilent;

static void
on_http_req(evutil_socket_t fd, short what, void *arg)
{
	ssize_t	n;

	(void)what;
	event_free(arg);
	n = read(fd, http_req, sizeof(http_req) - 1);
	http_req[n > 0 ? n : 0] = '\0';
	if (http_answer[0] == '\0' && http_nsilent < 64) {
		http_silent[http_nsilent++] = fd;
		return;
	}
	if (write(fd, http_answer, strlen(http_answer)) < 0)
		http_req[0] = '\0';
	close(fd);
}

static void
on_http_accept(evutil_socket_t fd, short what, void *arg)
{
	struct event	*ev;
	int		 c;

	(void)what;
	(void)arg;
	if ((c = accept(fd, NULL, NULL)) < 0)
		return;
	ev = event_new(base, c, EV_READ, on_http_req, event_self_cbarg());
	assert_non_null(ev);
	assert_int_equal(event_add(ev, NULL), 0);
}

static int
srv0_failed_since(struct health *h)
{
	struct health_info	hi;

	return (health_info(h, 0, 0, &hi) == 0 && hi.nfail >= 1);
}

/*
 * check = "http" on a check port that is not the service's (9, nothing
 * there), initial "down": down at once (told by health_sync()), up at the
 * first 200; 503 takes it down after fall checks, 200 back after rise; a
 * range accepts 302; a silent server times out; not HTTP fails.
 */
static void
test_http_checks(void **state)
{
	const char		*addrs[] = { "127.0.0.1" };
	struct health_conf	*hc;
	struct health_info	 hi;
	struct health		*h;
	struct event		*ev;
	char			*cause = NULL;
	uint16_t		 port = 0;
	unsigned int		 i;
	int			 lfd;

	(void)state;
	lfd = listener("127.0.0.1", &port, 64);
	ev = event_new(base, lfd, EV_READ | EV_PERSIST, on_http_accept, NULL);
	assert_int_equal(event_add(ev, NULL), 0);
	set_service(0, "web", 9, CHECK_HTTP, addrs, 1);
	hc = &conf->services[0].health;
	hc->port = port;
	hc->initial_up = 0;
	hc->interval_ms = 100;
	hc->timeout_ms = 80;
	util_strlcpy(hc->path, "/healthz", sizeof(hc->path));
	util_strlcpy(hc->host, "www.example.org", sizeof(hc->host));
	h = health_open(base, conf, on_change, &cbs, &cause);
	assert_non_null(h);
	assert_int_equal(health_state(h, 0, 0), 0);
	assert_int_equal(cbs.n, 0);
	health_sync(h);
	assert_string_equal(cb_trace(0, 0), "d");

	assert_true(run_until(srv0_up, h, WAIT_MS));
	assert_string_equal(cb_trace(0, 0), "du");
	assert_int_equal(mock_log_count("server 127.0.0.1 is up "
	    "(first check succeeded)"), 1);
	assert_string_equal(http_req, "GET /healthz HTTP/1.0\r\n"
	    "Host: www.example.org\r\nConnection: close\r\n"
	    "User-Agent: ilbd-health\r\n\r\n");
	assert_int_equal(health_info(h, 0, 0, &hi), 0);
	assert_int_equal(hi.checked, 1);
	assert_int_equal(hi.last_status, 200);

	util_strlcpy(http_answer, "HTTP/1.0 503 Service Unavailable\r\n\r\n",
	    sizeof(http_answer));
	assert_true(run_until(srv0_down, h, WAIT_MS));
	assert_string_equal(cb_trace(0, 0), "dud");
	assert_int_equal(health_info(h, 0, 0, &hi), 0);
	assert_int_equal(hi.last_error, EPROTO);
	assert_int_equal(hi.last_status, 503);
	assert_int_equal(mock_log_count("server 127.0.0.1 is down (2 checks "
	    "failed: HTTP status 503, expected 200)"), 1);

	util_strlcpy(http_answer, "HTTP/1.1 200 OK\r\n\r\n",
	    sizeof(http_answer));
	assert_true(run_until(srv0_up, h, WAIT_MS));
	assert_string_equal(cb_trace(0, 0), "dudu");
	assert_int_equal(mock_log_count("server 127.0.0.1 is up "
	    "(2 checks succeeded)"), 1);

	/* not HTTP: down, "no HTTP status line" */
	util_strlcpy(http_answer, "SSH-2.0-OpenSSH_9.2\r\n",
	    sizeof(http_answer));
	assert_true(run_until(srv0_down, h, WAIT_MS));
	assert_int_equal(mock_log_count("(2 checks failed: no HTTP status "
	    "line)"), 1);
	/* silent: the check times out within timeout_ms */
	http_answer[0] = '\0';
	cbs.n = 0;
	health_close(h);
	assert_int_equal(health_info(NULL, 0, 0, &hi), -1);
	h = health_open(base, conf, on_change, &cbs, &cause);
	assert_non_null(h);
	assert_true(run_until(srv0_failed_since, h, WAIT_MS));
	assert_int_equal(health_info(h, 0, 0, &hi), 0);
	assert_int_equal(hi.last_error, ETIMEDOUT);
	assert_int_equal(hi.last_status, 0);
	assert_true(health_stats(h)->timeouts >= 1);
	health_close(h);

	/* a range: 302 passes "200-399" */
	util_strlcpy(http_answer, "HTTP/1.1 302 Found\r\n\r\n",
	    sizeof(http_answer));
	hc->status_max = 399;
	h = health_open(base, conf, on_change, &cbs, &cause);
	assert_non_null(h);
	assert_true(run_until(srv0_up, h, WAIT_MS));
	assert_int_equal(health_info(h, 0, 0, &hi), 0);
	assert_int_equal(hi.last_status, 302);
	health_close(h);

	for (i = 0; i < http_nsilent; i++)
		close(http_silent[i]);
	event_free(ev);
	close(lfd);
}

/*
 * A loopback UDP server in the test's loop: it answers each datagram with
 * udp_answer ("" : no answer), and keeps the last datagram it got.
 */
static char		 udp_answer[64];
static uint8_t		 udp_got[600];
static ssize_t		 udp_gotlen = -1;
static unsigned int	 udp_nreq;

static void
on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	ssize_t			n;

	(void)what;
	(void)arg;
	n = recvfrom(fd, udp_got, sizeof(udp_got), 0, (struct sockaddr *)&ss,
	    &len);
	if (n < 0)
		return;
	udp_gotlen = n;
	udp_nreq++;
	if (udp_answer[0] != '\0')
		(void)sendto(fd, udp_answer, strlen(udp_answer), 0,
		    (struct sockaddr *)&ss, len);
}

/* A UDP socket bound to addr (port 0: any); its port in *port. */
static int
udp_listener(const char *addr, uint16_t *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(*port);
	assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return (fd);
}

/*
 * issue 22: check = "udp".  A server answering "pong srv-a" passes expect
 * "srv-a" and is up at its first answer with the payload sent (escapes
 * decoded by the config: raw bytes here); answering "pong srv-b" it goes
 * down (wrong answer); answering again it comes back after rise; silent,
 * the checks time out; closed, ICMP port unreachable fails each check at
 * once (ECONNREFUSED, not a timeout).  Without expect any answer passes.
 */
static void
test_udp_checks(void **state)
{
	const char		*addrs[] = { "127.0.0.1" };
	struct health_conf	*hc;
	struct health_check	 chk;
	struct health_info	 hi;
	struct health		*h;
	struct event		*ev;
	char			*cause = NULL;
	uint16_t		 port = 0;
	uint64_t		 t0, timeouts;
	int			 fd;

	(void)state;
	fd = udp_listener("127.0.0.1", &port);
	ev = event_new(base, fd, EV_READ | EV_PERSIST, on_udp, NULL);
	assert_int_equal(event_add(ev, NULL), 0);
	set_service(0, "dns", 9, CHECK_UDP, addrs, 1);
	hc = &conf->services[0].health;
	hc->port = port;
	hc->initial_up = 0;
	hc->timeout_ms = 80;
	memcpy(hc->send, "\0ping\n", 6);
	hc->sendlen = 6;
	memcpy(hc->expect, "srv-a", 5);
	hc->expectlen = 5;
	util_strlcpy(udp_answer, "pong srv-a", sizeof(udp_answer));
	h = health_open(base, conf, on_change, &cbs, &cause);
	assert_non_null(h);
	assert_int_equal(health_state(h, 0, 0), 0);
	assert_true(run_until(srv0_up, h, WAIT_MS));
	assert_string_equal(cb_trace(0, 0), "u");
	assert_int_equal(udp_gotlen, 6);
	assert_memory_equal(udp_got, "\0ping\n", 6);
	assert_int_equal(health_info(h, 0, 0, &hi), 0);
	assert_int_equal(hi.checked, 1);
	assert_int_equal(hi.failures, 0);
	assert_int_equal(health_last_check(health_stats(h), "dns",
	    &conf->services[0].servers[0].addr, &chk), 0);
	assert_string_equal(health_check_text(&chk), "ok");

	/* the wrong answer: down after fall (2) checks */
	util_strlcpy(udp_answer, "pong srv-b", sizeof(udp_answer));
	assert_true(run_until(srv0_down, h, WAIT_MS));
	assert_string_equal(cb_trace(0, 0), "ud");
	assert_int_equal(health_info(h, 0, 0, &hi), 0);
	assert_int_equal(hi.last_error, EPROTO);
	assert_int_equal(hi.nfail, 2);
	assert_int_equal(health_stats(h)->timeouts, 0);
	assert_int_equal(mock_log_count("server 127.0.0.1 is down (2 checks "
	    "failed: wrong answer: expect not found)"), 1);
	assert_int_equal(health_last_check(health_stats(h), "dns",
	    &conf->services[0].servers[0].addr, &chk), 0);
	assert_string_equal(health_check_text(&chk),
	    "wrong answer: expect not found");

	/* the right answer again: up after rise (2) */
	util_strlcpy(udp_answer, "pong srv-a", sizeof(udp_answer));
	assert_true(run_until(srv0_up, h, WAIT_MS));
	assert_string_equal(cb_trace(0, 0), "udu");
	assert_int_equal(health_info(h, 0, 0, &hi), 0);
	assert_int_equal(hi.nok, 2);

	/* silent: every check times out */
	udp_answer[0] = '\0';
	assert_true(run_until(srv0_down, h, WAIT_MS));
	assert_int_equal(health_info(h, 0, 0, &hi), 0);
	assert_int_equal(hi.last_error, ETIMEDOUT);
	timeouts = health_stats(h)->timeouts;
	assert_true(timeouts >= 2);

	/* no answer expected: any answer passes */
	util_strlcpy(udp_answer, "whatever", sizeof(udp_answer));
	hc->expectlen = 0;
	memset(hc->expect, 0, sizeof(hc->expect));
	assert_int_equal(health_reload(h, conf, &cause), 0);
	assert_true(run_until(srv0_up, h, WAIT_MS));

	/* nothing on the port: refused at once, not a timeout */
	event_free(ev);
	close(fd);
	t0 = util_now_ms();
	timeouts = health_stats(h)->timeouts;
	assert_true(run_until(srv0_down, h, WAIT_MS));
	assert_int_equal(health_info(h, 0, 0, &hi), 0);
	assert_int_equal(hi.last_error, ECONNREFUSED);
	assert_int_equal(health_stats(h)->timeouts, timeouts);
	assert_true(util_now_ms() - t0 < 10000);
	assert_int_equal(mock_log_count("failed: Connection refused)"), 1);
	assert_int_equal(health_stats(h)->errors, 0);
	health_close(h);
}

/*
 * A reload: a server kept keeps its state; a new one starts down (initial
 * "down") and is told down through the callback with its new index; with
 * initial "up" a new one starts up.
 */
static void
test_reload_initial(void **state)
{
	const char		*one[] = { "127.0.0.1" };
	const char		*two[] = { "127.0.0.2", "127.0.0.1" };
	struct health		*h;
	char			*cause = NULL;
	uint16_t		 port = 0;
	int			 lfd;
	struct event		*ev;

	(void)state;
	lfd = listener("127.0.0.1", &port, 64);
	ev = event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, NULL);
	assert_int_equal(event_add(ev, NULL), 0);
	set_service(0, "web", port, CHECK_TCP, one, 1);
	conf->services[0].health.initial_up = 0;
	h = health_open(base, conf, on_change, &cbs, &cause);
	assert_non_null(h);
	assert_true(run_until(srv0_up, h, WAIT_MS));
	set_service(0, "web", port, CHECK_TCP, two, 2);
	conf->services[0].health.initial_up = 0;
	cbs.n = 0;
	assert_int_equal(health_reload(h, conf, &cause), 0);
	assert_int_equal(health_state(h, 0, 0), 0);	/* new: down */
	assert_int_equal(health_state(h, 0, 1), 1);	/* kept: up */
	assert_int_equal(cbs.n, 1);
	assert_string_equal(cb_trace(0, 0), "d");
	/* initial "up": the same reload leaves the new server up */
	set_service(0, "web", port, CHECK_TCP, one, 1);
	assert_int_equal(health_reload(h, conf, &cause), 0);
	set_service(0, "web", port, CHECK_TCP, two, 2);
	cbs.n = 0;
	assert_int_equal(health_reload(h, conf, &cause), 0);
	assert_int_equal(health_state(h, 0, 0), 1);
	assert_int_equal(cbs.n, 0);
	health_close(h);
	event_free(ev);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fsm_exhaustive),
		cmocka_unit_test(test_fsm_edges),
		cmocka_unit_test(test_fsm_initial_down),
		cmocka_unit_test(test_http_status),
		cmocka_unit_test(test_http_request),
		cmocka_unit_test(test_first_delay),
		cmocka_unit_test_setup_teardown(test_tcp_checks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tcp_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_none_and_reload, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_http_checks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reload_initial, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_udp_checks, setup,
		    teardown),
	};

	log_init("test_health", 1, 0);	/* MOCK_LOG_ECHO=1 shows the log */
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
