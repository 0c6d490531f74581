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
#include "metrics_int.h"
#include "util.h"

#define METRICS_BACKLOG	16

struct metrics {
	struct evhttp		*http;		/* NULL when disabled */
	metrics_foreach_fn	 fn;		/* enumerates the counters */
	void			*arg;
	uint64_t		 start;		/* unix time of metrics_open */
	struct metrics_layout	*layout;	/* built once, reused */
	struct metrics_labels	 labels;	/* of the daemon's extras */
	struct daemon		*daemon;	/* metrics_open()'s, or NULL */
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

/*
 * The family of c: its metrics_map entry's, or "ilbd_<sub>_<name>" with
 * "_total" appended to a counter; malloc'd.
 */
static char *
metrics_family_name(const struct dp_counter *c, const struct metrics_map *mp)
{
	static const char	 total[] = "_total";
	const char		*sub = c->sub != NULL ? c->sub : "";
	size_t			 len;
	char			*s, *o;

	if (mp != NULL)
		return (strdup(mp->family));
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

/*
 * The layout of the text: for each sample of the enumeration, in its
 * order, what identifies it (sub, name, raw labels) and its printed
 * "family{labels} ", built once; a scrape then only checks that the
 * enumeration is the same and takes the values. A different enumeration
 * (a reload, a member come or gone) builds it again.
 */
struct metrics_slot {
	const char	*sub;
	const char	*name;
	char		*raw;		/* labels as enumerated */
	char		*prefix;	/* "family{labels} " */
	size_t		 fam;
	uint32_t	 div;
	int		 skip;		/* not exported */
	uint64_t	 value;
};

struct metrics_fam {
	char		*name;
	char		*header;	/* # HELP and # TYPE lines */
};

struct metrics_layout {
	struct metrics_slot	*slot;
	size_t			 n;
	size_t			 cap;
	struct metrics_fam	*fam;
	size_t			 nfam;
	size_t			 famcap;
	size_t			*order;		/* exported slots by family */
	size_t			 norder;
	size_t			 pos;		/* filling: the next slot */
	int			 stale;		/* filling: not the same */
	int			 nomem;
	uint64_t		 builds;
};

static void
metrics_layout_clear(struct metrics_layout *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->slot[i].raw);
		free(l->slot[i].prefix);
	}
	for (i = 0; i < l->nfam; i++) {
		free(l->fam[i].name);
		free(l->fam[i].header);
	}
	free(l->order);
	l->order = NULL;
	l->n = l->nfam = l->norder = 0;
	l->nomem = 0;
}

struct metrics_layout *
metrics_layout_new(void)
{
	return (calloc(1, sizeof(struct metrics_layout)));
}

void
metrics_layout_free(struct metrics_layout *l)
{
	if (l == NULL)
		return;
	metrics_layout_clear(l);
	free(l->slot);
	free(l->fam);
	free(l);
}

uint64_t
metrics_layout_builds(const struct metrics_layout *l)
{
	return (l->builds);
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

/* The family named name, added with its header if new; -1: no memory. */
static int
metrics_fam_get(struct metrics_layout *l, char *name, const char *help,
    enum dp_metric_type type, size_t *idx)
{
	struct metrics_fam	*v;
	struct evbuffer		*b;
	size_t			 i, cap, len;

	for (i = l->nfam; i > 0; i--)
		if (strcmp(l->fam[i - 1].name, name) == 0) {
			free(name);
			*idx = i - 1;
			return (0);
		}
	if (l->nfam == l->famcap) {
		cap = l->famcap ? 2 * l->famcap : 64;
		if ((v = reallocarray(l->fam, cap, sizeof(*v))) == NULL)
			goto fail;
		l->fam = v;
		l->famcap = cap;
	}
	if ((b = evbuffer_new()) == NULL)
		goto fail;
	if (evbuffer_add_printf(b, "# HELP %s ", name) == -1 ||
	    metrics_put_help(b, help) == -1 ||
	    evbuffer_add_printf(b, "\n# TYPE %s %s\n", name,
	    type == DP_COUNTER ? "counter" : "gauge") == -1 ||
	    evbuffer_add(b, "", 1) == -1) {
		evbuffer_free(b);
		goto fail;
	}
	len = evbuffer_get_length(b);
	if ((l->fam[l->nfam].header = malloc(len)) == NULL) {
		evbuffer_free(b);
		goto fail;
	}
	evbuffer_remove(b, l->fam[l->nfam].header, len);
	evbuffer_free(b);
	l->fam[l->nfam].name = name;
	*idx = l->nfam++;
	return (0);
fail:
	free(name);
	return (-1);
}

/* dp_counter_cb: one sample into the layout being built. */
static void
metrics_build_put(void *arg, const struct dp_counter *c)
{
	struct metrics_layout		*l = arg;
	const struct metrics_map	*mp;
	struct metrics_slot		*sl, *v;
	const char			*sub = c->sub != NULL ? c->sub : "";
	char				*esc = NULL, *fam;
	size_t				 cap;
	int				 r;

	if (l->nomem)
		return;
	if (l->n == l->cap) {
		cap = l->cap ? 2 * l->cap : 256;
		if ((v = reallocarray(l->slot, cap, sizeof(*v))) == NULL) {
			l->nomem = 1;
			return;
		}
		l->slot = v;
		l->cap = cap;
	}
	sl = &l->slot[l->n];
	memset(sl, 0, sizeof(*sl));
	sl->sub = sub;
	sl->name = c->name;
	sl->value = c->value;
	if ((sl->raw = strdup(c->labels != NULL ? c->labels : "")) == NULL) {
		l->nomem = 1;
		return;
	}
	l->n++;
	mp = metrics_map_find(sub, c->name);
	if (mp != NULL && mp->family == NULL) {
		sl->skip = 1;
		return;
	}
	if (metrics_labels(sl->raw, &esc) == -1) {
		log_debug("metrics: %s %s: bad labels, left out", sub,
		    c->name);
		sl->skip = 1;
		return;
	}
	sl->div = mp != NULL ? mp->div : 0;
	if (esc == NULL || (fam = metrics_family_name(c, mp)) == NULL) {
		free(esc);
		l->nomem = 1;
		return;
	}
	if (mp != NULL && mp->label[0] != '\0')
		r = asprintf(&sl->prefix, "%s{%s%s%s} ", fam, mp->label,
		    *esc != '\0' ? "," : "", esc);
	else if (*esc != '\0')
		r = asprintf(&sl->prefix, "%s{%s} ", fam, esc);
	else
		r = asprintf(&sl->prefix, "%s ", fam);
	free(esc);
	if (r == -1) {
		sl->prefix = NULL;
		free(fam);
		l->nomem = 1;
		return;
	}
	if (metrics_fam_get(l, fam, mp != NULL && mp->help != NULL ? mp->help :
	    c->help != NULL && *c->help != '\0' ? c->help : c->name, c->type,
	    &sl->fam) == -1)
		l->nomem = 1;
}

/* Families in the order of their first sample, samples within in theirs. */
static int
metrics_layout_order(struct metrics_layout *l)
{
	size_t	*start, i;

	if ((start = calloc(l->nfam + 1, sizeof(*start))) == NULL ||
	    (l->order = calloc(l->n + 1, sizeof(*l->order))) == NULL) {
		free(start);
		return (-1);
	}
	for (i = 0; i < l->n; i++)
		if (!l->slot[i].skip)
			start[l->slot[i].fam + 1]++;
	for (i = 1; i <= l->nfam; i++)
		start[i] += start[i - 1];
	for (i = 0; i < l->n; i++)
		if (!l->slot[i].skip)
			l->order[start[l->slot[i].fam]++] = i;
	l->norder = l->nfam > 0 ? start[l->nfam - 1] : 0;
	free(start);
	return (0);
}

/* dp_counter_cb: a scrape's value, if the sample is the layout's. */
static void
metrics_fill_put(void *arg, const struct dp_counter *c)
{
	struct metrics_layout	*l = arg;
	struct metrics_slot	*sl;
	const char		*sub = c->sub != NULL ? c->sub : "";
	const char		*lab = c->labels != NULL ? c->labels : "";

	if (l->stale)
		return;
	if (l->pos >= l->n) {
		l->stale = 1;
		return;
	}
	sl = &l->slot[l->pos];
	if ((sl->name != c->name && strcmp(sl->name, c->name) != 0) ||
	    (sl->sub != sub && strcmp(sl->sub, sub) != 0) ||
	    strcmp(sl->raw, lab) != 0) {
		l->stale = 1;
		return;
	}
	sl->value = c->value;
	l->pos++;
}

/* v / div with as many decimals as div has zeros (1000: ms as s). */
static int
metrics_put_value(struct evbuffer *b, uint64_t v, uint32_t div)
{
	unsigned int	digits = 0;
	uint32_t	d;

	if (div <= 1)
		return (evbuffer_add_printf(b, "%llu\n",
		    (unsigned long long)v) < 0 ? -1 : 0);
	for (d = div; d > 1; d /= 10)
		digits++;
	return (evbuffer_add_printf(b, "%llu.%0*llu\n",
	    (unsigned long long)(v / div), (int)digits,
	    (unsigned long long)(v % div)) < 0 ? -1 : 0);
}

int
metrics_render_layout(struct evbuffer *b, struct metrics_layout *l,
    metrics_foreach_fn fn, void *arg)
{
	const struct metrics_slot	*sl;
	size_t				 k, prev = (size_t)-1;

	l->pos = 0;
	l->stale = 0;
	if (l->builds > 0)
		fn(arg, metrics_fill_put, l);
	if (l->builds == 0 || l->stale || l->pos != l->n) {
		metrics_layout_clear(l);
		fn(arg, metrics_build_put, l);
		l->builds++;
		if (l->nomem || metrics_layout_order(l) == -1) {
			metrics_layout_clear(l);
			l->builds = 0;
			return (-1);
		}
	}
	for (k = 0; k < l->norder; k++) {
		sl = &l->slot[l->order[k]];
		if (sl->fam != prev && evbuffer_add(b, l->fam[sl->fam].header,
		    strlen(l->fam[sl->fam].header)) == -1)
			return (-1);
		prev = sl->fam;
		if (evbuffer_add(b, sl->prefix, strlen(sl->prefix)) == -1 ||
		    metrics_put_value(b, sl->value, sl->div) == -1)
			return (-1);
	}
	return (0);
}

int
metrics_render(struct evbuffer *b, metrics_foreach_fn fn, void *arg)
{
	struct metrics_layout	*l;
	int			 rv;

	if ((l = metrics_layout_new()) == NULL)
		return (-1);
	rv = metrics_render_layout(b, l, fn, arg);
	metrics_layout_free(l);
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
	struct metrics			*m = arg;
	struct daemon_counter_parts	 p;

	metrics_emit(cb, cbarg, "up", "1 while ilbd serves metrics", "", 1);
#ifdef PACKAGE_VERSION
	metrics_emit(cb, cbarg, "build_info", "ilbd's version, as a label",
	    "version=\"" PACKAGE_VERSION "\"", 1);
#endif
	if (m->daemon == NULL) {
		metrics_process_walk(m->start, cb, cbarg);
		m->fn(m->arg, cb, cbarg);
		return;
	}
	daemon_counter_parts(m->daemon, &p);
	daemon_counter_walk(&p, cb, cbarg);
	metrics_daemon_walk(&m->labels, m->daemon, cb, cbarg);
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
	    metrics_render_layout(b, m->layout, metrics_foreach, m) == -1) {
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
	    (m->layout = metrics_layout_new()) == NULL ||
	    (m->http = evhttp_new(base)) == NULL) {
		if (m != NULL)
			metrics_layout_free(m->layout);
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
	m->daemon = d;
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
	metrics_layout_free(m->layout);
	metrics_labels_free(&m->labels);
	free(m);
}
