/* sched.c: server selection for one service (rr, wrr, lc, wlc, Maglev hash). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "sched.h"

#define SCHED_SEED_KEY		0x9e3779b97f4a7c15ULL	/* flow key hash */
#define SCHED_SEED_OFFSET	0xc2b2ae3d27d4eb4fULL	/* server -> offset */
#define SCHED_SEED_SKIP		0x165667b19e3779f9ULL	/* server -> skip */

static uint64_t	sched_rotl(uint64_t, int);
static uint64_t	sched_load64le(const uint8_t *, size_t);
static uint64_t	sched_fmix(uint64_t);
static uint64_t	sched_hash_bytes(const uint8_t *, size_t, uint64_t);
static int	sched_is_prime(uint32_t);
static void	sched_changed(struct sched *);
static void	sched_maglev_next(struct sched_server *, uint32_t);
static int	sched_heap_less(const struct sched *, uint16_t, uint16_t);
static void	sched_heap_down(struct sched *, unsigned int, unsigned int);
static void	sched_maglev_fill(struct sched *, uint32_t);
static void	sched_maglev_claim(struct sched *, unsigned int);
static int	sched_pick_rr(struct sched *);
static int	sched_pick_wrr(struct sched *);
static int	sched_pick_lc(struct sched *, int);

static uint64_t
sched_rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* Little-endian load of up to 8 bytes, so every host hashes alike. */
static uint64_t
sched_load64le(const uint8_t *p, size_t len)
{
	uint64_t	v = 0;
	size_t		i;

	if (len >= 8)
		return (le64_load(p));
	for (i = 0; i < len; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return (v);
}

/* MurmurHash3 64-bit finaliser. */
static uint64_t
sched_fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* A small MurmurHash3-style 64-bit hash; fixed output across hosts. */
static uint64_t
sched_hash_bytes(const uint8_t *p, size_t len, uint64_t seed)
{
	const uint64_t	c1 = 0x87c37b91114253d5ULL;
	const uint64_t	c2 = 0x4cf5ad432745937fULL;
	uint64_t	h = seed ^ ((uint64_t)len * c2);
	uint64_t	k;
	size_t		off;

	for (off = 0; off < len; off += 8) {
		k = sched_load64le(p + off, len - off);
		k *= c1;
		k = sched_rotl(k, 31);
		k *= c2;
		h ^= k;
		h = sched_rotl(h, 27) * 5 + 0x52dce729;
	}
	return sched_fmix(h ^ len);
}

uint64_t
sched_hash_key(const struct flow_key *key)
{
	size_t	len = flow_key_idlen(key) > FLOW_ID_MAX ? FLOW_ID_MAX :
	    flow_key_idlen(key);

	return sched_hash_bytes(key->id, len, SCHED_SEED_KEY);
}

static int
sched_is_prime(uint32_t v)
{
	uint32_t	d;

	if (v < 2)
		return 0;
	for (d = 2; d * d <= v; d++)
		if (v % d == 0)
			return 0;
	return 1;
}

/*
 * M depends on the configured number of servers only, never on health, so
 * a server going down or up does not resize (and reshuffle) the table.
 * Maglev moves about N/M of the other servers' keys on a change, so M is
 * the first prime >= 400 slots a server (>= 4093, so 8 KiB for small
 * services; 2^16 + 1 = 128 KiB from 164 servers): with 5-150 servers under
 * 1% of other keys move on average, and the per-slot share error stays small.
 */
uint32_t
sched_maglev_size(unsigned int n)
{
	uint32_t	m;

	if (n >= SCHED_MAGLEV_MAX / SCHED_MAGLEV_PER_SRV)
		return SCHED_MAGLEV_MAX;
	m = (uint32_t)n * SCHED_MAGLEV_PER_SRV;
	if (m < SCHED_MAGLEV_MIN)
		m = SCHED_MAGLEV_MIN;
	while (!sched_is_prime(m))
		m++;
	return m > SCHED_MAGLEV_MAX ? SCHED_MAGLEV_MAX : m;
}

int
sched_init(struct sched *s, enum conf_sched kind,
    const struct server_conf *conf, unsigned int n)
{
	struct sched_server	*sv;
	const uint8_t		*id;
	unsigned int		 i;
	uint32_t		 m;

	memset(s, 0, sizeof(*s));
	if (n == 0 || n > CONF_SERVERS_MAX || kind < SCHED_RR ||
	    kind > SCHED_HASH) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++)
		if (conf[i].weight > SCHED_WEIGHT_MAX) {
			errno = EINVAL;
			return -1;
		}
	m = sched_maglev_size(n);
	if ((s->srv = calloc(n, sizeof(*s->srv))) == NULL ||
	    (s->heap = calloc(n, sizeof(*s->heap))) == NULL ||
	    (s->maglev = calloc(m, sizeof(*s->maglev))) == NULL) {
		sched_free(s);
		return -1;
	}
	s->kind = kind;
	s->n = n;
	s->maglev_size = m;
	for (i = 0; i < n; i++) {
		sv = &s->srv[i];
		sv->weight = conf[i].weight;
		sv->up = 1;
		/* The permutation follows the address, not the index. */
		id = (const uint8_t *)&conf[i].addr;
		sv->mg_offset = sched_hash_bytes(id, sizeof(conf[i].addr),
		    SCHED_SEED_OFFSET) % m;
		sv->mg_skip = sched_hash_bytes(id, sizeof(conf[i].addr),
		    SCHED_SEED_SKIP) % (m - 1) + 1;
	}
	s->dirty = 1;
	sched_rebuild(s);
	return 0;
}

void
sched_free(struct sched *s)
{
	free(s->srv);
	free(s->heap);
	free(s->maglev);
	memset(s, 0, sizeof(*s));
}

int
sched_eligible(const struct sched *s, unsigned int i)
{
	if (i >= s->n)
		return 0;
	return sched_server_eligible(&s->srv[i]);
}

unsigned int
sched_neligible(const struct sched *s)
{
	unsigned int	i, c = 0;

	for (i = 0; i < s->n; i++)
		c += sched_eligible(s, i) != 0;
	return c;
}

/* The eligible set or a weight changed: restart swrr, rebuild Maglev. */
static void
sched_changed(struct sched *s)
{
	unsigned int	i;

	for (i = 0; i < s->n; i++)
		s->srv[i].cur_weight = 0;
	s->dirty = 1;
}

int
sched_set_up(struct sched *s, unsigned int i, int up)
{
	if (i >= s->n)
		return -1;
	if (s->srv[i].up != (up != 0)) {
		s->srv[i].up = up != 0;
		sched_changed(s);
	}
	return 0;
}

int
sched_set_drained(struct sched *s, unsigned int i, int drained)
{
	if (i >= s->n)
		return -1;
	if (s->srv[i].drained != (drained != 0)) {
		s->srv[i].drained = drained != 0;
		sched_changed(s);
	}
	return 0;
}

int
sched_set_weight(struct sched *s, unsigned int i, uint32_t weight)
{
	if (i >= s->n || weight > SCHED_WEIGHT_MAX)
		return -1;
	if (s->srv[i].weight != weight) {
		s->srv[i].weight = weight;
		sched_changed(s);
	}
	return 0;
}

void
sched_conn_add(struct sched *s, unsigned int i)
{
	if (i < s->n && s->srv[i].active < UINT32_MAX)
		s->srv[i].active++;
}

void
sched_conn_del(struct sched *s, unsigned int i)
{
	if (i < s->n && s->srv[i].active > 0)
		s->srv[i].active--;
}

/* Server i takes the next free slot of its permutation. */
static void
sched_maglev_claim(struct sched *s, unsigned int i)
{
	struct sched_server	*sv = &s->srv[i];
	uint32_t		 m = s->maglev_size, slot;

	for (;;) {
		slot = sv->mg_pos;
		sv->mg_pos += sv->mg_skip;
		if (sv->mg_pos >= m)
			sv->mg_pos -= m;
		if (s->maglev[slot] == SCHED_MAGLEV_EMPTY) {
			s->maglev[slot] = (uint16_t)i;
			return;
		}
	}
}

/* Credit for the rounds until server sv next claims a slot (one max_w). */
static void
sched_maglev_next(struct sched_server *sv, uint32_t max_w)
{
	uint32_t	k;

	k = (max_w - sv->mg_credit + sv->weight - 1) / sv->weight;
	sv->mg_round += k;
	sv->mg_credit += k * sv->weight - max_w;
}

/* Heap order: the server claiming in the earliest round, lowest index. */
static int
sched_heap_less(const struct sched *s, uint16_t a, uint16_t b)
{
	if (s->srv[a].mg_round != s->srv[b].mg_round)
		return s->srv[a].mg_round < s->srv[b].mg_round;
	return a < b;
}

static void
sched_heap_down(struct sched *s, unsigned int len, unsigned int at)
{
	unsigned int	c;
	uint16_t	t;

	while ((c = 2 * at + 1) < len) {
		if (c + 1 < len && sched_heap_less(s, s->heap[c + 1], s->heap[c]))
			c++;
		if (!sched_heap_less(s, s->heap[c], s->heap[at]))
			break;
		t = s->heap[at];
		s->heap[at] = s->heap[c];
		s->heap[c] = t;
		at = c;
	}
}

/*
 * Weighted Maglev fill: in round r (1, 2, ...) every eligible server earns
 * its weight in credit and, in index order, claims a slot once it holds
 * max_w, so the heaviest claims every round and shares follow weights.
 * A heap of next-claim rounds yields that order in O(M log n), not
 * O(rounds * n) (140 ms with 1024 servers weighted 1000:1:1...).
 */
static void
sched_maglev_fill(struct sched *s, uint32_t max_w)
{
	struct sched_server	*sv;
	uint32_t		 filled, m = s->maglev_size;
	unsigned int		 i, len = 0;

	for (i = 0; i < s->n; i++) {
		if (!sched_eligible(s, i))
			continue;
		sv = &s->srv[i];
		sv->mg_pos = sv->mg_offset;
		sv->mg_credit = 0;
		sv->mg_round = 0;
		sched_maglev_next(sv, max_w);
		s->heap[len++] = (uint16_t)i;
	}
	for (i = len / 2; i-- > 0; )
		sched_heap_down(s, len, i);
	for (filled = 0; filled < m; filled++) {
		sched_maglev_claim(s, s->heap[0]);
		sched_maglev_next(&s->srv[s->heap[0]], max_w);
		sched_heap_down(s, len, 0);
	}
}

void
sched_rebuild(struct sched *s)
{
	uint32_t	max_w = 0;
	unsigned int	i;

	if (!s->dirty)
		return;
	for (i = 0; i < s->maglev_size; i++)
		s->maglev[i] = SCHED_MAGLEV_EMPTY;
	for (i = 0; i < s->n; i++)
		if (sched_eligible(s, i) && s->srv[i].weight > max_w)
			max_w = s->srv[i].weight;
	if (max_w > 0)
		sched_maglev_fill(s, max_w);
	s->dirty = 0;
}

int
sched_pick_hash(const struct sched *s, const struct flow_key *key)
{
	uint64_t	h = sched_hash_key(key);
	uint32_t	m = s->maglev_size, slot, k;
	uint16_t	srv;

	if (m == 0)
		return -1;
	/* One multiply instead of a division: (h >> 32) * M >> 32. */
	slot = (uint32_t)(((h >> 32) * m) >> 32);
	srv = s->maglev[slot];
	if (!s->dirty)
		return srv == SCHED_MAGLEV_EMPTY ? -1 : srv;
	/* Stale table: probe on to the next eligible slot, O(M) at worst. */
	for (k = 0; k < m; k++) {
		srv = s->maglev[slot];
		if (srv != SCHED_MAGLEV_EMPTY && sched_eligible(s, srv))
			return srv;
		if (++slot == m)
			slot = 0;
	}
	return -1;
}

static int
sched_pick_rr(struct sched *s)
{
	unsigned int	k, i;

	for (k = 0; k < s->n; k++) {
		i = (s->next + k) % s->n;
		if (sched_eligible(s, i)) {
			s->next = (i + 1) % s->n;
			return (int)i;
		}
	}
	return -1;
}

/* nginx smooth weighted round robin; ties go to the lowest index. */
static int
sched_pick_wrr(struct sched *s)
{
	struct sched_server	*sv;
	int32_t			 total = 0;
	unsigned int		 i;
	int			 best = -1;

	for (i = 0; i < s->n; i++) {
		if (!sched_eligible(s, i))
			continue;
		sv = &s->srv[i];
		sv->cur_weight += (int32_t)sv->weight;
		total += (int32_t)sv->weight;
		if (best < 0 || sv->cur_weight > s->srv[best].cur_weight)
			best = (int)i;
	}
	if (best >= 0)
		s->srv[best].cur_weight -= total;
	return best;
}

/*
 * Least connections, or least active/weight when weighted (compared as
 * active_i * weight_b < active_b * weight_i in 64 bits). The scan starts at
 * a rotating cursor and keeps the first minimum, so ties rotate.
 */
static int
sched_pick_lc(struct sched *s, int weighted)
{
	const struct sched_server	*sv, *bv;
	unsigned int			 k, i;
	int				 best = -1;
	uint64_t			 l, r;

	for (k = 0; k < s->n; k++) {
		i = (s->next + k) % s->n;
		if (!sched_eligible(s, i))
			continue;
		if (best < 0) {
			best = (int)i;
			continue;
		}
		sv = &s->srv[i];
		bv = &s->srv[best];
		l = (uint64_t)sv->active * (weighted ? bv->weight : 1);
		r = (uint64_t)bv->active * (weighted ? sv->weight : 1);
		if (l < r)
			best = (int)i;
	}
	if (best >= 0)
		s->next = ((unsigned int)best + 1) % s->n;
	return best;
}

int
sched_pick(struct sched *s, const struct flow_key *key)
{
	switch (s->kind) {
	case SCHED_RR:
		return sched_pick_rr(s);
	case SCHED_WRR:
		return sched_pick_wrr(s);
	case SCHED_LC:
		return sched_pick_lc(s, 0);
	case SCHED_WLC:
		return sched_pick_lc(s, 1);
	case SCHED_HASH:
		return sched_pick_hash(s, key);
	}
	return -1;
}
