/*
 * test_worker.c: input workers (worker.c) on their real path: two worker
 * threads each read datagrams from a socket as from a TUN queue
 * (tun_open_fd()) and hand them over their rings to the test's loop.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "spsc.h"
#include "tun.h"
#include "worker.h"

#define NQ	2
#define PER_Q	3000	/* datagrams written to each queue */

/* What the test's loop received: per queue, the next sequence number. */
struct got {
	uint32_t	next[NQ];
	unsigned int	total;
	unsigned int	bad;	/* out of order or mangled */
	unsigned int	max_burst;
};

static void
on_burst(void *arg, const uint8_t *const *pkts, const size_t *lens,
    size_t n)
{
	struct got	*g = arg;
	uint32_t	 q, seq;
	size_t		 i;

	if (n > g->max_burst)
		g->max_burst = (unsigned int)n;
	for (i = 0; i < n; i++) {
		/* an IPv4 header's first byte, then the queue, the number */
		if (lens[i] != 100 || pkts[i][0] != 0x45) {
			g->bad++;
			continue;
		}
		memcpy(&q, pkts[i] + 20, 4);
		memcpy(&seq, pkts[i] + 24, 4);
		if (q >= NQ || seq != g->next[q] ||
		    pkts[i][99] != (uint8_t)seq)
			g->bad++;
		else
			g->next[q]++;
		g->total++;
	}
}

static void
test_workers_path(void **state)
{
	struct event_base	*base;
	struct workers		*ws;
	struct workers_stats	 st, one;
	struct tun		*t[NQ];
	struct got		 g;
	struct timeval		 tv = { 0, 20000 };
	uint8_t			 p[100];
	char			*cause = NULL;
	int			 sv[NQ][2], sz = 4 << 20;
	uint32_t		 q, seq;
	unsigned int		 i, loops = 0;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_non_null(base = event_base_new());
	assert_non_null(ws = workers_open(base, NQ, on_burst, &g, &cause));
	assert_int_equal(workers_count(ws), NQ);
	for (q = 0; q < NQ; q++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM |
		    SOCK_NONBLOCK, 0, sv[q]), 0);
		(void)setsockopt(sv[q][0], SOL_SOCKET, SO_SNDBUF, &sz,
		    sizeof(sz));
		(void)setsockopt(sv[q][1], SOL_SOCKET, SO_RCVBUF, &sz,
		    sizeof(sz));
		assert_non_null(t[q] = tun_open_fd(workers_base(ws, q),
		    sv[q][1], workers_input, workers_arg(ws, q), &cause));
	}
	assert_int_equal(workers_start(ws, &cause), 0);
	/* the two queues interleaved, written while the workers read */
	for (seq = 0; seq < PER_Q; seq++) {
		for (q = 0; q < NQ; q++) {
			memset(p, 0, sizeof(p));
			p[0] = 0x45;
			p[16] = 198;	/* not multicast */
			memcpy(p + 20, &q, 4);
			memcpy(p + 24, &seq, 4);
			p[99] = (uint8_t)seq;
			while (send(sv[q][0], p, sizeof(p), 0) == -1)
				(void)event_base_loop(base, EVLOOP_NONBLOCK);
		}
		if (seq % 64 == 0)
			(void)event_base_loop(base, EVLOOP_NONBLOCK);
	}
	/* the test's loop takes the rest (a hang fails after ~20 s) */
	while (g.total < NQ * PER_Q && loops++ < 1000) {
		event_base_loopexit(base, &tv);
		(void)event_base_dispatch(base);
	}
	assert_int_equal(g.total, NQ * PER_Q);
	assert_int_equal(g.bad, 0);
	for (q = 0; q < NQ; q++)
		assert_int_equal(g.next[q], PER_Q);
	assert_true(g.max_burst <= SPSC_BURST);
	workers_stats(ws, &st);
	assert_int_equal(st.packets, NQ * PER_Q);
	assert_int_equal(st.dropped, 0);
	assert_true(st.wakeups >= 1);
	for (q = 0; q < NQ; q++) {
		workers_stats_one(ws, q, &one);
		assert_int_equal(one.packets, PER_Q);
	}
	print_message("# %u datagrams over %u queues, %llu wake-ups\n",
	    g.total, NQ, (unsigned long long)st.wakeups);
	/* stopped: the inputs close, then the rest */
	workers_stop(ws);
	for (i = 0; i < NQ; i++) {
		tun_close(t[i]);
		close(sv[i][0]);
	}
	workers_close(ws);
	event_base_free(base);
}

/* Out of range: refused with a reason. */
static void
test_workers_bad(void **state)
{
	struct event_base	*base;
	char			*cause = NULL;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_null(workers_open(base, 0, on_burst, NULL, &cause));
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_null(workers_open(base, WORKERS_MAX + 1, on_burst, NULL,
	    &cause));
	assert_non_null(cause);
	free(cause);
	assert_true(workers_cpus() >= 1);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workers_path),
		cmocka_unit_test(test_workers_bad),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
