/* tun.c: packet input from a TUN device that every VIP is routed into. */

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/if_tun.h>
#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "rtnl.h"
#include "tun.h"
#include "util.h"

#define TUN_PROC_V4	"/proc/sys/net/ipv4/ip_forward"
#define TUN_PROC_V4IF	"/proc/sys/net/ipv4/conf/%s/forwarding"
#define TUN_PROC_V6	"/proc/sys/net/ipv6/conf/all/forwarding"
/*
 * A slot of the ring holds one packet. The extra cache line staggers the
 * slots' headers across cache sets: at 64 KiB apart they would all fall
 * in one.
 */
#define TUN_SLOT	(TUN_BUFSIZE + 64)

struct tun {
	int			 fd;
	char			 name[IF_NAMESIZE];
	unsigned int		 ifindex;
	struct event		*ev;
	struct rtnl		 rtnl;
	tun_cb			 cb;
	void			*arg;
	uint8_t			*ring;		/* TUN_BURST slots */
	const uint8_t		*pkts[TUN_BURST];	/* the burst read */
	size_t			 lens[TUN_BURST];
	struct ilb_addr		*routes;	/* VIPs routed into the device */
	unsigned int		 nroutes;	/* up to CONF_SERVICES_MAX */
	unsigned int		 mtu;		/* set by tun_set_mtu(), or 0 */
	struct tun_stats	 stats;
};

static int	 tun_create(struct tun *, const char *, short, char **);
static struct tun *tun_open_flags(struct event_base *, const char *, short,
		    tun_cb, void *, char **);
static int	 tun_link_setup(struct tun *, char **);
static void	 tun_read(evutil_socket_t, short, void *);
static ssize_t	 tun_read_one(struct tun *, evutil_socket_t, uint8_t *);
static int	 tun_has_route(const struct tun *, const struct ilb_addr *);
static int	 tun_conf_has_vip(const struct ilbd_conf *,
		    const struct ilb_addr *);
static int	 tun_route_add(struct tun *, const struct ilb_addr *, char **);
static void	 tun_route_del(struct tun *, unsigned int);
static int	 tun_conf_has_family(const struct ilbd_conf *, int);
static int	 tun_sysctl(const char *, int *);

/*
 * Open /dev/net/tun and attach it to a new (or leftover) device, or, with
 * IFF_MULTI_QUEUE in extra, to another queue of the multi-queue device.
 */
static int
tun_create(struct tun *t, const char *ifname, short extra, char **cause)
{
	struct ifreq	ifr;

	if ((t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) ==
	    -1)
		return (util_cause(cause, "/dev/net/tun: %s", strerror(errno)));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | extra;
	util_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
	if (ioctl(t->fd, TUNSETIFF, &ifr) == -1)
		return (util_cause(cause, "cannot create tun device %s: %s%s",
		    ifname, strerror(errno),
		    errno == EBUSY ? " (is it in use?)" :
		    errno == EINVAL ? " (does a device of another type have "
		    "that name?)" : ""));
	util_strlcpy(t->name, ifr.ifr_name, sizeof(t->name));
	if ((t->ifindex = if_nametoindex(t->name)) == 0)
		return (util_cause(cause, "tun device %s: %s", t->name,
		    strerror(errno)));
	return (0);
}

/* Bring the device up, with no IPv6 link-local address. */
static int
tun_link_setup(struct tun *t, char **cause)
{
	char	*why = NULL;

	if (rtnl_open(&t->rtnl, &why) == 0) {
		/*
		 * Only routed VIP traffic should be read: no RS (tun_read
		 * ignores the MLD reports that IPv6 forwarding brings).
		 */
		if (rtnl_link_no_addrgen(&t->rtnl, t->ifindex, &why) == -1) {
			log_debug("tun %s: IPv6 address generation left on: "
			    "%s", t->name, why != NULL ? why : "?");
			free(why);
			why = NULL;
		}
		if (rtnl_link_up(&t->rtnl, t->ifindex, &why) == 0)
			return (0);
	}
	util_cause(cause, "cannot bring %s up: %s", t->name,
	    why != NULL ? why : "?");
	free(why);
	return (-1);
}

/* The state without a device; its ring is allocated once, here. */
static struct tun *
tun_new(tun_cb cb, void *arg, char **cause)
{
	struct tun	*t;

	*cause = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->ring = malloc((size_t)TUN_BURST * TUN_SLOT)) == NULL ||
	    (t->routes = calloc(CONF_SERVICES_MAX, sizeof(*t->routes))) ==
	    NULL) {
		if (t != NULL)
			free(t->ring);
		free(t);
		*cause = strdup("tun: out of memory");
		return (NULL);
	}
	t->fd = -1;
	t->rtnl.fd = -1;
	t->cb = cb;
	t->arg = arg;
	return (t);
}

static int
tun_watch(struct tun *t, struct event_base *base, char **cause)
{
	if ((t->ev = event_new(base, t->fd, EV_READ | EV_PERSIST, tun_read,
	    t)) == NULL || event_add(t->ev, NULL) == -1) {
		*cause = strdup("tun: cannot add read event");
		return (-1);
	}
	return (0);
}

struct tun *
tun_open(struct event_base *base, const char *ifname, tun_cb cb, void *arg,
    char **cause)
{
	return (tun_open_flags(base, ifname, 0, cb, arg, cause));
}

struct tun *
tun_open_mq(struct event_base *base, const char *ifname, tun_cb cb,
    void *arg, char **cause)
{
	return (tun_open_flags(base, ifname, IFF_MULTI_QUEUE, cb, arg, cause));
}

struct tun *
tun_open_queue(struct event_base *base, const struct tun *dev, tun_cb cb,
    void *arg, char **cause)
{
	struct tun	*t;

	if ((t = tun_new(cb, arg, cause)) == NULL)
		return (NULL);
	if (tun_create(t, dev->name, IFF_MULTI_QUEUE, cause) == -1 ||
	    tun_watch(t, base, cause) == -1) {
		tun_close(t);
		return (NULL);
	}
	return (t);
}

static struct tun *
tun_open_flags(struct event_base *base, const char *ifname, short extra,
    tun_cb cb, void *arg, char **cause)
{
	struct tun	*t;

	if ((t = tun_new(cb, arg, cause)) == NULL)
		return (NULL);
	if (tun_create(t, ifname, extra, cause) == -1)
		goto fail;
	if (tun_link_setup(t, cause) == -1)
		goto fail;
	if (tun_watch(t, base, cause) == -1)
		goto fail;
	log_info("tun device %s (index %u) up", t->name, t->ifindex);
	return (t);
fail:
	tun_close(t);
	return (NULL);
}

struct tun *
tun_open_fd(struct event_base *base, int fd, tun_cb cb, void *arg,
    char **cause)
{
	struct tun	*t;

	if ((t = tun_new(cb, arg, cause)) == NULL)
		return (NULL);
	t->fd = fd;
	util_strlcpy(t->name, "fd", sizeof(t->name));
	if (tun_watch(t, base, cause) == -1) {
		tun_close(t);
		return (NULL);
	}
	return (t);
}

/*
 * A handoff adds GRE to the packet, so one that filled the interface's
 * MTU could not be handed off. The data path gives the device the
 * interface's MTU less that overhead (gre_inner_mtu()): the kernel,
 * routing a larger packet into the device, answers the client with ICMP
 * "fragmentation needed" or ICMPv6 "packet too big" as a router on a
 * tunnel does (or fragments it, DF clear), and path MTU discovery keeps
 * handed-off packets whole. A failure leaves the device's MTU as it was
 * and is logged.
 */
int
tun_set_mtu(struct tun *t, unsigned int mtu)
{
	struct ifreq	ifr;
	int		s;

	if (mtu == t->mtu)
		return (0);
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	memset(&ifr, 0, sizeof(ifr));
	util_strlcpy(ifr.ifr_name, t->name, sizeof(ifr.ifr_name));
	ifr.ifr_mtu = (int)mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) == -1) {
		close(s);
		goto fail;
	}
	close(s);
	t->mtu = mtu;
	return (1);
fail:
	log_warn("tun device %s: mtu %u not set, handoffs of full-size "
	    "packets will be dropped (too_big)", t->name, mtu);
	return (-1);
}

int
tun_is_multicast(const uint8_t *pkt, size_t len)
{
	if (len >= 20 && (pkt[0] >> 4) == 4)
		return ((pkt[16] & 0xf0) == 0xe0);	/* 224.0.0.0/4 */
	if (len >= 40 && (pkt[0] >> 4) == 6)
		return (pkt[24] == 0xff);		/* ff00::/8 */
	return (0);
}

/* Read up to TUN_BUDGET packets, then give the loop back. */
/*
 * Read one datagram into slot: its length, 0 for one not handed on
 * (empty, multicast), -1 when there is nothing more to read now (or
 * reading stopped on an error).
 */
static ssize_t
tun_read_one(struct tun *t, evutil_socket_t fd, uint8_t *slot)
{
	ssize_t	n;

	if ((n = read(fd, slot, TUN_BUFSIZE)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return (-1);
		t->stats.read_errors++;
		if (errno == EBADFD || errno == EIO) {
			log_warn("tun %s: read; stop reading", t->name);
			event_del(t->ev);
		} else
			log_debug("tun %s: read: %s", t->name,
			    strerror(errno));
		return (-1);
	}
	if (n == 0) {
		t->stats.empty++;
		return (0);
	}
	if (tun_is_multicast(slot, (size_t)n)) {
		/* e.g. MLD: the kernel's, not the clients' */
		t->stats.multicast++;
		return (0);
	}
	t->stats.packets++;
	t->stats.bytes += (uint64_t)n;
	return (n);
}

/*
 * Read up to TUN_BUDGET datagrams (then the loop serves the others), and
 * hand them on in bursts of up to TUN_BURST, each slot of the ring
 * holding one: no copy, no allocation.
 */
static void
tun_read(evutil_socket_t fd, short what, void *arg)
{
	struct tun	*t = arg;
	ssize_t		 n;
	size_t		 k = 0;
	int		 i, more = 1;

	(void)what;
	for (i = 0; i < TUN_BUDGET && more; i++) {
		if ((n = tun_read_one(t, fd, t->ring + k * TUN_SLOT)) == -1)
			more = 0;
		else if (n > 0) {
			t->pkts[k] = t->ring + k * TUN_SLOT;
			t->lens[k++] = (size_t)n;
		}
		/* a full burst, or the last of the budget or of the queue */
		if (k == TUN_BURST || (k > 0 && (!more ||
		    i + 1 == TUN_BUDGET))) {
			t->stats.bursts++;
			t->cb(t->arg, t->pkts, t->lens, k);
			k = 0;
		}
	}
	if (more)
		t->stats.budget_hits++;
}

static int
tun_has_route(const struct tun *t, const struct ilb_addr *a)
{
	unsigned int	i;

	for (i = 0; i < t->nroutes; i++)
		if (util_addr_eq(&t->routes[i], a))
			return (1);
	return (0);
}

static int
tun_conf_has_vip(const struct ilbd_conf *conf, const struct ilb_addr *a)
{
	unsigned int	i;

	for (i = 0; i < conf->nservices; i++)
		if (util_addr_eq(&conf->services[i].vip, a))
			return (1);
	return (0);
}

static int
tun_route_add(struct tun *t, const struct ilb_addr *vip, char **cause)
{
	char	 host[ILB_ADDRSTRLEN], *why = NULL;

	util_addr_fmt(vip, host, sizeof(host));
	if (t->nroutes == CONF_SERVICES_MAX)
		return (util_cause(cause, "cannot route %s to %s: more than "
		    "%d VIPs", host, t->name, CONF_SERVICES_MAX));
	if (rtnl_route_add(&t->rtnl, vip, t->ifindex, &why) == -1) {
		util_cause(cause, "cannot route %s/%d to %s: %s", host,
		    vip->family == AF_INET ? 32 : 128, t->name,
		    why != NULL ? why : "?");
		free(why);
		return (-1);
	}
	t->routes[t->nroutes++] = *vip;
	t->stats.routes = t->nroutes;
	log_debug("tun %s: route %s/%d", t->name, host,
	    vip->family == AF_INET ? 32 : 128);
	return (0);
}

/* Remove route i; a route already gone (ESRCH) is not an error. */
static void
tun_route_del(struct tun *t, unsigned int i)
{
	char	 host[ILB_ADDRSTRLEN], *why = NULL;

	util_addr_fmt(&t->routes[i], host, sizeof(host));
	if (rtnl_route_del(&t->rtnl, &t->routes[i], t->ifindex, &why) == -1 &&
	    errno != ESRCH)
		log_warnx("tun %s: cannot remove route %s: %s", t->name, host,
		    why != NULL ? why : "?");
	else
		log_debug("tun %s: route %s removed", t->name, host);
	free(why);
	t->routes[i] = t->routes[--t->nroutes];
	t->stats.routes = t->nroutes;
}

int
tun_route_vips(struct tun *t, const struct ilbd_conf *conf, char **cause)
{
	const struct ilb_addr	*vip;
	unsigned int		 i;

	*cause = NULL;
	for (i = 0; i < t->nroutes; ) {
		if (!tun_conf_has_vip(conf, &t->routes[i]))
			tun_route_del(t, i);
		else
			i++;
	}
	for (i = 0; i < conf->nservices; i++) {
		vip = &conf->services[i].vip;
		if (!tun_has_route(t, vip) && tun_route_add(t, vip, cause) == -1)
			return (-1);
	}
	return (0);
}

/* Read an integer sysctl from /proc: 0, or -1 if it cannot be read. */
static int
tun_sysctl(const char *path, int *val)
{
	FILE	*f;
	int	 ok;

	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	ok = fscanf(f, "%d", val) == 1;
	fclose(f);
	return (ok ? 0 : -1);
}

static int
tun_conf_has_family(const struct ilbd_conf *conf, int family)
{
	unsigned int	i;

	for (i = 0; i < conf->nservices; i++)
		if (conf->services[i].vip.family == family)
			return (1);
	return (0);
}

#define TUN_FWD_HINT	"tun mode needs it; enable it or use input.mode = \"pcap\""

int
tun_check_forwarding(const struct ilbd_conf *conf, char **cause)
{
	char	path[128];
	int	v;

	*cause = NULL;
	if (tun_conf_has_family(conf, AF_INET)) {
		if (tun_sysctl(TUN_PROC_V4, &v) == 0 && v == 0) {
			*cause = strdup("IPv4 forwarding is disabled (sysctl "
			    "net.ipv4.ip_forward=0): " TUN_FWD_HINT);
			return (-1);
		}
		snprintf(path, sizeof(path), TUN_PROC_V4IF,
		    conf->node.interface);
		if (tun_sysctl(path, &v) == 0 && v == 0)
			return (util_cause(cause, "IPv4 forwarding is disabled "
			    "on %s (sysctl net.ipv4.conf.%s.forwarding=0): "
			    TUN_FWD_HINT, conf->node.interface,
			    conf->node.interface));
	}
	if (tun_conf_has_family(conf, AF_INET6)) {
		if (tun_sysctl(TUN_PROC_V6, &v) == -1) {
			*cause = strdup("IPv6 is disabled in the kernel (no "
			    TUN_PROC_V6 "): tun mode cannot route IPv6 VIPs; "
			    "use input.mode = \"pcap\"");
			return (-1);
		}
		if (v == 0) {
			*cause = strdup("IPv6 forwarding is disabled (sysctl "
			    "net.ipv6.conf.all.forwarding=0): " TUN_FWD_HINT);
			return (-1);
		}
	}
	return (0);
}

void
tun_close(struct tun *t)
{
	if (t == NULL)
		return;
	if (t->rtnl.fd != -1)
		while (t->nroutes > 0)
			tun_route_del(t, t->nroutes - 1);
	rtnl_close(&t->rtnl);
	if (t->ev != NULL)
		event_free(t->ev);
	if (t->fd != -1)
		close(t->fd);
	free(t->routes);
	free(t->ring);
	free(t);
}

const struct counter_desc tun_counters[] = {
	{ .name = "packets", .help = "packets read from the TUN device",
	    .off = offsetof(struct tun_stats, packets) },
	{ .name = "multicast", .help = "packets to a multicast group read "
	    "from the TUN device (the kernel's MLD), ignored",
	    .off = offsetof(struct tun_stats, multicast) },
	COUNTER_END
};

const struct tun_stats *
tun_stats(const struct tun *t)
{
	return (&t->stats);
}

void
tun_stats_add(struct tun_stats *sum, const struct tun *t)
{
	const uint64_t	*from = (const uint64_t *)&t->stats;
	uint64_t	*to = (uint64_t *)sum;
	size_t		 i;

	for (i = 0; i < sizeof(*sum) / sizeof(uint64_t); i++)
		to[i] += __atomic_load_n(&from[i], __ATOMIC_RELAXED);
}

const char *
tun_name(const struct tun *t)
{
	return (t->name);
}

unsigned int
tun_ifindex(const struct tun *t)
{
	return (t->ifindex);
}
