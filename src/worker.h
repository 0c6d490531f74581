/*
 * worker.h: input workers. Each worker is a thread with its own event
 * loop that reads one input queue (a queue of the multi-queue TUN
 * device) and puts the packets, in bursts, on a ring (spsc.h) to the
 * daemon's loop, which owns every connection: the decision and the
 * output stay there, so connection state is touched by one thread only
 * and the per-packet path takes no lock.
 */
#ifndef ILBD_WORKER_H
#define ILBD_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "counter.h"

struct event_base;
struct fwd;
struct workers;

#define WORKERS_MAX		64	/* input.workers */
#define WORKER_RING		(1u << 20)	/* bytes of each ring */
#define WORKER_BUDGET		64	/* packets per wake-up, then others */

/* A burst, as tun_cb: valid until it returns. */
typedef void	(*workers_cb)(void *, const uint8_t *const *, const size_t *,
		    size_t);

struct workers_stats {
	uint64_t	packets;	/* put on a ring */
	uint64_t	dropped;	/* the ring was full */
	uint64_t	wakeups;	/* the daemon's loop woken */
	uint64_t	sent;		/* frames sent for the daemon's loop */
	uint64_t	send_errors;	/* refused by the kernel */
	uint64_t	send_dropped;	/* the output ring was full */
};

/*
 * n workers (1..WORKERS_MAX) whose bursts go to cb(arg, ...) on main (the
 * daemon's loop). Threads do not run yet: open each worker's input on
 * workers_base(), with workers_input as its callback and workers_arg() as
 * its argument, then workers_start(). NULL with a malloc'd *cause.
 */
struct workers	*workers_open(struct event_base *, unsigned int, workers_cb,
		    void *, char **);
struct event_base *workers_base(struct workers *, unsigned int);
void		*workers_arg(struct workers *, unsigned int);
/* The input's callback, in worker i's thread (arg: workers_arg(ws, i)). */
void		 workers_input(void *, const uint8_t *const *, const size_t *,
		    size_t);
/*
 * Worker i sends frames to servers (dsr) on f, a socket of its own (the
 * caller closes it after workers_stop()): set up before workers_start().
 * 0, or -1 with a malloc'd *cause.
 */
int		 workers_set_tx(struct workers *, unsigned int, struct fwd *,
		    char **);
/*
 * The daemon's fwd_flush() sink (arg: the struct workers): each frame to
 * the worker its source and destination addresses hash to, which sends
 * it. Every worker must have had workers_set_tx().
 */
void		 workers_tx(void *, const uint8_t *const *, const size_t *,
		    size_t);
/*
 * Start the threads (named ilbd-inN), every signal blocked in them. 0, or
 * -1 with a malloc'd *cause (the threads started are stopped).
 */
int		 workers_start(struct workers *, char **);
/* Stop and join the threads; then the inputs may be closed. */
void		 workers_stop(struct workers *);
/* workers_stop(), then free everything (NULL: nothing). */
void		 workers_close(struct workers *);
unsigned int	 workers_count(const struct workers *);
/* CPUs this process may run on (1 if unknown), at most WORKERS_MAX. */
unsigned int	 workers_cpus(void);
/* The sum over the workers (each counter whole, not a snapshot). */
void		 workers_stats(const struct workers *, struct workers_stats *);
/* Worker i's own. */
void		 workers_stats_one(const struct workers *, unsigned int,
		    struct workers_stats *);
extern const struct counter_desc workers_counters[];

#endif
