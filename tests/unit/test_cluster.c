/* test_cluster.c: the membership state machine (claims 16-18), no sockets. */
#include <sys/socket.h>
#include <sys/stat.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "log.h"
#include "mock_log.h"

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
	mock_log_reset();
	util_addr_parse("10.0.0.5", &addr);
	util_addr_parse("10.0.0.99", &from);
	cluster_table_init(t, &self, &addr, 777, SCORING_CRC32C_MIX, DEAD, T0);
	assert_int_equal(cluster_table_set_state(t, MSG_S_ACTIVE), 1);
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
	cluster_table_set_state(u, MSG_S_ACTIVE);
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

/* An ID message saying the sender counts members active members. */
static int
hello_members(struct cluster_table *t, const char *text, uint64_t epoch,
    uint64_t seq, uint8_t st, uint16_t members, uint64_t now)
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
	id.scoring = SCORING_CRC32C_MIX;
	id.state = st;
	id.members = members;
	util_addr_parse(text, &id.addr);
	id.hello_ms = 200;
	id.dead_ms = DEAD;
	return (cluster_table_input(t, &v, &id, &from, now));
}

/*
 * Back from a partition with the same epoch and a larger sequence,
 * claiming active, alone on its side ({.9} | {.5}): the sides tie, and
 * self's side holds the lowest id, so it stays; .9 is admitted but not
 * scored until it has joined again (joining, then active). A replay of
 * its message is still refused.
 */
static void
test_partition_heals(void **state)
{
	struct cluster_table	*t = *state;
	struct evlog		 l;

	memset(&l, 0, sizeof(l));
	t->event_cb = record;
	t->event_arg = &l;
	hello_members(t, "10.0.0.9", 1, 1, MSG_S_ACTIVE, 2, T0);
	assert_int_equal(cluster_table_expire(t, T0 + DEAD), 1);
	assert_string_equal(active_text(t, NULL), "10.0.0.5");
	assert_int_equal(hello_members(t, "10.0.0.9", 1, 2, MSG_S_ACTIVE, 1,
	    T0 + DEAD + 5), 0);
	assert_int_equal(t->stats.joins, 2);
	assert_int_equal(t->stats.restarts, 0);
	assert_int_equal(t->stats.merge_held, 1);
	assert_int_equal(t->stats.merge_rejoins, 0);
	assert_true(t->m[1].alive && t->m[1].held);
	assert_int_equal(t->m[t->self].state, MSG_S_ACTIVE);
	assert_string_equal(active_text(t, NULL), "10.0.0.5");
	/* not scored, and not a joiner either */
	assert_int_equal(cluster_table_joining(t, NULL, NULL, NULL, 4), 0);
	/* still claiming active: still held */
	assert_int_equal(hello_members(t, "10.0.0.9", 1, 3, MSG_S_ACTIVE, 1,
	    T0 + DEAD + 100), 0);
	assert_string_equal(active_text(t, NULL), "10.0.0.5");
	/* a replayed message is refused as before */
	assert_int_equal(hello_members(t, "10.0.0.9", 1, 2, MSG_S_ACTIVE, 1,
	    T0 + DEAD + 110), 0);
	assert_int_equal(t->stats.replays, 1);
	/* it joins again: a joiner (it gets the transfer tables) */
	assert_int_equal(hello_members(t, "10.0.0.9", 1, 4, MSG_S_JOINING, 1,
	    T0 + DEAD + 200), 0);
	assert_false(t->m[1].held);
	assert_int_equal(cluster_table_joining(t, NULL, NULL, NULL, 4), 1);
	assert_int_equal(l.ev[l.n - 1], CLUSTER_E_STATE);
	/* then active: scored */
	assert_int_equal(hello_members(t, "10.0.0.9", 1, 5, MSG_S_ACTIVE, 1,
	    T0 + DEAD + 400), 1);
	assert_string_equal(active_text(t, NULL), "10.0.0.5 10.0.0.9");
	/* gone again and back in a new epoch (a restart): no merge */
	assert_int_equal(cluster_table_expire(t, T0 + 2 * DEAD + 400), 1);
	assert_int_equal(hello_members(t, "10.0.0.9", 2, 1, MSG_S_ACTIVE, 1,
	    T0 + 3 * DEAD), 1);
	assert_int_equal(t->stats.merge_held, 1);
}

/*
 * {.5} | {.7, .9}: self is on the smaller side. Hearing .7 again (it
 * counts 2 active members) self joins again: joining, not scored, the
 * state change told on self's slot; .7 and .9 are admitted as active.
 */
static void
test_partition_self_rejoins(void **state)
{
	struct cluster_table	*t = *state;
	struct evlog		 l;
	size_t			 self;

	memset(&l, 0, sizeof(l));
	t->event_cb = record;
	t->event_arg = &l;
	hello_members(t, "10.0.0.7", 1, 1, MSG_S_ACTIVE, 3, T0);
	hello_members(t, "10.0.0.9", 1, 1, MSG_S_ACTIVE, 3, T0);
	assert_int_equal(cluster_table_expire(t, T0 + DEAD), 1);
	assert_string_equal(active_text(t, NULL), "10.0.0.5");
	l.n = 0;
	assert_int_equal(hello_members(t, "10.0.0.7", 1, 2, MSG_S_ACTIVE, 2,
	    T0 + DEAD + 5), 1);
	assert_int_equal(t->m[t->self].state, MSG_S_JOINING);
	assert_int_equal(t->rejoin, 1);
	assert_int_equal(t->stats.merge_rejoins, 1);
	assert_int_equal(t->stats.merge_held, 0);
	assert_string_equal(active_text(t, &self), "10.0.0.7");
	assert_true(self == (size_t)-1);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0], CLUSTER_E_STATE);
	assert_int_equal(l.slot[0], t->self);
	assert_int_equal(l.ev[1], CLUSTER_E_JOIN);
	/* self joining: the next one back is simply admitted */
	assert_int_equal(hello_members(t, "10.0.0.9", 1, 2, MSG_S_ACTIVE, 2,
	    T0 + DEAD + 10), 1);
	assert_string_equal(active_text(t, NULL), "10.0.0.7 10.0.0.9");
	assert_int_equal(t->stats.merge_rejoins, 1);
	/* its own ID now says joining (announced at once by cluster.c) */
	{
		struct msg_id	id;

		cluster_table_self_id(t, 200, &id);
		assert_int_equal(id.state, MSG_S_JOINING);
	}
}

/*
 * {.3} | {.5}, one member each: the side with the lowest id (.3) stays,
 * so self joins again. And a member held since a merge that never joins
 * again (it never saw self gone) does not block forever: after
 * CLUSTER_HOLD_DEAD x dead_ms self joins again instead.
 */
static void
test_partition_tie_and_hold_timeout(void **state)
{
	struct cluster_table	*t = *state;
	uint64_t		 now;
	int			 i;

	hello_members(t, "10.0.0.3", 1, 1, MSG_S_ACTIVE, 2, T0);
	assert_int_equal(cluster_table_expire(t, T0 + DEAD), 1);
	assert_int_equal(hello_members(t, "10.0.0.3", 1, 2, MSG_S_ACTIVE, 1,
	    T0 + DEAD + 5), 1);
	assert_int_equal(t->m[t->self].state, MSG_S_JOINING);
	assert_string_equal(active_text(t, NULL), "10.0.0.3");
	/* self active again (its join done); .9 gone and back, held */
	assert_int_equal(cluster_table_set_state(t, MSG_S_ACTIVE), 1);
	now = T0 + 2 * DEAD;
	hello_members(t, "10.0.0.9", 1, 1, MSG_S_ACTIVE, 3, now);
	hello_members(t, "10.0.0.3", 1, 3, MSG_S_ACTIVE, 3, now);
	now += DEAD / 2;
	hello_members(t, "10.0.0.3", 1, 4, MSG_S_ACTIVE, 3, now);
	now += DEAD / 2;
	assert_int_equal(cluster_table_expire(t, now), 1);	/* .9 gone */
	hello_members(t, "10.0.0.3", 1, 5, MSG_S_ACTIVE, 2, now);
	assert_int_equal(hello_members(t, "10.0.0.9", 1, 2, MSG_S_ACTIVE, 2,
	    now + 1), 0);
	assert_true(t->m[2].held);
	assert_string_equal(active_text(t, NULL), "10.0.0.3 10.0.0.5");
	/* it stays active, heard every hello; self waits, then gives way */
	for (i = 0; i < CLUSTER_HOLD_DEAD * 5; i++) {
		now += DEAD / 5;
		hello_members(t, "10.0.0.9", 1, (uint64_t)(3 + i),
		    MSG_S_ACTIVE, 3, now);
		hello_members(t, "10.0.0.3", 1, (uint64_t)(6 + i),
		    MSG_S_ACTIVE, 2, now);
		if (i + 1 < CLUSTER_HOLD_DEAD * 5)
			assert_int_equal(cluster_table_expire(t, now), 0);
	}
	assert_int_equal(cluster_table_expire(t, now + 1), 1);
	assert_false(t->m[2].held);
	assert_int_equal(t->m[t->self].state, MSG_S_JOINING);
	assert_string_equal(active_text(t, NULL), "10.0.0.3 10.0.0.9");
	assert_int_equal(t->stats.merge_rejoins, 2);
}

/*
 * A departed member's old messages stay replays for the life of the
 * process, however long after its departure (DESIGN 5): an older epoch,
 * or its last epoch with a sequence already seen, never re-admits it.
 * Only a newer epoch, or a newer sequence (back from a partition), does.
 */
static void
test_replay_after_departure(void **state)
{
	struct cluster_table	*t = *state;
	uint64_t		 later = T0 + 1000 * (uint64_t)DEAD;
	size_t			 i;

	for (i = 1; i <= 5; i++)
		hello(t, "10.0.0.9", 100, i, T0 + 200 * i);
	assert_int_equal(cluster_table_expire(t, T0 + 1000 + DEAD), 1);
	assert_int_equal(t->stats.leaves, 1);
	for (i = 0; i < 100; i++)
		cluster_table_expire(t, T0 + 1000 + DEAD + i * 10 * DEAD);
	/* A captured message of the last epoch, replayed much later. */
	assert_int_equal(hello(t, "10.0.0.9", 100, 3, later), 0);
	assert_int_equal(hello(t, "10.0.0.9", 100, 5, later + 1), 0);
	/* An older epoch, any sequence. */
	assert_int_equal(hello(t, "10.0.0.9", 99, 1000, later + 2), 0);
	assert_int_equal(t->stats.replays, 3);
	assert_int_equal(t->stats.joins, 1);
	assert_int_equal(t->stats.accepted, 5);
	assert_int_equal(cluster_table_find_id(t, &t->m[1].id), -1);
	assert_false(t->m[1].alive);
	assert_string_equal(active_text(t, NULL), "10.0.0.5");
	/* Said once: a clock set back would keep a real node out. */
	assert_int_equal(mock_log_count("ID message of epoch 99 refused"), 1);
	assert_int_equal(hello(t, "10.0.0.9", 98, 1, later + 3), 0);
	assert_int_equal(mock_log_count("refused, older than"), 1);
	/* Restarted: a newer epoch joins again. */
	assert_int_equal(hello(t, "10.0.0.9", 101, 1, later + 4), 1);
	assert_int_equal(t->stats.joins, 2);
	assert_string_equal(active_text(t, NULL), "10.0.0.5 10.0.0.9");
}

/* 255 other members heard at T0 + i, epoch 5000; 10.1.0.1 then gone. */
static void
fill_then_one_gone(struct cluster_table *t)
{
	char	text[32];
	int	i;

	for (i = 1; i < CLUSTER_MEMBERS_MAX; i++) {
		snprintf(text, sizeof(text), "10.1.%d.%d", i / 200, i % 200);
		assert_int_equal(hello(t, text, 5000, 7, T0 + (uint64_t)i), 1);
	}
	assert_int_equal(cluster_table_expire(t, T0 + DEAD + 1), 1);
	assert_int_equal(t->stats.leaves, 1);		/* 10.1.0.1 */
}

/* A gone member whose slot went to a newcomer is still remembered. */
static void
test_replay_after_slot_reuse(void **state)
{
	struct cluster_table	*t = *state;

	fill_then_one_gone(t);
	assert_int_equal(hello(t, "10.2.0.1", 1, 1, T0 + DEAD + 2), 1);
	assert_int_equal(t->m[1].id.b[1], 2);		/* 10.2.0.1 in slot 1 */
	assert_int_equal(t->nseen, 1);
	assert_true(t->seen[0].epoch == 5000 && t->seen[0].seq == 7);
	/* 10.1.0.1's old messages: refused, before any slot is looked for */
	assert_int_equal(hello(t, "10.1.0.1", 5000, 7, T0 + 100 * DEAD), 0);
	assert_int_equal(hello(t, "10.1.0.1", 4999, 9, T0 + 100 * DEAD), 0);
	assert_int_equal(t->stats.replays, 2);
	assert_int_equal(t->stats.table_full, 0);
	/* A fresh one is not a replay (the table is full, though). */
	assert_int_equal(hello(t, "10.1.0.1", 5001, 1, T0 + 100 * DEAD), 0);
	assert_int_equal(t->stats.replays, 2);
	assert_int_equal(t->stats.table_full, 1);
	assert_int_equal(t->nseen, 1);
	/*
	 * Slots free: it gets the one gone longest (10.1.0.2's, which moves
	 * to seen), and seen forgets it (its slot guards it now).
	 */
	hello(t, "10.2.0.1", 1, 2, T0 + 101 * DEAD);
	assert_int_equal(cluster_table_expire(t, T0 + 102 * DEAD), 1);
	assert_int_equal(hello(t, "10.1.0.1", 5001, 1, T0 + 102 * DEAD), 1);
	assert_int_equal(t->nseen, 1);
	assert_int_equal(t->seen[0].id.b[3], 2);
	assert_int_equal(t->m[2].id.b[3], 1);		/* 10.1.0.1 */
	assert_int_equal(hello(t, "10.1.0.1", 5001, 1, T0 + 102 * DEAD), 0);
	assert_int_equal(t->stats.replays, 3);
}

/*
 * seen full: the entry heard the longest ago is forgotten, and an id
 * remembered nowhere then needs an epoch above the forgotten one's.
 */
static void
test_seen_full(void **state)
{
	struct cluster_table	*t = *state;
	char			 text[32];
	int			 i;

	for (i = 0; i < CLUSTER_SEEN_MAX; i++) {
		snprintf(text, sizeof(text), "10.3.%d.%d", i / 200, i % 200);
		t->seen[i].id = mid(text);
		t->seen[i].epoch = 3000 + (uint64_t)i;
		t->seen[i].seq = 1;
		t->seen[i].last_heard = i == 5 ? 1 : T0 + (uint64_t)i;
	}
	t->nseen = CLUSTER_SEEN_MAX;
	fill_then_one_gone(t);
	assert_int_equal(hello(t, "10.2.0.1", 6000, 1, T0 + DEAD + 2), 1);
	assert_int_equal(t->nseen, CLUSTER_SEEN_MAX);
	assert_true(t->seen_floor == 3005);		/* 10.3.0.5 went */
	assert_int_equal(mock_log_count("10.3.0.5 forgotten"), 1);
	assert_int_equal(t->seen[5].id.b[1], 1);	/* 10.1.0.1 took it */
	/* The forgotten id's old epoch, and any unknown id's up to it. */
	assert_int_equal(hello(t, "10.3.0.5", 3005, 2, T0 + 10 * DEAD), 0);
	assert_int_equal(hello(t, "10.4.0.1", 17, 1, T0 + 10 * DEAD), 0);
	assert_int_equal(t->stats.replays, 2);
	assert_int_equal(mock_log_count("member 10.4.0.1: ID message of "
	    "epoch 17 refused: not above 3005"), 1);
	/* Still remembered exactly: 10.3.0.6 and 10.1.0.1. */
	assert_int_equal(hello(t, "10.3.0.6", 3006, 1, T0 + 10 * DEAD), 0);
	assert_int_equal(hello(t, "10.1.0.1", 5000, 7, T0 + 10 * DEAD), 0);
	assert_int_equal(t->stats.replays, 4);
	/* Above the floor it is not a replay (no slot free, though). */
	assert_int_equal(hello(t, "10.4.0.1", 3006, 1, T0 + 10 * DEAD), 0);
	assert_int_equal(t->stats.replays, 4);
	assert_int_equal(t->stats.table_full, 1);
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
	assert_int_equal(mock_log_count("10.0.0.9 uses scoring crc32 but "
	    "this node uses crc32c-mix"), 1);
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
	/* which says the next ones go to the debug level */
	assert_int_equal(mock_log_count("from 10.0.0.99 dropped: bad_mac"), 2);
	assert_int_equal(mock_log_count("from 10.0.0.99 dropped: bad_mac "
	    "(further drops from it are logged at debug level)"), 1);
	assert_int_equal(mock_log_count("from 10.0.0.98 dropped: "
	    "bad_version (further"), 1);
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

/* A fresh table: self joins first and is nowhere in the active list. */
static void
test_self_joining(void **state)
{
	struct cluster_table	*t;
	struct member_id	 self = mid("10.0.0.5"), ids[4];
	struct ilb_addr		 addr;
	struct msg_id		 id;
	uint16_t		 slots[4];
	size_t			 si = 42;

	(void)state;
	t = calloc(1, sizeof(*t));
	assert_non_null(t);
	util_addr_parse("10.0.0.5", &addr);
	cluster_table_init(t, &self, &addr, 777, SCORING_CRC32C_MIX, DEAD, T0);
	cluster_table_self_id(t, 200, &id);
	assert_int_equal(id.state, MSG_S_JOINING);
	assert_int_equal(id.members, 0);
	assert_string_equal(active_text(t, &si), "");
	assert_true(si == (size_t)-1);
	assert_int_equal(cluster_table_joining(t, ids, slots, NULL, 4), 1);
	assert_int_equal(slots[0], 0);
	/* Others are active: they are ranked, we are not among them. */
	hello(t, "10.0.0.2", 1, 1, T0);
	hello(t, "10.0.0.9", 1, 1, T0);
	assert_string_equal(active_text(t, &si), "10.0.0.2 10.0.0.9");
	assert_true(si == (size_t)-1);
	assert_int_equal(cluster_table_find_id(t, &self), 0);
	/* Active: ranked at our place; again: no change. */
	assert_int_equal(cluster_table_set_state(t, MSG_S_ACTIVE), 1);
	assert_int_equal(cluster_table_set_state(t, MSG_S_ACTIVE), 0);
	assert_int_equal(t->m[0].prev_state, MSG_S_JOINING);
	assert_string_equal(active_text(t, &si),
	    "10.0.0.2 10.0.0.5 10.0.0.9");
	assert_int_equal(si, 1);
	assert_int_equal(cluster_table_joining(t, NULL, NULL, NULL, 0), 0);
	/* Leaving: out of the ranking again. */
	assert_int_equal(cluster_table_set_state(t, MSG_S_LEAVING), 1);
	assert_string_equal(active_text(t, &si), "10.0.0.2 10.0.0.9");
	assert_true(si == (size_t)-1);
	cluster_table_self_id(t, 200, &id);
	assert_int_equal(id.state, MSG_S_LEAVING);
	assert_int_equal(cluster_table_set_state(t, 0), -1);
	assert_int_equal(cluster_table_set_state(t, 4), -1);
	free(t);
}

/* Joining members are listed by id, with self while it joins. */
static void
test_joining_list(void **state)
{
	struct cluster_table	*t = *state;
	struct member_id	 ids[4];
	struct ilb_addr		 addrs[4];
	uint16_t		 slots[4];
	char			 b[64];
	struct evlog		 l;

	memset(&l, 0, sizeof(l));
	t->event_cb = record;
	t->event_arg = &l;
	hello_full(t, "10.0.0.9", 1, 1, MSG_S_JOINING, SCORING_CRC32C_MIX, T0);
	hello_full(t, "10.0.0.3", 1, 1, MSG_S_JOINING, SCORING_CRC32C_MIX, T0);
	hello(t, "10.0.0.4", 1, 1, T0);
	assert_int_equal(cluster_table_joining(t, ids, slots, addrs, 4), 2);
	assert_string_equal(msg_id_fmt(&ids[0], b, sizeof(b)), "10.0.0.3");
	assert_int_equal(slots[0], 2);
	assert_int_equal(slots[1], 1);
	assert_string_equal(util_addr_fmt(&addrs[1], b, sizeof(b)),
	    "10.0.0.9");
	/* Fewer places than members: the count still. */
	assert_int_equal(cluster_table_joining(t, ids, NULL, NULL, 1), 2);
	/* Self joining again (not done by ilbd, but listed in order). */
	cluster_table_set_state(t, MSG_S_JOINING);
	assert_int_equal(cluster_table_joining(t, NULL, slots, NULL, 4), 3);
	assert_int_equal(slots[0], 2);
	assert_int_equal(slots[1], 0);
	assert_int_equal(slots[2], 1);
	/* JOIN events for joining and active newcomers alike. */
	assert_int_equal(l.n, 3);
	assert_int_equal(l.ev[0], CLUSTER_E_JOIN);
	assert_int_equal(l.ev[1], CLUSTER_E_JOIN);
	assert_int_equal(l.ev[2], CLUSTER_E_JOIN);
	assert_int_equal(t->m[1].state, MSG_S_JOINING);
	/* A gone joiner is not listed. */
	cluster_table_expire(t, T0 + DEAD);
	assert_int_equal(cluster_table_joining(t, NULL, NULL, NULL, 0), 1);
}

/* joining -> active -> leaving: STATE events, members_cb-worthy changes. */
static void
test_state_events(void **state)
{
	struct cluster_table	*t = *state;
	struct ilb_addr		 a;
	struct evlog		 l;

	memset(&l, 0, sizeof(l));
	t->event_cb = record;
	t->event_arg = &l;
	util_addr_parse("10.0.0.9", &a);
	assert_int_equal(hello_full(t, "10.0.0.9", 1, 1, MSG_S_JOINING,
	    SCORING_CRC32C_MIX, T0), 0);
	assert_int_equal(hello(t, "10.0.0.9", 1, 2, T0 + 10), 1);
	assert_int_equal(t->m[1].prev_state, MSG_S_JOINING);
	assert_int_equal(hello_full(t, "10.0.0.9", 1, 3, MSG_S_LEAVING,
	    SCORING_CRC32C_MIX, T0 + 20), 1);
	assert_int_equal(t->m[1].prev_state, MSG_S_ACTIVE);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.ev[0], CLUSTER_E_JOIN);
	assert_int_equal(l.ev[1], CLUSTER_E_STATE);
	assert_int_equal(l.ev[2], CLUSTER_E_STATE);
	assert_int_equal(l.slot[2], 1);
	/* Leaving: not ranked, still known (its handoffs are accepted). */
	assert_string_equal(active_text(t, NULL), "10.0.0.5");
	assert_int_equal(cluster_table_find_addr(t, &a), 1);
	assert_int_equal(cluster_table_find_id(t, &t->m[1].id), 1);
	/* Until dead_ms of silence. */
	assert_int_equal(cluster_table_expire(t, T0 + 20 + DEAD), 0);
	assert_int_equal(cluster_table_find_addr(t, &a), -1);
	assert_int_equal(cluster_table_find_id(t, &t->m[1].id), -1);
	assert_int_equal(l.ev[3], CLUSTER_E_GONE);
}

struct msglog {
	int		n;
	uint16_t	slot[8];
	uint8_t		type[8];
	uint64_t	seq[8];
};

static void
on_msg(void *arg, uint16_t slot, const struct msg_view *v)
{
	struct msglog	*l = arg;

	if (l->n < 8) {
		l->slot[l->n] = slot;
		l->type[l->n] = v->hdr.type;
		l->seq[l->n++] = v->hdr.seq;
	}
}

/* A typed message from text in epoch, with seq. */
static int
typed(struct cluster_table *t, const char *text, uint8_t type,
    uint64_t epoch, uint64_t seq)
{
	struct msg_view	v;

	memset(&v, 0, sizeof(v));
	v.hdr.version = MSG_VERSION;
	v.hdr.type = type;
	v.hdr.epoch = epoch;
	v.hdr.seq = seq;
	v.hdr.sender = mid(text);
	return (cluster_table_msg(t, &v, &from));
}

static void
test_typed_dispatch(void **state)
{
	struct cluster_table	*t = *state;
	struct msglog		 l;

	memset(&l, 0, sizeof(l));
	/* No callback: counted as unhandled. */
	hello(t, "10.0.0.9", 5, 1, T0);
	assert_int_equal(typed(t, "10.0.0.9", MSG_T_NEW, 5, 2), 1);
	assert_int_equal(t->stats.unhandled, 1);
	t->msg_cb = on_msg;
	t->msg_arg = &l;
	assert_int_equal(typed(t, "10.0.0.9", MSG_T_END, 5, 3), 1);
	assert_int_equal(typed(t, "10.0.0.9", MSG_T_REFRESH, 5, 4), 1);
	/* Joining and leaving members are heard too. */
	hello_full(t, "10.0.0.3", 1, 1, MSG_S_JOINING, SCORING_CRC32C_MIX, T0);
	assert_int_equal(typed(t, "10.0.0.3", MSG_T_NEW, 1, 2), 2);
	hello_full(t, "10.0.0.9", 5, 5, MSG_S_LEAVING, SCORING_CRC32C_MIX, T0);
	assert_int_equal(typed(t, "10.0.0.9", MSG_T_END, 5, 6), 1);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.type[0], MSG_T_END);
	assert_int_equal(l.type[1], MSG_T_REFRESH);
	assert_int_equal(l.slot[2], 2);
	assert_int_equal(l.type[3], MSG_T_END);
	assert_int_equal(t->stats.delivered, 4);
	/* Replays: same or older seq, older epoch. */
	assert_int_equal(typed(t, "10.0.0.9", MSG_T_END, 5, 6), -1);
	assert_int_equal(typed(t, "10.0.0.9", MSG_T_END, 5, 2), -1);
	assert_int_equal(typed(t, "10.0.0.9", MSG_T_END, 4, 100), -1);
	assert_int_equal(t->stats.replays, 3);
	/* An ID message after a typed one shares the sequence space. */
	assert_int_equal(hello_full(t, "10.0.0.9", 5, 6, MSG_S_LEAVING,
	    SCORING_CRC32C_MIX, T0 + 1), 0);
	assert_int_equal(t->stats.replays, 4);
	assert_int_equal(l.n, 4);
	assert_int_equal(t->stats.gaps, 0);
}

/* Unknown, gone, restarted-but-not-announced senders and our own id. */
static void
test_typed_unknown(void **state)
{
	struct cluster_table	*t = *state;
	struct msglog		 l;

	memset(&l, 0, sizeof(l));
	t->msg_cb = on_msg;
	t->msg_arg = &l;
	assert_int_equal(typed(t, "10.0.0.77", MSG_T_NEW, 1, 1), -1);
	assert_int_equal(t->stats.unknown_sender, 1);
	assert_int_equal(t->nslots, 1);		/* no slot taken */
	hello(t, "10.0.0.9", 5, 1, T0);
	/* A newer epoch before its ID message: not yet known. */
	assert_int_equal(typed(t, "10.0.0.9", MSG_T_NEW, 6, 1), -1);
	assert_int_equal(t->stats.unknown_sender, 2);
	/* Gone: dropped, although its epoch is remembered. */
	cluster_table_expire(t, T0 + DEAD);
	assert_int_equal(typed(t, "10.0.0.9", MSG_T_NEW, 5, 2), -1);
	assert_int_equal(t->stats.unknown_sender, 3);
	/* Our own looped message. */
	assert_int_equal(typed(t, "10.0.0.5", MSG_T_NEW, 777, 9), -1);
	assert_int_equal(t->stats.own, 1);
	assert_int_equal(l.n, 0);
	assert_int_equal(t->stats.delivered, 0);
}

/* Sequence jumps are counted per member and in total, never repaired. */
static void
test_gaps(void **state)
{
	struct cluster_table	*t = *state;

	hello(t, "10.0.0.9", 5, 1, T0);
	hello(t, "10.0.0.7", 5, 10, T0);
	assert_int_equal(typed(t, "10.0.0.9", MSG_T_NEW, 5, 2), 1);
	assert_int_equal(typed(t, "10.0.0.9", MSG_T_NEW, 5, 5), 1);
	assert_int_equal(t->m[1].gaps, 2);
	assert_int_equal(hello(t, "10.0.0.9", 5, 9, T0 + 200), 0);
	assert_int_equal(t->m[1].gaps, 5);
	assert_int_equal(typed(t, "10.0.0.7", MSG_T_END, 5, 12), 2);
	assert_int_equal(t->m[2].gaps, 1);
	assert_int_equal(t->stats.gaps, 6);
	/* A restart or a join is not a gap. */
	assert_int_equal(hello(t, "10.0.0.9", 6, 50, T0 + 300), 1);
	assert_int_equal(t->m[1].gaps, 5);
	hello(t, "10.0.0.4", 1, 1000, T0);
	assert_int_equal(t->stats.gaps, 6);
}

/* The reliable channel has its own sequence space per sender epoch. */
static void
test_unicast(void **state)
{
	struct cluster_table	*t = *state;
	struct msg_view		 v;

	memset(&v, 0, sizeof(v));
	v.hdr.type = MSG_T_TRANSFER;
	v.hdr.sender = mid("10.0.0.9");
	v.hdr.epoch = 5;
	v.hdr.seq = 1;
	assert_int_equal(cluster_table_unicast(t, &v, &from), -1);
	assert_int_equal(t->stats.unknown_sender, 1);
	hello(t, "10.0.0.9", 5, 40, T0);
	assert_int_equal(cluster_table_unicast(t, &v, &from), 1);
	assert_int_equal(cluster_table_unicast(t, &v, &from), -1);
	assert_int_equal(t->stats.replays, 1);
	v.hdr.seq = 7;
	assert_int_equal(cluster_table_unicast(t, &v, &from), 1);
	/* Independent of the multicast sequence, no gaps counted. */
	assert_int_equal(t->m[1].seq, 40);
	assert_int_equal(t->stats.gaps, 0);
	/* A restart numbers afresh. */
	hello(t, "10.0.0.9", 6, 1, T0 + 10);
	v.hdr.epoch = 6;
	v.hdr.seq = 1;
	assert_int_equal(cluster_table_unicast(t, &v, &from), 1);
	/* The old epoch is a replay. */
	v.hdr.epoch = 5;
	v.hdr.seq = 100;
	assert_int_equal(cluster_table_unicast(t, &v, &from), -1);
	assert_int_equal(t->stats.replays, 2);
	assert_int_equal(t->stats.unhandled, 0);	/* not dispatched */
}

/* A fresh directory under /tmp for the epoch tests; path into dir. */
static void
epoch_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/ilbd-test-epoch-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

/* dir/name's contents, or "" if it cannot be read. */
static const char *
epoch_file(const char *dir, const char *name)
{
	static char	buf[64];
	char		path[PATH_MAX];
	FILE		*fp;
	size_t		n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
	}
	buf[n] = '\0';
	return (buf);
}

static void
epoch_rm(const char *dir, const char *name)
{
	char	path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (unlink(path) == -1)
		rmdir(path);
}

/* Boot epochs grow across restarts, even when the clock goes back. */
static void
test_epoch_boot(void **state)
{
	char		 dir[64], sub[96], *cause = NULL;
	uint64_t	 e;

	(void)state;
	epoch_tmpdir(dir, sizeof(dir));
	assert_int_equal(cluster_epoch_boot(dir, 1000, &e, &cause), 0);
	assert_true(e == 1000);
	assert_string_equal(epoch_file(dir, CLUSTER_EPOCH_FILE), "1000\n");
	/* the clock went back: the last epoch + 1, recorded */
	assert_int_equal(cluster_epoch_boot(dir, 500, &e, &cause), 0);
	assert_true(e == 1001);
	assert_int_equal(cluster_epoch_boot(dir, 1001, &e, &cause), 0);
	assert_true(e == 1002);
	assert_string_equal(epoch_file(dir, CLUSTER_EPOCH_FILE), "1002\n");
	/* the clock is ahead: the clock */
	assert_int_equal(cluster_epoch_boot(dir, 1700000000000000000ULL, &e,
	    &cause), 0);
	assert_true(e == 1700000000000000000ULL);
	assert_string_equal(epoch_file(dir, CLUSTER_EPOCH_FILE),
	    "1700000000000000000\n");
	assert_string_equal(epoch_file(dir, CLUSTER_EPOCH_FILE ".new"), "");
	/* "" : the clock alone, nothing written */
	assert_int_equal(cluster_epoch_boot("", 5, &e, &cause), 0);
	assert_true(e == 5);
	/* a missing last component is created */
	snprintf(sub, sizeof(sub), "%s/state", dir);
	assert_int_equal(cluster_epoch_boot(sub, 42, &e, &cause), 0);
	assert_true(e == 42);
	assert_string_equal(epoch_file(sub, CLUSTER_EPOCH_FILE), "42\n");
	assert_null(cause);
	epoch_rm(sub, CLUSTER_EPOCH_FILE);
	epoch_rm(dir, "state");
	epoch_rm(dir, CLUSTER_EPOCH_FILE);
	assert_int_equal(rmdir(dir), 0);
}

/* cause must name what: the start is refused. */
static void
epoch_refused(const char *dir, const char *what)
{
	char		*cause = NULL;
	uint64_t	 e;

	assert_int_equal(cluster_epoch_boot(dir, 1000, &e, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, what) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause, what);
	free(cause);
}

/* A state directory that cannot be used refuses the start, saying why. */
static void
test_epoch_unusable(void **state)
{
	char		 dir[64], path[128], want[192];
	FILE		*fp;

	(void)state;
	epoch_tmpdir(dir, sizeof(dir));
	/* a file where the directory should be */
	snprintf(path, sizeof(path), "%s/file", dir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	snprintf(want, sizeof(want), "node.state_dir %s: Not a directory",
	    path);
	epoch_refused(path, want);
	/* its parent missing */
	snprintf(path, sizeof(path), "%s/no/such", dir);
	snprintf(want, sizeof(want), "node.state_dir %s: cannot create it: "
	    "No such file or directory", path);
	epoch_refused(path, want);
	/* an epoch file that is not one */
	snprintf(path, sizeof(path), "%s/" CLUSTER_EPOCH_FILE, dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("12ab\n", fp);
	fclose(fp);
	snprintf(want, sizeof(want), "%s: not a boot epoch", path);
	epoch_refused(dir, want);
	assert_string_equal(epoch_file(dir, CLUSTER_EPOCH_FILE), "12ab\n");
	/* a directory in its place */
	epoch_rm(dir, CLUSTER_EPOCH_FILE);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(want, sizeof(want), "%s: Is a directory", path);
	epoch_refused(dir, want);
	epoch_rm(dir, CLUSTER_EPOCH_FILE);
	epoch_rm(dir, "file");
	assert_int_equal(rmdir(dir), 0);
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
		T(test_partition_self_rejoins),
		T(test_partition_tie_and_hold_timeout),
		T(test_replay_after_departure),
		T(test_replay_after_slot_reuse),
		T(test_seen_full),
		T(test_scoring_mismatch),
		T(test_own_id),
		T(test_joining_state),
		T(test_reject_counts),
		T(test_table_full),
		T(test_address_change),
		T(test_self_joining),
		T(test_joining_list),
		T(test_state_events),
		T(test_typed_dispatch),
		T(test_typed_unknown),
		T(test_gaps),
		T(test_unicast),
		cmocka_unit_test(test_epoch_boot),
		cmocka_unit_test(test_epoch_unusable),
#undef T
	};

	log_init("test_cluster", 1, 0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
