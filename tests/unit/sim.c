/* sim.c: a simulated cluster of ILBs for test_repl: clock, network, clients. */

#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "cluster.h"
#include "conntab.h"
#include "lb.h"
#include "log.h"
#include "ltoc.h"
#include "msg.h"
#include "packet.h"
#include "repl_sm.h"
#include "score.h"
#include "sim.h"
#include "world.h"

int			 sim_verbose;
int			 sim_udp;
uint16_t		 sim_watch_port;
static struct sim	*sim_log_world;	/* whose time the log shows */

/* ---- logging: quiet unless TEST_REPL_VERBOSE ---------------------------- */

static void	sim_log_v(const char *, va_list)
		    __attribute__((format(printf, 1, 0)));

static void
sim_log_v(const char *fmt, va_list ap)
{
	if (!sim_verbose)
		return;
	if (sim_log_world != NULL)
		fprintf(stderr, "%8llu ", (unsigned long long)
		    (sim_log_world->now - SIM_T0));
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define SIM_LOG_BODY(fmt) do {			\
	va_list	ap;				\
						\
	va_start(ap, fmt);			\
	sim_log_v(fmt, ap);			\
	va_end(ap);				\
} while (0)

void
log_init(const char *name, int tostderr, int verbose)
{
	(void)name;
	(void)tostderr;
	(void)verbose;
}

void
log_setverbose(int v)
{
	(void)v;
}

int
log_getverbose(void)
{
	return (sim_verbose);
}

void
log_warn(const char *fmt, ...)
{
	SIM_LOG_BODY(fmt);
}

void
log_warnx(const char *fmt, ...)
{
	SIM_LOG_BODY(fmt);
}

void
log_info(const char *fmt, ...)
{
	SIM_LOG_BODY(fmt);
}

void
log_debug(const char *fmt, ...)
{
	SIM_LOG_BODY(fmt);
}

void
log_trace(const char *fmt, ...)
{
	(void)fmt;
}

void
fatal(const char *fmt, ...)
{
	SIM_LOG_BODY(fmt);
	abort();
}

void
fatalx(const char *fmt, ...)
{
	SIM_LOG_BODY(fmt);
	abort();
}

/* ---- the world -------------------------------------------------------- */

uint32_t
sim_rand(struct sim *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return ((uint32_t)((w->rng * 0x2545f4914f6cdd1dULL) >> 32));
}

static unsigned int
sim_pct(struct sim *w, unsigned int pct)
{
	return (pct > 0 && sim_rand(w) % 100 < pct);
}

/* One line of the sequence, kept for the report of a broken invariant. */
void
sim_tracef(struct sim *w, const char *fmt, ...)
{
	char	line[200];
	va_list	ap;
	int	n;

	n = snprintf(line, sizeof(line), "%6llu ",
	    (unsigned long long)(w->now - SIM_T0));
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (sim_verbose)
		fprintf(stderr, "=== %s\n", line);
	if (w->ntrace + strlen(line) + 2 >= sizeof(w->trace))
		w->ntrace = 0;		/* start again: the tail only */
	w->ntrace += (size_t)snprintf(w->trace + w->ntrace,
	    sizeof(w->trace) - w->ntrace, "%s\n", line);
}

/* Record the first broken invariant. */
void
sim_fail(struct sim *w, const char *fmt, ...)
{
	va_list	ap;

	if (w->err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	sim_tracef(w, "BROKEN: %s", w->err);
}

static int
sim_heap_less(const struct sim_msg *a, const struct sim_msg *b)
{
	return (a->at < b->at || (a->at == b->at && a->order < b->order));
}

static void
sim_heap_push(struct sim *w, struct sim_msg *q)
{
	struct sim_msg	*tmp;
	size_t		 i, p;

	if (w->nq == w->qcap) {
		w->qcap = w->qcap ? 2 * w->qcap : 256;
		w->q = realloc(w->q, w->qcap * sizeof(*w->q));
		assert_non_null(w->q);
	}
	i = w->nq++;
	w->q[i] = q;
	while (i > 0 && sim_heap_less(w->q[i], w->q[p = (i - 1) / 2])) {
		tmp = w->q[p];
		w->q[p] = w->q[i];
		w->q[i] = tmp;
		i = p;
	}
}

static struct sim_msg *
sim_heap_pop(struct sim *w)
{
	struct sim_msg	*top = w->q[0], *tmp;
	size_t		 i = 0, c;

	w->q[0] = w->q[--w->nq];
	for (;;) {
		c = 2 * i + 1;
		if (c >= w->nq)
			break;
		if (c + 1 < w->nq && sim_heap_less(w->q[c + 1], w->q[c]))
			c++;
		if (!sim_heap_less(w->q[c], w->q[i]))
			break;
		tmp = w->q[c];
		w->q[c] = w->q[i];
		w->q[i] = tmp;
		i = c;
	}
	return (top);
}

/* The world member with this id, or -1. */
static int
sim_find(const struct sim *w, const struct member_id *id)
{
	int	i;

	for (i = 0; i < SIM_MAX; i++)
		if (w->m[i].id.len == id->len &&
		    memcmp(w->m[i].id.b, id->b, id->len) == 0)
			return (i);
	return (-1);
}

/* The world member in slot of m's table, or -1. */
int
sim_of_slot(const struct sim *w, const struct sim_member *m, uint16_t slot)
{
	const struct cluster_member	*cm;

	if (slot == CONN_SLOT_NONE ||
	    (cm = cluster_table_member(&m->t, slot)) == NULL)
		return (-1);
	return (sim_find(w, &cm->id));
}

/*
 * The record types a message of type carries, as a mask (1 << type): a
 * MIXED message those of its records, another one its own type.  Rules
 * and faults on a type hit every message that carries a record of it.
 */
static unsigned int
sim_types(uint8_t type, const uint8_t *body, size_t blen)
{
	struct msg_view	 v;
	const uint8_t	*rec;
	size_t		 off = 0, len;
	unsigned int	 mask = 0;
	uint8_t		 t;

	if (type != MSG_T_MIXED)
		return (1u << type);
	memset(&v, 0, sizeof(v));
	v.body = body;
	v.hdr.body_len = (uint16_t)blen;
	while (msg_mix_next(&v, &off, &t, &rec, &len) == 1)
		mask |= 1u << (t & 31);
	return (mask);
}

/* Does a rule drop this message (carrying the record types in mask)? */
static int
sim_ruled_out(struct sim *w, const struct sim_msg *q, unsigned int mask)
{
	struct sim_rule	*r;
	size_t		 i;

	for (i = 0; i < w->nrules; i++) {
		r = &w->rules[i];
		if (r->count == 0 || r->reliable != q->reliable ||
		    (r->type != 0 && !(mask & (1u << r->type))) ||
		    (r->from >= 0 && r->from != q->from) ||
		    (r->to >= 0 && r->to != q->to))
			continue;
		if (r->count > 0)
			r->count--;
		return (1);
	}
	return (0);
}

/*
 * Drop the next count messages (-1: all) that carry a record of type (0:
 * any) from -> to (-1: any).
 */
void
sim_rule(struct sim *w, uint8_t type, int reliable, int from, int to,
    int count)
{
	struct sim_rule	*r;

	assert_true(w->nrules < sizeof(w->rules) / sizeof(w->rules[0]));
	r = &w->rules[w->nrules++];
	r->type = type;
	r->reliable = reliable;
	r->from = from;
	r->to = to;
	r->count = count;
}

static struct sim_msg *
sim_msg_new(struct sim *w, const struct sim_member *m, int to, int reliable,
    const uint8_t *buf, size_t len)
{
	struct sim_msg	*q;

	assert_non_null(q = calloc(1, sizeof(*q)));
	q->at = w->now + SIM_LAT_MS;
	q->order = w->order++;
	q->from = m->idx;
	q->to = to;
	q->reliable = reliable;
	q->from_epoch = m->epoch;
	q->len = len;
	memcpy(q->buf, buf, len);
	return (q);
}

/* Multicast to member j, through the faults (not for ID messages). */
static void
sim_mcast_to(struct sim *w, const struct sim_member *m, int j,
    unsigned int mask, const uint8_t *buf, size_t len)
{
	struct sim_msg	*q = sim_msg_new(w, m, j, 0, buf, len), *d;
	int		 faulty = (w->f.types & mask) != 0;

	if (sim_ruled_out(w, q, mask) ||
	    (faulty && sim_pct(w, w->f.drop_pct))) {
		free(q);
		return;
	}
	if (faulty && w->f.jitter_ms > 0)
		q->at += sim_rand(w) % (w->f.jitter_ms + 1);
	if (sim_pct(w, w->f.dup_pct)) {
		d = sim_msg_new(w, m, j, 0, buf, len);
		d->at = q->at + sim_rand(w) % (w->f.jitter_ms + 2);
		sim_heap_push(w, d);
	}
	sim_heap_push(w, q);
}

static void
sim_hdr(const struct sim_member *m, uint8_t type, uint64_t seq,
    struct msg_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->version = MSG_VERSION;
	h->type = type;
	h->epoch = m->epoch;
	h->seq = seq;
	h->sender = m->id;
}

/* claim 16: an ID message to every other live member, never lost. */
static void
sim_send_id(struct sim_member *m)
{
	struct sim	*w = m->w;
	struct msg_hdr	 h;
	struct msg_id	 id;
	struct sim_msg	*q;
	uint8_t		 buf[MSG_MAX_LEN];
	size_t		 len;
	int		 j;

	sim_hdr(m, MSG_T_ID, ++m->mseq, &h);
	cluster_table_self_id(&m->t, SIM_HELLO_MS, &id);
	assert_int_not_equal(len = msg_encode_id(buf, sizeof(buf), &h, &id,
	    NULL), 0);
	for (j = 0; j < SIM_MAX; j++) {
		if (j == m->idx || !w->m[j].up)
			continue;
		q = sim_msg_new(w, m, j, 0, buf, len);
		if (sim_ruled_out(w, q, MSG_T_ID))	/* a partition */
			free(q);
		else
			sim_heap_push(w, q);
	}
}

/* repl_sm_io: cluster_send(). */
static int
sim_io_mcast(void *arg, uint8_t type, const uint8_t *body, size_t blen)
{
	struct sim_member	*m = arg;
	struct sim		*w = m->w;
	struct msg_hdr		 h;
	uint8_t			 buf[MSG_MAX_LEN];
	size_t			 len;
	unsigned int		 mask;
	int			 j;

	sim_hdr(m, type, ++m->mseq, &h);
	if ((len = msg_encode(buf, sizeof(buf), &h, body, blen, NULL)) == 0)
		return (-1);
	mask = sim_types(type, body, blen);
	for (j = 0; j < SIM_MAX; j++)
		if (j != m->idx && w->m[j].up)
			sim_mcast_to(w, m, j, mask, buf, len);
	return (0);
}

/* repl_sm_io: peer_send() to the slot's address (cluster_slot_addr()). */
static int
sim_io_reliable(void *arg, uint16_t slot, uint8_t type, const uint8_t *body,
    size_t blen)
{
	struct sim_member		*m = arg;
	struct sim			*w = m->w;
	const struct cluster_member	*cm;
	struct msg_hdr			 h;
	struct sim_msg			*q;
	uint8_t				 buf[MSG_MAX_LEN];
	size_t				 len;
	int				 j;

	if ((cm = cluster_table_member(&m->t, slot)) == NULL || !cm->alive ||
	    (j = sim_find(w, &cm->id)) < 0)
		return (-1);
	sim_hdr(m, type, m->useq + 1, &h);
	if ((len = msg_encode(buf, sizeof(buf), &h, body, blen, NULL)) == 0)
		return (-1);
	m->useq++;
	q = sim_msg_new(w, m, j, 1, buf, len);
	q->to_epoch = w->m[j].up ? w->m[j].epoch : 0;
	if (w->f.rel_ms > 0)
		q->at += sim_rand(w) % (w->f.rel_ms + 1);
	if (q->at < m->rel_at[j])
		q->at = m->rel_at[j];		/* TCP keeps the order */
	m->rel_at[j] = q->at;
	if (sim_ruled_out(w, q, sim_types(type, body, blen)))
		free(q);
	else
		sim_heap_push(w, q);
	return (0);
}

/* repl_sm_io: cluster_set_state(), which calls daemon_on_members(). */
static void
sim_io_state(void *arg, enum msg_state st)
{
	struct sim_member	*m = arg;
	int			 was;

	was = m->t.m[m->t.self].state == MSG_S_ACTIVE;
	if (cluster_table_set_state(&m->t, st) <= 0)
		return;
	sim_tracef(m->w, "m%d is %s", m->idx, msg_state_name(st));
	m->w->last_change = m->w->now;
	sim_send_id(m);
	if (was != (st == MSG_S_ACTIVE))
		repl_sm_members_changed(m->sm);
}

/* repl_sm_io: ilbd_left(): exit a little later. */
static void
sim_io_left(void *arg)
{
	struct sim_member	*m = arg;

	m->exit_at = m->w->now + SIM_LEFT_MS;
}

/* peer_drop(): the channels between m and member j lose what they carry. */
static void
sim_peer_drop(struct sim *w, const struct sim_member *m, int j,
    uint64_t keep_epoch)
{
	size_t	i;

	for (i = 0; i < w->nq; i++) {
		if (!w->q[i]->reliable)
			continue;
		if ((w->q[i]->from == m->idx && w->q[i]->to == j) ||
		    (w->q[i]->from == j && w->q[i]->to == m->idx &&
		    w->q[i]->from_epoch != keep_epoch))
			w->q[i]->dead = 1;
	}
}

/* The table made m join again (a merge): announced at once, as cluster.c. */
static void
sim_rejoin_announce(struct sim_member *m)
{
	if (!m->t.rejoin)
		return;
	m->t.rejoin = 0;
	sim_send_id(m);
}

/* cluster_event_cb, as repl_on_event(). */
static void
sim_on_event(void *arg, enum cluster_event ev, uint16_t slot,
    const struct cluster_member *cm)
{
	struct sim_member	*m = arg;
	int			 j;

	if (!cm->self && (ev == CLUSTER_E_RESTART || ev == CLUSTER_E_GONE) &&
	    (j = sim_find(m->w, &cm->id)) >= 0)
		sim_peer_drop(m->w, m, j,
		    ev == CLUSTER_E_RESTART ? cm->epoch : 0);
	repl_sm_member_event(m->sm, ev, slot, cm, m->w->now);
	if (cm->self)		/* a merge: self joins again, polled */
		m->poll_at = m->w->now + REPL_SM_POLL_MS;
}

/* cluster_msg_cb, as repl_on_mc(). */
static void
sim_on_mc(void *arg, uint16_t slot, const struct msg_view *v)
{
	struct sim_member	*m = arg;

	repl_sm_rx_mcast(m->sm, slot, v, m->w->now);
}

/* Verbose: a message that arrives, with its records' ports (/state). */
static void
sim_trace_msg(struct sim *w, const struct sim_msg *q,
    const struct msg_view *v)
{
	struct msg_conn	 mc;
	const uint8_t	*rec;
	char		 ports[160];
	size_t		 off = 0, len, n = 0;
	uint8_t		 t = v->hdr.type, rt = t;
	int		 conn, rv;

	ports[0] = '\0';
	while (n + 24 < sizeof(ports)) {
		if (t == MSG_T_MIXED)
			rv = msg_mix_next(v, &off, &rt, &rec, &len);
		else if (t == MSG_T_NEW || t == MSG_T_TRANSFER ||
		    t == MSG_T_END || t == MSG_T_REFRESH)
			rv = msg_rec_next(v, &off, &rec, &len);
		else
			break;
		if (rv != 1)
			break;
		conn = rt == MSG_T_NEW || rt == MSG_T_TRANSFER;
		memset(&mc, 0, sizeof(mc));
		if (rt != MSG_T_END && rt != MSG_T_REFRESH && !conn) {
			n += (size_t)snprintf(ports + n, sizeof(ports) - n,
			    " %s", msg_type_name(rt));
			continue;
		}
		if (conn ? msg_conn_get(rec, len, &mc) :
		    msg_end_get(rec, len, &mc.key, &mc.tag))
			break;
		n += (size_t)snprintf(ports + n, sizeof(ports) - n, " %s%u",
		    t == MSG_T_MIXED ? msg_type_name(rt) : "",
		    mc.key.id[6] << 8 | mc.key.id[7]);
		if (conn)
			n += (size_t)snprintf(ports + n, sizeof(ports) - n,
			    "/%u", mc.state);
	}
	sim_tracef(w, "m%d -> m%d: %s%s%s", q->from, q->to, msg_type_name(t),
	    q->reliable ? " (reliable)" : "", ports);
}

/* A message arrives, as cluster.c and peer.c would hand it over. */
static void
sim_deliver(struct sim *w, const struct sim_msg *q)
{
	struct sim_member	*m = &w->m[q->to];
	struct msg_view		 v;
	struct msg_id		 id;

	if (q->dead || !m->up || (q->reliable && m->epoch != q->to_epoch))
		return;
	assert_int_equal(msg_decode(q->buf, q->len, &v), MSG_OK);
	if (sim_verbose && v.hdr.type != MSG_T_ID)
		sim_trace_msg(w, q, &v);
	if (q->reliable)
		repl_sm_rx_reliable(m->sm, &v, q->buf, w->now);
	else if (v.hdr.type != MSG_T_ID)
		(void)cluster_table_msg(&m->t, &v, &w->m[q->from].addr);
	else {
		assert_int_equal(msg_decode_id(&v, &id), MSG_OK);
		if (cluster_table_input(&m->t, &v, &id, &w->m[q->from].addr,
		    w->now))
			repl_sm_members_changed(m->sm);
		sim_rejoin_announce(m);
	}
}

/* Start member i (again: a new boot epoch), joining, as ilbd does. */
void
sim_start(struct sim *w, int i)
{
	struct sim_member	*m = &w->m[i];
	struct repl_sm_io	 io;

	assert_false(m->up);
	m->epoch = (m->epoch < w->now ? w->now : m->epoch + 1);
	m->mseq = m->useq = 0;
	memset(m->rel_at, 0, sizeof(m->rel_at));
	m->exit_at = 0;
	assert_int_equal(lb_init(&m->lb, &w->conf, 42 + m->epoch), 0);
	cluster_table_init(&m->t, &m->id, &m->addr, m->epoch,
	    SCORING_CRC32C_MIX, SIM_DEAD_MS, w->now);
	m->t.event_cb = sim_on_event;
	m->t.event_arg = m;
	m->t.msg_cb = sim_on_mc;
	m->t.msg_arg = m;
	assert_int_equal(lb_set_members(&m->lb, NULL, NULL, 0, LB_SELF_NONE),
	    0);
	io.send_mcast = sim_io_mcast;
	io.send_reliable = sim_io_reliable;
	io.set_state = sim_io_state;
	io.left = sim_io_left;
	io.arg = m;
	assert_non_null(m->sm = repl_sm_new(&w->conf, &m->lb, &m->t, &io,
	    w->now));
	m->up = 1;
	m->next_hello = w->now;
	m->next_tick = w->now + SIM_TICK_MS;
	m->poll_at = w->now + REPL_SM_POLL_MS;
	sim_tracef(w, "m%d starts (epoch %llu)", i,
	    (unsigned long long)m->epoch);
	w->last_change = w->now;
}

/* The process of member i stops (killed, or exits after leaving). */
void
sim_stop(struct sim *w, int i)
{
	struct sim_member	*m = &w->m[i];

	assert_true(m->up);
	sim_tracef(w, "m%d stops%s", i, m->exit_at ? " (left)" : " (killed)");
	w->last_change = w->now;
	if (!m->exit_at && w->nkills < sizeof(w->kills) / sizeof(w->kills[0]))
		w->kills[w->nkills++] = w->now;
	repl_sm_free(m->sm);
	m->sm = NULL;
	lb_free(&m->lb);
	m->up = 0;
}

/* Graceful leave of member i (SIGTERM). */
void
sim_leave(struct sim *w, int i)
{
	struct sim_member	*m = &w->m[i];

	sim_tracef(w, "m%d leaves", i);
	w->last_change = w->now;
	w->nleaves++;
	if (repl_sm_leave(m->sm, w->now))
		m->poll_at = w->now + REPL_SM_POLL_MS;
}

/* The timers of a live member due at now. */
static void
sim_timers(struct sim *w, struct sim_member *m)
{
	if (m->exit_at != 0 && w->now >= m->exit_at) {
		sim_stop(w, m->idx);
		return;
	}
	if (w->now >= m->next_hello) {
		sim_send_id(m);
		m->next_hello += SIM_HELLO_MS;
	}
	if (w->now >= m->next_tick) {
		if (cluster_table_expire(&m->t, w->now))
			repl_sm_members_changed(m->sm);
		sim_rejoin_announce(m);
		lb_tick(&m->lb, w->now, 100000);
		repl_sm_flush(m->sm, w->now);
		m->next_tick += SIM_TICK_MS;
	}
	if (m->poll_at != 0 && w->now >= m->poll_at) {
		m->poll_at = 0;
		if (repl_sm_tick(m->sm, w->now))
			m->poll_at = w->now + REPL_SM_POLL_MS;
	}
}

/* When the next message arrives or timer fires. */
static uint64_t
sim_next(const struct sim *w)
{
	const struct sim_member	*m;
	uint64_t		 t = UINT64_MAX;
	int			 i;

	if (w->nq > 0)
		t = w->q[0]->at;
	for (i = 0; i < SIM_MAX; i++) {
		m = &w->m[i];
		if (!m->up)
			continue;
		if (m->next_hello < t)
			t = m->next_hello;
		if (m->next_tick < t)
			t = m->next_tick;
		if (m->poll_at != 0 && m->poll_at < t)
			t = m->poll_at;
		if (m->exit_at != 0 && m->exit_at < t)
			t = m->exit_at;
	}
	return (t);
}

static void	sim_watch(struct sim *);

/* Let ms of time pass: messages arrive, timers fire. */
void
sim_run(struct sim *w, uint64_t ms)
{
	uint64_t	until = w->now + ms, t;
	struct sim_msg	*q;
	int		i;

	sim_log_world = w;
	while ((t = sim_next(w)) <= until) {
		w->now = t;
		while (w->nq > 0 && w->q[0]->at <= w->now) {
			q = sim_heap_pop(w);
			sim_deliver(w, q);
			free(q);
			sim_watch(w);
		}
		for (i = 0; i < SIM_MAX; i++)
			if (w->m[i].up)
				sim_timers(w, &w->m[i]);
		sim_watch(w);
	}
	w->now = until;
}

/* enum repl_sm_phase of member i, 0 if it is down. */
int
sim_phase(const struct sim *w, int i)
{
	return (w->m[i].up ? (int)repl_sm_phase(w->m[i].sm) : 0);
}

/* Members up and active, as a mask. */
unsigned int
sim_active(const struct sim *w)
{
	unsigned int	mask = 0;
	int		i;

	for (i = 0; i < SIM_MAX; i++)
		if (sim_phase(w, i) == REPL_SM_ACTIVE)
			mask |= 1u << i;
	return (mask);
}

/* Members up, as a mask. */
unsigned int
sim_up(const struct sim *w)
{
	unsigned int	mask = 0;
	int		i;

	for (i = 0; i < SIM_MAX; i++)
		if (w->m[i].up)
			mask |= 1u << i;
	return (mask);
}

int
sim_count(unsigned int mask)
{
	return (__builtin_popcount(mask));
}

/* Member index of the k-th set bit of mask. */
int
sim_nth(unsigned int mask, unsigned int k)
{
	int	i;

	for (i = 0; i < SIM_MAX; i++)
		if ((mask & (1u << i)) && k-- == 0)
			return (i);
	return (-1);
}

/*
 * n members 10.0.0.1..n, started together: each goes active alone (it
 * hears of no active member), with nothing to transfer.
 */
struct sim *
sim_new(int n, uint64_t seed)
{
	struct sim	*w;
	int		 i;

	assert_non_null(w = calloc(1, sizeof(*w)));
	w->now = SIM_T0;
	w->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	w->sport = 1024;
	for (i = 0; i < 3; i++) {
		world_addr4(&w->srv[i].addr, 192, 0, 2, (uint8_t)(21 + i));
		w->srv[i].weight = 1;
	}
	sim_udp = 0;
	strcpy(w->svc[0].name, "web");
	world_addr4(&w->svc[0].vip, 198, 51, 100, 10);
	w->svc[0].port = 80;
	w->svc[0].scheduler = SCHED_WLC;
	w->svc[0].servers = w->srv;
	w->svc[0].nservers = 3;
	w->svc[1] = w->svc[0];
	strcpy(w->svc[1].name, "dns");
	w->svc[1].protocol = PROTO_UDP;
	w->conf.cluster.scoring = SCORING_CRC32C_MIX;
	w->conf.cluster.hello_ms = SIM_HELLO_MS;
	w->conf.cluster.dead_ms = SIM_DEAD_MS;
	w->conf.tables.ltoc_size = 1024;
	w->conf.tables.cache_size = 1024;
	w->conf.tables.syn_timeout_s = SIM_SYN_S;
	w->conf.tables.tcp_timeout_s = SIM_TCP_S;
	w->conf.tables.fin_timeout_s = SIM_FIN_S;
	w->conf.tables.udp_timeout_s = 30;
	w->conf.tables.udp_stream_timeout_s = 120;
	w->conf.tables.udp_replicate_ms = 1000;
	w->conf.services = w->svc;
	w->conf.nservices = 2;
	assert_int_equal(score_init(&w->score, SCORING_CRC32C_MIX, NULL), 0);
	for (i = 0; i < SIM_MAX; i++) {
		w->m[i].w = w;
		w->m[i].idx = i;
		world_addr4(&w->m[i].addr, 10, 0, 0, (uint8_t)(i + 1));
		w->m[i].id.len = 4;
		memcpy(w->m[i].id.b, w->m[i].addr.u.b, 4);
	}
	for (i = 0; i < n; i++)
		sim_start(w, i);
	sim_run(w, 1500);
	for (i = 0; i < n; i++)
		assert_int_equal(sim_phase(w, i), REPL_SM_ACTIVE);
	return (w);
}

void
sim_free(struct sim *w)
{
	int	i;

	for (i = 0; i < SIM_MAX; i++)
		if (w->m[i].up)
			sim_stop(w, i);
	while (w->nq > 0)
		free(sim_heap_pop(w));
	free(w->q);
	sim_log_world = NULL;
	free(w);
}

/* ---- clients ---------------------------------------------------------- */

/* A TCP (UDP with sim_udp) packet 203.0.113.7:sport -> 198.51.100.10:80. */
static struct pkt_info
sim_pkt(uint16_t sport, uint8_t flags)
{
	struct pkt_info	pi = world_pkt(10, 80, sport, flags);

	pi.seq = 1000u + sport;		/* a retransmitted SYN: the same tag */
	if (sim_udp) {
		pi.key.len |= FLOW_KEY_UDP;
		pi.proto = 17;
		pi.tcp_flags = 0;
		pi.seq = 0;
	}
	return (pi);
}

/* Owner and backup of sport among the members of mask (-1: none). */
void
sim_rank(const struct sim *w, unsigned int mask, uint16_t sport, int *o,
    int *b)
{
	struct score_member	sm[SIM_MAX];
	struct pkt_info		pi = sim_pkt(sport, 0);
	int			who[SIM_MAX], oi, bi, i;
	size_t			n = 0;

	for (i = 0; i < SIM_MAX; i++)
		if (mask & (1u << i)) {
			score_member_init(&w->score, &sm[n], &w->m[i].id);
			who[n++] = i;
		}
	score_rank(&w->score, sm, n, &pi.key, &oi, &bi);
	*o = oi < 0 ? -1 : who[oi];
	*b = bi < 0 ? -1 : who[bi];
}

/*
 * A fresh client port whose owner and backup are o1, b1 among mask1 and
 * o2, b2 among mask2 (mask2 0: no second condition; SIM_ANY: any backup).
 */
uint16_t
sim_port(struct sim *w, unsigned int mask1, int o1, int b1,
    unsigned int mask2, int o2, int b2)
{
	int	o, b;

	for (; w->sport < 65000; w->sport++) {
		sim_rank(w, mask1, w->sport, &o, &b);
		if (o != o1 || (b1 != SIM_ANY && b != b1))
			continue;
		if (mask2 != 0) {
			sim_rank(w, mask2, w->sport, &o, &b);
			if (o != o2 || (b2 != SIM_ANY && b != b2))
				continue;
		}
		return (w->sport++);
	}
	fail_msg("no client port for owner %d backup %d", o1, b1);
	return (0);
}

/*
 * A client packet reaches member i (the router's choice); a handoff goes
 * on to the owner. Returns the verdict; act is the last decision's.
 */
int
sim_packet(struct sim *w, int i, uint16_t sport, uint8_t flags,
    struct lb_action *act)
{
	struct pkt_info		 pi = sim_pkt(sport, flags);
	struct sim_member	*m = &w->m[i];
	int			 j;

	assert_true(m->up);
	lb_decide(&m->lb, &pi, 0, w->now, act);
	repl_sm_flush_batch(m->sm);
	if (act->verdict != LB_HANDOFF)
		return (act->verdict);
	if ((j = sim_of_slot(w, m, act->member)) < 0 || !w->m[j].up) {
		act->verdict = LB_DROP;
		act->drop = LB_DROP_NONE;	/* lost on the way */
		return (LB_DROP);
	}
	lb_decide(&w->m[j].lb, &pi, LB_BY_HANDOFF, w->now, act);
	repl_sm_flush_batch(w->m[j].sm);
	if (act->verdict != LB_HANDOFF)
		return (act->verdict);
	/* issue 22: a UDP datagram handed on once more (relayed) */
	assert_true(act->flags & LB_ACT_F_RELAY);
	m = &w->m[j];
	if ((j = sim_of_slot(w, m, act->member)) < 0 || !w->m[j].up) {
		act->verdict = LB_DROP;
		act->drop = LB_DROP_NONE;
		return (LB_DROP);
	}
	lb_decide(&w->m[j].lb, &pi, LB_BY_RELAY, w->now, act);
	repl_sm_flush_batch(w->m[j].sm);
	assert_int_not_equal(act->verdict, LB_HANDOFF);
	return (act->verdict);
}

/* The same, asserting it is forwarded; the server's index. */
int
sim_fwd(struct sim *w, int i, uint16_t sport, uint8_t flags)
{
	struct lb_action	act;

	assert_int_equal(sim_packet(w, i, sport, flags, &act), LB_FORWARD);
	return (act.server);
}

struct conn_entry *
sim_ltoc(struct sim *w, int i, uint16_t sport)
{
	struct pkt_info	pi = sim_pkt(sport, 0);

	return (w->m[i].up ? ltoc_lookup(&w->m[i].lb.ltoc, &pi.key) : NULL);
}

struct conn_entry *
sim_cache(struct sim *w, int i, uint16_t sport)
{
	struct pkt_info	pi = sim_pkt(sport, 0);

	return (w->m[i].up ? cache_peek(&w->m[i].lb.cache, &pi.key) : NULL);
}

/* Member i holds sport in its LTOC with role, server and holders o, b. */
void
sim_assert_holds(struct sim *w, int i, uint16_t sport, int role, int server,
    int o, int b)
{
	struct conn_entry	*e = sim_ltoc(w, i, sport);

	assert_non_null(e);
	assert_int_equal(e->role, role);
	assert_int_equal(e->server, server);
	assert_int_equal(sim_of_slot(w, &w->m[i], e->owner), o);
	assert_int_equal(sim_of_slot(w, &w->m[i], e->backup), b);
}

const struct repl_stats *
sim_stats(const struct sim *w, int i)
{
	return (repl_sm_stats(w->m[i].sm));
}

/* Trace what each member holds of the watched port when it changes. */
static void
sim_watch(struct sim *w)
{
	struct conn_entry	*e;
	char			 buf[48];
	int			 i, cached;

	if (sim_watch_port == 0)
		return;
	for (i = 0; i < SIM_MAX; i++) {
		buf[0] = '\0';
		cached = (e = sim_ltoc(w, i, sim_watch_port)) == NULL;
		if (cached)
			e = sim_cache(w, i, sim_watch_port);
		if (e != NULL)
			snprintf(buf, sizeof(buf), "%s role %d state %d srv %d "
			    "o m%d b m%d", cached ? "cache" : "ltoc", e->role,
			    e->state, e->server, sim_of_slot(w, &w->m[i],
			    e->owner), sim_of_slot(w, &w->m[i], e->backup));
		if (strcmp(buf, w->watched[i]) != 0) {
			sim_tracef(w, "watch %u at m%d: %s", sim_watch_port, i,
			    buf[0] ? buf : "none");
			strcpy(w->watched[i], buf);
		}
	}
}

