/* config_int.h: what config.c and config_service.c share while loading. */
#ifndef ILBD_CONFIG_INT_H
#define ILBD_CONFIG_INT_H

#include <libconfig.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "util.h"

#define CONF_LABEL_MAX		96

/* One load in progress. */
struct config_ctx {
	config_t			 cf;
	const char			*path;		/* as passed */
	char				 dir[PATH_MAX];	/* its directory */
	struct ilbd_conf		*conf;
	const config_setting_t		*key_at;	/* where key errors go */
	const config_setting_t		*key_next_at;	/* key_file_next */
	int				 key_set;	/* key_file was written */
	char				*cause;		/* first error */
};

/* Config words, indexed by their enum values. */
extern const char *const config_forward_words[];
extern const char *const config_proto_words[];
extern const char *const config_sched_words[];
extern const char *const config_check_words[];

/* config.c: errors and typed getters; each returns -1 after config_err(). */
int		 config_err(struct config_ctx *, const config_setting_t *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
const char	*config_where(const config_setting_t *,
		    const config_setting_t *, char *, size_t);
const char	*config_type_name(const config_setting_t *);
int		 config_check_keys(struct config_ctx *,
		    const config_setting_t *, const char *const *,
		    const char *);
const config_setting_t *config_member(const config_setting_t *,
		    const char *);
int		 config_get_u32(struct config_ctx *, const config_setting_t *,
		    const char *, long long, long long, const char *,
		    uint32_t *);
int		 config_get_port(struct config_ctx *, const config_setting_t *,
		    const char *, uint16_t *);
int		 config_get_str(struct config_ctx *, const config_setting_t *,
		    const char *, const char **);
int		 config_get_aggr(struct config_ctx *, const config_setting_t *,
		    const char *, int, const config_setting_t **);
int		 config_get_bool(struct config_ctx *, const config_setting_t *,
		    const char *, int *);
int		 config_get_enum(struct config_ctx *, const config_setting_t *,
		    const char *, const char *const *, const char *, int *);
int		 config_get_addr(struct config_ctx *, const config_setting_t *,
		    const char *, int, struct ilb_addr *);
/* Why an address is no unicast one (multicast, unspecified...), or NULL. */
const char	*config_addr_bad(const struct ilb_addr *);

/* config_cluster.c: cluster.peers (the cluster group g), and its dump. */
int		 config_parse_peers(struct config_ctx *,
		    const config_setting_t *);
void		 config_dump_peers(const struct cluster_conf *, FILE *);
/* config.c: read the file cluster.key_file names into out (the key). */
int		 config_read_key_file(struct config_ctx *, uint8_t *);
/* config_cluster.c: cluster.key_file_next (its path), then its key. */
int		 config_parse_key_next(struct config_ctx *,
		    const config_setting_t *);
int		 config_read_key_next(struct config_ctx *);
void		 config_dump_key_next(const struct cluster_conf *, FILE *);
/* config_cluster.c: the "icmp" group (echo_rate), and its dump. */
int		 config_parse_icmp(struct config_ctx *,
		    const config_setting_t *);
void		 config_dump_icmp(const struct ilbd_conf *, FILE *);

/* config_service.c: the "services" list into conf->services. */
int		 config_parse_services(struct config_ctx *,
		    const config_setting_t *);
/* One service's "    health = { ... };" line, every key, for config_dump(). */
void		 config_dump_health(const struct health_conf *, FILE *);
/* quic and quic_lb of a service, and a server's quic_server_id. */
void		 config_dump_quic(const struct service_conf *, FILE *);
void		 config_dump_quic_sid(const struct server_conf *, FILE *);

#endif
