/* lb_server.c: a service's servers: liveness, health, drain, weight, counts. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cache.h"
#include "conntab.h"
#include "lb.h"
#include "sched.h"

/* Server j of service i, or NULL if out of range (draining ones too). */
static struct lb_server *
lb_server_get(const struct lb *lb, unsigned int i, unsigned int j)
{
	if (i >= lb->nsvc || j >= lb->svc[i].nsrv)
		return (NULL);
	return (&lb->svc[i].srv[j]);
}

int
lb_server_live(const struct lb *lb, unsigned int i, unsigned int j)
{
	const struct lb_server	*v;

	return (lb_service_live(lb, i) && (v = lb_server_get(lb, i, j)) !=
	    NULL && !v->gone);
}

int
lb_server_eligible(const struct lb_server *v)
{
	return (sched_server_eligible(v->sched));
}

int
lb_server_set_up(struct lb *lb, unsigned int i, unsigned int j, int up,
    int err)
{
	struct lb_server	*v;

	if ((v = lb_server_get(lb, i, j)) == NULL)
		return (-1);
	/* the error that took it down: none while it is up */
	v->last_error = up ? 0 : err;
	return (sched_set_up(&lb->svc[i].sched, j, up));
}

int
lb_server_set_drained(struct lb *lb, unsigned int i, unsigned int j,
    int drained)
{
	if (lb_server_get(lb, i, j) == NULL)
		return (-1);
	return (sched_set_drained(&lb->svc[i].sched, j, drained));
}

int
lb_server_set_weight(struct lb *lb, unsigned int i, unsigned int j,
    uint32_t w)
{
	if (lb_server_get(lb, i, j) == NULL)
		return (-1);
	return (sched_set_weight(&lb->svc[i].sched, j, w));
}

void
lb_server_count(struct lb *lb)
{
	struct conn_entry	*e;
	struct lb_server	*v;
	uint32_t		 cur;
	unsigned int		 i, j;

	for (i = 0; i < lb->nsvc; i++)
		for (j = 0; j < lb->svc[i].nsrv; j++)
			lb->svc[i].srv[j].cached = 0;
	CACHE_FOREACH(e, &lb->cache, cur)
		if ((v = lb_server_get(lb, e->service, e->server)) != NULL)
			v->cached++;
}

/*
 * Close t's window of ms milliseconds into its rates (0: a first window,
 * no rate yet), and open the next one.
 */
static void
lb_traffic_close(struct lb_traffic *t, uint64_t ms)
{
	if (ms > 0) {
		t->pps = (t->packets - t->win_packets) * 1000 / ms;
		t->bps = (t->bytes - t->win_bytes) * 1000 / ms;
	}
	t->win_packets = t->packets;
	t->win_bytes = t->bytes;
}

void
lb_traffic_rates(struct lb *lb, uint64_t now)
{
	struct lb_service	*s;
	uint64_t		 ms = 0;
	unsigned int		 i, j;

	/* the first call, or a clock that went back, opens the window */
	if (lb->rate_at != 0 && now >= lb->rate_at) {
		if ((ms = now - lb->rate_at) < LB_RATE_MS)
			return;
	}
	lb->rate_at = now;
	for (i = 0; i < lb->nsvc; i++) {
		s = &lb->svc[i];
		lb_traffic_close(&s->traffic, ms);
		for (j = 0; j < s->nsrv; j++)
			lb_traffic_close(&s->srv[j].traffic, ms);
	}
}
