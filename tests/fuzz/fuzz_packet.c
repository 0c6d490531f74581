/* fuzz_packet.c: packet_parse() then lb_decide() on a small three-member lb. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "lb.h"
#include "packet.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_world_init();
	return (0);
}

/* What packet_parse() promises about the offsets it returns. */
static void
fuzz_check_parse(int rv, const struct pkt_info *pi, size_t len)
{
	FUZZ_CHECK(rv >= PKT_OK && rv < PKT_REASON_MAX);
	FUZZ_CHECK(packet_reason_name(rv) != NULL);
	if (rv == PKT_OK) {
		FUZZ_CHECK(flow_key_valid(&pi->key));
		FUZZ_CHECK(pi->family ==
		    (flow_key_idlen(&pi->key) == FLOW_ID_V4 ? 4 : 6));
		if (pi->flags & PKT_F_ICMP_ERR) {
			/* "too big" about a connection: ICMP, not TCP */
			FUZZ_CHECK(pi->proto == (pi->family == 4 ? 1 : 58));
			FUZZ_CHECK(pi->tcp_flags == 0);
			FUZZ_CHECK(pi->data_off == pi->ip_len);
		} else if (pi->proto == 17) {
			/* UDP: the key says so, the header is 8 bytes */
			FUZZ_CHECK(flow_key_is_udp(&pi->key));
			FUZZ_CHECK(pi->tcp_flags == 0);
			FUZZ_CHECK(pi->l4_off + 8 == pi->data_off);
		} else {
			FUZZ_CHECK(pi->proto == 6);
			FUZZ_CHECK(!flow_key_is_udp(&pi->key));
			FUZZ_CHECK(pi->l4_off + 20 <= pi->data_off);
		}
		FUZZ_CHECK(pi->l3_off == 0);
		FUZZ_CHECK(pi->data_off <= pi->ip_len);
		FUZZ_CHECK(pi->ip_len <= len);
	} else if (rv == PKT_FRAGMENT) {
		FUZZ_CHECK(pi->family == 4 || pi->family == 6);
		FUZZ_CHECK(pi->key.len == 0);
		FUZZ_CHECK(pi->l4_off <= pi->ip_len);
		FUZZ_CHECK(pi->ip_len <= len);
	}
}

/* What lb_decide() promises about its action. */
static void
fuzz_check_action(const struct lb *lb, int v, const struct lb_action *act)
{
	FUZZ_CHECK(v == (int)act->verdict);
	switch (act->verdict) {
	case LB_DROP:
		FUZZ_CHECK(act->drop > LB_DROP_NONE &&
		    act->drop < LB_DROP_MAX);
		FUZZ_CHECK(lb_drop_name(act->drop) != NULL);
		break;
	case LB_FORWARD:
		FUZZ_CHECK(act->service < lb->nsvc);
		FUZZ_CHECK(act->svc != NULL && act->srv != NULL);
		FUZZ_CHECK(act->server < act->svc->nservers);
		FUZZ_CHECK(act->srv == &act->svc->servers[act->server]);
		FUZZ_CHECK(act->path > LB_PATH_NONE);
		FUZZ_CHECK(lb_path_name(act->path) != NULL);
		break;
	case LB_HANDOFF:
		/* a slot: another member's, never this node's own */
		FUZZ_CHECK(act->member >= FUZZ_SLOT0 &&
		    act->member < FUZZ_SLOT0 + FUZZ_MEMBERS);
		FUZZ_CHECK(lb->self == LB_SELF_NONE ||
		    act->member != lb->slots[lb->self]);
		break;
	default:
		FUZZ_CHECK(0);
	}
}

/* Pop every queued record; each names a known service and server. */
static void
fuzz_drain(struct lb *lb, uint64_t now)
{
	struct lb_record	rec;

	while (lb_queue_pop(lb, &rec)) {
		FUZZ_CHECK(rec.type >= LB_REC_NEW &&
		    rec.type <= LB_REC_REFRESH);
		FUZZ_CHECK(rec.service < lb->nsvc);
		FUZZ_CHECK(rec.server < lb->svc[rec.service].conf->nservers);
		FUZZ_CHECK(flow_key_valid(&rec.key));
		/* A peer learns it: the same lb stands in for the peer. */
		if (rec.type == LB_REC_END)
			lb_learn_end(lb, &rec, now);
		else if (rec.type == LB_REC_REFRESH)
			lb_refresh(lb, &rec.key, now);
	}
}

/*
 * Input: frames (fuzz.h). The first control byte picks self (0..2, or 3:
 * not a member); in each frame, bit 0 of the control byte is by_handoff,
 * bits 1..7 advance the clock (in seconds, squared, so that timeouts fire)
 * and the bytes are one IP datagram.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb		*lb = fuzz_lb;
	struct fuzz_in		 in = { data, size, 0 };
	struct fuzz_frame	 f;
	struct pkt_info		 pi;
	struct lb_action	 act;
	uint64_t		 now = fuzz_now;
	int			 rv, v;

	if (size < 1)
		return (0);
	fuzz_world_reset(data[0] & 3);
	while (fuzz_next(&in, &f)) {
		now += (uint64_t)(f.ctl >> 1) * (f.ctl >> 1) * 1000;
		memset(&pi, 0xa5, sizeof(pi));
		rv = packet_parse(f.p, f.len, &pi);
		fuzz_check_parse(rv, &pi, f.len);
		if (rv == PKT_OK) {
			memset(&act, 0, sizeof(act));
			v = lb_decide(lb, &pi, f.ctl & 1, now, &act);
			fuzz_check_action(lb, v, &act);
		}
		memset(&act, 0, sizeof(act));
		v = lb_input(lb, f.p, f.len, f.ctl & 1, now, &pi, &act);
		fuzz_check_action(lb, v, &act);
		fuzz_drain(lb, now);
		lb_tick(lb, now, 64);
	}
	fuzz_world_expire(now);
	return (0);
}
