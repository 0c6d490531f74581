/* spsc.c: a single-producer single-consumer ring of packets (spsc.h). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spsc.h"

#define SPSC_HDR	8
#define SPSC_PAD	UINT32_MAX	/* header: skip to the ring's start */

static size_t
spsc_rec(size_t len)
{
	return (SPSC_HDR + ((len + 7) & ~(size_t)7));
}

int
spsc_init(struct spsc *r, size_t size)
{
	memset(r, 0, sizeof(*r));
	if (size < 4096 || (size & (size - 1)) != 0) {
		errno = EINVAL;
		return (-1);
	}
	if ((r->buf = aligned_alloc(64, size)) == NULL)
		return (-1);
	/* every page now: the memory a ring takes is taken at start */
	memset(r->buf, 0, size);
	r->size = size;
	r->sleeping = 1;	/* nothing to take until the first wake-up */
	return (0);
}

void
spsc_free(struct spsc *r)
{
	free(r->buf);
	r->buf = NULL;
}

size_t
spsc_max_record(const struct spsc *r)
{
	return (r->size / 2 - SPSC_HDR);
}

int
spsc_put(struct spsc *r, const uint8_t *p, size_t len)
{
	size_t		need = spsc_rec(len), off, to_end;
	uint64_t	t = r->tail_local;

	if (len > spsc_max_record(r))
		return (-1);
	off = (size_t)(t & (r->size - 1));
	to_end = r->size - off;
	if (to_end < need) {
		/* it goes at the start, after a pad to the end */
		if (t + to_end + need - r->head_seen > r->size) {
			r->head_seen = __atomic_load_n(&r->head,
			    __ATOMIC_ACQUIRE);
			if (t + to_end + need - r->head_seen > r->size)
				return (-1);
		}
		*(uint32_t *)(r->buf + off) = SPSC_PAD;
		t += to_end;
		off = 0;
	} else if (t + need - r->head_seen > r->size) {
		r->head_seen = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		if (t + need - r->head_seen > r->size)
			return (-1);
	}
	*(uint32_t *)(r->buf + off) = (uint32_t)len;
	memcpy(r->buf + off + SPSC_HDR, p, len);
	r->tail_local = t + need;
	return (0);
}

int
spsc_publish(struct spsc *r)
{
	/*
	 * Store the tail, then look at the flag; spsc_sleep() stores the
	 * flag, then looks at the tail. Both sequentially consistent: one of
	 * the two sees the other's store, so no wake-up is lost.
	 */
	__atomic_store_n(&r->tail, r->tail_local, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->sleeping, __ATOMIC_SEQ_CST) == 0)
		return (0);
	return (__atomic_exchange_n(&r->sleeping, 0, __ATOMIC_SEQ_CST) == 1);
}

size_t
spsc_peek(struct spsc *r, const uint8_t **pkts, size_t *lens, size_t max)
{
	uint64_t	t = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	uint64_t	h = r->head_local;
	size_t		n = 0, off;
	uint32_t	len;

	while (h != t && n < max) {
		off = (size_t)(h & (r->size - 1));
		len = *(const uint32_t *)(r->buf + off);
		if (len == SPSC_PAD) {
			h += r->size - off;
			continue;
		}
		pkts[n] = r->buf + off + SPSC_HDR;
		lens[n++] = len;
		h += spsc_rec(len);
	}
	r->head_local = h;
	return (n);
}

void
spsc_release(struct spsc *r)
{
	__atomic_store_n(&r->head, r->head_local, __ATOMIC_RELEASE);
}

int
spsc_sleep(struct spsc *r)
{
	__atomic_store_n(&r->sleeping, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->tail, __ATOMIC_SEQ_CST) == r->head_local)
		return (1);
	/* a record came: take it; a wake-up may come too, harmless */
	__atomic_store_n(&r->sleeping, 0, __ATOMIC_SEQ_CST);
	return (0);
}

int
spsc_drain(struct spsc *r, size_t budget, spsc_fn fn, void *arg)
{
	const uint8_t	*recs[SPSC_BURST];
	size_t		 lens[SPSC_BURST], n, done = 0;

	while (done < budget) {
		if ((n = spsc_peek(r, recs, lens, SPSC_BURST)) == 0) {
			if (spsc_sleep(r))
				return (0);
			continue;
		}
		fn(arg, recs, lens, n);
		spsc_release(r);
		done += n;
	}
	return (1);
}
