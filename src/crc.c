/* crc.c: CRC32C (SSE4.2 or slicing-by-8) and CRC32 (slicing-by-8), pure. */

#include <stddef.h>
#include <stdint.h>

#include "be.h"
#include "crc.h"

#define CRC_POLY_32C	0x82f63b78U	/* Castagnoli, reflected */
#define CRC_POLY_32	0xedb88320U	/* IEEE 802.3 / zlib, reflected */

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static uint32_t	crc_32c_first(uint32_t, const void *, size_t);

static uint32_t	crc_tab32c[8][256];	/* slicing-by-8, [0] is bytewise */
static uint32_t	crc_tab32[8][256];
static volatile int crc_ready;		/* tables built, path chosen */
static int	crc_hw_ok;		/* CPU has SSE4.2 */
static crc_fn	crc_32c_fn = crc_32c_first;	/* the chosen CRC32C path */

/* Fill a slicing-by-8 table set for a reflected polynomial. */
static void
crc_tab_build(uint32_t t[8][256], uint32_t poly)
{
	uint32_t	c;
	int		i, j, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
		t[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			t[k][i] = (t[k - 1][i] >> 8) ^
			    t[0][t[k - 1][i] & 0xff];
}

void
crc_init(void)
{
	if (crc_ready)
		return;
	crc_tab_build(crc_tab32c, CRC_POLY_32C);
	crc_tab_build(crc_tab32, CRC_POLY_32);
#ifdef CRC_HAVE_HW
	__builtin_cpu_init();
	crc_hw_ok = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	crc_32c_fn = crc_hw_ok ? crc_32c_hw : crc_32c_sw;
#else
	crc_32c_fn = crc_32c_sw;
#endif
	crc_ready = 1;
}

int
crc_32c_hw_used(void)
{
	crc_init();
	return (crc_32c_fn != crc_32c_sw);
}

int
crc_32c_hw_ok(void)
{
	crc_init();
	return (crc_hw_ok);
}

/* Slicing-by-8 over a reflected table set; raw register in and out. */
static inline uint32_t
crc_slice8(const uint32_t t[8][256], uint32_t crc, const uint8_t *p,
    size_t len)
{
	uint64_t	w;

	while (len >= 8) {
		w = le64_load(p) ^ crc;
		crc = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^
		    t[5][(w >> 16) & 0xff] ^ t[4][(w >> 24) & 0xff] ^
		    t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^
		    t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
	return (crc);
}

uint32_t
crc_32c_sw(uint32_t crc, const void *buf, size_t len)
{
	if (__builtin_expect(!crc_ready, 0))
		crc_init();
	return (crc_slice8(crc_tab32c, crc, buf, len));
}

#ifdef CRC_HAVE_HW
__attribute__((target("sse4.2"))) uint32_t
crc_32c_hw(uint32_t crc, const void *buf, size_t len)
{
	return (crc_32c_hw_inline(crc, buf, len));
}
#endif

/* First call through the dispatch pointer: choose the path, then use it. */
static uint32_t
crc_32c_first(uint32_t crc, const void *buf, size_t len)
{
	crc_init();
	return (crc_32c_fn(crc, buf, len));
}

uint32_t
crc_32c_update(uint32_t crc, const void *buf, size_t len)
{
	return (crc_32c_fn(crc, buf, len));
}

uint32_t
crc_32c(const void *buf, size_t len)
{
	return (crc_32c_update(CRC_INIT, buf, len) ^ CRC_XOROUT);
}

uint32_t
crc_32_update(uint32_t crc, const void *buf, size_t len)
{
	if (__builtin_expect(!crc_ready, 0))
		crc_init();
	return (crc_slice8(crc_tab32, crc, buf, len));
}

uint32_t
crc_32(const void *buf, size_t len)
{
	return (crc_32_update(CRC_INIT, buf, len) ^ CRC_XOROUT);
}
