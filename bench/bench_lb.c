/* bench_lb.c: throughput of the per-packet decision and balance of scoring. */

#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/perf_event.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conntab.h"
#include "lb.h"
#include "packet.h"
#include "score.h"

#define BENCH_SERVERS	8
#define BENCH_PKTLEN	40		/* IPv4 + TCP, no options, no data */
#define BENCH_T0	1000000000ULL	/* ms */
#define BENCH_DRAIN	1024		/* packets between queue drains/ticks */
#define BENCH_MAXN	32		/* largest cluster in the balance run */
#define BENCH_BURST_MAX	64		/* -b: packets per lb_input_burst() */

/* A trace in memory: packets back to back, each at off[i], len[i]. */
struct bench_trace {
	uint8_t		*buf;
	size_t		 used, cap;
	uint32_t	*off;
	uint16_t	*len;
	size_t		 n, ncap;
};

#define BENCH_NCTR	3		/* instructions, cache and branch misses */

/* What one replay did. */
struct bench_result {
	uint64_t	pkts;
	double		secs;
	double		cpu;		/* this thread's CPU time, seconds */
	uint64_t	verdict[3];	/* by enum lb_verdict */
	uint64_t	records;	/* drained from the queue */
	uint64_t	ctr[BENCH_NCTR];	/* hardware counters, if any */
	int		has_ctr;
};

/*
 * Hardware counters read around each timed replay: one group (leader
 * instructions) so that the three count over the same interval. fd[0]
 * is -1 when perf_event_open refused; why says why (errno text).
 */
struct bench_perf {
	int		fd[BENCH_NCTR];
	char		why[128];
};

static int		bench_quick;
static size_t		bench_burst = LB_BURST_MAX;	/* 1: lb_input() */
static struct bench_perf	bench_perf;
static uint64_t		bench_rng = 0x9e3779b97f4a7c15ULL;
static struct server_conf	bench_servers[BENCH_SERVERS];
static struct service_conf	bench_svcs[CONF_SERVICES_MAX];

static uint64_t
bench_rand(void)
{
	uint64_t	x = bench_rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	bench_rng = x;
	return (x * 0x2545f4914f6cdd1dULL);
}

static double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* CPU time of this thread: on a shared machine, less noisy than wall. */
static double
bench_cpu(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static long
bench_rss_kb(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_maxrss);
}

static int
bench_perf_open1(uint64_t config, int group)
{
	struct perf_event_attr	a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = config;
	a.disabled = group == -1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.read_format = PERF_FORMAT_GROUP;
	return ((int)syscall(SYS_perf_event_open, &a, 0, -1, group, 0));
}

/* Open the counter group once; on failure remember why and go on. */
static void
bench_perf_open(struct bench_perf *bp)
{
	static const uint64_t	cfg[BENCH_NCTR] = {
	    PERF_COUNT_HW_INSTRUCTIONS, PERF_COUNT_HW_CACHE_MISSES,
	    PERF_COUNT_HW_BRANCH_MISSES };
	int			i, j;

	for (i = 0; i < BENCH_NCTR; i++) {
		bp->fd[i] = bench_perf_open1(cfg[i], i == 0 ? -1 : bp->fd[0]);
		if (bp->fd[i] == -1) {
			snprintf(bp->why, sizeof(bp->why), "%s",
			    strerror(errno));
			for (j = 0; j < i; j++)
				close(bp->fd[j]);
			bp->fd[0] = -1;
			return;
		}
	}
}

static void
bench_perf_start(const struct bench_perf *bp)
{
	if (bp->fd[0] == -1)
		return;
	ioctl(bp->fd[0], PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
	ioctl(bp->fd[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
}

/* Stop the group and store its counts in res (has_ctr if read). */
static void
bench_perf_stop(const struct bench_perf *bp, struct bench_result *res)
{
	uint64_t	v[1 + BENCH_NCTR];
	int		i;

	res->has_ctr = 0;
	if (bp->fd[0] == -1)
		return;
	ioctl(bp->fd[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
	if (read(bp->fd[0], v, sizeof(v)) != (ssize_t)sizeof(v) ||
	    v[0] != BENCH_NCTR)
		return;
	for (i = 0; i < BENCH_NCTR; i++)
		res->ctr[i] = v[1 + i];
	res->has_ctr = 1;
}

static void
bench_addr4(struct ilb_addr *a, uint32_t v)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->u.b[0] = (uint8_t)(v >> 24);
	a->u.b[1] = (uint8_t)(v >> 16);
	a->u.b[2] = (uint8_t)(v >> 8);
	a->u.b[3] = (uint8_t)v;
}

/* Member i (0-based) is 10.0.0.(i + 1), slot i. */
static void
bench_ids(struct member_id *ids, uint16_t *slots, size_t n)
{
	size_t	i;

	memset(ids, 0, n * sizeof(*ids));
	for (i = 0; i < n; i++) {
		ids[i].len = 4;
		ids[i].b[0] = 10;
		ids[i].b[2] = (uint8_t)((i + 1) >> 8);
		ids[i].b[3] = (uint8_t)(i + 1);
		if (slots != NULL)
			slots[i] = (uint16_t)i;
	}
}

/* A config with the given services (vip, port), BENCH_SERVERS each. */
static void
bench_conf(struct ilbd_conf *conf, unsigned int nsvc, uint32_t ltoc,
    uint32_t cache)
{
	unsigned int	i;

	memset(conf, 0, sizeof(*conf));
	for (i = 0; i < BENCH_SERVERS; i++) {
		bench_addr4(&bench_servers[i].addr, 0xc0000215U + i);
		bench_servers[i].weight = 1 + i % 3;
	}
	for (i = 0; i < nsvc; i++) {
		snprintf(bench_svcs[i].name, sizeof(bench_svcs[i].name),
		    "svc%u", i);
		bench_svcs[i].scheduler = SCHED_WLC;
		bench_svcs[i].servers = bench_servers;
		bench_svcs[i].nservers = BENCH_SERVERS;
	}
	conf->cluster.scoring = SCORING_CRC32C_MIX;
	conf->tables.ltoc_size = ltoc < 1024 ? 1024 : ltoc;
	conf->tables.cache_size = cache < 1024 ? 1024 : cache;
	conf->tables.syn_timeout_s = 30;
	conf->tables.tcp_timeout_s = 900;
	conf->tables.udp_timeout_s = 30;
	conf->tables.udp_stream_timeout_s = 120;
	conf->tables.udp_replicate_ms = 1000;
	conf->tables.fin_timeout_s = 60;
	conf->services = bench_svcs;
	conf->nservices = nsvc;
}

static void
bench_lb_new(struct lb *lb, const struct ilbd_conf *conf, size_t members)
{
	struct member_id	ids[BENCH_MAXN + 1];
	uint16_t		slots[BENCH_MAXN + 1];

	if (lb_init(lb, conf, 1) == -1)
		err(1, "lb_init");
	bench_ids(ids, slots, members);
	if (lb_set_members(lb, ids, slots, members, 0) == -1)
		errx(1, "lb_set_members");
}

/*
 * What a peer's NEW would teach this ILB for a connection it does not
 * own: the owner's choice is simulated with the Maglev hash.
 */
static void
bench_peer_new(struct lb *lb, const struct pkt_info *pi, uint64_t now)
{
	struct lb_record	r;
	int			o, b, svc;

	if ((svc = lb_service_find(lb, &pi->key)) < 0)
		return;
	lb_rank(lb, &pi->key, &o, &b);
	if (o < 0 || (size_t)o == lb->self)
		return;
	memset(&r, 0, sizeof(r));
	r.type = LB_REC_NEW;
	r.key = pi->key;
	r.service = (uint16_t)svc;
	r.server = (uint16_t)sched_pick_hash(&lb->svc[svc].sched, &pi->key);
	r.owner = lb->slots[o];
	r.backup = b < 0 ? CONN_SLOT_NONE : lb->slots[b];
	lb_learn_new(lb, &r, now);
}

static void
bench_drain(struct lb *lb, struct bench_result *res, uint64_t now)
{
	struct lb_record	r;

	while (lb_queue_pop(lb, &r))
		res->records++;
	lb_tick(lb, now, 64);
}

static void
bench_print_result(const char *what, const struct lb *lb,
    const struct bench_result *res)
{
	double		pps = (double)res->pkts / res->secs;
	double		bpe = sizeof(struct conn_entry) +
	    (double)(lb->ltoc.tab.mask + 1) * sizeof(uint32_t) /
	    lb->ltoc.tab.size;

	printf("%-22s %9" PRIu64 " pkts %7.2f Mpps %6.1f ns/pkt  "
	    "fwd %4.1f%% handoff %4.1f%% drop %4.1f%%  ltoc %7u cache %7u  "
	    "%.1f B/entry  maxrss %ld MiB\n", what, res->pkts, pps / 1e6,
	    1e9 / pps, 100.0 * res->verdict[LB_FORWARD] / res->pkts,
	    100.0 * res->verdict[LB_HANDOFF] / res->pkts,
	    100.0 * res->verdict[LB_DROP] / res->pkts,
	    ltoc_count(&lb->ltoc), cache_count(&lb->cache), bpe,
	    bench_rss_kb() / 1024);
	printf("%-22s thread cpu %.1f ns/pkt (%.0f%% of wall)\n", "",
	    1e9 * res->cpu / res->pkts, 100.0 * res->cpu / res->secs);
	if (res->has_ctr)
		printf("%-22s per packet: %.1f instructions, %.2f cache "
		    "misses, %.2f branch misses\n", "", (double)res->ctr[0] /
		    res->pkts, (double)res->ctr[1] / res->pkts,
		    (double)res->ctr[2] / res->pkts);
}

/* A SYN 100.64.0.0/10:random -> 198.51.100.10:80 for each of n flows. */
/* The IPv4 header checksum (the parser checks it). */
static void
bench_csum4(uint8_t *p)
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

static uint8_t *
bench_flows(size_t n)
{
	uint8_t		*p, *b;
	uint32_t	 saddr;
	uint16_t	 sport;
	size_t		 i;

	if ((b = calloc(n, BENCH_PKTLEN)) == NULL)
		err(1, "calloc");
	for (i = 0; i < n; i++) {
		p = b + i * BENCH_PKTLEN;
		p[0] = 0x45;
		p[3] = BENCH_PKTLEN;
		p[8] = 64;
		p[9] = 6;
		saddr = 0x64400000U | ((uint32_t)bench_rand() & 0x3fffff);
		p[12] = (uint8_t)(saddr >> 24);
		p[13] = (uint8_t)(saddr >> 16);
		p[14] = (uint8_t)(saddr >> 8);
		p[15] = (uint8_t)saddr;
		memcpy(p + 16, "\xc6\x33\x64\x0a", 4);
		sport = (uint16_t)(1024 + bench_rand() % 64000);
		p[20] = (uint8_t)(sport >> 8);
		p[21] = (uint8_t)sport;
		p[23] = 80;
		p[32] = 0x50;
		p[33] = PKT_TH_SYN;
		bench_csum4(p);
	}
	return (b);
}

#define BENCH_SCHED_SYN	(0U << 30)
#define BENCH_SCHED_ACK	(1U << 30)
#define BENCH_SCHED_FIN	(2U << 30)

/*
 * npkts of a steady mix over n live flows: a random flow each time; an
 * open flow sends data (ACK) or, one time in ten, FIN; a closed one
 * opens again with a SYN (port reuse).
 */
static uint32_t *
bench_schedule(size_t n, size_t npkts)
{
	uint32_t	*s;
	uint8_t		*closed;
	size_t		 i, f;

	if ((s = calloc(npkts, sizeof(*s))) == NULL ||
	    (closed = calloc(n, 1)) == NULL)
		err(1, "calloc");
	for (i = 0; i < npkts; i++) {
		f = (size_t)(bench_rand() % n);
		if (closed[f]) {
			s[i] = BENCH_SCHED_SYN | (uint32_t)f;
			closed[f] = 0;
		} else if (bench_rand() % 10 == 0) {
			s[i] = BENCH_SCHED_FIN | (uint32_t)f;
			closed[f] = 1;
		} else
			s[i] = BENCH_SCHED_ACK | (uint32_t)f;
	}
	free(closed);
	return (s);
}

/* Open every flow: SYN and ACK through lb, peers' NEWs learnt. */
static void
bench_warm(struct lb *lb, uint8_t *flows, size_t n)
{
	struct bench_result	res;
	struct lb_action	act;
	struct pkt_info		pi;
	uint8_t			*p;
	size_t			i;

	memset(&res, 0, sizeof(res));
	for (i = 0; i < n; i++) {
		p = flows + i * BENCH_PKTLEN;
		p[33] = PKT_TH_SYN;
		if (lb_input(lb, p, BENCH_PKTLEN, 0, BENCH_T0, &pi,
		    &act) == LB_HANDOFF)
			bench_peer_new(lb, &pi, BENCH_T0);
		p[33] = PKT_TH_ACK;
		lb_input(lb, p, BENCH_PKTLEN, 0, BENCH_T0, &pi, &act);
		if (i % BENCH_DRAIN == 0)
			bench_drain(lb, &res, BENCH_T0);
	}
	bench_drain(lb, &res, BENCH_T0);
}

/*
 * Packets from i on to give lb_input_burst() at once: at most
 * bench_burst, and the chunk ends at the next packet after which the
 * loop drains (i % BENCH_DRAIN == 0), as the one-packet loop does.
 */
static size_t
bench_chunk(size_t i, size_t n)
{
	size_t	k = bench_burst, d;

	d = (BENCH_DRAIN - i % BENCH_DRAIN) % BENCH_DRAIN + 1;
	if (k > d)
		k = d;
	if (k > n - i)
		k = n - i;
	return (k);
}

/*
 * The timed loop in bursts: each packet is copied (as a receive would
 * have put it in a buffer) since a flow may appear twice in a burst
 * with other flags.
 */
static void
bench_synthetic_burst(struct lb *lb, const uint8_t *flows,
    const uint32_t *sched, size_t npkts, struct bench_result *res)
{
	static const uint8_t	 flags[3] = { PKT_TH_SYN, PKT_TH_ACK,
	    PKT_TH_FIN | PKT_TH_ACK };
	static uint8_t		 buf[BENCH_BURST_MAX][BENCH_PKTLEN];
	const uint8_t		*bufs[BENCH_BURST_MAX];
	size_t			 lens[BENCH_BURST_MAX];
	struct pkt_info		 pis[BENCH_BURST_MAX];
	struct lb_action	 acts[BENCH_BURST_MAX];
	int			 v[BENCH_BURST_MAX];
	uint64_t		 now = BENCH_T0;
	size_t			 i, j, k;

	for (i = 0; i < npkts; i += k) {
		k = bench_chunk(i, npkts);
		/*
		 * The flows' packets are spread over nflows * 40 bytes: ask
		 * for the next burst's now, as a receive ring would have
		 * them in cache, not the flow table's misses being measured.
		 */
		for (j = i + k; j < i + 2 * k && j < npkts; j++)
			__builtin_prefetch(flows + (size_t)(sched[j] &
			    0x3fffffff) * BENCH_PKTLEN);
		for (j = 0; j < k; j++) {
			memcpy(buf[j], flows + (size_t)(sched[i + j] &
			    0x3fffffff) * BENCH_PKTLEN, BENCH_PKTLEN);
			buf[j][33] = flags[sched[i + j] >> 30];
			bufs[j] = buf[j];
			lens[j] = BENCH_PKTLEN;
		}
		lb_input_burst(lb, bufs, lens, k, 0, now, pis, acts, v);
		for (j = 0; j < k; j++)
			res->verdict[v[j]]++;
		if (((i + k - 1) & (BENCH_DRAIN - 1)) == 0)
			bench_drain(lb, res, now++);
	}
}

static void
bench_synthetic(size_t members, size_t nflows, size_t npkts)
{
	static const uint8_t	 flags[3] = { PKT_TH_SYN, PKT_TH_ACK,
	    PKT_TH_FIN | PKT_TH_ACK };
	struct ilbd_conf	 conf;
	struct bench_result	 res;
	struct lb_action	 act;
	struct pkt_info		 pi;
	struct lb		*lb;
	uint8_t			*flows, *p;
	uint32_t		*sched;
	uint64_t		 now = BENCH_T0;
	double			 t;
	size_t			 i;
	char			 what[64];

	if ((lb = calloc(1, sizeof(*lb))) == NULL)
		err(1, "calloc");
	bench_svcs[0].port = 80;
	bench_addr4(&bench_svcs[0].vip, 0xc633640aU);	/* 198.51.100.10 */
	bench_conf(&conf, 1, (uint32_t)nflows, (uint32_t)nflows);
	bench_lb_new(lb, &conf, members);
	flows = bench_flows(nflows);
	sched = bench_schedule(nflows, npkts);
	bench_warm(lb, flows, nflows);

	memset(&res, 0, sizeof(res));
	bench_perf_start(&bench_perf);
	t = bench_now();
	res.cpu = bench_cpu();
	for (i = 0; i < npkts && bench_burst == 1; i++) {
		p = flows + (size_t)(sched[i] & 0x3fffffff) * BENCH_PKTLEN;
		p[33] = flags[sched[i] >> 30];
		res.verdict[lb_input(lb, p, BENCH_PKTLEN, 0, now, &pi,
		    &act)]++;
		if ((i & (BENCH_DRAIN - 1)) == 0)
			bench_drain(lb, &res, now++);
	}
	if (bench_burst > 1)
		bench_synthetic_burst(lb, flows, sched, npkts, &res);
	res.secs = bench_now() - t;
	res.cpu = bench_cpu() - res.cpu;
	bench_perf_stop(&bench_perf, &res);
	res.pkts = npkts;
	snprintf(what, sizeof(what), "m=%zu flows=%zu b=%zu", members, nflows,
	    bench_burst);
	bench_print_result(what, lb, &res);
	free(flows);
	free(sched);
	lb_free(lb);
	free(lb);
}

static void
bench_trace_add(struct bench_trace *tr, const uint8_t *p, size_t len)
{
	if (len > UINT16_MAX)
		len = UINT16_MAX;
	if (tr->used + len > tr->cap) {
		tr->cap = (tr->cap + len) * 2;
		if ((tr->buf = realloc(tr->buf, tr->cap)) == NULL)
			err(1, "realloc");
	}
	if (tr->n == tr->ncap) {
		tr->ncap = tr->ncap ? tr->ncap * 2 : 4096;
		tr->off = reallocarray(tr->off, tr->ncap, sizeof(*tr->off));
		tr->len = reallocarray(tr->len, tr->ncap, sizeof(*tr->len));
		if (tr->off == NULL || tr->len == NULL)
			err(1, "reallocarray");
	}
	memcpy(tr->buf + tr->used, p, len);
	tr->off[tr->n] = (uint32_t)tr->used;
	tr->len[tr->n++] = (uint16_t)len;
	tr->used += len;
}

/* Link header length for dlt, or -1 when the file is not supported. */
static int
bench_linkhdr(int dlt, const uint8_t *p, size_t caplen)
{
	switch (dlt) {
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case 101:			/* LINKTYPE_RAW */
		return (0);
	case DLT_LINUX_SLL:
		return (16);
	case DLT_EN10MB:
		if (caplen >= 18 && p[12] == 0x81 && p[13] == 0x00)
			return (18);	/* one 802.1Q tag */
		return (14);
	default:
		return (-1);
	}
}

static void
bench_pcap_load(const char *path, struct bench_trace *tr)
{
	char			 errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr	*h;
	const u_char		*p;
	pcap_t			*pc;
	int			 dlt, hl, r;

	if ((pc = pcap_open_offline(path, errbuf)) == NULL)
		errx(1, "%s: %s", path, errbuf);
	dlt = pcap_datalink(pc);
	while ((r = pcap_next_ex(pc, &h, &p)) == 1) {
		if ((hl = bench_linkhdr(dlt, p, h->caplen)) < 0)
			errx(1, "%s: link type %d not supported", path, dlt);
		if (h->caplen > (unsigned int)hl)
			bench_trace_add(tr, p + hl, h->caplen - hl);
	}
	if (r == -1)
		errx(1, "%s: %s", path, pcap_geterr(pc));
	pcap_close(pc);
	if (tr->n == 0)
		errx(1, "%s: no packets", path);
}

/*
 * One service per destination address, port and protocol seen in a TCP
 * or UDP packet.
 */
static unsigned int
bench_pcap_services(const struct bench_trace *tr)
{
	struct pkt_info	pi;
	unsigned int	n = 0, j;
	size_t		i;
	int		v6;
	enum conf_proto	proto;

	for (i = 0; i < tr->n && n < CONF_SERVICES_MAX; i++) {
		if (packet_parse(tr->buf + tr->off[i], tr->len[i], &pi) !=
		    PKT_OK)
			continue;
		v6 = (pi.key.len & ~FLOW_KEY_UDP) == FLOW_ID_V6;
		proto = flow_key_is_udp(&pi.key) ? PROTO_UDP : PROTO_TCP;
		for (j = 0; j < n; j++) {
			if (bench_svcs[j].protocol == proto &&
			    (bench_svcs[j].vip.family == AF_INET6) == v6 &&
			    bench_svcs[j].port == ((pi.key.id[0] << 8) |
			    pi.key.id[1]) && memcmp(bench_svcs[j].vip.u.b,
			    pi.key.id + 2, v6 ? 16 : 4) == 0)
				break;
		}
		if (j < n)
			continue;
		memset(&bench_svcs[n].vip, 0, sizeof(bench_svcs[n].vip));
		bench_svcs[n].vip.family = v6 ? AF_INET6 : AF_INET;
		memcpy(bench_svcs[n].vip.u.b, pi.key.id + 2, v6 ? 16 : 4);
		bench_svcs[n].port = (uint16_t)((pi.key.id[0] << 8) |
		    pi.key.id[1]);
		bench_svcs[n].protocol = proto;
		n++;
	}
	return (n);
}

/* Replay the trace (repeated to >= min packets) through a fresh lb. */
static void
bench_pcap_run(const struct bench_trace *tr, unsigned int nsvc,
    size_t members, size_t min)
{
	const uint8_t		*bufs[BENCH_BURST_MAX];
	size_t			 lens[BENCH_BURST_MAX];
	struct pkt_info		 pis[BENCH_BURST_MAX];
	struct lb_action	 acts[BENCH_BURST_MAX];
	int			 v[BENCH_BURST_MAX];
	struct ilbd_conf	 conf;
	struct bench_result	 res;
	struct pkt_info		 pi;
	struct lb		*lb;
	uint64_t		 now = BENCH_T0;
	double			 t;
	size_t			 i, j, k, b;
	char			 what[64];

	if ((lb = calloc(1, sizeof(*lb))) == NULL)
		err(1, "calloc");
	bench_conf(&conf, nsvc, (uint32_t)tr->n, (uint32_t)tr->n);
	bench_lb_new(lb, &conf, members);
	/*
	 * The peers' NEWs for the connections they own, up front: on a
	 * SYN, or a UDP flow's every datagram (as if all were replicated;
	 * learning one again only resets it).
	 */
	for (i = 0; i < tr->n; i++)
		if (packet_parse(tr->buf + tr->off[i], tr->len[i], &pi) ==
		    PKT_OK && (PKT_IS_SYN_ONLY(&pi) ||
		    flow_key_is_udp(&pi.key)))
			bench_peer_new(lb, &pi, now);
	memset(&res, 0, sizeof(res));
	bench_perf_start(&bench_perf);
	t = bench_now();
	res.cpu = bench_cpu();
	for (k = 0; res.pkts < min || k == 0; k++) {
		for (i = 0; i < tr->n; i += b) {
			b = bench_chunk(i, tr->n);
			for (j = 0; j < b; j++) {
				bufs[j] = tr->buf + tr->off[i + j];
				lens[j] = tr->len[i + j];
			}
			lb_input_burst(lb, bufs, lens, b, 0, now, pis, acts, v);
			for (j = 0; j < b; j++)
				res.verdict[v[j]]++;
			if (((i + b - 1) & (BENCH_DRAIN - 1)) == 0)
				bench_drain(lb, &res, now++);
		}
		res.pkts += tr->n;
	}
	res.secs = bench_now() - t;
	res.cpu = bench_cpu() - res.cpu;
	bench_perf_stop(&bench_perf, &res);
	snprintf(what, sizeof(what), "pcap m=%zu b=%zu x%zu", members,
	    bench_burst, k);
	bench_print_result(what, lb, &res);
	for (i = 0; i < LB_STATS_N; i++)
		if (lb_stats_get(&lb->stats, i) != 0)
			printf("    %-18s %" PRIu64 "\n", lb_counters[i].name,
			    lb_stats_get(&lb->stats, i));
	lb_free(lb);
	free(lb);
}

/* Owner (and backup) of every key among members[0..n). */
static void
bench_rank_all(const struct score_ctx *ctx, const struct score_member *m,
    size_t n, const struct flow_key *keys, size_t nkeys, uint8_t *own,
    uint8_t *bak)
{
	size_t	i;
	int	o, b;

	for (i = 0; i < nkeys; i++) {
		score_rank(ctx, m, n, &keys[i], &o, &b);
		own[i] = (uint8_t)o;
		if (bak != NULL)
			bak[i] = (uint8_t)b;
	}
}

/*
 * One line per cluster size n: owner share max/min relative to fair; the
 * worst survivor's share of a departed member's connections relative to
 * fair; owners changed by a join (10.0.0.(n+1)) and by a leave
 * (10.0.0.n) against the joined/departed member's share.
 */
static void
bench_balance_one(const struct score_ctx *ctx, size_t n,
    const struct flow_key *keys, size_t nkeys, uint8_t *own, uint8_t *bak,
    uint8_t *own2)
{
	struct member_id	ids[BENCH_MAXN + 1];
	struct score_member	m[BENCH_MAXN + 1];
	static uint32_t		pair[BENCH_MAXN][BENCH_MAXN];
	uint32_t		cnt[BENCH_MAXN];
	double			fair = (double)nkeys / n, mx = 0, mn = 1e9;
	double			spread = 0, jm = 0, js = 0, lm = 0, ls = 0;
	size_t			i, j;

	bench_ids(ids, NULL, n + 1);
	for (i = 0; i <= n; i++)
		score_member_init(ctx, &m[i], &ids[i]);
	memset(cnt, 0, sizeof(cnt));
	memset(pair, 0, sizeof(pair));
	bench_rank_all(ctx, m, n, keys, nkeys, own, bak);
	for (i = 0; i < nkeys; i++) {
		cnt[own[i]]++;
		pair[own[i]][bak[i]]++;
	}
	for (i = 0; i < n; i++) {
		if (cnt[i] / fair > mx)
			mx = cnt[i] / fair;
		if (cnt[i] / fair < mn)
			mn = cnt[i] / fair;
		for (j = 0; j < n; j++)
			if (j != i && cnt[i] != 0 && pair[i][j] /
			    ((double)cnt[i] / (n - 1)) > spread)
				spread = pair[i][j] /
				    ((double)cnt[i] / (n - 1));
	}
	bench_rank_all(ctx, m, n + 1, keys, nkeys, own2, NULL);
	for (i = 0; i < nkeys; i++) {
		jm += own2[i] != own[i];
		js += own2[i] == n;
	}
	bench_rank_all(ctx, m, n - 1, keys, nkeys, own2, NULL);
	for (i = 0; i < nkeys; i++) {
		lm += own2[i] != own[i];
		ls += own[i] == n - 1;
	}
	printf("  %2zu  %5.3f  %5.3f  %5.3f   %6.4f %6.4f %6.4f   "
	    "%6.4f %6.4f %6.4f\n", n, mx, mn, spread, jm / nkeys, js / nkeys,
	    1.0 / (n + 1), lm / nkeys, ls / nkeys, 1.0 / n);
}

static void
bench_balance(size_t maxn, size_t nkeys)
{
	static const enum conf_scoring	methods[] = { SCORING_CRC32C_MIX,
	    SCORING_CRC32, SCORING_KEYED };
	struct score_ctx	 ctx;
	struct flow_key		*keys;
	uint8_t			 key[CONF_KEY_LEN], *own, *bak, *own2;
	uint32_t		 v;
	size_t			 i, j, n;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;		/* fixed test key */
	keys = calloc(nkeys, sizeof(*keys));
	own = malloc(nkeys);
	bak = malloc(nkeys);
	own2 = malloc(nkeys);
	if (keys == NULL || own == NULL || bak == NULL || own2 == NULL)
		err(1, "calloc");
	for (i = 0; i < nkeys; i++) {
		keys[i].len = FLOW_ID_V4;
		keys[i].id[1] = 80;
		memcpy(keys[i].id + 2, "\xc6\x33\x64\x0a", 4);
		v = (uint32_t)bench_rand();
		for (j = 0; j < 2; j++)
			keys[i].id[6 + j] = (uint8_t)(v >> (8 * j));
		v = (uint32_t)bench_rand();
		memcpy(keys[i].id + 8, &v, 4);
	}
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (score_init(&ctx, methods[i], key) == -1)
			errx(1, "score_init");
		printf("\nBALANCE %s, %zu random tuples, ids 10.0.0.1..N\n",
		    config_scoring_name(methods[i]), nkeys);
		printf("   N  own/fair      leave      join: moved  "
		    "new   1/(N+1)  leave: moved  gone   1/N\n"
		    "       max    min   max/fair\n");
		for (n = 2; n <= maxn; n++)
			bench_balance_one(&ctx, n, keys, nkeys, own, bak, own2);
	}
	free(keys);
	free(own);
	free(bak);
	free(own2);
}

static void
bench_usage(void)
{
	fprintf(stderr, "usage: bench_lb [-Bq] [-b burst] [-m members] "
	    "[-n flows] [-k packets] [-p file.pcap]\n");
	exit(2);
}

static size_t
bench_num(const char *s, size_t lo, size_t hi)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		errx(2, "%s: not a number in %zu..%zu", s, lo, hi);
	return (v);
}

int
main(int argc, char **argv)
{
	size_t		 members[3] = { 2, 8, 32 }, flows[2] = { 10000, 1000000 };
	size_t		 nm = 3, nf = 2, npkts = 4000000, i, j, nkeys = 60000;
	size_t		 maxn = BENCH_MAXN;
	const char	*pcap = NULL;
	int		 ch, balance = 1;

	while ((ch = getopt(argc, argv, "Bb:k:m:n:p:q")) != -1) {
		switch (ch) {
		case 'B':
			balance = 0;
			break;
		case 'b':
			bench_burst = bench_num(optarg, 1, BENCH_BURST_MAX);
			break;
		case 'k':
			npkts = bench_num(optarg, 1, 1UL << 30);
			break;
		case 'm':
			members[0] = bench_num(optarg, 1, BENCH_MAXN);
			nm = 1;
			break;
		case 'n':
			flows[0] = bench_num(optarg, 1, 1UL << 26);
			nf = 1;
			break;
		case 'p':
			pcap = optarg;
			break;
		case 'q':
			bench_quick = 1;
			break;
		default:
			bench_usage();
		}
	}
	if (argc != optind)
		bench_usage();
	if (bench_quick) {
		if (nf == 2) {
			flows[0] = 1000;
			nf = 1;
		}
		npkts = 20000;
		nkeys = 3000;
		maxn = 8;
	}
	printf("bench_lb: %s scoring, one core, %zu-byte conn_entry\n",
	    config_scoring_name(SCORING_CRC32C_MIX), sizeof(struct conn_entry));
	bench_perf_open(&bench_perf);
	if (bench_perf.fd[0] == -1)
		printf("perf counters unavailable: %s\n", bench_perf.why);
	if (pcap != NULL) {
		struct bench_trace	tr;
		unsigned int		nsvc;

		memset(&tr, 0, sizeof(tr));
		bench_pcap_load(pcap, &tr);
		nsvc = bench_pcap_services(&tr);
		printf("%s: %zu packets, %u services\n", pcap, tr.n, nsvc);
		for (i = 0; i < nm; i++)
			bench_pcap_run(&tr, nsvc, members[i],
			    bench_quick ? tr.n : npkts);
		free(tr.buf);
		free(tr.off);
		free(tr.len);
		return (0);
	}
	printf("synthetic: per run, every flow opened first, then %zu "
	    "packets: random flow, ACK, 1 in 10 FIN, SYN after FIN\n", npkts);
	for (j = 0; j < nf; j++)
		for (i = 0; i < nm; i++)
			bench_synthetic(members[i], flows[j], npkts);
	if (balance)
		bench_balance(maxn, nkeys);
	return (0);
}
