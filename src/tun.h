/* tun.h: packet input from a TUN device that every VIP is routed into. */
#ifndef ILBD_TUN_H
#define ILBD_TUN_H

#include <stddef.h>
#include <stdint.h>

#include "counter.h"

struct event_base;
struct ilbd_conf;
struct tun;

#define TUN_BUDGET	64	/* packets read per read event at most */
#define TUN_BURST	16	/* packets handed on together at most */
#define TUN_BUFSIZE	65536	/* largest packet read */

/*
 * Called for each burst read: n IP datagrams (no link header) pkts[i] of
 * lens[i] bytes, in the order they were read; valid until it returns.
 */
typedef void	(*tun_cb)(void *, const uint8_t *const *, const size_t *,
		    size_t);

struct tun_stats {
	uint64_t	packets;	/* datagrams handed to the callback */
	uint64_t	bytes;		/* their bytes */
	uint64_t	empty;		/* zero-length reads, dropped */
	uint64_t	multicast;	/* to a multicast group, ignored */
	uint64_t	read_errors;	/* read() failures other than EAGAIN */
	uint64_t	budget_hits;	/* read events that used the budget up */
	uint64_t	routes;		/* VIP routes in place now */
	uint64_t	bursts;		/* calls of the callback */
};

/*
 * Create the TUN device ifname (IFF_TUN | IFF_NO_PI, not persistent: it
 * goes away with the descriptor), bring it up and start reading it on
 * base. On failure return NULL with a malloc'd *cause.
 */
struct tun	*tun_open(struct event_base *, const char *, tun_cb, void *,
		    char **);
/*
 * As tun_open(), the device multi-queue (IFF_MULTI_QUEUE): this is its
 * first queue; tun_open_queue() adds the others. The kernel spreads the
 * packets it routes into the device over the queues by flow.
 */
struct tun	*tun_open_mq(struct event_base *, const char *, tun_cb,
		    void *, char **);
/*
 * Another queue of dev (opened by tun_open_mq()), read on base (an input
 * worker's loop). No routes of its own; tun_close() closes the queue
 * only. On failure NULL with a malloc'd *cause.
 */
struct tun	*tun_open_queue(struct event_base *, const struct tun *,
		    tun_cb, void *, char **);
/*
 * Read datagrams from fd (already open, non-blocking, one datagram per
 * read(): a socket of type SOCK_DGRAM or SOCK_SEQPACKET will do) as from
 * a TUN device: for the tests and benchmarks of the input path. No
 * device, no routes; tun_close() closes fd.
 */
struct tun	*tun_open_fd(struct event_base *, int, tun_cb, void *,
		    char **);
/*
 * Route every VIP of conf (/32 or /128) into the device, replacing
 * leftover routes, and remove the routes of VIPs no longer in conf (so it
 * also serves a reload). 0, or -1 with a malloc'd *cause; routes added
 * before the failure stay and are removed by tun_close().
 */
int		 tun_route_vips(struct tun *, const struct ilbd_conf *, char **);
/*
 * 0 if the kernel forwards every address family that conf has a VIP of;
 * otherwise -1 and a malloc'd *cause telling the operator what to do.
 */
int		 tun_check_forwarding(const struct ilbd_conf *, char **);
/*
 * Set the device's MTU (the largest packet that can still be handed off
 * in GRE). 1 if it changed, 0 if it already was, -1 on failure (logged).
 */
int		 tun_set_mtu(struct tun *, unsigned int);
/* Remove the VIP routes, stop reading and destroy the device. */
void		 tun_close(struct tun *);
/*
 * 1 if pkt (len bytes, IPv4 or IPv6) goes to a multicast group: never a
 * VIP's (VIPs are unicast), but the kernel's own MLD reports, which it
 * sends out of the device once IPv6 forwarding (needed for IPv6 VIPs) has
 * joined it to the all-routers groups.
 */
int	tun_is_multicast(const uint8_t *, size_t);

const struct tun_stats *tun_stats(const struct tun *);
/*
 * Add t's stats to *sum, read as another thread (the worker that reads
 * t) may be writing them: each counter whole, the set not a snapshot.
 */
void		 tun_stats_add(struct tun_stats *, const struct tun *);
/* What of struct tun_stats is exported (as input_packets...). */
extern const struct counter_desc tun_counters[];
const char	*tun_name(const struct tun *);
unsigned int	 tun_ifindex(const struct tun *);

#endif
