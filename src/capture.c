/* capture.c: packet input captured with libpcap on node.interface. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* open_memstream */
#endif

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/if_packet.h>
#include <net/if.h>

#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <pcap/pcap.h>

#include "be.h"
#include "capture.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define CAPTURE_NOTHING	"less 0"	/* a filter that matches no frame */
/*
 * Besides the services' TCP and UDP, what else sent to a VIP the decision
 * takes: ICMP errors (path MTU discovery), later fragments, which carry no
 * ports, and IPv6 whose first header is not TCP (extension headers, which
 * BPF cannot walk, and ICMPv6); ilbd sorts them out and counts the rest.
 */
#define CAPTURE_EXTRA	"icmp or (ip[6:2] & 0x1fff != 0) or " \
			"(ip6 and ip6[6] != 6)"

#define ETH_HLEN_	14
#define SLL_HLEN	16
#define SLL2_HLEN	20
#define VLAN_HLEN	4
#define ETYPE_IPV4	0x0800
#define ETYPE_IPV6	0x86dd
#define ETYPE_8021Q	0x8100
#define ETYPE_8021AD	0x88a8

struct capture {
	pcap_t			*p;
	char			 ifname[IF_NAMESIZE];
	int			 dlt;
	struct event		*ev;
	capture_cb		 cb;
	void			*arg;
	struct pcap_stat	 last;		/* pcap_stats() at the last read */
	uint8_t			*ring;		/* CAPTURE_BURST slots */
	size_t			 slot;		/* bytes per slot */
	size_t			 n;		/* packets in the burst */
	const uint8_t		*pkts[CAPTURE_BURST];
	size_t			 lens[CAPTURE_BURST];
	struct capture_stats	 stats;
	int			 bufsize;	/* the kernel ring's bytes */
};

static int	 capture_seen_vip(const struct ilbd_conf *, unsigned int, int);
static int	 capture_seen_port(const struct ilbd_conf *, unsigned int,
		    unsigned int);
static void	 capture_filter_vip(FILE *, const struct ilbd_conf *,
		    unsigned int);
static void	 capture_filter_proto(FILE *, const struct ilbd_conf *, int);
static int	 capture_ethertype(uint16_t, const uint8_t *, size_t, size_t,
		    size_t *);
static int	 capture_snaplen(const char *);
static int	 capture_setup(struct capture *, char **);
static int	 capture_start(struct capture *, struct event_base *,
		    char **);
static int	 capture_join(struct capture *, unsigned int *, char **);
static void	 capture_read(evutil_socket_t, short, void *);
static void	 capture_burst(struct capture *);
static void	 capture_add(struct capture *, const uint8_t *, size_t);
static void	 capture_packet(u_char *, const struct pcap_pkthdr *,
		    const u_char *);

/* Whether a service of proto (-1: any) before i has the VIP of i. */
static int
capture_seen_vip(const struct ilbd_conf *conf, unsigned int i, int proto)
{
	unsigned int	j;

	for (j = 0; j < i; j++)
		if ((proto < 0 || (int)conf->services[j].protocol == proto) &&
		    util_addr_eq(&conf->services[j].vip,
		    &conf->services[i].vip))
			return (1);
	return (0);
}

/* Whether a service from first to before i has the protocol, VIP, port of i. */
static int
capture_seen_port(const struct ilbd_conf *conf, unsigned int first,
    unsigned int i)
{
	const struct service_conf	*s = &conf->services[i];
	unsigned int			 j;

	for (j = first; j < i; j++)
		if (conf->services[j].port == s->port &&
		    conf->services[j].protocol == s->protocol &&
		    util_addr_eq(&conf->services[j].vip, &s->vip))
			return (1);
	return (0);
}

/* "(dst host VIP and dst port P)", or "(... and (dst port P or ...))". */
static void
capture_filter_vip(FILE *f, const struct ilbd_conf *conf, unsigned int first)
{
	const struct service_conf	*s0 = &conf->services[first];
	char				 host[ILB_ADDRSTRLEN];
	unsigned int			 i, nports = 0;

	for (i = first; i < conf->nservices; i++)
		if (conf->services[i].protocol == s0->protocol &&
		    util_addr_eq(&conf->services[i].vip, &s0->vip) &&
		    !capture_seen_port(conf, first, i))
			nports++;
	fprintf(f, "(dst host %s and %s", util_addr_fmt(&s0->vip, host,
	    sizeof(host)), nports > 1 ? "(" : "");
	nports = 0;
	for (i = first; i < conf->nservices; i++) {
		if (conf->services[i].protocol != s0->protocol ||
		    !util_addr_eq(&conf->services[i].vip, &s0->vip) ||
		    capture_seen_port(conf, first, i))
			continue;
		fprintf(f, "%sdst port %u", nports++ > 0 ? " or " : "",
		    conf->services[i].port);
	}
	fprintf(f, "%s)", nports > 1 ? ")" : "");
}

/* "(tcp and (VIP term or ...))" for the services of one protocol. */
static void
capture_filter_proto(FILE *f, const struct ilbd_conf *conf, int proto)
{
	unsigned int	i, nvips = 0;

	for (i = 0; i < conf->nservices; i++)
		if ((int)conf->services[i].protocol == proto &&
		    !capture_seen_vip(conf, i, proto))
			nvips++;
	fprintf(f, "(%s and %s", proto == PROTO_UDP ? "udp" : "tcp",
	    nvips > 1 ? "(" : "");
	nvips = 0;
	for (i = 0; i < conf->nservices; i++) {
		if ((int)conf->services[i].protocol != proto ||
		    capture_seen_vip(conf, i, proto))
			continue;
		if (nvips++ > 0)
			fputs(" or ", f);
		capture_filter_vip(f, conf, i);
	}
	fprintf(f, "%s)", nvips > 1 ? ")" : "");
}

char *
capture_filter(const struct ilbd_conf *conf)
{
	FILE		*f;
	char		*text = NULL, host[ILB_ADDRSTRLEN];
	size_t		 len;
	unsigned int	 i, nvips = 0, ntcp = 0, nudp = 0;

	if (conf->nservices == 0)
		return (strdup(CAPTURE_NOTHING));
	if ((f = open_memstream(&text, &len)) == NULL)
		return (NULL);
	for (i = 0; i < conf->nservices; i++) {
		if (conf->services[i].protocol == PROTO_UDP)
			nudp++;
		else
			ntcp++;
		if (!capture_seen_vip(conf, i, -1))
			nvips++;
	}
	if (ntcp > 0)
		capture_filter_proto(f, conf, PROTO_TCP);
	if (nudp > 0) {
		if (ntcp > 0)
			fputs(" or ", f);
		capture_filter_proto(f, conf, PROTO_UDP);
	}
	fprintf(f, " or (%s", nvips > 1 ? "(" : "");
	nvips = 0;
	for (i = 0; i < conf->nservices; i++) {
		if (capture_seen_vip(conf, i, -1))
			continue;
		fprintf(f, "%sdst host %s", nvips++ > 0 ? " or " : "",
		    util_addr_fmt(&conf->services[i].vip, host, sizeof(host)));
	}
	fprintf(f, "%s and (%s))", nvips > 1 ? ")" : "", CAPTURE_EXTRA);
	if (ferror(f)) {
		fclose(f);
		free(text);
		return (NULL);
	}
	fclose(f);
	return (text);
}

/*
 * The ethertype etype announces what starts at off: skip one VLAN tag,
 * then accept IPv4 or IPv6 with at least one byte of header.
 */
static int
capture_ethertype(uint16_t etype, const uint8_t *f, size_t len, size_t off,
    size_t *ipoff)
{
	if (etype == ETYPE_8021Q || etype == ETYPE_8021AD) {
		if (len < off + VLAN_HLEN)
			return (-1);
		etype = be16_load(f + off + 2);
		off += VLAN_HLEN;
	}
	if (etype != ETYPE_IPV4 && etype != ETYPE_IPV6)
		return (-1);
	if (len <= off)
		return (-1);
	*ipoff = off;
	return (0);
}

int
capture_strip(int dlt, const uint8_t *f, size_t len, size_t *off)
{
	switch (dlt) {
	case DLT_EN10MB:
		if (len < ETH_HLEN_)
			return (-1);
		return (capture_ethertype(be16_load(f + 12), f, len,
		    ETH_HLEN_, off));
	case DLT_LINUX_SLL:
		if (len < SLL_HLEN)
			return (-1);
		return (capture_ethertype(be16_load(f + 14), f, len,
		    SLL_HLEN, off));
	case DLT_LINUX_SLL2:
		if (len < SLL2_HLEN)
			return (-1);
		return (capture_ethertype(be16_load(f), f, len, SLL2_HLEN,
		    off));
	case DLT_RAW:
		if (len < 1 || (f[0] >> 4 != 4 && f[0] >> 4 != 6))
			return (-1);
		*off = 0;
		return (0);
	default:
		return (-1);
	}
}

int
capture_dlt_supported(int dlt)
{
	return (dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL ||
	    dlt == DLT_LINUX_SLL2 || dlt == DLT_RAW);
}

/*
 * The interface's MTU plus link headers. libpcap sizes each slot of its
 * ring by the snapshot length, 64 KiB on an interface with offloads:
 * 8 MiB would then hold only 128 packets. A longer frame (GRO) is cut
 * and dropped: it could not be forwarded anyway.
 */
static int
capture_snaplen(const char *ifname)
{
	struct ifreq	ifr;
	int		s, mtu = -1;

	memset(&ifr, 0, sizeof(ifr));
	util_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1) {
		if (ioctl(s, SIOCGIFMTU, &ifr) == 0)
			mtu = ifr.ifr_mtu;
		close(s);
	}
	if (mtu <= 0 || mtu > CAPTURE_SNAPLEN - CAPTURE_LINKROOM)
		return (CAPTURE_SNAPLEN);
	return (mtu + CAPTURE_LINKROOM);
}

/* Options, activation, direction and non-blocking mode. */
static int
capture_setup(struct capture *c, char **cause)
{
	const char	*err;
	int		 rc;

	if (pcap_set_snaplen(c->p, capture_snaplen(c->ifname)) != 0 ||
	    pcap_set_immediate_mode(c->p, 1) != 0 ||
	    pcap_set_buffer_size(c->p, c->bufsize) != 0 ||
	    pcap_set_promisc(c->p, 0) != 0) {
		*cause = strdup("cannot set capture options");
		return (-1);
	}
	if ((rc = pcap_activate(c->p)) < 0) {
		/* libpcap's text says more than the status when it has one. */
		err = pcap_geterr(c->p);
		return (util_cause(cause, "%s", *err != '\0' ? err :
		    pcap_statustostr(rc)));
	}
	if (rc > 0)
		log_warnx("capture on %s: %s", c->ifname, pcap_statustostr(rc));
	/* ilbd's own DSR output leaves on this interface: never read it. */
	if (pcap_setdirection(c->p, PCAP_D_IN) == -1 ||
	    pcap_setnonblock(c->p, 1, NULL) == -1)
		return (util_cause(cause, "%s", pcap_geterr(c->p)));
	c->dlt = pcap_datalink(c->p);
	if (!capture_dlt_supported(c->dlt))
		return (util_cause(cause, "unsupported link type %s",
		    pcap_datalink_val_to_name(c->dlt) != NULL ?
		    pcap_datalink_val_to_name(c->dlt) : "?"));
	return (0);
}

/* Compile filter and set it, replacing the previous one. */
int
capture_set_filter(struct capture *c, const char *filter, char **cause)
{
	struct bpf_program	prog;

	*cause = NULL;
	if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == -1)
		return (util_cause(cause, "capture on %s: filter \"%s\": %s",
		    c->ifname, filter, pcap_geterr(c->p)));
	if (pcap_setfilter(c->p, &prog) == -1) {
		util_cause(cause, "capture on %s: set filter: %s",
		    c->ifname, pcap_geterr(c->p));
		pcap_freecode(&prog);
		return (-1);
	}
	pcap_freecode(&prog);
	log_debug("capture on %s: filter \"%s\"", c->ifname, filter);
	return (0);
}

/*
 * The burst's ring, then reading. libpcap reuses a frame's memory once
 * its block of the ring is done with, which may come within one
 * dispatch: a burst holds copies. The extra cache line keeps the slots'
 * headers in different cache sets. 0, or -1 with *why.
 */
static int
capture_start(struct capture *c, struct event_base *base, char **why)
{
	int	fd;

	c->slot = ((size_t)pcap_snapshot(c->p) + 63) / 64 * 64 + 64;
	if ((c->ring = malloc(CAPTURE_BURST * c->slot)) == NULL) {
		*why = strdup("out of memory");
		return (-1);
	}
	if ((fd = pcap_get_selectable_fd(c->p)) == -1 ||
	    (c->ev = event_new(base, fd, EV_READ | EV_PERSIST, capture_read,
	    c)) == NULL || event_add(c->ev, NULL) == -1) {
		*why = strdup("cannot add read event");
		return (-1);
	}
	return (0);
}

struct capture *
capture_open_file(struct event_base *base, FILE *f, capture_cb cb, void *arg,
    char **cause)
{
	struct capture	*c;
	char		 errbuf[PCAP_ERRBUF_SIZE], *why = NULL;

	*cause = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		*cause = strdup("capture: out of memory");
		return (NULL);
	}
	util_strlcpy(c->ifname, "file", sizeof(c->ifname));
	c->cb = cb;
	c->arg = arg;
	errbuf[0] = '\0';
	if ((c->p = pcap_fopen_offline(f, errbuf)) == NULL) {
		why = strdup(errbuf);
		goto fail;
	}
	c->dlt = pcap_datalink(c->p);
	if (!capture_dlt_supported(c->dlt)) {
		why = strdup("unsupported link type");
		goto fail;
	}
	if (capture_start(c, base, &why) == -1)
		goto fail;
	return (c);
fail:
	util_cause(cause, "cannot read the capture: %s", why != NULL ? why :
	    "?");
	free(why);
	capture_close(c);
	return (NULL);
}

/*
 * PACKET_FANOUT_HASH: the kernel hands each packet to one socket of the
 * group, chosen by its flow hash, so one flow's packets stay in order on
 * one socket. *group 0: a new group with an id of the kernel's choosing
 * (PACKET_FANOUT_FLAG_UNIQUEID, so no other process's group is joined by
 * chance), set in *group; else join *group. 0, or -1 with *why.
 */
static int
capture_join(struct capture *c, unsigned int *group, char **why)
{
	socklen_t	len = sizeof(int);
	int		fd = pcap_fileno(c->p), v;

	v = (int)(*group & 0xffff) | PACKET_FANOUT_HASH << 16;
	if (*group == 0)
		v |= PACKET_FANOUT_FLAG_UNIQUEID << 16;
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &v, sizeof(v)) == -1)
		return (util_cause(why, "fanout group: %s", strerror(errno)));
	/* the group the kernel put the socket in, and its mode */
	if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &v, &len) == -1)
		return (util_cause(why, "fanout group: %s", strerror(errno)));
	if (*group == 0)
		*group = (unsigned int)v & 0xffff;
	if (((unsigned int)v & 0xffff) != *group ||
	    ((unsigned int)v >> 16 & 0xff) != PACKET_FANOUT_HASH)
		return (util_cause(why, "fanout group: in %u (mode %u), not "
		    "%u", (unsigned int)v & 0xffff,
		    (unsigned int)v >> 16 & 0xff, *group));
	return (0);
}

static struct capture *
capture_open_group(struct event_base *base, const char *ifname,
    const char *filter, capture_cb cb, void *arg, unsigned int *group,
    int bufsize, char **cause)
{
	struct capture	*c;
	char		 errbuf[PCAP_ERRBUF_SIZE], *why = NULL;

	*cause = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		*cause = strdup("capture: out of memory");
		return (NULL);
	}
	util_strlcpy(c->ifname, ifname, sizeof(c->ifname));
	c->cb = cb;
	c->arg = arg;
	c->bufsize = bufsize;
	errbuf[0] = '\0';
	if ((c->p = pcap_create(ifname, errbuf)) == NULL) {
		why = strdup(errbuf);
		goto fail;
	}
	if (capture_setup(c, &why) == -1)
		goto fail;
	if (group != NULL && capture_join(c, group, &why) == -1)
		goto fail;
	if (capture_set_filter(c, filter, cause) == -1)
		goto fail;
	if (capture_start(c, base, &why) == -1)
		goto fail;
	log_info("capture on %s (%s): %s", c->ifname,
	    pcap_datalink_val_to_name(c->dlt), filter);
	return (c);
fail:
	if (*cause == NULL)
		util_cause(cause, "cannot capture on %s: %s", ifname,
		    why != NULL ? why : "?");
	free(why);
	capture_close(c);
	return (NULL);
}

struct capture *
capture_open(struct event_base *base, const char *ifname, const char *filter,
    capture_cb cb, void *arg, char **cause)
{
	return (capture_open_group(base, ifname, filter, cb, arg, NULL,
	    CAPTURE_BUFSIZE, cause));
}

struct capture *
capture_open_fanout(struct event_base *base, const char *ifname,
    const char *filter, capture_cb cb, void *arg, unsigned int *group,
    unsigned int n, char **cause)
{
	int	bufsize = CAPTURE_BUFSIZE / (int)(n > 0 ? n : 1);

	/* the group's sockets share the load: each holds a share of it */
	if (bufsize < CAPTURE_BUFSIZE_MIN)
		bufsize = CAPTURE_BUFSIZE_MIN;
	return (capture_open_group(base, ifname, filter, cb, arg, group,
	    bufsize, cause));
}

/* Hand the burst on. */
static void
capture_burst(struct capture *c)
{
	if (c->n == 0)
		return;
	c->stats.bursts++;
	c->cb(c->arg, c->pkts, c->lens, c->n);
	c->n = 0;
}

/* Copy a datagram into the burst; a full burst is handed on. */
static void
capture_add(struct capture *c, const uint8_t *pkt, size_t len)
{
	uint8_t	*slot = c->ring + c->n * c->slot;

	if (len > c->slot) {	/* never: caplen is at most the snapshot */
		c->stats.truncated++;
		return;
	}
	memcpy(slot, pkt, len);
	c->pkts[c->n] = slot;
	c->lens[c->n++] = len;
	if (c->n == CAPTURE_BURST)
		capture_burst(c);
}

/* One frame: strip the link header, hand the datagram on. */
static void
capture_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *frame)
{
	struct capture	*c = (struct capture *)arg;
	size_t		 off;

	if (h->caplen < h->len) {
		c->stats.truncated++;
		log_trace("capture on %s: %u-byte frame cut to %u", c->ifname,
		    h->len, h->caplen);
		return;
	}
	if (capture_strip(c->dlt, frame, h->caplen, &off) == -1) {
		c->stats.nonip++;
		log_trace("capture on %s: %u-byte frame is not IP", c->ifname,
		    h->caplen);
		return;
	}
	c->stats.packets++;
	c->stats.bytes += h->caplen - off;
	capture_add(c, frame + off, h->caplen - off);
}

/* Dispatch up to CAPTURE_BUDGET frames, then give the loop back. */
static void
capture_read(evutil_socket_t fd, short what, void *arg)
{
	struct capture	*c = arg;
	int		 n;

	(void)fd;
	(void)what;
	n = pcap_dispatch(c->p, CAPTURE_BUDGET, capture_packet, (u_char *)c);
	capture_burst(c);
	if (n == PCAP_ERROR) {
		c->stats.errors++;
		log_debug("capture on %s: %s", c->ifname, pcap_geterr(c->p));
	} else if (n >= CAPTURE_BUDGET)
		c->stats.budget_hits++;
}

void
capture_close(struct capture *c)
{
	if (c == NULL)
		return;
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->p != NULL)
		pcap_close(c->p);
	free(c->ring);
	free(c);
}

void
capture_stats_add(struct capture_stats *sum, struct capture *c)
{
	const uint64_t	*from = (const uint64_t *)capture_stats(c);
	uint64_t	*to = (uint64_t *)sum;
	size_t		 i;

	for (i = 0; i < sizeof(*sum) / sizeof(uint64_t); i++)
		to[i] += __atomic_load_n(&from[i], __ATOMIC_RELAXED);
}

/* pcap's drop counters are 32 bits: add the difference since last time. */
const struct counter_desc capture_counters[] = {
	{ .name = "packets", .help = "packets captured",
	    .off = offsetof(struct capture_stats, packets), .sub = "input" },
	{ .name = "drops", .help = "packets the capture buffer had no room "
	    "for", .off = offsetof(struct capture_stats, drops) },
	COUNTER_END
};

const struct capture_stats *
capture_stats(struct capture *c)
{
	struct pcap_stat	ps;

	if (c->p != NULL && pcap_stats(c->p, &ps) == 0) {
		c->stats.drops += (u_int)(ps.ps_drop - c->last.ps_drop);
		c->stats.ifdrops += (u_int)(ps.ps_ifdrop - c->last.ps_ifdrop);
		c->last = ps;
	}
	return (&c->stats);
}
