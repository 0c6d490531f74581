/* ilbctl.c: the control tool: parse a command, ask ilbd, print the answer. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "util.h"

#define ILBCTL_SOCKET		"/run/ilbd/ilbd.sock"
#define ILBCTL_TIMEOUT		10	/* seconds for an answer */
#define ILBCTL_TIMEOUT_LONG	30	/* leave and reload */
#define ILBCTL_ERR_MAX		4096	/* bytes of an error we print */

static const char	*ilbctl_path = ILBCTL_SOCKET;
static uint64_t		 ilbctl_deadline;	/* util_now_ms() */
static int		 ilbctl_timeout;

static const struct option ilbctl_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'j' },
	{ "local", no_argument, NULL, 'l' },
	{ "socket", required_argument, NULL, 's' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void	ilbctl_fail(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	ilbctl_usage(int) __attribute__((noreturn));

/* Print "ilbctl: message" and exit 1. */
static void
ilbctl_fail(const char *fmt, ...)
{
	va_list	ap;

	fputs("ilbctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The usage: to stdout and exit 0 (-h), or to stderr and exit 1. */
static void
ilbctl_usage(int ok)
{
	FILE	*f = ok ? stdout : stderr;

	fprintf(f, "usage: ilbctl [-hjlV] [-s socket] command [argument "
	    "...]\n"
	    "options (before the command only):\n"
	    "  -h, --help      this help\n"
	    "  -j, --json      answer in JSON\n"
	    "  -l, --local     server drain|enable|weight: this ILB only\n"
	    "  -s, --socket    the control socket (default %s)\n"
	    "  -V, --version   ilbctl's version\n"
	    "commands: show info|members|services|servers|stats\n"
	    "          show connections|cache [limit N] [vip ADDRESS[:PORT]] "
	    "[client ADDRESS[:PORT]]\n"
	    "          show owner CLIENT:PORT VIP:PORT [tcp|udp]\n"
	    "          server drain|enable SERVICE ADDRESS [local]\n"
	    "          server weight SERVICE ADDRESS N [local]\n"
	    "          (server commands act on every ILB of the cluster; "
	    "local: this one only)\n"
	    "          monitor [json]\n"
	    "          leave\n"
	    "          reload\n", ILBCTL_SOCKET);
	exit(ok ? 0 : 1);
}

/* Wait for events on fd until the deadline; exit when it passes. */
static void
ilbctl_wait(int fd, short events)
{
	struct pollfd	pfd = { fd, events, 0 };
	uint64_t	now;
	int		rv;

	for (;;) {
		if (ilbctl_deadline == UINT64_MAX)	/* monitor */
			rv = poll(&pfd, 1, -1);
		else if ((now = util_now_ms()) >= ilbctl_deadline)
			ilbctl_fail("%s: no answer from ilbd within %d s",
			    ilbctl_path, ilbctl_timeout);
		else
			rv = poll(&pfd, 1, (int)(ilbctl_deadline - now));
		if (rv > 0)
			return;
		if (rv == -1 && errno != EINTR)
			ilbctl_fail("poll: %s", strerror(errno));
	}
}

static const char *
ilbctl_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		return (" (is ilbd running?)");
	case EACCES:
	case EPERM:
		return (" (run as root or as a member of group ilbd)");
	default:
		return ("");
	}
}

static int
ilbctl_connect(void)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, ilbctl_path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		ilbctl_fail("%s: socket path too long", ilbctl_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		ilbctl_fail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		ilbctl_fail("%s: %s%s", ilbctl_path, strerror(errno),
		    ilbctl_hint(errno));
	return (fd);
}

static void
ilbctl_send(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		ilbctl_wait(fd, POLLOUT);
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1)
			ilbctl_fail("%s: send: %s", ilbctl_path,
			    strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

/* Read what is there (waiting for it); 0 at EOF. */
static size_t
ilbctl_recv(int fd, char *buf, size_t size)
{
	ssize_t	n;

	for (;;) {
		ilbctl_wait(fd, POLLIN);
		n = recv(fd, buf, size, MSG_DONTWAIT);
		if (n >= 0)
			return ((size_t)n);
		if (errno == ECONNRESET)
			return (0);
		if (errno != EINTR && errno != EAGAIN)
			ilbctl_fail("%s: recv: %s", ilbctl_path,
			    strerror(errno));
	}
}

/* Read the header line; what came after it is left in buf[0..*have). */
static void
ilbctl_header(int fd, char *buf, size_t size, size_t *have, int *ok,
    size_t *bodylen)
{
	char	*nl, *cause;
	size_t	 len = 0, n, hlen;

	while ((nl = memchr(buf, '\n', len)) == NULL) {
		if (len > CTL_HDR_MAX)
			ilbctl_fail("%s: malformed response header: not an "
			    "ilbd control socket?", ilbctl_path);
		if ((n = ilbctl_recv(fd, buf + len, size - len)) == 0)
			ilbctl_fail("%s: ilbd closed the connection without "
			    "answering", ilbctl_path);
		len += n;
	}
	hlen = (size_t)(nl - buf) + 1;
	if (ctl_resp_header_decode(buf, hlen, ok, bodylen, &cause) == -1)
		ilbctl_fail("%s: %s", ilbctl_path, cause ? cause :
		    "out of memory");
	memmove(buf, buf + hlen, len - hlen);
	*have = len - hlen;
}

/* Body bytes: to stdout (OK), or kept in err for stderr (ERR). */
static void
ilbctl_consume(const char *buf, size_t n, int ok, char *err, size_t *elen)
{
	size_t	room = ILBCTL_ERR_MAX - 1 - *elen;

	if (ok) {
		if (n > 0 && fwrite(buf, 1, n, stdout) != n)
			ilbctl_fail("stdout: %s", strerror(errno));
		return;
	}
	if (n > room)
		n = room;
	memcpy(err + *elen, buf, n);
	*elen += n;
}

/* Read the rest of the body; print it; return the exit status. */
static int
ilbctl_body(int fd, char *buf, size_t size, size_t have, int ok,
    size_t bodylen)
{
	char	 err[ILBCTL_ERR_MAX];
	size_t	 got = 0, elen = 0, n = have, take;

	for (;;) {
		take = n < bodylen - got ? n : bodylen - got;
		ilbctl_consume(buf, take, ok, err, &elen);
		got += take;
		if (got == bodylen)
			break;
		if ((n = ilbctl_recv(fd, buf, size)) == 0)
			ilbctl_fail("%s: connection closed after %zu of %zu "
			    "bytes", ilbctl_path, got, bodylen);
	}
	close(fd);
	if (ok) {
		if (fflush(stdout) == EOF)
			ilbctl_fail("stdout: %s", strerror(errno));
		return (0);
	}
	while (elen > 0 && err[elen - 1] == '\n')
		elen--;
	fprintf(stderr, "ilbctl: %.*s\n", (int)elen, err);
	return (1);
}

/* monitor: every line ilbd sends, as it comes, until it closes. */
static int
ilbctl_stream(int fd, char *buf, size_t size, size_t have)
{
	size_t	n = have;

	ilbctl_deadline = UINT64_MAX;
	do {
		if (n > 0 && (fwrite(buf, 1, n, stdout) != n ||
		    fflush(stdout) == EOF))
			ilbctl_fail("stdout: %s", strerror(errno));
	} while ((n = ilbctl_recv(fd, buf, size)) > 0);
	ilbctl_fail("%s: ilbd closed the monitor stream", ilbctl_path);
}

int
main(int argc, char *argv[])
{
	struct ctl_req	 req;
	char		 line[CTL_REQ_MAX + 1], buf[65536], *cause;
	size_t		 have, bodylen;
	int		 ch, fd, len, ok, local = 0;

	memset(&req, 0, sizeof(req));
	/* "+": options end at the command ("limit -5" is an operand) */
	while ((ch = getopt_long(argc, argv, "+hjls:V", ilbctl_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			ilbctl_usage(1);
		case 'V':
			printf("ilbctl %s\n", PACKAGE_VERSION);
			return (0);
		case 'j':
			req.json = 1;
			break;
		case 'l':
			local = 1;
			break;
		case 's':
			ilbctl_path = optarg;
			break;
		default:
			ilbctl_usage(0);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		ilbctl_usage(0);
	if (ctl_parse(argc, argv, &req, &cause) == -1)
		ilbctl_fail("%s", cause ? cause : "out of memory");
	if (local && req.cmd != CTL_SERVER_DRAIN &&
	    req.cmd != CTL_SERVER_ENABLE && req.cmd != CTL_SERVER_WEIGHT)
		ilbctl_fail("-l (--local) is for server drain|enable|weight");
	/* the same as the trailing word "local" */
	if (local && (req.argc == 0 ||
	    strcmp(req.argv[req.argc - 1], "local") != 0)) {
		if (req.argc >= CTL_ARGS_MAX)
			ilbctl_fail("too many words");
		util_strlcpy(req.argv[req.argc++], "local", CTL_ARG_LEN);
	}
	if ((len = ctl_req_encode(&req, line, sizeof(line))) == -1)
		ilbctl_fail("command longer than %d bytes", CTL_REQ_MAX);
	ilbctl_timeout = (req.cmd == CTL_LEAVE || req.cmd == CTL_RELOAD) ?
	    ILBCTL_TIMEOUT_LONG : ILBCTL_TIMEOUT;
	ilbctl_deadline = util_now_ms() + (uint64_t)ilbctl_timeout * 1000;

	fd = ilbctl_connect();
	ilbctl_send(fd, line, (size_t)len);
	ilbctl_header(fd, buf, sizeof(buf), &have, &ok, &bodylen);
	if (ok == CTL_RESP_STREAM)
		return (ilbctl_stream(fd, buf, sizeof(buf), have));
	return (ilbctl_body(fd, buf, sizeof(buf), have, ok, bodylen));
}
