/* health.h: TCP health checks of every service's servers. */
#ifndef ILBD_HEALTH_H
#define ILBD_HEALTH_H

#include <stdint.h>

#include "config.h"
#include "util.h"

struct event_base;
struct health;

/*
 * Every counter once: X(name, help), as in stats.h.  A check is one
 * connect attempt; errors are checks that could not be started (no socket:
 * EMFILE, ENOBUFS ...) and count neither as success nor as failure.
 */
#define HEALTH_STATS_FOREACH(X)						\
	X(checks, "TCP health checks completed")			\
	X(failures, "health checks that failed (error or timeout)")	\
	X(timeouts, "health checks that timed out")			\
	X(errors, "health checks not started: no socket")		\
	X(ups, "servers that went from down to up")			\
	X(downs, "servers that went from up to down")

struct health_stats {
#define HEALTH_STATS_FIELD(name, help)	uint64_t name;
	HEALTH_STATS_FOREACH(HEALTH_STATS_FIELD)
#undef HEALTH_STATS_FIELD
};

/*
 * The rise/fall state machine of one server (relayd, keepalived):
 * consecutive successes and failures since the last opposite result.  A
 * server starts up with both counts at 0, so traffic flows from the start
 * and a dead server is down after fall failed checks.
 */
struct health_fsm {
	uint8_t		up;		/* 1 up, 0 down */
	uint32_t	nok;		/* consecutive successes, saturating */
	uint32_t	nfail;		/* consecutive failures, saturating */
};

/* Start state: up, no history. */
void	health_fsm_init(struct health_fsm *);
/*
 * Feed one check result (ok 1 success, 0 failure) with the service's rise
 * and fall (0 is taken as 1).  Returns 1 if the state changed (read
 * fsm->up), 0 otherwise.  Pure.
 */
int	health_fsm_feed(struct health_fsm *, int, uint32_t, uint32_t);
/*
 * Delay in ms before the first check of host i of n (over every service),
 * so that n checks are spread evenly over interval_ms.  Pure.
 */
uint32_t
	health_first_delay(unsigned int, unsigned int, uint32_t);

/*
 * Called on every transition of a server: service and server indexes in
 * the configuration, up 1 or 0.  The daemon calls lb_server_set_up() and
 * daemon_sched_changed().  The callback must not call health_reload() or
 * health_close().
 */
typedef void	(*health_cb)(void *, unsigned int, unsigned int, int);

/*
 * Check every server of every service with check = "tcp": every
 * interval_ms a non-blocking connect to the server's address on the
 * service's port, failed if not complete within timeout_ms.  The first
 * checks are spread over the interval.  Every server starts up (as the
 * schedulers do); services with check = "none" are never checked and stay
 * up.  conf is copied from: it need not outlive the checks.  Returns NULL
 * with *cause set (malloc'd) on failure.
 */
struct health	*health_open(struct event_base *, const struct ilbd_conf *,
		    health_cb, void *, char **);
/*
 * Switch to a new configuration: checks restart (spread again); a server
 * found in both (same service name, same address) keeps its state and
 * counts, any other starts up.  Then cb is called, with the new indexes,
 * for every server that is down, since the caller's schedulers rebuilt
 * from the new configuration start with every server up.  Returns 0, or -1
 * with *cause set (malloc'd) and the old checks still running.
 */
int		 health_reload(struct health *, const struct ilbd_conf *,
		    char **);
void		 health_close(struct health *);

/*
 * The service name and server address behind config indexes, for a caller
 * whose own indexes differ (lb keeps indexes stable across reloads):
 * NULL if out of range.
 */
const char	*health_service_name(const struct health *, unsigned int);
const struct ilb_addr *health_server_addr(const struct health *,
		    unsigned int, unsigned int);

/* 1 up, 0 down; a service or server out of range, or unchecked: 1. */
int		 health_state(const struct health *, unsigned int,
		    unsigned int);

/* One server as `show servers` prints it. */
struct health_info {
	int		checked;	/* 0: check = "none" */
	int		up;
	uint32_t	nok;		/* consecutive successes */
	uint32_t	nfail;		/* consecutive failures */
	int		last_error;	/* errno of the last failure, 0 none */
	uint64_t	checks;		/* completed checks */
	uint64_t	failures;	/* failed checks */
};
/* Returns 0, or -1 if the service or server is out of range. */
int		 health_info(const struct health *, unsigned int, unsigned int,
		    struct health_info *);
const struct health_stats *health_stats(const struct health *);

#endif
