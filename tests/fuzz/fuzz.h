/* fuzz.h: what the harnesses share: input framing and a failed check. */
#ifndef ILBD_FUZZ_H
#define ILBD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "flow.h"
#include "world.h"

/*
 * Most harnesses read their input as frames: one control byte, a 16-bit
 * big-endian length, then that many bytes (fewer if the input ends).
 */
struct fuzz_frame {
	uint8_t		 ctl;
	const uint8_t	*p;
	size_t		 len;
};

struct fuzz_in {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

/* The next frame: 1, or 0 when the input is used up. */
static inline int
fuzz_next(struct fuzz_in *in, struct fuzz_frame *f)
{
	size_t	want;

	if (in->len - in->off < 3)
		return (0);
	f->ctl = in->p[in->off];
	want = (size_t)in->p[in->off + 1] << 8 | in->p[in->off + 2];
	in->off += 3;
	if (want > in->len - in->off)
		want = in->len - in->off;
	f->p = in->p + in->off;
	f->len = want;
	in->off += want;
	return (1);
}

/* A property the code promises does not hold: crash with a reason. */
#define FUZZ_CHECK(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

/*
 * fuzz_world.c: tests/lib's world with one lb (member 0..2 of three, or
 * none), two services (v4 and v6), reset for every input.
 */
#define FUZZ_MEMBERS	3
#define FUZZ_SLOT0	WORLD_SLOT0	/* slot of member i: 100 + i */
#define FUZZ_T0		1000000ULL	/* ms */

extern struct world	 fuzz_world;
extern struct lb *const	 fuzz_lb;	/* fuzz_world.lb[0] */
extern uint64_t		 fuzz_now;	/* ms: every input starts there */

void			 fuzz_world_init(void);
void			 fuzz_world_reset(unsigned int);
void			 fuzz_world_expire(uint64_t);
void			 fuzz_world_populate(unsigned int);
void			 fuzz_world_restore(void);

#endif
