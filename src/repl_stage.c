/*
 * repl_stage.c: the replication core's outgoing side: records put in one
 * MIXED message per destination (multicast, or the reliable channel to a
 * member), and the holders' reliable copies staged until the tick.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "lb.h"
#include "msg.h"
#include "repl_sm.h"
#include "repl_sm_int.h"
#include "view.h"

/*
 * Send a batch as one MIXED message: multicast to the cluster, or on the
 * channel to slot.
 */
void
repl_sm_buf_send(struct repl_sm *r, struct repl_sm_buf *b, int slot)
{
	int	rc;

	if (b->n == 0)
		return;
	if (slot < 0) {
		rc = r->io.send_mcast(r->io.arg, MSG_T_MIXED, b->body,
		    b->off);
		if (rc == 0) {
			r->stats.mc_sent++;
			r->stats.mc_bytes += b->off + MSG_HDR_LEN + MSG_MAC_LEN;
		}
	} else {
		rc = r->io.send_reliable(r->io.arg, (uint16_t)slot,
		    MSG_T_MIXED, b->body, b->off);
		if (rc == 0) {
			r->stats.tcp_sent++;
			r->stats.tcp_bytes += b->off + MSG_HDR_LEN +
			    MSG_MAC_LEN;
		}
	}
	if (rc == -1)
		r->stats.send_errors++;
	b->n = 0;
	b->off = 0;
}

/*
 * Send every channel batch that holds records. Most read batches queue
 * none (the backup's copies wait for the tick), so the walk over the
 * REPL_SLOTS batches, each in its own cache lines, runs only once a
 * record was put on a channel since the last walk.
 */
void
repl_sm_send_pending(struct repl_sm *r)
{
	int	slot;

	if (!r->tx_pending)
		return;
	r->tx_pending = 0;
	for (slot = 0; slot < REPL_SLOTS; slot++)
		if (r->p[slot].tx.n > 0)
			repl_sm_buf_send(r, &r->p[slot].tx, slot);
}

/*
 * The batch for slot (-1: multicast). Records of every type share it: it
 * leaves when full, or when the flush that filled it ends, so one flush
 * makes one message per destination (claim 13: the records of many
 * connections in one message).
 */
struct repl_sm_buf *
repl_sm_buf_of(struct repl_sm *r, int slot)
{
	/* Staged copies are older than this record: they go first. */
	if (slot >= 0 && r->nstage > 0 && !r->staging)
		repl_sm_stage_send(r);
	return (slot < 0 ? &r->mc : &r->p[slot].tx);
}

/* A record was put in the batch for slot. */
static void
repl_sm_buf_put(struct repl_sm *r, struct repl_sm_buf *b, int slot)
{
	b->n++;
	if (slot >= 0)
		r->tx_pending = 1;
}

/* Member id of a slot, or an empty id for CONN_SLOT_NONE. */
void
repl_sm_slot_id(struct repl_sm *r, uint16_t slot, struct member_id *id)
{
	const struct cluster_member	*m;

	memset(id, 0, sizeof(*id));
	if (slot != CONN_SLOT_NONE &&
	    (m = cluster_table_member(r->t, slot)) != NULL)
		*id = m->id;
}

/* A record's flags (MSG_CONN_F_*) for an lb_record's (LB_REC_F_*). */
uint8_t
repl_sm_rec_flags(const struct lb_record *rec)
{
	return (((rec->flags & LB_REC_F_FRESH) ? MSG_CONN_F_FRESH : 0) |
	    ((rec->flags & LB_REC_F_REOPEN) ? MSG_CONN_F_REOPEN : 0));
}

/* Queue one connection record of type for slot (-1: multicast). */
void
repl_sm_put_conn(struct repl_sm *r, int slot, uint8_t type,
    const struct flow_key *key, unsigned int svc, unsigned int srv,
    uint16_t owner, uint16_t backup, uint8_t state, uint8_t flags,
    uint16_t tag)
{
	struct repl_sm_buf	*b = repl_sm_buf_of(r, slot);
	struct msg_conn	 mc;

	memset(&mc, 0, sizeof(mc));
	mc.key = *key;
	if (svc >= r->lb->nsvc || srv >= r->lb->svc[svc].conf->nservers)
		return;
	mc.server = r->lb->svc[svc].conf->servers[srv].addr;
	repl_sm_slot_id(r, owner, &mc.owner);
	repl_sm_slot_id(r, backup, &mc.backup);
	mc.state = state;
	mc.flags = flags;
	mc.tag = tag;
	if (msg_mix_conn_put(b->body, sizeof(b->body), &b->off, type,
	    &mc) == -1) {
		repl_sm_buf_send(r, b, slot);		/* full */
		if (msg_mix_conn_put(b->body, sizeof(b->body), &b->off, type,
		    &mc) == -1)
			return;
	}
	repl_sm_buf_put(r, b, slot);
}

void
repl_sm_put_key(struct repl_sm *r, int slot, uint8_t type,
    const struct flow_key *key, uint16_t tag)
{
	struct repl_sm_buf	*b = repl_sm_buf_of(r, slot);

	if (msg_mix_end_put(b->body, sizeof(b->body), &b->off, type, key,
	    tag) == -1) {
		repl_sm_buf_send(r, b, slot);		/* full */
		if (msg_mix_end_put(b->body, sizeof(b->body), &b->off, type,
		    key, tag) == -1)
			return;
	}
	repl_sm_buf_put(r, b, slot);
}

/*
 * A DONE or ACK for slot, after everything queued for it (the channel is
 * ordered), and the batch leaves at once with it.  0, or -1.
 */
int
repl_sm_put_done(struct repl_sm *r, uint16_t slot, uint8_t type,
    const struct msg_done *d)
{
	struct repl_sm_buf	*b = repl_sm_buf_of(r, slot);

	if (msg_mix_done_put(b->body, sizeof(b->body), &b->off, type,
	    d) == -1) {
		repl_sm_buf_send(r, b, slot);		/* full */
		if (msg_mix_done_put(b->body, sizeof(b->body), &b->off, type,
		    d) == -1)
			return (-1);
	}
	repl_sm_buf_put(r, b, slot);
	repl_sm_buf_send(r, b, slot);
	return (0);
}

/*
 * A holder's reliable copy of a NEW (the backup's), END or REFRESH
 * (repl_sm_drain(), repl_sm_stage_holders()), or a reconciliation
 * answer: staged, and
 * sent by the next repl_sm_flush() (the 100 ms tick, a membership change, a
 * transfer or DONE to any member, or a full stage), not after every read
 * batch as the multicast copy is. One TCP write then carries a tick's
 * records instead of one per batch. The multicast copy has already told
 * the backup; the reliable one is for when it was lost, and a connection
 * established a second before a failover has always been sent.
 */
void
repl_sm_stage(struct repl_sm *r, uint16_t slot, const struct lb_record *rec)
{
	if (r->nstage == REPL_STAGE_MAX)
		repl_sm_stage_send(r);
	r->stage[r->nstage].slot = slot;
	r->stage[r->nstage].rec = *rec;
	r->nstage++;
}

/* Encode the staged copies in order; the channel batches then leave. */
void
repl_sm_stage_send(struct repl_sm *r)
{
	const struct repl_sm_staged	*st;
	unsigned int			 i;

	if (r->nstage == 0)
		return;
	r->staging = 1;
	for (i = 0; i < r->nstage; i++) {
		st = &r->stage[i];
		if (st->slot == CONN_SLOT_NONE)
			continue;
		if (st->rec.type == LB_REC_NEW)
			repl_sm_put_conn(r, st->slot, MSG_T_NEW, &st->rec.key,
			    st->rec.service, st->rec.server, st->rec.owner,
			    st->rec.backup, CONN_SYN,
			    repl_sm_rec_flags(&st->rec), st->rec.tag);
		else
			repl_sm_put_key(r, st->slot,
			    st->rec.type == LB_REC_END ? MSG_T_END :
			    MSG_T_REFRESH, &st->rec.key,
			    st->rec.type == LB_REC_END ? st->rec.tag : 0);
	}
	r->nstage = 0;
	r->staging = 0;
	r->stats.backup_flushes++;
	repl_sm_send_pending(r);
}

/* A member restarted or is gone: what was staged for it is dropped. */
void
repl_sm_stage_forget(struct repl_sm *r, uint16_t slot)
{
	unsigned int	i;

	for (i = 0; i < r->nstage; i++)
		if (r->stage[i].slot == slot)
			r->stage[i].slot = CONN_SLOT_NONE;
}

/* May slot get a reliable copy: another member, known and alive? */
int
repl_sm_slot_live(const struct repl_sm *r, uint16_t slot)
{
	const struct cluster_member	*m;

	return (slot < REPL_SLOTS && slot != r->t->self &&
	    (m = cluster_table_member(r->t, slot)) != NULL && m->alive);
}

/* Add slot to the n holders in h unless it is there or may not get it. */
static int
repl_sm_holder_add(const struct repl_sm *r, uint16_t *h, int n, uint16_t slot)
{
	int	i;

	if (!repl_sm_slot_live(r, slot))
		return (n);
	for (i = 0; i < n; i++)
		if (h[i] == slot)
			return (n);
	h[n] = slot;
	return (n + 1);
}

/*
 * claim 14, reliably: an END or REFRESH goes to the holders of its
 * connection on the reliable channel, besides the multicast copy the
 * caches need. The holders are those its entry names (the view it was
 * decided in) and those the current view ranks first and second (an
 * entry in a cache may name holders a membership change replaced);
 * never self. A holder that saw the FIN or the activity reaches the other
 * one; a member that forwarded it from its cache reaches both. (An owner
 * applies a reliable END only to a quiet entry: repl_sm_end_late().)
 */
void
repl_sm_stage_holders(struct repl_sm *r, const struct lb_record *rec)
{
	struct view		v = { &r->lb->score, r->lb->members,
				    r->lb->slots, r->lb->nmembers };
	struct view_pick	p;
	uint16_t		h[4];
	int			i, n = 0;

	n = repl_sm_holder_add(r, h, n, rec->owner);
	n = repl_sm_holder_add(r, h, n, rec->backup);
	if (v.n > 0) {
		view_rank(&v, &rec->key, &p);
		if (p.owner >= 0)
			n = repl_sm_holder_add(r, h, n, p.oslot);
		if (p.backup >= 0)
			n = repl_sm_holder_add(r, h, n, p.bslot);
	}
	for (i = 0; i < n; i++) {
		repl_sm_stage(r, h[i], rec);
		if (rec->type == LB_REC_END)
			r->stats.end_rel_sent++;
		else
			r->stats.refresh_rel_sent++;
	}
}
