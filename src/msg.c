/*
 * msg.c: cluster message codec and MAC (buffers in, buffers out; the one
 * state kept is the HMAC state of the last key, see msg_mac()).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "be.h"
#include "msg.h"

/* Offsets inside the ID body. */
#define MSG_ID_SCORING		0
#define MSG_ID_STATE		1
#define MSG_ID_MEMBERS		2
#define MSG_ID_FLAGS		4
#define MSG_ID_FAMILY		6	/* 4 or 6 */
#define MSG_ID_ADDR		8
#define MSG_ID_HELLO		24
#define MSG_ID_DEAD		28

static const char *const msg_reason_names[MSG_R_MAX] = {
	[MSG_OK] = "ok",
	[MSG_R_SHORT] = "short",
	[MSG_R_MAGIC] = "bad_magic",
	[MSG_R_VERSION] = "bad_version",
	[MSG_R_TYPE] = "bad_type",
	[MSG_R_FLAGS] = "bad_flags",
	[MSG_R_SENDER] = "bad_sender",
	[MSG_R_LENGTH] = "bad_length",
	[MSG_R_NOAUTH] = "unauthenticated",
	[MSG_R_AUTH] = "authenticated",
	[MSG_R_MAC] = "bad_mac",
	[MSG_R_BODY] = "bad_body",
};

static const char *const msg_type_names[MSG_T_MAX + 1] = {
	[MSG_T_ID] = "id",
	[MSG_T_NEW] = "new",
	[MSG_T_END] = "end",
	[MSG_T_ACK] = "ack",
	[MSG_T_TRANSFER] = "transfer",
	[MSG_T_REFRESH] = "refresh",
	[MSG_T_DONE] = "done",
	[MSG_T_MIXED] = "mixed",
	[MSG_T_ADMIN] = "admin",
};

/* Write the fixed header; body_len and flags as given. */
static void
msg_put_hdr(uint8_t *buf, const struct msg_hdr *hdr, uint16_t flags,
    size_t blen)
{
	memcpy(buf + MSG_OFF_MAGIC, MSG_MAGIC, 4);
	buf[MSG_OFF_VERSION] = hdr->version;
	buf[MSG_OFF_TYPE] = hdr->type;
	be16_store(buf + MSG_OFF_FLAGS, flags);
	be64_store(buf + MSG_OFF_EPOCH, hdr->epoch);
	be64_store(buf + MSG_OFF_SEQ, hdr->seq);
	be16_store(buf + MSG_OFF_BODYLEN, (uint16_t)blen);
	buf[MSG_OFF_IDLEN] = hdr->sender.len;
	buf[MSG_OFF_IDFLAGS] = hdr->sender.is_index ? MSG_IDF_INDEX : 0;
	memset(buf + MSG_OFF_ID, 0, MEMBER_ID_MAX);
	memcpy(buf + MSG_OFF_ID, hdr->sender.b,
	    hdr->sender.len > MEMBER_ID_MAX ? MEMBER_ID_MAX : hdr->sender.len);
}

/*
 * HMAC-SHA-512-256 of in with key, into out (MSG_MAC_LEN bytes). Every
 * message is MACed or checked with the one cluster key, and for a
 * message of a few records hashing the key's two 128-byte pad blocks
 * (crypto_auth_hmacsha512256_init()) was half of the work. So the state
 * right after init is kept for the last key used and copied for each
 * message: a one-entry cache (ilbd is single-threaded); another key (a
 * reload, a test) builds it again.
 */
static struct {
	int				valid;
	uint8_t				key[crypto_auth_hmacsha512256_KEYBYTES];
	crypto_auth_hmacsha512256_state	st;
} msg_mac_key;

static void
msg_mac(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *key)
{
	crypto_auth_hmacsha512256_state	st;

	if (!msg_mac_key.valid || sodium_memcmp(msg_mac_key.key, key,
	    sizeof(msg_mac_key.key)) != 0) {
		crypto_auth_hmacsha512256_init(&msg_mac_key.st, key,
		    sizeof(msg_mac_key.key));
		memcpy(msg_mac_key.key, key, sizeof(msg_mac_key.key));
		msg_mac_key.valid = 1;
	}
	st = msg_mac_key.st;
	crypto_auth_hmacsha512256_update(&st, in, len);
	crypto_auth_hmacsha512256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

size_t
msg_encode(uint8_t *buf, size_t size, const struct msg_hdr *hdr,
    const uint8_t *body, size_t blen, const uint8_t *key)
{
	size_t		len = MSG_HDR_LEN + blen;

	if (key != NULL)
		len += MSG_MAC_LEN;
	if (blen > MSG_BODY_MAX || len > size)
		return (0);
	if (blen > 0 && body != buf + MSG_HDR_LEN)
		memmove(buf + MSG_HDR_LEN, body, blen);
	msg_put_hdr(buf, hdr, key != NULL ? MSG_F_AUTH : 0, blen);
	if (key != NULL)
		msg_mac(buf + MSG_HDR_LEN + blen, buf, MSG_HDR_LEN + blen, key);
	return (len);
}

/* Wire family: 4, 6, or 0 for none. */
static uint8_t
msg_family(const struct ilb_addr *a)
{
	if (a->family == AF_INET)
		return (4);
	if (a->family == AF_INET6)
		return (6);
	return (0);
}

size_t
msg_encode_id(uint8_t *buf, size_t size, const struct msg_hdr *hdr,
    const struct msg_id *id, const uint8_t *key)
{
	uint8_t		*b = buf + MSG_HDR_LEN;
	size_t		 alen = util_addr_len(&id->addr);

	if (size < MSG_HDR_LEN + MSG_ID_BODY_LEN)
		return (0);
	memset(b, 0, MSG_ID_BODY_LEN);
	b[MSG_ID_SCORING] = id->scoring;
	b[MSG_ID_STATE] = id->state;
	be16_store(b + MSG_ID_MEMBERS, id->members);
	be16_store(b + MSG_ID_FLAGS, id->flags);
	b[MSG_ID_FAMILY] = msg_family(&id->addr);
	memcpy(b + MSG_ID_ADDR, id->addr.u.b, alen > 16 ? 16 : alen);
	be32_store(b + MSG_ID_HELLO, id->hello_ms);
	be32_store(b + MSG_ID_DEAD, id->dead_ms);
	return (msg_encode(buf, size, hdr, b, MSG_ID_BODY_LEN, key));
}

/* The sender id: 4 or 16 bytes, index only with 4, zero padding. */
static enum msg_reason
msg_decode_sender(const uint8_t *buf, struct member_id *id)
{
	uint8_t		len = buf[MSG_OFF_IDLEN], fl = buf[MSG_OFF_IDFLAGS];
	size_t		i;

	if ((len != 4 && len != 16) || (fl & ~MSG_IDF_INDEX) != 0 ||
	    ((fl & MSG_IDF_INDEX) && len != 4))
		return (MSG_R_SENDER);
	for (i = len; i < MEMBER_ID_MAX; i++)
		if (buf[MSG_OFF_ID + i] != 0)
			return (MSG_R_SENDER);
	memset(id, 0, sizeof(*id));
	id->len = len;
	id->is_index = (fl & MSG_IDF_INDEX) != 0;
	memcpy(id->b, buf + MSG_OFF_ID, len);
	return (MSG_OK);
}

static int	msg_admin_check(const struct msg_view *);

/* The records of a MIXED body frame it exactly; 0, or -1. */
static int
msg_mix_check(const struct msg_view *v)
{
	const uint8_t	*rec;
	size_t		 off = 0, len;
	uint8_t		 type;
	int		 rv;

	while ((rv = msg_mix_next(v, &off, &type, &rec, &len)) == 1)
		;
	return (rv);
}

enum msg_reason
msg_decode(const uint8_t *buf, size_t len, struct msg_view *v)
{
	struct msg_hdr	*h = &v->hdr;
	size_t		 want;

	if (len < MSG_HDR_LEN)
		return (MSG_R_SHORT);
	if (memcmp(buf + MSG_OFF_MAGIC, MSG_MAGIC, 4) != 0)
		return (MSG_R_MAGIC);
	if (buf[MSG_OFF_VERSION] != MSG_VERSION)
		return (MSG_R_VERSION);
	h->version = buf[MSG_OFF_VERSION];
	h->type = buf[MSG_OFF_TYPE];
	if (h->type < MSG_T_ID || h->type > MSG_T_MAX)
		return (MSG_R_TYPE);
	h->flags = be16_load(buf + MSG_OFF_FLAGS);
	if ((h->flags & ~MSG_F_KNOWN) != 0)
		return (MSG_R_FLAGS);
	if (msg_decode_sender(buf, &h->sender) != MSG_OK)
		return (MSG_R_SENDER);
	h->epoch = be64_load(buf + MSG_OFF_EPOCH);
	h->seq = be64_load(buf + MSG_OFF_SEQ);
	h->body_len = be16_load(buf + MSG_OFF_BODYLEN);
	want = MSG_HDR_LEN + (size_t)h->body_len +
	    ((h->flags & MSG_F_AUTH) ? MSG_MAC_LEN : 0);
	if (want != len)
		return (MSG_R_LENGTH);
	v->body = buf + MSG_HDR_LEN;
	v->len = len;
	if (h->type == MSG_T_MIXED && msg_mix_check(v) == -1)
		return (MSG_R_BODY);
	if (h->type == MSG_T_ADMIN && msg_admin_check(v) == -1)
		return (MSG_R_BODY);
	return (MSG_OK);
}

enum msg_reason
msg_verify(const uint8_t *buf, const struct msg_view *v, const uint8_t *key)
{
	size_t	mlen = MSG_HDR_LEN + (size_t)v->hdr.body_len;
	uint8_t	mac[MSG_MAC_LEN];

	if (key == NULL)
		return ((v->hdr.flags & MSG_F_AUTH) ? MSG_R_AUTH : MSG_OK);
	if (!(v->hdr.flags & MSG_F_AUTH))
		return (MSG_R_NOAUTH);
	if (v->len != mlen + MSG_MAC_LEN)
		return (MSG_R_LENGTH);
	msg_mac(mac, buf, mlen, key);
	if (crypto_verify_32(mac, buf + mlen) != 0)	/* constant time */
		return (MSG_R_MAC);
	return (MSG_OK);
}

enum msg_reason
msg_verify_next(const uint8_t *buf, const struct msg_view *v,
    const uint8_t *key, const uint8_t *next, int *by_next)
{
	enum msg_reason	r;

	*by_next = 0;
	if ((r = msg_verify(buf, v, key)) != MSG_R_MAC || key == NULL ||
	    next == NULL)
		return (r);
	if ((r = msg_verify(buf, v, next)) == MSG_OK)
		*by_next = 1;
	return (r);
}

/* The address of an ID body: family 4 or 6, bytes past it ignored. */
static enum msg_reason
msg_decode_addr(const uint8_t *b, struct ilb_addr *a)
{
	memset(a, 0, sizeof(*a));
	switch (b[MSG_ID_FAMILY]) {
	case 4:
		a->family = AF_INET;
		memcpy(a->u.b, b + MSG_ID_ADDR, 4);
		return (MSG_OK);
	case 6:
		a->family = AF_INET6;
		memcpy(a->u.b, b + MSG_ID_ADDR, 16);
		return (MSG_OK);
	default:
		return (MSG_R_BODY);
	}
}

/* Longer bodies are accepted (fields appended by a later revision). */
enum msg_reason
msg_decode_id(const struct msg_view *v, struct msg_id *id)
{
	const uint8_t	*b = v->body;

	if (v->hdr.type != MSG_T_ID || v->hdr.body_len < MSG_ID_BODY_LEN)
		return (MSG_R_BODY);
	memset(id, 0, sizeof(*id));
	id->scoring = b[MSG_ID_SCORING];
	id->state = b[MSG_ID_STATE];
	if (id->state < MSG_S_JOINING || id->state > MSG_S_LEAVING)
		return (MSG_R_BODY);
	id->members = be16_load(b + MSG_ID_MEMBERS);
	id->flags = be16_load(b + MSG_ID_FLAGS);
	if (msg_decode_addr(b, &id->addr) != MSG_OK)
		return (MSG_R_BODY);
	id->hello_ms = be32_load(b + MSG_ID_HELLO);
	id->dead_ms = be32_load(b + MSG_ID_DEAD);
	return (MSG_OK);
}

int
msg_rec_put(uint8_t *body, size_t size, size_t *off, const void *rec,
    size_t len)
{
	if (len > UINT16_MAX || *off > size || size - *off < 2 + len)
		return (-1);
	be16_store(body + *off, (uint16_t)len);
	memcpy(body + *off + 2, rec, len);
	*off += 2 + len;
	return (0);
}

int
msg_rec_next(const struct msg_view *v, size_t *off, const uint8_t **rec,
    size_t *len)
{
	size_t	blen = v->hdr.body_len, rlen;

	if (*off == blen)
		return (0);
	if (*off > blen || blen - *off < 2)
		return (-1);
	rlen = be16_load(v->body + *off);
	if (blen - *off - 2 < rlen)
		return (-1);
	*rec = v->body + *off + 2;
	*len = rlen;
	*off += 2 + rlen;
	return (1);
}

/* ---- records of NEW, END, REFRESH and TRANSFER; DONE and ACK ------------ */

/* A cursor over one record being decoded. */
struct msg_rd {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

/* The next n bytes of the record, or NULL if it is shorter. */
static const uint8_t *
msg_rd_take(struct msg_rd *r, size_t n)
{
	const uint8_t	*p;

	if (r->len - r->off < n)
		return (NULL);
	p = r->p + r->off;
	r->off += n;
	return (p);
}

static int
msg_rd_byte(struct msg_rd *r, uint8_t *v)
{
	const uint8_t	*p;

	if ((p = msg_rd_take(r, 1)) == NULL)
		return (-1);
	*v = *p;
	return (0);
}

static int
msg_key_valid(const struct flow_key *k)
{
	return (flow_key_valid(k));
}

/* A member id in a record: none (len 0), or as in the header. */
static int
msg_mid_valid(const struct member_id *id)
{
	if (id->len == 0)
		return (!id->is_index);
	if (id->is_index)
		return (id->len == 4);
	return (id->len == 4 || id->len == 16);
}

/*
 * Key: length byte (12 or 36, with FLOW_KEY_UDP, 0x80, for a UDP flow)
 * then the bytes.
 */
static size_t
msg_key_enc(uint8_t *b, const struct flow_key *k)
{
	b[0] = k->len;
	memcpy(b + 1, k->id, flow_key_idlen(k));
	return (1 + flow_key_idlen(k));
}

static int
msg_key_dec(struct msg_rd *r, struct flow_key *k)
{
	const uint8_t	*p;

	memset(k, 0, sizeof(*k));
	if (msg_rd_byte(r, &k->len) == -1 || !msg_key_valid(k) ||
	    (p = msg_rd_take(r, flow_key_idlen(k))) == NULL)
		return (-1);
	memcpy(k->id, p, flow_key_idlen(k));
	return (0);
}

/* Member id: length (0, 4, 16), flags (bit 0 index), the bytes. */
static size_t
msg_mid_enc(uint8_t *b, const struct member_id *id)
{
	b[0] = id->len;
	b[1] = id->is_index ? MSG_IDF_INDEX : 0;
	memcpy(b + 2, id->b, id->len);
	return (2 + (size_t)id->len);
}

static int
msg_mid_dec(struct msg_rd *r, struct member_id *id)
{
	const uint8_t	*p;
	uint8_t		 fl;

	memset(id, 0, sizeof(*id));
	if (msg_rd_byte(r, &id->len) == -1 || msg_rd_byte(r, &fl) == -1 ||
	    (fl & ~MSG_IDF_INDEX) != 0)
		return (-1);
	id->is_index = (fl & MSG_IDF_INDEX) != 0;
	if (!msg_mid_valid(id) || (p = msg_rd_take(r, id->len)) == NULL)
		return (-1);
	memcpy(id->b, p, id->len);
	return (0);
}

/* Server: family byte (4 or 6) then 4 or 16 bytes. */
static int
msg_srv_dec(struct msg_rd *r, struct ilb_addr *a)
{
	const uint8_t	*p;
	uint8_t		 fam;

	memset(a, 0, sizeof(*a));
	if (msg_rd_byte(r, &fam) == -1 || (fam != 4 && fam != 6))
		return (-1);
	a->family = fam == 4 ? AF_INET : AF_INET6;
	if ((p = msg_rd_take(r, fam == 4 ? 4 : 16)) == NULL)
		return (-1);
	memcpy(a->u.b, p, fam == 4 ? 4 : 16);
	return (0);
}

/* Encode conn into b (MSG_CONN_MAX bytes); its length, or 0 if invalid. */
static size_t
msg_conn_enc(uint8_t *b, const struct msg_conn *c)
{
	size_t	n, alen;

	if (!msg_key_valid(&c->key) || msg_family(&c->server) == 0 ||
	    !msg_mid_valid(&c->owner) || !msg_mid_valid(&c->backup) ||
	    c->state > MSG_CONN_STATE_MAX)
		return (0);
	n = msg_key_enc(b, &c->key);
	alen = c->server.family == AF_INET ? 4 : 16;
	b[n++] = msg_family(&c->server);
	memcpy(b + n, c->server.u.b, alen);
	n += alen;
	n += msg_mid_enc(b + n, &c->owner);
	n += msg_mid_enc(b + n, &c->backup);
	b[n++] = c->state;
	b[n++] = (uint8_t)((c->flags & ~MSG_CONN_F_TAG) |
	    (c->tag != 0 ? MSG_CONN_F_TAG : 0));
	if (c->tag != 0) {
		be16_store(b + n, c->tag);
		n += MSG_TAG_LEN;
	}
	return (n);
}

/* The 2-byte connection tag; 0 (none) is malformed where one is due. */
static int
msg_rd_tag(struct msg_rd *r, uint16_t *tag)
{
	const uint8_t	*p;

	if ((p = msg_rd_take(r, MSG_TAG_LEN)) == NULL ||
	    (*tag = be16_load(p)) == 0)
		return (-1);
	return (0);
}

/* claims 13, 17, 18: one connection of NEW or TRANSFER. */
int
msg_conn_put(uint8_t *body, size_t size, size_t *off,
    const struct msg_conn *c)
{
	uint8_t	rec[MSG_CONN_MAX];
	size_t	n;

	if ((n = msg_conn_enc(rec, c)) == 0)
		return (-1);
	return (msg_rec_put(body, size, off, rec, n));
}

/* Every field checked; bytes left over make the record malformed. */
int
msg_conn_get(const uint8_t *rec, size_t len, struct msg_conn *c)
{
	struct msg_rd	r = { rec, len, 0 };

	memset(c, 0, sizeof(*c));
	if (msg_key_dec(&r, &c->key) == -1 ||
	    msg_srv_dec(&r, &c->server) == -1 ||
	    msg_mid_dec(&r, &c->owner) == -1 ||
	    msg_mid_dec(&r, &c->backup) == -1 ||
	    msg_rd_byte(&r, &c->state) == -1 ||
	    msg_rd_byte(&r, &c->flags) == -1 ||
	    c->state > MSG_CONN_STATE_MAX ||
	    ((c->flags & MSG_CONN_F_TAG) && msg_rd_tag(&r, &c->tag) == -1) ||
	    r.off != len)
		return (-1);
	return (0);
}

/* claim 14: one connection of END (or REFRESH). */
int
msg_key_put(uint8_t *body, size_t size, size_t *off, const struct flow_key *k)
{
	uint8_t	rec[1 + FLOW_ID_MAX];

	if (!msg_key_valid(k))
		return (-1);
	return (msg_rec_put(body, size, off, rec, msg_key_enc(rec, k)));
}

int
msg_key_get(const uint8_t *rec, size_t len, struct flow_key *k)
{
	struct msg_rd	r = { rec, len, 0 };

	if (msg_key_dec(&r, k) == -1 || r.off != len)
		return (-1);
	return (0);
}

/* claim 14, with the connection tag that tells late ENDs apart. */
#define MSG_END_MAX	(1 + FLOW_ID_MAX + MSG_TAG_LEN)

/* The END record into b (MSG_END_MAX bytes); its length, 0 if invalid. */
static size_t
msg_end_enc(uint8_t *b, const struct flow_key *k, uint16_t tag)
{
	size_t	n;

	if (!msg_key_valid(k))
		return (0);
	n = msg_key_enc(b, k);
	if (tag != 0) {
		be16_store(b + n, tag);
		n += MSG_TAG_LEN;
	}
	return (n);
}

int
msg_end_put(uint8_t *body, size_t size, size_t *off, const struct flow_key *k,
    uint16_t tag)
{
	uint8_t	rec[MSG_END_MAX];
	size_t	n;

	if ((n = msg_end_enc(rec, k, tag)) == 0)
		return (-1);
	return (msg_rec_put(body, size, off, rec, n));
}

int
msg_end_get(const uint8_t *rec, size_t len, struct flow_key *k, uint16_t *tag)
{
	struct msg_rd	r = { rec, len, 0 };

	*tag = 0;
	if (msg_key_dec(&r, k) == -1 ||
	    (r.off != len && msg_rd_tag(&r, tag) == -1) || r.off != len)
		return (-1);
	return (0);
}

int
msg_done_put(uint8_t *body, size_t size, size_t *off,
    const struct msg_done *d)
{
	if (*off > size || size - *off < MSG_DONE_LEN)
		return (-1);
	be32_store(body + *off, d->xfer);
	be32_store(body + *off + 4, d->count);
	*off += MSG_DONE_LEN;
	return (0);
}

/* Longer bodies are accepted, as for ID (fields a later revision adds). */
int
msg_done_get(const struct msg_view *v, struct msg_done *d)
{
	if (v->hdr.type != MSG_T_DONE && v->hdr.type != MSG_T_ACK)
		return (-1);
	return (msg_done_dec(v->body, v->hdr.body_len, d));
}

int
msg_done_dec(const uint8_t *rec, size_t len, struct msg_done *d)
{
	if (len < MSG_DONE_LEN)
		return (-1);
	d->xfer = be32_load(rec);
	d->count = be32_load(rec + 4);
	return (0);
}

/* ---- MIXED: typed records ------------------------------------------------ */

/* Append a type byte and the record (msg_rec_put()'s framing). */
static int
msg_mix_put(uint8_t *body, size_t size, size_t *off, uint8_t type,
    const uint8_t *rec, size_t len)
{
	size_t	o;

	if (type < MSG_T_NEW || type == MSG_T_MIXED || *off > size ||
	    size - *off < MSG_MIX_HDR + len)
		return (-1);
	o = *off + 1;
	if (msg_rec_put(body, size, &o, rec, len) == -1)
		return (-1);
	body[*off] = type;
	*off = o;
	return (0);
}

int
msg_mix_conn_put(uint8_t *body, size_t size, size_t *off, uint8_t type,
    const struct msg_conn *c)
{
	uint8_t	rec[MSG_CONN_MAX];
	size_t	n;

	if ((n = msg_conn_enc(rec, c)) == 0)
		return (-1);
	return (msg_mix_put(body, size, off, type, rec, n));
}

int
msg_mix_end_put(uint8_t *body, size_t size, size_t *off, uint8_t type,
    const struct flow_key *k, uint16_t tag)
{
	uint8_t	rec[MSG_END_MAX];
	size_t	n;

	if ((n = msg_end_enc(rec, k, tag)) == 0)
		return (-1);
	return (msg_mix_put(body, size, off, type, rec, n));
}

int
msg_mix_done_put(uint8_t *body, size_t size, size_t *off, uint8_t type,
    const struct msg_done *d)
{
	uint8_t	rec[MSG_DONE_LEN];

	be32_store(rec, d->xfer);
	be32_store(rec + 4, d->count);
	return (msg_mix_put(body, size, off, type, rec, sizeof(rec)));
}

int
msg_mix_next(const struct msg_view *v, size_t *off, uint8_t *type,
    const uint8_t **rec, size_t *len)
{
	size_t	blen = v->hdr.body_len, rlen;

	if (*off == blen)
		return (0);
	if (*off > blen || blen - *off < MSG_MIX_HDR)
		return (-1);
	*type = v->body[*off];
	if (*type < MSG_T_NEW || *type == MSG_T_MIXED)
		return (-1);
	rlen = be16_load(v->body + *off + 1);
	if (blen - *off - MSG_MIX_HDR < rlen)
		return (-1);
	*rec = v->body + *off + MSG_MIX_HDR;
	*len = rlen;
	*off += MSG_MIX_HDR + rlen;
	return (1);
}

/* ---- ADMIN: cluster-wide server drain and weight ------------------------ */

int
msg_admin_put(uint8_t *body, size_t size, size_t *off,
    const struct msg_admin *a)
{
	uint8_t	rec[MSG_ADMIN_MAX];
	size_t	n = 0, nlen = strnlen(a->service, sizeof(a->service));

	if (!msg_mid_valid(&a->origin) || a->origin.len == 0 ||
	    (a->flags & ~MSG_ADMIN_F_KNOWN) != 0 ||
	    a->weight > MSG_ADMIN_WEIGHT_MAX ||
	    msg_family(&a->server) == 0 || nlen == 0 ||
	    nlen > MSG_ADMIN_NAME_MAX)
		return (-1);
	be64_store(rec, a->version);
	n = 8;
	n += msg_mid_enc(rec + n, &a->origin);
	rec[n++] = a->flags;
	be16_store(rec + n, a->weight);
	n += 2;
	rec[n++] = msg_family(&a->server);
	memcpy(rec + n, a->server.u.b, a->server.family == AF_INET ? 4 : 16);
	n += a->server.family == AF_INET ? 4 : 16;
	rec[n++] = (uint8_t)nlen;
	memcpy(rec + n, a->service, nlen);
	n += nlen;
	return (msg_rec_put(body, size, off, rec, n));
}

int
msg_admin_get(const uint8_t *rec, size_t len, struct msg_admin *a)
{
	struct msg_rd	 r = { rec, len, 0 };
	const uint8_t	*p;
	uint8_t		 nlen;
	size_t		 i;

	memset(a, 0, sizeof(*a));
	if ((p = msg_rd_take(&r, 8)) == NULL)
		return (-1);
	a->version = be64_load(p);
	if (msg_mid_dec(&r, &a->origin) == -1 || a->origin.len == 0 ||
	    msg_rd_byte(&r, &a->flags) == -1 ||
	    (a->flags & ~MSG_ADMIN_F_KNOWN) != 0 ||
	    (p = msg_rd_take(&r, 2)) == NULL ||
	    (a->weight = be16_load(p)) > MSG_ADMIN_WEIGHT_MAX ||
	    msg_srv_dec(&r, &a->server) == -1 ||
	    msg_rd_byte(&r, &nlen) == -1 || nlen == 0 ||
	    nlen > MSG_ADMIN_NAME_MAX || (p = msg_rd_take(&r, nlen)) == NULL ||
	    r.off != r.len)
		return (-1);
	for (i = 0; i < nlen; i++)
		if (p[i] == '\0')
			return (-1);
	memcpy(a->service, p, nlen);
	return (0);
}

int
msg_admin_cmp(const struct msg_admin *a, const struct msg_admin *b)
{
	int	c;

	if (a->version != b->version)
		return (a->version < b->version ? -1 : 1);
	if (a->origin.len != b->origin.len)
		return (a->origin.len < b->origin.len ? -1 : 1);
	c = memcmp(a->origin.b, b->origin.b, a->origin.len);
	return (c < 0 ? -1 : c > 0 ? 1 : 0);
}

/* Every record of an ADMIN body decodes; 0, or -1. */
static int
msg_admin_check(const struct msg_view *v)
{
	struct msg_admin	 a;
	const uint8_t		*rec;
	size_t			 off = 0, len;
	int			 rv;

	while ((rv = msg_rec_next(v, &off, &rec, &len)) == 1)
		if (msg_admin_get(rec, len, &a) == -1)
			return (-1);
	return (rv);
}

const char *
msg_reason_name(enum msg_reason r)
{
	if ((unsigned int)r >= MSG_R_MAX)
		return ("unknown");
	return (msg_reason_names[r]);
}

const char *
msg_type_name(unsigned int t)
{
	if (t > MSG_T_MAX || msg_type_names[t] == NULL)
		return ("unknown");
	return (msg_type_names[t]);
}

const char *
msg_state_name(unsigned int s)
{
	switch (s) {
	case MSG_S_JOINING:
		return ("joining");
	case MSG_S_ACTIVE:
		return ("active");
	case MSG_S_LEAVING:
		return ("leaving");
	default:
		return ("unknown");
	}
}

const char *
msg_id_fmt(const struct member_id *id, char *buf, size_t len)
{
	if (id->is_index && id->len == 4)
		snprintf(buf, len, "%u", (unsigned int)be32_load(id->b));
	else if ((id->len != 4 && id->len != 16) || inet_ntop(id->len == 4 ?
	    AF_INET : AF_INET6, id->b, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return (buf);
}
