/* test_control.c: the control socket, driven by clients in the test process. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "control.h"
#include "ctl.h"
#include "event.h"
#include "log.h"
#include "util.h"

#define NCLIENTS	100

struct fixture {
	char			 dir[64];
	char			 path[128];
	struct event_base	*base;
	struct control		*ctl;
	struct event		*ev_finish;
	struct control_conn	*pending;
	int			 calls;
};

/* The fake ilbd: members answers, reload fails, leave answers later. */
static int
fake_handler(void *arg, const struct ctl_req *req, struct evbuffer *out,
    char **err)
{
	struct fixture	*fx = arg;
	struct timeval	 tv = { 0, 50000 };

	fx->calls++;
	switch (req->cmd) {
	case CTL_SHOW_MEMBERS:
		evbuffer_add_printf(out, "members json=%d\n", req->json);
		return (0);
	case CTL_LEAVE:
		fx->pending = control_defer(fx->ctl);
		evtimer_add(fx->ev_finish, &tv);
		return (0);
	default:
		evbuffer_add_printf(out, "partial output, discarded\n");
		*err = strdup("reload failed:\nbad config");
		return (-1);
	}
}

static void
fake_finish(evutil_socket_t fd, short ev, void *arg)
{
	struct fixture	*fx = arg;
	struct evbuffer	*b = evbuffer_new();

	(void)fd;
	(void)ev;
	evbuffer_add_printf(b, "left\n");
	control_finish(fx->pending, b, NULL);
	evbuffer_free(b);
}

static int
setup(void **state)
{
	struct fixture	*fx;
	char		*cause = NULL;

	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	util_strlcpy(fx->dir, "/tmp/test_control.XXXXXX", sizeof(fx->dir));
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/ilbd.sock", fx->dir);
	assert_non_null(fx->base = event_base_new());
	fx->ev_finish = evtimer_new(fx->base, fake_finish, fx);
	fx->ctl = control_open(fx->base, fx->path, 0, fake_handler, fx, &cause);
	if (fx->ctl == NULL)
		fail_msg("control_open: %s", cause);
	*state = fx;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture	*fx = *state;

	control_close(fx->ctl);
	event_free(fx->ev_finish);
	event_base_free(fx->base);
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return (0);
}

static int
client_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fail_msg("connect %s: %s", path, strerror(errno));
	return (fd);
}

static void
client_send(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL),
	    (ssize_t)strlen(s));
}

static void
pump(struct fixture *fx)
{
	event_base_loop(fx->base, EVLOOP_NONBLOCK);
}

/* Run the loop until every fd saw EOF; bufs[i] gets what fds[i] read. */
static void
client_read_all(struct fixture *fx, int *fds, char bufs[][256], int n)
{
	size_t	 len[NCLIENTS] = { 0 };
	int	 done[NCLIENTS] = { 0 }, left = n, i;
	ssize_t	 r;
	time_t	 deadline = time(NULL) + 60;

	while (left > 0) {
		if (time(NULL) > deadline)
			fail_msg("%d clients got no EOF within 10 s", left);
		pump(fx);
		for (i = 0; i < n; i++) {
			if (done[i])
				continue;
			r = recv(fds[i], bufs[i] + len[i], 255 - len[i],
			    MSG_DONTWAIT);
			if (r > 0) {
				len[i] += (size_t)r;
				continue;
			}
			if (r == -1 && errno == EAGAIN)
				continue;
			bufs[i][len[i]] = '\0';
			done[i] = 1;
			left--;
		}
		usleep(1000);
	}
}

/* One request on a new connection; returns the whole answer. */
static void
ask(struct fixture *fx, const char *req, char *buf)
{
	int	fd = client_connect(fx->path);

	client_send(fd, req);
	client_read_all(fx, &fd, (char (*)[256])buf, 1);
	close(fd);
}

static void
test_answered(void **state)
{
	struct fixture	*fx = *state;
	char		 buf[256];

	ask(fx, "ILBCTL/1 json sh mem\n", buf);
	assert_string_equal(buf, "ILBCTL/1 OK 15\nmembers json=1\n");
	ask(fx, "ILBCTL/1 show members\n", buf);
	assert_string_equal(buf, "ILBCTL/1 OK 15\nmembers json=0\n");
	assert_int_equal(control_stats(fx->ctl)->requests, 2);
	assert_int_equal(control_stats(fx->ctl)->errors, 0);
	assert_int_equal(control_clients(fx->ctl), 0);
}

static void
test_errors(void **state)
{
	struct fixture	*fx = *state;
	char		 buf[256];

	ask(fx, "ILBCTL/1 reload\n", buf);
	assert_string_equal(buf, "ILBCTL/1 ERR 26\nreload failed: bad config\n");
	ask(fx, "ILBCTL/1 show frob\n", buf);
	assert_string_equal(buf, "ILBCTL/1 ERR 110\nshow: unknown word 'frob'; "
	    "expected one of members, services, servers, connections, cache, "
	    "stats, owner, info\n");
	ask(fx, "ILBCTL/7 show members\n", buf);
	assert_non_null(strstr(buf, "ilbctl speaks protocol version 7, this "
	    "ilbd speaks 1"));
	assert_int_equal(fx->calls, 1);	/* bad requests never reach it */
	assert_int_equal(control_stats(fx->ctl)->errors, 3);
}

static void
test_deferred(void **state)
{
	struct fixture	*fx = *state;
	char		 buf[256];

	ask(fx, "ILBCTL/1 leave\n", buf);
	assert_string_equal(buf, "ILBCTL/1 OK 5\nleft\n");
}

static void
test_malformed_closes_one(void **state)
{
	struct fixture	*fx = *state;
	char		 bufs[2][256];
	int		 fds[2];

	fds[0] = client_connect(fx->path);
	fds[1] = client_connect(fx->path);
	client_send(fds[1], "GET / HTTP/1.0\r\n");
	client_read_all(fx, &fds[1], &bufs[1], 1);
	assert_string_equal(bufs[1], "");	/* closed, no answer */
	assert_int_equal(control_stats(fx->ctl)->malformed, 1);
	assert_int_equal(control_clients(fx->ctl), 1);
	client_send(fds[0], "ILBCTL/1 show members\n");
	client_read_all(fx, &fds[0], &bufs[0], 1);
	assert_string_equal(bufs[0], "ILBCTL/1 OK 15\nmembers json=0\n");
	close(fds[0]);
	close(fds[1]);
}

static void
test_oversized(void **state)
{
	struct fixture	*fx = *state;
	char		 big[2000], buf[256];
	int		 fd;

	/* No newline at all. */
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	ask(fx, big, buf);
	assert_string_equal(buf, "");
	/* A newline, but after CTL_REQ_MAX bytes. */
	memset(big, ' ', sizeof(big));
	memcpy(big, "ILBCTL/1 leave", 14);
	big[CTL_REQ_MAX] = '\n';
	big[CTL_REQ_MAX + 1] = '\0';
	ask(fx, big, buf);
	assert_string_equal(buf, "");
	assert_int_equal(control_stats(fx->ctl)->oversized, 2);
	/* Exactly CTL_REQ_MAX bytes is fine. */
	memcpy(big, "ILBCTL/1 show members", 21);
	big[CTL_REQ_MAX - 1] = '\n';
	big[CTL_REQ_MAX] = '\0';
	ask(fx, big, buf);
	assert_string_equal(buf, "ILBCTL/1 OK 15\nmembers json=0\n");
	/* The server is fine. */
	fd = client_connect(fx->path);
	close(fd);
}

static void
test_many_clients(void **state)
{
	struct fixture	*fx = *state;
	static char	 bufs[NCLIENTS][256];
	int		 fds[NCLIENTS], i, ok = 0, refused = 0;
	time_t		 deadline = time(NULL) + 60;
	char		 buf[256];

	for (i = 0; i < NCLIENTS; i++)
		fds[i] = client_connect(fx->path);
	while (control_stats(fx->ctl)->accepted +
	    control_stats(fx->ctl)->refused < NCLIENTS) {
		if (time(NULL) > deadline)
			fail_msg("not all clients accepted");
		pump(fx);
	}
	assert_int_equal(control_clients(fx->ctl), CONTROL_CLIENTS_MAX);
	assert_int_equal(control_stats(fx->ctl)->refused,
	    NCLIENTS - CONTROL_CLIENTS_MAX);
	for (i = 0; i < NCLIENTS; i++)
		(void)send(fds[i], "ILBCTL/1 show members\n", 22,
		    MSG_NOSIGNAL);
	client_read_all(fx, fds, bufs, NCLIENTS);
	for (i = 0; i < NCLIENTS; i++) {
		if (strcmp(bufs[i], "ILBCTL/1 OK 15\nmembers json=0\n") == 0)
			ok++;
		else if (strcmp(bufs[i], "ILBCTL/1 ERR 36\ntoo many control "
		    "clients, try again\n") == 0)
			refused++;
		else
			fail_msg("client %d got '%s'", i, bufs[i]);
		close(fds[i]);
	}
	assert_int_equal(ok, CONTROL_CLIENTS_MAX);
	assert_int_equal(refused, NCLIENTS - CONTROL_CLIENTS_MAX);
	assert_int_equal(control_clients(fx->ctl), 0);
	ask(fx, "ILBCTL/1 show members\n", buf);	/* still alive */
	assert_string_equal(buf, "ILBCTL/1 OK 15\nmembers json=0\n");
}

static void
test_socket_mode(void **state)
{
	struct fixture	*fx = *state;
	struct stat	 st;

	assert_int_equal(stat(fx->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
}

static void
test_second_open_refused(void **state)
{
	struct fixture	*fx = *state;
	struct control	*c2;
	char		*cause = NULL, buf[256], other[160];
	int		 fd;

	c2 = control_open(fx->base, fx->path, 0, fake_handler, fx, &cause);
	assert_null(c2);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "another ilbd answers"));
	free(cause);
	/* The first one still has its socket. */
	ask(fx, "ILBCTL/1 show members\n", buf);
	assert_string_equal(buf, "ILBCTL/1 OK 15\nmembers json=0\n");

	/* Not a socket: refused, and left alone. */
	snprintf(other, sizeof(other), "%s/file", fx->dir);
	assert_true((fd = open(other, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	cause = NULL;
	assert_null(control_open(fx->base, other, 0, fake_handler, fx, &cause));
	assert_non_null(strstr(cause, "exists and is not a socket"));
	free(cause);
	assert_int_equal(unlink(other), 0);

	/* Too long a path. */
	memset(other, 'x', sizeof(other) - 1);
	other[sizeof(other) - 1] = '\0';
	cause = NULL;
	assert_null(control_open(fx->base, other, 0, fake_handler, fx, &cause));
	assert_non_null(strstr(cause, "longer than"));
	free(cause);
}

static void
test_stale_replaced(void **state)
{
	struct fixture		*fx = *state;
	struct sockaddr_un	 sun;
	struct control		*c2;
	char			*cause = NULL, buf[256];
	int			 fd;

	/* A socket file nobody listens on, as a crashed ilbd leaves it. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/stale.sock",
	    fx->dir);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	c2 = control_open(fx->base, sun.sun_path, 0, fake_handler, fx, &cause);
	if (c2 == NULL)
		fail_msg("stale socket not replaced: %s", cause);
	control_close(fx->ctl);		/* swap: ask() uses fx->path */
	fx->ctl = c2;
	util_strlcpy(fx->path, sun.sun_path, sizeof(fx->path));
	ask(fx, "ILBCTL/1 show members\n", buf);
	assert_string_equal(buf, "ILBCTL/1 OK 15\nmembers json=0\n");
}

/* The read-only socket's filter: what changes nothing, and only that. */
static void
test_readonly_filter(void **state)
{
	static const int	 ro[CTL_CMD_MAX] = {
		[CTL_SHOW_MEMBERS] = 1, [CTL_SHOW_SERVICES] = 1,
		[CTL_SHOW_SERVERS] = 1, [CTL_SHOW_CONNECTIONS] = 1,
		[CTL_SHOW_CACHE] = 1, [CTL_SHOW_STATS] = 1,
		[CTL_SHOW_OWNER] = 1, [CTL_SHOW_INFO] = 1, [CTL_MONITOR] = 1
	};
	int			 i;

	(void)state;
	for (i = 0; i < CTL_CMD_MAX; i++)
		if (ctl_cmd_readonly((enum ctl_cmd)i) != ro[i])
			fail_msg("%s: readonly %d, want %d",
			    ctl_cmd_name((enum ctl_cmd)i),
			    ctl_cmd_readonly((enum ctl_cmd)i), ro[i]);
	assert_int_equal(ctl_cmd_readonly(CTL_CMD_MAX), 0);
}

/* monitor [json] parses; its STREAM header round-trips, length 0 only. */
static void
test_monitor_wire(void **state)
{
	struct ctl_req	 req;
	char		*cause = NULL, *words[] = { "mon", "j" }, hdr[64];
	size_t		 len;
	int		 ok;

	(void)state;
	memset(&req, 0, sizeof(req));
	assert_int_equal(ctl_parse(2, words, &req, &cause), 0);
	assert_int_equal(req.cmd, CTL_MONITOR);
	assert_int_equal(req.argc, 1);
	assert_string_equal(req.argv[0], "json");
	assert_int_equal(ctl_parse(1, words, &req, &cause), 0);
	assert_int_equal(req.argc, 0);
	assert_int_equal(ctl_req_decode("ILBCTL/1 json monitor\n", 22, &req,
	    &cause), 0);
	assert_int_equal(req.cmd, CTL_MONITOR);
	assert_int_equal(req.json, 1);
	assert_int_equal(ctl_resp_header_encode(hdr, sizeof(hdr),
	    CTL_RESP_STREAM, 99), 18);
	assert_string_equal(hdr, "ILBCTL/1 STREAM 0\n");
	assert_int_equal(ctl_resp_header_decode(hdr, strlen(hdr), &ok, &len,
	    &cause), 0);
	assert_int_equal(ok, CTL_RESP_STREAM);
	assert_int_equal(len, 0);
	assert_int_equal(ctl_resp_header_decode("ILBCTL/1 STREAM 5\n", 18,
	    &ok, &len, &cause), -1);
	free(cause);
}

/* Open a read-only socket beside the fixture's, in its directory. */
static struct control *
open_ro(struct fixture *fx, char *path, size_t len)
{
	struct control	*ro;
	char		*cause = NULL;

	snprintf(path, len, "%s/ro.sock", fx->dir);
	ro = control_open(fx->base, path, CONTROL_READONLY, fake_handler, fx,
	    &cause);
	if (ro == NULL)
		fail_msg("control_open: %s", cause);
	return (ro);
}

static void
test_readonly_socket(void **state)
{
	struct fixture	*fx = *state;
	struct control	*ro;
	struct stat	 st;
	char		 buf[256], path[128], rw[128];

	ro = open_ro(fx, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0666);
	util_strlcpy(rw, fx->path, sizeof(rw));
	util_strlcpy(fx->path, path, sizeof(fx->path));
	ask(fx, "ILBCTL/1 show members\n", buf);
	assert_string_equal(buf, "ILBCTL/1 OK 15\nmembers json=0\n");
	assert_int_equal(fx->calls, 1);
	ask(fx, "ILBCTL/1 server drain web 192.0.2.21\n", buf);
	assert_string_equal(buf, "ILBCTL/1 ERR 36\n"
	    "permission denied: read-only socket\n");
	ask(fx, "ILBCTL/1 reload\n", buf);
	assert_string_equal(buf, "ILBCTL/1 ERR 36\n"
	    "permission denied: read-only socket\n");
	ask(fx, "ILBCTL/1 leave\n", buf);
	assert_string_equal(buf + 16, "permission denied: read-only "
	    "socket\n");
	assert_int_equal(fx->calls, 1);		/* never reached ilbd */
	assert_int_equal(control_stats(ro)->errors, 3);
	/* the read-write socket still runs them */
	util_strlcpy(fx->path, rw, sizeof(fx->path));
	ask(fx, "ILBCTL/1 reload\n", buf);
	assert_string_equal(buf, "ILBCTL/1 ERR 26\n"
	    "reload failed: bad config\n");
	assert_int_equal(fx->calls, 2);
	control_close(ro);
}

/* Read from fd until want appears in buf (of size 4096), or fail. */
static void
read_until(struct fixture *fx, int fd, char *buf, size_t *len,
    const char *want)
{
	time_t	deadline = time(NULL) + 10;
	ssize_t	r;

	buf[*len] = '\0';
	while (strstr(buf, want) == NULL) {
		if (time(NULL) > deadline)
			fail_msg("no '%s' within 10 s; got '%s'", want, buf);
		pump(fx);
		r = recv(fd, buf + *len, 4095 - *len, MSG_DONTWAIT);
		if (r == 0)
			fail_msg("EOF before '%s'; got '%s'", want, buf);
		if (r > 0) {
			*len += (size_t)r;
			buf[*len] = '\0';
		} else
			usleep(1000);
	}
}

static void
test_monitor(void **state)
{
	struct fixture	*fx = *state;
	struct control	*ro;
	char		 buf[4096], path[128], buf2[4096];
	size_t		 len = 0, len2 = 0;
	int		 fd, fd2;

	ro = open_ro(fx, path, sizeof(path));
	fd = client_connect(fx->path);
	client_send(fd, "ILBCTL/1 monitor\n");
	read_until(fx, fd, buf, &len, "ILBCTL/1 STREAM 0\n");
	read_until(fx, fd, buf, &len, " monitor-start format=text "
	    "socket=read-write\n");
	fd2 = client_connect(path);		/* monitor is read-only */
	client_send(fd2, "ILBCTL/1 monitor json\n");
	read_until(fx, fd2, buf2, &len2, "\"event\":\"monitor-start\","
	    "\"format\":\"json\",\"socket\":\"read-only\"}\n");
	assert_int_equal(ilbd_event_subscribers(), 2);
	ilbd_event_reload(0, "bad \"x\"");
	read_until(fx, fd, buf, &len, " reload result=failed "
	    "reason=\"bad \\\"x\\\"\"\n");
	read_until(fx, fd2, buf2, &len2, "\"event\":\"reload\",\"result\":"
	    "\"failed\",\"reason\":\"bad \\\"x\\\"\"}\n");
	assert_int_equal(fx->calls, 0);		/* the handler never saw it */
	/* a client that goes away is unsubscribed */
	close(fd);
	while (ilbd_event_subscribers() != 1)
		pump(fx);
	assert_int_equal(control_clients(fx->ctl), 0);
	close(fd2);
	while (ilbd_event_subscribers() != 0)
		pump(fx);
	assert_int_equal(control_clients(ro), 0);
	control_close(ro);
}

/* A monitor client that reads nothing is dropped, its queue bounded. */
static void
test_monitor_slow(void **state)
{
	struct fixture	*fx = *state;
	char		 buf[4096], reason[200];
	size_t		 len = 0;
	ssize_t		 r;
	time_t		 deadline;
	int		 fd, i;

	fd = client_connect(fx->path);
	client_send(fd, "ILBCTL/1 monitor\n");
	read_until(fx, fd, buf, &len, " monitor-start ");
	memset(reason, 'x', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	/* 200000 * 250 bytes: far beyond any socket buffer and the cap */
	for (i = 0; i < 200000 && ilbd_event_subscribers() > 0; i++) {
		ilbd_event_reload(1, reason);
		if (i % 64 == 0)
			pump(fx);
	}
	assert_int_equal(ilbd_event_subscribers(), 0);
	assert_int_equal(control_clients(fx->ctl), 0);
	assert_int_equal(control_stats(fx->ctl)->timeouts, 1);
	/* what it got ends: the daemon closed it (the loop frees the fd) */
	deadline = time(NULL) + 10;
	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0 ||
	    (r == -1 && errno == EAGAIN)) {
		if (time(NULL) > deadline)
			fail_msg("the slow monitor client was not closed");
		pump(fx);
	}
	assert_true(r == 0 || (r == -1 && errno == ECONNRESET));
	close(fd);
}

static void
test_close_unlinks(void **state)
{
	struct fixture	*fx = *state;
	struct stat	 st;
	int		 fd;

	fd = client_connect(fx->path);		/* a client still open */
	pump(fx);
	control_close(fx->ctl);
	fx->ctl = NULL;
	assert_int_equal(stat(fx->path, &st), -1);
	assert_int_equal(errno, ENOENT);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_closes_one,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many_clients, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_socket_mode, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_second_open_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_replaced, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_close_unlinks, setup,
		    teardown),
		cmocka_unit_test(test_readonly_filter),
		cmocka_unit_test(test_monitor_wire),
		cmocka_unit_test_setup_teardown(test_readonly_socket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_monitor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_slow, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	log_init("test_control", 1, 0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
