/* world.c: build the configurations and the lbs the tests play with. */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "world.h"

/* A test asked for more than the world holds: a bug in the test. */
static void
world_bug(const char *what)
{
	fprintf(stderr, "world: %s\n", what);
	abort();
}

void
world_addr4(struct ilb_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->u.b[0] = x;
	a->u.b[1] = y;
	a->u.b[2] = z;
	a->u.b[3] = w;
}

void
world_addr(struct ilb_addr *a, const char *text)
{
	if (util_addr_parse(text, a) == -1)
		world_bug("not an address");
}

/*
 * A configuration with no service yet: crc32c-mix scoring, tables of
 * ltoc_size and cache_size entries, timeouts WORLD_SYN_S, _TCP_S, _FIN_S.
 */
struct ilbd_conf *
world_conf_new(uint32_t ltoc_size, uint32_t cache_size)
{
	struct ilbd_conf	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->services = calloc(WORLD_SVC_MAX, sizeof(*c->services))) ==
	    NULL)
		world_bug("out of memory");
	c->cluster.scoring = SCORING_CRC32C_MIX;
	c->tables.ltoc_size = ltoc_size;
	c->tables.cache_size = cache_size;
	c->tables.syn_timeout_s = WORLD_SYN_S;
	c->tables.tcp_timeout_s = WORLD_TCP_S;
	c->tables.fin_timeout_s = WORLD_FIN_S;
	return (c);
}

/* Service name on 198.51.100.vip:80, direct server return, no server. */
struct service_conf *
world_service(struct ilbd_conf *c, const char *name, uint8_t vip,
    enum conf_sched kind)
{
	struct service_conf	*s;

	if (c->nservices >= WORLD_SVC_MAX)
		world_bug("too many services");
	s = &c->services[c->nservices++];
	util_strlcpy(s->name, name, sizeof(s->name));
	world_addr4(&s->vip, 198, 51, 100, vip);
	s->port = 80;
	s->forward = FORWARD_DSR;
	s->scheduler = kind;
	if ((s->servers = calloc(WORLD_SRV_MAX, sizeof(*s->servers))) == NULL)
		world_bug("out of memory");
	return (s);
}

/* Server 192.0.2.last of s. */
struct server_conf *
world_server(struct service_conf *s, uint8_t last, uint32_t weight)
{
	struct server_conf	*v;

	if (s->nservers >= WORLD_SRV_MAX)
		world_bug("too many servers");
	v = &s->servers[s->nservers++];
	world_addr4(&v->addr, 192, 0, 2, last);
	v->weight = weight;
	return (v);
}

/* Service name on 198.51.100.vip:80, servers 192.0.2.21.. of weight 1. */
struct service_conf *
world_web(struct ilbd_conf *c, const char *name, uint8_t vip,
    enum conf_sched kind, unsigned int nservers)
{
	struct service_conf	*s = world_service(c, name, vip, kind);
	unsigned int		 i;

	for (i = 0; i < nservers; i++)
		world_server(s, (uint8_t)(21 + i), 1);
	return (s);
}

/* Free as the daemon does, poisoned first: lb must not look at it again. */
void
world_conf_free(struct ilbd_conf *c)
{
	unsigned int	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nservices; i++) {
		memset(c->services[i].servers, 0xa5, WORLD_SRV_MAX *
		    sizeof(*c->services[i].servers));
		free(c->services[i].servers);
	}
	memset(c->services, 0xa5, WORLD_SVC_MAX * sizeof(*c->services));
	free(c->services);
	memset(c, 0xa5, sizeof(*c));
	free(c);
}

/* A world of nmembers members running conf (which it now owns); no lb yet. */
void
world_init(struct world *w, struct ilbd_conf *conf, size_t nmembers)
{
	size_t	i;

	if (nmembers > WORLD_MEMBERS_MAX)
		world_bug("too many members");
	memset(w, 0, sizeof(*w));
	w->conf = conf;
	w->nmembers = nmembers;
	for (i = 0; i < nmembers; i++) {
		w->ids[i].len = 4;
		w->ids[i].b[0] = 10;
		w->ids[i].b[3] = (uint8_t)(i + 1);
		w->slots[i] = (uint16_t)(WORLD_SLOT0 + i);
	}
}

/*
 * Start the lbs of members 0..n-1, lb i with seed + i, each with the
 * whole membership and itself as member i; with WORLD_NO_MEMBERS each
 * knows only its own slot (a node that has not heard from the cluster).
 */
int
world_start(struct world *w, size_t n, uint64_t seed, int flags)
{
	size_t	i;

	if (n > w->nmembers)
		world_bug("more lbs than members");
	for (i = 0; i < n; i++) {
		if (lb_init(&w->lb[i], w->conf, seed + i) == -1)
			return (-1);
		w->n = i + 1;
		if (flags & WORLD_NO_MEMBERS)
			lb_set_self_slot(&w->lb[i], w->slots[i]);
		else if (lb_set_members(&w->lb[i], w->ids, w->slots,
		    w->nmembers, i) == -1)
			return (-1);
	}
	return (0);
}

/* Free the lbs and the configuration; again is harmless. */
void
world_free(struct world *w)
{
	size_t	i;

	for (i = 0; i < w->n; i++)
		lb_free(&w->lb[i]);
	w->n = 0;
	world_conf_free(w->conf);
	w->conf = NULL;
}

/* lb receives r: 0, or -1 if it refuses a NEW or an END. */
static int
world_learn(struct lb *lb, const struct lb_record *r, uint64_t now,
    int flags)
{
	switch (r->type) {
	case LB_REC_NEW:
		if (!(flags & WORLD_AS_REPL))
			return (lb_learn_new(lb, r, now));
		return (lb_learn_conn(lb, &r->key, r->service, r->server,
		    r->owner, r->backup, CONN_SYN,
		    ((r->flags & LB_REC_F_FRESH) ? LB_LEARN_FRESH : 0) |
		    ((r->flags & LB_REC_F_REOPEN) ? LB_LEARN_REOPEN : 0) |
		    LB_LEARN_TAG(r->tag), now));
	case LB_REC_END:
		return (lb_learn_end(lb, r, now));
	case LB_REC_REFRESH:
		(void)lb_refresh(lb, &r->key, now);	/* as repl.c */
		return (0);
	}
	return (-1);
}

/*
 * Deliver every queued record of lb from to the other lbs: NEW through
 * lb_learn_new(), or with WORLD_AS_REPL as repl.c does, through
 * lb_learn_conn() with the record's flags and tag; END through
 * lb_learn_end(), REFRESH through lb_refresh(). The records delivered, or
 * -1 if an lb refused one.
 */
int
world_deliver(struct world *w, size_t from, uint64_t now, int flags)
{
	struct lb_record	r;
	int			n = 0, rc = 0;
	size_t			i;

	while (lb_queue_pop(&w->lb[from], &r)) {
		for (i = 0; i < w->n; i++)
			if (i != from &&
			    world_learn(&w->lb[i], &r, now, flags) != 0)
				rc = -1;
		n++;
	}
	return (rc == 0 ? n : -1);
}

/* The records of from, as every other member receives them. */
int
world_broadcast(struct world *w, size_t from, uint64_t now)
{
	return (world_deliver(w, from, now, 0));
}

struct pkt_info
world_pkt(uint8_t vip, uint16_t dport, uint16_t sport, uint8_t flags)
{
	struct pkt_info	pi;

	memset(&pi, 0, sizeof(pi));
	pi.key.len = FLOW_ID_V4;
	pi.key.id[0] = (uint8_t)(dport >> 8);
	pi.key.id[1] = (uint8_t)dport;
	pi.key.id[2] = 198;
	pi.key.id[3] = 51;
	pi.key.id[4] = 100;
	pi.key.id[5] = vip;
	pi.key.id[6] = (uint8_t)(sport >> 8);
	pi.key.id[7] = (uint8_t)sport;
	pi.key.id[8] = 203;
	pi.key.id[9] = 0;
	pi.key.id[10] = 113;
	pi.key.id[11] = 7;
	pi.family = 4;
	pi.proto = 6;
	pi.tcp_flags = flags;
	return (pi);
}
