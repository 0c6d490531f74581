/* test_msg.c: cluster message codec: layout, round trips, every rejection. */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "msg.h"

#define ID_LEN	(MSG_HDR_LEN + MSG_ID_BODY_LEN)		/* 76 */
#define ID_AUTH	(ID_LEN + MSG_MAC_LEN)			/* 108 */

static uint8_t	key[MSG_KEY_LEN], key2[MSG_KEY_LEN];

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() == -1)
		return (-1);
	memset(key, 0x42, sizeof(key));
	memset(key2, 0x43, sizeof(key2));
	return (0);
}

/* Index id 3, epoch and seq with distinct bytes, ID body for 192.0.2.11. */
static void
fixture(struct msg_hdr *h, struct msg_id *id)
{
	memset(h, 0, sizeof(*h));
	h->version = MSG_VERSION;
	h->type = MSG_T_ID;
	h->epoch = 0x0102030405060708ULL;
	h->seq = 0x1112131415161718ULL;
	h->sender.len = 4;
	h->sender.is_index = 1;
	h->sender.b[3] = 3;
	memset(id, 0, sizeof(*id));
	id->scoring = 0;
	id->state = MSG_S_ACTIVE;
	id->members = 0x0203;
	assert_int_equal(util_addr_parse("192.0.2.11", &id->addr), 0);
	id->hello_ms = 200;
	id->dead_ms = 1000;
}

static size_t
encode(uint8_t *buf, size_t size, const uint8_t *k)
{
	struct msg_hdr	h;
	struct msg_id	id;

	fixture(&h, &id);
	return (msg_encode_id(buf, size, &h, &id, k));
}

/* Decode then verify, as the daemon does. */
static enum msg_reason
check(const uint8_t *buf, size_t len, const uint8_t *k, struct msg_view *v)
{
	enum msg_reason	r;

	if ((r = msg_decode(buf, len, v)) != MSG_OK)
		return (r);
	return (msg_verify(buf, v, k));
}

static void
test_layout(void **state)
{
	static const uint8_t want_hdr[MSG_HDR_LEN] = {
	    'I', 'L', 'B', 'D', 1, 1, 0x00, 0x01,
	    1, 2, 3, 4, 5, 6, 7, 8,
	    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
	    0, 32, 4, 1,
	    0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t want_body[MSG_ID_BODY_LEN] = {
	    0, 2, 0x02, 0x03, 0, 0, 4, 0,
	    192, 0, 2, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 200, 0, 0, 0x03, 0xe8 };
	uint8_t		buf[MSG_MAX_LEN], mac[MSG_MAC_LEN];

	(void)state;
	assert_int_equal(encode(buf, sizeof(buf), key), ID_AUTH);
	assert_memory_equal(buf, want_hdr, MSG_HDR_LEN);
	assert_memory_equal(buf + MSG_HDR_LEN, want_body, MSG_ID_BODY_LEN);
	assert_int_equal(buf[MSG_OFF_VERSION], 1);
	assert_int_equal(buf[MSG_OFF_TYPE], MSG_T_ID);
	assert_int_equal(buf[MSG_OFF_IDLEN], 4);
	crypto_auth_hmacsha512256(mac, buf, ID_LEN, key);
	assert_memory_equal(buf + ID_LEN, mac, MSG_MAC_LEN);
	/* Without a key: flags 0 and no MAC. */
	assert_int_equal(encode(buf, sizeof(buf), NULL), ID_LEN);
	assert_int_equal(buf[MSG_OFF_FLAGS], 0);
	assert_int_equal(buf[MSG_OFF_FLAGS + 1], 0);
	assert_memory_equal(buf + MSG_HDR_LEN, want_body, MSG_ID_BODY_LEN);
}

static void
test_roundtrip(void **state)
{
	uint8_t		buf[MSG_MAX_LEN];
	struct msg_hdr	h;
	struct msg_id	id, got;
	struct msg_view	v;
	size_t		len;

	(void)state;
	fixture(&h, &id);
	h.sender.is_index = 0;
	h.sender.len = 16;
	memset(h.sender.b, 0x20, 16);
	assert_int_equal(util_addr_parse("2001:db8::7", &id.addr), 0);
	id.state = MSG_S_JOINING;
	id.scoring = 2;
	len = msg_encode_id(buf, sizeof(buf), &h, &id, key);
	assert_int_equal(len, ID_AUTH);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(v.hdr.type, MSG_T_ID);
	assert_int_equal(v.hdr.flags, MSG_F_AUTH);
	assert_true(v.hdr.epoch == h.epoch);
	assert_true(v.hdr.seq == h.seq);
	assert_int_equal(v.hdr.body_len, MSG_ID_BODY_LEN);
	assert_memory_equal(&v.hdr.sender, &h.sender, sizeof(h.sender));
	assert_int_equal(msg_decode_id(&v, &got), MSG_OK);
	assert_memory_equal(&got, &id, sizeof(id));
	/* Unauthenticated cluster. */
	len = msg_encode_id(buf, sizeof(buf), &h, &id, NULL);
	assert_int_equal(check(buf, len, NULL, &v), MSG_OK);
	assert_int_equal(msg_decode_id(&v, &got), MSG_OK);
	assert_memory_equal(&got, &id, sizeof(id));
}

static void
test_truncated(void **state)
{
	uint8_t		buf[MSG_MAX_LEN];
	struct msg_view	v;
	size_t		len, i;

	(void)state;
	len = encode(buf, sizeof(buf), key);
	for (i = 0; i < len; i++)
		assert_int_equal(check(buf, i, key, &v),
		    i < MSG_HDR_LEN ? MSG_R_SHORT : MSG_R_LENGTH);
	/* One byte too many. */
	buf[len] = 0;
	assert_int_equal(check(buf, len + 1, key, &v), MSG_R_LENGTH);
	/* Body length field off by one either way. */
	buf[MSG_OFF_BODYLEN + 1]++;
	assert_int_equal(check(buf, len, key, &v), MSG_R_LENGTH);
	buf[MSG_OFF_BODYLEN + 1] -= 2;
	assert_int_equal(check(buf, len, key, &v), MSG_R_LENGTH);
}

static void
test_bitflip(void **state)
{
	uint8_t		buf[MSG_MAX_LEN];
	struct msg_view	v;
	size_t		len, i;
	int		bit;
	enum msg_reason	r;

	(void)state;
	len = encode(buf, sizeof(buf), key);
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1 << bit);
			r = check(buf, len, key, &v);
			assert_int_not_equal(r, MSG_OK);
			/* Fields the framing cannot judge: only the MAC. */
			if ((i >= MSG_OFF_EPOCH && i < MSG_OFF_BODYLEN) ||
			    (i >= MSG_OFF_ID && i < MSG_OFF_ID + 4) ||
			    i >= MSG_HDR_LEN)
				assert_int_equal(r, MSG_R_MAC);
			buf[i] ^= (uint8_t)(1 << bit);
		}
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
}

static void
test_bad_header(void **state)
{
	uint8_t		buf[MSG_MAX_LEN];
	struct msg_view	v;
	size_t		len;
	unsigned int	t;

	(void)state;
	len = encode(buf, sizeof(buf), key);
	buf[0] = 'X';
	assert_int_equal(msg_decode(buf, len, &v), MSG_R_MAGIC);
	buf[0] = 'I';
	buf[MSG_OFF_VERSION] = 2;
	assert_int_equal(msg_decode(buf, len, &v), MSG_R_VERSION);
	buf[MSG_OFF_VERSION] = 0;
	assert_int_equal(msg_decode(buf, len, &v), MSG_R_VERSION);
	buf[MSG_OFF_VERSION] = MSG_VERSION;
	for (t = 0; t < 256; t++) {
		buf[MSG_OFF_TYPE] = (uint8_t)t;
		assert_int_equal(msg_decode(buf, len, &v),
		    t == MSG_T_MIXED || t == MSG_T_ADMIN ? MSG_R_BODY :
		    /* an ID body is neither MIXED nor ADMIN framing */
		    t >= MSG_T_ID && t <= MSG_T_MAX ? MSG_OK : MSG_R_TYPE);
	}
	buf[MSG_OFF_TYPE] = MSG_T_ID;
	buf[MSG_OFF_FLAGS] = 0x80;
	assert_int_equal(msg_decode(buf, len, &v), MSG_R_FLAGS);
	buf[MSG_OFF_FLAGS] = 0;
	buf[MSG_OFF_IDLEN] = 5;
	assert_int_equal(msg_decode(buf, len, &v), MSG_R_SENDER);
	buf[MSG_OFF_IDLEN] = 16;	/* index flag with 16 bytes */
	assert_int_equal(msg_decode(buf, len, &v), MSG_R_SENDER);
	buf[MSG_OFF_IDLEN] = 4;
	buf[MSG_OFF_IDFLAGS] = 0x02;
	assert_int_equal(msg_decode(buf, len, &v), MSG_R_SENDER);
	buf[MSG_OFF_IDFLAGS] = MSG_IDF_INDEX;
	buf[MSG_OFF_ID + 4] = 1;	/* padding must be zero */
	assert_int_equal(msg_decode(buf, len, &v), MSG_R_SENDER);
	buf[MSG_OFF_ID + 4] = 0;
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
}

static void
test_auth_mismatch(void **state)
{
	uint8_t		buf[MSG_MAX_LEN];
	struct msg_view	v;
	size_t		len;

	(void)state;
	len = encode(buf, sizeof(buf), key);
	assert_int_equal(check(buf, len, NULL, &v), MSG_R_AUTH);
	assert_int_equal(check(buf, len, key2, &v), MSG_R_MAC);
	len = encode(buf, sizeof(buf), NULL);
	assert_int_equal(check(buf, len, key, &v), MSG_R_NOAUTH);
	/* Setting the flag on an unauthenticated message breaks framing. */
	buf[MSG_OFF_FLAGS + 1] = MSG_F_AUTH;
	assert_int_equal(check(buf, len, key, &v), MSG_R_LENGTH);
}

/*
 * msg.c keeps the HMAC state of the last key: alternating keys (a reload)
 * must each give libsodium's one-shot MAC, and each check its own.
 */
static void
test_auth_key_change(void **state)
{
	uint8_t		buf[MSG_MAX_LEN], buf2[MSG_MAX_LEN];
	uint8_t		mac[crypto_auth_hmacsha512256_BYTES];
	struct msg_view	v;
	size_t		len, len2;
	int		i;

	(void)state;
	for (i = 0; i < 3; i++) {
		len = encode(buf, sizeof(buf), key);
		len2 = encode(buf2, sizeof(buf2), key2);
		assert_int_equal(len, len2);
		crypto_auth_hmacsha512256(mac, buf, len - MSG_MAC_LEN, key);
		assert_memory_equal(buf + len - MSG_MAC_LEN, mac, sizeof(mac));
		crypto_auth_hmacsha512256(mac, buf2, len2 - MSG_MAC_LEN, key2);
		assert_memory_equal(buf2 + len2 - MSG_MAC_LEN, mac,
		    sizeof(mac));
		assert_int_equal(check(buf, len, key2, &v), MSG_R_MAC);
		assert_int_equal(check(buf, len, key, &v), MSG_OK);
		assert_int_equal(check(buf2, len2, key, &v), MSG_R_MAC);
		assert_int_equal(check(buf2, len2, key2, &v), MSG_OK);
	}
}

/* Build a message of type with a raw body. */
static size_t
raw(uint8_t *buf, size_t size, uint8_t type, const uint8_t *body,
    size_t blen)
{
	struct msg_hdr	h;
	struct msg_id	id;

	fixture(&h, &id);
	h.type = type;
	return (msg_encode(buf, size, &h, body, blen, key));
}

static void
test_id_body(void **state)
{
	uint8_t		buf[MSG_MAX_LEN], body[64];
	struct msg_view	v;
	struct msg_id	id;
	size_t		len;

	(void)state;
	len = encode(buf, sizeof(buf), NULL);
	memcpy(body, buf + MSG_HDR_LEN, MSG_ID_BODY_LEN);
	/* Short body. */
	len = raw(buf, sizeof(buf), MSG_T_ID, body, MSG_ID_BODY_LEN - 1);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(msg_decode_id(&v, &id), MSG_R_BODY);
	/* Longer body (a later revision): accepted. */
	memset(body + MSG_ID_BODY_LEN, 0xaa, 8);
	len = raw(buf, sizeof(buf), MSG_T_ID, body, MSG_ID_BODY_LEN + 8);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(msg_decode_id(&v, &id), MSG_OK);
	assert_int_equal(id.dead_ms, 1000);
	/* Bad state, bad family. */
	body[1] = 0;
	len = raw(buf, sizeof(buf), MSG_T_ID, body, MSG_ID_BODY_LEN);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(msg_decode_id(&v, &id), MSG_R_BODY);
	body[1] = 4;
	len = raw(buf, sizeof(buf), MSG_T_ID, body, MSG_ID_BODY_LEN);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(msg_decode_id(&v, &id), MSG_R_BODY);
	body[1] = MSG_S_ACTIVE;
	body[6] = 5;
	len = raw(buf, sizeof(buf), MSG_T_ID, body, MSG_ID_BODY_LEN);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(msg_decode_id(&v, &id), MSG_R_BODY);
	/* A body of another type is not an ID body. */
	body[6] = 4;
	len = raw(buf, sizeof(buf), MSG_T_NEW, body, MSG_ID_BODY_LEN);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(msg_decode_id(&v, &id), MSG_R_BODY);
}

static void
test_encode_limits(void **state)
{
	uint8_t		buf[MSG_MAX_LEN + 64];
	struct msg_view	v;
	size_t		len;

	(void)state;
	assert_int_equal(encode(buf, ID_AUTH - 1, key), 0);
	assert_int_equal(encode(buf, ID_LEN - 1, NULL), 0);
	assert_int_equal(encode(buf, ID_AUTH, key), ID_AUTH);
	assert_int_equal(raw(buf, sizeof(buf), MSG_T_END, NULL, 0),
	    MSG_HDR_LEN + MSG_MAC_LEN);
	len = raw(buf, sizeof(buf), MSG_T_END, buf + MSG_HDR_LEN,
	    MSG_BODY_MAX);
	assert_int_equal(len, MSG_MAX_LEN);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(raw(buf, sizeof(buf), MSG_T_END, buf + MSG_HDR_LEN,
	    MSG_BODY_MAX + 1), 0);
}

static void
test_records(void **state)
{
	uint8_t		buf[MSG_MAX_LEN], *body = buf + MSG_HDR_LEN;
	const uint8_t	*rec;
	struct msg_view	v;
	size_t		off = 0, len, rlen;
	int		i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_int_equal(msg_rec_put(body, 64, &off, "abcdefghij",
		    (size_t)(i * 4)), 0);
	assert_int_equal(off, 2 + 2 + 4 + 2 + 8);
	assert_int_equal(msg_rec_put(body, off + 3, &off, "abcd", 2), -1);
	len = raw(buf, sizeof(buf), MSG_T_NEW, body, off);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	off = 0;
	for (i = 0; i < 3; i++) {
		assert_int_equal(msg_rec_next(&v, &off, &rec, &rlen), 1);
		assert_int_equal(rlen, (size_t)(i * 4));
		assert_memory_equal(rec, "abcdefghij", rlen);
	}
	assert_int_equal(msg_rec_next(&v, &off, &rec, &rlen), 0);
	/* A record running past the body. */
	body[0] = 0;
	body[1] = 200;
	len = raw(buf, sizeof(buf), MSG_T_NEW, body, 10);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	off = 0;
	assert_int_equal(msg_rec_next(&v, &off, &rec, &rlen), -1);
	/* A lone length byte. */
	len = raw(buf, sizeof(buf), MSG_T_NEW, body, 1);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	off = 0;
	assert_int_equal(msg_rec_next(&v, &off, &rec, &rlen), -1);
}

/* A v4 connection owned by 10.0.0.1, backed up by 10.0.0.2. */
static void
conn4(struct msg_conn *c)
{
	static const uint8_t	id[FLOW_ID_V4] = { 0, 80, 198, 51, 100, 10,
				    0x9c, 0x40, 203, 0, 113, 7 };

	memset(c, 0, sizeof(*c));
	c->key.len = FLOW_ID_V4;
	memcpy(c->key.id, id, sizeof(id));
	assert_int_equal(util_addr_parse("192.0.2.21", &c->server), 0);
	c->owner.len = 4;
	c->owner.b[0] = 10;
	c->owner.b[3] = 1;
	c->backup = c->owner;
	c->backup.b[3] = 2;
	c->state = 1;
	c->flags = 0xa5;
}

/* Put one record into a body, frame it, read it back with msg_rec_next. */
static void
conn_roundtrip(const struct msg_conn *c, size_t want_len)
{
	uint8_t		 buf[MSG_MAX_LEN], *body = buf + MSG_HDR_LEN;
	const uint8_t	*rec;
	struct msg_view	 v;
	struct msg_conn	 got;
	size_t		 off = 0, rlen, len;

	assert_int_equal(msg_conn_put(body, MSG_BODY_MAX, &off, c), 0);
	assert_int_equal(off, 2 + want_len);
	len = raw(buf, sizeof(buf), MSG_T_NEW, body, off);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	off = 0;
	assert_int_equal(msg_rec_next(&v, &off, &rec, &rlen), 1);
	assert_int_equal(rlen, want_len);
	assert_int_equal(msg_conn_get(rec, rlen, &got), 0);
	assert_memory_equal(&got, c, sizeof(got));
	assert_int_equal(msg_rec_next(&v, &off, &rec, &rlen), 0);
}

static void
test_conn_roundtrip(void **state)
{
	static const uint8_t	want[MSG_CONN_V4_LEN] = {
	    12, 0, 80, 198, 51, 100, 10, 0x9c, 0x40, 203, 0, 113, 7,
	    4, 192, 0, 2, 21,
	    4, 0, 10, 0, 0, 1,
	    4, 0, 10, 0, 0, 2,
	    1, 0xa5 };
	uint8_t		body[128];
	struct msg_conn	c;
	size_t		off = 0;
	int		i;

	(void)state;
	conn4(&c);
	/* The documented layout, byte by byte. */
	assert_int_equal(msg_conn_put(body, sizeof(body), &off, &c), 0);
	assert_int_equal(off, 2 + MSG_CONN_V4_LEN);
	assert_int_equal(body[0], 0);
	assert_int_equal(body[1], MSG_CONN_V4_LEN);
	assert_memory_equal(body + 2, want, sizeof(want));
	conn_roundtrip(&c, MSG_CONN_V4_LEN);
	/* No backup (a one-member cluster). */
	memset(&c.backup, 0, sizeof(c.backup));
	conn_roundtrip(&c, MSG_CONN_V4_LEN - 4);
	/* Index ids (claim 6), every state. */
	memset(&c.owner, 0, sizeof(c.owner));
	c.owner.len = 4;
	c.owner.is_index = 1;
	c.owner.b[3] = 7;
	c.backup = c.owner;
	c.backup.b[3] = 9;
	for (i = 0; i <= MSG_CONN_STATE_MAX; i++) {
		c.state = (uint8_t)i;
		conn_roundtrip(&c, MSG_CONN_V4_LEN);
	}
	/* IPv6 key, server and ids: the largest record. */
	c.key.len = FLOW_ID_V6;
	for (i = 0; i < FLOW_ID_V6; i++)
		c.key.id[i] = (uint8_t)(i + 1);
	assert_int_equal(util_addr_parse("2001:db8::21", &c.server), 0);
	c.owner.len = c.backup.len = 16;
	c.owner.is_index = c.backup.is_index = 0;
	c.owner.b[0] = c.backup.b[0] = 0x20;
	conn_roundtrip(&c, MSG_CONN_MAX - MSG_TAG_LEN);
	/* ... with a connection tag. */
	c.flags |= MSG_CONN_F_TAG;
	c.tag = 0xbeef;
	conn_roundtrip(&c, MSG_CONN_MAX);
	c.flags &= (uint8_t)~MSG_CONN_F_TAG;
	c.tag = 0;
	/* No owner either (not sent by ilbd, but encodable). */
	memset(&c.owner, 0, sizeof(c.owner));
	memset(&c.backup, 0, sizeof(c.backup));
	conn_roundtrip(&c, MSG_CONN_MAX - MSG_TAG_LEN - 32);
}

/* Records that must be refused, built from the v4 layout. */
static void
test_conn_malformed(void **state)
{
	uint8_t		r[MSG_CONN_MAX + 8], body[128];
	struct msg_conn	c, got;
	size_t		off = 0, len;

	(void)state;
	conn4(&c);
	assert_int_equal(msg_conn_put(body, sizeof(body), &off, &c), 0);
	len = off - 2;
	memcpy(r, body + 2, len);
	assert_int_equal(msg_conn_get(r, len, &got), 0);
	/* Every truncation, and a byte too many. */
	for (off = 0; off < len; off++)
		assert_int_equal(msg_conn_get(r, off, &got), -1);
	r[len] = 0;
	assert_int_equal(msg_conn_get(r, len + 1, &got), -1);
#define BAD(at, val) do {						\
	uint8_t	saved = r[at];						\
	r[at] = (val);							\
	assert_int_equal(msg_conn_get(r, len, &got), -1);		\
	r[at] = saved;							\
} while (0)
	BAD(0, 0);		/* key length 0 */
	BAD(0, 11);		/* key length not 12 or 36 */
	BAD(0, 36);		/* v6 key length, v4 record */
	BAD(13, 0);		/* server family none */
	BAD(13, 5);		/* server family unknown */
	BAD(13, 6);		/* v6 server, v4 record: too short */
	BAD(18, 3);		/* owner id length 3 */
	BAD(18, 16);		/* owner id length 16, record too short */
	BAD(19, 0x02);		/* unknown id flag */
	BAD(24, 5);		/* backup id length 5 */
	BAD(25, 0x80);		/* unknown id flag */
	BAD(30, 3);		/* state past closing */
	BAD(30, 0xff);
#undef BAD
	/* An index id must be 4 bytes; none has no flags. */
	r[18] = 16;
	r[19] = MSG_IDF_INDEX;
	assert_int_equal(msg_conn_get(r, len, &got), -1);
	conn4(&c);
	memset(&c.backup, 0, sizeof(c.backup));
	off = 0;
	assert_int_equal(msg_conn_put(body, sizeof(body), &off, &c), 0);
	body[2 + 25] = MSG_IDF_INDEX;
	assert_int_equal(msg_conn_get(body + 2, off - 2, &got), -1);
	body[2 + 25] = 0;
	assert_int_equal(msg_conn_get(body + 2, off - 2, &got), 0);
}

/* What cannot be encoded is refused, and nothing is written. */
static void
test_conn_put_refuses(void **state)
{
	uint8_t		body[128];
	struct msg_conn	c;
	size_t		off = 5, i;

	(void)state;
	memset(body, 0xee, sizeof(body));
	conn4(&c);
	c.key.len = 13;
	assert_int_equal(msg_conn_put(body, sizeof(body), &off, &c), -1);
	conn4(&c);
	c.server.family = 0;
	assert_int_equal(msg_conn_put(body, sizeof(body), &off, &c), -1);
	conn4(&c);
	c.owner.len = 5;
	assert_int_equal(msg_conn_put(body, sizeof(body), &off, &c), -1);
	conn4(&c);
	c.backup.len = 16;
	c.backup.is_index = 1;
	assert_int_equal(msg_conn_put(body, sizeof(body), &off, &c), -1);
	conn4(&c);
	c.state = 3;
	assert_int_equal(msg_conn_put(body, sizeof(body), &off, &c), -1);
	/* One byte short of room. */
	conn4(&c);
	assert_int_equal(msg_conn_put(body, 5 + 2 + MSG_CONN_V4_LEN - 1, &off,
	    &c), -1);
	/* An offset past the end. */
	off = sizeof(body) + 1;
	assert_int_equal(msg_conn_put(body, sizeof(body), &off, &c), -1);
	assert_int_equal(off, sizeof(body) + 1);
	off = 5;
	for (i = 0; i < sizeof(body); i++)
		assert_int_equal(body[i], 0xee);
	assert_int_equal(msg_conn_put(body, 5 + 2 + MSG_CONN_V4_LEN, &off,
	    &c), 0);
	assert_int_equal(off, 5 + 2 + MSG_CONN_V4_LEN);
}

/*
 * Fill a datagram.  A v4 NEW record (v4 server, owner and backup) is 34
 * bytes framed, so an authenticated datagram (body MSG_BODY_MAX = 1324)
 * carries 38 of them (1292 bytes; 1400 - 44 - 32 - 1292 = 32 left) and
 * a v6 one (94 framed) 14; END records: 88 v4 (15 framed), 33 v6 (39).
 */
static void
test_conn_fill(void **state)
{
	uint8_t		 buf[MSG_MAX_LEN], *body = buf + MSG_HDR_LEN;
	const uint8_t	*rec;
	struct msg_view	 v;
	struct msg_conn	 c, got;
	size_t		 off = 0, len, rlen;
	int		 n = 0;

	(void)state;
	conn4(&c);
	while (msg_conn_put(body, MSG_BODY_MAX, &off, &c) == 0) {
		n++;
		c.key.id[11]++;
	}
	assert_int_equal(n, 38);
	assert_int_equal(off, 38 * (2 + MSG_CONN_V4_LEN));
	len = raw(buf, sizeof(buf), MSG_T_NEW, body, off);
	assert_true(len <= MSG_MAX_LEN);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	conn4(&c);
	off = 0;
	n = 0;
	while (msg_rec_next(&v, &off, &rec, &rlen) == 1) {
		assert_int_equal(msg_conn_get(rec, rlen, &got), 0);
		assert_memory_equal(&got, &c, sizeof(got));
		c.key.id[11]++;
		n++;
	}
	assert_int_equal(n, 38);
	/* v6 records and END keys. */
	c.key.len = FLOW_ID_V6;
	assert_int_equal(util_addr_parse("2001:db8::21", &c.server), 0);
	c.owner.len = c.backup.len = 16;
	for (off = 0, n = 0; msg_conn_put(body, MSG_BODY_MAX, &off, &c) == 0;)
		n++;
	assert_int_equal(n, 14);
	c.key.len = FLOW_ID_V4;
	for (off = 0, n = 0; msg_key_put(body, MSG_BODY_MAX, &off, &c.key) ==
	    0;)
		n++;
	assert_int_equal(n, 88);
	c.key.len = FLOW_ID_V6;
	for (off = 0, n = 0; msg_key_put(body, MSG_BODY_MAX, &off, &c.key) ==
	    0;)
		n++;
	assert_int_equal(n, 33);
}

static void
test_key_records(void **state)
{
	uint8_t		 buf[MSG_MAX_LEN], *body = buf + MSG_HDR_LEN;
	const uint8_t	*rec;
	struct msg_view	 v;
	struct msg_conn	 c;
	struct flow_key	 k4, k6, got;
	size_t		 off = 0, len, rlen;
	int		 i;

	(void)state;
	conn4(&c);
	k4 = c.key;
	memset(&k6, 0, sizeof(k6));
	k6.len = FLOW_ID_V6;
	for (i = 0; i < FLOW_ID_V6; i++)
		k6.id[i] = (uint8_t)(0xf0 - i);
	assert_int_equal(msg_key_put(body, MSG_BODY_MAX, &off, &k4), 0);
	assert_int_equal(msg_key_put(body, MSG_BODY_MAX, &off, &k6), 0);
	assert_int_equal(off, 2 + 13 + 2 + 37);
	assert_int_equal(body[2], 12);
	assert_memory_equal(body + 3, k4.id, 12);
	len = raw(buf, sizeof(buf), MSG_T_END, body, off);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	off = 0;
	assert_int_equal(msg_rec_next(&v, &off, &rec, &rlen), 1);
	assert_int_equal(msg_key_get(rec, rlen, &got), 0);
	assert_memory_equal(&got, &k4, sizeof(got));
	assert_int_equal(msg_rec_next(&v, &off, &rec, &rlen), 1);
	assert_int_equal(msg_key_get(rec, rlen, &got), 0);
	assert_memory_equal(&got, &k6, sizeof(got));
	/* Malformed: truncated, too long, a bad length byte. */
	assert_int_equal(msg_key_get(rec, 0, &got), -1);
	assert_int_equal(msg_key_get(rec, rlen - 1, &got), -1);
	memcpy(buf, rec, rlen);
	buf[rlen] = 0;
	assert_int_equal(msg_key_get(buf, rlen + 1, &got), -1);
	buf[0] = 12;
	assert_int_equal(msg_key_get(buf, 13, &got), 0);
	buf[0] = 20;
	assert_int_equal(msg_key_get(buf, 21, &got), -1);
	/* Unencodable keys and no room: nothing written. */
	off = 0;
	k4.len = 0;
	assert_int_equal(msg_key_put(body, MSG_BODY_MAX, &off, &k4), -1);
	k4.len = 37;
	assert_int_equal(msg_key_put(body, MSG_BODY_MAX, &off, &k4), -1);
	assert_int_equal(msg_key_put(body, 2 + 36, &off, &k6), -1);
	assert_int_equal(off, 0);
}

/*
 * Connection tags (ilbd-protocol(7)): a tagged connection record is the
 * untagged one with flag bit 1 and 2 bytes after the flags; the tag's
 * flag follows the tag, not what the caller put in flags; a tag of 0 or
 * a missing one is malformed. A record without a tag (from an earlier
 * sender) reads as tag 0, unknown.
 */
static void
test_conn_tag(void **state)
{
	uint8_t		body[128], r[MSG_CONN_MAX + 2];
	struct msg_conn	c, got;
	size_t		off = 0, len;

	(void)state;
	conn4(&c);
	c.flags = MSG_CONN_F_FRESH | MSG_CONN_F_REOPEN;
	c.tag = 0x1234;
	assert_int_equal(msg_conn_put(body, sizeof(body), &off, &c), 0);
	len = off - 2;
	assert_int_equal(len, MSG_CONN_V4_LEN + MSG_TAG_LEN);
	assert_int_equal(body[2 + MSG_CONN_V4_LEN - 1], MSG_CONN_F_FRESH |
	    MSG_CONN_F_REOPEN | MSG_CONN_F_TAG);
	assert_int_equal(body[2 + MSG_CONN_V4_LEN], 0x12);
	assert_int_equal(body[2 + MSG_CONN_V4_LEN + 1], 0x34);
	assert_int_equal(msg_conn_get(body + 2, len, &got), 0);
	assert_int_equal(got.tag, 0x1234);
	assert_int_equal(got.flags, MSG_CONN_F_FRESH | MSG_CONN_F_REOPEN |
	    MSG_CONN_F_TAG);
	/* The tag's two bytes missing, or one too many: malformed. */
	memcpy(r, body + 2, len);
	assert_int_equal(msg_conn_get(r, len - 1, &got), -1);
	assert_int_equal(msg_conn_get(r, len - 2, &got), -1);
	r[len] = 0;
	assert_int_equal(msg_conn_get(r, len + 1, &got), -1);
	/* A tag of 0 is no tag: malformed when the flag says there is one. */
	r[len - 2] = r[len - 1] = 0;
	assert_int_equal(msg_conn_get(r, len, &got), -1);
	/* The caller's TAG flag without a tag: not written. */
	off = 0;
	c.tag = 0;
	c.flags = MSG_CONN_F_TAG | MSG_CONN_F_FRESH;
	assert_int_equal(msg_conn_put(body, sizeof(body), &off, &c), 0);
	assert_int_equal(off - 2, MSG_CONN_V4_LEN);
	assert_int_equal(body[2 + MSG_CONN_V4_LEN - 1], MSG_CONN_F_FRESH);
	/* An untagged record (an earlier sender's) reads as tag 0. */
	assert_int_equal(msg_conn_get(body + 2, off - 2, &got), 0);
	assert_int_equal(got.tag, 0);
}

/*
 * END with a tag: the key record and 2 bytes; tag 0 writes the plain key
 * record, byte for byte msg_key_put()'s, which msg_end_get() reads as
 * tag 0. An earlier receiver (msg_key_get()) reads the plain form and
 * skips the tagged one as malformed.
 */
static void
test_end_tag(void **state)
{
	uint8_t		 body[128], plain[64];
	struct msg_conn	 c;
	struct flow_key	 got;
	uint16_t	 tag;
	size_t		 off = 0, poff = 0, len;

	(void)state;
	conn4(&c);
	assert_int_equal(msg_end_put(body, sizeof(body), &off, &c.key, 0), 0);
	assert_int_equal(msg_key_put(plain, sizeof(plain), &poff, &c.key), 0);
	assert_int_equal(off, poff);
	assert_memory_equal(body, plain, off);
	assert_int_equal(msg_end_get(body + 2, off - 2, &got, &tag), 0);
	assert_int_equal(tag, 0);
	assert_memory_equal(&got, &c.key, sizeof(got));
	off = 0;
	assert_int_equal(msg_end_put(body, sizeof(body), &off, &c.key,
	    0xa1b2), 0);
	len = off - 2;
	assert_int_equal(len, 13 + MSG_TAG_LEN);
	assert_int_equal(body[2 + 13], 0xa1);
	assert_int_equal(body[2 + 14], 0xb2);
	assert_int_equal(msg_end_get(body + 2, len, &got, &tag), 0);
	assert_int_equal(tag, 0xa1b2);
	assert_memory_equal(&got, &c.key, sizeof(got));
	assert_int_equal(msg_key_get(body + 2, len, &got), -1);
	/* Malformed: half a tag, a zero tag, a byte past it. */
	assert_int_equal(msg_end_get(body + 2, len - 1, &got, &tag), -1);
	body[2 + len] = 0;
	assert_int_equal(msg_end_get(body + 2, len + 1, &got, &tag), -1);
	body[2 + 13] = body[2 + 14] = 0;
	assert_int_equal(msg_end_get(body + 2, len, &got, &tag), -1);
	/* No room for the tag: nothing written. */
	off = 0;
	assert_int_equal(msg_end_put(body, 2 + 13 + 1, &off, &c.key, 1), -1);
	assert_int_equal(off, 0);
}

/*
 * A UDP flow's key: the length byte carries FLOW_KEY_UDP (0x8c, 0xa4), the
 * id bytes are the TCP key's; it reads back as written, and any other
 * length byte is refused.
 */
static void
test_key_udp(void **state)
{
	uint8_t		 body[128];
	struct msg_conn	 c;
	struct flow_key	 got;
	uint16_t	 tag;
	size_t		 off = 0;

	(void)state;
	conn4(&c);
	c.key.len |= FLOW_KEY_UDP;
	assert_int_equal(msg_end_put(body, sizeof(body), &off, &c.key, 0), 0);
	assert_int_equal(off, 2 + 1 + FLOW_ID_V4);
	assert_int_equal(body[2], 0x8c);
	assert_int_equal(msg_end_get(body + 2, off - 2, &got, &tag), 0);
	assert_memory_equal(&got, &c.key, sizeof(got));
	assert_true(flow_key_is_udp(&got));
	body[2] = 0x80 | 13;
	assert_int_equal(msg_end_get(body + 2, off - 2, &got, &tag), -1);
	body[2] = 0x40 | FLOW_ID_V4;
	assert_int_equal(msg_end_get(body + 2, off - 2, &got, &tag), -1);
}

static void
test_done(void **state)
{
	uint8_t		 buf[MSG_MAX_LEN], *body = buf + MSG_HDR_LEN;
	struct msg_view	 v;
	struct msg_done	 d = { 0x01020304, 0xa0b0c0d0 }, got;
	size_t		 off = 0, len;

	(void)state;
	assert_int_equal(msg_done_put(body, MSG_DONE_LEN - 1, &off, &d), -1);
	assert_int_equal(off, 0);
	assert_int_equal(msg_done_put(body, MSG_DONE_LEN, &off, &d), 0);
	assert_int_equal(off, MSG_DONE_LEN);
	assert_memory_equal(body, "\x01\x02\x03\x04\xa0\xb0\xc0\xd0", 8);
	len = raw(buf, sizeof(buf), MSG_T_DONE, body, off);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(msg_done_get(&v, &got), 0);
	assert_int_equal(got.xfer, d.xfer);
	assert_int_equal(got.count, d.count);
	len = raw(buf, sizeof(buf), MSG_T_ACK, body, off);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(msg_done_get(&v, &got), 0);
	/* A longer body is accepted; a shorter one or another type not. */
	len = raw(buf, sizeof(buf), MSG_T_ACK, body, off + 4);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(msg_done_get(&v, &got), 0);
	len = raw(buf, sizeof(buf), MSG_T_ACK, body, off - 1);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(msg_done_get(&v, &got), -1);
	len = raw(buf, sizeof(buf), MSG_T_TRANSFER, body, off);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(msg_done_get(&v, &got), -1);
	off = 9;
	assert_int_equal(msg_done_put(body, 8, &off, &d), -1);
}

/* ---- MIXED: records of any type in one message (issue 18, point 7) ---- */

/* NEW, END (tagged), REFRESH, TRANSFER, DONE, ACK: one body, in order. */
static size_t
mix_body(uint8_t *body, size_t size)
{
	struct msg_conn	c;
	struct msg_done	d = { 7, 3 };
	size_t		off = 0;

	conn4(&c);
	c.flags = MSG_CONN_F_FRESH | MSG_CONN_F_TAG;
	c.tag = 0x1234;
	assert_int_equal(msg_mix_conn_put(body, size, &off, MSG_T_NEW, &c), 0);
	assert_int_equal(msg_mix_end_put(body, size, &off, MSG_T_END, &c.key,
	    0xbeef), 0);
	assert_int_equal(msg_mix_end_put(body, size, &off, MSG_T_REFRESH,
	    &c.key, 0), 0);
	c.state = 2;
	c.tag = 0;
	assert_int_equal(msg_mix_conn_put(body, size, &off, MSG_T_TRANSFER,
	    &c), 0);
	assert_int_equal(msg_mix_done_put(body, size, &off, MSG_T_DONE, &d), 0);
	assert_int_equal(msg_mix_done_put(body, size, &off, MSG_T_ACK, &d), 0);
	return (off);
}

static void
test_mixed_roundtrip(void **state)
{
	static const uint8_t	 want_types[] = { MSG_T_NEW, MSG_T_END,
				    MSG_T_REFRESH, MSG_T_TRANSFER, MSG_T_DONE,
				    MSG_T_ACK };
	uint8_t			 buf[MSG_MAX_LEN], *body = buf + MSG_HDR_LEN;
	uint8_t			 plain[64];
	const uint8_t		*rec;
	struct msg_view		 v;
	struct msg_conn		 c, got;
	struct msg_done		 d;
	struct flow_key		 k;
	size_t			 off, len, rlen, n, poff = 0;
	uint16_t		 tag;
	uint8_t			 t;

	(void)state;
	n = mix_body(body, MSG_BODY_MAX);
	/* Type, then the record exactly as its single-type message has it. */
	conn4(&c);
	c.flags = MSG_CONN_F_FRESH | MSG_CONN_F_TAG;
	c.tag = 0x1234;
	assert_int_equal(msg_conn_put(plain, sizeof(plain), &poff, &c), 0);
	assert_int_equal(body[0], MSG_T_NEW);
	assert_memory_equal(body + 1, plain, poff);
	assert_int_equal(n, 6 * MSG_MIX_HDR + (MSG_CONN_V4_LEN + MSG_TAG_LEN) +
	    (1 + FLOW_ID_V4 + MSG_TAG_LEN) + (1 + FLOW_ID_V4) +
	    MSG_CONN_V4_LEN + 2 * MSG_DONE_LEN);
	len = raw(buf, sizeof(buf), MSG_T_MIXED, body, n);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	assert_int_equal(v.hdr.type, MSG_T_MIXED);
	off = 0;
	for (n = 0; n < sizeof(want_types); n++) {
		assert_int_equal(msg_mix_next(&v, &off, &t, &rec, &rlen), 1);
		assert_int_equal(t, want_types[n]);
		switch (t) {
		case MSG_T_NEW:
			assert_int_equal(msg_conn_get(rec, rlen, &got), 0);
			assert_memory_equal(&got, &c, sizeof(got));
			break;
		case MSG_T_END:
			assert_int_equal(msg_end_get(rec, rlen, &k, &tag), 0);
			assert_memory_equal(&k, &c.key, sizeof(k));
			assert_int_equal(tag, 0xbeef);
			break;
		case MSG_T_REFRESH:
			assert_int_equal(msg_end_get(rec, rlen, &k, &tag), 0);
			assert_int_equal(tag, 0);
			break;
		case MSG_T_TRANSFER:
			assert_int_equal(msg_conn_get(rec, rlen, &got), 0);
			assert_int_equal(got.state, 2);
			assert_int_equal(got.tag, 0);
			break;
		default:
			assert_int_equal(msg_done_dec(rec, rlen, &d), 0);
			assert_int_equal(d.xfer, 7);
			assert_int_equal(d.count, 3);
			break;
		}
	}
	assert_int_equal(msg_mix_next(&v, &off, &t, &rec, &rlen), 0);
	/* A full body refuses the next record and keeps what it has. */
	n = mix_body(body, MSG_BODY_MAX);
	off = n;
	assert_int_equal(msg_mix_end_put(body, n + MSG_MIX_HDR + FLOW_ID_V4,
	    &off, MSG_T_END, &c.key, 0), -1);
	assert_int_equal(off, n);
	assert_int_equal(msg_mix_end_put(body, n + MSG_MIX_HDR + 1 +
	    FLOW_ID_V4, &off, MSG_T_END, &c.key, 0), 0);
	/* Neither ID nor MIXED (nor type 0) goes inside. */
	off = 0;
	assert_int_equal(msg_mix_end_put(body, 64, &off, MSG_T_ID, &c.key, 0),
	    -1);
	assert_int_equal(msg_mix_end_put(body, 64, &off, MSG_T_MIXED, &c.key,
	    0), -1);
	assert_int_equal(msg_mix_end_put(body, 64, &off, 0, &c.key, 0), -1);
	assert_int_equal(off, 0);
	/* Encoded by msg_encode(), authenticated as a whole. */
	n = mix_body(body, MSG_BODY_MAX);
	len = raw(buf, sizeof(buf), MSG_T_MIXED, body, n);
	assert_int_equal(len, MSG_HDR_LEN + n + MSG_MAC_LEN);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	buf[MSG_HDR_LEN + 5] ^= 1;		/* inside the first record */
	assert_int_equal(check(buf, len, key, &v), MSG_R_MAC);
}

/* A MIXED body whose framing is broken is refused as a whole. */
static void
test_mixed_malformed(void **state)
{
	uint8_t		buf[MSG_MAX_LEN], body[MSG_BODY_MAX], b2[MSG_BODY_MAX];
	const uint8_t	*rec;
	struct msg_view	v;
	struct msg_done	d;
	size_t		n, cut, len, off, rlen;
	uint8_t		t;
	int		i;

	(void)state;
	n = mix_body(body, sizeof(body));
	/* Truncated anywhere but at a record's end: MSG_R_BODY. */
	for (cut = 0; cut < n; cut++) {
		len = raw(buf, sizeof(buf), MSG_T_MIXED, body, cut);
		off = 0;
		while (off < cut) {
			i = body[off + 1] << 8 | body[off + 2];
			if (off + MSG_MIX_HDR + (size_t)i > cut)
				break;
			off += MSG_MIX_HDR + (size_t)i;
		}
		assert_int_equal(check(buf, len, key, &v),
		    off == cut ? MSG_OK : MSG_R_BODY);
	}
	/* A record's length past the end, by one. */
	memcpy(b2, body, n);
	b2[2]++;
	len = raw(buf, sizeof(buf), MSG_T_MIXED, b2, n);
	assert_int_equal(check(buf, len, key, &v), MSG_R_BODY);
	/* Types 0, ID and MIXED inside. */
	for (i = 0; i < 3; i++) {
		memcpy(b2, body, n);
		b2[0] = i == 0 ? 0 : i == 1 ? MSG_T_ID : MSG_T_MIXED;
		len = raw(buf, sizeof(buf), MSG_T_MIXED, b2, n);
		assert_int_equal(check(buf, len, key, &v), MSG_R_BODY);
	}
	/* A later revision's type frames like the others and is returned. */
	memcpy(b2, body, n);
	b2[0] = 200;
	len = raw(buf, sizeof(buf), MSG_T_MIXED, b2, n);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	off = 0;
	assert_int_equal(msg_mix_next(&v, &off, &t, &rec, &rlen), 1);
	assert_int_equal(t, 200);
	/* An empty MIXED is well formed (and says nothing). */
	len = raw(buf, sizeof(buf), MSG_T_MIXED, body, 0);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	off = 0;
	assert_int_equal(msg_mix_next(&v, &off, &t, &rec, &rlen), 0);
	/* A short DONE record frames well but does not decode. */
	assert_int_equal(msg_done_dec(body, MSG_DONE_LEN - 1, &d), -1);
}

static void
test_names(void **state)
{
	char		b[64];
	struct member_id id;
	int		i, j;

	(void)state;
	for (i = 0; i < MSG_R_MAX; i++) {
		assert_non_null(msg_reason_name(i));
		assert_string_not_equal(msg_reason_name(i), "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(msg_reason_name(i),
			    msg_reason_name(j));
	}
	assert_string_equal(msg_reason_name(MSG_R_MAX), "unknown");
	assert_string_equal(msg_reason_name(MSG_R_MAC), "bad_mac");
	assert_string_equal(msg_type_name(MSG_T_ID), "id");
	assert_string_equal(msg_type_name(MSG_T_DONE), "done");
	assert_string_equal(msg_type_name(MSG_T_MIXED), "mixed");
	assert_string_equal(msg_type_name(MSG_T_MAX + 1), "unknown");
	assert_string_equal(msg_type_name(0), "unknown");
	assert_string_equal(msg_type_name(99), "unknown");
	assert_string_equal(msg_state_name(MSG_S_LEAVING), "leaving");
	memset(&id, 0, sizeof(id));
	id.len = 4;
	id.is_index = 1;
	id.b[2] = 1;
	assert_string_equal(msg_id_fmt(&id, b, sizeof(b)), "256");
	id.is_index = 0;
	assert_string_equal(msg_id_fmt(&id, b, sizeof(b)), "0.0.1.0");
}

/*
 * Key rotation: msg_verify_next() accepts a message under the key or the
 * next key, and says which; a third key, a tampered message, or a next
 * key without a current one are refused.
 */
static void
test_verify_next(void **state)
{
	uint8_t		buf[MSG_MAX_LEN], key3[MSG_KEY_LEN];
	struct msg_view	v;
	size_t		len;
	int		by_next;

	(void)state;
	memset(key3, 0x44, sizeof(key3));
	len = encode(buf, sizeof(buf), key);
	assert_int_equal(msg_decode(buf, len, &v), MSG_OK);
	assert_int_equal(msg_verify_next(buf, &v, key, key2, &by_next), MSG_OK);
	assert_int_equal(by_next, 0);
	assert_int_equal(msg_verify_next(buf, &v, key2, key, &by_next), MSG_OK);
	assert_int_equal(by_next, 1);
	assert_int_equal(msg_verify_next(buf, &v, key2, NULL, &by_next),
	    MSG_R_MAC);
	assert_int_equal(msg_verify_next(buf, &v, key2, key3, &by_next),
	    MSG_R_MAC);
	assert_int_equal(by_next, 0);
	/* not authenticating: a next key changes nothing */
	assert_int_equal(msg_verify_next(buf, &v, NULL, key, &by_next),
	    MSG_R_AUTH);
	/* a flipped MAC bit fails under both */
	buf[len - 1] ^= 1;
	assert_int_equal(msg_verify_next(buf, &v, key, key2, &by_next),
	    MSG_R_MAC);
	assert_int_equal(msg_verify_next(buf, &v, key2, key, &by_next),
	    MSG_R_MAC);
	/* unauthenticated message: NOAUTH, not retried */
	len = encode(buf, sizeof(buf), NULL);
	assert_int_equal(msg_decode(buf, len, &v), MSG_OK);
	assert_int_equal(msg_verify_next(buf, &v, key, key2, &by_next),
	    MSG_R_NOAUTH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bitflip),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_auth_mismatch),
		cmocka_unit_test(test_auth_key_change),
		cmocka_unit_test(test_id_body),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_conn_roundtrip),
		cmocka_unit_test(test_conn_malformed),
		cmocka_unit_test(test_conn_put_refuses),
		cmocka_unit_test(test_conn_fill),
		cmocka_unit_test(test_key_records),
		cmocka_unit_test(test_conn_tag),
		cmocka_unit_test(test_end_tag),
		cmocka_unit_test(test_key_udp),
		cmocka_unit_test(test_done),
		cmocka_unit_test(test_mixed_roundtrip),
		cmocka_unit_test(test_mixed_malformed),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_verify_next),
	};

	return (cmocka_run_group_tests(tests, setup, NULL));
}
