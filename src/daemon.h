/* daemon.h: the daemon's parts, their lifetimes, reload, leave, counters. */
#ifndef ILBD_DAEMON_H
#define ILBD_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "counter.h"
#include "digest.h"

struct event_base;
struct capture_stats;
struct cluster;
struct control_stats;
struct health_stats;
struct cluster_table;
struct daemon;
struct dp_stats;
struct fwd_stats;
struct gre_stats;
struct icmp_tx_stats;
struct lb;
struct neigh_stats;
struct peer_stats;
struct repl;
struct repl_stats;
struct tun_stats;
struct xdp_stats;
struct workers_stats;

/*
 * Open every socket and device conf asks for and start the data path on
 * base. conf must outlive the daemon. Returns NULL with *cause set.
 */
struct daemon	*daemon_open(struct event_base *, const struct ilbd_conf *,
		    char **);
void		 daemon_close(struct daemon *);
/* Log one line "stats: key=value ..." with every counter. */
void		 daemon_log_stats(struct daemon *);

/* Every counter and gauge of the daemon, in a stable order. */
void		 daemon_foreach_counter(struct daemon *, dp_counter_cb, void *);

/*
 * What daemon_foreach_counter() exports from, gathered from the parts:
 * each one's stats, NULL for a part the daemon lacks (tun or capture;
 * fwd and neigh without a dsr service; icmp). lb is always set.
 */
struct daemon_counter_parts {
	const struct lb			*lb;	/* counters and table sizes */
	const struct dp_stats		*dp;
	const struct cluster_table	*cluster; /* counters and members */
	const struct tun_stats		*tun;
	const struct capture_stats	*capture;
	const struct fwd_stats		*fwd;
	const struct neigh_stats	*neigh;
	const struct gre_stats		*gre;
	const struct icmp_tx_stats	*icmp;
	const struct peer_stats		*peer;
	const struct repl_stats		*repl;
	const struct health_stats	*health;	/* daemon_set_stats() */
	const struct control_stats	*control;
	const struct xdp_stats		*xdp;	/* input mode xdp, else NULL */
	const struct workers_stats	*workers; /* input.workers > 1, else
						     NULL */
};
/* The parts of d, as daemon_foreach_counter() walks them. */
void		 daemon_counter_parts(struct daemon *,
		    struct daemon_counter_parts *);
/*
 * The health checker's and the control socket's counters, kept elsewhere
 * (ilbd.c opens them): show stats and /metrics export them once set.
 */
void		 daemon_set_stats(struct daemon *, const struct health_stats *,
		    const struct control_stats *);
/* The counter tables of those two (counter_ext.c). */
extern const struct counter_desc health_counters[];
extern const struct counter_desc control_counters[];
/*
 * Their counters and gauges in the stats line's order (tests/netns read
 * it): daemon_foreach_counter() without the per-server gauges, I/O-free.
 */
void		 daemon_counter_walk(const struct daemon_counter_parts *,
		    dp_counter_cb, void *);
/* The stats line's key of a counter: lb and dp bare, others sub_name. */
void		 daemon_counter_key(const struct dp_counter *, char *, size_t);
/* The parts, for ilbctl's commands and /metrics (read; change via lb). */
struct lb	*daemon_lb(struct daemon *);
struct cluster	*daemon_cluster(struct daemon *);
struct repl	*daemon_repl(struct daemon *);
const struct ilbd_conf *daemon_conf(const struct daemon *);
/* Rebuild the schedulers after sched_set_*() (drain, weight, health). */
void		 daemon_sched_changed(struct daemon *);

/*
 * A reloaded configuration: applied without losing a connection, or
 * refused (-1, *cause) with nothing changed. summary gets one line.
 */
int		 daemon_reload(struct daemon *, const struct ilbd_conf *,
		    char *, size_t, char **);

/*
 * What show info and the metrics tell of the process: its start, the
 * configuration's digest (read when it was loaded), the last reload.
 */
#define DAEMON_RESULT_MAX	256
struct daemon_info {
	time_t		start_time;		/* wall clock, at daemon_open */
	uint64_t	start_ms;		/* util_now_ms() then */
	char		conf_sha256[DIGEST_SHA256_HEX];	/* "": unreadable */
	uint64_t	reloads;		/* attempts noted */
	uint64_t	reload_failures;
	time_t		reload_time;		/* last attempt; 0: never */
	int		reload_ok;		/* its outcome (1 before any) */
	char		reload_result[DAEMON_RESULT_MAX];
	int		leaving;		/* daemon_leave() was called */
};
const struct daemon_info *daemon_info(const struct daemon *);
/* A reload attempt that failed before daemon_reload() (ilbctl reload). */
void		 daemon_note_reload(struct daemon *, int, const char *);

/* Graceful leave: hand every entry over, then call done(arg). */
void		 daemon_leave(struct daemon *, void (*)(void *), void *);

#endif
