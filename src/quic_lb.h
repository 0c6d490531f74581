/* quic_lb.h: QUIC-LB connection IDs and QUIC header parsing, pure. */
#ifndef ILBD_QUIC_LB_H
#define ILBD_QUIC_LB_H

#include <stddef.h>
#include <stdint.h>

/*
 * QUIC-LB, draft-ietf-quic-load-balancers-21 (the latest revision the
 * quicwg/load-balancers repository tags; its editor's copy of 2026-05
 * only edits text around unchanged formats). A server ID routed by a
 * load balancer rides in the connection IDs servers issue:
 *
 *	first octet	config rotation (3 bits, 0b111 = unroutable),
 *			CID length - 1 or random bits (5 bits)
 *	server ID	sid_len octets (>= 1)
 *	nonce		nonce_len octets (>= 4), sid_len + nonce_len <= 19
 *	(server use)	any further octets, the same count for every server
 *
 * Only the plaintext algorithm is implemented: the encrypted ones need
 * AES-128-ECB, which libsodium lacks, and OpenSSL is not a dependency
 * of ilbd; quic_lb_conf_check() refuses an encrypted configuration.
 */
#define QUIC_LB_CR_BITS		3
#define QUIC_LB_CR_MAX		6	/* 0..6 name configurations */
#define QUIC_LB_CR_UNROUTABLE	7	/* 0b111: never routable */
#define QUIC_LB_LEN_MASK	0x1f	/* self-described length - 1 */
#define QUIC_LB_SID_MIN		1
#define QUIC_LB_NONCE_MIN	4
#define QUIC_LB_PLAIN_MAX	19	/* sid_len + nonce_len */
#define QUIC_LB_SID_MAX		(QUIC_LB_PLAIN_MAX - QUIC_LB_NONCE_MIN)
#define QUIC_LB_KEY_LEN		16
#define QUIC_LB_CONF_MAX	7	/* one per rotation codepoint */

/* One QUIC-LB configuration, named by its config rotation codepoint. */
struct quic_lb_conf {
	uint8_t	cr;		/* config rotation bits, 0..6 */
	uint8_t	sid_len;	/* server ID octets */
	uint8_t	nonce_len;	/* nonce octets */
	uint8_t	len_self;	/* servers self-describe the CID length */
	int	encrypted;	/* a key is set (unsupported, see above) */
	uint8_t	key[QUIC_LB_KEY_LEN];
};

/*
 * 0 if the configurations can be used together (each valid, rotation
 * codepoints distinct); -1 with *cause set otherwise.
 */
int	quic_lb_conf_check(const struct quic_lb_conf *, size_t, char **);

/*
 * The server ID in a connection ID: copies it to sid (room for
 * QUIC_LB_SID_MAX octets), sets *sid_len and returns the index of the
 * configuration that matched. -1 when the connection ID is unroutable
 * and the caller falls back to the 4-tuple: empty, codepoint 0b111 or
 * one no configuration has, shorter than first octet + server ID +
 * nonce, or a self-described length other than the one it has (when
 * the configuration says servers self-describe). A server ID that names
 * no active server is unroutable too: the caller checks. No allocation,
 * no read outside cid[0..cidlen).
 */
int	quic_lb_decode(const struct quic_lb_conf *, size_t, const uint8_t *,
	    size_t, uint8_t *, size_t *);

/*
 * The octets of a short header's DCID to hand quic_parse(), given the
 * DCID's first octet (the packet's second): the self-described length
 * when the configuration of its rotation bits says servers self-
 * describe, else first octet + server ID + nonce (server-use octets
 * after those do not matter to routing). 0 when no configuration
 * applies: the packet goes by its 4-tuple.
 */
size_t	quic_lb_short_cidlen(const struct quic_lb_conf *, size_t, uint8_t);

/*
 * Build a connection ID for a server (servers and tests): first octet
 * (the 5 low bits are the length - 1 when the configuration
 * self-describes, low5 otherwise), sid (conf->sid_len octets), nonce
 * (conf->nonce_len octets). Returns its length, or -1 if the
 * configuration is encrypted or invalid or cid has less room.
 */
int	quic_lb_encode(const struct quic_lb_conf *, const uint8_t *,
	    const uint8_t *, uint8_t, uint8_t *, size_t);

/*
 * What a load balancer reads of a QUIC packet (RFC 8999, the version-
 * independent properties): the form, a long header's version and
 * source connection ID, and the destination connection ID, which
 * points into the packet.
 */
enum quic_form {
	QUIC_SHORT = 0,		/* 1-RTT: DCID of a length known out of band */
	QUIC_LONG = 1		/* handshake, 0-RTT, version negotiation */
};

struct quic_hdr {
	enum quic_form	 form;
	uint32_t	 version;	/* long header only */
	const uint8_t	*dcid;
	size_t		 dcid_len;
	const uint8_t	*scid;		/* long header only */
	size_t		 scid_len;
};

#define QUIC_CID_MAX_V1		20	/* RFC 9000 (and QUIC v2) */
#define QUIC_CID_MAX		255	/* RFC 8999, any version */
#define QUIC_SHORT_CID_SELF	0	/* short: self-described length */

/*
 * Parse the start of a UDP payload as QUIC. A short header's DCID has
 * short_cidlen octets, or with QUIC_SHORT_CID_SELF the length its first
 * octet describes (low 5 bits + 1). Returns 0, or -1 for a packet
 * truncated before the end of its connection IDs, or a long header of
 * QUIC version 1 or 2 with a connection ID over 20 octets. Reads nothing
 * past p[len - 1].
 */
int	quic_parse(const uint8_t *, size_t, size_t, struct quic_hdr *);

#endif /* ILBD_QUIC_LB_H */
