/* score.c: owner and backup ILB of a connection by score (claims 3, 7-9). */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "be.h"
#include "crc.h"
#include "score.h"

/* SipHash-2-4 of a buffer under the context key, as an integer. */
static inline uint64_t
score_sip(const struct score_ctx *ctx, const uint8_t *buf, size_t len)
{
	uint8_t		out[crypto_shorthash_BYTES];

	crypto_shorthash(out, buf, len, ctx->key);
	return (le64_load(out));
}

uint32_t
score_mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return (h);
}

uint64_t
score_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (h);
}

int
score_init(struct score_ctx *ctx, enum conf_scoring method,
    const uint8_t *clusterkey)
{
	static const char	msg[] = SCORE_KDF_MSG;

	memset(ctx, 0, sizeof(*ctx));
	ctx->method = method;
	ctx->crc_hw = crc_32c_hw_used();
	if (method != SCORING_KEYED)
		return (0);
	if (clusterkey == NULL || sodium_init() < 0)
		return (-1);
	/* key = BLAKE2b-128(SCORE_KDF_MSG) keyed with the cluster key */
	if (crypto_generichash(ctx->key, sizeof(ctx->key),
	    (const unsigned char *)msg, sizeof(msg) - 1, clusterkey,
	    CONF_KEY_LEN) != 0)
		return (-1);
	return (0);
}

static const uint8_t	score_zeros[FLOW_ID_MAX];

/* Claims 5 and 6: the id is the member's address or index bytes. */
void
score_member_init(const struct score_ctx *ctx, struct score_member *m,
    const struct member_id *id)
{
	size_t	len = id->len > MEMBER_ID_MAX ? MEMBER_ID_MAX : id->len;

	memset(m, 0, sizeof(*m));
	m->id = *id;
	switch (ctx->method) {
	case SCORING_CRC32:
		m->crc_state = crc_32_update(CRC_INIT, id->b, len);
		break;
	case SCORING_KEYED:
		m->k = score_sip(ctx, id->b, len);
		break;
	case SCORING_CRC32C_MIX:
	default:
		m->crc_state = crc_32c_update(CRC_INIT, id->b, len);
		m->zero[0] = crc_32c_update(m->crc_state, score_zeros,
		    FLOW_ID_V4) ^ CRC_XOROUT;
		m->zero[1] = crc_32c_update(m->crc_state, score_zeros,
		    FLOW_ID_V6) ^ CRC_XOROUT;
		break;
	}
}

/*
 * One member's score, one function per method.  h is the per-packet
 * SipHash of the connection (keyed only), computed once for all members.
 */
typedef uint64_t (*score_fn)(const struct score_member *,
    const struct flow_key *, uint64_t);

static inline uint64_t
score_calc_mix(const struct score_member *m, const struct flow_key *key,
    uint64_t h)
{
	(void)h;
	return (score_mix32(crc_32c_update(m->crc_state, key->id,
	    flow_key_idlen(key)) ^ CRC_XOROUT));
}

#ifdef CRC_HAVE_HW
__attribute__((target("sse4.2"))) static inline uint64_t
score_calc_mix_hw(const struct score_member *m, const struct flow_key *key,
    uint64_t h)
{
	(void)h;
	return (score_mix32(crc_32c_hw_inline(m->crc_state, key->id,
	    flow_key_idlen(key)) ^ CRC_XOROUT));
}

#endif

/*
 * crc32c-mix for a whole ranking: a CRC register is linear in the
 * register and the data together, so the register after a member's id
 * and then the connection id is the register after the member's id and as
 * many zero bytes (zero[], per member, made once) xor the register of the
 * connection id alone from 0 (h, once per packet). Each member then costs
 * one xor and the finalizer, not a CRC over the id; the scores are the
 * same bits as score_calc_mix() (test_score.c checks both ways).
 */
static inline uint64_t
score_calc_mix_z4(const struct score_member *m, const struct flow_key *key,
    uint64_t h)
{
	(void)key;
	return (score_mix32((uint32_t)h ^ m->zero[0]));
}

static inline uint64_t
score_calc_mix_z6(const struct score_member *m, const struct flow_key *key,
    uint64_t h)
{
	(void)key;
	return (score_mix32((uint32_t)h ^ m->zero[1]));
}

/* Claim 9: a CRC over the ILB id concatenated to the connection id. */
static inline uint64_t
score_calc_crc32(const struct score_member *m, const struct flow_key *key,
    uint64_t h)
{
	(void)h;
	return (crc_32_update(m->crc_state, key->id, flow_key_idlen(key)) ^ CRC_XOROUT);
}

static inline uint64_t
score_calc_keyed(const struct score_member *m, const struct flow_key *key,
    uint64_t h)
{
	(void)key;
	return (score_mix64(h ^ m->k));
}

/* The per-packet part of the score common to all members. */
static inline uint64_t
score_prepare(const struct score_ctx *ctx, const struct flow_key *key)
{
	if (ctx->method == SCORING_KEYED)
		return (score_sip(ctx, key->id, flow_key_idlen(key)));
	return (0);
}

uint64_t
score_one(const struct score_ctx *ctx, const struct score_member *m,
    const struct flow_key *key)
{
	switch (ctx->method) {
	case SCORING_CRC32:
		return (score_calc_crc32(m, key, 0));
	case SCORING_KEYED:
		return (score_calc_keyed(m, key, score_prepare(ctx, key)));
	case SCORING_CRC32C_MIX:
	default:
		return (score_calc_mix(m, key, 0));
	}
}

int
score_id_cmp(const struct member_id *a, const struct member_id *b)
{
	size_t	len;

	if (a->len != b->len)
		return (a->len < b->len ? -1 : 1);
	len = a->len > MEMBER_ID_MAX ? MEMBER_ID_MAX : a->len;
	return (memcmp(a->b, b->b, len));
}

/*
 * Claims 7 and 8: rank on the arithmetical values, the largest first;
 * ties go to the larger id.
 */
int
score_better(uint64_t sa, const struct member_id *a, uint64_t sb,
    const struct member_id *b)
{
	if (sa != sb)
		return (sa > sb);
	return (score_id_cmp(a, b) > 0);
}

/*
 * Claim 3: best score is the owner, second best the backup owner.
 * Inlined once per method so that the score function is inlined too.
 */
/* c ? a : b without a branch (compilers turn ?: back into jumps). */
static inline uint64_t
score_sel(int c, uint64_t a, uint64_t b)
{
	return (b ^ ((a ^ b) & (0 - (uint64_t)(c != 0))));
}

static inline __attribute__((always_inline)) void
score_rank_loop(const struct score_member *members, size_t n,
    const struct flow_key *key, uint64_t h, score_fn fn, int *owner,
    int *backup)
{
	uint64_t	s, s1 = 0, s2 = 0;
	size_t		i;
	int		o = -1, b = -1, gt1, gt2;

	/* branch-free selects: which member wins is random per packet */
	for (i = 0; i < n; i++) {
		s = fn(&members[i], key, h);
		gt1 = s > s1;
		if (__builtin_expect(s == s1, 0))
			gt1 = o == -1 || score_id_cmp(&members[i].id,
			    &members[o].id) > 0;
		gt2 = s > s2;
		if (__builtin_expect(s == s2, 0))
			gt2 = b == -1 || score_id_cmp(&members[i].id,
			    &members[b].id) > 0;
		s2 = score_sel(gt1, s1, score_sel(gt2, s, s2));
		b = (int)score_sel(gt1, (uint64_t)o,
		    score_sel(gt2, i, (uint64_t)b));
		s1 = score_sel(gt1, s, s1);
		o = (int)score_sel(gt1, i, (uint64_t)o);
	}
	*owner = o;
	*backup = b;
}

/*
 * crc32c-mix ranking (zero[zi], h the connection's register from 0) in
 * two passes: the n scores first, independent of each other so that they
 * overlap in the pipeline, then the best two as keys score << 8 | index
 * through branch-free max and min, a shorter chain than
 * score_rank_loop()'s. The index only orders equal scores, and the order
 * claim 8 asks of those is by id: so when another member's score equals
 * either of the two (1 in 2^32 a pair), score_rank_loop() decides.
 */
#define SCORE_FAST_MAX	64

static inline __attribute__((always_inline)) void
score_rank_z(const struct score_member *members, size_t n,
    const struct flow_key *key, uint32_t h, unsigned int zi, int *owner,
    int *backup)
{
	uint32_t	sc[SCORE_FAST_MAX], s1, s2;
	uint64_t	k, lo, t1 = 0, t2 = 0;
	unsigned int	eq = 0;
	size_t		i;

	if (n >= 2 && n <= SCORE_FAST_MAX) {
		for (i = 0; i < n; i++)
			sc[i] = score_mix32(h ^ members[i].zero[zi]);
		for (i = 0; i < n; i++) {
			k = (uint64_t)sc[i] << 8 | i;
			lo = score_sel(k > t1, t1, k);
			t1 = score_sel(k > t1, k, t1);
			t2 = score_sel(lo > t2, lo, t2);
		}
		s1 = (uint32_t)(t1 >> 8);
		s2 = (uint32_t)(t2 >> 8);
		for (i = 0; i < n; i++)
			eq += (sc[i] == s1) + (sc[i] == s2);
		if (eq == 2) {
			*owner = (int)(t1 & 0xff);
			*backup = (int)(t2 & 0xff);
			return;
		}
	}
	score_rank_loop(members, n, key, h,
	    zi == 0 ? score_calc_mix_z4 : score_calc_mix_z6, owner, backup);
}

/* The k best into out[0..m) with their scores in sc; returns the count. */
static inline __attribute__((always_inline)) size_t
score_top_loop(const struct score_member *members, size_t n,
    const struct flow_key *key, uint64_t h, score_fn fn, int *out,
    uint64_t *sc, size_t m)
{
	uint64_t	s;
	size_t		i, j, cnt = 0;

	for (i = 0; i < n; i++) {
		s = fn(&members[i], key, h);
		/* insertion into the sorted prefix out[0..cnt) */
		j = cnt;
		if (j == m) {
			if (!score_better(s, &members[i].id, sc[m - 1],
			    &members[out[m - 1]].id))
				continue;
			j--;
		}
		for (; j > 0 && score_better(s, &members[i].id, sc[j - 1],
		    &members[out[j - 1]].id); j--) {
			sc[j] = sc[j - 1];
			out[j] = out[j - 1];
		}
		sc[j] = s;
		out[j] = (int)i;
		if (cnt < m)
			cnt++;
	}
	return (cnt);
}

#ifdef CRC_HAVE_HW
__attribute__((target("sse4.2"))) static void
score_rank_mix_hw(const struct score_member *members, size_t n,
    const struct flow_key *key, int *owner, int *backup)
{
	if (flow_key_idlen(key) == FLOW_ID_V4)
		score_rank_z(members, n, key,
		    crc_32c_hw_inline(0, key->id, FLOW_ID_V4), 0, owner,
		    backup);
	else if (flow_key_idlen(key) == FLOW_ID_V6)
		score_rank_z(members, n, key,
		    crc_32c_hw_inline(0, key->id, FLOW_ID_V6), 1, owner,
		    backup);
	else
		score_rank_loop(members, n, key, 0, score_calc_mix_hw, owner,
		    backup);
}

__attribute__((target("sse4.2"))) static size_t
score_top_mix_hw(const struct score_member *members, size_t n,
    const struct flow_key *key, int *out, uint64_t *sc, size_t m)
{
	return (score_top_loop(members, n, key, 0, score_calc_mix_hw, out,
	    sc, m));
}
#endif

/*
 * One loop per method out of line, so that score_rank() only dispatches:
 * with a loop inlined it saved six registers on every call, whichever
 * method ran (a tenth of the cost of ranking two members).
 */
static __attribute__((noinline)) void
score_rank_crc32(const struct score_member *members, size_t n,
    const struct flow_key *key, int *owner, int *backup)
{
	score_rank_loop(members, n, key, 0, score_calc_crc32, owner, backup);
}

static __attribute__((noinline)) void
score_rank_keyed(const struct score_ctx *ctx,
    const struct score_member *members, size_t n, const struct flow_key *key,
    int *owner, int *backup)
{
	score_rank_loop(members, n, key, score_prepare(ctx, key),
	    score_calc_keyed, owner, backup);
}

static __attribute__((noinline)) void
score_rank_mix(const struct score_member *members, size_t n,
    const struct flow_key *key, int *owner, int *backup)
{
	if (flow_key_idlen(key) == FLOW_ID_V4)
		score_rank_z(members, n, key,
		    crc_32c_sw(0, key->id, FLOW_ID_V4), 0, owner, backup);
	else if (flow_key_idlen(key) == FLOW_ID_V6)
		score_rank_z(members, n, key,
		    crc_32c_sw(0, key->id, FLOW_ID_V6), 1, owner, backup);
	else
		score_rank_loop(members, n, key, 0, score_calc_mix, owner,
		    backup);
}

void
score_rank(const struct score_ctx *ctx, const struct score_member *members,
    size_t n, const struct flow_key *key, int *owner, int *backup)
{
	switch (ctx->method) {
	case SCORING_CRC32:
		score_rank_crc32(members, n, key, owner, backup);
		break;
	case SCORING_KEYED:
		score_rank_keyed(ctx, members, n, key, owner, backup);
		break;
	case SCORING_CRC32C_MIX:
	default:
#ifdef CRC_HAVE_HW
		if (ctx->crc_hw) {
			score_rank_mix_hw(members, n, key, owner, backup);
			break;
		}
#endif
		score_rank_mix(members, n, key, owner, backup);
		break;
	}
}

size_t
score_top(const struct score_ctx *ctx, const struct score_member *members,
    size_t n, const struct flow_key *key, int *out, size_t k)
{
	uint64_t	sc[SCORE_TOP_MAX];
	size_t		j, m;

	for (j = 0; j < k; j++)
		out[j] = -1;
	m = k < SCORE_TOP_MAX ? k : SCORE_TOP_MAX;
	if (m == 0)
		return (0);
	switch (ctx->method) {
	case SCORING_CRC32:
		return (score_top_loop(members, n, key, 0, score_calc_crc32,
		    out, sc, m));
	case SCORING_KEYED:
		return (score_top_loop(members, n, key,
		    score_prepare(ctx, key), score_calc_keyed, out, sc, m));
	case SCORING_CRC32C_MIX:
	default:
#ifdef CRC_HAVE_HW
		if (ctx->crc_hw)
			return (score_top_mix_hw(members, n, key, out, sc, m));
#endif
		return (score_top_loop(members, n, key, 0, score_calc_mix,
		    out, sc, m));
	}
}
