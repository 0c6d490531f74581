/*
 * fuzz_msg.c: the cluster message codec (every type), the MAC, the pure
 * membership table and what the replication layer does with the records.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cluster.h"
#include "conntab.h"
#include "fuzz.h"
#include "lb.h"
#include "msg.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The cluster key of the seeds: bytes 0x00..0x1f. */
static uint8_t			fuzz_key[MSG_KEY_LEN];
static struct cluster_table	fuzz_table;
static struct ilb_addr		fuzz_from[4];
static uint64_t			fuzz_delivered;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned int	i;

	(void)argc;
	(void)argv;
	if (sodium_init() == -1)
		abort();
	for (i = 0; i < sizeof(fuzz_key); i++)
		fuzz_key[i] = (uint8_t)i;
	fuzz_world_init();
	util_addr_parse("10.0.0.2", &fuzz_from[0]);
	util_addr_parse("10.0.0.3", &fuzz_from[1]);
	util_addr_parse("2001:db8::99", &fuzz_from[2]);
	util_addr_parse("10.0.0.1", &fuzz_from[3]);	/* our own */
	return (0);
}

/* The slot of a member id as the replication layer finds it. */
static uint16_t
fuzz_id_slot(const struct member_id *id)
{
	unsigned int	i;

	for (i = 0; id->len != 0 && i < FUZZ_MEMBERS; i++)
		if (memcmp(id, &fuzz_world.ids[i], sizeof(*id)) == 0)
			return (fuzz_world.slots[i]);
	return (CONN_SLOT_NONE);
}

/* NEW and TRANSFER: decode, re-encode to the same bytes, learn. */
static void
fuzz_conn(const uint8_t *rec, size_t len, uint64_t now)
{
	struct msg_conn	mc;
	uint8_t		out[2 + MSG_CONN_MAX];
	size_t		off = 0;
	int		svc, srv;

	if (msg_conn_get(rec, len, &mc) == -1)
		return;
	FUZZ_CHECK(msg_conn_put(out, sizeof(out), &off, &mc) == 0);
	FUZZ_CHECK(off == 2 + len && memcmp(out + 2, rec, len) == 0);
	if ((svc = lb_service_find(fuzz_lb, &mc.key)) < 0 ||
	    (srv = lb_service_server(fuzz_lb, (unsigned int)svc,
	    &mc.server)) < 0)
		return;
	(void)lb_learn_conn(fuzz_lb, &mc.key, (unsigned int)svc,
	    (unsigned int)srv, fuzz_id_slot(&mc.owner),
	    fuzz_id_slot(&mc.backup), (enum conn_state)mc.state,
	    ((mc.flags & MSG_CONN_F_FRESH) ? LB_LEARN_FRESH : 0) |
	    ((mc.flags & MSG_CONN_F_REOPEN) ? LB_LEARN_REOPEN : 0) |
	    LB_LEARN_TAG(mc.tag), now);
}

/* END and REFRESH: a key each, END's maybe with a connection tag. */
static void
fuzz_key_rec(uint8_t type, const uint8_t *rec, size_t len, uint64_t now)
{
	struct lb_record	lr;
	uint8_t			out[2 + 1 + FLOW_ID_MAX + MSG_TAG_LEN];
	size_t			off = 0;
	int			svc;

	memset(&lr, 0, sizeof(lr));
	if (msg_end_get(rec, len, &lr.key, &lr.tag) == -1)
		return;
	FUZZ_CHECK(msg_end_put(out, sizeof(out), &off, &lr.key, lr.tag) == 0);
	FUZZ_CHECK(off == 2 + len && memcmp(out + 2, rec, len) == 0);
	if ((svc = lb_service_find(fuzz_lb, &lr.key)) < 0)
		return;
	if (type == MSG_T_REFRESH) {
		(void)lb_refresh(fuzz_lb, &lr.key, now);
		return;
	}
	lr.type = LB_REC_END;
	lr.service = (uint16_t)svc;
	(void)lb_learn_end(fuzz_lb, &lr, now);
}

/* DONE and ACK: the 8 bytes (longer accepted), re-encoded the same. */
static void
fuzz_done_rec(const uint8_t *rec, size_t len)
{
	struct msg_done	d;
	uint8_t		b[MSG_DONE_LEN];
	size_t		off = 0;

	if (msg_done_dec(rec, len, &d) == -1) {
		FUZZ_CHECK(len < MSG_DONE_LEN);
		return;
	}
	FUZZ_CHECK(msg_done_put(b, sizeof(b), &off, &d) == 0);
	FUZZ_CHECK(memcmp(b, rec, MSG_DONE_LEN) == 0);
}

/*
 * The records of a MIXED message (msg_decode() checked the framing): each
 * by its type, and re-encoded by its msg_mix_*_put() to the same bytes.
 */
static void
fuzz_mixed(const struct msg_view *v, uint64_t now)
{
	static uint8_t	 out[MSG_MIX_HDR + 65536];
	struct msg_conn	 mc;
	struct flow_key	 k;
	struct msg_done	 d;
	const uint8_t	*rec;
	size_t		 off = 0, len, o, n = 0;
	uint16_t	 tag;
	uint8_t		 type;
	int		 rv;

	while ((rv = msg_mix_next(v, &off, &type, &rec, &len)) == 1) {
		FUZZ_CHECK(rec >= v->body + MSG_MIX_HDR && rec + len <=
		    v->body + v->hdr.body_len);
		FUZZ_CHECK(++n <= v->hdr.body_len / MSG_MIX_HDR);
		FUZZ_CHECK(type >= MSG_T_NEW && type != MSG_T_MIXED);
		o = 0;
		switch (type) {
		case MSG_T_NEW:
		case MSG_T_TRANSFER:
			if (msg_conn_get(rec, len, &mc) == 0) {
				FUZZ_CHECK(msg_mix_conn_put(out, sizeof(out),
				    &o, type, &mc) == 0);
				FUZZ_CHECK(o == MSG_MIX_HDR + len &&
				    memcmp(out, rec - MSG_MIX_HDR, o) == 0);
			}
			fuzz_conn(rec, len, now);
			break;
		case MSG_T_END:
		case MSG_T_REFRESH:
			if (msg_end_get(rec, len, &k, &tag) == 0) {
				FUZZ_CHECK(msg_mix_end_put(out, sizeof(out),
				    &o, type, &k, tag) == 0);
				FUZZ_CHECK(o == MSG_MIX_HDR + len &&
				    memcmp(out, rec - MSG_MIX_HDR, o) == 0);
			}
			fuzz_key_rec(type, rec, len, now);
			break;
		case MSG_T_DONE:
		case MSG_T_ACK:
			if (len == MSG_DONE_LEN &&
			    msg_done_dec(rec, len, &d) == 0) {
				FUZZ_CHECK(msg_mix_done_put(out, sizeof(out),
				    &o, type, &d) == 0);
				FUZZ_CHECK(memcmp(out, rec - MSG_MIX_HDR,
				    o) == 0);
			}
			fuzz_done_rec(rec, len);
			break;
		default:		/* a later revision's type: skipped */
			break;
		}
	}
	FUZZ_CHECK(rv == 0);		/* msg_decode() checked the framing */
	FUZZ_CHECK(off == v->hdr.body_len);
}

/*
 * The records of an ADMIN message: msg_decode() checked each decodes;
 * each is re-encoded by msg_admin_put() to the same bytes.
 */
static void
fuzz_admin(const struct msg_view *v)
{
	static uint8_t		 out[2 + MSG_ADMIN_MAX];
	struct msg_admin	 a;
	const uint8_t		*rec;
	size_t			 off = 0, len, o;
	int			 rv;

	while ((rv = msg_rec_next(v, &off, &rec, &len)) == 1) {
		FUZZ_CHECK(msg_admin_get(rec, len, &a) == 0);
		FUZZ_CHECK(msg_admin_cmp(&a, &a) == 0);
		o = 0;
		FUZZ_CHECK(msg_admin_put(out, sizeof(out), &o, &a) == 0);
		FUZZ_CHECK(o == 2 + len && memcmp(out, rec - 2, o) == 0);
	}
	FUZZ_CHECK(rv == 0);		/* msg_decode() checked the framing */
}

/* Every record of any type, as each record decoder, then by type. */
static void
fuzz_records(const struct msg_view *v, uint64_t now)
{
	struct msg_conn		 mc;
	struct flow_key		 k;
	struct msg_done		 d;
	const uint8_t		*rec;
	size_t			 off = 0, len, n = 0;
	int			 rv;

	if (v->hdr.type == MSG_T_MIXED) {
		fuzz_mixed(v, now);
		return;
	}
	if (v->hdr.type == MSG_T_ADMIN) {
		fuzz_admin(v);
		return;
	}
	while ((rv = msg_rec_next(v, &off, &rec, &len)) == 1) {
		FUZZ_CHECK(rec >= v->body && rec + len <= v->body +
		    v->hdr.body_len);
		FUZZ_CHECK(++n <= v->hdr.body_len / 2);
		switch (v->hdr.type) {
		case MSG_T_NEW:
		case MSG_T_TRANSFER:
			fuzz_conn(rec, len, now);
			break;
		case MSG_T_END:
		case MSG_T_REFRESH:
			fuzz_key_rec(v->hdr.type, rec, len, now);
			break;
		default:
			(void)msg_conn_get(rec, len, &mc);
			(void)msg_key_get(rec, len, &k);
			break;
		}
	}
	FUZZ_CHECK(rv == 0 || rv == -1);
	FUZZ_CHECK(off <= v->hdr.body_len);
	if (msg_done_get(v, &d) == 0) {
		uint8_t	b[MSG_DONE_LEN];

		off = 0;
		FUZZ_CHECK(v->hdr.type == MSG_T_DONE ||
		    v->hdr.type == MSG_T_ACK);
		FUZZ_CHECK(msg_done_put(b, sizeof(b), &off, &d) == 0);
		FUZZ_CHECK(memcmp(b, v->body, MSG_DONE_LEN) == 0);
	}
}

/* An ID body decoded, encoded again and decoded again reads the same. */
static void
fuzz_id_roundtrip(const struct msg_view *v, const struct msg_id *id)
{
	uint8_t		buf[MSG_HDR_LEN + MSG_ID_BODY_LEN + MSG_MAC_LEN];
	struct msg_view	v2;
	struct msg_id	id2;
	size_t		n;

	n = msg_encode_id(buf, sizeof(buf), &v->hdr, id, fuzz_key);
	FUZZ_CHECK(n == sizeof(buf));
	FUZZ_CHECK(msg_decode(buf, n, &v2) == MSG_OK);
	FUZZ_CHECK(msg_verify(buf, &v2, fuzz_key) == MSG_OK);
	FUZZ_CHECK(msg_decode_id(&v2, &id2) == MSG_OK);
	FUZZ_CHECK(memcmp(id, &id2, sizeof(id2)) == 0);
	FUZZ_CHECK(v2.hdr.epoch == v->hdr.epoch && v2.hdr.seq == v->hdr.seq);
	FUZZ_CHECK(memcmp(&v2.hdr.sender, &v->hdr.sender,
	    sizeof(v2.hdr.sender)) == 0);
}

/* Encoding a decoded header and body gives back the datagram. */
static void
fuzz_roundtrip(const uint8_t *buf, const struct msg_view *v, int macked)
{
	static uint8_t	out[65536 + MSG_HDR_LEN + MSG_MAC_LEN];
	size_t		n;

	n = msg_encode(out, sizeof(out), &v->hdr, v->body, v->hdr.body_len,
	    (v->hdr.flags & MSG_F_AUTH) ? fuzz_key : NULL);
	if (v->hdr.body_len > MSG_BODY_MAX) {
		FUZZ_CHECK(n == 0);
		return;
	}
	FUZZ_CHECK(n == v->len);
	if (!(v->hdr.flags & MSG_F_AUTH) || macked)
		FUZZ_CHECK(memcmp(out, buf, n) == 0);
	else
		FUZZ_CHECK(memcmp(out, buf, n - MSG_MAC_LEN) == 0);
}

static void
fuzz_msg_cb(void *arg, uint16_t slot, const struct msg_view *v)
{
	(void)arg;
	FUZZ_CHECK(slot < CLUSTER_MEMBERS_MAX);
	FUZZ_CHECK(v->hdr.type != MSG_T_ID);
	fuzz_delivered++;
}

static void
fuzz_event_cb(void *arg, enum cluster_event ev, uint16_t slot,
    const struct cluster_member *m)
{
	(void)arg;
	FUZZ_CHECK(ev >= CLUSTER_E_JOIN && ev <= CLUSTER_E_GONE);
	FUZZ_CHECK(slot < CLUSTER_MEMBERS_MAX && m->in_use);
	/* this node only for its own state: it joins again on a merge */
	FUZZ_CHECK(!m->self || ev == CLUSTER_E_STATE);
}

/* The membership table's view stays consistent. */
static void
fuzz_check_table(const struct cluster_table *t)
{
	struct member_id	ids[CLUSTER_MEMBERS_MAX];
	uint16_t		slots[CLUSTER_MEMBERS_MAX];
	struct ilb_addr		addrs[CLUSTER_MEMBERS_MAX];
	size_t			n, i, self;

	FUZZ_CHECK(t->nslots <= CLUSTER_MEMBERS_MAX);
	n = cluster_table_active(t, ids, slots, addrs, CLUSTER_MEMBERS_MAX,
	    &self);
	FUZZ_CHECK(n <= t->nslots);
	FUZZ_CHECK(self == (size_t)-1 || self < n);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(slots[i] < t->nslots && t->m[slots[i]].in_use);
		FUZZ_CHECK(cluster_table_find_id(t, &ids[i]) == slots[i]);
		if (i > 0)
			FUZZ_CHECK(memcmp(&ids[i - 1], &ids[i],
			    sizeof(ids[i])) != 0);
	}
	n = cluster_table_joining(t, ids, slots, addrs, CLUSTER_MEMBERS_MAX);
	FUZZ_CHECK(n <= t->nslots);
}

/* One datagram, as cluster.c and peer.c take it. */
static void
fuzz_datagram(struct cluster_table *t, const struct fuzz_frame *f,
    uint64_t now)
{
	static uint8_t		 buf[65536 + 3];
	const struct ilb_addr	*from = &fuzz_from[f->ctl & 3];
	struct msg_view		 v;
	struct msg_id		 id;
	enum msg_reason		 r;
	int			 macked = 0;

	memcpy(buf, f->p, f->len);
	memset(&v, 0, sizeof(v));
	if ((r = msg_decode(buf, f->len, &v)) != MSG_OK) {
		FUZZ_CHECK(r < MSG_R_MAX && msg_reason_name(r) != NULL);
		cluster_table_reject(t, r, from);
		return;
	}
	FUZZ_CHECK(v.body == buf + MSG_HDR_LEN && v.len == f->len);
	/* ctl bit 2: sign it, so that the mutated message verifies */
	if ((f->ctl & 4) && (v.hdr.flags & MSG_F_AUTH)) {
		crypto_auth_hmacsha512256(buf + MSG_HDR_LEN + v.hdr.body_len,
		    buf, MSG_HDR_LEN + v.hdr.body_len, fuzz_key);
		macked = 1;
	}
	(void)msg_verify(buf, &v, NULL);
	r = msg_verify(buf, &v, fuzz_key);
	if (macked)
		FUZZ_CHECK(r == MSG_OK);
	fuzz_roundtrip(buf, &v, macked);
	fuzz_records(&v, now);
	if (v.hdr.type == MSG_T_ID) {
		if (msg_decode_id(&v, &id) != MSG_OK)
			return;
		fuzz_id_roundtrip(&v, &id);
		/* ctl bit 3: the address the ID names is the source */
		(void)cluster_table_input(t, &v, &id, (f->ctl & 8) ? &id.addr :
		    from, now);
	} else if (f->ctl & 16)
		(void)cluster_table_unicast(t, &v, from);
	else
		(void)cluster_table_msg(t, &v, from);
	fuzz_check_table(t);
}

/*
 * Input: frames (fuzz.h), each one datagram. Control byte: bits 0-1 the
 * source address, bit 2 re-sign with the key, bit 3 take the source from
 * the ID body, bit 4 reliable channel, bits 5-7 advance the clock
 * (0..7 * 300 ms, past dead_ms of 1000 in a few frames).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cluster_table	*t = &fuzz_table;
	struct fuzz_in		 in = { data, size, 0 };
	struct fuzz_frame	 f;
	struct ilb_addr		 self_addr = fuzz_from[3];
	uint64_t		 now = fuzz_now;

	fuzz_world_reset(0);
	cluster_table_init(t, &fuzz_world.ids[0], &self_addr, 777,
	    SCORING_CRC32C_MIX, 1000, now);
	t->msg_cb = fuzz_msg_cb;
	t->event_cb = fuzz_event_cb;
	if (size > 0 && (data[0] & 0x80))
		(void)cluster_table_set_state(t, MSG_S_ACTIVE);
	while (fuzz_next(&in, &f)) {
		now += (uint64_t)(f.ctl >> 5) * 300;
		fuzz_datagram(t, &f, now);
		(void)cluster_table_expire(t, now);
		fuzz_check_table(t);
	}
	fuzz_world_expire(now);
	return (0);
}
