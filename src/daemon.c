/* daemon.c: the daemon's parts, their lifetimes, reload, leave, counters. */
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "admin.h"
#include "announce.h"
#include "capture.h"
#include "cluster.h"
#include "daemon.h"
#include "dp.h"
#include "fwd.h"
#include "gre.h"
#include "icmp.h"
#include "lb.h"
#include "log.h"
#include "neigh.h"
#include "peer.h"
#include "repl.h"
#include "tun.h"
#include "util.h"
#include "worker.h"
#ifdef HAVE_XDP
#include "xdp.h"
#endif

#define DAEMON_TICK_MS		100	/* table expiry and record drain */
#define DAEMON_EXPIRE_BUDGET	20000	/* entries expired per tick at most */
#define DAEMON_STATS_LINE	16384

/*
 * Every part, opened and closed here; the per-packet path (dp) moves
 * packets between them.
 */
struct daemon {
	struct event_base	*base;
	const struct ilbd_conf	*conf;
	struct lb		 lb;
	int			 lb_ready;
	struct cluster		*cluster;
	struct repl		*repl;
	struct tun		*tun;
	struct capture		*cap;
	struct xdp_input	*xdp;		/* input mode xdp */
	struct workers		*workers;	/* input.workers > 1 */
	struct tun		*tunq[WORKERS_MAX]; /* the device's other
						   queues; tun is the first */
	unsigned int		 ntunq;
	struct capture		*capq[WORKERS_MAX]; /* the fanout group's
						   other sockets; cap first */
	unsigned int		 ncapq;
	struct capture_stats	 cap_sum;	/* every socket's, for export */
	struct fwd		*wfwd[WORKERS_MAX]; /* each worker's dsr socket */
	struct tun_stats	 tun_sum;	/* every queue's, for export */
	struct workers_stats	 workers_sum;
	struct fwd		*fwd;		/* NULL without a dsr service */
	struct neigh		*neigh;		/* likewise */
	struct gre		*gre;
	struct icmp_tx		*icmp;		/* "too big" to clients */
	struct event		*ev_tick;
	struct dp		 dp;		/* the per-packet path */
	struct announce		*announce;	/* NULL: announce.table 0 */
	void			(*leave_done)(void *);
	void			*leave_arg;
	struct daemon_info	 info;		/* show info, metrics */
	const struct health_stats  *health_stats;	/* daemon_set_stats() */
	const struct control_stats *control_stats;
};

/*
 * The largest inner packet GRE takes on node.interface: the MTU that
 * dp_too_big() tells clients and, in tun mode, the device's MTU
 * (tun_set_mtu()). At start and on each reload (GRE servers may change).
 */
static void
daemon_fit_mtu(struct daemon *d, const struct ilbd_conf *conf)
{
	unsigned int	over = gre_overhead(conf);
	int		ifmtu = util_if_mtu(conf->node.interface);

	if (ifmtu <= 0) {
		log_warn("%s: mtu unknown; packets too big to hand off are "
		    "dropped (too_big) and clients told of %u",
		    conf->node.interface, GRE_INNER_MTU_MIN);
		d->dp.gre_mtu = GRE_INNER_MTU_MIN;
		return;
	}
	d->dp.gre_mtu = gre_inner_mtu((unsigned int)ifmtu, over);
	if (d->tun != NULL && tun_set_mtu(d->tun, d->dp.gre_mtu) == 1)
		log_info("tun device %s: mtu %u (%s's less %u for GRE)",
		    tun_name(d->tun), d->dp.gre_mtu, conf->node.interface,
		    over);
}

/* The active membership changed: rank with the new member list. */
static void
daemon_on_members(void *arg)
{
	struct daemon		*d = arg;
	struct member_id	 ids[LB_MEMBERS_MAX];
	struct ilb_addr		 addrs[LB_MEMBERS_MAX];
	uint16_t		 slots[LB_MEMBERS_MAX];
	size_t			 n, self;

	if (d->cluster == NULL || !d->lb_ready)
		return;
	if (d->repl != NULL) {
		repl_members_changed(d->repl);
		return;
	}
	n = cluster_active(d->cluster, ids, slots, addrs, LB_MEMBERS_MAX,
	    &self);
	if (lb_set_members(&d->lb, ids, slots, n, self) == -1)
		log_warnx("membership of %zu members not usable", n);
	else
		log_info("membership: %zu active member%s", n,
		    n == 1 ? "" : "s");
}

static void
daemon_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon		*d = arg;

	(void)fd;
	(void)what;
	lb_tick(&d->lb, util_now_ms(), DAEMON_EXPIRE_BUDGET);
	dp_tick(&d->dp, util_now_ms());
	repl_flush(d->repl);
	announce_set_active(d->announce,
	    repl_phase(d->repl) == REPL_SM_ACTIVE);
}

/*
 * Follow a DSR server's neighbour entry, and ask the kernel to resolve it
 * now rather than on the first SYN, which would be dropped ('no_mac').
 */
static void
daemon_watch_server(struct daemon *d, const struct ilb_addr *addr)
{
	uint8_t	mac[6];

	if (neigh_watch(d->neigh, addr) == -1) {
		log_warn("cannot watch the neighbour entry of a server");
		return;
	}
	(void)neigh_lookup(d->neigh, addr, mac);
}

/* Watch every DSR server of conf (at start and on each reload). */
static void
daemon_watch_servers(struct daemon *d, const struct ilbd_conf *conf)
{
	const struct service_conf	*svc;
	unsigned int			 i, j;

	for (i = 0; i < conf->nservices; i++) {
		svc = &conf->services[i];
		if (svc->forward != FORWARD_DSR)
			continue;
		for (j = 0; j < svc->nservers; j++)
			daemon_watch_server(d, &svc->servers[j].addr);
	}
}

/* Watch every DSR server's neighbour entry so its MAC is ready. */
/*
 * The GRE key of handoffs, from the cluster key; the next key's is
 * accepted too (key rotation, cluster.key_file_next).
 */
static void
daemon_gre_keys(struct daemon *d, const struct ilbd_conf *conf)
{
	d->dp.gre_key = gre_cluster_key(conf->cluster.authenticate ?
	    conf->cluster.key : NULL, conf);
	d->dp.has_gre_key_next = conf->cluster.authenticate &&
	    conf->cluster.has_key_next;
	d->dp.gre_key_next = d->dp.has_gre_key_next ?
	    gre_cluster_key(conf->cluster.key_next, conf) : 0;
}

static int
daemon_open_dsr(struct daemon *d, char **cause)
{
	const struct ilbd_conf	*conf = d->conf;
	unsigned int		 i, ndsr = 0;

	for (i = 0; i < conf->nservices; i++)
		if (conf->services[i].forward == FORWARD_DSR)
			ndsr++;
	if (ndsr == 0)
		return (0);
	if ((d->fwd = fwd_open(conf->node.interface, cause)) == NULL)
		return (-1);
	if ((d->neigh = neigh_open(d->base, conf->node.interface,
	    cause)) == NULL)
		return (-1);
	daemon_watch_servers(d, conf);
	return (0);
}

/*
 * input.workers, 0 resolved: one per CPU the daemon may run on (1 if that
 * cannot be known) in mode tun, at most WORKERS_MAX; in mode xdp at most
 * one per queue.
 */
static unsigned int
daemon_workers(const struct ilbd_conf *conf)
{
	unsigned int	n;

	/*
	 * 0 in modes pcap and xdp is 1: their one thread reads a shared
	 * ring in batches, and on the build VM two workers cost 2.5-3 times
	 * the CPU per packet for 0.85-1.16 times the packets (bench/README,
	 * "Input workers"); with tun they gave 1.4-1.9 times the packets.
	 */
	if (conf->input.workers == 0 && conf->input.mode != INPUT_TUN)
		return (1);
	n = conf->input.workers > 0 ? conf->input.workers : workers_cpus();
#ifdef HAVE_XDP
	/* a worker reads one queue or more: no more workers than queues */
	if (conf->input.mode == INPUT_XDP && n > xdp_queues(conf))
		n = xdp_queues(conf);
#endif
	return (n);
}

/*
 * Mode tun with n > 1 workers: the device is multi-queue, worker i reads
 * queue i on its own loop and hands the packets to dp_on_input() on the
 * daemon's loop (worker.h). The threads start at the end of
 * daemon_open().
 */
static int
daemon_open_tun_workers(struct daemon *d, unsigned int n, char **cause)
{
	const struct ilbd_conf	*conf = d->conf;
	struct workers		*ws;
	unsigned int		 i;

	if ((ws = d->workers = workers_open(d->base, n, dp_on_input, &d->dp,
	    cause)) == NULL)
		return (-1);
	if ((d->tun = tun_open_mq(workers_base(ws, 0), conf->input.device,
	    workers_input, workers_arg(ws, 0), cause)) == NULL)
		return (-1);
	for (i = 1; i < n; i++) {
		if ((d->tunq[d->ntunq] = tun_open_queue(workers_base(ws, i),
		    d->tun, workers_input, workers_arg(ws, i), cause)) == NULL)
			return (-1);
		d->ntunq++;
	}
	log_info("input: %u workers, one per queue of %s", n,
	    tun_name(d->tun));
	return (tun_route_vips(d->tun, conf, cause));
}

/*
 * Mode pcap with n > 1 workers: worker i reads a capture socket of its own
 * on its loop, the n sockets in one PACKET_FANOUT_HASH group, so that the
 * kernel spreads the flows over them (each flow to one worker, in order).
 */
static int
daemon_open_capture_workers(struct daemon *d, unsigned int n,
    const char *filter, char **cause)
{
	const struct ilbd_conf	*conf = d->conf;
	struct workers		*ws;
	unsigned int		 i, group = 0;

	if ((ws = d->workers = workers_open(d->base, n, dp_on_input, &d->dp,
	    cause)) == NULL)
		return (-1);
	if ((d->cap = capture_open_fanout(workers_base(ws, 0),
	    conf->node.interface, filter, workers_input, workers_arg(ws, 0),
	    &group, n, cause)) == NULL)
		return (-1);
	for (i = 1; i < n; i++) {
		if ((d->capq[d->ncapq] = capture_open_fanout(workers_base(ws,
		    i), conf->node.interface, filter, workers_input,
		    workers_arg(ws, i), &group, n, cause)) == NULL)
			return (-1);
		d->ncapq++;
	}
	log_info("input: %u workers, one capture socket each on %s (fanout "
	    "group %u)", n, conf->node.interface, group);
	return (0);
}

#ifdef HAVE_XDP
/*
 * Mode xdp with n > 1 workers (at most one per queue): the AF_XDP sockets
 * spread over the workers, queue i read by worker i % n.
 */
static int
daemon_open_xdp_workers(struct daemon *d, unsigned int n, char **cause)
{
	struct event_base	*bases[WORKERS_MAX];
	void			*args[WORKERS_MAX];
	struct workers		*ws;
	unsigned int		 i;

	if ((ws = d->workers = workers_open(d->base, n, dp_on_input, &d->dp,
	    cause)) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		bases[i] = workers_base(ws, i);
		args[i] = workers_arg(ws, i);
	}
	if ((d->xdp = xdp_open_spread(bases, args, n, d->conf, workers_input,
	    cause)) == NULL)
		return (-1);
	log_info("input: %u workers, the AF_XDP sockets of %u queues of %s "
	    "spread over them", n, xdp_queues(d->conf),
	    d->conf->node.interface);
	return (0);
}
#endif

/*
 * Replace the filter of every capture socket (reload). With workers, each
 * socket is read by its worker's thread, which libpcap does not expect to
 * share: the workers stop (the kernel keeps what arrives meanwhile in
 * each socket's ring) and start again.
 */
static void
daemon_capture_filter(struct daemon *d, const struct ilbd_conf *conf)
{
	char		*filter, *cause = NULL;
	unsigned int	 i;

	if (d->cap == NULL)
		return;
	if ((filter = capture_filter(conf)) == NULL) {
		log_warnx("reload: cannot build the capture filter");
		return;
	}
	workers_stop(d->workers);
	for (i = 0; i <= d->ncapq; i++) {
		if (capture_set_filter(i == 0 ? d->cap : d->capq[i - 1],
		    filter, &cause) == -1) {
			log_warnx("reload: capture filter: %s",
			    cause != NULL ? cause : "error");
			free(cause);
			cause = NULL;
		}
	}
	free(filter);
	if (d->workers != NULL && workers_start(d->workers, &cause) == -1) {
		log_warnx("reload: %s", cause != NULL ? cause : "input "
		    "workers do not start again");
		free(cause);
	}
}

/*
 * With workers and a dsr service, the workers send the frames to servers
 * too, each on a socket of its own: the daemon's loop only queues them
 * (fwd_flush() hands them to workers_tx()).
 */
static int
daemon_open_worker_tx(struct daemon *d, char **cause)
{
	unsigned int	i;

	if (d->workers == NULL || d->fwd == NULL)
		return (0);
	for (i = 0; i < workers_count(d->workers); i++) {
		if ((d->wfwd[i] = fwd_open(d->conf->node.interface,
		    cause)) == NULL ||
		    workers_set_tx(d->workers, i, d->wfwd[i], cause) == -1)
			return (-1);
	}
	fwd_set_sink(d->fwd, workers_tx, d->workers);
	return (0);
}

static int
daemon_open_input(struct daemon *d, char **cause)
{
	const struct ilbd_conf	*conf = d->conf;
	char			*filter;
	unsigned int		 n = daemon_workers(conf);
	int			 rc = 0;

	if (conf->input.mode == INPUT_TUN) {
		if (tun_check_forwarding(conf, cause) == -1)
			return (-1);
		if (n > 1)
			return (daemon_open_tun_workers(d, n, cause));
		if ((d->tun = tun_open(d->base, conf->input.device,
		    dp_on_input, &d->dp, cause)) == NULL)
			return (-1);
		return (tun_route_vips(d->tun, conf, cause));
	}
	if (conf->input.mode == INPUT_XDP) {
#ifdef HAVE_XDP
		if (n > 1)
			return (daemon_open_xdp_workers(d, n, cause));
		d->xdp = xdp_open(d->base, conf, dp_on_input, &d->dp, cause);
		return (d->xdp == NULL ? -1 : 0);
#else
		*cause = strdup("input mode xdp: ilbd was built without "
		    "AF_XDP");
		return (-1);
#endif
	}
	if ((filter = capture_filter(conf)) == NULL) {
		*cause = strdup("cannot build the capture filter");
		return (-1);
	}
	if (n > 1)
		rc = daemon_open_capture_workers(d, n, filter, cause);
	else if ((d->cap = capture_open(d->base, conf->node.interface, filter,
	    dp_on_input, &d->dp, cause)) == NULL)
		rc = -1;
	free(filter);
	return (rc);
}

/* The per-packet path's parts: fixed once they are open. */
static void
daemon_wire_dp(struct daemon *d)
{
	d->dp.lb = &d->lb;
	d->dp.cluster = d->cluster;
	d->dp.repl = d->repl;
	d->dp.gre = d->gre;
	d->dp.fwd = d->fwd;
	d->dp.neigh = d->neigh;
	d->dp.icmp = d->icmp;
}

/* --- show info and the process metrics: start, digest, reloads --- */

static void
daemon_info_digest(struct daemon *d, const struct ilbd_conf *conf)
{
	if (digest_file_sha256(conf->path, d->info.conf_sha256) == -1)
		log_warn("%s: cannot read it for its digest", conf->path);
}

static void
daemon_info_start(struct daemon *d)
{
	d->info.start_time = time(NULL);
	d->info.start_ms = util_now_ms();
	d->info.reload_ok = 1;
	daemon_info_digest(d, d->conf);
}

const struct daemon_info *
daemon_info(const struct daemon *d)
{
	return (&d->info);
}

void
daemon_note_reload(struct daemon *d, int ok, const char *result)
{
	d->info.reloads++;
	if (!ok)
		d->info.reload_failures++;
	d->info.reload_time = time(NULL);
	d->info.reload_ok = ok;
	util_strlcpy(d->info.reload_result, result != NULL ? result : "",
	    sizeof(d->info.reload_result));
}

struct daemon *
daemon_open(struct event_base *base, const struct ilbd_conf *conf,
    char **cause)
{
	struct daemon	*d;
	struct timeval	 tv = { 0, DAEMON_TICK_MS * 1000 };
	uint64_t	 seed;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		*cause = strdup("out of memory");
		return (NULL);
	}
	d->base = base;
	d->conf = conf;
	daemon_info_start(d);
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)d;
	if (lb_init(&d->lb, conf, seed) == -1) {
		util_cause(cause, "cannot set up the tables (%u + %u "
		    "entries): %s", conf->tables.ltoc_size,
		    conf->tables.cache_size, strerror(errno));
		goto fail;
	}
	d->lb_ready = 1;
	if (dp_init(&d->dp, base, cause) == -1)
		goto fail;
	daemon_gre_keys(d, conf);
	if ((d->cluster = cluster_open(base, conf, daemon_on_members, d,
	    cause)) == NULL)
		goto fail;
	daemon_on_members(d);
	if ((d->repl = repl_open(base, conf, &d->lb, d->cluster,
	    cause)) == NULL)
		goto fail;
	if ((d->gre = gre_open(base, conf->node.has_address ?
	    &conf->node.address : NULL, dp_on_gre, &d->dp, cause)) == NULL)
		goto fail;
	if (daemon_open_dsr(d, cause) == -1)
		goto fail;
	if ((d->icmp = icmp_tx_open()) == NULL) {
		*cause = strdup("out of memory");
		goto fail;
	}
	icmp_echo_rate(d->icmp, conf->icmp.echo_rate, util_now_ms());
	d->ev_tick = event_new(base, -1, EV_PERSIST, daemon_on_tick, d);
	if (d->ev_tick == NULL || event_add(d->ev_tick, &tv) == -1) {
		*cause = strdup("cannot create the data path events");
		goto fail;
	}
	daemon_wire_dp(d);
	if (daemon_open_input(d, cause) == -1 ||
	    daemon_open_worker_tx(d, cause) == -1)
		goto fail;
	d->announce = announce_open(base, conf, d->tun != NULL ?
	    tun_ifindex(d->tun) : 0, cause);
	if (d->announce == NULL && *cause != NULL)
		goto fail;
	daemon_fit_mtu(d, conf);
	if (d->workers != NULL && workers_start(d->workers, cause) == -1)
		goto fail;
	return (d);
fail:
	daemon_close(d);
	return (NULL);
}

void
daemon_close(struct daemon *d)
{
	unsigned int	i;

	if (d == NULL)
		return;
	announce_close(d->announce);
	if (d->fwd != NULL)
		fwd_set_sink(d->fwd, NULL, NULL);	/* the last flush */
	workers_stop(d->workers);	/* before their inputs close */
	for (i = 0; i < WORKERS_MAX; i++)
		if (d->wfwd[i] != NULL)
			fwd_close(d->wfwd[i]);
	while (d->ntunq > 0)
		tun_close(d->tunq[--d->ntunq]);
	if (d->tun != NULL)
		tun_close(d->tun);
	while (d->ncapq > 0)
		capture_close(d->capq[--d->ncapq]);
	if (d->cap != NULL)
		capture_close(d->cap);
#ifdef HAVE_XDP
	xdp_close(d->xdp);
#endif
	workers_close(d->workers);	/* their loops, after the inputs' events */
	if (d->ev_tick != NULL)
		event_free(d->ev_tick);
	dp_free(&d->dp);
	if (d->fwd != NULL) {
		fwd_flush(d->fwd);
		fwd_close(d->fwd);
	}
	if (d->neigh != NULL)
		neigh_close(d->neigh);
	if (d->gre != NULL)
		gre_close(d->gre);
	icmp_tx_close(d->icmp);
	if (d->repl != NULL)
		repl_close(d->repl);
	if (d->cluster != NULL)
		cluster_close(d->cluster);
	if (d->lb_ready)
		lb_free(&d->lb);
	free(d);
}

static void
daemon_emit(dp_counter_cb cb, void *arg, const char *sub, const char *name,
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

/* Each server's gauges. */
static void
daemon_each_gauges(struct daemon *d, dp_counter_cb cb, void *arg)
{
	const struct lb_server	*v;
	char			 labels[256], a[ILB_ADDRSTRLEN];
	unsigned int		 i, j;

	for (i = 0; i < d->lb.nsvc; i++) {
		for (j = 0; j < d->lb.svc[i].nsrv; j++) {
			if (!lb_server_live(&d->lb, i, j))
				continue;
			v = &d->lb.svc[i].srv[j];
			snprintf(labels, sizeof(labels),
			    "service=\"%s\",server=\"%s\"",
			    d->lb.svc[i].conf->name, util_addr_fmt(
			    &v->conf->addr, a, sizeof(a)));
			daemon_emit(cb, arg, "server", "active_connections",
			    "connections this node owns on the server",
			    DP_GAUGE, labels, v->sched->active);
			daemon_emit(cb, arg, "server", "up", "1 if the server "
			    "takes new connections (healthy, not drained)",
			    DP_GAUGE, labels, lb_server_eligible(v));
			daemon_emit(cb, arg, "server", "weight",
			    "current weight", DP_GAUGE, labels,
			    v->sched->weight);
		}
	}
}

/* Each input worker's packets: how evenly the queues spread the load. */
static void
daemon_each_worker(struct daemon *d, dp_counter_cb cb, void *arg)
{
	struct workers_stats	ws;
	char			labels[32];
	unsigned int		i;

	for (i = 0; i < workers_count(d->workers); i++) {
		workers_stats_one(d->workers, i, &ws);
		snprintf(labels, sizeof(labels), "worker=\"%u\"", i);
		daemon_emit(cb, arg, "input", "worker_queue_packets",
		    "packets this input worker put on its ring (it reads one "
		    "TUN queue, one capture socket or its AF_XDP queues)",
		    DP_COUNTER, labels, ws.packets);
	}
}

/* Each part's table over its stats, in the stats line's order. */
void
daemon_counter_walk(const struct daemon_counter_parts *p, dp_counter_cb cb,
    void *arg)
{
	const struct counter_src	src[] = {
		{ "lb", lb_counters, &p->lb->stats },
		{ "dp", dp_counters, p->dp },
		{ "cluster", cluster_counters, p->cluster },
		{ "cluster", cluster_io_counters, p->cluster },
		{ "input", tun_counters, p->tun },
		{ "input", workers_counters, p->workers },
		{ "capture", capture_counters, p->capture },
		{ "dsr", fwd_counters, p->fwd },
		{ "neigh", neigh_counters, p->neigh },
		{ "gre", gre_counters, p->gre },
		{ "icmp", icmp_tx_counters, p->icmp },
		{ "peer", peer_counters, p->peer },
		{ "repl", repl_counters, p->repl },
		{ "lb", lb_gauges, p->lb },
		{ "cluster", cluster_gauges, p->cluster },
		{ "health", health_counters, p->health },
		{ "control", control_counters, p->control },
#ifdef HAVE_XDP
		{ "xdp", xdp_counters, p->xdp },
#endif
	};

	counter_walk(src, sizeof(src) / sizeof(src[0]), cb, arg);
}

void
daemon_set_stats(struct daemon *d, const struct health_stats *h,
    const struct control_stats *c)
{
	d->health_stats = h;
	d->control_stats = c;
}

void
daemon_foreach_counter(struct daemon *d, dp_counter_cb cb, void *arg)
{
	struct daemon_counter_parts	p;
	struct counter_src		admin_src = { "admin", admin_counters,
					    NULL };

	daemon_counter_parts(d, &p);
	daemon_counter_walk(&p, cb, arg);
	if (d->lb.admin != NULL) {	/* the metrics have them on their own */
		admin_src.obj = &d->lb.admin->stats;
		counter_walk(&admin_src, 1, cb, arg);
	}
	daemon_each_gauges(d, cb, arg);
	daemon_each_worker(d, cb, arg);
}

void
daemon_counter_parts(struct daemon *d, struct daemon_counter_parts *p)
{
	unsigned int	i;

	memset(p, 0, sizeof(*p));
	p->lb = &d->lb;
	p->dp = &d->dp.stats;
	p->cluster = cluster_get_table(d->cluster);
	if (d->tun != NULL && d->workers == NULL)
		p->tun = tun_stats(d->tun);
	else if (d->tun != NULL) {
		/* the queues are read by the workers: sum them as they run */
		memset(&d->tun_sum, 0, sizeof(d->tun_sum));
		tun_stats_add(&d->tun_sum, d->tun);
		for (i = 0; i < d->ntunq; i++)
			tun_stats_add(&d->tun_sum, d->tunq[i]);
		p->tun = &d->tun_sum;
	}
	if (d->cap != NULL && d->workers == NULL)
		p->capture = capture_stats(d->cap);
	else if (d->cap != NULL) {
		memset(&d->cap_sum, 0, sizeof(d->cap_sum));
		capture_stats_add(&d->cap_sum, d->cap);
		for (i = 0; i < d->ncapq; i++)
			capture_stats_add(&d->cap_sum, d->capq[i]);
		p->capture = &d->cap_sum;
	}
	if (d->workers != NULL) {
		workers_stats(d->workers, &d->workers_sum);
		p->workers = &d->workers_sum;
	}
	if (d->fwd != NULL)
		p->fwd = fwd_stats(d->fwd);
	if (d->neigh != NULL)
		p->neigh = neigh_stats(d->neigh);
	p->gre = gre_stats(d->gre);
	if (d->icmp != NULL)
		p->icmp = icmp_tx_stats(d->icmp);
	p->peer = repl_peer_stats(d->repl);
	p->repl = repl_stats(d->repl);
	p->health = d->health_stats;
	p->control = d->control_stats;
#ifdef HAVE_XDP
	if (d->xdp != NULL)
		p->xdp = xdp_stats(d->xdp);
#endif
}

/* The stats line's key: lb and dp counters bare, others prefixed. */
void
daemon_counter_key(const struct dp_counter *c, char *buf, size_t len)
{
	size_t	n = strlen(c->sub);

	/* "admin_applied", not "admin_admin_applied" */
	if (strcmp(c->sub, "lb") == 0 || strcmp(c->sub, "dp") == 0 ||
	    (strncmp(c->name, c->sub, n) == 0 && c->name[n] == '_'))
		snprintf(buf, len, "%s", c->name);
	else
		snprintf(buf, len, "%s_%s", c->sub, c->name);
}

struct daemon_line {
	char	buf[DAEMON_STATS_LINE];
	size_t	off;
};

/* Append " key=value" (counters without labels) to the line. */
static void
daemon_line_put(void *arg, const struct dp_counter *c)
{
	struct daemon_line	*l = arg;
	char			 key[96];
	int			 n;

	if (c->labels[0] != '\0' || l->off >= sizeof(l->buf))
		return;
	daemon_counter_key(c, key, sizeof(key));
	n = snprintf(l->buf + l->off, sizeof(l->buf) - l->off, " %s=%llu",
	    key, (unsigned long long)c->value);
	if (n > 0)
		l->off += (size_t)n;
}

void
daemon_log_stats(struct daemon *d)
{
	struct daemon_line	l;

	l.off = (size_t)snprintf(l.buf, sizeof(l.buf), "stats:");
	daemon_foreach_counter(d, daemon_line_put, &l);
	log_info("%s", l.buf);
}

struct lb *
daemon_lb(struct daemon *d)
{
	return (&d->lb);
}

struct cluster *
daemon_cluster(struct daemon *d)
{
	return (d->cluster);
}

struct repl *
daemon_repl(struct daemon *d)
{
	return (d->repl);
}

const struct ilbd_conf *
daemon_conf(const struct daemon *d)
{
	return (d->conf);
}

void
daemon_sched_changed(struct daemon *d)
{
	unsigned int	i;

	for (i = 0; i < d->lb.nsvc; i++)
		sched_rebuild(&d->lb.svc[i].sched);
}

/*
 * Apply a reloaded configuration: services and servers through lb (which
 * keeps every connection), then the VIP routes or capture filter, the
 * servers' neighbour entries and the cluster's timers. Nothing changes
 * when it returns -1 with *cause set. On success newconf replaces the
 * running configuration here; the caller frees the old one.
 */
static int
daemon_reload_apply(struct daemon *d, const struct ilbd_conf *newconf,
    char *summary, size_t len, char **cause)
{
	struct lb_reload_summary	 sum;
	const char			*why;

	if ((why = cluster_reload_check(d->cluster, newconf)) != NULL)
		return (util_cause(cause, "%s cannot change at run time; "
		    "restart ilbd", why));
	/* The sockets and the program's mode are made once, at start. */
	if (d->conf->input.mode == INPUT_XDP &&
	    (newconf->input.xdp_mode != d->conf->input.xdp_mode ||
	    newconf->input.queues != d->conf->input.queues))
		return (util_cause(cause, "input.xdp_mode and input.queues "
		    "cannot change at run time; restart ilbd"));
	if (newconf->input.workers != d->conf->input.workers)
		return (util_cause(cause, "input.workers cannot change at run "
		    "time; restart ilbd"));
	if (lb_reload(&d->lb, newconf, util_now_ms(), &sum, cause) == -1)
		return (-1);
	lb_reload_summary_fmt(&sum, summary, len);
	d->conf = newconf;
	repl_set_conf(d->repl, newconf);
	(void)cluster_reload(d->cluster, newconf);
	if (d->tun != NULL && tun_route_vips(d->tun, newconf, cause) == -1) {
		log_warnx("reload: VIP routes: %s", *cause ? *cause : "error");
		free(*cause);
		*cause = NULL;
	}
	announce_reload(d->announce, newconf);
	daemon_gre_keys(d, newconf);
	if (d->icmp != NULL)
		icmp_echo_rate(d->icmp, newconf->icmp.echo_rate, util_now_ms());
	daemon_fit_mtu(d, newconf);
	daemon_capture_filter(d, newconf);
#ifdef HAVE_XDP
	if (d->xdp != NULL && xdp_set_vips(d->xdp, newconf, cause) == -1) {
		log_warnx("reload: %s", *cause ? *cause : "XDP VIP map");
		free(*cause);
		*cause = NULL;
	}
#endif
	if (d->neigh != NULL)
		daemon_watch_servers(d, newconf);
	daemon_sched_changed(d);
	return (0);
}

/* daemon_reload_apply(), its outcome and the new file's digest noted. */
int
daemon_reload(struct daemon *d, const struct ilbd_conf *newconf,
    char *summary, size_t len, char **cause)
{
	int	rv;

	summary[0] = '\0';
	rv = daemon_reload_apply(d, newconf, summary, len, cause);
	if (rv == 0)
		daemon_info_digest(d, newconf);
	daemon_note_reload(d, rv == 0, rv == 0 ? summary :
	    (*cause != NULL ? *cause : "error"));
	return (rv);
}

static void
daemon_leave_drained(void *arg)
{
	struct daemon	*d = arg;

	repl_leave(d->repl, d->leave_done, d->leave_arg);
}

/*
 * Graceful leave (SIGTERM): mark the announced routes leaving and serve
 * for announce.drain_ms, then hand the entries over, then call done.
 */
void
daemon_leave(struct daemon *d, void (*done)(void *), void *arg)
{
	d->leave_done = done;
	d->leave_arg = arg;
	d->info.leaving = 1;
	announce_leave(d->announce, daemon_leave_drained, d);
}
