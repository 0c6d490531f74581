/* rtnl.c: a small synchronous rtnetlink client: link up, host routes. */

#include <sys/socket.h>
#include <sys/time.h>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtnl.h"
#include "util.h"

#define RTNL_TIMEOUT_S	2	/* longest wait for an ack */
#define RTNL_ATTRS	64	/* room for request attributes */
#define RTNL_REPLY	8192

/* A request: header, family header, attributes. */
struct rtnl_req {
	struct nlmsghdr		n;
	union {
		struct rtmsg		rt;
		struct ifinfomsg	ifi;
	} u;
	uint8_t			attrs[RTNL_ATTRS];
};

static int	 rtnl_fail(char **, int, const char *);
static void	 rtnl_addattr(struct rtnl_req *, uint16_t, const void *,
		    size_t);
static struct rtattr *rtnl_nest(struct rtnl_req *, uint16_t);
static void	 rtnl_nest_end(struct rtnl_req *, struct rtattr *);
static const char *rtnl_extack(const struct nlmsghdr *);
static int	 rtnl_ack(struct rtnl *, char **);
static int	 rtnl_talk(struct rtnl *, struct rtnl_req *, char **);
static int	 rtnl_route(struct rtnl *, uint16_t, uint16_t,
		    const struct ilb_addr *, unsigned int, uint32_t, uint32_t,
		    char **);

/* Set errno to err and *cause to its text, with the kernel's message. */
static int
rtnl_fail(char **cause, int err, const char *msg)
{
	if (msg != NULL && *msg != '\0')
		util_cause(cause, "%s: %s", strerror(err), msg);
	else
		util_cause(cause, "%s", strerror(err));
	errno = err;
	return (-1);
}

int
rtnl_open(struct rtnl *r, char **cause)
{
	struct sockaddr_nl	sa;
	struct timeval		tv = { RTNL_TIMEOUT_S, 0 };
	int			one = 1;

	r->seq = 0;
	r->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (r->fd == -1)
		return (rtnl_fail(cause, errno, "netlink socket"));
	/* Best effort: short acks with the kernel's error text. */
	(void)setsockopt(r->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
	    sizeof(one));
	(void)setsockopt(r->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
	    sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		int	saved = errno;

		close(r->fd);
		r->fd = -1;
		return (rtnl_fail(cause, saved, "netlink socket"));
	}
	return (0);
}

void
rtnl_close(struct rtnl *r)
{
	if (r->fd != -1)
		close(r->fd);
	r->fd = -1;
}

static void
rtnl_addattr(struct rtnl_req *req, uint16_t type, const void *data,
    size_t len)
{
	struct rtattr	*rta;

	rta = (struct rtattr *)((uint8_t *)req + NLMSG_ALIGN(req->n.nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len > 0)
		memcpy(RTA_DATA(rta), data, len);
	req->n.nlmsg_len = NLMSG_ALIGN(req->n.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Open a nested attribute; rtnl_nest_end() sets its length. */
static struct rtattr *
rtnl_nest(struct rtnl_req *req, uint16_t type)
{
	struct rtattr	*nest;

	nest = (struct rtattr *)((uint8_t *)req + NLMSG_ALIGN(req->n.nlmsg_len));
	rtnl_addattr(req, type, NULL, 0);
	return (nest);
}

static void
rtnl_nest_end(struct rtnl_req *req, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((uint8_t *)req +
	    NLMSG_ALIGN(req->n.nlmsg_len) - (uint8_t *)nest);
}

/*
 * The kernel's NLMSG_ and RTA_ macros cast their argument to char * and
 * compare a u32 length with an int: clang warns inside them (gcc does not:
 * a system header's). Nothing below writes through those casts, and the
 * int is known positive where it is compared.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wsign-compare"

/* The NLMSGERR_ATTR_MSG string of an error message, or NULL. */
static const char *
rtnl_extack(const struct nlmsghdr *n)
{
	const struct nlmsgerr	*e = NLMSG_DATA(n);
	const struct rtattr	*rta;
	size_t			 off;
	int			 len;

	if (!(n->nlmsg_flags & NLM_F_ACK_TLVS))
		return (NULL);
	off = sizeof(*e);
	if (!(n->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if (NLMSG_LENGTH(off) > n->nlmsg_len)
		return (NULL);
	rta = (const struct rtattr *)((const uint8_t *)e + NLMSG_ALIGN(off));
	len = (int)(n->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(off)));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == NLMSGERR_ATTR_MSG &&
		    RTA_PAYLOAD(rta) > 0 &&
		    ((const char *)RTA_DATA(rta))[RTA_PAYLOAD(rta) - 1] == '\0')
			return (RTA_DATA(rta));
	}
	return (NULL);
}

/* Wait for the ack of request r->seq; skip anything else. */
static int
rtnl_ack(struct rtnl *r, char **cause)
{
	uint8_t			 buf[RTNL_REPLY] __attribute__((aligned(4)));
	const struct nlmsghdr	*n;
	const struct nlmsgerr	*e;
	ssize_t			 got;
	int			 len;

	for (;;) {
		got = recv(r->fd, buf, sizeof(buf), 0);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return (rtnl_fail(cause, errno == EAGAIN ? ETIMEDOUT :
			    errno, "no answer from the kernel"));
		len = (int)got;
		for (n = (struct nlmsghdr *)buf; NLMSG_OK(n, len);
		    n = NLMSG_NEXT(n, len)) {
			if (n->nlmsg_seq != r->seq ||
			    n->nlmsg_type != NLMSG_ERROR)
				continue;
			if (n->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return (rtnl_fail(cause, EPROTO, "short ack"));
			e = NLMSG_DATA(n);
			if (e->error == 0)
				return (0);
			return (rtnl_fail(cause, -e->error, rtnl_extack(n)));
		}
	}
}

#pragma GCC diagnostic pop

static int
rtnl_talk(struct rtnl *r, struct rtnl_req *req, char **cause)
{
	struct sockaddr_nl	sa;

	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	req->n.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	req->n.nlmsg_seq = ++r->seq;
	if (sendto(r->fd, req, req->n.nlmsg_len, 0, (struct sockaddr *)&sa,
	    sizeof(sa)) == -1)
		return (rtnl_fail(cause, errno, "netlink send"));
	return (rtnl_ack(r, cause));
}

/*
 * No IPv6 link-local address: the device then sends no RS.  (It still
 * sends MLD reports for the all-routers groups when IPv6 forwarding is
 * on; tun.c ignores them.)
 */
int
rtnl_link_no_addrgen(struct rtnl *r, unsigned int ifindex, char **cause)
{
	struct rtnl_req	 req;
	struct rtattr	*spec, *inet6;
	uint8_t		 mode = IN6_ADDR_GEN_MODE_NONE;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(req.u.ifi));
	req.n.nlmsg_type = RTM_NEWLINK;
	req.u.ifi.ifi_family = AF_UNSPEC;
	req.u.ifi.ifi_index = (int)ifindex;
	spec = rtnl_nest(&req, IFLA_AF_SPEC);
	inet6 = rtnl_nest(&req, AF_INET6);
	rtnl_addattr(&req, IFLA_INET6_ADDR_GEN_MODE, &mode, sizeof(mode));
	rtnl_nest_end(&req, inet6);
	rtnl_nest_end(&req, spec);
	return (rtnl_talk(r, &req, cause));
}

int
rtnl_link_up(struct rtnl *r, unsigned int ifindex, char **cause)
{
	struct rtnl_req	req;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(req.u.ifi));
	req.n.nlmsg_type = RTM_NEWLINK;
	req.u.ifi.ifi_family = AF_UNSPEC;
	req.u.ifi.ifi_index = (int)ifindex;
	req.u.ifi.ifi_flags = IFF_UP;
	req.u.ifi.ifi_change = IFF_UP;
	return (rtnl_talk(r, &req, cause));
}

/*
 * RTM_NEWROUTE or RTM_DELROUTE of a host route out of ifindex, in table
 * (RTA_TABLE, so any number fits) with priority (the metric; 0: none).
 * The main table's routes (input.mode "tun": the VIPs into the TUN
 * device) have protocol "kernel", like the kernel's own routes of a
 * device: routing daemons leave those alone (FRR's zebra ignores them,
 * BIRD learns them only with "learn all"), so that only the readiness
 * routes of announce.c (protocol "static", metric 100 or 200) are
 * announced, even when announce.table is the main table (FRR).
 */
static int
rtnl_route(struct rtnl *r, uint16_t type, uint16_t flags,
    const struct ilb_addr *dst, unsigned int ifindex, uint32_t table,
    uint32_t priority, char **cause)
{
	struct rtnl_req	req;
	uint32_t	oif = ifindex;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(req.u.rt));
	req.n.nlmsg_type = type;
	req.n.nlmsg_flags = flags;
	req.u.rt.rtm_family = dst->family;
	req.u.rt.rtm_dst_len = dst->family == AF_INET ? 32 : 128;
	req.u.rt.rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	req.u.rt.rtm_protocol = table == RT_TABLE_MAIN && priority == 0 ?
	    RTPROT_KERNEL : RTPROT_STATIC;
	req.u.rt.rtm_scope = dst->family == AF_INET ? RT_SCOPE_LINK :
	    RT_SCOPE_UNIVERSE;
	req.u.rt.rtm_type = RTN_UNICAST;
	rtnl_addattr(&req, RTA_DST, dst->u.b, util_addr_len(dst));
	rtnl_addattr(&req, RTA_OIF, &oif, sizeof(oif));
	if (table != RT_TABLE_MAIN)
		rtnl_addattr(&req, RTA_TABLE, &table, sizeof(table));
	if (priority != 0)
		rtnl_addattr(&req, RTA_PRIORITY, &priority, sizeof(priority));
	return (rtnl_talk(r, &req, cause));
}

int
rtnl_route_add(struct rtnl *r, const struct ilb_addr *dst,
    unsigned int ifindex, char **cause)
{
	return (rtnl_route(r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, dst,
	    ifindex, RT_TABLE_MAIN, 0, cause));
}

int
rtnl_route_del(struct rtnl *r, const struct ilb_addr *dst,
    unsigned int ifindex, char **cause)
{
	return (rtnl_route(r, RTM_DELROUTE, 0, dst, ifindex, RT_TABLE_MAIN, 0,
	    cause));
}

int
rtnl_table_route_add(struct rtnl *r, const struct ilb_addr *dst,
    unsigned int ifindex, uint32_t table, uint32_t priority, char **cause)
{
	return (rtnl_route(r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, dst,
	    ifindex, table, priority, cause));
}

int
rtnl_table_route_del(struct rtnl *r, const struct ilb_addr *dst,
    unsigned int ifindex, uint32_t table, uint32_t priority, char **cause)
{
	return (rtnl_route(r, RTM_DELROUTE, 0, dst, ifindex, table, priority,
	    cause));
}
