/* fuzz_world.c: the lb the harnesses share: built once, reset per input. */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lb.h"

struct world		 fuzz_world;
struct lb *const	 fuzz_lb = &fuzz_world.lb[0];
uint64_t		 fuzz_now = FUZZ_T0;	/* start of every input */

/*
 * 198.51.100.10:80 (wlc, servers 192.0.2.21..23 weights 1..3) and
 * [2001:db8:100::10]:443 (hash, gre, servers 2001:db8::21, ::22) and
 * 198.51.100.10:443 UDP with quic (QUIC-LB rotation 0, server ID 2 and
 * nonce 6 octets, self-describing; rotation 1, nonce 4; servers
 * 192.0.2.21..22, IDs 0a01, 0a02); members
 * 10.0.0.1..3 in slots 100..102; tables of 1024 entries.
 */
void
fuzz_world_init(void)
{
	struct ilbd_conf	*c = world_conf_new(1024, 1024);
	struct service_conf	*s;
	unsigned int		 i;

	s = world_web(c, "web", 10, SCHED_WLC, 3);
	for (i = 0; i < 3; i++)
		s->servers[i].weight = i + 1;
	s = world_service(c, "web6", 10, SCHED_HASH);
	world_addr(&s->vip, "2001:db8:100::10");
	s->port = 443;
	s->forward = FORWARD_GRE;
	world_addr(&world_server(s, 21, 1)->addr, "2001:db8::21");
	world_addr(&world_server(s, 22, 1)->addr, "2001:db8::22");
	s = world_web(c, "quic", 10, SCHED_WLC, 2);
	s->port = 443;
	s->protocol = PROTO_UDP;
	s->quic = 1;
	s->nquic_lb = 2;
	s->quic_lb[0] = (struct quic_lb_conf){ .cr = 0, .sid_len = 2,
	    .nonce_len = 6, .len_self = 1 };
	s->quic_lb[1] = (struct quic_lb_conf){ .cr = 1, .sid_len = 2,
	    .nonce_len = 4 };
	for (i = 0; i < 2; i++) {
		s->servers[i].quic_sid[0] = 0x0a;
		s->servers[i].quic_sid[1] = (uint8_t)(i + 1);
		s->servers[i].quic_sid_len = 2;
	}
	world_init(&fuzz_world, c, FUZZ_MEMBERS);
	if (world_start(&fuzz_world, 1, 42, 0) == -1)
		abort();
}

/*
 * Forget the previous input: self is member 0..2, or 3 for not a member.
 * Only the schedulers' Maglev tables and weights survive, unchanged.
 */
void
fuzz_world_reset(unsigned int self)
{
	struct lb	*lb = fuzz_lb;
	unsigned int	 i;

	for (i = 0; i < lb->nsvc; i++)
		lb->svc[i].sched.next = 0;
	memset(&lb->stats, 0, sizeof(lb->stats));
	lb->qhead = lb->qtail = 0;
	lb->est_head = lb->est_tail = 0;
	if (self >= FUZZ_MEMBERS) {
		FUZZ_CHECK(lb_set_members(lb, fuzz_world.ids,
		    fuzz_world.slots, FUZZ_MEMBERS, LB_SELF_NONE) == 0);
		lb_set_self_slot(lb, FUZZ_SLOT0 + FUZZ_MEMBERS);
	} else
		FUZZ_CHECK(lb_set_members(lb, fuzz_world.ids,
		    fuzz_world.slots, FUZZ_MEMBERS, self) == 0);
}

/*
 * Once every entry has timed out (8 days after now, the input's last
 * time) both tables are empty and no server has an active connection
 * left: the scheduler counts follow the LTOC. The next input starts at
 * fuzz_now again: the tables hold seconds in 32 bits, a clock carried on
 * from input to input would wrap within a minute of fuzzing.
 */
void
fuzz_world_expire(uint64_t now)
{
	struct lb		*lb = fuzz_lb;
	struct lb_record	 rec;
	unsigned int		 i, j;

	now += 8ULL * 24 * 3600 * 1000;
	while (lb_tick(lb, now, 4096) > 0)
		;
	while (lb_queue_pop(lb, &rec))
		;
	FUZZ_CHECK(ltoc_count(&lb->ltoc) == 0);
	FUZZ_CHECK(cache_count(&lb->cache) == 0);
	for (i = 0; i < lb->nsvc; i++)
		for (j = 0; j < lb->svc[i].sched.n; j++)
			FUZZ_CHECK(lb->svc[i].sched.srv[j].active == 0);
}

/*
 * n connections per service for the show commands: clients 203.0.113.i
 * (v4) and 2001:db8:c::i (v6), port 40000 + i, owners rotating over the
 * members (LTOC entries when the owner or backup is self, else cache).
 * They live until fuzz_world_expire().
 */
void
fuzz_world_populate(unsigned int n)
{
	const struct service_conf	*svc = fuzz_world.conf->services;
	const uint16_t			*slots = fuzz_world.slots;
	struct flow_key			 k;
	unsigned int			 i, m;
	uint16_t			 sport;

	for (i = 0; i < n; i++) {
		sport = (uint16_t)(40000 + i);
		m = i % FUZZ_MEMBERS;
		memset(&k, 0, sizeof(k));
		k.len = FLOW_ID_V4;
		k.id[1] = 80;
		memcpy(k.id + 2, svc[0].vip.u.b, 4);
		k.id[6] = (uint8_t)(sport >> 8);
		k.id[7] = (uint8_t)sport;
		k.id[8] = 203;
		k.id[10] = 113;
		k.id[11] = (uint8_t)i;
		(void)lb_learn_conn(fuzz_lb, &k, 0, i % 3, slots[m],
		    slots[(m + 1) % FUZZ_MEMBERS],
		    (enum conn_state)(i % CONN_NSTATES), 0, fuzz_now);
		memset(&k, 0, sizeof(k));
		k.len = FLOW_ID_V6;
		k.id[0] = 443 >> 8;
		k.id[1] = 443 & 0xff;
		memcpy(k.id + 2, svc[1].vip.u.b, 16);
		k.id[18] = (uint8_t)(sport >> 8);
		k.id[19] = (uint8_t)sport;
		k.id[20] = 0x20;
		k.id[21] = 0x01;
		k.id[22] = 0x0d;
		k.id[23] = 0xb8;
		k.id[25] = 0x0c;
		k.id[35] = (uint8_t)i;
		(void)lb_learn_conn(fuzz_lb, &k, 1, i % 2, slots[m],
		    CONN_SLOT_NONE, CONN_ESTABLISHED, 0, fuzz_now);
	}
}

/* Undo server drain|enable|weight: the configured weights, all enabled. */
void
fuzz_world_restore(void)
{
	const struct service_conf	*c;
	struct sched			*s;
	unsigned int			 i, j;

	for (i = 0; i < fuzz_lb->nsvc; i++) {
		c = fuzz_lb->svc[i].conf;
		s = &fuzz_lb->svc[i].sched;
		for (j = 0; j < s->n; j++) {
			FUZZ_CHECK(sched_set_drained(s, j, 0) == 0);
			FUZZ_CHECK(sched_set_weight(s, j,
			    c->servers[j].weight) == 0);
		}
		sched_rebuild(s);
	}
}
