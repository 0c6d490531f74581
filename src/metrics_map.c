/* metrics_map.c: /metrics by Prometheus' conventions; the daemon's extras. */
#include <sys/resource.h>
#include <sys/types.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "cluster.h"
#include "daemon.h"
#include "lb.h"
#include "metrics_int.h"
#include "msg.h"
#include "sched.h"
#include "util.h"

#define DROP	"ilbd_packets_dropped_total"
#define DROP_H	"packets dropped, by reason"
#define BAD	"ilbd_packets_malformed_total"
#define BAD_H	"malformed packets (all counted as reason=\"bad_packet\" " \
		"in ilbd_packets_dropped_total), by what is wrong"
#define FWD	"ilbd_packets_forwarded_total"
#define FWD_H	"packets forwarded to a server, by the table that chose it"
#define RSENT	"ilbd_repl_records_sent_total"
#define RSENT_H	"replication records sent, by type"
#define RRX	"ilbd_repl_records_received_total"
#define RRX_H	"replication records received and applied, by type"
#define PREJ	"ilbd_peer_rejected_messages_total"
#define PREJ_H	"reliable-channel messages rejected (connection closed), " \
		"by reason"
#define TENT	"ilbd_table_entries"
#define TENT_H	"entries in the table (ltoc: owned and backed-up "	\
		"connections; cache: learned from others)"
#define TEXP	"ilbd_table_expired_entries_total"
#define TEXP_H	"table entries expired"
#define CCLOSE	"ilbd_control_clients_closed_total"
#define CCLOSE_H "control clients closed without an answer, by reason"
#define HTRANS	"ilbd_health_transitions_total"
#define HTRANS_H "servers' health changes, by the state entered"
#define AREC	"ilbd_admin_records_processed_total"
#define AREC_H	"cluster-wide drain and weight records received, by what " \
		"became of them"

/*
 * Every rename; man/ilbctl.8 (METRICS) lists them. A counter that is the
 * sum of labelled ones (lb drop, peer rejected) is left out: sum() them.
 */
const struct metrics_map metrics_map[] = {
	{ "", "up", "ilbd_up", "", 0, NULL },
	{ "", "build_info", "ilbd_build_info", "", 0, NULL },
	{ "lb", "rx", "ilbd_packets_received_total", "", 0, NULL },
	{ "lb", "handoff_in", "ilbd_packets_handoff_received_total", "", 0,
	    NULL },
	{ "lb", "handoff_out", "ilbd_packets_handoff_sent_total", "", 0,
	    NULL },
	{ "lb", "forward_owner", FWD, "path=\"owner\"", 0, FWD_H },
	{ "lb", "forward_backup", FWD, "path=\"backup\"", 0, FWD_H },
	{ "lb", "forward_cache", FWD, "path=\"cache\"", 0, FWD_H },
	{ "lb", "forward_hash", FWD, "path=\"hash\"", 0, FWD_H },
	{ "lb", "new_conn", "ilbd_connections_total", "", 0,
	    "new connections entered in the LTOC" },
	{ "lb", "drop", NULL, "", 0, NULL },
	{ "lb", "bad_packet", DROP, "reason=\"bad_packet\"", 0, DROP_H },
	{ "lb", "not_tcp", DROP, "reason=\"not_tcp\"", 0, DROP_H },
	{ "lb", "fragment", DROP, "reason=\"fragment\"", 0, DROP_H },
	{ "lb", "no_members", DROP, "reason=\"no_members\"", 0, DROP_H },
	{ "lb", "no_service", DROP, "reason=\"no_service\"", 0, DROP_H },
	{ "lb", "no_server", DROP, "reason=\"no_server\"", 0, DROP_H },
	{ "lb", "ltoc_full", DROP, "reason=\"ltoc_full\"", 0, DROP_H },
	{ "lb", "misrouted", DROP, "reason=\"misrouted\"", 0, DROP_H },
	{ "lb", "orphan", DROP, "reason=\"orphan\"", 0, DROP_H },
	{ "lb", "icmp_orphan", DROP, "reason=\"icmp_orphan\"", 0, DROP_H },
	{ "dp", "no_mac", DROP, "reason=\"no_mac\"", 0, DROP_H },
	{ "dp", "fwd_errors", DROP, "reason=\"fwd_error\"", 0, DROP_H },
	{ "dp", "gre_fwd_errors", DROP, "reason=\"gre_fwd_error\"", 0,
	    DROP_H },
	{ "dp", "handoff_errors", DROP, "reason=\"handoff_error\"", 0,
	    DROP_H },
	{ "dp", "handoff_no_addr", DROP, "reason=\"handoff_no_addr\"", 0,
	    DROP_H },
	{ "lb", "parse_truncated", BAD, "reason=\"truncated\"", 0, BAD_H },
	{ "lb", "parse_bad_version", BAD, "reason=\"bad_version\"", 0,
	    BAD_H },
	{ "lb", "parse_bad_ihl", BAD, "reason=\"bad_ihl\"", 0, BAD_H },
	{ "lb", "parse_bad_totlen", BAD, "reason=\"bad_totlen\"", 0, BAD_H },
	{ "lb", "parse_bad_plen", BAD, "reason=\"bad_plen\"", 0, BAD_H },
	{ "lb", "parse_bad_tcp_offset", BAD, "reason=\"bad_tcp_offset\"", 0,
	    BAD_H },
	{ "lb", "parse_bad_exthdr", BAD, "reason=\"bad_exthdr\"", 0, BAD_H },
	{ "lb", "parse_too_many_exthdrs", BAD,
	    "reason=\"too_many_exthdrs\"", 0, BAD_H },
	{ "lb", "parse_unsupported_exthdr", BAD,
	    "reason=\"unsupported_exthdr\"", 0, BAD_H },
	{ "lb", "parse_bad_csum", BAD, "reason=\"bad_csum\"", 0, BAD_H },
	{ "lb", "parse_bad_tcp_flags", BAD, "reason=\"bad_tcp_flags\"", 0,
	    BAD_H },
	{ "lb", "parse_tiny_fragment", BAD, "reason=\"tiny_fragment\"", 0,
	    BAD_H },
	{ "lb", "parse_bad_icmp", BAD, "reason=\"bad_icmp\"", 0, BAD_H },
	{ "lb", "parse_bad_udp_len", BAD, "reason=\"bad_udp_len\"", 0,
	    BAD_H },
	{ "lb", "ltoc_expired", TEXP, "table=\"ltoc\"", 0, TEXP_H },
	{ "lb", "cache_expired", TEXP, "table=\"cache\"", 0, TEXP_H },
	{ "lb", "ltoc_entries", TENT, "table=\"ltoc\"", 0, TENT_H },
	{ "lb", "cache_entries", TENT, "table=\"cache\"", 0, TENT_H },
	{ "table", "capacity_ltoc", "ilbd_table_capacity_entries",
	    "table=\"ltoc\"", 0, NULL },
	{ "table", "capacity_cache", "ilbd_table_capacity_entries",
	    "table=\"cache\"", 0, NULL },
	{ "lb", "reloads", "ilbd_lb_reloads_applied_total", "", 0, NULL },
	{ "cluster", "rx", "ilbd_cluster_received_messages_total", "", 0,
	    NULL },
	{ "cluster", "tx", "ilbd_cluster_sent_messages_total", "", 0, NULL },
	{ "cluster", "rx_reject", "ilbd_cluster_rejected_messages_total", "",
	    0, NULL },
	{ "cluster", "active_members", "ilbd_cluster_active_members", "", 0,
	    NULL },
	{ "capture", "drops", "ilbd_capture_dropped_packets_total", "", 0,
	    NULL },
	{ "xdp", "drops", "ilbd_xdp_dropped_packets_total", "", 0, NULL },
	{ "xdp", "nonip", "ilbd_xdp_nonip_frames_total", "", 0, NULL },
	{ "dsr", "sent", "ilbd_dsr_sent_packets_total", "", 0, NULL },
	{ "dsr", "bytes", "ilbd_dsr_sent_bytes_total", "", 0, NULL },
	{ "gre", "sent", "ilbd_gre_sent_packets_total", "", 0, NULL },
	{ "gre", "sent_bytes", "ilbd_gre_sent_bytes_total", "", 0, NULL },
	{ "gre", "received", "ilbd_gre_received_packets_total", "", 0, NULL },
	{ "gre", "received_bytes", "ilbd_gre_received_bytes_total", "", 0,
	    NULL },
	{ "peer", "sent", "ilbd_peer_sent_messages_total", "", 0, NULL },
	{ "peer", "bytes_out", "ilbd_peer_sent_bytes_total", "", 0, NULL },
	{ "peer", "received", "ilbd_peer_received_messages_total", "", 0,
	    NULL },
	{ "peer", "bytes_in", "ilbd_peer_received_bytes_total", "", 0, NULL },
	{ "peer", "rejected", NULL, "", 0, NULL },
	{ "peer", "rejected_decode", PREJ, "reason=\"decode\"", 0, PREJ_H },
	{ "peer", "rejected_auth", PREJ, "reason=\"auth\"", 0, PREJ_H },
	{ "peer", "rejected_replay", PREJ, "reason=\"replay\"", 0, PREJ_H },
	{ "peer", "rejected_size", PREJ, "reason=\"size\"", 0, PREJ_H },
	{ "repl", "mc_sent", "ilbd_repl_multicast_sent_messages_total", "", 0,
	    NULL },
	{ "repl", "mc_bytes", "ilbd_repl_multicast_sent_bytes_total", "", 0,
	    NULL },
	{ "repl", "tcp_sent", "ilbd_repl_reliable_sent_messages_total", "", 0,
	    NULL },
	{ "repl", "tcp_bytes", "ilbd_repl_reliable_sent_bytes_total", "", 0,
	    NULL },
	{ "repl", "new_sent", RSENT, "type=\"new\"", 0, RSENT_H },
	{ "repl", "backup_sent", RSENT, "type=\"backup\"", 0, RSENT_H },
	{ "repl", "joiner_sent", RSENT, "type=\"joiner\"", 0, RSENT_H },
	{ "repl", "end_sent", RSENT, "type=\"end\"", 0, RSENT_H },
	{ "repl", "refresh_sent", RSENT, "type=\"refresh\"", 0, RSENT_H },
	{ "repl", "xfer_sent", RSENT, "type=\"transfer\"", 0, RSENT_H },
	{ "repl", "done_sent", RSENT, "type=\"done\"", 0, RSENT_H },
	{ "repl", "end_rel_sent", RSENT, "type=\"end_reliable\"", 0, RSENT_H },
	{ "repl", "refresh_rel_sent", RSENT, "type=\"refresh_reliable\"", 0,
	    RSENT_H },
	{ "repl", "recon_sent", RSENT, "type=\"reconcile\"", 0, RSENT_H },
	{ "repl", "new_rx", RRX, "type=\"new\"", 0, RRX_H },
	{ "repl", "end_rx", RRX, "type=\"end\"", 0, RRX_H },
	{ "repl", "refresh_rx", RRX, "type=\"refresh\"", 0, RRX_H },
	{ "health", "checks", "ilbd_health_checks_total", "", 0, NULL },
	{ "health", "failures", "ilbd_health_check_failures_total", "", 0,
	    NULL },
	{ "health", "timeouts", "ilbd_health_check_timeouts_total", "", 0,
	    NULL },
	{ "health", "errors", "ilbd_health_check_errors_total", "", 0, NULL },
	{ "health", "ups", HTRANS, "to=\"up\"", 0, HTRANS_H },
	{ "health", "downs", HTRANS, "to=\"down\"", 0, HTRANS_H },
	{ "admin", "admin_commands", "ilbd_admin_commands_total", "", 0,
	    NULL },
	{ "admin", "admin_sent", "ilbd_admin_sent_messages_total", "", 0,
	    NULL },
	{ "admin", "admin_records_in", "ilbd_admin_records_received_total",
	    "", 0, NULL },
	{ "admin", "admin_applied", AREC, "result=\"applied\"", 0, AREC_H },
	{ "admin", "admin_stale", AREC, "result=\"stale\"", 0, AREC_H },
	{ "admin", "admin_unknown", AREC, "result=\"unknown\"", 0, AREC_H },
	{ "admin", "admin_full", "ilbd_admin_table_full_total", "", 0, NULL },
	{ "admin", "admin_save_errors", "ilbd_admin_save_errors_total", "", 0,
	    NULL },
	{ "control", "accepted", "ilbd_control_clients_accepted_total", "", 0,
	    NULL },
	{ "control", "requests", "ilbd_control_requests_total", "", 0, NULL },
	{ "control", "errors", "ilbd_control_request_errors_total", "", 0,
	    NULL },
	{ "control", "malformed", CCLOSE, "reason=\"malformed\"", 0,
	    CCLOSE_H },
	{ "control", "oversized", CCLOSE, "reason=\"oversized\"", 0,
	    CCLOSE_H },
	{ "control", "timeouts", CCLOSE, "reason=\"timeout\"", 0, CCLOSE_H },
	{ "control", "refused", "ilbd_control_clients_refused_total", "", 0,
	    NULL },
	{ "control", "accept_errors", "ilbd_control_accept_errors_total", "",
	    0, NULL },
	{ "member", "last_heard_ms", "ilbd_member_last_heard_seconds", "",
	    1000, NULL },
	{ "process", "start_time_seconds", "process_start_time_seconds", "",
	    0, NULL },
	{ "process", "cpu_us", "process_cpu_seconds_total", "", 1000000,
	    NULL },
	{ "process", "resident_memory_bytes", "process_resident_memory_bytes",
	    "", 0, NULL },
	{ "process", "virtual_memory_bytes", "process_virtual_memory_bytes",
	    "", 0, NULL },
	{ "process", "open_fds", "process_open_fds", "", 0, NULL },
	{ "process", "max_fds", "process_max_fds", "", 0, NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL }
};

const struct metrics_map *
metrics_map_find(const char *sub, const char *name)
{
	const struct metrics_map	*m;

	for (m = metrics_map; m->sub != NULL; m++)
		if (strcmp(m->sub, sub) == 0 && strcmp(m->name, name) == 0)
			return (m);
	return (NULL);
}

static void
metrics_put(dp_counter_cb cb, void *arg, const char *sub, const char *name,
    const char *help, enum dp_metric_type type, const char *labels,
    uint64_t v)
{
	struct dp_counter	c;

	c.sub = sub;
	c.name = name;
	c.help = help;
	c.type = type;
	c.labels = labels;
	c.value = v;
	cb(arg, &c);
}

/* The number in /proc/self/statm's field i (pages), or 0. */
static uint64_t
metrics_statm(int i)
{
	unsigned long long	v[2] = { 0, 0 };
	FILE			*f;

	if ((f = fopen("/proc/self/statm", "re")) == NULL)
		return (0);
	if (fscanf(f, "%llu %llu", &v[0], &v[1]) != 2)
		v[0] = v[1] = 0;
	fclose(f);
	return ((uint64_t)v[i] * (uint64_t)sysconf(_SC_PAGESIZE));
}

static uint64_t
metrics_open_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	uint64_t	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (0);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return (n > 0 ? n - 1 : 0);	/* less opendir's own */
}

void
metrics_process_walk(uint64_t start, dp_counter_cb cb, void *arg)
{
	struct rusage	ru;
	struct rlimit	rl;
	uint64_t	us = 0;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		us = (uint64_t)ru.ru_utime.tv_sec * 1000000 +
		    (uint64_t)ru.ru_utime.tv_usec +
		    (uint64_t)ru.ru_stime.tv_sec * 1000000 +
		    (uint64_t)ru.ru_stime.tv_usec;
	metrics_put(cb, arg, "process", "start_time_seconds", "start time of "
	    "the process since unix epoch in seconds", DP_GAUGE, "", start);
	metrics_put(cb, arg, "process", "cpu_us", "total user and system CPU "
	    "time spent in seconds", DP_COUNTER, "", us);
	metrics_put(cb, arg, "process", "resident_memory_bytes", "resident "
	    "memory size in bytes", DP_GAUGE, "", metrics_statm(1));
	metrics_put(cb, arg, "process", "virtual_memory_bytes", "virtual "
	    "memory size in bytes", DP_GAUGE, "", metrics_statm(0));
	metrics_put(cb, arg, "process", "open_fds", "number of open file "
	    "descriptors", DP_GAUGE, "", metrics_open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		metrics_put(cb, arg, "process", "max_fds", "maximum number of "
		    "open file descriptors", DP_GAUGE, "",
		    (uint64_t)rl.rlim_cur);
}

void
metrics_labels_free(struct metrics_labels *l)
{
	unsigned int	i;

	for (i = 0; i < l->nserver; i++)
		free(l->server[i]);
	for (i = 0; l->service != NULL && i < l->nsvc; i++)
		free(l->service[i]);
	free(l->server);
	free(l->service);
	free(l->first);
	free(l->nsrv);
	l->server = l->service = NULL;
	l->first = l->nsrv = NULL;
	l->nserver = l->nsvc = 0;
	l->lb = NULL;
}

/* Whether lb's services are still those the server labels were built for. */
static int
metrics_labels_fresh(const struct metrics_labels *l, const struct lb *lb)
{
	unsigned int	i;

	if (l->lb != lb || l->reloads != lb->stats.reloads ||
	    l->nsvc != lb->nsvc)
		return (0);
	for (i = 0; i < lb->nsvc; i++)
		if (l->nsrv[i] != lb->svc[i].nsrv)
			return (0);
	return (1);
}

/* service="..",server=".." of every server, once per configuration. */
static int
metrics_labels_build(struct metrics_labels *l, const struct lb *lb)
{
	char		a[ILB_ADDRSTRLEN];
	unsigned int	i, j, n = 0;

	if (metrics_labels_fresh(l, lb))
		return (0);
	metrics_labels_free(l);
	for (i = 0; i < lb->nsvc; i++)
		n += lb->svc[i].nsrv;
	if ((l->first = calloc(lb->nsvc + 1, sizeof(*l->first))) == NULL ||
	    (l->nsrv = calloc(lb->nsvc + 1, sizeof(*l->nsrv))) == NULL ||
	    (l->service = calloc(lb->nsvc + 1, sizeof(*l->service))) ==
	    NULL || (l->server = calloc(n + 1, sizeof(*l->server))) == NULL)
		goto fail;
	for (i = 0; i < lb->nsvc; i++) {
		l->nsvc = i + 1;	/* service labels to free */
		if (asprintf(&l->service[i], "service=\"%s\"",
		    lb->svc[i].conf->name) == -1) {
			l->service[i] = NULL;
			goto fail;
		}
		l->first[i] = l->nserver;
		l->nsrv[i] = lb->svc[i].nsrv;
		for (j = 0; j < lb->svc[i].nsrv; j++) {
			if (asprintf(&l->server[l->nserver],
			    "service=\"%s\",server=\"%s\"",
			    lb->svc[i].conf->name, util_addr_fmt(
			    &lb->svc[i].srv[j].conf->addr, a, sizeof(a))) ==
			    -1) {
				l->server[l->nserver] = NULL;
				goto fail;
			}
			l->nserver++;
		}
	}
	l->nsvc = lb->nsvc;
	l->lb = lb;
	l->reloads = lb->stats.reloads;
	l->builds++;
	return (0);
fail:
	metrics_labels_free(l);
	return (-1);
}

/* What this ILB forwarded to a server or service, and its connections. */
static void
metrics_traffic(dp_counter_cb cb, void *arg, const char *sub,
    const char *lab, const struct lb_traffic *t)
{
	metrics_put(cb, arg, sub, "packets", "packets this node forwarded "
	    "to the server(s)", DP_COUNTER, lab, t->packets);
	metrics_put(cb, arg, sub, "bytes", "bytes (IP length) this node "
	    "forwarded to the server(s)", DP_COUNTER, lab, t->bytes);
	metrics_put(cb, arg, sub, "connections", "new connections this node "
	    "assigned to the server(s) as their owner", DP_COUNTER, lab,
	    t->conns);
}

/*
 * Each live server: connections, eligibility, weight, drain, health,
 * traffic; then each live service's traffic.
 */
void
metrics_servers_walk(struct metrics_labels *l, const struct lb *lb,
    dp_counter_cb cb, void *arg)
{
	const struct lb_server	*v;
	const char		*lab;
	unsigned int		 i, j;

	if (metrics_labels_build(l, lb) == -1)
		return;
	for (i = 0; i < lb->nsvc; i++)
		if (lb_service_live(lb, i))
			metrics_traffic(cb, arg, "service", l->service[i],
			    &lb->svc[i].traffic);
	for (i = 0; i < lb->nsvc; i++) {
		for (j = 0; j < lb->svc[i].nsrv; j++) {
			if (!lb_server_live(lb, i, j))
				continue;
			v = &lb->svc[i].srv[j];
			lab = l->server[l->first[i] + j];
			metrics_put(cb, arg, "server", "active_connections",
			    "connections this node owns on the server",
			    DP_GAUGE, lab, v->sched->active);
			metrics_put(cb, arg, "server", "up", "1 if the server "
			    "takes new connections (healthy, not drained)",
			    DP_GAUGE, lab, lb_server_eligible(v));
			metrics_put(cb, arg, "server", "weight",
			    "current weight", DP_GAUGE, lab, v->sched->weight);
			metrics_put(cb, arg, "server", "drained", "1 if the "
			    "server is drained (ilbctl server drain)",
			    DP_GAUGE, lab, v->sched->drained);
			metrics_put(cb, arg, "server", "health_up", "1 if the "
			    "server's health checks pass", DP_GAUGE, lab,
			    v->sched->up);
			metrics_put(cb, arg, "server", "health_last_error",
			    "errno of the check that took the server down, 0 "
			    "while it is up", DP_GAUGE, lab,
			    (uint64_t)(v->last_error > 0 ? v->last_error : 0));
			metrics_traffic(cb, arg, "server", lab, &v->traffic);
		}
	}
}

/* The cluster-wide drain and weight counters, if there is a cluster. */
void
metrics_admin_walk(const struct admin *a, dp_counter_cb cb, void *arg)
{
	struct counter_src	src = { "admin", admin_counters, NULL };

	if (a == NULL)
		return;
	src.obj = &a->stats;
	counter_walk(&src, 1, cb, arg);
}

struct metrics_members {
	struct metrics_labels	*l;
	dp_counter_cb		 cb;
	void			*arg;
};

static void
metrics_member(void *arg, uint16_t slot, const struct cluster_member *m,
    uint64_t age_ms)
{
	struct metrics_members	*mm = arg;
	struct metrics_labels	*l = mm->l;

	if (slot >= CLUSTER_MEMBERS_MAX)
		return;
	if (strcmp(l->member_id[slot], m->id_text) != 0 ||
	    l->member[slot][0] == '\0') {
		util_strlcpy(l->member_id[slot], m->id_text,
		    sizeof(l->member_id[slot]));
		snprintf(l->member[slot], sizeof(l->member[slot]),
		    "member=\"%s\"", m->id_text);
	}
	metrics_put(mm->cb, mm->arg, "member", "active", "1 if the member is "
	    "alive and active", DP_GAUGE, l->member[slot],
	    m->alive && m->state == MSG_S_ACTIVE);
	metrics_put(mm->cb, mm->arg, "member", "last_heard_ms", "seconds since "
	    "the member was last heard from (0: this node)", DP_GAUGE,
	    l->member[slot], m->self ? 0 : age_ms);
}

/* file="..",sha256=".." of the running configuration, built on change. */
static const char *
metrics_conf_labels(struct metrics_labels *l, const char *path,
    const char *sha)
{
	if (l->conf[0] == '\0' || strcmp(path, l->conf_path) != 0 ||
	    strcmp(sha, l->conf_sha) != 0) {
		util_strlcpy(l->conf_path, path, sizeof(l->conf_path));
		util_strlcpy(l->conf_sha, sha, sizeof(l->conf_sha));
		snprintf(l->conf, sizeof(l->conf), "file=\"%s\",sha256=\"%s\"",
		    path, sha);
	}
	return (l->conf);
}

void
metrics_daemon_walk(struct metrics_labels *l, struct daemon *d,
    dp_counter_cb cb, void *arg)
{
	const struct daemon_info	*di = daemon_info(d);
	const struct ilbd_conf		*conf = daemon_conf(d);
	struct metrics_members		 mm = { l, cb, arg };

	metrics_process_walk((uint64_t)di->start_time, cb, arg);
	metrics_put(cb, arg, "config", "info", "the running configuration "
	    "file and its SHA-256 (as loaded), as labels", DP_GAUGE,
	    metrics_conf_labels(l, conf->path, di->conf_sha256), 1);
	metrics_put(cb, arg, "config", "last_reload_successful", "1 if the "
	    "last reload (or the start) succeeded", DP_GAUGE, "",
	    (uint64_t)di->reload_ok);
	metrics_put(cb, arg, "config", "last_reload_timestamp_seconds",
	    "time of the last reload attempt (or of the start) since unix "
	    "epoch in seconds", DP_GAUGE, "", (uint64_t)(di->reload_time != 0 ?
	    di->reload_time : di->start_time));
	metrics_put(cb, arg, "config", "reloads", "reloads tried", DP_COUNTER,
	    "", di->reloads);
	metrics_put(cb, arg, "config", "reload_failures", "reloads that "
	    "failed (the running configuration kept)", DP_COUNTER, "",
	    di->reload_failures);
	metrics_put(cb, arg, "table", "capacity_ltoc", "entries the table "
	    "can hold (tables.ltoc_size, tables.cache_size)", DP_GAUGE, "",
	    conf->tables.ltoc_size);
	metrics_put(cb, arg, "table", "capacity_cache", "entries the table "
	    "can hold (tables.ltoc_size, tables.cache_size)", DP_GAUGE, "",
	    conf->tables.cache_size);
	if (daemon_cluster(d) != NULL)
		cluster_foreach_member(daemon_cluster(d), metrics_member, &mm);
	metrics_servers_walk(l, daemon_lb(d), cb, arg);
	metrics_admin_walk(daemon_lb(d)->admin, cb, arg);
}
