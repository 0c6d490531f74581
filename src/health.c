/* health.c: TCP, HTTP and UDP health checks of every service's servers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* memmem */
#endif
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "health.h"
#include "log.h"
#include "util.h"

struct health_svc;

/* Bytes of an HTTP response read at most: the status line's first part. */
#define HEALTH_RBUF	32
/* A UDP check's answer is read whole: the largest datagram. */
#define HEALTH_UBUF	65536

/* One server: its check's socket and timers, and its rise/fall state. */
struct health_host {
	struct health_svc	*svc;
	unsigned int		 idx;		/* in the service's servers */
	struct ilb_addr		 addr;
	struct sockaddr_storage	 sa;		/* addr, service port */
	socklen_t		 salen;
	struct health_fsm	 fsm;
	int			 fd;		/* check in progress, or -1 */
	struct event		*ev_timer;	/* next check (NULL: none) */
	struct event		*ev_conn;	/* connect in progress */
	int			 last_error;	/* errno of the last failure, 0
						   once a check passes */
	int			 last_status;	/* HTTP status, 0 none */
	int			 last_result;	/* errno of the last check, 0
						   passed */
	uint64_t		 last_at;	/* ms, it ended; 0 none yet */
	uint64_t		 checks;
	uint64_t		 failures;
	uint64_t		 t0;		/* the check began (ms) */
	size_t			 rlen;		/* bytes in rbuf */
	size_t			 hostlen;
	char			 rbuf[HEALTH_RBUF];	/* status line */
	char			 hosthdr[ILB_ADDRSTRLEN + 8]; /* [v6]:port */
	char			 name[ILB_ADDRSTRLEN];
};

/* One service: a copy of its health settings and its servers. */
struct health_svc {
	struct health		*h;
	unsigned int		 idx;		/* in the configuration */
	char			 name[CONF_NAME_MAX + 1];
	struct health_conf	 conf;
	uint16_t		 port;		/* checked: health.port or the
						   service's */
	size_t			 headlen;
	char			 head[CONF_HTTP_METHOD_MAX +
				    CONF_HTTP_PATH_MAX + 32]; /* request line */
	struct health_host	*hosts;
	unsigned int		 nhosts;
	unsigned int		 nup;		/* hosts up */
};

struct health {
	struct event_base	*base;
	health_cb		 cb;
	void			*arg;
	struct health_svc	*svc;
	unsigned int		 nsvc;
	struct health_stats	 stats;
	/* one UDP answer at a time, matched as soon as it is read */
	uint8_t			 ubuf[HEALTH_UBUF];
};

static int	health_build(struct health *, const struct ilbd_conf *,
		    struct health_svc **, unsigned int *, char **);
static void	health_free_svcs(struct health_svc *, unsigned int);
static int	health_start(struct health *, char **);
static void	health_carry(struct health_svc *, const struct health_svc *);
static void	health_host_timer(evutil_socket_t, short, void *);
static void	health_host_check(struct health_host *);
static void	health_host_connected(evutil_socket_t, short, void *);
static void	health_host_end(struct health_host *);
static void	health_host_result(struct health_host *, int);
static void	health_host_transition(struct health_host *, int, int);
static void	health_host_unwatch(struct health_host *);
static int	health_host_watch(struct health_host *, short,
		    event_callback_fn);
static void	health_http_send(struct health_host *);
static void	health_http_readable(evutil_socket_t, short, void *);
static void	health_udp_check(struct health_host *, int);
static void	health_udp_readable(evutil_socket_t, short, void *);
static const char *health_why(const struct health_host *, int, char *,
		    size_t);

void
health_fsm_init(struct health_fsm *f, int up)
{
	f->up = up != 0;
	f->fresh = up == 0;
	f->nok = 0;
	f->nfail = 0;
}

int
health_fsm_feed(struct health_fsm *f, int ok, uint32_t rise, uint32_t fall)
{
	if (rise == 0)
		rise = 1;
	if (fall == 0)
		fall = 1;
	if (ok) {
		f->nfail = 0;
		if (f->nok < UINT32_MAX)
			f->nok++;
		if (!f->up && (f->nok >= rise || f->fresh)) {
			f->up = 1;
			f->fresh = 0;
			return (1);
		}
	} else {
		f->nok = 0;
		if (f->nfail < UINT32_MAX)
			f->nfail++;
		if (f->up && f->nfail >= fall) {
			f->up = 0;
			return (1);
		}
	}
	return (0);
}

uint32_t
health_first_delay(unsigned int i, unsigned int n, uint32_t interval_ms)
{
	if (n == 0)
		return (0);
	return ((uint32_t)((uint64_t)interval_ms * (i % n) / n));
}

/* The address of a server on the service's port. */
static socklen_t
health_sockaddr(const struct ilb_addr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->u.v4;
		return (sizeof(*sin));
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = a->u.v6;
	return (sizeof(*sin6));
}

/* Copy what the checks need from conf into a new array; nothing runs yet. */
static int
health_build(struct health *h, const struct ilbd_conf *conf,
    struct health_svc **out, unsigned int *nout, char **cause)
{
	struct health_svc		*svcs, *s;
	struct health_host		*hh;
	const struct service_conf	*sc;
	unsigned int			 i, j;

	*out = NULL;
	*nout = 0;
	if (conf->nservices == 0)
		return (0);
	if ((svcs = calloc(conf->nservices, sizeof(*svcs))) == NULL)
		return (util_cause(cause, "health: %s", strerror(errno)));
	for (i = 0; i < conf->nservices; i++) {
		sc = &conf->services[i];
		s = &svcs[i];
		s->h = h;
		s->idx = i;
		util_strlcpy(s->name, sc->name, sizeof(s->name));
		s->conf = sc->health;
		s->port = sc->health.port != 0 ? sc->health.port : sc->port;
		s->nhosts = sc->nservers;
		s->nup = 0;
		if (s->conf.check == CHECK_HTTP && (s->headlen =
		    health_http_head(&s->conf, s->head, sizeof(s->head))) == 0) {
			util_cause(cause, "health: service %s: request line "
			    "too long", s->name);
			health_free_svcs(svcs, i + 1);
			return (-1);
		}
		if (sc->nservers == 0)
			continue;
		if ((s->hosts = calloc(sc->nservers, sizeof(*s->hosts))) ==
		    NULL) {
			util_cause(cause, "health: %s", strerror(errno));
			health_free_svcs(svcs, i + 1);
			return (-1);
		}
		for (j = 0; j < sc->nservers; j++) {
			hh = &s->hosts[j];
			hh->svc = s;
			hh->idx = j;
			hh->fd = -1;
			hh->addr = sc->servers[j].addr;
			hh->salen = health_sockaddr(&hh->addr, s->port,
			    &hh->sa);
			health_fsm_init(&hh->fsm, s->conf.check == CHECK_NONE ||
			    s->conf.initial_up);
			s->nup += hh->fsm.up;
			util_addr_fmt(&hh->addr, hh->name, sizeof(hh->name));
			if (s->conf.check == CHECK_HTTP)
				hh->hostlen = health_http_host(&s->conf,
				    &hh->addr, s->port, hh->hosthdr,
				    sizeof(hh->hosthdr));
		}
	}
	*out = svcs;
	*nout = conf->nservices;
	return (0);
}

/* Stop every check of svcs and free them. */
static void
health_free_svcs(struct health_svc *svcs, unsigned int n)
{
	struct health_host	*hh;
	unsigned int		 i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < svcs[i].nhosts && svcs[i].hosts != NULL; j++) {
			hh = &svcs[i].hosts[j];
			health_host_end(hh);
			if (hh->ev_timer != NULL)
				event_free(hh->ev_timer);
		}
		free(svcs[i].hosts);
	}
	free(svcs);
}

/* Arm the first check of every checked server, spread over its interval. */
static int
health_start(struct health *h, char **cause)
{
	struct health_svc	*s;
	struct health_host	*hh;
	struct timeval		 tv;
	unsigned int		 i, j, k, n = 0;
	uint32_t		 ms;

	for (i = 0; i < h->nsvc; i++)
		if (h->svc[i].conf.check != CHECK_NONE)
			n += h->svc[i].nhosts;
	for (i = 0, k = 0; i < h->nsvc; i++) {
		s = &h->svc[i];
		if (s->conf.check == CHECK_NONE)
			continue;
		for (j = 0; j < s->nhosts; j++, k++) {
			hh = &s->hosts[j];
			hh->ev_timer = evtimer_new(h->base, health_host_timer,
			    hh);
			ms = health_first_delay(k, n, s->conf.interval_ms);
			tv.tv_sec = ms / 1000;
			tv.tv_usec = (ms % 1000) * 1000;
			if (hh->ev_timer == NULL ||
			    evtimer_add(hh->ev_timer, &tv) == -1)
				return (util_cause(cause, "health: cannot set "
				    "up the timer of service %s server %s",
				    s->name, hh->name));
		}
	}
	return (0);
}

struct health *
health_open(struct event_base *base, const struct ilbd_conf *conf,
    health_cb cb, void *arg, char **cause)
{
	struct health	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		util_cause(cause, "health: %s", strerror(errno));
		return (NULL);
	}
	h->base = base;
	h->cb = cb;
	h->arg = arg;
	h->stats.h = h;
	if (health_build(h, conf, &h->svc, &h->nsvc, cause) == -1) {
		free(h);
		return (NULL);
	}
	if (health_start(h, cause) == -1) {
		health_close(h);
		return (NULL);
	}
	return (h);
}

/* Copy the state of the servers of old that are also in s (by address). */
static void
health_carry(struct health_svc *s, const struct health_svc *old)
{
	struct health_host		*hh;
	const struct health_host	*oh;
	unsigned int			 j, k;

	s->nup = 0;
	for (j = 0; j < s->nhosts; j++) {
		hh = &s->hosts[j];
		oh = NULL;
		/* unchanged lists match at the same index: try it first */
		if (j < old->nhosts && util_addr_eq(&old->hosts[j].addr,
		    &hh->addr))
			oh = &old->hosts[j];
		for (k = 0; oh == NULL && k < old->nhosts; k++)
			if (util_addr_eq(&old->hosts[k].addr, &hh->addr))
				oh = &old->hosts[k];
		if (oh != NULL && s->conf.check != CHECK_NONE &&
		    old->conf.check != CHECK_NONE) {
			hh->fsm = oh->fsm;
			hh->last_error = oh->last_error;
			hh->last_status = oh->last_status;
			hh->last_result = oh->last_result;
			hh->last_at = oh->last_at;
			hh->checks = oh->checks;
			hh->failures = oh->failures;
		} else if (oh != NULL)	/* unchecked, then up: it stays up */
			health_fsm_init(&hh->fsm, 1);
		s->nup += hh->fsm.up;
	}
}

int
health_reload(struct health *h, const struct ilbd_conf *conf, char **cause)
{
	struct health_svc	*svcs, *old;
	unsigned int		 n, nold, i, k;

	if (health_build(h, conf, &svcs, &n, cause) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		for (k = 0; k < h->nsvc; k++)
			if (strcmp(h->svc[k].name, svcs[i].name) == 0)
				break;
		if (k < h->nsvc)
			health_carry(&svcs[i], &h->svc[k]);
	}
	old = h->svc;
	nold = h->nsvc;
	h->svc = svcs;
	h->nsvc = n;
	if (health_start(h, cause) == -1) {
		health_free_svcs(svcs, n);
		h->svc = old;
		h->nsvc = nold;
		return (-1);
	}
	health_free_svcs(old, nold);
	health_sync(h);
	return (0);
}

void
health_sync(struct health *h)
{
	unsigned int	i, j;

	for (i = 0; i < h->nsvc; i++)
		for (j = 0; j < h->svc[i].nhosts; j++)
			if (!h->svc[i].hosts[j].fsm.up && h->cb != NULL)
				h->cb(h->arg, i, j, 0);
}

void
health_close(struct health *h)
{
	if (h == NULL)
		return;
	health_free_svcs(h->svc, h->nsvc);
	free(h);
}

/* Time for the next check: re-arm (fixed cadence), then connect. */
static void
health_host_timer(evutil_socket_t fd, short what, void *arg)
{
	struct health_host	*hh = arg;
	uint32_t		 ms = hh->svc->conf.interval_ms;
	struct timeval		 tv = { ms / 1000, (ms % 1000) * 1000 };

	(void)fd;
	(void)what;
	evtimer_add(hh->ev_timer, &tv);
	/* timeout_ms == interval_ms: the last check ends now, as a timeout */
	if (hh->ev_conn != NULL) {
		hh->svc->h->stats.timeouts++;
		health_host_end(hh);
		health_host_result(hh, ETIMEDOUT);
	}
	health_host_check(hh);
}

/* Start one check: a non-blocking connect, watched for timeout_ms. */
static void
health_host_check(struct health_host *hh)
{
	struct health	*h = hh->svc->h;
	int		 fd, err;

	hh->t0 = util_now_ms();
	hh->last_status = 0;
	if (hh->svc->conf.check == CHECK_UDP) {
		fd = socket(hh->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, IPPROTO_UDP);
		if (fd == -1) {
			h->stats.errors++;
			log_debug("service %s: server %s: no check: socket: "
			    "%s", hh->svc->name, hh->name, strerror(errno));
			return;
		}
		health_udp_check(hh, fd);
		return;
	}
	fd = socket(hh->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd == -1) {
		h->stats.errors++;
		log_debug("service %s: server %s: no check: socket: %s",
		    hh->svc->name, hh->name, strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&hh->sa, hh->salen) == 0) {
		hh->fd = fd;
		if (hh->svc->conf.check == CHECK_HTTP) {
			health_http_send(hh);
			return;
		}
		health_host_end(hh);
		health_host_result(hh, 0);
		return;
	}
	if (errno != EINPROGRESS) {
		err = errno;
		close(fd);
		health_host_result(hh, err);
		return;
	}
	hh->fd = fd;
	health_host_watch(hh, EV_WRITE, health_host_connected);
}

/*
 * Watch the check's socket for what, within what is left of timeout_ms;
 * the time is up: a timeout.  Returns 0, or -1 with the check ended.
 */
static int
health_host_watch(struct health_host *hh, short what, event_callback_fn fn)
{
	struct health	*h = hh->svc->h;
	uint64_t	 now = util_now_ms(), ms = hh->svc->conf.timeout_ms;
	struct timeval	 tv;

	if (now - hh->t0 >= ms) {
		h->stats.timeouts++;
		health_host_end(hh);
		health_host_result(hh, ETIMEDOUT);
		return (-1);
	}
	ms -= now - hh->t0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	hh->ev_conn = event_new(h->base, hh->fd, what, fn, hh);
	if (hh->ev_conn == NULL || event_add(hh->ev_conn, &tv) == -1) {
		h->stats.errors++;
		log_debug("service %s: server %s: no check: cannot add the "
		    "event", hh->svc->name, hh->name);
		health_host_end(hh);
		return (-1);
	}
	return (0);
}

/* Stop watching the socket, keep it open. */
static void
health_host_unwatch(struct health_host *hh)
{
	if (hh->ev_conn != NULL) {
		event_free(hh->ev_conn);
		hh->ev_conn = NULL;
	}
}

/*
 * Connected: the request in one send (it is small, the socket buffer is
 * empty), then the status line is awaited.
 */
static void
health_http_send(struct health_host *hh)
{
	struct health_svc	*s = hh->svc;
	struct iovec		 iov[3];
	struct msghdr		 msg;
	ssize_t			 n;
	size_t			 len;
	int			 err;

	iov[0].iov_base = s->head;
	iov[0].iov_len = s->headlen;
	iov[1].iov_base = hh->hosthdr;
	iov[1].iov_len = hh->hostlen;
	iov[2].iov_base = (void *)(uintptr_t)HEALTH_HTTP_TAIL;
	iov[2].iov_len = sizeof(HEALTH_HTTP_TAIL) - 1;
	len = iov[0].iov_len + iov[1].iov_len + iov[2].iov_len;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = 3;
	n = sendmsg(hh->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 || (size_t)n != len) {
		err = n < 0 ? errno : EMSGSIZE;
		health_host_end(hh);
		health_host_result(hh, err);
		return;
	}
	hh->rlen = 0;
	health_host_watch(hh, EV_READ, health_http_readable);
}

/* Some of the response, its end, or the time is up. */
static void
health_http_readable(evutil_socket_t fd, short what, void *arg)
{
	struct health_host	*hh = arg;
	const struct health_conf *hc = &hh->svc->conf;
	ssize_t			 n;
	int			 st, err;

	health_host_unwatch(hh);
	if (what & EV_TIMEOUT) {
		hh->svc->h->stats.timeouts++;
		health_host_end(hh);
		health_host_result(hh, ETIMEDOUT);
		return;
	}
	n = recv(fd, hh->rbuf + hh->rlen, sizeof(hh->rbuf) - hh->rlen,
	    MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR)) {
		health_host_watch(hh, EV_READ, health_http_readable);
		return;
	}
	if (n < 0) {
		err = errno;
		health_host_end(hh);
		health_host_result(hh, err);
		return;
	}
	hh->rlen += (size_t)n;
	st = health_http_status(hh->rbuf, hh->rlen);
	if (st == 0 && n > 0 && hh->rlen < sizeof(hh->rbuf)) {
		health_host_watch(hh, EV_READ, health_http_readable);
		return;
	}
	/* a status, or none: closed early, not HTTP, or too long */
	hh->last_status = st > 0 ? st : 0;
	health_host_end(hh);
	health_host_result(hh, st >= hc->status_min && st <= hc->status_max ?
	    0 : EPROTO);
}

/*
 * issue 22: check = "udp".  The socket is connected, so that an ICMP port
 * unreachable comes back as ECONNREFUSED (the check fails at once) and
 * only the server's datagrams are received; one datagram is sent and one
 * answer awaited within timeout_ms.
 */
static void
health_udp_check(struct health_host *hh, int fd)
{
	const struct health_conf	*hc = &hh->svc->conf;
	ssize_t				 n;
	int				 err;

	hh->fd = fd;
	if (connect(fd, (struct sockaddr *)&hh->sa, hh->salen) == -1)
		err = errno;
	else if ((n = send(fd, hc->send, hc->sendlen, MSG_DONTWAIT)) < 0)
		err = errno;
	else if ((size_t)n != hc->sendlen)
		err = EMSGSIZE;
	else {
		health_host_watch(hh, EV_READ, health_udp_readable);
		return;
	}
	health_host_end(hh);
	health_host_result(hh, err);
}

/* An answer, an ICMP error, or the time is up. */
static void
health_udp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct health_host		*hh = arg;
	struct health			*h = hh->svc->h;
	const struct health_conf	*hc = &hh->svc->conf;
	ssize_t				 n;
	int				 err;

	health_host_unwatch(hh);
	if (what & EV_TIMEOUT) {
		h->stats.timeouts++;
		health_host_end(hh);
		health_host_result(hh, ETIMEDOUT);
		return;
	}
	n = recv(fd, h->ubuf, sizeof(h->ubuf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR)) {
		health_host_watch(hh, EV_READ, health_udp_readable);
		return;
	}
	if (n < 0)
		err = errno;
	else if (hc->expectlen == 0 || memmem(h->ubuf, (size_t)n, hc->expect,
	    hc->expectlen) != NULL)
		err = 0;
	else
		err = EPROTO;	/* an answer without expect */
	health_host_end(hh);
	health_host_result(hh, err);
}

/* The connect completed, failed or timed out. */
static void
health_host_connected(evutil_socket_t fd, short what, void *arg)
{
	struct health_host	*hh = arg;
	socklen_t		 len = sizeof(int);
	int			 err = 0;

	if (what & EV_TIMEOUT) {
		hh->svc->h->stats.timeouts++;
		err = ETIMEDOUT;
	} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0 && hh->svc->conf.check == CHECK_HTTP) {
		health_host_unwatch(hh);
		health_http_send(hh);
		return;
	}
	health_host_end(hh);
	health_host_result(hh, err);
}

/* Drop the check in progress, if any. */
static void
health_host_end(struct health_host *hh)
{
	if (hh->ev_conn != NULL) {
		event_free(hh->ev_conn);
		hh->ev_conn = NULL;
	}
	if (hh->fd != -1) {
		close(hh->fd);
		hh->fd = -1;
	}
}

/* Why a check failed: errno, or for "http" what the server answered. */
static const char *
health_why(const struct health_host *hh, int err, char *buf, size_t len)
{
	const struct health_conf	*hc = &hh->svc->conf;

	if (err == EPROTO && hc->check == CHECK_UDP)
		return ("wrong answer: expect not found");
	if (err != EPROTO || hc->check != CHECK_HTTP)
		return (strerror(err));
	if (hh->last_status == 0)
		snprintf(buf, len, "no HTTP status line");
	else if (hc->status_min == hc->status_max)
		snprintf(buf, len, "HTTP status %d, expected %u",
		    hh->last_status, hc->status_min);
	else
		snprintf(buf, len, "HTTP status %d, expected %u-%u",
		    hh->last_status, hc->status_min, hc->status_max);
	return (buf);
}

/* Count one result (err 0: success) and feed it to the state machine. */
static void
health_host_result(struct health_host *hh, int err)
{
	struct health_svc	*s = hh->svc;
	char			 why[64];
	int			 fresh = hh->fsm.fresh;

	s->h->stats.checks++;
	hh->checks++;
	hh->last_result = err;
	hh->last_at = util_now_ms();
	if (err != 0) {
		s->h->stats.failures++;
		hh->failures++;
		hh->last_error = err;
		log_trace("service %s: server %s: check failed: %s", s->name,
		    hh->name, health_why(hh, err, why, sizeof(why)));
	} else
		hh->last_error = 0;	/* no stale error once it passes */
	if (health_fsm_feed(&hh->fsm, err == 0, s->conf.rise, s->conf.fall))
		health_host_transition(hh, err, fresh);
}

/* Log a transition once, keep the service's count, tell the daemon. */
static void
health_host_transition(struct health_host *hh, int err, int fresh)
{
	struct health_svc	*s = hh->svc;
	struct health		*h = s->h;
	char			 why[64];

	if (hh->fsm.up && fresh) {
		h->stats.ups++;
		log_info("service %s: server %s is up (first check succeeded)",
		    s->name, hh->name);
	} else if (hh->fsm.up) {
		h->stats.ups++;
		log_info("service %s: server %s is up (%u checks succeeded)",
		    s->name, hh->name, hh->fsm.nok);
	}
	if (hh->fsm.up) {
		if (s->nup++ == 0)
			log_info("service %s: a server is up again: new "
			    "connections are accepted", s->name);
	} else {
		h->stats.downs++;
		log_info("service %s: server %s is down "
		    "(%u checks failed: %s)", s->name, hh->name,
		    hh->fsm.nfail, health_why(hh, err, why, sizeof(why)));
		if (s->nup > 0 && --s->nup == 0)
			log_warnx("service %s: no server is up: new "
			    "connections are dropped", s->name);
	}
	if (h->cb != NULL)
		h->cb(h->arg, s->idx, hh->idx, hh->fsm.up);
}

const char *
health_service_name(const struct health *h, unsigned int svc)
{
	if (h == NULL || svc >= h->nsvc)
		return (NULL);
	return (h->svc[svc].name);
}

const struct ilb_addr *
health_server_addr(const struct health *h, unsigned int svc,
    unsigned int srv)
{
	if (h == NULL || svc >= h->nsvc || srv >= h->svc[svc].nhosts)
		return (NULL);
	return (&h->svc[svc].hosts[srv].addr);
}

int
health_state(const struct health *h, unsigned int svc, unsigned int srv)
{
	if (h == NULL || svc >= h->nsvc || srv >= h->svc[svc].nhosts)
		return (1);
	return (h->svc[svc].hosts[srv].fsm.up);
}

int
health_info(const struct health *h, unsigned int svc, unsigned int srv,
    struct health_info *hi)
{
	const struct health_svc		*s;
	const struct health_host	*hh;

	if (h == NULL || svc >= h->nsvc || srv >= h->svc[svc].nhosts)
		return (-1);
	s = &h->svc[svc];
	hh = &s->hosts[srv];
	memset(hi, 0, sizeof(*hi));
	hi->checked = s->conf.check != CHECK_NONE;
	hi->up = hh->fsm.up;
	hi->nok = hh->fsm.nok;
	hi->nfail = hh->fsm.nfail;
	hi->last_error = hh->last_error;
	hi->last_status = hh->last_status;
	hi->checks = hh->checks;
	hi->failures = hh->failures;
	return (0);
}

const struct health_stats *
health_stats(const struct health *h)
{
	return (&h->stats);
}

/* The host of service name with address a, or NULL. */
static const struct health_host *
health_host_find(const struct health *h, const char *name,
    const struct ilb_addr *a)
{
	const struct health_svc	*s;
	unsigned int		 i, j;

	for (i = 0; i < h->nsvc; i++) {
		s = &h->svc[i];
		if (strcmp(s->name, name) != 0)
			continue;
		for (j = 0; j < s->nhosts; j++)
			if (util_addr_eq(&s->hosts[j].addr, a))
				return (&s->hosts[j]);
	}
	return (NULL);
}

int
health_last_check(const struct health_stats *st, const char *name,
    const struct ilb_addr *a, struct health_check *hc)
{
	const struct health_host	*hh;
	char				 why[64];

	memset(hc, 0, sizeof(*hc));
	if (st == NULL || st->h == NULL ||
	    (hh = health_host_find(st->h, name, a)) == NULL)
		return (-1);
	hc->checked = hh->svc->conf.check != CHECK_NONE;
	hc->at_ms = hh->last_at;
	hc->err = hh->last_result;
	/* health_why() returns strerror() without filling its buffer */
	if (hc->at_ms != 0 && hc->err != 0)
		util_strlcpy(hc->why, health_why(hh, hc->err, why,
		    sizeof(why)), sizeof(hc->why));
	else if (hc->at_ms != 0)
		util_strlcpy(hc->why, "ok", sizeof(hc->why));
	return (0);
}

const char *
health_check_text(const struct health_check *hc)
{
	if (!hc->checked)
		return ("-");
	if (hc->at_ms == 0)
		return ("pending");
	return (hc->why);
}
