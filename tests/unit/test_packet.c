/* test_packet.c: cmocka tests of the IPv4/IPv6 TCP packet parser. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "be.h"
#include "flow.h"
#include "packet.h"

#define TB_SIZE		1024

/* A packet under construction: headers are appended in order. */
struct tb {
	uint8_t		b[TB_SIZE];
	size_t		len;
};

/* Test tuple: 192.0.2.1:40000 -> 198.51.100.10:80 and the v6 equivalent. */
static const uint8_t tb_saddr4[4] = { 192, 0, 2, 1 };
static const uint8_t tb_daddr4[4] = { 198, 51, 100, 10 };
static const uint8_t tb_saddr6[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t tb_daddr6[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
#define TB_SPORT	40000
#define TB_DPORT	80
#define TB_SEQ		0x8badf00dU	/* the TCP sequence number */

#define TH_SYN		PKT_TH_SYN
#define TH_ACK		PKT_TH_ACK

static void	*tb_put(struct tb *, size_t);
static void	 be16_store(uint8_t *, uint16_t);
static void	 tb_ip4(struct tb *, uint8_t, int);
static void	 tb_ip6(struct tb *, uint8_t);
static void	 tb_ext6(struct tb *, uint8_t, uint8_t);
static void	 tb_frag6(struct tb *, uint8_t, uint16_t, int, uint32_t);
static void	 tb_frag4(struct tb *, uint16_t, int);
static void	 tb_tcp(struct tb *, uint8_t, int);
static void	 tb_data(struct tb *, size_t);
static void	 tb_done(struct tb *);
static int	 tb_parse_exact(const uint8_t *, size_t, struct pkt_info *);

/* Append n zero bytes and return where they start. */
static void *
tb_put(struct tb *t, size_t n)
{
	void	*p;

	assert_true(t->len + n <= TB_SIZE);
	p = t->b + t->len;
	memset(p, 0, n);
	t->len += n;
	return (p);
}

/* IPv4 header with ihl 32-bit words; options are NOPs. */
static void
tb_ip4(struct tb *t, uint8_t proto, int ihl)
{
	uint8_t	*h = tb_put(t, (size_t)(ihl < 5 ? 5 : ihl) * 4);

	h[0] = (uint8_t)(0x40 | ihl);
	be16_store(h + 4, 0x1234);		/* id */
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, tb_saddr4, 4);
	memcpy(h + 16, tb_daddr4, 4);
	if (ihl > 5)
		memset(h + 20, 1, (size_t)(ihl - 5) * 4);
}

static void
tb_ip6(struct tb *t, uint8_t nh)
{
	uint8_t	*h = tb_put(t, 40);

	h[0] = 0x60;
	h[6] = nh;
	h[7] = 64;
	memcpy(h + 8, tb_saddr6, 16);
	memcpy(h + 24, tb_daddr6, 16);
}

/* Hop-by-hop, routing or destination options: (len8 + 1) * 8 bytes. */
static void
tb_ext6(struct tb *t, uint8_t nh, uint8_t len8)
{
	uint8_t	*h = tb_put(t, ((size_t)len8 + 1) * 8);

	h[0] = nh;
	h[1] = len8;
}

/* IPv6 fragment header; off8 in 8-byte units. */
static void
tb_frag6(struct tb *t, uint8_t nh, uint16_t off8, int mf, uint32_t id)
{
	uint8_t	*h = tb_put(t, 8);

	h[0] = nh;
	be16_store(h + 2, (uint16_t)(off8 << 3 | (mf ? 1 : 0)));
	be16_store(h + 4, (uint16_t)(id >> 16));
	be16_store(h + 6, (uint16_t)id);
}

/* Set the fragment field of the IPv4 header at offset 0. */
static void
tb_frag4(struct tb *t, uint16_t off8, int mf)
{
	be16_store(t->b + 6, (uint16_t)(off8 | (mf ? 0x2000 : 0)));
}

/* TCP header with data offset doff; options (if doff > 5) are NOPs. */
static void
tb_tcp(struct tb *t, uint8_t flags, int doff)
{
	size_t	 n = (size_t)(doff > 5 ? doff : 5) * 4;
	uint8_t	*h = tb_put(t, n);

	be16_store(h, TB_SPORT);
	be16_store(h + 2, TB_DPORT);
	be16_store(h + 4, TB_SEQ >> 16);		/* sequence number */
	be16_store(h + 6, TB_SEQ & 0xffff);
	h[12] = (uint8_t)(doff << 4);
	h[13] = flags;
	be16_store(h + 14, 65535);
	if (n > 20)
		memset(h + 20, 1, n - 20);
}

static void
tb_data(struct tb *t, size_t n)
{
	memset(tb_put(t, n), 0xab, n);
}

/* Fix the IPv4 total length or IPv6 payload length to the current length. */
static void
tb_done(struct tb *t)
{
	if ((t->b[0] >> 4) == 4)
		be16_store(t->b + 2, (uint16_t)t->len);
	else
		be16_store(t->b + 4, (uint16_t)(t->len - 40));
}

/* Builders leave the IPv4 checksum to tb_parse_exact() unless this is set. */
static int	tb_keep_csum;

/* Write the IPv4 header checksum of the header at p (ihl fits in len). */
static void
tb_csum4(uint8_t *p, size_t len)
{
	size_t		hlen = (size_t)(p[0] & 0x0f) * 4, i;
	uint32_t	sum = 0;

	if (len < 20 || (p[0] >> 4) != 4 || hlen < 20 || hlen > len)
		return;
	p[10] = p[11] = 0;
	for (i = 0; i < hlen; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	be16_store(p + 10, (uint16_t)~sum);
}

/*
 * Parse from a heap copy of exactly len bytes, so ASan sees any overread;
 * the copy gets a correct IPv4 header checksum (unless tb_keep_csum).
 */
static int
tb_parse_exact(const uint8_t *b, size_t len, struct pkt_info *pi)
{
	uint8_t	*p;
	int	 rc;

	p = malloc(len);
	if (len > 0) {
		assert_non_null(p);
		memcpy(p, b, len);
		if (!tb_keep_csum)
			tb_csum4(p, len);
	}
	rc = packet_parse(p, len, pi);
	free(p);
	return (rc);
}

/* Base packets. */
static void
v4_syn(struct tb *t)
{
	tb_ip4(t, 6, 5);
	tb_tcp(t, TH_SYN, 5);
	tb_done(t);
}

static void
v6_syn(struct tb *t)
{
	tb_ip6(t, 6);
	tb_tcp(t, TH_SYN, 5);
	tb_done(t);
}

/*
 * ICMP errors about a reply of the test connection: VIP:80 -> client:40000
 * quoted, optionally cut to quote bytes of TCP, from src (the VIP unless
 * other), quoting protocol qproto.
 */
static void
c_icmp4(struct tb *t, uint8_t type, uint8_t code, size_t quote,
    uint8_t qproto, int other)
{
	uint8_t	*ic, *in, *th;

	tb_ip4(t, 1, 5);
	memcpy(t->b + 12, tb_saddr4, 4);	/* from the router: any */
	ic = tb_put(t, 8);
	ic[0] = type;
	ic[1] = code;
	be16_store(ic + 6, 1280);			/* next-hop MTU */
	in = tb_put(t, 20);
	in[0] = 0x45;
	be16_store(in + 2, 1500);
	in[8] = 64;
	in[9] = qproto;
	memcpy(in + 12, tb_daddr4, 4);		/* the VIP */
	if (other)
		in[15] ^= 1;
	memcpy(in + 16, tb_saddr4, 4);		/* the client */
	th = tb_put(t, quote);
	be16_store(th, TB_DPORT);
	be16_store(th + 2, TB_SPORT);
	tb_done(t);
}

static void c_v4_ptb(struct tb *t) { c_icmp4(t, 3, 4, 8, 6, 0); }
static void c_v4_ptb_short(struct tb *t) { c_icmp4(t, 3, 4, 4, 6, 0); }
static void c_v4_ptb_udp(struct tb *t) { c_icmp4(t, 3, 4, 8, 17, 0); }
static void c_v4_ptb_other(struct tb *t) { c_icmp4(t, 3, 4, 8, 6, 1); }
static void c_v4_unreach_port(struct tb *t) { c_icmp4(t, 3, 3, 8, 6, 0); }

static void
c_v4_icmp_cut(struct tb *t)
{
	tb_ip4(t, 1, 5);
	tb_data(t, 7);
	tb_done(t);
}

static void
c_v4_bad_csum(struct tb *t)
{
	v4_syn(t);
	tb_csum4(t->b, t->len);
	t->b[11] ^= 0x10;
	tb_keep_csum = 1;
}

/* The same for ICMPv6 (type 2: packet too big; 128: echo request). */
static void
c_icmp6(struct tb *t, uint8_t type, size_t quote, int other)
{
	uint8_t	*ic, *in, *th;

	tb_ip6(t, 58);
	ic = tb_put(t, 8);
	ic[0] = type;
	be16_store(ic + 6, 1280);
	in = tb_put(t, 40);
	in[0] = 0x60;
	be16_store(in + 4, 1460);
	in[6] = 6;
	in[7] = 64;
	memcpy(in + 8, tb_daddr6, 16);		/* the VIP */
	if (other)
		in[23] ^= 1;
	memcpy(in + 24, tb_saddr6, 16);
	th = tb_put(t, quote);
	be16_store(th, TB_DPORT);
	be16_store(th + 2, TB_SPORT);
	tb_done(t);
}

static void c_v6_ptb(struct tb *t) { c_icmp6(t, 2, 8, 0); }
static void c_v6_ptb_short(struct tb *t) { c_icmp6(t, 2, 7, 0); }
static void c_v6_ptb_other(struct tb *t) { c_icmp6(t, 2, 8, 1); }
static void c_v6_echo(struct tb *t) { c_icmp6(t, 128, 8, 0); }

/* The table of cases, one builder each. */
static void c_empty(struct tb *t) { t->len = 0; }
static void c_v4_1(struct tb *t) { v4_syn(t); t->len = 1; }
static void c_v6_1(struct tb *t) { v6_syn(t); t->len = 1; }
static void c_v4_19(struct tb *t) { v4_syn(t); t->len = 19; }
static void c_v6_39(struct tb *t) { v6_syn(t); t->len = 39; }
static void c_bad_ver_1(struct tb *t) { v4_syn(t); t->b[0] = 0x55; t->len = 1; }
static void c_bad_ver_0(struct tb *t) { v4_syn(t); t->b[0] = 0x05; }
static void c_bad_ver_7(struct tb *t) { v6_syn(t); t->b[0] = 0x70; }
static void c_ihl_4(struct tb *t) { v4_syn(t); t->b[0] = 0x44; }
static void c_ihl_0(struct tb *t) { v4_syn(t); t->b[0] = 0x40; }
static void c_ihl_past(struct tb *t) { v4_syn(t); t->b[0] = 0x4f; }
static void c_ihl_41(struct tb *t) { v4_syn(t); t->b[0] = 0x4b; }
static void c_tot_lt_20(struct tb *t) { v4_syn(t); be16_store(t->b + 2, 19); }
static void c_tot_0(struct tb *t) { v4_syn(t); be16_store(t->b + 2, 0); }

static void
c_tot_lt_ihl(struct tb *t)
{
	tb_ip4(t, 6, 6);
	tb_tcp(t, TH_SYN, 5);
	be16_store(t->b + 2, 23);
}

static void c_tot_past(struct tb *t) { v4_syn(t); be16_store(t->b + 2, 41); }
static void c_tot_max(struct tb *t) { v4_syn(t); be16_store(t->b + 2, 65535); }
static void c_plen_past(struct tb *t) { v6_syn(t); be16_store(t->b + 4, 21); }
static void c_v4_iponly(struct tb *t) { tb_ip4(t, 6, 5); tb_done(t); }
static void c_v6_iponly(struct tb *t) { tb_ip6(t, 6); tb_done(t); }

static void
c_v4_tcp19(struct tb *t)
{
	tb_ip4(t, 6, 5);
	tb_data(t, 19);
	tb_done(t);
}

static void
c_v6_tcp19(struct tb *t)
{
	tb_ip6(t, 6);
	tb_data(t, 19);
	tb_done(t);
}

/* The buffer holds the whole TCP header, but total length cuts it. */
static void
c_v4_tcp_cut_by_tot(struct tb *t)
{
	v4_syn(t);
	be16_store(t->b + 2, 39);
}

static void
c_v6_ext7(struct tb *t)
{
	tb_ip6(t, 60);
	tb_data(t, 7);
	tb_done(t);
}

static void
c_v6_frag7(struct tb *t)
{
	tb_ip6(t, 44);
	tb_data(t, 7);
	tb_done(t);
}

static void
c_doff(struct tb *t, int doff)
{
	tb_ip4(t, 6, 5);
	tb_tcp(t, TH_SYN, 5);
	t->b[20 + 12] = (uint8_t)(doff << 4);
	tb_done(t);
}

static void c_doff_0(struct tb *t) { c_doff(t, 0); }
static void c_doff_4(struct tb *t) { c_doff(t, 4); }
static void c_doff_6(struct tb *t) { c_doff(t, 6); }
static void c_doff_15(struct tb *t) { c_doff(t, 15); }

static void
c_v6_doff_4(struct tb *t)
{
	v6_syn(t);
	t->b[40 + 12] = 0x40;
}

/* doff fits the buffer but not the total length. */
static void
c_doff_past_tot(struct tb *t)
{
	tb_ip4(t, 6, 5);
	tb_tcp(t, TH_SYN, 6);
	be16_store(t->b + 2, 40);
}

static void
c_v4_frag_later(struct tb *t)
{
	v4_syn(t);
	tb_frag4(t, 2, 1);
}

/* RFC 1858: a TCP fragment at offset 8 could rewrite the flags. */
static void
c_v4_frag_8(struct tb *t)
{
	v4_syn(t);
	tb_frag4(t, 1, 1);
}

static void
c_v6_frag_8(struct tb *t)
{
	tb_ip6(t, 44);
	tb_frag6(t, 6, 1, 1, 0xdeadbeef);
	tb_data(t, 8);
	tb_done(t);
}

static void
c_v4_frag_last(struct tb *t)
{
	v4_syn(t);
	tb_frag4(t, 185, 0);
}

static void
c_v4_frag_first(struct tb *t)
{
	tb_ip4(t, 6, 5);
	tb_tcp(t, TH_SYN | TH_ACK, 5);
	tb_data(t, 16);
	tb_done(t);
	tb_frag4(t, 0, 1);
}

/* First fragment too short for the TCP header. */
static void
c_v4_frag_first_short(struct tb *t)
{
	tb_ip4(t, 6, 5);
	tb_data(t, 8);
	tb_done(t);
	tb_frag4(t, 0, 1);
}

static void
c_v4_df_rsvd(struct tb *t)
{
	v4_syn(t);
	be16_store(t->b + 6, 0xc000);	/* reserved + DF: not a fragment */
}

static void
c_v6_frag_later(struct tb *t)
{
	tb_ip6(t, 44);
	tb_frag6(t, 6, 2, 1, 0xdeadbeef);
	tb_data(t, 8);
	tb_done(t);
}

static void
c_v6_frag_last(struct tb *t)
{
	tb_ip6(t, 44);
	tb_frag6(t, 6, 100, 0, 7);
	tb_data(t, 8);
	tb_done(t);
}

static void
c_v6_frag_first(struct tb *t)
{
	tb_ip6(t, 44);
	tb_frag6(t, 6, 0, 1, 0xdeadbeef);
	tb_tcp(t, TH_SYN, 5);
	tb_data(t, 16);
	tb_done(t);
}

static void
c_v6_frag_first_short(struct tb *t)
{
	tb_ip6(t, 44);
	tb_frag6(t, 6, 0, 1, 1);
	tb_data(t, 12);
	tb_done(t);
}

/* RFC 6946 atomic fragment: offset 0, M clear. */
static void
c_v6_frag_atomic(struct tb *t)
{
	tb_ip6(t, 44);
	tb_frag6(t, 6, 0, 0, 1);
	tb_tcp(t, TH_SYN, 5);
	tb_done(t);
}

static void
c_v4_proto(struct tb *t, uint8_t proto)
{
	tb_ip4(t, proto, 5);
	tb_data(t, 20);
	tb_done(t);
}

static void c_v4_udp_junk(struct tb *t) { c_v4_proto(t, 17); }
static void c_v4_icmp(struct tb *t) { c_v4_proto(t, 1); }
static void c_v4_udp_frag(struct tb *t) { c_v4_proto(t, 17); tb_frag4(t, 3, 1); }

/*
 * UDP header, then n bytes of data; its length field says ulen (0: the
 * header and the data, as it should). Checksum 0: none (IPv4).
 */
static void
tb_udp(struct tb *t, size_t n, uint16_t ulen)
{
	uint8_t	*h = tb_put(t, 8);

	be16_store(h, TB_SPORT);
	be16_store(h + 2, TB_DPORT);
	be16_store(h + 4, ulen != 0 ? ulen : (uint16_t)(8 + n));
	tb_data(t, n);
}

static void
c_v4_udp(struct tb *t)
{
	tb_ip4(t, 17, 5);
	tb_udp(t, 29, 0);
	tb_done(t);
}

static void
c_v4_udp_empty(struct tb *t)
{
	tb_ip4(t, 17, 5);
	tb_udp(t, 0, 0);
	tb_done(t);
}

static void
c_v4_udp_short(struct tb *t)
{
	tb_ip4(t, 17, 5);
	tb_data(t, 6);
	tb_done(t);
}

static void
c_v4_udp_long(struct tb *t)
{
	tb_ip4(t, 17, 5);
	tb_udp(t, 10, 19);
	tb_done(t);
}

static void
c_v4_udp_len7(struct tb *t)
{
	tb_ip4(t, 17, 5);
	tb_udp(t, 0, 7);
	tb_done(t);
}

/* A first fragment: the UDP length counts the whole datagram. */
static void
c_v4_udp_first(struct tb *t)
{
	tb_ip4(t, 17, 5);
	tb_udp(t, 16, 1400);
	tb_frag4(t, 0, 1);
	tb_done(t);
}

static void
c_v4_udp_first_short(struct tb *t)
{
	tb_ip4(t, 17, 5);
	tb_data(t, 4);
	tb_frag4(t, 0, 1);
	tb_done(t);
}

static void
c_v6_udp(struct tb *t)
{
	tb_ip6(t, 17);
	tb_udp(t, 33, 0);
	tb_done(t);
}

static void
c_v6_udp_short(struct tb *t)
{
	tb_ip6(t, 17);
	tb_udp(t, 8, 12);
	tb_done(t);
}

static void
c_v6_dst_udp_ok(struct tb *t)
{
	tb_ip6(t, 60);
	tb_ext6(t, 17, 0);
	tb_udp(t, 4, 0);
	tb_done(t);
}

static void
c_v6_nh(struct tb *t, uint8_t nh)
{
	tb_ip6(t, nh);
	tb_data(t, 24);
	tb_done(t);
}

static void c_v6_udp_junk(struct tb *t) { c_v6_nh(t, 17); }
static void c_v6_icmp(struct tb *t) { c_v6_nh(t, 58); }
static void c_v6_nonext(struct tb *t) { c_v6_nh(t, 59); }
static void c_v6_esp(struct tb *t) { c_v6_nh(t, 50); }
static void c_v6_ah(struct tb *t) { c_v6_nh(t, 51); }

static void
c_v6_dst_udp(struct tb *t)
{
	tb_ip6(t, 60);
	tb_ext6(t, 17, 0);
	tb_data(t, 8);
	tb_done(t);
}

static void
c_v6_chain(struct tb *t)
{
	tb_ip6(t, 0);
	tb_ext6(t, 43, 0);
	tb_ext6(t, 60, 2);
	tb_ext6(t, 6, 1);
	tb_tcp(t, TH_SYN, 5);
	tb_done(t);
}

static void
c_v6_chain_frag(struct tb *t)
{
	tb_ip6(t, 0);
	tb_ext6(t, 44, 0);
	tb_frag6(t, 60, 0, 1, 9);
	tb_ext6(t, 6, 0);
	tb_tcp(t, TH_SYN, 5);
	tb_done(t);
}

/* Hop-by-hop claiming 88 bytes in a 60-byte payload. */
static void
c_v6_ext_past(struct tb *t)
{
	tb_ip6(t, 0);
	tb_ext6(t, 6, 0);
	tb_tcp(t, TH_SYN, 5);
	tb_done(t);
	t->b[41] = 10;
}

/* The buffer holds the routing header, the payload length does not. */
static void
c_v6_ext_past_plen(struct tb *t)
{
	tb_ip6(t, 43);
	tb_ext6(t, 6, 3);
	be16_store(t->b + 4, 24);
}

static void
c_v6_nexts(struct tb *t, int n, uint8_t last)
{
	int	i;

	tb_ip6(t, 60);
	for (i = 0; i < n; i++)
		tb_ext6(t, i == n - 1 ? last : 60, 0);
	tb_tcp(t, TH_SYN, 5);
	tb_done(t);
}

static void c_v6_8ext(struct tb *t) { c_v6_nexts(t, PKT_EXTHDR_MAX, 6); }
static void c_v6_9ext(struct tb *t) { c_v6_nexts(t, PKT_EXTHDR_MAX + 1, 6); }

static void
c_v6_hbh_late(struct tb *t)
{
	tb_ip6(t, 60);
	tb_ext6(t, 0, 0);
	tb_ext6(t, 6, 0);
	tb_tcp(t, TH_SYN, 5);
	tb_done(t);
}

static void
c_v6_two_frags(struct tb *t)
{
	tb_ip6(t, 44);
	tb_frag6(t, 44, 0, 1, 1);
	tb_frag6(t, 6, 0, 1, 1);
	tb_tcp(t, TH_SYN, 5);
	tb_done(t);
}

static void
c_v4_opts(struct tb *t)
{
	tb_ip4(t, 6, 15);
	tb_tcp(t, TH_SYN, 15);
	tb_done(t);
}

static void
c_v4_opts1(struct tb *t)
{
	tb_ip4(t, 6, 6);
	tb_tcp(t, TH_SYN, 6);
	tb_done(t);
}

static void
c_v4_pad(struct tb *t)
{
	v4_syn(t);
	tb_data(t, 6);		/* Ethernet padding past the total length */
}

static void
c_v6_pad(struct tb *t)
{
	v6_syn(t);
	tb_data(t, 13);
}

/* Padding that is not a valid TCP header must not matter either. */
static void
c_v4_pad_short_tot(struct tb *t)
{
	v4_syn(t);
	tb_data(t, 40);
}

struct pkt_case {
	const char	*name;
	void		(*build)(struct tb *);
	int		 want;
};

static const struct pkt_case pkt_cases[] = {
	{ "empty",		c_empty,		PKT_TRUNCATED },
	{ "v4 1 byte",		c_v4_1,			PKT_TRUNCATED },
	{ "v6 1 byte",		c_v6_1,			PKT_TRUNCATED },
	{ "v4 19 bytes",	c_v4_19,		PKT_TRUNCATED },
	{ "v6 39 bytes",	c_v6_39,		PKT_TRUNCATED },
	{ "v4 no tcp",		c_v4_iponly,		PKT_TRUNCATED },
	{ "v6 no tcp",		c_v6_iponly,		PKT_TRUNCATED },
	{ "v4 tcp 19",		c_v4_tcp19,		PKT_TRUNCATED },
	{ "v6 tcp 19",		c_v6_tcp19,		PKT_TRUNCATED },
	{ "v4 tcp cut by tot",	c_v4_tcp_cut_by_tot,	PKT_TRUNCATED },
	{ "v6 ext 7",		c_v6_ext7,		PKT_TRUNCATED },
	{ "v6 frag 7",		c_v6_frag7,		PKT_TRUNCATED },
	{ "bad version 1 byte",	c_bad_ver_1,		PKT_BAD_VERSION },
	{ "bad version 0",	c_bad_ver_0,		PKT_BAD_VERSION },
	{ "bad version 7",	c_bad_ver_7,		PKT_BAD_VERSION },
	{ "ihl 4",		c_ihl_4,		PKT_BAD_IHL },
	{ "ihl 0",		c_ihl_0,		PKT_BAD_IHL },
	{ "ihl past end",	c_ihl_past,		PKT_BAD_IHL },
	{ "ihl 11 of 40",	c_ihl_41,		PKT_BAD_IHL },
	{ "tot 19",		c_tot_lt_20,		PKT_BAD_TOTLEN },
	{ "tot 0",		c_tot_0,		PKT_BAD_TOTLEN },
	{ "tot < ihl",		c_tot_lt_ihl,		PKT_BAD_TOTLEN },
	{ "tot past buffer",	c_tot_past,		PKT_BAD_TOTLEN },
	{ "tot 65535",		c_tot_max,		PKT_BAD_TOTLEN },
	{ "v6 plen past",	c_plen_past,		PKT_BAD_PLEN },
	{ "doff 0",		c_doff_0,		PKT_BAD_TCP_OFFSET },
	{ "doff 4",		c_doff_4,		PKT_BAD_TCP_OFFSET },
	{ "doff 6 past end",	c_doff_6,		PKT_BAD_TCP_OFFSET },
	{ "doff 15 past end",	c_doff_15,		PKT_BAD_TCP_OFFSET },
	{ "doff past tot",	c_doff_past_tot,	PKT_BAD_TCP_OFFSET },
	{ "v6 doff 4",		c_v6_doff_4,		PKT_BAD_TCP_OFFSET },
	{ "v4 later frag",	c_v4_frag_later,	PKT_FRAGMENT },
	{ "v4 frag at 8",	c_v4_frag_8,		PKT_TINY_FRAGMENT },
	{ "v6 frag at 8",	c_v6_frag_8,		PKT_TINY_FRAGMENT },
	{ "v4 last frag",	c_v4_frag_last,		PKT_FRAGMENT },
	{ "v4 first frag",	c_v4_frag_first,	PKT_OK },
	{ "v4 first frag short", c_v4_frag_first_short,	PKT_TINY_FRAGMENT },
	{ "v4 df+reserved",	c_v4_df_rsvd,		PKT_OK },
	{ "v6 later frag",	c_v6_frag_later,	PKT_FRAGMENT },
	{ "v6 last frag",	c_v6_frag_last,		PKT_FRAGMENT },
	{ "v6 first frag",	c_v6_frag_first,	PKT_OK },
	{ "v6 first frag short", c_v6_frag_first_short,	PKT_TINY_FRAGMENT },
	{ "v6 atomic frag",	c_v6_frag_atomic,	PKT_OK },
	{ "v4 udp junk length",	c_v4_udp_junk,		PKT_BAD_UDP_LEN },
	{ "v4 icmp",		c_v4_icmp,		PKT_NOT_TCP },
	{ "v4 udp later frag",	c_v4_udp_frag,		PKT_FRAGMENT },
	{ "v6 udp junk length",	c_v6_udp_junk,		PKT_BAD_UDP_LEN },
	{ "v4 udp",		c_v4_udp,		PKT_OK },
	{ "v4 udp no data",	c_v4_udp_empty,		PKT_OK },
	{ "v4 udp truncated",	c_v4_udp_short,		PKT_TRUNCATED },
	{ "v4 udp len past ip",	c_v4_udp_long,		PKT_BAD_UDP_LEN },
	{ "v4 udp len 7",	c_v4_udp_len7,		PKT_BAD_UDP_LEN },
	{ "v4 udp first frag",	c_v4_udp_first,		PKT_OK },
	{ "v4 udp first short",	c_v4_udp_first_short,	PKT_TINY_FRAGMENT },
	{ "v6 udp",		c_v6_udp,		PKT_OK },
	{ "v6 udp len short",	c_v6_udp_short,		PKT_BAD_UDP_LEN },
	{ "v6 dstopts udp ok",	c_v6_dst_udp_ok,	PKT_OK },
	{ "v6 icmp",		c_v6_icmp,		PKT_NOT_TCP },
	{ "v6 no next header",	c_v6_nonext,		PKT_NOT_TCP },
	{ "v6 dstopts udp",	c_v6_dst_udp,		PKT_BAD_UDP_LEN },
	{ "v6 esp",		c_v6_esp,		PKT_UNSUPP_EXTHDR },
	{ "v6 ah",		c_v6_ah,		PKT_UNSUPP_EXTHDR },
	{ "v6 hbh+rt+dst",	c_v6_chain,		PKT_OK },
	{ "v6 hbh+frag+dst",	c_v6_chain_frag,	PKT_OK },
	{ "v6 ext past end",	c_v6_ext_past,		PKT_BAD_EXTHDR },
	{ "v6 ext past plen",	c_v6_ext_past_plen,	PKT_BAD_EXTHDR },
	{ "v6 8 ext headers",	c_v6_8ext,		PKT_OK },
	{ "v6 9 ext headers",	c_v6_9ext,		PKT_TOO_MANY_EXTHDRS },
	{ "v6 hbh not first",	c_v6_hbh_late,		PKT_BAD_EXTHDR },
	{ "v6 two frag headers", c_v6_two_frags,	PKT_BAD_EXTHDR },
	{ "v4 options 40",	c_v4_opts,		PKT_OK },
	{ "v4 options 4",	c_v4_opts1,		PKT_OK },
	{ "v4 trailing pad",	c_v4_pad,		PKT_OK },
	{ "v6 trailing pad",	c_v6_pad,		PKT_OK },
	{ "v4 trailing 40",	c_v4_pad_short_tot,	PKT_OK },
	{ "v4 bad checksum",	c_v4_bad_csum,		PKT_BAD_CSUM },
	{ "v4 frag-needed",	c_v4_ptb,		PKT_OK },
	{ "v4 frag-needed short", c_v4_ptb_short,	PKT_BAD_ICMP },
	{ "v4 frag-needed udp",	c_v4_ptb_udp,		PKT_OK },
	{ "v4 frag-needed other", c_v4_ptb_other,	PKT_BAD_ICMP },
	{ "v4 icmp header cut",	c_v4_icmp_cut,		PKT_TRUNCATED },
	{ "v4 unreach port",	c_v4_unreach_port,	PKT_NOT_TCP },
	{ "v6 packet too big",	c_v6_ptb,		PKT_OK },
	{ "v6 too big short",	c_v6_ptb_short,		PKT_BAD_ICMP },
	{ "v6 too big other",	c_v6_ptb_other,		PKT_BAD_ICMP },
	{ "v6 icmp echo",	c_v6_echo,		PKT_NOT_TCP },
};

static int
tb_setup(void **state)
{
	*state = test_calloc(1, sizeof(struct tb));
	return (*state == NULL ? -1 : 0);
}

static int
tb_teardown(void **state)
{
	test_free(*state);
	return (0);
}

/* Every row of the table gives its reason; OK rows give a sane result. */
static void
test_packet_table(void **state)
{
	struct tb	*t = *state;
	struct pkt_info	 pi;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(pkt_cases) / sizeof(pkt_cases[0]); i++) {
		memset(t, 0, sizeof(*t));
		tb_keep_csum = 0;
		pkt_cases[i].build(t);
		rc = tb_parse_exact(t->b, t->len, &pi);
		tb_keep_csum = 0;
		if (rc != pkt_cases[i].want)
			fail_msg("%s: got %s, want %s", pkt_cases[i].name,
			    packet_reason_name(rc),
			    packet_reason_name(pkt_cases[i].want));
		if (rc != PKT_OK)
			continue;
		assert_true(flow_key_valid(&pi.key));
		if (PKT_IS_ICMP_ERR(&pi)) {
			assert_int_equal(pi.data_off, pi.ip_len);
			continue;
		}
		if (pi.proto == 17) {
			assert_true(flow_key_is_udp(&pi.key));
			assert_int_equal(pi.tcp_flags, 0);
			assert_int_equal(pi.data_off, pi.l4_off + 8);
			assert_true(pi.data_off <= pi.ip_len);
			continue;
		}
		assert_false(flow_key_is_udp(&pi.key));
		assert_int_equal(pi.proto, 6);
		assert_true(pi.l4_off + 20 <= pi.data_off);
		assert_true(pi.data_off <= pi.ip_len);
		assert_true(pi.ip_len <= t->len);
	}
}

static int
flags_of(struct tb *t, int v6, uint8_t flags)
{
	struct pkt_info	pi;

	memset(t, 0, sizeof(*t));
	if (v6)
		tb_ip6(t, 6);
	else
		tb_ip4(t, 6, 5);
	tb_tcp(t, flags, 5);
	tb_done(t);
	assert_int_equal(tb_parse_exact(t->b, t->len, &pi), PKT_OK);
	assert_int_equal(pi.tcp_flags, flags);
	assert_int_equal(pi.seq, TB_SEQ);
	return ((PKT_IS_SYN_ONLY(&pi) ? 1 : 0) | (PKT_IS_END(&pi) ? 2 : 0) |
	    (PKT_HAS_ACK(&pi) ? 4 : 0));
}

static int
bad_flags(struct tb *t, int v6, uint8_t flags)
{
	struct pkt_info	pi;

	memset(t, 0, sizeof(*t));
	if (v6)
		tb_ip6(t, 6);
	else
		tb_ip4(t, 6, 5);
	tb_tcp(t, flags, 5);
	tb_done(t);
	return (tb_parse_exact(t->b, t->len, &pi));
}

/* SYN, SYN+ACK, FIN, RST and the helper macros, both families. */
static void
test_packet_flags(void **state)
{
	struct tb	*t = *state;
	int		 v6;

	for (v6 = 0; v6 <= 1; v6++) {
		assert_int_equal(flags_of(t, v6, PKT_TH_SYN), 1);
		/* ECE and CWR on a SYN (ECN setup) keep it a SYN. */
		assert_int_equal(flags_of(t, v6, PKT_TH_SYN | 0xc0), 1);
		assert_int_equal(flags_of(t, v6, PKT_TH_SYN | PKT_TH_ACK), 4);
		assert_int_equal(flags_of(t, v6, PKT_TH_ACK), 4);
		assert_int_equal(flags_of(t, v6, PKT_TH_ACK | PKT_TH_PSH), 4);
		assert_int_equal(flags_of(t, v6, PKT_TH_FIN), 2);
		assert_int_equal(flags_of(t, v6, PKT_TH_FIN | PKT_TH_ACK), 6);
		assert_int_equal(flags_of(t, v6, PKT_TH_RST), 2);
		assert_int_equal(flags_of(t, v6, PKT_TH_RST | PKT_TH_ACK), 6);
		/* SYN+FIN, SYN+RST and no flag at all: no TCP sends them. */
		assert_int_equal(bad_flags(t, v6, PKT_TH_SYN | PKT_TH_FIN),
		    PKT_BAD_TCP_FLAGS);
		assert_int_equal(bad_flags(t, v6, PKT_TH_SYN | PKT_TH_RST |
		    PKT_TH_ACK), PKT_BAD_TCP_FLAGS);
		assert_int_equal(bad_flags(t, v6, 0), PKT_BAD_TCP_FLAGS);
		assert_int_equal(bad_flags(t, v6, PKT_TH_PSH | PKT_TH_URG),
		    PKT_BAD_TCP_FLAGS);
	}
}

/* claim 4: the exact 12-byte id of 192.0.2.1:40000 -> 198.51.100.10:80. */
static void
test_packet_key_v4(void **state)
{
	static const uint8_t	want[FLOW_ID_MAX] = {
		0x00, 0x50,				/* dport 80 */
		0xc6, 0x33, 0x64, 0x0a,			/* 198.51.100.10 */
		0x9c, 0x40,				/* sport 40000 */
		0xc0, 0x00, 0x02, 0x01,			/* 192.0.2.1 */
	};
	struct tb	*t = *state;
	struct pkt_info	 pi;

	tb_ip4(t, 6, 7);
	tb_tcp(t, TH_SYN, 5);
	tb_data(t, 5);
	tb_done(t);
	tb_data(t, 3);
	assert_int_equal(tb_parse_exact(t->b, t->len, &pi), PKT_OK);
	assert_int_equal(pi.family, 4);
	assert_int_equal(pi.key.len, FLOW_ID_V4);
	assert_memory_equal(pi.key.id, want, FLOW_ID_MAX);
	assert_int_equal(pi.l3_off, 0);
	assert_int_equal(pi.l4_off, 28);
	assert_int_equal(pi.data_off, 48);
	assert_int_equal(pi.ip_len, 53);
	assert_int_equal(pi.payload_len, 25);
	assert_int_equal(PKT_TCP_LEN(&pi), 25);
	assert_int_equal(PKT_DATA_LEN(&pi), 5);
	assert_int_equal(pi.frag_id, 0x1234);
	assert_false(PKT_IS_FIRSTFRAG(&pi));
}

/* claim 4: the exact 36-byte id of [2001:db8::1]:40000 -> [2001:db8:1::10]:80. */
static void
test_packet_key_v6(void **state)
{
	static const uint8_t	want[FLOW_ID_MAX] = {
		0x00, 0x50,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0,
		0, 0, 0, 0, 0, 0, 0x00, 0x10,
		0x9c, 0x40,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0, 0,
		0, 0, 0, 0, 0, 0, 0x00, 0x01,
	};
	struct tb	*t = *state;
	struct pkt_info	 pi;

	tb_ip6(t, 0);
	tb_ext6(t, 6, 1);
	tb_tcp(t, TH_SYN, 8);
	tb_data(t, 7);
	tb_done(t);
	tb_data(t, 2);
	assert_int_equal(tb_parse_exact(t->b, t->len, &pi), PKT_OK);
	assert_int_equal(pi.family, 6);
	assert_int_equal(pi.key.len, FLOW_ID_V6);
	assert_memory_equal(pi.key.id, want, FLOW_ID_MAX);
	assert_int_equal(pi.l4_off, 56);
	assert_int_equal(pi.data_off, 88);
	assert_int_equal(pi.ip_len, 95);
	assert_int_equal(pi.payload_len, 55);
	assert_int_equal(PKT_DATA_LEN(&pi), 7);
	assert_int_equal(pi.frag_id, 0);
}

/* Fragment fields: first fragments parse and are marked; later ones not. */
static void
test_packet_fragments(void **state)
{
	struct tb	*t = *state;
	struct pkt_info	 pi;

	c_v4_frag_first(t);
	assert_int_equal(tb_parse_exact(t->b, t->len, &pi), PKT_OK);
	assert_true(PKT_IS_FIRSTFRAG(&pi));
	assert_int_equal(pi.frag_id, 0x1234);
	assert_int_equal(pi.key.len, FLOW_ID_V4);

	memset(t, 0, sizeof(*t));
	c_v4_frag_later(t);
	assert_int_equal(tb_parse_exact(t->b, t->len, &pi), PKT_FRAGMENT);
	assert_int_equal(pi.family, 4);
	assert_int_equal(pi.proto, 6);
	assert_int_equal(pi.frag_id, 0x1234);
	assert_int_equal(pi.key.len, 0);
	assert_int_equal(pi.l4_off, 20);

	memset(t, 0, sizeof(*t));
	c_v6_frag_first(t);
	assert_int_equal(tb_parse_exact(t->b, t->len, &pi), PKT_OK);
	assert_true(PKT_IS_FIRSTFRAG(&pi));
	assert_int_equal(pi.frag_id, 0xdeadbeef);
	assert_int_equal(pi.l4_off, 48);

	memset(t, 0, sizeof(*t));
	c_v6_frag_later(t);
	assert_int_equal(tb_parse_exact(t->b, t->len, &pi), PKT_FRAGMENT);
	assert_int_equal(pi.family, 6);
	assert_int_equal(pi.proto, 6);
	assert_int_equal(pi.frag_id, 0xdeadbeef);
	assert_int_equal(pi.key.len, 0);
	assert_int_equal(pi.l4_off, 48);

	memset(t, 0, sizeof(*t));
	c_v6_frag_atomic(t);
	assert_int_equal(tb_parse_exact(t->b, t->len, &pi), PKT_OK);
	assert_false(PKT_IS_FIRSTFRAG(&pi));
}

/*
 * Feed every prefix of a valid packet, first with the length fields as
 * they were (so they point past the buffer), then with them rewritten to
 * the cut (so the datagram itself ends early): no prefix shorter than the
 * headers may parse.
 */
static void
truncate_all(struct tb *t, size_t hdrs)
{
	struct tb	 c;
	struct pkt_info	 pi;
	size_t		 n, full = t->len;
	int		 rc, v6 = (t->b[0] >> 4) == 6;

	assert_int_equal(tb_parse_exact(t->b, full, &pi), PKT_OK);
	for (n = 0; n < full; n++) {
		rc = tb_parse_exact(t->b, n, &pi);
		if (n < (v6 ? 40u : 20u))
			assert_int_equal(rc, PKT_TRUNCATED);
		else if (v6)
			assert_int_equal(rc, PKT_BAD_PLEN);
		else if (n < (size_t)(t->b[0] & 0x0f) * 4)
			assert_int_equal(rc, PKT_BAD_IHL);
		else
			assert_int_equal(rc, PKT_BAD_TOTLEN);

		c = *t;
		c.len = n;
		if (n >= (v6 ? 40u : 4u))
			tb_done(&c);
		rc = tb_parse_exact(c.b, n, &pi);
		if (n < hdrs && rc == PKT_OK)
			fail_msg("cut at %zu of %zu parsed", n, full);
		if (n >= hdrs)
			assert_int_equal(rc, PKT_OK);
	}
}

static void
test_packet_truncate_v4(void **state)
{
	struct tb	*t = *state;

	tb_ip4(t, 6, 5);
	tb_tcp(t, TH_SYN, 5);
	tb_data(t, 10);
	tb_done(t);
	truncate_all(t, 40);

	memset(t, 0, sizeof(*t));
	tb_ip4(t, 6, 9);
	tb_tcp(t, TH_SYN, 11);
	tb_data(t, 3);
	tb_done(t);
	truncate_all(t, 36 + 44);
}

static void
test_packet_truncate_v6(void **state)
{
	struct tb	*t = *state;

	v6_syn(t);
	tb_data(t, 10);
	tb_done(t);
	truncate_all(t, 60);

	memset(t, 0, sizeof(*t));
	tb_ip6(t, 0);
	tb_ext6(t, 44, 1);
	tb_frag6(t, 43, 0, 1, 5);
	tb_ext6(t, 60, 0);
	tb_ext6(t, 6, 2);
	tb_tcp(t, TH_SYN, 6);
	tb_data(t, 3);
	tb_done(t);
	truncate_all(t, 40 + 16 + 8 + 8 + 24 + 24);
}

/* Deterministic noise: random bytes and bit flips of valid packets. */
static uint32_t
noise_next(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8);
}

static void
test_packet_noise(void **state)
{
	struct tb	*t = *state, c;
	struct pkt_info	 pi;
	uint32_t	 seed = 1;
	size_t		 i, j, n;
	int		 rc;

	c_v6_chain_frag(t);
	for (i = 0; i < 200000; i++) {
		c = *t;
		if (i % 2 == 0) {
			n = noise_next(&seed) % 128;
			for (j = 0; j < n; j++)
				c.b[j] = (uint8_t)noise_next(&seed);
			c.b[0] = (uint8_t)((c.b[0] & 0x0f) |
			    (noise_next(&seed) & 1 ? 0x40 : 0x60));
		} else {
			n = c.len + noise_next(&seed) % 8;
			for (j = 0; j < 3; j++)
				c.b[noise_next(&seed) % n] ^=
				    (uint8_t)(1 << noise_next(&seed) % 8);
		}
		rc = tb_parse_exact(c.b, n, &pi);
		assert_true(rc >= 0 && rc < PKT_REASON_MAX);
		if (rc != PKT_OK)
			continue;
		assert_true(pi.data_off <= pi.ip_len && pi.ip_len <= n);
		assert_true(pi.key.len == (pi.family == 4 ? 12 : 36));
	}
}

/* An ICMP error's key is the key of the client's packets of its connection. */
static void
test_packet_icmp_key(void **state)
{
	struct tb	*t = *state;
	struct pkt_info	 conn, pi;
	int		 v6;

	for (v6 = 0; v6 <= 1; v6++) {
		memset(t, 0, sizeof(*t));
		if (v6)
			v6_syn(t);
		else
			v4_syn(t);
		assert_int_equal(tb_parse_exact(t->b, t->len, &conn), PKT_OK);
		memset(t, 0, sizeof(*t));
		if (v6)
			c_v6_ptb(t);
		else
			c_v4_ptb(t);
		assert_int_equal(tb_parse_exact(t->b, t->len, &pi), PKT_OK);
		assert_true(PKT_IS_ICMP_ERR(&pi));
		assert_false(PKT_IS_SYN_ONLY(&pi));
		assert_false(PKT_IS_END(&pi));
		assert_int_equal(pi.proto, v6 ? 58 : 1);
		assert_int_equal(pi.key.len, conn.key.len);
		assert_memory_equal(pi.key.id, conn.key.id, conn.key.len);
	}
}

/*
 * UDP: the key's id is the TCP key's of the same tuple, its len carries
 * FLOW_KEY_UDP (so the two never meet in a table); a zero checksum is
 * fine; an ICMP error quoting the flow's reply gives the same UDP key.
 */
static void
test_packet_udp_key(void **state)
{
	struct tb	*t = *state;
	struct pkt_info	 tcp, udp, pi;
	int		 v6;

	for (v6 = 0; v6 <= 1; v6++) {
		memset(t, 0, sizeof(*t));
		if (v6)
			v6_syn(t);
		else
			v4_syn(t);
		assert_int_equal(tb_parse_exact(t->b, t->len, &tcp), PKT_OK);
		memset(t, 0, sizeof(*t));
		if (v6)
			c_v6_udp(t);
		else
			c_v4_udp(t);
		assert_int_equal(t->b[v6 ? 46 : 26], 0);	/* checksum 0 */
		assert_int_equal(tb_parse_exact(t->b, t->len, &udp), PKT_OK);
		assert_int_equal(udp.proto, 17);
		assert_int_equal(udp.tcp_flags, 0);
		assert_int_equal(udp.seq, 0);
		assert_false(PKT_IS_SYN_ONLY(&udp));
		assert_int_equal(udp.key.len, tcp.key.len | FLOW_KEY_UDP);
		assert_int_equal(flow_key_idlen(&udp.key), v6 ? FLOW_ID_V6 :
		    FLOW_ID_V4);
		assert_memory_equal(udp.key.id, tcp.key.id, FLOW_ID_MAX);
		assert_int_equal(PKT_DATA_LEN(&udp), v6 ? 33 : 29);
		if (v6)
			continue;
		memset(t, 0, sizeof(*t));
		c_v4_ptb_udp(t);
		assert_int_equal(tb_parse_exact(t->b, t->len, &pi), PKT_OK);
		assert_true(PKT_IS_ICMP_ERR(&pi));
		assert_int_equal(pi.key.len, udp.key.len);
		assert_memory_equal(pi.key.id, udp.key.id, FLOW_ID_MAX);
	}
}

/* Names are distinct snake_case labels; out of range is "unknown". */
static void
test_packet_reason_names(void **state)
{
	const char	*a, *b;
	int		 i, j;

	(void)state;
	for (i = 0; i < PKT_REASON_MAX; i++) {
		a = packet_reason_name(i);
		assert_non_null(a);
		assert_true(strlen(a) > 0);
		assert_true(strspn(a, "abcdefghijklmnopqrstuvwxyz_") ==
		    strlen(a));
		for (j = 0; j < i; j++) {
			b = packet_reason_name(j);
			assert_string_not_equal(a, b);
		}
	}
	assert_string_equal(packet_reason_name(PKT_OK), "ok");
	assert_string_equal(packet_reason_name(PKT_TRUNCATED), "truncated");
	assert_string_equal(packet_reason_name(PKT_BAD_IHL), "bad_ihl");
	assert_string_equal(packet_reason_name(PKT_FRAGMENT), "fragment");
	assert_string_equal(packet_reason_name(-1), "unknown");
	assert_string_equal(packet_reason_name(PKT_REASON_MAX), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_packet_table,
		    tb_setup, tb_teardown),
		cmocka_unit_test_setup_teardown(test_packet_flags,
		    tb_setup, tb_teardown),
		cmocka_unit_test_setup_teardown(test_packet_key_v4,
		    tb_setup, tb_teardown),
		cmocka_unit_test_setup_teardown(test_packet_key_v6,
		    tb_setup, tb_teardown),
		cmocka_unit_test_setup_teardown(test_packet_fragments,
		    tb_setup, tb_teardown),
		cmocka_unit_test_setup_teardown(test_packet_truncate_v4,
		    tb_setup, tb_teardown),
		cmocka_unit_test_setup_teardown(test_packet_truncate_v6,
		    tb_setup, tb_teardown),
		cmocka_unit_test_setup_teardown(test_packet_noise,
		    tb_setup, tb_teardown),
		cmocka_unit_test_setup_teardown(test_packet_icmp_key,
		    tb_setup, tb_teardown),
		cmocka_unit_test(test_packet_reason_names),
		cmocka_unit_test_setup_teardown(test_packet_udp_key,
		    tb_setup, tb_teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
