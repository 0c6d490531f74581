/* metrics_int.h: /metrics' names (metrics_map.c) and the daemon's extras. */
#ifndef ILBD_METRICS_INT_H
#define ILBD_METRICS_INT_H

#include <stdint.h>

#include "cluster.h"
#include "counter.h"
#include "digest.h"
#include "util.h"

struct daemon;
struct lb;

/*
 * How a counter (sub, name) is exported: as sample of family (the whole
 * name, "_total" included) with the label label ("" or k="v", before
 * the counter's own), its value divided by div (ms or us to seconds), or
 * not at all (family NULL). Counters without an entry are exported as
 * ilbd_<sub>_<name>, "_total" appended to a counter.
 */
struct metrics_map {
	const char	*sub;
	const char	*name;
	const char	*family;
	const char	*label;
	uint32_t	 div;		/* 0 or 1: as it is */
	const char	*help;		/* NULL: the counter's */
};
/* The entry of (sub, name), or NULL. */
const struct metrics_map *metrics_map_find(const char *, const char *);
/* Every entry, up to one with sub NULL (the renames list, tests). */
extern const struct metrics_map metrics_map[];

/*
 * Label strings built once: per server (rebuilt when lb reloads or its
 * services change), per member slot (when its id changes), the
 * configuration's (when its digest changes).
 */
#define METRICS_LABEL_MAX	(CLUSTER_MEMBERS_MAX)
struct metrics_labels {
	const struct lb	*lb;
	uint64_t	 reloads;	/* lb's, when built */
	unsigned int	 nsvc;
	unsigned int	*first;		/* nsvc: index of svc's first server */
	unsigned int	*nsrv;		/* nsvc: servers of svc when built */
	char		**service;	/* nsvc: service=".." */
	char		**server;	/* service="..",server=".." */
	unsigned int	 nserver;
	char		 member_id[CLUSTER_MEMBERS_MAX][ILB_ADDRSTRLEN];
	char		 member[CLUSTER_MEMBERS_MAX][ILB_ADDRSTRLEN + 16];
	char		 conf_path[4096];	/* path and digest, when built */
	char		 conf_sha[DIGEST_SHA256_HEX];
	char		 conf[4200];		/* file="..",sha256=".." */
	uint64_t	 builds;	/* server label sets built */
};
void		 metrics_labels_free(struct metrics_labels *);

/*
 * What /metrics has beyond daemon_foreach_counter()'s tables: process_*,
 * the configuration and its reloads, table capacity, members' age, each
 * server. Label strings come from l.
 */
void		 metrics_daemon_walk(struct metrics_labels *, struct daemon *,
		    dp_counter_cb, void *);
/*
 * Each live server's gauges and traffic counters, then each live
 * service's traffic counters; labels from l (built once per reload).
 */
void		 metrics_servers_walk(struct metrics_labels *,
		    const struct lb *, dp_counter_cb, void *);
/* The cluster-wide drain and weight counters (none if a is NULL). */
struct admin;
void		 metrics_admin_walk(const struct admin *, dp_counter_cb,
		    void *);
/* process_*: start time (wall clock, s), CPU, memory, descriptors. */
void		 metrics_process_walk(uint64_t, dp_counter_cb, void *);

#endif
