/* repl.c: replication's I/O edge: clock, timer, peer channel, multicast. */
#include <sys/types.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "admin.h"
#include "cluster.h"
#include "lb.h"
#include "log.h"
#include "msg.h"
#include "peer.h"
#include "repl.h"
#include "repl_sm.h"
#include "util.h"

struct repl {
	const struct ilbd_conf	*conf;
	struct cluster		*cluster;
	struct peer		*peer;		/* the reliable channel */
	struct repl_sm		*sm;		/* the logic */
	struct event		*ev_poll;	/* REPL_SM_POLL_MS, on demand */
	struct lb		*lb;
	struct admin		*admin;		/* cluster-wide drain, weight */
	struct event		*ev_admin;	/* ADMIN_TICK_MS, persistent */
	void			(*leave_done)(void *);
	void			*leave_arg;
};

const struct counter_desc repl_counters[] = {
#define REPL_COUNTER(name, help)					\
	COUNTER_FIELD(struct repl_stats, name, help)
	REPL_STATS_FOREACH(REPL_COUNTER)
#undef REPL_COUNTER
	COUNTER_END
};

static void
repl_poll_later(struct repl *r)
{
	struct timeval	tv = { 0, REPL_SM_POLL_MS * 1000 };

	event_add(r->ev_poll, &tv);
}

static int
repl_send_mcast(void *arg, uint8_t type, const uint8_t *body, size_t len)
{
	struct repl	*r = arg;

	return (cluster_send(r->cluster, type, body, len));
}

static int
repl_send_reliable(void *arg, uint16_t slot, uint8_t type,
    const uint8_t *body, size_t len)
{
	struct repl		*r = arg;
	const struct ilb_addr	*to;

	if ((to = cluster_slot_addr(r->cluster, slot, 0)) == NULL)
		return (-1);
	return (peer_send(r->peer, to, r->conf->cluster.port, type, body,
	    len));
}

static int
repl_send_admin(void *arg, const uint8_t *body, size_t len)
{
	struct repl	*r = arg;

	return (cluster_send(r->cluster, MSG_T_ADMIN, body, len));
}

static void
repl_on_admin(evutil_socket_t fd, short what, void *arg)
{
	struct repl	*r = arg;

	(void)fd;
	(void)what;
	admin_tick(r->admin, util_now_ms());
}

/* The wall clock in ms: ADMIN versions order commands across restarts. */
uint64_t
repl_realtime_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return (0);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Announcing a state may call repl_members_changed() (daemon_on_members()). */
static void
repl_set_state(void *arg, enum msg_state st)
{
	struct repl	*r = arg;

	cluster_set_state(r->cluster, st);
}

static void
repl_left(void *arg)
{
	struct repl	*r = arg;

	if (r->leave_done != NULL)
		r->leave_done(r->leave_arg);
}

static void
repl_on_event(void *arg, enum cluster_event ev, uint16_t slot,
    const struct cluster_member *m)
{
	struct repl	*r = arg;

	/* What was queued to or came from a member's old life is void. */
	if (!m->self && (ev == CLUSTER_E_RESTART || ev == CLUSTER_E_GONE))
		peer_drop(r->peer, &m->addr);
	/* a member that (re)starts learns the cluster-wide server state */
	if (!m->self && (ev == CLUSTER_E_RESTART || ev == CLUSTER_E_JOIN))
		admin_member_joined(r->admin);
	repl_sm_member_event(r->sm, ev, slot, m, util_now_ms());
	if (m->self)		/* a merge: self joins again, polled */
		repl_poll_later(r);
}

static void
repl_on_mc(void *arg, uint16_t slot, const struct msg_view *v)
{
	struct repl	*r = arg;

	if (v->hdr.type == MSG_T_ADMIN) {
		admin_input(r->admin, v);
		return;
	}
	repl_sm_rx_mcast(r->sm, slot, v, util_now_ms());
}

static void
repl_on_peer(void *arg, const struct msg_view *v, const uint8_t *raw,
    const struct ilb_addr *from)
{
	struct repl	*r = arg;

	(void)from;
	repl_sm_rx_reliable(r->sm, v, raw, util_now_ms());
}

static void
repl_on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct repl	*r = arg;

	(void)fd;
	(void)what;
	if (repl_sm_tick(r->sm, util_now_ms()))
		repl_poll_later(r);
}

void
repl_flush_batch(struct repl *r)
{
	repl_sm_flush_batch(r->sm);
}

void
repl_flush(struct repl *r)
{
	repl_sm_flush(r->sm, util_now_ms());
}

void
repl_members_changed(struct repl *r)
{
	repl_sm_members_changed(r->sm);
}

enum repl_sm_phase
repl_phase(const struct repl *r)
{
	return (repl_sm_phase(r->sm));
}

void
repl_leave(struct repl *r, void (*done)(void *), void *arg)
{
	r->leave_done = done;
	r->leave_arg = arg;
	if (repl_sm_leave(r->sm, util_now_ms()))
		repl_poll_later(r);
}

struct repl *
repl_open(struct event_base *base, const struct ilbd_conf *conf,
    struct lb *lb, struct cluster *cluster, char **cause)
{
	struct repl		*r;
	struct repl_sm_io	 io;
	struct timeval		 tv = { 0, ADMIN_TICK_MS * 1000 };
	char			*why = NULL;
	int			 n;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->admin = calloc(1, sizeof(*r->admin))) == NULL) {
		free(r);
		*cause = strdup("out of memory");
		return (NULL);
	}
	r->conf = conf;
	r->cluster = cluster;
	r->lb = lb;
	admin_init(r->admin, lb, cluster_slot_id(cluster,
	    cluster_self_slot(cluster)), repl_send_admin, r);
	io.send_mcast = repl_send_mcast;
	io.send_reliable = repl_send_reliable;
	io.set_state = repl_set_state;
	io.left = repl_left;
	io.arg = r;
	if ((r->sm = repl_sm_new(conf, lb, cluster_get_table(cluster), &io,
	    util_now_ms())) == NULL) {
		*cause = strdup("out of memory");
		repl_close(r);
		return (NULL);
	}
	if ((r->peer = peer_open(base, conf, cluster_slot_id(cluster,
	    cluster_self_slot(cluster)), cluster_epoch(cluster),
	    repl_on_peer, r, cause)) == NULL ||
	    (r->ev_poll = evtimer_new(base, repl_on_poll, r)) == NULL ||
	    (r->ev_admin = event_new(base, -1, EV_PERSIST, repl_on_admin,
	    r)) == NULL || event_add(r->ev_admin, &tv) == -1) {
		if (r->peer == NULL && *cause == NULL)
			*cause = strdup("cannot open the reliable channel");
		repl_close(r);
		return (NULL);
	}
	cluster_set_event_cb(cluster, repl_on_event, r);
	cluster_set_msg_cb(cluster, repl_on_mc, r);
	lb->admin = r->admin;
	/* what the cluster had decided when this member stopped */
	admin_set_dir(r->admin, conf->node.state_dir, conf->node.user);
	if ((n = admin_load(r->admin, &why)) == -1) {
		log_warnx("admin: %s: starting without it", why != NULL ? why :
		    "out of memory");
		free(why);
	} else if (n > 0)
		log_info("admin: %d cluster-wide server states from %s/%s "
		    "applied", n, conf->node.state_dir, ADMIN_FILE);
	repl_poll_later(r);
	return (r);
}

void
repl_close(struct repl *r)
{
	if (r == NULL)
		return;
	if (r->cluster != NULL) {
		cluster_set_event_cb(r->cluster, NULL, NULL);
		cluster_set_msg_cb(r->cluster, NULL, NULL);
	}
	if (r->ev_poll != NULL)
		event_free(r->ev_poll);
	if (r->ev_admin != NULL)
		event_free(r->ev_admin);
	if (r->lb != NULL && r->lb->admin == r->admin)
		r->lb->admin = NULL;
	free(r->admin);
	if (r->peer != NULL)
		peer_close(r->peer);
	repl_sm_free(r->sm);
	free(r);
}

const struct repl_stats *
repl_stats(const struct repl *r)
{
	return (repl_sm_stats(r->sm));
}

void
repl_set_conf(struct repl *r, const struct ilbd_conf *conf)
{
	r->conf = conf;
	repl_sm_set_conf(r->sm, conf);
	admin_reload(r->admin);
	if (r->peer != NULL)
		peer_set_keys(r->peer, conf);	/* key rotation */
}

const struct peer_stats *
repl_peer_stats(const struct repl *r)
{
	return (peer_stats(r->peer));
}
