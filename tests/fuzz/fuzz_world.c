/* fuzz_world.c: the small lb the harnesses share, built once, reset per input. */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lb.h"

struct lb			fuzz_lb;
uint64_t			fuzz_now = FUZZ_T0;	/* start of every input */
struct member_id		fuzz_ids[FUZZ_MEMBERS];
uint16_t			fuzz_slots[FUZZ_MEMBERS];

static struct ilbd_conf		fuzz_conf;
static struct service_conf	fuzz_svc[2];
static struct server_conf	fuzz_srv4[3], fuzz_srv6[2];

static void
fuzz_addr(struct ilb_addr *a, int family, const uint8_t *b)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	memcpy(a->u.b, b, family == AF_INET ? 4 : 16);
}

/*
 * 198.51.100.10:80 (wlc, servers 192.0.2.21..23 weights 1..3) and
 * [2001:db8:100::10]:443 (hash, gre, servers 2001:db8::21, ::22); members
 * 10.0.0.1..3 in slots 100..102; tables of 1024 entries.
 */
void
fuzz_world_init(void)
{
	static const uint8_t	vip4[4] = { 198, 51, 100, 10 };
	static const uint8_t	vip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x01,
	    0x00, [15] = 0x10 };
	uint8_t			b[16];
	unsigned int		i;

	for (i = 0; i < 3; i++) {
		memset(b, 0, sizeof(b));
		b[0] = 192;
		b[2] = 2;
		b[3] = (uint8_t)(21 + i);
		fuzz_addr(&fuzz_srv4[i].addr, AF_INET, b);
		fuzz_srv4[i].weight = i + 1;
	}
	for (i = 0; i < 2; i++) {
		memset(b, 0, sizeof(b));
		b[0] = 0x20;
		b[1] = 0x01;
		b[2] = 0x0d;
		b[3] = 0xb8;
		b[15] = (uint8_t)(0x21 + i);
		fuzz_addr(&fuzz_srv6[i].addr, AF_INET6, b);
		fuzz_srv6[i].weight = 1;
	}
	strcpy(fuzz_svc[0].name, "web");
	fuzz_addr(&fuzz_svc[0].vip, AF_INET, vip4);
	fuzz_svc[0].port = 80;
	fuzz_svc[0].scheduler = SCHED_WLC;
	fuzz_svc[0].servers = fuzz_srv4;
	fuzz_svc[0].nservers = 3;
	strcpy(fuzz_svc[1].name, "web6");
	fuzz_addr(&fuzz_svc[1].vip, AF_INET6, vip6);
	fuzz_svc[1].port = 443;
	fuzz_svc[1].forward = FORWARD_GRE;
	fuzz_svc[1].scheduler = SCHED_HASH;
	fuzz_svc[1].servers = fuzz_srv6;
	fuzz_svc[1].nservers = 2;
	fuzz_conf.cluster.scoring = SCORING_CRC32C_MIX;
	fuzz_conf.tables.ltoc_size = 1024;
	fuzz_conf.tables.cache_size = 1024;
	fuzz_conf.tables.syn_timeout_s = 30;
	fuzz_conf.tables.tcp_timeout_s = 900;
	fuzz_conf.tables.fin_timeout_s = 60;
	fuzz_conf.services = fuzz_svc;
	fuzz_conf.nservices = 2;
	for (i = 0; i < FUZZ_MEMBERS; i++) {
		fuzz_ids[i].len = 4;
		fuzz_ids[i].b[0] = 10;
		fuzz_ids[i].b[3] = (uint8_t)(i + 1);
		fuzz_slots[i] = (uint16_t)(FUZZ_SLOT0 + i);
	}
	if (lb_init(&fuzz_lb, &fuzz_conf, 42) == -1)
		abort();
}

const struct ilbd_conf *
fuzz_world_conf(void)
{
	return (&fuzz_conf);
}

/*
 * Forget the previous input: self is member 0..2, or 3 for not a member.
 * Only the schedulers' Maglev tables and weights survive, unchanged.
 */
void
fuzz_world_reset(unsigned int self)
{
	unsigned int	i;

	for (i = 0; i < fuzz_lb.nsvc; i++)
		fuzz_lb.svc[i].sched.next = 0;
	memset(&fuzz_lb.stats, 0, sizeof(fuzz_lb.stats));
	fuzz_lb.qhead = fuzz_lb.qtail = 0;
	fuzz_lb.est_head = fuzz_lb.est_tail = 0;
	if (self >= FUZZ_MEMBERS) {
		FUZZ_CHECK(lb_set_members(&fuzz_lb, fuzz_ids, fuzz_slots,
		    FUZZ_MEMBERS, LB_SELF_NONE) == 0);
		lb_set_self_slot(&fuzz_lb, FUZZ_SLOT0 + FUZZ_MEMBERS);
	} else
		FUZZ_CHECK(lb_set_members(&fuzz_lb, fuzz_ids, fuzz_slots,
		    FUZZ_MEMBERS, self) == 0);
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
	struct lb		*lb = &fuzz_lb;
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
	struct flow_key	k;
	unsigned int	i, m;
	uint16_t	sport;

	for (i = 0; i < n; i++) {
		sport = (uint16_t)(40000 + i);
		m = i % FUZZ_MEMBERS;
		memset(&k, 0, sizeof(k));
		k.len = FLOW_ID_V4;
		k.id[1] = 80;
		memcpy(k.id + 2, fuzz_svc[0].vip.u.b, 4);
		k.id[6] = (uint8_t)(sport >> 8);
		k.id[7] = (uint8_t)sport;
		k.id[8] = 203;
		k.id[10] = 113;
		k.id[11] = (uint8_t)i;
		(void)lb_learn_conn(&fuzz_lb, &k, 0, i % 3, fuzz_slots[m],
		    fuzz_slots[(m + 1) % FUZZ_MEMBERS],
		    (enum conn_state)(i % CONN_NSTATES), 0, fuzz_now);
		memset(&k, 0, sizeof(k));
		k.len = FLOW_ID_V6;
		k.id[0] = 443 >> 8;
		k.id[1] = 443 & 0xff;
		memcpy(k.id + 2, fuzz_svc[1].vip.u.b, 16);
		k.id[18] = (uint8_t)(sport >> 8);
		k.id[19] = (uint8_t)sport;
		k.id[20] = 0x20;
		k.id[21] = 0x01;
		k.id[22] = 0x0d;
		k.id[23] = 0xb8;
		k.id[25] = 0x0c;
		k.id[35] = (uint8_t)i;
		(void)lb_learn_conn(&fuzz_lb, &k, 1, i % 2, fuzz_slots[m],
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

	for (i = 0; i < fuzz_lb.nsvc; i++) {
		c = fuzz_lb.svc[i].conf;
		s = &fuzz_lb.svc[i].sched;
		for (j = 0; j < s->n; j++) {
			FUZZ_CHECK(sched_set_drained(s, j, 0) == 0);
			FUZZ_CHECK(sched_set_weight(s, j,
			    c->servers[j].weight) == 0);
		}
		sched_rebuild(s);
	}
}
