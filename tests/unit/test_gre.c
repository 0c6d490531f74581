/* test_gre.c: cmocka tests of the GRE codec, the cluster identifier and the
 * GRE overhead and inner MTU. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <netinet/in.h>

#include <sodium.h>

#include "be.h"
#include "config.h"
#include "gre.h"
#include "util.h"

#define PB_SIZE		512
#define PB_INNER_LEN	40

/* An outer IPv4 + GRE + inner packet under construction. */
struct pb {
	uint8_t		b[PB_SIZE];
	size_t		len;		/* bytes given to gre_decap() */
	size_t		gre_off;	/* GRE header */
	size_t		inner_off;
	size_t		inner_len;
};

static const uint8_t pb_src[4] = { 192, 0, 2, 11 };
static const uint8_t pb_dst[4] = { 192, 0, 2, 12 };

/* A recognisable inner packet of version ver (4 or 6) at p. */
static void
pb_inner(uint8_t *p, int ver, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	p[0] = ver == 4 ? 0x45 : 0x60;
}

/*
 * Build outer IPv4 (ihl words) + GRE (encoded by gre_encap_hdr) + inner of
 * version ver; the outer total length covers it all.
 */
static void
pb_build(struct pb *pb, int ihl, int ver, int with_key, uint32_t key)
{
	uint8_t	*h = pb->b;

	memset(pb, 0, sizeof(*pb));
	h[0] = (uint8_t)(0x40 | ihl);
	h[8] = 64;
	h[9] = 47;
	memcpy(h + 12, pb_src, 4);
	memcpy(h + 16, pb_dst, 4);
	pb->gre_off = (size_t)ihl * 4;
	pb->inner_off = pb->gre_off + gre_encap_hdr(h + pb->gre_off,
	    ver == 4 ? GRE_PROTO_IPV4 : GRE_PROTO_IPV6, with_key, key);
	pb->inner_len = PB_INNER_LEN;
	pb_inner(h + pb->inner_off, ver, pb->inner_len);
	pb->len = pb->inner_off + pb->inner_len;
	be16_store(h + 2, (uint16_t)pb->len);
}

/* Set the outer total length to the buffer length. */
static void
pb_fix_totlen(struct pb *pb)
{
	be16_store(pb->b + 2, (uint16_t)pb->len);
}

static void
pb_check_ok(const struct pb *pb, int with_key, uint32_t key, uint16_t proto)
{
	struct gre_info	gi;

	assert_int_equal(gre_decap(pb->b, pb->len, &gi), GRE_OK);
	assert_int_equal(gi.inner_off, pb->inner_off);
	assert_int_equal(gi.inner_len, pb->inner_len);
	assert_int_equal(gi.has_key, with_key);
	assert_int_equal(gi.key, with_key ? key : 0);
	assert_int_equal(gi.proto, proto);
	assert_int_equal(gi.src.family, AF_INET);
	assert_memory_equal(gi.src.u.b, pb_src, 4);
	assert_memory_equal(gi.dst.u.b, pb_dst, 4);
}

static int
pb_decap(const struct pb *pb)
{
	struct gre_info	gi;

	return (gre_decap(pb->b, pb->len, &gi));
}

static void
test_encap_hdr(void **state)
{
	static const uint8_t	nokey[] = { 0x00, 0x00, 0x08, 0x00 };
	static const uint8_t	key[] = { 0x20, 0x00, 0x86, 0xdd,
				    0xde, 0xad, 0xbe, 0xef };
	uint8_t			b[GRE_HDR_KEY_LEN];

	(void)state;
	assert_int_equal(gre_encap_hdr(b, GRE_PROTO_IPV4, 0, 99), 4);
	assert_memory_equal(b, nokey, sizeof(nokey));
	assert_int_equal(gre_encap_hdr(b, GRE_PROTO_IPV6, 1, 0xdeadbeef), 8);
	assert_memory_equal(b, key, sizeof(key));
}

/*
 * issue 22: a relayed handoff carries bit 12 (0x0008) of the flags, with
 * the key, at the same length; it decodes as relayed, a plain one not.
 */
static void
test_relay_bit(void **state)
{
	static const uint8_t	relay[] = { 0x20, 0x08, 0x08, 0x00,
				    0x01, 0x02, 0x03, 0x04 };
	struct pb		pb;
	struct gre_info		gi;
	uint8_t			b[GRE_HDR_KEY_LEN];

	(void)state;
	assert_int_equal(gre_encap_hdr(b, GRE_PROTO_IPV4,
	    GRE_ENC_KEY | GRE_ENC_RELAY, 0x01020304), GRE_HDR_KEY_LEN);
	assert_memory_equal(b, relay, sizeof(relay));
	pb_build(&pb, 5, 4, GRE_ENC_KEY | GRE_ENC_RELAY, 0x01020304);
	pb_check_ok(&pb, 1, 0x01020304, GRE_PROTO_IPV4);
	assert_int_equal(gre_decap(pb.b, pb.len, &gi), GRE_OK);
	assert_int_equal(gi.relayed, 1);
	pb_build(&pb, 5, 4, GRE_ENC_KEY, 0x01020304);
	assert_int_equal(gre_decap(pb.b, pb.len, &gi), GRE_OK);
	assert_int_equal(gi.relayed, 0);
}

static void
test_roundtrip_v4(void **state)
{
	struct pb	pb;
	int		ver, k;

	(void)state;
	for (ver = 4; ver <= 6; ver += 2)
		for (k = 0; k <= 1; k++) {
			pb_build(&pb, 5, ver, k, 0x01020304);
			pb_check_ok(&pb, k, 0x01020304, ver == 4 ?
			    GRE_PROTO_IPV4 : GRE_PROTO_IPV6);
			pb_build(&pb, 7, ver, k, 0xffffffff);	/* options */
			pb_check_ok(&pb, k, 0xffffffff, ver == 4 ?
			    GRE_PROTO_IPV4 : GRE_PROTO_IPV6);
		}
}

static void
test_roundtrip_v6(void **state)
{
	struct gre_info	gi;
	uint8_t		b[64];
	size_t		h;
	int		ver, k;

	(void)state;
	for (ver = 4; ver <= 6; ver += 2)
		for (k = 0; k <= 1; k++) {
			h = gre_encap_hdr(b, ver == 4 ? GRE_PROTO_IPV4 :
			    GRE_PROTO_IPV6, k, 7);
			pb_inner(b + h, ver, 20);
			assert_int_equal(gre_decap6(b, h + 20, &gi), GRE_OK);
			assert_int_equal(gi.inner_off, h);
			assert_int_equal(gi.inner_len, 20);
			assert_int_equal(gi.has_key, k);
			assert_int_equal(gi.key, k ? 7 : 0);
			assert_int_equal(gi.src.family, 0);
		}
	assert_int_equal(gre_decap6(b, 3, &gi), GRE_TRUNCATED);
}

/* Bytes past the outer total length (Ethernet padding) are not inner. */
static void
test_trailer(void **state)
{
	struct pb	pb;

	(void)state;
	pb_build(&pb, 5, 4, 1, 5);
	pb.len += 6;
	pb_check_ok(&pb, 1, 5, GRE_PROTO_IPV4);
}

/* Sequence number (RFC 2890): skipped, reported. */
static void
test_sequence(void **state)
{
	struct gre_info	gi;
	uint8_t		b[64] = { 0x30, 0x00, 0x08, 0x00, 0, 0, 0, 9,
			    0, 0, 1, 0 };

	(void)state;
	pb_inner(b + 12, 4, 20);
	assert_int_equal(gre_decap6(b, 32, &gi), GRE_OK);
	assert_int_equal(gi.inner_off, 12);
	assert_int_equal(gi.key, 9);
	assert_int_equal(gi.has_seq, 1);
	assert_int_equal(gi.seq, 256);
}

/* Checksum present: a right one passes, a wrong one is refused. */
static void
test_checksum(void **state)
{
	struct pb	pb;
	uint8_t		*g;
	uint32_t	sum = 0;
	size_t		i, glen;

	(void)state;
	pb_build(&pb, 5, 4, 0, 0);
	/* Insert 4 bytes of checksum + reserved after the first 4. */
	g = pb.b + pb.gre_off;
	memmove(g + 8, g + 4, pb.inner_len);
	memset(g + 4, 0, 4);
	g[0] |= 0x80;
	pb.len += 4;
	pb.inner_off += 4;
	pb_fix_totlen(&pb);
	glen = pb.len - pb.gre_off;
	for (i = 0; i < glen; i += 2)
		sum += (uint32_t)(g[i] << 8 | (i + 1 < glen ? g[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	be16_store(g + 4, (uint16_t)~sum);
	pb_check_ok(&pb, 0, 0, GRE_PROTO_IPV4);
	g[5] ^= 1;
	assert_int_equal(pb_decap(&pb), GRE_BAD_CHECKSUM);
}

static void
test_bad_outer(void **state)
{
	struct pb	pb;

	(void)state;
	pb_build(&pb, 5, 4, 1, 1);
	pb.len = 19;
	assert_int_equal(pb_decap(&pb), GRE_TRUNCATED);
	pb_build(&pb, 5, 4, 1, 1);
	pb.b[0] = 0x65;
	assert_int_equal(pb_decap(&pb), GRE_BAD_OUTER);
	pb_build(&pb, 5, 4, 1, 1);
	pb.b[9] = 17;
	assert_int_equal(pb_decap(&pb), GRE_BAD_OUTER);
	pb_build(&pb, 5, 4, 1, 1);
	pb.b[0] = 0x44;				/* IHL 4 */
	assert_int_equal(pb_decap(&pb), GRE_BAD_IHL);
	pb_build(&pb, 5, 4, 1, 1);
	pb.b[0] = 0x4f;				/* IHL 15: 60 bytes */
	pb.len = 40;
	assert_int_equal(pb_decap(&pb), GRE_BAD_IHL);
	pb_build(&pb, 5, 4, 1, 1);
	pb.len -= 1;				/* truncated outer datagram */
	assert_int_equal(pb_decap(&pb), GRE_BAD_TOTLEN);
	pb_build(&pb, 5, 4, 1, 1);
	be16_store(pb.b + 2, 19);
	assert_int_equal(pb_decap(&pb), GRE_BAD_TOTLEN);
	pb_build(&pb, 5, 4, 1, 1);
	pb.b[6] = 0x20;				/* MF */
	assert_int_equal(pb_decap(&pb), GRE_FRAGMENT);
	pb_build(&pb, 5, 4, 1, 1);
	pb.b[7] = 0x01;				/* offset 8 */
	assert_int_equal(pb_decap(&pb), GRE_FRAGMENT);
	pb_build(&pb, 5, 4, 1, 1);
	pb.b[6] = 0x40;				/* DF is fine */
	pb_check_ok(&pb, 1, 1, GRE_PROTO_IPV4);
}

static void
test_bad_gre(void **state)
{
	static const struct {
		uint8_t	byte, bits;
		int	reason;
	} cases[] = {
		{ 1, 0x01, GRE_BAD_VERSION },	/* PPTP */
		{ 1, 0x04, GRE_BAD_VERSION },
		{ 0, 0x40, GRE_BAD_FLAGS },	/* routing */
		{ 0, 0x08, GRE_BAD_FLAGS },	/* strict source route */
		{ 0, 0x01, GRE_BAD_FLAGS },	/* recursion */
		{ 0, 0x80, GRE_BAD_CHECKSUM },	/* checksum, wrong */
	};
	struct pb	pb;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pb_build(&pb, 5, 4, 1, 1);
		pb.b[pb.gre_off + cases[i].byte] |= cases[i].bits;
		assert_int_equal(pb_decap(&pb), cases[i].reason);
	}
	pb_build(&pb, 5, 4, 1, 1);
	pb.b[pb.gre_off + 1] |= 0xf8;		/* reserved: ignored */
	pb_check_ok(&pb, 1, 1, GRE_PROTO_IPV4);
	pb_build(&pb, 5, 4, 1, 1);
	be16_store(pb.b + pb.gre_off + 2, 0x6558);	/* transparent bridging */
	assert_int_equal(pb_decap(&pb), GRE_BAD_PROTO);
}

static void
test_truncated_gre(void **state)
{
	struct pb	pb;

	(void)state;
	pb_build(&pb, 5, 4, 0, 0);
	pb.len = pb.gre_off + 3;
	pb_fix_totlen(&pb);
	assert_int_equal(pb_decap(&pb), GRE_TRUNCATED);
	pb_build(&pb, 5, 4, 1, 1);
	pb.len = pb.gre_off + 6;		/* key bit, half a key */
	pb_fix_totlen(&pb);
	assert_int_equal(pb_decap(&pb), GRE_TRUNCATED);
	pb_build(&pb, 5, 4, 1, 1);
	pb.len = pb.inner_off;			/* no inner packet */
	pb_fix_totlen(&pb);
	assert_int_equal(pb_decap(&pb), GRE_BAD_INNER);
	pb_build(&pb, 5, 4, 1, 1);
	pb.b[pb.inner_off] = 0x60;		/* says IPv4, is IPv6 */
	assert_int_equal(pb_decap(&pb), GRE_BAD_INNER);
}

static void
test_reason_names(void **state)
{
	int	r;

	(void)state;
	for (r = 0; r < GRE_REASON_MAX; r++)
		assert_non_null(gre_reason_name(r));
	assert_string_equal(gre_reason_name(GRE_OK), "ok");
	assert_string_equal(gre_reason_name(GRE_BAD_CHECKSUM),
	    "bad_checksum");
	assert_string_equal(gre_reason_name(GRE_REASON_MAX), "unknown");
	assert_string_equal(gre_reason_name(-1), "unknown");
}

static void
test_cluster_key(void **state)
{
	static const char	msg[] = "ilbd gre cluster id v1";
	struct ilbd_conf	*conf;
	uint8_t			k1[CONF_KEY_LEN], k2[CONF_KEY_LEN];
	uint8_t			h[crypto_generichash_BYTES];
	uint32_t		a, b, c, d;

	(void)state;
	assert_non_null(conf = calloc(1, sizeof(*conf)));
	memset(k1, 0x11, sizeof(k1));
	memset(k2, 0x11, sizeof(k2));
	k2[31] = 0x12;
	a = gre_cluster_key(k1, conf);
	assert_int_equal(a, gre_cluster_key(k1, conf));
	assert_int_equal(a, gre_cluster_key(k1, NULL));
	assert_int_not_equal(a, gre_cluster_key(k2, conf));
	crypto_generichash(h, sizeof(h), (const uint8_t *)msg,
	    sizeof(msg) - 1, k1, sizeof(k1));
	assert_int_equal(a, (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3]);

	conf->cluster.group.family = AF_INET;
	conf->cluster.group.u.b[0] = 239;
	conf->cluster.group.u.b[1] = 192;
	conf->cluster.group.u.b[3] = 1;
	conf->cluster.port = 7946;
	b = gre_cluster_key(NULL, conf);
	assert_int_equal(b, gre_cluster_key(NULL, conf));
	assert_int_not_equal(a, b);
	conf->cluster.port = 7947;
	c = gre_cluster_key(NULL, conf);
	assert_int_not_equal(b, c);
	conf->cluster.port = 7946;
	conf->cluster.group.u.b[3] = 2;
	d = gre_cluster_key(NULL, conf);
	assert_int_not_equal(b, d);
	assert_int_not_equal(c, d);
	free(conf);
}

/* A configuration with cluster group g and one service of n servers. */
static void
conf_make(struct ilbd_conf *c, struct service_conf *svc,
    struct server_conf *srv, const char *g, enum conf_forward fwd,
    const char *const *servers, unsigned int n)
{
	unsigned int	i;

	memset(c, 0, sizeof(*c));
	memset(svc, 0, sizeof(*svc));
	assert_int_equal(util_addr_parse(g, &c->cluster.group), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(util_addr_parse(servers[i], &srv[i].addr), 0);
	svc->forward = fwd;
	svc->servers = srv;
	svc->nservers = n;
	c->services = svc;
	c->nservices = 1;
}

static void
test_overhead(void **state)
{
	static const char *const v4[] = { "192.0.2.21", "192.0.2.22" };
	static const char *const mixed[] = { "192.0.2.21", "2001:db8::21" };
	struct ilbd_conf	c;
	struct service_conf	svc;
	struct server_conf	srv[2];

	(void)state;
	/* handoff: outer IPv4 20 + GRE with key 8 */
	conf_make(&c, &svc, srv, "239.192.0.1", FORWARD_DSR, v4, 2);
	assert_int_equal(gre_overhead(&c), 28);
	/* GRE to IPv4 servers (24) fits within the handoff's 28 */
	conf_make(&c, &svc, srv, "239.192.0.1", FORWARD_GRE, v4, 2);
	assert_int_equal(gre_overhead(&c), 28);
	/* an IPv6 server with forward = "gre": 40 + 4 */
	conf_make(&c, &svc, srv, "239.192.0.1", FORWARD_GRE, mixed, 2);
	assert_int_equal(gre_overhead(&c), 44);
	/* DSR servers add nothing, whatever their family */
	conf_make(&c, &svc, srv, "239.192.0.1", FORWARD_DSR, mixed, 2);
	assert_int_equal(gre_overhead(&c), 28);
	/* an IPv6 cluster: handoff in outer IPv6, 40 + 8 */
	conf_make(&c, &svc, srv, "ff35:20:2001:db8::1", FORWARD_GRE, mixed,
	    2);
	assert_int_equal(gre_overhead(&c), 48);
}

static void
test_inner_mtu(void **state)
{
	(void)state;
	assert_int_equal(gre_inner_mtu(1500, 28), 1472);
	assert_int_equal(gre_inner_mtu(1500, 48), 1452);
	assert_int_equal(gre_inner_mtu(9000, 28), 8972);
	/* never below IPv6's minimum: IPv6 VIPs need it */
	assert_int_equal(gre_inner_mtu(1308, 28), 1280);
	assert_int_equal(gre_inner_mtu(1307, 28), GRE_INNER_MTU_MIN);
	assert_int_equal(gre_inner_mtu(576, 28), GRE_INNER_MTU_MIN);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_encap_hdr),
		cmocka_unit_test(test_relay_bit),
		cmocka_unit_test(test_roundtrip_v4),
		cmocka_unit_test(test_roundtrip_v6),
		cmocka_unit_test(test_trailer),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_bad_outer),
		cmocka_unit_test(test_bad_gre),
		cmocka_unit_test(test_truncated_gre),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_cluster_key),
		cmocka_unit_test(test_overhead),
		cmocka_unit_test(test_inner_mtu),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
