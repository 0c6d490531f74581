/* sim.h: a simulated cluster of ILBs for test_repl: clock, network, clients. */
#ifndef ILBD_TEST_SIM_H
#define ILBD_TEST_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "conntab.h"
#include "lb.h"
#include "msg.h"
#include "repl_sm.h"
#include "score.h"

/*
 * Up to SIM_MAX members, each an lb, a cluster_table and a repl_sm wired
 * as repl.c and daemon.c wire them in ilbd, on a fake clock and a fake
 * network. ID messages and multicast records go through
 * cluster_table_input() and cluster_table_msg() (so replays and reordered
 * multicast are dropped as in the daemon); the reliable channel is per
 * pair FIFO, as TCP, and loses what is in flight when peer_drop() would.
 * The network can drop, duplicate and delay (reorder) multicast records.
 */
#define SIM_MAX		8	/* members, live or dead: 10.0.0.1..8 */
#define SIM_HELLO_MS	200
#define SIM_DEAD_MS	1000
#define SIM_TICK_MS	100	/* dp's tick: lb_tick(), repl_sm_flush() */
#define SIM_LAT_MS	1	/* latency of every message */
#define SIM_LEFT_MS	200	/* ilbd exits this long after leave is done */
#define SIM_CONNS	256
#define SIM_TRACE	8192	/* bytes of the sequence kept for a report */
#define SIM_T0		1000000ULL
#define SIM_SYN_S	30
#define SIM_TCP_S	900
#define SIM_FIN_S	60
#define SIM_ANY		(-2)	/* sim_port(): any backup */

/* A message on the wire. */
struct sim_msg {
	uint64_t	at;		/* delivery time, ms */
	uint64_t	order;		/* send order, for ties */
	int		from;
	int		to;
	int		reliable;	/* peer channel, else multicast */
	int		dead;		/* peer_drop(): lost */
	uint64_t	from_epoch;
	uint64_t	to_epoch;	/* reliable: the receiver's boot */
	size_t		len;
	uint8_t		buf[MSG_MAX_LEN];
};

/* Drop the next count messages of type (0: any) from -> to (-1: any). */
struct sim_rule {
	uint8_t		type;
	int		reliable;
	int		from;
	int		to;
	int		count;		/* -1: forever */
};

/*
 * Faults of the multicast records (NEW, END, REFRESH); ID messages are
 * spared. A record delayed past a later message of its sender is dropped
 * by cluster_table_msg() as a replay: reordering loses it too.
 */
struct sim_faults {
	unsigned int	types;		/* bits (1 << MSG_T_*) lost, delayed */
	unsigned int	drop_pct;	/* those lost, per receiver */
	unsigned int	jitter_ms;	/* those delayed up to this */
	unsigned int	dup_pct;	/* any record delivered twice */
	unsigned int	rel_ms;		/* reliable channel delay up to this */
};

struct sim;

/* One ILB: its process, tables, membership view and replication core. */
struct sim_member {
	struct sim		*w;
	int			 idx;
	int			 up;		/* the process runs */
	struct member_id	 id;		/* 10.0.0.(idx + 1) */
	struct ilb_addr		 addr;
	uint64_t		 epoch;
	uint64_t		 mseq;		/* multicast, ID messages too */
	uint64_t		 useq;		/* reliable channel */
	uint64_t		 rel_at[SIM_MAX]; /* FIFO per destination */
	uint64_t		 next_hello;
	uint64_t		 next_tick;
	uint64_t		 poll_at;	/* 0: the poll timer is off */
	uint64_t		 exit_at;	/* 0: not leaving */
	struct lb		 lb;
	struct cluster_table	 t;
	struct repl_sm		*sm;
};

enum { SIM_C_FREE = 0, SIM_C_SYN, SIM_C_EST, SIM_C_ENDED };

/* A client connection, as the client sees it. */
struct sim_conn {
	uint16_t	sport;
	uint8_t		state;		/* SIM_C_* */
	int		server;		/* -1: no server yet */
	uint64_t	syn_at;
	uint64_t	est_at;		/* handshake completed, or ended */
};

/* The world. */
struct sim {
	struct ilbd_conf	 conf;
	struct service_conf	 svc[2];	/* VIP 198.51.100.10:80, wlc:
						   "web" tcp, "dns" udp */
	struct server_conf	 srv[3];
	struct score_ctx	 score;
	uint64_t		 now;		/* ms */
	uint64_t		 rng;
	struct sim_member	 m[SIM_MAX];
	struct sim_msg		**q;		/* min-heap by (at, order) */
	size_t			 nq;
	size_t			 qcap;
	uint64_t		 order;
	struct sim_faults	 f;
	struct sim_rule		 rules[8];
	size_t			 nrules;
	struct sim_conn		 c[SIM_CONNS];	/* for test_repl's sequences */
	size_t			 nc;
	uint16_t		 sport;		/* next client port to try */
	uint64_t		 kills[64];	/* when members died */
	size_t			 nkills;
	uint64_t		 last_est;	/* a handshake completed */
	uint64_t		 last_change;	/* a member started, changed
						   state or stopped */
	unsigned int		 njoins;	/* after sim_new() */
	unsigned int		 nleaves;
	unsigned int		 nlive;		/* connections checked */
	unsigned int		 nended;
	char			 err[512];	/* first broken invariant */
	char			 trace[SIM_TRACE];	/* the sequence, tail */
	size_t			 ntrace;
	char			 watched[SIM_MAX][48];	/* sim_watch_port */
};

extern int	 sim_verbose;		/* log everything to stderr */
extern uint16_t	 sim_watch_port;	/* trace this client port's entries */
/* Client packets and entries are the "dns" UDP service's; sim_new() clears it. */
extern int	 sim_udp;

/* n members 10.0.0.1..n started together, active when this returns. */
struct sim	*sim_new(int, uint64_t);
void		 sim_free(struct sim *);
/* Let ms of time pass: messages arrive, timers fire. */
void		 sim_run(struct sim *, uint64_t);
/* Start member i (again: a new boot epoch), joining, as ilbd does. */
void		 sim_start(struct sim *, int);
/* Member i's process stops: killed, or exiting after it left. */
void		 sim_stop(struct sim *, int);
/* Graceful leave of member i (SIGTERM). */
void		 sim_leave(struct sim *, int);
/* Drop the next count (-1: all) messages of type from -> to (-1: any). */
void		 sim_rule(struct sim *, uint8_t, int, int, int, int);

uint32_t	 sim_rand(struct sim *);
void		 sim_tracef(struct sim *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* Record the first broken invariant (and trace it). */
void		 sim_fail(struct sim *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* enum repl_sm_phase of member i, 0 if it is down. */
int		 sim_phase(const struct sim *, int);
/* Members as masks, bit i for member i: active ones, running ones. */
unsigned int	 sim_active(const struct sim *);
unsigned int	 sim_up(const struct sim *);
int		 sim_count(unsigned int);
/* The member of the k-th bit set in mask, or -1. */
int		 sim_nth(unsigned int, unsigned int);
/* The member in slot of m's table, or -1. */
int		 sim_of_slot(const struct sim *, const struct sim_member *,
		    uint16_t);
const struct repl_stats *sim_stats(const struct sim *, int);

/* Owner and backup of a client port among the members of mask. */
void		 sim_rank(const struct sim *, unsigned int, uint16_t, int *,
		    int *);
/*
 * A fresh client port whose owner and backup are o1, b1 among mask1 and
 * o2, b2 among mask2 (mask2 0: no second condition; SIM_ANY: any backup).
 */
uint16_t	 sim_port(struct sim *, unsigned int, int, int, unsigned int,
		    int, int);
/*
 * A client packet reaches member i (the router's choice); a handoff goes
 * on to the owner. Returns the verdict; act is the last decision's.
 */
int		 sim_packet(struct sim *, int, uint16_t, uint8_t,
		    struct lb_action *);
/* The same, asserting it is forwarded: the server's index. */
int		 sim_fwd(struct sim *, int, uint16_t, uint8_t);
/* Member i's LTOC or cache entry of a client port, or NULL. */
struct conn_entry *sim_ltoc(struct sim *, int, uint16_t);
struct conn_entry *sim_cache(struct sim *, int, uint16_t);
/* Member i holds port in its LTOC with role, server and holders o, b. */
void		 sim_assert_holds(struct sim *, int, uint16_t, int, int, int,
		    int);

#endif
