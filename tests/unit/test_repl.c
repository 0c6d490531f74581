/* test_repl.c: the replication core (claims 11-18) in a simulated cluster. */

#include <sys/socket.h>

#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conntab.h"
#include "lb.h"
#include "msg.h"
#include "packet.h"
#include "repl_sm.h"
#include "sim.h"

/* ---- claims 11 to 14 -------------------------------------------------- */

/* Member i's entry of port: its LTOC one, else its cache one. */
static struct conn_entry *
test_entry(struct sim *w, int i, uint16_t port)
{
	struct conn_entry	*e = sim_ltoc(w, i, port);

	return (e != NULL ? e : sim_cache(w, i, port));
}

/*
 * claims 13, 11, 12: the owner decides a SYN, multicasts the association;
 * the backup stores it in its LTOC, the others in their caches.
 */
static void
test_claim13_syn_at_owner(void **state)
{
	struct sim	*w = sim_new(3, 1);
	uint16_t	 p = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	int		 srv;

	(void)state;
	srv = sim_fwd(w, 0, p, PKT_TH_SYN);
	assert_int_equal(sim_stats(w, 0)->new_sent, 1);
	assert_int_equal(sim_stats(w, 0)->mc_sent, 1);
	sim_run(w, 5);				/* the multicast only */
	sim_assert_holds(w, 0, p, CONN_ROLE_OWNER, srv, 0, 1);
	sim_assert_holds(w, 1, p, CONN_ROLE_BACKUP, srv, 0, 1);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_SYN);
	assert_null(sim_ltoc(w, 2, p));
	assert_non_null(sim_cache(w, 2, p));
	assert_int_equal(sim_cache(w, 2, p)->server, srv);
	/* The backup's reliable copy leaves with the tick, changes nothing. */
	sim_run(w, SIM_TICK_MS + 5);
	assert_int_equal(sim_stats(w, 0)->backup_sent, 1);
	assert_int_equal(sim_stats(w, 0)->backup_flushes, 1);
	assert_int_equal(sim_stats(w, 1)->new_rx, 2);
	sim_assert_holds(w, 1, p, CONN_ROLE_BACKUP, srv, 0, 1);
	sim_free(w);
}

/* claim 13, second half: a SYN at another member goes to the owner. */
static void
test_claim13_syn_at_other(void **state)
{
	struct sim		*w = sim_new(3, 2);
	uint16_t		 p = sim_port(w, 0x7, 1, 2, 0, 0, 0);
	struct lb_action	 act;

	(void)state;
	assert_int_equal(sim_packet(w, 0, p, PKT_TH_SYN, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_OWNER);
	assert_int_equal(w->m[0].lb.stats.handoff_out, 1);
	sim_run(w, 5);
	sim_assert_holds(w, 1, p, CONN_ROLE_OWNER, act.server, 1, 2);
	sim_assert_holds(w, 2, p, CONN_ROLE_BACKUP, act.server, 1, 2);
	assert_non_null(sim_cache(w, 0, p));
	/* The next packet at the first member uses its cache (claim 14). */
	assert_int_equal(sim_packet(w, 0, p, PKT_TH_ACK, &act), LB_FORWARD);
	assert_int_equal(act.path, LB_PATH_CACHE);
	sim_free(w);
}

/* claim 11: the NEW multicast to the backup is lost; the reliable copy. */
static void
test_claim11_backup_copy(void **state)
{
	struct sim	*w = sim_new(3, 3);
	uint16_t	 p = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	int		 srv;

	(void)state;
	sim_rule(w, MSG_T_NEW, 0, 0, 1, 1);
	srv = sim_fwd(w, 0, p, PKT_TH_SYN);
	sim_run(w, 5);
	assert_null(sim_ltoc(w, 1, p));
	assert_non_null(sim_cache(w, 2, p));
	sim_run(w, SIM_TICK_MS);
	sim_assert_holds(w, 1, p, CONN_ROLE_BACKUP, srv, 0, 1);
	assert_int_equal(sim_stats(w, 1)->new_rx, 1);
	sim_free(w);
}

/*
 * claim 14: the handshake completes through a cache; its REFRESH makes
 * the owner's and backup's entries established. FIN or RST anywhere:
 * END closes the entry everywhere, and closed entries expire.
 */
static void
test_claim14_end(void **state)
{
	struct sim	*w = sim_new(3, 4);
	uint16_t	 p = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	uint16_t	 q = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	int		 srv, i;

	(void)state;
	srv = sim_fwd(w, 0, p, PKT_TH_SYN);
	(void)sim_fwd(w, 0, q, PKT_TH_SYN);
	sim_run(w, 5);
	assert_int_equal(sim_fwd(w, 2, p, PKT_TH_ACK), srv);	/* cache */
	assert_int_equal(sim_cache(w, 2, p)->state, CONN_ESTABLISHED);
	sim_run(w, LB_EST_DELAY_MS + SIM_TICK_MS + 5);
	assert_int_equal(sim_stats(w, 2)->refresh_sent, 1);
	assert_int_equal(sim_ltoc(w, 0, p)->state, CONN_ESTABLISHED);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_ESTABLISHED);
	/* FIN at a cache member, RST at the owner. */
	assert_int_equal(sim_fwd(w, 2, p, PKT_TH_FIN | PKT_TH_ACK), srv);
	(void)sim_fwd(w, 0, q, PKT_TH_RST);
	sim_run(w, 5);
	for (i = 0; i < 3; i++) {
		assert_int_equal(test_entry(w, i, p)->state, CONN_CLOSING);
		assert_int_equal(test_entry(w, i, q)->state, CONN_CLOSING);
	}
	assert_non_null(sim_ltoc(w, 1, p));
	assert_int_equal(sim_stats(w, 1)->end_rx, 2);
	sim_run(w, (SIM_FIN_S + 2) * 1000);
	for (i = 0; i < 3; i++) {
		assert_null(test_entry(w, i, p));
		assert_null(test_entry(w, i, q));
	}
	sim_free(w);
}

/* claim 14: the END multicast to the backup is lost: the reliable copy. */
static void
test_claim14_end_to_backup(void **state)
{
	struct sim	*w = sim_new(3, 5);
	uint16_t	 p = sim_port(w, 0x7, 0, 1, 0, 0, 0);

	(void)state;
	(void)sim_fwd(w, 0, p, PKT_TH_SYN);
	(void)sim_fwd(w, 0, p, PKT_TH_ACK);
	sim_run(w, 2000);
	sim_rule(w, MSG_T_END, 0, 0, 1, 1);
	(void)sim_fwd(w, 0, p, PKT_TH_FIN | PKT_TH_ACK);
	sim_run(w, 5);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_ESTABLISHED);
	assert_int_equal(sim_cache(w, 2, p)->state, CONN_CLOSING);
	sim_run(w, SIM_TICK_MS);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_CLOSING);
	sim_free(w);
}

/* ---- issue 18: reliable END and REFRESH, reconciliation --------------- */

#define TEST_RECON_MS	(SIM_SYN_S * 1000 / 8)	/* between two passes */

/*
 * The handshake's REFRESH multicast to the backup is lost: the reliable
 * copy makes its entry established, and it never expires while the
 * owner holds the connection, idle twice syn_timeout_s and more.
 */
static void
test_issue18_lost_refresh(void **state)
{
	struct sim	*w = sim_new(3, 6);
	uint16_t	 p = sim_port(w, 0x7, 0, 1, 0, 0, 0);

	(void)state;
	sim_rule(w, MSG_T_REFRESH, 0, 0, 1, -1);
	(void)sim_fwd(w, 0, p, PKT_TH_SYN);
	(void)sim_fwd(w, 0, p, PKT_TH_ACK);
	sim_run(w, LB_EST_DELAY_MS + SIM_TICK_MS + 5);
	assert_int_equal(sim_stats(w, 0)->refresh_rel_sent, 1);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_ESTABLISHED);
	sim_run(w, 3 * SIM_SYN_S * 1000);
	sim_assert_holds(w, 1, p, CONN_ROLE_BACKUP, sim_ltoc(w, 0, p)->server,
	    0, 1);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_ESTABLISHED);
	assert_true(sim_stats(w, 0)->recon_sent > 0);
	assert_int_equal(w->m[1].lb.stats.ltoc_expired, 0);
	sim_free(w);
}

/*
 * A FIN at a member that only caches the connection, quiet for a few
 * seconds, every END multicast lost: the reliable copies close the
 * owner's and the backup's entries, which expire after fin_timeout_s.
 */
static void
test_issue18_lost_end(void **state)
{
	struct sim	*w = sim_new(3, 7);
	uint16_t	 p = sim_port(w, 0x7, 0, 1, 0, 0, 0);

	(void)state;
	(void)sim_fwd(w, 0, p, PKT_TH_SYN);
	(void)sim_fwd(w, 0, p, PKT_TH_ACK);
	sim_run(w, 4000);
	sim_rule(w, MSG_T_END, 0, -1, -1, -1);
	(void)sim_fwd(w, 2, p, PKT_TH_FIN | PKT_TH_ACK);	/* its cache */
	sim_run(w, SIM_TICK_MS + 5);
	assert_int_equal(sim_stats(w, 2)->end_rel_sent, 2);
	assert_int_equal(sim_stats(w, 0)->end_rx_late, 0);
	assert_int_equal(sim_ltoc(w, 0, p)->state, CONN_CLOSING);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_CLOSING);
	/* Reconciliation does not keep the closing copy alive. */
	sim_run(w, (SIM_FIN_S + 2) * 1000);
	assert_null(sim_ltoc(w, 0, p));
	assert_null(sim_ltoc(w, 1, p));
	sim_free(w);
}

/*
 * Both copies of the REFRESH to the backup are lost (a reliable channel
 * dropped): its entry stays syn until the owner's next reconciliation
 * pass makes it established, long before syn_timeout_s.
 */
static void
test_issue18_recon_repairs_backup(void **state)
{
	struct sim	*w = sim_new(3, 8);
	uint16_t	 p = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	uint64_t	 passes;

	(void)state;
	sim_rule(w, MSG_T_REFRESH, 0, 0, 1, -1);
	sim_rule(w, MSG_T_REFRESH, 1, 0, 1, -1);
	(void)sim_fwd(w, 0, p, PKT_TH_SYN);
	(void)sim_fwd(w, 0, p, PKT_TH_ACK);
	sim_run(w, LB_EST_DELAY_MS + SIM_TICK_MS + 5);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_SYN);
	passes = sim_stats(w, 0)->recon_passes;
	sim_run(w, TEST_RECON_MS + SIM_TICK_MS);
	assert_true(sim_stats(w, 0)->recon_passes > passes);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_ESTABLISHED);
	sim_run(w, 2 * SIM_SYN_S * 1000);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_ESTABLISHED);
	sim_free(w);
}

/*
 * The other way: the handshake completes through the backup and both
 * copies of its REFRESH to the owner are lost. The owner's next pass says
 * syn; the backup, established, answers with a REFRESH that repairs the
 * owner's entry.
 */
static void
test_issue18_recon_answer(void **state)
{
	struct sim	*w = sim_new(3, 9);
	uint16_t	 p = sim_port(w, 0x7, 0, 1, 0, 0, 0);

	(void)state;
	sim_rule(w, MSG_T_REFRESH, 0, 1, 0, -1);
	sim_rule(w, MSG_T_REFRESH, 1, 1, 0, 1);
	(void)sim_fwd(w, 0, p, PKT_TH_SYN);
	sim_run(w, 5);
	assert_int_equal(sim_fwd(w, 1, p, PKT_TH_ACK),
	    sim_ltoc(w, 0, p)->server);
	sim_run(w, LB_EST_DELAY_MS + SIM_TICK_MS + 5);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_ESTABLISHED);
	assert_int_equal(sim_ltoc(w, 0, p)->state, CONN_SYN);
	sim_run(w, TEST_RECON_MS + 2 * SIM_TICK_MS);
	assert_true(sim_stats(w, 1)->recon_answers > 0);
	assert_int_equal(sim_ltoc(w, 0, p)->state, CONN_ESTABLISHED);
	sim_run(w, 2 * SIM_SYN_S * 1000);
	assert_non_null(sim_ltoc(w, 0, p));
	sim_free(w);
}

/*
 * The one-sided fault of test_repl_idle.sh: member 2 stops hearing 1
 * (not the other way), declares it gone and adopts its cache copy of p
 * (owner 0, backup 1 in the whole cluster; backup 2 without 1) as backup.
 * The copy is syn: the multicast REFRESH to 2 was lost. 0 and 1 still see
 * each other, so 0's reconciliation goes to 1, never to 2. When
 * syn_timeout_s runs out, 2 asks 0 (PULL) instead of dropping a live
 * connection's entry; 0 answers REFRESH and 2's copy is established.
 */
static void
test_issue18_pull_adopted(void **state)
{
	struct sim	*w = sim_new(3, 10);
	uint16_t	 p = sim_port(w, 0x7, 0, 1, 0x5, 0, 2);
	int		 sp;

	(void)state;
	sim_rule(w, MSG_T_REFRESH, 0, 0, 2, -1);
	sp = sim_fwd(w, 0, p, PKT_TH_SYN);
	sim_run(w, 5);
	assert_int_equal(sim_fwd(w, 0, p, PKT_TH_ACK), sp);
	sim_run(w, LB_EST_DELAY_MS + 2 * SIM_TICK_MS);
	assert_non_null(sim_cache(w, 2, p));
	assert_int_equal(sim_cache(w, 2, p)->state, CONN_SYN);
	sim_rule(w, 0, 0, 1, 2, -1);		/* 2 no longer hears 1 */
	sim_rule(w, 0, 1, 1, 2, -1);
	sim_run(w, SIM_DEAD_MS + 3 * SIM_TICK_MS);
	assert_int_equal(w->m[2].t.nactive, 2);
	assert_int_equal(w->m[0].t.nactive, 3);
	sim_assert_holds(w, 2, p, CONN_ROLE_BACKUP, sp, 0, 2);
	assert_int_equal(sim_ltoc(w, 2, p)->state, CONN_SYN);
	sim_run(w, SIM_SYN_S * 1000 + 2000);
	assert_int_equal(w->m[2].lb.stats.ltoc_expired, 0);
	assert_non_null(sim_ltoc(w, 2, p));
	assert_int_equal(sim_ltoc(w, 2, p)->state, CONN_ESTABLISHED);
	assert_true(sim_stats(w, 2)->pull_sent > 0);
	assert_true(sim_stats(w, 0)->pull_answers > 0);
	sim_free(w);
}

/*
 * A SYN that never completes: each holder's entry asks once when
 * syn_timeout_s runs out (the owner's first; reconciliation keeps the
 * backup's copy as long as the owner holds it), nobody answers (every
 * entry is syn), each is kept one more syn_timeout_s and then expires:
 * no endless reprieve.
 */
static void
test_issue18_pull_syn_expires(void **state)
{
	struct sim	*w = sim_new(3, 11);
	uint16_t	 p = sim_port(w, 0x7, 0, 1, 0, 0, 0);

	(void)state;
	(void)sim_fwd(w, 0, p, PKT_TH_SYN);
	sim_run(w, SIM_SYN_S * 1000 + 2000);
	assert_non_null(sim_ltoc(w, 0, p));
	assert_int_equal(sim_stats(w, 0)->pull_sent, 1);
	assert_int_equal(sim_stats(w, 1)->pull_rx, 1);
	assert_int_equal(sim_stats(w, 2)->pull_rx, 1);
	assert_int_equal(sim_stats(w, 1)->pull_answers, 0);
	assert_int_equal(sim_stats(w, 2)->pull_answers, 0);
	sim_run(w, SIM_SYN_S * 1000);
	assert_null(sim_ltoc(w, 0, p));
	assert_non_null(sim_ltoc(w, 1, p));
	sim_run(w, SIM_SYN_S * 1000 + 1000);
	assert_non_null(sim_ltoc(w, 1, p));
	assert_int_equal(sim_stats(w, 1)->pull_sent, 1);
	assert_int_equal(sim_stats(w, 0)->pull_rx, 1);
	assert_int_equal(sim_stats(w, 0)->pull_answers, 0);
	sim_run(w, SIM_SYN_S * 1000 + 1000);
	assert_null(sim_ltoc(w, 1, p));
	assert_int_equal(sim_stats(w, 0)->pull_sent, 1);
	assert_int_equal(sim_stats(w, 1)->pull_sent, 1);
	sim_free(w);
}

/*
 * The handshake completes through member 2's cache and its REFRESH to
 * both holders is lost (multicast and reliable: a channel dropped in a
 * flap), so owner and backup both stay syn and reconciliation has
 * nothing to repair. When syn_timeout_s runs out the owner asks; 2,
 * whose cache entry is established, answers; the owner's entry is
 * established and reconciliation then carries that to the backup.
 */
static void
test_issue18_pull_owner(void **state)
{
	struct sim	*w = sim_new(3, 12);
	uint16_t	 p = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	int		 sp, i;

	(void)state;
	for (i = 0; i < 2; i++) {
		sim_rule(w, MSG_T_REFRESH, 0, 2, i, 1);
		sim_rule(w, MSG_T_REFRESH, 1, 2, i, 1);
	}
	sp = sim_fwd(w, 0, p, PKT_TH_SYN);
	sim_run(w, 5);
	assert_int_equal(sim_fwd(w, 2, p, PKT_TH_ACK), sp);
	sim_run(w, LB_EST_DELAY_MS + 2 * SIM_TICK_MS);
	assert_int_equal(sim_cache(w, 2, p)->state, CONN_ESTABLISHED);
	assert_int_equal(sim_ltoc(w, 0, p)->state, CONN_SYN);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_SYN);
	sim_run(w, SIM_SYN_S * 1000 + 2000);
	assert_non_null(sim_ltoc(w, 0, p));
	assert_int_equal(sim_ltoc(w, 0, p)->state, CONN_ESTABLISHED);
	assert_true(sim_stats(w, 2)->pull_answers > 0);
	sim_run(w, TEST_RECON_MS + 2 * SIM_TICK_MS);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_ESTABLISHED);
	sim_run(w, 2 * SIM_SYN_S * 1000);
	sim_assert_holds(w, 0, p, CONN_ROLE_OWNER, sp, 0, 1);
	sim_assert_holds(w, 1, p, CONN_ROLE_BACKUP, sp, 0, 1);
	assert_int_equal(w->m[0].lb.stats.ltoc_expired, 0);
	assert_int_equal(w->m[1].lb.stats.ltoc_expired, 0);
	sim_free(w);
}

/*
 * The same while the owner joins again: member 0 stops hearing 1 (one
 * way) and declares it gone shortly before syn_timeout_s runs out; when
 * it hears 1 again it is the smaller side and joins again, and 1's DONE
 * is lost, so the join lasts until its timeout. The entry it keeps
 * meanwhile expires in that window: it asks all the same (test_repl_idle.sh
 * lost 8 such entries in a 312 ms join).
 */
static void
test_issue18_pull_joining(void **state)
{
	struct sim	*w = sim_new(3, 12);
	uint16_t	 p = sim_port(w, 0x7, 0, 1, 0x5, 0, 2);
	uint64_t	 t0;
	int		 sp, i;

	(void)state;
	for (i = 0; i < 2; i++) {
		sim_rule(w, MSG_T_REFRESH, 0, 2, i, 1);
		sim_rule(w, MSG_T_REFRESH, 1, 2, i, 1);
	}
	sp = sim_fwd(w, 0, p, PKT_TH_SYN);
	t0 = w->now;
	sim_run(w, 5);
	assert_int_equal(sim_fwd(w, 2, p, PKT_TH_ACK), sp);
	sim_run(w, SIM_SYN_S * 1000 - 4000);
	assert_int_equal(sim_ltoc(w, 0, p)->state, CONN_SYN);
	w->nrules = 0;
	sim_rule(w, 0, 0, 1, 0, -1);		/* 0 no longer hears 1 */
	sim_rule(w, 0, 1, 1, 0, -1);
	sim_run(w, SIM_DEAD_MS + 3 * SIM_TICK_MS);
	assert_int_equal(w->m[0].t.nactive, 2);
	w->nrules = 0;
	sim_rule(w, MSG_T_DONE, 1, 1, 0, -1);	/* the join waits */
	for (i = 0; i < 100 && sim_phase(w, 0) == REPL_SM_ACTIVE; i++)
		sim_run(w, 10);
	assert_int_not_equal(sim_phase(w, 0), REPL_SM_ACTIVE);
	sim_run(w, t0 + SIM_SYN_S * 1000 + 2000 - w->now);
	assert_int_not_equal(sim_phase(w, 0), REPL_SM_ACTIVE);
	assert_int_equal(w->m[0].lb.stats.ltoc_expired, 0);
	assert_non_null(sim_ltoc(w, 0, p));
	assert_int_equal(sim_ltoc(w, 0, p)->state, CONN_ESTABLISHED);
	assert_true(sim_stats(w, 0)->pull_sent > 0);
	sim_free(w);
}

/* ---- claims 17 and 18 ------------------------------------------------- */

/*
 * claim 17: member 3 joins 0, 1, 2. Rows at R = 0, the old owner (1 the
 * old backup): a: J owner, R backup: J gets the entry as owned, R's role
 * becomes backup; b: R owner, J backup: J gets it as backup, R records
 * backup = J. At R = 1 in both (J owner or backup, R neither): the old
 * owner sends it, R deletes it and keeps it in its cache. The joiner has
 * its transfer table and every DONE before it goes active.
 */
static void
test_claim17_join(void **state)
{
	struct sim	*w = sim_new(3, 6);
	uint64_t	 done[3], acked[3], rebal;
	uint16_t	 p[2];
	int		 srv[2], i, j;

	(void)state;
	p[0] = sim_port(w, 0x7, 0, 1, 0xf, 3, 0);
	p[1] = sim_port(w, 0x7, 0, 1, 0xf, 0, 3);
	for (i = 0; i < 2; i++) {
		srv[i] = sim_fwd(w, 0, p[i], PKT_TH_SYN);
		assert_int_equal(sim_fwd(w, 0, p[i], PKT_TH_ACK), srv[i]);
	}
	sim_run(w, 2000);
	rebal = sim_stats(w, 0)->rebalances;
	for (j = 0; j < 3; j++) {
		done[j] = sim_stats(w, j)->done_sent;
		acked[j] = sim_stats(w, j)->done_acked;
	}
	sim_start(w, 3);
	while (sim_phase(w, 3) == REPL_SM_JOINING) {
		/* Not scored while it joins. */
		for (j = 0; j < 3; j++)
			assert_int_equal(w->m[j].lb.nmembers, 3);
		assert_true(w->now < SIM_T0 + 3500 + 2 * SIM_HELLO_MS + 200);
		sim_run(w, 1);
	}
	/* Active: its entries came first (the channel is ordered). */
	assert_int_equal(sim_stats(w, 3)->new_rx, 2);
	assert_true(sim_stats(w, 3)->rx_held > 0);	/* before the ID */
	assert_int_equal(sim_stats(w, 3)->rx_unknown_sender, 0);
	assert_non_null(sim_ltoc(w, 3, p[0]));
	assert_non_null(sim_ltoc(w, 3, p[1]));
	for (j = 0; j < 3; j++) {
		assert_int_equal(sim_stats(w, j)->done_sent, done[j] + 1);
		assert_int_equal(sim_stats(w, j)->done_acked, acked[j] + 1);
	}
	sim_run(w, 1000);
	sim_assert_holds(w, 3, p[0], CONN_ROLE_OWNER, srv[0], 3, 0);
	sim_assert_holds(w, 0, p[0], CONN_ROLE_BACKUP, srv[0], 3, 0);
	sim_assert_holds(w, 0, p[1], CONN_ROLE_OWNER, srv[1], 0, 3);
	sim_assert_holds(w, 3, p[1], CONN_ROLE_BACKUP, srv[1], 0, 3);
	assert_int_equal(sim_ltoc(w, 3, p[0])->state, CONN_ESTABLISHED);
	for (i = 0; i < 2; i++) {
		assert_null(sim_ltoc(w, 1, p[i]));
		assert_non_null(sim_cache(w, 1, p[i]));
		for (j = 0; j < 4; j++)
			assert_int_equal(sim_fwd(w, j, p[i], PKT_TH_ACK),
			    srv[i]);
	}
	assert_int_equal(sim_stats(w, 0)->xfer_sent, 2);	/* once each */
	assert_int_equal(sim_stats(w, 0)->rebalances, rebal + 1);
	sim_free(w);
}

/* claim 17: a connection opened while a member joins is sent to it too. */
static void
test_claim17_new_while_joining(void **state)
{
	struct sim	*w = sim_new(3, 7);
	uint16_t	 p = sim_port(w, 0x7, 0, SIM_ANY, 0xf, 3, 0);
	int		 srv;

	(void)state;
	sim_start(w, 3);
	sim_run(w, 10);
	assert_int_equal(sim_phase(w, 3), REPL_SM_JOINING);
	srv = sim_fwd(w, 1, p, PKT_TH_SYN);	/* handed to 0 */
	assert_int_equal(sim_stats(w, 0)->joiner_sent, 1);
	sim_run(w, 5);
	/* Held: the joiner has not heard 0's ID message yet. */
	assert_null(sim_ltoc(w, 3, p));
	sim_run(w, SIM_HELLO_MS);
	assert_non_null(sim_ltoc(w, 3, p));
	sim_run(w, 2000);
	assert_int_equal(sim_phase(w, 3), REPL_SM_ACTIVE);
	sim_assert_holds(w, 3, p, CONN_ROLE_OWNER, srv, 3, 0);
	sim_assert_holds(w, 0, p, CONN_ROLE_BACKUP, srv, 3, 0);
	assert_int_equal(sim_fwd(w, 2, p, PKT_TH_ACK), srv);
	sim_free(w);
}

/* claim 17: a DONE that never comes: the joiner goes active at a timeout. */
static void
test_claim17_join_timeout(void **state)
{
	struct sim	*w = sim_new(2, 8);
	uint64_t	 acked = sim_stats(w, 1)->done_acked;

	(void)state;
	sim_rule(w, MSG_T_DONE, 1, 1, 2, -1);
	sim_start(w, 2);
	sim_run(w, REPL_SM_JOIN_TIMEOUT_MS - 500);
	assert_int_equal(sim_phase(w, 2), REPL_SM_JOINING);
	sim_run(w, 1000);
	assert_int_equal(sim_phase(w, 2), REPL_SM_ACTIVE);
	assert_int_equal(sim_stats(w, 2)->join_timeouts, 1);
	assert_int_equal(sim_stats(w, 1)->done_acked, acked);
	sim_run(w, 500);
	assert_int_equal(w->m[0].lb.nmembers, 3);
	sim_free(w);
}

/*
 * Issue 18: owner and backup (members 2 and 3) die together. The
 * survivors have the connections in their caches: the new owner and the
 * new backup adopt them (LTOC entry, role) and send each other a copy;
 * every survivor forwards them to their server.
 */
static void
test_both_holders_die(void **state)
{
	struct sim		*w = sim_new(4, 21);
	uint16_t		 p[2];
	int			 srv[2], i, j, o, b;

	(void)state;
	p[0] = sim_port(w, 0xf, 2, 3, 0x3, 0, 1);
	p[1] = sim_port(w, 0xf, 3, 2, 0x3, 1, 0);
	for (i = 0; i < 2; i++) {
		srv[i] = sim_fwd(w, 0, p[i], PKT_TH_SYN);
		sim_run(w, 5);
		assert_int_equal(sim_fwd(w, 1, p[i], PKT_TH_ACK), srv[i]);
	}
	sim_run(w, 2000);
	assert_null(sim_ltoc(w, 0, p[0]));
	sim_stop(w, 2);
	sim_stop(w, 3);
	sim_run(w, SIM_DEAD_MS + 2 * SIM_TICK_MS + 10);
	for (i = 0; i < 2; i++) {
		sim_rank(w, 0x3, p[i], &o, &b);
		sim_assert_holds(w, o, p[i], CONN_ROLE_OWNER, srv[i], o, b);
		sim_assert_holds(w, b, p[i], CONN_ROLE_BACKUP, srv[i], o, b);
		for (j = 0; j < 2; j++)
			assert_int_equal(sim_fwd(w, j, p[i], PKT_TH_ACK),
			    srv[i]);
	}
	assert_int_equal(w->m[0].lb.stats.adopted +
	    w->m[1].lb.stats.adopted, 4);
	sim_free(w);
}

/*
 * Partition merge (issue 18 point 5, ilbd-protocol(7)): member 0 is cut
 * off from 1 and 2 (every message, both ways) past dead_ms; each side
 * takes over. Connection p (owner 1, backup 0) goes on through 0; a new
 * one, q, opens at 0 during the cut (its holders in the whole cluster: 2
 * and 0). On heal, 0 (the smaller side) joins again: 1 and 2 never score
 * it before it has, only 0 joins again, and both connections end with
 * their holders agreeing on their servers.
 */
static void
test_partition_merge(void **state)
{
	struct sim	*w = sim_new(3, 33);
	uint16_t	 p, q;
	int		 sp, sq, i, j, o, b, slot0;

	(void)state;
	p = sim_port(w, 0x7, 1, 0, 0, 0, 0);
	q = sim_port(w, 0x7, 2, 0, 0, 0, 0);
	sp = sim_fwd(w, 1, p, PKT_TH_SYN);
	sim_run(w, 5);
	assert_int_equal(sim_fwd(w, 0, p, PKT_TH_ACK), sp);
	sim_run(w, 2000);
	for (i = 1; i < 3; i++) {
		sim_rule(w, 0, 0, 0, i, -1);
		sim_rule(w, 0, 1, 0, i, -1);
		sim_rule(w, 0, 0, i, 0, -1);
		sim_rule(w, 0, 1, i, 0, -1);
	}
	sim_run(w, SIM_DEAD_MS + 3 * SIM_TICK_MS);
	assert_int_equal(w->m[0].t.nactive, 1);
	assert_int_equal(w->m[1].t.nactive, 2);
	assert_int_equal(sim_fwd(w, 0, p, PKT_TH_ACK), sp);
	sq = sim_fwd(w, 0, q, PKT_TH_SYN);
	sim_run(w, 5);
	assert_int_equal(sim_fwd(w, 0, q, PKT_TH_ACK), sq);
	sim_run(w, 2000);
	w->nrules = 0;				/* heal */
	slot0 = cluster_table_find_id(&w->m[1].t, &w->m[0].id);
	for (i = 0; i < 500; i++) {
		sim_run(w, 10);
		if (slot0 < 0)
			slot0 = cluster_table_find_id(&w->m[1].t,
			    &w->m[0].id);
		for (j = 1; j < 3 && slot0 >= 0; j++) {
			if (w->m[j].t.nactive < 3)
				continue;
			/* scored by j: 0 has joined again, all of it */
			assert_int_equal(w->m[0].t.stats.merge_rejoins, 1);
			assert_int_equal(sim_phase(w, 0), REPL_SM_ACTIVE);
		}
	}
	assert_int_equal(sim_active(w), 0x7);
	assert_int_equal(w->m[0].t.stats.merge_rejoins, 1);
	assert_int_equal(w->m[1].t.stats.merge_rejoins, 0);
	assert_int_equal(w->m[2].t.stats.merge_rejoins, 0);
	sim_rank(w, 0x7, p, &o, &b);
	sim_assert_holds(w, o, p, CONN_ROLE_OWNER, sp, o, b);
	sim_assert_holds(w, b, p, CONN_ROLE_BACKUP, sp, o, b);
	sim_rank(w, 0x7, q, &o, &b);
	sim_assert_holds(w, o, q, CONN_ROLE_OWNER, sq, o, b);
	sim_assert_holds(w, b, q, CONN_ROLE_BACKUP, sq, o, b);
	for (j = 0; j < 3; j++) {
		assert_int_equal(sim_fwd(w, j, p, PKT_TH_ACK), sp);
		assert_int_equal(sim_fwd(w, j, q, PKT_TH_ACK), sq);
	}
	sim_free(w);
}

/*
 * claim 18: member 1 dies. Rows at the survivors: R owner, F backup: R
 * picks the next backup and sends it the entry; R backup, F owner: R
 * becomes owner, picks a backup and sends it the entry. Cached
 * associations that named F get new holders.
 */
static void
test_claim18_death(void **state)
{
	struct sim		*w = sim_new(4, 9);
	struct conn_entry	*e;
	uint16_t		 p[2];
	int			 srv[2], i, j, o, b;

	(void)state;
	p[0] = sim_port(w, 0xf, 0, 1, 0, 0, 0);
	p[1] = sim_port(w, 0xf, 1, 0, 0, 0, 0);
	for (i = 0; i < 2; i++) {
		srv[i] = sim_fwd(w, 2, p[i], PKT_TH_SYN);
		assert_int_equal(sim_fwd(w, 3, p[i], PKT_TH_ACK), srv[i]);
	}
	sim_run(w, 2000);
	sim_stop(w, 1);
	sim_run(w, SIM_DEAD_MS + 2 * SIM_TICK_MS + 10);
	for (i = 0; i < 2; i++) {
		sim_rank(w, 0xd, p[i], &o, &b);
		assert_int_equal(o, 0);
		sim_assert_holds(w, o, p[i], CONN_ROLE_OWNER, srv[i], o, b);
		sim_assert_holds(w, b, p[i], CONN_ROLE_BACKUP, srv[i], o, b);
		for (j = 0; j < 4; j++) {
			if (j == 1 || j == o || j == b)
				continue;
			assert_null(sim_ltoc(w, j, p[i]));
			assert_non_null(e = sim_cache(w, j, p[i]));
			assert_int_equal(sim_of_slot(w, &w->m[j], e->owner),
			    o);
			assert_int_equal(sim_of_slot(w, &w->m[j], e->backup),
			    b);
		}
		for (j = 0; j < 4; j++)
			if (j != 1)
				assert_int_equal(sim_fwd(w, j, p[i],
				    PKT_TH_ACK), srv[i]);
	}
	assert_int_equal(w->m[0].lb.stats.promoted, 1);
	assert_int_equal(sim_stats(w, 0)->xfer_sent, 2);
	sim_free(w);
}

/*
 * claim 18 by a graceful leave: member 1 hands its entries to their new
 * holders, waits for their ACKs, announces LEAVING and goes.
 */
static void
test_claim18_leave(void **state)
{
	struct sim	*w = sim_new(3, 10);
	uint64_t	 done, acked;
	uint16_t	 p[2];
	int		 srv[2], i, j;

	(void)state;
	p[0] = sim_port(w, 0x7, 1, 0, 0x5, 0, 2);
	p[1] = sim_port(w, 0x7, 0, 1, 0x5, 0, 2);
	for (i = 0; i < 2; i++) {
		srv[i] = sim_fwd(w, 2, p[i], PKT_TH_SYN);
		assert_int_equal(sim_fwd(w, 2, p[i], PKT_TH_ACK), srv[i]);
	}
	sim_run(w, 2000);
	done = sim_stats(w, 1)->done_sent;
	acked = sim_stats(w, 1)->done_acked;
	sim_leave(w, 1);
	assert_int_equal(sim_phase(w, 1), REPL_SM_LEAVING);
	assert_int_equal(sim_stats(w, 1)->done_sent, done + 2);
	assert_int_equal(sim_stats(w, 1)->xfer_sent, 4);
	sim_run(w, 2 * REPL_SM_POLL_MS);
	assert_int_equal(sim_phase(w, 1), REPL_SM_LEFT);
	assert_int_equal(sim_stats(w, 1)->done_acked, acked + 2);
	assert_int_equal(sim_stats(w, 1)->leave_timeouts, 0);
	assert_int_equal(w->m[0].lb.nmembers, 2);	/* LEAVING heard */
	/* handed its entries over: not asked for unknown UDP flows */
	assert_int_equal(w->m[0].lb.ngone, 0);
	assert_int_equal(w->m[2].lb.ngone, 0);
	sim_run(w, SIM_LEFT_MS + SIM_DEAD_MS + 500);
	assert_false(w->m[1].up);
	for (i = 0; i < 2; i++) {
		sim_assert_holds(w, 0, p[i], CONN_ROLE_OWNER, srv[i], 0, 2);
		sim_assert_holds(w, 2, p[i], CONN_ROLE_BACKUP, srv[i], 0, 2);
		assert_int_equal(sim_ltoc(w, 0, p[i])->state, CONN_ESTABLISHED);
		for (j = 0; j < 3; j += 2)
			assert_int_equal(sim_fwd(w, j, p[i], PKT_TH_ACK),
			    srv[i]);
	}
	sim_free(w);
}

/* A leave whose ACK never comes ends at the timeout. */
static void
test_claim18_leave_timeout(void **state)
{
	struct sim	*w = sim_new(3, 11);
	uint64_t	 acked = sim_stats(w, 1)->done_acked;

	(void)state;
	sim_rule(w, MSG_T_ACK, 1, 0, 1, -1);
	sim_leave(w, 1);
	sim_run(w, REPL_SM_LEAVE_TIMEOUT_MS - 100);
	assert_int_equal(sim_phase(w, 1), REPL_SM_LEAVING);
	sim_run(w, 200);
	assert_int_equal(sim_phase(w, 1), REPL_SM_LEFT);
	assert_int_equal(sim_stats(w, 1)->leave_timeouts, 1);
	assert_int_equal(sim_stats(w, 1)->done_acked, acked + 1);
	sim_free(w);
}

/* ---- randomized sequences --------------------------------------------- */

/*
 * A sequence, from a fixed seed: 2 to 4 members; TEST_EVENTS events
 * TEST_GAP_MS apart at most, each a client's (open a connection with a
 * SYN, complete its handshake, send data, close it with a FIN, through a
 * random member) or, one in TEST_MEMBER_PCT, the membership's (a member
 * joins or restarts, leaves, or dies), on the model's network. Every
 * packet forwarded must go to its connection's first server. Then the
 * network settles (no faults, no clients, joins and leaves done, the
 * dead declared gone) and, on the live members:
 *  - each open connection has exactly one owner entry and one backup
 *    entry (with two members or more), at the members ranked first and
 *    second, with its server, and no other LTOC entry; established if
 *    its handshake completed; every member forwards it to its server;
 *  - no member holds an ended connection as live (END closed it).
 * Connections opened (or completed, or ended) less than TEST_SAFE_MS
 * before a death are not checked: DESIGN promises nothing for them.
 */

#define TEST_SAFE_MS	1000	/* DESIGN: a failover loses no connection
				   established this long before it */
#define TEST_EVENTS	60	/* client and membership events a sequence */
#define TEST_GAP_MS	300	/* between two events, at most */
#define TEST_SETTLE_MS	3000	/* no faults, no clients: timers run out,
				   this long after the last change */
#define TEST_SETTLE_MAX_MS	30000
#define TEST_UP_MAX	5	/* members up at once, at most */
#define TEST_MEMBER_PCT	15	/* events that are membership events */

/* A fault model of the randomized test. */
struct test_model {
	const char		*name;
	struct sim_faults	 f;
	unsigned int		 events;	/* TEST_EV_*: membership events
						   allowed */
	unsigned int		 rules;		/* TEST_R_*: what the sequences
						   avoid */
	unsigned int		 seeds;		/* sequences run, seeds 1.. */
};

#define TEST_EV_JOIN	0x01	/* a member starts (new, or restarted) */
#define TEST_EV_LEAVE	0x02	/* a member leaves gracefully */
#define TEST_EV_KILL	0x04	/* a member dies */
#define TEST_EV_ALL	0x07

/* What the sequences avoid, each for open problems B1..B9 (test_explore). */
#define TEST_R_KILL_GAP	0x01	/* B8: no death or leave within
				   TEST_KILL_GAP_MS after a death */
#define TEST_R_QUIET	0x02	/* B1, B3, B7: no SYN, handshake or FIN
				   while a member joins, leaves or is dead
				   but not yet gone, nor TEST_QUIET_MS
				   after */
#define TEST_R_ONE_CHANGE 0x04	/* B2, B9: no membership event while a
				   member joins or leaves */
#define TEST_R_EST_GAP	0x08	/* B5: no membership event within
				   TEST_SAFE_MS (and a tick) of a
				   completed handshake */
#define TEST_R_LONG	0x10	/* B6: a connection lasts TEST_LONG_MS at
				   least */
#define TEST_R_JOIN_GAP	0x20	/* B2: no join (or restart) within
				   TEST_KILL_GAP_MS after a death */
#define TEST_R_ALL	0x3f
#define TEST_KILL_GAP_MS	3000
#define TEST_QUIET_MS	(2 * SIM_TICK_MS)
#define TEST_LONG_MS	(2 * SIM_TICK_MS)

/* A random connection in state, or NULL. */
static struct sim_conn *
test_conn_pick(struct sim *w, int state)
{
	size_t	i, n = 0, k;

	for (i = 0; i < w->nc; i++)
		if (w->c[i].state == state)
			n++;
	if (n == 0)
		return (NULL);
	k = sim_rand(w) % n;
	for (i = 0; i < w->nc; i++)
		if (w->c[i].state == state && k-- == 0)
			return (&w->c[i]);
	return (NULL);
}

/* A random member that runs and is not on its way out, or -1. */
static int
test_pick_member(struct sim *w)
{
	unsigned int	mask = 0;
	int		i;

	for (i = 0; i < SIM_MAX; i++)
		if (w->m[i].up && w->m[i].exit_at == 0)
			mask |= 1u << i;
	if (mask == 0)
		return (-1);
	return (sim_nth(mask, sim_rand(w) % (unsigned int)sim_count(mask)));
}

/* A client packet of c at member i; its server must never change. */
static int
test_conn_pkt(struct sim *w, struct sim_conn *c, int i, uint8_t flags)
{
	struct lb_action	act;
	int			v;

	v = sim_packet(w, i, c->sport, flags, &act);
	sim_tracef(w, "conn %u %s%s%s at m%d: %s %d", c->sport,
	    (flags & PKT_TH_SYN) ? "S" : "", (flags & PKT_TH_ACK) ? "A" : "",
	    (flags & PKT_TH_FIN) ? "F" : "", i, v == LB_FORWARD ? "server" :
	    v == LB_DROP ? lb_drop_name(act.drop) : "?",
	    v == LB_FORWARD ? act.server : -1);
	if (v != LB_FORWARD)
		return (v);
	if (c->server < 0)
		c->server = act.server;
	else if (act.server != c->server)
		sim_fail(w, "server: conn %u went to server %d, then %d (m%d)",
		    c->sport, c->server, act.server, i);
	return (v);
}

/* Is a member joining (j) or on its way out (!j)? */
static int
test_changing(const struct sim *w, int j)
{
	int	i;

	for (i = 0; i < SIM_MAX; i++) {
		if (!w->m[i].up)
			continue;
		if (j && sim_phase(w, i) == REPL_SM_JOINING)
			return (1);
		if (!j && (sim_phase(w, i) == REPL_SM_LEAVING ||
		    w->m[i].exit_at != 0))
			return (1);
	}
	return (0);
}

/* TEST_R_QUIET: may no connection open, complete its handshake or end? */
static int
test_quiet(const struct sim *w, const struct test_model *md)
{
	return ((md->rules & TEST_R_QUIET) && (test_changing(w, 1) ||
	    test_changing(w, 0) || w->now < w->last_change + TEST_QUIET_MS ||
	    (w->nkills > 0 && w->now < w->kills[w->nkills - 1] +
	    SIM_DEAD_MS + SIM_TICK_MS + TEST_QUIET_MS)));
}

/* Open, establish, use or close a connection, through member i. */
static void
test_client_event(struct sim *w, const struct test_model *md, int i)
{
	struct sim_conn	*c;
	unsigned int	 r = sim_rand(w) % 100;

	if ((r < 65 || r >= 88) && test_quiet(w, md))
		r = 70;			/* data only */
	if (r < 45 && w->nc < SIM_CONNS) {
		c = &w->c[w->nc++];
		c->sport = w->sport++;
		c->server = -1;
		c->syn_at = w->now;
		c->state = SIM_C_SYN;
		if (test_conn_pkt(w, c, i, PKT_TH_SYN) != LB_FORWARD)
			c->state = SIM_C_FREE;	/* never opened */
	} else if (r < 65 && (c = test_conn_pick(w, SIM_C_SYN)) != NULL) {
		if (test_conn_pkt(w, c, i, PKT_TH_ACK) == LB_FORWARD) {
			c->state = SIM_C_EST;
			c->est_at = w->last_est = w->now;
		}
		/* Without TEST_R_LONG, a quarter close at once. */
		if (c->state == SIM_C_EST && !(md->rules & TEST_R_LONG) &&
		    sim_rand(w) % 4 == 0 && (i = test_pick_member(w)) >= 0 &&
		    test_conn_pkt(w, c, i, PKT_TH_FIN | PKT_TH_ACK) ==
		    LB_FORWARD) {
			c->state = SIM_C_ENDED;
			c->est_at = w->now;
		}
	} else if (r < 88 && (c = test_conn_pick(w, SIM_C_EST)) != NULL)
		(void)test_conn_pkt(w, c, i, PKT_TH_ACK | PKT_TH_PSH);
	else if ((c = test_conn_pick(w, SIM_C_EST)) != NULL &&
	    (!(md->rules & TEST_R_LONG) ||
	    w->now >= c->syn_at + TEST_LONG_MS)) {
		/* A FIN dropped is sent again later. */
		if (test_conn_pkt(w, c, i, PKT_TH_FIN | PKT_TH_ACK) ==
		    LB_FORWARD) {
			c->state = SIM_C_ENDED;
			c->est_at = w->now;	/* now: when it ended */
		}
	}
}

static uint64_t
test_last_kill(const struct sim *w)
{
	return (w->nkills > 0 ? w->kills[w->nkills - 1] : 0);
}

/* Join (or restart), leave or die, within the model's limits. */
static void
test_member_event(struct sim *w, const struct test_model *md)
{
	unsigned int	up = sim_up(w), r = sim_rand(w) % 3;
	int		i, down = -1;

	for (i = SIM_MAX - 1; i >= 0; i--)
		if (!w->m[i].up && w->m[i].exit_at == 0)
			down = i;
	if ((md->rules & TEST_R_ONE_CHANGE) && (test_changing(w, 1) ||
	    test_changing(w, 0)))
		return;
	if ((md->rules & TEST_R_EST_GAP) && w->last_est != 0 &&
	    w->now < w->last_est + TEST_SAFE_MS + SIM_TICK_MS)
		return;
	if (w->nkills > 0 && w->now < test_last_kill(w) + TEST_KILL_GAP_MS &&
	    (md->rules & (r == 0 ? TEST_R_JOIN_GAP : TEST_R_KILL_GAP)))
		return;
	if (r == 0 && (md->events & TEST_EV_JOIN) &&
	    sim_count(up) < TEST_UP_MAX && down >= 0) {
		sim_start(w, down);
		w->njoins++;
	} else if (r == 1 && (md->events & TEST_EV_LEAVE) &&
	    sim_count(up) >= 3 && !test_changing(w, 0))
		sim_leave(w, test_pick_member(w));
	else if (r == 2 && (md->events & TEST_EV_KILL) && sim_count(up) >= 3)
		sim_stop(w, test_pick_member(w));
}

/* Was a member killed within TEST_SAFE_MS (and a tick) after at? */
static int
test_killed_after(const struct sim *w, uint64_t at)
{
	size_t	i;

	for (i = 0; i < w->nkills; i++)
		if (w->kills[i] >= at &&
		    w->kills[i] <= at + TEST_SAFE_MS + SIM_TICK_MS)
			return (1);
	return (0);
}

/*
 * Does the sequence's model lose END? Then only the holders must have
 * it: END reaches a cache by multicast only (a lost one leaves the
 * cache entry established until tcp_timeout_s).
 */
static int	test_end_lossy;

/* An ended connection: no member forwards it as live any more. */
static void
test_check_ended(struct sim *w, const struct sim_conn *c)
{
	struct conn_entry	*e;
	int			 i;

	for (i = 0; i < SIM_MAX; i++) {
		if ((e = sim_ltoc(w, i, c->sport)) == NULL && !test_end_lossy)
			e = sim_cache(w, i, c->sport);
		if (e != NULL && e->state != CONN_CLOSING)
			sim_fail(w, "end: conn %u ended at %llu, m%d still "
			    "holds it %s (role %d)", c->sport,
			    (unsigned long long)(c->est_at - SIM_T0), i,
			    e->state == CONN_SYN ? "syn" : "established",
			    e->role);
	}
}

/*
 * A live connection: one owner and one backup entry, at the members
 * that rank first and second, with its server; no other LTOC entry;
 * established once its handshake is long done.
 */
static void
test_check_live(struct sim *w, const struct sim_conn *c, unsigned int act,
    uint64_t settled)
{
	struct conn_entry	*e;
	int			 i, o, b, role;

	sim_rank(w, act, c->sport, &o, &b);
	for (i = 0; i < SIM_MAX; i++) {
		role = i == o ? CONN_ROLE_OWNER : i == b ? CONN_ROLE_BACKUP :
		    CONN_ROLE_NONE;
		if ((e = sim_ltoc(w, i, c->sport)) == NULL) {
			if (role != CONN_ROLE_NONE)
				sim_fail(w, "%s: conn %u (opened %llu) has no "
				    "entry at m%d", role == CONN_ROLE_OWNER ?
				    "owner" : "backup", c->sport,
				    (unsigned long long)(c->syn_at - SIM_T0),
				    i);
		} else if (e->role != role)
			sim_fail(w, "role: conn %u has role %d at m%d, not %d",
			    c->sport, e->role, i, role);
		else if (e->server != c->server)
			sim_fail(w, "server: conn %u has server %d at m%d, not "
			    "%d", c->sport, e->server, i, c->server);
		else if (c->state == SIM_C_EST && c->est_at + 2 *
		    LB_EST_DELAY_MS < settled &&
		    e->state != CONN_ESTABLISHED &&
		    !test_killed_after(w, c->est_at))
			sim_fail(w, "syn: conn %u (established at %llu) is %s "
			    "at m%d (role %d)", c->sport, (unsigned long long)
			    (c->est_at - SIM_T0), e->state == CONN_SYN ?
			    "syn" : "closing", i, e->role);
		if ((e = sim_cache(w, i, c->sport)) != NULL &&
		    e->server != c->server)
			sim_fail(w, "server: conn %u cached with server %d at "
			    "m%d, not %d", c->sport, e->server, i, c->server);
	}
}

/* The invariants once the network settled (no loss, timers ran out). */
static void
test_check(struct sim *w, uint64_t settled)
{
	struct sim_conn	*c;
	unsigned int	 act = sim_active(w), up = sim_up(w);
	size_t		 k;
	int		 i;

	sim_tracef(w, "checking");
	if (act != up)
		sim_fail(w, "phase: members up %#x, active %#x", up, act);
	for (i = 0; i < SIM_MAX; i++)
		if (w->m[i].up &&
		    w->m[i].lb.nmembers != (size_t)sim_count(act))
			sim_fail(w, "view: m%d scores %zu members, not %d", i,
			    w->m[i].lb.nmembers, sim_count(act));
	for (k = 0; k < w->nc; k++) {
		c = &w->c[k];
		if (c->state == SIM_C_FREE || c->server < 0 ||
		    test_killed_after(w, c->syn_at))
			continue;
		if (c->state == SIM_C_ENDED) {
			if (!test_killed_after(w, c->est_at)) {
				w->nended++;
				test_check_ended(w, c);
			}
		} else {
			w->nlive++;
			test_check_live(w, c, act, settled);
		}
	}
	/* Every live connection still reaches its server, from anywhere. */
	for (k = 0; k < w->nc && w->err[0] == '\0'; k++) {
		c = &w->c[k];
		if ((c->state != SIM_C_SYN && c->state != SIM_C_EST) ||
		    c->server < 0 || test_killed_after(w, c->syn_at))
			continue;
		for (i = 0; i < SIM_MAX; i++)
			if (w->m[i].up && test_conn_pkt(w, c, i, PKT_TH_ACK) !=
			    LB_FORWARD)
				sim_fail(w, "lost: conn %u dropped at m%d",
				    c->sport, i);
	}
}

/* What the sequences of a model did. */
struct test_tally {
	unsigned int	joins;
	unsigned int	leaves;
	unsigned int	kills;
	unsigned int	conns;		/* opened */
	unsigned int	live;		/* live ones checked after settling */
	unsigned int	ended;		/* ended ones checked */
};

/* No faults, no clients: let joins, leaves and deaths play out. */
static uint64_t
test_settle(struct sim *w)
{
	uint64_t	start = w->now;

	memset(&w->f, 0, sizeof(w->f));
	sim_tracef(w, "settling");
	while (w->now < start + TEST_SETTLE_MAX_MS && (test_changing(w, 1) ||
	    test_changing(w, 0) || w->now < w->last_change + TEST_SETTLE_MS ||
	    w->now < test_last_kill(w) + SIM_DEAD_MS + TEST_SETTLE_MS))
		sim_run(w, SIM_TICK_MS);
	/* An owner that lost an END learns it at its next reconciliation. */
	sim_run(w, TEST_SETTLE_MS + TEST_RECON_MS);
	return (start);
}

static void
test_tally_add(struct test_tally *ty, const struct sim *w)
{
	size_t	k;

	ty->joins += w->njoins;
	ty->leaves += w->nleaves;
	ty->kills += (unsigned int)w->nkills;
	for (k = 0; k < w->nc; k++)
		ty->conns += w->c[k].server >= 0;
	ty->live += w->nlive;
	ty->ended += w->nended;
}

/*
 * One sequence of model md from seed: 2 to 4 members, TEST_EVENTS events,
 * then settling and the checks. 0, or -1 with *cat the kind of broken
 * invariant; report: print it with the tail of the sequence.
 */
static int
test_sequence(const struct test_model *md, uint64_t seed, int report,
    char *cat, size_t catlen, struct test_tally *ty)
{
	struct sim	*w = sim_new(2 + (int)(seed % 3), seed);
	uint64_t	 settled;
	int		 k, i, rc = 0;

	w->f = md->f;
	test_end_lossy = (md->f.types & (1u << MSG_T_END)) != 0;
	for (k = 0; k < TEST_EVENTS && w->err[0] == '\0'; k++) {
		sim_run(w, 1 + sim_rand(w) % TEST_GAP_MS);
		if (sim_rand(w) % 100 < TEST_MEMBER_PCT)
			test_member_event(w, md);
		else if ((i = test_pick_member(w)) >= 0)
			test_client_event(w, md, i);
	}
	settled = test_settle(w);
	if (w->err[0] == '\0')
		test_check(w, settled);
	if (ty != NULL)
		test_tally_add(ty, w);
	if (w->err[0] != '\0') {
		rc = -1;
		snprintf(cat, catlen, "%.*s", (int)strcspn(w->err, ":"),
		    w->err);
		if (report)
			fprintf(stderr, "model %s seed %llu: %s\n%s", md->name,
			    (unsigned long long)seed, w->err, w->trace);
	}
	sim_free(w);
	return (rc);
}

/*
 * Run a model's seeds; the number of sequences that broke something.
 * The first sequence of each kind of break is run again and reported.
 */
static unsigned int
test_model_run(const struct test_model *md)
{
	struct test_tally	ty;
	char			cat[32], seen[8][32];
	unsigned int		bad = 0, nseen = 0, s, k;

	memset(&ty, 0, sizeof(ty));
	for (s = 1; s <= md->seeds; s++) {
		if (test_sequence(md, s, 0, cat, sizeof(cat), &ty) == 0)
			continue;
		bad++;
		for (k = 0; k < nseen && strcmp(seen[k], cat) != 0; k++)
			;
		if (k < nseen || nseen == 8)
			continue;
		strcpy(seen[nseen++], cat);
		(void)test_sequence(md, s, 1, cat, sizeof(cat), NULL);
	}
	fprintf(stderr, "model %s: %u of %u sequences broke an invariant "
	    "(%u joins, %u leaves, %u deaths, %u connections; checked %u "
	    "live, %u ended)\n", md->name, bad, md->seeds, ty.joins,
	    ty.leaves, ty.kills, ty.conns, ty.live, ty.ended);
	return (bad);
}

#define TEST_NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define TEST_RECORDS	((1u << MSG_T_NEW) | (1u << MSG_T_END) | \
			    (1u << MSG_T_REFRESH))

/*
 * The models the suite runs: membership events of every kind, and
 * multicast that loses, delays (reorders), duplicates NEW, a reliable
 * channel that lags. Each follows every TEST_R_* rule: today's
 * replication breaks an invariant without them (see test_explore[]).
 */
static const struct test_model test_models[] = {
	{ "calm", { 0, 0, 0, 0, 0 }, TEST_EV_ALL, TEST_R_ALL, 2000 },
	{ "lossy-new", { 1u << MSG_T_NEW, 10, 20, 5, 5 }, TEST_EV_ALL,
	    TEST_R_ALL, 2000 },
	{ "dup-slow", { 0, 0, 0, 20, 20 }, TEST_EV_ALL, TEST_R_ALL, 2000 },
	{ "lossy-refresh", { 1u << MSG_T_REFRESH, 30, 0, 0, 0 },
	    TEST_EV_ALL, TEST_R_ALL, 1000 },
	{ "lossy-records", { TEST_RECORDS, 10, 20, 5, 5 }, TEST_EV_ALL,
	    TEST_R_ALL, 2000 },
	{ "lossy-end", { 1u << MSG_T_END, 30, 0, 0, 0 }, TEST_EV_ALL,
	    TEST_R_ALL, 1000 },
	{ "busy-changes", { 0, 0, 0, 0, 0 }, TEST_EV_ALL,
	    TEST_R_ALL & ~TEST_R_QUIET, 400 },
	{ "short-conns", { 0, 0, 0, 0, 0 }, TEST_EV_ALL,
	    TEST_R_ALL & ~TEST_R_LONG, 2000 },
};

/*
 * What breaks without a rule or with more loss: open problems of the
 * replication, left as they are (issue 17 part 2 changes no behaviour).
 * TEST_REPL_EXPLORE=1 runs these and reports the first sequence of each
 * kind of break; TEST_REPL_MODEL=name TEST_REPL_SEED=n replays one, and
 * TEST_REPL_WATCH=port traces what every member holds of a connection.
 * Seeds are those of the first break of each kind; times are ms after
 * the start; roles: 1 owner, 2 backup.
 *
 * B1, stale backup copies (rule QUIET; busy-changes seed 29). The
 * backup's reliable copy of a NEW (or END) waits in the stage up to a
 * tick and names the holders of the view it was decided in; a reliable
 * record is applied whatever the view. m2 starts leaving at 2941; conn
 * 1029 opens at 2972, m2 owning it, its copy staged for m1; m2 announces
 * LEAVING at 2991 (io->set_state() before the last repl_sm_flush()), the
 * survivors make m1 owner and m3 backup, then the copy lands and makes
 * m1 backup of the gone m2: "role: conn 1029 has role 2 at m1, not 1",
 * no owner. The same after a joiner goes active. When the member that
 * left comes back in its old slot, lb_plan() takes it for the holder
 * and nobody sends it the entry.
 *
 * B2, a planned joiner is skipped (rules ONE_CHANGE, JOIN_GAP;
 * overlapping seed 78, join-after-death seed 52). repl_sm_members_changed()
 * leaves out of the rebalance any member it sent a join plan, but the
 * plan was for the prospective membership of that moment. m2 starts
 * joining at 10058; m1 leaves at 10380 and hands conn 1033 to m0 alone
 * (a handover ignores joiners); m2 goes active at 10558, m0 makes it the
 * backup and sends it nothing: "backup: conn 1033 has no entry at m2".
 * Also when a member restarts before its death is noticed (seed 52: m3
 * killed at 7293, back at 7992): the plan at the RESTART event, made
 * before the active list is sorted again and with the entries still
 * naming m3's slot, sends nothing, and the rebalance skips m3.
 *
 * B3, a transfer forgets what a cache entry knew (rule QUIET;
 * busy-changes seed 191). lb_learn_ltoc() takes the record's state
 * when a cache entry becomes an LTOC one. m0 dies at 5983; conn 1033
 * (owner m1, backup m0) is established at 6565 through m2's cache, its
 * REFRESH deferred; at 6900 m0 is gone and m1 sends m2, the new backup,
 * the entry in state syn; m2's established cache entry is replaced and
 * its deferred REFRESH skipped: "syn: conn 1033 (established at 6565)
 * is syn at m1 (role 1)", to expire after syn_timeout_s while in use.
 * A closing cache entry likewise becomes established again.
 *
 * B4 and B5 (END and the handshake's REFRESH reached the holders by
 * multicast only), issue 18: END and REFRESH go to both holders on the
 * reliable channel too, and the owner reconciles its backups; the suite's
 * lossy-refresh, lossy-end and lossy-records lose them. END still reaches
 * caches by multicast only (a model that loses END checks the holders
 * alone). An owner ignores an untagged reliable END while its entry
 * carried traffic within 2 s (it could close a new connection on the
 * tuple, test_late_end.sh); one with the entry's connection tag it
 * applies (lossy-end broke 14 of 1000 sequences and lossy-records 22 of
 * 2000 before: the owner waited for its backup's answer to a
 * reconciliation pass, and nobody answered when the backup changed
 * first). Left of B5 (rule EST_GAP; fresh-est seed
 * 466): the REFRESH is lost when the member that saw the handshake
 * leaves or dies within LB_EST_DELAY_MS, before it was staged: "syn:
 * conn 1032 (established at 4431) is syn at m2 (role 1)".
 *
 * B1, B6 and B7 no longer break (busy-changes and short-conns are in
 * the suite): a reliable NEW whose holders are not the receiver's ranking
 * is ignored (rx_stale), a NEW of a connection already ended is refused
 * by its tag (lb_learn.c), and END and REFRESH reach joiners too. What
 * they were:
 *
 * B6, a late staged NEW reopens a closed connection (rule LONG;
 * short-conns seed 24). conn 1034 opens at 10166 (m0 owner, m2 backup)
 * and ends at 10190 by a FIN at m3; m3's END, multicast and reliable,
 * reaches m2 before m0's staged copy of the NEW (its tick, 10200), whose
 * fresh flag makes lb_learn_conn() open the entry again: "end: conn 1034
 * ended at 10190, m2 still holds it syn". Any connection shorter than
 * a tick whose FIN is seen away from its owner.
 *
 * B7, a joiner misses END and REFRESH (rule QUIET; busy-changes seed
 * 6). Only NEW is sent to joiners (repl_sm_new_to_joiners()); multicast
 * from a member whose ID message the joiner has not heard is dropped.
 * m3 joins at 8509 and gets conn 1027, established; its FIN at m2 at
 * 8562: "end: conn 1027 ended at 8562, m3 still holds it established
 * (role 1)".
 *
 * B8, two failures at once (rule KILL_GAP; double-death seed 62). The
 * owner (m3, 9264) and backup (m4, 9045) of conn 1026 die within
 * dead_ms: nobody holds it any more ("backup: conn 1026 ... has no
 * entry at m1"). Also a holder leaving while the other is dead but not
 * yet gone: its handover goes to the dead one (seed 91).
 *
 * B9, a held message blocks the reliable channel (rule ONE_CHANGE;
 * overlapping seed 24). repl_sm_rx_reliable() holds every message while
 * any is held, in one queue for all senders. m2 starts joining at 1880,
 * m0 sends it a DONE and dies at 1894, so m2 never knows m0; every
 * message from m1 then waits behind that DONE until it expires
 * (REPL_SM_HELD_MS) and something calls repl_sm_release(): at 8701. The
 * backlog, applied at once, holds the staged NEW of conn 1024, which
 * ended at 5100 (B6): "end: conn 1024 ended at 5100, m2 still holds it
 * syn (role 2)".
 */
static const struct test_model test_explore[] = {
	{ "double-death", { 0, 0, 0, 0, 0 }, TEST_EV_ALL,
	    TEST_R_ALL & ~TEST_R_KILL_GAP, 1000 },
	{ "join-after-death", { 0, 0, 0, 0, 0 }, TEST_EV_ALL,
	    TEST_R_ALL & ~TEST_R_JOIN_GAP, 1000 },
	{ "overlapping", { 0, 0, 0, 0, 0 }, TEST_EV_ALL,
	    TEST_R_ALL & ~TEST_R_ONE_CHANGE, 400 },
	{ "fresh-est", { 0, 0, 0, 0, 0 }, TEST_EV_ALL,
	    TEST_R_ALL & ~TEST_R_EST_GAP, 2000 },
	{ "lossy-all", { TEST_RECORDS, 10, 20, 5, 5 }, TEST_EV_ALL, 0, 400 },
};

static void
test_random(void **state)
{
	unsigned int	bad = 0;
	size_t		i;

	(void)state;
	for (i = 0; i < TEST_NITEMS(test_models); i++)
		bad += test_model_run(&test_models[i]);
	assert_int_equal(bad, 0);
}

/* The model named name (suite or explore), or the first of the suite. */
static const struct test_model *
test_model_find(const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < TEST_NITEMS(test_explore); i++)
		if (strcmp(name, test_explore[i].name) == 0)
			return (&test_explore[i]);
	for (i = 0; name != NULL && i < TEST_NITEMS(test_models); i++)
		if (strcmp(name, test_models[i].name) == 0)
			return (&test_models[i]);
	return (&test_models[0]);
}

/* ---- issue 18, point 7: records of any type in one message ---------- */

/*
 * One tick of the owner (member 0) has a NEW (the backup's copy of a new
 * connection), an END and a REFRESH for its backup (member 1): they leave
 * as one message on the channel, not one per type; the backup applies
 * all three. The REFRESH is the one lb_tick() queues LB_EST_DELAY_MS
 * after a handshake, so the SYN and the FIN come just before that tick.
 */
static void
test_mixed_one_message(void **state)
{
	struct sim		*w = sim_new(3, 71);
	struct sim_member	*m = &w->m[0];
	uint16_t		 p = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	uint16_t		 q = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	uint16_t		 r = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	struct repl_stats	 a0, a1;
	uint64_t		 due, tick, sent2;
	int			 srv[3];

	(void)state;
	srv[0] = sim_fwd(w, 0, p, PKT_TH_SYN);
	srv[1] = sim_fwd(w, 0, q, PKT_TH_SYN);
	sim_run(w, SIM_TICK_MS + 5);		/* their copies have left */
	assert_int_equal(sim_fwd(w, 0, p, PKT_TH_ACK), srv[0]);
	assert_int_equal(sim_fwd(w, 0, q, PKT_TH_ACK), srv[1]);
	/* The tick that queues the REFRESHes of p and q. */
	due = w->now + LB_EST_DELAY_MS;
	for (tick = m->next_tick; tick < due; tick += SIM_TICK_MS)
		;
	sim_run(w, tick - w->now - 10);
	assert_int_equal(sim_stats(w, 0)->refresh_sent, 0);
	a0 = *sim_stats(w, 0);
	a1 = *sim_stats(w, 1);
	sent2 = sim_stats(w, 2)->tcp_sent;
	srv[2] = sim_fwd(w, 0, r, PKT_TH_SYN);
	assert_int_equal(sim_fwd(w, 0, q, PKT_TH_FIN | PKT_TH_ACK), srv[1]);
	assert_int_equal(sim_stats(w, 0)->tcp_sent, a0.tcp_sent);
	sim_run(w, 20);				/* the tick, and delivery */
	/* Nobody else sent on a channel meanwhile. */
	assert_int_equal(sim_stats(w, 1)->tcp_sent, a1.tcp_sent);
	assert_int_equal(sim_stats(w, 2)->tcp_sent, sent2);
	/* Staged: the NEW of r, the END of q, the REFRESH of p. */
	assert_int_equal(sim_stats(w, 0)->backup_sent, a0.backup_sent + 1);
	assert_int_equal(sim_stats(w, 0)->end_rel_sent, a0.end_rel_sent + 1);
	assert_int_equal(sim_stats(w, 0)->refresh_rel_sent,
	    a0.refresh_rel_sent + 1);
	assert_int_equal(sim_stats(w, 0)->backup_flushes,
	    a0.backup_flushes + 1);
	/* ... in one message to the one destination. */
	assert_int_equal(sim_stats(w, 0)->tcp_sent, a0.tcp_sent + 1);
	/* The backup applied each record (and the multicast copies). */
	assert_int_equal(sim_stats(w, 1)->rx_bad, 0);
	assert_int_equal(sim_stats(w, 1)->new_rx, a1.new_rx + 2);
	assert_int_equal(sim_stats(w, 1)->end_rx, a1.end_rx + 2);
	assert_int_equal(sim_stats(w, 1)->refresh_rx, a1.refresh_rx + 2);
	sim_assert_holds(w, 1, r, CONN_ROLE_BACKUP, srv[2], 0, 1);
	assert_int_equal(sim_ltoc(w, 1, q)->state, CONN_CLOSING);
	assert_int_equal(sim_ltoc(w, 1, p)->state, CONN_ESTABLISHED);
	sim_free(w);
}

/*
 * A joiner's transfer table and the DONE that ends it share messages: a
 * table that fits one message is one message, DONE included, from each
 * active member; the joiner's ACK is one message back.
 */
static void
test_mixed_transfer_done(void **state)
{
	struct sim	*w = sim_new(3, 72);
	uint64_t	 sent[4], xfer[3], acked[3], now[4];
	int		 i, j;

	(void)state;
	for (i = 0; i < 12; i++)
		(void)sim_fwd(w, i % 3, sim_port(w, 0x7, i % 3, SIM_ANY, 0xf,
		    3, SIM_ANY), PKT_TH_SYN);
	sim_run(w, 2000);
	for (j = 0; j < 3; j++) {
		sent[j] = sim_stats(w, j)->tcp_sent;
		xfer[j] = sim_stats(w, j)->xfer_sent;
		acked[j] = sim_stats(w, j)->done_acked;
	}
	sim_start(w, 3);
	sent[3] = 0;
	/* What was sent while it joined (its rebalance then sends more). */
	while (sim_phase(w, 3) == REPL_SM_JOINING) {
		for (j = 0; j < 4; j++)
			now[j] = sim_stats(w, j)->tcp_sent;
		assert_true(w->now < SIM_T0 + 3500 + 2 * SIM_HELLO_MS + 200);
		sim_run(w, 1);
	}
	assert_int_equal(sim_stats(w, 3)->rx_bad, 0);
	assert_int_equal(sim_stats(w, 3)->new_rx, 12);
	assert_int_equal(now[3], 3);			/* the three ACKs */
	for (j = 0; j < 3; j++) {
		assert_int_equal(sim_stats(w, j)->xfer_sent, xfer[j] + 4);
		assert_int_equal(sim_stats(w, j)->done_acked, acked[j] + 1);
		assert_int_equal(now[j], sent[j] + 1);	/* table + DONE */
	}
	sim_free(w);
}

/*
 * UDP flows through the replication core (issue 22): a one-datagram flow
 * costs no record; a flow seen again after udp_replicate_ms reaches its
 * backup (LTOC) and the third member (cache) through the wire codec, with
 * the key's UDP bit; once its owner is killed the backup, now owner, and
 * the cache keep its server.
 */
static void
test_udp_owner_killed(void **state)
{
	struct sim		*w = sim_new(3, 41);
	struct conn_entry	*e;
	uint16_t		 p, q;
	uint64_t		 nq;
	int			 srv, i;

	(void)state;
	sim_udp = 1;
	p = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	q = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	nq = w->m[0].lb.stats.new_queued;
	/* q: one datagram, through member 2 (handed to the owner) */
	srv = sim_fwd(w, 2, q, 0);
	sim_run(w, 500);
	assert_null(sim_ltoc(w, 1, q));
	assert_null(sim_cache(w, 2, q));
	assert_non_null(e = sim_ltoc(w, 0, q));
	assert_true(flow_key_is_udp(&e->key));
	/* p: twice, 1.5 s apart */
	srv = sim_fwd(w, 0, p, 0);
	sim_run(w, 1500);
	assert_int_equal(w->m[0].lb.stats.new_queued, nq);
	assert_int_equal(sim_fwd(w, 2, p, 0), srv);	/* handed off */
	assert_int_equal(w->m[0].lb.stats.new_queued, nq + 1);
	assert_int_equal(w->m[0].lb.stats.udp_replicated, 1);
	sim_run(w, 500);
	sim_assert_holds(w, 1, p, CONN_ROLE_BACKUP, srv, 0, 1);
	assert_non_null(e = sim_cache(w, 2, p));
	assert_true(flow_key_is_udp(&e->key));
	assert_null(sim_ltoc(w, 1, q));		/* q never sent */
	/* the owner dies */
	sim_stop(w, 0);
	sim_run(w, SIM_DEAD_MS + 1000);
	assert_int_equal(sim_active(w), 0x6);
	sim_assert_holds(w, 1, p, CONN_ROLE_OWNER, srv, 1, 2);
	for (i = 0; i < 4; i++) {
		assert_int_equal(sim_fwd(w, 1 + i % 2, p, 0), srv);
		sim_run(w, 100);
	}
	assert_int_equal(w->m[1].lb.stats.udp_replicated, 0);
	assert_int_equal(w->m[1].lb.stats.udp_new_flow, 0);
	assert_int_equal(w->m[2].lb.stats.udp_new_flow, 0);
	sim_udp = 0;
	sim_free(w);
}

/*
 * issue 22: a UDP flow opened while a member joins, after the active
 * members sent it their plans, and still unreplicated (one datagram: no
 * NEW, so repl_sm_new_to_joiners() never saw it) when the joiner goes
 * active and becomes its owner: the owner's rebalance must send it to
 * the joiner although the joiner was planned; before, it was skipped,
 * and the joiner opened the flow again on a server of its own choosing.
 */
static void
test_udp_new_while_joining(void **state)
{
	struct sim	*w = sim_new(3, 7);
	uint16_t	 p;
	int		 srv, i;

	(void)state;
	sim_udp = 1;
	p = sim_port(w, 0x7, 0, SIM_ANY, 0xf, 3, 0);
	sim_start(w, 3);
	sim_run(w, SIM_HELLO_MS + 10);
	assert_int_equal(sim_phase(w, 3), REPL_SM_JOINING);
	srv = sim_fwd(w, 1, p, 0);		/* handed to 0, which opens it */
	assert_int_equal(w->m[0].lb.stats.udp_new_flow, 1);
	sim_run(w, 2000);
	assert_int_equal(sim_phase(w, 3), REPL_SM_ACTIVE);
	assert_int_equal(w->m[0].lb.stats.udp_replicated, 0);
	sim_assert_holds(w, 3, p, CONN_ROLE_OWNER, srv, 3, 0);
	sim_assert_holds(w, 0, p, CONN_ROLE_BACKUP, srv, 3, 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(sim_fwd(w, i, p, 0), srv);
	assert_int_equal(w->m[3].lb.stats.udp_new_flow, 0);
	sim_udp = 0;
	sim_free(w);
}

/*
 * issue 22: a UDP flow opened at a member that is leaving, after its
 * handover: the leaver replicates it at once (a one-datagram flow
 * otherwise stays known to its owner alone), so the new owner keeps its
 * server once the leaver is gone; before, the new owner opened it again.
 */
static void
test_udp_new_while_leaving(void **state)
{
	struct sim	*w = sim_new(3, 11);
	uint16_t	 p;
	int		 srv, j;

	(void)state;
	sim_udp = 1;
	p = sim_port(w, 0x7, 1, 0, 0x5, 0, 2);
	sim_run(w, 500);
	sim_leave(w, 1);
	assert_int_equal(sim_phase(w, 1), REPL_SM_LEAVING);
	srv = sim_fwd(w, 2, p, 0);		/* handed to 1, which opens it */
	assert_int_equal(w->m[1].lb.stats.udp_new_flow, 1);
	assert_int_equal(w->m[1].lb.stats.udp_replicated, 1);
	sim_run(w, 2 * REPL_SM_POLL_MS);
	assert_int_equal(sim_phase(w, 1), REPL_SM_LEFT);
	sim_run(w, SIM_LEFT_MS + SIM_DEAD_MS + 500);
	assert_false(w->m[1].up);
	sim_assert_holds(w, 0, p, CONN_ROLE_OWNER, srv, 0, 2);
	sim_assert_holds(w, 2, p, CONN_ROLE_BACKUP, srv, 0, 2);
	for (j = 0; j < 3; j += 2)
		assert_int_equal(sim_fwd(w, j, p, 0), srv);
	assert_int_equal(w->m[0].lb.stats.udp_new_flow, 0);
	assert_int_equal(w->m[2].lb.stats.udp_new_flow, 0);
	sim_udp = 0;
	sim_free(w);
}

/*
 * The UDP stream *p of the test_udp_pull_ tests, owned by 0, backed up
 * by 1, through member via: opened (handed to 0) and 8 datagrams 500 ms
 * apart, so that it is a stream, held by 0 and 1; its server.
 */
static int
udp_stream_open(struct sim *w, int via, uint16_t *p)
{
	int	srv, i;

	sim_udp = 1;
	*p = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	srv = sim_fwd(w, via, *p, 0);
	for (i = 0; i < 8; i++) {
		sim_run(w, 500);
		assert_int_equal(sim_fwd(w, via, *p, 0), srv);
	}
	sim_run(w, LB_EST_DELAY_MS + 2 * SIM_TICK_MS);
	sim_assert_holds(w, 1, *p, CONN_ROLE_BACKUP, srv, 0, 1);
	assert_int_equal(sim_ltoc(w, 0, *p)->state, CONN_ESTABLISHED);
	return (srv);
}

/*
 * A datagram every 5 s through via for twice udp_stream_timeout_s (the
 * caller's rules lose REFRESHes): each reaches srv and the owner never
 * ends the flow.
 */
static void
udp_stream_starve(struct sim *w, int via, uint16_t p, int srv)
{
	uint64_t	t, stream_ms;

	stream_ms = (uint64_t)w->conf.tables.udp_stream_timeout_s * 1000;
	for (t = 0; t < 2 * stream_ms; t += 5000) {
		assert_int_equal(sim_fwd(w, via, p, 0), srv);
		sim_run(w, 5000);
	}
	assert_non_null(sim_ltoc(w, 0, p));
	assert_int_equal(w->m[0].lb.stats.udp_expired_end, 0);
}

/*
 * Every member forwards the stream to srv; then silence: each copy asks
 * once at most, and all go. Frees w.
 */
static void
udp_stream_silence(struct sim *w, uint16_t p, int srv)
{
	int	i;

	for (i = 0; i < 3; i++)
		assert_int_equal(sim_fwd(w, i, p, 0), srv);
	sim_run(w, 4 * (uint64_t)w->conf.tables.udp_stream_timeout_s * 1000);
	assert_null(sim_ltoc(w, 0, p));
	assert_null(sim_ltoc(w, 1, p));
	assert_null(sim_cache(w, 2, p));
	sim_udp = 0;
	sim_free(w);
}

/* REFRESHes of a stream on the reliable channel in udp_stream_timeout_s. */
static int
udp_stream_refreshes(const struct sim *w)
{
	return ((int)(w->conf.tables.udp_stream_timeout_s /
	    (w->conf.tables.udp_stream_timeout_s / 8)));
}

/*
 * issue 22: a UDP stream forwarded through member 2's cache, whose
 * REFRESHes stop reaching the owner (0) for a whole udp_stream_timeout_s
 * (multicast lost, the reliable channel's dropped as in a flap): when the
 * timeout runs out the owner asks (PULL) instead of ending a live flow;
 * 2, which sees it, answers; the backup (1) does not (it forwarded
 * nothing). The owner keeps the flow and its server. Once the datagrams
 * stop, every copy goes within a few timeouts: nobody answers for a flow
 * nobody sees.
 */
static void
test_udp_pull_stream(void **state)
{
	struct sim	*w = sim_new(3, 43);
	uint16_t	 p;
	int		 srv;

	(void)state;
	srv = udp_stream_open(w, 2, &p);
	assert_non_null(sim_cache(w, 2, p));
	/* 2's REFRESHes to 0 for the next udp_stream_timeout_s: lost */
	sim_rule(w, MSG_T_REFRESH, 0, 2, 0, -1);
	sim_rule(w, MSG_T_REFRESH, 1, 2, 0, udp_stream_refreshes(w));
	udp_stream_starve(w, 2, p, srv);
	assert_true(sim_stats(w, 0)->pull_sent > 0);
	assert_true(sim_stats(w, 2)->pull_answers > 0);
	assert_int_equal(sim_stats(w, 1)->pull_answers, 0);
	udp_stream_silence(w, p, srv);
}

/*
 * The same stream coming in through its backup alone: member 1 forwards
 * it from its copy and sends the REFRESHes, which 0 and 2 miss. When its
 * timeout runs out, 0 asks; a backup's copy answered no question (its
 * last second is kept by reconciliation, whatever the flow does), so 0
 * depended on a later REFRESH getting through within one more timeout,
 * else it ended the stream everywhere. Now 1 answers, having forwarded
 * datagrams since its last answer (reconciliation no longer resets that
 * mark). Once the stream stops, 1 answers once more at most, and every
 * copy still goes.
 */
static void
test_udp_pull_backup(void **state)
{
	struct sim	*w = sim_new(3, 59);
	uint16_t	 p;
	int		 srv;

	(void)state;
	srv = udp_stream_open(w, 1, &p);
	/* to 2 too, whose cache copy would answer 0 otherwise */
	sim_rule(w, MSG_T_REFRESH, 0, 1, 0, -1);
	sim_rule(w, MSG_T_REFRESH, 0, 1, 2, -1);
	sim_rule(w, MSG_T_REFRESH, 1, 1, 0, udp_stream_refreshes(w));
	udp_stream_starve(w, 1, p, srv);
	assert_true(sim_stats(w, 1)->pull_answers > 0);
	udp_stream_silence(w, p, srv);
}

/*
 * issue 22, members flapping: a UDP flow open at its owner 0 alone
 * (unreplicated) when member 2, which it comes in through, declares 0
 * gone (2 no longer hears it; 1 does). 2 hands the datagram to 1, its
 * owner now; 1, still counting 0 in and holding nothing, hands it on
 * once (relayed) to 0, which has the flow: the datagram reaches the
 * flow's server and nobody opens the flow again. Before, 1 dropped it
 * (misrouted).
 */
static void
test_udp_flap_relay(void **state)
{
	struct sim	*w = sim_new(3, 47);
	uint16_t	 p;
	int		 srv, i;

	(void)state;
	sim_udp = 1;
	p = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	srv = sim_fwd(w, 2, p, 0);		/* handed to 0, which opens it */
	assert_int_equal(w->m[0].lb.stats.udp_replicated, 0);
	sim_rule(w, 0, 0, 0, 2, -1);		/* 2 hears nothing from 0 */
	sim_rule(w, 0, 1, 0, 2, -1);
	sim_run(w, SIM_DEAD_MS + 3 * SIM_TICK_MS);
	assert_int_equal(w->m[2].t.nactive, 2);
	assert_int_equal(w->m[1].t.nactive, 3);
	assert_int_equal(sim_fwd(w, 2, p, 0), srv);
	assert_int_equal(w->m[1].lb.stats.udp_relayed, 1);
	assert_null(sim_ltoc(w, 1, p));
	assert_null(sim_ltoc(w, 2, p));
	for (i = 0; i < 3; i++)
		assert_int_equal(w->m[i].lb.stats.udp_new_flow, i == 0);
	sim_udp = 0;
	sim_free(w);
}

/*
 * The same when the members that declare the owner gone are all the
 * others: the backup, the owner now, would open the flow again, perhaps
 * on another server. For cluster.dead_ms after it declared 0 gone, it
 * hands a datagram of a flow it does not know, that 0 would own, to 0
 * instead (udp_to_gone); from 2, the datagram comes to 1 by handoff and
 * goes on to 0 the same way (relayed). A flow 1 knows is not affected.
 */
static void
test_udp_flap_gone(void **state)
{
	struct sim	*w = sim_new(3, 49);
	uint16_t	 p, q;
	int		 srv, srvq, i;

	(void)state;
	sim_udp = 1;
	p = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	q = sim_port(w, 0x7, 1, 2, 0, 0, 0);
	srv = sim_fwd(w, 0, p, 0);
	srvq = sim_fwd(w, 1, q, 0);
	for (i = 1; i < 3; i++) {		/* 1 and 2 hear nothing from 0 */
		sim_rule(w, 0, 0, 0, i, -1);
		sim_rule(w, 0, 1, 0, i, -1);
	}
	sim_run(w, SIM_DEAD_MS + SIM_TICK_MS);
	assert_int_equal(w->m[1].t.nactive, 2);
	assert_int_equal(w->m[2].t.nactive, 2);
	assert_int_equal(w->m[1].lb.ngone, 1);
	assert_int_equal(sim_fwd(w, 1, p, 0), srv);
	assert_int_equal(w->m[1].lb.stats.udp_to_gone, 1);
	assert_int_equal(sim_fwd(w, 2, p, 0), srv);
	assert_int_equal(w->m[1].lb.stats.udp_to_gone, 2);
	assert_int_equal(w->m[1].lb.stats.udp_relayed, 1);
	assert_int_equal(sim_fwd(w, 2, q, 0), srvq);	/* 1's own flow */
	assert_int_equal(w->m[1].lb.stats.udp_to_gone, 2);
	assert_null(sim_ltoc(w, 1, p));
	for (i = 1; i < 3; i++)
		assert_int_equal(w->m[i].lb.stats.udp_new_flow, i == 1);
	sim_udp = 0;
	sim_free(w);
}

/*
 * What that costs when the owner really died: for cluster.dead_ms after
 * its backup noticed, a datagram of a flow nobody alive knows goes to
 * the dead member and is lost, as every datagram handed to it was while
 * its death went unnoticed; then the backup, owner now, opens the flow.
 * A replicated flow goes on from the backup's copy at once.
 */
static void
test_udp_gone_dead(void **state)
{
	struct sim		*w = sim_new(3, 53);
	struct lb_action	 act;
	uint16_t		 p, q;
	int			 srv;

	(void)state;
	sim_udp = 1;
	p = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	q = sim_port(w, 0x7, 0, 1, 0, 0, 0);
	srv = sim_fwd(w, 0, p, 0);
	sim_run(w, 1500);
	assert_int_equal(sim_fwd(w, 0, p, 0), srv);	/* replicated */
	sim_run(w, 100);
	sim_assert_holds(w, 1, p, CONN_ROLE_BACKUP, srv, 0, 1);
	sim_stop(w, 0);
	while (w->m[1].t.nactive == 3)
		sim_run(w, SIM_TICK_MS);
	assert_int_equal(sim_fwd(w, 1, p, 0), srv);
	assert_int_equal(sim_packet(w, 1, q, 0, &act), LB_DROP);
	assert_int_equal(w->m[1].lb.stats.udp_to_gone, 1);
	sim_run(w, SIM_DEAD_MS + SIM_TICK_MS);
	assert_int_equal(sim_packet(w, 1, q, 0, &act), LB_FORWARD);
	assert_int_equal(w->m[1].lb.stats.udp_to_gone, 1);
	assert_int_equal(w->m[1].lb.stats.udp_new_flow, 1);
	assert_int_equal(sim_fwd(w, 2, p, 0), srv);
	sim_udp = 0;
	sim_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim13_syn_at_owner),
		cmocka_unit_test(test_claim13_syn_at_other),
		cmocka_unit_test(test_claim11_backup_copy),
		cmocka_unit_test(test_claim14_end),
		cmocka_unit_test(test_claim14_end_to_backup),
		cmocka_unit_test(test_issue18_lost_refresh),
		cmocka_unit_test(test_issue18_lost_end),
		cmocka_unit_test(test_issue18_recon_repairs_backup),
		cmocka_unit_test(test_issue18_recon_answer),
		cmocka_unit_test(test_issue18_pull_adopted),
		cmocka_unit_test(test_issue18_pull_syn_expires),
		cmocka_unit_test(test_issue18_pull_owner),
		cmocka_unit_test(test_issue18_pull_joining),
		cmocka_unit_test(test_claim17_join),
		cmocka_unit_test(test_claim17_new_while_joining),
		cmocka_unit_test(test_claim17_join_timeout),
		cmocka_unit_test(test_claim18_death),
		cmocka_unit_test(test_both_holders_die),
		cmocka_unit_test(test_claim18_leave),
		cmocka_unit_test(test_claim18_leave_timeout),
		cmocka_unit_test(test_random),
		/* issue 18, point 7 */
		cmocka_unit_test(test_mixed_one_message),
		cmocka_unit_test(test_mixed_transfer_done),
		/* issue 18, point 5 */
		cmocka_unit_test(test_partition_merge),
		cmocka_unit_test(test_udp_owner_killed),
		cmocka_unit_test(test_udp_new_while_joining),
		cmocka_unit_test(test_udp_new_while_leaving),
		cmocka_unit_test(test_udp_pull_stream),
		cmocka_unit_test(test_udp_pull_backup),
		cmocka_unit_test(test_udp_flap_relay),
		cmocka_unit_test(test_udp_flap_gone),
		cmocka_unit_test(test_udp_gone_dead),
	};
	const char	*s;
	char		 cat[32];
	size_t		 i;

	/*
	 * Every member start allocates about a megabyte (lb's record queue,
	 * the core's per-slot batches): keep it in the heap rather than
	 * mapping and faulting it in again thousands of times.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 64 << 20);
	(void)mallopt(M_TRIM_THRESHOLD, 256 << 20);
	sim_verbose = getenv("TEST_REPL_VERBOSE") != NULL;
	if ((s = getenv("TEST_REPL_WATCH")) != NULL)
		sim_watch_port = (uint16_t)strtoul(s, NULL, 10);
	if (getenv("TEST_REPL_EXPLORE") != NULL) {
		for (i = 0; i < TEST_NITEMS(test_explore); i++)
			(void)test_model_run(&test_explore[i]);
		return (0);
	}
	if ((s = getenv("TEST_REPL_SEED")) != NULL)
		return (test_sequence(test_model_find(getenv(
		    "TEST_REPL_MODEL")), strtoull(s, NULL, 10), 1, cat,
		    sizeof(cat), NULL) == 0 ? 0 : 1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
