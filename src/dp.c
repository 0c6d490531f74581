/* dp.c: the data path: packet input, the decision, packet output. */
#include <netinet/in.h>

#include <string.h>

#include <event2/event.h>

#include "be.h"
#include "cluster.h"
#include "dp.h"
#include "frag.h"
#include "fwd.h"
#include "gre.h"
#include "icmp.h"
#include "lb.h"
#include "log.h"
#include "neigh.h"
#include "repl.h"
#include "util.h"

const struct counter_desc dp_counters[] = {
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

static void	dp_too_big(struct dp *, const uint8_t *, size_t);

/* A queued GRE packet the kernel refused: counted as gre_send()'s were. */
static void
dp_gre_failed(void *arg, int rc, int with_key, const uint8_t *pkt, size_t len)
{
	struct dp	*dp = arg;

	if (with_key)
		dp->stats.handoff_errors++;
	else
		dp->stats.gre_fwd_errors++;
	if (rc == GRE_TOO_BIG)
		dp_too_big(dp, pkt, len);
}

/*
 * Send the queued records, then the queued frames and GRE packets.
 * Records first: a NEW that leaves before the SYN it describes reaches
 * the cache holders before the client's next packets do, which they then
 * forward themselves instead of handing them off.
 */
static void
dp_flush(struct dp *dp)
{
	if (dp->repl != NULL)
		repl_flush_batch(dp->repl);
	if (dp->fwd != NULL)
		fwd_flush(dp->fwd);
	if (dp->gre != NULL)
		gre_flush(dp->gre, dp_gre_failed, dp);
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
 * kernel do this first (daemon_fit_mtu()); this covers pcap mode.
 */
static void
dp_too_big(struct dp *dp, const uint8_t *pkt, size_t len)
{
	if (dp->icmp != NULL)
		(void)icmp_too_big(dp->icmp, pkt, len, dp->gre_mtu,
		    util_now_ms());
}

/*
 * GRE out, to a server (no key) or to the owner (the cluster's key):
 * queued and sent with the rest of the batch by dp_flush(), in order. 0,
 * or what gre_send() returns when it cannot be queued (then it failed
 * now or was sent now).
 */
static int
dp_gre(struct dp *dp, const struct ilb_addr *dst, int with_key, uint32_t key,
    const uint8_t *pkt, size_t len)
{
	int	rc;

	if (gre_queued(dp->gre) == GRE_TXQ)
		dp_flush(dp);
	rc = gre_queue(dp->gre, dst, with_key, key, pkt, len);
	if (rc == 0) {
		dp_flush_later(dp);
		return (0);
	}
	if (rc != GRE_QUEUE_LARGE)
		return (-1);
	/* too long for a slot: what was queued before it leaves first */
	dp_flush(dp);
	return (gre_send(dp->gre, dst, with_key, key, pkt, len));
}

/* Send a packet to the server the decision chose, by DSR or GRE; count it. */
static void
dp_forward(struct dp *dp, const struct lb_action *act, const uint8_t *pkt,
    size_t len)
{
	uint8_t	mac[6];
	int	rc;

	if (act->svc->forward == FORWARD_GRE) {
		if ((rc = dp_gre(dp, &act->srv->addr, 0, 0, pkt, len)) != 0) {
			dp->stats.gre_fwd_errors++;
			if (rc == GRE_TOO_BIG)
				dp_too_big(dp, pkt, len);
			return;
		}
		lb_traffic_sent(dp->lb, act->service, act->server, len);
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
	lb_traffic_sent(dp->lb, act->service, act->server, len);
	dp_flush_later(dp);
}

/*
 * claim 1: hand a packet of a connection we do not own to its owner.
 * flags: LB_ACT_F_* (lb.h): relayed (marked in GRE), to a member gone.
 */
static void
dp_handoff(struct dp *dp, uint16_t slot, uint8_t flags, const uint8_t *pkt,
    size_t len)
{
	const struct ilb_addr	*addr;
	int			 rc;

	if ((addr = cluster_slot_addr(dp->cluster, slot,
	    (flags & LB_ACT_F_GONE) != 0)) == NULL) {
		dp->stats.handoff_no_addr++;
		return;
	}
	if ((rc = dp_gre(dp, addr, GRE_ENC_KEY | ((flags & LB_ACT_F_RELAY) ?
	    GRE_ENC_RELAY : 0), dp->gre_key, pkt, len)) != 0) {
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
	dp->lb->stats.fragment += n;
	dp->lb->stats.drop += n;
}

/*
 * Send a later fragment the way its first fragment went, with the same
 * marks (LB_ACT_F_*). One that came by handoff goes on only as a first
 * fragment relayed did (issue 22: a UDP datagram, by_handoff
 * LB_BY_HANDOFF); a relayed one, or one of a TCP datagram, goes no
 * further.
 */
static void
dp_frag_send(struct dp *dp, const struct frag_action *fa, const uint8_t *pkt,
    size_t len, int by_handoff)
{
	struct lb_action	act;

	if (fa->kind == FRAG_HANDOFF) {
		if (by_handoff && (by_handoff == LB_BY_RELAY ||
		    (fa->flags & LB_ACT_F_RELAY) == 0)) {
			dp->lb->stats.misrouted++;
			dp->lb->stats.drop++;
			return;
		}
		dp->lb->stats.frag_forwarded++;
		dp->lb->stats.handoff_out++;
		dp_handoff(dp, fa->member, fa->flags, pkt, len);
		return;
	}
	if (lb_action_to(dp->lb, fa->service, fa->server, &act) == -1) {
		dp->lb->stats.no_server++;
		dp->lb->stats.drop++;
		return;
	}
	dp->lb->stats.frag_forwarded++;
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

	dp->lb->stats.rx++;
	if (by_handoff)
		dp->lb->stats.handoff_in++;
	frag_key_of(&k, pkt, pi->family, pi->proto, pi->frag_id);
	rc = frag_later(&dp->frag, &k, pkt, len, by_handoff, util_now_ms(),
	    &fa);
	dp_frag_sync(dp);
	if (rc == 1)
		dp_frag_send(dp, &fa, pkt, len, by_handoff);
	else if (rc == 0)
		dp->lb->stats.frag_held++;
	else {
		dp->lb->stats.rx--;	/* lb_refuse() counts it again */
		if (by_handoff)
			dp->lb->stats.handoff_in--;
		lb_refuse(dp->lb, PKT_FRAGMENT, by_handoff, &act);
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
		fa.flags = act->flags;
	}
	frag_key_of(&k, pkt, pi->family, pi->proto, pi->frag_id);
	chain = frag_first(&dp->frag, &k, &fa, util_now_ms());
	dp_frag_sync(dp);
	for (i = chain; (fb = frag_buf_get(&dp->frag, i)) != NULL; i = fb->next)
		dp_frag_send(dp, &fa, fb->data, fb->len, fb->by_handoff);
	frag_release(&dp->frag, chain);
}

/*
 * An echo request (ping) to a VIP: answered here, from the VIP, by
 * whichever ILB the router sent it to (rate-limited, icmp.c). 1 if it was
 * one (answered or not), 0 if the packet is something else.
 */
static int
dp_echo(struct dp *dp, const struct pkt_info *pi, const uint8_t *pkt,
    size_t len, int by_handoff)
{
	struct ilb_addr	dst;

	if ((pi->proto != IPPROTO_ICMP && pi->proto != IPPROTO_ICMPV6) ||
	    dp->icmp == NULL || !icmp_echo_dst(pkt, len, &dst) ||
	    !lb_echo_to_vip(dp->lb, &dst, by_handoff))
		return (0);
	(void)icmp_echo(dp->icmp, pkt, len, util_now_ms());
	return (1);
}

/* Act on the decision v (act) for the packet pi parsed from pkt. */
static void
dp_act(struct dp *dp, const struct pkt_info *pi, const struct lb_action *act,
    int v, const uint8_t *pkt, size_t len, int by_handoff)
{
	switch (v) {
	case LB_FORWARD:
		dp_forward(dp, act, pkt, len);
		break;
	case LB_HANDOFF:
		/*
		 * and an END queued here leaves before it, with the old
		 * connection's last packets (its RST or FIN): the SYN must
		 * not reach the server before them
		 */
		if (lb_syn_after_close(dp->lb, pi))
			dp_flush(dp);
		dp_handoff(dp, act->member, act->flags, pkt, len);
		break;
	default:
		log_trace("drop %s (%zu bytes%s)", lb_drop_name(act->drop), len,
		    by_handoff ? ", by handoff" : "");
		return;
	}
	/* claim 4 needs the ports: only the first fragment carries them. */
	if (PKT_IS_FIRSTFRAG(pi))
		dp_frag_first(dp, pi, pkt, act);
}

static void
dp_packet(struct dp *dp, const uint8_t *pkt, size_t len, int by_handoff)
{
	struct pkt_info		pi;
	struct lb_action	act;
	int			r, v;

	if ((r = packet_parse(pkt, len, &pi)) == PKT_FRAGMENT &&
	    (pi.proto == IPPROTO_TCP || pi.proto == IPPROTO_UDP)) {
		dp_frag_later(dp, &pi, pkt, len, by_handoff);
		return;
	}
	if (r == PKT_NOT_TCP && dp_echo(dp, &pi, pkt, len, by_handoff))
		return;
	if (r != PKT_OK) {
		lb_refuse(dp->lb, r, by_handoff, &act);
		log_debug("drop %s: %s (%zu bytes%s)", lb_drop_name(act.drop),
		    packet_reason_name(r), len, by_handoff ?
		    ", by handoff" : "");
		return;
	}
	/* An END that came before this SYN is applied before it (lb.h). */
	if (dp->cluster != NULL && lb_syn_on_live(dp->lb, &pi))
		cluster_poll(dp->cluster);
	v = lb_decide(dp->lb, &pi, by_handoff, util_now_ms(), &act);
	if (lb_queue_len(dp->lb) > 0)
		dp_flush_later(dp);
	dp_act(dp, &pi, &act, v, pkt, len, by_handoff);
}

void
dp_on_packet(void *arg, const uint8_t *pkt, size_t len)
{
	dp_packet(arg, pkt, len, 0);
}

/*
 * Whether lb_input_burst() decides pkt exactly as dp_packet() would: TCP
 * or UDP (IPv4 not a fragment, IPv6 with no extension header), and for
 * TCP not a SYN without ACK, for which dp_packet() may read the cluster's
 * records first (lb_syn_on_live()). Fragments, ICMP, SYNs and whatever
 * is cut short or malformed take dp_packet() in their turn. Looks at the
 * headers only as far as len allows.
 */
int
dp_burstable(const uint8_t *p, size_t len)
{
	size_t	off;
	uint8_t	proto;

	if (len < 28)
		return (0);
	switch (p[0] >> 4) {
	case 4:
		if ((be16_load(p + 6) & 0x3fff) != 0)
			return (0);
		proto = p[9];
		off = (size_t)(p[0] & 0x0f) * 4;
		break;
	case 6:
		proto = p[6];
		off = 40;
		break;
	default:
		return (0);
	}
	/* issue 22: datagrams decide in bursts too (DNS rates) */
	if (proto == IPPROTO_UDP)
		return (len >= off + 8);
	if (proto != IPPROTO_TCP || len < 40 || len < off + 14)
		return (0);
	return ((p[off + 13] & (PKT_TH_SYN | PKT_TH_ACK)) != PKT_TH_SYN);
}

/*
 * n <= LB_BURST_MAX packets dp_burstable() took: decided together (their
 * cache misses overlap), then acted on one after the other, in order.
 * The decisions of later packets come before the sending of earlier ones;
 * nothing the sending does feeds a decision (records and frames wait for
 * dp_flush() in both paths).
 */
static void
dp_burst(struct dp *dp, const uint8_t *const *pkts, const size_t *lens,
    size_t n)
{
	struct pkt_info		pis[LB_BURST_MAX];
	struct lb_action	acts[LB_BURST_MAX];
	int			vs[LB_BURST_MAX];
	size_t			i;

	lb_input_burst(dp->lb, pkts, lens, n, 0, util_now_ms(), pis, acts,
	    vs);
	if (lb_queue_len(dp->lb) > 0)
		dp_flush_later(dp);
	for (i = 0; i < n; i++)
		dp_act(dp, &pis[i], &acts[i], vs[i], pkts[i], lens[i], 0);
}

/*
 * A burst from the TUN device or the capture: runs of packets the burst
 * decision covers go through it, LB_BURST_MAX at a time, every other
 * packet through dp_packet(), all in the order they came.
 */
void
dp_on_input(void *arg, const uint8_t *const *pkts, const size_t *lens,
    size_t n)
{
	struct dp	*dp = arg;
	size_t		 i = 0, j;

	while (i < n) {
		if (!dp_burstable(pkts[i], lens[i])) {
			dp_packet(dp, pkts[i], lens[i], 0);
			i++;
			continue;
		}
		for (j = i + 1; j < n && j - i < LB_BURST_MAX &&
		    dp_burstable(pkts[j], lens[j]); j++)
			;
		dp_burst(dp, pkts + i, lens + i, j - i);
		i = j;
	}
}

/*
 * A GRE packet: a handoff from a member with our cluster's key, or one
 * it relayed (issue 22, gre.h GRE_F_ILBD_RELAY: handed on no further).
 */
void
dp_on_gre(void *arg, const struct gre_info *gi, const uint8_t *inner,
    size_t len)
{
	struct dp		*dp = arg;
	const struct ilb_addr	*src = &gi->src;
	char			 buf[ILB_ADDRSTRLEN];
	int			 next, has_key = gi->has_key;
	uint32_t		 key = gi->key;

	dp->stats.gre_rx++;
	/* key rotation: a member not yet swapped sends with the next key */
	next = has_key && key != dp->gre_key && dp->has_gre_key_next &&
	    key == dp->gre_key_next;
	if (!has_key || (key != dp->gre_key && !next) ||
	    cluster_find_addr(dp->cluster, src) == -1) {
		dp->stats.gre_rx_reject++;
		log_debug("GRE from %s refused: %s",
		    util_addr_fmt(src, buf, sizeof(buf)),
		    !has_key ? "no key" : key != dp->gre_key && !next ?
		    "wrong key" : "not a member");
		return;
	}
	if (next)
		dp->stats.gre_rx_key_next++;
	dp_packet(dp, inner, len, gi->relayed ? LB_BY_RELAY : LB_BY_HANDOFF);
}

/* The timer: held fragments past their time are dropped and counted. */
void
dp_tick(struct dp *dp, uint64_t now)
{
	frag_expire(&dp->frag, now);
	dp_frag_sync(dp);
}

int
dp_init(struct dp *dp, struct event_base *base, char **cause)
{
	memset(dp, 0, sizeof(*dp));
	if (frag_init(&dp->frag) == -1) {
		*cause = strdup("cannot set up the fragment table");
		return (-1);
	}
	if ((dp->ev_flush = event_new(base, -1, 0, dp_on_flush, dp)) == NULL) {
		*cause = strdup("cannot create the data path events");
		return (-1);
	}
	return (0);
}

void
dp_free(struct dp *dp)
{
	if (dp->ev_flush != NULL)
		event_free(dp->ev_flush);
	dp->ev_flush = NULL;
	frag_free(&dp->frag);
}
