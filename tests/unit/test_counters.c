/*
 * test_counters.c: the counters ilbd exports, pinned: every name, type,
 * value and help of the stats line, ilbctl show stats and /metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>

#include "capture.h"
#include "cluster.h"
#include "control.h"
#include "health.h"
#include "counter.h"
#include "ctlcmd.h"
#include "daemon.h"
#include "dp.h"
#include "fwd.h"
#include "gre.h"
#include "icmp.h"
#include "lb.h"
#include "metrics.h"
#include "metrics_int.h"
#include "neigh.h"
#include "peer.h"
#include "repl.h"
#include "tun.h"
#include "world.h"

#define C	DP_COUNTER
#define G	DP_GAUGE

/* The parts a row needs; ALL: those every data path has. */
#define ALL	0x0
#define TUN	0x1
#define CAP	0x2
#define DSR	0x4		/* fwd and neigh */
#define ICMP	0x8
#define FULL	(TUN | DSR | ICMP)

/*
 * Everything daemon_counter_walk() exports, in order, with the value it has
 * in the world below (field i of a part's stats struct holds base + i;
 * rx_reject is a sum). The stats line, show stats and /metrics all come
 * from this list, and tests/netns parse the stats line: changing a row
 * changes ilbd's output. A new counter goes at the end of its part, as
 * it goes at the end of its struct.
 */
static const struct row {
	unsigned int		 parts;
	const char		*sub;
	const char		*name;
	enum dp_metric_type	 type;
	uint64_t		 value;
} rows[] = {
	{ ALL, "lb", "rx", C, 1000 },
	{ ALL, "lb", "handoff_in", C, 1001 },
	{ ALL, "lb", "syn", C, 1002 },
	{ ALL, "lb", "forward_owner", C, 1003 },
	{ ALL, "lb", "forward_backup", C, 1004 },
	{ ALL, "lb", "forward_cache", C, 1005 },
	{ ALL, "lb", "forward_hash", C, 1006 },
	{ ALL, "lb", "handoff_out", C, 1007 },
	{ ALL, "lb", "new_conn", C, 1008 },
	{ ALL, "lb", "retransmitted_syn", C, 1009 },
	{ ALL, "lb", "port_reuse", C, 1010 },
	{ ALL, "lb", "syn_reopen", C, 1011 },
	{ ALL, "lb", "established", C, 1012 },
	{ ALL, "lb", "closing", C, 1013 },
	{ ALL, "lb", "new_queued", C, 1014 },
	{ ALL, "lb", "end_queued", C, 1015 },
	{ ALL, "lb", "queue_full", C, 1016 },
	{ ALL, "lb", "hash_fallback", C, 1017 },
	{ ALL, "lb", "drop", C, 1018 },
	{ ALL, "lb", "bad_packet", C, 1019 },
	{ ALL, "lb", "not_tcp", C, 1020 },
	{ ALL, "lb", "fragment", C, 1021 },
	{ ALL, "lb", "no_members", C, 1022 },
	{ ALL, "lb", "no_service", C, 1023 },
	{ ALL, "lb", "no_server", C, 1024 },
	{ ALL, "lb", "ltoc_full", C, 1025 },
	{ ALL, "lb", "misrouted", C, 1026 },
	{ ALL, "lb", "orphan", C, 1027 },
	{ ALL, "lb", "learn_backup", C, 1028 },
	{ ALL, "lb", "learn_cache", C, 1029 },
	{ ALL, "lb", "learn_end", C, 1030 },
	{ ALL, "lb", "learn_bad", C, 1031 },
	{ ALL, "lb", "ltoc_expired", C, 1032 },
	{ ALL, "lb", "cache_expired", C, 1033 },
	{ ALL, "lb", "refresh_queued", C, 1034 },
	{ ALL, "lb", "refresh_in", C, 1035 },
	{ ALL, "lb", "refresh_unknown", C, 1036 },
	{ ALL, "lb", "learn_owner", C, 1037 },
	{ ALL, "lb", "learn_update", C, 1038 },
	{ ALL, "lb", "rebalances", C, 1039 },
	{ ALL, "lb", "plans", C, 1040 },
	{ ALL, "lb", "entries_sent", C, 1041 },
	{ ALL, "lb", "promoted", C, 1042 },
	{ ALL, "lb", "to_backup", C, 1043 },
	{ ALL, "lb", "to_cache", C, 1044 },
	{ ALL, "lb", "cache_rehomed", C, 1045 },
	{ ALL, "lb", "service_removed", C, 1046 },
	{ ALL, "lb", "reloads", C, 1047 },
	{ ALL, "lb", "parse_truncated", C, 1048 },
	{ ALL, "lb", "parse_bad_version", C, 1049 },
	{ ALL, "lb", "parse_bad_ihl", C, 1050 },
	{ ALL, "lb", "parse_bad_totlen", C, 1051 },
	{ ALL, "lb", "parse_bad_plen", C, 1052 },
	{ ALL, "lb", "parse_bad_tcp_offset", C, 1053 },
	{ ALL, "lb", "parse_bad_exthdr", C, 1054 },
	{ ALL, "lb", "parse_too_many_exthdrs", C, 1055 },
	{ ALL, "lb", "parse_unsupported_exthdr", C, 1056 },
	{ ALL, "lb", "parse_bad_csum", C, 1057 },
	{ ALL, "lb", "parse_bad_tcp_flags", C, 1058 },
	{ ALL, "lb", "parse_tiny_fragment", C, 1059 },
	{ ALL, "lb", "parse_bad_icmp", C, 1060 },
	{ ALL, "lb", "syn_hash_fallback", C, 1061 },
	{ ALL, "lb", "icmp_ptb", C, 1062 },
	{ ALL, "lb", "icmp_orphan", C, 1063 },
	{ ALL, "lb", "frag_forwarded", C, 1064 },
	{ ALL, "lb", "frag_held", C, 1065 },
	{ ALL, "lb", "est_deferred", C, 1066 },
	{ ALL, "lb", "est_refresh_now", C, 1067 },
	{ ALL, "lb", "est_refresh_skipped", C, 1068 },
	{ ALL, "lb", "closing_to_owner", C, 1069 },
	{ ALL, "lb", "syn_sync", C, 1070 },
	{ ALL, "lb", "syn_records_first", C, 1071 },
	{ ALL, "lb", "learn_stale", C, 1072 },
	{ ALL, "lb", "learn_end_stale", C, 1073 },
	{ ALL, "lb", "syn_stranger", C, 1074 },
	{ ALL, "lb", "adopted", C, 1075 },
	{ ALL, "lb", "holders_gone", C, 1076 },
	{ ALL, "lb", "left_together", C, 1077 },
	{ ALL, "lb", "learn_conflict", C, 1078 },
	{ ALL, "lb", "syn_end_missed", C, 1079 },
	{ ALL, "lb", "parse_bad_udp_len", C, 1080 },
	{ ALL, "lb", "udp_rx", C, 1081 },
	{ ALL, "lb", "udp_new_flow", C, 1082 },
	{ ALL, "lb", "udp_replicated", C, 1083 },
	{ ALL, "lb", "udp_unreplicated", C, 1084 },
	{ ALL, "lb", "udp_stream", C, 1085 },
	{ ALL, "lb", "quic_routed", C, 1086 },
	{ ALL, "lb", "quic_fallback", C, 1087 },
	{ ALL, "lb", "udp_expired_end", C, 1088 },
	{ ALL, "lb", "udp_relayed", C, 1089 },
	{ ALL, "lb", "udp_to_gone", C, 1090 },
	{ ALL, "lb", "syn_superseded", C, 1091 },
	{ ALL, "dp", "no_mac", C, 2000 },
	{ ALL, "dp", "fwd_errors", C, 2001 },
	{ ALL, "dp", "gre_fwd_errors", C, 2002 },
	{ ALL, "dp", "handoff_errors", C, 2003 },
	{ ALL, "dp", "handoff_no_addr", C, 2004 },
	{ ALL, "dp", "gre_rx", C, 2005 },
	{ ALL, "dp", "gre_rx_reject", C, 2006 },
	{ ALL, "dp", "gre_rx_key_next", C, 2007 },
	{ ALL, "cluster", "rx", C, 3003 },
	{ ALL, "cluster", "rx_reject", C, 42189 },
	{ ALL, "cluster", "tx", C, 3000 },
	{ ALL, "cluster", "gaps", C, 3025 },
	{ ALL, "cluster", "joins", C, 3027 },
	{ ALL, "cluster", "leaves", C, 3028 },
	{ ALL, "cluster", "restarts", C, 3029 },
	{ ALL, "cluster", "replays", C, 3018 },
	{ ALL, "cluster", "merge_held", C, 3031 },
	{ ALL, "cluster", "merge_rejoins", C, 3032 },
	{ ALL, "cluster", "rx_key_next", C, 3033 },
	{ ALL, "cluster", "tx_errors", C, 3002 },
	{ ALL, "cluster", "rx_not_peer", C, 3030 },
	{ TUN, "input", "packets", C, 4000 },
	{ TUN, "input", "multicast", C, 4003 },
	{ CAP, "input", "packets", C, 5000 },
	{ CAP, "capture", "drops", C, 5006 },
	{ DSR, "dsr", "sent", C, 6000 },
	{ DSR, "dsr", "bytes", C, 6001 },
	{ DSR, "dsr", "send_errors", C, 6002 },
	{ DSR, "dsr", "too_big", C, 6003 },
	{ DSR, "dsr", "bad_packet", C, 6004 },
	{ DSR, "neigh", "updates", C, 7000 },
	{ DSR, "neigh", "removals", C, 7001 },
	{ DSR, "neigh", "misses", C, 7002 },
	{ DSR, "neigh", "unwatched", C, 7003 },
	{ DSR, "neigh", "triggered", C, 7004 },
	{ DSR, "neigh", "trigger_errors", C, 7005 },
	{ DSR, "neigh", "dumps", C, 7006 },
	{ DSR, "neigh", "overruns", C, 7007 },
	{ DSR, "neigh", "bad_messages", C, 7008 },
	{ ALL, "gre", "sent", C, 8000 },
	{ ALL, "gre", "sent_bytes", C, 8001 },
	{ ALL, "gre", "send_errors", C, 8002 },
	{ ALL, "gre", "too_big", C, 8003 },
	{ ALL, "gre", "received", C, 8004 },
	{ ALL, "gre", "received_bytes", C, 8005 },
	{ ALL, "gre", "malformed", C, 8006 },
	{ ALL, "gre", "recv_truncated", C, 8007 },
	{ ALL, "gre", "recv_errors", C, 8008 },
	{ ICMP, "icmp", "sent", C, 9000 },
	{ ICMP, "icmp", "skipped", C, 9001 },
	{ ICMP, "icmp", "ratelimited", C, 9002 },
	{ ICMP, "icmp", "errors", C, 9003 },
	{ ICMP, "icmp", "echo_answered", C, 9004 },
	{ ICMP, "icmp", "echo_ratelimited", C, 9005 },
	{ ICMP, "icmp", "echo_errors", C, 9006 },
	{ ALL, "peer", "sent", C, 10000 },
	{ ALL, "peer", "bytes_out", C, 10001 },
	{ ALL, "peer", "received", C, 10002 },
	{ ALL, "peer", "bytes_in", C, 10003 },
	{ ALL, "peer", "rejected", C, 10004 },
	{ ALL, "peer", "rejected_decode", C, 10005 },
	{ ALL, "peer", "rejected_auth", C, 10006 },
	{ ALL, "peer", "rejected_replay", C, 10007 },
	{ ALL, "peer", "rejected_size", C, 10008 },
	{ ALL, "peer", "connects", C, 10009 },
	{ ALL, "peer", "connect_failures", C, 10010 },
	{ ALL, "peer", "accepts", C, 10011 },
	{ ALL, "peer", "accept_errors", C, 10012 },
	{ ALL, "peer", "accept_refused", C, 10013 },
	{ ALL, "peer", "disconnects", C, 10014 },
	{ ALL, "peer", "queue_full", C, 10015 },
	{ ALL, "peer", "lost", C, 10016 },
	{ ALL, "peer", "send_errors", C, 10017 },
	{ ALL, "peer", "received_key_next", C, 10018 },
	{ ALL, "repl", "mc_sent", C, 11000 },
	{ ALL, "repl", "mc_bytes", C, 11001 },
	{ ALL, "repl", "tcp_sent", C, 11002 },
	{ ALL, "repl", "tcp_bytes", C, 11003 },
	{ ALL, "repl", "send_errors", C, 11004 },
	{ ALL, "repl", "new_sent", C, 11005 },
	{ ALL, "repl", "backup_sent", C, 11006 },
	{ ALL, "repl", "joiner_sent", C, 11007 },
	{ ALL, "repl", "end_sent", C, 11008 },
	{ ALL, "repl", "refresh_sent", C, 11009 },
	{ ALL, "repl", "xfer_sent", C, 11010 },
	{ ALL, "repl", "new_rx", C, 11011 },
	{ ALL, "repl", "end_rx", C, 11012 },
	{ ALL, "repl", "refresh_rx", C, 11013 },
	{ ALL, "repl", "rx_bad", C, 11014 },
	{ ALL, "repl", "rx_unknown_sender", C, 11015 },
	{ ALL, "repl", "rx_held", C, 11016 },
	{ ALL, "repl", "done_sent", C, 11017 },
	{ ALL, "repl", "done_acked", C, 11018 },
	{ ALL, "repl", "rebalances", C, 11019 },
	{ ALL, "repl", "join_timeouts", C, 11020 },
	{ ALL, "repl", "leave_timeouts", C, 11021 },
	{ ALL, "repl", "backup_flushes", C, 11022 },
	{ ALL, "repl", "end_rel_sent", C, 11023 },
	{ ALL, "repl", "refresh_rel_sent", C, 11024 },
	{ ALL, "repl", "rx_stale", C, 11025 },
	{ ALL, "repl", "recon_passes", C, 11026 },
	{ ALL, "repl", "recon_sent", C, 11027 },
	{ ALL, "repl", "recon_answers", C, 11028 },
	{ ALL, "repl", "end_rx_late", C, 11029 },
	{ ALL, "repl", "pull_sent", C, 11030 },
	{ ALL, "repl", "pull_skipped", C, 11031 },
	{ ALL, "repl", "pull_rx", C, 11032 },
	{ ALL, "repl", "pull_answers", C, 11033 },
	{ ALL, "lb", "ltoc_entries", G, 1 },
	{ ALL, "lb", "cache_entries", G, 0 },
	{ ALL, "cluster", "active_members", G, 3 },
};

#define NROWS	(sizeof(rows) / sizeof(rows[0]))
#define NMAX	512		/* counters one walk may give */

/*
 * FNV-1a of the whole /metrics text of the parts: the help of every
 * counter is pinned by this alone (the rows pin the rest, readably).
 * When it changes, the test prints the text it got.
 */
#define METRICS_FNV_FULL	0xa3c399c73ce9ba98ULL
#define METRICS_FNV_CAP		0xbb353687598796d7ULL

/* The parts of one data path, each stats struct filled with base + i. */
static struct {
	struct world		 world;
	struct dp_stats		 dp;
	struct cluster_table	 cluster;
	struct tun_stats	 tun;
	struct capture_stats	 capture;
	struct fwd_stats	 fwd;
	struct neigh_stats	 neigh;
	struct gre_stats	 gre;
	struct icmp_tx_stats	 icmp;
	struct peer_stats	 peer;
	struct repl_stats	 repl;
} w;

/* What a walk gave. */
struct got {
	struct dp_counter	 v[NMAX];
	size_t			 n;
};

static void
fill(void *p, size_t size, uint64_t base)
{
	uint64_t	*v = p;
	size_t		 i;

	for (i = 0; i < size / sizeof(uint64_t); i++)
		v[i] = base + i;
}

/* One lb with one connection in its LTOC; three active members. */
static int
setup(void **state)
{
	struct ilbd_conf	*c = world_conf_new(1024, 1024);
	struct pkt_info		 pi = world_pkt(10, 80, 40000, 0x02);
	struct lb_action	 act;

	(void)state;
	memset(&w, 0, sizeof(w));
	world_web(c, "web", 10, SCHED_WLC, 2);
	world_init(&w.world, c, 2);
	if (world_start(&w.world, 1, 42, 0) != 0)
		return (-1);
	lb_decide(&w.world.lb[0], &pi, 0, 43, &act);
	fill(&w.world.lb[0].stats, sizeof(w.world.lb[0].stats), 1000);
	fill(&w.dp, sizeof(w.dp), 2000);
	fill(&w.cluster.stats, sizeof(w.cluster.stats), 3000);
	w.cluster.nactive = 3;
	fill(&w.tun, sizeof(w.tun), 4000);
	fill(&w.capture, sizeof(w.capture), 5000);
	fill(&w.fwd, sizeof(w.fwd), 6000);
	fill(&w.neigh, sizeof(w.neigh), 7000);
	fill(&w.gre, sizeof(w.gre), 8000);
	fill(&w.icmp, sizeof(w.icmp), 9000);
	fill(&w.peer, sizeof(w.peer), 10000);
	fill(&w.repl, sizeof(w.repl), 11000);
	return (0);
}

static int
teardown(void **state)
{
	(void)state;
	world_free(&w.world);
	return (0);
}

/* The parts of a data path with the optional ones in mask. */
static struct daemon_counter_parts
parts(unsigned int mask)
{
	struct daemon_counter_parts	p;

	memset(&p, 0, sizeof(p));
	p.lb = &w.world.lb[0];
	p.dp = &w.dp;
	p.cluster = &w.cluster;
	p.tun = (mask & TUN) ? &w.tun : NULL;
	p.capture = (mask & CAP) ? &w.capture : NULL;
	p.fwd = (mask & DSR) ? &w.fwd : NULL;
	p.neigh = (mask & DSR) ? &w.neigh : NULL;
	p.gre = &w.gre;
	p.icmp = (mask & ICMP) ? &w.icmp : NULL;
	p.peer = &w.peer;
	p.repl = &w.repl;
	return (p);
}

static int
row_in(const struct row *r, unsigned int mask)
{
	return (r->parts == ALL || (r->parts & mask) != 0);
}

/* The stats line's key of a row: lb and dp bare, others sub_name. */
static void
row_key(const struct row *r, char *buf, size_t len)
{
	if (strcmp(r->sub, "lb") == 0 || strcmp(r->sub, "dp") == 0)
		snprintf(buf, len, "%s", r->name);
	else
		snprintf(buf, len, "%s_%s", r->sub, r->name);
}

static void
collect(void *arg, const struct dp_counter *c)
{
	struct got	*g = arg;

	assert_true(g->n < NMAX);
	g->v[g->n++] = *c;
}

/* metrics_foreach_fn: the walk of the parts at arg. */
static void
walk_fn(void *arg, dp_counter_cb cb, void *cbarg)
{
	daemon_counter_walk(arg, cb, cbarg);
}

/* Take b's text, NUL-terminated (free it). */
static char *
take(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);
	char	*s;

	assert_non_null(s = malloc(len + 1));
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	return (s);
}

/* Every counter, in order: sub, name, type, value, no labels, a help. */
static void
check_walk(unsigned int mask)
{
	struct daemon_counter_parts	 p = parts(mask);
	static struct got	 g;
	const struct dp_counter	*c;
	size_t			 i, k = 0;

	g.n = 0;
	daemon_counter_walk(&p, collect, &g);
	for (i = 0; i < NROWS; i++) {
		if (!row_in(&rows[i], mask))
			continue;
		if (k >= g.n)
			fail_msg("missing: %s %s", rows[i].sub, rows[i].name);
		c = &g.v[k++];
		if (strcmp(c->sub, rows[i].sub) != 0 ||
		    strcmp(c->name, rows[i].name) != 0)
			fail_msg("counter %zu: want %s %s, got %s %s", k - 1,
			    rows[i].sub, rows[i].name, c->sub, c->name);
		assert_int_equal(c->type, rows[i].type);
		assert_int_equal(c->value, rows[i].value);
		assert_string_equal(c->labels, "");
		assert_non_null(c->help);
		assert_true(c->help[0] != '\0');
	}
	if (k != g.n)
		fail_msg("unexpected: %s %s", g.v[k].sub, g.v[k].name);
}

static void
test_walk_full(void **state)
{
	(void)state;
	check_walk(FULL);
}

static void
test_walk_capture(void **state)
{
	(void)state;
	check_walk(CAP);
}

/* The stats line's keys and values, as daemon_log_stats() writes them. */
static void
test_stats_line(void **state)
{
	struct daemon_counter_parts	 p = parts(FULL);
	static struct got	 g;
	static char		 want[16384], have[16384];
	char			 key[96];
	size_t			 i, nw = 0, nh = 0;

	(void)state;
	g.n = 0;
	daemon_counter_walk(&p, collect, &g);
	for (i = 0; i < g.n; i++) {
		daemon_counter_key(&g.v[i], key, sizeof(key));
		nh += (size_t)snprintf(have + nh, sizeof(have) - nh,
		    " %s=%llu", key, (unsigned long long)g.v[i].value);
	}
	for (i = 0; i < NROWS; i++) {
		if (!row_in(&rows[i], FULL))
			continue;
		row_key(&rows[i], key, sizeof(key));
		nw += (size_t)snprintf(want + nw, sizeof(want) - nw,
		    " %s=%llu", key, (unsigned long long)rows[i].value);
	}
	assert_true(nw < sizeof(want) && nh < sizeof(have));
	assert_string_equal(have, want);
}

/* ilbctl show stats, text and JSON. */
static void
check_show_stats(unsigned int mask, int json)
{
	struct daemon_counter_parts	 p = parts(mask);
	struct evbuffer		*b, *e;
	struct ctlcmd_stats	 st;
	char			 key[96], *have, *want;
	size_t			 i, n = 0;

	assert_non_null(b = evbuffer_new());
	assert_non_null(e = evbuffer_new());
	assert_int_equal(ctlcmd_stats_begin(&st, b, json), 0);
	daemon_counter_walk(&p, ctlcmd_stats_put, &st);
	ctlcmd_stats_end(&st);
	if (json)
		evbuffer_add_printf(e, "{\"counters\":{");
	for (i = 0; i < NROWS; i++) {
		if (!row_in(&rows[i], mask))
			continue;
		row_key(&rows[i], key, sizeof(key));
		if (json)
			evbuffer_add_printf(e, "%s\"%s\":%llu",
			    n++ > 0 ? "," : "", key,
			    (unsigned long long)rows[i].value);
		else
			evbuffer_add_printf(e, "%s %llu\n", key,
			    (unsigned long long)rows[i].value);
	}
	if (json)
		evbuffer_add_printf(e, "},\"labelled\":[]}\n");
	have = take(b);
	want = take(e);
	assert_string_equal(have, want);
	free(have);
	free(want);
	evbuffer_free(b);
	evbuffer_free(e);
}

static void
test_show_stats(void **state)
{
	(void)state;
	check_show_stats(FULL, 0);
	check_show_stats(FULL, 1);
	check_show_stats(CAP, 0);
	check_show_stats(CAP, 1);
}

static uint64_t
fnv1a(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (h);
}

/* The /metrics family of a row (metrics_map's, or the default); 0: none. */
static int
row_family(const struct row *r, char *fam, size_t len)
{
	const struct metrics_map	*mp = metrics_map_find(r->sub, r->name);

	if (mp != NULL && mp->family == NULL)
		return (0);
	if (mp != NULL)
		snprintf(fam, len, "%s", mp->family);
	else
		snprintf(fam, len, "ilbd_%s_%s%s", r->sub, r->name,
		    r->type == C ? "_total" : "");
	return (1);
}

/* /metrics: every family's # TYPE and sample; the help by hash. */
static void
check_metrics(unsigned int mask, uint64_t fnv)
{
	struct daemon_counter_parts	 p = parts(mask);
	struct evbuffer		*b, *e;
	char			*text, *line, *save, *have, *want;
	char			 fam[128];
	size_t			 i;

	assert_non_null(b = evbuffer_new());
	assert_non_null(e = evbuffer_new());
	assert_int_equal(metrics_render(b, walk_fn, &p), 0);
	text = take(b);
	if (fnv1a(text) != fnv)
		fprintf(stderr, "/metrics has changed (FNV-1a %#llx):\n%s",
		    (unsigned long long)fnv1a(text), text);
	assert_int_equal(fnv1a(text), fnv);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "# HELP ", 7) != 0)
			evbuffer_add_printf(b, "%s\n", line);
	/* families as metrics_map names them, in order of first sample */
	for (i = 0; i < NROWS; i++) {
		const struct metrics_map	*mp;
		size_t				 k;

		if (!row_in(&rows[i], mask) || row_family(&rows[i], fam,
		    sizeof(fam)) == 0)
			continue;
		for (k = 0; k < i; k++) {
			char	f2[128];

			if (row_in(&rows[k], mask) && row_family(&rows[k], f2,
			    sizeof(f2)) && strcmp(f2, fam) == 0)
				break;
		}
		if (k < i)
			continue;	/* the family was written already */
		evbuffer_add_printf(e, "# TYPE %s %s\n", fam,
		    rows[i].type == C ? "counter" : "gauge");
		for (k = i; k < NROWS; k++) {
			char	f2[128];

			if (!row_in(&rows[k], mask) || !row_family(&rows[k],
			    f2, sizeof(f2)) || strcmp(f2, fam) != 0)
				continue;
			mp = metrics_map_find(rows[k].sub, rows[k].name);
			if (mp != NULL && mp->label[0] != '\0')
				evbuffer_add_printf(e, "%s{%s} %llu\n", fam,
				    mp->label,
				    (unsigned long long)rows[k].value);
			else
				evbuffer_add_printf(e, "%s %llu\n", fam,
				    (unsigned long long)rows[k].value);
		}
	}
	have = take(b);
	want = take(e);
	assert_string_equal(have, want);
	free(text);
	free(have);
	free(want);
	evbuffer_free(b);
	evbuffer_free(e);
}

static void
test_metrics(void **state)
{
	(void)state;
	check_metrics(FULL, METRICS_FNV_FULL);
	check_metrics(CAP, METRICS_FNV_CAP);
}

/*
 * The health checker's and control socket's counters (daemon_set_stats):
 * last in the walk, in show stats as health_* and control_*, in /metrics
 * under their own names.
 */
static void
test_health_control(void **state)
{
	struct daemon_counter_parts	 p = parts(FULL);
	struct health_stats		 hs;
	struct control_stats		 cs;
	static struct got		 g;
	struct evbuffer			*b;
	char				 key[96], *text;
	size_t				 n0;

	(void)state;
	memset(&hs, 0, sizeof(hs));
	memset(&cs, 0, sizeof(cs));
	hs.checks = 11;
	hs.downs = 2;
	cs.requests = 5;
	cs.timeouts = 3;
	g.n = 0;
	daemon_counter_walk(&p, collect, &g);
	n0 = g.n;
	p.health = &hs;
	p.control = &cs;
	g.n = 0;
	daemon_counter_walk(&p, collect, &g);
	assert_int_equal(g.n, n0 + 6 + 8);
	daemon_counter_key(&g.v[n0], key, sizeof(key));
	assert_string_equal(key, "health_checks");
	assert_int_equal(g.v[n0].value, 11);
	daemon_counter_key(&g.v[n0 + 6 + 1], key, sizeof(key));
	assert_string_equal(key, "control_requests");
	assert_int_equal(g.v[n0 + 6 + 1].value, 5);
	assert_non_null(b = evbuffer_new());
	assert_int_equal(metrics_render(b, walk_fn, &p), 0);
	text = take(b);
	assert_non_null(strstr(text, "\nilbd_health_checks_total 11\n"));
	assert_non_null(strstr(text,
	    "\nilbd_health_transitions_total{to=\"down\"} 2\n"));
	assert_non_null(strstr(text, "\nilbd_control_requests_total 5\n"));
	assert_non_null(strstr(text,
	    "\nilbd_control_clients_closed_total{reason=\"timeout\"} 3\n"));
	free(text);
	evbuffer_free(b);
}

/* A module's own stats, for counter_walk() alone. */
struct toy_stats {
	uint64_t	a;
	uint64_t	b;
};

static uint64_t
toy_sum(const void *obj)
{
	const struct toy_stats	*t = obj;

	return (t->a + t->b);
}

static const struct counter_desc toy_counters[] = {
	COUNTER_FIELD(struct toy_stats, a, "the a")
	{ .name = "b", .help = "the b", .type = DP_GAUGE,
	    .off = offsetof(struct toy_stats, b), .sub = "other" },
	{ .name = "sum", .help = "a + b", .get = toy_sum },
	COUNTER_END
};

static const struct counter_desc empty_counters[] = { COUNTER_END };

/* Offsets, get(), a sub of its own; absent sources and empty tables. */
static void
test_counter_walk(void **state)
{
	struct toy_stats	 t = { 3, 4 };
	const struct counter_src src[] = {
		{ "toy", toy_counters, NULL },
		{ "toy", empty_counters, &t },
		{ "toy", toy_counters, &t },
	};
	static struct got	 g;

	(void)state;
	g.n = 0;
	counter_walk(src, sizeof(src) / sizeof(src[0]), collect, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.v[0].sub, "toy");
	assert_string_equal(g.v[0].name, "a");
	assert_string_equal(g.v[0].help, "the a");
	assert_int_equal(g.v[0].type, DP_COUNTER);
	assert_string_equal(g.v[0].labels, "");
	assert_int_equal(g.v[0].value, 3);
	assert_string_equal(g.v[1].sub, "other");
	assert_int_equal(g.v[1].type, DP_GAUGE);
	assert_int_equal(g.v[1].value, 4);
	assert_string_equal(g.v[2].name, "sum");
	assert_int_equal(g.v[2].value, 7);
	assert_int_equal(counter_value(&toy_counters[1], &t), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_walk),
		cmocka_unit_test(test_walk_full),
		cmocka_unit_test(test_walk_capture),
		cmocka_unit_test(test_stats_line),
		cmocka_unit_test(test_show_stats),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_health_control),
	};

	return (cmocka_run_group_tests_name("counters", tests, setup,
	    teardown));
}
