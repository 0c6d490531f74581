/* conntab.h: preallocated hash table of connections with expiry lists. */
#ifndef ILBD_CONNTAB_H
#define ILBD_CONNTAB_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

#define CONN_SLOT_NONE		0xffff	/* no member in owner/backup */
#define CONNTAB_LISTS_MAX	5	/* LTOC: 3 states, 2 UDP lists */
#define CONNTAB_SIZE_MAX	(1U << 26)	/* entries: links fit 27 bits */
#define CONNTAB_SUB_BITS	10
#define CONNTAB_SUB_MAX		(1U << CONNTAB_SUB_BITS) /* FIFOs of a
					   split list (conntab_split()) */

enum conn_state {
	CONN_SYN = 0,			/* SYN seen, not yet established */
	CONN_ESTABLISHED,
	CONN_CLOSING,			/* FIN/RST or END seen */
	CONN_NSTATES
};

enum conn_role {
	CONN_ROLE_NONE = 0,		/* cache entries */
	CONN_ROLE_OWNER,
	CONN_ROLE_BACKUP
};

/*
 * One connection. Links are pool indices plus one (0 = none), so the table
 * is position independent and a zeroed entry is a free one. Callers may
 * write service, server, owner, backup and role; key, state and the links
 * belong to the table (change state with ltoc_set_state/cache_set_state).
 */
struct conn_entry {
	struct flow_key	key;		/* claim 4 id, 37 bytes */
	uint8_t		state : 2;	/* enum conn_state */
	uint8_t		role : 2;	/* enum conn_role */
	uint8_t		list : 3;	/* expiry list + 1; 0 = free entry */
	uint8_t		pulled : 1;	/* TCP: kept once by the keep
					   callback; UDP owner: NEW sent */
	uint16_t	syn_tag;	/* TCP owner: conn_syn_tag(); 0
					   unknown. UDP: packets seen here,
					   up to CONN_UDP_PKTS_MAX, and
					   CONN_UDP_PULLED */
	uint16_t	service;	/* index in the service table */
	uint16_t	server;		/* index in the service's servers */
	uint16_t	owner;		/* member slot or CONN_SLOT_NONE */
	uint16_t	backup;		/* member slot or CONN_SLOT_NONE */
	uint32_t	last;		/* last activity, seconds, now_ms rounded up */
	uint32_t	hnext;		/* next in hash bucket chain */
	uint32_t	prev : 27;	/* expiry list, towards older */
	uint32_t	sub_lo : 5;	/* FIFO of a split list, low bits */
	uint32_t	next : 27;	/* expiry list, towards newer; free list */
	uint32_t	sub_hi : 5;	/* FIFO of a split list, high bits */
};

_Static_assert(sizeof(struct conn_entry) <= 64,
    "struct conn_entry must stay within one 64-byte cache line");
_Static_assert(CONNTAB_LISTS_MAX + 1 < 8 && CONN_NSTATES <= 4,
    "struct conn_entry's list and state bit-fields are too narrow");
_Static_assert(CONNTAB_SIZE_MAX < (1U << 27) && CONNTAB_SUB_BITS == 10,
    "struct conn_entry's links or FIFO index bit-fields are too narrow");

/*
 * The tag of a SYN with TCP sequence number seq: its low 16 bits, 0
 * (unknown) made 1. A retransmitted SYN carries the same number; a new
 * connection on the tuple almost never has the same tag (1 in 65536).
 */
static inline uint16_t
conn_syn_tag(uint32_t seq)
{
	return ((uint16_t)(seq & 0xffff) != 0 ? (uint16_t)(seq & 0xffff) : 1);
}

/*
 * The tag of e's connection as records carry it: a UDP entry's syn_tag
 * counts packets, and names no connection (0, unknown).
 */
static inline uint16_t
conn_tag(const struct conn_entry *e)
{
	return (flow_key_is_udp(&e->key) ? 0 : e->syn_tag);
}

/*
 * A UDP entry's syn_tag: the packets seen here (up to CONN_UDP_PKTS_MAX),
 * CONN_UDP_PULLED once its holder asked the other members for the flow's
 * state (lb.c, lb_ltoc_keep()), and at a backup CONN_UDP_SEEN while it
 * forwarded a datagram since it last answered such a question
 * (lb_udp_live()).
 */
#define CONN_UDP_PULLED		0x8000
#define CONN_UDP_SEEN		0x4000
#define CONN_UDP_PKTS_MAX	0x3fff

static inline uint16_t
conn_udp_pkts(const struct conn_entry *e)
{
	return (e->syn_tag & CONN_UDP_PKTS_MAX);
}

/*
 * A UDP flow its owner has not replicated yet (lb.c, lb_udp()): no
 * record names it until it is.
 */
static inline int
conn_udp_unreplicated(const struct conn_entry *e)
{
	return (flow_key_is_udp(&e->key) && e->role == CONN_ROLE_OWNER &&
	    !e->pulled);
}

/*
 * Called for each expired entry after it left the table (lookups miss it,
 * removing it is a no-op) and before its memory is reused.
 */
typedef void (*conntab_expire_cb)(void *, const struct conn_entry *);

/*
 * Asked for each entry about to expire, before it leaves the table: a
 * non-zero answer keeps it one more timeout of its list (it becomes the
 * list's newest entry). The callback bounds how often it says so.
 */
typedef int (*conntab_keep_cb)(void *, struct conn_entry *);

struct conntab_stats {
	uint64_t	inserts;	/* new entries */
	uint64_t	replaces;	/* insert of a key already present */
	uint64_t	full;		/* inserts refused: no free entry */
	uint64_t	evictions;	/* entries dropped to make room */
	uint64_t	expiries;	/* entries idle past their timeout */
	uint64_t	kept;		/* idle entries the keep callback kept */
	uint64_t	removes;	/* explicit removals */
	uint64_t	lookups;
	uint64_t	hits;
};

/*
 * One FIFO of entries by last activity. A list is one FIFO, or split
 * into several (conntab_split()), each with its own timeout: an entry is
 * on the FIFO its sub index names (a service's, for UDP flows).
 */
struct conntab_list {
	uint32_t	head;		/* least recently active */
	uint32_t	tail;		/* most recently active */
	uint32_t	count;
	uint32_t	timeout_s;	/* idle time before expiry */
	uint32_t	gran_shift;	/* a touch moves an entry once per
					   2^gran_shift s (conntab_touch()) */
};

/*
 * The granule of a FIFO: 1/CONNTAB_GRAN_DIV of its timeout, rounded down
 * to a power of two seconds, 1 s at least (timeouts under 32 s).
 */
#define CONNTAB_GRAN_DIV	16

struct conntab {
	struct conn_entry	*pool;		/* size entries, 64-byte aligned */
	uint32_t		*buckets;	/* mask + 1 chain heads */
	void			*mem;		/* the one allocation */
	uint64_t		 seed;		/* hash seed */
	uint32_t		 size;		/* capacity, 0 = disabled */
	uint32_t		 mask;		/* buckets - 1 */
	uint32_t		 count;		/* entries in use */
	uint32_t		 fresh;		/* entries ever handed out */
	uint32_t		 freelist;	/* reusable entries, via next */
	unsigned int		 nlists;
	unsigned int		 nq;		/* FIFOs in q */
	unsigned int		 expire_next;	/* FIFO expiry starts with */
	struct conntab_list	*q;		/* FIFOs, list by list */
	uint32_t		 base[CONNTAB_LISTS_MAX]; /* list's first FIFO */
	uint32_t		 nsub[CONNTAB_LISTS_MAX]; /* its FIFOs */
	uint32_t		 used[CONNTAB_LISTS_MAX]; /* FIFOs ever filled,
						   from its first */
	uint32_t		 evict_next[CONNTAB_LISTS_MAX];
	conntab_expire_cb	 on_expire;
	void			*on_expire_arg;
	conntab_keep_cb		 keep;
	void			*keep_arg;
	struct conntab_stats	 stats;
};

/*
 * Allocate a table of size entries (0 = disabled) with nlists expiry
 * lists whose idle timeouts are timeouts_s[]. Returns 0, or -1 with errno.
 */
int		 conntab_init(struct conntab *, uint32_t, unsigned int,
		    const uint32_t *, uint64_t);
void		 conntab_free(struct conntab *);
/*
 * Split list into nsub FIFOs (2..CONNTAB_SUB_MAX) of its timeout, before
 * the first insert. Returns 0, or -1 with errno.
 */
int		 conntab_split(struct conntab *, unsigned int, unsigned int);
/* The timeout of every FIFO of list, or of its FIFO sub only. */
void		 conntab_set_timeout(struct conntab *, unsigned int, uint32_t);
void		 conntab_set_sub_timeout(struct conntab *, unsigned int,
		    unsigned int, uint32_t);
void		 conntab_set_expire_cb(struct conntab *, conntab_expire_cb,
		    void *);
void		 conntab_set_keep_cb(struct conntab *, conntab_keep_cb, void *);
uint64_t	 conntab_hash(const struct conntab *, const struct flow_key *);
struct conn_entry *conntab_lookup(struct conntab *, const struct flow_key *);
/* conntab_lookup() with h, the key's conntab_hash() in this table. */
struct conn_entry *conntab_lookup_h(struct conntab *, const struct flow_key *,
		    uint64_t);
/*
 * Map key to a fresh entry on list (its FIFO 0), active at now: a new one,
 * or the existing one reset. NULL when the key is new and the table is
 * full.
 */
struct conn_entry *conntab_insert(struct conntab *, const struct flow_key *,
		    unsigned int, uint64_t);
void		 conntab_touch(struct conntab *, struct conn_entry *, uint64_t);
/* To list, FIFO sub of it (0 if it is not split), active at now. */
void		 conntab_move(struct conntab *, struct conn_entry *,
		    unsigned int, unsigned int, uint64_t);
/* To FIFO sub of the entry's list, keeping its last activity. */
void		 conntab_set_sub(struct conntab *, struct conn_entry *,
		    unsigned int);
/* The FIFO of its list the entry is on. */
static inline unsigned int
conntab_entry_sub(const struct conn_entry *e)
{
	return ((unsigned int)e->sub_lo | (unsigned int)e->sub_hi << 5);
}

void		 conntab_remove(struct conntab *, struct conn_entry *);
/* Drop the least recently active entry of list; 0 if it was empty. */
int		 conntab_evict(struct conntab *, unsigned int);
/*
 * Expire at most budget idle entries; returns how many it expired or the
 * keep callback kept.
 */
unsigned int	 conntab_expire(struct conntab *, uint64_t, unsigned int);
/* Entry at or after *cursor (start at 0); safe to remove what it returns. */
struct conn_entry *conntab_next(struct conntab *, uint32_t *);
uint32_t	 conntab_count(const struct conntab *);
uint32_t	 conntab_list_count(const struct conntab *, unsigned int);
uint32_t	 conntab_sub_count(const struct conntab *, unsigned int,
		    unsigned int);

/* The bucket of hash h (conntab_hash()); the table must not be disabled. */
static inline uint32_t *
conntab_bucket_of(const struct conntab *t, uint64_t h)
{
	return (&t->buckets[(uint32_t)(h ^ (h >> 32)) & t->mask]);
}

/*
 * Burst lookups (lb_input_burst()): first conntab_prefetch_bucket() for
 * every key of the burst, then conntab_prefetch_entry(), which reads the
 * bucket and prefetches the first entry of its chain, then the lookups:
 * the misses of a burst overlap instead of following one another. Hints
 * only: nothing changes in the table. Always inlined: GCC finds a function
 * that only prefetches "pure" and drops calls to it, prefetch and all.
 */
static inline __attribute__((always_inline)) void
conntab_prefetch_bucket(const struct conntab *t, uint64_t h)
{
	if (t->size != 0)
		__builtin_prefetch(conntab_bucket_of(t, h));
}

static inline __attribute__((always_inline)) void
conntab_prefetch_entry(const struct conntab *t, uint64_t h)
{
	uint32_t	l;

	if (t->size != 0 && (l = *conntab_bucket_of(t, h)) != 0)
		__builtin_prefetch(&t->pool[l - 1]);
}

/*
 * The third stage, once the entry is likely in cache: if the chain's first
 * entry is key's and a touch at now would move it on its list
 * (conntab_touch()), prefetch its list neighbours; if it is another key's,
 * prefetch the next entry of the chain.
 */
void		 conntab_prefetch_links(const struct conntab *, uint64_t,
		    const struct flow_key *, uint64_t);

#endif
