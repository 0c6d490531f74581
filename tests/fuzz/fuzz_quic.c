/*
 * fuzz_quic.c: QUIC header parsing and QUIC-LB connection ID decoding
 * (quic_lb.c), as the data path will chain them for a UDP payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "quic_lb.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Three configurations: rotation 0 as the draft's first test vector,
 * 1 as its second, 5 with a one-octet server ID and no self-described
 * length. Rotation 2..4, 6 and 7 name none.
 */
static const struct quic_lb_conf fuzz_confs[] = {
	{ .cr = 0, .sid_len = 3, .nonce_len = 4, .len_self = 1 },
	{ .cr = 1, .sid_len = 5, .nonce_len = 5, .len_self = 1 },
	{ .cr = 5, .sid_len = 1, .nonce_len = 4, .len_self = 0 },
};
#define FUZZ_NCONF	(sizeof(fuzz_confs) / sizeof(fuzz_confs[0]))

/* p[off..off+len) lies within the input. */
#define FUZZ_INSIDE(q, l, p, len)					\
	((q) >= (p) && (size_t)((q) - (p)) <= (len) &&			\
	    (l) <= (len) - (size_t)((q) - (p)))

/* Decode a CID; what decodes must be its octets and encode back. */
static void
fuzz_decode(const uint8_t *cid, size_t cidlen)
{
	const struct quic_lb_conf	*c;
	uint8_t				 sid[QUIC_LB_SID_MAX];
	uint8_t				 out[QUIC_CID_MAX_V1];
	size_t				 sid_len = 0;
	int				 i, n;

	i = quic_lb_decode(fuzz_confs, FUZZ_NCONF, cid, cidlen, sid,
	    &sid_len);
	if (i == -1)
		return;
	FUZZ_CHECK(i >= 0 && (size_t)i < FUZZ_NCONF);
	c = &fuzz_confs[i];
	FUZZ_CHECK(cidlen >= 1 && (cid[0] >> 5) == c->cr);
	FUZZ_CHECK((cid[0] >> 5) != QUIC_LB_CR_UNROUTABLE);
	FUZZ_CHECK(sid_len == c->sid_len);
	FUZZ_CHECK(cidlen >= 1 + (size_t)c->sid_len + c->nonce_len);
	FUZZ_CHECK(memcmp(sid, cid + 1, sid_len) == 0);
	FUZZ_CHECK(!c->len_self || (size_t)(cid[0] & 0x1f) == cidlen - 1);
	n = quic_lb_encode(c, sid, cid + 1 + sid_len, cid[0] & 0x1f, out,
	    sizeof(out));
	FUZZ_CHECK(n == 1 + c->sid_len + c->nonce_len);
	if (c->len_self && cidlen > (size_t)n)
		return;		/* server-use octets: the length differs */
	FUZZ_CHECK(memcmp(out, cid, (size_t)n) == 0);
}

/*
 * Input: one octet, the short header's DCID length (0: self-described,
 * 0xff: quic_lb_short_cidlen()'s, else modulo 21), then a UDP payload.
 * The whole input is also decoded as a connection ID.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct quic_hdr	 h;
	const uint8_t	*p;
	size_t		 len, scl;

	if (size < 1)
		return (0);
	fuzz_decode(data, size);
	scl = data[0] == 0 ? QUIC_SHORT_CID_SELF : data[0] % 21;
	p = data + 1;
	len = size - 1;
	if (data[0] == 0xff && len >= 2 && !(p[0] & 0x80) &&
	    (scl = quic_lb_short_cidlen(fuzz_confs, FUZZ_NCONF, p[1])) == 0)
		return (0);	/* no configuration: by 4-tuple */
	if (quic_parse(p, len, scl, &h) == -1)
		return (0);
	FUZZ_CHECK(len >= 1);
	FUZZ_CHECK(h.form == ((p[0] & 0x80) ? QUIC_LONG : QUIC_SHORT));
	FUZZ_CHECK(h.dcid != NULL && FUZZ_INSIDE(h.dcid, h.dcid_len, p, len));
	FUZZ_CHECK(h.dcid_len <= QUIC_CID_MAX);
	if (h.form == QUIC_SHORT) {
		FUZZ_CHECK(h.dcid == p + 1 && h.scid == NULL);
		FUZZ_CHECK(scl == QUIC_SHORT_CID_SELF ? h.dcid_len ==
		    (size_t)(p[1] & 0x1f) + 1 : h.dcid_len == scl);
	} else {
		FUZZ_CHECK(h.dcid == p + 6 && h.dcid_len == p[5]);
		FUZZ_CHECK(h.scid == h.dcid + h.dcid_len + 1);
		FUZZ_CHECK(FUZZ_INSIDE(h.scid, h.scid_len, p, len));
		FUZZ_CHECK(h.scid_len == h.scid[-1]);
		if (h.version == 1 || h.version == 0x6b3343cfU)
			FUZZ_CHECK(h.dcid_len <= QUIC_CID_MAX_V1 &&
			    h.scid_len <= QUIC_CID_MAX_V1);
	}
	fuzz_decode(h.dcid, h.dcid_len);
	return (0);
}
