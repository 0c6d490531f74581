/* cluster_peers.h: cluster messages by unicast to cluster.peers. */
#ifndef ILBD_CLUSTER_PEERS_H
#define ILBD_CLUSTER_PEERS_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util.h"

/*
 * Where what would be multicast goes instead: every listed peer but this
 * node, as socket addresses (cluster.port), built once per config so a
 * send allocates and formats nothing.
 */
struct cluster_peers {
	struct sockaddr_storage	 sa[CONF_PEERS_MAX];
	struct ilb_addr		 addr[CONF_PEERS_MAX];	/* the same, to match
						   a datagram's source */
	socklen_t		 salen;
	unsigned int		 n;		/* self left out */
	uint64_t		 errors[CONF_PEERS_MAX];	/* sendto refused */
};

/*
 * Fill p from conf->cluster.peers, leaving out self; ifindex scopes IPv6
 * link-local peers.  Returns the number of peers kept.
 */
unsigned int	 cluster_peers_set(struct cluster_peers *,
		    const struct cluster_conf *, const struct ilb_addr *,
		    unsigned int);
/*
 * Send buf to every peer on fd.  Each refusal is counted in p->errors[i]
 * and *errors and logged at debug level.  0 if at least one peer took it
 * (or there is none), -1 if all refused it.
 */
int		 cluster_peers_send(struct cluster_peers *, int,
		    const uint8_t *, size_t, uint64_t *);
/* 1 if from is one of the peers, 0 if not. */
int		 cluster_peers_has(const struct cluster_peers *,
		    const struct ilb_addr *);

#endif
