/* announce.h: readiness routes in the kernel, for a routing daemon. */
#ifndef ILBD_ANNOUNCE_H
#define ILBD_ANNOUNCE_H

#include <stdint.h>

#include "config.h"
#include "util.h"

/*
 * While the node is active, one host route per VIP in announce.table,
 * out of the TUN device, with this metric; from a graceful leave on, the
 * same routes with the leaving metric instead (for announce.drain_ms,
 * then the hand-over, then exit). A routing daemon that imports the table
 * announces the VIPs while they are there: a filter that sees the leaving
 * metric adds GRACEFUL_SHUTDOWN (65535:0) or withdraws.
 */
#define ANNOUNCE_METRIC_ACTIVE	100
#define ANNOUNCE_METRIC_LEAVING	200

struct event_base;
struct announce;

enum announce_phase {
	ANNOUNCE_JOINING = 0,		/* nothing announced */
	ANNOUNCE_ACTIVE,		/* VIPs, ANNOUNCE_METRIC_ACTIVE */
	ANNOUNCE_LEAVING		/* VIPs, ANNOUNCE_METRIC_LEAVING */
};

/* One route in announce.table: destination (a /32 or /128) and metric. */
struct announce_route {
	struct ilb_addr		dst;
	uint32_t		metric;
};

/*
 * The routes wanted in phase under conf, each VIP once, in the order of
 * the services, into out (room for max); returns how many. None when
 * announce.table is 0. Pure: no I/O.
 */
unsigned int	 announce_desired(const struct ilbd_conf *, enum announce_phase,
		    struct announce_route *, unsigned int);

/*
 * Start announcing for conf on the device ifindex (tun input), or, with
 * ifindex 0 (pcap input), on a TUN device of its own named input.device,
 * which carries no packet: it exists for as long as the process, so its
 * routes vanish when ilbd dies. NULL with *cause NULL when announce.table
 * is 0 (off); NULL with *cause set on an error. Starts joining.
 */
struct announce	*announce_open(struct event_base *, const struct ilbd_conf *,
		    unsigned int, char **);
/* Delete every route; NULL is fine. */
void		 announce_close(struct announce *);
/*
 * The node is active (1) or not yet (0): call on every change or every
 * tick (a failed route change is retried then). Once leaving, stays so.
 */
void		 announce_set_active(struct announce *, int);
/* A reloaded configuration: the VIPs (and table) follow it. */
void		 announce_reload(struct announce *, const struct ilbd_conf *);
/*
 * Graceful leave, first step: mark the routes leaving and call done(arg)
 * after announce.drain_ms; at once if nothing was announced (joining, or
 * off: a NULL announce).
 */
void		 announce_leave(struct announce *, void (*)(void *), void *);
enum announce_phase announce_phase(const struct announce *);

#endif
