/* lb.h: an ILB's connections: decision, services, membership, peer records. */
#ifndef ILBD_LB_H
#define ILBD_LB_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "conntab.h"
#include "flow.h"
#include "ltoc.h"
#include "packet.h"
#include "sched.h"
#include "score.h"
#include "stats.h"

#define LB_MEMBERS_MAX	256		/* active members scored per packet */
#define LB_QUEUE_LEN	8192		/* output records, a power of two */
#define LB_SELF_NONE	((size_t)-1)	/* lb_set_members(): not a member */
#define LB_REFRESH_S	10		/* shortest REFRESH window, seconds */
#define LB_SERVICES_MAX	(4 * CONF_SERVICES_MAX)	/* live and draining */
_Static_assert(LB_SERVICES_MAX <= CONNTAB_SUB_MAX,
    "a UDP expiry FIFO per service (ltoc.h) needs CONNTAB_SUB_MAX FIFOs");
#define LB_EST_RING	4096		/* pending establishments, a power
					   of two */
#define LB_EST_DELAY_MS	1000		/* their REFRESH waits this long,
					   at most syn_timeout_s / 4 */
#define LB_ENDED_SLOTS	16384		/* ended connection tags: sets by
					   tuple hash; a power of 2 */
#define LB_ENDED_WAYS	4		/* tags per set */
#define LB_STRANGER_SEQ	4096		/* a non-SYN this far past a syn
					   entry's tag: another connection */
#define LB_ADOPT_SLICE	16384		/* cache entries the adoption walk
					   visits per lb_adopt_step() */
#define LB_SLOTS_BITS	65536		/* member slots are uint16_t */
#define UDP_STREAM_PKTS	4		/* a UDP flow with more packets seen
					   by one holder is a stream */

enum lb_verdict {
	LB_DROP = 0,			/* act.drop says why */
	LB_FORWARD,			/* to act.srv of act.svc */
	LB_HANDOFF			/* GRE to the member in slot act.member */
};

/* Why a packet was dropped; each has a counter of the same name. */
enum lb_drop {
	LB_DROP_NONE = 0,
	LB_DROP_BAD_PACKET,
	LB_DROP_NOT_TCP,
	LB_DROP_FRAGMENT,
	LB_DROP_NO_MEMBERS,
	LB_DROP_NO_SERVICE,
	LB_DROP_NO_SERVER,
	LB_DROP_LTOC_FULL,
	LB_DROP_MISROUTED,
	LB_DROP_ORPHAN,
	LB_DROP_ICMP_ORPHAN,
	LB_DROP_MAX
};

/* Which table a forwarding decision came from. */
enum lb_path {
	LB_PATH_NONE = 0,
	LB_PATH_OWNER,			/* LTOC, self is owner (or new SYN) */
	LB_PATH_BACKUP,			/* LTOC, self is backup owner */
	LB_PATH_CACHE,			/* cache (claim 14) */
	LB_PATH_HASH,			/* stateless fallback, scheduler hash */
	LB_PATH_QUIC			/* stateless, QUIC connection ID */
};

/*
 * What to do with one packet. svc and srv point into lb's own copy of the
 * configuration: valid until the next lb_reload() or lb_free().
 */
struct admin;

struct lb_action {
	enum lb_verdict			 verdict;
	enum lb_drop			 drop;		/* LB_DROP */
	enum lb_path			 path;		/* LB_FORWARD */
	uint16_t			 service;	/* LB_FORWARD: index */
	uint16_t			 server;	/* LB_FORWARD: index */
	uint16_t			 member;	/* LB_HANDOFF: owner's slot */
	uint8_t				 flags;		/* LB_HANDOFF: LB_ACT_F_* */
	const struct service_conf	*svc;		/* LB_FORWARD */
	const struct server_conf	*srv;		/* LB_FORWARD */
};

/*
 * LB_HANDOFF flags (issue 22, lb_udp()). RELAY: the packet came by
 * handoff and goes on once more; the GRE packet says so (ilbd-protocol(7))
 * and its receiver, given by_handoff LB_BY_RELAY, hands it on no further.
 * GONE: to a member that left the view lately, whose address the cluster
 * table still has.
 */
#define LB_ACT_F_RELAY		0x01
#define LB_ACT_F_GONE		0x02

/* by_handoff of lb_decide(): from a member, or relayed by one (above). */
#define LB_BY_HANDOFF		1
#define LB_BY_RELAY		2

/* At most this many members that left lately are remembered (lb_udp()). */
#define LB_GONE_MAX		8

enum lb_rec_type {
	LB_REC_NEW = 1,			/* claim 13: new association */
	LB_REC_END,			/* claim 14: FIN or RST seen */
	LB_REC_REFRESH			/* forwarded from cache or as backup */
};

/* A NEW of a SYN the owner decided: a connection opens on the tuple. */
#define LB_REC_F_FRESH		0x01
/* With FRESH: the SYN that opened the closing entry, which opens again. */
#define LB_REC_F_REOPEN		0x02

/* A control record for the cluster layer to broadcast. */
struct lb_record {
	uint8_t			type;		/* enum lb_rec_type */
	uint8_t			flags;		/* LB_REC_F_* */
	uint16_t		service;	/* index in the config */
	uint16_t		server;		/* index in the service */
	uint16_t		owner;		/* member slot */
	uint16_t		backup;		/* member slot or CONN_SLOT_NONE */
	uint16_t		tag;		/* conn_syn_tag(), 0 unknown */
	struct flow_key		key;
};

/*
 * Traffic counted on a server or a service by this ILB: what it forwarded
 * there and the connections it assigned as owner; plain fields, bumped on
 * the packet path (lb_traffic_sent()), never reset while the server or
 * service lives (a reload that keeps it keeps them). The rates are the
 * delta over the last window of at least LB_RATE_MS, set by lb_tick().
 */
#define LB_RATE_MS	10000		/* rate window, ms */

struct lb_traffic {
	uint64_t	packets;	/* forwarded to the server(s) */
	uint64_t	bytes;		/* their IP lengths */
	uint64_t	conns;		/* new connections assigned as owner */
	uint64_t	win_packets;	/* packets when the window began */
	uint64_t	win_bytes;	/* bytes when the window began */
	uint64_t	pps;		/* packets/s over the last window */
	uint64_t	bps;		/* bytes/s over the last window */
};

/*
 * One server of a service, everything about it in one place: its
 * configuration, the scheduler's state of it, whether a reload removed it,
 * its health and what is counted on it. The scheduler's state stays in the
 * service's sched.srv[], whose pick loops walk it per SYN: sched points
 * there. sched->up is the health as the data path applies it (up 1, down
 * 0), set with lb_server_set_up(); drain and weight with the other
 * lb_server_set_*(). Both pointers live as long as the service.
 */
struct lb_server {
	const struct server_conf	*conf;		/* &svc->conf->servers[j] */
	struct sched_server		*sched;		/* &svc->sched.srv[j]:
							   weight, up, drained,
							   active (owned) */
	uint8_t				 gone;		/* removed by a reload:
							   draining */
	int				 last_error;	/* health: errno of the
							   check that took it
							   down, 0 while up */
	struct lb_traffic		 traffic;	/* forwarded to it */
	uint32_t			 cached;	/* cache entries on it, as
							   of the last
							   lb_server_count() */
};

/*
 * A service, its servers and its scheduler. Indices are stable across
 * reloads: a service or server removed from the configuration keeps its
 * index, flagged, while connections still use it (it takes no new ones);
 * new ones take a free index or are appended. conf is lb's own copy (the
 * caller's configuration may be freed after lb_init() or lb_reload()); its
 * servers[] holds every index, removed servers included (conf->nservers ==
 * nsrv == sched.n).
 */
struct lb_service {
	const struct service_conf	*conf;		/* == own */
	struct service_conf		*own;		/* lb-owned copy */
	struct lb_server		*srv;		/* nsrv, index as in
							   conf->servers */
	struct sched			 sched;
	uint8_t				 match[2 + 16];	/* dport | vip, as in the key */
	uint8_t				 mlen;		/* 6 or 18 */
	uint8_t				 udp;		/* protocol udp: matches
							   FLOW_KEY_UDP keys */
	uint8_t				 removed;	/* not in the config:
							   draining */
	struct lb_traffic		 traffic;	/* its servers', summed
							   as they are counted:
							   survives a purge */
	uint16_t			*quic_idx;	/* quic: server index + 1
							   by server ID hash,
							   open addressing; 0
							   empty (lb_quic.c) */
	uint32_t			 quic_mask;	/* its slots - 1 */
	unsigned int			 nsrv;		/* == sched.n; last, in
							   the tail padding: the
							   per-packet lookup
							   indexes svc[] by this
							   struct's size */
};

/* What lb_reload() changed, for one log line (lb_reload_summary_fmt()). */
struct lb_reload_summary {
	unsigned int	services_added;		/* new names (or revived) */
	unsigned int	services_removed;	/* now draining */
	unsigned int	services_changed;	/* vip, port, protocol or forward:
						   removed and added again */
	unsigned int	services_purged;	/* draining ones freed: unused */
	unsigned int	servers_added;		/* in kept services */
	unsigned int	servers_removed;	/* now draining */
	unsigned int	servers_reweighted;	/* config weight changed */
	unsigned int	servers_purged;		/* draining ones freed */
	char		changed[128];		/* names of changed services */
};

/*
 * A connection whose handshake completed through self at time at (ms):
 * its REFRESH waits in lb->est until lb_tick() (see lb_ltoc_hit()).
 */
struct lb_est {
	uint64_t		at;		/* ms, established */
	struct flow_key		key;
	uint8_t			in_cache;	/* 0: LTOC entry, 1: cache */
};

/*
 * lb_rebalance() and lb_plan() hand an entry to a new holder through this:
 * the entry carries the new owner and backup slots; dst is the holder's slot.
 */
typedef void (*lb_send_cb)(void *, const struct conn_entry *, uint16_t);

/*
 * An owner or backup entry still in syn is about to expire: ask the other
 * members for the connection's state (lb_set_pull_cb()). 0 if the
 * question left (the entry is kept one more syn_timeout_s), -1 if not.
 */
typedef int (*lb_pull_cb)(void *, const struct conn_entry *);

struct lb {
	struct score_ctx	 score;
	struct score_member	 members[LB_MEMBERS_MAX]; /* active, fixed order */
	uint16_t		 slots[LB_MEMBERS_MAX];	/* their slot numbers */
	size_t			 nmembers;
	size_t			 self;		/* index or LB_SELF_NONE */
	uint16_t		 self_slot;
	uint32_t		 refresh_s;	/* REFRESH window, seconds:
						   tcp_timeout_s / 8, at least
						   LB_REFRESH_S */	/* own slot or CONN_SLOT_NONE */
	struct score_member	 plan[LB_MEMBERS_MAX];	/* lb_plan() scratch */
	uint16_t		 plan_slots[LB_MEMBERS_MAX];
	struct ltoc		 ltoc;
	struct cache		 cache;
	struct lb_service	*svc;		/* nsvc, config order */
	unsigned int		 nsvc;
	uint16_t		*svc_hash;	/* service index + 1; 0 empty */
	uint32_t		 svc_mask;	/* svc_hash slots - 1 */
	struct tables_conf	 tables;	/* as last applied */
	enum conf_scoring	 scoring;	/* cannot change live */
	uint8_t			 key[CONF_KEY_LEN];	/* for keyed scoring */
	struct lb_record	*queue;		/* LB_QUEUE_LEN records */
	uint32_t		 qhead;		/* next to pop, free running */
	uint32_t		 qtail;		/* next to fill, free running */
	struct lb_est		*est;		/* LB_EST_RING pending
						   establishments, oldest
						   first */
	uint32_t		 est_head;	/* next to pop, free running */
	uint32_t		 est_tail;	/* next to fill, free running */
	uint32_t		 ltoc_high;	/* SYNs above this: stateless */
	uint64_t		 pressure_until; /* ms: owner misses use hash */
	uint32_t		*ended;		/* LB_ENDED_SLOTS x WAYS tags of
						   connections ended lately
						   (lb_learn.c) */
	uint32_t		 adopt_cursor;	/* next cache slot to walk */
	uint32_t		 adopt_slice;	/* lb_rebalance()'s first slice;
						   0: LB_ADOPT_SLICE (tests
						   set it lower) */
	uint8_t			 adopt_walking;	/* a walk is under way */
	uint8_t			 leaving;	/* self hands its entries over
						   and goes (repl_sm_leave()):
						   a UDP flow is replicated as
						   it opens */
	uint8_t			 adopt_gone[LB_SLOTS_BITS / 8]; /* slots that
						   left since it began */
	/*
	 * issue 22: members that left the view in the last gone_ms
	 * (cluster.dead_ms), with their scoring constants: a UDP datagram
	 * of a flow self does not know, that one of them would own, goes
	 * to it (lb_udp_gone()). gone_at 0: left, time not stamped yet.
	 */
	struct score_member	 gone[LB_GONE_MAX];
	uint16_t		 gone_slots[LB_GONE_MAX];
	uint64_t		 gone_at[LB_GONE_MAX];
	unsigned int		 ngone;
	uint32_t		 gone_ms;
	struct lb_stats		 stats;
	uint64_t		 rate_at;	/* ms: the rate window began */
	struct admin		*admin;		/* cluster-wide drain and
						   weight (admin.h): repl
						   sets it; NULL without */
	lb_pull_cb		 pull;		/* repl sets it; NULL: none */
	void			*pull_arg;
};

/* lb.c */
/*
 * issue 22: member slot left in good order (it handed its entries over):
 * not one of the members gone lately that lb_udp() sends datagrams to.
 */
void		 lb_gone_drop(struct lb *, uint16_t);
/*
 * Set up tables, schedulers and the service lookup from conf; lb keeps
 * copies of what it needs, conf may be freed afterwards. No members until
 * lb_set_members(). Returns 0, or -1 with errno set (EINVAL: a service
 * without servers or a duplicate VIP:port).
 */
int		 lb_init(struct lb *, const struct ilbd_conf *, uint64_t);
void		 lb_free(struct lb *);

/* lb_reload.c */
/*
 * Apply a new configuration live (SIGHUP), keeping every connection.
 * Services are matched by name, servers by address within a service. A
 * service whose vip, port, protocol or forward changed is removed and
 * added again.
 * Removed services and servers drain: their LTOC and cache entries keep
 * forwarding until they end, they take no new connection (a SYN to a
 * removed service drops as no_service, counted as service_removed), and
 * once nothing refers to them a later reload frees their index. New
 * servers join the scheduler; health (up), operator drain and active
 * counts survive. Weight: a config weight change wins, otherwise a
 * weight set at run time (`ilbctl server weight`) is kept; then the
 * cluster-wide drain and weight are applied again (admin_reload()). The scheduler
 * kind follows the config. Table timeouts change live. Refused, with
 * nothing changed: tables.ltoc_size or cache_size, cluster.scoring (and
 * the cluster key under keyed scoring). Everything is validated and
 * allocated before anything changes: on -1, *cause (malloc'd, may be left
 * NULL on ENOMEM) says why and lb is as it was. sum, if not NULL, is
 * filled on success. newconf may be freed afterwards; the previous conf
 * too. Walks both tables once to find what draining entries still use.
 */
int		 lb_reload(struct lb *, const struct ilbd_conf *, uint64_t,
		    struct lb_reload_summary *, char **);
/* "services +1 -0 ~1 (web), servers +2 -1 w3, purged 0/0" into buf. */
void		 lb_reload_summary_fmt(const struct lb_reload_summary *,
		    char *, size_t);
/* 1 if service i is in the running config (not removed, draining). */
int		 lb_service_live(const struct lb *, unsigned int);
/* Index of the live service named name, or -1. */
int		 lb_service_by_name(const struct lb *, const char *);
/*
 * Index of the server of service with address a, or -1. Removed (draining)
 * servers are found too: their connections still move between members;
 * control commands check lb_server_live().
 */
int		 lb_service_server(const struct lb *, unsigned int,
		    const struct ilb_addr *);

/* lb_server.c */
/* 1 if server j of service i is in the running config (not draining). */
int		 lb_server_live(const struct lb *, unsigned int, unsigned int);
/* 1 if it takes new connections: up, not drained, weight above 0. */
int		 lb_server_eligible(const struct lb_server *);
/*
 * Health (up 1, down 0; err: errno of its last failed check), operator
 * drain and `server weight` (0..SCHED_WEIGHT_MAX) of server j of service
 * i, through its scheduler: 0, or -1 if out of range, nothing changed.
 * Then rebuild the schedulers once (daemon_sched_changed(), sched_rebuild()).
 */
int		 lb_server_set_up(struct lb *, unsigned int, unsigned int, int,
		    int);
int		 lb_server_set_drained(struct lb *, unsigned int, unsigned int,
		    int);
int		 lb_server_set_weight(struct lb *, unsigned int, unsigned int,
		    uint32_t);
/* Count every server's cache entries into its cached: one cache walk. */
void		 lb_server_count(struct lb *);
/*
 * Close the rate window of every server and service if it is at least
 * LB_RATE_MS old at now (ms); the first call opens it. lb_tick() calls it.
 */
void		 lb_traffic_rates(struct lb *, uint64_t);

/*
 * A packet of len bytes went to server of service (the data path, once
 * it is sent or queued). Inline: the packet path calls it per packet.
 */
static inline void
lb_traffic_sent(struct lb *lb, unsigned int service, unsigned int server,
    size_t len)
{
	struct lb_service	*s;
	struct lb_server	*v;

	if (service >= lb->nsvc || server >= lb->svc[service].nsrv)
		return;
	s = &lb->svc[service];
	v = &s->srv[server];
	v->traffic.packets++;
	v->traffic.bytes += len;
	s->traffic.packets++;
	s->traffic.bytes += len;
}

/* lb_member.c */
/*
 * The active members: ids[i] has slot slots[i] (as stored in conn_entry
 * owner and backup); self indexes ids, or LB_SELF_NONE. Scores are
 * precomputed here. Returns 0, or -1 if n > LB_MEMBERS_MAX or self >= n
 * (the membership is then empty: every packet drops 'no_members').
 * Self not a member (joining, leaving): it acts as a member that is
 * neither owner nor backup, but still forwards from its LTOC. The tables
 * are left alone: lb_rebalance() is the call that moves entries.
 */
int		 lb_set_members(struct lb *, const struct member_id *,
		    const uint16_t *, size_t, size_t);
/* Who asks the members for a syn entry's state (lb_pull_cb). */
void		 lb_set_pull_cb(struct lb *, lb_pull_cb, void *);
/*
 * UDP entry e, an owner's or a cache's, was seen at now within half its
 * idle timeout and has not asked the members itself since, or a backup's
 * forwarded a datagram since it last answered (the mark is used up): it
 * answers their questions (pull).
 */
int		 lb_udp_live(const struct lb *, struct conn_entry *,
		    uint64_t);
/*
 * Own slot while self is not a member (lb_set_members() and
 * lb_rebalance() set it from slots[self] otherwise, and keep it when
 * self is LB_SELF_NONE). CONN_SLOT_NONE: unknown.
 */
void		 lb_set_self_slot(struct lb *, uint16_t);
/*
 * Apply a new active membership (claims 17 and 18), as lb_set_members(),
 * then for each LTOC entry: new owner and backup by score, self's role
 * follows (owner, backup, or the entry moves to the cache), and every new
 * holder that was not an old one is sent the entry by exactly one node:
 * the best ranked old holder still a member (or, when none is, the old
 * owner if it is self, leaving). Then the cache walk starts (the first
 * LB_ADOPT_SLICE entries at once, the rest in lb_adopt_step()): a cache
 * entry whose owner or backup left gets new ones, and if self is one of
 * them it is adopted: it becomes an LTOC entry in self's role, and when
 * no old holder survives self sends it to the other new holder. Returns
 * the number of send calls, or -1 (bad n or self, nothing changed). Walks
 * the LTOC: call it on membership changes only.
 */
int		 lb_rebalance(struct lb *, const struct member_id *,
		    const uint16_t *, size_t, size_t, lb_send_cb, void *);
/*
 * Go on with the cache walk lb_rebalance() started: at most budget
 * entries. Returns the number of send calls; 0 once the walk is over.
 */
int		 lb_adopt_step(struct lb *, unsigned int, lb_send_cb, void *);
/*
 * What a rebalance adopted or lost, from the counters before and after it,
 * for one log line: 1 and buf filled, or 0 if there is nothing to say.
 */
int		 lb_rebalance_fmt(const struct lb_stats *,
		    const struct lb_stats *, char *, size_t);
/*
 * Join pre-transfer (claim 17): the prospective membership (active members
 * and joiners) is scored apart; nothing in lb changes. Each LTOC entry goes,
 * as a copy carrying its prospective owner and backup, to each prospective
 * holder that is not an old one, if self is the responsible node (as in
 * lb_rebalance()). Returns the number of send calls, or -1 if n is too big.
 */
int		 lb_plan(struct lb *, const struct member_id *,
		    const uint16_t *, size_t, lb_send_cb, void *);

/* lb.c */
/*
 * Owner and backup member indices of key (-1 when absent): view_rank()
 * over the active members, as the decision ranks.
 */
void		 lb_rank(const struct lb *, const struct flow_key *, int *,
		    int *);
/* Index of the service key goes to, or -1. */
int		 lb_service_find(const struct lb *, const struct flow_key *);
/*
 * An ICMP or ICMPv6 echo request (ping) to a: 1 if a is the VIP of a
 * service (not one a reload removed), counted in rx (and handoff_in)
 * as the caller answers it itself: any ILB that receives one answers,
 * nothing is handed off. 0 otherwise (the caller refuses it, not_tcp).
 */
int		 lb_echo_to_vip(struct lb *, const struct ilb_addr *, int);

/*
 * Decide for one parsed TCP packet (DESIGN section 2) at now (ms).
 * by_handoff: it came decapsulated from a peer. Fills act and returns
 * act->verdict. May queue NEW/END records; never allocates.
 */
int		 lb_decide(struct lb *, const struct pkt_info *, int, uint64_t,
		    struct lb_action *);
/*
 * The END of a connection is multicast by whichever holder saw its FIN or
 * RST; a SYN on the same tuple reaches the owner by another path (the
 * router, or a GRE handoff). Should the SYN be decided first, the owner
 * takes it for a retransmission and the late END then marks the new
 * connection closing everywhere. So:
 *
 * lb_syn_on_live(): 1 if pi is a SYN (no ACK) that self owns while its
 * LTOC entry for the tuple is live (not closing). The caller reads what
 * the cluster sent first (cluster_poll()), then calls lb_decide(). Counts
 * it (syn_sync).
 *
 * lb_syn_after_close(): 1 if pi is a SYN self will hand off while its own
 * entry for the tuple is closing and records are queued: one of them may
 * be that connection's END, which must leave before the handoff, and so
 * must the old connection's last packets (its RST or FIN, queued for its
 * server): a server that gets the new SYN first answers it with a reset.
 * Counts it (syn_records_first).
 */
int		 lb_syn_on_live(struct lb *, const struct pkt_info *);
int		 lb_syn_after_close(struct lb *, const struct pkt_info *);
/*
 * A packet packet_parse() refused with reason r: counted (a parse_*
 * counter and bad_packet, or not_tcp, or fragment) and dropped.
 */
int		 lb_refuse(struct lb *, int, int, struct lb_action *);
/*
 * A forwarding action to server of service, decided earlier (the later
 * fragments of a datagram): 0, or -1 if a reload made the indices stale.
 * Counts nothing.
 */
int		 lb_action_to(const struct lb *, unsigned int, unsigned int,
		    struct lb_action *);
/* packet_parse() then lb_decide(); parse failures are counted drops. */
int		 lb_input(struct lb *, const uint8_t *, size_t, int, uint64_t,
		    struct pkt_info *, struct lb_action *);

/*
 * lb_input() for n packets bufs[i] of lens[i] bytes, with by_handoff and
 * now for all: pis[i], acts[i] and verdicts[i] are what lb_input() would
 * give, and so are the tables, counters and queue after it, since the
 * packets are decided one after the other in order. The memory the burst
 * will touch is asked for first, LB_BURST_MAX packets at a time (the
 * packets, the hash buckets of both tables, the entries they lead to, the
 * list neighbours a touch will move), so that its cache misses overlap
 * instead of following one another. 16 at a time beat 32 in bench_lb at
 * 1M flows (6 paired runs): more outstanding misses than the core can
 * track only queue up.
 */
#define LB_BURST_MAX	16
void		 lb_input_burst(struct lb *, const uint8_t *const *,
		    const size_t *, size_t, int, uint64_t, struct pkt_info *,
		    struct lb_action *, int *);

/* Take the oldest queued record: 1, or 0 when the queue is empty. */
int		 lb_queue_pop(struct lb *, struct lb_record *);
uint32_t	 lb_queue_len(const struct lb *);

/* lb_learn.c */
/*
 * A NEW record received from a peer (claim 13, broadcast side): stored in
 * the LTOC as backup when self's slot is its backup, else in the cache if
 * there is one. An END record (claim 14): the entry moves to closing. Return 0,
 * or -1 if the record names an unknown service or server (counted).
 */
int		 lb_learn_new(struct lb *, const struct lb_record *, uint64_t);
int		 lb_learn_end(struct lb *, const struct lb_record *, uint64_t);
/*
 * A NEW or TRANSFER record with explicit holders (claims 11, 12): self's
 * slot is owner_slot: LTOC as owner; backup_slot: LTOC as backup; else the
 * cache (an LTOC entry self no longer holds moves there). An entry already
 * present is updated in place; the same connection (service and server
 * unchanged) never goes back, except from closing to the record's state
 * if flags has LB_LEARN_FRESH (the owner decided a SYN on the tuple: a
 * connection opens, or opens again). Returns 0 (also when a table is
 * full or the cache disabled, counted), or -1 for an unknown service,
 * server, key or state (counted as learn_bad).
 */
#define LB_LEARN_FRESH		0x01
/*
 * Connection tags (ilbd-protocol(7)): LB_LEARN_TAG(t) in flags names the
 * connection the record describes (conn_syn_tag() of its SYN, 0 unknown);
 * LB_LEARN_REOPEN with LB_LEARN_FRESH: that SYN opened its closing entry
 * again. A tagged record of a connection that has ended (an END with its
 * tag came) is ignored unless it says closing or reopen, and a record
 * whose tag differs from a live entry's never takes that entry's state
 * back: late copies of an older connection's records change nothing.
 */
#define LB_LEARN_REOPEN		0x02
#define LB_LEARN_TAG(t)		((unsigned int)(uint16_t)(t) << 16)
#define LB_LEARN_TAG_OF(f)	((uint16_t)((f) >> 16))
int		 lb_learn_conn(struct lb *, const struct flow_key *,
		    unsigned int, unsigned int, uint16_t, uint16_t,
		    enum conn_state, unsigned int, uint64_t);
/*
 * Activity seen by another ILB (a REFRESH record): touch the LTOC entry,
 * else the cache entry; a syn entry becomes established. 0, or -1 if the
 * key is in neither table.
 */
int		 lb_refresh(struct lb *, const struct flow_key *, uint64_t);

/* lb.c */
/*
 * Active connection counts of the schedulers follow the LTOC entries whose
 * role is owner: change an entry's role or remove it through these.
 */
void		 lb_entry_set_role(struct lb *, struct conn_entry *,
		    enum conn_role);
void		 lb_entry_remove(struct lb *, struct conn_entry *);

/*
 * Expire at most budget idle LTOC and cache entries; returns how many.
 * Then queue the REFRESH of each connection established at least
 * LB_EST_DELAY_MS (at most syn_timeout_s / 4) before now and still
 * established (lb_ltoc_hit()); at most LB_EST_RING of them.
 */
unsigned int	 lb_tick(struct lb *, uint64_t, unsigned int);

const char	*lb_drop_name(int);
const char	*lb_path_name(int);
/* Value of counter i (0 .. LB_STATS_N - 1) in lb_counters order. */
uint64_t	 lb_stats_get(const struct lb_stats *, size_t);
/* Gauges of a struct lb: the sizes of its tables. */
extern const struct counter_desc lb_gauges[];

#endif
