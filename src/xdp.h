/*
 * xdp.h: packet input through AF_XDP on node.interface (input.mode
 * "xdp"): an XDP program (ilbd_xdp.bpf.c) sends what is addressed to a
 * VIP to one AF_XDP socket per RX queue and passes the rest to the kernel.
 */
#ifndef ILBD_XDP_H
#define ILBD_XDP_H

#include <stddef.h>
#include <stdint.h>

#include "counter.h"

struct event_base;
struct ilbd_conf;
struct xdp_input;

#define XDP_BUDGET		64	/* frames per read event and queue */
#define XDP_NUM_FRAMES		2048	/* UMEM frames per queue: the rings */
#define XDP_FRAME_SIZE		4096	/* a page; MTU + link header fit */

#define XDP_BURST		16	/* frames handed on together at most */

/*
 * Called for each burst received: n IP datagrams (link header stripped)
 * pkts[i] of lens[i] bytes, in ring order; valid until it returns.
 */
typedef void	(*xdp_cb)(void *, const uint8_t *const *, const size_t *,
		    size_t);

struct xdp_stats {
	uint64_t	packets;	/* datagrams handed to the callback */
	uint64_t	bytes;		/* their bytes, from the IP header on */
	uint64_t	nonip;		/* frames neither IPv4 nor IPv6 */
	uint64_t	budget_hits;	/* read events that used the budget up */
	uint64_t	drops;		/* no room in the RX ring, no fill
					   frame (XDP_STATISTICS) */
	uint64_t	invalid;	/* invalid descriptors (likewise) */
};

/*
 * Find the IP header in an Ethernet frame with at most one 802.1Q or
 * 802.1ad tag: 0 and *off set, or -1 if it is not IPv4 or IPv6 or is
 * cut short. Pure.
 */
int		 xdp_strip(const uint8_t *, size_t, size_t *);
/* input.queues of conf on its interface: the number of sockets. */
unsigned int	 xdp_queues(const struct ilbd_conf *);
/*
 * Load the XDP program on node.interface in input.xdp_mode (replacing a
 * stale one a previous ilbd left), fill its VIP map from conf, open a
 * socket per queue and hand what they receive to cb from base. On
 * failure return NULL with a malloc'd *cause.
 */
struct xdp_input *xdp_open(struct event_base *, const struct ilbd_conf *,
		    xdp_cb, void *, char **);
/*
 * The same, the queues spread over n loops (input workers): queue i is
 * read on bases[i % n] and its bursts go to cb(args[i % n], ...), in
 * that loop's thread.
 */
struct xdp_input *xdp_open_spread(struct event_base *const *, void *const *,
		    unsigned int, const struct ilbd_conf *, xdp_cb, char **);
/* Set the VIP map to conf's VIPs (on reload): 0, or -1 with *cause. */
int		 xdp_set_vips(struct xdp_input *, const struct ilbd_conf *,
		    char **);
/* Close the sockets and detach the program. */
void		 xdp_close(struct xdp_input *);
/* The counters, with the sockets' drop counts read now. */
const struct xdp_stats *xdp_stats(struct xdp_input *);
/* What of struct xdp_stats is exported (packets as input_packets). */
extern const struct counter_desc xdp_counters[];

#endif
