/*
 * fwd_bare.c: a bare forwarder with ilbd's tun-mode input/output path and
 * no logic, the yardstick of bench/e2e.sh's forwarding measurement.
 *
 * It does what ilbd does around the decision and nothing else: create the
 * TUN device (tun.c, the same read loop and budget), route the VIP into it
 * (rtnl.c), learn the server's MAC from the kernel neighbour table
 * (neigh.c) and send every packet read to a server on AF_PACKET with the
 * same batching (fwd.c: fwd_queue, and fwd_flush once the read batch is
 * done, from an event made active as dp.c does).  No parsing beyond the
 * source port, no scoring, no table, no cluster.  With one SERVER every
 * packet goes to it (the forwarding-rate yardstick); with several, a
 * connection's packets go to the one its client address and source port
 * pick, modulo the count (bench/e2e.sh's HTTP phase "bare1": the cost of a
 * userspace hop of this shape, with no load balancer logic, to compare
 * ilbd's with).
 *
 * With -x it reads with ilbd's xdp-mode input instead (xdp.c: the same
 * XDP program and VIP map, one AF_XDP socket per RX queue of IFACE, the
 * same bursts), the yardstick of e2e.sh's forwarding measurement with
 * ILB_MODE=xdp; there is no TUN device and no route then.
 *
 * Usage: fwd_bare [-d TUNDEV] [-i IFACE] [-x XDPMODE] VIP SERVER [SERVER ...]
 *   -d  TUN device to create (default ilb0)
 *   -i  interface facing the servers (default eth0), and with -x the one
 *       the VIP's packets arrive on
 *   -x  AF_XDP input on IFACE in XDPMODE (auto, native or skb: ilbd's
 *       input.xdp_mode), on all its RX queues, instead of a TUN device
 * At most BARE_MAX_SERVERS servers, of the VIP's family.
 * SIGUSR1 prints a "stats:" line on stderr, SIGTERM/SIGINT prints it and
 * exits 0.  Needs root (CAP_NET_ADMIN, CAP_NET_RAW) and ip_forward off or
 * on: the VIP route points into the TUN device either way.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "fwd.h"
#include "log.h"
#include "neigh.h"
#include "rtnl.h"
#include "tun.h"
#include "util.h"
#ifdef HAVE_XDP
#include "xdp.h"
#endif

#define BARE_MAX_SERVERS	16

struct bare {
	struct event_base	*base;
	struct tun		*tun;		/* NULL with -x */
#ifdef HAVE_XDP
	struct xdp_input	*xdp;
#endif
	struct fwd		*fwd;
	struct neigh		*neigh;
	struct ilb_addr		 server[BARE_MAX_SERVERS];
	unsigned int		 nservers;
	struct event		*ev_flush;
	int			 flush_pending;
	uint64_t		 no_mac;
	uint64_t		 fwd_errors;
};

static void
bare_on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct bare	*b = arg;

	(void)fd;
	(void)what;
	b->flush_pending = 0;
	fwd_flush(b->fwd);
}

/*
 * The server of the packet's connection: the sum of the source address's
 * last 16 bits and the TCP/UDP source port, modulo the count.  A packet
 * too short for its port, and an IPv6 packet whose next header is not TCP
 * or UDP, go to the first server.  (IPv4 fragments are not looked for:
 * bench traffic has none.)
 */
static unsigned int
bare_pick(const struct bare *b, const uint8_t *pkt, size_t len)
{
	size_t	off;

	if (b->nservers == 1 || len < 1)
		return (0);
	if ((pkt[0] >> 4) == 4) {
		off = (size_t)(pkt[0] & 0x0f) * 4;
		if (off < 20 || len < off + 2)
			return (0);
		return (((unsigned int)pkt[14] << 8 | pkt[15]) +
		    ((unsigned int)pkt[off] << 8 | pkt[off + 1])) % b->nservers;
	}
	if (len < 42 || (pkt[6] != IPPROTO_TCP && pkt[6] != IPPROTO_UDP))
		return (0);
	return (((unsigned int)pkt[22] << 8 | pkt[23]) +
	    ((unsigned int)pkt[40] << 8 | pkt[41])) % b->nservers;
}

/* Per packet: one neighbour lookup and a queued frame, as dp_forward(). */
static void
bare_packet(struct bare *b, const uint8_t *pkt, size_t len)
{
	uint8_t		 mac[6];

	if (neigh_lookup(b->neigh, &b->server[bare_pick(b, pkt, len)],
	    mac) == -1) {
		b->no_mac++;
		return;
	}
	if (fwd_queue(b->fwd, mac, pkt, len) == -1) {
		b->fwd_errors++;
		return;
	}
	if (!b->flush_pending) {
		b->flush_pending = 1;
		event_active(b->ev_flush, 0, 0);
	}
}

/* A burst from tun_read() or the AF_XDP sockets, as the daemon gets it. */
static void
bare_on_input(void *arg, const uint8_t *const *pkts, const size_t *lens,
    size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		bare_packet(arg, pkts[i], lens[i]);
}

static void
bare_print(const struct bare *b)
{
	const struct fwd_stats	*fs = fwd_stats(b->fwd);
	uint64_t		 rx = 0, budget_hits = 0;

	if (b->tun != NULL) {
		rx = tun_stats(b->tun)->packets;
		budget_hits = tun_stats(b->tun)->budget_hits;
	}
#ifdef HAVE_XDP
	if (b->xdp != NULL) {
		rx = xdp_stats(b->xdp)->packets;
		budget_hits = xdp_stats(b->xdp)->budget_hits;
	}
#endif
	fprintf(stderr, "stats: rx=%llu sent=%llu send_errors=%llu "
	    "no_mac=%llu fwd_errors=%llu budget_hits=%llu\n",
	    (unsigned long long)rx, (unsigned long long)fs->sent,
	    (unsigned long long)fs->send_errors,
	    (unsigned long long)b->no_mac, (unsigned long long)b->fwd_errors,
	    (unsigned long long)budget_hits);
}

static void
bare_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct bare	*b = arg;

	(void)what;
	bare_print(b);
	if (sig != SIGUSR1)
		event_base_loopbreak(b->base);
}

/*
 * -x: ilbd's xdp input (xdp_open) on ifname in mode, with the VIP map
 * holding vip, from a configuration of just what xdp.c reads of one.
 */
static int
bare_xdp_open(struct bare *b, const char *ifname, const char *mode,
    const struct ilb_addr *vip, char **cause)
{
#ifdef HAVE_XDP
	struct ilbd_conf	 conf;
	struct service_conf	 svc;

	memset(&conf, 0, sizeof(conf));
	memset(&svc, 0, sizeof(svc));
	if (strcmp(mode, "auto") == 0)
		conf.input.xdp_mode = XDP_AUTO;
	else if (strcmp(mode, "native") == 0)
		conf.input.xdp_mode = XDP_NATIVE;
	else if (strcmp(mode, "skb") == 0)
		conf.input.xdp_mode = XDP_SKB;
	else
		return (util_cause(cause, "-x %s: not auto, native or skb",
		    mode));
	conf.input.mode = INPUT_XDP;
	util_strlcpy(conf.node.interface, ifname,
	    sizeof(conf.node.interface));
	svc.vip = *vip;
	conf.services = &svc;
	conf.nservices = 1;
	b->xdp = xdp_open(b->base, &conf, bare_on_input, b, cause);
	return (b->xdp != NULL ? 0 : -1);
#else
	(void)b;
	(void)ifname;
	(void)mode;
	(void)vip;
	*cause = strdup("-x: built without the AF_XDP input "
	    "(configure --enable-xdp)");
	return (-1);
#endif
}

static void
usage(void)
{
	fprintf(stderr, "usage: fwd_bare [-d TUNDEV] [-i IFACE] [-x XDPMODE] "
	    "VIP SERVER [SERVER ...]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct bare	 b;
	struct ilb_addr	 vip;
	struct rtnl	 rtnl = { -1, 0 };
	struct event	*ev_sig[3];
	const char	*dev = "ilb0", *ifname = "eth0", *xdp_mode = NULL;
	char		*cause = NULL;
	uint8_t		 mac[6];
	int		 ch, i, sigs[3] = { SIGUSR1, SIGTERM, SIGINT };
	unsigned int	 k;

	while ((ch = getopt(argc, argv, "d:i:x:")) != -1) {
		switch (ch) {
		case 'd':
			dev = optarg;
			break;
		case 'i':
			ifname = optarg;
			break;
		case 'x':
			xdp_mode = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc - 1 > BARE_MAX_SERVERS)
		usage();
	memset(&b, 0, sizeof(b));
	if (util_addr_parse(argv[0], &vip) == -1) {
		fprintf(stderr, "fwd_bare: bad address %s\n", argv[0]);
		return (2);
	}
	for (b.nservers = 0; b.nservers < (unsigned int)argc - 1;
	    b.nservers++) {
		k = b.nservers;
		if (util_addr_parse(argv[k + 1], &b.server[k]) == -1 ||
		    b.server[k].family != vip.family) {
			fprintf(stderr, "fwd_bare: bad server address %s\n",
			    argv[k + 1]);
			return (2);
		}
	}
	log_init("fwd_bare", 1, 0);
	signal(SIGPIPE, SIG_IGN);
	if ((b.base = event_base_new()) == NULL) {
		fprintf(stderr, "fwd_bare: event_base_new failed\n");
		return (1);
	}
	if ((b.fwd = fwd_open(ifname, &cause)) == NULL ||
	    (b.neigh = neigh_open(b.base, ifname, &cause)) == NULL)
		goto fail;
	for (k = 0; k < b.nservers; k++) {
		if (neigh_watch(b.neigh, &b.server[k]) == -1) {
			cause = strdup("cannot watch a server's neighbour entry");
			goto fail;
		}
		/* resolve it now */
		(void)neigh_lookup(b.neigh, &b.server[k], mac);
	}
	if ((b.ev_flush = event_new(b.base, -1, 0, bare_on_flush, &b)) ==
	    NULL) {
		cause = strdup("event_new failed");
		goto fail;
	}
	for (i = 0; i < 3; i++) {
		ev_sig[i] = evsignal_new(b.base, sigs[i], bare_on_signal, &b);
		if (ev_sig[i] == NULL || event_add(ev_sig[i], NULL) == -1) {
			cause = strdup("cannot add signal events");
			goto fail;
		}
	}
	if (xdp_mode != NULL) {
		if (bare_xdp_open(&b, ifname, xdp_mode, &vip, &cause) == -1)
			goto fail;
	} else {
		if ((b.tun = tun_open(b.base, dev, bare_on_input, &b,
		    &cause)) == NULL)
			goto fail;
		if (rtnl_open(&rtnl, &cause) == -1 ||
		    rtnl_route_add(&rtnl, &vip, tun_ifindex(b.tun),
		    &cause) == -1)
			goto fail;
	}
	fprintf(stderr, "fwd_bare: started: %s -> %s, %s to %s%s\n", argv[0],
	    b.tun != NULL ? tun_name(b.tun) : "AF_XDP", ifname, argv[1],
	    b.nservers > 1 ? " and more" : "");
	event_base_dispatch(b.base);
	fwd_flush(b.fwd);
	/* the route goes with the device */
	if (rtnl.fd != -1)
		rtnl_close(&rtnl);
	if (b.tun != NULL)
		tun_close(b.tun);
#ifdef HAVE_XDP
	xdp_close(b.xdp);
#endif
	neigh_close(b.neigh);
	fwd_close(b.fwd);
	for (i = 0; i < 3; i++)
		event_free(ev_sig[i]);
	event_free(b.ev_flush);
	event_base_free(b.base);
	return (0);
fail:
	fprintf(stderr, "fwd_bare: %s\n", cause != NULL ? cause : "error");
	return (1);
}
