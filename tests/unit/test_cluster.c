/* test_cluster.c: the membership state machine (claims 16-18), no sockets. */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "log.h"

#define DEAD	1000
#define T0	100000		/* a "now" well past zero */

static struct ilb_addr	from;	/* source of every datagram */

struct evlog {
	int		n;
	int		ev[16];
	uint16_t	slot[16];
};

static void
record(void *arg, enum cluster_event ev, uint16_t slot,
    const struct cluster_member *m)
{
	struct evlog	*l = arg;

	(void)m;
	if (l->n < 16) {
		l->ev[l->n] = ev;
		l->slot[l->n++] = slot;
	}
}

static struct member_id
mid(const char *text)
{
	struct member_id	id;
	struct ilb_addr		a;

	memset(&id, 0, sizeof(id));
	assert_int_equal(util_addr_parse(text, &a), 0);
	id.len = (uint8_t)util_addr_len(&a);
	memcpy(id.b, a.u.b, id.len);
	return (id);
}

static int
setup(void **state)
{
	struct cluster_table	*t;
	struct member_id	 self = mid("10.0.0.5");
	struct ilb_addr		 addr;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (-1);
	util_addr_parse("10.0.0.5", &addr);
	util_addr_parse("10.0.0.99", &from);
	cluster_table_init(t, &self, &addr, 777, SCORING_CRC32C_MIX, DEAD, T0);
	*state = t;
	return (0);
}

static int
teardown(void **state)
{
	free(*state);
	return (0);
}

/* An ID message from text (address id and address) with these fields. */
static int
hello_full(struct cluster_table *t, const char *text, uint64_t epoch,
    uint64_t seq, uint8_t st, uint8_t scoring, uint64_t now)
{
	struct msg_view	v;
	struct msg_id	id;

	memset(&v, 0, sizeof(v));
	v.hdr.version = MSG_VERSION;
	v.hdr.type = MSG_T_ID;
	v.hdr.epoch = epoch;
	v.hdr.seq = seq;
	v.hdr.sender = mid(text);
	memset(&id, 0, sizeof(id));
	id.scoring = scoring;
	id.state = st;
	util_addr_parse(text, &id.addr);
	id.hello_ms = 200;
	id.dead_ms = DEAD;
	return (cluster_table_input(t, &v, &id, &from, now));
}

static int
hello(struct cluster_table *t, const char *text, uint64_t epoch,
    uint64_t seq, uint64_t now)
{
	return (hello_full(t, text, epoch, seq, MSG_S_ACTIVE,
	    SCORING_CRC32C_MIX, now));
}

/* The active ids as "a b c" text. */
static const char *
active_text(const struct cluster_table *t, size_t *self)
{
	static char		buf[512];
	struct member_id	ids[16];
	char			b[64];
	size_t			n, i;

	buf[0] = '\0';
	n = cluster_table_active(t, ids, NULL, NULL, 16, self);
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(buf, " ");
		strcat(buf, msg_id_fmt(&ids[i], b, sizeof(b)));
	}
	return (buf);
}

static void
test_self_only(void **state)
{
	struct cluster_table	*t = *state;
	struct msg_id		 id;
	size_t			 self = 99;

	assert_string_equal(active_text(t, &self), "10.0.0.5");
	assert_int_equal(self, 0);
	cluster_table_self_id(t, 200, &id);
	assert_int_equal(id.state, MSG_S_ACTIVE);
	assert_int_equal(id.members, 1);
	assert_int_equal(id.dead_ms, DEAD);
	assert_int_equal(id.hello_ms, 200);
	/* Self never expires. */
	assert_int_equal(cluster_table_expire(t, T0 + 100 * DEAD), 0);
	assert_string_equal(active_text(t, NULL), "10.0.0.5");
}

static void
test_join_and_order(void **state)
{
	struct cluster_table	*t = *state;
	struct ilb_addr		 a;
	uint16_t		 slots[8];
	size_t			 self;

	assert_int_equal(hello(t, "10.0.0.9", 1, 1, T0), 1);
	assert_int_equal(hello(t, "10.0.0.2", 1, 1, T0), 1);
	assert_int_equal(hello(t, "10.0.0.7", 1, 1, T0), 1);
	assert_string_equal(active_text(t, &self),
	    "10.0.0.2 10.0.0.5 10.0.0.7 10.0.0.9");
	assert_int_equal(self, 1);
	assert_int_equal(t->stats.joins, 3);
	/* Slots in arrival order, listed in id order. */
	assert_int_equal(cluster_table_active(t, NULL, slots, NULL, 8, NULL),
	    4);
	assert_int_equal(slots[0], 2);
	assert_int_equal(slots[1], 0);
	assert_int_equal(slots[2], 3);
	assert_int_equal(slots[3], 1);
	/* A later hello changes nothing. */
	assert_int_equal(hello(t, "10.0.0.9", 1, 2, T0 + 200), 0);
	assert_int_equal(t->stats.joins, 3);
	/* Lookups. */
	util_addr_parse("10.0.0.7", &a);
	assert_int_equal(cluster_table_find_addr(t, &a), 3);
	assert_true(util_addr_eq(cluster_table_slot_addr(t, 3), &a));
	assert_null(cluster_table_slot_addr(t, 200));
	util_addr_parse("10.0.0.8", &a);
	assert_int_equal(cluster_table_find_addr(t, &a), -1);
	/* Fewer slots than members: the count is still returned. */
	assert_int_equal(cluster_table_active(t, NULL, slots, NULL, 2, &self),
	    4);
	assert_int_equal(self, 1);
}

/* Two nodes that heard members in different orders list them alike. */
static void
test_same_list_everywhere(void **state)
{
	struct cluster_table	*t = *state, *u;
	struct member_id	 self = mid("10.0.0.9");
	struct ilb_addr		 addr;
	char			 want[512];

	(void)state;
	u = calloc(1, sizeof(*u));
	assert_non_null(u);
	util_addr_parse("10.0.0.9", &addr);
	cluster_table_init(u, &self, &addr, 5, SCORING_CRC32C_MIX, DEAD, T0);
	hello(t, "10.0.0.9", 1, 1, T0);
	hello(t, "10.0.0.1", 1, 1, T0);
	hello(t, "10.0.0.200", 1, 1, T0);
	hello(u, "10.0.0.200", 1, 1, T0);
	hello(u, "10.0.0.5", 1, 1, T0);
	hello(u, "10.0.0.1", 1, 1, T0);
	snprintf(want, sizeof(want), "%s", active_text(t, NULL));
	assert_string_equal(active_text(u, NULL), want);
	assert_string_equal(want, "10.0.0.1 10.0.0.5 10.0.0.9 10.0.0.200");
	free(u);
}

static void
test_replay(void **state)
{
	struct cluster_table	*t = *state;

	assert_int_equal(hello(t, "10.0.0.9", 50, 10, T0), 1);
	assert_int_equal(hello(t, "10.0.0.9", 50, 10, T0 + 1), 0);
	assert_int_equal(hello(t, "10.0.0.9", 50, 9, T0 + 2), 0);
	assert_int_equal(hello(t, "10.0.0.9", 49, 1000, T0 + 3), 0);
	assert_int_equal(t->stats.replays, 3);
	/* Replays do not keep a dead member alive. */
	assert_int_equal(cluster_table_expire(t, T0 + DEAD), 1);
	assert_int_equal(t->stats.leaves, 1);
	assert_int_equal(hello(t, "10.0.0.9", 50, 10, T0 + DEAD + 1), 0);
	assert_int_equal(t->stats.replays, 4);
	assert_int_equal(t->stats.accepted, 1);
}

static void
test_restart(void **state)
{
	struct cluster_table	*t = *state;
	struct evlog		 l;

	memset(&l, 0, sizeof(l));
	t->event_cb = record;
	t->event_arg = &l;
	assert_int_equal(hello(t, "10.0.0.9", 50, 100, T0), 1);
	/* A new epoch, sequence restarting at 1: a restart. */
	assert_int_equal(hello(t, "10.0.0.9", 60, 1, T0 + 300), 1);
	assert_int_equal(t->stats.restarts, 1);
	assert_int_equal(t->stats.joins, 1);
	assert_int_equal(t->m[1].restarts, 1);
	assert_true(t->m[1].epoch == 60);
	/* The old incarnation's traffic is now a replay. */
	assert_int_equal(hello(t, "10.0.0.9", 50, 101, T0 + 310), 0);
	assert_int_equal(t->stats.replays, 1);
	assert_int_equal(hello(t, "10.0.0.9", 60, 2, T0 + 400), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0], CLUSTER_E_JOIN);
	assert_int_equal(l.ev[1], CLUSTER_E_RESTART);
	assert_int_equal(l.slot[1], 1);
	assert_string_equal(active_text(t, NULL), "10.0.0.5 10.0.0.9");
}

static void
test_dead_and_rejoin(void **state)
{
	struct cluster_table	*t = *state;
	struct ilb_addr		 a;
	struct evlog		 l;

	memset(&l, 0, sizeof(l));
	t->event_cb = record;
	t->event_arg = &l;
	util_addr_parse("10.0.0.9", &a);
	hello(t, "10.0.0.7", 1, 1, T0);
	hello(t, "10.0.0.9", 1, 1, T0);
	hello(t, "10.0.0.7", 1, 2, T0 + 600);
	assert_int_equal(cluster_table_expire(t, T0 + DEAD - 1), 0);
	assert_int_equal(cluster_table_expire(t, T0 + DEAD), 1);
	assert_string_equal(active_text(t, NULL), "10.0.0.5 10.0.0.7");
	assert_int_equal(t->stats.leaves, 1);
	assert_int_equal(l.ev[2], CLUSTER_E_GONE);
	assert_int_equal(l.slot[2], 2);
	assert_null(cluster_table_slot_addr(t, 2));
	assert_int_equal(cluster_table_find_addr(t, &a), -1);
	/* Nothing more to remove. */
	assert_int_equal(cluster_table_expire(t, T0 + DEAD + 1), 0);
	/* Back with a new epoch: a join, in its old slot. */
	assert_int_equal(hello(t, "10.0.0.9", 2, 1, T0 + 2 * DEAD), 1);
	assert_int_equal(t->stats.joins, 3);
	assert_int_equal(cluster_table_find_addr(t, &a), 2);
	assert_string_equal(active_text(t, NULL),
	    "10.0.0.5 10.0.0.7 10.0.0.9");
	assert_int_equal(l.ev[3], CLUSTER_E_JOIN);
	assert_int_equal(l.slot[3], 2);
}

/* Back from a partition with the same epoch and a larger sequence. */
static void
test_partition_heals(void **state)
{
	struct cluster_table	*t = *state;

	hello(t, "10.0.0.9", 1, 1, T0);
	assert_int_equal(cluster_table_expire(t, T0 + DEAD), 1);
	assert_int_equal(hello(t, "10.0.0.9", 1, 2, T0 + DEAD + 5), 1);
	assert_int_equal(t->stats.joins, 2);
	assert_int_equal(t->stats.restarts, 0);
}

/* An older epoch is refused while the tombstone lasts, then accepted. */
static void
test_tombstone(void **state)
{
	struct cluster_table	*t = *state;
	uint64_t		 gone = T0 + DEAD;

	hello(t, "10.0.0.9", 100, 1, T0);
	cluster_table_expire(t, gone);
	assert_int_equal(hello(t, "10.0.0.9", 99, 5, gone + 10), 0);
	assert_int_equal(t->stats.replays, 1);
	cluster_table_expire(t, T0 + CLUSTER_TOMBSTONE_MULT * DEAD);
	assert_int_equal(hello(t, "10.0.0.9", 99, 5, T0 +
	    CLUSTER_TOMBSTONE_MULT * DEAD + 1), 1);
	assert_int_equal(t->stats.joins, 2);
}

static void
test_scoring_mismatch(void **state)
{
	struct cluster_table	*t = *state;

	assert_int_equal(hello_full(t, "10.0.0.9", 1, 1, MSG_S_ACTIVE,
	    SCORING_CRC32, T0), 0);
	assert_int_equal(hello_full(t, "10.0.0.9", 1, 2, MSG_S_ACTIVE,
	    SCORING_CRC32, T0 + 200), 0);
	assert_int_equal(t->stats.scoring_mismatch, 2);
	assert_int_equal(t->stats.joins, 0);
	assert_int_equal(t->warned_ids.n, 1);	/* warned once */
	assert_string_equal(active_text(t, NULL), "10.0.0.5");
}

static void
test_own_id(void **state)
{
	struct cluster_table	*t = *state;

	/* Our own message looped back. */
	assert_int_equal(hello(t, "10.0.0.5", 777, 1, T0), 0);
	assert_int_equal(t->stats.own, 1);
	/* Another node with our id. */
	assert_int_equal(hello(t, "10.0.0.5", 900, 1, T0), 0);
	assert_int_equal(hello(t, "10.0.0.5", 900, 2, T0 + 200), 0);
	assert_int_equal(t->stats.duplicate_id, 2);
	assert_true(t->dup_epoch == 900);
	assert_true(t->m[0].epoch == 777);
	assert_int_equal(t->stats.joins, 0);
	assert_string_equal(active_text(t, NULL), "10.0.0.5");
}

/* A joining member is known (it may hand off) but not scored. */
static void
test_joining_state(void **state)
{
	struct cluster_table	*t = *state;
	struct ilb_addr		 a;

	util_addr_parse("10.0.0.9", &a);
	assert_int_equal(hello_full(t, "10.0.0.9", 1, 1, MSG_S_JOINING,
	    SCORING_CRC32C_MIX, T0), 0);
	assert_int_equal(t->stats.joins, 1);
	assert_string_equal(active_text(t, NULL), "10.0.0.5");
	assert_int_equal(cluster_table_find_addr(t, &a), 1);
	assert_int_equal(hello(t, "10.0.0.9", 1, 2, T0 + 200), 1);
	assert_string_equal(active_text(t, NULL), "10.0.0.5 10.0.0.9");
	assert_int_equal(hello_full(t, "10.0.0.9", 1, 3, MSG_S_LEAVING,
	    SCORING_CRC32C_MIX, T0 + 400), 1);
	assert_string_equal(active_text(t, NULL), "10.0.0.5");
	/* A leaving member that falls silent is no change to the ranking. */
	assert_int_equal(cluster_table_expire(t, T0 + 400 + DEAD), 0);
	assert_int_equal(t->stats.leaves, 1);
}

static void
test_reject_counts(void **state)
{
	struct cluster_table	*t = *state;
	struct ilb_addr		 other;

	util_addr_parse("10.0.0.98", &other);
	cluster_table_reject(t, MSG_R_MAC, &from);
	cluster_table_reject(t, MSG_R_MAC, &from);
	cluster_table_reject(t, MSG_R_VERSION, &other);
	assert_int_equal(t->stats.rejected[MSG_R_MAC], 2);
	assert_int_equal(t->stats.rejected[MSG_R_VERSION], 1);
	assert_int_equal(t->warned_srcs.n, 2);	/* one warning per source */
}

/* A full table refuses newcomers, then reuses the slot gone longest. */
static void
test_table_full(void **state)
{
	struct cluster_table	*t = *state;
	char			 text[32];
	int			 i;

	for (i = 1; i < CLUSTER_MEMBERS_MAX; i++) {
		snprintf(text, sizeof(text), "10.1.%d.%d", i / 200, i % 200);
		assert_int_equal(hello(t, text, 1, 1, T0 + (uint64_t)i), 1);
	}
	assert_int_equal(hello(t, "10.2.0.1", 1, 1, T0), 0);
	assert_int_equal(t->stats.table_full, 1);
	assert_int_equal(cluster_table_expire(t, T0 + DEAD + 1), 1);
	assert_int_equal(t->stats.leaves, 1);		/* 10.1.0.1 */
	assert_int_equal(hello(t, "10.2.0.1", 1, 1, T0 + DEAD + 2), 1);
	assert_int_equal(t->nactive, CLUSTER_MEMBERS_MAX);
	assert_int_equal(t->m[1].id.b[3], 1);
	assert_int_equal(t->m[1].id.b[1], 2);		/* 10.2.0.1 in slot 1 */
}

static void
test_address_change(void **state)
{
	struct cluster_table	*t = *state;
	struct msg_view		 v;
	struct msg_id		 id;

	hello(t, "10.0.0.9", 1, 1, T0);
	memset(&v, 0, sizeof(v));
	v.hdr.type = MSG_T_ID;
	v.hdr.epoch = 1;
	v.hdr.seq = 2;
	v.hdr.sender = mid("10.0.0.9");
	memset(&id, 0, sizeof(id));
	id.state = MSG_S_ACTIVE;
	util_addr_parse("10.0.0.19", &id.addr);
	assert_int_equal(cluster_table_input(t, &v, &id, &from, T0 + 1), 1);
	assert_true(util_addr_eq(cluster_table_slot_addr(t, 1), &id.addr));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_self_only),
		T(test_join_and_order),
		T(test_same_list_everywhere),
		T(test_replay),
		T(test_restart),
		T(test_dead_and_rejoin),
		T(test_partition_heals),
		T(test_tombstone),
		T(test_scoring_mismatch),
		T(test_own_id),
		T(test_joining_state),
		T(test_reject_counts),
		T(test_table_full),
		T(test_address_change),
#undef T
	};

	log_init("test_cluster", 1, 0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
