/* rtnl.h: a small synchronous rtnetlink client: link up, host routes. */
#ifndef ILBD_RTNL_H
#define ILBD_RTNL_H

#include <stdint.h>

#include "util.h"

/* One NETLINK_ROUTE socket; every request waits for the kernel's ack. */
struct rtnl {
	int		fd;		/* -1 when closed */
	uint32_t	seq;		/* of the last request */
};

/*
 * Every function returns 0 or -1. On -1, errno holds the kernel's error
 * (EEXIST, ESRCH, ENETDOWN, ...) and, if cause is not NULL, *cause a
 * malloc'd text: strerror(errno), followed by the kernel's extended ack
 * message when it gave one. The caller adds what was being done.
 */
int	rtnl_open(struct rtnl *, char **);
void	rtnl_close(struct rtnl *);
/* Give the interface no IPv6 link-local address (before it is up). */
int	rtnl_link_no_addrgen(struct rtnl *, unsigned int, char **);
/* Set IFF_UP on the interface. */
int	rtnl_link_up(struct rtnl *, unsigned int, char **);
/*
 * A /32 or /128 route to the address out of the interface, in the main
 * table; add replaces an existing route for the same destination.
 */
int	rtnl_route_add(struct rtnl *, const struct ilb_addr *, unsigned int,
	    char **);
int	rtnl_route_del(struct rtnl *, const struct ilb_addr *, unsigned int,
	    char **);
/*
 * The same in routing table table (1..2^32-1) with metric priority (0:
 * none). Routes of one destination with different metrics are distinct:
 * add creates or replaces the one of that metric only.
 */
int	rtnl_table_route_add(struct rtnl *, const struct ilb_addr *,
	    unsigned int, uint32_t, uint32_t, char **);
int	rtnl_table_route_del(struct rtnl *, const struct ilb_addr *,
	    unsigned int, uint32_t, uint32_t, char **);

#endif
