/* ctl.h: ilbctl commands: the word table and parsed requests (pure). */
#ifndef ILBD_CTL_H
#define ILBD_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define CTL_VERSION	1		/* protocol version, in every message */
#define CTL_REQ_MAX	1024		/* bytes in one request, '\n' included */
#define CTL_ARGS_MAX	8		/* operands after the command words */
#define CTL_ARG_LEN	128
#define CTL_HDR_MAX	64		/* bytes in a response header line */
#define CTL_BODY_MAX	(1U << 30)	/* bytes in a response body */
#define CTL_NAME_MAX	32		/* service name: CONF_NAME_MAX */
#define CTL_WEIGHT_MAX	1000		/* server weight: as in ilbd.conf */
#define CTL_LIMIT_DEFAULT 100		/* rows: as CTLCMD_LIMIT_DEFAULT */
#define CTL_LIMIT_MAX	100000		/* as CTLCMD_LIMIT_MAX */

enum ctl_cmd {
	CTL_SHOW_MEMBERS,
	CTL_SHOW_SERVICES,
	CTL_SHOW_SERVERS,
	CTL_SHOW_CONNECTIONS,	/* [limit N] [vip ADDR] [client ADDR] */
	CTL_SHOW_CACHE,		/* [limit N] [vip ADDR] [client ADDR] */
	CTL_SHOW_STATS,
	CTL_SHOW_OWNER,		/* CLIENT:PORT VIP:PORT */
	CTL_SERVER_DRAIN,	/* SERVICE ADDRESS */
	CTL_SERVER_ENABLE,	/* SERVICE ADDRESS */
	CTL_SERVER_WEIGHT,	/* SERVICE ADDRESS N */
	CTL_LEAVE,
	CTL_RELOAD,
	CTL_SHOW_INFO,		/* version, uptime, state, config, reload */
	CTL_MONITOR,		/* [json]: a stream of events, one a line */
	CTL_CMD_MAX
};

/* Which filters of show connections|cache were given. */
#define CTL_F_LIMIT	0x01
#define CTL_F_VIP	0x02
#define CTL_F_CLIENT	0x04

/*
 * One parsed request, as ilbctl sends it and ilbd dispatches it. argv
 * holds the words after the command's own (operands and filter keywords,
 * canonical spelling), so that ctl_req_encode() can send them again; the
 * fields below argv are the same operands, validated and converted.
 */
struct ctl_req {
	enum ctl_cmd	cmd;
	int		json;			/* -j: answer in JSON */
	int		argc;			/* operands */
	char		argv[CTL_ARGS_MAX][CTL_ARG_LEN];

	/* show connections|cache filters; show owner's tuple */
	unsigned int	flags;			/* CTL_F_* given */
	uint32_t	limit;			/* 1..CTL_LIMIT_MAX, default */
	struct ilb_addr	client;			/* CTL_F_CLIENT, show owner */
	uint16_t	client_port;		/* 0: any (filters only) */
	struct ilb_addr	vip;			/* CTL_F_VIP, show owner */
	uint16_t	vip_port;		/* 0: any (filters only) */
	/* server drain|enable|weight */
	char		service[CTL_NAME_MAX + 1];
	struct ilb_addr	server;
	uint32_t	weight;			/* 0..CTL_WEIGHT_MAX */
};

/*
 * Parse command words ("sh", "mem") into *req; every keyword may be
 * abbreviated to any unambiguous prefix. req->json is left as it was.
 * Returns 0, or -1 with *cause a malloc'd one-line reason.
 */
int		 ctl_parse(int, char *const [], struct ctl_req *, char **);
/* The command's canonical words, e.g. "server weight". */
const char	*ctl_cmd_name(enum ctl_cmd);
/*
 * 1 if cmd changes nothing (show ..., monitor): what the read-only
 * control socket (control.socket_ro) accepts.
 */
int		 ctl_cmd_readonly(enum ctl_cmd);

/*
 * Request line "ILBCTL/1 [json] WORD...\n". Encode returns its length,
 * or -1 if it does not fit (buf of CTL_REQ_MAX + 1 always suffices).
 */
int		 ctl_req_encode(const struct ctl_req *, char *, size_t);
/*
 * Decode one request line (the '\n' optional). Returns 0; -1 if it is
 * a request ilbd should answer with the error *cause (bad command,
 * other version); -2 if it is not an ilbctl request at all (binary,
 * no "ILBCTL/" prefix, too long): *cause is for the log only.
 */
int		 ctl_req_decode(const char *, size_t, struct ctl_req *, char **);

/*
 * Response header "ILBCTL/1 OK|ERR <length>\n", or, for ok
 * CTL_RESP_STREAM, "ILBCTL/1 STREAM 0\n": lines follow until either side
 * closes (monitor). Returns its length.
 */
#define CTL_RESP_STREAM	2
int		 ctl_resp_header_encode(char *, size_t, int, size_t);
/*
 * Decode a response header line (the '\n' optional): *ok is 1 for OK,
 * 0 for ERR, CTL_RESP_STREAM for STREAM, *len the body length. Returns
 * 0, or -1 with *cause.
 */
int		 ctl_resp_header_decode(const char *, size_t, int *, size_t *,
		    char **);

#endif
