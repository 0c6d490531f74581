/*
 * test_dp_burst.c: dp_on_input() on bursts does what dp_on_packet() does
 * packet by packet: the same packets out (DSR frames, GRE to servers,
 * handoffs, echo replies), in the same order, with the same flushes and
 * cluster reads between them, and the same counters, records and
 * tables; with UDP datagrams (issue 22: in bursts too), fragments,
 * ICMP, SYNs and malformed packets mixed in, which take the per-packet
 * path inside a burst.
 *
 * The parts dp sends through (fwd, gre, neigh, cluster, icmp, repl) are
 * replaced here by recorders: no socket, no root.
 */

#include <sys/socket.h>

#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>

#include "cache.h"
#include "cluster.h"
#include "dp.h"
#include "fwd.h"
#include "gre.h"
#include "icmp.h"
#include "lb.h"
#include "lb_int.h"
#include "ltoc.h"
#include "neigh.h"
#include "packet.h"
#include "repl.h"
#include "world.h"

#define TEST_T0		1000000ULL	/* ms */
#define TEST_FLOWS	300
#define TEST_PKTS	20000
#define TEST_PKTMAX	64
#define TEST_LOGMAX	200000

/* What dp did, in order: the kind, where to, a hash of the bytes. */
enum { EV_FWD = 1, EV_GRE, EV_FLUSH, EV_POLL, EV_ECHO, EV_TOO_BIG };
struct ev {
	int		kind;
	uint32_t	to;
	uint32_t	hash;
	size_t		len;
	int		enc;		/* EV_GRE: GRE_ENC_* */
};
struct rec {
	struct ev	*evs;
	size_t		 n;
	unsigned int	 gre_queued;
	int		 gre_fail;	/* the next flush fails them all */
};

static struct rec	*cur;		/* the dp being driven records here */
static struct world	 ws, wb;	/* packet by packet, bursts */
static uint64_t		 rng = 0x9e3779b97f4a7c15ULL;
static uint64_t		 now_ms = TEST_T0;
static struct ilb_addr	 slot_addr;
static int		 dummy;

static uint32_t
test_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return ((uint32_t)((rng * 0x2545f4914f6cdd1dULL) >> 32));
}

static uint32_t
test_hash(const uint8_t *p, size_t len)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return (h);
}

static void
test_log(int kind, uint32_t to, const uint8_t *p, size_t len)
{
	assert_true(cur->n < TEST_LOGMAX);
	cur->evs[cur->n].kind = kind;
	cur->evs[cur->n].to = to;
	cur->evs[cur->n].hash = p != NULL ? test_hash(p, len) : 0;
	cur->evs[cur->n].len = len;
	cur->evs[cur->n].enc = 0;
	cur->n++;
}

static uint32_t
test_addr_id(const struct ilb_addr *a)
{
	return (a->family == AF_INET ? a->u.v4.s_addr :
	    test_hash((const uint8_t *)&a->u.v6, 16));
}

/*
 * The clock: both paths must see the same time, which util_now_ms()
 * reads from here (this definition comes before the C library's).
 */
int
clock_gettime(clockid_t id, struct timespec *ts)
{
	(void)id;
	ts->tv_sec = (time_t)(now_ms / 1000);
	ts->tv_nsec = (long)(now_ms % 1000) * 1000000;
	return (0);
}

/* The recorders, in place of the real parts. */

int
neigh_lookup(struct neigh *n, const struct ilb_addr *a, uint8_t mac[6])
{
	uint32_t	id = test_addr_id(a);

	(void)n;
	memset(mac, 0, 6);
	memcpy(mac + 2, &id, 4);
	return (0);
}

int
fwd_queue(struct fwd *f, const uint8_t mac[6], const uint8_t *ip, size_t len)
{
	uint32_t	id;

	(void)f;
	memcpy(&id, mac + 2, 4);
	test_log(EV_FWD, id, ip, len);
	return (0);
}

int
fwd_flush(struct fwd *f)
{
	(void)f;
	test_log(EV_FLUSH, 0, NULL, 0);
	return (0);
}

int
gre_queue(struct gre *g, const struct ilb_addr *dst, int with_key,
    uint32_t key, const uint8_t *inner, size_t len)
{
	(void)g;
	if (cur->gre_queued == GRE_TXQ)
		return (GRE_QUEUE_FULL);
	cur->gre_queued++;
	test_log(EV_GRE, test_addr_id(dst) ^ (with_key ? key : 0), inner,
	    len);
	cur->evs[cur->n - 1].enc = with_key;
	return (0);
}

int
gre_send(struct gre *g, const struct ilb_addr *dst, int with_key,
    uint32_t key, const uint8_t *inner, size_t len)
{
	return (gre_queue(g, dst, with_key, key, inner, len));
}

void
gre_flush(struct gre *g, gre_fail_cb cb, void *arg)
{
	static const uint8_t	pkt[40] = { 0x45 };

	(void)g;
	/* a refused packet (too big) reaches the callback as it would */
	if (cur->gre_fail && cur->gre_queued > 0)
		cb(arg, GRE_TOO_BIG, 1, pkt, sizeof(pkt));
	cur->gre_queued = 0;
}

unsigned int
gre_queued(const struct gre *g)
{
	(void)g;
	return (cur->gre_queued);
}

const struct ilb_addr *
cluster_slot_addr(const struct cluster *c, uint16_t slot, int gone)
{
	(void)c;
	(void)gone;
	world_addr4(&slot_addr, 10, 0, (uint8_t)(slot >> 8), (uint8_t)slot);
	return (&slot_addr);
}

void
cluster_poll(struct cluster *c)
{
	(void)c;
	test_log(EV_POLL, 0, NULL, 0);
}

int
cluster_find_addr(const struct cluster *c, const struct ilb_addr *a)
{
	(void)c;
	(void)a;
	return (0);
}

void
repl_flush_batch(struct repl *r)
{
	(void)r;
	test_log(EV_FLUSH, 1, NULL, 0);
}

/* An ICMP echo request (type 8) of 28 bytes: to the VIP it names. */
int
icmp_echo_dst(const uint8_t *p, size_t len, struct ilb_addr *dst)
{
	if (len < 28 || p[0] != 0x45 || p[9] != IPPROTO_ICMP || p[20] != 8)
		return (0);
	world_addr4(dst, p[16], p[17], p[18], p[19]);
	return (1);
}

int
icmp_echo(struct icmp_tx *t, const uint8_t *p, size_t len, uint64_t now)
{
	(void)t;
	(void)now;
	test_log(EV_ECHO, 0, p, len);
	return (0);
}

int
icmp_too_big(struct icmp_tx *t, const uint8_t *p, size_t len,
    unsigned int mtu, uint64_t now)
{
	(void)t;
	(void)now;
	test_log(EV_TOO_BIG, mtu, p, len);
	return (0);
}

static void
test_csum4(uint8_t *p)
{
	uint32_t	sum = 0;
	int		i;

	p[10] = p[11] = 0;
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	p[10] = (uint8_t)(~sum >> 8);
	p[11] = (uint8_t)~sum;
}

/* IPv4 header of len bytes, protocol proto, to VIP 198.51.100.vip. */
static void
test_ip4(uint8_t *p, size_t len, uint8_t proto, uint32_t f, uint8_t vip)
{
	memset(p, 0, len);
	p[0] = 0x45;
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = proto;
	p[12] = 203;
	p[14] = 113;
	p[15] = (uint8_t)(1 + f % 200);
	p[16] = 198;
	p[17] = 51;
	p[18] = 100;
	p[19] = vip;
}

/*
 * Packet of flow f: mostly TCP to one of two services (DSR on .10, GRE
 * on .11), with SYNs, FINs, RSTs, bad checksums; one in five a UDP
 * datagram to .12:53 (a first fragment or a bad UDP length now and
 * then); now and then an echo request, a first or later fragment of a
 * TCP datagram, an IPv6 segment or something cut short. Returns its
 * length.
 */
static size_t
test_packet(uint8_t *p)
{
	static const uint8_t	flags[8] = { PKT_TH_SYN, PKT_TH_ACK,
	    PKT_TH_ACK, PKT_TH_ACK, PKT_TH_ACK, PKT_TH_FIN | PKT_TH_ACK,
	    PKT_TH_RST, PKT_TH_ACK };
	uint32_t		f = test_rand() % TEST_FLOWS, seq = test_rand();
	uint32_t		kind = test_rand() % 100;
	uint8_t			vip = (uint8_t)(10 + f % 2);

	if (kind < 3) {			/* ping */
		test_ip4(p, 28, IPPROTO_ICMP, f, vip);
		p[20] = 8;
		p[24] = (uint8_t)f;
		test_csum4(p);
		return (28);
	}
	if (kind < 5) {			/* cut short */
		test_ip4(p, 30, IPPROTO_TCP, f, vip);
		test_csum4(p);
		return (30);
	}
	if (kind >= 80) {		/* UDP to "dns", some cut short */
		test_ip4(p, 40, IPPROTO_UDP, f, 12);
		p[4] = (uint8_t)(f >> 8);	/* IPv4 id: the datagram's */
		p[5] = (uint8_t)f;
		p[20] = (uint8_t)((1024 + f) >> 8);
		p[21] = (uint8_t)(1024 + f);
		p[23] = 53;
		p[25] = 20;			/* UDP length */
		p[28] = (uint8_t)seq;
		if (kind < 82) {		/* first fragment: MF */
			p[6] = 0x20;
			p[25] = 40;
		}
		if (kind == 99)			/* UDP length beyond IP's */
			p[25] = 21;
		test_csum4(p);
		return (40);
	}
	if (kind < 7) {			/* IPv6 TCP, to no service */
		memset(p, 0, 60);
		p[0] = 0x60;
		p[5] = 20;
		p[6] = IPPROTO_TCP;
		p[7] = 64;
		p[8] = 0x20;
		p[23] = (uint8_t)f;
		p[24] = 0x20;
		p[39] = 0x10;
		p[41] = (uint8_t)f;
		p[43] = 80;
		p[52] = 0x50;
		p[53] = flags[test_rand() % 8];
		return (60);
	}
	test_ip4(p, 40, IPPROTO_TCP, f, vip);
	p[4] = (uint8_t)(f >> 8);	/* IPv4 id: the datagram's */
	p[5] = (uint8_t)f;
	p[20] = (uint8_t)((1024 + f) >> 8);
	p[21] = (uint8_t)(1024 + f);
	p[23] = 80;
	p[24] = (uint8_t)(seq >> 24);
	p[25] = (uint8_t)(seq >> 16);
	p[26] = (uint8_t)((seq >> 8) & 0x3);
	p[27] = (uint8_t)seq;
	p[32] = 0x50;
	p[33] = flags[test_rand() % 8];
	if (kind < 10)			/* first fragment: MF */
		p[6] = 0x20;
	else if (kind < 13) {		/* a later one: offset 3 (24 bytes) */
		p[6] = 0x00;
		p[7] = 3;
	}
	test_csum4(p);
	if (test_rand() % 50 == 0)
		p[11] ^= 1;
	return (40);
}

static void
test_start(struct world *w, struct dp *dp, struct event_base *base,
    struct rec *r)
{
	struct ilbd_conf	*c = world_conf_new(256, 256);
	struct service_conf	*s;
	char			*cause = NULL;

	world_web(c, "web", 10, SCHED_WLC, 3);
	s = world_web(c, "tunnel", 11, SCHED_WLC, 3);
	s->forward = FORWARD_GRE;
	s = world_web(c, "dns", 12, SCHED_WLC, 3);
	s->protocol = PROTO_UDP;
	s->port = 53;
	c->tables.udp_timeout_s = 30;
	c->tables.udp_stream_timeout_s = 120;
	c->tables.udp_replicate_ms = 1000;
	world_init(w, c, 4);
	assert_int_equal(world_start(w, 1, 42, 0), 0);
	assert_int_equal(dp_init(dp, base, &cause), 0);
	dp->lb = &w->lb[0];
	dp->cluster = (struct cluster *)&dummy;
	dp->repl = (struct repl *)&dummy;
	dp->gre = (struct gre *)&dummy;
	dp->fwd = (struct fwd *)&dummy;
	dp->neigh = (struct neigh *)&dummy;
	dp->icmp = (struct icmp_tx *)&dummy;
	dp->gre_key = 0x5eed;
	dp->gre_mtu = 1400;
	memset(r, 0, sizeof(*r));
	assert_non_null(r->evs = calloc(TEST_LOGMAX, sizeof(*r->evs)));
}

/* Run the loop of dp (its flush event) with its recorder current. */
static void
test_loop(struct event_base *base, struct rec *r)
{
	cur = r;
	event_base_loop(base, EVLOOP_NONBLOCK);
}

static void
test_same_records(struct lb *a, struct lb *b)
{
	struct lb_record	ra, rb;

	while (lb_queue_pop(a, &ra)) {
		assert_true(lb_queue_pop(b, &rb));
		assert_int_equal(ra.type, rb.type);
		assert_int_equal(ra.service, rb.service);
		assert_int_equal(ra.server, rb.server);
		assert_memory_equal(&ra.key, &rb.key, sizeof(ra.key));
	}
	assert_false(lb_queue_pop(b, &rb));
}

static void
test_same_log(const struct rec *a, const struct rec *b)
{
	size_t	i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_int_equal(a->evs[i].kind, b->evs[i].kind);
		assert_int_equal(a->evs[i].to, b->evs[i].to);
		assert_int_equal(a->evs[i].hash, b->evs[i].hash);
		assert_int_equal(a->evs[i].len, b->evs[i].len);
	}
}

static size_t
test_count(const struct rec *r, int kind)
{
	size_t	i, n = 0;

	for (i = 0; i < r->n; i++)
		n += r->evs[i].kind == kind;
	return (n);
}

/*
 * Bursts of 1 to 40 packets (past LB_BURST_MAX too) through both paths,
 * time going on; the flush events run after each burst, as the loop
 * would run them after a read event.
 */
static void
test_burst_equals_single(void **state)
{
	uint8_t			 pkt[40][TEST_PKTMAX];
	const uint8_t		*bufs[40];
	size_t			 lens[40], i, j, k;
	struct event_base	*bs, *bb;
	struct dp		 ds, db;
	struct rec		 rs, rb;
	struct lb		*a, *b;

	(void)state;
	assert_non_null(bs = event_base_new());
	assert_non_null(bb = event_base_new());
	test_start(&ws, &ds, bs, &rs);
	test_start(&wb, &db, bb, &rb);
	a = &ws.lb[0];
	b = &wb.lb[0];
	for (i = 0; i < TEST_PKTS; i += k) {
		k = 1 + test_rand() % 40;
		for (j = 0; j < k; j++) {
			lens[j] = test_packet(pkt[j]);
			bufs[j] = pkt[j];
		}
		/* now and then the kernel refuses the GRE sent */
		rs.gre_fail = rb.gre_fail = test_rand() % 20 == 0;
		cur = &rb;
		dp_on_input(&db, bufs, lens, k);
		test_loop(bb, &rb);
		cur = &rs;
		for (j = 0; j < k; j++)
			dp_on_packet(&ds, bufs[j], lens[j]);
		test_loop(bs, &rs);
		test_same_log(&rs, &rb);
		test_same_records(a, b);
		assert_memory_equal(&ds.stats, &db.stats, sizeof(ds.stats));
		now_ms += 1 + test_rand() % 2000;
		assert_int_equal(lb_tick(a, now_ms, 64),
		    lb_tick(b, now_ms, 64));
		dp_tick(&ds, now_ms);
		dp_tick(&db, now_ms);
		test_same_records(a, b);
	}
	for (i = 0; i < LB_STATS_N; i++)
		assert_int_equal(lb_stats_get(&a->stats, i),
		    lb_stats_get(&b->stats, i));
	assert_int_equal(ltoc_count(&a->ltoc), ltoc_count(&b->ltoc));
	assert_int_equal(cache_count(&a->cache), cache_count(&b->cache));
	/* every path was taken */
	assert_true(a->stats.forward_owner > 0 && a->stats.handoff_out > 0 &&
	    a->stats.bad_packet > 0 && a->stats.frag_forwarded > 0 &&
	    a->stats.frag_held > 0 && a->stats.syn_sync > 0);
	assert_true(a->stats.udp_new_flow > 0);
	assert_true(a->stats.udp_replicated > 0);
	assert_true(a->stats.udp_stream > 0);
	assert_true(a->stats.parse_bad_udp_len > 0);
	assert_true(test_count(&rs, EV_FWD) > 0 && test_count(&rs, EV_GRE) >
	    0 && test_count(&rs, EV_ECHO) > 0 && test_count(&rs, EV_POLL) >
	    0 && test_count(&rs, EV_TOO_BIG) > 0);
	assert_true(ds.stats.handoff_errors > 0);
	dp_free(&ds);
	dp_free(&db);
	world_free(&ws);
	world_free(&wb);
	free(rs.evs);
	free(rb.evs);
	event_base_free(bs);
	event_base_free(bb);
}

/*
 * The first (MF) and a later fragment (offset 24 bytes) of one UDP
 * datagram of flow f to the "dns" service.
 */
static void
test_udp_frags(uint8_t first[40], uint8_t later[40], uint32_t f)
{
	test_ip4(first, 40, IPPROTO_UDP, f, 12);
	first[4] = (uint8_t)(f >> 8);
	first[5] = (uint8_t)f;
	first[6] = 0x20;
	first[20] = (uint8_t)((1024 + f) >> 8);
	first[21] = (uint8_t)(1024 + f);
	first[23] = 53;
	first[25] = 60;				/* UDP length: 2 fragments */
	test_csum4(first);
	test_ip4(later, 40, IPPROTO_UDP, f, 12);
	later[4] = (uint8_t)(f >> 8);
	later[5] = (uint8_t)f;
	later[7] = 3;
	later[30] = (uint8_t)f;
	test_csum4(later);
}

/* The GRE packets recorded from index from on: how many, the last one. */
static size_t
test_gre_since(const struct rec *r, size_t from, const struct ev **last)
{
	size_t	n = 0;

	for (*last = NULL; from < r->n; from++)
		if (r->evs[from].kind == EV_GRE) {
			*last = &r->evs[from];
			n++;
		}
	return (n);
}

/*
 * issue 22: a UDP datagram handed to this member for a flow it does not
 * know goes on once to the owner it names, marked relayed (lb.c
 * lb_udp_handoff()). Its later fragments, before or after the first,
 * go the same way with the same mark; a relayed one goes no further.
 * Before, dp_frag_send() dropped every later fragment that came by
 * handoff as misrouted, so such a datagram was always lost.
 */
static void
test_frag_relay(void **state)
{
	uint8_t			 first[40], later[40];
	struct event_base	*base;
	struct dp		 dp;
	struct rec		 r;
	struct world		 w;
	struct gre_info		 gi;
	const struct ev		*e;
	struct lb		*lb;
	uint64_t		 relayed, misrouted, fwd;
	uint32_t		 f, to;
	size_t			 n;

	(void)state;
	assert_non_null(base = event_base_new());
	test_start(&w, &dp, base, &r);
	lb = &w.lb[0];
	cur = &r;
	memset(&gi, 0, sizeof(gi));
	gi.has_key = 1;
	gi.key = dp.gre_key;
	world_addr4(&gi.src, 10, 0, 0, 101);

	/* first fragment first: find a flow another member owns */
	for (f = 1000;; f++) {
		assert_true(f < 1100);
		test_udp_frags(first, later, f);
		relayed = lb->stats.udp_relayed;
		n = r.n;
		dp_on_gre(&dp, &gi, first, sizeof(first));
		test_loop(base, &r);
		if (lb->stats.udp_relayed > relayed)
			break;
	}
	assert_int_equal(test_gre_since(&r, n, &e), 1);
	assert_int_equal(e->enc, GRE_ENC_KEY | GRE_ENC_RELAY);
	to = e->to;
	misrouted = lb->stats.misrouted;
	fwd = lb->stats.frag_forwarded;
	n = r.n;
	dp_on_gre(&dp, &gi, later, sizeof(later));
	test_loop(base, &r);
	assert_int_equal(test_gre_since(&r, n, &e), 1);
	assert_int_equal(e->enc, GRE_ENC_KEY | GRE_ENC_RELAY);
	assert_int_equal(e->to, to);
	assert_int_equal(lb->stats.frag_forwarded, fwd + 1);
	assert_int_equal(lb->stats.misrouted, misrouted);
	/* a relayed fragment is not handed on again */
	gi.relayed = 1;
	n = r.n;
	dp_on_gre(&dp, &gi, later, sizeof(later));
	test_loop(base, &r);
	assert_int_equal(test_gre_since(&r, n, &e), 0);
	assert_int_equal(lb->stats.misrouted, misrouted + 1);
	gi.relayed = 0;

	/* the later fragment first: held, then sent after the first */
	for (f = 2000;; f++) {
		assert_true(f < 2100);
		test_udp_frags(first, later, f);
		relayed = lb->stats.udp_relayed;
		misrouted = lb->stats.misrouted;
		n = r.n;
		dp_on_gre(&dp, &gi, later, sizeof(later));
		dp_on_gre(&dp, &gi, first, sizeof(first));
		test_loop(base, &r);
		if (lb->stats.udp_relayed > relayed)
			break;
	}
	assert_int_equal(test_gre_since(&r, n, &e), 2);
	assert_int_equal(e->enc, GRE_ENC_KEY | GRE_ENC_RELAY);
	assert_int_equal(e->hash, test_hash(later, sizeof(later)));
	assert_int_equal(lb->stats.misrouted, misrouted);

	dp_free(&dp);
	world_free(&w);
	free(r.evs);
	event_base_free(base);
}

/* What takes the burst decision and what the per-packet path. */
static void
test_burstable(void **state)
{
	uint8_t	p[TEST_PKTMAX];

	(void)state;
	test_ip4(p, 40, IPPROTO_TCP, 1, 10);
	p[33] = PKT_TH_ACK;
	assert_true(dp_burstable(p, 40));
	assert_false(dp_burstable(p, 39));		/* cut short */
	p[33] = PKT_TH_SYN;
	assert_false(dp_burstable(p, 40));		/* SYN */
	p[33] = PKT_TH_SYN | PKT_TH_ACK;
	assert_true(dp_burstable(p, 40));
	p[6] = 0x20;					/* MF */
	assert_false(dp_burstable(p, 40));
	p[6] = 0x40;					/* DF */
	assert_true(dp_burstable(p, 40));
	p[7] = 1;					/* offset */
	assert_false(dp_burstable(p, 40));
	p[7] = 0;
	p[9] = IPPROTO_ICMP;
	assert_false(dp_burstable(p, 40));
	memset(p, 0, sizeof(p));
	p[0] = 0x60;
	p[6] = IPPROTO_TCP;
	p[53] = PKT_TH_ACK;
	assert_true(dp_burstable(p, 60));
	assert_false(dp_burstable(p, 53));
	p[6] = 44;					/* fragment header */
	assert_false(dp_burstable(p, 60));
	p[6] = IPPROTO_UDP;				/* issue 22 */
	assert_true(dp_burstable(p, 48));
	assert_false(dp_burstable(p, 47));
	test_ip4(p, 28, IPPROTO_UDP, 1, 12);
	assert_true(dp_burstable(p, 28));
	assert_false(dp_burstable(p, 27));
	p[6] = 0x20;					/* MF */
	assert_false(dp_burstable(p, 28));
	p[6] = 0;
	p[0] = 0x46;					/* options */
	assert_false(dp_burstable(p, 28));
	assert_true(dp_burstable(p, 32));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burstable),
		cmocka_unit_test(test_burst_equals_single),
		cmocka_unit_test(test_frag_relay),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
