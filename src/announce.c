/* announce.c: readiness routes in the kernel, for a routing daemon. */
#include <sys/ioctl.h>

#include <linux/if_tun.h>
#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "announce.h"
#include "log.h"
#include "rtnl.h"

#define ANNOUNCE_HAVE_MAX	(2 * CONF_SERVICES_MAX)

struct announce {
	struct event_base	*base;
	struct rtnl		 rtnl;
	uint32_t		 table;		/* announce.table */
	uint32_t		 drain_ms;	/* announce.drain_ms */
	const struct ilbd_conf	*conf;		/* the VIPs */
	unsigned int		 ifindex;	/* the routes' device */
	int			 anchor_fd;	/* pcap input: our TUN, or -1 */
	enum announce_phase	 phase;
	int			 dirty;		/* a change failed: retry */
	/* in the kernel: old and new ones while a metric or VIP changes */
	struct announce_route	 have[ANNOUNCE_HAVE_MAX];
	unsigned int		 nhave;
	struct event		*ev_drain;
	void			(*drained)(void *);
	void			*drained_arg;
};

static int	 announce_has(const struct announce_route *, unsigned int,
		    const struct announce_route *);
static int	 announce_anchor(struct announce *, const char *, char **);
static int	 announce_sync(struct announce *);
static void	 announce_on_drain(evutil_socket_t, short, void *);

/* Is r (destination and metric) among the n routes of v? */
static int
announce_has(const struct announce_route *v, unsigned int n,
    const struct announce_route *r)
{
	unsigned int	i;

	for (i = 0; i < n; i++)
		if (v[i].metric == r->metric && util_addr_eq(&v[i].dst, &r->dst))
			return (1);
	return (0);
}

unsigned int
announce_desired(const struct ilbd_conf *conf, enum announce_phase phase,
    struct announce_route *out, unsigned int max)
{
	struct announce_route	r;
	unsigned int		i, n = 0;

	if (conf->announce.table == 0 || phase == ANNOUNCE_JOINING)
		return (0);
	r.metric = phase == ANNOUNCE_ACTIVE ? ANNOUNCE_METRIC_ACTIVE :
	    ANNOUNCE_METRIC_LEAVING;
	for (i = 0; i < conf->nservices && n < max; i++) {
		r.dst = conf->services[i].vip;
		if (!announce_has(out, n, &r))
			out[n++] = r;
	}
	return (n);
}

/*
 * Pcap input has no device of ours: make a TUN device that no route of
 * the main table uses, only so that the routes die with the process.
 */
static int
announce_anchor(struct announce *a, const char *name, char **cause)
{
	struct ifreq	ifr;

	if ((a->anchor_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) == -1)
		return (util_cause(cause, "/dev/net/tun: %s", strerror(errno)));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	util_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	if (ioctl(a->anchor_fd, TUNSETIFF, &ifr) == -1)
		return (util_cause(cause, "cannot create tun device %s for "
		    "announce: %s", name, strerror(errno)));
	if ((a->ifindex = if_nametoindex(ifr.ifr_name)) == 0)
		return (util_cause(cause, "tun device %s: %s", ifr.ifr_name,
		    strerror(errno)));
	if (rtnl_link_no_addrgen(&a->rtnl, a->ifindex, cause) == -1 ||
	    rtnl_link_up(&a->rtnl, a->ifindex, cause) == -1)
		return (-1);
	return (0);
}

struct announce *
announce_open(struct event_base *base, const struct ilbd_conf *conf,
    unsigned int ifindex, char **cause)
{
	struct announce	*a;

	*cause = NULL;
	if (conf->announce.table == 0)
		return (NULL);
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		*cause = strdup("out of memory");
		return (NULL);
	}
	a->base = base;
	a->conf = conf;
	a->table = conf->announce.table;
	a->drain_ms = conf->announce.drain_ms;
	a->ifindex = ifindex;
	a->anchor_fd = -1;
	a->rtnl.fd = -1;
	if (rtnl_open(&a->rtnl, cause) == -1 ||
	    (ifindex == 0 && announce_anchor(a, conf->input.device,
	    cause) == -1) ||
	    (a->ev_drain = evtimer_new(base, announce_on_drain, a)) == NULL) {
		if (*cause == NULL)
			*cause = strdup("cannot create the drain timer");
		announce_close(a);
		return (NULL);
	}
	log_info("announce: VIP routes in table %u once active (metric %d), "
	    "leaving metric %d, drain %u ms", a->table, ANNOUNCE_METRIC_ACTIVE,
	    ANNOUNCE_METRIC_LEAVING, a->drain_ms);
	return (a);
}

void
announce_close(struct announce *a)
{
	char	*cause = NULL;

	if (a == NULL)
		return;
	while (a->nhave > 0 && a->rtnl.fd != -1) {
		a->nhave--;
		if (rtnl_table_route_del(&a->rtnl, &a->have[a->nhave].dst,
		    a->ifindex, a->table, a->have[a->nhave].metric,
		    &cause) == -1 && errno != ESRCH && errno != ENODEV)
			log_warnx("announce: cannot delete a route: %s", cause);
		free(cause);
		cause = NULL;
	}
	if (a->ev_drain != NULL)
		event_free(a->ev_drain);
	rtnl_close(&a->rtnl);
	if (a->anchor_fd != -1)
		close(a->anchor_fd);
	free(a);
}

/*
 * Make the kernel hold the desired routes: add the missing ones first,
 * then delete the others, so that a metric change never leaves a VIP
 * without a route (the routing daemon takes the lowest metric meanwhile).
 * Returns -1 if a change failed (logged once until one succeeds again).
 */
static int
announce_sync(struct announce *a)
{
	struct announce_route	 want[CONF_SERVICES_MAX];
	char			 host[ILB_ADDRSTRLEN], *cause = NULL;
	unsigned int		 nwant, i;
	int			 rc = 0;

	nwant = announce_desired(a->conf, a->phase, want, CONF_SERVICES_MAX);
	for (i = 0; i < nwant; i++) {
		if (announce_has(a->have, a->nhave, &want[i]))
			continue;
		if (a->nhave == ANNOUNCE_HAVE_MAX) {
			rc = -1;	/* after the deletions below */
			continue;
		}
		if (rtnl_table_route_add(&a->rtnl, &want[i].dst, a->ifindex,
		    a->table, want[i].metric, &cause) == 0) {
			a->have[a->nhave++] = want[i];
			continue;
		}
		if (!a->dirty)
			log_warnx("announce: cannot add %s metric %u to table "
			    "%u: %s", util_addr_fmt(&want[i].dst, host,
			    sizeof(host)), want[i].metric, a->table, cause);
		free(cause);
		cause = NULL;
		rc = -1;
	}
	for (i = 0; i < a->nhave; ) {
		if (announce_has(want, nwant, &a->have[i])) {
			i++;
			continue;
		}
		if (rtnl_table_route_del(&a->rtnl, &a->have[i].dst, a->ifindex,
		    a->table, a->have[i].metric, &cause) == -1 &&
		    errno != ESRCH) {
			if (!a->dirty)
				log_warnx("announce: cannot delete %s from "
				    "table %u: %s", util_addr_fmt(&a->have[i].dst,
				    host, sizeof(host)), a->table, cause);
			free(cause);
			cause = NULL;
			rc = -1;
			i++;
			continue;
		}
		free(cause);
		cause = NULL;
		a->have[i] = a->have[--a->nhave];
	}
	a->dirty = rc == -1;
	return (rc);
}

void
announce_set_active(struct announce *a, int active)
{
	if (a == NULL)
		return;
	if (a->phase == ANNOUNCE_JOINING && active) {
		a->phase = ANNOUNCE_ACTIVE;
		if (announce_sync(a) == 0)
			log_info("announce: active: %u VIP route%s in table %u",
			    a->nhave, a->nhave == 1 ? "" : "s", a->table);
		return;
	}
	if (a->dirty)
		(void)announce_sync(a);
}

void
announce_reload(struct announce *a, const struct ilbd_conf *conf)
{
	char	*cause = NULL;

	if (a == NULL)
		return;
	if (conf->announce.table != a->table && conf->announce.table != 0) {
		/* a new table: leave the old one empty */
		while (a->nhave > 0) {
			a->nhave--;
			(void)rtnl_table_route_del(&a->rtnl,
			    &a->have[a->nhave].dst, a->ifindex, a->table,
			    a->have[a->nhave].metric, &cause);
			free(cause);
			cause = NULL;
		}
		a->table = conf->announce.table;
	}
	a->conf = conf;
	a->drain_ms = conf->announce.drain_ms;
	(void)announce_sync(a);
}

static void
announce_on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct announce	*a = arg;

	(void)fd;
	(void)what;
	log_info("announce: drained %u ms: handing over", a->drain_ms);
	a->drained(a->drained_arg);
}

void
announce_leave(struct announce *a, void (*done)(void *), void *arg)
{
	struct timeval	tv;
	int		was_active;

	if (a == NULL) {
		done(arg);
		return;
	}
	was_active = a->phase == ANNOUNCE_ACTIVE;
	a->phase = ANNOUNCE_LEAVING;
	(void)announce_sync(a);
	if (!was_active || a->drain_ms == 0) {
		done(arg);
		return;
	}
	log_info("announce: VIP routes marked leaving (metric %d); serving "
	    "%u ms more", ANNOUNCE_METRIC_LEAVING, a->drain_ms);
	a->drained = done;
	a->drained_arg = arg;
	tv.tv_sec = a->drain_ms / 1000;
	tv.tv_usec = (a->drain_ms % 1000) * 1000;
	if (evtimer_add(a->ev_drain, &tv) == -1) {
		log_warnx("announce: cannot start the drain timer");
		done(arg);
	}
}

enum announce_phase
announce_phase(const struct announce *a)
{
	return (a == NULL ? ANNOUNCE_JOINING : a->phase);
}
