/* cluster_peers.c: the fan-out of cluster messages to cluster.peers. */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "cluster_peers.h"
#include "log.h"

unsigned int
cluster_peers_set(struct cluster_peers *p, const struct cluster_conf *conf,
    const struct ilb_addr *self, unsigned int ifindex)
{
	struct sockaddr_in6	*sin6;
	unsigned int		 i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < conf->npeers && i < CONF_PEERS_MAX; i++) {
		if (self != NULL && util_addr_eq(&conf->peers[i], self))
			continue;	/* listed everywhere, sent nowhere */
		p->addr[p->n] = conf->peers[i];
		p->salen = util_sockaddr(&conf->peers[i], conf->port,
		    &p->sa[p->n]);
		sin6 = (struct sockaddr_in6 *)&p->sa[p->n];
		if (conf->peers[i].family == AF_INET6 &&
		    IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
			sin6->sin6_scope_id = ifindex;
		p->n++;
	}
	return (p->n);
}

/* What the group would carry, to each peer in turn (N - 1 sendto). */
int
cluster_peers_send(struct cluster_peers *p, int fd, const uint8_t *buf,
    size_t len, uint64_t *errors)
{
	char		a[ILB_ADDRSTRLEN];
	unsigned int	i, ok = 0;

	for (i = 0; i < p->n; i++) {
		if (sendto(fd, buf, len, 0, (struct sockaddr *)&p->sa[i],
		    p->salen) != -1) {
			ok++;
			continue;
		}
		p->errors[i]++;
		(*errors)++;
		log_debug("cluster: sendto peer %s: %s (%llu refused)",
		    util_addr_fmt(&p->addr[i], a, sizeof(a)), strerror(errno),
		    (unsigned long long)p->errors[i]);
	}
	return (ok > 0 || p->n == 0 ? 0 : -1);
}

int
cluster_peers_has(const struct cluster_peers *p, const struct ilb_addr *from)
{
	unsigned int	i;

	for (i = 0; i < p->n; i++)
		if (util_addr_eq(&p->addr[i], from))
			return (1);
	return (0);
}
