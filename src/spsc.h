/*
 * spsc.h: a single-producer single-consumer ring of variable-length
 * records (packets), lock-free: an input worker thread puts bursts in,
 * the loop that owns the connection state takes them out (worker.c).
 */
#ifndef ILBD_SPSC_H
#define ILBD_SPSC_H

#include <stddef.h>
#include <stdint.h>

/*
 * Each record is an 8-byte header (its length) and its bytes, rounded up
 * to 8; a record never wraps: one that does not fit before the end is put
 * at the start, after a pad header. head and tail run free (mod 2^64).
 * The producer's and the consumer's indexes are on cache lines of their
 * own, so that the two threads do not share a line they write.
 */
struct spsc {
	uint8_t		*buf;
	size_t		 size;		/* power of two, >= 4096 */
	uint64_t	 tail_local;	/* producer: next byte to fill */
	uint64_t	 head_seen;	/* producer: the consumer's last head */
	uint8_t		 pad0[64];
	uint64_t	 tail;		/* published by the producer */
	uint8_t		 pad1[56];
	uint64_t	 head;		/* published by the consumer */
	uint8_t		 pad2[56];
	uint64_t	 head_local;	/* consumer: next byte to take */
	uint32_t	 sleeping;	/* consumer waits for a wake-up */
};

/*
 * size bytes (a power of two, at least 4096), every page touched (the
 * resident size does not grow as the ring fills). 0, or -1 (errno set).
 */
int		 spsc_init(struct spsc *, size_t);
void		 spsc_free(struct spsc *);
/* Largest record spsc_put() can take. */
size_t		 spsc_max_record(const struct spsc *);

/*
 * Producer: copy len bytes in as one record, not yet visible to the
 * consumer (spsc_publish()). 0, or -1 if the ring is full (or len is
 * above spsc_max_record()).
 */
int		 spsc_put(struct spsc *, const uint8_t *, size_t);
/*
 * Producer: make every record put so far visible. Returns 1 if the
 * consumer had said it would sleep (spsc_sleep()): the caller must wake
 * it, and the flag is cleared; 0 otherwise.
 */
int		 spsc_publish(struct spsc *);

/*
 * Consumer: up to max records, oldest first, as pointers into the ring
 * (valid until spsc_release()). Returns how many.
 */
size_t		 spsc_peek(struct spsc *, const uint8_t **, size_t *, size_t);
/* Consumer: give the records of the last spsc_peek() back. */
void		 spsc_release(struct spsc *);
/*
 * Consumer: about to wait for a wake-up. Returns 1 if the ring is still
 * empty (the producer will wake it: spsc_publish() returns 1), 0 if a
 * record came meanwhile (the flag is cleared: take it now).
 */
int		 spsc_sleep(struct spsc *);

/* A consumer's handler: n records, valid until it returns. */
typedef void	(*spsc_fn)(void *, const uint8_t *const *, const size_t *,
		    size_t);
#define SPSC_BURST	16	/* records handed to spsc_fn at most */
/*
 * Consumer: hand the records on in bursts until the ring is empty and the
 * consumer may sleep (returns 0: the producer will wake it), or until at
 * least budget were handed on (returns 1: call again soon, after the
 * loop's other events).
 */
int		 spsc_drain(struct spsc *, size_t, spsc_fn, void *);

#endif
