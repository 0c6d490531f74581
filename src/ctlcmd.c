/* ctlcmd.c: ilbctl's commands inside ilbd: one handler each, text or JSON. */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "be.h"
#include "cache.h"
#include "cluster.h"
#include "conntab.h"
#include "ctlcmd.h"
#include "ctlcmd_int.h"
#include "daemon.h"
#include "health.h"
#include "lb.h"
#include "log.h"
#include "ltoc.h"
#include "msg.h"
#include "sched.h"
#include "util.h"

#define CTLCMD_TUPLE_LEN	(ILB_ADDRSTRLEN + 8)	/* "[v6]:65535" */
#define CTLCMD_NUM_LEN		24			/* a uint64_t */

/* Who a handler answers for: the daemon's environment and its parts. */
struct ctlcmd_ctx {
	const struct ctlcmd_env	*env;		/* NULL in tests */
	struct daemon		*daemon;	/* NULL in tests */
	struct lb		*lb;
	const struct cluster	*cluster;	/* NULL in tests */
	uint64_t		 now_ms;
};

typedef int (*ctlcmd_fn)(const struct ctlcmd_ctx *, const struct ctl_req *,
    struct evbuffer *, char **);

/* Decimal 0..max, digits only. */
static int
ctlcmd_parse_uint(const char *s, unsigned long max, uint32_t *v)
{
	unsigned long	n = 0;
	size_t		i;

	if (*s == '\0' || strlen(s) > 10)
		return (-1);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		n = n * 10 + (unsigned long)(s[i] - '0');
	}
	if (n > max)
		return (-1);
	*v = (uint32_t)n;
	return (0);
}

/* --- flows and names --- */

static void
ctlcmd_hostport_fmt(int family, const uint8_t *a, const uint8_t *port,
    char *buf, size_t len)
{
	struct ilb_addr	ia;
	char		s[ILB_ADDRSTRLEN];
	unsigned int	p = be16_load(port);

	memset(&ia, 0, sizeof(ia));
	ia.family = (uint8_t)family;
	memcpy(ia.u.b, a, family == AF_INET ? 4 : 16);
	util_addr_fmt(&ia, s, sizeof(s));
	snprintf(buf, len, family == AF_INET ? "%s:%u" : "[%s]:%u", s, p);
}

void
ctlcmd_flow_fmt(const struct flow_key *k, char *client, size_t clen,
    char *vip, size_t vlen)
{
	if (flow_key_idlen(k) == FLOW_ID_V4) {
		ctlcmd_hostport_fmt(AF_INET, k->id + 2, k->id, vip, vlen);
		ctlcmd_hostport_fmt(AF_INET, k->id + 8, k->id + 6, client,
		    clen);
	} else if (flow_key_idlen(k) == FLOW_ID_V6) {
		ctlcmd_hostport_fmt(AF_INET6, k->id + 2, k->id, vip, vlen);
		ctlcmd_hostport_fmt(AF_INET6, k->id + 20, k->id + 18, client,
		    clen);
	} else {
		snprintf(client, clen, "?");
		snprintf(vip, vlen, "?");
	}
}

int
ctlcmd_flow_key(const char *client, const char *vip, struct flow_key *k,
    char **cause)
{
	struct ilb_addr	ca, va;
	uint16_t	cp, vp;
	size_t		alen;

	if (util_hostport_parse(client, &ca, &cp) == -1)
		return (util_cause(cause, "bad client \"%s\": want "
		    "ADDRESS:PORT ([ADDRESS]:PORT for IPv6)", client));
	if (util_hostport_parse(vip, &va, &vp) == -1)
		return (util_cause(cause, "bad VIP \"%s\": want ADDRESS:PORT "
		    "([ADDRESS]:PORT for IPv6)", vip));
	if (ca.family != va.family)
		return (util_cause(cause, "client %s and VIP %s are not of "
		    "the same address family", client, vip));
	alen = util_addr_len(&va);
	memset(k, 0, sizeof(*k));
	k->len = (uint8_t)(alen == 4 ? FLOW_ID_V4 : FLOW_ID_V6);
	be16_store(k->id, vp);
	memcpy(k->id + 2, va.u.b, alen);
	be16_store(k->id + 2 + alen, cp);
	memcpy(k->id + 4 + alen, ca.u.b, alen);
	return (0);
}

const char *
ctlcmd_member_state(const struct cluster_member *m)
{
	return (m->alive ? msg_state_name(m->state) : "gone");
}

/* The id (as in node.id) of the member in slot; NULL for none. */
static const char *
ctlcmd_slot_name(const struct ctlcmd_ctx *ctx, uint16_t slot, char *buf,
    size_t len)
{
	const struct cluster_member	*m;
	size_t				 i;

	if (slot == CONN_SLOT_NONE)
		return (NULL);
	if (ctx->cluster != NULL &&
	    (m = cluster_slot_member(ctx->cluster, slot)) != NULL) {
		snprintf(buf, len, "%s", m->id_text);
		return (buf);
	}
	for (i = 0; i < ctx->lb->nmembers; i++)
		if (ctx->lb->slots[i] == slot)
			return (msg_id_fmt(&ctx->lb->members[i].id, buf, len));
	snprintf(buf, len, "slot %u", (unsigned int)slot);
	return (buf);
}

static const char *
ctlcmd_state_name(unsigned int s)
{
	static const char *const names[CONN_NSTATES] = {
		[CONN_SYN] = "syn",
		[CONN_ESTABLISHED] = "established",
		[CONN_CLOSING] = "closing"
	};

	return (s < CONN_NSTATES ? names[s] : "?");
}

static const char *
ctlcmd_role_name(unsigned int r)
{
	switch (r) {
	case CONN_ROLE_OWNER:
		return ("owner");
	case CONN_ROLE_BACKUP:
		return ("backup");
	case CONN_ROLE_NONE:
		return ("cache");
	default:
		return ("?");
	}
}

/* The configured server of an entry, or NULL if its indices are stale. */
static const struct server_conf *
ctlcmd_entry_server(const struct lb *lb, const struct conn_entry *e,
    const char **svcname)
{
	const struct service_conf	*sc;

	*svcname = NULL;
	if (e->service >= lb->nsvc)
		return (NULL);
	sc = lb->svc[e->service].conf;
	*svcname = sc->name;
	return (e->server < sc->nservers ? &sc->servers[e->server] : NULL);
}

/* The live service named name: its index, or -1 with *err. */
static int
ctlcmd_service_by_name(const struct lb *lb, const char *name, char **err)
{
	int	i;

	/* the live service: a copy that a reload replaced drains beside it */
	if ((i = lb_service_by_name(lb, name)) == -1)
		return (util_cause(err, "unknown service \"%s\"", name));
	return (i);
}

/* Service argv[0] and its server argv[1]: 0, or -1 with *err. */
static int
ctlcmd_server_find(const struct lb *lb, const struct ctl_req *req,
    unsigned int *svc, unsigned int *srv, char **err)
{
	struct ilb_addr	a;
	int		s, i;

	if ((s = ctlcmd_service_by_name(lb, req->argv[0], err)) == -1)
		return (-1);
	if (util_addr_parse(req->argv[1], &a) == -1)
		return (util_cause(err, "bad server address \"%s\"",
		    req->argv[1]));
	if ((i = lb_service_server(lb, (unsigned int)s, &a)) == -1)
		return (util_cause(err, "no server %s in service %s",
		    req->argv[1], req->argv[0]));
	*svc = (unsigned int)s;
	*srv = (unsigned int)i;
	return (0);
}

/* --- filters --- */

/* ADDRESS or ADDRESS:PORT ([ADDRESS]:PORT). */
static int
ctlcmd_addr_port_parse(const char *s, struct ilb_addr *a, uint16_t *port)
{
	*port = 0;
	if (util_addr_parse(s, a) == 0)
		return (0);
	return (util_hostport_parse(s, a, port));
}

int
ctlcmd_filter_parse(const struct ctl_req *req, struct ctlcmd_filter *f,
    char **err)
{
	const char	*w, *v;
	int		 i;

	memset(f, 0, sizeof(*f));
	f->limit = CTLCMD_LIMIT_DEFAULT;
	for (i = 0; i < req->argc; i += 2) {
		w = req->argv[i];
		if (i + 1 >= req->argc)
			return (util_cause(err, "\"%s\" needs a value", w));
		v = req->argv[i + 1];
		if (strcmp(w, "limit") == 0) {
			if (ctlcmd_parse_uint(v, CTLCMD_LIMIT_MAX,
			    &f->limit) == -1 || f->limit == 0)
				return (util_cause(err, "bad limit \"%s\": "
				    "want 1..%u", v, CTLCMD_LIMIT_MAX));
		} else if (strcmp(w, "vip") == 0) {
			if (ctlcmd_addr_port_parse(v, &f->vip, &f->vport) == -1)
				return (util_cause(err, "bad vip \"%s\"", v));
			f->has_vip = 1;
		} else if (strcmp(w, "client") == 0) {
			if (ctlcmd_addr_port_parse(v, &f->client,
			    &f->cport) == -1)
				return (util_cause(err, "bad client \"%s\"",
				    v));
			f->has_client = 1;
		} else
			return (util_cause(err, "unknown filter \"%s\": want "
			    "limit N, vip ADDRESS or client ADDRESS", w));
	}
	return (0);
}

/* Address a (family) and port (0: any) against the key at off. */
static int
ctlcmd_match_one(const struct flow_key *k, const struct ilb_addr *a,
    uint16_t port, size_t off)
{
	size_t	alen = util_addr_len(a);

	if (flow_key_idlen(k) != (alen == 4 ? FLOW_ID_V4 : FLOW_ID_V6))
		return (0);
	if (port != 0 && be16_load(k->id + off) != port)
		return (0);
	return (memcmp(k->id + off + 2, a->u.b, alen) == 0);
}

int
ctlcmd_filter_match(const struct ctlcmd_filter *f, const struct flow_key *k)
{
	size_t	alen = flow_key_idlen(k) == FLOW_ID_V4 ? 4 : 16;

	if (f->has_vip && !ctlcmd_match_one(k, &f->vip, f->vport, 0))
		return (0);
	if (f->has_client &&
	    !ctlcmd_match_one(k, &f->client, f->cport, 2 + alen))
		return (0);
	return (1);
}

/* --- show members --- */

static const struct ctlcmd_col ctlcmd_member_cols[] = {
	{ "ID", "id", CTLCMD_STR },
	{ "ADDRESS", "address", CTLCMD_STR },
	{ "STATE", "state", CTLCMD_STR },
	{ "EPOCH", "epoch", CTLCMD_NUM },
	{ "HEARD(MS AGO)", "last_heard_ms", CTLCMD_NUM },
	{ "LTOC-OWNER", "ltoc_owner", CTLCMD_NUM },
	{ "LTOC-BACKUP", "ltoc_backup", CTLCMD_NUM },
	{ "SELF", "self", CTLCMD_BOOL }
};
#define CTLCMD_NMEMBER_COLS \
	(sizeof(ctlcmd_member_cols) / sizeof(ctlcmd_member_cols[0]))

struct ctlcmd_members {
	struct ctlcmd_table	 t;
	uint32_t		 owner[CLUSTER_MEMBERS_MAX];	/* by slot */
	uint32_t		 backup[CLUSTER_MEMBERS_MAX];
	int			 error;
};

static void
ctlcmd_member_row(void *arg, uint16_t slot, const struct cluster_member *m,
    uint64_t age_ms)
{
	struct ctlcmd_members	*mb = arg;
	char			 addr[ILB_ADDRSTRLEN], epoch[CTLCMD_NUM_LEN];
	char			 heard[CTLCMD_NUM_LEN], own[CTLCMD_NUM_LEN];
	char			 bak[CTLCMD_NUM_LEN];
	const char		*row[CTLCMD_NMEMBER_COLS];

	snprintf(epoch, sizeof(epoch), "%llu", (unsigned long long)m->epoch);
	snprintf(heard, sizeof(heard), "%llu", (unsigned long long)age_ms);
	snprintf(own, sizeof(own), "%u", slot < CLUSTER_MEMBERS_MAX ?
	    mb->owner[slot] : 0);
	snprintf(bak, sizeof(bak), "%u", slot < CLUSTER_MEMBERS_MAX ?
	    mb->backup[slot] : 0);
	row[0] = m->id_text;
	row[1] = m->addr.family != 0 ?
	    util_addr_fmt(&m->addr, addr, sizeof(addr)) : NULL;
	row[2] = ctlcmd_member_state(m);
	row[3] = epoch;
	row[4] = m->self ? NULL : heard;
	row[5] = own;
	row[6] = bak;
	row[7] = m->self ? "yes" : "no";
	if (ctlcmd_table_add(&mb->t, row) == -1)
		mb->error = 1;
}

static int
ctlcmd_show_members(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	struct ctlcmd_members	*mb;
	struct ctlcmd_json	 j;
	struct conn_entry	*e;
	uint32_t		 cur;
	int			 error;

	if (ctx->cluster == NULL)
		return (util_cause(err, "no cluster"));
	if ((mb = calloc(1, sizeof(*mb))) == NULL)
		return (util_cause(err, "out of memory"));
	LTOC_FOREACH(e, &ctx->lb->ltoc, cur) {
		if (e->owner < CLUSTER_MEMBERS_MAX)
			mb->owner[e->owner]++;
		if (e->backup < CLUSTER_MEMBERS_MAX)
			mb->backup[e->backup]++;
	}
	ctlcmd_table_init(&mb->t, ctlcmd_member_cols, CTLCMD_NMEMBER_COLS);
	cluster_foreach_member(ctx->cluster, ctlcmd_member_row, mb);
	if ((error = mb->error) == 0) {
		ctlcmd_table_emit(&mb->t, "members", req->json, out, &j);
		if (req->json)
			ctlcmd_json_end(&j);
	}
	ctlcmd_table_free(&mb->t);
	free(mb);
	return (error ? util_cause(err, "out of memory") : 0);
}

/* --- show services --- */

static const struct ctlcmd_col ctlcmd_service_cols[] = {
	{ "NAME", "name", CTLCMD_STR },
	{ "VIP", "vip", CTLCMD_STR },
	{ "FORWARD", "forward", CTLCMD_STR },
	{ "SCHEDULER", "scheduler", CTLCMD_STR },
	{ "ELIGIBLE", "servers_eligible", CTLCMD_NUM },
	{ "SERVERS", "servers", CTLCMD_NUM },
	{ "OWNED", "owned_connections", CTLCMD_NUM },
	{ "CONNS", "connections_total", CTLCMD_NUM },
	{ "PACKETS", "packets_total", CTLCMD_NUM },
	{ "BYTES", "bytes_total", CTLCMD_NUM },
	{ "PPS", "packets_per_s", CTLCMD_NUM },
	{ "BPS", "bytes_per_s", CTLCMD_NUM },
	{ "PROTO", "protocol", CTLCMD_STR },
	{ "QUIC", "quic", CTLCMD_STR }
};
#define CTLCMD_NSERVICE_COLS \
	(sizeof(ctlcmd_service_cols) / sizeof(ctlcmd_service_cols[0]))

/*
 * What this ILB sent to a service or server (lb_traffic) into the row
 * from cell first: connections, packets, bytes, their rates.
 */
#define CTLCMD_TRAFFIC_COLS	5
struct ctlcmd_traffic {
	char	v[CTLCMD_TRAFFIC_COLS][CTLCMD_NUM_LEN];
};

static void
ctlcmd_traffic_cells(const struct lb_traffic *tr, struct ctlcmd_traffic *c,
    const char **row)
{
	const uint64_t	v[CTLCMD_TRAFFIC_COLS] = { tr->conns, tr->packets,
			    tr->bytes, tr->pps, tr->bps };
	unsigned int	i;

	for (i = 0; i < CTLCMD_TRAFFIC_COLS; i++) {
		snprintf(c->v[i], sizeof(c->v[i]), "%llu",
		    (unsigned long long)v[i]);
		row[i] = c->v[i];
	}
}

static int
ctlcmd_service_row(struct ctlcmd_table *t, const struct lb_service *s)
{
	const struct service_conf	*sc = s->conf;
	char				 a[ILB_ADDRSTRLEN];
	char				 vip[CTLCMD_TUPLE_LEN];
	char				 elig[CTLCMD_NUM_LEN], n[CTLCMD_NUM_LEN];
	char				 owned[CTLCMD_NUM_LEN];
	const char			*row[CTLCMD_NSERVICE_COLS];
	struct ctlcmd_traffic		 tc;
	uint64_t			 sum = 0;
	unsigned int			 i;

	for (i = 0; i < s->nsrv; i++)
		sum += s->srv[i].sched->active;
	util_addr_fmt(&sc->vip, a, sizeof(a));
	snprintf(vip, sizeof(vip), sc->vip.family == AF_INET6 ? "[%s]:%u" :
	    "%s:%u", a, (unsigned int)sc->port);
	snprintf(elig, sizeof(elig), "%u", sched_neligible(&s->sched));
	snprintf(n, sizeof(n), "%u", s->nsrv);
	snprintf(owned, sizeof(owned), "%llu", (unsigned long long)sum);
	row[0] = sc->name;
	row[1] = vip;
	row[2] = config_forward_name(sc->forward);
	row[3] = config_sched_name(sc->scheduler);
	row[4] = elig;
	row[5] = n;
	row[6] = owned;
	ctlcmd_traffic_cells(&s->traffic, &tc, row + 7);
	row[7 + CTLCMD_TRAFFIC_COLS] = config_proto_name(sc->protocol);
	row[8 + CTLCMD_TRAFFIC_COLS] = sc->quic ? "on" : "off";
	return (ctlcmd_table_add(t, row));
}

static int
ctlcmd_show_services(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	struct ctlcmd_table	t;
	struct ctlcmd_json	j;
	unsigned int		i;

	ctlcmd_table_init(&t, ctlcmd_service_cols, CTLCMD_NSERVICE_COLS);
	for (i = 0; i < ctx->lb->nsvc; i++)
		if (ctlcmd_service_row(&t, &ctx->lb->svc[i]) == -1) {
			ctlcmd_table_free(&t);
			return (util_cause(err, "out of memory"));
		}
	ctlcmd_table_emit(&t, "services", req->json, out, &j);
	if (req->json)
		ctlcmd_json_end(&j);
	ctlcmd_table_free(&t);
	return (0);
}

/* --- show servers --- */

static const struct ctlcmd_col ctlcmd_server_cols[] = {
	{ "SERVICE", "service", CTLCMD_STR },
	{ "ADDRESS", "address", CTLCMD_STR },
	{ "HEALTH", "health", CTLCMD_STR },
	{ "DRAINED", "drained", CTLCMD_BOOL },
	{ "WEIGHT", "weight", CTLCMD_NUM },
	{ "CONF", "weight_configured", CTLCMD_NUM },
	{ "OWNED", "owned", CTLCMD_NUM },
	{ "CACHED", "cached", CTLCMD_NUM },
	{ "ACTIVE", "active_known_to_this_node", CTLCMD_NUM },
	{ "ADMIN", "admin", CTLCMD_STR },
	{ "CONNS", "connections_total", CTLCMD_NUM },
	{ "PACKETS", "packets_total", CTLCMD_NUM },
	{ "BYTES", "bytes_total", CTLCMD_NUM },
	{ "PPS", "packets_per_s", CTLCMD_NUM },
	{ "BPS", "bytes_per_s", CTLCMD_NUM },
	{ "CHECK_AGE", "last_check_age_s", CTLCMD_NUM },
	{ "LAST_CHECK", "last_check", CTLCMD_STR }
};
#define CTLCMD_NSERVER_COLS \
	(sizeof(ctlcmd_server_cols) / sizeof(ctlcmd_server_cols[0]))

/*
 * The last health check of server v of s, from the checker whose counters
 * hs are (NULL: no daemon): its age in seconds (NULL if none) and result.
 */
static const char *
ctlcmd_server_check(const struct health_stats *hs,
    const struct lb_service *s, const struct lb_server *v, uint64_t now_ms,
    struct health_check *hc, char *age, size_t len)
{
	if (health_last_check(hs, s->conf->name, &v->conf->addr, hc) == -1 ||
	    !hc->checked || hc->at_ms == 0)
		return (NULL);
	snprintf(age, len, "%llu", (unsigned long long)(now_ms > hc->at_ms ?
	    (now_ms - hc->at_ms) / 1000 : 0));
	return (age);
}

/* One server of service s; its cached count is from lb_server_count(). */
static int
ctlcmd_server_row(struct ctlcmd_table *t, const struct lb *lb,
    const struct lb_service *s, const struct lb_server *v,
    const struct health_stats *hs, uint64_t now_ms)
{
	const struct sched_server	*ss = v->sched;
	char				 a[ILB_ADDRSTRLEN];
	char				 w[CTLCMD_NUM_LEN], o[CTLCMD_NUM_LEN];
	char				 c[CTLCMD_NUM_LEN], k[CTLCMD_NUM_LEN];
	char				 cw[CTLCMD_NUM_LEN];
	char				 ad[ILB_ADDRSTRLEN + 16];
	char				 age[CTLCMD_NUM_LEN];
	const char			*row[CTLCMD_NSERVER_COLS];
	struct ctlcmd_traffic		 tc;
	struct health_check		 hc;

	snprintf(w, sizeof(w), "%u", ss->weight);
	snprintf(cw, sizeof(cw), "%u", v->conf->weight);
	snprintf(o, sizeof(o), "%u", ss->active);
	snprintf(c, sizeof(c), "%u", v->cached);
	snprintf(k, sizeof(k), "%llu",
	    (unsigned long long)ss->active + v->cached);
	row[0] = s->conf->name;
	row[1] = util_addr_fmt(&v->conf->addr, a, sizeof(a));
	row[2] = ss->up ? "up" : "down";
	row[3] = ss->drained ? "yes" : "no";
	row[4] = w;
	row[5] = cw;
	row[6] = o;
	row[7] = c;
	row[8] = k;
	row[9] = ctlcmd_admin_source(lb, s, v, ad, sizeof(ad));
	ctlcmd_traffic_cells(&v->traffic, &tc, row + 10);
	row[15] = ctlcmd_server_check(hs, s, v, now_ms, &hc, age, sizeof(age));
	row[16] = health_check_text(&hc);
	return (ctlcmd_table_add(t, row));
}

static int
ctlcmd_show_servers(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	struct lb			*lb = ctx->lb;
	struct daemon_counter_parts	 p;
	struct ctlcmd_table		 t;
	struct ctlcmd_json		 j;
	unsigned int			 i, k;
	int				 rc = 0;

	memset(&p, 0, sizeof(p));
	if (ctx->daemon != NULL)
		daemon_counter_parts(ctx->daemon, &p);
	lb_server_count(lb);
	ctlcmd_table_init(&t, ctlcmd_server_cols, CTLCMD_NSERVER_COLS);
	for (i = 0; i < lb->nsvc && rc == 0; i++)
		for (k = 0; k < lb->svc[i].nsrv && rc == 0; k++)
			rc = ctlcmd_server_row(&t, lb, &lb->svc[i],
			    &lb->svc[i].srv[k], p.health, ctx->now_ms);
	if (rc == 0) {
		if (!req->json)
			evbuffer_add_printf(out, "# ACTIVE: connections as "
			    "known to this node (OWNED here + CACHED); "
			    "CONNS PACKETS BYTES: sent by this node, PPS BPS "
			    "over the last %us\n", LB_RATE_MS / 1000);
		ctlcmd_table_emit(&t, "servers", req->json, out, &j);
		if (req->json)
			ctlcmd_json_end(&j);
	}
	ctlcmd_table_free(&t);
	return (rc == 0 ? 0 : util_cause(err, "out of memory"));
}

/* --- show connections, show cache --- */

static const struct ctlcmd_col ctlcmd_conn_cols[] = {
	{ "CLIENT", "client", CTLCMD_STR },
	{ "VIP", "vip", CTLCMD_STR },
	{ "SERVICE", "service", CTLCMD_STR },
	{ "SERVER", "server", CTLCMD_STR },
	{ "ROLE", "role", CTLCMD_STR },
	{ "STATE", "state", CTLCMD_STR },
	{ "OWNER", "owner", CTLCMD_STR },
	{ "BACKUP", "backup", CTLCMD_STR },
	{ "IDLE(S)", "idle_s", CTLCMD_NUM },
	{ "PROTO", "protocol", CTLCMD_STR }
};
#define CTLCMD_NCONN_COLS \
	(sizeof(ctlcmd_conn_cols) / sizeof(ctlcmd_conn_cols[0]))

static uint32_t
ctlcmd_idle_s(const struct ctlcmd_ctx *ctx, const struct conn_entry *e)
{
	uint64_t	now_s = (ctx->now_ms + 999) / 1000;	/* as conntab */

	return (now_s > e->last ? (uint32_t)(now_s - e->last) : 0);
}

/* One row's cells, in their own buffers. */
struct ctlcmd_conn_cells {
	char		 client[CTLCMD_TUPLE_LEN];
	char		 vip[CTLCMD_TUPLE_LEN];
	char		 server[ILB_ADDRSTRLEN];
	char		 owner[ILB_ADDRSTRLEN];
	char		 backup[ILB_ADDRSTRLEN];
	char		 idle[CTLCMD_NUM_LEN];
	const char	*row[CTLCMD_NCONN_COLS];
};

static void
ctlcmd_conn_cells(const struct ctlcmd_ctx *ctx, const struct conn_entry *e,
    struct ctlcmd_conn_cells *r)
{
	const struct server_conf	*srv;
	const char			*svc;

	ctlcmd_flow_fmt(&e->key, r->client, sizeof(r->client), r->vip,
	    sizeof(r->vip));
	srv = ctlcmd_entry_server(ctx->lb, e, &svc);
	snprintf(r->idle, sizeof(r->idle), "%u", ctlcmd_idle_s(ctx, e));
	r->row[0] = r->client;
	r->row[1] = r->vip;
	r->row[2] = svc;
	r->row[3] = srv != NULL ?
	    util_addr_fmt(&srv->addr, r->server, sizeof(r->server)) : NULL;
	r->row[4] = ctlcmd_role_name(e->role);
	r->row[5] = ctlcmd_state_name(e->state);
	r->row[6] = ctlcmd_slot_name(ctx, e->owner, r->owner,
	    sizeof(r->owner));
	r->row[7] = ctlcmd_slot_name(ctx, e->backup, r->backup,
	    sizeof(r->backup));
	r->row[8] = r->idle;
	r->row[9] = flow_key_is_udp(&e->key) ? "udp" : "tcp";
}

/* The text footer or the JSON members after the rows. */
static void
ctlcmd_conns_end(const struct ctl_req *req, struct evbuffer *out,
    struct ctlcmd_json *j, const struct ctlcmd_filter *f, uint64_t total,
    uint64_t shown, int enabled)
{
	if (!req->json) {
		evbuffer_add_printf(out, "%s%llu of %llu %s shown%s\n",
		    enabled ? "" : "cache disabled (tables.cache_size = 0): ",
		    (unsigned long long)shown, (unsigned long long)total,
		    total == 1 ? "entry" : "entries",
		    total > shown ? " (truncated: raise limit)" : "");
		return;
	}
	ctlcmd_json_close(j, ']');
	ctlcmd_json_num(j, "total", total);
	ctlcmd_json_num(j, "shown", shown);
	ctlcmd_json_num(j, "limit", f->limit);
	ctlcmd_json_bool(j, "truncated", total > shown);
	ctlcmd_json_bool(j, "enabled", enabled);
	ctlcmd_json_end(j);
}

/*
 * One walk of the LTOC (cache == 0) or the cache over the entries that
 * pass f: measure the first limit rows (j NULL, text), print them (j
 * NULL, emit), or write them as JSON; returns how many pass f.
 */
static uint64_t
ctlcmd_conns_walk(const struct ctlcmd_ctx *ctx, int cache,
    const struct ctlcmd_filter *f, struct ctlcmd_table *t,
    struct evbuffer *out, struct ctlcmd_json *j)
{
	struct ctlcmd_conn_cells	 r;
	struct conn_entry		*e;
	uint64_t			 total = 0;
	uint32_t			 cur = 0;

	while ((e = cache ? cache_next(&ctx->lb->cache, &cur) :
	    ltoc_next(&ctx->lb->ltoc, &cur)) != NULL) {
		if (!ctlcmd_filter_match(f, &e->key) || total++ >= f->limit)
			continue;
		ctlcmd_conn_cells(ctx, e, &r);
		if (j != NULL)
			ctlcmd_table_row_json(t, j, r.row);
		else if (out != NULL)
			ctlcmd_table_row_text(t, out, r.row);
		else
			ctlcmd_table_measure(t, r.row);
	}
	return (total);
}

/*
 * show connections|cache: streamed, never copied (up to CTL_LIMIT_MAX
 * rows); text takes two walks, one to measure the columns.
 */
static int
ctlcmd_conns(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    int cache, struct evbuffer *out, char **err)
{
	struct ctlcmd_filter	f;
	struct ctlcmd_table	t;
	struct ctlcmd_json	j;
	uint64_t		total;
	int			enabled;

	if (ctlcmd_filter_parse(req, &f, err) == -1)
		return (-1);
	enabled = !cache || cache_enabled(&ctx->lb->cache);
	ctlcmd_table_init(&t, ctlcmd_conn_cols, CTLCMD_NCONN_COLS);
	if (req->json) {
		ctlcmd_json_init(&j, out);
		ctlcmd_json_open(&j, NULL, '{');
		ctlcmd_json_open(&j, cache ? "cache" : "connections", '[');
		total = ctlcmd_conns_walk(ctx, cache, &f, &t, NULL, &j);
	} else {
		ctlcmd_conns_walk(ctx, cache, &f, &t, NULL, NULL);
		ctlcmd_table_text(&t, out);		/* the header */
		total = ctlcmd_conns_walk(ctx, cache, &f, &t, out, NULL);
	}
	ctlcmd_conns_end(req, out, &j, &f, total,
	    total < f.limit ? total : f.limit, enabled);
	return (0);
}

static int
ctlcmd_show_connections(const struct ctlcmd_ctx *ctx,
    const struct ctl_req *req, struct evbuffer *out, char **err)
{
	return (ctlcmd_conns(ctx, req, 0, out, err));
}

static int
ctlcmd_show_cache(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	return (ctlcmd_conns(ctx, req, 1, out, err));
}

/* --- show stats --- */

int
ctlcmd_stats_begin(struct ctlcmd_stats *st, struct evbuffer *out, int json)
{
	memset(st, 0, sizeof(*st));
	st->out = out;
	st->json = json;
	if (!json)
		return (0);
	if ((st->labelled = evbuffer_new()) == NULL)
		return (-1);
	evbuffer_add_printf(out, "{\"counters\":{");
	return (0);
}

void
ctlcmd_stats_put(void *arg, const struct dp_counter *c)
{
	struct ctlcmd_stats	*st = arg;
	struct evbuffer		*lb = st->labelled;
	char			 key[96];

	daemon_counter_key(c, key, sizeof(key));
	if (!st->json) {
		evbuffer_add_printf(st->out, c->labels[0] != '\0' ?
		    "%s{%s} %llu\n" : "%s%s %llu\n", key, c->labels,
		    (unsigned long long)c->value);
	} else if (c->labels[0] == '\0') {
		if (st->nplain++ > 0)
			evbuffer_add(st->out, ",", 1);
		ctlcmd_json_string(st->out, key);
		evbuffer_add_printf(st->out, ":%llu",
		    (unsigned long long)c->value);
	} else {
		evbuffer_add_printf(lb, "%s{\"name\":",
		    st->nlabelled++ > 0 ? "," : "");
		ctlcmd_json_string(lb, key);
		evbuffer_add_printf(lb, ",\"type\":\"%s\",\"labels\":",
		    c->type == DP_GAUGE ? "gauge" : "counter");
		if (ctlcmd_labels_json(lb, c->labels) == -1)
			ctlcmd_json_string(lb, c->labels);
		evbuffer_add_printf(lb, ",\"value\":%llu}",
		    (unsigned long long)c->value);
	}
}

void
ctlcmd_stats_end(struct ctlcmd_stats *st)
{
	if (!st->json)
		return;
	evbuffer_add_printf(st->out, "},\"labelled\":[");
	evbuffer_add_buffer(st->out, st->labelled);
	evbuffer_add_printf(st->out, "]}\n");
	evbuffer_free(st->labelled);
	st->labelled = NULL;
}

static int
ctlcmd_show_stats(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	struct ctlcmd_stats	st;

	if (ctx->daemon == NULL)
		return (util_cause(err, "no data path"));
	if (ctlcmd_stats_begin(&st, out, req->json) == -1)
		return (util_cause(err, "out of memory"));
	daemon_foreach_counter(ctx->daemon, ctlcmd_stats_put, &st);
	ctlcmd_stats_end(&st);
	return (0);
}

/* --- show owner --- */

/* What one table knows of the key: null, or {role, state, server, ...}. */
static void
ctlcmd_owner_entry_json(const struct ctlcmd_ctx *ctx, struct ctlcmd_json *j,
    const char *key, const struct conn_entry *e)
{
	const struct server_conf	*srv;
	const char			*svc;
	char				 a[ILB_ADDRSTRLEN], n[ILB_ADDRSTRLEN];

	if (e == NULL) {
		ctlcmd_json_str(j, key, NULL);
		return;
	}
	srv = ctlcmd_entry_server(ctx->lb, e, &svc);
	ctlcmd_json_open(j, key, '{');
	ctlcmd_json_str(j, "role", ctlcmd_role_name(e->role));
	ctlcmd_json_str(j, "state", ctlcmd_state_name(e->state));
	ctlcmd_json_str(j, "server", srv != NULL ?
	    util_addr_fmt(&srv->addr, a, sizeof(a)) : NULL);
	ctlcmd_json_str(j, "owner", ctlcmd_slot_name(ctx, e->owner, n,
	    sizeof(n)));
	ctlcmd_json_str(j, "backup", ctlcmd_slot_name(ctx, e->backup, n,
	    sizeof(n)));
	ctlcmd_json_num(j, "idle_s", ctlcmd_idle_s(ctx, e));
	ctlcmd_json_close(j, '}');
}

static void
ctlcmd_owner_entry_text(const struct ctlcmd_ctx *ctx, struct evbuffer *out,
    const char *key, const struct conn_entry *e)
{
	const struct server_conf	*srv;
	const char			*svc;
	char				 a[ILB_ADDRSTRLEN];
	char				 o[ILB_ADDRSTRLEN], b[ILB_ADDRSTRLEN];
	const char			*on, *bn;

	if (e == NULL) {
		evbuffer_add_printf(out, "%-8s -\n", key);
		return;
	}
	srv = ctlcmd_entry_server(ctx->lb, e, &svc);
	on = ctlcmd_slot_name(ctx, e->owner, o, sizeof(o));
	bn = ctlcmd_slot_name(ctx, e->backup, b, sizeof(b));
	evbuffer_add_printf(out, "%-8s %s %s server %s owner %s backup %s "
	    "idle %us\n", key, ctlcmd_role_name(e->role),
	    ctlcmd_state_name(e->state), srv != NULL ?
	    util_addr_fmt(&srv->addr, a, sizeof(a)) : "-", on ? on : "-",
	    bn ? bn : "-", ctlcmd_idle_s(ctx, e));
}

/* What show owner found. */
struct ctlcmd_owner {
	struct flow_key		 key;
	const char		*service;
	const char		*owner;		/* member ids or NULL */
	const char		*backup;
	const char		*self;		/* owner, backup or neither */
	struct conn_entry	*ltoc;
	struct conn_entry	*cache;
};

static void
ctlcmd_owner_emit(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    const struct ctlcmd_owner *w, struct evbuffer *out)
{
	struct ctlcmd_json	j;
	char			c[CTLCMD_TUPLE_LEN], v[CTLCMD_TUPLE_LEN];

	ctlcmd_flow_fmt(&w->key, c, sizeof(c), v, sizeof(v));
	if (!req->json) {
		evbuffer_add_printf(out, "client   %s\nvip      %s\n"
		    "service  %s\nowner    %s\nbackup   %s\nself     %s\n",
		    c, v, w->service, w->owner ? w->owner : "-",
		    w->backup ? w->backup : "-", w->self);
		ctlcmd_owner_entry_text(ctx, out, "ltoc", w->ltoc);
		ctlcmd_owner_entry_text(ctx, out, "cache", w->cache);
		return;
	}
	ctlcmd_json_init(&j, out);
	ctlcmd_json_open(&j, NULL, '{');
	ctlcmd_json_str(&j, "client", c);
	ctlcmd_json_str(&j, "vip", v);
	ctlcmd_json_str(&j, "service", w->service);
	ctlcmd_json_str(&j, "owner", w->owner);
	ctlcmd_json_str(&j, "backup", w->backup);
	ctlcmd_json_str(&j, "self", w->self);
	ctlcmd_owner_entry_json(ctx, &j, "ltoc", w->ltoc);
	ctlcmd_owner_entry_json(ctx, &j, "cache", w->cache);
	ctlcmd_json_end(&j);
}

static int
ctlcmd_show_owner(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	struct lb		*lb = ctx->lb;
	struct ctlcmd_owner	 w;
	char			 o[ILB_ADDRSTRLEN], b[ILB_ADDRSTRLEN];
	int			 svc, oi, bi;

	memset(&w, 0, sizeof(w));
	if (ctlcmd_flow_key(req->argv[0], req->argv[1], &w.key, err) == -1)
		return (-1);
	if (req->argc == 3 && strcmp(req->argv[2], "udp") == 0)
		w.key.len |= FLOW_KEY_UDP;
	else if (req->argc == 3 && strcmp(req->argv[2], "tcp") != 0)
		return (util_cause(err, "unexpected \"%s\": want tcp or udp",
		    req->argv[2]));
	if ((svc = lb_service_find(lb, &w.key)) < 0)
		return (util_cause(err, "no service for %s", req->argv[1]));
	lb_rank(lb, &w.key, &oi, &bi);
	w.service = lb->svc[svc].conf->name;
	w.owner = oi < 0 ? NULL :
	    ctlcmd_slot_name(ctx, lb->slots[oi], o, sizeof(o));
	w.backup = bi < 0 ? NULL :
	    ctlcmd_slot_name(ctx, lb->slots[bi], b, sizeof(b));
	w.self = oi >= 0 && (size_t)oi == lb->self ? "owner" :
	    bi >= 0 && (size_t)bi == lb->self ? "backup" : "neither";
	/* lookups count in the tables' lookups/hits; peek does not touch */
	w.ltoc = ltoc_lookup(&lb->ltoc, &w.key);
	w.cache = cache_enabled(&lb->cache) ?
	    cache_peek(&lb->cache, &w.key) : NULL;
	ctlcmd_owner_emit(ctx, req, &w, out);
	return (0);
}

/* --- server drain|enable|weight (ctlcmd_admin.c) --- */

static int
ctlcmd_server_drained(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err, int drained)
{
	unsigned int	svc, srv;

	if (req->argc == 3 && !ctlcmd_admin_local(req, 2))
		return (util_cause(err, "unexpected \"%s\"", req->argv[2]));
	if (ctlcmd_server_find(ctx->lb, req, &svc, &srv, err) == -1)
		return (-1);
	return (ctlcmd_admin_set(ctx->daemon, ctx->lb, req, svc, srv,
	    drained, -1, ctlcmd_admin_local(req, 2), out, err));
}

static int
ctlcmd_server_drain(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	return (ctlcmd_server_drained(ctx, req, out, err, 1));
}

static int
ctlcmd_server_enable(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	return (ctlcmd_server_drained(ctx, req, out, err, 0));
}

static int
ctlcmd_server_weight(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	unsigned int	svc, srv;
	uint32_t	w;

	if (req->argc == 4 && !ctlcmd_admin_local(req, 3))
		return (util_cause(err, "unexpected \"%s\"", req->argv[3]));
	if (ctlcmd_server_find(ctx->lb, req, &svc, &srv, err) == -1)
		return (-1);
	if (ctlcmd_parse_uint(req->argv[2], SCHED_WEIGHT_MAX, &w) == -1)
		return (util_cause(err, "bad weight \"%s\": want 0..%u",
		    req->argv[2], SCHED_WEIGHT_MAX));
	return (ctlcmd_admin_set(ctx->daemon, ctx->lb, req, svc, srv, -1,
	    (int)w, ctlcmd_admin_local(req, 3), out, err));
}

/* --- leave, reload --- */

static int
ctlcmd_leave(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	if (ctx->env == NULL || ctx->env->leave == NULL)
		return (util_cause(err, "leave is not available"));
	log_info("control: leaving the cluster");
	ctlcmd_answer(req, out, "leaving the cluster");
	ctx->env->leave(ctx->env->arg);
	return (0);
}

static int
ctlcmd_reload(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	char		*result = NULL;
	uint64_t	 noted;
	int		 rc;

	if (ctx->env == NULL || ctx->env->reload == NULL)
		return (util_cause(err, "reload is not available"));
	noted = ctx->daemon != NULL ? daemon_info(ctx->daemon)->reloads : 0;
	rc = ctx->env->reload(ctx->env->arg, &result);
	/* refused before daemon_reload() (file, node.id): note it here */
	if (ctx->daemon != NULL && daemon_info(ctx->daemon)->reloads == noted)
		daemon_note_reload(ctx->daemon, rc == 0, result != NULL ?
		    result : "reload failed");
	if (rc == -1) {
		if (result == NULL)
			return (util_cause(err, "reload failed"));
		*err = result;
		return (-1);
	}
	ctlcmd_answer(req, out, result != NULL ? result : "reloaded");
	free(result);
	return (0);
}

static int
ctlcmd_info(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	return (ctlcmd_show_info(ctx->daemon, ctx->cluster, req, ctx->now_ms,
	    out, err));
}

/* The control socket streams monitor itself (control.c): not a reply. */
static int
ctlcmd_monitor(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	(void)ctx;
	(void)req;
	(void)out;
	return (util_cause(err, "monitor is served by the control socket "
	    "only"));
}

/* --- dispatch --- */

static const struct ctlcmd_def {
	const char	*name;
	int		 minargs;
	int		 maxargs;
	ctlcmd_fn	 fn;
} ctlcmd_defs[CTL_CMD_MAX] = {
	[CTL_SHOW_MEMBERS] = { "show members", 0, 0, ctlcmd_show_members },
	[CTL_SHOW_SERVICES] = { "show services", 0, 0, ctlcmd_show_services },
	[CTL_SHOW_SERVERS] = { "show servers", 0, 0, ctlcmd_show_servers },
	[CTL_SHOW_CONNECTIONS] = { "show connections", 0, 6,
	    ctlcmd_show_connections },
	[CTL_SHOW_CACHE] = { "show cache", 0, 6, ctlcmd_show_cache },
	[CTL_SHOW_STATS] = { "show stats", 0, 0, ctlcmd_show_stats },
	[CTL_SHOW_OWNER] = { "show owner", 2, 3, ctlcmd_show_owner },
	[CTL_SERVER_DRAIN] = { "server drain", 2, 3, ctlcmd_server_drain },
	[CTL_SERVER_ENABLE] = { "server enable", 2, 3, ctlcmd_server_enable },
	[CTL_SERVER_WEIGHT] = { "server weight", 3, 4, ctlcmd_server_weight },
	[CTL_LEAVE] = { "leave", 0, 0, ctlcmd_leave },
	[CTL_RELOAD] = { "reload", 0, 0, ctlcmd_reload },
	[CTL_SHOW_INFO] = { "show info", 0, 0, ctlcmd_info },
	[CTL_MONITOR] = { "monitor", 0, 1, ctlcmd_monitor }
};

const char *
ctlcmd_name(int cmd)
{
	if (cmd < 0 || cmd >= CTL_CMD_MAX)
		return (NULL);
	return (ctlcmd_defs[cmd].name);
}

/* The request's shape: a known command, operands within bounds. */
static const struct ctlcmd_def *
ctlcmd_check(const struct ctl_req *req, char **err)
{
	const struct ctlcmd_def	*d;
	int			 i;

	if ((int)req->cmd < 0 || req->cmd >= CTL_CMD_MAX ||
	    ctlcmd_defs[req->cmd].fn == NULL) {
		util_cause(err, "unknown command %d", (int)req->cmd);
		return (NULL);
	}
	d = &ctlcmd_defs[req->cmd];
	if (req->argc < 0 || req->argc > CTL_ARGS_MAX) {
		util_cause(err, "%s: malformed request", d->name);
		return (NULL);
	}
	for (i = 0; i < req->argc; i++)
		if (memchr(req->argv[i], '\0', CTL_ARG_LEN) == NULL) {
			util_cause(err, "%s: operand %d too long", d->name,
			    i + 1);
			return (NULL);
		}
	if (req->argc < d->minargs || req->argc > d->maxargs) {
		util_cause(err, "%s: %s", d->name, req->argc < d->minargs ?
		    "missing operand" : "too many operands");
		return (NULL);
	}
	return (d);
}

static int
ctlcmd_dispatch(const struct ctlcmd_ctx *ctx, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	const struct ctlcmd_def	*d;
	struct evbuffer		*tmp;
	int			 rc;

	*err = NULL;
	if ((d = ctlcmd_check(req, err)) == NULL)
		rc = -1;
	else if (ctx->lb == NULL)
		rc = util_cause(err, "no data path");
	else if ((tmp = evbuffer_new()) == NULL)
		rc = util_cause(err, "out of memory");
	else {
		/* a failed handler leaves out untouched */
		if ((rc = d->fn(ctx, req, tmp, err)) == 0 &&
		    evbuffer_add_buffer(out, tmp) == -1)
			rc = util_cause(err, "out of memory");
		evbuffer_free(tmp);
	}
	if (rc == -1) {
		if (*err == NULL)
			*err = strdup("failed");
		log_debug("control: %s: %s", d != NULL ? d->name : "?",
		    *err != NULL ? *err : "failed");
	}
	return (rc);
}

int
ctlcmd_view_handle(const struct ctlcmd_view *v, const struct ctl_req *req,
    struct evbuffer *out, char **err)
{
	struct ctlcmd_ctx	ctx;

	ctx.env = v->env;
	ctx.daemon = v->daemon;
	ctx.lb = v->lb;
	ctx.cluster = v->cluster;
	ctx.now_ms = v->now_ms;
	return (ctlcmd_dispatch(&ctx, req, out, err));
}

int
ctlcmd_handle(void *arg, const struct ctl_req *req, struct evbuffer *out,
    char **err)
{
	const struct ctlcmd_env	*env = arg;
	struct ctlcmd_ctx	 ctx;

	ctx.env = env;
	ctx.daemon = env->daemon;
	ctx.lb = env->daemon != NULL ? daemon_lb(env->daemon) : NULL;
	ctx.cluster = env->daemon != NULL ? daemon_cluster(env->daemon) :
	    NULL;
	ctx.now_ms = util_now_ms();
	return (ctlcmd_dispatch(&ctx, req, out, err));
}
