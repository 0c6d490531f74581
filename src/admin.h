/* admin.h: cluster-wide server drain and weight (ADMIN messages). */
#ifndef ILBD_ADMIN_H
#define ILBD_ADMIN_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "counter.h"
#include "msg.h"

struct lb;

#define ADMIN_RECS_MAX		256	/* servers with a cluster-wide state */
#define ADMIN_TICK_MS		250	/* admin_tick() period */
#define ADMIN_ANNOUNCE_MS	1000	/* every record re-sent this often */
#define ADMIN_BURST		3	/* a change is sent this many ticks */

#define ADMIN_STATS_FOREACH(X)						\
	X(admin_commands, "cluster-wide server commands taken here")	\
	X(admin_sent, "ADMIN messages sent")				\
	X(admin_records_in, "ADMIN records received")			\
	X(admin_applied, "ADMIN records newer than the state held: applied") \
	X(admin_stale, "ADMIN records not newer than the state held")	\
	X(admin_unknown, "ADMIN records for a service or server not here") \
	X(admin_full, "ADMIN records dropped: ADMIN_RECS_MAX held")	\
	X(admin_save_errors, "the state could not be written to state_dir")

struct admin_stats {
#define ADMIN_STAT(name, help) uint64_t name;
	ADMIN_STATS_FOREACH(ADMIN_STAT)
#undef ADMIN_STAT
};
/* Their table (sub "admin"), for /metrics. */
extern const struct counter_desc admin_counters[];

/* Sends one ADMIN body to every member (cluster_send()); 0 or -1. */
typedef int	(*admin_send_fn)(void *, const uint8_t *, size_t);

/*
 * The cluster-wide state: per (service name, server address) the record
 * with the highest (version, origin), applied to lb's scheduler.
 */
struct admin {
	struct lb		*lb;
	struct member_id	 self;
	admin_send_fn		 send;
	void			*arg;
	struct msg_admin	 rec[ADMIN_RECS_MAX];
	unsigned int		 n;
	uint64_t		 clock;		/* highest version seen */
	uint64_t		 next_ms;	/* next full re-announce */
	unsigned int		 burst;		/* ticks left sending at once */
	char			 dir[PATH_MAX];	/* node.state_dir; "" none */
	struct admin_stats	 stats;
};

#define ADMIN_FILE		"admin"		/* in node.state_dir */

void		 admin_init(struct admin *, struct lb *,
		    const struct member_id *, admin_send_fn, void *);
/*
 * A command taken here: drain (drained 0 or 1, weight < 0 unchanged) or
 * weight (drained < 0 unchanged).  Applied at once, sent now and at the
 * next ADMIN_BURST - 1 ticks.  realtime_ms: the wall clock, so that the
 * latest command wins even over a member's restart.  0 and *out the
 * record; -1 if the service or server is not here, or the table is full.
 */
int		 admin_command(struct admin *, const char *,
		    const struct ilb_addr *, int, int, uint64_t,
		    struct msg_admin *);
/* The records of an ADMIN message from another member. */
void		 admin_input(struct admin *, const struct msg_view *);
/* Every ADMIN_TICK_MS: send during a burst and every ADMIN_ANNOUNCE_MS. */
void		 admin_tick(struct admin *, uint64_t);
/* A member joined or restarted: tell it at the next two ticks. */
void		 admin_member_joined(struct admin *);
/* After a reload: drop records of servers gone, apply the others again. */
void		 admin_reload(struct admin *);
/* The record of server addr of service name, or NULL. */
const struct msg_admin *admin_find(const struct admin *, const char *,
		    const struct ilb_addr *);
/*
 * node.state_dir ("" or NULL: none): the records are kept in its file
 * ADMIN_FILE (one hex-encoded ADMIN record a line), written on every
 * change, so that a cluster that restarts as a whole keeps them.  Call
 * admin_set_dir() before the privileges are dropped: it creates the file
 * for node.user (the last argument).  admin_load() reads and applies it
 * (at start): the number of records taken, or -1 with *cause (a missing
 * file is 0 records).
 */
void		 admin_set_dir(struct admin *, const char *, const char *);
int		 admin_load(struct admin *, char **);
/* Send every record now (encoded into as few messages as fit); 0 or -1. */
int		 admin_announce(struct admin *);

#endif
