/* crc.h: CRC32C (Castagnoli, SSE4.2 or tables) and CRC32 (zlib), pure. */
#ifndef ILBD_CRC_H
#define ILBD_CRC_H

#include <stddef.h>
#include <stdint.h>

/*
 * Both CRCs are the standard reflected ones, initial register 0xffffffff
 * and final xor 0xffffffff:
 *	crc32c	poly 0x82f63b78, check("123456789") = 0xe3069283
 *	crc32	poly 0xedb88320, check("123456789") = 0xcbf43926 (zlib)
 *
 * The *_update() functions work on the raw register: no inversion on entry
 * or exit, so that a register can be saved after a prefix and continued
 * later.  crc(buf) == crc_*_update(CRC_INIT, buf, len) ^ CRC_XOROUT.
 */
#define CRC_INIT	0xffffffffU
#define CRC_XOROUT	0xffffffffU

#if defined(__x86_64__) || defined(__i386__)
#define CRC_HAVE_HW	1	/* crc_32c_hw() exists (may still be unusable) */
#include <string.h>
#include <nmmintrin.h>	/* usable without -msse4.2 under target() */
#endif

/*
 * Build the tables and pick the CRC32C path.  Idempotent; every other
 * function calls it on first use, but call it once at start-up, before
 * any thread starts, so that the first packet does not pay for it.
 */
void		 crc_init(void);
/* 1 if crc_32c_update() uses the SSE4.2 instruction. */
int		 crc_32c_hw_used(void);
/* 1 if the CPU has SSE4.2, so that crc_32c_hw() may be called. */
int		 crc_32c_hw_ok(void);

/* CRC32C register update through the path chosen by crc_init(). */
uint32_t	 crc_32c_update(uint32_t, const void *, size_t);
/* Portable slicing-by-8 path. */
uint32_t	 crc_32c_sw(uint32_t, const void *, size_t);
#ifdef CRC_HAVE_HW
/* SSE4.2 path: only when crc_32c_hw_ok(). */
uint32_t	 crc_32c_hw(uint32_t, const void *, size_t);
#endif
#ifdef CRC_HAVE_HW
/*
 * Inline SSE4.2 CRC32C register update, for callers that are themselves
 * compiled with __attribute__((target("sse4.2"))) and have checked
 * crc_32c_hw_ok(); constant lengths unroll to a few instructions.
 */
__attribute__((target("sse4.2"))) static inline uint32_t
crc_32c_hw_inline(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	uint32_t	 w32;
#ifdef __x86_64__
	uint64_t	 c = crc, w;

	while (len >= 8) {
		memcpy(&w, p, sizeof(w));
		c = _mm_crc32_u64(c, w);
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
#endif
	while (len >= 4) {
		memcpy(&w32, p, sizeof(w32));
		crc = _mm_crc32_u32(crc, w32);
		p += 4;
		len -= 4;
	}
	while (len-- > 0)
		crc = _mm_crc32_u8(crc, *p++);
	return (crc);
}
#endif

/* Complete CRC32C of a buffer. */
uint32_t	 crc_32c(const void *, size_t);

/* CRC32 (zlib) register update, slicing-by-8. */
uint32_t	 crc_32_update(uint32_t, const void *, size_t);
/* Complete CRC32 of a buffer; equals zlib's crc32(0, buf, len). */
uint32_t	 crc_32(const void *, size_t);

#endif
