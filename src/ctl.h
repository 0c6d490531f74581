/* ctl.h: ilbctl commands: the word table and parsed requests (pure). */
#ifndef ILBD_CTL_H
#define ILBD_CTL_H

#include <stddef.h>

#define CTL_VERSION	1		/* protocol version, in every message */
#define CTL_REQ_MAX	1024		/* bytes in one request */
#define CTL_ARGS_MAX	8		/* operands after the command words */
#define CTL_ARG_LEN	128

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
	CTL_CMD_MAX
};

/* One parsed request, as ilbctl sends it and ilbd dispatches it. */
struct ctl_req {
	enum ctl_cmd	cmd;
	int		json;			/* -j: answer in JSON */
	int		argc;			/* operands */
	char		argv[CTL_ARGS_MAX][CTL_ARG_LEN];
};

#endif
