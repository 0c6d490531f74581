/* event.c: ilbctl monitor's events: formatted once, sent to each subscriber. */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "util.h"

/*
 * One list for the process: events come from every module (cluster,
 * health, admin, reload) and go to whoever monitors, whatever socket.
 */
static TAILQ_HEAD(, ilbd_event_sink) ilbd_event_sinks =
    TAILQ_HEAD_INITIALIZER(ilbd_event_sinks);
static unsigned int	ilbd_event_nsinks;

static const char *const ilbd_event_names[ILBD_EV_MAX] = {
	[ILBD_EV_MEMBER_JOIN] = "member-join",
	[ILBD_EV_MEMBER_LEAVE] = "member-leave",
	[ILBD_EV_MEMBER_DEAD] = "member-dead",
	[ILBD_EV_SERVER_UP] = "server-up",
	[ILBD_EV_SERVER_DOWN] = "server-down",
	[ILBD_EV_SERVER_DRAIN] = "server-drain",
	[ILBD_EV_SERVER_ENABLE] = "server-enable",
	[ILBD_EV_SERVER_WEIGHT] = "server-weight",
	[ILBD_EV_RELOAD] = "reload",
	[ILBD_EV_MONITOR_START] = "monitor-start"
};

/* Where the formatter writes: never past size - 1, NUL kept. */
struct ilbd_event_out {
	char	*buf;
	size_t	 size;
	size_t	 len;
};

const char *
ilbd_event_name(enum ilbd_event_type type)
{
	if ((unsigned int)type >= ILBD_EV_MAX)
		return (NULL);
	return (ilbd_event_names[type]);
}

void
ilbd_event_init(struct ilbd_event *ev, enum ilbd_event_type type)
{
	ev->type = type;
	ev->time = 0;
	ev->nfields = 0;
}

void
ilbd_event_add(struct ilbd_event *ev, const char *key,
    enum ilbd_event_kind kind, const char *val)
{
	struct ilbd_event_field	*f;

	if (ev->nfields >= ILBD_EVENT_FIELDS)
		return;
	f = &ev->f[ev->nfields++];
	util_strlcpy(f->key, key, sizeof(f->key));
	f->kind = kind;
	util_strlcpy(f->val, val != NULL ? val : "", sizeof(f->val));
}

static void
ilbd_event_put(struct ilbd_event_out *o, const char *s, size_t n)
{
	if (o->len + n >= o->size)
		n = o->size > o->len + 1 ? o->size - o->len - 1 : 0;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
ilbd_event_puts(struct ilbd_event_out *o, const char *s)
{
	ilbd_event_put(o, s, strlen(s));
}

/* Length (2..4) of the well-formed UTF-8 sequence at p, or 0. */
static size_t
ilbd_event_utf8(const unsigned char *p, size_t n)
{
	uint32_t	cp;
	size_t		len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return (0);
	if (n < len)
		return (0);
	cp = p[0] & (0xff >> (len + 1));
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* overlong, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (len);
}

/*
 * A value as a JSON string body (json) or inside text quotes: '"' and
 * '\' escaped, control bytes as \u00XX (JSON) or \xHH (text), UTF-8
 * kept, a byte that is not UTF-8 as U+FFFD (JSON) or \xHH (text).
 */
static void
ilbd_event_escape(struct ilbd_event_out *o, const char *s, int json)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), i, u;
	char			 esc[8];

	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			ilbd_event_put(o, esc, 2);
		} else if (p[i] >= 0x20 && p[i] < 0x7f)
			ilbd_event_put(o, (const char *)p + i, 1);
		else if (p[i] >= 0x80 && (u = ilbd_event_utf8(p + i, n - i))) {
			ilbd_event_put(o, (const char *)p + i, u);
			i += u - 1;
		} else if (json && p[i] >= 0x80)
			ilbd_event_puts(o, "\\ufffd");
		else {
			snprintf(esc, sizeof(esc), json ? "\\u%04x" : "\\x%02x",
			    p[i]);
			ilbd_event_puts(o, esc);
		}
	}
}

/* Text: a value is quoted if empty or if it has a space, '=', '"'... */
static int
ilbd_event_needs_quotes(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;

	if (*p == '\0')
		return (1);
	for (; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' ||
		    *p == '=')
			return (1);
	return (0);
}

static int
ilbd_event_digits(const char *s)
{
	size_t	n = strlen(s);

	/* up to 15 digits: exact in any JSON reader's double */
	if (n == 0 || n > 15 || (n > 1 && s[0] == '0'))
		return (0);
	return (strspn(s, "0123456789") == n);
}

size_t
ilbd_event_format(const struct ilbd_event *ev, int json, char *buf,
    size_t size)
{
	struct ilbd_event_out		 o = { buf, size, 0 };
	const struct ilbd_event_field	*f;
	const char			*name = ilbd_event_name(ev->type);
	struct tm			 tm;
	char				 ts[32];
	unsigned int			 i;
	int				 num;

	if (size == 0)
		return (0);
	buf[0] = '\0';
	if (gmtime_r(&ev->time, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		util_strlcpy(ts, "?", sizeof(ts));
	if (name == NULL)
		name = "?";
	ilbd_event_puts(&o, json ? "{\"time\":\"" : "");
	ilbd_event_puts(&o, ts);
	ilbd_event_puts(&o, json ? "\",\"event\":\"" : " ");
	ilbd_event_puts(&o, name);
	if (json)
		ilbd_event_puts(&o, "\"");
	for (i = 0; i < ev->nfields && i < ILBD_EVENT_FIELDS; i++) {
		f = &ev->f[i];
		num = f->kind == ILBD_EVF_NUM ||
		    (f->kind == ILBD_EVF_ID && ilbd_event_digits(f->val));
		if (json) {
			ilbd_event_puts(&o, ",\"");
			ilbd_event_escape(&o, f->key, 1);
			ilbd_event_puts(&o, "\":");
			if (num && ilbd_event_digits(f->val))
				ilbd_event_puts(&o, f->val);
			else {
				ilbd_event_puts(&o, "\"");
				ilbd_event_escape(&o, f->val, 1);
				ilbd_event_puts(&o, "\"");
			}
			continue;
		}
		ilbd_event_puts(&o, " ");
		ilbd_event_escape(&o, f->key, 0);
		ilbd_event_puts(&o, "=");
		if (ilbd_event_needs_quotes(f->val)) {
			ilbd_event_puts(&o, "\"");
			ilbd_event_escape(&o, f->val, 0);
			ilbd_event_puts(&o, "\"");
		} else
			ilbd_event_puts(&o, f->val);
	}
	if (json)
		ilbd_event_puts(&o, "}");
	/* the line always ends: the last byte makes room for '\n' */
	if (o.len + 1 >= size)
		o.len = size >= 2 ? size - 2 : 0;
	buf[o.len++] = '\n';
	buf[o.len] = '\0';
	return (o.len);
}

void
ilbd_event_subscribe(struct ilbd_event_sink *s)
{
	TAILQ_INSERT_TAIL(&ilbd_event_sinks, s, entry);
	ilbd_event_nsinks++;
}

void
ilbd_event_unsubscribe(struct ilbd_event_sink *s)
{
	TAILQ_REMOVE(&ilbd_event_sinks, s, entry);
	ilbd_event_nsinks--;
}

unsigned int
ilbd_event_subscribers(void)
{
	return (ilbd_event_nsinks);
}

/* Static: an event is formatted at most twice, on the loop's thread. */
static char	ilbd_event_line[2][ILBD_EVENT_LINE_MAX];

void
ilbd_event_emit(struct ilbd_event *ev)
{
	struct ilbd_event_sink	*s, *next;
	size_t			 len[2] = { 0, 0 };
	int			 j;

	if (TAILQ_EMPTY(&ilbd_event_sinks))
		return;
	if (ev->time == 0)
		ev->time = time(NULL);
	for (s = TAILQ_FIRST(&ilbd_event_sinks); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);	/* s may go away */
		j = s->json != 0;
		if (len[j] == 0)
			len[j] = ilbd_event_format(ev, j, ilbd_event_line[j],
			    sizeof(ilbd_event_line[j]));
		s->write(s->arg, ilbd_event_line[j], len[j]);
	}
}

void
ilbd_event_send(struct ilbd_event *ev, struct ilbd_event_sink *s)
{
	size_t	len;
	int	j = s->json != 0;

	if (ev->time == 0)
		ev->time = time(NULL);
	len = ilbd_event_format(ev, j, ilbd_event_line[j],
	    sizeof(ilbd_event_line[j]));
	s->write(s->arg, ilbd_event_line[j], len);
}

void
ilbd_event_member(enum ilbd_event_type type, const char *id,
    const struct ilb_addr *addr, const char *was)
{
	struct ilbd_event	ev;
	char			a[ILB_ADDRSTRLEN];

	if (TAILQ_EMPTY(&ilbd_event_sinks))
		return;
	ilbd_event_init(&ev, type);
	ilbd_event_add(&ev, "id", ILBD_EVF_ID, id);
	if (addr != NULL && addr->family != 0)
		ilbd_event_add(&ev, "addr", ILBD_EVF_STR,
		    util_addr_fmt(addr, a, sizeof(a)));
	if (was != NULL)
		ilbd_event_add(&ev, "was", ILBD_EVF_STR, was);
	ilbd_event_emit(&ev);
}

void
ilbd_event_server(enum ilbd_event_type type, const char *service,
    const struct ilb_addr *addr, int weight, const char *scope)
{
	struct ilbd_event	ev;
	char			a[ILB_ADDRSTRLEN], w[16];

	if (TAILQ_EMPTY(&ilbd_event_sinks))
		return;
	ilbd_event_init(&ev, type);
	ilbd_event_add(&ev, "service", ILBD_EVF_STR, service);
	ilbd_event_add(&ev, "server", ILBD_EVF_STR, addr != NULL ?
	    util_addr_fmt(addr, a, sizeof(a)) : "?");
	if (weight >= 0) {
		snprintf(w, sizeof(w), "%d", weight);
		ilbd_event_add(&ev, "weight", ILBD_EVF_NUM, w);
	}
	if (scope != NULL)
		ilbd_event_add(&ev, "scope", ILBD_EVF_STR, scope);
	ilbd_event_emit(&ev);
}

void
ilbd_event_reload(int ok, const char *msg)
{
	struct ilbd_event	ev;

	if (TAILQ_EMPTY(&ilbd_event_sinks))
		return;
	ilbd_event_init(&ev, ILBD_EV_RELOAD);
	ilbd_event_add(&ev, "result", ILBD_EVF_STR, ok ? "ok" : "failed");
	ilbd_event_add(&ev, ok ? "message" : "reason", ILBD_EVF_STR, msg);
	ilbd_event_emit(&ev);
}
