/* capture.h: packet input captured with libpcap on node.interface. */
#ifndef ILBD_CAPTURE_H
#define ILBD_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "counter.h"

struct capture;
struct event_base;
struct ilbd_conf;

#define CAPTURE_BUDGET		64		/* packets per read event */
#define CAPTURE_SNAPLEN		65535	/* at most; MTU + CAPTURE_LINKROOM */
#define CAPTURE_LINKROOM	64	/* link headers above the MTU */
#define CAPTURE_BUFSIZE		(8 * 1024 * 1024)	/* kernel ring */
#define CAPTURE_BUFSIZE_MIN	(2 * 1024 * 1024)	/* each of a group's */
#define CAPTURE_BURST		16	/* packets handed on together */

/*
 * Called for each burst captured: n IP datagrams (link header stripped)
 * pkts[i] of lens[i] bytes, in the order captured; valid until it
 * returns.
 */
typedef void	(*capture_cb)(void *, const uint8_t *const *, const size_t *,
		    size_t);

struct capture_stats {
	uint64_t	packets;	/* datagrams handed to the callback */
	uint64_t	bytes;		/* their bytes, from the IP header on */
	uint64_t	nonip;		/* frames neither IPv4 nor IPv6 */
	uint64_t	truncated;	/* frames longer than the snapshot (GRO) */
	uint64_t	errors;		/* pcap_dispatch() failures */
	uint64_t	budget_hits;	/* read events that used the budget up */
	uint64_t	drops;		/* pcap ps_drop: no room in the buffer */
	uint64_t	ifdrops;	/* pcap ps_ifdrop: dropped by the interface */
	uint64_t	bursts;		/* calls of the callback */
};

/*
 * The BPF filter that matches TCP to every service of conf, e.g.
 * "tcp and ((dst host 198.51.100.10 and dst port 80) or (dst host
 * 2001:db8::10 and (dst port 80 or dst port 443)))"; with no service, a
 * filter that matches nothing. Pure; malloc'd, NULL if out of memory.
 */
char		*capture_filter(const struct ilbd_conf *);
/*
 * Find the IP header in a frame of link type dlt (DLT_EN10MB with at most
 * one 802.1Q/802.1ad tag, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW): 0 and
 * *off set, or -1 if the frame is not IPv4 or IPv6 or is cut short. Pure.
 */
int		 capture_strip(int, const uint8_t *, size_t, size_t *);
/* Whether capture_strip() knows the link type. */
int		 capture_dlt_supported(int);
/*
 * Capture inbound packets matching filter on ifname and hand them to cb
 * from base. On failure return NULL with a malloc'd *cause.
 */
struct capture	*capture_open(struct event_base *, const char *, const char *,
		    capture_cb, void *, char **);
/*
 * The same, the socket in a PACKET_FANOUT_HASH group with the others
 * opened so (one per input worker, n in all): each flow's packets to one
 * of them, whose ring is CAPTURE_BUFSIZE / n (CAPTURE_BUFSIZE_MIN at
 * least). *group 0: a new group, its id set in *group; else that group's.
 */
struct capture	*capture_open_fanout(struct event_base *, const char *,
		    const char *, capture_cb, void *, unsigned int *,
		    unsigned int, char **);
/*
 * The same from a savefile read from f (pcap_fopen_offline(): a pipe
 * will do; closed by capture_close()), for the tests of the input path.
 * No filter, no interface.
 */
struct capture	*capture_open_file(struct event_base *, FILE *, capture_cb,
		    void *, char **);
/* Replace the filter (on reload): 0, or -1 with a malloc'd *cause. */
int		 capture_set_filter(struct capture *, const char *, char **);
void		 capture_close(struct capture *);
/* The counters, with the pcap drop counts read now. */
const struct capture_stats *capture_stats(struct capture *);
/*
 * Add c's counters to sum, read while c's worker thread runs (the pcap
 * drop counts are read by the caller's thread, capture_stats()).
 */
void		 capture_stats_add(struct capture_stats *, struct capture *);
/*
 * What of struct capture_stats is exported: packets as input_packets,
 * the name tun's have too, so the input counts alike in either mode.
 */
extern const struct counter_desc capture_counters[];

#endif
