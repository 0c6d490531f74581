/* packet.c: pure parser of IPv4/IPv6 TCP and UDP packets into a flow key. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "be.h"
#include "flow.h"
#include "packet.h"

#define PACKET_IP4_HLEN		20
#define PACKET_IP6_HLEN		40
#define PACKET_TCP_HLEN		20
#define PACKET_UDP_HLEN		8
#define PACKET_EXT_MINLEN	8	/* smallest IPv6 extension header */
#define PACKET_ICMP_HLEN	8	/* type, code, checksum, 4 more */
#define PACKET_PORTS_LEN	8	/* TCP bytes an ICMP error must quote */

#define PACKET_ICMP_UNREACH	3	/* destination unreachable, */
#define PACKET_ICMP_NEEDFRAG	4	/* code: fragmentation needed */
#define PACKET_ICMP6_PTB	2	/* packet too big */

#define PACKET_IP4_MF		0x2000
#define PACKET_IP4_OFFMASK	0x1fff
#define PACKET_IP6_OFFMASK	0xfff8
#define PACKET_IP6_MF		0x0001

/* IPv6 next header values. */
#define PACKET_NH_HOPOPTS	0
#define PACKET_NH_ICMP		1
#define PACKET_NH_TCP		6
#define PACKET_NH_UDP		17
#define PACKET_NH_ROUTING	43
#define PACKET_NH_FRAGMENT	44
#define PACKET_NH_ESP		50
#define PACKET_NH_AH		51
#define PACKET_NH_ICMPV6	58
#define PACKET_NH_DSTOPTS	60
#define PACKET_NH_MOBILITY	135
#define PACKET_NH_HIP		139
#define PACKET_NH_SHIM6		140
#define PACKET_NH_EXP1		253
#define PACKET_NH_EXP2		254

static const char *const packet_reason_names[PKT_REASON_MAX] = {
	[PKT_OK] =		"ok",
	[PKT_TRUNCATED] =	"truncated",
	[PKT_BAD_VERSION] =	"bad_version",
	[PKT_BAD_IHL] =		"bad_ihl",
	[PKT_BAD_TOTLEN] =	"bad_totlen",
	[PKT_BAD_PLEN] =	"bad_plen",
	[PKT_BAD_TCP_OFFSET] =	"bad_tcp_offset",
	[PKT_NOT_TCP] =		"not_tcp",
	[PKT_FRAGMENT] =	"fragment",
	[PKT_BAD_EXTHDR] =	"bad_exthdr",
	[PKT_TOO_MANY_EXTHDRS] = "too_many_exthdrs",
	[PKT_UNSUPP_EXTHDR] =	"unsupported_exthdr",
	[PKT_BAD_CSUM] =	"bad_csum",
	[PKT_BAD_TCP_FLAGS] =	"bad_tcp_flags",
	[PKT_TINY_FRAGMENT] =	"tiny_fragment",
	[PKT_BAD_ICMP] =	"bad_icmp",
	[PKT_BAD_UDP_LEN] =	"bad_udp_len",
};

static int	packet_parse_v4(const uint8_t *, size_t, struct pkt_info *);
static int	packet_parse_v6(const uint8_t *, size_t, struct pkt_info *);
static int	packet_v6_walk(const uint8_t *, uint32_t, struct pkt_info *);
static int	packet_v6_opts(const uint8_t *, uint32_t, uint32_t *,
		    uint8_t *);
static int	packet_v6_frag(const uint8_t *, uint32_t, uint32_t *,
		    uint8_t *, struct pkt_info *);
static int	packet_parse_tcp(const uint8_t *, uint32_t, struct pkt_info *);
static int	packet_parse_udp(const uint8_t *, uint32_t, struct pkt_info *);
static int	packet_parse_l4(const uint8_t *, uint32_t, struct pkt_info *);
static int	packet_v4_csum_ok(const uint8_t *, uint32_t);
static int	packet_icmp4(const uint8_t *, struct pkt_info *);
static int	packet_icmp6(const uint8_t *, struct pkt_info *);
static void	packet_key(const uint8_t *, size_t, size_t, size_t,
		    struct pkt_info *);
static void	packet_key_rev(const uint8_t *, const uint8_t *,
		    const uint8_t *, size_t, struct pkt_info *);

/* Parse the IP packet buf[0..len) into pi; return PKT_OK or a reason. */
int
packet_parse(const uint8_t *buf, size_t len, struct pkt_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	if (len < 1)
		return (PKT_TRUNCATED);
	switch (buf[0] >> 4) {
	case 4:
		return (packet_parse_v4(buf, len, pi));
	case 6:
		return (packet_parse_v6(buf, len, pi));
	default:
		return (PKT_BAD_VERSION);
	}
}

/* Short snake_case name of a reason, stable for use as a counter label. */
const char *
packet_reason_name(int reason)
{
	if (reason < 0 || reason >= PKT_REASON_MAX)
		return ("unknown");
	return (packet_reason_names[reason]);
}

/* IPv4: everything is bounded by the total length, not by len. */
static int
packet_parse_v4(const uint8_t *buf, size_t len, struct pkt_info *pi)
{
	uint32_t	hlen, totlen;
	uint16_t	frag;
	int		rc;

	pi->family = 4;
	if (len < PACKET_IP4_HLEN)
		return (PKT_TRUNCATED);
	hlen = (uint32_t)(buf[0] & 0x0f) * 4;
	if (hlen < PACKET_IP4_HLEN || hlen > len)
		return (PKT_BAD_IHL);
	totlen = be16_load(buf + 2);
	if (totlen < hlen || totlen > len)
		return (PKT_BAD_TOTLEN);
	if (!packet_v4_csum_ok(buf, hlen))
		return (PKT_BAD_CSUM);

	pi->proto = buf[9];
	pi->frag_id = be16_load(buf + 4);
	pi->l4_off = hlen;
	pi->ip_len = totlen;
	pi->payload_len = totlen - hlen;
	frag = be16_load(buf + 6);
	if (pi->proto == PACKET_NH_ICMP &&
	    (frag & (PACKET_IP4_OFFMASK | PACKET_IP4_MF)) == 0)
		return (packet_icmp4(buf, pi));
	if (pi->proto != PACKET_NH_TCP && pi->proto != PACKET_NH_UDP)
		return (PKT_NOT_TCP);
	/* RFC 1858: at offset 8 a fragment could rewrite the TCP flags. */
	if ((frag & PACKET_IP4_OFFMASK) == 1 && pi->proto == PACKET_NH_TCP)
		return (PKT_TINY_FRAGMENT);
	if ((frag & PACKET_IP4_OFFMASK) != 0)
		return (PKT_FRAGMENT);
	if ((frag & PACKET_IP4_MF) != 0)
		pi->flags |= PKT_F_FIRSTFRAG;

	if ((rc = packet_parse_l4(buf, totlen, pi)) != PKT_OK)
		return (rc);
	packet_key(buf, 12, 16, 4, pi);
	return (PKT_OK);
}

/* The one's complement sum of the IPv4 header, checksum included, is ~0. */
static int
packet_v4_csum_ok(const uint8_t *buf, uint32_t hlen)
{
	uint32_t	sum = 0, i;

	for (i = 0; i < hlen; i += 2)
		sum += be16_load(buf + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (sum == 0xffff);
}

/*
 * claim 4 applied to PMTU discovery: an ICMP "fragmentation needed" names
 * the connection by the packet it quotes (a server's reply, VIP -> client),
 * so the key is that tuple reversed. The quote holds the IP header and at
 * least 8 bytes of TCP (RFC 792): the ports.
 */
static int
packet_icmp4(const uint8_t *buf, struct pkt_info *pi)
{
	const uint8_t	*ic = buf + pi->l4_off, *in, *th;
	uint32_t	 room = pi->ip_len - pi->l4_off, ihl;

	if (room < PACKET_ICMP_HLEN)
		return (PKT_TRUNCATED);
	if (ic[0] != PACKET_ICMP_UNREACH || ic[1] != PACKET_ICMP_NEEDFRAG)
		return (PKT_NOT_TCP);
	in = ic + PACKET_ICMP_HLEN;
	room -= PACKET_ICMP_HLEN;
	if (room < PACKET_IP4_HLEN || (in[0] >> 4) != 4)
		return (PKT_BAD_ICMP);
	ihl = (uint32_t)(in[0] & 0x0f) * 4;
	if (ihl < PACKET_IP4_HLEN || room < ihl + PACKET_PORTS_LEN ||
	    (in[9] != PACKET_NH_TCP && in[9] != PACKET_NH_UDP) ||
	    (be16_load(in + 6) & PACKET_IP4_OFFMASK) != 0 ||
	    memcmp(in + 12, buf + 16, 4) != 0)
		return (PKT_BAD_ICMP);
	th = in + ihl;
	pi->flags |= PKT_F_ICMP_ERR;
	pi->data_off = pi->ip_len;
	packet_key_rev(th, in + 12, in + 16, 4, pi);
	if (in[9] == PACKET_NH_UDP)
		pi->key.len |= FLOW_KEY_UDP;
	return (PKT_OK);
}

/* IPv6: the payload length bounds the walk; trailing bytes are ignored. */
static int
packet_parse_v6(const uint8_t *buf, size_t len, struct pkt_info *pi)
{
	uint32_t	plen;
	int		rc;

	pi->family = 6;
	if (len < PACKET_IP6_HLEN)
		return (PKT_TRUNCATED);
	plen = be16_load(buf + 4);
	if (plen > len - PACKET_IP6_HLEN)
		return (PKT_BAD_PLEN);
	pi->ip_len = PACKET_IP6_HLEN + plen;
	pi->payload_len = plen;

	if ((rc = packet_v6_walk(buf, pi->ip_len, pi)) != PKT_OK)
		return (rc);
	if (pi->proto == PACKET_NH_ICMPV6)
		return (packet_icmp6(buf, pi));
	if ((rc = packet_parse_l4(buf, pi->ip_len, pi)) != PKT_OK)
		return (rc);
	packet_key(buf, 8, 24, 16, pi);
	return (PKT_OK);
}

/*
 * ICMPv6 "packet too big", as packet_icmp4(): the quoted packet is walked
 * like any (its payload length may exceed what was quoted: the quote's
 * end bounds the walk); it must be TCP, unfragmented or a first fragment.
 */
static int
packet_icmp6(const uint8_t *buf, struct pkt_info *pi)
{
	const uint8_t	*ic = buf + pi->l4_off, *in;
	struct pkt_info	 q;
	uint32_t	 room = pi->ip_len - pi->l4_off;

	if (room < PACKET_ICMP_HLEN)
		return (PKT_TRUNCATED);
	if (ic[0] != PACKET_ICMP6_PTB)
		return (PKT_NOT_TCP);
	in = ic + PACKET_ICMP_HLEN;
	room -= PACKET_ICMP_HLEN;
	if (room < PACKET_IP6_HLEN || (in[0] >> 4) != 6)
		return (PKT_BAD_ICMP);
	memset(&q, 0, sizeof(q));
	if (packet_v6_walk(in, room, &q) != PKT_OK ||
	    (q.proto != PACKET_NH_TCP && q.proto != PACKET_NH_UDP) ||
	    room - q.l4_off < PACKET_PORTS_LEN ||
	    memcmp(in + 8, buf + 24, 16) != 0)
		return (PKT_BAD_ICMP);
	pi->flags |= PKT_F_ICMP_ERR;
	pi->data_off = pi->ip_len;
	packet_key_rev(in + q.l4_off, in + 8, in + 24, 16, pi);
	if (q.proto == PACKET_NH_UDP)
		pi->key.len |= FLOW_KEY_UDP;
	return (PKT_OK);
}

/* Walk the IPv6 extension headers up to TCP; set pi->l4_off and proto. */
static int
packet_v6_walk(const uint8_t *buf, uint32_t end, struct pkt_info *pi)
{
	uint32_t	off = PACKET_IP6_HLEN;
	uint8_t		nh = buf[6];
	int		n, rc, nfrag = 0;

	for (n = 0;; n++) {
		pi->proto = nh;
		switch (nh) {
		case PACKET_NH_TCP:
		case PACKET_NH_UDP:
		case PACKET_NH_ICMPV6:
			pi->l4_off = off;
			return (PKT_OK);
		case PACKET_NH_HOPOPTS:
		case PACKET_NH_ROUTING:
		case PACKET_NH_DSTOPTS:
		case PACKET_NH_FRAGMENT:
			break;
		case PACKET_NH_ESP:
		case PACKET_NH_AH:
		case PACKET_NH_MOBILITY:
		case PACKET_NH_HIP:
		case PACKET_NH_SHIM6:
		case PACKET_NH_EXP1:
		case PACKET_NH_EXP2:
			return (PKT_UNSUPP_EXTHDR);
		default:
			return (PKT_NOT_TCP);
		}
		if (n == PKT_EXTHDR_MAX)
			return (PKT_TOO_MANY_EXTHDRS);
		/* RFC 8200 4.1: hop-by-hop only first; one fragment header. */
		if (nh == PACKET_NH_HOPOPTS && n != 0)
			return (PKT_BAD_EXTHDR);
		if (nh == PACKET_NH_FRAGMENT) {
			if (nfrag++ != 0)
				return (PKT_BAD_EXTHDR);
			rc = packet_v6_frag(buf, end, &off, &nh, pi);
		} else
			rc = packet_v6_opts(buf, end, &off, &nh);
		if (rc != PKT_OK)
			return (rc);
	}
}

/* Skip a hop-by-hop, routing or destination options header at *off. */
static int
packet_v6_opts(const uint8_t *buf, uint32_t end, uint32_t *off, uint8_t *nh)
{
	uint32_t	hlen;

	if (end - *off < PACKET_EXT_MINLEN)
		return (PKT_TRUNCATED);
	hlen = ((uint32_t)buf[*off + 1] + 1) * 8;
	if (hlen > end - *off)
		return (PKT_BAD_EXTHDR);
	*nh = buf[*off];
	*off += hlen;
	return (PKT_OK);
}

/* Read a fragment header at *off; a later fragment is PKT_FRAGMENT. */
static int
packet_v6_frag(const uint8_t *buf, uint32_t end, uint32_t *off, uint8_t *nh,
    struct pkt_info *pi)
{
	const uint8_t	*fh = buf + *off;
	uint16_t	 fo;

	if (end - *off < PACKET_EXT_MINLEN)
		return (PKT_TRUNCATED);
	fo = be16_load(fh + 2);
	*nh = fh[0];
	*off += PACKET_EXT_MINLEN;
	pi->frag_id = be32_load(fh + 4);
	if ((fo & PACKET_IP6_OFFMASK) != 0) {
		pi->proto = fh[0];
		pi->l4_off = *off;
		if ((fo >> 3) == 1 && fh[0] == PACKET_NH_TCP)
			return (PKT_TINY_FRAGMENT);	/* RFC 1858 */
		return (PKT_FRAGMENT);
	}
	if ((fo & PACKET_IP6_MF) != 0)
		pi->flags |= PKT_F_FIRSTFRAG;
	return (PKT_OK);
}

/*
 * Check the TCP header at pi->l4_off within end; read its flags. A first
 * fragment that cuts the header short is refused (RFC 1858): its later
 * fragments could rewrite the flags the decision saw. Flags no TCP sends
 * (SYN with FIN or RST, none of SYN ACK FIN RST) are refused too.
 */
static int
packet_parse_tcp(const uint8_t *buf, uint32_t end, struct pkt_info *pi)
{
	const uint8_t	*th = buf + pi->l4_off;
	uint32_t	 room = end - pi->l4_off, doff;

	uint8_t		 fl;

	if (room < PACKET_TCP_HLEN)
		return (PKT_IS_FIRSTFRAG(pi) ? PKT_TINY_FRAGMENT :
		    PKT_TRUNCATED);
	doff = (uint32_t)(th[12] >> 4) * 4;
	if (doff < PACKET_TCP_HLEN)
		return (PKT_BAD_TCP_OFFSET);
	if (doff > room)
		return (PKT_IS_FIRSTFRAG(pi) ? PKT_TINY_FRAGMENT :
		    PKT_BAD_TCP_OFFSET);
	fl = th[13];
	if ((fl & PKT_TH_SYN) != 0 ? (fl & (PKT_TH_FIN | PKT_TH_RST)) != 0 :
	    (fl & (PKT_TH_ACK | PKT_TH_FIN | PKT_TH_RST)) == 0)
		return (PKT_BAD_TCP_FLAGS);
	pi->tcp_flags = fl;
	pi->seq = be32_load(th + 4);
	pi->data_off = pi->l4_off + doff;
	return (PKT_OK);
}

/* The transport header at pi->l4_off within end: TCP or UDP. */
static int
packet_parse_l4(const uint8_t *buf, uint32_t end, struct pkt_info *pi)
{
	if (pi->proto == PACKET_NH_UDP)
		return (packet_parse_udp(buf, end, pi));
	return (packet_parse_tcp(buf, end, pi));
}

/*
 * Check the UDP header at pi->l4_off within end. Its length must be what
 * the IP header says is left (RFC 768), unless this is a first fragment,
 * whose datagram goes on in later ones; a zero checksum (none, IPv4) is
 * the sender's right and is not checked anyway: the server checks it.
 */
static int
packet_parse_udp(const uint8_t *buf, uint32_t end, struct pkt_info *pi)
{
	const uint8_t	*uh = buf + pi->l4_off;
	uint32_t	 room = end - pi->l4_off, ulen;

	if (room < PACKET_UDP_HLEN)
		return (PKT_IS_FIRSTFRAG(pi) ? PKT_TINY_FRAGMENT :
		    PKT_TRUNCATED);
	ulen = be16_load(uh + 4);
	if (ulen < PACKET_UDP_HLEN ||
	    (PKT_IS_FIRSTFRAG(pi) ? ulen < room : ulen != room))
		return (PKT_BAD_UDP_LEN);
	pi->data_off = pi->l4_off + PACKET_UDP_HLEN;
	pi->udp_data = buf + pi->data_off;
	return (PKT_OK);
}

/*
 * claim 4: the connection id is TCP destination port, IP destination
 * address, TCP source port, IP source address, all in network order;
 * pi->key was zeroed by packet_parse(), so bytes past key.len stay zero.
 */
static void
packet_key(const uint8_t *buf, size_t saddr, size_t daddr, size_t alen,
    struct pkt_info *pi)
{
	const uint8_t	*th = buf + pi->l4_off;
	uint8_t		*id = pi->key.id;

	memcpy(id, th + 2, 2);
	memcpy(id + 2, buf + daddr, alen);
	memcpy(id + 2 + alen, th, 2);
	memcpy(id + 4 + alen, buf + saddr, alen);
	pi->key.len = (uint8_t)(4 + 2 * alen);
	if (pi->proto == PACKET_NH_UDP)
		pi->key.len |= FLOW_KEY_UDP;
}

/*
 * The key of a connection from a quoted reply: th holds the reply's ports
 * (source = the VIP's port), src its source (the VIP), dst the client.
 */
static void
packet_key_rev(const uint8_t *th, const uint8_t *src, const uint8_t *dst,
    size_t alen, struct pkt_info *pi)
{
	uint8_t		*id = pi->key.id;

	memcpy(id, th, 2);
	memcpy(id + 2, src, alen);
	memcpy(id + 2 + alen, th + 2, 2);
	memcpy(id + 4 + alen, dst, alen);
	pi->key.len = (uint8_t)(4 + 2 * alen);
}
