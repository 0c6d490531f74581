/* be.h: big-endian (network order) loads and stores at any alignment. */
#ifndef ILBD_BE_H
#define ILBD_BE_H

#include <stdint.h>

/*
 * Spelt as byte shifts, which hold on any host; gcc and clang turn each
 * into one load or store and a byte swap (rol or bswap) on x86-64.
 */

static inline uint16_t
be16_load(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static inline uint32_t
be32_load(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

static inline uint64_t
be64_load(const uint8_t *p)
{
	return ((uint64_t)be32_load(p) << 32 | be32_load(p + 4));
}

static inline void
be16_store(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
be32_store(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
be64_store(uint8_t *p, uint64_t v)
{
	be32_store(p, (uint32_t)(v >> 32));
	be32_store(p + 4, (uint32_t)v);
}

/* The one little-endian load: hashes whose output every host agrees on. */
static inline uint64_t
le64_load(const uint8_t *p)
{
	return ((uint64_t)p[7] << 56 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[1] << 8 | (uint64_t)p[0]);
}

#endif
