/* event.h: ilbctl monitor's events: formatted once, sent to each subscriber. */
#ifndef ILBD_EVENT_H
#define ILBD_EVENT_H

#include <sys/queue.h>

#include <stddef.h>
#include <time.h>

struct ilb_addr;

enum ilbd_event_type {
	ILBD_EV_MEMBER_JOIN,
	ILBD_EV_MEMBER_LEAVE,		/* it announced its graceful leave */
	ILBD_EV_MEMBER_DEAD,		/* silent for dead_ms: declared gone */
	ILBD_EV_SERVER_UP,		/* health check transitions */
	ILBD_EV_SERVER_DOWN,
	ILBD_EV_SERVER_DRAIN,		/* ilbctl server drain|enable|weight */
	ILBD_EV_SERVER_ENABLE,
	ILBD_EV_SERVER_WEIGHT,
	ILBD_EV_RELOAD,			/* result=ok|failed */
	ILBD_EV_MONITOR_START,		/* to a new subscriber only */
	ILBD_EV_MAX
};

#define ILBD_EVENT_FIELDS	5	/* key=value pairs of one event */
#define ILBD_EVENT_KEYLEN	16
#define ILBD_EVENT_VALLEN	256	/* a longer value is truncated */
/* Any event fits: every byte of a value may become "\u00XX". */
#define ILBD_EVENT_LINE_MAX	(64 + ILBD_EVENT_FIELDS *		\
	(ILBD_EVENT_KEYLEN + 8 + 6 * ILBD_EVENT_VALLEN))

enum ilbd_event_kind {
	ILBD_EVF_STR,			/* JSON string */
	ILBD_EVF_NUM,			/* JSON number (the value is digits) */
	ILBD_EVF_ID			/* a number if digits, else a string */
};

struct ilbd_event_field {
	char			key[ILBD_EVENT_KEYLEN];
	enum ilbd_event_kind	kind;
	char			val[ILBD_EVENT_VALLEN];
};

/* One event: fixed size, no allocation to build it. */
struct ilbd_event {
	enum ilbd_event_type	 type;
	time_t			 time;		/* wall clock, UTC */
	unsigned int		 nfields;
	struct ilbd_event_field	 f[ILBD_EVENT_FIELDS];
};

/*
 * A subscriber (a monitoring control client). write() gets each event
 * as one line ('\n' included) in its format; it may unsubscribe (and
 * free) the sink it is called for, no other.
 */
struct ilbd_event_sink {
	TAILQ_ENTRY(ilbd_event_sink) entry;
	int			 json;
	void			(*write)(void *, const char *, size_t);
	void			*arg;
};

/* "member-join", ... (NULL if out of range). */
const char	*ilbd_event_name(enum ilbd_event_type);

void		 ilbd_event_init(struct ilbd_event *, enum ilbd_event_type);
/* Add a field (dropped if there are ILBD_EVENT_FIELDS already). */
void		 ilbd_event_add(struct ilbd_event *, const char *,
		    enum ilbd_event_kind, const char *);
/*
 * The event as one line ending in '\n', text ("TIME NAME k=v ...",
 * values quoted when they need it) or JSON ({"time":...}). Returns its
 * length; buf of ILBD_EVENT_LINE_MAX always suffices.
 */
size_t		 ilbd_event_format(const struct ilbd_event *, int, char *,
		    size_t);

void		 ilbd_event_subscribe(struct ilbd_event_sink *);
void		 ilbd_event_unsubscribe(struct ilbd_event_sink *);
/* Subscribers now. */
unsigned int	 ilbd_event_subscribers(void);
/*
 * Stamp the event (if its time is 0), format it once per format in use,
 * and hand the line to every subscriber. Nothing to do without any.
 */
void		 ilbd_event_emit(struct ilbd_event *);
/* The same to one subscriber only. */
void		 ilbd_event_send(struct ilbd_event *, struct ilbd_event_sink *);

/* The hooks: one call where the event is logged. */
/* member-join|leave|dead id=ID addr=A [was=STATE] (was: NULL for none). */
void		 ilbd_event_member(enum ilbd_event_type, const char *,
		    const struct ilb_addr *, const char *);
/*
 * server-up|down|drain|enable|weight service=S server=A [weight=N]
 * [scope=cluster|local] (weight -1, scope NULL: none).
 */
void		 ilbd_event_server(enum ilbd_event_type, const char *,
		    const struct ilb_addr *, int, const char *);
/* reload result=ok message=M, or result=failed reason=M. */
void		 ilbd_event_reload(int, const char *);

#endif
