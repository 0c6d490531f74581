/* test_admin.c: cluster-wide drain and weight: codec, order, loss, restart. */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "admin.h"
#include "lb.h"
#include "msg.h"
#include "sched.h"
#include "world.h"

#define N	3		/* members */
#define T0	1000000		/* monotonic ms */
#define WALL	1700000000000ULL /* wall clock ms */

/* Three members, each its lb and admin; a datagram network that loses. */
struct net {
	struct lb		lb[N];
	struct admin		ad[N];
	int			up[N];		/* receives */
	int			lossy;		/* every datagram lost */
	unsigned int		sent[N];
};

static struct net	*net;

static int
net_send(void *arg, const uint8_t *body, size_t len)
{
	struct msg_view	v;
	size_t		from = (size_t)(uintptr_t)arg, i;

	memset(&v, 0, sizeof(v));
	v.hdr.type = MSG_T_ADMIN;
	v.hdr.body_len = (uint16_t)len;
	v.body = body;
	net->sent[from]++;
	if (net->lossy)
		return (0);
	for (i = 0; i < N; i++)
		if (i != from && net->up[i])
			admin_input(&net->ad[i], &v);
	return (0);
}

static void
member_start(size_t i, const struct ilbd_conf *c)
{
	struct member_id	id = { 4, 0, { 10, 0, 0, 0 } };

	id.b[3] = (uint8_t)(1 + i);
	assert_int_equal(lb_init(&net->lb[i], c, T0), 0);
	admin_init(&net->ad[i], &net->lb[i], &id, net_send,
	    (void *)(uintptr_t)i);
	net->lb[i].admin = &net->ad[i];
	net->up[i] = 1;
}

static int
setup(void **state)
{
	struct ilbd_conf	*c = world_conf_new(1024, 1024);
	size_t			 i;

	(void)state;
	if ((net = calloc(1, sizeof(*net))) == NULL)
		return (-1);
	world_web(c, "web", 10, SCHED_WLC, 3);	/* 192.0.2.21..23 */
	for (i = 0; i < N; i++)
		member_start(i, c);
	world_conf_free(c);
	return (0);
}

static int
teardown(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < N; i++)
		lb_free(&net->lb[i]);
	free(net);
	return (0);
}

static struct ilb_addr
srv(unsigned int n)
{
	struct ilb_addr	a;

	world_addr4(&a, 192, 0, 2, (uint8_t)n);
	return (a);
}

static int
drained(size_t i, unsigned int j)
{
	return (net->lb[i].svc[0].sched.srv[j].drained);
}

static uint32_t
weight(size_t i, unsigned int j)
{
	return (net->lb[i].svc[0].sched.srv[j].weight);
}

/* A drain on one member drains the server on every member. */
static void
test_drain_everywhere(void **state)
{
	struct ilb_addr		a = srv(22);
	struct msg_admin	r;
	size_t			i;

	(void)state;
	assert_int_equal(admin_command(&net->ad[0], "web", &a, 1, -1, WALL,
	    &r), 0);
	assert_int_equal(r.version, WALL);
	for (i = 0; i < N; i++) {
		assert_int_equal(drained(i, 1), 1);
		assert_false(sched_eligible(&net->lb[i].svc[0].sched, 1));
		assert_true(sched_eligible(&net->lb[i].svc[0].sched, 0));
		assert_non_null(admin_find(&net->ad[i], "web", &a));
	}
	assert_int_equal(net->ad[1].stats.admin_applied, 1);
	/* a weight later, from another member, keeps the drain */
	assert_int_equal(admin_command(&net->ad[2], "web", &a, -1, 5, WALL - 50,
	    &r), 0);
	assert_int_equal(r.version, WALL + 1);	/* above all seen: Lamport */
	for (i = 0; i < N; i++) {
		assert_int_equal(drained(i, 1), 1);
		assert_int_equal(weight(i, 1), 5);
	}
	/* enable: drained no more, weight kept */
	assert_int_equal(admin_command(&net->ad[1], "web", &a, 0, -1, WALL + 1,
	    &r), 0);
	for (i = 0; i < N; i++) {
		assert_int_equal(drained(i, 1), 0);
		assert_int_equal(weight(i, 1), 5);
		assert_true(sched_eligible(&net->lb[i].svc[0].sched, 1));
	}
	/* a server or service not here: refused, nothing sent */
	a = srv(29);
	assert_int_equal(admin_command(&net->ad[0], "web", &a, 1, -1, WALL,
	    &r), -1);
	a = srv(22);
	assert_int_equal(admin_command(&net->ad[0], "www", &a, 1, -1, WALL,
	    &r), -1);
}

/* Lost datagrams: the burst and the re-announce bring every member in. */
static void
test_loss_and_reannounce(void **state)
{
	struct ilb_addr	a = srv(21);
	struct msg_view	v;
	uint8_t		body[MSG_BODY_MAX];
	size_t		off = 0;
	unsigned int	sent;
	uint64_t	now = T0;

	(void)state;
	net->lossy = 1;
	assert_int_equal(admin_command(&net->ad[0], "web", &a, 1, -1, WALL,
	    NULL), 0);
	assert_int_equal(net->sent[0], 1);
	assert_int_equal(drained(1, 0), 0);		/* lost */
	net->lossy = 0;
	/* the burst: sent again at the next tick */
	admin_tick(&net->ad[0], now += ADMIN_TICK_MS);
	assert_int_equal(net->sent[0], 2);
	assert_int_equal(drained(1, 0), 1);
	assert_int_equal(drained(2, 0), 1);
	/* then every ADMIN_ANNOUNCE_MS at most, by every member */
	admin_tick(&net->ad[0], now += ADMIN_TICK_MS);
	sent = net->sent[0];
	admin_tick(&net->ad[0], now += ADMIN_TICK_MS);
	assert_int_equal(net->sent[0], sent);
	admin_tick(&net->ad[0], now += ADMIN_ANNOUNCE_MS);
	assert_int_equal(net->sent[0], sent + 1);
	admin_tick(&net->ad[1], now);
	assert_true(net->sent[1] >= 1);
	/* what is heard again is stale: counted, nothing changes */
	assert_true(net->ad[2].stats.admin_stale >= 2);
	/* a member with nothing to say sends nothing */
	admin_tick(&net->ad[2], now);
	assert_int_equal(net->sent[2], 1);
	/* a record for a service not here is counted and not kept */
	{
		struct msg_admin	r;

		memset(&r, 0, sizeof(r));
		r.version = WALL + 9;
		r.origin.len = 4;
		r.flags = MSG_ADMIN_F_DRAIN | MSG_ADMIN_F_DRAINED;
		r.server = a;
		strcpy(r.service, "other");
		assert_int_equal(msg_admin_put(body, sizeof(body), &off, &r),
		    0);
		memset(&v, 0, sizeof(v));
		v.hdr.type = MSG_T_ADMIN;
		v.hdr.body_len = (uint16_t)off;
		v.body = body;
		admin_input(&net->ad[1], &v);
		assert_int_equal(net->ad[1].stats.admin_unknown, 1);
		assert_int_equal(net->ad[1].n, 1);
	}
}

/* Two commands at the same version: the higher origin wins everywhere. */
static void
test_concurrent(void **state)
{
	struct ilb_addr	a = srv(23);
	uint64_t	now = T0;
	size_t		i;

	(void)state;
	net->lossy = 1;
	assert_int_equal(admin_command(&net->ad[0], "web", &a, 1, -1, WALL,
	    NULL), 0);
	assert_int_equal(admin_command(&net->ad[2], "web", &a, 0, 3, WALL,
	    NULL), 0);
	net->lossy = 0;
	for (i = 0; i < N; i++)
		admin_tick(&net->ad[i], now += ADMIN_TICK_MS);
	/* member 3 (10.0.0.3) wins over 10.0.0.1 */
	for (i = 0; i < N; i++) {
		assert_int_equal(drained(i, 2), 0);
		assert_int_equal(weight(i, 2), 3);
		assert_int_equal(admin_find(&net->ad[i], "web", &a)->origin.b[3],
		    3);
	}
}

/* A member that restarts learns the state when the others hear it. */
static void
test_restart(void **state)
{
	struct ilbd_conf	*c = world_conf_new(1024, 1024);
	struct ilb_addr		 a = srv(22);
	uint64_t		 now = T0;
	unsigned int		 sent;
	int			 i;

	(void)state;
	assert_int_equal(admin_command(&net->ad[1], "web", &a, 1, -1, WALL,
	    NULL), 0);
	assert_int_equal(drained(2, 1), 1);
	/* bursts over, the next re-announces due in ADMIN_ANNOUNCE_MS */
	for (i = 0; i < ADMIN_BURST; i++) {
		admin_tick(&net->ad[0], now += ADMIN_TICK_MS);
		admin_tick(&net->ad[1], now);
	}
	lb_free(&net->lb[2]);
	world_web(c, "web", 10, SCHED_WLC, 3);
	member_start(2, c);
	world_conf_free(c);
	assert_int_equal(drained(2, 1), 0);		/* a new life */
	admin_tick(&net->ad[0], now += 10);		/* not due yet */
	admin_tick(&net->ad[1], now);
	assert_int_equal(drained(2, 1), 0);
	admin_member_joined(&net->ad[0]);		/* sees it join */
	sent = net->sent[0];
	admin_tick(&net->ad[0], now += ADMIN_TICK_MS);
	assert_int_equal(drained(2, 1), 1);
	admin_tick(&net->ad[0], now += ADMIN_TICK_MS);	/* twice */
	admin_tick(&net->ad[0], now += ADMIN_TICK_MS);	/* then not */
	assert_int_equal(net->sent[0], sent + 2);
	assert_int_equal(admin_find(&net->ad[2], "web", &a)->origin.b[3], 2);
	/* its next command is above what it learned */
	assert_int_equal(admin_command(&net->ad[2], "web", &a, 0, -1, 5,
	    NULL), 0);
	assert_int_equal(drained(0, 1), 0);
	assert_int_equal(drained(1, 1), 0);
}

/* A reload that removes a server drops its record; others stay applied. */
static void
test_reload(void **state)
{
	struct ilbd_conf	*c = world_conf_new(1024, 1024);
	struct ilb_addr		 a = srv(23), b = srv(21);
	char			*cause = NULL;

	(void)state;
	assert_int_equal(admin_command(&net->ad[0], "web", &a, 1, -1, WALL,
	    NULL), 0);
	assert_int_equal(admin_command(&net->ad[0], "web", &b, -1, 7, WALL,
	    NULL), 0);
	assert_int_equal(net->ad[0].n, 2);
	world_web(c, "web", 10, SCHED_WLC, 2);		/* .23 removed */
	c->services[0].servers[0].weight = 2;		/* .21 weighed 2 */
	assert_int_equal(lb_reload(&net->lb[0], c, T0, NULL, &cause), 0);
	world_conf_free(c);
	admin_reload(&net->ad[0]);
	assert_int_equal(net->ad[0].n, 1);
	assert_null(admin_find(&net->ad[0], "web", &a));
	assert_int_equal(weight(0, 0), 7);		/* cluster-wide wins */
}

/* The state file in node.state_dir: a whole-cluster restart keeps it. */
static void
test_persist(void **state)
{
	struct ilbd_conf	*c = world_conf_new(1024, 1024);
	struct ilb_addr		 a = srv(22), b = srv(23);
	char			 dir[] = "/tmp/test_admin.XXXXXX", path[64];
	char			*cause = NULL;
	FILE			*f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	admin_set_dir(&net->ad[0], dir, NULL);
	assert_int_equal(admin_load(&net->ad[0], &cause), 0);	/* none */
	assert_int_equal(admin_command(&net->ad[0], "web", &a, 1, -1, WALL,
	    NULL), 0);
	assert_int_equal(admin_command(&net->ad[0], "web", &b, -1, 4, WALL,
	    NULL), 0);
	assert_int_equal(net->ad[0].stats.admin_save_errors, 0);
	/* a line that is not a record is skipped */
	snprintf(path, sizeof(path), "%s/%s", dir, ADMIN_FILE);
	assert_non_null(f = fopen(path, "a"));
	fputs("00zz\n", f);
	fclose(f);
	/* member 0 starts again, alone: the file gives the state back */
	lb_free(&net->lb[0]);
	world_web(c, "web", 10, SCHED_WLC, 3);
	member_start(0, c);
	world_conf_free(c);
	assert_int_equal(drained(0, 1), 0);
	admin_set_dir(&net->ad[0], dir, NULL);
	assert_int_equal(admin_load(&net->ad[0], &cause), 2);
	assert_null(cause);
	assert_int_equal(drained(0, 1), 1);
	assert_int_equal(weight(0, 2), 4);
	/* its next command is above what the file held */
	assert_int_equal(admin_command(&net->ad[0], "web", &a, 0, -1, 1,
	    NULL), 0);
	assert_true(admin_find(&net->ad[0], "web", &a)->version > WALL);
	assert_int_equal(unlink(path), 0);
	/* a directory that cannot be written: counted, the state kept */
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(admin_command(&net->ad[0], "web", &a, 1, -1, WALL,
	    NULL), 0);
	assert_int_equal(net->ad[0].stats.admin_save_errors, 1);
	assert_int_equal(drained(0, 1), 1);
	assert_int_equal(admin_load(&net->ad[0], &cause), 0);	/* ENOENT */
}

/* ---- the ADMIN codec (msg.c) ---- */

static const uint8_t	key[MSG_KEY_LEN] = { 0x42, 0x42, 0x42, 0x42 };

/* Decode then verify, as the daemon does. */
static enum msg_reason
check(const uint8_t *buf, size_t len, const uint8_t *k, struct msg_view *v)
{
	enum msg_reason	r;

	if ((r = msg_decode(buf, len, v)) != MSG_OK)
		return (r);
	return (msg_verify(buf, v, k));
}

/* An authenticated message of type with a raw body, from index id 3. */
static size_t
raw(uint8_t *buf, size_t size, uint8_t type, const uint8_t *body,
    size_t blen)
{
	struct msg_hdr	h;

	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.type = type;
	h.epoch = 5;
	h.seq = 7;
	h.sender.len = 4;
	h.sender.is_index = 1;
	h.sender.b[3] = 3;
	return (msg_encode(buf, size, &h, body, blen, key));
}

static void
admin_fixture(struct msg_admin *a, const char *server)
{
	memset(a, 0, sizeof(*a));
	a->version = 0x0000019a2b3c4d5eULL;
	a->origin.len = 4;
	a->origin.b[0] = 10;
	a->origin.b[3] = 7;
	a->flags = MSG_ADMIN_F_DRAIN | MSG_ADMIN_F_DRAINED | MSG_ADMIN_F_WEIGHT;
	a->weight = 1000;
	assert_int_equal(util_addr_parse(server, &a->server), 0);
	strcpy(a->service, "web-1.a");
}

/* ADMIN: round trip v4 and v6, through msg_decode() and the records. */
static void
test_admin_roundtrip(void **state)
{
	uint8_t			 buf[MSG_MAX_LEN], body[MSG_BODY_MAX];
	struct msg_admin	 a, b, got;
	struct msg_view		 v;
	const uint8_t		*rec;
	size_t			 off = 0, len, rlen;

	(void)state;
	admin_fixture(&a, "192.0.2.21");
	admin_fixture(&b, "2001:db8::21");
	b.flags = MSG_ADMIN_F_WEIGHT;
	b.weight = 0;
	memset(b.service, 'x', MSG_ADMIN_NAME_MAX);
	assert_int_equal(msg_admin_put(body, sizeof(body), &off, &a), 0);
	/* 2 + 8 + 2 + 4 + 1 + 2 + 1 + 4 + 1 + 7 */
	assert_int_equal(off, 32);
	assert_int_equal(msg_admin_put(body, sizeof(body), &off, &b), 0);
	len = raw(buf, sizeof(buf), MSG_T_ADMIN, body, off);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	off = 0;
	assert_int_equal(msg_rec_next(&v, &off, &rec, &rlen), 1);
	assert_int_equal(msg_admin_get(rec, rlen, &got), 0);
	assert_memory_equal(&got, &a, sizeof(a));
	assert_int_equal(msg_rec_next(&v, &off, &rec, &rlen), 1);
	assert_int_equal(msg_admin_get(rec, rlen, &got), 0);
	assert_memory_equal(&got, &b, sizeof(b));
	assert_int_equal(msg_rec_next(&v, &off, &rec, &rlen), 0);
	assert_string_equal(msg_type_name(MSG_T_ADMIN), "admin");
}

/* ADMIN: what cannot be encoded is refused, what is malformed rejected. */
static void
test_admin_malformed(void **state)
{
	uint8_t			 buf[MSG_MAX_LEN], body[MSG_BODY_MAX];
	uint8_t			 b2[MSG_BODY_MAX];
	struct msg_admin	 a, bad, got;
	struct msg_view		 v;
	size_t			 off = 0, n, cut, len;

	(void)state;
	admin_fixture(&a, "192.0.2.21");
	bad = a;
	bad.service[0] = '\0';
	assert_int_equal(msg_admin_put(body, sizeof(body), &off, &bad), -1);
	bad = a;
	memset(bad.service, 'x', sizeof(bad.service));	/* 33, no NUL */
	assert_int_equal(msg_admin_put(body, sizeof(body), &off, &bad), -1);
	bad = a;
	bad.weight = 1001;
	assert_int_equal(msg_admin_put(body, sizeof(body), &off, &bad), -1);
	bad = a;
	bad.flags = 0x08;
	assert_int_equal(msg_admin_put(body, sizeof(body), &off, &bad), -1);
	bad = a;
	bad.origin.len = 0;
	assert_int_equal(msg_admin_put(body, sizeof(body), &off, &bad), -1);
	bad = a;
	bad.server.family = 0;
	assert_int_equal(msg_admin_put(body, sizeof(body), &off, &bad), -1);
	assert_int_equal(off, 0);
	assert_int_equal(msg_admin_put(body, 31, &off, &a), -1);
	assert_int_equal(msg_admin_put(body, sizeof(body), &off, &a), 0);
	n = off;
	/* the record cut anywhere (its length field kept honest): refused */
	for (cut = 1; cut < n - 2; cut++) {
		memcpy(b2, body, n);
		b2[0] = (uint8_t)(cut >> 8);
		b2[1] = (uint8_t)cut;
		assert_int_equal(msg_admin_get(b2 + 2, cut, &got), -1);
		len = raw(buf, sizeof(buf), MSG_T_ADMIN, b2, cut + 2);
		assert_int_equal(check(buf, len, key, &v), MSG_R_BODY);
	}
	/* a byte too many inside the record */
	memcpy(b2, body, n);
	b2[1]++;
	b2[n] = 0;
	len = raw(buf, sizeof(buf), MSG_T_ADMIN, b2, n + 1);
	assert_int_equal(check(buf, len, key, &v), MSG_R_BODY);
	/* unknown flags (offset 2 + 8 + 2 + 4), weight above 1000 */
	memcpy(b2, body, n);
	b2[16] = 0x80;
	len = raw(buf, sizeof(buf), MSG_T_ADMIN, b2, n);
	assert_int_equal(check(buf, len, key, &v), MSG_R_BODY);
	memcpy(b2, body, n);
	b2[17] = 0x03;
	b2[18] = 0xe9;
	len = raw(buf, sizeof(buf), MSG_T_ADMIN, b2, n);
	assert_int_equal(check(buf, len, key, &v), MSG_R_BODY);
	/* a NUL in the name; a family 5 server */
	memcpy(b2, body, n);
	b2[n - 3] = 0;
	len = raw(buf, sizeof(buf), MSG_T_ADMIN, b2, n);
	assert_int_equal(check(buf, len, key, &v), MSG_R_BODY);
	memcpy(b2, body, n);
	b2[19] = 5;
	len = raw(buf, sizeof(buf), MSG_T_ADMIN, b2, n);
	assert_int_equal(check(buf, len, key, &v), MSG_R_BODY);
	/* the untouched body is fine; an empty one too */
	len = raw(buf, sizeof(buf), MSG_T_ADMIN, body, n);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
	len = raw(buf, sizeof(buf), MSG_T_ADMIN, body, 0);
	assert_int_equal(check(buf, len, key, &v), MSG_OK);
}

/* ADMIN versions: higher version wins; at the same, the higher origin. */
static void
test_admin_order(void **state)
{
	struct msg_admin	a, b;

	(void)state;
	admin_fixture(&a, "192.0.2.21");
	b = a;
	assert_int_equal(msg_admin_cmp(&a, &b), 0);
	b.version++;
	assert_int_equal(msg_admin_cmp(&a, &b), -1);
	assert_int_equal(msg_admin_cmp(&b, &a), 1);
	b = a;
	b.origin.b[3] = 8;
	assert_int_equal(msg_admin_cmp(&a, &b), -1);
	b.version--;				/* version first */
	assert_int_equal(msg_admin_cmp(&a, &b), 1);
	b = a;
	b.origin.len = 16;
	assert_int_equal(msg_admin_cmp(&a, &b), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admin_roundtrip),
		cmocka_unit_test(test_admin_malformed),
		cmocka_unit_test(test_admin_order),
		cmocka_unit_test_setup_teardown(test_drain_everywhere, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_loss_and_reannounce,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persist, setup, teardown),
	};

	if (sodium_init() == -1)
		return (1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
