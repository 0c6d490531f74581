/* config.h: /etc/ilbd.conf loaded into a validated struct ilbd_conf. */
#ifndef ILBD_CONFIG_H
#define ILBD_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>

#include "flow.h"
#include "quic_lb.h"
#include "util.h"

#define CONF_NAME_MAX		32	/* service name length */
#define CONF_SERVICES_MAX	256
#define CONF_QUEUES_MAX		64	/* input.queues */
#define CONF_WORKERS_MAX	64	/* input.workers */
#define CONF_SERVERS_MAX	1024	/* per service */
#define CONF_KEY_MIN		16	/* bytes in cluster.key_file */
#define CONF_KEY_MAX		4096
#define CONF_KEY_LEN		32	/* derived key (BLAKE2b of the file) */
#define CONF_SOCKPATH_MAX	108	/* sun_path */
#define CONF_USER_MAX		33	/* user name to run as, NUL included */
#define CONF_STATE_DIR_MAX	(PATH_MAX - 16)	/* room for "/epoch.new" */
#define CONF_PEERS_MAX		255	/* cluster.peers: the members but one
					   (CLUSTER_MEMBERS_MAX - 1) */

enum conf_scoring { SCORING_CRC32C_MIX, SCORING_CRC32, SCORING_KEYED };
enum conf_input { INPUT_TUN, INPUT_PCAP, INPUT_XDP };
enum conf_xdp_mode { XDP_AUTO, XDP_NATIVE, XDP_SKB };
enum conf_forward { FORWARD_DSR, FORWARD_GRE };
enum conf_sched { SCHED_RR, SCHED_WRR, SCHED_LC, SCHED_WLC, SCHED_HASH };
enum conf_check { CHECK_TCP, CHECK_NONE, CHECK_HTTP, CHECK_UDP };
enum conf_proto { PROTO_TCP, PROTO_UDP };

struct server_conf {
	struct ilb_addr		addr;
	uint32_t		weight;		/* 0..1000, default 1; 0 = drained */
	int			line;		/* where it was defined */
	uint8_t			quic_sid[QUIC_LB_SID_MAX]; /* quic_server_id */
	uint8_t			quic_sid_len;	/* 0: none (not quic) */
};

#define CONF_HTTP_METHOD_MAX	16	/* health.method, NUL excluded */
#define CONF_HTTP_PATH_MAX	255	/* health.path */
#define CONF_HTTP_HOST_MAX	255	/* health.host */
#define CONF_UDP_PAYLOAD_MAX	512	/* health.send, health.expect: bytes */

struct health_conf {
	enum conf_check		check;		/* default tcp */
	uint32_t		interval_ms;	/* 100..3600000, default 1000 */
	uint32_t		timeout_ms;	/* 10..interval_ms, default 500 */
	uint32_t		rise;		/* 1..100, default 2 */
	uint32_t		fall;		/* 1..100, default 3 */
	int			initial_up;	/* initial = "up" 1, "down" 0
						   (default): a new server */
	uint16_t		port;		/* 0 (default): the service's */
	uint16_t		status_min;	/* http: 100..599, default 200 */
	uint16_t		status_max;	/* status_min..599, default 200 */
	char			method[CONF_HTTP_METHOD_MAX + 1]; /* "GET" */
	char			path[CONF_HTTP_PATH_MAX + 1];	/* "/" */
	char			host[CONF_HTTP_HOST_MAX + 1];	/* "": the
						   server's address */
	/* issue 22: check = "udp", the datagram sent and the bytes awaited */
	uint16_t		sendlen;	/* 0: an empty datagram */
	uint16_t		expectlen;	/* 0: any answer passes */
	uint8_t			send[CONF_UDP_PAYLOAD_MAX];	/* decoded */
	uint8_t			expect[CONF_UDP_PAYLOAD_MAX];	/* decoded */
};

struct service_conf {
	char			name[CONF_NAME_MAX + 1];
	struct ilb_addr		vip;
	uint16_t		port;		/* 1..65535, required */
	enum conf_forward	forward;	/* default dsr */
	enum conf_sched		scheduler;	/* default wlc */
	enum conf_proto		protocol;	/* default tcp */
	struct health_conf	health;
	struct server_conf	*servers;
	unsigned int		nservers;	/* 1..CONF_SERVERS_MAX */
	int			line;
	int			quic;		/* udp only: route by QUIC-LB
						   connection ID (issue 22) */
	struct quic_lb_conf	quic_lb[QUIC_LB_CONF_MAX]; /* plaintext */
	unsigned int		nquic_lb;	/* 1..7 when quic, else 0 */
	uint32_t		udp_timeout_s;	/* udp only: 0 = tables' */
	uint32_t		udp_stream_timeout_s; /* udp only: 0 = tables' */
};

struct node_conf {
	struct member_id	id;		/* claims 5 and 6 */
	char			id_text[ILB_ADDRSTRLEN]; /* as written */
	char			interface[IF_NAMESIZE];	/* required */
	struct ilb_addr		address;	/* valid if has_address */
	int			has_address;	/* node.address or an address id */
	char			user[CONF_USER_MAX];	/* "" = stay root; default ilbd */
	char			state_dir[CONF_STATE_DIR_MAX]; /* boot epoch file;
					   "" = clock only; /var/lib/ilbd */
};

struct cluster_conf {
	struct ilb_addr		group;		/* multicast, default 239.192.0.1 */
	uint16_t		port;		/* 1..65535, default 7946 */
	uint32_t		hello_ms;	/* 10..60000, default 200 */
	uint32_t		dead_ms;	/* 2*hello_ms..600000, default 1000 */
	char			key_file[PATH_MAX];	/* default /etc/ilbd/cluster.key */
	int			authenticate;	/* default 1 */
	uint8_t			key[CONF_KEY_LEN];	/* valid if authenticate */
	char			key_file_next[PATH_MAX];	/* "": none */
	int			has_key_next;	/* key_next valid: authenticate
					   and key_file_next set */
	uint8_t			key_next[CONF_KEY_LEN];	/* accepted, never
					   sent with (rotation) */
	enum conf_scoring	scoring;	/* default crc32c-mix */
	struct ilb_addr		peers[CONF_PEERS_MAX];	/* unicast instead of
					   multicast when npeers > 0 */
	unsigned int		npeers;		/* 0 (default): multicast */
};

struct input_conf {
	enum conf_input		mode;		/* default tun */
	char			device[IF_NAMESIZE];	/* default ilb0 */
	enum conf_xdp_mode	xdp_mode;	/* mode xdp: default auto */
	uint32_t		queues;		/* mode xdp: 0..CONF_QUEUES_MAX,
						   0 (default) = all the
						   interface's RX queues */
	uint32_t		workers;	/* 0..CONF_WORKERS_MAX, default
						   1 (the daemon's loop reads);
						   0 = one per CPU allowed;
						   above 1 only in mode tun */
};

struct tables_conf {
	uint32_t		ltoc_size;	/* 1024..67108864, default 1048576 */
	uint32_t		cache_size;	/* 0..67108864, default 1048576 */
	uint32_t		tcp_timeout_s;	/* 1..604800, default 900 */
	uint32_t		fin_timeout_s;	/* 1..3600, default 60 */
	uint32_t		syn_timeout_s;	/* 1..3600, default 30 */
	uint32_t		udp_timeout_s;	/* 1..3600, default 30: a UDP
						   flow of a few packets */
	uint32_t		udp_stream_timeout_s; /* 1..604800, default
						   120: more than
						   UDP_STREAM_PKTS packets */
	uint32_t		udp_replicate_ms; /* 0..60000, default 1000:
						   a UDP flow is replicated
						   once seen this long after
						   it opened */
};

/* Readiness routes for a routing daemon (announce.c). */
struct announce_conf {
	uint32_t		table;		/* 0 (off, default) or 1..2^32-1 */
	uint32_t		drain_ms;	/* 0..600000, default 2000 */
};

/* Echo requests (ping) to a VIP (icmp.c). */
struct icmp_conf {
	uint32_t		echo_rate;	/* 0..1000000 a second, default
					   100; 0 = never answered */
};

struct ilbd_conf {
	char			path[PATH_MAX];	/* file it was loaded from */
	struct node_conf	node;
	struct cluster_conf	cluster;
	struct input_conf	input;
	struct tables_conf	tables;
	char			control_socket[CONF_SOCKPATH_MAX]; /* /run/ilbd/ilbd.sock */
	char			control_socket_ro[CONF_SOCKPATH_MAX]; /* "": none */
	int			metrics_enabled;	/* listen != "" */
	struct ilb_addr		metrics_addr;	/* default 127.0.0.1 */
	uint16_t		metrics_port;	/* default 9650 */
	struct service_conf	*services;
	unsigned int		nservices;	/* 0..CONF_SERVICES_MAX */
	struct announce_conf	announce;
	struct icmp_conf	icmp;
};

/*
 * Load and validate path. On success *out holds a new config and 0 is
 * returned; on failure -1 is returned and *cause holds a malloc'd
 * "FILE:LINE: message" that the caller frees.
 */
int		 config_load(const char *, struct ilbd_conf **, char **);
void		 config_free(struct ilbd_conf *);
/* One line: node id, member scoring, number of services and servers. */
void		 config_summary(const struct ilbd_conf *, char *, size_t);
/* The effective configuration, defaults included, in libconfig syntax. */
void		 config_dump(const struct ilbd_conf *, FILE *);
const char	*config_scoring_name(enum conf_scoring);
const char	*config_sched_name(enum conf_sched);
const char	*config_forward_name(enum conf_forward);
const char	*config_proto_name(enum conf_proto);
const char	*config_input_name(enum conf_input);
const char	*config_xdp_mode_name(enum conf_xdp_mode);
/*
 * health.send and health.expect: decode s (\xNN, \n, \r, \t, \\, any
 * other byte as is) into at most max bytes of out.  Returns the length;
 * -1 (a bad escape) or -2 (more than max bytes) with *bad the offset in s
 * where it went wrong.  Pure.
 */
int		 config_unescape(const char *, uint8_t *, size_t, size_t *);

#endif
