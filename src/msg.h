/* msg.h: cluster message codec and MAC (pure: buffers in, buffers out). */
#ifndef ILBD_MSG_H
#define ILBD_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "util.h"

/*
 * Every message, big-endian (ilbd-protocol(7) has the picture):
 *
 *	 0  magic "ILBD"		 4  version (1)
 *	 5  type			 6  flags (16 bits)
 *	 8  sender boot epoch (64)	16  sequence number (64)
 *	24  body length (16)		26  sender id length (4 or 16)
 *	27  sender id flags		28  sender id (16 bytes, zero padded)
 *	44  body			44 + body length: MAC (32), if MSG_F_AUTH
 */
#define MSG_MAGIC		"ILBD"
#define MSG_VERSION		1
#define MSG_HDR_LEN		44
#define MSG_MAC_LEN		32	/* crypto_auth_hmacsha512256_BYTES */
#define MSG_KEY_LEN		32	/* crypto_auth_hmacsha512256_KEYBYTES */
#define MSG_MAX_LEN		1400	/* fits an Ethernet MTU with headroom */
#define MSG_BODY_MAX		(MSG_MAX_LEN - MSG_HDR_LEN - MSG_MAC_LEN)

#define MSG_OFF_MAGIC		0
#define MSG_OFF_VERSION		4
#define MSG_OFF_TYPE		5
#define MSG_OFF_FLAGS		6
#define MSG_OFF_EPOCH		8
#define MSG_OFF_SEQ		16
#define MSG_OFF_BODYLEN		24
#define MSG_OFF_IDLEN		26
#define MSG_OFF_IDFLAGS		27
#define MSG_OFF_ID		28

#define MSG_F_AUTH		0x0001	/* a MAC follows the body */
#define MSG_F_KNOWN		(MSG_F_AUTH)
#define MSG_IDF_INDEX		0x01	/* sender id is an index (claim 6) */

/*
 * Message types.  ID, NEW, END and REFRESH travel by multicast;
 * TRANSFER, DONE and ACK on the reliable TCP channel between members.
 * MIXED carries records of any of NEW, END, ACK, TRANSFER, REFRESH and
 * DONE, each with its type: what ilbd sends today, on both paths; the
 * single-type messages are still accepted (ilbd-protocol(7)).
 */
enum msg_type {
	MSG_T_ID = 1,		/* claim 16: periodic member announcement */
	MSG_T_NEW = 2,		/* new connection records (claim 13) */
	MSG_T_END = 3,		/* end of connection records (claim 14) */
	MSG_T_ACK = 4,		/* a DONE received: struct msg_done */
	MSG_T_TRANSFER = 5,	/* transfer table records (claims 17, 18) */
	MSG_T_REFRESH = 6,	/* batched activity refreshes */
	MSG_T_DONE = 7,		/* end of a transfer table: struct msg_done */
	MSG_T_MIXED = 8,	/* typed records of any of the above but ID */
	MSG_T_ADMIN = 9,	/* cluster-wide server drain and weight */
	MSG_T_MAX = MSG_T_ADMIN,
	/*
	 * A record type only, inside MIXED on the reliable channel (never
	 * a message's type, so older members skip it as a later revision's
	 * record): a backup asks the owner for the state of the connection
	 * keyed as in END; the owner answers REFRESH or END, or nothing.
	 */
	MSG_T_PULL = 10
};

/* Why a datagram was rejected; msg_reason_name() gives counter labels. */
enum msg_reason {
	MSG_OK = 0,
	MSG_R_SHORT,		/* shorter than a header */
	MSG_R_MAGIC,		/* not "ILBD" */
	MSG_R_VERSION,		/* unknown version */
	MSG_R_TYPE,		/* unknown type */
	MSG_R_FLAGS,		/* unknown flag bits */
	MSG_R_SENDER,		/* bad sender id length or flags */
	MSG_R_LENGTH,		/* body length disagrees with the datagram */
	MSG_R_NOAUTH,		/* no MAC but this node authenticates */
	MSG_R_AUTH,		/* a MAC but this node does not authenticate */
	MSG_R_MAC,		/* MAC does not verify */
	MSG_R_BODY,		/* body malformed for its type */
	MSG_R_MAX
};

/* The ID body, 32 bytes (ilbd-protocol(7)). */
#define MSG_ID_BODY_LEN		32

/* A member's state as announced in its ID messages. */
enum msg_state {
	MSG_S_JOINING = 1,	/* waiting for transfer tables (claim 17) */
	MSG_S_ACTIVE = 2,	/* scored, owns connections */
	MSG_S_LEAVING = 3	/* handing its entries over (claim 18) */
};

/* Header fields; body_len is filled by the encoder and the decoder. */
struct msg_hdr {
	uint8_t			version;	/* MSG_VERSION */
	uint8_t			type;		/* enum msg_type */
	uint16_t		flags;		/* MSG_F_* */
	uint64_t		epoch;		/* sender boot epoch */
	uint64_t		seq;		/* per epoch, strictly increasing */
	uint16_t		body_len;
	struct member_id	sender;		/* claims 5 and 6 */
};

/* A decoded datagram: the header and a view of its body in the buffer. */
struct msg_view {
	struct msg_hdr		hdr;
	const uint8_t		*body;		/* points into the datagram */
	size_t			 len;		/* whole datagram, MAC included */
};

/* The ID message body. */
struct msg_id {
	uint8_t			scoring;	/* enum conf_scoring */
	uint8_t			state;		/* enum msg_state */
	uint16_t		members;	/* active members the sender sees */
	uint16_t		flags;		/* reserved, 0 */
	struct ilb_addr		addr;		/* for GRE handoffs and unicast */
	uint32_t		hello_ms;
	uint32_t		dead_ms;
};

/*
 * Encode one message into buf (size bytes) from hdr (version, type,
 * sender, epoch, seq; flags and body_len are set here) and body[0..blen).
 * body may point at buf + MSG_HDR_LEN (built in place).  With key (32
 * bytes) the MAC is appended and MSG_F_AUTH set; without it neither.
 * Returns the message length, or 0 if it does not fit.
 */
size_t		 msg_encode(uint8_t *, size_t, const struct msg_hdr *,
		    const uint8_t *, size_t, const uint8_t *);
/* Encode an ID message; same rules as msg_encode(). */
size_t		 msg_encode_id(uint8_t *, size_t, const struct msg_hdr *,
		    const struct msg_id *, const uint8_t *);

/*
 * Check a datagram's framing (magic, version, type, flags, sender, body
 * length against the datagram length, MAC length) and fill view.  The MAC
 * is not checked: call msg_verify().  Returns MSG_OK or a reason.
 */
enum msg_reason	 msg_decode(const uint8_t *, size_t, struct msg_view *);
/*
 * Authenticate a decoded datagram.  key NULL: this node does not
 * authenticate and rejects a message with a MAC; otherwise the message
 * must carry a MAC that verifies under key (constant time).
 */
enum msg_reason	 msg_verify(const uint8_t *, const struct msg_view *,
		    const uint8_t *);
/*
 * Key rotation (cluster.key_file_next): as msg_verify() under key, and,
 * if that MAC does not verify and next is not NULL, under next; *by_next
 * says which verified (1: next). Both are tried in constant time each.
 */
enum msg_reason	 msg_verify_next(const uint8_t *, const struct msg_view *,
		    const uint8_t *, const uint8_t *, int *);
/* Decode the body of an ID message.  Returns MSG_OK or MSG_R_BODY. */
enum msg_reason	 msg_decode_id(const struct msg_view *, struct msg_id *);

/*
 * Records inside a body (NEW, END, TRANSFER...): each is a 16-bit length
 * then that many bytes.  msg_rec_put() appends one at *off in body
 * (size bytes) and returns 0, or -1 if it does not fit; msg_rec_next()
 * steps through them: 1 with a record, 0 at the end, -1 if malformed.
 */
int		 msg_rec_put(uint8_t *, size_t, size_t *, const void *, size_t);
int		 msg_rec_next(const struct msg_view *, size_t *,
		    const uint8_t **, size_t *);

/*
 * A connection record of NEW and TRANSFER (ilbd-protocol(7)): v4 key,
 * v4 server and two v4 ids make 32 bytes, 34 with the record length;
 * 2 more with a connection tag.
 */
#define MSG_CONN_MAX		(1 + FLOW_ID_MAX + 1 + 16 + 2 * \
				    (2 + MEMBER_ID_MAX) + 2 + MSG_TAG_LEN)
#define MSG_TAG_LEN		2	/* a connection tag, after flags */
/* A v4 connection with v4 server, owner and backup, unframed. */
#define MSG_CONN_V4_LEN		32
#define MSG_CONN_STATE_MAX	2	/* CONN_CLOSING */

struct msg_conn {
	struct flow_key		key;		/* claim 4 */
	struct ilb_addr		server;		/* AF_INET or AF_INET6 */
	struct member_id	owner;		/* len 0: none */
	struct member_id	backup;		/* len 0: none */
	uint8_t			state;		/* enum conn_state, 0..2 */
	uint8_t			flags;		/* MSG_CONN_F_* */
	uint16_t		tag;		/* of the connection; 0 none */
};

/* Record flags: a NEW of a SYN its owner decided (ilbd-protocol(7)). */
#define MSG_CONN_F_FRESH	0x01
/* A tag follows the flags; set by msg_conn_put() when tag is not 0. */
#define MSG_CONN_F_TAG		0x02
/* A SYN with the tag of the closing entry it opened again. */
#define MSG_CONN_F_REOPEN	0x04

/* The body of DONE, and of the ACK that answers it. */
#define MSG_DONE_LEN		8

struct msg_done {
	uint32_t		xfer;		/* transfer number, sender's */
	uint32_t		count;		/* records in that transfer */
};

/*
 * Append one connection record at *off in body (size bytes) with
 * msg_rec_put()'s framing.  0, or -1 if it does not fit or conn is not
 * encodable (bad key, server or id length, state > 2): nothing written.
 */
int		 msg_conn_put(uint8_t *, size_t, size_t *,
		    const struct msg_conn *);
/* Decode one record from msg_rec_next(); 0, or -1 if malformed. */
int		 msg_conn_get(const uint8_t *, size_t, struct msg_conn *);
/* The END and REFRESH record: a connection key.  Same rules. */
int		 msg_key_put(uint8_t *, size_t, size_t *,
		    const struct flow_key *);
int		 msg_key_get(const uint8_t *, size_t, struct flow_key *);
/*
 * The END record with the tag of the connection it ends: the key record
 * and 2 bytes of tag, or a plain key record when the tag is 0 (unknown).
 * msg_end_get() takes either form (a plain one gives tag 0).
 */
int		 msg_end_put(uint8_t *, size_t, size_t *,
		    const struct flow_key *, uint16_t);
int		 msg_end_get(const uint8_t *, size_t, struct flow_key *,
		    uint16_t *);
/* The DONE or ACK body (8 bytes, not a record) at *off; 0 or -1. */
int		 msg_done_put(uint8_t *, size_t, size_t *,
		    const struct msg_done *);
/* From a DONE or ACK message; 0, or -1 if another type or short. */
int		 msg_done_get(const struct msg_view *, struct msg_done *);
/* From a DONE or ACK record of a MIXED message; 0, or -1 if short. */
int		 msg_done_dec(const uint8_t *, size_t, struct msg_done *);

/*
 * MIXED: a body of typed records, each a type byte (enum msg_type: NEW,
 * END, ACK, TRANSFER, REFRESH or DONE) then a record in msg_rec_put()'s
 * framing (16-bit length, the bytes): a NEW or TRANSFER record as
 * msg_conn_put() writes it, END or REFRESH as msg_end_put(), DONE or ACK
 * the 8 bytes of msg_done_put().  So one message carries what a flush
 * has for one destination, whatever the types.  msg_decode() refuses a
 * MIXED body whose framing is broken (a record past the end, a type 0,
 * ID or MIXED) with MSG_R_BODY; a type above MSG_T_MAX (a later
 * revision's) frames like the others and msg_mix_next() returns it.
 *
 * The puts append one record at *off in body (size bytes): 0, or -1 if it
 * does not fit or is not encodable (nothing written).  msg_mix_next()
 * steps through a decoded MIXED message: 1 with a record (its type, bytes
 * and length), 0 at the end, -1 if malformed.
 */
#define MSG_MIX_HDR		3	/* type and length before each record */
int		 msg_mix_conn_put(uint8_t *, size_t, size_t *, uint8_t,
		    const struct msg_conn *);
int		 msg_mix_end_put(uint8_t *, size_t, size_t *, uint8_t,
		    const struct flow_key *, uint16_t);
int		 msg_mix_done_put(uint8_t *, size_t, size_t *, uint8_t,
		    const struct msg_done *);
int		 msg_mix_next(const struct msg_view *, size_t *, uint8_t *,
		    const uint8_t **, size_t *);

/*
 * ADMIN (ilbd-protocol(7)): records in msg_rec_put()'s framing, one per
 * server whose drain or weight an operator set for the whole cluster:
 * version (64), origin member id (as in NEW), flags (MSG_ADMIN_F_*),
 * weight (16), server (family byte, 4 or 16 bytes), service name (length
 * byte 1..MSG_ADMIN_NAME_MAX, the bytes).  The highest (version, origin)
 * wins everywhere.  msg_decode() refuses an ADMIN body with a malformed
 * record (MSG_R_BODY).
 */
#define MSG_ADMIN_NAME_MAX	32	/* CONF_NAME_MAX */
#define MSG_ADMIN_F_DRAIN	0x01	/* drained says something */
#define MSG_ADMIN_F_DRAINED	0x02	/* drained (with F_DRAIN) */
#define MSG_ADMIN_F_WEIGHT	0x04	/* weight says something */
#define MSG_ADMIN_F_KNOWN	0x07
#define MSG_ADMIN_WEIGHT_MAX	1000	/* SCHED_WEIGHT_MAX */
#define MSG_ADMIN_MAX		(8 + 2 + MEMBER_ID_MAX + 1 + 2 + 1 + 16 + \
				    1 + MSG_ADMIN_NAME_MAX)

struct msg_admin {
	uint64_t		version;	/* cluster-wide order */
	struct member_id	origin;		/* who took the command */
	uint8_t			flags;		/* MSG_ADMIN_F_* */
	uint16_t		weight;		/* with MSG_ADMIN_F_WEIGHT */
	struct ilb_addr		server;
	char			service[MSG_ADMIN_NAME_MAX + 1];
};

/* Append one ADMIN record; 0, or -1 if it does not fit or is invalid. */
int		 msg_admin_put(uint8_t *, size_t, size_t *,
		    const struct msg_admin *);
/* Decode one record from msg_rec_next(); 0, or -1 if malformed. */
int		 msg_admin_get(const uint8_t *, size_t, struct msg_admin *);
/* Order of two versions: <0, 0, >0 as a is older, the same, newer. */
int		 msg_admin_cmp(const struct msg_admin *,
		    const struct msg_admin *);

const char	*msg_reason_name(enum msg_reason);
const char	*msg_type_name(unsigned int);
const char	*msg_state_name(unsigned int);
/* Member id as text: an address, or the index in decimal. */
const char	*msg_id_fmt(const struct member_id *, char *, size_t);

#endif
