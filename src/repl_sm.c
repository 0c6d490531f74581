/* repl_sm.c: replication of connections between ILBs (claims 11-18), pure. */
#include <sys/types.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "lb.h"
#include "log.h"
#include "msg.h"
#include "repl_sm.h"
#include "repl_sm_int.h"
#include "score.h"
#include "view.h"

/*
 * The core takes events (records lb queued, messages received, membership
 * events, ticks with the time) and answers with messages for its edge to
 * send (struct repl_sm_io) and changes to lb's tables. It reads no clock
 * and touches no socket: repl.c wires it to libevent, peer.c and
 * cluster.c; the unit tests to a simulated network.
 */

static void	repl_sm_release(struct repl_sm *, uint64_t);


static int
repl_sm_id_slot(struct repl_sm *r, const struct member_id *id)
{
	int	slot;

	if (id->len == 0 || (slot = cluster_table_find_id(r->t, id)) < 0)
		return (CONN_SLOT_NONE);
	return (slot);
}

/*
 * claim 17, while a member joins: a new connection that the joiner will
 * own or back up once it is active goes to it now, so it never owns a
 * connection it has not been told about.
 */
static void
repl_sm_new_to_joiners(struct repl_sm *r, const struct lb_record *rec)
{
	struct view		v = { &r->lb->score, r->pro, r->pro_slots,
				    r->npro };	/* repl_sm_prospective()'s */
	struct view_pick	p;
	int			who[2], i;

	if (r->njoiners == 0 || r->npro == 0)
		return;
	view_rank(&v, &rec->key, &p);
	who[0] = p.owner;
	who[1] = p.backup;
	for (i = 0; i < 2; i++) {
		if (who[i] < 0 || !r->p[r->pro_slots[who[i]]].planned)
			continue;
		repl_sm_put_conn(r, r->pro_slots[who[i]], MSG_T_NEW, &rec->key,
		    rec->service, rec->server, p.oslot, p.bslot, CONN_SYN,
		    repl_sm_rec_flags(rec), rec->tag);
		r->stats.joiner_sent++;
	}
}

/* claims 13 and 14: broadcast what the decision queued. */
static void
repl_sm_drain(struct repl_sm *r)
{
	struct lb_record	rec;
	uint16_t		self = r->t->self;

	while (lb_queue_pop(r->lb, &rec)) {
		switch (rec.type) {
		case LB_REC_NEW:
			repl_sm_put_conn(r, -1, MSG_T_NEW, &rec.key,
			    rec.service, rec.server, rec.owner, rec.backup,
			    CONN_SYN, repl_sm_rec_flags(&rec), rec.tag);
			r->stats.new_sent++;
			if (rec.backup != CONN_SLOT_NONE && rec.backup != self) {
				/* claim 11: the backup's copy, reliably. */
				repl_sm_stage(r, rec.backup, &rec);
				r->stats.backup_sent++;
			}
			repl_sm_new_to_joiners(r, &rec);
			break;
		case LB_REC_END:
			repl_sm_put_key(r, -1, MSG_T_END, &rec.key, rec.tag);
			repl_sm_stage_holders(r, &rec);
			r->stats.end_sent++;
			break;
		case LB_REC_REFRESH:
			repl_sm_put_key(r, -1, MSG_T_REFRESH, &rec.key, 0);
			repl_sm_stage_holders(r, &rec);
			r->stats.refresh_sent++;
			break;
		}
	}
}

/* After a read batch: its records go out; the backup copies wait. */
void
repl_sm_flush_batch(struct repl_sm *r)
{
	repl_sm_drain(r);
	repl_sm_buf_send(r, &r->mc, -1);
	repl_sm_send_pending(r);
}

static void	repl_sm_on_send(void *, const struct conn_entry *, uint16_t);

/* Time between two reconciliation passes: syn_timeout_s / 8. */
static uint64_t
repl_sm_recon_gap(const struct repl_sm *r)
{
	uint64_t	gap = (uint64_t)r->conf->tables.syn_timeout_s * 1000 / 8;

	return (gap < REPL_RECON_MIN_MS ? REPL_RECON_MIN_MS : gap);
}

/*
 * claim 11, reconciliation: the owner sends the backup, on the reliable
 * channel, a NEW of each entry it owns with the entry's state (syn,
 * established or closing) and server, so that a backup copy whose NEW,
 * REFRESH or END went missing (a channel dropped when a member flapped,
 * a copy staged for a member declared gone) is repaired: it is created,
 * its state moves forward, its idle timer restarts (the owner holds the
 * entry: the connection lives). At most REPL_RECON_MAX records (and
 * REPL_RECON_SCAN entries looked at) a pass, the walk going on where the
 * last one stopped; a pass every syn_timeout_s / 8, so that a syn copy
 * is repaired long before it would expire, and one soon (not within
 * REPL_RECON_MIN_MS of the last) after a membership change. Only owner
 * to backup: the backup answers a record older than its own entry
 * (repl_sm_recon_answer()) but never sends entries of its own, so a
 * dead connection's entries cannot keep each other alive.
 */
static void
repl_sm_recon(struct repl_sm *r, uint64_t now)
{
	struct conn_entry	*e;
	unsigned int		 sent = 0, seen = 0;

	if (!r->active || r->leaving || now < r->recon_next)
		return;
	r->recon_early = 0;
	r->recon_last = now;
	r->recon_next = now + repl_sm_recon_gap(r);
	r->stats.recon_passes++;
	while (sent < REPL_RECON_MAX && seen < REPL_RECON_SCAN) {
		if ((e = ltoc_next(&r->lb->ltoc, &r->recon_cursor)) == NULL) {
			r->recon_cursor = 0;
			break;
		}
		seen++;
		if (e->role != CONN_ROLE_OWNER || conn_udp_unreplicated(e) ||
		    !repl_sm_slot_live(r, e->backup))
			continue;
		repl_sm_put_conn(r, e->backup, MSG_T_NEW, &e->key, e->service,
		    e->server, e->owner, e->backup, e->state, 0, conn_tag(e));
		sent++;
	}
	r->stats.recon_sent += sent;
	repl_sm_send_pending(r);
}

/*
 * The tick: the same, the cache adoption walk, the staged copies, and
 * reconciliation when due.
 */
void
repl_sm_flush(struct repl_sm *r, uint64_t now)
{
	r->pulls = 0;
	if (r->active && !r->leaving)
		lb_adopt_step(r->lb, LB_ADOPT_SLICE, repl_sm_on_send, r);
	repl_sm_flush_batch(r);
	repl_sm_stage_send(r);
	if (r->recon_early && r->recon_next > r->recon_last + REPL_RECON_MIN_MS)
		r->recon_next = r->recon_last + REPL_RECON_MIN_MS;
	repl_sm_recon(r, now);
}

/*
 * lb_pull_cb: a holder's syn entry about to expire asks every live member
 * for the connection's state, on the reliable channel, with the
 * connection's tag (lb_ltoc_keep() says why). Also while self joins
 * again after a merge: it keeps its entries meanwhile, and the join may
 * last up to REPL_JOIN_TIMEOUT_MS. At most REPL_PULL_TICK entries a
 * tick: a flood of SYNs that never completed expires as before, without
 * as many questions.
 */
static int
repl_sm_on_pull(void *arg, const struct conn_entry *e)
{
	struct repl_sm	*r = arg;
	size_t		 i;
	int		 n = 0;

	if (r->leaving)
		return (-1);
	if (r->pulls >= REPL_PULL_TICK) {
		r->stats.pull_skipped++;
		return (-1);
	}
	for (i = 0; i < r->lb->nmembers; i++) {
		if (!repl_sm_slot_live(r, r->lb->slots[i]))
			continue;
		repl_sm_put_key(r, r->lb->slots[i], MSG_T_PULL, &e->key,
		    conn_tag(e));
		n++;
	}
	if (n == 0)
		return (-1);
	r->pulls++;
	r->stats.pull_sent++;
	return (0);
}

/*
 * A member asks for the state of a connection whose entry it holds in
 * syn: answer, reliably, from self's own entry (LTOC or cache) if it is
 * in a later state and names the same connection (same tag, when both
 * are known): a REFRESH if established (the asker's entry becomes so and
 * its timer restarts), an END with the tag if closing. Nothing for a syn
 * entry or none. Only an entry that moved past syn answers, and a syn one
 * asks once, so entries of a dead connection cannot keep each other
 * alive. A UDP flow has no handshake: its entry answers a REFRESH when
 * self saw the flow lately (lb_udp_live(): a backup, when it forwarded a
 * datagram since it last answered), an END when closing.
 */
static void
repl_sm_rx_pull(struct repl_sm *r, uint16_t from, const uint8_t *rec,
    size_t len, int reliable, uint64_t now)
{
	struct conn_entry	*e;
	struct flow_key		 key;
	uint16_t		 tag;

	if (!reliable || msg_end_get(rec, len, &key, &tag) == -1) {
		r->stats.rx_bad++;
		return;
	}
	r->stats.pull_rx++;
	if ((e = ltoc_lookup(&r->lb->ltoc, &key)) == NULL &&
	    (e = cache_peek(&r->lb->cache, &key)) == NULL)
		return;
	if (flow_key_is_udp(&key)) {
		/* issue 22: a UDP flow answers by its activity (lb.h) */
		if (e->state != CONN_CLOSING && !lb_udp_live(r->lb, e, now))
			return;
	} else if (e->state == CONN_SYN ||
	    (tag != 0 && e->syn_tag != 0 && tag != e->syn_tag))
		return;
	repl_sm_put_key(r, from, e->state == CONN_CLOSING ? MSG_T_END :
	    MSG_T_REFRESH, &key, e->state == CONN_CLOSING ? conn_tag(e) : 0);
	r->stats.pull_answers++;
}

/* lb_rebalance / lb_plan callback: an entry for a new holder. */
static void
repl_sm_on_send(void *arg, const struct conn_entry *e, uint16_t dst)
{
	struct repl_sm	*r = arg;

	if (dst >= REPL_SLOTS || dst == r->t->self)
		return;
	repl_sm_put_conn(r, dst, MSG_T_TRANSFER, &e->key, e->service,
	    e->server, e->owner, e->backup, e->state, 0, conn_tag(e));
	r->stats.xfer_sent++;
}

/*
 * Rebalance callback that skips joiners already sent their entries,
 * except a UDP flow still unreplicated (issue 22): it may have opened
 * after the joiner's plan, and no NEW told the joiner of it since.
 */
static void
repl_sm_on_send_unplanned(void *arg, const struct conn_entry *e,
    uint16_t dst)
{
	struct repl_sm	*r = arg;

	if (dst < REPL_SLOTS && r->p[dst].planned &&
	    !conn_udp_unreplicated(e))
		return;
	repl_sm_on_send(arg, e, dst);
}

/*
 * End a transfer table to slot with a DONE that it acknowledges: the last
 * record of the message that carries the table's tail.
 */
static void
repl_sm_send_done(struct repl_sm *r, uint16_t slot, uint32_t count)
{
	struct msg_done		 d;

	d.xfer = ++r->xfer_next;
	d.count = count;
	if (repl_sm_put_done(r, slot, MSG_T_DONE, &d) == 0) {
		r->p[slot].done_wait = d.xfer;
		r->stats.done_sent++;
	}
}

/* Members that are active or joining, for ranking new connections. */
static void
repl_sm_prospective(struct repl_sm *r)
{
	struct ilb_addr		addrs[LB_MEMBERS_MAX];
	struct view		v;
	size_t			n, j, self;

	n = cluster_table_active(r->t, r->pro_ids, r->pro_slots, addrs,
	    LB_MEMBERS_MAX, &self);
	if (n > LB_MEMBERS_MAX)
		n = LB_MEMBERS_MAX;
	j = cluster_table_joining(r->t, r->pro_ids + n, r->pro_slots + n,
	    addrs + n, LB_MEMBERS_MAX - n);
	if (j > LB_MEMBERS_MAX - n)
		j = LB_MEMBERS_MAX - n;
	r->njoiners = (int)j;
	view_load(&v, &r->lb->score, r->pro, r->pro_slots, r->pro_ids,
	    r->pro_slots, n + j);
	r->npro = v.n;
}

/* claim 17 at an active member: a joiner gets its entries, then DONE. */
static void
repl_sm_plan_join(struct repl_sm *r, uint16_t slot)
{
	uint64_t	before = r->stats.xfer_sent;

	if (!r->active || r->leaving)
		return;
	repl_sm_prospective(r);
	r->p[slot].planned = 1;
	lb_plan(r->lb, r->pro_ids, r->pro_slots, r->npro, repl_sm_on_send, r);
	repl_sm_send_done(r, slot, (uint32_t)(r->stats.xfer_sent - before));
	log_info("member %s joining: sent it %llu entries",
	    cluster_table_member(r->t, slot)->id_text,
	    (unsigned long long)(r->stats.xfer_sent - before));
}

/*
 * A member joined, restarted, changed state or left; self joins anew (merge).
 */
void
repl_sm_member_event(struct repl_sm *r, enum cluster_event ev,
    uint16_t slot, const struct cluster_member *m, uint64_t now)
{
	if (slot < REPL_SLOTS && m->self && m->state == MSG_S_JOINING &&
	    r->active && !r->leaving) {
		r->active = 0;
		r->join_start = now;
		for (slot = 0; slot < REPL_SLOTS; slot++)
			r->p[slot].join_done = r->p[slot].planned = 0;
	}
	if (slot >= REPL_SLOTS || m->self)
		return;
	switch (ev) {
	case CLUSTER_E_JOIN:
	case CLUSTER_E_RESTART:
	case CLUSTER_E_STATE:
		/* A restarted member's entries are void; a new one's kept. */
		if (ev != CLUSTER_E_STATE) {
			repl_sm_stage_forget(r, slot);
			r->p[slot].done_wait = 0;
			r->p[slot].planned = 0;
			r->p[slot].tx.n = 0;
			r->p[slot].tx.off = 0;
		}
		if (m->state == MSG_S_JOINING && !r->p[slot].planned)
			repl_sm_plan_join(r, slot);
		break;
	case CLUSTER_E_GONE:
		repl_sm_stage_forget(r, slot);
		memset(&r->p[slot], 0, sizeof(r->p[slot]));
		break;
	}
	if (r->held != NULL)
		repl_sm_release(r, now);
	repl_sm_flush(r, now);
}

/*
 * A reliable NEW or TRANSFER from the owner (reconciliation, a backup
 * copy, a rebalance) names self backup, in an older state than self's
 * entry of the same connection: the owner missed the REFRESH or the END
 * self applied. Send it back, reliably. Not for a fresh NEW (a new
 * connection on the tuple), nor from anyone but the owner the record
 * names: only the owner's own state is answered, so this never creates
 * an entry nor keeps one alive at the owner, and once the owner's state
 * caught up there is nothing to answer.
 */
static void
repl_sm_recon_answer(struct repl_sm *r, uint16_t from,
    const struct msg_conn *mc, int svc, int srv, int owner, int backup)
{
	const struct conn_entry	*e;
	struct lb_record	 rec;

	if (!r->active || owner != from || backup != r->t->self ||
	    (mc->flags & MSG_CONN_F_FRESH) ||
	    (e = ltoc_lookup(&r->lb->ltoc, &mc->key)) == NULL ||
	    e->role != CONN_ROLE_BACKUP || e->service != svc ||
	    e->server != srv || e->state <= mc->state)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.type = e->state == CONN_CLOSING ? LB_REC_END : LB_REC_REFRESH;
	rec.service = e->service;
	rec.server = e->server;
	rec.owner = from;
	rec.backup = r->t->self;
	rec.key = e->key;
	repl_sm_stage(r, from, &rec);
	r->stats.recon_answers++;
}

/*
 * A NEW on the reliable channel (a backup copy or a reconciliation
 * record) to an active member whose own view ranks other holders than it
 * names: one of the two views is behind a membership change, whose
 * rebalance (or the next reconciliation pass) sends the entry where it
 * belongs. Applying it would give self a role its view does not.
 */
static int
repl_sm_rx_stale(struct repl_sm *r, const struct flow_key *key, int owner,
    int backup)
{
	struct view		v = { &r->lb->score, r->lb->members,
				    r->lb->slots, r->lb->nmembers };
	struct view_pick	p;

	if (!r->active || r->leaving || v.n == 0)
		return (0);
	view_rank(&v, key, &p);
	if (p.oslot == owner && p.bslot == backup)
		return (0);
	r->stats.rx_stale++;
	return (1);
}

/* A NEW or TRANSFER record: store it as owner, backup or in the cache. */
static void
repl_sm_rx_conn(struct repl_sm *r, uint16_t from, uint8_t type,
    const uint8_t *rec, size_t len, int reliable, uint64_t now)
{
	struct msg_conn	 mc;
	int		 svc, srv, owner, backup, self;

	if (msg_conn_get(rec, len, &mc) == -1 ||
	    (svc = lb_service_find(r->lb, &mc.key)) < 0 ||
	    (srv = lb_service_server(r->lb, (unsigned int)svc,
	    &mc.server)) < 0) {
		r->stats.rx_bad++;
		return;
	}
	r->stats.new_rx++;
	owner = repl_sm_id_slot(r, &mc.owner);
	backup = repl_sm_id_slot(r, &mc.backup);
	self = r->t->self;
	/*
	 * A multicast NEW that names other holders only fills the cache: it
	 * never takes away an entry this node holds (a joiner's transfer, or
	 * a role the membership change gave it).
	 */
	if (!reliable && owner != self && backup != self &&
	    ltoc_lookup(&r->lb->ltoc, &mc.key) != NULL)
		return;
	if (reliable && type == MSG_T_NEW &&
	    repl_sm_rx_stale(r, &mc.key, owner, backup))
		return;
	if (reliable)
		repl_sm_recon_answer(r, from, &mc, svc, srv, owner, backup);
	if (lb_learn_conn(r->lb, &mc.key, (unsigned int)svc,
	    (unsigned int)srv, (uint16_t)owner, (uint16_t)backup,
	    (enum conn_state)mc.state, ((mc.flags & MSG_CONN_F_FRESH) ?
	    LB_LEARN_FRESH : 0) | ((mc.flags & MSG_CONN_F_REOPEN) ?
	    LB_LEARN_REOPEN : 0) | LB_LEARN_TAG(mc.tag), now) == -1)
		r->stats.rx_bad++;
}

/*
 * A reliable END at the owner of an entry that carried traffic within
 * REPL_END_QUIET_S, unless it carries the entry's connection tag (one
 * with another tag lb_learn_end() ignores): an untagged END names a
 * tuple, not a connection, and its reliable copy leaves up to a tick
 * after the multicast one. A client that
 * resets a connection and opens a new one on the tuple at once has its
 * new SYN decided by the owner in between (test_late_end.sh): the late
 * copy would close the new connection. It is ignored; an END the owner
 * really missed reaches it again, once the entry is quiet, as the
 * backup's answer to its next reconciliation pass.
 */
static int
repl_sm_end_late(struct repl_sm *r, const struct flow_key *key, uint16_t tag,
    uint64_t now)
{
	const struct conn_entry	*e;
	uint32_t		 now_s = (uint32_t)((now + 999) / 1000);

	if ((e = ltoc_lookup(&r->lb->ltoc, key)) == NULL ||
	    e->role != CONN_ROLE_OWNER || e->state == CONN_CLOSING ||
	    now_s >= e->last + REPL_END_QUIET_S)
		return (0);
	if (tag != 0 && e->syn_tag == tag)
		return (0);	/* it names this very connection */
	r->stats.end_rx_late++;
	return (1);
}

static void
repl_sm_rx_key(struct repl_sm *r, uint8_t type, const uint8_t *rec, size_t len,
    int reliable, uint64_t now)
{
	struct lb_record	lr;
	int			svc;

	memset(&lr, 0, sizeof(lr));
	if (msg_end_get(rec, len, &lr.key, &lr.tag) == -1 ||
	    (svc = lb_service_find(r->lb, &lr.key)) < 0) {
		r->stats.rx_bad++;
		return;
	}
	if (type == MSG_T_REFRESH) {
		r->stats.refresh_rx++;
		(void)lb_refresh(r->lb, &lr.key, now);
		return;
	}
	r->stats.end_rx++;
	if (reliable && repl_sm_end_late(r, &lr.key, lr.tag, now))
		return;
	lr.type = LB_REC_END;
	lr.service = (uint16_t)svc;
	(void)lb_learn_end(r->lb, &lr, now);
}

/* DONE: everything before it arrived (the channel is ordered); ACK it. */
static void
repl_sm_rx_done(struct repl_sm *r, uint16_t slot, const uint8_t *rec,
    size_t len)
{
	struct msg_done		 d;

	if (msg_done_dec(rec, len, &d) == -1) {
		r->stats.rx_bad++;
		return;
	}
	r->p[slot].join_done = 1;
	(void)repl_sm_put_done(r, slot, MSG_T_ACK, &d);
	log_debug("transfer %u of %u entries from slot %u complete", d.xfer,
	    d.count, slot);
}

static void
repl_sm_rx_ack(struct repl_sm *r, uint16_t slot, const uint8_t *rec,
    size_t len)
{
	struct msg_done	d;

	if (msg_done_dec(rec, len, &d) == -1) {
		r->stats.rx_bad++;
		return;
	}
	if (r->p[slot].done_wait == d.xfer) {
		r->p[slot].done_wait = 0;
		r->stats.done_acked++;
	}
}

/* One record of type, of a MIXED message or of a single-type one. */
static void
repl_sm_rx_rec(struct repl_sm *r, uint16_t slot, uint8_t type,
    const uint8_t *rec, size_t len, int reliable, uint64_t now)
{
	switch (type) {
	case MSG_T_NEW:
	case MSG_T_TRANSFER:
		repl_sm_rx_conn(r, slot, type, rec, len, reliable, now);
		break;
	case MSG_T_END:
	case MSG_T_REFRESH:
		repl_sm_rx_key(r, type, rec, len, reliable, now);
		break;
	case MSG_T_DONE:
		repl_sm_rx_done(r, slot, rec, len);
		break;
	case MSG_T_ACK:
		repl_sm_rx_ack(r, slot, rec, len);
		break;
	case MSG_T_PULL:
		repl_sm_rx_pull(r, slot, rec, len, reliable, now);
		break;
	default:		/* a later revision's record type: skipped */
		r->stats.rx_bad++;
		break;
	}
}

/*
 * Every replication message, from multicast or the reliable channel: a
 * MIXED one record by record, in order, each by its type; a single-type
 * one (what ilbd sent before MIXED) the same way. DONE and ACK bodies
 * are one record without a length.
 */
static void
repl_sm_rx(struct repl_sm *r, uint16_t slot, const struct msg_view *v,
    int reliable, uint64_t now)
{
	const uint8_t	*rec;
	size_t		 off = 0, len;
	uint8_t		 type = v->hdr.type;
	int		 rv;

	if (slot >= REPL_SLOTS)
		return;
	switch (type) {
	case MSG_T_MIXED:
		while ((rv = msg_mix_next(v, &off, &type, &rec, &len)) == 1)
			repl_sm_rx_rec(r, slot, type, rec, len, reliable, now);
		break;
	case MSG_T_DONE:
	case MSG_T_ACK:
		repl_sm_rx_rec(r, slot, type, v->body, v->hdr.body_len,
		    reliable, now);
		return;
	case MSG_T_NEW:
	case MSG_T_TRANSFER:
	case MSG_T_END:
	case MSG_T_REFRESH:
		while ((rv = msg_rec_next(v, &off, &rec, &len)) == 1)
			repl_sm_rx_rec(r, slot, type, rec, len, reliable, now);
		break;
	default:
		r->stats.rx_bad++;
		return;
	}
	if (rv == -1)		/* the rest of a malformed body */
		r->stats.rx_bad++;
}

/* A multicast MIXED (or NEW, END, REFRESH) from the live member in slot. */
void
repl_sm_rx_mcast(struct repl_sm *r, uint16_t slot, const struct msg_view *v,
    uint64_t now)
{
	repl_sm_rx(r, slot, v, 0, now);
}

/* Keep a message whose sender is not known yet (bounded in count and time). */
static void
repl_sm_hold(struct repl_sm *r, const struct msg_view *v, const uint8_t *raw,
    uint64_t now)
{
	struct repl_sm_held	*h;
	size_t			 len;

	len = v->len;		/* the whole message, as msg_decode() saw it */
	if (r->nheld >= REPL_HELD_MAX ||
	    (h = malloc(sizeof(*h) + len)) == NULL) {
		r->stats.rx_unknown_sender++;
		return;
	}
	h->next = NULL;
	h->at = now;
	h->len = len;
	memcpy(h->raw, raw, len);
	*r->held_tail = h;
	r->held_tail = &h->next;
	r->nheld++;
	r->stats.rx_held++;
}

/*
 * Deliver held messages whose sender is known now, in arrival order (the
 * channel is ordered per sender); drop those that waited too long.
 */
static void
repl_sm_release(struct repl_sm *r, uint64_t now)
{
	struct repl_sm_held	*h, **hp = &r->held;
	struct msg_view		 v;
	int			 slot;

	while ((h = *hp) != NULL) {
		slot = -1;
		if (msg_decode(h->raw, h->len, &v) == MSG_OK)
			slot = cluster_table_find_id(r->t, &v.hdr.sender);
		if (slot < 0 && now - h->at < REPL_HELD_MS) {
			hp = &h->next;
			continue;
		}
		*hp = h->next;
		r->nheld--;
		if (slot >= 0)
			repl_sm_rx(r, (uint16_t)slot, &v, 1, now);
		else
			r->stats.rx_unknown_sender++;
		free(h);
	}
	r->held_tail = hp;
}

/* A message of the reliable channel; held while its sender is unknown. */
void
repl_sm_rx_reliable(struct repl_sm *r, const struct msg_view *v,
    const uint8_t *raw, uint64_t now)
{
	int	slot;

	if (r->held != NULL)
		repl_sm_release(r, now);
	if ((slot = cluster_table_find_id(r->t, &v->hdr.sender)) < 0 ||
	    r->held != NULL) {
		/* Unknown, or older messages of its sender still wait. */
		repl_sm_hold(r, v, raw, now);
		return;
	}
	repl_sm_rx(r, (uint16_t)slot, v, 1, now);
	repl_sm_flush_batch(r);
}

/* claims 17 and 18: apply the new active membership to the tables. */
void
repl_sm_members_changed(struct repl_sm *r)
{
	const struct cluster_member	*cm;
	struct member_id		 ids[LB_MEMBERS_MAX];
	struct ilb_addr			 addrs[LB_MEMBERS_MAX];
	uint16_t			 slots[LB_MEMBERS_MAX];
	struct lb_stats			 before;
	char				 buf[160];
	size_t				 n, self;
	unsigned int			 g;
	int				 slot;

	n = cluster_table_active(r->t, ids, slots, addrs, LB_MEMBERS_MAX,
	    &self);
	if (n > LB_MEMBERS_MAX)
		n = LB_MEMBERS_MAX;
	lb_set_self_slot(r->lb, r->t->self);
	if (!r->active || r->leaving)
		lb_set_members(r->lb, ids, slots, n, self);
	else {
		before = r->lb->stats;
		lb_rebalance(r->lb, ids, slots, n, self,
		    repl_sm_on_send_unplanned, r);
		r->stats.rebalances++;
		/* issue 22: a leaver handed its flows over (lb_udp_gone()) */
		for (g = r->lb->ngone; g-- > 0;) {
			cm = cluster_table_member(r->t, r->lb->gone_slots[g]);
			if (cm == NULL || cm->state == MSG_S_LEAVING)
				lb_gone_drop(r->lb, r->lb->gone_slots[g]);
		}
		if (lb_rebalance_fmt(&before, &r->lb->stats, buf,
		    sizeof(buf)))
			log_info("membership: %s", buf);
		/* Joiners now active have had their entries: forget it. */
		for (slot = 0; slot < REPL_SLOTS; slot++)
			if (r->p[slot].planned && self != LB_SELF_NONE &&
			    cluster_table_member(r->t,
			    (uint16_t)slot)->state != MSG_S_JOINING)
				r->p[slot].planned = 0;
	}
	repl_sm_prospective(r);
	log_info("membership: %zu active member%s%s", n, n == 1 ? "" : "s",
	    r->active ? "" : " (this node is not active)");
	r->recon_early = 1;
	repl_sm_flush_batch(r);
	repl_sm_stage_send(r);
}

/* Joining is over: be scored, and serve members that joined meanwhile. */
static void
repl_sm_become_active(struct repl_sm *r, int timeout, uint64_t now)
{
	struct member_id	ids[LB_MEMBERS_MAX];
	struct ilb_addr		addrs[LB_MEMBERS_MAX];
	uint16_t		slots[LB_MEMBERS_MAX];
	size_t			i, n;

	r->active = 1;
	if (timeout) {
		r->stats.join_timeouts++;
		log_warnx("join: not every active member sent its entries "
		    "within %d ms; going active anyway", REPL_JOIN_TIMEOUT_MS);
	}
	log_info("join complete after %llu ms: this node is active",
	    (unsigned long long)(now - r->join_start));
	r->io.set_state(r->io.arg, MSG_S_ACTIVE);
	repl_sm_members_changed(r);
	n = cluster_table_joining(r->t, ids, slots, addrs, LB_MEMBERS_MAX);
	for (i = 0; i < n && i < LB_MEMBERS_MAX; i++)
		if (slots[i] != r->t->self &&
		    !r->p[slots[i]].planned)
			repl_sm_plan_join(r, slots[i]);
}

/* claim 17 at the joiner: active once every active member's DONE came. */
static void
repl_sm_join_poll(struct repl_sm *r, uint64_t now)
{
	struct member_id	ids[LB_MEMBERS_MAX];
	struct ilb_addr		addrs[LB_MEMBERS_MAX];
	uint16_t		slots[LB_MEMBERS_MAX];
	size_t			i, n, self;
	uint64_t		settle;

	settle = 2 * (uint64_t)r->conf->cluster.hello_ms + 100;
	if (now - r->join_start < settle)
		return;
	n = cluster_table_active(r->t, ids, slots, addrs, LB_MEMBERS_MAX,
	    &self);
	for (i = 0; i < n && i < LB_MEMBERS_MAX; i++)
		if (i != self && !r->p[slots[i]].join_done)
			break;
	if (i >= n || i >= LB_MEMBERS_MAX)
		repl_sm_become_active(r, 0, now);
	else if (now - r->join_start > REPL_JOIN_TIMEOUT_MS)
		repl_sm_become_active(r, 1, now);
}

/* Graceful leave: every ACK in, or the timeout; then announce and go. */
static void
repl_sm_leave_poll(struct repl_sm *r, uint64_t now)
{
	int	slot, waiting = 0;

	for (slot = 0; slot < REPL_SLOTS; slot++)
		if (r->p[slot].done_wait != 0)
			waiting++;
	if (waiting > 0 && now - r->leave_start < REPL_LEAVE_TIMEOUT_MS)
		return;
	if (waiting > 0) {
		r->stats.leave_timeouts++;
		log_warnx("leave: %d member%s did not acknowledge within %d ms",
		    waiting, waiting == 1 ? "" : "s", REPL_LEAVE_TIMEOUT_MS);
	}
	log_info("leave: entries handed over in %llu ms; announcing LEAVING",
	    (unsigned long long)(now - r->leave_start));
	r->io.set_state(r->io.arg, MSG_S_LEAVING);
	r->leaving = 2;
	r->io.left(r->io.arg);
}

/* The poll timer: release held messages, move a join or a leave on. */
int
repl_sm_tick(struct repl_sm *r, uint64_t now)
{
	if (r->held != NULL)
		repl_sm_release(r, now);
	if (!r->active && !r->leaving)
		repl_sm_join_poll(r, now);
	else if (r->leaving == 1)
		repl_sm_leave_poll(r, now);
	repl_sm_flush(r, now);
	return ((!r->active && !r->leaving) || r->leaving == 1);
}

/* Send every LTOC entry to both its holders in the given membership. */
static void
repl_sm_handover(struct repl_sm *r, const struct member_id *ids,
    const uint16_t *slots, size_t n)
{
	struct conn_entry	*e, copy;
	struct view		 v;
	struct view_pick	 p;
	uint32_t		 cursor;

	view_load(&v, &r->lb->score, r->pro, r->pro_slots, ids, slots, n);
	LTOC_FOREACH(e, &r->lb->ltoc, cursor) {
		view_rank(&v, &e->key, &p);
		if (p.owner < 0)
			continue;
		copy = *e;
		copy.owner = p.oslot;
		copy.backup = p.bslot;
		repl_sm_on_send(r, &copy, copy.owner);
		if (p.backup >= 0)
			repl_sm_on_send(r, &copy, copy.backup);
	}
	r->npro = 0;		/* pro[] and pro_slots[] were borrowed */
	r->njoiners = 0;
}

/*
 * Hand every LTOC entry to its holders in the membership without this
 * node, then DONE to each of them.
 */
int
repl_sm_leave(struct repl_sm *r, uint64_t now)
{
	struct member_id	 ids[LB_MEMBERS_MAX];
	struct ilb_addr		 addrs[LB_MEMBERS_MAX];
	uint16_t		 slots[LB_MEMBERS_MAX];
	size_t			 i, n, self;

	r->leave_start = now;
	n = cluster_table_active(r->t, ids, slots, addrs, LB_MEMBERS_MAX,
	    &self);
	if (n > LB_MEMBERS_MAX)
		n = LB_MEMBERS_MAX;
	if (!r->active || self == LB_SELF_NONE) {
		r->leaving = 1;
		repl_sm_leave_poll(r, r->leave_start);
		return (0);
	}
	/* The others, without this node. */
	for (i = self; i + 1 < n; i++) {
		ids[i] = ids[i + 1];
		slots[i] = slots[i + 1];
	}
	n--;
	r->leaving = 1;
	r->lb->leaving = 1;
	repl_sm_handover(r, ids, slots, n);
	for (i = 0; i < n; i++)
		repl_sm_send_done(r, slots[i], 0);
	repl_sm_flush(r, now);
	log_info("leave: handing %u entries to %zu member%s",
	    ltoc_count(&r->lb->ltoc), n, n == 1 ? "" : "s");
	return (1);
}

struct repl_sm *
repl_sm_new(const struct ilbd_conf *conf, struct lb *lb,
    const struct cluster_table *t, const struct repl_sm_io *io, uint64_t now)
{
	struct repl_sm	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->p = calloc(REPL_SLOTS, sizeof(*r->p))) == NULL ||
	    (r->stage = calloc(REPL_STAGE_MAX, sizeof(*r->stage))) == NULL) {
		if (r != NULL)
			free(r->p);
		free(r);
		return (NULL);
	}
	r->conf = conf;
	r->lb = lb;
	r->t = t;
	r->io = *io;
	r->join_start = now;
	r->held_tail = &r->held;
	lb_set_self_slot(lb, t->self);
	lb_set_pull_cb(lb, repl_sm_on_pull, r);
	return (r);
}

void
repl_sm_free(struct repl_sm *r)
{
	struct repl_sm_held	*h;

	if (r == NULL)
		return;
	lb_set_pull_cb(r->lb, NULL, NULL);
	while ((h = r->held) != NULL) {
		r->held = h->next;
		free(h);
	}
	free(r->stage);
	free(r->p);
	free(r);
}

void
repl_sm_set_conf(struct repl_sm *r, const struct ilbd_conf *conf)
{
	r->conf = conf;
}

enum repl_sm_phase
repl_sm_phase(const struct repl_sm *r)
{
	if (r->leaving)
		return (r->leaving == 1 ? REPL_SM_LEAVING : REPL_SM_LEFT);
	return (r->active ? REPL_SM_ACTIVE : REPL_SM_JOINING);
}

const struct repl_stats *
repl_sm_stats(const struct repl_sm *r)
{
	return (&r->stats);
}
