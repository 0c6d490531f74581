/* lb_reload.c: lb's services and servers, from a config; reload diffs them. */

#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "cache.h"
#include "conntab.h"
#include "lb.h"
#include "lb_int.h"
#include "ltoc.h"
#include "sched.h"
#include "util.h"

/* util_cause(), but the first error stays; errno is EINVAL either way. */
static void __attribute__((format(printf, 2, 3)))
lb_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (cause != NULL && *cause == NULL) {
		va_start(ap, fmt);
		util_vcause(cause, fmt, ap);
		va_end(ap);
	}
	errno = EINVAL;
}

/* The dport | vip bytes, as in a key, and the protocol s answers to. */
static void
lb_svc_match(struct lb_service *s)
{
	const struct service_conf	*c = s->conf;
	size_t				 alen;

	alen = c->vip.family == AF_INET6 ? 16 : 4;
	be16_store(s->match, c->port);
	memcpy(s->match + 2, c->vip.u.b, alen);
	s->mlen = (uint8_t)(2 + alen);
	s->udp = c->protocol == PROTO_UDP;
}

/* Enter svc[i] in hash; -1 if its VIP:port is already there. */
static int
lb_hash_add(uint16_t *hash, uint32_t mask, const struct lb_service *svc,
    unsigned int i)
{
	const struct lb_service	*s = &svc[i];
	uint32_t		 h, j;

	h = lb_svc_hash_proto(s->match, s->mlen, s->udp);
	for (j = 0; j <= mask; j++) {
		uint16_t *v = &hash[(h + j) & mask];

		if (*v == 0) {
			*v = (uint16_t)(i + 1);
			return (0);
		}
		if (svc[*v - 1].mlen == s->mlen && svc[*v - 1].udp == s->udp &&
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
	free(s->quic_idx);
	if (s->own != NULL)
		free(s->own->servers);
	free(s->own);
	free(s->srv);
	memset(s, 0, sizeof(*s));
}

/* What table entries and queued records still use: per old index. */
struct lb_refs {
	uint8_t		 *svc;		/* nsvc flags */
	uint8_t		**srv;		/* nsvc arrays of nsrv flags */
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
	if (srv < lb->svc[svc].nsrv)
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
		if ((r->srv[i] = calloc(lb->svc[i].nsrv, 1)) == NULL)
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

	for (j = 0; j < old->nsrv; j++)
		if (sl[j].cfg < 0 && util_addr_eq(&old->srv[j].conf->addr, a))
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
	unsigned int	on = old != NULL ? old->nsrv : 0, n = on, j, k;
	int		f;

	for (j = 0; j < on + nc->nservers; j++) {
		sl[j].cfg = -1;
		sl[j].same = j < on;
	}
	for (k = 0; k < nc->nservers; k++) {
		f = on ? lb_srv_find(old, sl, &nc->servers[k].addr) : -1;
		if (f >= 0) {
			sum->servers_added += old->srv[f].gone;
			sl[f].cfg = (int)k;
		}
	}
	for (j = 0; j < on; j++)
		if (sl[j].cfg < 0 && !old->srv[j].gone)
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

/*
 * issue 22: the server-ID lookup of a quic service, at most half full:
 * each server a reload did not remove, by lb_quic_hash() of its ID (IDs
 * are distinct among them, config_service.c). A removed server, which
 * may share an ID with a new one, is not in it.
 */
static int
lb_svc_quic_index(struct lb_service *s)
{
	const struct server_conf	*c;
	uint32_t			 m, h, k;
	unsigned int			 j;

	if (!s->conf->quic)
		return (0);
	for (m = 16; m < 2 * s->nsrv; m <<= 1)
		;
	if ((s->quic_idx = calloc(m, sizeof(*s->quic_idx))) == NULL)
		return (-1);
	s->quic_mask = m - 1;
	for (j = 0; j < s->nsrv; j++) {
		c = s->srv[j].conf;
		if (s->srv[j].gone || c->quic_sid_len == 0)
			continue;
		h = lb_quic_hash(c->quic_sid, c->quic_sid_len);
		for (k = 0; k < m; k++) {
			if (s->quic_idx[(h + k) & s->quic_mask] == 0) {
				s->quic_idx[(h + k) & s->quic_mask] =
				    (uint16_t)(j + 1);
				break;
			}
		}
	}
	return (0);
}

/*
 * lb's copy of nc laid out as sl says (removed servers from old), and the
 * servers on it; their scheduler entries come with lb_svc_sched().
 */
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
	    (s->srv = calloc(n, sizeof(*s->srv))) == NULL)
		return (-1);
	s->nsrv = n;
	for (j = 0; j < n; j++) {
		if (sl[j].cfg >= 0)
			s->own->servers[j] = nc->servers[sl[j].cfg];
		else {
			s->own->servers[j] = old->conf->servers[j];
			s->srv[j].gone = 1;
		}
		s->srv[j].conf = &s->own->servers[j];
	}
	lb_svc_match(s);
	return (lb_svc_quic_index(s));
}

/* The scheduler of s, from its servers' config; each server points in. */
static int
lb_svc_sched(struct lb_service *s, enum conf_sched kind)
{
	unsigned int	j;

	if (sched_init(&s->sched, kind, s->own->servers, s->nsrv) == -1)
		return (-1);
	for (j = 0; j < s->nsrv; j++)
		s->srv[j].sched = &s->sched.srv[j];
	return (0);
}

/*
 * Runtime state survives: health, operator drain and active counts of
 * every server that keeps its index. Weight: the config's if it changed
 * there (or the server comes back), else the one set at run time. A
 * removed server gets weight 0: it takes no new connection.
 */
static void
lb_sched_carry(struct lb_service *s, const struct lb_service *old,
    const struct service_conf *nc, const struct lb_srvslot *sl,
    struct lb_reload_summary *sum)
{
	const struct lb_server	*o;
	struct lb_server	*v;
	uint32_t		 cw;
	unsigned int		 j;

	if (old == NULL)
		return;			/* as sched_init() left it */
	for (j = 0; j < s->nsrv; j++) {
		v = &s->srv[j];
		if (sl[j].cfg < 0)
			v->sched->weight = 0;
		if (!sl[j].same)
			continue;
		o = &old->srv[j];
		v->sched->up = o->sched->up;
		v->sched->drained = o->sched->drained;
		v->sched->active = o->sched->active;
		v->last_error = o->last_error;
		v->traffic = o->traffic;
		if (sl[j].cfg < 0)
			continue;
		cw = nc->servers[sl[j].cfg].weight;
		if (o->gone || o->conf->weight != cw) {
			v->sched->weight = cw;
			sum->servers_reweighted += !o->gone;
		} else
			v->sched->weight = o->sched->weight;
	}
	if (s->nsrv == old->nsrv)
		s->sched.next = old->sched.next;
	s->sched.dirty = 1;
	sched_rebuild(&s->sched);
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
	unsigned int		 n, on = old != NULL ? old->nsrv : 0;
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
		if (lb_svc_sched(s, nc->scheduler) == -1)
			lb_cause(cause, "service %s: bad scheduler or weight",
			    nc->name);
		else {
			lb_sched_carry(s, old, nc, sl, sum);
			if (old != NULL)
				s->traffic = old->traffic;
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

/* The same quic and QUIC-LB configurations (their key is never set). */
static int
lb_svc_same_quic(const struct service_conf *a, const struct service_conf *b)
{
	const struct quic_lb_conf	*x, *y;
	unsigned int			 i;

	if (a->quic != b->quic || a->nquic_lb != b->nquic_lb)
		return (0);
	for (i = 0; i < a->nquic_lb; i++) {
		x = &a->quic_lb[i];
		y = &b->quic_lb[i];
		if (x->cr != y->cr || x->sid_len != y->sid_len ||
		    x->nonce_len != y->nonce_len || x->len_self != y->len_self)
			return (0);
	}
	return (1);
}

/*
 * Same VIP, port, protocol, forward method and QUIC-LB configuration: the
 * same service for a reload. A server's quic_server_id comes with its
 * config as its weight does (it routes nothing once the server is gone).
 */
static int
lb_svc_same(const struct service_conf *a, const struct service_conf *b)
{
	return (a->port == b->port && a->forward == b->forward &&
	    a->protocol == b->protocol &&
	    util_addr_eq(&a->vip, &b->vip) && lb_svc_same_quic(a, b));
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

/*
 * issue 22: the idle timeouts of each service's UDP flows, its own or
 * the tables' (lb->tables, already the new ones at a reload). Indices
 * no service holds get the tables' (ltoc_set_timeouts() set them).
 */
static void
lb_udp_timeouts_apply(struct lb *lb)
{
	const struct service_conf	*c;
	uint32_t			 n, st;
	unsigned int			 i;

	for (i = 0; i < lb->nsvc; i++) {
		c = lb->svc[i].conf;
		n = c->udp_timeout_s != 0 ? c->udp_timeout_s :
		    lb->tables.udp_timeout_s;
		st = c->udp_stream_timeout_s != 0 ? c->udp_stream_timeout_s :
		    lb->tables.udp_stream_timeout_s;
		ltoc_set_udp_timeouts(&lb->ltoc, i, n, st);
		cache_set_udp_timeouts(&lb->cache, i, n, st);
	}
}

/* The first service table (lb_init()): every service of conf is new. */
int
lb_reload_init(struct lb *lb, const struct ilbd_conf *conf)
{
	struct lb_reload_summary	 sum;
	struct lb_refs			 none;

	memset(&none, 0, sizeof(none));
	memset(&sum, 0, sizeof(sum));
	if (lb_svc_apply(lb, conf, &none, &sum, NULL) == -1)
		return (-1);
	lb_udp_timeouts_apply(lb);
	return (0);
}

/* Free the service table and its lookup (lb_free()). */
void
lb_reload_free(struct lb *lb)
{
	unsigned int	i;

	for (i = 0; i < lb->nsvc; i++)
		lb_svc_release(&lb->svc[i]);
	free(lb->svc);
	free(lb->svc_hash);
	lb->svc = NULL;
	lb->svc_hash = NULL;
	lb->nsvc = 0;
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
	lb->gone_ms = nc->cluster.dead_ms;
	lb_udp_timeouts_apply(lb);
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
	    s->changed[0] ? " (vip, port, protocol or forward changed: " : "",
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
lb_service_by_name(const struct lb *lb, const char *name)
{
	unsigned int	i;

	for (i = 0; i < lb->nsvc; i++)
		if (!lb->svc[i].removed &&
		    strcmp(lb->svc[i].conf->name, name) == 0)
			return ((int)i);
	return (-1);
}

int
lb_service_server(const struct lb *lb, unsigned int service,
    const struct ilb_addr *a)
{
	const struct lb_service	*s;
	unsigned int		 i;

	if (service >= lb->nsvc)
		return (-1);
	s = &lb->svc[service];
	for (i = 0; i < s->nsrv; i++)
		if (util_addr_eq(&s->srv[i].conf->addr, a))
			return ((int)i);
	return (-1);
}
