/* test_quic_lb.c: QUIC-LB plaintext connection IDs, QUIC header parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "quic_lb.h"

/* Hex string to bytes; returns the count. */
static size_t
unhex(const char *s, uint8_t *out, size_t size)
{
	size_t		n = 0;
	unsigned int	v;

	while (s[0] != '\0' && s[1] != '\0') {
		assert_true(n < size);
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	assert_true(s[0] == '\0');
	return (n);
}

/* A copy of len bytes on the heap, so that ASan sees a read past it. */
static uint8_t *
dup_exact(const uint8_t *p, size_t len)
{
	uint8_t	*q = malloc(len == 0 ? 1 : len);

	assert_non_null(q);
	memcpy(q, p, len);
	return (q);
}

/* A plaintext configuration. */
static struct quic_lb_conf
conf_plain(uint8_t cr, uint8_t sid_len, uint8_t nonce_len, uint8_t len_self)
{
	struct quic_lb_conf	c;

	memset(&c, 0, sizeof(c));
	c.cr = cr;
	c.sid_len = sid_len;
	c.nonce_len = nonce_len;
	c.len_self = len_self;
	return (c);
}

/* Decode must give want_sid from configuration want_i. */
static void
check_decode(const struct quic_lb_conf *confs, size_t n, const uint8_t *cid,
    size_t cidlen, int want_i, const uint8_t *want_sid, size_t want_len)
{
	uint8_t	sid[QUIC_LB_SID_MAX], *copy = dup_exact(cid, cidlen);
	size_t	sid_len = 0;

	memset(sid, 0xee, sizeof(sid));
	assert_int_equal(quic_lb_decode(confs, n, copy, cidlen, sid,
	    &sid_len), want_i);
	if (want_i >= 0) {
		assert_int_equal(sid_len, want_len);
		assert_memory_equal(sid, want_sid, want_len);
		assert_true(want_len == sizeof(sid) || sid[want_len] == 0xee);
	}
	free(copy);
}

/*
 * draft-ietf-quic-load-balancers-21, appendix B "Load Balancer Test
 * Vectors", B.1 "Unencrypted CIDs" (servers self-describe the length):
 *
 *	cr_bits sid nonce cid
 *	0 c4605e 4504cc4f 07c4605e4504cc4f
 *	1 350d28b420 3487d970b 20a350d28b4203487d970b
 *
 * The second row does not hold together as published (the same in
 * draft-17 to 21, and in draft-14 with 0x40 for 2 rotation bits): its
 * nonce lost a leading zero (5 octets, 03487d970b), and its cid has the
 * first octet 0x20 (length 0) then a350d28b42, not the sid. A server
 * following section 5.4 writes 0x2a (rotation 1, length 10), the sid, the
 * nonce: 2a350d28b42003487d970b, which is what is checked here; the
 * published bytes are checked to be refused when lengths self-describe.
 */
static void
test_vectors_plain(void **state)
{
	struct quic_lb_conf	c0 = conf_plain(0, 3, 4, 1);
	struct quic_lb_conf	c1 = conf_plain(1, 5, 5, 1);
	struct quic_lb_conf	both[2];
	uint8_t			sid[16], nonce[16], cid[32], out[32];
	size_t			sl, cl;

	(void)state;
	both[0] = c0;
	both[1] = c1;
	assert_int_equal(quic_lb_conf_check(both, 2, NULL), 0);

	sl = unhex("c4605e", sid, sizeof(sid));
	unhex("4504cc4f", nonce, sizeof(nonce));
	cl = unhex("07c4605e4504cc4f", cid, sizeof(cid));
	assert_int_equal(quic_lb_encode(&c0, sid, nonce, 0, out, sizeof(out)),
	    (int)cl);
	assert_memory_equal(out, cid, cl);
	check_decode(both, 2, cid, cl, 0, sid, sl);

	sl = unhex("350d28b420", sid, sizeof(sid));
	unhex("03487d970b", nonce, sizeof(nonce));
	cl = unhex("2a350d28b42003487d970b", cid, sizeof(cid));
	assert_int_equal(quic_lb_encode(&c1, sid, nonce, 0, out, sizeof(out)),
	    (int)cl);
	assert_memory_equal(out, cid, cl);
	check_decode(both, 2, cid, cl, 1, sid, sl);

	cl = unhex("20a350d28b4203487d970b", cid, sizeof(cid));
	check_decode(both, 2, cid, cl, -1, NULL, 0);
}

/* Every valid shape, with and without self-described lengths. */
static void
test_round_trip(void **state)
{
	struct quic_lb_conf	confs[QUIC_LB_CONF_MAX];
	uint8_t			sid[QUIC_LB_SID_MAX], nonce[QUIC_LB_PLAIN_MAX];
	uint8_t			cid[QUIC_CID_MAX_V1];
	unsigned int		s, nl, ls, k, seed = 1;
	int			len;

	(void)state;
	memset(cid, 0, sizeof(cid));
	for (s = QUIC_LB_SID_MIN; s <= QUIC_LB_SID_MAX; s++)
	for (nl = QUIC_LB_NONCE_MIN; s + nl <= QUIC_LB_PLAIN_MAX; nl++)
	for (ls = 0; ls < 2; ls++) {
		/* Seven configurations; the one under test is cr s % 7. */
		for (k = 0; k < QUIC_LB_CONF_MAX; k++)
			confs[k] = conf_plain((uint8_t)k, (uint8_t)(1 + k),
			    4, (uint8_t)(k & 1));
		k = s % QUIC_LB_CONF_MAX;
		confs[k] = conf_plain((uint8_t)k, (uint8_t)s, (uint8_t)nl,
		    (uint8_t)ls);
		assert_int_equal(quic_lb_conf_check(confs, QUIC_LB_CONF_MAX,
		    NULL), 0);
		for (k = 0; k < sizeof(sid); k++)
			sid[k] = (uint8_t)(seed = seed * 1103515245 + 12345);
		for (k = 0; k < sizeof(nonce); k++)
			nonce[k] = (uint8_t)(seed = seed * 1103515245 + 12345);
		k = s % QUIC_LB_CONF_MAX;
		len = quic_lb_encode(&confs[k], sid, nonce, 0x15, cid,
		    sizeof(cid));
		assert_int_equal(len, 1 + s + nl);
		assert_int_equal(cid[0] >> 5, k);
		assert_int_equal(cid[0] & 0x1f, ls ? len - 1 : 0x15);
		assert_memory_equal(cid + 1 + s, nonce, nl);
		check_decode(confs, QUIC_LB_CONF_MAX, cid, (size_t)len,
		    (int)k, sid, s);
		/* Server-use octets after the nonce: still routable... */
		if (!ls && len < (int)sizeof(cid))
			check_decode(confs, QUIC_LB_CONF_MAX, cid,
			    (size_t)len + 1, (int)k, sid, s);
		/* ...but one octet short of the nonce is not. */
		check_decode(confs, QUIC_LB_CONF_MAX, cid, (size_t)len - 1,
		    -1, NULL, 0);
	}
}

/* Rotation bits no configuration has, and 0b111, fall back. */
static void
test_rotation(void **state)
{
	struct quic_lb_conf	confs[2];
	uint8_t			cid[12], sid[1] = { 0x42 };
	unsigned int		cr;

	(void)state;
	confs[0] = conf_plain(0, 1, 4, 0);
	confs[1] = conf_plain(2, 1, 4, 0);
	memset(cid, 0x42, sizeof(cid));
	for (cr = 0; cr < 8; cr++) {
		cid[0] = (uint8_t)(cr << 5 | 0x0b);
		check_decode(confs, 2, cid, sizeof(cid),
		    cr == 0 ? 0 : cr == 2 ? 1 : -1, sid, 1);
	}
	/* No configuration at all: everything is unroutable. */
	cid[0] = 0x0b;
	check_decode(confs, 0, cid, sizeof(cid), -1, NULL, 0);
	/* 0b111 stays unroutable even given a configuration claiming it. */
	confs[1].cr = QUIC_LB_CR_UNROUTABLE;
	assert_int_equal(quic_lb_conf_check(confs, 2, NULL), -1);
	cid[0] = 0xe0 | 0x0b;
	check_decode(confs, 2, cid, sizeof(cid), -1, NULL, 0);
}

/* Too short for first octet + server ID + nonce; empty. */
static void
test_short_cids(void **state)
{
	struct quic_lb_conf	c = conf_plain(3, 4, 6, 0);
	uint8_t			cid[11] = { 0x60, 1, 2, 3, 4 }, sid[4];
	size_t			l;

	(void)state;
	memcpy(sid, cid + 1, 4);
	for (l = 0; l < sizeof(cid); l++)
		check_decode(&c, 1, cid, l, -1, NULL, 0);
	check_decode(&c, 1, cid, sizeof(cid), 0, sid, 4);
}

/* With self-described lengths, a length other than the real one is refused. */
static void
test_len_self(void **state)
{
	struct quic_lb_conf	c = conf_plain(1, 2, 4, 1);
	uint8_t			cid[10] = { 0x20 | 6, 0xab, 0xcd }, sid[2];
	size_t			l;

	(void)state;
	memcpy(sid, cid + 1, 2);
	for (l = 0; l <= sizeof(cid); l++)
		check_decode(&c, 1, cid, l, l == 7 ? 0 : -1, sid, 2);
	c.len_self = 0;
	for (l = 7; l <= sizeof(cid); l++)
		check_decode(&c, 1, cid, l, 0, sid, 2);
}

/* The draft's limits (section 5.3) and one configuration per codepoint. */
static void
test_conf_check(void **state)
{
	struct quic_lb_conf	confs[QUIC_LB_CONF_MAX + 1];
	char			*cause = NULL;
	unsigned int		i;

	(void)state;
	for (i = 0; i < QUIC_LB_CONF_MAX + 1; i++)
		confs[i] = conf_plain((uint8_t)i, 3, 4, 0);
	assert_int_equal(quic_lb_conf_check(confs, 0, NULL), 0);
	assert_int_equal(quic_lb_conf_check(confs, QUIC_LB_CONF_MAX, NULL), 0);
	assert_int_equal(quic_lb_conf_check(confs, QUIC_LB_CONF_MAX + 1,
	    &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	confs[3].cr = 1;
	assert_int_equal(quic_lb_conf_check(confs, 4, &cause), -1);
	assert_string_equal(cause, "config rotation 1 given twice");
	free(cause);
	confs[3] = conf_plain(3, 0, 4, 0);	/* no server ID */
	assert_int_equal(quic_lb_conf_check(confs, 4, NULL), -1);
	confs[3] = conf_plain(3, 1, 3, 0);	/* nonce under 4 */
	assert_int_equal(quic_lb_conf_check(confs, 4, NULL), -1);
	confs[3] = conf_plain(3, 15, 5, 0);	/* 20 > 19 */
	assert_int_equal(quic_lb_conf_check(confs, 4, NULL), -1);
	confs[3] = conf_plain(3, 15, 4, 0);
	assert_int_equal(quic_lb_conf_check(confs, 4, NULL), 0);
	confs[3].encrypted = 1;
	assert_int_equal(quic_lb_conf_check(confs, 4, &cause), -1);
	assert_non_null(strstr(cause, "not supported"));
	free(cause);
}

/* Encrypted (unsupported) and invalid configurations, no room. */
static void
test_encode_refused(void **state)
{
	struct quic_lb_conf	c = conf_plain(0, 3, 4, 1);
	uint8_t			sid[3] = { 1, 2, 3 }, nonce[4] = { 0 };
	uint8_t			cid[20];

	(void)state;
	assert_int_equal(quic_lb_encode(&c, sid, nonce, 0, cid, 8), 8);
	assert_int_equal(quic_lb_encode(&c, sid, nonce, 0, cid, 7), -1);
	c.encrypted = 1;
	assert_int_equal(quic_lb_encode(&c, sid, nonce, 0, cid, 20), -1);
	/* And such a configuration decodes nothing. */
	c.encrypted = 0;
	assert_int_equal(quic_lb_encode(&c, sid, nonce, 0, cid, 20), 8);
	c.encrypted = 1;
	check_decode(&c, 1, cid, 8, -1, NULL, 0);
	c = conf_plain(QUIC_LB_CR_UNROUTABLE, 3, 4, 1);
	assert_int_equal(quic_lb_encode(&c, sid, nonce, 0, cid, 20), -1);
}

/* Parse every prefix of a packet; only those of at least need parse. */
static void
check_prefixes(const uint8_t *pkt, size_t len, size_t need, size_t short_cid)
{
	struct quic_hdr	h;
	uint8_t		*copy;
	size_t		l;

	for (l = 0; l <= len; l++) {
		copy = dup_exact(pkt, l);
		assert_int_equal(quic_parse(copy, l, short_cid, &h),
		    l >= need ? 0 : -1);
		free(copy);
	}
}

/* A v1 Initial: DCID 8, SCID 5 octets; then the invariants' limits. */
static void
test_parse_long(void **state)
{
	uint8_t		pkt[300];
	struct quic_hdr	h;
	size_t		len;

	(void)state;
	len = unhex("c300000001088394c8f03e5157080500112233440000", pkt,
	    sizeof(pkt));
	assert_int_equal(quic_parse(pkt, len, 8, &h), 0);
	assert_int_equal(h.form, QUIC_LONG);
	assert_int_equal(h.version, 1);
	assert_ptr_equal(h.dcid, pkt + 6);
	assert_int_equal(h.dcid_len, 8);
	assert_ptr_equal(h.scid, pkt + 15);
	assert_int_equal(h.scid_len, 5);
	check_prefixes(pkt, len, 20, 8);

	/* Zero-length connection IDs are allowed. */
	len = unhex("c0000000010000", pkt, sizeof(pkt));
	assert_int_equal(quic_parse(pkt, len, 8, &h), 0);
	assert_int_equal(h.dcid_len, 0);
	assert_int_equal(h.scid_len, 0);
	check_prefixes(pkt, len, 7, 8);

	/* 21 octets: too long for v1 and v2, fine for another version. */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0xc0;
	pkt[4] = 1;
	pkt[5] = 21;
	assert_int_equal(quic_parse(pkt, 28, 8, &h), -1);
	pkt[1] = 0x6b, pkt[2] = 0x33, pkt[3] = 0x43, pkt[4] = 0xcf;
	assert_int_equal(quic_parse(pkt, 28, 8, &h), -1);
	pkt[1] = 0xff, pkt[2] = pkt[3] = 0, pkt[4] = 0x1d;	/* draft-29 */
	assert_int_equal(quic_parse(pkt, 28, 8, &h), 0);
	assert_int_equal(h.dcid_len, 21);
	/* Version negotiation (version 0): 255-octet IDs, RFC 8999. */
	memset(pkt, 0xaa, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[1] = pkt[2] = pkt[3] = pkt[4] = 0;
	pkt[5] = 255;
	pkt[261] = 20;
	assert_int_equal(quic_parse(pkt, 282, 8, &h), 0);
	assert_int_equal(h.version, 0);
	assert_int_equal(h.dcid_len, 255);
	assert_int_equal(h.scid_len, 20);
	check_prefixes(pkt, 282, 282, 8);
}

/* Short header: the DCID has the configured or the self-described length. */
static void
test_parse_short(void **state)
{
	uint8_t		pkt[32];
	struct quic_hdr	h;
	size_t		len;

	(void)state;
	len = unhex("4307c4605e4504cc4f0102030405", pkt, sizeof(pkt));
	assert_int_equal(quic_parse(pkt, len, 8, &h), 0);
	assert_int_equal(h.form, QUIC_SHORT);
	assert_ptr_equal(h.dcid, pkt + 1);
	assert_int_equal(h.dcid_len, 8);
	assert_null(h.scid);
	check_prefixes(pkt, len, 9, 8);
	/* Self-described: 0x07 says 7 more octets. */
	assert_int_equal(quic_parse(pkt, len, QUIC_SHORT_CID_SELF, &h), 0);
	assert_int_equal(h.dcid_len, 8);
	check_prefixes(pkt, len, 9, QUIC_SHORT_CID_SELF);
	pkt[1] = 0x1f;		/* 32 octets: more than the packet has */
	assert_int_equal(quic_parse(pkt, len, QUIC_SHORT_CID_SELF, &h), -1);
	/* A configured length the packet cannot hold. */
	assert_int_equal(quic_parse(pkt, len, len, &h), -1);
	assert_int_equal(quic_parse(pkt, len, len - 1, &h), 0);
}

/* A short header's DCID length comes from its rotation bits' config. */
static void
test_short_cidlen(void **state)
{
	struct quic_lb_conf	confs[2];

	(void)state;
	confs[0] = conf_plain(0, 3, 4, 1);
	confs[1] = conf_plain(5, 2, 6, 0);
	assert_int_equal(quic_lb_short_cidlen(confs, 2, 0x07), 8);
	assert_int_equal(quic_lb_short_cidlen(confs, 2, 0x1f), 32);
	assert_int_equal(quic_lb_short_cidlen(confs, 2, 0xa0), 9);
	assert_int_equal(quic_lb_short_cidlen(confs, 2, 0xbf), 9);
	assert_int_equal(quic_lb_short_cidlen(confs, 2, 0x27), 0);
	assert_int_equal(quic_lb_short_cidlen(confs, 2, 0xe7), 0);
	assert_int_equal(quic_lb_short_cidlen(confs, 0, 0x07), 0);
}

/* What the data path will do: parse, then decode the DCID. */
static void
test_parse_decode(void **state)
{
	struct quic_lb_conf	confs[2];
	uint8_t			pkt[32], sid[QUIC_LB_SID_MAX];
	uint8_t			want[3] = { 0xc4, 0x60, 0x5e };
	struct quic_hdr		h;
	size_t			len, sl;

	(void)state;
	confs[0] = conf_plain(0, 3, 4, 1);
	confs[1] = conf_plain(1, 5, 5, 1);
	len = unhex("4307c4605e4504cc4f0102030405", pkt, sizeof(pkt));
	assert_int_equal(quic_parse(pkt, len, QUIC_SHORT_CID_SELF, &h), 0);
	assert_int_equal(quic_lb_decode(confs, 2, h.dcid, h.dcid_len, sid,
	    &sl), 0);
	assert_int_equal(sl, 3);
	assert_memory_equal(sid, want, 3);
	/* The same with the length from the configuration: server-use
	 * octets after the nonce are not part of what is decoded. */
	confs[0].len_self = 0;
	pkt[1] = 0x15;
	len = quic_lb_short_cidlen(confs, 2, pkt[1]);
	assert_int_equal(len, 8);
	assert_int_equal(quic_parse(pkt, 14, len, &h), 0);
	assert_int_equal(quic_lb_decode(confs, 2, h.dcid, h.dcid_len, sid,
	    &sl), 0);
	assert_memory_equal(sid, want, 3);
	/* A client's random Initial DCID with bits of no configuration. */
	len = unhex("c300000001088394c8f03e5157080500112233440000", pkt,
	    sizeof(pkt));
	assert_int_equal(quic_parse(pkt, len, 8, &h), 0);
	assert_int_equal(quic_lb_decode(confs, 2, h.dcid, h.dcid_len, sid,
	    &sl), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_plain),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_short_cids),
		cmocka_unit_test(test_len_self),
		cmocka_unit_test(test_conf_check),
		cmocka_unit_test(test_encode_refused),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_parse_short),
		cmocka_unit_test(test_short_cidlen),
		cmocka_unit_test(test_parse_decode),
	};

	return (cmocka_run_group_tests_name("quic_lb", tests, NULL, NULL));
}
