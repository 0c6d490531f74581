/* ctlcmd.h: ilbctl's commands inside ilbd: one handler each, text or JSON. */
#ifndef ILBD_CTLCMD_H
#define ILBD_CTLCMD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "counter.h"
#include "ctl.h"
#include "flow.h"
#include "util.h"

struct cluster;
struct cluster_member;
struct daemon;
struct evbuffer;
struct lb;

#define CTLCMD_LIMIT_DEFAULT	CTL_LIMIT_DEFAULT /* show connections|cache */
#define CTLCMD_LIMIT_MAX	CTL_LIMIT_MAX	/* rows in one answer */
#define CTLCMD_COLS_MAX		20	/* columns of a table */

/* What the daemon gives the command handlers (ilbd.c fills it once). */
struct ctlcmd_env {
	struct daemon	*daemon;
	/*
	 * `ilbctl reload`: 0 or -1; *result gets a malloc'd one-line
	 * summary (0) or reason (-1), or stays NULL.
	 */
	int		(*reload)(void *, char **);
	/* `ilbctl leave`: start the graceful leave (daemon_leave), exit. */
	void		(*leave)(void *);
	void		*arg;			/* of reload and leave */
};

/*
 * The control socket's handler (control_handler): env is a struct
 * ctlcmd_env. Renders the whole answer into out (text, or JSON when
 * req->json) and returns 0, or returns -1 with *err a malloc'd one-line
 * reason (NULL only if even that could not be allocated); out is then
 * left untouched. Never fatal on a bad request.
 */
int		 ctlcmd_handle(void *, const struct ctl_req *, struct evbuffer *,
		    char **);

/*
 * The same over parts: daemon may be NULL (schedulers are then rebuilt
 * directly; show stats fails), cluster may be NULL (member ids then come
 * from lb's members; show members fails), env may be NULL (leave and
 * reload fail). For the unit tests.
 */
struct ctlcmd_view {
	const struct ctlcmd_env	*env;
	struct daemon		*daemon;
	struct lb		*lb;
	const struct cluster	*cluster;
	uint64_t		 now_ms;	/* monotonic, as the data path */
};
int		 ctlcmd_view_handle(const struct ctlcmd_view *,
		    const struct ctl_req *, struct evbuffer *, char **);

/* The name of a command, e.g. "show owner" (NULL if out of range). */
const char	*ctlcmd_name(int);

/* Filters of show connections|cache: [limit N] [vip A[:P]] [client A[:P]]. */
struct ctlcmd_filter {
	uint32_t	limit;		/* rows shown, 1..CTLCMD_LIMIT_MAX */
	int		has_vip;
	int		has_client;
	struct ilb_addr	vip;
	struct ilb_addr	client;
	uint16_t	vport;		/* 0: any */
	uint16_t	cport;		/* 0: any */
};
int		 ctlcmd_filter_parse(const struct ctl_req *,
		    struct ctlcmd_filter *, char **);
int		 ctlcmd_filter_match(const struct ctlcmd_filter *,
		    const struct flow_key *);

/*
 * The claim 4 key (dport, daddr, sport, saddr) of client "A:P" to vip
 * "A:P" ("[v6]:P" for IPv6). 0, or -1 with *cause.
 */
int		 ctlcmd_flow_key(const char *, const char *, struct flow_key *,
		    char **);
/* A key back into "client:port" and "vip:port" ("[v6]:port"). */
void		 ctlcmd_flow_fmt(const struct flow_key *, char *, size_t,
		    char *, size_t);
/* joining, active, leaving, or gone (not alive). */
const char	*ctlcmd_member_state(const struct cluster_member *);

/* A JSON string literal of s: quotes, escapes, bad UTF-8 as U+FFFD. */
void		 ctlcmd_json_string(struct evbuffer *, const char *);
/*
 * Prometheus labels k="v",k="v" as a JSON object {"k":"v",...}; -1 and
 * nothing written if they are malformed.
 */
int		 ctlcmd_labels_json(struct evbuffer *, const char *);

/* A table rendered as aligned text columns or as a JSON array of objects. */
enum ctlcmd_col_type {
	CTLCMD_STR,			/* JSON string; NULL cell: null */
	CTLCMD_NUM,			/* digits; text right-aligned */
	CTLCMD_BOOL			/* "yes" / "no"; JSON true / false */
};

struct ctlcmd_col {
	const char		*head;	/* text header */
	const char		*key;	/* JSON member name */
	enum ctlcmd_col_type	 type;
};

struct ctlcmd_table {
	const struct ctlcmd_col	*cols;
	unsigned int		 ncols;
	char			**cells;	/* nrows * ncols, NULL: none */
	size_t			 nrows;
	size_t			 cap;		/* rows allocated */
	size_t			 width[CTLCMD_COLS_MAX];
};

void		 ctlcmd_table_init(struct ctlcmd_table *,
		    const struct ctlcmd_col *, unsigned int);
/* Copy one row of ncols cells (NULL: "-" or null). 0, or -1 (ENOMEM). */
int		 ctlcmd_table_add(struct ctlcmd_table *, const char *const *);
void		 ctlcmd_table_text(const struct ctlcmd_table *,
		    struct evbuffer *);
/*
 * Streaming, for tables too big to copy: measure every row, then print
 * the header (ctlcmd_table_text() of the empty table) and each row.
 */
void		 ctlcmd_table_measure(struct ctlcmd_table *,
		    const char *const *);
void		 ctlcmd_table_row_text(const struct ctlcmd_table *,
		    struct evbuffer *, const char *const *);
void		 ctlcmd_table_json(const struct ctlcmd_table *,
		    struct evbuffer *);
void		 ctlcmd_table_free(struct ctlcmd_table *);

/* show stats, one dp_counter at a time (daemon_foreach_counter's callback). */
struct ctlcmd_stats {
	struct evbuffer	*out;
	struct evbuffer	*labelled;	/* JSON: the list, built apart */
	int		 json;
	unsigned int	 nplain;
	unsigned int	 nlabelled;
};
int		 ctlcmd_stats_begin(struct ctlcmd_stats *, struct evbuffer *,
		    int);
void		 ctlcmd_stats_put(void *, const struct dp_counter *);
void		 ctlcmd_stats_end(struct ctlcmd_stats *);

/* show info, as ctlcmd_info_render() prints it (text or JSON). */
struct ctlcmd_info {
	const char	*version;
	const char	*id;			/* node.id */
	const char	*state;			/* joining, active, leaving */
	uint64_t	 epoch;			/* boot epoch */
	time_t		 start_time;		/* wall clock */
	uint64_t	 uptime_s;
	const char	*conf_file;
	const char	*conf_sha256;		/* NULL: unknown */
	uint64_t	 reloads;
	uint64_t	 reload_failures;
	time_t		 reload_time;		/* 0: never reloaded */
	int		 reload_ok;
	const char	*reload_result;
};
void		 ctlcmd_info_render(const struct ctlcmd_info *, int,
		    struct evbuffer *);

#endif
