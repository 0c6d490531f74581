/* metrics.c: the counters as Prometheus text, served over HTTP at /metrics. */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define METRICS_BACKLOG	16

struct metrics {
	struct evhttp		*http;		/* NULL when disabled */
	metrics_foreach_fn	 fn;		/* enumerates the counters */
	void			*arg;
	uint64_t		 start;		/* unix time of metrics_open */
};

/* One sample, copied out of the enumeration to group families. */
struct metrics_sample {
	char			*family;	/* ilbd_sub_name[_total] */
	char			*help;		/* raw, escaped on output */
	char			*labels;	/* escaped k="v",...; "" if none */
	enum dp_metric_type	 type;
	uint64_t		 value;
	size_t			 idx;		/* enumeration order */
	size_t			 rank;		/* idx of the family's first */
};

struct metrics_set {
	struct metrics_sample	*v;
	size_t			 n;
	size_t			 cap;
	int			 nomem;
};

static int
metrics_name_char(int c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_');
}

/* Append s to o with every character outside [a-zA-Z0-9_] made '_'. */
static char *
metrics_sanitise(char *o, const char *s)
{
	for (; *s != '\0'; s++)
		*o++ = metrics_name_char((unsigned char)*s) ? *s : '_';
	return (o);
}

/* "ilbd_<sub>_<name>", "_total" appended to a counter; malloc'd. */
static char *
metrics_family_name(const struct dp_counter *c)
{
	static const char	 total[] = "_total";
	const char		*sub = c->sub != NULL ? c->sub : "";
	size_t			 len;
	char			*s, *o;

	len = 5 + strlen(sub) + 1 + strlen(c->name) + sizeof(total);
	if ((s = malloc(len)) == NULL)
		return (NULL);
	o = metrics_sanitise(s, "ilbd_");
	if (*sub != '\0') {
		o = metrics_sanitise(o, sub);
		*o++ = '_';
	}
	o = metrics_sanitise(o, c->name);
	*o = '\0';
	if (c->type == DP_COUNTER && ((size_t)(o - s) < sizeof(total) - 1 ||
	    strcmp(o - (sizeof(total) - 1), total) != 0))
		memcpy(o, total, sizeof(total));
	return (s);
}

/* Length of a label key at p (stops at = , " newline NUL); 0 if none. */
static size_t
metrics_label_key(const char *p)
{
	size_t	n;

	for (n = 0; p[n] != '\0' && strchr("=,\"\n", p[n]) == NULL; n++)
		;
	return (p[n] == '=' && p[n + 1] == '"' ? n : 0);
}

/* The value at p ends at a quote followed by the end or by ,key=". */
static int
metrics_label_end(const char *p)
{
	return (p[0] == '"' && (p[1] == '\0' ||
	    (p[1] == ',' && metrics_label_key(p + 2) != 0)));
}

/* Copy one raw value escaped (\\ \" \n) up to its closing quote. */
static const char *
metrics_label_value(const char *p, char **op)
{
	char	*o = *op;

	for (; !metrics_label_end(p); p++) {
		if (*p == '\0')
			return (NULL);
		if (*p == '\\' || *p == '"' || *p == '\n')
			*o++ = '\\';
		*o++ = *p == '\n' ? 'n' : *p;
	}
	*op = o;
	return (p + 1);
}

/*
 * Raw k="v",k="v" to the exposition form: keys sanitised (a leading digit
 * made '_'), values escaped.  Returns 0, or -1 if malformed (*out NULL).
 */
static int
metrics_labels(const char *raw, char **out)
{
	const char	*p = raw;
	char		*o, *key;
	size_t		 n;

	*out = NULL;
	if ((o = malloc(2 * strlen(raw) + 1)) == NULL)
		return (0);
	*out = o;
	while (*p != '\0') {
		if ((n = metrics_label_key(p)) == 0)
			goto bad;
		key = o;
		for (; n > 0; n--, p++)
			*o++ = metrics_name_char((unsigned char)*p) ? *p : '_';
		if (*key >= '0' && *key <= '9')
			*key = '_';
		*o++ = '=';
		*o++ = '"';
		if ((p = metrics_label_value(p + 2, &o)) == NULL)
			goto bad;
		*o++ = '"';
		if (*p == ',')
			*o++ = *p++;
	}
	*o = '\0';
	return (0);
bad:
	free(*out);
	*out = NULL;
	return (-1);
}

static void
metrics_sample_free(struct metrics_sample *s)
{
	free(s->family);
	free(s->help);
	free(s->labels);
}

/* dp_counter_cb: copy one counter into the set. */
static void
metrics_collect(void *arg, const struct dp_counter *c)
{
	struct metrics_set	*set = arg;
	struct metrics_sample	*s, *v;
	size_t			 cap;

	if (set->nomem)
		return;
	if (set->n == set->cap) {
		cap = set->cap ? 2 * set->cap : 128;
		if ((v = reallocarray(set->v, cap, sizeof(*v))) == NULL) {
			set->nomem = 1;
			return;
		}
		set->v = v;
		set->cap = cap;
	}
	s = &set->v[set->n];
	memset(s, 0, sizeof(*s));
	if (metrics_labels(c->labels != NULL ? c->labels : "", &s->labels) ==
	    -1) {
		log_debug("metrics: %s %s: bad labels, left out", c->sub,
		    c->name);
		return;
	}
	s->family = metrics_family_name(c);
	s->help = strdup(c->help != NULL && *c->help != '\0' ? c->help :
	    c->name);
	if (s->labels == NULL || s->family == NULL || s->help == NULL) {
		metrics_sample_free(s);
		set->nomem = 1;
		return;
	}
	s->type = c->type;
	s->value = c->value;
	s->idx = set->n++;
}

static int
metrics_cmp_family(const void *a, const void *b)
{
	const struct metrics_sample	*x = a, *y = b;
	int				 r;

	if ((r = strcmp(x->family, y->family)) != 0)
		return (r);
	return (x->idx < y->idx ? -1 : x->idx > y->idx);
}

static int
metrics_cmp_rank(const void *a, const void *b)
{
	const struct metrics_sample	*x = a, *y = b;

	if (x->rank != y->rank)
		return (x->rank < y->rank ? -1 : 1);
	return (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* Order families by their first sample, samples within by enumeration. */
static void
metrics_group(struct metrics_set *set)
{
	size_t	i;

	if (set->n == 0)
		return;
	qsort(set->v, set->n, sizeof(set->v[0]), metrics_cmp_family);
	for (i = 0; i < set->n; i++)
		set->v[i].rank = (i > 0 && strcmp(set->v[i].family,
		    set->v[i - 1].family) == 0) ? set->v[i - 1].rank :
		    set->v[i].idx;
	qsort(set->v, set->n, sizeof(set->v[0]), metrics_cmp_rank);
}

/* Help text escaped: backslash and newline. */
static int
metrics_put_help(struct evbuffer *b, const char *h)
{
	size_t	n;

	while (*h != '\0') {
		n = strcspn(h, "\\\n");
		if (evbuffer_add(b, h, n) == -1)
			return (-1);
		h += n;
		if (*h == '\0')
			break;
		if (evbuffer_add(b, *h == '\\' ? "\\\\" : "\\n", 2) == -1)
			return (-1);
		h++;
	}
	return (0);
}

/* # HELP and # TYPE of s's family (the first sample of a family). */
static int
metrics_put_header(struct evbuffer *b, const struct metrics_sample *s)
{
	if (evbuffer_add_printf(b, "# HELP %s ", s->family) == -1 ||
	    metrics_put_help(b, s->help) == -1 ||
	    evbuffer_add_printf(b, "\n# TYPE %s %s\n", s->family,
	    s->type == DP_COUNTER ? "counter" : "gauge") == -1)
		return (-1);
	return (0);
}

static int
metrics_put_sample(struct evbuffer *b, const struct metrics_sample *s)
{
	int	r;

	if (*s->labels != '\0')
		r = evbuffer_add_printf(b, "%s{%s} %llu\n", s->family,
		    s->labels, (unsigned long long)s->value);
	else
		r = evbuffer_add_printf(b, "%s %llu\n", s->family,
		    (unsigned long long)s->value);
	return (r < 0 ? -1 : 0);
}

int
metrics_render(struct evbuffer *b, metrics_foreach_fn fn, void *arg)
{
	struct metrics_set	 set;
	size_t			 i;
	int			 rv = 0;

	memset(&set, 0, sizeof(set));
	fn(arg, metrics_collect, &set);
	if (set.nomem)
		rv = -1;
	else
		metrics_group(&set);
	for (i = 0; rv == 0 && i < set.n; i++) {
		if ((i == 0 || strcmp(set.v[i].family, set.v[i - 1].family)
		    != 0) && metrics_put_header(b, &set.v[i]) == -1)
			rv = -1;
		else if (metrics_put_sample(b, &set.v[i]) == -1)
			rv = -1;
	}
	for (i = 0; i < set.n; i++)
		metrics_sample_free(&set.v[i]);
	free(set.v);
	return (rv);
}

static void
metrics_emit(dp_counter_cb cb, void *arg, const char *name, const char *help,
    const char *labels, uint64_t v)
{
	struct dp_counter	c;

	c.sub = "";
	c.name = name;
	c.help = help;
	c.type = DP_GAUGE;
	c.labels = labels;
	c.value = v;
	cb(arg, &c);
}

/* The process's own gauges, then the enumerator's counters. */
static void
metrics_foreach(void *arg, dp_counter_cb cb, void *cbarg)
{
	struct metrics	*m = arg;

	metrics_emit(cb, cbarg, "up", "1 while ilbd serves metrics", "", 1);
	metrics_emit(cb, cbarg, "start_time_seconds", "start time of the "
	    "metrics endpoint, seconds since the epoch", "", m->start);
#ifdef PACKAGE_VERSION
	metrics_emit(cb, cbarg, "build_info", "ilbd's version, as a label",
	    "version=\"" PACKAGE_VERSION "\"", 1);
#endif
	m->fn(m->arg, cb, cbarg);
}

/* A short text/plain reply (errors). */
static void
metrics_reply_text(struct evhttp_request *req, int code, const char *reason)
{
	struct evbuffer	*b;

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	if ((b = evbuffer_new()) == NULL ||
	    evbuffer_add_printf(b, "%d %s\n", code, reason) == -1) {
		evhttp_send_reply(req, code, reason, NULL);
	} else
		evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

/* 200 with the text; HEAD gets its headers only (libevent 2.1 would
 * send the body). */
static void
metrics_reply(struct evhttp_request *req, enum evhttp_cmd_type cmd,
    struct evbuffer *b)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	char			 len[32];

	evhttp_add_header(h, "Content-Type", METRICS_CONTENT_TYPE);
	if (cmd == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(b));
		evhttp_add_header(h, "Content-Length", len);
		evhttp_send_reply(req, HTTP_OK, "OK", NULL);
	} else
		evhttp_send_reply(req, HTTP_OK, "OK", b);
}

static void
metrics_on_request(struct evhttp_request *req, void *arg)
{
	struct metrics		*m = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	struct evbuffer		*b;

	if (path == NULL || strcmp(path, METRICS_PATH) != 0) {
		metrics_reply_text(req, HTTP_NOTFOUND, "Not Found");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		metrics_reply_text(req, 405, "Method Not Allowed");
		return;
	}
	if ((b = evbuffer_new()) == NULL ||
	    metrics_render(b, metrics_foreach, m) == -1) {
		log_warnx("metrics: out of memory rendering /metrics");
		if (b != NULL)
			evbuffer_free(b);
		metrics_reply_text(req, HTTP_INTERNAL, "Internal Server Error");
		return;
	}
	metrics_reply(req, cmd, b);
	evbuffer_free(b);
}

struct metrics *
metrics_open_fd(struct event_base *base, int fd, metrics_foreach_fn fn,
    void *arg, char **cause)
{
	struct metrics	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->http = evhttp_new(base)) == NULL) {
		free(m);
		close(fd);
		*cause = strdup("metrics: out of memory");
		return (NULL);
	}
	m->fn = fn;
	m->arg = arg;
	m->start = (uint64_t)time(NULL);
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
	evhttp_set_timeout(m->http, METRICS_TIMEOUT_S);
	evhttp_set_gencb(m->http, metrics_on_request, m);
	if (evhttp_accept_socket_with_handle(m->http, fd) == NULL) {
		util_cause(cause, "metrics: cannot accept on the socket");
		close(fd);
		metrics_close(m);
		return (NULL);
	}
	return (m);
}

/* "metrics.listen ADDR:PORT: REASON" for *cause. */
static void
metrics_cause(const struct ilbd_conf *conf, const char *why, char **cause)
{
	char	a[ILB_ADDRSTRLEN];

	util_addr_fmt(&conf->metrics_addr, a, sizeof(a));
	util_cause(cause, conf->metrics_addr.family == AF_INET6 ?
	    "metrics.listen [%s]:%u: %s" : "metrics.listen %s:%u: %s", a,
	    conf->metrics_port, why);
}

/* A non-blocking listening TCP socket on metrics.listen; -1 with *cause. */
static int
metrics_listen(const struct ilbd_conf *conf, char **cause)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 fd, on = 1, af = conf->metrics_addr.family;

	memset(&ss, 0, sizeof(ss));
	if (af == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = conf->metrics_addr.u.v6;
		sin6->sin6_port = htons(conf->metrics_port);
		len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_addr = conf->metrics_addr.u.v4;
		sin->sin_port = htons(conf->metrics_port);
		len = sizeof(*sin);
	}
	if ((fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
	    sizeof(on)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, METRICS_BACKLOG) == -1) {
		metrics_cause(conf, strerror(errno), cause);
		if (fd != -1)
			close(fd);
		return (-1);
	}
	return (fd);
}

/* daemon_foreach_counter() as a metrics_foreach_fn. */
static void
metrics_foreach_daemon(void *d, dp_counter_cb cb, void *arg)
{
	daemon_foreach_counter(d, cb, arg);
}

struct metrics *
metrics_open(struct event_base *base, const struct ilbd_conf *conf,
    struct daemon *d, char **cause)
{
	struct metrics	*m;
	char		 a[ILB_ADDRSTRLEN];
	int		 fd;

	*cause = NULL;
	if (!conf->metrics_enabled) {
		if ((m = calloc(1, sizeof(*m))) == NULL)
			*cause = strdup("metrics: out of memory");
		else
			log_debug("metrics: disabled (metrics.listen is \"\")");
		return (m);
	}
	if ((fd = metrics_listen(conf, cause)) == -1)
		return (NULL);
	if ((m = metrics_open_fd(base, fd, metrics_foreach_daemon, d,
	    cause)) == NULL)
		return (NULL);
	util_addr_fmt(&conf->metrics_addr, a, sizeof(a));
	log_info(conf->metrics_addr.family == AF_INET6 ?
	    "metrics: serving http://[%s]:%u%s" : "metrics: serving http://%s:%u%s",
	    a, conf->metrics_port, METRICS_PATH);
	return (m);
}

void
metrics_close(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->http != NULL)
		evhttp_free(m->http);
	free(m);
}
