/* control.h: the unix control socket that ilbctl talks to. */
#ifndef ILBD_CONTROL_H
#define ILBD_CONTROL_H

#include <stdint.h>

#include "ctl.h"

#define CONTROL_CLIENTS_MAX	64	/* beyond: accepted and closed */
#define CONTROL_BACKLOG		128
#define CONTROL_READ_TIMEOUT	5	/* seconds to send the request */
#define CONTROL_WRITE_TIMEOUT	30	/* seconds to take the response */
#define CONTROL_GROUP		"ilbd"	/* socket group, if it exists */
/* A monitor client this far behind is dropped (counted in timeouts). */
#define CONTROL_STREAM_MAX	(256 * 1024)

/* control_open() flags */
#define CONTROL_READONLY	0x01	/* mode 0666; show and monitor only */
#define CONTROL_RO_DENIED	"permission denied: read-only socket"

struct event_base;
struct evbuffer;
struct control;
struct control_conn;

/*
 * Render the answer to req into out (text, or JSON if req->json) and
 * return 0; or return -1 with *err a malloc'd one-line reason. A handler
 * that cannot answer at once calls control_defer() and returns 0.
 */
typedef int	(*control_handler)(void *, const struct ctl_req *,
		    struct evbuffer *, char **);

#define CONTROL_STATS_FOREACH(X)					\
	X(accepted, "control clients accepted")				\
	X(requests, "control requests answered (OK or ERR)")		\
	X(errors, "control requests answered with an error")		\
	X(malformed, "control clients closed: not an ilbctl request")	\
	X(oversized, "control clients closed: request line too long")	\
	X(timeouts, "control clients closed: too slow")			\
	X(refused, "control clients refused: too many at once")		\
	X(accept_errors, "control accept() failures")

struct control_stats {
#define CONTROL_STATS_FIELD(name, help)	uint64_t name;
	CONTROL_STATS_FOREACH(CONTROL_STATS_FIELD)
#undef CONTROL_STATS_FIELD
};

/*
 * Listen on the unix socket path (mode 0660, group ilbd if it exists;
 * CONTROL_READONLY: 0666, and every command that changes something is
 * refused with CONTROL_RO_DENIED) and answer each client's one request
 * with handler(arg, ...), except monitor: the client then gets every
 * event (event.h) as a line until it closes. A stale socket file is
 * replaced; a live one (another ilbd) is refused. Returns NULL with
 * *cause malloc'd.
 */
struct control	*control_open(struct event_base *, const char *,
		    unsigned int, control_handler, void *, char **);

/* Stop listening, unlink the socket, flush what can be, drop clients. */
void		 control_close(struct control *);
const struct control_stats *control_stats(const struct control *);
/* Clients connected now. */
unsigned int	 control_clients(const struct control *);

/*
 * From inside a handler: answer later. The handle stays valid until
 * control_finish() (even if the client goes away) or control_close().
 */
struct control_conn *control_defer(struct control *);
/* Send the deferred answer: body (drained) if err is NULL, else err. */
void		 control_finish(struct control_conn *, struct evbuffer *,
		    const char *);

#endif
