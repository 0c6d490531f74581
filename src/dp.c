/* dp.c: the data path: packet input, the decision, packet output. */
#include <sys/random.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "announce.h"
#include "capture.h"
#include "cluster.h"
#include "dp.h"
#include "frag.h"
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

#define DP_TICK_MS		100	/* table expiry and record drain */
#define DP_EXPIRE_BUDGET	20000	/* entries expired per tick at most */
#define DP_STATS_LINE		16384

struct dp {
	struct event_base	*base;
	const struct ilbd_conf	*conf;
	struct lb		 lb;
	int			 lb_ready;
	struct cluster		*cluster;
	struct repl		*repl;
	struct tun		*tun;
	struct capture		*cap;
	struct fwd		*fwd;		/* NULL without a dsr service */
	struct neigh		*neigh;		/* likewise */
	struct gre		*gre;
	uint32_t		 gre_key;	/* cluster identifier */
	struct icmp_tx		*icmp;		/* "too big" to clients */
	unsigned int		 gre_mtu;	/* largest packet GRE takes */
	struct event		*ev_flush;	/* sends queued frames */
	int			 flush_pending;
	struct event		*ev_tick;
	struct frag		 frag;		/* later fragments */
	uint64_t		 frag_dropped;	/* frag.dropped, counted */
	struct dp_stats		 stats;
	struct announce		*announce;	/* NULL: announce.table 0 */
	void			(*leave_done)(void *);
	void			*leave_arg;
};

static const struct counter_desc dp_counters[] = {
#define DP_COUNTER_FIELD(name, help)					\
	COUNTER_FIELD(struct dp_stats, name, help)
	DP_STATS_FOREACH(DP_COUNTER_FIELD)
#undef DP_COUNTER_FIELD
	COUNTER_END
};

/* Frames queued during a read batch leave once the batch is done. */
static void
dp_flush_later(struct dp *dp)
{
	if (!dp->flush_pending) {
		dp->flush_pending = 1;
		event_active(dp->ev_flush, 0, 0);
	}
}

/*
 * Send the queued records, then the queued frames. Records first: a NEW
 * that leaves before the SYN it describes reaches the cache holders
 * before the client's next packets do, which they then forward
 * themselves instead of handing them off.
 */
static void
dp_flush(struct dp *dp)
{
	if (dp->repl != NULL)
		repl_flush_batch(dp->repl);
	if (dp->fwd != NULL)
		fwd_flush(dp->fwd);
}

static void
dp_on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct dp	*dp = arg;

	(void)fd;
	(void)what;
	dp->flush_pending = 0;
	dp_flush(dp);
}

/*
 * A packet too big for GRE with DF set: the kernel will not fragment it
 * and ilbd drops it, so, as a router would, tell the client the MTU that
 * fits (path MTU discovery). In tun mode the device's MTU makes the
 * kernel do this first (dp_fit_mtu()); this covers pcap mode.
 */
static void
dp_too_big(struct dp *dp, const uint8_t *pkt, size_t len)
{
	if (dp->icmp != NULL)
		(void)icmp_too_big(dp->icmp, pkt, len, dp->gre_mtu,
		    util_now_ms());
}

/*
 * The largest inner packet GRE takes on node.interface: the MTU that
 * dp_too_big() tells clients and, in tun mode, the device's MTU
 * (tun_set_mtu()). At start and on each reload (GRE servers may change).
 */
static void
dp_fit_mtu(struct dp *dp, const struct ilbd_conf *conf)
{
	unsigned int	over = gre_overhead(conf);
	int		ifmtu = util_if_mtu(conf->node.interface);

	if (ifmtu <= 0) {
		log_warn("%s: mtu unknown; packets too big to hand off are "
		    "dropped (too_big) and clients told of %u",
		    conf->node.interface, GRE_INNER_MTU_MIN);
		dp->gre_mtu = GRE_INNER_MTU_MIN;
		return;
	}
	dp->gre_mtu = gre_inner_mtu((unsigned int)ifmtu, over);
	if (dp->tun != NULL && tun_set_mtu(dp->tun, dp->gre_mtu) == 1)
		log_info("tun device %s: mtu %u (%s's less %u for GRE)",
		    tun_name(dp->tun), dp->gre_mtu, conf->node.interface, over);
}

/* Send a packet to the server the decision chose, by DSR or GRE. */
static void
dp_forward(struct dp *dp, const struct lb_action *act, const uint8_t *pkt,
    size_t len)
{
	uint8_t	mac[6];
	int	rc;

	if (act->svc->forward == FORWARD_GRE) {
		if ((rc = gre_send(dp->gre, &act->srv->addr, 0, 0, pkt,
		    len)) != 0) {
			dp->stats.gre_fwd_errors++;
			if (rc == GRE_TOO_BIG)
				dp_too_big(dp, pkt, len);
		}
		return;
	}
	if (neigh_lookup(dp->neigh, &act->srv->addr, mac) == -1) {
		dp->stats.no_mac++;
		return;
	}
	if (fwd_queue(dp->fwd, mac, pkt, len) == -1) {
		dp->stats.fwd_errors++;
		return;
	}
	dp_flush_later(dp);
}

/* claim 1: hand a packet of a connection we do not own to its owner. */
static void
dp_handoff(struct dp *dp, uint16_t slot, const uint8_t *pkt, size_t len)
{
	const struct ilb_addr	*addr;
	int			 rc;

	if ((addr = cluster_slot_addr(dp->cluster, slot)) == NULL) {
		dp->stats.handoff_no_addr++;
		return;
	}
	if ((rc = gre_send(dp->gre, addr, 1, dp->gre_key, pkt, len)) != 0) {
		dp->stats.handoff_errors++;
		if (rc == GRE_TOO_BIG)
			dp_too_big(dp, pkt, len);
	}
}

/* Held fragments dropped by the table (expired, evicted) into lb's count. */
static void
dp_frag_sync(struct dp *dp)
{
	uint64_t	n = dp->frag.dropped - dp->frag_dropped;

	dp->frag_dropped = dp->frag.dropped;
	dp->lb.stats.fragment += n;
	dp->lb.stats.drop += n;
}

/* Send a later fragment the way its first fragment went. */
static void
dp_frag_send(struct dp *dp, const struct frag_action *fa, const uint8_t *pkt,
    size_t len, int by_handoff)
{
	struct lb_action	act;

	if (fa->kind == FRAG_HANDOFF) {
		if (by_handoff) {	/* never handed on */
			dp->lb.stats.misrouted++;
			dp->lb.stats.drop++;
			return;
		}
		dp->lb.stats.frag_forwarded++;
		dp->lb.stats.handoff_out++;
		dp_handoff(dp, fa->member, pkt, len);
		return;
	}
	if (lb_action_to(&dp->lb, fa->service, fa->server, &act) == -1) {
		dp->lb.stats.no_server++;
		dp->lb.stats.drop++;
		return;
	}
	dp->lb.stats.frag_forwarded++;
	dp_forward(dp, &act, pkt, len);
}

/*
 * A later fragment of a TCP datagram: as its first fragment went, or held
 * until that one comes (it carries the ports: the decision needs them).
 */
static void
dp_frag_later(struct dp *dp, const struct pkt_info *pi, const uint8_t *pkt,
    size_t len, int by_handoff)
{
	struct frag_key		k;
	struct frag_action	fa;
	struct lb_action	act;
	int			rc;

	dp->lb.stats.rx++;
	if (by_handoff)
		dp->lb.stats.handoff_in++;
	frag_key_of(&k, pkt, pi->family, pi->proto, pi->frag_id);
	rc = frag_later(&dp->frag, &k, pkt, len, by_handoff, util_now_ms(),
	    &fa);
	dp_frag_sync(dp);
	if (rc == 1)
		dp_frag_send(dp, &fa, pkt, len, by_handoff);
	else if (rc == 0)
		dp->lb.stats.frag_held++;
	else {
		dp->lb.stats.rx--;	/* lb_refuse() counts it again */
		if (by_handoff)
			dp->lb.stats.handoff_in--;
		lb_refuse(&dp->lb, PKT_FRAGMENT, by_handoff, &act);
		log_trace("drop fragment (%zu bytes): cannot hold it", len);
	}
}

/* A first fragment was decided: remember how, send what waited for it. */
static void
dp_frag_first(struct dp *dp, const struct pkt_info *pi, const uint8_t *pkt,
    const struct lb_action *act)
{
	struct frag_key		 k;
	struct frag_action	 fa;
	struct frag_buf		*fb;
	int32_t			 chain, i;

	memset(&fa, 0, sizeof(fa));
	if (act->verdict == LB_FORWARD) {
		fa.kind = FRAG_FORWARD;
		fa.service = act->service;
		fa.server = act->server;
	} else {
		fa.kind = FRAG_HANDOFF;
		fa.member = act->member;
	}
	frag_key_of(&k, pkt, pi->family, pi->proto, pi->frag_id);
	chain = frag_first(&dp->frag, &k, &fa, util_now_ms());
	dp_frag_sync(dp);
	for (i = chain; (fb = frag_buf_get(&dp->frag, i)) != NULL; i = fb->next)
		dp_frag_send(dp, &fa, fb->data, fb->len, fb->by_handoff);
	frag_release(&dp->frag, chain);
}

static void
dp_packet(struct dp *dp, const uint8_t *pkt, size_t len, int by_handoff)
{
	struct pkt_info		pi;
	struct lb_action	act;
	int			r, v;

	if ((r = packet_parse(pkt, len, &pi)) == PKT_FRAGMENT &&
	    pi.proto == IPPROTO_TCP) {
		dp_frag_later(dp, &pi, pkt, len, by_handoff);
		return;
	}
	if (r != PKT_OK) {
		lb_refuse(&dp->lb, r, by_handoff, &act);
		log_debug("drop %s: %s (%zu bytes%s)", lb_drop_name(act.drop),
		    packet_reason_name(r), len, by_handoff ?
		    ", by handoff" : "");
		return;
	}
	/* An END that came before this SYN is applied before it (lb.h). */
	if (dp->cluster != NULL && lb_syn_on_live(&dp->lb, &pi))
		cluster_poll(dp->cluster);
	v = lb_decide(&dp->lb, &pi, by_handoff, util_now_ms(), &act);
	if (lb_queue_len(&dp->lb) > 0)
		dp_flush_later(dp);
	switch (v) {
	case LB_FORWARD:
		dp_forward(dp, &act, pkt, len);
		break;
	case LB_HANDOFF:
		/*
		 * and an END queued here leaves before it, with the old
		 * connection's last packets (its RST or FIN): the SYN must
		 * not reach the server before them
		 */
		if (lb_syn_after_close(&dp->lb, &pi))
			dp_flush(dp);
		dp_handoff(dp, act.member, pkt, len);
		break;
	default:
		log_trace("drop %s (%zu bytes%s)", lb_drop_name(act.drop), len,
		    by_handoff ? ", by handoff" : "");
		return;
	}
	/* claim 4 needs the ports: only the first fragment carries them. */
	if (PKT_IS_FIRSTFRAG(&pi))
		dp_frag_first(dp, &pi, pkt, &act);
}

/* A packet from the TUN device or the capture. */
static void
dp_on_input(void *arg, const uint8_t *pkt, size_t len)
{
	dp_packet(arg, pkt, len, 0);
}

/* A GRE packet: a handoff from a member with our cluster's key. */
static void
dp_on_gre(void *arg, const struct ilb_addr *src, int has_key, uint32_t key,
    const uint8_t *inner, size_t len)
{
	struct dp	*dp = arg;
	char		 buf[ILB_ADDRSTRLEN];

	dp->stats.gre_rx++;
	if (!has_key || key != dp->gre_key ||
	    cluster_find_addr(dp->cluster, src) == -1) {
		dp->stats.gre_rx_reject++;
		log_debug("GRE from %s refused: %s",
		    util_addr_fmt(src, buf, sizeof(buf)),
		    !has_key ? "no key" : key != dp->gre_key ? "wrong key" :
		    "not a member");
		return;
	}
	dp_packet(dp, inner, len, 1);
}

/* The active membership changed: rank with the new member list. */
static void
dp_on_members(void *arg)
{
	struct dp		*dp = arg;
	struct member_id	 ids[LB_MEMBERS_MAX];
	struct ilb_addr		 addrs[LB_MEMBERS_MAX];
	uint16_t		 slots[LB_MEMBERS_MAX];
	size_t			 n, self;

	if (dp->cluster == NULL || !dp->lb_ready)
		return;
	if (dp->repl != NULL) {
		repl_members_changed(dp->repl);
		return;
	}
	n = cluster_active(dp->cluster, ids, slots, addrs, LB_MEMBERS_MAX,
	    &self);
	if (lb_set_members(&dp->lb, ids, slots, n, self) == -1)
		log_warnx("membership of %zu members not usable", n);
	else
		log_info("membership: %zu active member%s", n,
		    n == 1 ? "" : "s");
}

static void
dp_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct dp		*dp = arg;

	(void)fd;
	(void)what;
	lb_tick(&dp->lb, util_now_ms(), DP_EXPIRE_BUDGET);
	frag_expire(&dp->frag, util_now_ms());
	dp_frag_sync(dp);
	repl_flush(dp->repl);
	announce_set_active(dp->announce,
	    repl_phase(dp->repl) == REPL_SM_ACTIVE);
}

/*
 * Follow a DSR server's neighbour entry, and ask the kernel to resolve it
 * now rather than on the first SYN, which would be dropped ('no_mac').
 */
static void
dp_watch_server(struct dp *dp, const struct ilb_addr *addr)
{
	uint8_t	mac[6];

	if (neigh_watch(dp->neigh, addr) == -1) {
		log_warn("cannot watch the neighbour entry of a server");
		return;
	}
	(void)neigh_lookup(dp->neigh, addr, mac);
}

/* Watch every DSR server's neighbour entry so its MAC is ready. */
static int
dp_open_dsr(struct dp *dp, char **cause)
{
	const struct ilbd_conf	*conf = dp->conf;
	unsigned int		 i, j, ndsr = 0;

	for (i = 0; i < conf->nservices; i++)
		if (conf->services[i].forward == FORWARD_DSR)
			ndsr++;
	if (ndsr == 0)
		return (0);
	if ((dp->fwd = fwd_open(conf->node.interface, cause)) == NULL)
		return (-1);
	if ((dp->neigh = neigh_open(dp->base, conf->node.interface,
	    cause)) == NULL)
		return (-1);
	for (i = 0; i < conf->nservices; i++) {
		if (conf->services[i].forward != FORWARD_DSR)
			continue;
		for (j = 0; j < conf->services[i].nservers; j++)
			dp_watch_server(dp, &conf->services[i].servers[j].addr);
	}
	return (0);
}

static int
dp_open_input(struct dp *dp, char **cause)
{
	const struct ilbd_conf	*conf = dp->conf;
	char			*filter;

	if (conf->input.mode == INPUT_TUN) {
		if (tun_check_forwarding(conf, cause) == -1)
			return (-1);
		if ((dp->tun = tun_open(dp->base, conf->input.device,
		    dp_on_input, dp, cause)) == NULL)
			return (-1);
		return (tun_route_vips(dp->tun, conf, cause));
	}
	if ((filter = capture_filter(conf)) == NULL) {
		*cause = strdup("cannot build the capture filter");
		return (-1);
	}
	dp->cap = capture_open(dp->base, conf->node.interface, filter,
	    dp_on_input, dp, cause);
	free(filter);
	return (dp->cap == NULL ? -1 : 0);
}

struct dp *
dp_open(struct event_base *base, const struct ilbd_conf *conf, char **cause)
{
	struct dp	*dp;
	struct timeval	 tv = { 0, DP_TICK_MS * 1000 };
	uint64_t	 seed;

	if ((dp = calloc(1, sizeof(*dp))) == NULL) {
		*cause = strdup("out of memory");
		return (NULL);
	}
	dp->base = base;
	dp->conf = conf;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)dp;
	if (lb_init(&dp->lb, conf, seed) == -1) {
		util_cause(cause, "cannot set up the tables (%u + %u "
		    "entries): %s", conf->tables.ltoc_size,
		    conf->tables.cache_size, strerror(errno));
		goto fail;
	}
	dp->lb_ready = 1;
	if (frag_init(&dp->frag) == -1) {
		*cause = strdup("cannot set up the fragment table");
		goto fail;
	}
	dp->gre_key = gre_cluster_key(conf->cluster.authenticate ?
	    conf->cluster.key : NULL, conf);
	if ((dp->cluster = cluster_open(base, conf, dp_on_members, dp,
	    cause)) == NULL)
		goto fail;
	dp_on_members(dp);
	if ((dp->repl = repl_open(base, conf, &dp->lb, dp->cluster,
	    cause)) == NULL)
		goto fail;
	if ((dp->gre = gre_open(base, conf->node.has_address ?
	    &conf->node.address : NULL, dp_on_gre, dp, cause)) == NULL)
		goto fail;
	if (dp_open_dsr(dp, cause) == -1)
		goto fail;
	if ((dp->icmp = icmp_tx_open()) == NULL) {
		*cause = strdup("out of memory");
		goto fail;
	}
	dp->ev_flush = event_new(base, -1, 0, dp_on_flush, dp);
	dp->ev_tick = event_new(base, -1, EV_PERSIST, dp_on_tick, dp);
	if (dp->ev_flush == NULL || dp->ev_tick == NULL ||
	    event_add(dp->ev_tick, &tv) == -1) {
		*cause = strdup("cannot create the data path events");
		goto fail;
	}
	if (dp_open_input(dp, cause) == -1)
		goto fail;
	dp->announce = announce_open(base, conf, dp->tun != NULL ?
	    tun_ifindex(dp->tun) : 0, cause);
	if (dp->announce == NULL && *cause != NULL)
		goto fail;
	dp_fit_mtu(dp, conf);
	return (dp);
fail:
	dp_close(dp);
	return (NULL);
}

void
dp_close(struct dp *dp)
{
	if (dp == NULL)
		return;
	announce_close(dp->announce);
	if (dp->tun != NULL)
		tun_close(dp->tun);
	if (dp->cap != NULL)
		capture_close(dp->cap);
	if (dp->ev_tick != NULL)
		event_free(dp->ev_tick);
	if (dp->ev_flush != NULL)
		event_free(dp->ev_flush);
	if (dp->fwd != NULL) {
		fwd_flush(dp->fwd);
		fwd_close(dp->fwd);
	}
	if (dp->neigh != NULL)
		neigh_close(dp->neigh);
	if (dp->gre != NULL)
		gre_close(dp->gre);
	icmp_tx_close(dp->icmp);
	if (dp->repl != NULL)
		repl_close(dp->repl);
	if (dp->cluster != NULL)
		cluster_close(dp->cluster);
	if (dp->lb_ready)
		lb_free(&dp->lb);
	frag_free(&dp->frag);
	free(dp);
}

const struct dp_stats *
dp_stats(const struct dp *dp)
{
	return (&dp->stats);
}

static void
dp_emit(dp_counter_cb cb, void *arg, const char *sub, const char *name,
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
dp_each_gauges(struct dp *dp, dp_counter_cb cb, void *arg)
{
	const struct lb_server	*v;
	char			 labels[256], a[ILB_ADDRSTRLEN];
	unsigned int		 i, j;

	for (i = 0; i < dp->lb.nsvc; i++) {
		for (j = 0; j < dp->lb.svc[i].nsrv; j++) {
			if (!lb_server_live(&dp->lb, i, j))
				continue;
			v = &dp->lb.svc[i].srv[j];
			snprintf(labels, sizeof(labels),
			    "service=\"%s\",server=\"%s\"",
			    dp->lb.svc[i].conf->name, util_addr_fmt(
			    &v->conf->addr, a, sizeof(a)));
			dp_emit(cb, arg, "server", "active_connections",
			    "connections this node owns on the server",
			    DP_GAUGE, labels, v->sched->active);
			dp_emit(cb, arg, "server", "up", "1 if the server "
			    "takes new connections (healthy, not drained)",
			    DP_GAUGE, labels, lb_server_eligible(v));
			dp_emit(cb, arg, "server", "weight", "current weight",
			    DP_GAUGE, labels, v->sched->weight);
		}
	}
}

/* Each part's table over its stats, in the stats line's order. */
void
dp_counter_walk(const struct dp_counter_parts *p, dp_counter_cb cb,
    void *arg)
{
	const struct counter_src	src[] = {
		{ "lb", lb_counters, &p->lb->stats },
		{ "dp", dp_counters, p->dp },
		{ "cluster", cluster_counters, p->cluster },
		{ "input", tun_counters, p->tun },
		{ "capture", capture_counters, p->capture },
		{ "dsr", fwd_counters, p->fwd },
		{ "neigh", neigh_counters, p->neigh },
		{ "gre", gre_counters, p->gre },
		{ "icmp", icmp_tx_counters, p->icmp },
		{ "peer", peer_counters, p->peer },
		{ "repl", repl_counters, p->repl },
		{ "lb", lb_gauges, p->lb },
		{ "cluster", cluster_gauges, p->cluster },
	};

	counter_walk(src, sizeof(src) / sizeof(src[0]), cb, arg);
}

void
dp_foreach_counter(struct dp *dp, dp_counter_cb cb, void *arg)
{
	struct dp_counter_parts	p;

	memset(&p, 0, sizeof(p));
	p.lb = &dp->lb;
	p.dp = &dp->stats;
	p.cluster = cluster_get_table(dp->cluster);
	if (dp->tun != NULL)
		p.tun = tun_stats(dp->tun);
	if (dp->cap != NULL)
		p.capture = capture_stats(dp->cap);
	if (dp->fwd != NULL)
		p.fwd = fwd_stats(dp->fwd);
	if (dp->neigh != NULL)
		p.neigh = neigh_stats(dp->neigh);
	p.gre = gre_stats(dp->gre);
	if (dp->icmp != NULL)
		p.icmp = icmp_tx_stats(dp->icmp);
	p.peer = repl_peer_stats(dp->repl);
	p.repl = repl_stats(dp->repl);
	dp_counter_walk(&p, cb, arg);
	dp_each_gauges(dp, cb, arg);
}

/* The stats line's key: lb and dp counters bare, others prefixed. */
void
dp_counter_key(const struct dp_counter *c, char *buf, size_t len)
{
	if (strcmp(c->sub, "lb") == 0 || strcmp(c->sub, "dp") == 0)
		snprintf(buf, len, "%s", c->name);
	else
		snprintf(buf, len, "%s_%s", c->sub, c->name);
}

struct dp_line {
	char	buf[DP_STATS_LINE];
	size_t	off;
};

/* Append " key=value" (counters without labels) to the line. */
static void
dp_line_put(void *arg, const struct dp_counter *c)
{
	struct dp_line	*l = arg;
	char		 key[96];
	int		 n;

	if (c->labels[0] != '\0' || l->off >= sizeof(l->buf))
		return;
	dp_counter_key(c, key, sizeof(key));
	n = snprintf(l->buf + l->off, sizeof(l->buf) - l->off, " %s=%llu",
	    key, (unsigned long long)c->value);
	if (n > 0)
		l->off += (size_t)n;
}

void
dp_log_stats(struct dp *dp)
{
	struct dp_line	l;

	l.off = (size_t)snprintf(l.buf, sizeof(l.buf), "stats:");
	dp_foreach_counter(dp, dp_line_put, &l);
	log_info("%s", l.buf);
}

struct lb *
dp_lb(struct dp *dp)
{
	return (&dp->lb);
}

struct cluster *
dp_cluster(struct dp *dp)
{
	return (dp->cluster);
}

struct repl *
dp_repl(struct dp *dp)
{
	return (dp->repl);
}

const struct ilbd_conf *
dp_conf(const struct dp *dp)
{
	return (dp->conf);
}

void
dp_sched_changed(struct dp *dp)
{
	unsigned int	i;

	for (i = 0; i < dp->lb.nsvc; i++)
		sched_rebuild(&dp->lb.svc[i].sched);
}

/*
 * Apply a reloaded configuration: services and servers through lb (which
 * keeps every connection), then the VIP routes or capture filter, the
 * servers' neighbour entries and the cluster's timers. Nothing changes
 * when it returns -1 with *cause set. On success newconf replaces the
 * running configuration here; the caller frees the old one.
 */
int
dp_reload(struct dp *dp, const struct ilbd_conf *newconf, char *summary,
    size_t len, char **cause)
{
	struct lb_reload_summary	 sum;
	const char			*why;
	char				*filter;
	unsigned int			 i, j;

	if ((why = cluster_reload_check(dp->cluster, newconf)) != NULL)
		return (util_cause(cause, "%s cannot change at run time; "
		    "restart ilbd", why));
	if (lb_reload(&dp->lb, newconf, util_now_ms(), &sum, cause) == -1)
		return (-1);
	lb_reload_summary_fmt(&sum, summary, len);
	dp->conf = newconf;
	repl_set_conf(dp->repl, newconf);
	(void)cluster_reload(dp->cluster, newconf);
	if (dp->tun != NULL && tun_route_vips(dp->tun, newconf, cause) == -1) {
		log_warnx("reload: VIP routes: %s", *cause ? *cause : "error");
		free(*cause);
		*cause = NULL;
	}
	announce_reload(dp->announce, newconf);
	dp_fit_mtu(dp, newconf);
	if (dp->cap != NULL && (filter = capture_filter(newconf)) != NULL) {
		if (capture_set_filter(dp->cap, filter, cause) == -1) {
			log_warnx("reload: capture filter: %s",
			    *cause ? *cause : "error");
			free(*cause);
			*cause = NULL;
		}
		free(filter);
	}
	if (dp->neigh != NULL)
		for (i = 0; i < newconf->nservices; i++)
			if (newconf->services[i].forward == FORWARD_DSR)
				for (j = 0; j < newconf->services[i].nservers;
				    j++)
					dp_watch_server(dp,
					    &newconf->services[i].servers[j].addr);
	dp_sched_changed(dp);
	return (0);
}

static void
dp_leave_drained(void *arg)
{
	struct dp	*dp = arg;

	repl_leave(dp->repl, dp->leave_done, dp->leave_arg);
}

/*
 * Graceful leave (SIGTERM): mark the announced routes leaving and serve
 * for announce.drain_ms, then hand the entries over, then call done.
 */
void
dp_leave(struct dp *dp, void (*done)(void *), void *arg)
{
	dp->leave_done = done;
	dp->leave_arg = arg;
	announce_leave(dp->announce, dp_leave_drained, dp);
}
