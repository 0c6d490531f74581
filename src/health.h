/* health.h: TCP, HTTP and UDP health checks of every service's servers. */
#ifndef ILBD_HEALTH_H
#define ILBD_HEALTH_H

#include <stddef.h>
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
	X(checks, "health checks completed")				\
	X(failures, "health checks that failed (error or timeout)")	\
	X(timeouts, "health checks that timed out")			\
	X(errors, "health checks not started: no socket")		\
	X(ups, "servers that went from down to up")			\
	X(downs, "servers that went from up to down")

struct health_stats {
#define HEALTH_STATS_FIELD(name, help)	uint64_t name;
	HEALTH_STATS_FOREACH(HEALTH_STATS_FIELD)
#undef HEALTH_STATS_FIELD
	/*
	 * Whose counters these are: those who get the counters (the daemon,
	 * show stats, /metrics) reach each server's last check through them
	 * (health_last_check()). NULL outside health_open().
	 */
	const struct health	*h;
};

/*
 * The rise/fall state machine of one server (relayd, keepalived):
 * consecutive successes and failures since the last opposite result.  A
 * server starts up (health.initial = "up": traffic flows from the start
 * and a dead server is down after fall failed checks) or down ("down",
 * the default: fresh, it is up at its first successful check, whatever
 * rise; after that rise applies), both counts at 0.
 */
struct health_fsm {
	uint8_t		up;		/* 1 up, 0 down */
	uint8_t		fresh;		/* started down, never up yet */
	uint32_t	nok;		/* consecutive successes, saturating */
	uint32_t	nfail;		/* consecutive failures, saturating */
};

/* Start state: up (1) or down and fresh (0), no history. */
void	health_fsm_init(struct health_fsm *, int);
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
 * Check every server of every service with check = "tcp", "http" or
 * "udp": every interval_ms a non-blocking connect to the server's address
 * on health.port (default the service's port); for "http" then one request
 * (method, path, Host, Connection: close) and its status line, which must
 * be within status_min..status_max; for "udp" (a connected UDP socket) one
 * datagram (send) and one answer, which must contain expect (if set), an
 * ICMP port unreachable failing at once; the whole check fails if not done
 * within timeout_ms.  The first checks are spread over the interval.  A server
 * starts as health.initial says; services with check = "none" are never
 * checked and stay up.  The schedulers start with every server up: call
 * health_sync() once the handle is stored.  conf is copied from: it need
 * not outlive the checks.  Returns NULL with *cause set (malloc'd) on
 * failure.
 */
struct health	*health_open(struct event_base *, const struct ilbd_conf *,
		    health_cb, void *, char **);
/*
 * Switch to a new configuration: checks restart (spread again); a server
 * found in both (same service name, same address) keeps its state (and
 * its counts if it was checked before and still is), any other starts as
 * health.initial says.  Then health_sync(), with the new indexes, since
 * the caller's schedulers start new servers up.  Returns 0, or -1 with
 * *cause set (malloc'd) and the old checks still running.
 */
int		 health_reload(struct health *, const struct ilbd_conf *,
		    char **);
/* Call cb for every server that is down (after open and reload). */
void		 health_sync(struct health *);
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
	int		last_error;	/* errno of the last failure, 0 none
					   or once a check passed;
					   EPROTO: HTTP status or no status,
					   UDP answer without expect */
	int		last_status;	/* HTTP status of the last check, 0
					   none (tcp, no answer) */
	uint64_t	checks;		/* completed checks */
	uint64_t	failures;	/* failed checks */
};
/* Returns 0, or -1 if the service or server is out of range. */
int		 health_info(const struct health *, unsigned int, unsigned int,
		    struct health_info *);
const struct health_stats *health_stats(const struct health *);

/* The last check of one server, as `show servers` prints it. */
struct health_check {
	int		checked;	/* 0: check = "none" */
	uint64_t	at_ms;		/* it ended (util_now_ms()), 0: none
					   yet */
	int		err;		/* 0 passed, else errno (EPROTO:
					   HTTP) */
	char		why[64];	/* "ok", strerror() or "HTTP status 503,
					   expected 200"; "" none yet */
};
/*
 * The last check of the server with address a of the service named name,
 * from the checker whose counters st are: 0, or -1 (hc zeroed) if there
 * is no such server or st is not a checker's.
 */
int		 health_last_check(const struct health_stats *, const char *,
		    const struct ilb_addr *, struct health_check *);
/* "ok", why it failed, "pending" (none yet) or "-" (check = "none"). */
const char	*health_check_text(const struct health_check *);

/* health_http.c */
/*
 * The status code of an HTTP status line "HTTP/D.D NNN" followed by SP,
 * CR or LF, from the first len bytes of a response: 100..999; 0 if more
 * bytes are needed; -1 if it is no status line.  Pure.
 */
int		 health_http_status(const char *, size_t);
/* "METHOD PATH HTTP/1.0\r\nHost: " into buf: its length, 0 if too long. */
size_t		 health_http_head(const struct health_conf *, char *, size_t);
/*
 * The Host header's value: health.host, or the server's address ([v6])
 * with ":port" unless port is 80.  Its length, 0 if too long.
 */
size_t		 health_http_host(const struct health_conf *,
		    const struct ilb_addr *, uint16_t, char *, size_t);
/* The end of every request, after the Host value. */
#define HEALTH_HTTP_TAIL	"\r\nConnection: close\r\n" \
				"User-Agent: ilbd-health\r\n\r\n"

#endif
