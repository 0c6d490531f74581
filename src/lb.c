/* lb.c: the per-packet decision of an ILB (claims 13-15), pure. */

#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "conntab.h"
#include "lb.h"
#include "ltoc.h"
#include "packet.h"
#include "sched.h"
#include "score.h"
#include "stats.h"
#include "util.h"

/* What lb_decide() knows of one packet once it is scored. */
struct lb_pkt {
	const struct pkt_info	*pi;
	unsigned int		 svc;		/* service index */
	int			 owner;		/* member index */
	int			 backup;	/* member index or -1 */
	int			 by_handoff;
	uint64_t		 now;
};

/* A membership to score entries against: the current or a prospective. */
struct lb_view {
	const struct score_member	*m;
	const uint16_t			*slots;
	size_t				 n;
};

/* Where one LTOC entry goes under a view, and who tells the new holders. */
struct lb_move {
	int		owner;		/* new owner: view index or -1 */
	int		backup;		/* new backup: view index or -1 */
	uint16_t	oslot;		/* their slots or CONN_SLOT_NONE */
	uint16_t	bslot;
	int		responsible;	/* self sends to the new holders */
};

const struct lb_stats_desc lb_stats_desc[] = {
#define LB_STATS_DESC(name, help)					\
	{ #name, help, offsetof(struct lb_stats, name) },
	LB_STATS_FOREACH(LB_STATS_DESC)
#undef LB_STATS_DESC
};

_Static_assert(sizeof(lb_stats_desc) / sizeof(lb_stats_desc[0]) ==
    LB_STATS_N, "lb_stats_desc and struct lb_stats disagree");
_Static_assert((LB_QUEUE_LEN & (LB_QUEUE_LEN - 1)) == 0,
    "LB_QUEUE_LEN must be a power of two");
_Static_assert((LB_EST_RING & (LB_EST_RING - 1)) == 0,
    "LB_EST_RING must be a power of two");

static const char *const lb_drop_names[LB_DROP_MAX] = {
	"none", "bad_packet", "not_tcp", "fragment", "no_members",
	"no_service", "no_server", "ltoc_full", "misrouted", "orphan",
	"icmp_orphan"
};

static const char *const lb_path_names[] = {
	"none", "owner", "backup", "cache", "hash"
};

const char *
lb_drop_name(int d)
{
	if (d < 0 || d >= LB_DROP_MAX)
		return ("unknown");
	return (lb_drop_names[d]);
}

const char *
lb_path_name(int p)
{
	if (p < 0 || (size_t)p >= sizeof(lb_path_names) /
	    sizeof(lb_path_names[0]))
		return ("unknown");
	return (lb_path_names[p]);
}

uint64_t
lb_stats_get(const struct lb_stats *st, size_t i)
{
	uint64_t	v;

	if (i >= LB_STATS_N)
		return (0);
	memcpy(&v, (const uint8_t *)st + lb_stats_desc[i].off, sizeof(v));
	return (v);
}

/* FNV-1a of dport | daddr, finalised: the service hash. */
static uint32_t
lb_svc_hash(const uint8_t *b, size_t len)
{
	uint32_t	h = 2166136261U;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619U;
	return (score_mix32(h));
}

/* Bytes of the key that name the service: 6 (v4), 18 (v6) or 0. */
static size_t
lb_svc_keylen(const struct flow_key *key)
{
	if (key->len == FLOW_ID_V4)
		return (2 + 4);
	if (key->len == FLOW_ID_V6)
		return (2 + 16);
	return (0);
}

int
lb_service_find(const struct lb *lb, const struct flow_key *key)
{
	const struct lb_service	*s;
	size_t			 len;
	uint32_t		 i, h;

	if ((len = lb_svc_keylen(key)) == 0 || lb->nsvc == 0)
		return (-1);
	h = lb_svc_hash(key->id, len);
	for (i = 0; i <= lb->svc_mask; i++) {
		uint16_t v = lb->svc_hash[(h + i) & lb->svc_mask];

		if (v == 0)
			return (-1);
		s = &lb->svc[v - 1];
		if (s->mlen == len && memcmp(s->match, key->id, len) == 0)
			return (v - 1);
	}
	return (-1);
}

/* Format a user-facing error into *cause, if cause is not NULL. */
static void __attribute__((format(printf, 2, 3)))
lb_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;

	errno = EINVAL;
	if (cause == NULL || *cause != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
	errno = EINVAL;
}

/* The dport | vip bytes, as in a key, that service s answers to. */
static void
lb_svc_match(struct lb_service *s)
{
	const struct service_conf	*c = s->conf;
	size_t				 alen;

	alen = c->vip.family == AF_INET6 ? 16 : 4;
	s->match[0] = (uint8_t)(c->port >> 8);
	s->match[1] = (uint8_t)c->port;
	memcpy(s->match + 2, c->vip.u.b, alen);
	s->mlen = (uint8_t)(2 + alen);
}

/* Enter svc[i] in hash; -1 if its VIP:port is already there. */
static int
lb_hash_add(uint16_t *hash, uint32_t mask, const struct lb_service *svc,
    unsigned int i)
{
	const struct lb_service	*s = &svc[i];
	uint32_t		 h, j;

	h = lb_svc_hash(s->match, s->mlen);
	for (j = 0; j <= mask; j++) {
		uint16_t *v = &hash[(h + j) & mask];

		if (*v == 0) {
			*v = (uint16_t)(i + 1);
			return (0);
		}
		if (svc[*v - 1].mlen == s->mlen &&
		    memcmp(svc[*v - 1].match, s->match, s->mlen) == 0)
			return (-1);
	}
	return (-1);
}

/*
 * The service lookup for svc[0..n): live services first, so a draining
 * service never hides a live one on the same VIP:port (a renamed service,
 * or one whose forward method changed); a draining service's connections
 * need no lookup, their entries carry its index.
 */
static int
lb_hash_build(const struct lb_service *svc, unsigned int n, uint16_t **hashp,
    uint32_t *maskp, char **cause)
{
	uint16_t	*hash;
	uint32_t	 m;
	unsigned int	 i, pass;

	for (m = 16; m < 2 * n; m <<= 1)
		;
	if ((hash = calloc(m, sizeof(*hash))) == NULL)
		return (-1);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			if (svc[i].removed != pass ||
			    lb_hash_add(hash, m - 1, svc, i) == 0 || pass == 1)
				continue;
			lb_cause(cause, "service %s: its VIP:port is used by "
			    "another service", svc[i].conf->name);
			free(hash);
			return (-1);
		}
	}
	*hashp = hash;
	*maskp = m - 1;
	return (0);
}

/* Free what lb owns of a service: its config copy and its scheduler. */
static void
lb_svc_release(struct lb_service *s)
{
	sched_free(&s->sched);
	if (s->own != NULL)
		free(s->own->servers);
	free(s->own);
	free(s->gone);
	memset(s, 0, sizeof(*s));
}

/* Owner entries count as active connections of their server. */
static void
lb_entry_unaccount(struct lb *lb, const struct conn_entry *e)
{
	if (e->role == CONN_ROLE_OWNER && e->service < lb->nsvc)
		sched_conn_del(&lb->svc[e->service].sched, e->server);
}

static void
lb_ltoc_expired(void *arg, const struct conn_entry *e)
{
	struct lb	*lb = arg;

	lb_entry_unaccount(lb, e);
	lb->stats.ltoc_expired++;
}

/* What table entries and queued records still use: per old index. */
struct lb_refs {
	uint8_t		 *svc;		/* nsvc flags */
	uint8_t		**srv;		/* nsvc arrays of sched.n flags */
	unsigned int	  n;
};

/* One index of a rebuilt service's server list. */
struct lb_srvslot {
	int		cfg;		/* new config server, -1: removed */
	int		same;		/* continues the old server there */
};

/* One index of the service table being built. */
struct lb_svcslot {
	int		cfg;		/* new config service, -1: removed */
	int		cont;		/* continues the old service there */
};

static void
lb_refs_free(struct lb_refs *r)
{
	unsigned int	i;

	for (i = 0; i < r->n && r->srv != NULL; i++)
		free(r->srv[i]);
	free(r->srv);
	free(r->svc);
	memset(r, 0, sizeof(*r));
}

static void
lb_refs_mark(struct lb_refs *r, const struct lb *lb, unsigned int svc,
    unsigned int srv)
{
	if (svc >= r->n)
		return;
	r->svc[svc] = 1;
	if (srv < lb->svc[svc].sched.n)
		r->srv[svc][srv] = 1;
}

/*
 * Which services and servers LTOC and cache entries and queued records
 * use: those may not be freed or given to another. One walk of each table.
 */
static int
lb_refs_collect(struct lb *lb, struct lb_refs *r)
{
	struct conn_entry	*e;
	uint32_t		 cursor, q;
	unsigned int		 i;

	memset(r, 0, sizeof(*r));
	if (lb->nsvc == 0)
		return (0);
	r->n = lb->nsvc;
	if ((r->svc = calloc(r->n, 1)) == NULL ||
	    (r->srv = calloc(r->n, sizeof(*r->srv))) == NULL)
		goto fail;
	for (i = 0; i < r->n; i++)
		if ((r->srv[i] = calloc(lb->svc[i].sched.n, 1)) == NULL)
			goto fail;
	LTOC_FOREACH(e, &lb->ltoc, cursor)
		lb_refs_mark(r, lb, e->service, e->server);
	CACHE_FOREACH(e, &lb->cache, cursor)
		lb_refs_mark(r, lb, e->service, e->server);
	for (q = lb->qhead; q != lb->qtail; q++) {
		const struct lb_record *rec = &lb->queue[q & (LB_QUEUE_LEN - 1)];

		lb_refs_mark(r, lb, rec->service, rec->server);
	}
	return (0);
fail:
	lb_refs_free(r);
	return (-1);
}

/* Index of the server of old with address a not yet taken in sl, or -1. */
static int
lb_srv_find(const struct lb_service *old, const struct lb_srvslot *sl,
    const struct ilb_addr *a)
{
	unsigned int	j;

	for (j = 0; j < old->sched.n; j++)
		if (sl[j].cfg < 0 && util_addr_eq(&old->conf->servers[j].addr,
		    a))
			return ((int)j);
	return (-1);
}

/*
 * Map the servers of nc onto indices: an old server keeps its index (a
 * removed one stays there, draining, while ref says entries use it); a
 * new one takes a free old index or is appended. Trailing free indices
 * go. sl has room for old's servers plus nc's; returns how many are used.
 */
static unsigned int
lb_srv_plan(const struct lb_service *old, const uint8_t *ref,
    const struct service_conf *nc, struct lb_srvslot *sl,
    struct lb_reload_summary *sum)
{
	unsigned int	on = old != NULL ? old->sched.n : 0, n = on, j, k;
	int		f;

	for (j = 0; j < on + nc->nservers; j++) {
		sl[j].cfg = -1;
		sl[j].same = j < on;
	}
	for (k = 0; k < nc->nservers; k++) {
		f = on ? lb_srv_find(old, sl, &nc->servers[k].addr) : -1;
		if (f >= 0) {
			sum->servers_added += old->gone[f];
			sl[f].cfg = (int)k;
		}
	}
	for (j = 0; j < on; j++)
		if (sl[j].cfg < 0 && !old->gone[j])
			sum->servers_removed++;
	for (k = 0; k < nc->nservers; k++) {
		for (j = 0; j < on; j++)
			if (sl[j].cfg == (int)k)
				break;
		if (j < on)
			continue;
		for (j = 0; j < on; j++)
			if (sl[j].cfg < 0 && sl[j].same && !ref[j])
				break;	/* unused: free to take */
		if (j == on)
			j = n++;
		else
			sum->servers_purged++;
		sl[j].cfg = (int)k;
		sl[j].same = 0;
		sum->servers_added += old != NULL;
	}
	while (n > 0 && n - 1 < on && sl[n - 1].cfg < 0 && !ref[n - 1]) {
		n--;
		sum->servers_purged++;
	}
	return (n);
}

/* lb's copy of nc laid out as sl says (removed servers from old). */
static int
lb_svc_copy(struct lb_service *s, const struct lb_service *old,
    const struct service_conf *nc, const struct lb_srvslot *sl,
    unsigned int n)
{
	unsigned int	j;

	if ((s->own = malloc(sizeof(*s->own))) == NULL)
		return (-1);
	*s->own = *nc;
	s->own->nservers = n;
	s->conf = s->own;
	if ((s->own->servers = calloc(n, sizeof(*s->own->servers))) == NULL ||
	    (s->gone = calloc(n, 1)) == NULL)
		return (-1);
	for (j = 0; j < n; j++) {
		if (sl[j].cfg >= 0)
			s->own->servers[j] = nc->servers[sl[j].cfg];
		else {
			s->own->servers[j] = old->conf->servers[j];
			s->gone[j] = 1;
		}
	}
	lb_svc_match(s);
	return (0);
}

/*
 * Runtime state survives: health, operator drain and active counts of
 * every server that keeps its index. Weight: the config's if it changed
 * there (or the server comes back), else the one set at run time. A
 * removed server gets weight 0: it takes no new connection.
 */
static void
lb_sched_carry(struct sched *s, const struct lb_service *old,
    const struct service_conf *nc, const struct lb_srvslot *sl,
    struct lb_reload_summary *sum)
{
	const struct sched_server	*o;
	uint32_t			 cw;
	unsigned int			 j;

	if (old == NULL)
		return;			/* as sched_init() left it */
	for (j = 0; j < s->n; j++) {
		if (sl[j].cfg < 0)
			s->srv[j].weight = 0;
		if (!sl[j].same)
			continue;
		o = &old->sched.srv[j];
		s->srv[j].up = o->up;
		s->srv[j].drained = o->drained;
		s->srv[j].active = o->active;
		if (sl[j].cfg < 0)
			continue;
		cw = nc->servers[sl[j].cfg].weight;
		if (old->gone[j] || old->conf->servers[j].weight != cw) {
			s->srv[j].weight = cw;
			sum->servers_reweighted += !old->gone[j];
		} else
			s->srv[j].weight = o->weight;
	}
	if (s->n == old->sched.n)
		s->next = old->sched.next;
	s->dirty = 1;
	sched_rebuild(s);
}

/*
 * Build service s from its new config nc, continuing old (NULL: a new
 * service) whose servers ref says are in use. Nothing of old changes.
 */
static int
lb_svc_build(struct lb_service *s, const struct lb_service *old,
    const uint8_t *ref, const struct service_conf *nc,
    struct lb_reload_summary *sum, char **cause)
{
	struct lb_srvslot	*sl;
	unsigned int		 n, on = old != NULL ? old->sched.n : 0;
	int			 rc = -1;

	memset(s, 0, sizeof(*s));
	if (nc->nservers == 0) {
		lb_cause(cause, "service %s: no servers", nc->name);
		return (-1);
	}
	if ((sl = calloc(on + nc->nservers, sizeof(*sl))) == NULL)
		return (-1);
	n = lb_srv_plan(old, ref, nc, sl, sum);
	if (n > CONF_SERVERS_MAX)
		lb_cause(cause, "service %s: %u servers and %u still draining "
		    "exceed %u; reload again once they drained", nc->name,
		    nc->nservers, n - nc->nservers, CONF_SERVERS_MAX);
	else if (lb_svc_copy(s, old, nc, sl, n) == 0) {
		if (sched_init(&s->sched, nc->scheduler, s->own->servers,
		    n) == -1)
			lb_cause(cause, "service %s: bad scheduler or weight",
			    nc->name);
		else {
			lb_sched_carry(&s->sched, old, nc, sl, sum);
			rc = 0;
		}
	}
	free(sl);
	if (rc == -1) {
		int	saved = errno;

		lb_svc_release(s);
		errno = saved;
	}
	return (rc);
}

/* Same VIP, port and forward method: the same service for a reload. */
static int
lb_svc_same(const struct service_conf *a, const struct service_conf *b)
{
	return (a->port == b->port && a->forward == b->forward &&
	    util_addr_eq(&a->vip, &b->vip));
}

/* Old index of the service k of nc continues, or -1 (see lb_svc_plan()). */
static int
lb_svc_find(const struct lb *lb, const struct lb_svcslot *sl,
    const struct service_conf *c, struct lb_reload_summary *sum)
{
	unsigned int	i;
	size_t		len;

	for (i = 0; i < lb->nsvc; i++) {
		if (lb->svc[i].removed || sl[i].cfg >= 0 ||
		    strcmp(lb->svc[i].conf->name, c->name) != 0)
			continue;
		if (lb_svc_same(lb->svc[i].conf, c))
			return ((int)i);
		sum->services_changed++;
		sum->services_removed--;	/* counted as changed */
		len = strlen(sum->changed);
		snprintf(sum->changed + len, sizeof(sum->changed) - len,
		    "%s%s", len ? " " : "", c->name);
		return (-1);
	}
	for (i = 0; i < lb->nsvc; i++)		/* a draining one returns */
		if (lb->svc[i].removed && sl[i].cfg < 0 &&
		    strcmp(lb->svc[i].conf->name, c->name) == 0 &&
		    lb_svc_same(lb->svc[i].conf, c))
			return ((int)i);
	return (-1);
}

/*
 * Map the services of nc onto indices, as lb_srv_plan() does servers:
 * matched by name, a changed VIP, port or forward method makes a new
 * service and the old one drains. sl has room for lb's services and nc's.
 */
static unsigned int
lb_svc_plan(const struct lb *lb, const struct lb_refs *ref,
    const struct ilbd_conf *nc, struct lb_svcslot *sl,
    struct lb_reload_summary *sum)
{
	unsigned int	on = lb->nsvc, n = on, i, k;
	int		f;

	for (i = 0; i < on + nc->nservices; i++) {
		sl[i].cfg = -1;
		sl[i].cont = i < on;
	}
	for (i = 0; i < on; i++)
		sum->services_removed += !lb->svc[i].removed;
	for (k = 0; k < nc->nservices; k++) {
		if ((f = lb_svc_find(lb, sl, &nc->services[k], sum)) >= 0) {
			sum->services_removed -= !lb->svc[f].removed;
			sum->services_added += lb->svc[f].removed;
			sl[f].cfg = (int)k;
		}
	}
	for (k = 0; k < nc->nservices; k++) {
		for (i = 0; i < on; i++)
			if (sl[i].cfg == (int)k)
				break;
		if (i < on)
			continue;
		for (i = 0; i < on; i++)
			if (sl[i].cfg < 0 && sl[i].cont && !ref->svc[i])
				break;	/* unused: free to take */
		if (i == on)
			i = n++;
		else
			sum->services_purged++;
		sl[i].cfg = (int)k;
		sl[i].cont = 0;
		sum->services_added++;
	}
	while (n > 0 && n - 1 < on && sl[n - 1].cfg < 0 && !ref->svc[n - 1]) {
		n--;
		sum->services_purged++;
	}
	sum->services_added -= sum->services_changed;
	return (n);
}

/* The new service table: built services, draining ones taken as is. */
static int
lb_svc_table(struct lb *lb, const struct lb_refs *ref,
    const struct ilbd_conf *nc, const struct lb_svcslot *sl, unsigned int n,
    struct lb_service *svc, struct lb_reload_summary *sum, char **cause)
{
	unsigned int	i;
	int		saved;

	for (i = 0; i < n; i++) {
		if (sl[i].cfg < 0) {
			svc[i] = lb->svc[i];
			svc[i].removed = 1;
			continue;
		}
		if (lb_svc_build(&svc[i], sl[i].cont ? &lb->svc[i] : NULL,
		    sl[i].cont ? ref->srv[i] : NULL, &nc->services[sl[i].cfg],
		    sum, cause) == -1)
			goto fail;
	}
	return (0);
fail:
	saved = errno;
	while (i-- > 0)
		if (sl[i].cfg >= 0)
			lb_svc_release(&svc[i]);
	errno = saved;
	return (-1);
}

/* Swap in the new table; free the old services nothing carried over. */
static void
lb_svc_commit(struct lb *lb, const struct lb_svcslot *sl, unsigned int n,
    struct lb_service *svc, uint16_t *hash, uint32_t mask)
{
	unsigned int	i;

	for (i = 0; i < lb->nsvc; i++)
		if (i >= n || !sl[i].cont || sl[i].cfg >= 0)
			lb_svc_release(&lb->svc[i]);
	free(lb->svc);
	free(lb->svc_hash);
	lb->svc = svc;
	lb->nsvc = n;
	lb->svc_hash = n > 0 ? hash : NULL;
	lb->svc_mask = n > 0 ? mask : 0;
	if (n == 0)
		free(hash);
}

/*
 * Services of lb become those of nc: plan, build everything aside, then
 * swap. On -1 nothing of lb changed.
 */
static int
lb_svc_apply(struct lb *lb, const struct ilbd_conf *nc,
    const struct lb_refs *ref, struct lb_reload_summary *sum, char **cause)
{
	struct lb_svcslot	*sl;
	struct lb_service	*svc = NULL;
	uint16_t		*hash = NULL;
	uint32_t		 mask;
	unsigned int		 n, i;
	int			 rc = -1, saved;

	if ((sl = calloc(lb->nsvc + nc->nservices + 1, sizeof(*sl))) == NULL)
		return (-1);
	n = lb_svc_plan(lb, ref, nc, sl, sum);
	if (n > LB_SERVICES_MAX) {
		lb_cause(cause, "%u services and %u still draining exceed %u; "
		    "reload again once they drained", nc->nservices,
		    n - nc->nservices, LB_SERVICES_MAX);
		goto done;
	}
	if ((svc = calloc(n + 1, sizeof(*svc))) == NULL ||
	    lb_svc_table(lb, ref, nc, sl, n, svc, sum, cause) == -1)
		goto done;
	if (lb_hash_build(svc, n, &hash, &mask, cause) == -1) {
		saved = errno;
		for (i = 0; i < n; i++)
			if (sl[i].cfg >= 0)
				lb_svc_release(&svc[i]);
		errno = saved;
		goto done;
	}
	lb_svc_commit(lb, sl, n, svc, hash, mask);
	svc = NULL;
	rc = 0;
done:
	saved = errno;
	free(svc);
	free(sl);
	errno = saved;
	return (rc);
}

static void
lb_set_tables(struct lb *lb, const struct tables_conf *t)
{
	lb->tables = *t;
	lb->ltoc_high = t->ltoc_size - t->ltoc_size / 16;
	lb->refresh_s = t->tcp_timeout_s / 8;
	if (lb->refresh_s < LB_REFRESH_S)
		lb->refresh_s = LB_REFRESH_S;
}

int
lb_init(struct lb *lb, const struct ilbd_conf *conf, uint64_t seed)
{
	struct lb_reload_summary	 sum;
	struct lb_refs			 none;

	memset(lb, 0, sizeof(*lb));
	memset(&none, 0, sizeof(none));
	memset(&sum, 0, sizeof(sum));
	lb->self = LB_SELF_NONE;
	lb->self_slot = CONN_SLOT_NONE;
	lb->scoring = conf->cluster.scoring;
	memcpy(lb->key, conf->cluster.key, sizeof(lb->key));
	lb_set_tables(lb, &conf->tables);
	if (score_init(&lb->score, conf->cluster.scoring,
	    conf->cluster.key) == -1) {
		errno = EINVAL;
		return (-1);
	}
	if (ltoc_init(&lb->ltoc, &conf->tables, seed) == -1)
		return (-1);
	ltoc_set_expire_cb(&lb->ltoc, lb_ltoc_expired, lb);
	if (cache_init(&lb->cache, &conf->tables, seed ^
	    0x9e3779b97f4a7c15ULL) == -1)
		goto fail;
	if ((lb->queue = calloc(LB_QUEUE_LEN, sizeof(*lb->queue))) == NULL ||
	    (lb->est = calloc(LB_EST_RING, sizeof(*lb->est))) == NULL)
		goto fail;
	if (lb_svc_apply(lb, conf, &none, &sum, NULL) == -1)
		goto fail;
	return (0);
fail:
	{
		int	saved = errno;

		lb_free(lb);
		errno = saved;
	}
	return (-1);
}

void
lb_free(struct lb *lb)
{
	unsigned int	i;

	for (i = 0; i < lb->nsvc; i++)
		lb_svc_release(&lb->svc[i]);
	free(lb->svc);
	free(lb->svc_hash);
	free(lb->queue);
	free(lb->est);
	ltoc_free(&lb->ltoc);
	cache_free(&lb->cache);
	memset(lb, 0, sizeof(*lb));
	lb->self = LB_SELF_NONE;
	lb->self_slot = CONN_SLOT_NONE;
}

/* What cannot change live; the cause names the setting. */
static int
lb_reload_check(const struct lb *lb, const struct ilbd_conf *nc,
    char **cause)
{
	const struct tables_conf	*o = &lb->tables, *t = &nc->tables;

	if (t->ltoc_size != o->ltoc_size) {
		lb_cause(cause, "tables.ltoc_size cannot change at run time "
		    "(%u -> %u); restart ilbd", o->ltoc_size, t->ltoc_size);
		return (-1);
	}
	if (t->cache_size != o->cache_size) {
		lb_cause(cause, "tables.cache_size cannot change at run time "
		    "(%u -> %u); restart ilbd", o->cache_size, t->cache_size);
		return (-1);
	}
	if (nc->cluster.scoring != lb->scoring) {
		lb_cause(cause, "cluster.scoring cannot change at run time "
		    "(%s -> %s); restart every ilbd",
		    config_scoring_name(lb->scoring),
		    config_scoring_name(nc->cluster.scoring));
		return (-1);
	}
	if (lb->scoring == SCORING_KEYED &&
	    memcmp(nc->cluster.key, lb->key, sizeof(lb->key)) != 0) {
		lb_cause(cause, "the cluster key cannot change at run time "
		    "with keyed scoring; restart every ilbd");
		return (-1);
	}
	if (nc->nservices > LB_SERVICES_MAX) {
		lb_cause(cause, "%u services: at most %u", nc->nservices,
		    LB_SERVICES_MAX);
		return (-1);
	}
	return (0);
}

int
lb_reload(struct lb *lb, const struct ilbd_conf *nc, uint64_t now,
    struct lb_reload_summary *sump, char **cause)
{
	struct lb_reload_summary	sum;
	struct lb_refs			ref;
	int				rc;

	(void)now;			/* nothing expires at a reload */
	if (cause != NULL)
		*cause = NULL;
	memset(&sum, 0, sizeof(sum));
	if (lb_reload_check(lb, nc, cause) == -1)
		return (-1);
	if (lb_refs_collect(lb, &ref) == -1) {
		lb_cause(cause, "out of memory");
		return (-1);
	}
	rc = lb_svc_apply(lb, nc, &ref, &sum, cause);
	lb_refs_free(&ref);
	if (rc == -1) {
		if (cause != NULL && *cause == NULL)
			lb_cause(cause, "out of memory");
		return (-1);
	}
	ltoc_set_timeouts(&lb->ltoc, &nc->tables);
	cache_set_timeouts(&lb->cache, &nc->tables);
	lb_set_tables(lb, &nc->tables);
	lb->stats.reloads++;
	if (sump != NULL)
		*sump = sum;
	return (0);
}

void
lb_reload_summary_fmt(const struct lb_reload_summary *s, char *buf,
    size_t len)
{
	snprintf(buf, len, "services +%u -%u ~%u%s%s%s, servers +%u -%u "
	    "reweighted %u; freed %u services, %u servers",
	    s->services_added, s->services_removed, s->services_changed,
	    s->changed[0] ? " (vip, port or forward changed: " : "",
	    s->changed, s->changed[0] ? ")" : "", s->servers_added,
	    s->servers_removed, s->servers_reweighted, s->services_purged,
	    s->servers_purged);
}

int
lb_service_live(const struct lb *lb, unsigned int i)
{
	return (i < lb->nsvc && !lb->svc[i].removed);
}

int
lb_server_live(const struct lb *lb, unsigned int i, unsigned int j)
{
	return (lb_service_live(lb, i) && j < lb->svc[i].sched.n &&
	    !lb->svc[i].gone[j]);
}

int
lb_service_by_name(const struct lb *lb, const char *name)
{
	unsigned int	i;

	for (i = 0; i < lb->nsvc; i++)
		if (!lb->svc[i].removed &&
		    strcmp(lb->svc[i].conf->name, name) == 0)
			return ((int)i);
	return (-1);
}

/* Precompute the scoring constants of n members into m and their slots. */
static void
lb_members_load(const struct lb *lb, struct score_member *m, uint16_t *ms,
    const struct member_id *ids, const uint16_t *slots, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		score_member_init(&lb->score, &m[i], &ids[i]);
		ms[i] = slots[i];
	}
}

int
lb_set_members(struct lb *lb, const struct member_id *ids,
    const uint16_t *slots, size_t n, size_t self)
{
	lb->nmembers = 0;
	lb->self = LB_SELF_NONE;
	if (n > LB_MEMBERS_MAX || (self != LB_SELF_NONE && self >= n))
		return (-1);
	lb_members_load(lb, lb->members, lb->slots, ids, slots, n);
	lb->nmembers = n;
	lb->self = self;
	if (self != LB_SELF_NONE)
		lb->self_slot = slots[self];
	return (0);
}

void
lb_set_self_slot(struct lb *lb, uint16_t slot)
{
	lb->self_slot = slot;
}

void
lb_rank(const struct lb *lb, const struct flow_key *key, int *owner,
    int *backup)
{
	score_rank(&lb->score, lb->members, lb->nmembers, key, owner, backup);
}

static uint16_t
lb_slot(const struct lb *lb, int idx)
{
	return (idx < 0 ? CONN_SLOT_NONE : lb->slots[idx]);
}

/* Is member index idx (-1: none) self? Never when self is not a member. */
static int
lb_is_self(const struct lb *lb, int idx)
{
	return (idx >= 0 && (size_t)idx == lb->self);
}

/*
 * Queue a record: the record, or NULL when the queue is full (counted,
 * dropped).
 */
static struct lb_record *
lb_queue_put(struct lb *lb, enum lb_rec_type type,
    const struct conn_entry *e)
{
	struct lb_record	*r;

	if (lb->qtail - lb->qhead >= LB_QUEUE_LEN) {
		lb->stats.queue_full++;
		return (NULL);
	}
	r = &lb->queue[lb->qtail++ & (LB_QUEUE_LEN - 1)];
	r->type = (uint8_t)type;
	r->flags = 0;
	r->service = e->service;
	r->server = e->server;
	r->owner = e->owner;
	r->backup = e->backup;
	r->key = e->key;
	if (type == LB_REC_NEW)
		lb->stats.new_queued++;
	else if (type == LB_REC_END)
		lb->stats.end_queued++;
	else
		lb->stats.refresh_queued++;
	return (r);
}

/* Queue the NEW of a SYN self decided as owner (LB_REC_F_FRESH). */
static void
lb_queue_fresh(struct lb *lb, const struct conn_entry *e)
{
	struct lb_record	*r;

	if ((r = lb_queue_put(lb, LB_REC_NEW, e)) != NULL)
		r->flags |= LB_REC_F_FRESH;
}

/*
 * DESIGN section 2, activity refreshes: an ILB forwarding a connection it
 * does not own queues a REFRESH when the packet falls in another
 * LB_REFRESH_S window than the entry's previous one (last, seconds, read
 * before the packet touched it). A busy connection costs one record per
 * window and node, an idle one none; no per-entry state is added.
 */
static void
lb_refresh_maybe(struct lb *lb, const struct conn_entry *e, uint32_t last,
    uint64_t now)
{
	uint32_t	now_s = (uint32_t)((now + 999) / 1000);	/* as last */

	if (e->state == CONN_CLOSING ||
	    now_s / lb->refresh_s == last / lb->refresh_s)
		return;
	lb_queue_put(lb, LB_REC_REFRESH, e);
}

/*
 * The handshake of e (a cache entry if in_cache, else an LTOC one)
 * completed through self at now: its REFRESH waits in lb->est for
 * lb_tick() (see lb_ltoc_hit()). A full ring queues it at once instead.
 * Only the key is kept, no service or server index: lb_reload() (whose
 * lb_refs_collect() finds the indices in use) need not know of the ring.
 */
static void
lb_est_defer(struct lb *lb, const struct conn_entry *e, int in_cache,
    uint64_t now)
{
	struct lb_est	*x;

	if (lb->est_tail - lb->est_head >= LB_EST_RING) {
		lb->stats.est_refresh_now++;
		lb_queue_put(lb, LB_REC_REFRESH, e);
		return;
	}
	x = &lb->est[lb->est_tail++ & (LB_EST_RING - 1)];
	x->at = now;
	x->key = e->key;
	x->in_cache = (uint8_t)in_cache;
	lb->stats.est_deferred++;
}

/*
 * The entry of a pending establishment: in the table it was in, else in
 * the other, since lb_rebalance() moves an LTOC entry self no longer
 * holds to the cache and a TRANSFER naming self moves a cache entry to
 * the LTOC. NULL once it expired or was evicted.
 */
static struct conn_entry *
lb_est_entry(struct lb *lb, const struct lb_est *x)
{
	struct conn_entry	*e;

	if (x->in_cache) {
		if ((e = cache_peek(&lb->cache, &x->key)) == NULL)
			e = ltoc_lookup(&lb->ltoc, &x->key);
	} else if ((e = ltoc_lookup(&lb->ltoc, &x->key)) == NULL)
		e = cache_peek(&lb->cache, &x->key);
	return (e);
}

/*
 * Queue the REFRESH of every establishment at least LB_EST_DELAY_MS old
 * (a quarter of syn_timeout_s if that is less) whose connection is still
 * established; one that closed meanwhile sent END instead. The ring is
 * in time order: the first younger one ends the walk, which is at most
 * LB_EST_RING long. A full record queue ends it too: the rest wait for
 * the next tick instead of being lost as queue_full (the delay is at
 * most a quarter of syn_timeout_s, so a few ticks more are harmless).
 */
static void
lb_est_flush(struct lb *lb, uint64_t now)
{
	const struct lb_est	*x;
	struct conn_entry	*e;
	uint64_t		 delay;

	delay = (uint64_t)lb->tables.syn_timeout_s * 1000 / 4;
	if (delay > LB_EST_DELAY_MS)
		delay = LB_EST_DELAY_MS;
	while (lb->est_head != lb->est_tail) {
		x = &lb->est[lb->est_head & (LB_EST_RING - 1)];
		if (now < x->at + delay ||
		    lb->qtail - lb->qhead >= LB_QUEUE_LEN)
			break;
		if ((e = lb_est_entry(lb, x)) != NULL &&
		    e->state == CONN_ESTABLISHED)
			lb_queue_put(lb, LB_REC_REFRESH, e);
		else
			lb->stats.est_refresh_skipped++;
		lb->est_head++;
	}
}

int
lb_queue_pop(struct lb *lb, struct lb_record *r)
{
	if (lb->qhead == lb->qtail)
		return (0);
	*r = lb->queue[lb->qhead++ & (LB_QUEUE_LEN - 1)];
	return (1);
}

uint32_t
lb_queue_len(const struct lb *lb)
{
	return (lb->qtail - lb->qhead);
}

static int
lb_drop(struct lb *lb, struct lb_action *act, enum lb_drop why)
{
	static const size_t off[LB_DROP_MAX] = {
		[LB_DROP_BAD_PACKET] = offsetof(struct lb_stats, bad_packet),
		[LB_DROP_NOT_TCP] = offsetof(struct lb_stats, not_tcp),
		[LB_DROP_FRAGMENT] = offsetof(struct lb_stats, fragment),
		[LB_DROP_NO_MEMBERS] = offsetof(struct lb_stats, no_members),
		[LB_DROP_NO_SERVICE] = offsetof(struct lb_stats, no_service),
		[LB_DROP_NO_SERVER] = offsetof(struct lb_stats, no_server),
		[LB_DROP_LTOC_FULL] = offsetof(struct lb_stats, ltoc_full),
		[LB_DROP_MISROUTED] = offsetof(struct lb_stats, misrouted),
		[LB_DROP_ORPHAN] = offsetof(struct lb_stats, orphan),
		[LB_DROP_ICMP_ORPHAN] = offsetof(struct lb_stats, icmp_orphan),
	};

	if (why > LB_DROP_NONE && why < LB_DROP_MAX)
		(*(uint64_t *)((uint8_t *)&lb->stats + off[why]))++;
	lb->stats.drop++;
	act->verdict = LB_DROP;
	act->drop = why;
	return (LB_DROP);
}

/* Fill act to forward to server of service: 0, or -1 if an index is stale. */
static int
lb_fill(const struct lb *lb, struct lb_action *act, unsigned int service,
    unsigned int server, enum lb_path path)
{
	const struct service_conf	*c;

	if (service >= lb->nsvc || server >= lb->svc[service].conf->nservers)
		return (-1);
	c = lb->svc[service].conf;
	act->verdict = LB_FORWARD;
	act->path = path;
	act->service = (uint16_t)service;
	act->server = (uint16_t)server;
	act->svc = c;
	act->srv = &c->servers[server];
	return (0);
}

/* Forward to server of service; an index a reload made stale drops. */
static int
lb_forward(struct lb *lb, struct lb_action *act, unsigned int service,
    unsigned int server, enum lb_path path)
{
	if (lb_fill(lb, act, service, server, path) == -1)
		return (lb_drop(lb, act, LB_DROP_NO_SERVER));
	switch (path) {
	case LB_PATH_OWNER:
		lb->stats.forward_owner++;
		break;
	case LB_PATH_BACKUP:
		lb->stats.forward_backup++;
		break;
	case LB_PATH_CACHE:
		lb->stats.forward_cache++;
		break;
	default:
		lb->stats.forward_hash++;
		break;
	}
	return (LB_FORWARD);
}

/*
 * To the owner, unless the packet already came by handoff (no loops). A
 * handoff never goes to self: self is not the owner when this is called.
 */
static int
lb_handoff(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	if (p->by_handoff)
		return (lb_drop(lb, act, LB_DROP_MISROUTED));
	lb->stats.handoff_out++;
	act->verdict = LB_HANDOFF;
	act->member = lb->slots[p->owner];
	return (LB_HANDOFF);
}

/*
 * State of an LTOC entry on a non-SYN packet: syn -> established, FIN/RST
 * -> closing with one END queued (claim 14). Closing entries stay until
 * fin_timeout_s: the last ACKs still pass through.
 */
static void
lb_ltoc_update(struct lb *lb, struct conn_entry *e, const struct lb_pkt *p)
{
	if (PKT_IS_END(p->pi)) {
		if (e->state == CONN_CLOSING) {
			ltoc_touch(&lb->ltoc, e, p->now);
			return;
		}
		ltoc_set_state(&lb->ltoc, e, CONN_CLOSING, p->now);
		lb->stats.closing++;
		lb_queue_put(lb, LB_REC_END, e);
	} else if (e->state == CONN_SYN) {
		ltoc_set_state(&lb->ltoc, e, CONN_ESTABLISHED, p->now);
		lb->stats.established++;
	} else
		ltoc_touch(&lb->ltoc, e, p->now);
}

/* The same for a cache entry (claim 14, not owner nor backup). */
static void
lb_cache_update(struct lb *lb, struct conn_entry *e, const struct lb_pkt *p)
{
	cache_touch(&lb->cache, e, p->now);
	if (PKT_IS_END(p->pi)) {
		if (e->state == CONN_CLOSING)
			return;
		cache_set_state(&lb->cache, e, CONN_CLOSING, p->now);
		lb->stats.closing++;
		lb_queue_put(lb, LB_REC_END, e);
	} else if (e->state == CONN_SYN)
		cache_set_state(&lb->cache, e, CONN_ESTABLISHED, p->now);
}

/* Fill a fresh LTOC entry owned by self and count it on its server. */
static void
lb_ltoc_own(struct lb *lb, struct conn_entry *e, const struct lb_pkt *p,
    int server)
{
	e->service = (uint16_t)p->svc;
	e->server = (uint16_t)server;
	e->owner = lb_slot(lb, p->owner);
	e->backup = lb_slot(lb, p->backup);
	e->role = CONN_ROLE_OWNER;
	sched_conn_add(&lb->svc[p->svc].sched, (unsigned int)server);
}

/*
 * SYN flood defence: with the LTOC nearly full a new SYN gets no entry;
 * the stateless hash picks its server, and for a while (two SYN timeouts)
 * an owner without an entry does the same for the non-SYN packets that
 * follow (lb_owner_miss()), re-creating the entry if there is room then.
 * Established entries are never evicted; the last 1/16 of the table is
 * kept for those re-created entries.
 */
static int
lb_syn_stateless(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	int	server;

	if ((server = sched_pick_hash(&lb->svc[p->svc].sched,
	    &p->pi->key)) < 0)
		return (lb_drop(lb, act, LB_DROP_NO_SERVER));
	lb->stats.syn_hash_fallback++;
	lb->pressure_until = p->now + 2000 * (uint64_t)lb->tables.syn_timeout_s;
	return (lb_forward(lb, act, p->svc, (unsigned int)server,
	    LB_PATH_HASH));
}

/*
 * A SYN at its owner whose closing entry was opened by this very SYN (the
 * same tag): the client is still connecting. What closed the entry was a
 * reset it sent while connecting, in answer to a segment of the tuple's
 * previous connection (the old server retransmitting its FIN, say). The
 * connection opens again on its server, and a fresh NEW tells the other
 * holders, which took that reset for its end. Deciding the SYN anew
 * would give the client two servers answering one connection.
 */
static int
lb_syn_reopen(struct lb *lb, struct conn_entry *e, const struct lb_pkt *p,
    struct lb_action *act)
{
	lb->stats.syn_reopen++;
	e->owner = lb_slot(lb, p->owner);
	e->backup = lb_slot(lb, p->backup);
	ltoc_set_state(&lb->ltoc, e, CONN_SYN, p->now);
	lb_queue_fresh(lb, e);
	return (lb_forward(lb, act, e->service, e->server, LB_PATH_OWNER));
}

/*
 * claim 13: a SYN at its owner. A live LTOC entry means a retransmitted
 * SYN: same server, nothing queued. A closing one means the client reuses
 * the tuple: a new connection replaces it (unless the SYN is the one that
 * opened the closing entry: lb_syn_reopen()). A service removed by a
 * reload takes no new connection (no_service). Otherwise the scheduler
 * picks a server, the LTOC records it with the backup, NEW is queued.
 */
static int
lb_syn_owner(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	struct conn_entry	*e;
	int			 server;

	e = ltoc_lookup(&lb->ltoc, &p->pi->key);
	if (e != NULL && e->state != CONN_CLOSING) {
		lb->stats.retransmitted_syn++;
		ltoc_touch(&lb->ltoc, e, p->now);
		return (lb_forward(lb, act, e->service, e->server,
		    LB_PATH_OWNER));
	}
	if (e != NULL && e->syn_tag != 0 && e->role == CONN_ROLE_OWNER &&
	    e->syn_tag == conn_syn_tag(p->pi->seq))
		return (lb_syn_reopen(lb, e, p, act));
	if (lb->svc[p->svc].removed) {		/* draining: no new ones */
		lb->stats.service_removed++;
		return (lb_drop(lb, act, LB_DROP_NO_SERVICE));
	}
	if (e == NULL && ltoc_count(&lb->ltoc) >= lb->ltoc_high)
		return (lb_syn_stateless(lb, p, act));
	if ((server = sched_pick(&lb->svc[p->svc].sched, &p->pi->key)) < 0)
		return (lb_drop(lb, act, LB_DROP_NO_SERVER));
	if (e != NULL) {
		lb->stats.port_reuse++;
		lb_entry_unaccount(lb, e);
	}
	if ((e = ltoc_insert(&lb->ltoc, &p->pi->key, p->now)) == NULL)
		return (lb_drop(lb, act, LB_DROP_LTOC_FULL));
	lb_ltoc_own(lb, e, p, server);
	e->syn_tag = conn_syn_tag(p->pi->seq);
	lb->stats.new_conn++;
	lb_queue_fresh(lb, e);
	return (lb_forward(lb, act, p->svc, (unsigned int)server,
	    LB_PATH_OWNER));
}

/*
 * Owner without an entry for a non-SYN: with scheduler "hash" the server
 * is recomputed (stateless fallback) and the entry re-created as
 * established with a NEW, and a deferred REFRESH as in lb_ltoc_hit(): the
 * NEW makes the other holders' copies syn, the REFRESH established, so
 * they do not expire after syn_timeout_s. The same while SYNs go
 * stateless (LTOC nearly full), but the entry starts in state syn: a
 * forged ACK holds it for a SYN timeout only, the connection's next
 * packet establishes it.
 * Otherwise the packet is an orphan.
 */
static int
lb_owner_miss(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	struct lb_service	*s = &lb->svc[p->svc];
	struct conn_entry	*e;
	int			 server, stateless;

	stateless = s->sched.kind == SCHED_HASH;
	if (!stateless && p->now >= lb->pressure_until)
		return (lb_drop(lb, act, LB_DROP_ORPHAN));
	if ((server = sched_pick_hash(&s->sched, &p->pi->key)) < 0)
		return (lb_drop(lb, act, LB_DROP_NO_SERVER));
	lb->stats.hash_fallback++;
	if ((e = ltoc_insert(&lb->ltoc, &p->pi->key, p->now)) == NULL)
		lb->stats.ltoc_full++;	/* still forwarded: it is stateless */
	else {
		lb_ltoc_own(lb, e, p, server);
		if (stateless)
			ltoc_set_state(&lb->ltoc, e, CONN_ESTABLISHED, p->now);
		lb_queue_put(lb, LB_REC_NEW, e);
		if (PKT_IS_END(p->pi))
			lb_ltoc_update(lb, e, p);
		else if (stateless)
			lb_est_defer(lb, e, 0, p->now);
	}
	return (lb_forward(lb, act, p->svc, (unsigned int)server,
	    LB_PATH_HASH));
}

/*
 * ICMP "fragmentation needed" / "packet too big" about a connection (the
 * key is its tuple): to the connection's server wherever its entry is,
 * without touching the entry; an owner without one uses the hash as
 * lb_owner_miss() would, creating nothing.
 */
static int
lb_icmp(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	struct lb_service	*s = &lb->svc[p->svc];
	struct conn_entry	*e = NULL;
	enum lb_path		 path = LB_PATH_CACHE;
	int			 server;

	if (lb->self == LB_SELF_NONE || lb_is_self(lb, p->owner) ||
	    lb_is_self(lb, p->backup)) {
		e = ltoc_lookup(&lb->ltoc, &p->pi->key);
		path = e == NULL || e->role == CONN_ROLE_OWNER ?
		    LB_PATH_OWNER : LB_PATH_BACKUP;
	}
	if (e == NULL && (e = cache_peek(&lb->cache, &p->pi->key)) != NULL)
		path = LB_PATH_CACHE;
	if (e != NULL) {
		lb->stats.icmp_ptb++;
		return (lb_forward(lb, act, e->service, e->server, path));
	}
	if (!lb_is_self(lb, p->owner)) {
		if (p->by_handoff)
			return (lb_drop(lb, act, LB_DROP_ICMP_ORPHAN));
		lb->stats.icmp_ptb++;
		return (lb_handoff(lb, p, act));
	}
	if ((s->sched.kind != SCHED_HASH && p->now >= lb->pressure_until) ||
	    (server = sched_pick_hash(&s->sched, &p->pi->key)) < 0)
		return (lb_drop(lb, act, LB_DROP_ICMP_ORPHAN));
	lb->stats.icmp_ptb++;
	return (lb_forward(lb, act, p->svc, (unsigned int)server,
	    LB_PATH_HASH));
}

/*
 * An LTOC hit on a non-SYN: the path is self's place in the ranking, or,
 * when self is not a member (leaving), the entry's role. Forwarding
 * queues REFRESH records so that the other holder's copy stays alive: one
 * after the handshake completes (the backup's copy, learnt in state syn,
 * becomes established) and then one per window of a busy connection.
 * The first waits LB_EST_DELAY_MS in lb->est (lb_tick() queues it), so
 * that the many connections that close within it cost an END only: a
 * REFRESH that late is still well within syn_timeout_s (the delay is at
 * most a quarter of it), and a connection that closes before then sends
 * END instead, which the other holders apply to their syn copies too.
 */
static int
lb_ltoc_hit(struct lb *lb, struct conn_entry *e, const struct lb_pkt *p,
    struct lb_action *act)
{
	enum lb_path	path;
	uint32_t	last = e->last;
	uint8_t		before;

	if (lb->self == LB_SELF_NONE)
		path = e->role == CONN_ROLE_OWNER ? LB_PATH_OWNER :
		    LB_PATH_BACKUP;
	else
		path = lb_is_self(lb, p->owner) ? LB_PATH_OWNER :
		    LB_PATH_BACKUP;
	before = e->state;
	lb_ltoc_update(lb, e, p);
	if (before == CONN_SYN && e->state == CONN_ESTABLISHED)
		lb_est_defer(lb, e, 0, p->now);
	else
		lb_refresh_maybe(lb, e, last, p->now);
	return (lb_forward(lb, act, e->service, e->server, path));
}

/*
 * A closing entry at a holder that is not the owner: the client may have
 * opened a new connection on the same tuple, whose SYN went to the owner
 * (every SYN does) and whose NEW has not reached self yet. Sending the
 * packet to the old connection's server would cost the new connection a
 * stall or a reset, so the owner, which saw that SYN, decides. Not when
 * the packet came by handoff (never handed on), nor while self is leaving
 * (not a member: its own entries are the reference). The price: the last
 * ACK of a connection the client closed first takes one handoff more.
 */
static int
lb_closing_to_owner(struct lb *lb, const struct conn_entry *e,
    const struct lb_pkt *p)
{
	if (e->state != CONN_CLOSING || p->by_handoff ||
	    lb->self == LB_SELF_NONE || lb_is_self(lb, p->owner))
		return (0);
	lb->stats.closing_to_owner++;
	return (1);
}

/*
 * claim 14: a non-SYN. Owner or backup: the LTOC entry. Anyone else (and
 * a backup or owner without an entry): the cache; claim 15: no cache hit
 * or no cache at all hands the packet to the owner. A node that is not a
 * member still holds LTOC entries while leaving: it looks there first.
 */
static int
lb_other(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	struct conn_entry	*e;
	uint32_t		 last;
	uint8_t			 before;

	if (lb->self == LB_SELF_NONE || lb_is_self(lb, p->owner) ||
	    lb_is_self(lb, p->backup)) {
		if ((e = ltoc_lookup(&lb->ltoc, &p->pi->key)) != NULL) {
			if (lb_closing_to_owner(lb, e, p))
				return (lb_handoff(lb, p, act));
			return (lb_ltoc_hit(lb, e, p, act));
		}
	}
	if ((e = cache_peek(&lb->cache, &p->pi->key)) != NULL) {
		if (lb_closing_to_owner(lb, e, p))
			return (lb_handoff(lb, p, act));
		last = e->last;
		before = e->state;
		lb_cache_update(lb, e, p);
		/*
		 * The handshake completed here: tell the owner and backup,
		 * whose entries would otherwise stay syn and expire after
		 * syn_timeout_s under a working connection. Deferred by
		 * LB_EST_DELAY_MS as in lb_ltoc_hit(): still well within
		 * syn_timeout_s, and a connection closed by then sends END
		 * instead.
		 */
		if (before == CONN_SYN && e->state == CONN_ESTABLISHED)
			lb_est_defer(lb, e, 1, p->now);
		else
			lb_refresh_maybe(lb, e, last, p->now);
		return (lb_forward(lb, act, e->service, e->server,
		    LB_PATH_CACHE));
	}
	if (!lb_is_self(lb, p->owner))
		return (lb_handoff(lb, p, act));
	return (lb_owner_miss(lb, p, act));
}

int
lb_decide(struct lb *lb, const struct pkt_info *pi, int by_handoff,
    uint64_t now, struct lb_action *act)
{
	struct lb_pkt	p;
	int		svc;

	memset(act, 0, sizeof(*act));
	lb->stats.rx++;
	if (by_handoff)
		lb->stats.handoff_in++;
	if (pi->key.len != FLOW_ID_V4 && pi->key.len != FLOW_ID_V6)
		return (lb_drop(lb, act, LB_DROP_BAD_PACKET));
	if ((svc = lb_service_find(lb, &pi->key)) < 0)
		return (lb_drop(lb, act, LB_DROP_NO_SERVICE));
	if (lb->nmembers == 0)
		return (lb_drop(lb, act, LB_DROP_NO_MEMBERS));
	p.pi = pi;
	p.svc = (unsigned int)svc;
	p.by_handoff = by_handoff;
	p.now = now;
	lb_rank(lb, &pi->key, &p.owner, &p.backup);
	if (PKT_IS_ICMP_ERR(pi))
		return (lb_icmp(lb, &p, act));
	if (PKT_IS_SYN_ONLY(pi)) {
		lb->stats.syn++;
		if (!lb_is_self(lb, p.owner))
			return (lb_handoff(lb, &p, act));
		return (lb_syn_owner(lb, &p, act));
	}
	return (lb_other(lb, &p, act));
}

/* pi is a SYN (no ACK) of a service, members known: its owner index. */
static int
lb_syn_owner_of(const struct lb *lb, const struct pkt_info *pi, int *owner)
{
	int	backup;

	if (!PKT_IS_SYN_ONLY(pi) || lb->nmembers == 0 ||
	    (pi->key.len != FLOW_ID_V4 && pi->key.len != FLOW_ID_V6) ||
	    lb_service_find(lb, &pi->key) < 0)
		return (0);
	lb_rank(lb, &pi->key, owner, &backup);
	return (1);
}

int
lb_syn_on_live(struct lb *lb, const struct pkt_info *pi)
{
	struct conn_entry	*e;
	int			 owner;

	if (!lb_syn_owner_of(lb, pi, &owner) || !lb_is_self(lb, owner) ||
	    (e = ltoc_lookup(&lb->ltoc, &pi->key)) == NULL ||
	    e->state == CONN_CLOSING)
		return (0);
	lb->stats.syn_sync++;
	return (1);
}

int
lb_syn_after_close(struct lb *lb, const struct pkt_info *pi)
{
	struct conn_entry	*e;
	int			 owner;

	if (lb_queue_len(lb) == 0 || !lb_syn_owner_of(lb, pi, &owner) ||
	    lb_is_self(lb, owner))
		return (0);
	if ((e = ltoc_lookup(&lb->ltoc, &pi->key)) == NULL &&
	    (e = cache_peek(&lb->cache, &pi->key)) == NULL)
		return (0);
	if (e->state != CONN_CLOSING)
		return (0);
	lb->stats.syn_records_first++;
	return (1);
}

int
lb_action_to(const struct lb *lb, unsigned int service, unsigned int server,
    struct lb_action *act)
{
	memset(act, 0, sizeof(*act));
	return (lb_fill(lb, act, service, server, LB_PATH_NONE));
}

/* A packet packet_parse() refused with reason r: counted, dropped. */
int
lb_refuse(struct lb *lb, int r, int by_handoff, struct lb_action *act)
{
	static const size_t off[PKT_REASON_MAX] = {
		[PKT_TRUNCATED] = offsetof(struct lb_stats, parse_truncated),
		[PKT_BAD_VERSION] = offsetof(struct lb_stats,
		    parse_bad_version),
		[PKT_BAD_IHL] = offsetof(struct lb_stats, parse_bad_ihl),
		[PKT_BAD_TOTLEN] = offsetof(struct lb_stats, parse_bad_totlen),
		[PKT_BAD_PLEN] = offsetof(struct lb_stats, parse_bad_plen),
		[PKT_BAD_TCP_OFFSET] = offsetof(struct lb_stats,
		    parse_bad_tcp_offset),
		[PKT_BAD_EXTHDR] = offsetof(struct lb_stats, parse_bad_exthdr),
		[PKT_TOO_MANY_EXTHDRS] = offsetof(struct lb_stats,
		    parse_too_many_exthdrs),
		[PKT_UNSUPP_EXTHDR] = offsetof(struct lb_stats,
		    parse_unsupported_exthdr),
		[PKT_BAD_CSUM] = offsetof(struct lb_stats, parse_bad_csum),
		[PKT_BAD_TCP_FLAGS] = offsetof(struct lb_stats,
		    parse_bad_tcp_flags),
		[PKT_TINY_FRAGMENT] = offsetof(struct lb_stats,
		    parse_tiny_fragment),
		[PKT_BAD_ICMP] = offsetof(struct lb_stats, parse_bad_icmp),
	};

	memset(act, 0, sizeof(*act));
	lb->stats.rx++;
	if (by_handoff)
		lb->stats.handoff_in++;
	if (r == PKT_NOT_TCP)
		return (lb_drop(lb, act, LB_DROP_NOT_TCP));
	if (r == PKT_FRAGMENT)
		return (lb_drop(lb, act, LB_DROP_FRAGMENT));
	if (r > PKT_OK && r < PKT_REASON_MAX && off[r] != 0)
		(*(uint64_t *)((uint8_t *)&lb->stats + off[r]))++;
	return (lb_drop(lb, act, LB_DROP_BAD_PACKET));
}

int
lb_input(struct lb *lb, const uint8_t *buf, size_t len, int by_handoff,
    uint64_t now, struct pkt_info *pi, struct lb_action *act)
{
	int	r;

	if ((r = packet_parse(buf, len, pi)) == PKT_OK)
		return (lb_decide(lb, pi, by_handoff, now, act));
	return (lb_refuse(lb, r, by_handoff, act));
}

static int
lb_record_valid(struct lb *lb, const struct lb_record *r)
{
	if (r->service >= lb->nsvc ||
	    r->server >= lb->svc[r->service].conf->nservers ||
	    (r->key.len != FLOW_ID_V4 && r->key.len != FLOW_ID_V6)) {
		lb->stats.learn_bad++;
		return (0);
	}
	return (1);
}

int
lb_learn_new(struct lb *lb, const struct lb_record *r, uint64_t now)
{
	struct conn_entry	*e;
	uint16_t		 self;

	if (!lb_record_valid(lb, r))
		return (-1);
	self = lb->self_slot;
	if (self != CONN_SLOT_NONE && r->owner == self)
		return (0);		/* ours; already in the LTOC */
	if (self != CONN_SLOT_NONE && r->backup == self) {
		e = ltoc_lookup(&lb->ltoc, &r->key);
		if (e != NULL && e->role == CONN_ROLE_OWNER)
			return (0);	/* membership views disagree */
		if ((e = ltoc_insert(&lb->ltoc, &r->key, now)) == NULL) {
			lb->stats.ltoc_full++;
			return (0);
		}
		e->role = CONN_ROLE_BACKUP;
		lb->stats.learn_backup++;
	} else {
		if ((e = cache_insert(&lb->cache, &r->key, now)) == NULL)
			return (0);	/* no cache (claim 15) */
		lb->stats.learn_cache++;
	}
	e->service = r->service;
	e->server = r->server;
	e->owner = r->owner;
	e->backup = r->backup;
	return (0);
}

int
lb_learn_end(struct lb *lb, const struct lb_record *r, uint64_t now)
{
	struct conn_entry	*e;

	if (!lb_record_valid(lb, r))
		return (-1);
	if ((e = ltoc_lookup(&lb->ltoc, &r->key)) != NULL &&
	    e->state != CONN_CLOSING) {
		ltoc_set_state(&lb->ltoc, e, CONN_CLOSING, now);
		lb->stats.learn_end++;
	}
	if ((e = cache_peek(&lb->cache, &r->key)) != NULL &&
	    e->state != CONN_CLOSING) {
		cache_set_state(&lb->cache, e, CONN_CLOSING, now);
		lb->stats.learn_end++;
	}
	return (0);
}

/* Self's role for an entry whose holders are these slots. */
static enum conn_role
lb_role_of(const struct lb *lb, uint16_t owner, uint16_t backup)
{
	if (lb->self_slot == CONN_SLOT_NONE)
		return (CONN_ROLE_NONE);
	if (owner == lb->self_slot)
		return (CONN_ROLE_OWNER);
	if (backup == lb->self_slot)
		return (CONN_ROLE_BACKUP);
	return (CONN_ROLE_NONE);
}

/*
 * State for entry e once record t is applied: the same connection
 * (service and server unchanged) only moves forward, syn -> established
 * -> closing; another one on the tuple takes the record's state. So does
 * a closing entry on a fresh NEW (LB_LEARN_FRESH: a connection opens,
 * maybe on the same server); a live one stays as it is (a late copy of
 * the NEW, after the handshake's REFRESH).
 */
static enum conn_state
lb_learn_state(const struct conn_entry *e, const struct conn_entry *t,
    unsigned int flags)
{
	if (e->service == t->service && e->server == t->server &&
	    e->state > t->state &&
	    !((flags & LB_LEARN_FRESH) && e->state == CONN_CLOSING))
		return ((enum conn_state)e->state);
	return ((enum conn_state)t->state);
}

/* Keep or take an LTOC entry as t says, with self's role (claim 11). */
static void
lb_learn_ltoc(struct lb *lb, const struct conn_entry *t, enum conn_role role,
    unsigned int flags, uint64_t now)
{
	struct conn_entry	*e, *c;
	enum conn_state		 st;

	if ((e = ltoc_lookup(&lb->ltoc, &t->key)) != NULL)
		lb->stats.learn_update++;
	else {
		if ((e = ltoc_insert(&lb->ltoc, &t->key, now)) == NULL) {
			lb->stats.ltoc_full++;
			return;
		}
		if ((c = cache_peek(&lb->cache, &t->key)) != NULL)
			cache_remove(&lb->cache, c);	/* a holder now */
		if (role == CONN_ROLE_OWNER)
			lb->stats.learn_owner++;
		else
			lb->stats.learn_backup++;
	}
	st = lb_learn_state(e, t, flags);
	lb_entry_set_role(lb, e, CONN_ROLE_NONE);	/* uncount old server */
	e->syn_tag = 0;			/* learnt: its SYN unknown here */
	e->service = t->service;
	e->server = t->server;
	e->owner = t->owner;
	e->backup = t->backup;
	lb_entry_set_role(lb, e, role);
	ltoc_set_state(&lb->ltoc, e, st, now);
}

/* The same in the cache (claim 12); an LTOC entry self lost goes. */
static void
lb_learn_cache(struct lb *lb, const struct conn_entry *t, unsigned int flags,
    uint64_t now)
{
	struct conn_entry	*e;

	if ((e = ltoc_lookup(&lb->ltoc, &t->key)) != NULL) {
		lb_entry_remove(lb, e);
		lb->stats.to_cache++;
	}
	if ((e = cache_peek(&lb->cache, &t->key)) != NULL)
		lb->stats.learn_update++;
	else if ((e = cache_insert(&lb->cache, &t->key, now)) != NULL)
		lb->stats.learn_cache++;
	else
		return;			/* no cache (claim 15) */
	cache_set_state(&lb->cache, e, lb_learn_state(e, t, flags), now);
	e->service = t->service;
	e->server = t->server;
	e->owner = t->owner;
	e->backup = t->backup;
}

int
lb_learn_conn(struct lb *lb, const struct flow_key *key, unsigned int service,
    unsigned int server, uint16_t owner, uint16_t backup,
    enum conn_state state, unsigned int flags, uint64_t now)
{
	struct conn_entry	t;
	enum conn_role		role;

	if (service >= lb->nsvc || server >= lb->svc[service].conf->nservers ||
	    (key->len != FLOW_ID_V4 && key->len != FLOW_ID_V6) ||
	    (unsigned int)state >= CONN_NSTATES) {
		lb->stats.learn_bad++;
		return (-1);
	}
	memset(&t, 0, sizeof(t));
	t.key = *key;
	t.service = (uint16_t)service;
	t.server = (uint16_t)server;
	t.owner = owner;
	t.backup = backup;
	t.state = (uint8_t)state;
	if ((role = lb_role_of(lb, owner, backup)) != CONN_ROLE_NONE)
		lb_learn_ltoc(lb, &t, role, flags, now);
	else
		lb_learn_cache(lb, &t, flags, now);
	return (0);
}

int
lb_refresh(struct lb *lb, const struct flow_key *key, uint64_t now)
{
	struct conn_entry	*e;

	if ((e = ltoc_lookup(&lb->ltoc, key)) != NULL) {
		if (e->state == CONN_SYN)
			ltoc_set_state(&lb->ltoc, e, CONN_ESTABLISHED, now);
		else
			ltoc_touch(&lb->ltoc, e, now);
	} else if ((e = cache_peek(&lb->cache, key)) != NULL) {
		if (e->state == CONN_SYN)
			cache_set_state(&lb->cache, e, CONN_ESTABLISHED, now);
		else
			cache_touch(&lb->cache, e, now);
	} else {
		lb->stats.refresh_unknown++;
		return (-1);
	}
	lb->stats.refresh_in++;
	return (0);
}

int
lb_service_server(const struct lb *lb, unsigned int service,
    const struct ilb_addr *a)
{
	const struct service_conf	*c;
	unsigned int			 i;

	if (service >= lb->nsvc)
		return (-1);
	c = lb->svc[service].conf;
	for (i = 0; i < c->nservers; i++)
		if (util_addr_eq(&c->servers[i].addr, a))
			return ((int)i);
	return (-1);
}

void
lb_entry_set_role(struct lb *lb, struct conn_entry *e, enum conn_role role)
{
	if (e->role == role)
		return;
	lb_entry_unaccount(lb, e);
	e->role = (uint8_t)role;
	if (role == CONN_ROLE_OWNER && e->service < lb->nsvc)
		sched_conn_add(&lb->svc[e->service].sched, e->server);
}

void
lb_entry_remove(struct lb *lb, struct conn_entry *e)
{
	if (e->list == 0)
		return;			/* already free */
	lb_entry_unaccount(lb, e);
	ltoc_remove(&lb->ltoc, e);
}

unsigned int
lb_tick(struct lb *lb, uint64_t now, unsigned int budget)
{
	unsigned int	n, c;

	n = ltoc_expire(&lb->ltoc, now, budget);
	if (n < budget) {
		c = cache_expire(&lb->cache, now, budget - n);
		lb->stats.cache_expired += c;
		n += c;
	}
	lb_est_flush(lb, now);
	return (n);
}

/* Index of the member with slot in v, or -1. Linear: views are small. */
static int
lb_view_find(const struct lb_view *v, uint16_t slot)
{
	size_t	i;

	if (slot == CONN_SLOT_NONE)
		return (-1);
	for (i = 0; i < v->n; i++)
		if (v->slots[i] == slot)
			return ((int)i);
	return (-1);
}

static uint16_t
lb_view_slot(const struct lb_view *v, int idx)
{
	return (idx < 0 ? CONN_SLOT_NONE : v->slots[idx]);
}

/* Does member a of v rank above member b for key (score_rank's order)? */
static int
lb_view_better(const struct lb *lb, const struct lb_view *v,
    const struct flow_key *key, int a, int b)
{
	return (score_better(score_one(&lb->score, &v->m[a], key), &v->m[a].id,
	    score_one(&lb->score, &v->m[b], key), &v->m[b].id));
}

/*
 * Is self the node that tells e's new holders under v? Exactly one node
 * is: among e's old holders (owner and backup slots) still in v, the best
 * ranked under v. When neither is in v nobody that stays knows the entry:
 * the old owner, leaving (self, not in v), sends it instead; a dead one
 * cannot and the entry is lost.
 */
static int
lb_responsible(const struct lb *lb, const struct lb_view *v,
    const struct conn_entry *e)
{
	int	o, b, best;

	if (lb->self_slot == CONN_SLOT_NONE)
		return (0);
	o = lb_view_find(v, e->owner);
	b = lb_view_find(v, e->backup);
	if (o < 0 && b < 0)
		return (e->owner == lb->self_slot);
	if (o < 0)
		best = b;
	else if (b < 0)
		best = o;
	else
		best = lb_view_better(lb, v, &e->key, o, b) ? o : b;
	return (v->slots[best] == lb->self_slot);
}

/* Score e under v: its new holders and whether self must send it. */
static void
lb_move_plan(const struct lb *lb, const struct lb_view *v,
    const struct conn_entry *e, struct lb_move *mv)
{
	score_rank(&lb->score, v->m, v->n, &e->key, &mv->owner, &mv->backup);
	mv->oslot = lb_view_slot(v, mv->owner);
	mv->bslot = lb_view_slot(v, mv->backup);
	mv->responsible = lb_responsible(lb, v, e);
}

/*
 * Send c (new holders already in it) to each new holder that was not one
 * of the old ones, owner and backup, if self is responsible. Rows:
 *   claim 17, R owner -> J owner, R backup: R ranks above the old backup,
 *	so R sends to J, as owned (c.owner = J);
 *   claim 17, R owner -> R owner, J backup: R sends to J, as backup;
 *   claim 17, R backup -> J owner or backup, R neither: the old owner is a
 *	new holder and ranks above R: it sends, R does not;
 *   claim 18, R owner, F backup left: R alone survives, sends to the new
 *	backup (the next score);
 *   claim 18, R backup, F owner left: R alone survives, is the new owner,
 *	sends to the new backup.
 */
static int
lb_move_send(struct lb *lb, const struct lb_move *mv, uint16_t old_owner,
    uint16_t old_backup, const struct conn_entry *c, lb_send_cb send,
    void *arg)
{
	uint16_t	dst[2];
	int		i, sent = 0;

	if (!mv->responsible || send == NULL)
		return (0);
	dst[0] = mv->oslot;
	dst[1] = mv->bslot;
	for (i = 0; i < 2; i++) {
		if (dst[i] == CONN_SLOT_NONE || dst[i] == old_owner ||
		    dst[i] == old_backup)
			continue;
		send(arg, c, dst[i]);
		sent++;
	}
	lb->stats.entries_sent += (uint64_t)sent;
	return (sent);
}

/*
 * An LTOC entry self no longer holds moves to the cache with its new
 * holders, keeping its state and idle time: self still forwards it.
 */
static void
lb_ltoc_to_cache(struct lb *lb, struct conn_entry *e)
{
	struct conn_entry	*c;
	uint64_t		 last = (uint64_t)e->last * 1000;

	if ((c = cache_insert(&lb->cache, &e->key, last)) != NULL) {
		cache_set_state(&lb->cache, c, (enum conn_state)e->state, last);
		c->service = e->service;
		c->server = e->server;
		c->owner = e->owner;
		c->backup = e->backup;
	}
	lb->stats.to_cache++;
	lb_entry_remove(lb, e);
}

/* Self's new role for e (holders already updated); may free e. */
static void
lb_rebalance_role(struct lb *lb, struct conn_entry *e,
    const struct lb_move *mv)
{
	if (lb_is_self(lb, mv->owner)) {
		/* claim 18, R backup, F owner left: R becomes owner */
		if (e->role != CONN_ROLE_OWNER) {
			lb_entry_set_role(lb, e, CONN_ROLE_OWNER);
			lb->stats.promoted++;
		}
	} else if (lb_is_self(lb, mv->backup)) {
		/* claim 17, R owner -> J owner: R's role -> backup */
		if (e->role != CONN_ROLE_BACKUP) {
			lb_entry_set_role(lb, e, CONN_ROLE_BACKUP);
			lb->stats.to_backup++;
		}
	} else {
		/* claim 17, R backup -> R neither: delete, keep in cache */
		lb_ltoc_to_cache(lb, e);
	}
}

/* claim 18: drop departed members from cached owners and backups. */
static void
lb_rebalance_cache(struct lb *lb, const struct lb_view *v)
{
	struct conn_entry	*e;
	uint32_t		 cursor;
	int			 o, b;

	CACHE_FOREACH(e, &lb->cache, cursor) {
		if (lb_view_find(v, e->owner) >= 0 &&
		    (e->backup == CONN_SLOT_NONE ||
		    lb_view_find(v, e->backup) >= 0))
			continue;
		score_rank(&lb->score, v->m, v->n, &e->key, &o, &b);
		e->owner = lb_view_slot(v, o);
		e->backup = lb_view_slot(v, b);
		lb->stats.cache_rehomed++;
	}
}

int
lb_rebalance(struct lb *lb, const struct member_id *ids,
    const uint16_t *slots, size_t n, size_t self, lb_send_cb send, void *arg)
{
	struct lb_view		 v;
	struct lb_move		 mv;
	struct conn_entry	*e;
	uint32_t		 cursor;
	uint16_t		 old_owner, old_backup;
	int			 sent = 0;

	if (n > LB_MEMBERS_MAX || (self != LB_SELF_NONE && self >= n))
		return (-1);
	(void)lb_set_members(lb, ids, slots, n, self);
	v.m = lb->members;
	v.slots = lb->slots;
	v.n = lb->nmembers;
	lb->stats.rebalances++;
	LTOC_FOREACH(e, &lb->ltoc, cursor) {
		lb_move_plan(lb, &v, e, &mv);
		old_owner = e->owner;
		old_backup = e->backup;
		e->owner = mv.oslot;
		e->backup = mv.bslot;
		sent += lb_move_send(lb, &mv, old_owner, old_backup, e, send,
		    arg);
		lb_rebalance_role(lb, e, &mv);
	}
	lb_rebalance_cache(lb, &v);
	return (sent);
}

int
lb_plan(struct lb *lb, const struct member_id *ids, const uint16_t *slots,
    size_t n, lb_send_cb send, void *arg)
{
	struct lb_view		 v;
	struct lb_move		 mv;
	struct conn_entry	*e, c;
	uint32_t		 cursor;
	int			 sent = 0;

	if (n > LB_MEMBERS_MAX)
		return (-1);
	lb_members_load(lb, lb->plan, lb->plan_slots, ids, slots, n);
	v.m = lb->plan;
	v.slots = lb->plan_slots;
	v.n = n;
	lb->stats.plans++;
	LTOC_FOREACH(e, &lb->ltoc, cursor) {
		lb_move_plan(lb, &v, e, &mv);
		if (!mv.responsible)
			continue;
		c = *e;
		c.owner = mv.oslot;
		c.backup = mv.bslot;
		sent += lb_move_send(lb, &mv, e->owner, e->backup, &c, send,
		    arg);
	}
	return (sent);
}
