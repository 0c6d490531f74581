/* frag.h: later IP fragments follow the decision made for their first. */
#ifndef ILBD_FRAG_H
#define ILBD_FRAG_H

#include <stddef.h>
#include <stdint.h>

#define FRAG_WAYS	4		/* entries per bucket */
#define FRAG_BUCKETS	1024		/* a power of two */
#define FRAG_POOL	128		/* later fragments held at most */
#define FRAG_BUF_MAX	9216		/* largest fragment held (jumbo) */
#define FRAG_TIMEOUT_MS	5000		/* a datagram's fragments, at most */

/* A datagram: family, protocol, addresses, IP id (RFC 791, RFC 8200). */
struct frag_key {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		proto;
	uint8_t		pad[2];
	uint32_t	id;
	uint8_t		src[16];	/* IPv4 in the first 4 bytes */
	uint8_t		dst[16];
};

enum frag_kind {
	FRAG_FREE = 0,
	FRAG_PENDING,			/* later fragments came first: held */
	FRAG_FORWARD,			/* to server of service */
	FRAG_HANDOFF			/* in GRE to the member in slot */
};

/* What the first fragment's decision was, for the later ones. */
struct frag_action {
	enum frag_kind	kind;		/* FRAG_FORWARD or FRAG_HANDOFF */
	uint16_t	service;
	uint16_t	server;
	uint16_t	member;		/* slot */
	uint8_t		flags;		/* FRAG_HANDOFF: how (dp's LB_ACT_F_*) */
};

/* A held later fragment, handed back by frag_first(). */
struct frag_buf {
	int32_t		next;		/* pool index, -1 ends */
	uint16_t	len;
	uint8_t		by_handoff;	/* as given: 0 or LB_BY_* */
	uint8_t		data[FRAG_BUF_MAX];
};

struct frag_entry {
	struct frag_key	key;
	uint64_t	expire;		/* ms */
	uint8_t		kind;		/* enum frag_kind */
	uint8_t		flags;		/* frag_action's */
	uint16_t	service;
	uint16_t	server;
	uint16_t	member;
	int32_t		held;		/* first held buffer, -1 none */
	int32_t		held_tail;
};

struct frag {
	struct frag_entry	*tab;		/* FRAG_BUCKETS * FRAG_WAYS */
	struct frag_buf		*pool;		/* FRAG_POOL */
	int32_t			 freelist;
	uint32_t		 nheld;
	uint64_t		 dropped;	/* held fragments dropped */
};

int	frag_init(struct frag *);
void	frag_free(struct frag *);

/*
 * The datagram of an IP packet (buf from its IP header, family 4 or 6,
 * the fragment's proto and id as packet_parse() read them) into *k.
 */
void	frag_key_of(struct frag_key *, const uint8_t *, uint8_t, uint8_t,
	    uint32_t);

/*
 * A later fragment at now: 1 and *a filled if its first fragment was
 * decided; 0 if it was held (copied) until then; -1 if it could not be
 * held (too big, pool or bucket full): the caller drops it.
 */
int	frag_later(struct frag *, const struct frag_key *, const uint8_t *,
	    size_t, int, uint64_t, struct frag_action *);

/*
 * A first fragment was decided: later ones follow *a until it expires.
 * Returns the chain of fragments held for it (pool indices, -1 none):
 * send each with frag_buf_get(), then give the chain back with
 * frag_release().
 */
int32_t	frag_first(struct frag *, const struct frag_key *,
	    const struct frag_action *, uint64_t);
struct frag_buf *frag_buf_get(struct frag *, int32_t);
void	frag_release(struct frag *, int32_t);

/*
 * Free pending entries expired at now; returns the held fragments that
 * dropped (dropped counts those and the ones evicted with their entry).
 */
unsigned int frag_expire(struct frag *, uint64_t);

#endif
