/*
 * test_lb_quic.c: QUIC connection-ID routing on a UDP service (issue 22):
 * a short header whose DCID names a usable server goes to it on any
 * member, owner of its 4-tuple or not, with no entry, no handoff and no
 * record; everything else goes by the 4-tuple.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "conntab.h"
#include "lb.h"
#include "lb_int.h"
#include "ltoc.h"
#include "packet.h"
#include "quic_lb.h"
#include "sched.h"
#include "stats.h"
#include "world.h"

#define T0		1000000ULL	/* ms */
#define NSRV		3
#define PAYLOAD_MAX	64

static struct world	world;

/* Configuration 0 self-describes its length; 1 does not. */
static const struct quic_lb_conf test_confs[] = {
	{ .cr = 0, .sid_len = 2, .nonce_len = 6, .len_self = 1 },
	{ .cr = 1, .sid_len = 2, .nonce_len = 4, .len_self = 0 },
};

/* One datagram: its payload, and the pkt_info pointing at it. */
struct test_dgram {
	uint8_t		buf[PAYLOAD_MAX];
	size_t		len;
	struct pkt_info	pi;
};

/* The quic service "q", servers 192.0.2.21.. with IDs 0a01, 0a02, 0a03. */
static void
test_quic_conf(struct ilbd_conf *c, uint8_t first_sid)
{
	struct service_conf	*s;
	unsigned int		 j;

	s = world_web(c, "q", 10, SCHED_WLC, NSRV);
	s->port = 443;
	s->protocol = PROTO_UDP;
	s->quic = 1;
	memcpy(s->quic_lb, test_confs, sizeof(test_confs));
	s->nquic_lb = 2;
	for (j = 0; j < NSRV; j++) {
		s->servers[j].quic_sid[0] = 0x0a;
		s->servers[j].quic_sid[1] = (uint8_t)(first_sid + j);
		s->servers[j].quic_sid_len = 2;
	}
}

static struct world *
test_world_new(size_t n)
{
	struct ilbd_conf	*c = world_conf_new(1024, 1024);

	test_quic_conf(c, 1);
	world_init(&world, c, n);
	assert_int_equal(world_start(&world, n, 42, 0), 0);
	return (&world);
}

/* A datagram 203.0.113.7:sport -> 198.51.100.10:443 carrying buf. */
static void
test_dgram_set(struct test_dgram *d, uint16_t sport)
{
	d->pi = world_pkt(10, 443, sport, 0);
	d->pi.key.len |= FLOW_KEY_UDP;
	d->pi.proto = 17;
	d->pi.data_off = 28;
	d->pi.ip_len = (uint32_t)(28 + d->len);
	d->pi.udp_data = d->buf;
}

/*
 * A short header whose DCID is conf's encoding of server ID 0a:sid (the
 * first octet's rotation bits replaced by cr when cr_override >= 0).
 */
static void
test_short(struct test_dgram *d, uint16_t sport, const struct quic_lb_conf *c,
    uint8_t sid, int cr_override)
{
	const uint8_t	id[2] = { 0x0a, sid };
	const uint8_t	nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	int		n;

	memset(d, 0, sizeof(*d));
	d->buf[0] = 0x41;		/* short, fixed bit, 2-octet PN */
	n = quic_lb_encode(c, id, nonce, 0x15, d->buf + 1,
	    sizeof(d->buf) - 1);
	assert_true(n > 0);
	if (cr_override >= 0)
		d->buf[1] = (uint8_t)((cr_override << 5) | (d->buf[1] & 0x1f));
	d->len = 1 + (size_t)n + 20;	/* PN and protected payload */
	memset(d->buf + 1 + n, 0xee, 20);
	test_dgram_set(d, sport);
}

/* A long header (Initial, QUIC v1) whose DCID would name server 0a:sid. */
static void
test_long(struct test_dgram *d, uint16_t sport, uint8_t sid)
{
	const uint8_t	id[2] = { 0x0a, sid };
	const uint8_t	nonce[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	int		n;

	memset(d, 0, sizeof(*d));
	d->buf[0] = 0xc0;		/* long, fixed bit, Initial */
	d->buf[4] = 1;			/* version 1 */
	n = quic_lb_encode(&test_confs[0], id, nonce, 0, d->buf + 6, 20);
	assert_true(n > 0);
	d->buf[5] = (uint8_t)n;
	d->buf[6 + n] = 0;		/* SCID length 0 */
	d->len = 7 + (size_t)n + 20;
	test_dgram_set(d, sport);
}

/* A client port whose owner and backup (member indices) are these. */
static uint16_t
test_find(struct world *w, int owner, int backup, uint16_t from)
{
	struct test_dgram	d;
	uint32_t		sport;
	int			o, b;

	for (sport = from; sport < 65536; sport++) {
		test_long(&d, (uint16_t)sport, 1);
		lb_rank(&w->lb[0], &d.pi.key, &o, &b);
		if (o == owner && b == backup)
			return ((uint16_t)sport);
	}
	fail_msg("no tuple with owner %d backup %d", owner, backup);
	return (0);
}

/* Nothing of the tuple anywhere: no entry, no record, no handoff. */
static void
test_stateless(struct world *w, const struct test_dgram *d)
{
	size_t	i;

	for (i = 0; i < w->n; i++) {
		assert_null(ltoc_lookup(&w->lb[i].ltoc, &d->pi.key));
		assert_null(cache_peek(&w->lb[i].cache, &d->pi.key));
		assert_int_equal(lb_queue_len(&w->lb[i]), 0);
		assert_int_equal(w->lb[i].stats.handoff_out, 0);
		assert_int_equal(w->lb[i].stats.new_conn, 0);
	}
}

/*
 * Short headers naming server 0a02 (index 1), from many ports, on every
 * member (owner, backup or neither): all forwarded to it at once.
 */
static void
test_quic_short_routed(void **state)
{
	struct world		*w = test_world_new(3);
	struct test_dgram	 d;
	struct lb_action	 act;
	uint16_t		 sport, nonowner = test_find(w, 0, 2, 1024);
	size_t			 i;
	uint64_t		 routed = 0;

	(void)state;
	/* lb[1] neither owns nor backs the tuple up */
	test_short(&d, nonowner, &test_confs[0], 2, -1);
	assert_int_equal(lb_decide(&w->lb[1], &d.pi, 0, T0, &act),
	    LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_QUIC);
	assert_int_equal(act.service, 0);
	assert_int_equal(act.server, 1);
	assert_int_equal(w->lb[1].stats.quic_routed, 1);
	assert_int_equal(w->lb[1].stats.quic_fallback, 0);
	assert_int_equal(w->lb[1].stats.udp_new_flow, 0);
	test_stateless(w, &d);
	/* every member, many tuples, both configurations */
	for (sport = 2000; sport < 2100; sport++) {
		for (i = 0; i < w->n; i++) {
			test_short(&d, sport, &test_confs[sport & 1],
			    (uint8_t)(2 + (sport & 1)), -1);
			assert_int_equal(lb_decide(&w->lb[i], &d.pi, 0,
			    T0 + sport, &act), LB_FORWARD);
			assert_int_equal(act.path, LB_PATH_QUIC);
			assert_int_equal(act.server, 1 + (sport & 1));
			test_stateless(w, &d);
		}
	}
	for (i = 0; i < w->n; i++) {
		assert_int_equal(w->lb[i].stats.quic_fallback, 0);
		routed += w->lb[i].stats.quic_routed;
	}
	assert_int_equal(routed, 1 + 100 * w->n);
	world_free(w);
}

/*
 * A long header goes by its 4-tuple although its DCID decodes: handed
 * off by a non-owner, opened (an LTOC entry) by the owner.
 */
static void
test_quic_long_by_tuple(void **state)
{
	struct world		*w = test_world_new(3);
	struct test_dgram	 d;
	struct lb_action	 act;
	uint16_t		 sport = test_find(w, 0, 2, 1024);

	(void)state;
	test_long(&d, sport, 3);
	assert_int_equal(lb_decide(&w->lb[1], &d.pi, 0, T0, &act),
	    LB_HANDOFF);
	assert_int_equal(act.member, w->slots[0]);
	assert_int_equal(w->lb[1].stats.quic_fallback, 1);
	assert_int_equal(w->lb[1].stats.quic_routed, 0);
	assert_int_equal(lb_decide(&w->lb[0], &d.pi, 1, T0, &act),
	    LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_OWNER);
	assert_non_null(ltoc_lookup(&w->lb[0].ltoc, &d.pi.key));
	/* counted once in the cluster: where it came in, not by handoff */
	assert_int_equal(w->lb[0].stats.quic_fallback, 0);
	assert_int_equal(w->lb[0].stats.udp_new_flow, 1);
	world_free(w);
}

/* d, sent to non-owner lb[1], goes by its tuple: handed off, counted. */
static void
test_fallback_one(struct world *w, struct test_dgram *d, uint64_t *n)
{
	struct lb_action	act;

	assert_int_equal(lb_decide(&w->lb[1], &d->pi, 0, T0, &act),
	    LB_HANDOFF);
	assert_int_equal(act.member, w->slots[0]);
	assert_int_equal(w->lb[1].stats.quic_fallback, ++*n);
	assert_int_equal(w->lb[1].stats.quic_routed, 0);
}

/*
 * Short headers that do not route by CID: another rotation codepoint,
 * the unroutable 0b111, a server ID no server has, a self-described
 * length other than the DCID's, a truncated DCID, no payload; a server
 * down, drained or of weight 0.
 */
static void
test_quic_fallback(void **state)
{
	struct world		*w = test_world_new(3);
	struct sched		*sc = &w->lb[1].svc[0].sched;
	struct test_dgram	 d;
	uint16_t		 sport = test_find(w, 0, 2, 1024);
	uint64_t		 n = 0;

	(void)state;
	test_short(&d, sport, &test_confs[0], 2, 2);	/* no config 2 */
	test_fallback_one(w, &d, &n);
	test_short(&d, sport, &test_confs[0], 2, 7);	/* 0b111 */
	test_fallback_one(w, &d, &n);
	test_short(&d, sport, &test_confs[0], 9, -1);	/* 0a09: nobody */
	test_fallback_one(w, &d, &n);
	test_short(&d, sport, &test_confs[0], 2, -1);
	d.buf[1] = (uint8_t)((d.buf[1] & 0xe0) | 5);	/* says 6 octets */
	test_fallback_one(w, &d, &n);
	test_short(&d, sport, &test_confs[1], 2, -1);
	d.len = 5;					/* DCID cut short */
	test_dgram_set(&d, sport);
	test_fallback_one(w, &d, &n);
	test_short(&d, sport, &test_confs[0], 2, -1);
	d.pi.udp_data = NULL;				/* not parsed as UDP */
	test_fallback_one(w, &d, &n);
	d.len = 0;					/* empty datagram */
	test_dgram_set(&d, sport);
	test_fallback_one(w, &d, &n);
	/* the server named is down, drained, weighted 0, then back */
	test_short(&d, sport, &test_confs[0], 2, -1);
	assert_int_equal(sched_set_up(sc, 1, 0), 0);
	sched_rebuild(sc);
	test_fallback_one(w, &d, &n);
	assert_int_equal(sched_set_up(sc, 1, 1), 0);
	assert_int_equal(sched_set_drained(sc, 1, 1), 0);
	sched_rebuild(sc);
	test_fallback_one(w, &d, &n);
	assert_int_equal(sched_set_drained(sc, 1, 0), 0);
	assert_int_equal(sched_set_weight(sc, 1, 0), 0);
	sched_rebuild(sc);
	test_fallback_one(w, &d, &n);
	assert_int_equal(sched_set_weight(sc, 1, 1), 0);
	sched_rebuild(sc);
	{
		struct lb_action	act;

		assert_int_equal(lb_decide(&w->lb[1], &d.pi, 0, T0, &act),
		    LB_FORWARD);
		assert_int_equal(act.path, LB_PATH_QUIC);
		assert_int_equal(act.server, 1);
	}
	world_free(w);
}

/* A service without quic routes the same short header by its tuple. */
static void
test_quic_off(void **state)
{
	struct world		*w = test_world_new(3);
	struct test_dgram	 d;
	struct lb_action	 act;
	struct ilbd_conf	*c = world_conf_new(1024, 1024);
	struct lb_reload_summary sum;
	char			*cause = NULL;
	uint16_t		 sport = test_find(w, 0, 2, 1024);

	(void)state;
	test_quic_conf(c, 1);
	c->services[0].quic = 0;
	c->services[0].nquic_lb = 0;
	c->tables = w->conf->tables;
	assert_int_equal(lb_reload(&w->lb[1], c, T0, &sum, &cause), 0);
	assert_null(cause);
	assert_int_equal(sum.services_changed, 1);	/* quic changed */
	test_short(&d, sport, &test_confs[0], 2, -1);
	assert_int_equal(lb_decide(&w->lb[1], &d.pi, 0, T0, &act),
	    LB_HANDOFF);
	assert_int_equal(w->lb[1].stats.quic_fallback, 0);
	assert_int_equal(w->lb[1].stats.quic_routed, 0);
	world_conf_free(c);
	world_free(w);
}

/*
 * A reload that keeps the QUIC-LB configuration but renumbers the
 * servers' IDs: the same service, and the new IDs route at once.
 */
static void
test_quic_reload_ids(void **state)
{
	struct world		*w = test_world_new(3);
	struct test_dgram	 d;
	struct lb_action	 act;
	struct ilbd_conf	*c = world_conf_new(1024, 1024);
	struct lb_reload_summary sum;
	char			*cause = NULL;
	uint16_t		 sport = test_find(w, 0, 2, 1024);

	(void)state;
	test_quic_conf(c, 5);			/* 0a05, 0a06, 0a07 */
	c->tables = w->conf->tables;
	assert_int_equal(lb_reload(&w->lb[1], c, T0, &sum, &cause), 0);
	assert_null(cause);
	assert_int_equal(sum.services_changed, 0);
	test_short(&d, sport, &test_confs[0], 2, -1);	/* old ID */
	assert_int_equal(lb_decide(&w->lb[1], &d.pi, 0, T0, &act),
	    LB_HANDOFF);
	test_short(&d, sport, &test_confs[0], 7, -1);
	assert_int_equal(lb_decide(&w->lb[1], &d.pi, 0, T0, &act),
	    LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_QUIC);
	assert_int_equal(act.server, 2);
	world_conf_free(c);
	world_free(w);
}

/*
 * A server removed by a reload while a flow still uses it stays, gone,
 * at its index; the new server given its ID gets the ID's packets.
 */
static void
test_quic_reload_id_reused(void **state)
{
	struct world		*w = test_world_new(3);
	struct lb		*lb = &w->lb[0];
	struct test_dgram	 d;
	struct lb_action	 act;
	struct ilbd_conf	*c = world_conf_new(1024, 1024);
	struct service_conf	*s;
	struct lb_reload_summary sum;
	char			*cause = NULL;
	struct ilb_addr		 a24;
	uint16_t		 sport = 1024;
	int			 o, b, opened = 0;
	unsigned int		 j;

	(void)state;
	/* open flows at their owner lb[0] until one runs on 0a02 */
	while (!opened) {
		test_long(&d, ++sport, 1);
		lb_rank(lb, &d.pi.key, &o, &b);
		if (o != 0)
			continue;
		assert_int_equal(lb_decide(lb, &d.pi, 0, T0, &act),
		    LB_FORWARD);
		assert_int_equal(act.path, LB_PATH_OWNER);
		opened = act.server == 1;
		assert_true(sport < 2000);
	}
	/* .22 (0a02) goes; .24 comes with 0a02 */
	test_quic_conf(c, 1);
	s = &c->services[0];
	world_addr4(&s->servers[1].addr, 192, 0, 2, 24);
	c->tables = w->conf->tables;
	assert_int_equal(lb_reload(lb, c, T0 + 1, &sum, &cause), 0);
	assert_null(cause);
	assert_int_equal(sum.services_changed, 0);
	assert_int_equal(lb->svc[0].nsrv, 4);
	assert_int_equal(lb->svc[0].srv[1].gone, 1);
	world_addr4(&a24, 192, 0, 2, 24);
	for (j = 0; j < 20; j++) {
		test_short(&d, (uint16_t)(3000 + j), &test_confs[0], 2, -1);
		assert_int_equal(lb_decide(lb, &d.pi, 0, T0 + 2, &act),
		    LB_FORWARD);
		assert_int_equal(act.path, LB_PATH_QUIC);
		assert_int_equal(act.server, 3);
		assert_true(util_addr_eq(&act.srv->addr, &a24));
	}
	world_conf_free(c);
	world_free(w);
}

/* 16-bit one's complement sum of an IPv4 header. */
static uint16_t
test_csum(const uint8_t *p, size_t n)
{
	uint32_t	s = 0;
	size_t		i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ((uint16_t)~s);
}

/* Through packet_parse(): the UDP payload it points to routes. */
static void
test_quic_parsed(void **state)
{
	struct world		*w = test_world_new(3);
	struct test_dgram	 d;
	struct lb_action	 act;
	struct pkt_info		 pi;
	uint8_t			 pkt[28 + PAYLOAD_MAX];
	uint16_t		 sport = test_find(w, 0, 2, 1024), tot, c;

	(void)state;
	test_short(&d, sport, &test_confs[1], 3, -1);
	tot = (uint16_t)(28 + d.len);
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(tot >> 8);
	pkt[3] = (uint8_t)tot;
	pkt[8] = 64;
	pkt[9] = 17;
	memcpy(pkt + 12, (const uint8_t[]){ 203, 0, 113, 7 }, 4);
	memcpy(pkt + 16, (const uint8_t[]){ 198, 51, 100, 10 }, 4);
	c = test_csum(pkt, 20);
	pkt[10] = (uint8_t)(c >> 8);
	pkt[11] = (uint8_t)c;
	pkt[20] = (uint8_t)(sport >> 8);
	pkt[21] = (uint8_t)sport;
	pkt[22] = 443 >> 8;
	pkt[23] = 443 & 0xff;
	pkt[24] = (uint8_t)((tot - 20) >> 8);
	pkt[25] = (uint8_t)(tot - 20);
	memcpy(pkt + 28, d.buf, d.len);
	assert_int_equal(lb_input(&w->lb[1], pkt, tot, 0, T0, &pi, &act),
	    LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_QUIC);
	assert_int_equal(act.server, 2);
	assert_ptr_equal(pi.udp_data, pkt + 28);
	assert_int_equal(w->lb[1].stats.quic_routed, 1);
	world_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quic_short_routed),
		cmocka_unit_test(test_quic_long_by_tuple),
		cmocka_unit_test(test_quic_fallback),
		cmocka_unit_test(test_quic_off),
		cmocka_unit_test(test_quic_reload_ids),
		cmocka_unit_test(test_quic_reload_id_reused),
		cmocka_unit_test(test_quic_parsed),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
