/* worker.c: input worker threads and their rings to the daemon's loop. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* pthread_setname_np */
#endif

#include <sys/eventfd.h>

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "fwd.h"
#include "log.h"
#include "spsc.h"
#include "util.h"
#include "worker.h"

struct worker {
	struct workers		*ws;
	unsigned int		 idx;
	struct spsc		 ring;		/* worker -> daemon's loop */
	struct event_base	*base;		/* the worker's loop */
	int			 wake_fd;	/* eventfd: the ring has news */
	struct event		*ev_wake;	/* on the daemon's loop */
	int			 stop_fd;	/* eventfd: stop the loop */
	struct event		*ev_stop;	/* on the worker's loop */
	pthread_t		 thread;
	int			 running;
	struct workers_stats	 stats;		/* written by the worker */
	/* output: the daemon's loop -> the worker, which sends */
	struct spsc		 tx;
	struct fwd		*fwd;		/* its own socket; NULL: none */
	int			 tx_fd;		/* eventfd: frames to send */
	struct event		*ev_tx;		/* on the worker's loop */
	int			 tx_put;	/* the daemon's loop put some */
	uint64_t		 tx_dropped;	/* the daemon's loop's count */
};

struct workers {
	struct event_base	*main;
	workers_cb		 cb;
	void			*arg;
	unsigned int		 n;
	struct worker		*w;
};

static void	 workers_eventfd_read(evutil_socket_t, short, struct worker *,
		    const char *);
static void	 workers_on_wake(evutil_socket_t, short, void *);
static void	 workers_on_stop(evutil_socket_t, short, void *);
static void	 workers_on_tx(evutil_socket_t, short, void *);
static void	 workers_send(void *, const uint8_t *const *, const size_t *,
		    size_t);
static void	*workers_main(void *);

struct workers *
workers_open(struct event_base *main, unsigned int n, workers_cb cb,
    void *arg, char **cause)
{
	struct workers	*ws;
	struct worker	*w;
	unsigned int	 i;

	*cause = NULL;
	if (n == 0 || n > WORKERS_MAX) {
		util_cause(cause, "input workers: %u (1 to %u)", n,
		    WORKERS_MAX);
		return (NULL);
	}
	if ((ws = calloc(1, sizeof(*ws))) == NULL ||
	    (ws->w = calloc(n, sizeof(*ws->w))) == NULL) {
		free(ws);
		*cause = strdup("input workers: out of memory");
		return (NULL);
	}
	ws->main = main;
	ws->cb = cb;
	ws->arg = arg;
	for (i = 0; i < n; i++) {
		w = &ws->w[i];
		w->ws = ws;
		w->idx = i;
		w->wake_fd = w->stop_fd = w->tx_fd = -1;
		ws->n++;
		if (spsc_init(&w->ring, WORKER_RING) == -1 ||
		    (w->base = event_base_new()) == NULL ||
		    (w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) ==
		    -1 ||
		    (w->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) ==
		    -1 ||
		    (w->ev_wake = event_new(main, w->wake_fd,
		    EV_READ | EV_PERSIST, workers_on_wake, w)) == NULL ||
		    event_add(w->ev_wake, NULL) == -1 ||
		    (w->ev_stop = event_new(w->base, w->stop_fd,
		    EV_READ | EV_PERSIST, workers_on_stop, w)) == NULL ||
		    event_add(w->ev_stop, NULL) == -1) {
			util_cause(cause, "input worker %u: %s", i,
			    errno != 0 ? strerror(errno) : "cannot set up");
			workers_close(ws);
			return (NULL);
		}
	}
	return (ws);
}

struct event_base *
workers_base(struct workers *ws, unsigned int i)
{
	return (ws->w[i].base);
}

void *
workers_arg(struct workers *ws, unsigned int i)
{
	return (&ws->w[i]);
}

unsigned int
workers_cpus(void)
{
	cpu_set_t	set;
	int		n;

	if (sched_getaffinity(0, sizeof(set), &set) == -1 ||
	    (n = CPU_COUNT(&set)) < 1)
		return (1);
	return (n > WORKERS_MAX ? WORKERS_MAX : (unsigned int)n);
}

unsigned int
workers_count(const struct workers *ws)
{
	return (ws == NULL ? 0 : ws->n);
}

/* In the worker's thread: copy the burst onto the ring, wake if asleep. */
void
workers_input(void *arg, const uint8_t *const *pkts, const size_t *lens,
    size_t n)
{
	struct worker	*w = arg;
	uint64_t	 one = 1, put = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		if (spsc_put(&w->ring, pkts[i], lens[i]) == 0)
			put++;
	if (put < n)
		__atomic_store_n(&w->stats.dropped, w->stats.dropped +
		    (n - put), __ATOMIC_RELAXED);
	if (put == 0)
		return;
	__atomic_store_n(&w->stats.packets, w->stats.packets + put,
	    __ATOMIC_RELAXED);
	if (spsc_publish(&w->ring)) {
		__atomic_store_n(&w->stats.wakeups, w->stats.wakeups + 1,
		    __ATOMIC_RELAXED);
		if (write(w->wake_fd, &one, sizeof(one)) == -1 &&
		    errno != EAGAIN)
			log_debug("input worker %u: wake: %s", w->idx,
			    strerror(errno));
	}
}

/* Reset an eventfd that woke us (not when run by event_active()). */
static void
workers_eventfd_read(evutil_socket_t fd, short what, struct worker *w,
    const char *which)
{
	uint64_t	v;

	if ((what & EV_READ) && read(fd, &v, sizeof(v)) == -1 &&
	    errno != EAGAIN)
		log_debug("input worker %u: %s: %s", w->idx, which,
		    strerror(errno));
}

/*
 * In the daemon's loop: hand the ring's bursts on, WORKER_BUDGET packets
 * at most (then the loop's other events run, and this one again).
 */
static void
workers_on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	workers_eventfd_read(fd, what, w, "wake");
	if (spsc_drain(&w->ring, WORKER_BUDGET, w->ws->cb, w->ws->arg))
		event_active(w->ev_wake, EV_TIMEOUT, 0);
}

/* Stop the worker's loop; its eventfd read, so that a restart runs. */
static void
workers_on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	workers_eventfd_read(fd, what, w, "stop");
	event_base_loopbreak(w->base);
}

static void *
workers_main(void *arg)
{
	struct worker	*w = arg;

	if (event_base_dispatch(w->base) == -1)
		log_warnx("input worker %u: its loop failed", w->idx);
	return (NULL);
}

int
workers_start(struct workers *ws, char **cause)
{
	sigset_t	all, old;
	char		name[24];	/* the kernel keeps 15 */
	unsigned int	i;
	int		e = 0;

	*cause = NULL;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < ws->n && e == 0; i++) {
		if ((e = pthread_create(&ws->w[i].thread, NULL, workers_main,
		    &ws->w[i])) != 0)
			break;
		ws->w[i].running = 1;
		snprintf(name, sizeof(name), "ilbd-in%u", i);
		name[15] = '\0';
		pthread_setname_np(ws->w[i].thread, name);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		workers_stop(ws);
		return (util_cause(cause, "input worker %u: cannot start "
		    "its thread: %s", i, strerror(e)));
	}
	return (0);
}

void
workers_stop(struct workers *ws)
{
	uint64_t	one = 1;
	unsigned int	i;

	if (ws == NULL)
		return;
	for (i = 0; i < ws->n; i++) {
		if (!ws->w[i].running)
			continue;
		if (write(ws->w[i].stop_fd, &one, sizeof(one)) == -1)
			log_warn("input worker %u: stop", i);
		pthread_join(ws->w[i].thread, NULL);
		ws->w[i].running = 0;
	}
}

void
workers_close(struct workers *ws)
{
	struct worker	*w;
	unsigned int	 i;

	if (ws == NULL)
		return;
	workers_stop(ws);
	for (i = 0; i < ws->n; i++) {
		w = &ws->w[i];
		if (w->ev_wake != NULL)
			event_free(w->ev_wake);
		if (w->ev_stop != NULL)
			event_free(w->ev_stop);
		if (w->base != NULL)
			event_base_free(w->base);
		if (w->wake_fd != -1)
			close(w->wake_fd);
		if (w->stop_fd != -1)
			close(w->stop_fd);
		if (w->ev_tx != NULL)
			event_free(w->ev_tx);
		if (w->tx_fd != -1)
			close(w->tx_fd);
		spsc_free(&w->tx);
		spsc_free(&w->ring);
	}
	free(ws->w);
	free(ws);
}

int
workers_set_tx(struct workers *ws, unsigned int i, struct fwd *f,
    char **cause)
{
	struct worker	*w = &ws->w[i];

	*cause = NULL;
	if (spsc_init(&w->tx, WORKER_RING) == -1 ||
	    (w->tx_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (w->ev_tx = event_new(w->base, w->tx_fd, EV_READ | EV_PERSIST,
	    workers_on_tx, w)) == NULL || event_add(w->ev_tx, NULL) == -1)
		return (util_cause(cause, "input worker %u: output: %s", i,
		    errno != 0 ? strerror(errno) : "cannot set up"));
	w->fwd = f;
	return (0);
}

/*
 * In the daemon's loop (fwd_flush()'s sink): each frame to the worker
 * chosen by its IP addresses, so that the frames of one flow stay in
 * order (one worker sends them all); then the workers that got some are
 * woken if they sleep.
 */
void
workers_tx(void *arg, const uint8_t *const *frames, const size_t *lens,
    size_t n)
{
	struct workers	*ws = arg;
	struct worker	*w;
	uint64_t	 one = 1;
	uint32_t	 h;
	size_t		 i, j, alen;
	unsigned int	 k;

	for (i = 0; i < n; i++) {
		/* source and destination: 12+12+8 (v4), 14+8+32 (v6) */
		if (lens[i] >= 14 + 40 && (frames[i][14] >> 4) == 6)
			j = 14 + 8, alen = 32;
		else if (lens[i] >= 14 + 20)
			j = 14 + 12, alen = 8;
		else
			j = 0, alen = 0;
		for (h = 2166136261u; alen > 0; alen--, j++)
			h = (h ^ frames[i][j]) * 16777619u;
		w = &ws->w[h % ws->n];
		if (w->fwd == NULL || spsc_put(&w->tx, frames[i], lens[i]) ==
		    -1) {
			w->tx_dropped++;
			continue;
		}
		w->tx_put = 1;
	}
	for (k = 0; k < ws->n; k++) {
		w = &ws->w[k];
		if (!w->tx_put)
			continue;
		w->tx_put = 0;
		if (spsc_publish(&w->tx) && write(w->tx_fd, &one,
		    sizeof(one)) == -1 && errno != EAGAIN)
			log_debug("input worker %u: wake for output: %s", k,
			    strerror(errno));
	}
}

/* In the worker's thread: one burst of frames for its socket. */
static void
workers_send(void *arg, const uint8_t *const *frames, const size_t *lens,
    size_t n)
{
	struct worker	*w = arg;
	unsigned int	 errors;

	errors = fwd_send_frames(w->fwd, frames, lens, n);
	__atomic_store_n(&w->stats.sent, w->stats.sent + (n - errors),
	    __ATOMIC_RELAXED);
	if (errors > 0)
		__atomic_store_n(&w->stats.send_errors, w->stats.send_errors +
		    errors, __ATOMIC_RELAXED);
}

/* In the worker's thread: send what the daemon's loop put on tx. */
static void
workers_on_tx(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	workers_eventfd_read(fd, what, w, "output wake");
	if (spsc_drain(&w->tx, 4 * WORKER_BUDGET, workers_send, w))
		event_active(w->ev_tx, EV_TIMEOUT, 0);
}

void
workers_stats_one(const struct workers *ws, unsigned int i,
    struct workers_stats *s)
{
	const struct worker	*w = &ws->w[i];

	s->packets = __atomic_load_n(&w->stats.packets, __ATOMIC_RELAXED);
	s->dropped = __atomic_load_n(&w->stats.dropped, __ATOMIC_RELAXED);
	s->wakeups = __atomic_load_n(&w->stats.wakeups, __ATOMIC_RELAXED);
	s->sent = __atomic_load_n(&w->stats.sent, __ATOMIC_RELAXED);
	s->send_errors = __atomic_load_n(&w->stats.send_errors,
	    __ATOMIC_RELAXED);
	s->send_dropped = w->tx_dropped;	/* the caller's thread's */
}

void
workers_stats(const struct workers *ws, struct workers_stats *sum)
{
	struct workers_stats	one;
	unsigned int		i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; ws != NULL && i < ws->n; i++) {
		workers_stats_one(ws, i, &one);
		sum->packets += one.packets;
		sum->dropped += one.dropped;
		sum->wakeups += one.wakeups;
		sum->sent += one.sent;
		sum->send_errors += one.send_errors;
		sum->send_dropped += one.send_dropped;
	}
}

const struct counter_desc workers_counters[] = {
	{ .name = "worker_packets", .help = "packets the input workers "
	    "put on their rings to the decision's loop",
	    .off = offsetof(struct workers_stats, packets) },
	{ .name = "worker_dropped", .help = "packets an input worker "
	    "dropped: its ring to the decision's loop was full",
	    .off = offsetof(struct workers_stats, dropped) },
	{ .name = "worker_wakeups", .help = "times an input worker woke "
	    "the decision's loop",
	    .off = offsetof(struct workers_stats, wakeups) },
	{ .name = "worker_sent", .help = "frames to servers (dsr) the "
	    "input workers sent for the decision's loop",
	    .off = offsetof(struct workers_stats, sent) },
	{ .name = "worker_send_errors", .help = "frames to servers an input "
	    "worker's socket refused",
	    .off = offsetof(struct workers_stats, send_errors) },
	{ .name = "worker_send_dropped", .help = "frames to servers dropped: "
	    "the ring to their input worker was full",
	    .off = offsetof(struct workers_stats, send_dropped) },
	COUNTER_END
};
