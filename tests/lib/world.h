/*
 * world.h: the cluster the unit tests and the fuzzers share: a
 * configuration built in code and one lb per member, alike but for self.
 */
#ifndef ILBD_TEST_WORLD_H
#define ILBD_TEST_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "lb.h"
#include "packet.h"
#include "util.h"

#define WORLD_MEMBERS_MAX	4	/* members (and lbs) of one world */
#define WORLD_SVC_MAX		8	/* services of one configuration */
#define WORLD_SRV_MAX		16	/* servers of one service */
#define WORLD_SLOT0		100	/* slot of member i: 100 + i */
#define WORLD_SYN_S		30	/* world_conf_new()'s timeouts, s */
#define WORLD_TCP_S		900
#define WORLD_FIN_S		60

#define WORLD_NO_MEMBERS	0x1	/* world_start(): own slot, no members */
#define WORLD_AS_REPL		0x1	/* world_deliver(): as repl.c does */

/*
 * Members 10.0.0.1..nmembers in slots 100..; lb[i] is member i, for the
 * first n of them. The world owns conf and frees it in world_free().
 */
struct world {
	struct ilbd_conf	*conf;		/* what every lb started with */
	struct member_id	 ids[WORLD_MEMBERS_MAX];
	uint16_t		 slots[WORLD_MEMBERS_MAX];
	size_t			 nmembers;
	size_t			 n;		/* lbs started */
	struct lb		 lb[WORLD_MEMBERS_MAX];
};

/* Addresses: a.b.c.d, or any text util_addr_parse() takes. */
void			 world_addr4(struct ilb_addr *, uint8_t, uint8_t,
			    uint8_t, uint8_t);
void			 world_addr(struct ilb_addr *, const char *);

/* Configurations, on the heap like config_load()'s. */
struct ilbd_conf	*world_conf_new(uint32_t, uint32_t);
struct service_conf	*world_service(struct ilbd_conf *, const char *,
			    uint8_t, enum conf_sched);
struct server_conf	*world_server(struct service_conf *, uint8_t,
			    uint32_t);
struct service_conf	*world_web(struct ilbd_conf *, const char *, uint8_t,
			    enum conf_sched, unsigned int);
void			 world_conf_free(struct ilbd_conf *);

/* The cluster. */
void			 world_init(struct world *, struct ilbd_conf *,
			    size_t);
int			 world_start(struct world *, size_t, uint64_t, int);
void			 world_free(struct world *);
int			 world_deliver(struct world *, size_t, uint64_t, int);
int			 world_broadcast(struct world *, size_t, uint64_t);

/* A TCP packet 203.0.113.7:sport -> 198.51.100.vip:dport, parsed. */
struct pkt_info		 world_pkt(uint8_t, uint16_t, uint16_t, uint8_t);

#endif
