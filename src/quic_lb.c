/* quic_lb.c: QUIC-LB plaintext connection IDs and QUIC header parsing. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "quic_lb.h"
#include "util.h"

#define QUIC_FORM_LONG	0x80	/* header form bit of the first octet */
#define QUIC_V1		0x00000001U
#define QUIC_V2		0x6b3343cfU	/* RFC 9369 */

/* The octets a configuration's connection IDs have at least. */
static size_t
quic_lb_min_len(const struct quic_lb_conf *c)
{
	return (1 + (size_t)c->sid_len + c->nonce_len);
}

/* One configuration's limits (draft section 5.3). */
static int
quic_lb_conf_check_one(const struct quic_lb_conf *c, char **cause)
{
	if (c->cr > QUIC_LB_CR_MAX)
		return (util_cause(cause, "config rotation %u: 0..%u (%u is "
		    "the unroutable codepoint)", c->cr, QUIC_LB_CR_MAX,
		    QUIC_LB_CR_UNROUTABLE));
	if (c->encrypted)
		return (util_cause(cause, "config rotation %u: encrypted "
		    "connection IDs are not supported (plaintext only)",
		    c->cr));
	if (c->sid_len < QUIC_LB_SID_MIN || c->nonce_len < QUIC_LB_NONCE_MIN)
		return (util_cause(cause, "config rotation %u: server ID of "
		    "at least %u octet and nonce of at least %u octets", c->cr,
		    QUIC_LB_SID_MIN, QUIC_LB_NONCE_MIN));
	if (c->sid_len + c->nonce_len > QUIC_LB_PLAIN_MAX)
		return (util_cause(cause, "config rotation %u: server ID and "
		    "nonce %u octets, at most %u", c->cr,
		    c->sid_len + c->nonce_len, QUIC_LB_PLAIN_MAX));
	return (0);
}

int
quic_lb_conf_check(const struct quic_lb_conf *confs, size_t n, char **cause)
{
	size_t	i, j;

	if (n > QUIC_LB_CONF_MAX)
		return (util_cause(cause, "%zu QUIC-LB configurations, at "
		    "most %u", n, QUIC_LB_CONF_MAX));
	for (i = 0; i < n; i++) {
		if (quic_lb_conf_check_one(&confs[i], cause) == -1)
			return (-1);
		for (j = 0; j < i; j++)
			if (confs[j].cr == confs[i].cr)
				return (util_cause(cause, "config rotation "
				    "%u given twice", confs[i].cr));
	}
	return (0);
}

/* The configuration a connection ID's first octet names, or -1. */
static int
quic_lb_conf_find(const struct quic_lb_conf *confs, size_t n, uint8_t first)
{
	unsigned int	cr = first >> (8 - QUIC_LB_CR_BITS);
	size_t		i;

	if (cr == QUIC_LB_CR_UNROUTABLE)
		return (-1);
	for (i = 0; i < n && i < QUIC_LB_CONF_MAX; i++)
		if (confs[i].cr == cr)
			return ((int)i);
	return (-1);
}

int
quic_lb_decode(const struct quic_lb_conf *confs, size_t n,
    const uint8_t *cid, size_t cidlen, uint8_t *sid, size_t *sid_len)
{
	const struct quic_lb_conf	*c;
	int				 i;

	if (cidlen == 0 || (i = quic_lb_conf_find(confs, n, cid[0])) == -1)
		return (-1);
	c = &confs[i];
	/* An encrypted or invalid configuration routes nothing. */
	if (c->encrypted || c->sid_len < QUIC_LB_SID_MIN ||
	    c->sid_len > QUIC_LB_SID_MAX || cidlen < quic_lb_min_len(c))
		return (-1);
	/* The draft's optional check (section 4.1, "Definition"). */
	if (c->len_self && (size_t)(cid[0] & QUIC_LB_LEN_MASK) != cidlen - 1)
		return (-1);
	memcpy(sid, cid + 1, c->sid_len);
	*sid_len = c->sid_len;
	return (i);
}

size_t
quic_lb_short_cidlen(const struct quic_lb_conf *confs, size_t n,
    uint8_t first)
{
	int	i;

	if ((i = quic_lb_conf_find(confs, n, first)) == -1)
		return (0);
	if (confs[i].len_self)
		return ((size_t)(first & QUIC_LB_LEN_MASK) + 1);
	return (quic_lb_min_len(&confs[i]));
}

int
quic_lb_encode(const struct quic_lb_conf *c, const uint8_t *sid,
    const uint8_t *nonce, uint8_t low5, uint8_t *cid, size_t size)
{
	size_t	len = quic_lb_min_len(c);

	if (quic_lb_conf_check_one(c, NULL) == -1 || len > size)
		return (-1);
	if (c->len_self)
		low5 = (uint8_t)(len - 1);
	cid[0] = (uint8_t)(c->cr << (8 - QUIC_LB_CR_BITS) |
	    (low5 & QUIC_LB_LEN_MASK));
	memcpy(cid + 1, sid, c->sid_len);
	memcpy(cid + 1 + c->sid_len, nonce, c->nonce_len);
	return ((int)len);
}

/* A length-prefixed connection ID of a long header at p[*off]. */
static int
quic_parse_cid(const uint8_t *p, size_t len, size_t *off, size_t max,
    const uint8_t **cid, size_t *cidlen)
{
	size_t	l;

	if (*off >= len)
		return (-1);
	l = p[(*off)++];
	if (l > max || l > len - *off)
		return (-1);
	*cid = p + *off;
	*cidlen = l;
	*off += l;
	return (0);
}

/* Long header: first octet, version, DCID length and DCID, SCID. */
static int
quic_parse_long(const uint8_t *p, size_t len, struct quic_hdr *h)
{
	size_t	off = 5, max = QUIC_CID_MAX;

	if (len < off)
		return (-1);
	h->version = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 8 | p[4];
	if (h->version == QUIC_V1 || h->version == QUIC_V2)
		max = QUIC_CID_MAX_V1;
	if (quic_parse_cid(p, len, &off, max, &h->dcid, &h->dcid_len) == -1 ||
	    quic_parse_cid(p, len, &off, max, &h->scid, &h->scid_len) == -1)
		return (-1);
	return (0);
}

int
quic_parse(const uint8_t *p, size_t len, size_t short_cidlen,
    struct quic_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (len == 0)
		return (-1);
	if (p[0] & QUIC_FORM_LONG) {
		h->form = QUIC_LONG;
		return (quic_parse_long(p, len, h));
	}
	h->form = QUIC_SHORT;
	if (short_cidlen == QUIC_SHORT_CID_SELF) {
		if (len < 2)
			return (-1);
		short_cidlen = (size_t)(p[1] & QUIC_LB_LEN_MASK) + 1;
	}
	if (short_cidlen > QUIC_CID_MAX || short_cidlen > len - 1)
		return (-1);
	h->dcid = p + 1;
	h->dcid_len = short_cidlen;
	return (0);
}
