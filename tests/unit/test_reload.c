/* test_reload.c: unit tests for lb_reload(), live configuration changes. */

#include <sys/socket.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conntab.h"
#include "lb.h"
#include "ltoc.h"
#include "packet.h"
#include "sched.h"
#include "stats.h"
#include "world.h"

#define TEST_MEMBERS	3
#define T0		1000000ULL	/* ms */

/* One lb (member 0 of three); the config it runs is freed at once. */
static struct world	 world;
static struct lb *const	 test_lb = &world.lb[0];

/*
 * Every server of every service joins its config and its scheduler entry
 * at its own index (struct lb_server), removed ones included.
 */
static void
test_servers_joined(void)
{
	const struct lb_service	*s;
	unsigned int		 i, j;

	for (i = 0; i < test_lb->nsvc; i++) {
		s = &test_lb->svc[i];
		assert_int_equal(s->nsrv, s->conf->nservers);
		assert_int_equal(s->nsrv, s->sched.n);
		for (j = 0; j < s->nsrv; j++) {
			assert_ptr_equal(s->srv[j].conf, &s->conf->servers[j]);
			assert_ptr_equal(s->srv[j].sched, &s->sched.srv[j]);
			assert_int_equal(lb_server_live(test_lb, i, j),
			    !s->removed && !s->srv[j].gone);
		}
	}
}

static void
test_start(struct ilbd_conf *c)
{
	world_init(&world, c, TEST_MEMBERS);
	assert_int_equal(world_start(&world, 1, 42, 0), 0);
	/* lb keeps copies: the config given to lb_init may go at once. */
	world_conf_free(world.conf);
	world.conf = NULL;
	test_servers_joined();
}

/*
 * lb_reload() to c, which is then freed; returns its result. The queue is
 * emptied first, as the daemon's event loop does after every packet batch.
 */
static int
test_reload(struct ilbd_conf *c, struct lb_reload_summary *sum)
{
	struct lb_record	 r;
	char			*cause = NULL;
	int			 rc;

	while (lb_queue_pop(test_lb, &r))
		;
	rc = lb_reload(test_lb, c, T0, sum, &cause);
	if (rc == 0)
		assert_null(cause);
	free(cause);
	world_conf_free(c);
	test_servers_joined();
	return (rc);
}

static void
test_stop(void)
{
	world_free(&world);
}

static struct pkt_info
test_pkt(uint8_t vip, uint16_t sport, uint8_t flags)
{
	return (world_pkt(vip, 80, sport, flags));
}

/* The next client port from *sport on whose owner is member owner. */
static uint16_t
test_port(uint8_t vip, uint16_t *sport, int owner)
{
	struct pkt_info	pi;
	int		o, b;

	for (; *sport < 65535; (*sport)++) {
		pi = test_pkt(vip, *sport, PKT_TH_SYN);
		lb_rank(test_lb, &pi.key, &o, &b);
		if (o == owner && b != 0)
			return ((*sport)++);
	}
	fail_msg("no port owned by %d", owner);
	return (0);
}

static int
test_send(uint8_t vip, uint16_t sport, uint8_t flags, uint64_t now,
    struct lb_action *act)
{
	struct pkt_info	pi = test_pkt(vip, sport, flags);

	return (lb_decide(test_lb, &pi, 0, now, act));
}

/* Open a connection owned by self: SYN then ACK; returns its server. */
static int
test_open(uint8_t vip, uint16_t sport)
{
	struct lb_action	act;

	assert_int_equal(test_send(vip, sport, PKT_TH_SYN, T0, &act),
	    LB_FORWARD);
	assert_int_equal(test_send(vip, sport, PKT_TH_ACK, T0, &act),
	    LB_FORWARD);
	return (act.server);
}

/* Last octet of the server an established packet of sport goes to. */
static uint8_t
test_dest(uint8_t vip, uint16_t sport, uint64_t now)
{
	struct lb_action	act;

	assert_int_equal(test_send(vip, sport, PKT_TH_ACK, now, &act),
	    LB_FORWARD);
	assert_ptr_equal(act.srv, &act.svc->servers[act.server]);
	return (act.srv->addr.u.b[3]);
}

static uint32_t
test_active(unsigned int svc, unsigned int srv)
{
	return (test_lb->svc[svc].sched.srv[srv].active);
}

static int
test_srv_index(unsigned int svc, uint8_t last)
{
	struct ilb_addr	a;

	world_addr4(&a, 192, 0, 2, last);
	return (lb_service_server(test_lb, svc, &a));
}

/* web: 198.51.100.10:80, servers 21..20+n, weight 1, scheduler kind. */
static struct ilbd_conf *
test_conf_web(enum conf_sched kind, unsigned int n)
{
	struct ilbd_conf	*c = world_conf_new(1024, 1024);

	world_web(c, "web", 10, kind, n);
	return (c);
}

/* A server added: new SYNs reach it, existing connections keep theirs. */
static void
test_add_server(void **state)
{
	struct lb_reload_summary	sum;
	struct lb_action		act;
	uint16_t			sport = 1024, p[4];
	uint8_t				dest[4];
	int				i, seen = 0;

	(void)state;
	test_start(test_conf_web(SCHED_RR, 2));
	for (i = 0; i < 4; i++) {
		p[i] = test_port(10, &sport, 0);
		test_open(10, p[i]);
		dest[i] = test_dest(10, p[i], T0);
	}
	assert_int_equal(test_reload(test_conf_web(SCHED_RR, 3), &sum), 0);
	assert_int_equal(sum.servers_added, 1);
	assert_int_equal(sum.servers_removed, 0);
	assert_int_equal(sum.services_added + sum.services_removed +
	    sum.services_changed, 0);
	assert_int_equal(test_lb->svc[0].conf->nservers, 3);
	assert_int_equal(test_srv_index(0, 23), 2);
	for (i = 0; i < 4; i++)
		assert_int_equal(test_dest(10, p[i], T0 + 1000), dest[i]);
	for (i = 0; i < 6; i++) {
		assert_int_equal(test_send(10, test_port(10, &sport, 0),
		    PKT_TH_SYN, T0, &act), LB_FORWARD);
		seen += act.srv->addr.u.b[3] == 23;
	}
	assert_int_equal(seen, 2);	/* rr over three */
	assert_int_equal(test_lb->stats.reloads, 1);
	test_stop();
}

/*
 * A server removed: its connections still go to it, new SYNs never do,
 * its active count drains; once unused its index is taken by a new one.
 */
static void
test_remove_server(void **state)
{
	struct lb_reload_summary	 sum;
	struct lb_action		 act;
	struct ilbd_conf		*c;
	uint16_t			 sport = 1024, p[6];
	int				 i, on22 = 0;

	(void)state;
	test_start(test_conf_web(SCHED_RR, 3));
	for (i = 0; i < 6; i++) {
		p[i] = test_port(10, &sport, 0);
		test_open(10, p[i]);
	}
	assert_int_equal(test_active(0, 1), 2);
	c = world_conf_new(1024, 1024);
	world_server(world_service(c, "web", 10, SCHED_RR), 21, 1);
	world_server(&c->services[0], 23, 1);
	assert_int_equal(test_reload(c, &sum), 0);
	assert_int_equal(sum.servers_removed, 1);
	assert_int_equal(sum.servers_purged, 0);
	assert_int_equal(test_srv_index(0, 22), 1);	/* still there */
	assert_false(lb_server_live(test_lb, 0, 1));
	assert_true(lb_server_live(test_lb, 0, 0));
	assert_true(test_lb->svc[0].srv[1].gone);
	assert_false(sched_eligible(&test_lb->svc[0].sched, 1));
	assert_false(lb_server_eligible(&test_lb->svc[0].srv[1]));
	assert_int_equal(test_active(0, 1), 2);
	for (i = 0; i < 6; i++)
		on22 += test_dest(10, p[i], T0 + 1000) == 22;
	assert_int_equal(on22, 2);
	for (i = 0; i < 20; i++) {
		assert_int_equal(test_send(10, test_port(10, &sport, 0),
		    PKT_TH_SYN, T0, &act), LB_FORWARD);
		assert_int_not_equal(act.srv->addr.u.b[3], 22);
	}
	/* Its connections end: the count drains. */
	for (i = 0; i < 6; i++)
		assert_int_equal(test_send(10, p[i], PKT_TH_FIN | PKT_TH_ACK,
		    T0 + 2000, &act), LB_FORWARD);
	lb_tick(test_lb, T0 + 2000 + 61 * 1000, 1000000);
	assert_int_equal(test_active(0, 1), 0);
	/* Unused now: a new server takes index 1. */
	c = world_conf_new(1024, 1024);
	world_server(world_service(c, "web", 10, SCHED_RR), 21, 1);
	world_server(&c->services[0], 23, 1);
	world_server(&c->services[0], 24, 1);
	assert_int_equal(test_reload(c, &sum), 0);
	assert_int_equal(sum.servers_added, 1);
	assert_int_equal(sum.servers_purged, 1);
	assert_int_equal(test_srv_index(0, 22), -1);
	assert_int_equal(test_srv_index(0, 24), 1);
	assert_true(lb_server_live(test_lb, 0, 1));
	assert_int_equal(test_lb->svc[0].conf->nservers, 3);
	test_stop();
}

/* A removed server that comes back while draining keeps its index. */
static void
test_server_returns(void **state)
{
	struct lb_reload_summary	 sum;
	struct ilbd_conf		*c;
	uint16_t			 sport = 1024, p;
	int				 srv;

	(void)state;
	test_start(test_conf_web(SCHED_WLC, 2));
	p = test_port(10, &sport, 0);
	srv = test_open(10, p);
	c = world_conf_new(1024, 1024);
	world_server(world_service(c, "web", 10, SCHED_WLC),
	    (uint8_t)(srv == 0 ? 22 : 21), 1);
	assert_int_equal(test_reload(c, &sum), 0);
	assert_false(lb_server_live(test_lb, 0, (unsigned int)srv));
	assert_int_equal(test_reload(test_conf_web(SCHED_WLC, 2), &sum), 0);
	assert_int_equal(sum.servers_added, 1);
	assert_true(lb_server_live(test_lb, 0, (unsigned int)srv));
	assert_true(sched_eligible(&test_lb->svc[0].sched, (unsigned int)srv));
	assert_int_equal(test_active(0, (unsigned int)srv), 1);
	assert_int_equal(test_dest(10, p, T0 + 1000), 21 + srv);
	test_stop();
}

/* Weights: a config change wins, else the run-time weight stays. */
static void
test_weight(void **state)
{
	struct lb_reload_summary	 sum;
	struct ilbd_conf		*c;
	struct sched			*s;

	(void)state;
	test_start(test_conf_web(SCHED_WRR, 2));
	s = &test_lb->svc[0].sched;
	assert_int_equal(lb_server_set_weight(test_lb, 0, 0, 5), 0); /* ilbctl */
	assert_int_equal(test_reload(test_conf_web(SCHED_WRR, 2), &sum), 0);
	s = &test_lb->svc[0].sched;
	assert_int_equal(sum.servers_reweighted, 0);
	assert_int_equal(s->srv[0].weight, 5);
	assert_int_equal(s->srv[1].weight, 1);
	c = test_conf_web(SCHED_WRR, 2);
	c->services[0].servers[1].weight = 3;
	assert_int_equal(test_reload(c, &sum), 0);
	s = &test_lb->svc[0].sched;
	assert_int_equal(sum.servers_reweighted, 1);
	assert_int_equal(s->srv[0].weight, 5);
	assert_int_equal(s->srv[1].weight, 3);
	c = test_conf_web(SCHED_WLC, 2);		/* kind follows too */
	c->services[0].servers[0].weight = 2;
	c->services[0].servers[1].weight = 3;
	assert_int_equal(test_reload(c, &sum), 0);
	s = &test_lb->svc[0].sched;
	assert_int_equal(sum.servers_reweighted, 1);
	assert_int_equal(s->srv[0].weight, 2);
	assert_int_equal(s->srv[1].weight, 3);
	assert_int_equal(s->kind, SCHED_WLC);
	test_stop();
}

/* Health, operator drain and active counts survive a reload. */
static void
test_state_survives(void **state)
{
	struct lb_reload_summary	 sum;
	struct sched			*s;
	uint16_t			 sport = 1024;
	int				 i;

	(void)state;
	test_start(test_conf_web(SCHED_RR, 3));
	for (i = 0; i < 3; i++)
		test_open(10, test_port(10, &sport, 0));
	s = &test_lb->svc[0].sched;
	assert_int_equal(lb_server_set_up(test_lb, 0, 0, 0, ECONNREFUSED), 0);
	assert_int_equal(lb_server_set_drained(test_lb, 0, 1, 1), 0);
	sched_rebuild(s);
	assert_int_equal(test_reload(test_conf_web(SCHED_RR, 4), &sum), 0);
	s = &test_lb->svc[0].sched;
	assert_int_equal(s->n, 4);
	assert_int_equal(s->srv[0].up, 0);
	assert_int_equal(test_lb->svc[0].srv[0].last_error, ECONNREFUSED);
	assert_int_equal(test_lb->svc[0].srv[3].last_error, 0);
	assert_int_equal(s->srv[1].drained, 1);
	assert_int_equal(s->srv[2].up, 1);
	assert_int_equal(s->srv[2].drained, 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(s->srv[i].active, 1);
	assert_int_equal(sched_neligible(s), 2);
	test_stop();
}

/*
 * The lb_server_set_*() setters reach the server's scheduler entry; out of
 * range, nothing changes.
 */
static void
test_server_setters(void **state)
{
	struct lb_server	*v;

	(void)state;
	test_start(test_conf_web(SCHED_WRR, 2));
	v = &test_lb->svc[0].srv[1];
	assert_true(lb_server_eligible(v));
	assert_int_equal(lb_server_set_weight(test_lb, 0, 1, 7), 0);
	assert_int_equal(v->sched->weight, 7);
	assert_int_equal(lb_server_set_weight(test_lb, 0, 1,
	    SCHED_WEIGHT_MAX + 1), -1);
	assert_int_equal(v->sched->weight, 7);
	assert_int_equal(lb_server_set_drained(test_lb, 0, 1, 1), 0);
	assert_false(lb_server_eligible(v));
	assert_int_equal(lb_server_set_drained(test_lb, 0, 1, 0), 0);
	assert_int_equal(lb_server_set_up(test_lb, 0, 1, 0, ETIMEDOUT), 0);
	assert_false(lb_server_eligible(v));
	assert_int_equal(v->last_error, ETIMEDOUT);
	assert_false(sched_eligible(&test_lb->svc[0].sched, 1));
	assert_int_equal(lb_server_set_up(test_lb, 0, 2, 0, 0), -1);
	assert_int_equal(lb_server_set_up(test_lb, 1, 0, 0, 0), -1);
	assert_int_equal(lb_server_set_drained(test_lb, 0, 2, 1), -1);
	assert_int_equal(lb_server_set_weight(test_lb, 1, 0, 1), -1);
	assert_false(lb_server_live(test_lb, 0, 2));
	assert_true(sched_eligible(&test_lb->svc[0].sched, 0));
	test_stop();
}

/* A service added: found by new lookups. */
static void
test_add_service(void **state)
{
	struct lb_reload_summary	 sum;
	struct lb_action		 act;
	struct ilbd_conf		*c;
	uint16_t			 sport = 1024, p;

	(void)state;
	test_start(test_conf_web(SCHED_WLC, 2));
	p = test_port(11, &sport, 0);
	assert_int_equal(test_send(11, p, PKT_TH_SYN, T0, &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_NO_SERVICE);
	c = test_conf_web(SCHED_WLC, 2);
	world_server(world_service(c, "api", 11, SCHED_HASH), 31, 1);
	assert_int_equal(test_reload(c, &sum), 0);
	assert_int_equal(sum.services_added, 1);
	assert_int_equal(test_lb->nsvc, 2);
	assert_int_equal(lb_service_by_name(test_lb, "api"), 1);
	assert_int_equal(test_send(11, p, PKT_TH_SYN, T0, &act), LB_FORWARD);
	assert_int_equal(act.service, 1);
	assert_string_equal(act.svc->name, "api");
	assert_int_equal(act.srv->addr.u.b[3], 31);
	test_stop();
}

/* A service removed: its connections go on, new SYNs drop, counted. */
static void
test_remove_service(void **state)
{
	struct lb_reload_summary	 sum;
	struct lb_action		 act;
	struct ilbd_conf		*c;
	struct pkt_info			 pi;
	uint16_t			 sport = 1024, p, q;
	uint8_t				 dest;

	(void)state;
	c = test_conf_web(SCHED_WLC, 2);
	world_server(world_service(c, "api", 11, SCHED_WLC), 31, 1);
	test_start(c);
	p = test_port(10, &sport, 0);
	test_open(10, p);
	dest = test_dest(10, p, T0);
	c = world_conf_new(1024, 1024);
	world_server(world_service(c, "api", 11, SCHED_WLC), 31, 1);
	assert_int_equal(test_reload(c, &sum), 0);
	assert_int_equal(sum.services_removed, 1);
	assert_int_equal(sum.services_purged, 0);
	assert_false(lb_service_live(test_lb, 0));
	assert_true(lb_service_live(test_lb, 1));
	assert_int_equal(lb_service_by_name(test_lb, "web"), -1);
	assert_int_equal(test_dest(10, p, T0 + 1000), dest);
	q = test_port(10, &sport, 0);
	assert_int_equal(test_send(10, q, PKT_TH_SYN, T0, &act), LB_DROP);
	assert_int_equal(act.drop, LB_DROP_NO_SERVICE);
	assert_int_equal(test_lb->stats.service_removed, 1);
	/* Learnt entries for it still land (transfers of live connections). */
	pi = test_pkt(10, q, 0);
	assert_int_equal(lb_learn_conn(test_lb, &pi.key, 0, 0,
	    WORLD_SLOT0 + 1, WORLD_SLOT0 + 2, CONN_ESTABLISHED, 0, T0), 0);
	/* Ended and expired: the next reload gives its index to another. */
	assert_int_equal(test_send(10, p, PKT_TH_RST, T0 + 2000, &act),
	    LB_FORWARD);
	lb_tick(test_lb, T0 + 2000 + 3600 * 1000, 1000000);
	assert_int_equal(ltoc_count(&test_lb->ltoc), 0);
	assert_int_equal(cache_count(&test_lb->cache), 0);
	c = world_conf_new(1024, 1024);
	world_server(world_service(c, "api", 11, SCHED_WLC), 31, 1);
	world_server(world_service(c, "new", 12, SCHED_WLC), 41, 1);
	assert_int_equal(test_reload(c, &sum), 0);
	assert_int_equal(sum.services_added, 1);
	assert_int_equal(sum.services_purged, 1);
	assert_int_equal(test_lb->nsvc, 2);
	assert_int_equal(lb_service_by_name(test_lb, "new"), 0);
	assert_int_equal(test_send(10, q, PKT_TH_SYN, T0, &act), LB_DROP);
	assert_int_equal(test_lb->stats.service_removed, 1); /* unknown now */
	test_stop();
}

/* A new VIP is a new service: the old one drains on its old VIP. */
static void
test_vip_change(void **state)
{
	struct lb_reload_summary	 sum;
	struct lb_action		 act;
	struct ilbd_conf		*c;
	char				 line[256];
	uint16_t			 sport = 1024, p;
	uint8_t				 dest;

	(void)state;
	test_start(test_conf_web(SCHED_WLC, 2));
	p = test_port(10, &sport, 0);
	test_open(10, p);
	dest = test_dest(10, p, T0);
	c = test_conf_web(SCHED_WLC, 2);
	world_addr4(&c->services[0].vip, 198, 51, 100, 12);
	assert_int_equal(test_reload(c, &sum), 0);
	assert_int_equal(sum.services_changed, 1);
	assert_int_equal(sum.services_added, 0);
	assert_int_equal(sum.services_removed, 0);
	assert_string_equal(sum.changed, "web");
	lb_reload_summary_fmt(&sum, line, sizeof(line));
	assert_non_null(strstr(line, "changed: web"));
	assert_int_equal(test_lb->nsvc, 2);
	assert_int_equal(lb_service_by_name(test_lb, "web"), 1);
	assert_int_equal(test_dest(10, p, T0 + 1000), dest);
	assert_int_equal(test_send(10, test_port(10, &sport, 0), PKT_TH_SYN,
	    T0, &act), LB_DROP);
	assert_int_equal(test_lb->stats.service_removed, 1);
	assert_int_equal(test_send(12, test_port(12, &sport, 0), PKT_TH_SYN,
	    T0, &act), LB_FORWARD);
	assert_int_equal(act.service, 1);
	test_stop();
}

/* Same VIP:port, other forward method: the new service wins the lookup. */
static void
test_forward_change(void **state)
{
	struct lb_reload_summary	 sum;
	struct lb_action		 act;
	struct ilbd_conf		*c;
	uint16_t			 sport = 1024, p;

	(void)state;
	test_start(test_conf_web(SCHED_WLC, 2));
	p = test_port(10, &sport, 0);
	test_open(10, p);
	c = test_conf_web(SCHED_WLC, 2);
	c->services[0].forward = FORWARD_GRE;
	assert_int_equal(test_reload(c, &sum), 0);
	assert_int_equal(sum.services_changed, 1);
	assert_int_equal(test_send(10, p, PKT_TH_ACK, T0, &act), LB_FORWARD);
	assert_int_equal(act.svc->forward, FORWARD_DSR);
	assert_int_equal(act.service, 0);
	assert_int_equal(test_send(10, test_port(10, &sport, 0), PKT_TH_SYN,
	    T0, &act), LB_FORWARD);
	assert_int_equal(act.svc->forward, FORWARD_GRE);
	assert_int_equal(act.service, 1);
	test_stop();
}

/* Cache entries of a removed server still forward to it. */
static void
test_cache_entry_survives(void **state)
{
	struct lb_reload_summary	 sum;
	struct lb_action		 act;
	struct ilbd_conf		*c;
	struct pkt_info			 pi;
	uint16_t			 sport = 1024, p;

	(void)state;
	test_start(test_conf_web(SCHED_WLC, 3));
	p = test_port(10, &sport, 1);
	pi = test_pkt(10, p, 0);
	assert_int_equal(lb_learn_conn(test_lb, &pi.key, 0, 2,
	    WORLD_SLOT0 + 1, WORLD_SLOT0 + 2, CONN_ESTABLISHED, 0, T0), 0);
	c = test_conf_web(SCHED_WLC, 2);	/* 23 removed */
	assert_int_equal(test_reload(c, &sum), 0);
	assert_int_equal(sum.servers_removed, 1);
	assert_int_equal(sum.servers_purged, 0);	/* the cache uses it */
	assert_int_equal(test_send(10, p, PKT_TH_ACK, T0, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_CACHE);
	assert_int_equal(act.srv->addr.u.b[3], 23);
	test_stop();
}

/* Table timeouts change live. */
static void
test_timeouts(void **state)
{
	struct ilbd_conf	*c;
	uint16_t		 sport = 1024, p;

	(void)state;
	test_start(test_conf_web(SCHED_WLC, 2));
	p = test_port(10, &sport, 0);
	test_open(10, p);
	lb_tick(test_lb, T0 + 120 * 1000, 1000);
	assert_int_equal(ltoc_count(&test_lb->ltoc), 1);
	c = test_conf_web(SCHED_WLC, 2);
	c->tables.tcp_timeout_s = 60;
	assert_int_equal(test_reload(c, NULL), 0);
	assert_int_equal(test_lb->tables.tcp_timeout_s, 60);
	assert_int_equal(test_lb->refresh_s, LB_REFRESH_S);
	lb_tick(test_lb, T0 + 121 * 1000, 1000);
	assert_int_equal(ltoc_count(&test_lb->ltoc), 0);
	assert_int_equal(test_active(0, 0) + test_active(0, 1), 0);
	test_stop();
}

/* What cannot change live is refused, and nothing changes. */
static void
test_refused(void **state)
{
	struct ilbd_conf		*c;
	struct lb_service		*svc;
	const struct service_conf	*conf;
	char				*cause = NULL;
	uint16_t			 sport = 1024, p;

	(void)state;
	test_start(test_conf_web(SCHED_WLC, 2));
	p = test_port(10, &sport, 0);
	test_open(10, p);
	svc = test_lb->svc;
	conf = test_lb->svc[0].conf;

	c = test_conf_web(SCHED_WLC, 3);
	c->tables.ltoc_size = 2048;
	c->tables.tcp_timeout_s = 10;
	assert_int_equal(lb_reload(test_lb, c, T0, NULL, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "tables.ltoc_size cannot change"));
	free(cause);
	world_conf_free(c);

	c = test_conf_web(SCHED_WLC, 3);
	c->cluster.scoring = SCORING_CRC32;
	assert_int_equal(lb_reload(test_lb, c, T0, NULL, &cause), -1);
	assert_non_null(strstr(cause, "cluster.scoring"));
	free(cause);
	world_conf_free(c);

	/* Found late, once servers were planned: still nothing changes. */
	c = test_conf_web(SCHED_WLC, 3);
	world_server(world_service(c, "dup", 10, SCHED_WLC), 31, 1);
	c->tables.tcp_timeout_s = 10;
	assert_int_equal(lb_reload(test_lb, c, T0, NULL, &cause), -1);
	assert_non_null(strstr(cause, "service dup"));
	free(cause);
	world_conf_free(c);

	c = test_conf_web(SCHED_WLC, 3);
	world_service(c, "empty", 11, SCHED_WLC);
	assert_int_equal(lb_reload(test_lb, c, T0, NULL, &cause), -1);
	assert_non_null(strstr(cause, "service empty: no servers"));
	free(cause);
	world_conf_free(c);

	assert_ptr_equal(test_lb->svc, svc);
	assert_ptr_equal(test_lb->svc[0].conf, conf);
	assert_int_equal(test_lb->nsvc, 1);
	assert_int_equal(test_lb->svc[0].sched.n, 2);
	assert_int_equal(test_lb->tables.tcp_timeout_s, 900);
	assert_int_equal(test_lb->tables.ltoc_size, 1024);
	assert_int_equal(test_lb->stats.reloads, 0);
	assert_int_equal(test_active(0, 0) + test_active(0, 1), 1);
	lb_tick(test_lb, T0 + 120 * 1000, 1000);
	assert_int_equal(ltoc_count(&test_lb->ltoc), 1);
	test_stop();
}

/* A renamed service on the same VIP:port: the new name takes the SYNs. */
static void
test_rename(void **state)
{
	struct lb_reload_summary	 sum;
	struct lb_action		 act;
	struct ilbd_conf		*c;
	uint16_t			 sport = 1024, p;

	(void)state;
	test_start(test_conf_web(SCHED_WLC, 2));
	p = test_port(10, &sport, 0);
	test_open(10, p);
	c = test_conf_web(SCHED_WLC, 2);
	strcpy(c->services[0].name, "www");
	assert_int_equal(test_reload(c, &sum), 0);
	assert_int_equal(sum.services_added, 1);
	assert_int_equal(sum.services_removed, 1);
	assert_int_equal(test_send(10, p, PKT_TH_ACK, T0, &act), LB_FORWARD);
	assert_string_equal(act.svc->name, "web");
	assert_int_equal(test_send(10, test_port(10, &sport, 0), PKT_TH_SYN,
	    T0, &act), LB_FORWARD);
	assert_string_equal(act.svc->name, "www");
	test_stop();
}

/* Many reloads that swap servers do not grow the tables. */
static void
test_churn(void **state)
{
	struct ilbd_conf	*c;
	unsigned int		 i;

	(void)state;
	test_start(test_conf_web(SCHED_HASH, 2));
	for (i = 0; i < 50; i++) {
		c = world_conf_new(1024, 1024);
		world_server(world_service(c, i % 2 ? "a" : "b",
		    (uint8_t)(10 + i % 3), SCHED_HASH), (uint8_t)(100 + i), 1);
		assert_int_equal(test_reload(c, NULL), 0);
	}
	assert_true(test_lb->nsvc <= 2);
	assert_int_equal(test_lb->svc[lb_service_by_name(test_lb,
	    "a")].sched.n, 1);
	test_stop();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_server),
		cmocka_unit_test(test_remove_server),
		cmocka_unit_test(test_server_returns),
		cmocka_unit_test(test_weight),
		cmocka_unit_test(test_state_survives),
		cmocka_unit_test(test_server_setters),
		cmocka_unit_test(test_add_service),
		cmocka_unit_test(test_remove_service),
		cmocka_unit_test(test_vip_change),
		cmocka_unit_test(test_forward_change),
		cmocka_unit_test(test_cache_entry_survives),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_rename),
		cmocka_unit_test(test_churn),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
