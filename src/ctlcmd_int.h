/* ctlcmd_int.h: what ctlcmd.c's handlers use of ctlcmd_fmt.c's writers. */
#ifndef ILBD_CTLCMD_INT_H
#define ILBD_CTLCMD_INT_H

#include <stdint.h>

#include "ctl.h"
#include "ctlcmd.h"

struct cluster;
struct daemon;
struct evbuffer;

/* A minimal JSON writer: separators and keys; nesting up to 31 levels. */
struct ctlcmd_json {
	struct evbuffer	*out;
	unsigned int	 depth;
	uint32_t	 more;		/* bit d: level d has a member already */
};

void		 ctlcmd_json_init(struct ctlcmd_json *, struct evbuffer *);
/* Open '{' or '[' as member key (NULL in arrays); close it. */
void		 ctlcmd_json_open(struct ctlcmd_json *, const char *, char);
void		 ctlcmd_json_close(struct ctlcmd_json *, char);
/* Members: a string (NULL: null), a number, a boolean. */
void		 ctlcmd_json_str(struct ctlcmd_json *, const char *,
		    const char *);
void		 ctlcmd_json_num(struct ctlcmd_json *, const char *, uint64_t);
void		 ctlcmd_json_bool(struct ctlcmd_json *, const char *, int);
/* Close the answer's object and end the line. */
void		 ctlcmd_json_end(struct ctlcmd_json *);
/* One row as a JSON object, an element of the array j is in. */
void		 ctlcmd_table_row_json(const struct ctlcmd_table *,
		    struct ctlcmd_json *, const char *const *);
/* The table as text, or {"name": [rows] (the caller ends the object). */
void		 ctlcmd_table_emit(const struct ctlcmd_table *, const char *,
		    int, struct evbuffer *, struct ctlcmd_json *);
/* A one-line answer: the line, or {"result": "line"}. */
int		 ctlcmd_answer(const struct ctl_req *, struct evbuffer *,
		    const char *);
/* show info (ctlcmd_info.c): the daemon's, -1 without one. */
int		 ctlcmd_show_info(struct daemon *, const struct cluster *,
		    const struct ctl_req *, uint64_t, struct evbuffer *,
		    char **);

/* ctlcmd_admin.c: server drain|enable|weight. */
struct lb;
struct lb_server;
struct lb_service;
/* 1 if the operands (nops of them) end with the word "local". */
int		 ctlcmd_admin_local(const struct ctl_req *, int);
/*
 * Drain or enable (drained 0, 1; weight -1) or weigh (drained -1) server
 * srv of service svc: cluster-wide (ADMIN messages) or, local, on this
 * member only; the answer says which.
 */
int		 ctlcmd_admin_set(struct daemon *, struct lb *,
		    const struct ctl_req *, unsigned int, unsigned int, int,
		    int, int, struct evbuffer *, char **);
/* show servers' ADMIN: "cluster:ORIGIN", "local" or "-". */
const char	*ctlcmd_admin_source(const struct lb *,
		    const struct lb_service *, const struct lb_server *,
		    char *, size_t);

#endif
