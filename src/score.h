/* score.h: owner and backup ILB of a connection by score (claims 3, 7-9). */
#ifndef ILBD_SCORE_H
#define ILBD_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "flow.h"

#define SCORE_KEY_LEN	16	/* SipHash-2-4 key (crypto_shorthash) */
#define SCORE_TOP_MAX	32	/* largest k that score_top() fills */
#define SCORE_KDF_MSG	"ilbd keyed scoring v1"

/*
 * Scoring context shared by all members: the method and, for "keyed", the
 * SipHash key derived from the 32-byte cluster key as
 *	key = BLAKE2b(out 16 bytes, message SCORE_KDF_MSG, key = cluster key)
 * (libsodium crypto_generichash; python hashlib.blake2b(msg,
 * key=clusterkey, digest_size=16)).
 */
struct score_ctx {
	enum conf_scoring	method;
	int			crc_hw;		/* use the SSE4.2 CRC32C */
	uint8_t			key[SCORE_KEY_LEN];	/* keyed only */
};

/* A member with its per-member constant precomputed by score_member_init(). */
struct score_member {
	struct member_id	id;		/* claims 5 and 6 */
	uint32_t		crc_state;	/* CRC register after id */
	uint32_t		zero[2];	/* crc32c-mix: the register
						   after id and FLOW_ID_V4,
						   FLOW_ID_V6 zero bytes,
						   ^ CRC_XOROUT */
	uint64_t		k;		/* keyed: SipHash(id) */
};

/*
 * Set up a context.  clusterkey: CONF_KEY_LEN (32) bytes, required for
 * SCORING_KEYED, ignored otherwise (may be NULL).  Returns 0, or -1 if
 * keyed without a key or libsodium cannot initialise.
 */
int		 score_init(struct score_ctx *, enum conf_scoring,
		    const uint8_t *);
/* Precompute a member's constant; redo it if the context changes. */
void		 score_member_init(const struct score_ctx *,
		    struct score_member *, const struct member_id *);

/* The score of one member for one connection (unsigned, larger is better). */
uint64_t	 score_one(const struct score_ctx *, const struct score_member *,
		    const struct flow_key *);
/*
 * Nonzero if (sa, a) ranks above (sb, b): larger score, then larger id
 * (a shorter id ranks below a longer one, equal lengths compare by memcmp).
 */
int		 score_better(uint64_t, const struct member_id *, uint64_t,
		    const struct member_id *);
/* Order of two member ids for tie-breaks: <0, 0, >0 like memcmp. */
int		 score_id_cmp(const struct member_id *, const struct member_id *);

/*
 * Owner (best) and backup (second best) among members[0..n): indices, or
 * -1 when absent (n == 0: both -1; n == 1: backup -1).
 */
void		 score_rank(const struct score_ctx *, const struct score_member *,
		    size_t, const struct flow_key *, int *, int *);
/*
 * The k best members, best first, into out[0..k); slots past
 * min(n, k, SCORE_TOP_MAX) are -1.  Returns how many were filled.
 */
size_t		 score_top(const struct score_ctx *, const struct score_member *,
		    size_t, const struct flow_key *, int *, size_t);

/* MurmurHash3 finalizers. */
uint32_t	 score_mix32(uint32_t);
uint64_t	 score_mix64(uint64_t);

#endif
