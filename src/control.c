/* control.c: the unix control socket: one ilbctl request per connection. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "control.h"
#include "ctl.h"
#include "event.h"
#include "log.h"
#include "util.h"

#define CONTROL_ACCEPT_BURST	64	/* accept() calls per wake-up */

enum control_state {
	CONTROL_READING,	/* waiting for the request line */
	CONTROL_DEFERRED,	/* the handler will answer later */
	CONTROL_WRITING,	/* answer queued; close once flushed */
	CONTROL_STREAMING	/* monitor: events until the client closes */
};

struct control_conn {
	TAILQ_ENTRY(control_conn) entry;
	struct control		*ctl;
	struct bufferevent	*bev;
	enum control_state	 state;
	struct ilbd_event_sink	 sink;		/* CONTROL_STREAMING */
};

struct control {
	struct event_base	*base;
	int			 fd;		/* listening socket */
	struct event		*ev_accept;
	struct event		*ev_resume;	/* after running out of fds */
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	control_handler		 handler;
	void			*arg;
	TAILQ_HEAD(, control_conn) conns;
	unsigned int		 nconns;
	struct control_conn	*current;	/* inside the handler */
	unsigned int		 flags;		/* CONTROL_READONLY */
	struct control_stats	 stats;
};

static int
control_sockaddr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (util_strlcpy(sun->sun_path, path, sizeof(sun->sun_path)) >=
	    sizeof(sun->sun_path))
		return (-1);
	return (0);
}

/* Remove path if it is a socket nobody answers on; refuse a live one. */
static int
control_check_stale(const char *path, char **cause)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			s, rv, saved;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return (0);
		return (util_cause(cause, "%s: %s", path, strerror(errno)));
	}
	if (!S_ISSOCK(st.st_mode))
		return (util_cause(cause, "%s: exists and is not a socket",
		    path));
	control_sockaddr(path, &sun);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return (util_cause(cause, "socket: %s", strerror(errno)));
	rv = connect(s, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	close(s);
	if (rv == 0 || saved == EAGAIN)
		return (util_cause(cause, "%s: another ilbd answers on this "
		    "control socket", path));
	if (saved != ECONNREFUSED && saved != ENOENT)
		return (util_cause(cause, "%s: %s", path, strerror(saved)));
	if (unlink(path) == -1 && errno != ENOENT)
		return (util_cause(cause, "%s: cannot remove stale socket: %s",
		    path, strerror(errno)));
	log_info("control: removed stale socket %s", path);
	return (0);
}

/*
 * Mode 0660, group ilbd if there is one; the read-only socket 0666 (it
 * changes nothing). A failure only warns.
 */
static void
control_perms(const char *path, unsigned int flags)
{
	struct group	*gr;

	if (chmod(path, (flags & CONTROL_READONLY) ? 0666 : 0660) == -1)
		log_warn("control: chmod %s", path);
	if ((gr = getgrnam(CONTROL_GROUP)) == NULL)
		return;
	if (chown(path, (uid_t)-1, gr->gr_gid) == -1)
		log_warn("control: chown %s to group %s", path, CONTROL_GROUP);
}

static int
control_listen(const char *path, unsigned int flags, char **cause)
{
	struct sockaddr_un	sun;
	mode_t			old;
	int			fd, rv;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return (util_cause(cause, "socket: %s", strerror(errno)));
	control_sockaddr(path, &sun);
	old = umask(0117);	/* never briefly world-writable */
	rv = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rv == -1) {
		util_cause(cause, "%s: bind: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	control_perms(path, flags);
	if (listen(fd, CONTROL_BACKLOG) == -1) {
		util_cause(cause, "%s: listen: %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return (-1);
	}
	return (fd);
}

static void
control_conn_free(struct control_conn *c)
{
	struct control	*ctl = c->ctl;

	TAILQ_REMOVE(&ctl->conns, c, entry);
	ctl->nconns--;
	if (c->state == CONTROL_STREAMING)
		ilbd_event_unsubscribe(&c->sink);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	free(c);
}

static void
control_conn_written(struct bufferevent *bev, void *arg)
{
	struct control_conn	*c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		control_conn_free(c);
}

static void
control_conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_conn	*c = arg;
	struct control		*ctl = c->ctl;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		ctl->stats.timeouts++;
		log_debug("control: client too slow %s, closed",
		    (what & BEV_EVENT_READING) ? "to send its request" :
		    "to take the answer");
	} else if (what & BEV_EVENT_ERROR)
		log_debug("control: client: %s", strerror(errno));
	else
		log_debug("control: client went away");
	control_conn_free(c);
}

/* Queue header and body (or "err\n"); the client is closed once sent. */
static void
control_conn_reply(struct control_conn *c, struct evbuffer *body,
    const char *err)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	char		 hdr[CTL_HDR_MAX], *line = NULL, *p;
	size_t		 len;

	c->ctl->stats.requests++;
	if (err != NULL) {
		c->ctl->stats.errors++;
		if (asprintf(&line, "%s\n", err) == -1)
			line = NULL;
		for (p = line; p != NULL && *p != '\0'; p++)
			if (*p == '\n' && p[1] != '\0')
				*p = ' ';	/* one line */
		len = line != NULL ? strlen(line) : 0;
	} else
		len = body != NULL ? evbuffer_get_length(body) : 0;
	ctl_resp_header_encode(hdr, sizeof(hdr), err == NULL, len);
	if (evbuffer_add(out, hdr, strlen(hdr)) == -1 ||
	    (line != NULL && evbuffer_add(out, line, len) == -1) ||
	    (err == NULL && body != NULL && evbuffer_add_buffer(out, body))) {
		log_warnx("control: out of memory queueing an answer");
		free(line);
		control_conn_free(c);
		return;
	}
	free(line);
	c->state = CONTROL_WRITING;
	bufferevent_setcb(c->bev, NULL, control_conn_written,
	    control_conn_event, c);
	bufferevent_enable(c->bev, EV_WRITE);
}

/* Anything but the request line is ignored; EOF closes (event cb). */
static void
control_stream_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_drain(bufferevent_get_input(bev),
	    evbuffer_get_length(bufferevent_get_input(bev)));
}

/*
 * An event for a monitoring client. One that does not keep up is
 * dropped rather than let its queue grow: it can connect again.
 */
static void
control_stream_write(void *arg, const char *line, size_t len)
{
	struct control_conn	*c = arg;
	struct evbuffer		*out = bufferevent_get_output(c->bev);

	if (evbuffer_get_length(out) + len > CONTROL_STREAM_MAX) {
		c->ctl->stats.timeouts++;
		log_info("control: monitor client %zu bytes behind, dropped",
		    evbuffer_get_length(out));
		control_conn_free(c);
		return;
	}
	if (evbuffer_add(out, line, len) == -1) {
		log_warnx("control: out of memory for a monitor client");
		control_conn_free(c);
	}
}

/* monitor [json]: the STREAM header, then every event as a line. */
static void
control_conn_stream(struct control_conn *c, const struct ctl_req *req)
{
	struct evbuffer		*out = bufferevent_get_output(c->bev);
	struct timeval		 wtv = { CONTROL_WRITE_TIMEOUT, 0 };
	struct ilbd_event	 ev;
	char			 hdr[CTL_HDR_MAX];
	int			 n;

	c->ctl->stats.requests++;
	n = ctl_resp_header_encode(hdr, sizeof(hdr), CTL_RESP_STREAM, 0);
	if (n <= 0 || evbuffer_add(out, hdr, (size_t)n) == -1) {
		control_conn_free(c);
		return;
	}
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	c->state = CONTROL_STREAMING;
	c->sink.json = req->json || (req->argc == 1 &&
	    strcmp(req->argv[0], "json") == 0);
	c->sink.write = control_stream_write;
	c->sink.arg = c;
	ilbd_event_subscribe(&c->sink);
	/* no read timeout: it may listen for days; a stuck one times out */
	bufferevent_set_timeouts(c->bev, NULL, &wtv);
	bufferevent_setcb(c->bev, control_stream_read, NULL,
	    control_conn_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	/* tells the client (and a test) that it is subscribed */
	ilbd_event_init(&ev, ILBD_EV_MONITOR_START);
	ilbd_event_add(&ev, "format", ILBD_EVF_STR, c->sink.json ? "json" :
	    "text");
	ilbd_event_add(&ev, "socket", ILBD_EVF_STR,
	    (c->ctl->flags & CONTROL_READONLY) ? "read-only" : "read-write");
	ilbd_event_send(&ev, &c->sink);
}

/* Decode the request line and answer it (or let the handler defer). */
static void
control_conn_dispatch(struct control_conn *c, const char *line, size_t len)
{
	struct control	*ctl = c->ctl;
	struct ctl_req	 req;
	struct evbuffer	*body;
	char		*cause = NULL;
	int		 rv;

	bufferevent_disable(c->bev, EV_READ);
	if ((rv = ctl_req_decode(line, len, &req, &cause)) == -2) {
		ctl->stats.malformed++;
		log_debug("control: client closed: %s",
		    cause ? cause : "malformed request");
		free(cause);
		control_conn_free(c);
		return;
	}
	if (rv == -1) {
		control_conn_reply(c, NULL, cause ? cause : "bad request");
		free(cause);
		return;
	}
	if ((ctl->flags & CONTROL_READONLY) && !ctl_cmd_readonly(req.cmd)) {
		log_debug("control: %s refused on the read-only socket",
		    ctl_cmd_name(req.cmd));
		control_conn_reply(c, NULL, CONTROL_RO_DENIED);
		return;
	}
	if (req.cmd == CTL_MONITOR) {
		control_conn_stream(c, &req);
		return;
	}
	if ((body = evbuffer_new()) == NULL) {
		control_conn_reply(c, NULL, "ilbd is out of memory");
		return;
	}
	ctl->current = c;
	rv = ctl->handler(ctl->arg, &req, body, &cause);
	ctl->current = NULL;
	if (c->state != CONTROL_READING) {
		/* deferred, perhaps already finished */
		if (rv == -1)
			log_warnx("control: %s: deferred and failed",
			    ctl_cmd_name(req.cmd));
	} else if (rv == 0)
		control_conn_reply(c, body, NULL);
	else
		control_conn_reply(c, NULL, cause ? cause : "failed");
	free(cause);
	evbuffer_free(body);
}

static void
control_conn_read(struct bufferevent *bev, void *arg)
{
	struct control_conn	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 eol;
	size_t			 eol_len, len;
	const char		*line;

	if (c->state != CONTROL_READING)
		return;
	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (eol.pos == -1 ? evbuffer_get_length(in) >= CTL_REQ_MAX :
	    (size_t)eol.pos + 1 > CTL_REQ_MAX) {
		c->ctl->stats.oversized++;
		log_debug("control: client closed: request longer than %d "
		    "bytes", CTL_REQ_MAX);
		control_conn_free(c);
		return;
	}
	if (eol.pos == -1)
		return;
	len = (size_t)eol.pos + 1;
	if ((line = (const char *)evbuffer_pullup(in, (ssize_t)len)) ==
	    NULL) {
		control_conn_free(c);
		return;
	}
	control_conn_dispatch(c, line, len);
}

static void
control_conn_new(struct control *ctl, int fd)
{
	struct control_conn	*c;
	struct timeval		 rtv = { CONTROL_READ_TIMEOUT, 0 };
	struct timeval		 wtv = { CONTROL_WRITE_TIMEOUT, 0 };

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->bev = bufferevent_socket_new(ctl->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("control: out of memory for a client");
		ctl->stats.accept_errors++;
		free(c);
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->state = CONTROL_READING;
	TAILQ_INSERT_TAIL(&ctl->conns, c, entry);
	ctl->nconns++;
	ctl->stats.accepted++;
	bufferevent_setcb(c->bev, control_conn_read, NULL, control_conn_event,
	    c);
	bufferevent_set_timeouts(c->bev, &rtv, &wtv);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CTL_REQ_MAX + 1);
	bufferevent_enable(c->bev, EV_READ);
}

/* Too many clients: say so in one non-blocking write, then close. */
static void
control_refuse(struct control *ctl, int fd)
{
	static const char	msg[] = "too many control clients, try again\n";
	char			hdr[CTL_HDR_MAX];
	int			n;

	ctl->stats.refused++;
	log_debug("control: %u clients, refusing one more", ctl->nconns);
	n = ctl_resp_header_encode(hdr, sizeof(hdr), 0, sizeof(msg) - 1);
	if (n > 0 && send(fd, hdr, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    n)
		(void)send(fd, msg, sizeof(msg) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void
control_resume(evutil_socket_t fd, short ev, void *arg)
{
	struct control	*ctl = arg;

	(void)fd;
	(void)ev;
	event_add(ctl->ev_accept, NULL);
}

static void
control_accept(evutil_socket_t lfd, short ev, void *arg)
{
	struct control	*ctl = arg;
	struct timeval	 tv = { 1, 0 };
	int		 fd, i;

	(void)ev;
	for (i = 0; i < CONTROL_ACCEPT_BURST; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			ctl->stats.accept_errors++;
			log_warn("control: accept");
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				event_del(ctl->ev_accept);	/* retry in 1 s */
				evtimer_add(ctl->ev_resume, &tv);
			}
			return;
		}
		if (ctl->nconns >= CONTROL_CLIENTS_MAX)
			control_refuse(ctl, fd);
		else
			control_conn_new(ctl, fd);
	}
}

struct control *
control_open(struct event_base *base, const char *path, unsigned int flags,
    control_handler handler, void *arg, char **cause)
{
	struct control		*ctl;
	struct sockaddr_un	 sun;

	*cause = NULL;
	if (path == NULL || *path == '\0' || control_sockaddr(path, &sun) ==
	    -1) {
		util_cause(cause, "control socket path empty or longer than "
		    "%zu bytes", sizeof(sun.sun_path) - 1);
		return (NULL);
	}
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL) {
		util_cause(cause, "out of memory");
		return (NULL);
	}
	ctl->base = base;
	ctl->handler = handler;
	ctl->arg = arg;
	ctl->flags = flags;
	TAILQ_INIT(&ctl->conns);
	util_strlcpy(ctl->path, path, sizeof(ctl->path));
	if (control_check_stale(path, cause) == -1 ||
	    (ctl->fd = control_listen(path, flags, cause)) == -1) {
		free(ctl);
		return (NULL);
	}
	ctl->ev_accept = event_new(base, ctl->fd, EV_READ | EV_PERSIST,
	    control_accept, ctl);
	ctl->ev_resume = evtimer_new(base, control_resume, ctl);
	if (ctl->ev_accept == NULL || ctl->ev_resume == NULL ||
	    event_add(ctl->ev_accept, NULL) == -1) {
		util_cause(cause, "%s: cannot set up events", path);
		control_close(ctl);
		return (NULL);
	}
	log_debug("control: listening on %s", path);
	return (ctl);
}

void
control_close(struct control *ctl)
{
	struct control_conn	*c;
	struct evbuffer		*out;

	if (ctl == NULL)
		return;
	if (ctl->ev_accept != NULL)
		event_free(ctl->ev_accept);
	if (ctl->ev_resume != NULL)
		event_free(ctl->ev_resume);
	close(ctl->fd);
	unlink(ctl->path);
	while ((c = TAILQ_FIRST(&ctl->conns)) != NULL) {
		/* Best effort: a short answer (leave's) usually fits. */
		if (c->bev != NULL && (c->state == CONTROL_WRITING ||
		    c->state == CONTROL_STREAMING)) {
			out = bufferevent_get_output(c->bev);
			if (evbuffer_get_length(out) > 0)
				(void)evbuffer_write(out,
				    bufferevent_getfd(c->bev));
		}
		control_conn_free(c);
	}
	free(ctl);
}

const struct control_stats *
control_stats(const struct control *ctl)
{
	return (&ctl->stats);
}

unsigned int
control_clients(const struct control *ctl)
{
	return (ctl->nconns);
}

struct control_conn *
control_defer(struct control *ctl)
{
	struct control_conn	*c = ctl->current;

	if (c != NULL)
		c->state = CONTROL_DEFERRED;
	return (c);
}

void
control_finish(struct control_conn *c, struct evbuffer *body,
    const char *err)
{
	if (c == NULL || c->state != CONTROL_DEFERRED)
		return;
	control_conn_reply(c, err == NULL ? body : NULL, err);
}
