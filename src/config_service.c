/* config_service.c: the services list, its servers and health checks. */
#include <sys/socket.h>

#include <ctype.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "util.h"

static const char *const config_service_keys[] = { "name", "vip", "port",
    "forward", "scheduler", "protocol", "health", "servers", "quic",
    "quic_lb", "udp_timeout_s", "udp_stream_timeout_s", NULL };
static const char *const config_health_keys[] = { "check", "interval_ms",
    "timeout_ms", "rise", "fall", "initial", "port", "method", "path",
    "status", "host", "send", "expect", NULL };
static const char *const config_http_keys[] = { "method", "path", "status",
    "host", NULL };
static const char *const config_udp_keys[] = { "send", "expect", NULL };
static const char *const config_initial_words[] = { "down", "up", NULL };
static const char *const config_server_keys[] = { "address", "weight",
    "quic_server_id", NULL };
static const char *const config_quic_lb_keys[] = { "rotation",
    "server_id_len", "nonce_len", "self_describe", "key", NULL };

/* Service names: 1..CONF_NAME_MAX of [A-Za-z0-9_.-]. */
static int
config_valid_name(const char *s)
{
	size_t	len = strlen(s), i;

	if (len == 0 || len > CONF_NAME_MAX)
		return (0);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '.' && s[i] != '-')
			return (0);
	return (1);
}

/*
 * An HTTP token (method) is 1..CONF_HTTP_METHOD_MAX of A-Z; a path starts
 * with "/", a host is not empty; both printable ASCII without space, '"'
 * or '\' (so that a request line and config_dump() need no escaping).
 */
static int
config_http_chars(const char *s, size_t max, int upper)
{
	size_t	len = strlen(s), i;

	if (len == 0 || len > max)
		return (0);
	for (i = 0; i < len; i++) {
		if (upper ? (s[i] < 'A' || s[i] > 'Z') :
		    (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\\'))
			return (0);
	}
	return (1);
}

/* One string key of the http check into buf (size max + 1). */
static int
config_http_str(struct config_ctx *ctx, const config_setting_t *g,
    const char *key, char *buf, size_t max, int upper, const char *what)
{
	const char	*v = NULL;

	if (config_get_str(ctx, g, key, &v) == -1)
		return (-1);
	if (v == NULL)
		return (0);
	if (!config_http_chars(v, max, upper) ||
	    (strcmp(key, "path") == 0 && v[0] != '/'))
		return (config_err(ctx, config_member(g, key), "%s: \"%s\" "
		    "must be %s", key, v, what));
	util_strlcpy(buf, v, max + 1);
	return (0);
}

/* status = 200; or status = "200-399"; (100..599). */
static int
config_http_status(struct config_ctx *ctx, const config_setting_t *g,
    struct health_conf *h)
{
	const config_setting_t	*s = config_member(g, "status");
	const char		*v;
	char			*end;
	long			 a, b;

	if (s == NULL)
		return (0);
	if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64) {
		a = b = (long)config_setting_get_int64(s);
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
		a = strtol(v, &end, 10);
		b = a;
		if (end == v || (*end != '\0' && *end != '-'))
			a = -1;
		else if (*end == '-') {
			v = end + 1;
			b = strtol(v, &end, 10);
			if (end == v || *end != '\0')
				a = -1;
		}
	} else
		return (config_err(ctx, s, "status: expected an integer or a "
		    "string \"MIN-MAX\", not %s", config_type_name(s)));
	if (a < 100 || b > 599 || a > b)
		return (config_err(ctx, s, "status: expected an HTTP status "
		    "100..599 or a range \"MIN-MAX\" within it (e.g. 200 or "
		    "\"200-399\")"));
	h->status_min = (uint16_t)a;
	h->status_max = (uint16_t)b;
	return (0);
}

/* -1 (an error at the first) if g has any of keys, which need check want. */
static int
config_only_with(struct config_ctx *ctx, const config_setting_t *g,
    const char *const *keys, int want, int check)
{
	const config_setting_t	*s;
	int			 i;

	for (i = 0; keys[i] != NULL; i++)
		if ((s = config_member(g, keys[i])) != NULL)
			return (config_err(ctx, s, "%s: only with check = "
			    "\"%s\" (check is \"%s\")", keys[i],
			    config_check_words[want], config_check_words[check]));
	return (0);
}

/* method, path, status, host: with check = "http" only. */
static int
config_parse_http(struct config_ctx *ctx, const config_setting_t *g,
    struct health_conf *h)
{
	if (h->check != CHECK_HTTP)
		return (config_only_with(ctx, g, config_http_keys, CHECK_HTTP,
		    h->check));
	if (config_http_str(ctx, g, "method", h->method, CONF_HTTP_METHOD_MAX,
	    1, "1..16 upper-case letters (e.g. \"GET\", \"HEAD\")") == -1 ||
	    config_http_str(ctx, g, "path", h->path, CONF_HTTP_PATH_MAX, 0,
	    "1..255 printable characters, beginning with \"/\", without "
	    "space, '\"' or '\\'") == -1 ||
	    config_http_str(ctx, g, "host", h->host, CONF_HTTP_HOST_MAX, 0,
	    "1..255 printable characters without space, '\"' or '\\'") == -1)
		return (-1);
	return (config_http_status(ctx, g, h));
}

/* The value of one hex digit, -1 if c is none. */
static int
config_hex(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

int
config_unescape(const char *s, uint8_t *out, size_t max, size_t *bad)
{
	size_t	i = 0, n = 0;
	int	hi, lo, c;

	while (s[i] != '\0') {
		*bad = i;
		if (n == max)
			return (-2);
		if (s[i] != '\\') {
			out[n++] = (uint8_t)s[i++];
			continue;
		}
		switch (s[i + 1]) {
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case '\\':
			c = '\\';
			break;
		case 'x':
			if ((hi = config_hex(s[i + 2])) == -1 ||
			    (lo = config_hex(s[i + 3])) == -1)
				return (-1);
			out[n++] = (uint8_t)(hi << 4 | lo);
			i += 4;
			continue;
		default:
			return (-1);
		}
		out[n++] = (uint8_t)c;
		i += 2;
	}
	return ((int)n);
}

/* send or expect of check = "udp" into buf, its length into *len. */
static int
config_udp_bytes(struct config_ctx *ctx, const config_setting_t *g,
    const char *key, uint8_t *buf, uint16_t *len)
{
	const char	*v = NULL;
	size_t		 bad = 0;
	int		 n;

	if (config_get_str(ctx, g, key, &v) == -1)
		return (-1);
	if (v == NULL)
		return (0);
	if ((n = config_unescape(v, buf, CONF_UDP_PAYLOAD_MAX, &bad)) < 0) {
		memset(buf, 0, CONF_UDP_PAYLOAD_MAX);
		if (n == -2)
			return (config_err(ctx, config_member(g, key), "%s: "
			    "longer than %d bytes", key, CONF_UDP_PAYLOAD_MAX));
		return (config_err(ctx, config_member(g, key), "%s: bad escape "
		    "\"%.4s\" at offset %zu (\\xNN with two hex digits, "
		    "\\n, \\r, \\t or \\\\; in the file a backslash is "
		    "written \\\\)", key, v + bad, bad));
	}
	*len = (uint16_t)n;
	return (0);
}

/* issue 22: send and expect, with check = "udp" only. */
static int
config_parse_udp(struct config_ctx *ctx, const config_setting_t *g,
    struct health_conf *h)
{
	if (h->check != CHECK_UDP)
		return (config_only_with(ctx, g, config_udp_keys, CHECK_UDP,
		    h->check));
	if (config_udp_bytes(ctx, g, "send", h->send, &h->sendlen) == -1 ||
	    config_udp_bytes(ctx, g, "expect", h->expect, &h->expectlen) == -1)
		return (-1);
	return (0);
}

static int
config_parse_health(struct config_ctx *ctx, const config_setting_t *sg,
    struct health_conf *h, const char *label)
{
	const config_setting_t	*g;
	char			 where[CONF_LABEL_MAX + 16];
	int			 check = (int)h->check, initial = h->initial_up;

	if (config_get_aggr(ctx, sg, "health", CONFIG_TYPE_GROUP, &g) == -1)
		return (-1);
	if (g == NULL)
		return (0);
	snprintf(where, sizeof(where), "in health of %s", label);
	if (config_check_keys(ctx, g, config_health_keys, where) == -1 ||
	    config_get_enum(ctx, g, "check", config_check_words,
	    "health check", &check) == -1 ||
	    config_get_u32(ctx, g, "interval_ms", 100, 3600000, NULL,
	    &h->interval_ms) == -1)
		return (-1);
	h->check = (enum conf_check)check;
	if (config_member(g, "timeout_ms") == NULL &&
	    h->timeout_ms > h->interval_ms)
		return (config_err(ctx, config_member(g, "interval_ms"),
		    "interval_ms: %u is shorter than the default timeout_ms "
		    "%u: set timeout_ms", h->interval_ms, h->timeout_ms));
	if (config_get_u32(ctx, g, "timeout_ms", 10, h->interval_ms,
	    "at most interval_ms", &h->timeout_ms) == -1 ||
	    config_get_u32(ctx, g, "rise", 1, 100, NULL, &h->rise) == -1 ||
	    config_get_u32(ctx, g, "fall", 1, 100, NULL, &h->fall) == -1 ||
	    config_get_enum(ctx, g, "initial", config_initial_words,
	    "initial state", &initial) == -1 ||
	    (config_member(g, "port") != NULL &&
	    config_get_port(ctx, g, "port", &h->port) == -1) ||
	    config_parse_http(ctx, g, h) == -1 ||
	    config_parse_udp(ctx, g, h) == -1)
		return (-1);
	h->initial_up = initial;
	return (0);
}

/*
 * key = "..."; with bytes escaped twice: for config_unescape() (\xNN,
 * \\) and then for libconfig (each backslash doubled, '"' escaped).
 */
static void
config_dump_bytes(FILE *fp, const char *key, const uint8_t *b, size_t len)
{
	size_t	i;

	fprintf(fp, " %s = \"", key);
	for (i = 0; i < len; i++) {
		if (b[i] == '\\')
			fputs("\\\\\\\\", fp);
		else if (b[i] == '"')
			fputs("\\\"", fp);
		else if (b[i] < ' ' || b[i] > '~')
			fprintf(fp, "\\\\x%02x", b[i]);
		else
			fputc(b[i], fp);
	}
	fputs("\";", fp);
}

void
config_dump_health(const struct health_conf *h, FILE *fp)
{
	fprintf(fp, "    health = { check = \"%s\"; interval_ms = %u; "
	    "timeout_ms = %u; rise = %u; fall = %u;\n      initial = \"%s\";",
	    config_check_words[h->check], h->interval_ms, h->timeout_ms,
	    h->rise, h->fall, config_initial_words[h->initial_up != 0]);
	if (h->port != 0)
		fprintf(fp, " port = %u;", h->port);
	if (h->check == CHECK_HTTP) {
		fprintf(fp, " method = \"%s\"; path = \"%s\";", h->method,
		    h->path);
		if (h->status_min == h->status_max)
			fprintf(fp, " status = %u;", h->status_min);
		else
			fprintf(fp, " status = \"%u-%u\";", h->status_min,
			    h->status_max);
		if (h->host[0] != '\0')
			fprintf(fp, " host = \"%s\";", h->host);
	}
	if (h->check == CHECK_UDP) {
		config_dump_bytes(fp, "send", h->send, h->sendlen);
		if (h->expectlen > 0)
			config_dump_bytes(fp, "expect", h->expect,
			    h->expectlen);
	}
	fputs(" };\n", fp);
}

/* With DSR the server gets the VIP's packet as is: one family only. */
static int
config_check_family(struct config_ctx *ctx, const config_setting_t *e,
    const struct service_conf *sv, const struct server_conf *srv,
    const char *label)
{
	char	a[ILB_ADDRSTRLEN], v[ILB_ADDRSTRLEN];

	if (sv->forward != FORWARD_DSR || srv->addr.family == sv->vip.family)
		return (0);
	return (config_err(ctx, e, "server %s is %s but the vip %s of %s is "
	    "%s: forward \"dsr\" cannot mix address families (use forward = "
	    "\"gre\")", util_addr_fmt(&srv->addr, a, sizeof(a)),
	    srv->addr.family == AF_INET ? "IPv4" : "IPv6",
	    util_addr_fmt(&sv->vip, v, sizeof(v)), label,
	    sv->vip.family == AF_INET ? "IPv4" : "IPv6"));
}

/* One hex digit's value, or -1. */
static int
config_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * quic_server_id = "0a01"; on a server of a quic service (required there,
 * refused elsewhere): hex, server_id_len octets (the service's quic_lb).
 */
static int
config_parse_quic_sid(struct config_ctx *ctx, const config_setting_t *e,
    const struct service_conf *sv, struct server_conf *srv,
    const char *label)
{
	const config_setting_t	*s = config_member(e, "quic_server_id");
	const char		*v = NULL;
	size_t			 len, i, want;
	int			 hi, lo;

	if (!sv->quic) {
		if (s != NULL)
			return (config_err(ctx, s, "quic_server_id: only on "
			    "a server of a service with quic = true (%s)",
			    label));
		return (0);
	}
	if (s == NULL)
		return (config_err(ctx, e, "missing \"quic_server_id\" on a "
		    "server of %s (quic = true)", label));
	if (config_get_str(ctx, e, "quic_server_id", &v) == -1)
		return (-1);
	want = sv->quic_lb[0].sid_len;
	len = strlen(v);
	if (len != 2 * want)
		return (config_err(ctx, s, "quic_server_id: \"%s\" must be %zu "
		    "hex digits (server_id_len %zu of quic_lb in %s)", v,
		    2 * want, want, label));
	for (i = 0; i < want; i++) {
		if ((hi = config_hexval(v[2 * i])) == -1 ||
		    (lo = config_hexval(v[2 * i + 1])) == -1)
			return (config_err(ctx, s, "quic_server_id: \"%s\" is "
			    "not hexadecimal", v));
		srv->quic_sid[i] = (uint8_t)(hi << 4 | lo);
	}
	srv->quic_sid_len = (uint8_t)want;
	return (0);
}

/* One item of quic_lb into c. */
static int
config_parse_quic_conf(struct config_ctx *ctx, const config_setting_t *e,
    int idx, struct quic_lb_conf *c, const char *label)
{
	char		where[CONF_LABEL_MAX + 32];
	uint32_t	cr = 0, sl = 0, nl = 0;
	int		self = 0;

	snprintf(where, sizeof(where), "in quic_lb %d of %s", idx + 1, label);
	if (config_setting_type(e) != CONFIG_TYPE_GROUP)
		return (config_err(ctx, e, "quic_lb: item %d of %s is %s, "
		    "expected a group { rotation = ...; }", idx + 1, label,
		    config_type_name(e)));
	if (config_check_keys(ctx, e, config_quic_lb_keys, where) == -1)
		return (-1);
	if (config_member(e, "key") != NULL)
		return (config_err(ctx, config_member(e, "key"), "key %s: "
		    "encrypted QUIC-LB connection IDs are not supported "
		    "(plaintext only: remove the key)", where));
	if (config_member(e, "server_id_len") == NULL ||
	    config_member(e, "nonce_len") == NULL)
		return (config_err(ctx, e, "missing \"%s\" %s",
		    config_member(e, "server_id_len") == NULL ?
		    "server_id_len" : "nonce_len", where));
	if (config_get_u32(ctx, e, "rotation", 0, QUIC_LB_CR_MAX, NULL,
	    &cr) == -1 ||
	    config_get_u32(ctx, e, "server_id_len", QUIC_LB_SID_MIN,
	    QUIC_LB_SID_MAX, NULL, &sl) == -1 ||
	    config_get_u32(ctx, e, "nonce_len", QUIC_LB_NONCE_MIN,
	    QUIC_LB_PLAIN_MAX - QUIC_LB_SID_MIN, NULL, &nl) == -1 ||
	    config_get_bool(ctx, e, "self_describe", &self) == -1)
		return (-1);
	memset(c, 0, sizeof(*c));
	c->cr = (uint8_t)cr;
	c->sid_len = (uint8_t)sl;
	c->nonce_len = (uint8_t)nl;
	c->len_self = self != 0;
	return (0);
}

/*
 * issue 22: idle timeouts per service. udp_timeout_s and
 * udp_stream_timeout_s of a UDP service override the tables' (0 here:
 * those apply, and follow them through reloads); a TCP service has none.
 */
static int
config_parse_udp_timeouts(struct config_ctx *ctx, const config_setting_t *sg,
    struct service_conf *sv, const char *label)
{
	static const char *const	 keys[] = { "udp_timeout_s",
					    "udp_stream_timeout_s" };
	const config_setting_t		*s;
	unsigned int			 i;

	if (sv->protocol != PROTO_UDP) {
		for (i = 0; i < 2; i++)
			if ((s = config_member(sg, keys[i])) != NULL)
				return (config_err(ctx, s, "%s: only with "
				    "protocol = \"udp\" (%s is %s)", keys[i],
				    label, config_proto_name(sv->protocol)));
		return (0);
	}
	/* The ranges of tables.udp_timeout_s, udp_stream_timeout_s. */
	return (config_get_u32(ctx, sg, "udp_timeout_s", 1, 3600, NULL,
	    &sv->udp_timeout_s) == -1 ||
	    config_get_u32(ctx, sg, "udp_stream_timeout_s", 1, 604800, NULL,
	    &sv->udp_stream_timeout_s) == -1 ? -1 : 0);
}

/*
 * quic = true; and its quic_lb list (issue 22): UDP services only, 1..7
 * plaintext configurations that quic_lb_conf_check() accepts, one server
 * ID length for all (a server has one ID).
 */
static int
config_parse_quic(struct config_ctx *ctx, const config_setting_t *sg,
    struct service_conf *sv, const char *label)
{
	const config_setting_t	*q = config_member(sg, "quic"), *l;
	char			*cause = NULL;
	int			 quic = 0, i, n;

	if (config_get_bool(ctx, sg, "quic", &quic) == -1 ||
	    config_get_aggr(ctx, sg, "quic_lb", CONFIG_TYPE_LIST, &l) == -1)
		return (-1);
	if (quic && sv->protocol != PROTO_UDP)
		return (config_err(ctx, q, "quic: only with protocol = "
		    "\"udp\" (%s is %s)", label,
		    config_proto_name(sv->protocol)));
	if (!quic) {
		if (l != NULL)
			return (config_err(ctx, l, "quic_lb: only with quic = "
			    "true (%s)", label));
		return (0);
	}
	if (l == NULL || (n = config_setting_length(l)) == 0)
		return (config_err(ctx, l != NULL ? l : q, "quic = true needs "
		    "at least one configuration in quic_lb (%s)", label));
	if (n > QUIC_LB_CONF_MAX)
		return (config_err(ctx, config_setting_get_elem(l,
		    QUIC_LB_CONF_MAX), "quic_lb: %d configurations in %s, at "
		    "most %d", n, label, QUIC_LB_CONF_MAX));
	for (i = 0; i < n; i++) {
		if (config_parse_quic_conf(ctx, config_setting_get_elem(l,
		    (unsigned int)i), i, &sv->quic_lb[i], label) == -1)
			return (-1);
		if (sv->quic_lb[i].sid_len != sv->quic_lb[0].sid_len)
			return (config_err(ctx, config_setting_get_elem(l,
			    (unsigned int)i), "quic_lb: server_id_len %u in "
			    "item %d of %s, but %u in item 1: a server has "
			    "one quic_server_id", sv->quic_lb[i].sid_len,
			    i + 1, label, sv->quic_lb[0].sid_len));
	}
	if (quic_lb_conf_check(sv->quic_lb, (size_t)n, &cause) == -1) {
		config_err(ctx, l, "quic_lb of %s: %s", label,
		    cause != NULL ? cause : "invalid");
		free(cause);
		return (-1);
	}
	sv->quic = 1;
	sv->nquic_lb = (unsigned int)n;
	return (0);
}

/* Server i of a quic service must not repeat a server ID of 0..i-1. */
static int
config_quic_sid_dup(struct config_ctx *ctx, const config_setting_t *l, int i,
    const struct service_conf *sv, const char *label)
{
	const struct server_conf	*b = &sv->servers[i];
	char				 w[PATH_MAX + 16];
	int				 j;

	if (!sv->quic)
		return (0);
	for (j = 0; j < i; j++) {
		if (memcmp(sv->servers[j].quic_sid, b->quic_sid,
		    b->quic_sid_len) != 0)
			continue;
		return (config_err(ctx, config_setting_get_elem(l,
		    (unsigned int)i), "duplicate quic_server_id in %s (first "
		    "at %s)", label, config_where(config_setting_get_elem(l,
		    (unsigned int)j), config_setting_get_elem(l,
		    (unsigned int)i), w, sizeof(w))));
	}
	return (0);
}

void
config_dump_quic(const struct service_conf *sv, FILE *fp)
{
	const struct quic_lb_conf	*c;
	unsigned int			 i;

	if (!sv->quic)
		return;
	fputs("    quic = true;\n    quic_lb = (\n", fp);
	for (i = 0; i < sv->nquic_lb; i++) {
		c = &sv->quic_lb[i];
		fprintf(fp, "      { rotation = %u; server_id_len = %u; "
		    "nonce_len = %u; self_describe = %s; }%s\n", c->cr,
		    c->sid_len, c->nonce_len, c->len_self ? "true" : "false",
		    i + 1 < sv->nquic_lb ? "," : "");
	}
	fputs("    );\n", fp);
}

void
config_dump_quic_sid(const struct server_conf *srv, FILE *fp)
{
	unsigned int	i;

	if (srv->quic_sid_len == 0)
		return;
	fputs(" quic_server_id = \"", fp);
	for (i = 0; i < srv->quic_sid_len; i++)
		fprintf(fp, "%02x", srv->quic_sid[i]);
	fputs("\";", fp);
}

static int
config_parse_server(struct config_ctx *ctx, const config_setting_t *e,
    int idx, struct service_conf *sv, const char *label)
{
	struct server_conf	*srv = &sv->servers[idx];
	char			 where[CONF_LABEL_MAX + 32];

	snprintf(where, sizeof(where), "in server %d of %s", idx + 1, label);
	if (config_setting_type(e) != CONFIG_TYPE_GROUP)
		return (config_err(ctx, e, "servers: item %d of %s is %s, "
		    "expected a group { address = ...; }", idx + 1, label,
		    config_type_name(e)));
	srv->line = config_setting_source_line(e);
	srv->weight = 1;
	if (config_check_keys(ctx, e, config_server_keys, where) == -1)
		return (-1);
	if (config_member(e, "address") == NULL)
		return (config_err(ctx, e, "missing \"address\" %s", where));
	if (config_get_addr(ctx, e, "address", 1, &srv->addr) == -1 ||
	    config_get_u32(ctx, e, "weight", 0, 1000, NULL, &srv->weight) == -1 ||
	    config_parse_quic_sid(ctx, e, sv, srv, label) == -1)
		return (-1);
	return (config_check_family(ctx, e, sv, srv, label));
}

/* Server i must not repeat an address of servers 0..i-1. */
static int
config_server_dup(struct config_ctx *ctx, const config_setting_t *l, int i,
    const struct service_conf *sv, const char *label)
{
	const config_setting_t	*e = config_setting_get_elem(l,
				    (unsigned int)i);
	char			 a[ILB_ADDRSTRLEN], w[PATH_MAX + 16];
	int			 j;

	for (j = 0; j < i; j++) {
		if (!util_addr_eq(&sv->servers[j].addr, &sv->servers[i].addr))
			continue;
		return (config_err(ctx, e, "duplicate server %s in %s (first "
		    "at %s)", util_addr_fmt(&sv->servers[i].addr, a,
		    sizeof(a)), label, config_where(config_setting_get_elem(l,
		    (unsigned int)j), e, w, sizeof(w))));
	}
	return (0);
}

static int
config_parse_servers(struct config_ctx *ctx, const config_setting_t *sg,
    struct service_conf *sv, const char *label)
{
	const config_setting_t	*l;
	int			 i, n;

	if (config_get_aggr(ctx, sg, "servers", CONFIG_TYPE_LIST, &l) == -1)
		return (-1);
	if (l == NULL)
		return (config_err(ctx, sg, "missing \"servers\" in %s", label));
	if ((n = config_setting_length(l)) == 0)
		return (config_err(ctx, l, "%s has no servers", label));
	if (n > CONF_SERVERS_MAX)
		return (config_err(ctx, config_setting_get_elem(l,
		    CONF_SERVERS_MAX), "too many servers in %s (%d, at most "
		    "%d)", label, n, CONF_SERVERS_MAX));
	if ((sv->servers = calloc((size_t)n, sizeof(*sv->servers))) == NULL)
		return (config_err(ctx, l, "out of memory"));
	sv->nservers = (unsigned int)n;
	for (i = 0; i < n; i++) {
		if (config_parse_server(ctx, config_setting_get_elem(l,
		    (unsigned int)i), i, sv, label) == -1 ||
		    config_server_dup(ctx, l, i, sv, label) == -1 ||
		    config_quic_sid_dup(ctx, l, i, sv, label) == -1)
			return (-1);
	}
	return (0);
}

/* 'service "web"' when the name is usable, else 'service 3'. */
static void
config_service_label(const config_setting_t *e, int idx, char *buf,
    size_t len)
{
	const config_setting_t	*s = config_member(e, "name");

	if (s != NULL && config_setting_type(s) == CONFIG_TYPE_STRING &&
	    config_valid_name(config_setting_get_string(s)))
		snprintf(buf, len, "service \"%s\"",
		    config_setting_get_string(s));
	else
		snprintf(buf, len, "service %d", idx + 1);
}

static int
config_service_required(struct config_ctx *ctx, const config_setting_t *e,
    const char *label)
{
	static const char *const req[] = { "name", "vip", "port", NULL };
	int			 i;

	for (i = 0; req[i] != NULL; i++)
		if (config_member(e, req[i]) == NULL)
			return (config_err(ctx, e, "missing \"%s\" in %s",
			    req[i], label));
	return (0);
}

static int
config_parse_service(struct config_ctx *ctx, const config_setting_t *e,
    int idx, struct service_conf *sv)
{
	char		 label[CONF_LABEL_MAX], where[CONF_LABEL_MAX + 8];
	const char	*name = NULL;
	int		 fwd = FORWARD_DSR, sched = SCHED_WLC, proto = PROTO_TCP;

	if (config_setting_type(e) != CONFIG_TYPE_GROUP)
		return (config_err(ctx, e, "services: item %d is %s, expected "
		    "a group { name = ...; }", idx + 1, config_type_name(e)));
	config_service_label(e, idx, label, sizeof(label));
	sv->line = config_setting_source_line(e);
	sv->health = (struct health_conf){ .check = CHECK_TCP,
	    .interval_ms = 1000, .timeout_ms = 500, .rise = 2, .fall = 3,
	    .initial_up = 0, .port = 0, .status_min = 200, .status_max = 200,
	    .method = "GET", .path = "/" };
	snprintf(where, sizeof(where), "in %s", label);
	if (config_check_keys(ctx, e, config_service_keys, where) == -1 ||
	    config_service_required(ctx, e, label) == -1 ||
	    config_get_str(ctx, e, "name", &name) == -1)
		return (-1);
	if (!config_valid_name(name))
		return (config_err(ctx, config_member(e, "name"), "name: \"%s\" "
		    "must be 1..%d characters of A-Z a-z 0-9 _ . -", name,
		    CONF_NAME_MAX));
	util_strlcpy(sv->name, name, sizeof(sv->name));
	if (config_get_addr(ctx, e, "vip", 1, &sv->vip) == -1 ||
	    config_get_port(ctx, e, "port", &sv->port) == -1 ||
	    config_get_enum(ctx, e, "forward", config_forward_words,
	    "forward method", &fwd) == -1 ||
	    config_get_enum(ctx, e, "scheduler", config_sched_words,
	    "scheduler", &sched) == -1 ||
	    config_get_enum(ctx, e, "protocol", config_proto_words,
	    "protocol", &proto) == -1)
		return (-1);
	sv->protocol = (enum conf_proto)proto;
	/*
	 * issue 22: a UDP probe needs a payload that depends on the
	 * protocol served, and a TCP check of a UDP port always fails:
	 * without a check key, a UDP service's servers are considered up.
	 */
	if (sv->protocol == PROTO_UDP)
		sv->health.check = CHECK_NONE;
	sv->forward = (enum conf_forward)fwd;
	sv->scheduler = (enum conf_sched)sched;
	if (config_parse_health(ctx, e, &sv->health, label) == -1 ||
	    config_parse_udp_timeouts(ctx, e, sv, label) == -1 ||
	    config_parse_quic(ctx, e, sv, label) == -1)
		return (-1);
	return (config_parse_servers(ctx, e, sv, label));
}

/*
 * Service i must not repeat the name or vip, port and protocol of services
 * 0..i-1: a TCP and a UDP service may share a VIP and port.
 */
static int
config_service_dup(struct config_ctx *ctx, const config_setting_t *l, int i)
{
	const struct service_conf	*a, *b = &ctx->conf->services[i];
	const config_setting_t		*e = config_setting_get_elem(l,
					    (unsigned int)i), *p;
	char				 w[PATH_MAX + 16], v[ILB_ADDRSTRLEN];
	int				 j;

	for (j = 0; j < i; j++) {
		a = &ctx->conf->services[j];
		p = config_setting_get_elem(l, (unsigned int)j);
		if (strcmp(a->name, b->name) == 0)
			return (config_err(ctx, e, "duplicate service name "
			    "\"%s\" (first defined at %s)", b->name,
			    config_where(p, e, w, sizeof(w))));
		if (a->port == b->port && a->protocol == b->protocol &&
		    util_addr_eq(&a->vip, &b->vip))
			return (config_err(ctx, e, "service \"%s\": vip %s "
			    "port %u %s is already used by service \"%s\" "
			    "(at %s)", b->name, util_addr_fmt(&b->vip, v,
			    sizeof(v)), b->port, config_proto_name(b->protocol),
			    a->name, config_where(p, e, w, sizeof(w))));
	}
	return (0);
}

int
config_parse_services(struct config_ctx *ctx, const config_setting_t *root)
{
	struct ilbd_conf	*conf = ctx->conf;
	const config_setting_t	*l;
	int			 i, n;

	if (config_get_aggr(ctx, root, "services", CONFIG_TYPE_LIST, &l) == -1)
		return (-1);
	if (l == NULL || (n = config_setting_length(l)) == 0)
		return (0);
	if (n > CONF_SERVICES_MAX)
		return (config_err(ctx, config_setting_get_elem(l,
		    CONF_SERVICES_MAX), "too many services (%d, at most %d)",
		    n, CONF_SERVICES_MAX));
	if ((conf->services = calloc((size_t)n, sizeof(*conf->services))) ==
	    NULL)
		return (config_err(ctx, l, "out of memory"));
	conf->nservices = (unsigned int)n;
	for (i = 0; i < n; i++) {
		if (config_parse_service(ctx, config_setting_get_elem(l,
		    (unsigned int)i), i, &conf->services[i]) == -1 ||
		    config_service_dup(ctx, l, i) == -1)
			return (-1);
	}
	return (0);
}
