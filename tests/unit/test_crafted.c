/*
 * test_crafted.c: crafted client tuples against the scoring methods
 * (DESIGN.md section 3: why crc32c-mix is not enough and keyed exists).
 *
 * The attack.  A CRC register update is linear over GF(2) in (register,
 * data) jointly, so for a fixed length n
 *	crc(A xor X) = crc(A) xor L_n(X)
 * where L_n(X) = crc_update(0, X) is a linear map from n-byte strings to
 * 32 bits.  An attacker who fixes the service (dport, daddr) and picks the
 * client part (sport, saddr) of the connection id freely controls a
 * subspace V of the free bits; every X in the kernel of L_n restricted to
 * V gives a tuple A xor X with the same CRC as A.  The kernel is found by
 * Gaussian elimination over GF(2) (crafted_kernel below): with 48 free bits
 * (IPv4 sport and saddr) and a rank-32 map it has dimension 16, i.e. 2^16
 * colliding tuples; with the 64 interface-id bits of an IPv6 /64 the
 * attacker owns, dimension 32.
 *
 * Why one CRC collision is a collision for every member.  A member's score
 * under crc32c-mix is mix32(crc_update(R_id, conn) ^ XOROUT), R_id the
 * register after the id.  By the same linearity
 *	crc_update(R_id, conn) = crc_update(R_id, 0^n) xor L_n(conn),
 * and crc32c(conn) = crc_update(INIT, 0^n) xor L_n(conn) xor XOROUT, so
 * equal crc32c(conn) for equal-length conns means equal L_n(conn), hence
 * the same score for every member whatever its id (address or index, 4 or
 * 16 bytes): the whole set of tuples has one owner and one backup.  The
 * same holds for crc32 with CRC32 (zlib) collisions; note that a CRC32C
 * collision is not a CRC32 collision (different polynomial), so the crc32
 * case gets its own crafted set.
 *
 * keyed hashes the connection with SipHash under a key the attacker does
 * not know, so the same tuples spread like random ones.
 *
 * The kernel is computed with a test-local bitwise CRC; the collisions are
 * then checked independently with crc_32c()/crc_32() from src/crc.h.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crc.h"
#include "score.h"

#define POLY_CRC32C	0x82f63b78U
#define POLY_CRC32	0xedb88320U

#define NCRAFT		4096	/* crafted tuples per set ("a few thousand") */
#define FREE_MAX	64	/* free bits handled by the solver */

/* A crafted set: NCRAFT distinct connection ids of one length. */
struct crafted {
	struct flow_key	key[NCRAFT];
	size_t		dim;		/* kernel dimension found */
};

static struct crafted	craft_v4c;	/* IPv4, CRC32C collisions */
static struct crafted	craft_v6c;	/* IPv6, CRC32C collisions */
static struct crafted	craft_v4z;	/* IPv4, CRC32 (zlib) collisions */

/* Bitwise reflected CRC register update: the slow obvious reference. */
static uint32_t
crafted_crc_bitwise(uint32_t poly, uint32_t c, const uint8_t *p, size_t len)
{
	int	j;

	while (len-- > 0) {
		c ^= *p++;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
	}
	return (c);
}

/* Free bit j (0..8*nfree) is bit j%8 of byte off + j/8. */
static void
crafted_apply(uint8_t *id, size_t off, size_t nfree, uint64_t x)
{
	size_t	i;

	for (i = 0; i < nfree; i++)
		id[off + i] ^= (uint8_t)(x >> (8 * i));
}

/*
 * Basis of the kernel of X -> L_len(X) over the free bytes [off, off +
 * nfree) (nfree <= 8), by Gaussian elimination over GF(2) on the columns
 * L(e_j).  Each column is reduced against the pivots found so far while
 * tracking which free bits it combines; a column that reduces to zero
 * gives a kernel vector.  Kernel vector k has its highest set bit at the
 * column that produced it, and those columns differ, so the vectors are
 * linearly independent.  Returns the dimension (nfree * 8 - rank).
 */
static size_t
crafted_kernel(uint32_t poly, size_t len, size_t off, size_t nfree,
    uint64_t *basis)
{
	uint32_t	pvec[32];	/* pivot with its top bit at index b */
	uint64_t	pcomb[32];	/* free bits it combines */
	uint8_t		buf[FLOW_ID_MAX];
	uint32_t	v;
	uint64_t	comb;
	size_t		j, dim = 0;
	int		b;

	assert_true(nfree <= FREE_MAX / 8 && off + nfree <= len);
	memset(pvec, 0, sizeof(pvec));
	memset(pcomb, 0, sizeof(pcomb));
	for (j = 0; j < nfree * 8; j++) {
		memset(buf, 0, sizeof(buf));
		comb = 1ULL << j;
		crafted_apply(buf, off, nfree, comb);
		v = crafted_crc_bitwise(poly, 0, buf, len);	/* L(e_j) */
		for (b = 31; b >= 0; b--) {
			if (!(v >> b & 1))
				continue;
			if (pvec[b] == 0) {
				pvec[b] = v;
				pcomb[b] = comb;
				break;
			}
			v ^= pvec[b];
			comb ^= pcomb[b];
		}
		if (v == 0)
			basis[dim++] = comb;
	}
	return (dim);
}

/*
 * The crafted set: base xor (sum of basis[i] for the bits i of k), for
 * k = 0 .. NCRAFT-1.  Distinct because the basis is independent.
 */
static void
crafted_build(struct crafted *cs, uint32_t poly, const uint8_t *base,
    size_t len, size_t off, size_t nfree)
{
	uint64_t	basis[FREE_MAX], x;
	size_t		k, i;

	cs->dim = crafted_kernel(poly, len, off, nfree, basis);
	assert_true(cs->dim < FREE_MAX && (1ULL << cs->dim) >= NCRAFT);
	for (k = 0; k < NCRAFT; k++) {
		x = 0;
		for (i = 0; i < cs->dim; i++)
			if (k >> i & 1)
				x ^= basis[i];
		memset(&cs->key[k], 0, sizeof(cs->key[k]));
		cs->key[k].len = (uint8_t)len;
		memcpy(cs->key[k].id, base, len);
		crafted_apply(cs->key[k].id, off, nfree, x);
	}
}

static int
crafted_setup(void **state)
{
	/* dport 443, daddr 198.51.100.10; sport 40000, saddr 203.0.113.7 */
	static const uint8_t	v4[FLOW_ID_V4] = {
		0x01, 0xbb, 0xc6, 0x33, 0x64, 0x0a,
		0x9c, 0x40, 0xcb, 0x00, 0x71, 0x07 };
	/* dport 443, daddr 2001:db8:1::10; sport 40000, saddr 2001:db8:bad::1 */
	static const uint8_t	v6[FLOW_ID_V6] = {
		0x01, 0xbb,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
		0x9c, 0x40,
		0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 };

	(void)state;
	/* IPv4: sport and saddr, bytes 6..11, 48 bits */
	crafted_build(&craft_v4c, POLY_CRC32C, v4, FLOW_ID_V4, 6, 6);
	crafted_build(&craft_v4z, POLY_CRC32, v4, FLOW_ID_V4, 6, 6);
	/* IPv6: the low 64 bits of saddr (the attacker's /64), bytes 28..35 */
	crafted_build(&craft_v6c, POLY_CRC32C, v6, FLOW_ID_V6, 28, 8);
	return (0);
}

static int
crafted_key_cmp(const void *a, const void *b)
{
	const struct flow_key	*ka = a, *kb = b;

	if (ka->len != kb->len)
		return (ka->len < kb->len ? -1 : 1);
	return (memcmp(ka->id, kb->id, ka->len));
}

/* All distinct, all with one CRC, fixed bytes untouched. */
static void
crafted_check_set(const struct crafted *cs, size_t expect_dim, size_t off,
    uint32_t (*crc)(const void *, size_t), uint32_t (*other)(const void *,
    size_t))
{
	static struct flow_key	sorted[NCRAFT];
	uint32_t		c0;
	size_t			k, len = cs->key[0].len, nother = 0;

	assert_int_equal(cs->dim, expect_dim);
	c0 = crc(cs->key[0].id, len);
	for (k = 0; k < NCRAFT; k++) {
		assert_int_equal(cs->key[k].len, len);
		assert_int_equal(crc(cs->key[k].id, len), c0);
		/* the service part (dport, daddr, ...) is the base's */
		assert_memory_equal(cs->key[k].id, cs->key[0].id, off);
		if (other(cs->key[k].id, len) != other(cs->key[0].id, len))
			nother++;
	}
	/* a collision in one polynomial is not one in the other */
	assert_true(nother > NCRAFT / 2);
	memcpy(sorted, cs->key, sizeof(sorted));
	qsort(sorted, NCRAFT, sizeof(sorted[0]), crafted_key_cmp);
	for (k = 1; k < NCRAFT; k++)
		assert_true(crafted_key_cmp(&sorted[k - 1], &sorted[k]) < 0);
}

static void
test_collisions(void **state)
{
	(void)state;
	/* 48 free bits, rank 32 (the last 4 bytes alone reach every CRC) */
	crafted_check_set(&craft_v4c, 16, 6, crc_32c, crc_32);
	crafted_check_set(&craft_v4z, 16, 6, crc_32, crc_32c);
	crafted_check_set(&craft_v6c, 32, 28, crc_32c, crc_32);
}

static void
crafted_ctx(struct score_ctx *ctx, enum conf_scoring method)
{
	uint8_t	key[CONF_KEY_LEN];
	int	i;

	/* a fixed 32-byte test cluster key: deterministic results */
	for (i = 0; i < CONF_KEY_LEN; i++)
		key[i] = (uint8_t)(0xa5 ^ (i * 7));
	assert_int_equal(score_init(ctx, method, key), 0);
}

/* Members 10.0.0.1 .. 10.0.0.n. */
static void
crafted_members(const struct score_ctx *ctx, struct score_member *m, size_t n)
{
	struct member_id	id;
	uint32_t		a;
	size_t			i;

	for (i = 0; i < n; i++) {
		a = 0x0a000001U + (uint32_t)i;
		memset(&id, 0, sizeof(id));
		id.len = 4;
		id.b[0] = (uint8_t)(a >> 24);
		id.b[1] = (uint8_t)(a >> 16);
		id.b[2] = (uint8_t)(a >> 8);
		id.b[3] = (uint8_t)a;
		score_member_init(ctx, &m[i], &id);
	}
}

/* Ids of every kind and length: 4-byte address, index, 16-byte address. */
static void
crafted_members_mixed(const struct score_ctx *ctx, struct score_member *m)
{
	struct member_id	id;

	memset(&id, 0, sizeof(id));
	id.len = 4;
	id.b[0] = 192;
	id.b[1] = 0;
	id.b[2] = 2;
	id.b[3] = 77;
	score_member_init(ctx, &m[0], &id);
	memset(&id, 0, sizeof(id));
	id.len = 4;
	id.is_index = 1;
	id.b[3] = 9;
	score_member_init(ctx, &m[1], &id);
	memset(&id, 0, sizeof(id));
	id.len = 16;
	id.b[0] = 0x20;
	id.b[1] = 0x01;
	id.b[2] = 0x0d;
	id.b[3] = 0xb8;
	id.b[15] = 0x42;
	score_member_init(ctx, &m[2], &id);
}

/* Every tuple of the set has the owner and backup of the first one. */
static void
crafted_one_owner(const struct score_ctx *ctx, const struct crafted *cs,
    size_t n)
{
	struct score_member	m[8];
	int			o0, b0, o, b, k;

	assert_true(n <= 8);
	crafted_members(ctx, m, n);
	score_rank(ctx, m, n, &cs->key[0], &o0, &b0);
	assert_true(o0 >= 0 && b0 >= 0 && o0 != b0);
	for (k = 1; k < NCRAFT; k++) {
		score_rank(ctx, m, n, &cs->key[k], &o, &b);
		assert_int_equal(o, o0);
		assert_int_equal(b, b0);
	}
}

/* The same score for every member and tuple, whatever the id. */
static void
crafted_same_scores(const struct score_ctx *ctx, const struct crafted *cs)
{
	struct score_member	m[3];
	uint64_t		s0[3];
	int			i, k;

	crafted_members_mixed(ctx, m);
	for (i = 0; i < 3; i++)
		s0[i] = score_one(ctx, &m[i], &cs->key[0]);
	for (k = 1; k < NCRAFT; k++)
		for (i = 0; i < 3; i++)
			assert_true(score_one(ctx, &m[i], &cs->key[k]) ==
			    s0[i]);
}

/* crc32c-mix: the whole crafted set lands on one owner (and one backup). */
static void
test_mix_one_owner(void **state)
{
	struct score_ctx	ctx;
	int			hw;

	(void)state;
	crafted_ctx(&ctx, SCORING_CRC32C_MIX);
	/* both CRC32C paths: SSE4.2 (if the CPU has it) and tables */
	for (hw = ctx.crc_hw; hw >= 0; hw--) {
		ctx.crc_hw = hw;
		crafted_one_owner(&ctx, &craft_v4c, 3);
		crafted_one_owner(&ctx, &craft_v4c, 8);
		crafted_one_owner(&ctx, &craft_v6c, 3);
		crafted_one_owner(&ctx, &craft_v6c, 8);
		crafted_same_scores(&ctx, &craft_v4c);
		crafted_same_scores(&ctx, &craft_v6c);
	}
}

/* crc32 (claim 9): the same with CRC32 collisions. */
static void
test_crc32_one_owner(void **state)
{
	struct score_ctx	ctx;

	(void)state;
	crafted_ctx(&ctx, SCORING_CRC32);
	crafted_one_owner(&ctx, &craft_v4z, 3);
	crafted_one_owner(&ctx, &craft_v4z, 8);
	crafted_same_scores(&ctx, &craft_v4z);
}

/*
 * keyed: the crafted tuples spread like random ones.  Each member's owner
 * and backup counts within [0.8, 1.2] of fair, and for n = 3 each
 * (owner, backup) pair too.  With 4096 tuples the tightest case (n = 8,
 * fair 512, sd about 21) leaves the bounds about 4.8 sd away; the key is
 * fixed, so the result is deterministic.
 */
static void
crafted_keyed_spread(const struct score_ctx *ctx, const struct crafted *cs,
    size_t n)
{
	struct score_member	m[8];
	unsigned		owned[8], backed[8], pair[8][8];
	double			fair = (double)NCRAFT / (double)n;
	double			pfair = fair / (double)(n - 1);
	size_t			i, j;
	int			o, b, k;

	assert_true(n >= 2 && n <= 8);
	memset(owned, 0, sizeof(owned));
	memset(backed, 0, sizeof(backed));
	memset(pair, 0, sizeof(pair));
	crafted_members(ctx, m, n);
	for (k = 0; k < NCRAFT; k++) {
		score_rank(ctx, m, n, &cs->key[k], &o, &b);
		assert_true(o >= 0 && (size_t)o < n);
		assert_true(b >= 0 && (size_t)b < n && b != o);
		owned[o]++;
		backed[b]++;
		pair[o][b]++;
	}
	for (i = 0; i < n; i++) {
		assert_true(owned[i] >= 0.8 * fair && owned[i] <= 1.2 * fair);
		assert_true(backed[i] >= 0.8 * fair &&
		    backed[i] <= 1.2 * fair);
	}
	if (n != 3)
		return;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			if (i == j)
				continue;
			assert_true(pair[i][j] >= 0.8 * pfair &&
			    pair[i][j] <= 1.2 * pfair);
		}
}

static void
test_keyed_spread(void **state)
{
	struct score_ctx	ctx;

	(void)state;
	crafted_ctx(&ctx, SCORING_KEYED);
	crafted_keyed_spread(&ctx, &craft_v4c, 3);
	crafted_keyed_spread(&ctx, &craft_v4c, 8);
	crafted_keyed_spread(&ctx, &craft_v6c, 3);
	crafted_keyed_spread(&ctx, &craft_v6c, 8);
	crafted_keyed_spread(&ctx, &craft_v4z, 3);
	crafted_keyed_spread(&ctx, &craft_v4z, 8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_mix_one_owner),
		cmocka_unit_test(test_crc32_one_owner),
		cmocka_unit_test(test_keyed_spread),
	};

	crc_init();
	return (cmocka_run_group_tests(tests, crafted_setup, NULL));
}
