/* ctl.c: ilbctl's command words (prefix-matched token tables) and wire codec. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "util.h"

#define CTL_MAGIC	"ILBCTL/"

enum ctl_tok {
	CTL_TOK_END,		/* end of a table */
	CTL_TOK_DONE,		/* the words may stop here */
	CTL_TOK_KEYWORD,	/* a word, matched by unambiguous prefix */
	CTL_TOK_OPERAND		/* a value, checked and stored by set() */
};

struct ctl_token {
	enum ctl_tok		 type;
	const char		*word;	/* keyword, or the operand's name */
	int			 cmd;	/* command the keyword selects, or -1 */
	int			(*set)(struct ctl_req *, const char *, char **);
	const struct ctl_token	*next;	/* NULL: no more words */
};

static int	ctl_set_limit(struct ctl_req *, const char *, char **);
static int	ctl_set_vip(struct ctl_req *, const char *, char **);
static int	ctl_set_client(struct ctl_req *, const char *, char **);
static int	ctl_set_owner_client(struct ctl_req *, const char *, char **);
static int	ctl_set_owner_vip(struct ctl_req *, const char *, char **);
static int	ctl_set_service(struct ctl_req *, const char *, char **);
static int	ctl_set_server(struct ctl_req *, const char *, char **);
static int	ctl_set_weight(struct ctl_req *, const char *, char **);

/* The filters of show connections|cache loop back to this table. */
static const struct ctl_token t_filter[5];

static const struct ctl_token t_limit[] = {
	{ CTL_TOK_OPERAND, "N", -1, ctl_set_limit, t_filter },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};
static const struct ctl_token t_vip[] = {
	{ CTL_TOK_OPERAND, "ADDRESS[:PORT]", -1, ctl_set_vip, t_filter },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};
static const struct ctl_token t_client[] = {
	{ CTL_TOK_OPERAND, "ADDRESS[:PORT]", -1, ctl_set_client, t_filter },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};
static const struct ctl_token t_filter[5] = {
	{ CTL_TOK_DONE, NULL, -1, NULL, NULL },
	{ CTL_TOK_KEYWORD, "limit", -1, NULL, t_limit },
	{ CTL_TOK_KEYWORD, "vip", -1, NULL, t_vip },
	{ CTL_TOK_KEYWORD, "client", -1, NULL, t_client },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};

/* show owner ... [tcp|udp]: the flow's protocol, tcp by default. */
static const struct ctl_token t_owner_proto[] = {
	{ CTL_TOK_DONE, NULL, -1, NULL, NULL },
	{ CTL_TOK_KEYWORD, "tcp", -1, NULL, NULL },
	{ CTL_TOK_KEYWORD, "udp", -1, NULL, NULL },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};
static const struct ctl_token t_owner_vip[] = {
	{ CTL_TOK_OPERAND, "VIP:PORT", -1, ctl_set_owner_vip, t_owner_proto },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};
static const struct ctl_token t_owner[] = {
	{ CTL_TOK_OPERAND, "CLIENT:PORT", -1, ctl_set_owner_client,
	    t_owner_vip },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};

static const struct ctl_token t_show[] = {
	{ CTL_TOK_KEYWORD, "members", CTL_SHOW_MEMBERS, NULL, NULL },
	{ CTL_TOK_KEYWORD, "services", CTL_SHOW_SERVICES, NULL, NULL },
	{ CTL_TOK_KEYWORD, "servers", CTL_SHOW_SERVERS, NULL, NULL },
	{ CTL_TOK_KEYWORD, "connections", CTL_SHOW_CONNECTIONS, NULL,
	    t_filter },
	{ CTL_TOK_KEYWORD, "cache", CTL_SHOW_CACHE, NULL, t_filter },
	{ CTL_TOK_KEYWORD, "stats", CTL_SHOW_STATS, NULL, NULL },
	{ CTL_TOK_KEYWORD, "owner", CTL_SHOW_OWNER, NULL, t_owner },
	{ CTL_TOK_KEYWORD, "info", CTL_SHOW_INFO, NULL, NULL },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};

/* server drain|enable|weight ... [local]: this member only. */
static const struct ctl_token t_local[] = {
	{ CTL_TOK_DONE, NULL, -1, NULL, NULL },
	{ CTL_TOK_KEYWORD, "local", -1, NULL, NULL },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};
static const struct ctl_token t_weight_n[] = {
	{ CTL_TOK_OPERAND, "N", -1, ctl_set_weight, t_local },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};
static const struct ctl_token t_weight_server[] = {
	{ CTL_TOK_OPERAND, "ADDRESS", -1, ctl_set_server, t_weight_n },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};
static const struct ctl_token t_weight[] = {
	{ CTL_TOK_OPERAND, "SERVICE", -1, ctl_set_service, t_weight_server },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};
static const struct ctl_token t_drain_server[] = {
	{ CTL_TOK_OPERAND, "ADDRESS", -1, ctl_set_server, t_local },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};
static const struct ctl_token t_drain[] = {
	{ CTL_TOK_OPERAND, "SERVICE", -1, ctl_set_service, t_drain_server },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};
static const struct ctl_token t_server[] = {
	{ CTL_TOK_KEYWORD, "drain", CTL_SERVER_DRAIN, NULL, t_drain },
	{ CTL_TOK_KEYWORD, "enable", CTL_SERVER_ENABLE, NULL, t_drain },
	{ CTL_TOK_KEYWORD, "weight", CTL_SERVER_WEIGHT, NULL, t_weight },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};

/* monitor [json] */
static const struct ctl_token t_monitor[] = {
	{ CTL_TOK_DONE, NULL, -1, NULL, NULL },
	{ CTL_TOK_KEYWORD, "json", -1, NULL, NULL },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};

static const struct ctl_token t_main[] = {
	{ CTL_TOK_KEYWORD, "show", -1, NULL, t_show },
	{ CTL_TOK_KEYWORD, "server", -1, NULL, t_server },
	{ CTL_TOK_KEYWORD, "leave", CTL_LEAVE, NULL, NULL },
	{ CTL_TOK_KEYWORD, "reload", CTL_RELOAD, NULL, NULL },
	{ CTL_TOK_KEYWORD, "monitor", CTL_MONITOR, NULL, t_monitor },
	{ CTL_TOK_END, NULL, -1, NULL, NULL }
};

static const char *const ctl_cmd_names[CTL_CMD_MAX] = {
	[CTL_SHOW_MEMBERS] = "show members",
	[CTL_SHOW_SERVICES] = "show services",
	[CTL_SHOW_SERVERS] = "show servers",
	[CTL_SHOW_CONNECTIONS] = "show connections",
	[CTL_SHOW_CACHE] = "show cache",
	[CTL_SHOW_STATS] = "show stats",
	[CTL_SHOW_OWNER] = "show owner",
	[CTL_SERVER_DRAIN] = "server drain",
	[CTL_SERVER_ENABLE] = "server enable",
	[CTL_SERVER_WEIGHT] = "server weight",
	[CTL_LEAVE] = "leave",
	[CTL_RELOAD] = "reload",
	[CTL_SHOW_INFO] = "show info",
	[CTL_MONITOR] = "monitor"
};

const char *
ctl_cmd_name(enum ctl_cmd cmd)
{
	if ((unsigned int)cmd >= CTL_CMD_MAX)
		return ("?");
	return (ctl_cmd_names[cmd]);
}

int
ctl_cmd_readonly(enum ctl_cmd cmd)
{
	switch (cmd) {
	case CTL_SHOW_MEMBERS:
	case CTL_SHOW_SERVICES:
	case CTL_SHOW_SERVERS:
	case CTL_SHOW_CONNECTIONS:
	case CTL_SHOW_CACHE:
	case CTL_SHOW_STATS:
	case CTL_SHOW_OWNER:
	case CTL_SHOW_INFO:
	case CTL_MONITOR:
		return (1);
	default:
		return (0);	/* new commands: not until listed here */
	}
}

/* Append s to the string in buf, truncating. */
static void
ctl_append(char *buf, size_t size, const char *s)
{
	size_t	len = strlen(buf);

	if (len < size)
		util_strlcpy(buf + len, s, size - len);
}

/* Parse a decimal number min..max, digits only. */
static int
ctl_number(const char *s, unsigned long min, unsigned long max,
    uint32_t *out)
{
	unsigned long	v = 0;
	size_t		i;

	if (*s == '\0' || strlen(s) > 9)
		return (-1);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < min || v > max)
		return (-1);
	*out = (uint32_t)v;
	return (0);
}

/* A filter's ADDRESS or ADDRESS:PORT ([v6]:PORT); port 0 means any. */
static int
ctl_addr_or_hostport(const char *s, struct ilb_addr *a, uint16_t *port)
{
	if (util_addr_parse(s, a) == 0) {
		*port = 0;
		return (0);
	}
	return (util_hostport_parse(s, a, port));
}

static int
ctl_set_limit(struct ctl_req *req, const char *s, char **cause)
{
	if (req->flags & CTL_F_LIMIT)
		return (util_cause(cause, "%s: limit given twice",
		    ctl_cmd_name(req->cmd)));
	if (ctl_number(s, 1, CTL_LIMIT_MAX, &req->limit) == -1)
		return (util_cause(cause, "%s: limit N must be 1..%u, not '%s'",
		    ctl_cmd_name(req->cmd), CTL_LIMIT_MAX, s));
	req->flags |= CTL_F_LIMIT;
	return (0);
}

static int
ctl_set_vip(struct ctl_req *req, const char *s, char **cause)
{
	if (req->flags & CTL_F_VIP)
		return (util_cause(cause, "%s: vip given twice",
		    ctl_cmd_name(req->cmd)));
	if (ctl_addr_or_hostport(s, &req->vip, &req->vip_port) == -1)
		return (util_cause(cause, "%s: vip: '%s' is not ADDRESS or "
		    "ADDRESS:PORT", ctl_cmd_name(req->cmd), s));
	req->flags |= CTL_F_VIP;
	return (0);
}

static int
ctl_set_client(struct ctl_req *req, const char *s, char **cause)
{
	if (req->flags & CTL_F_CLIENT)
		return (util_cause(cause, "%s: client given twice",
		    ctl_cmd_name(req->cmd)));
	if (ctl_addr_or_hostport(s, &req->client, &req->client_port) == -1)
		return (util_cause(cause, "%s: client: '%s' is not ADDRESS or "
		    "ADDRESS:PORT", ctl_cmd_name(req->cmd), s));
	req->flags |= CTL_F_CLIENT;
	return (0);
}

static int
ctl_set_owner_client(struct ctl_req *req, const char *s, char **cause)
{
	if (util_hostport_parse(s, &req->client, &req->client_port) == -1)
		return (util_cause(cause, "show owner: CLIENT:PORT: '%s' is "
		    "not ADDRESS:PORT (203.0.113.7:51000, [2001:db8::7]:51000)",
		    s));
	return (0);
}

static int
ctl_set_owner_vip(struct ctl_req *req, const char *s, char **cause)
{
	if (util_hostport_parse(s, &req->vip, &req->vip_port) == -1)
		return (util_cause(cause, "show owner: VIP:PORT: '%s' is not "
		    "ADDRESS:PORT (198.51.100.10:80, [2001:db8::10]:80)", s));
	if (req->vip.family != req->client.family)
		return (util_cause(cause, "show owner: the client and the VIP "
		    "are not of the same address family"));
	return (0);
}

/* Service names as ilbd.conf allows them: [A-Za-z0-9_.-]{1,32}. */
static int
ctl_set_service(struct ctl_req *req, const char *s, char **cause)
{
	size_t	len = strlen(s), i;

	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '.' && s[i] != '-')
			break;
	if (len == 0 || len > CTL_NAME_MAX || i < len)
		return (util_cause(cause, "%s: '%s' is not a service name "
		    "(1..%d of A-Z a-z 0-9 _ . -)", ctl_cmd_name(req->cmd), s,
		    CTL_NAME_MAX));
	util_strlcpy(req->service, s, sizeof(req->service));
	return (0);
}

static int
ctl_set_server(struct ctl_req *req, const char *s, char **cause)
{
	if (util_addr_parse(s, &req->server) == -1)
		return (util_cause(cause, "%s: '%s' is not an IP address",
		    ctl_cmd_name(req->cmd), s));
	return (0);
}

static int
ctl_set_weight(struct ctl_req *req, const char *s, char **cause)
{
	if (ctl_number(s, 0, CTL_WEIGHT_MAX, &req->weight) == -1)
		return (util_cause(cause, "%s: N must be 0..%d, not '%s'",
		    ctl_cmd_name(req->cmd), CTL_WEIGHT_MAX, s));
	return (0);
}

/* "one of a, b, c" for a keyword table, "A B C" for an operand chain. */
static void
ctl_expected(const struct ctl_token *table, char *buf, size_t size)
{
	const struct ctl_token	*t;
	int			 n = 0;

	*buf = '\0';
	for (t = table; t->type != CTL_TOK_END; t++)
		if (t->type == CTL_TOK_KEYWORD) {
			ctl_append(buf, size, n++ == 0 ? "one of " : ", ");
			ctl_append(buf, size, t->word);
		}
	if (n > 0)
		return;
	for (t = table; t != NULL && t->type == CTL_TOK_OPERAND;
	    t = t->next) {
		ctl_append(buf, size, n++ == 0 ? "" : " ");
		ctl_append(buf, size, t->word);
	}
}

static int
ctl_table_done(const struct ctl_token *table)
{
	const struct ctl_token	*t;

	if (table == NULL)
		return (1);
	for (t = table; t->type != CTL_TOK_END; t++)
		if (t->type == CTL_TOK_DONE)
			return (1);
	return (0);
}

/* "ambiguous: 's' could be show, server"; ctx is "" at the top. */
static int
ctl_ambiguous(const struct ctl_token *table, const char *w, const char *ctx,
    char **cause)
{
	const struct ctl_token	*t;
	char			 list[256] = "";
	size_t			 len = strlen(w);

	for (t = table; t->type != CTL_TOK_END; t++)
		if (t->type == CTL_TOK_KEYWORD &&
		    strncmp(t->word, w, len) == 0) {
			ctl_append(list, sizeof(list), *list ? ", " : "");
			ctl_append(list, sizeof(list), t->word);
		}
	return (util_cause(cause, "%s%sambiguous: '%s' could be %s", ctx,
	    *ctx ? ": " : "", w, list));
}

/* The keyword of table that w names exactly or by unique prefix. */
static int
ctl_keyword(const struct ctl_token *table, const char *w, const char *ctx,
    const struct ctl_token **match, char **cause)
{
	const struct ctl_token	*t;
	size_t			 len = strlen(w);
	int			 n = 0;

	*match = NULL;
	if (len == 0)
		return (0);
	for (t = table; t->type != CTL_TOK_END; t++) {
		if (t->type != CTL_TOK_KEYWORD || strncmp(t->word, w, len))
			continue;
		if (t->word[len] == '\0') {
			*match = t;
			return (0);
		}
		*match = t;
		n++;
	}
	if (n > 1)
		return (ctl_ambiguous(table, w, ctx, cause));
	return (0);
}

static const struct ctl_token *
ctl_operand(const struct ctl_token *table)
{
	for (; table->type != CTL_TOK_END; table++)
		if (table->type == CTL_TOK_OPERAND)
			return (table);
	return (NULL);
}

/* Keep a word after the command's own in argv, for the encoder. */
static int
ctl_keep(struct ctl_req *req, const char *w, char **cause)
{
	if (req->argc >= CTL_ARGS_MAX)
		return (util_cause(cause, "%s: too many words",
		    ctl_cmd_name(req->cmd)));
	util_strlcpy(req->argv[req->argc++], w, CTL_ARG_LEN);
	return (0);
}

/* Match one word against table; *table moves to what may follow. */
static int
ctl_parse_word(const struct ctl_token **table, const char *w, char *ctx,
    size_t ctxsize, struct ctl_req *req, char **cause)
{
	const struct ctl_token	*t;
	char			 exp[256];
	int			 known = req->cmd != CTL_CMD_MAX;

	if (*table == NULL)
		return (util_cause(cause, "%s: unexpected '%s'", ctx, w));
	if (strlen(w) >= CTL_ARG_LEN)
		return (util_cause(cause, "%s%sword too long: '%.16s...'", ctx,
		    *ctx ? ": " : "", w));
	if (ctl_keyword(*table, w, ctx, &t, cause) == -1)
		return (-1);
	if (t == NULL && (t = ctl_operand(*table)) != NULL) {
		if (t->set(req, w, cause) == -1)
			return (-1);
	} else if (t == NULL) {
		ctl_expected(*table, exp, sizeof(exp));
		if (*ctx == '\0')
			return (util_cause(cause, "unknown command '%s'; "
			    "expected %s", w, exp));
		return (util_cause(cause, "%s: unknown word '%s'; expected %s",
		    ctx, w, exp));
	}
	if (known && ctl_keep(req, t->type == CTL_TOK_KEYWORD ? t->word : w,
	    cause) == -1)
		return (-1);
	if (!known && t->type == CTL_TOK_KEYWORD) {
		ctl_append(ctx, ctxsize, *ctx ? " " : "");
		ctl_append(ctx, ctxsize, t->word);
	}
	if (t->cmd != -1)
		req->cmd = (enum ctl_cmd)t->cmd;
	*table = t->next;
	return (0);
}

int
ctl_parse(int argc, char *const argv[], struct ctl_req *req, char **cause)
{
	const struct ctl_token	*table = t_main;
	char			 ctx[64] = "", exp[256];
	int			 i, json = req->json;

	*cause = NULL;
	memset(req, 0, sizeof(*req));
	req->json = json;
	req->cmd = CTL_CMD_MAX;
	req->limit = CTL_LIMIT_DEFAULT;
	for (i = 0; i < argc; i++)
		if (ctl_parse_word(&table, argv[i], ctx, sizeof(ctx), req,
		    cause) == -1)
			return (-1);
	if (!ctl_table_done(table)) {
		ctl_expected(table, exp, sizeof(exp));
		if (*ctx == '\0')
			return (util_cause(cause, "expected a command: %s",
			    exp));
		return (util_cause(cause, "%s: expected %s", ctx, exp));
	}
	return (0);
}

/* Append s to buf at *off; -1 once it no longer fits. */
static int
ctl_put(char *buf, size_t size, size_t *off, const char *s)
{
	size_t	len = strlen(s);

	if (*off + len >= size)
		return (-1);
	memcpy(buf + *off, s, len + 1);
	*off += len;
	return (0);
}

int
ctl_req_encode(const struct ctl_req *req, char *buf, size_t size)
{
	char	head[32];
	size_t	off = 0;
	int	i;

	if ((unsigned int)req->cmd >= CTL_CMD_MAX || req->argc < 0 ||
	    req->argc > CTL_ARGS_MAX)
		return (-1);
	snprintf(head, sizeof(head), "%s%d%s ", CTL_MAGIC, CTL_VERSION,
	    req->json ? " json" : "");
	if (ctl_put(buf, size, &off, head) == -1 ||
	    ctl_put(buf, size, &off, ctl_cmd_name(req->cmd)) == -1)
		return (-1);
	for (i = 0; i < req->argc; i++) {
		if (memchr(req->argv[i], '\0', CTL_ARG_LEN) == NULL ||
		    strpbrk(req->argv[i], " \t\r\n") != NULL ||
		    ctl_put(buf, size, &off, " ") == -1 ||
		    ctl_put(buf, size, &off, req->argv[i]) == -1)
			return (-1);
	}
	if (ctl_put(buf, size, &off, "\n") == -1 || off > CTL_REQ_MAX)
		return (-1);
	return ((int)off);
}

/* "ILBCTL/<digits>" at s: its version, or -1. */
static int
ctl_version(const char *s, size_t len)
{
	size_t	ml = sizeof(CTL_MAGIC) - 1, i;
	int	v = 0;

	if (len <= ml || len > ml + 4 || strncmp(s, CTL_MAGIC, ml) != 0)
		return (-1);
	for (i = ml; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v);
}

/* Copy a line without its "\n" or "\r\n"; -1 on a control or 8-bit byte. */
static int
ctl_line(const char *line, size_t len, char *buf, size_t size)
{
	size_t	i;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len >= size)
		return (-1);
	for (i = 0; i < len; i++)
		if ((line[i] < 0x20 && line[i] != '\t') ||
		    (unsigned char)line[i] >= 0x7f)
			return (-1);
	memcpy(buf, line, len);
	buf[len] = '\0';
	return (0);
}

int
ctl_req_decode(const char *line, size_t len, struct ctl_req *req,
    char **cause)
{
	char	 buf[CTL_REQ_MAX + 1], *words[CTL_REQ_MAX / 2 + 1], *p, *w;
	int	 n = 0, v, first = 0;

	*cause = NULL;
	if (len > CTL_REQ_MAX) {
		util_cause(cause, "request longer than %d bytes", CTL_REQ_MAX);
		return (-2);
	}
	if (ctl_line(line, len, buf, sizeof(buf)) == -1) {
		util_cause(cause, "request has a control or non-ASCII byte");
		return (-2);
	}
	for (p = buf; (w = strsep(&p, " \t")) != NULL;)
		if (*w != '\0')
			words[n++] = w;
	if (n == 0 || (v = ctl_version(words[0], strlen(words[0]))) == -1) {
		util_cause(cause, "not an ilbctl request");
		return (-2);
	}
	if (v != CTL_VERSION)
		return (util_cause(cause, "ilbctl speaks protocol version %d, "
		    "this ilbd speaks %d: use the ilbctl installed with ilbd",
		    v, CTL_VERSION));
	req->json = 0;
	if (n > 1 && strcmp(words[1], "json") == 0) {
		req->json = 1;
		first = 1;
	}
	return (ctl_parse(n - 1 - first, words + 1 + first, req, cause));
}

int
ctl_resp_header_encode(char *buf, size_t size, int ok, size_t len)
{
	int	n;

	n = snprintf(buf, size, "%s%d %s %zu\n", CTL_MAGIC, CTL_VERSION,
	    ok == CTL_RESP_STREAM ? "STREAM" : ok ? "OK" : "ERR",
	    ok == CTL_RESP_STREAM ? (size_t)0 : len);
	if (n < 0 || (size_t)n >= size)
		return (-1);
	return (n);
}

int
ctl_resp_header_decode(const char *line, size_t len, int *ok,
    size_t *bodylen, char **cause)
{
	char		 buf[CTL_HDR_MAX + 1], *p, *ver, *status, *num, *end;
	unsigned long	 n;
	int		 v;

	*cause = NULL;
	if (ctl_line(line, len, buf, sizeof(buf)) == -1)
		return (util_cause(cause, "malformed response header"));
	p = buf;
	ver = strsep(&p, " ");
	if ((v = ctl_version(ver, strlen(ver))) == -1)
		return (util_cause(cause, "malformed response header: not "
		    "an ilbd control socket?"));
	if (v != CTL_VERSION)
		return (util_cause(cause, "ilbd speaks protocol version %d, "
		    "this ilbctl speaks %d: use the ilbctl installed with ilbd",
		    v, CTL_VERSION));
	status = strsep(&p, " ");
	num = p;
	if (status == NULL || num == NULL || (strcmp(status, "OK") != 0 &&
	    strcmp(status, "ERR") != 0 && strcmp(status, "STREAM") != 0) ||
	    *num < '0' || *num > '9')
		return (util_cause(cause, "malformed response header"));
	n = strtoul(num, &end, 10);
	if (*end != '\0' || n > CTL_BODY_MAX || strlen(num) > 10)
		return (util_cause(cause, "malformed response header"));
	if (strcmp(status, "STREAM") == 0 && n != 0)
		return (util_cause(cause, "malformed response header"));
	*ok = strcmp(status, "STREAM") == 0 ? CTL_RESP_STREAM :
	    strcmp(status, "OK") == 0;
	*bodylen = (size_t)n;
	return (0);
}
