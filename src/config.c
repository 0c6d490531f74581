/* config.c: load ilbd.conf with libconfig into a validated struct ilbd_conf. */
#include <sys/socket.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "be.h"
#include "config.h"
#include "config_int.h"
#include "util.h"

#define CONF_DEFAULT_KEY	"/etc/ilbd/cluster.key"
#define CONF_DEFAULT_SOCKET	"/run/ilbd/ilbd.sock"
#define CONF_DEFAULT_DEVICE	"ilb0"
#define CONF_DEFAULT_GROUP	"239.192.0.1"
#define CONF_DEFAULT_METRICS	"127.0.0.1"
#define CONF_DEFAULT_STATE_DIR	"/var/lib/ilbd"

static const char *const config_top_keys[] = { "node", "cluster", "input",
    "tables", "control", "metrics", "services", "announce", "icmp", NULL };
static const char *const config_node_keys[] = { "id", "interface",
    "address", "user", "state_dir", NULL };
static const char *const config_cluster_keys[] = { "group", "port",
    "hello_ms", "dead_ms", "key_file", "authenticate", "scoring", "peers",
    "key_file_next", NULL };
static const char *const config_input_keys[] = { "mode", "device",
    "xdp_mode", "queues", "workers", NULL };
static const char *const config_tables_keys[] = { "ltoc_size", "cache_size",
    "tcp_timeout_s", "fin_timeout_s", "syn_timeout_s", "udp_timeout_s",
    "udp_stream_timeout_s", "udp_replicate_ms", NULL };
static const char *const config_control_keys[] = { "socket", "socket_ro",
    NULL };
static const char *const config_metrics_keys[] = { "listen", NULL };
static const char *const config_announce_keys[] = { "table", "drain_ms",
    NULL };

/* Config words, indexed by their enum values. */
static const char *const config_scoring_words[] = { "crc32c-mix", "crc32",
    "keyed", NULL };
static const char *const config_input_words[] = { "tun", "pcap", "xdp",
    NULL };
static const char *const config_xdp_mode_words[] = { "auto", "native", "skb",
    NULL };
const char *const config_forward_words[] = { "dsr", "gre", NULL };
const char *const config_proto_words[] = { "tcp", "udp", NULL };
const char *const config_sched_words[] = { "rr", "wrr", "lc", "wlc",
    "hash", NULL };
const char *const config_check_words[] = { "tcp", "none", "http", "udp",
    NULL };

/* Record the first error as "FILE:LINE: message"; always returns -1. */
int
config_err(struct config_ctx *ctx, const config_setting_t *s,
    const char *fmt, ...)
{
	va_list		 ap;
	const char	*file = NULL;
	char		*msg = NULL;
	int		 line = 0;

	if (ctx->cause != NULL)
		return (-1);
	if (s != NULL) {
		file = config_setting_source_file(s);
		line = config_setting_source_line(s);
	}
	if (file == NULL)
		file = ctx->path;
	if (line <= 0)
		line = 1;
	va_start(ap, fmt);
	util_vcause(&msg, fmt, ap);
	va_end(ap);
	util_cause(&ctx->cause, "%s:%d: %s", file, line,
	    msg != NULL ? msg : "out of memory");
	free(msg);
	return (-1);
}

/* "line N", or "FILE:N" when s lives in another file than ref. */
const char *
config_where(const config_setting_t *s, const config_setting_t *ref,
    char *buf, size_t len)
{
	const char	*f = config_setting_source_file(s);
	const char	*rf = config_setting_source_file(ref);

	if (f != NULL && rf != NULL && strcmp(f, rf) != 0)
		snprintf(buf, len, "%s:%d", f, config_setting_source_line(s));
	else
		snprintf(buf, len, "line %d", config_setting_source_line(s));
	return (buf);
}

const char *
config_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return ("a group");
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return ("an integer");
	case CONFIG_TYPE_FLOAT:
		return ("a float");
	case CONFIG_TYPE_STRING:
		return ("a string");
	case CONFIG_TYPE_BOOL:
		return ("a boolean");
	case CONFIG_TYPE_ARRAY:
		return ("an array");
	case CONFIG_TYPE_LIST:
		return ("a list");
	default:
		return ("nothing");
	}
}

/* Edit distance of two short words, for "did you mean". */
static int
config_distance(const char *a, const char *b)
{
	int	row[CONF_NAME_MAX + 1], la, lb, i, j, prev, tmp, best;

	la = (int)strlen(a);
	lb = (int)strlen(b);
	if (la > CONF_NAME_MAX || lb > CONF_NAME_MAX)
		return (INT_MAX);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return (row[lb]);
}

/* The closest known word to s, or NULL if none is close. */
static const char *
config_suggest(const char *s, const char *const *words)
{
	const char	*best = NULL;
	int		 d, bestd = 3;

	for (; *words != NULL; words++) {
		d = config_distance(s, *words);
		if (d < bestd && d < (int)strlen(*words)) {
			bestd = d;
			best = *words;
		}
	}
	return (best);
}

static int
config_word_index(const char *s, const char *const *words)
{
	int	i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(s, words[i]) == 0)
			return (i);
	return (-1);
}

/* Reject members of g not in keys; where reads "in node" etc. */
int
config_check_keys(struct config_ctx *ctx, const config_setting_t *g,
    const char *const *keys, const char *where)
{
	const config_setting_t	*s;
	const char		*name, *hint;
	int			 i, n;

	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned int)i);
		name = config_setting_name(s);
		if (name == NULL || config_word_index(name, keys) != -1)
			continue;
		if ((hint = config_suggest(name, keys)) != NULL)
			return (config_err(ctx, s, "unknown key \"%s\" %s "
			    "(did you mean \"%s\"?)", name, where, hint));
		return (config_err(ctx, s, "unknown key \"%s\" %s", name,
		    where));
	}
	return (0);
}

const config_setting_t *
config_member(const config_setting_t *g, const char *name)
{
	if (g == NULL)
		return (NULL);
	return (config_setting_get_member(g, name));
}

/* An optional integer in min..max; *v holds the default on entry. */
static int
config_get_int(struct config_ctx *ctx, const config_setting_t *g,
    const char *name, long long min, long long max, const char *note,
    long long *v)
{
	const config_setting_t	*s;
	long long		 x;

	if ((s = config_member(g, name)) == NULL)
		return (0);
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return (config_err(ctx, s, "%s: expected an integer, not %s",
		    name, config_type_name(s)));
	x = config_setting_get_int64(s);
	if (x < min || x > max)
		return (config_err(ctx, s, "%s: %lld is out of range "
		    "%lld..%lld%s%s%s", name, x, min, max,
		    note != NULL ? " (" : "", note != NULL ? note : "",
		    note != NULL ? ")" : ""));
	*v = x;
	return (0);
}

int
config_get_u32(struct config_ctx *ctx, const config_setting_t *g,
    const char *name, long long min, long long max, const char *note,
    uint32_t *v)
{
	long long	x = *v;

	if (config_get_int(ctx, g, name, min, max, note, &x) == -1)
		return (-1);
	*v = (uint32_t)x;
	return (0);
}

int
config_get_port(struct config_ctx *ctx, const config_setting_t *g,
    const char *name, uint16_t *v)
{
	long long	x = *v;

	if (config_get_int(ctx, g, name, 1, 65535, NULL, &x) == -1)
		return (-1);
	*v = (uint16_t)x;
	return (0);
}

int
config_get_bool(struct config_ctx *ctx, const config_setting_t *g,
    const char *name, int *v)
{
	const config_setting_t	*s;

	if ((s = config_member(g, name)) == NULL)
		return (0);
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return (config_err(ctx, s, "%s: expected true or false, "
		    "not %s", name, config_type_name(s)));
	*v = config_setting_get_bool(s);
	return (0);
}

/* An optional string; *v is left alone (the default) when absent. */
int
config_get_str(struct config_ctx *ctx, const config_setting_t *g,
    const char *name, const char **v)
{
	const config_setting_t	*s;

	if ((s = config_member(g, name)) == NULL)
		return (0);
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return (config_err(ctx, s, "%s: expected a string, not %s",
		    name, config_type_name(s)));
	*v = config_setting_get_string(s);
	return (0);
}

/* An optional aggregate of the given type; *out is NULL when absent. */
int
config_get_aggr(struct config_ctx *ctx, const config_setting_t *g,
    const char *name, int type, const config_setting_t **out)
{
	const config_setting_t	*s;

	*out = NULL;
	if ((s = config_member(g, name)) == NULL)
		return (0);
	if (config_setting_type(s) != type)
		return (config_err(ctx, s, "%s: expected %s, not %s", name,
		    type == CONFIG_TYPE_GROUP ? "a group { ... }" :
		    "a list ( { ... }, ... )", config_type_name(s)));
	*out = s;
	return (0);
}

/* An optional word from words; what names it in the message. */
int
config_get_enum(struct config_ctx *ctx, const config_setting_t *g,
    const char *name, const char *const *words, const char *what, int *v)
{
	const config_setting_t	*s;
	const char		*str = NULL;
	char			 list[128];
	size_t			 off = 0;
	int			 i;

	if (config_get_str(ctx, g, name, &str) == -1)
		return (-1);
	if (str == NULL)
		return (0);
	if ((i = config_word_index(str, words)) != -1) {
		*v = i;
		return (0);
	}
	list[0] = '\0';
	for (i = 0; words[i] != NULL && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off,
		    "%s%s", i > 0 ? ", " : "", words[i]);
	s = config_member(g, name);
	return (config_err(ctx, s, "unknown %s \"%s\" (one of: %s)", what, str,
	    list));
}

/* Why a is not a usable unicast address, or NULL if it is. */
const char *
config_addr_bad(const struct ilb_addr *a)
{
	static const uint8_t	zero[16];

	if (memcmp(a->u.b, zero, util_addr_len(a)) == 0)
		return ("the unspecified address");
	if (a->family == AF_INET6)
		return (a->u.b[0] == 0xff ? "a multicast address" : NULL);
	if (a->u.b[0] >= 224 && a->u.b[0] < 240)
		return ("a multicast address");
	if (a->u.b[0] >= 240)
		return ("a reserved or broadcast address");
	return (NULL);
}

static int
config_addr_multicast(const struct ilb_addr *a)
{
	if (a->family == AF_INET)
		return (a->u.b[0] >= 224 && a->u.b[0] < 240);
	return (a->u.b[0] == 0xff);
}

/* An address string; unicast ones must not be multicast or unspecified. */
int
config_get_addr(struct config_ctx *ctx, const config_setting_t *g,
    const char *name, int unicast, struct ilb_addr *a)
{
	const config_setting_t	*s = config_member(g, name);
	const char		*str = NULL, *why;

	if (config_get_str(ctx, g, name, &str) == -1)
		return (-1);
	if (str == NULL)
		return (0);
	if (util_addr_parse(str, a) == -1)
		return (config_err(ctx, s, "%s: \"%s\" is not an IPv4 or IPv6 "
		    "address", name, str));
	if (unicast && (why = config_addr_bad(a)) != NULL)
		return (config_err(ctx, s, "%s: \"%s\" is %s", name, str, why));
	return (0);
}

/* Linux interface names: 1..15 bytes, no '/', ':' or whitespace. */
static int
config_valid_ifname(const char *s)
{
	size_t	len = strlen(s), i;

	if (len == 0 || len >= IF_NAMESIZE || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return (0);
	for (i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' ||
		    isspace((unsigned char)s[i]) ||
		    !isprint((unsigned char)s[i]))
			return (0);
	return (1);
}

static int
config_get_ifname(struct config_ctx *ctx, const config_setting_t *g,
    const char *name, char *buf)
{
	const char	*str = NULL;

	if (config_get_str(ctx, g, name, &str) == -1)
		return (-1);
	if (str == NULL)
		return (0);
	if (!config_valid_ifname(str))
		return (config_err(ctx, config_member(g, name), "%s: \"%s\" is "
		    "not an interface name (1..%d characters, no '/', ':' or "
		    "whitespace)", name, str, IF_NAMESIZE - 1));
	util_strlcpy(buf, str, IF_NAMESIZE);
	return (0);
}

static void
config_defaults(struct ilbd_conf *conf)
{
	conf->cluster.port = 7946;
	conf->cluster.hello_ms = 200;
	conf->cluster.dead_ms = 1000;
	conf->cluster.authenticate = 1;
	conf->cluster.scoring = SCORING_CRC32C_MIX;
	util_addr_parse(CONF_DEFAULT_GROUP, &conf->cluster.group);
	util_strlcpy(conf->cluster.key_file, CONF_DEFAULT_KEY,
	    sizeof(conf->cluster.key_file));
	conf->input.mode = INPUT_TUN;
	conf->input.workers = 0;	/* one per CPU (issue 21) */
	util_strlcpy(conf->input.device, CONF_DEFAULT_DEVICE,
	    sizeof(conf->input.device));
	conf->tables.ltoc_size = 1048576;
	conf->tables.cache_size = 1048576;
	conf->tables.tcp_timeout_s = 900;
	conf->tables.fin_timeout_s = 60;
	conf->tables.syn_timeout_s = 30;
	conf->tables.udp_timeout_s = 30;
	conf->tables.udp_stream_timeout_s = 120;
	conf->tables.udp_replicate_ms = 1000;
	util_strlcpy(conf->control_socket, CONF_DEFAULT_SOCKET,
	    sizeof(conf->control_socket));
	util_strlcpy(conf->node.user, "ilbd", sizeof(conf->node.user));
	util_strlcpy(conf->node.state_dir, CONF_DEFAULT_STATE_DIR,
	    sizeof(conf->node.state_dir));
	conf->metrics_enabled = 1;
	util_addr_parse(CONF_DEFAULT_METRICS, &conf->metrics_addr);
	conf->metrics_port = 9650;
	conf->announce.drain_ms = 2000;
}

/* claim 6: an integer id is the member id as 4 bytes, big-endian. */
static void
config_node_index(struct node_conf *n, uint32_t v)
{
	memset(&n->id, 0, sizeof(n->id));
	n->id.len = 4;
	n->id.is_index = 1;
	be32_store(n->id.b, v);
}

/*
 * An integer node.id (or a string of digits) in 0..4294967295. Its text is
 * the canonical decimal ("0304" is 304), so that the effective
 * configuration (ilbd -nv) loads back the same.
 */
static int
config_node_id_int(struct config_ctx *ctx, const config_setting_t *s,
    long long v)
{
	struct node_conf	*n = &ctx->conf->node;

	if (v < 0 || v > 4294967295LL)
		return (config_err(ctx, s, "id: %lld is out of range "
		    "0..4294967295%s", v, config_setting_type(s) ==
		    CONFIG_TYPE_INT ? " (libconfig wraps integers above "
		    "2147483647: write them with an L suffix or as a string)" :
		    ""));
	config_node_index(n, (uint32_t)v);
	snprintf(n->id_text, sizeof(n->id_text), "%u", (unsigned int)v);
	return (0);
}

/* A node.id string: digits are an index, anything else an address. */
static int
config_node_id_str(struct config_ctx *ctx, const config_setting_t *s)
{
	struct node_conf	*n = &ctx->conf->node;
	const char		*str = config_setting_get_string(s), *why;
	struct ilb_addr		 a;
	size_t			 len = strlen(str);

	if (len > 0 && len <= 10 && strspn(str, "0123456789") == len)
		return (config_node_id_int(ctx, s, strtoll(str, NULL, 10)));
	if (util_addr_parse(str, &a) == -1)
		return (config_err(ctx, s, "id: \"%s\" is neither an IPv4 or "
		    "IPv6 address nor an integer index", str));
	if ((why = config_addr_bad(&a)) != NULL)
		return (config_err(ctx, s, "id: \"%s\" is %s", str, why));
	/* claim 5: an address id is the member id, its 4 or 16 bytes. */
	memset(&n->id, 0, sizeof(n->id));
	n->id.len = (uint8_t)util_addr_len(&a);
	memcpy(n->id.b, a.u.b, n->id.len);
	util_strlcpy(n->id_text, str, sizeof(n->id_text));
	n->address = a;
	n->has_address = 1;
	return (0);
}

static int
config_node_id(struct config_ctx *ctx, const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return (config_node_id_int(ctx, s, config_setting_get_int64(s)));
	case CONFIG_TYPE_STRING:
		return (config_node_id_str(ctx, s));
	default:
		return (config_err(ctx, s, "id: expected an address string or "
		    "an integer, not %s", config_type_name(s)));
	}
}

/* node.user: a plausible user name, or "" to keep running as root. */
static int
config_node_user(struct config_ctx *ctx, const config_setting_t *g)
{
	const char	*u = NULL;
	size_t		 i;

	if (config_get_str(ctx, g, "user", &u) == -1)
		return (-1);
	if (u == NULL)
		return (0);
	for (i = 0; u[i] != '\0'; i++)
		if (!isalnum((unsigned char)u[i]) && u[i] != '_' &&
		    u[i] != '-' && u[i] != '.')
			break;
	if (u[i] != '\0' || i >= CONF_USER_MAX || u[0] == '-')
		return (config_err(ctx, config_member(g, "user"),
		    "user: \"%s\" is not a user name (up to %d characters of "
		    "A-Z a-z 0-9 _ . -, or \"\" to stay root)", u,
		    CONF_USER_MAX - 1));
	util_strlcpy(ctx->conf->node.user, u, sizeof(ctx->conf->node.user));
	return (0);
}

/* node.state_dir: an absolute directory, or "" for the clock alone. */
static int
config_node_state_dir(struct config_ctx *ctx, const config_setting_t *g)
{
	const char	*d = NULL;

	if (config_get_str(ctx, g, "state_dir", &d) == -1)
		return (-1);
	if (d == NULL)
		return (0);
	if ((*d != '/' && *d != '\0') || strlen(d) >= CONF_STATE_DIR_MAX)
		return (config_err(ctx, config_member(g, "state_dir"),
		    "state_dir: \"%s\" is not an absolute path shorter than "
		    "%d characters (or \"\" to take the boot epoch from the "
		    "clock alone)", d, CONF_STATE_DIR_MAX));
	util_strlcpy(ctx->conf->node.state_dir, d,
	    sizeof(ctx->conf->node.state_dir));
	return (0);
}

static int
config_parse_node(struct config_ctx *ctx, const config_setting_t *root)
{
	struct node_conf	*n = &ctx->conf->node;
	const config_setting_t	*g, *s;

	if (config_get_aggr(ctx, root, "node", CONFIG_TYPE_GROUP, &g) == -1)
		return (-1);
	if (g == NULL)
		return (config_err(ctx, NULL, "missing \"node\" group "
		    "(node = { id = ...; interface = ...; };)"));
	if (config_check_keys(ctx, g, config_node_keys, "in node") == -1)
		return (-1);
	if ((s = config_member(g, "id")) == NULL)
		return (config_err(ctx, g, "missing \"id\" in node"));
	if (config_node_id(ctx, s) == -1)
		return (-1);
	if (config_member(g, "interface") == NULL)
		return (config_err(ctx, g, "missing \"interface\" in node"));
	if (config_get_ifname(ctx, g, "interface", n->interface) == -1)
		return (-1);
	if (config_member(g, "address") != NULL) {
		if (config_get_addr(ctx, g, "address", 1, &n->address) == -1)
			return (-1);
		n->has_address = 1;
	}
	if (config_node_user(ctx, g) == -1)
		return (-1);
	return (config_node_state_dir(ctx, g));
}

/* Defaults may clash with set values: say which key to set. */
static int
config_cluster_times(struct config_ctx *ctx, const config_setting_t *g)
{
	struct cluster_conf	*c = &ctx->conf->cluster;
	long long		 min;

	if (config_get_u32(ctx, g, "hello_ms", 10, 60000, NULL,
	    &c->hello_ms) == -1)
		return (-1);
	min = 2LL * c->hello_ms;
	if (config_member(g, "dead_ms") == NULL && c->dead_ms < min)
		return (config_err(ctx, config_member(g, "hello_ms"),
		    "hello_ms: %u needs dead_ms of at least %lld, but dead_ms "
		    "defaults to %u: set dead_ms", c->hello_ms, min,
		    c->dead_ms));
	return (config_get_u32(ctx, g, "dead_ms", min, 600000,
	    "at least 2 * hello_ms", &c->dead_ms));
}

/* Resolve a relative key_file against the config file's directory. */
static int
config_key_path(struct config_ctx *ctx, const config_setting_t *s,
    const char *file)
{
	struct cluster_conf	*c = &ctx->conf->cluster;
	int			 n;

	if (*file == '\0')
		return (config_err(ctx, s, "key_file: empty path"));
	if (*file == '/')
		n = (int)util_strlcpy(c->key_file, file, sizeof(c->key_file));
	else
		n = snprintf(c->key_file, sizeof(c->key_file), "%s/%s",
		    ctx->dir, file);
	if (n < 0 || (size_t)n >= sizeof(c->key_file))
		return (config_err(ctx, s, "key_file: path too long"));
	return (0);
}

static int
config_parse_cluster(struct config_ctx *ctx, const config_setting_t *root)
{
	struct cluster_conf	*c = &ctx->conf->cluster;
	const config_setting_t	*g, *s;
	const char		*file = NULL;
	char			 buf[ILB_ADDRSTRLEN];
	int			 scoring = (int)c->scoring;

	if (config_get_aggr(ctx, root, "cluster", CONFIG_TYPE_GROUP, &g) == -1)
		return (-1);
	ctx->key_at = g;
	if (g == NULL)
		return (0);
	if (config_check_keys(ctx, g, config_cluster_keys, "in cluster") == -1)
		return (-1);
	if (config_get_addr(ctx, g, "group", 0, &c->group) == -1)
		return (-1);
	if (!config_addr_multicast(&c->group))
		return (config_err(ctx, config_member(g, "group"), "group: "
		    "\"%s\" is not a multicast address (224.0.0.0/4 or "
		    "ff00::/8)", util_addr_fmt(&c->group, buf, sizeof(buf))));
	if (config_get_port(ctx, g, "port", &c->port) == -1 ||
	    config_cluster_times(ctx, g) == -1 ||
	    config_get_bool(ctx, g, "authenticate", &c->authenticate) == -1 ||
	    config_get_enum(ctx, g, "scoring", config_scoring_words,
	    "scoring method", &scoring) == -1 ||
	    config_get_str(ctx, g, "key_file", &file) == -1 ||
	    config_parse_peers(ctx, g) == -1 ||
	    config_parse_key_next(ctx, g) == -1)
		return (-1);
	c->scoring = (enum conf_scoring)scoring;
	if ((s = config_member(g, "authenticate")) != NULL)
		ctx->key_at = s;
	if ((s = config_member(g, "key_file")) != NULL) {
		ctx->key_at = s;
		ctx->key_set = 1;
		if (config_key_path(ctx, s, file) == -1)
			return (-1);
	}
	if (c->scoring == SCORING_KEYED && !c->authenticate)
		return (config_err(ctx, config_member(g, "scoring"), "scoring "
		    "method \"keyed\" needs the cluster key: set "
		    "authenticate = true"));
	return (0);
}

static int
config_parse_input(struct config_ctx *ctx, const config_setting_t *root)
{
	struct input_conf	*in = &ctx->conf->input;
	const config_setting_t	*g;
	int			 mode = (int)in->mode;
	int			 xmode = (int)in->xdp_mode;

	if (config_get_aggr(ctx, root, "input", CONFIG_TYPE_GROUP, &g) == -1)
		return (-1);
	if (g == NULL)
		return (0);
	if (config_check_keys(ctx, g, config_input_keys, "in input") == -1 ||
	    config_get_enum(ctx, g, "mode", config_input_words, "input mode",
	    &mode) == -1 ||
	    config_get_ifname(ctx, g, "device", in->device) == -1 ||
	    config_get_enum(ctx, g, "xdp_mode", config_xdp_mode_words,
	    "xdp mode", &xmode) == -1 ||
	    config_get_u32(ctx, g, "queues", 0, CONF_QUEUES_MAX,
	    "0 = all the interface's queues", &in->queues) == -1 ||
	    config_get_u32(ctx, g, "workers", 0, CONF_WORKERS_MAX,
	    "0 = one per CPU the daemon may run on", &in->workers) == -1)
		return (-1);
	in->mode = (enum conf_input)mode;
	in->xdp_mode = (enum conf_xdp_mode)xmode;
#ifndef HAVE_XDP
	/* Refused here, with its line, rather than when the daemon starts. */
	if (in->mode == INPUT_XDP)
		return (config_err(ctx, config_member(g, "mode"), "input mode "
		    "\"xdp\": ilbd was built without AF_XDP (configure "
		    "--enable-xdp, with libxdp-dev, libbpf-dev and clang)"));
#endif
	return (0);
}

static int
config_parse_tables(struct config_ctx *ctx, const config_setting_t *root)
{
	struct tables_conf	*t = &ctx->conf->tables;
	const config_setting_t	*g;

	if (config_get_aggr(ctx, root, "tables", CONFIG_TYPE_GROUP, &g) == -1)
		return (-1);
	if (g == NULL)
		return (0);
	if (config_check_keys(ctx, g, config_tables_keys, "in tables") == -1 ||
	    config_get_u32(ctx, g, "ltoc_size", 1024, 67108864, NULL,
	    &t->ltoc_size) == -1 ||
	    config_get_u32(ctx, g, "cache_size", 0, 67108864, NULL,
	    &t->cache_size) == -1 ||
	    config_get_u32(ctx, g, "tcp_timeout_s", 1, 604800, NULL,
	    &t->tcp_timeout_s) == -1 ||
	    config_get_u32(ctx, g, "fin_timeout_s", 1, 3600, NULL,
	    &t->fin_timeout_s) == -1 ||
	    config_get_u32(ctx, g, "syn_timeout_s", 1, 3600, NULL,
	    &t->syn_timeout_s) == -1 ||
	    config_get_u32(ctx, g, "udp_timeout_s", 1, 3600, NULL,
	    &t->udp_timeout_s) == -1 ||
	    config_get_u32(ctx, g, "udp_stream_timeout_s", 1, 604800, NULL,
	    &t->udp_stream_timeout_s) == -1 ||
	    config_get_u32(ctx, g, "udp_replicate_ms", 0, 60000, NULL,
	    &t->udp_replicate_ms) == -1)
		return (-1);
	return (0);
}

/* control.socket and control.socket_ro: absolute paths. */
static int
config_socket_path(struct config_ctx *ctx, const config_setting_t *g,
    const char *key, char *dst, size_t size)
{
	const char	*path = NULL;

	if (config_get_str(ctx, g, key, &path) == -1)
		return (-1);
	if (path == NULL)
		return (0);
	if (*path != '/' || strlen(path) >= CONF_SOCKPATH_MAX)
		return (config_err(ctx, config_member(g, key), "%s: \"%s\" is "
		    "not an absolute path shorter than %d characters", key,
		    path, CONF_SOCKPATH_MAX));
	util_strlcpy(dst, path, size);
	return (0);
}

static int
config_parse_control(struct config_ctx *ctx, const config_setting_t *root)
{
	struct ilbd_conf	*conf = ctx->conf;
	const config_setting_t	*g;

	if (config_get_aggr(ctx, root, "control", CONFIG_TYPE_GROUP, &g) == -1)
		return (-1);
	if (g == NULL)
		return (0);
	if (config_check_keys(ctx, g, config_control_keys, "in control") ==
	    -1 || config_socket_path(ctx, g, "socket", conf->control_socket,
	    sizeof(conf->control_socket)) == -1 ||
	    config_socket_path(ctx, g, "socket_ro", conf->control_socket_ro,
	    sizeof(conf->control_socket_ro)) == -1)
		return (-1);
	if (strcmp(conf->control_socket, conf->control_socket_ro) == 0)
		return (config_err(ctx, config_member(g, "socket_ro"),
		    "socket_ro: \"%s\" is the read-write socket's path",
		    conf->control_socket_ro));
	return (0);
}

static int
config_parse_metrics(struct config_ctx *ctx, const config_setting_t *root)
{
	struct ilbd_conf	*conf = ctx->conf;
	const config_setting_t	*g;
	const char		*listen = NULL;

	if (config_get_aggr(ctx, root, "metrics", CONFIG_TYPE_GROUP, &g) == -1)
		return (-1);
	if (g == NULL)
		return (0);
	if (config_check_keys(ctx, g, config_metrics_keys, "in metrics") ==
	    -1 || config_get_str(ctx, g, "listen", &listen) == -1)
		return (-1);
	if (listen == NULL)
		return (0);
	if (*listen == '\0') {
		conf->metrics_enabled = 0;
		return (0);
	}
	if (util_hostport_parse(listen, &conf->metrics_addr,
	    &conf->metrics_port) == -1)
		return (config_err(ctx, config_member(g, "listen"), "listen: "
		    "\"%s\" is not ADDRESS:PORT, [IPV6-ADDRESS]:PORT or \"\" "
		    "(disabled)", listen));
	return (0);
}

/*
 * The one rule for the key file (ilbd.conf(5) key_file): owner root, group
 * node.user's group, mode 0640, so that ilbd reads it as root on start
 * and as node.user on reload.
 */
static int
config_key_open_error(struct config_ctx *ctx, int error)
{
	const char	*path = ctx->conf->cluster.key_file;
	const char	*grp = ctx->conf->node.user[0] != '\0' ?
			    ctx->conf->node.user : "root";

	if (error == EACCES)
		return (config_err(ctx, ctx->key_at, "cannot read key_file "
		    "\"%s\": %s; it must be readable by node.user \"%s\" "
		    "(reload): chown root:%s %s; chmod 0640 %s", path,
		    strerror(error), grp, grp, path, path));
	if (error != ENOENT)
		return (config_err(ctx, ctx->key_at, "cannot read key_file "
		    "\"%s\": %s", path, strerror(error)));
	return (config_err(ctx, ctx->key_at, "cannot read key_file \"%s\": "
	    "%s; create it with \"head -c 32 /dev/urandom > %s; chown root:%s "
	    "%s; chmod 0640 %s\" and copy it to every node, or set "
	    "cluster.authenticate = false (labs only)", path, strerror(error),
	    path, grp, path, path));
}

/* Read up to CONF_KEY_MAX + 1 bytes of the key file into buf. */
static int
config_key_slurp(struct config_ctx *ctx, int fd, uint8_t *buf, size_t *len)
{
	const char	*path = ctx->conf->cluster.key_file;
	struct stat	 st;
	ssize_t		 n;

	if (fstat(fd, &st) == -1)
		return (config_err(ctx, ctx->key_at, "cannot read key_file "
		    "\"%s\": %s", path, strerror(errno)));
	if (!S_ISREG(st.st_mode))
		return (config_err(ctx, ctx->key_at, "key_file \"%s\" is not "
		    "a regular file", path));
	*len = 0;
	while (*len < CONF_KEY_MAX + 1) {
		n = read(fd, buf + *len, CONF_KEY_MAX + 1 - *len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (config_err(ctx, ctx->key_at, "cannot read "
			    "key_file \"%s\": %s", path, strerror(errno)));
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	return (0);
}

/* Derive the cluster key: BLAKE2b-256 of the key file's bytes. */
int
config_read_key_file(struct config_ctx *ctx, uint8_t *out)
{
	struct cluster_conf	*c = &ctx->conf->cluster;
	uint8_t			 buf[CONF_KEY_MAX + 1];
	size_t			 len = 0;
	int			 fd, rv;

	if (!c->authenticate)
		return (0);
	if ((fd = open(c->key_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return (config_key_open_error(ctx, errno));
	rv = config_key_slurp(ctx, fd, buf, &len);
	close(fd);
	if (rv == 0 && len < CONF_KEY_MIN)
		rv = config_err(ctx, ctx->key_at, "key_file \"%s\" has %zu "
		    "bytes, at least %d are needed", c->key_file, len,
		    CONF_KEY_MIN);
	else if (rv == 0 && len > CONF_KEY_MAX)
		rv = config_err(ctx, ctx->key_at, "key_file \"%s\" is larger "
		    "than %d bytes", c->key_file, CONF_KEY_MAX);
	else if (rv == 0 && sodium_init() == -1)
		rv = config_err(ctx, ctx->key_at, "cannot initialise "
		    "libsodium");
	if (rv == 0)
		crypto_generichash(out, CONF_KEY_LEN, buf, len, NULL, 0);
	sodium_memzero(buf, sizeof(buf));
	return (rv);
}

/* The directory of path ("." if none), made absolute when possible. */
static int
config_set_dir(struct config_ctx *ctx)
{
	char		 raw[PATH_MAX], real[PATH_MAX];
	const char	*slash = strrchr(ctx->path, '/');

	if (strlen(ctx->path) >= sizeof(raw))
		return (-1);
	if (slash == NULL)
		util_strlcpy(raw, ".", sizeof(raw));
	else if (slash == ctx->path)
		util_strlcpy(raw, "/", sizeof(raw));
	else {
		memcpy(raw, ctx->path, (size_t)(slash - ctx->path));
		raw[slash - ctx->path] = '\0';
	}
	config_set_include_dir(&ctx->cf, raw);
	if (realpath(raw, real) != NULL && strcmp(real, "/") != 0)
		util_strlcpy(ctx->dir, real, sizeof(ctx->dir));
	else
		util_strlcpy(ctx->dir, strcmp(raw, "/") == 0 ? "" : raw,
		    sizeof(ctx->dir));
	return (0);
}

static int
config_read_conf(struct config_ctx *ctx)
{
	const char	*file;
	struct stat	 st;
	int		 error;

	memset(&st, 0, sizeof(st));
	if (config_set_dir(ctx) == -1)
		return (util_cause(&ctx->cause, "%s: path too long",
		    ctx->path));
	if (stat(ctx->path, &st) == -1 || S_ISDIR(st.st_mode)) {
		error = S_ISDIR(st.st_mode) ? EISDIR : errno;
		return (util_cause(&ctx->cause, "%s: cannot read: %s",
		    ctx->path, strerror(error)));
	}
	config_set_auto_convert(&ctx->cf, 0);
	if (config_read_file(&ctx->cf, ctx->path) == CONFIG_TRUE)
		return (0);
	if ((file = config_error_file(&ctx->cf)) == NULL)
		return (util_cause(&ctx->cause, "%s: cannot read: %s",
		    ctx->path, config_error_text(&ctx->cf)));
	return (util_cause(&ctx->cause, "%s:%d: %s", file,
	    config_error_line(&ctx->cf), config_error_text(&ctx->cf)));
}

/* announce: readiness routes (announce.c); table 0 is off. */
static int
config_parse_announce(struct config_ctx *ctx, const config_setting_t *root)
{
	struct announce_conf	*a = &ctx->conf->announce;
	const config_setting_t	*g;

	if (config_get_aggr(ctx, root, "announce", CONFIG_TYPE_GROUP, &g) == -1)
		return (-1);
	if (g == NULL)
		return (0);
	if (config_check_keys(ctx, g, config_announce_keys, "in announce") ==
	    -1 ||
	    config_get_u32(ctx, g, "table", 0, 4294967295LL, NULL,
	    &a->table) == -1 ||
	    config_get_u32(ctx, g, "drain_ms", 0, 600000, NULL,
	    &a->drain_ms) == -1)
		return (-1);
	/* main (254) is allowed: FRR announces only its kernel routes */
	if (a->table == 253 || a->table == 255)
		return (config_err(ctx, config_member(g, "table"),
		    "table: %u is a table of the system (default, local): "
		    "choose another", a->table));
	return (0);
}

static int
config_parse(struct config_ctx *ctx)
{
	const config_setting_t	*root = config_root_setting(&ctx->cf);

	if (config_check_keys(ctx, root, config_top_keys, "at top level") ==
	    -1 ||
	    config_parse_node(ctx, root) == -1 ||
	    config_parse_cluster(ctx, root) == -1 ||
	    config_parse_input(ctx, root) == -1 ||
	    config_parse_tables(ctx, root) == -1 ||
	    config_parse_control(ctx, root) == -1 ||
	    config_parse_metrics(ctx, root) == -1 ||
	    config_parse_announce(ctx, root) == -1 ||
	    config_parse_icmp(ctx, root) == -1 ||
	    config_parse_services(ctx, root) == -1)
		return (-1);
	if (config_read_key_file(ctx, ctx->conf->cluster.key) == -1)
		return (-1);
	return (config_read_key_next(ctx));
}

int
config_load(const char *path, struct ilbd_conf **out, char **cause)
{
	struct config_ctx	ctx;
	int			rv;

	*out = NULL;
	*cause = NULL;
	memset(&ctx, 0, sizeof(ctx));
	ctx.path = path;
	if ((ctx.conf = calloc(1, sizeof(*ctx.conf))) == NULL)
		return (util_cause(cause, "%s: out of memory", path));
	config_defaults(ctx.conf);
	util_strlcpy(ctx.conf->path, path, sizeof(ctx.conf->path));
	config_init(&ctx.cf);
	rv = config_read_conf(&ctx);
	if (rv == 0)
		rv = config_parse(&ctx);
	config_destroy(&ctx.cf);
	if (rv == -1) {
		config_free(ctx.conf);
		*cause = ctx.cause;
		return (-1);
	}
	*out = ctx.conf;
	return (0);
}

void
config_free(struct ilbd_conf *conf)
{
	unsigned int	i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nservices; i++)
		free(conf->services[i].servers);
	free(conf->services);
	sodium_memzero(conf->cluster.key, sizeof(conf->cluster.key));
	sodium_memzero(conf->cluster.key_next, sizeof(conf->cluster.key_next));
	free(conf);
}

void
config_summary(const struct ilbd_conf *conf, char *buf, size_t len)
{
	unsigned int	i, nservers = 0;
	size_t		n;

	for (i = 0; i < conf->nservices; i++)
		nservers += conf->services[i].nservers;
	snprintf(buf, len, "node %s on %s, input %s %s, scoring %s, %s, "
	    "%u service%s, %u server%s", conf->node.id_text,
	    conf->node.interface, config_input_name(conf->input.mode),
	    conf->input.mode == INPUT_TUN ? conf->input.device :
	    conf->node.interface, config_scoring_name(conf->cluster.scoring),
	    conf->cluster.authenticate ? "authenticated" : "unauthenticated",
	    conf->nservices, conf->nservices == 1 ? "" : "s", nservers,
	    nservers == 1 ? "" : "s");
	if (conf->cluster.npeers > 0 && (n = strlen(buf)) < len)
		snprintf(buf + n, len - n, ", cluster by unicast to %u "
		    "peer%s", conf->cluster.npeers,
		    conf->cluster.npeers == 1 ? "" : "s");
}

/* A libconfig string literal. */
static void
config_dump_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(fp, "\\%c", *s);
		else if (!isprint((unsigned char)*s))
			fprintf(fp, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
config_dump_kv(FILE *fp, const char *indent, const char *key, const char *s)
{
	fprintf(fp, "%s%s = ", indent, key);
	config_dump_str(fp, s);
	fputs(";\n", fp);
}

static void
config_dump_node(const struct ilbd_conf *conf, FILE *fp)
{
	const struct node_conf	*n = &conf->node;
	char			 a[ILB_ADDRSTRLEN];
	uint32_t		 v;

	fputs("node = {\n", fp);
	if (n->id.is_index) {
		v = be32_load(n->id.b);
		fprintf(fp, "  id = %u%s;\n", v, v > INT32_MAX ? "L" : "");
	} else
		config_dump_kv(fp, "  ", "id", n->id_text);
	config_dump_kv(fp, "  ", "interface", n->interface);
	if (n->has_address)
		config_dump_kv(fp, "  ", "address",
		    util_addr_fmt(&n->address, a, sizeof(a)));
	config_dump_kv(fp, "  ", "user", n->user);
	config_dump_kv(fp, "  ", "state_dir", n->state_dir);
	fputs("};\n", fp);
}

static void
config_dump_cluster(const struct ilbd_conf *conf, FILE *fp)
{
	const struct cluster_conf	*c = &conf->cluster;
	char				 a[ILB_ADDRSTRLEN];

	fputs("cluster = {\n", fp);
	config_dump_kv(fp, "  ", "group", util_addr_fmt(&c->group, a,
	    sizeof(a)));
	fprintf(fp, "  port = %u;\n  hello_ms = %u;\n  dead_ms = %u;\n",
	    c->port, c->hello_ms, c->dead_ms);
	config_dump_kv(fp, "  ", "key_file", c->key_file);
	fprintf(fp, "  authenticate = %s;\n", c->authenticate ? "true" :
	    "false");
	config_dump_kv(fp, "  ", "scoring", config_scoring_name(c->scoring));
	config_dump_peers(c, fp);
	config_dump_key_next(c, fp);
	fputs("};\n", fp);
}

static void
config_dump_globals(const struct ilbd_conf *conf, FILE *fp)
{
	const struct tables_conf	*t = &conf->tables;
	char				 a[ILB_ADDRSTRLEN], l[ILB_ADDRSTRLEN + 8];

	fputs("input = {\n", fp);
	config_dump_kv(fp, "  ", "mode", config_input_name(conf->input.mode));
	config_dump_kv(fp, "  ", "device", conf->input.device);
	config_dump_kv(fp, "  ", "xdp_mode",
	    config_xdp_mode_name(conf->input.xdp_mode));
	fprintf(fp, "  queues = %u;\n", conf->input.queues);
	fprintf(fp, "  workers = %u;\n", conf->input.workers);
	fprintf(fp, "};\ntables = {\n  ltoc_size = %u;\n  cache_size = %u;\n"
	    "  tcp_timeout_s = %u;\n  fin_timeout_s = %u;\n"
	    "  syn_timeout_s = %u;\n  udp_timeout_s = %u;\n"
	    "  udp_stream_timeout_s = %u;\n  udp_replicate_ms = %u;\n"
	    "};\ncontrol = {\n", t->ltoc_size, t->cache_size,
	    t->tcp_timeout_s, t->fin_timeout_s, t->syn_timeout_s,
	    t->udp_timeout_s, t->udp_stream_timeout_s, t->udp_replicate_ms);
	config_dump_kv(fp, "  ", "socket", conf->control_socket);
	if (conf->control_socket_ro[0] != '\0')
		config_dump_kv(fp, "  ", "socket_ro", conf->control_socket_ro);
	fputs("};\nmetrics = {\n", fp);
	util_addr_fmt(&conf->metrics_addr, a, sizeof(a));
	if (!conf->metrics_enabled)
		l[0] = '\0';
	else if (conf->metrics_addr.family == AF_INET6)
		snprintf(l, sizeof(l), "[%s]:%u", a, conf->metrics_port);
	else
		snprintf(l, sizeof(l), "%s:%u", a, conf->metrics_port);
	config_dump_kv(fp, "  ", "listen", l);
	fprintf(fp, "};\nannounce = {\n  table = %u;\n  drain_ms = %u;\n};\n",
	    conf->announce.table, conf->announce.drain_ms);
	config_dump_icmp(conf, fp);
}

static void
config_dump_service(const struct service_conf *sv, FILE *fp, int last)
{
	const struct health_conf	*h = &sv->health;
	char				 a[ILB_ADDRSTRLEN];
	unsigned int			 i;

	fputs("  {\n", fp);
	config_dump_kv(fp, "    ", "name", sv->name);
	config_dump_kv(fp, "    ", "vip", util_addr_fmt(&sv->vip, a,
	    sizeof(a)));
	fprintf(fp, "    port = %u;\n", sv->port);
	config_dump_kv(fp, "    ", "protocol", config_proto_name(sv->protocol));
	config_dump_kv(fp, "    ", "forward", config_forward_name(sv->forward));
	config_dump_kv(fp, "    ", "scheduler",
	    config_sched_name(sv->scheduler));
	config_dump_health(h, fp);
	if (sv->udp_timeout_s != 0)
		fprintf(fp, "    udp_timeout_s = %u;\n", sv->udp_timeout_s);
	if (sv->udp_stream_timeout_s != 0)
		fprintf(fp, "    udp_stream_timeout_s = %u;\n",
		    sv->udp_stream_timeout_s);
	config_dump_quic(sv, fp);
	fputs("    servers = (\n", fp);
	for (i = 0; i < sv->nservers; i++) {
		fprintf(fp, "      { address = \"%s\"; weight = %u;",
		    util_addr_fmt(&sv->servers[i].addr, a, sizeof(a)),
		    sv->servers[i].weight);
		config_dump_quic_sid(&sv->servers[i], fp);
		fprintf(fp, " }%s\n", i + 1 < sv->nservers ? "," : "");
	}
	fprintf(fp, "    );\n  }%s\n", last ? "" : ",");
}

void
config_dump(const struct ilbd_conf *conf, FILE *fp)
{
	unsigned int	i;

	fprintf(fp, "# %s: effective configuration, defaults included\n",
	    conf->path);
	config_dump_node(conf, fp);
	config_dump_cluster(conf, fp);
	config_dump_globals(conf, fp);
	fputs("services = (\n", fp);
	for (i = 0; i < conf->nservices; i++)
		config_dump_service(&conf->services[i], fp,
		    i + 1 == conf->nservices);
	fputs(");\n", fp);
}

const char *
config_scoring_name(enum conf_scoring v)
{
	return ((unsigned int)v < 3 ? config_scoring_words[v] : "?");
}

const char *
config_sched_name(enum conf_sched v)
{
	return ((unsigned int)v < 5 ? config_sched_words[v] : "?");
}

const char *
config_forward_name(enum conf_forward v)
{
	return ((unsigned int)v < 2 ? config_forward_words[v] : "?");
}

const char *
config_proto_name(enum conf_proto v)
{
	return ((unsigned int)v < 2 ? config_proto_words[v] : "?");
}

const char *
config_input_name(enum conf_input v)
{
	return ((unsigned int)v < 3 ? config_input_words[v] : "?");
}

const char *
config_xdp_mode_name(enum conf_xdp_mode v)
{
	return ((unsigned int)v < 3 ? config_xdp_mode_words[v] : "?");
}
