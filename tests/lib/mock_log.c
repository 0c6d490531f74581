/* mock_log.c: log.c for the tests: messages kept in memory, not written. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_log.h"

enum mock_log_level { MOCK_WARN, MOCK_INFO, MOCK_DEBUG, MOCK_TRACE };

static int	 mock_log_verbose;		/* as log_init() was told */
static char	 mock_log_buf[MOCK_LOG_KEEP];	/* messages, NUL after each */
static size_t	 mock_log_len;			/* bytes used */
static size_t	 mock_log_nmsg;			/* messages kept */
static size_t	 mock_log_ndropped;		/* not kept: no room */
static size_t	 mock_log_lastoff;		/* the latest message kept */

static void	mock_log_format(char *, size_t, int, const char *, va_list)
		    __attribute__((format(printf, 4, 0)));

/* -1 if MOCK_LOG_ECHO is unset, else the verbosity to echo at. */
static int
mock_log_echo(void)
{
	static int	 echo = -2;		/* not looked up yet */
	const char	*e;

	if (echo == -2)
		echo = (e = getenv("MOCK_LOG_ECHO")) == NULL ? -1 : atoi(e);
	return (echo);
}

/* Format as log.c does; with_errno adds ": strerror(errno)". */
static void
mock_log_format(char *msg, size_t size, int with_errno, const char *fmt,
    va_list ap)
{
	size_t	len;
	int	saved = errno;

	vsnprintf(msg, size, fmt, ap);
	if (with_errno) {
		len = strlen(msg);
		snprintf(msg + len, size - len, ": %s", strerror(saved));
	}
	errno = saved;
}

/* Keep msg; echo it if MOCK_LOG_ECHO asks for its level. */
static void
mock_log_keep(enum mock_log_level level, const char *msg)
{
	size_t	len = strlen(msg) + 1;
	int	echo = mock_log_echo();

	if (echo >= 0 && (level <= MOCK_INFO ||
	    (level == MOCK_DEBUG && echo >= 1) || echo >= 2))
		fprintf(stderr, "%s\n", msg);
	if (len > sizeof(mock_log_buf) - mock_log_len) {
		mock_log_ndropped++;
		return;
	}
	memcpy(mock_log_buf + mock_log_len, msg, len);
	mock_log_lastoff = mock_log_len;
	mock_log_len += len;
	mock_log_nmsg++;
}

/* Forget every message kept so far. */
void
mock_log_reset(void)
{
	mock_log_len = 0;
	mock_log_nmsg = 0;
	mock_log_ndropped = 0;
	mock_log_lastoff = 0;
	mock_log_buf[0] = '\0';
}

/* How many messages kept since the last reset contain text. */
size_t
mock_log_count(const char *text)
{
	size_t	off, n = 0;

	for (off = 0; off < mock_log_len;
	    off += strlen(mock_log_buf + off) + 1)
		if (strstr(mock_log_buf + off, text) != NULL)
			n++;
	return (n);
}

/* Messages kept since the last reset. */
size_t
mock_log_total(void)
{
	return (mock_log_nmsg);
}

/* Messages logged but not kept: more than MOCK_LOG_KEEP bytes of them. */
size_t
mock_log_dropped(void)
{
	return (mock_log_ndropped);
}

/* The latest message kept, "" if none. */
const char *
mock_log_last(void)
{
	return (mock_log_nmsg == 0 ? "" : mock_log_buf + mock_log_lastoff);
}

void
log_init(const char *name, int tostderr, int verbose)
{
	(void)name;
	(void)tostderr;
	mock_log_verbose = verbose;
}

void
log_setverbose(int v)
{
	mock_log_verbose = v;
}

int
log_getverbose(void)
{
	return (mock_log_verbose);
}

/* Format into msg[] (so that bad arguments still trip), then keep it. */
#define MOCK_LOG_BODY(level, with_errno, fmt) do {			\
	va_list	ap;							\
									\
	va_start(ap, fmt);						\
	mock_log_format(msg, sizeof(msg), with_errno, fmt, ap);		\
	va_end(ap);							\
	mock_log_keep(level, msg);					\
} while (0)

void
log_warn(const char *fmt, ...)
{
	char	msg[1024];

	MOCK_LOG_BODY(MOCK_WARN, 1, fmt);
}

void
log_warnx(const char *fmt, ...)
{
	char	msg[1024];

	MOCK_LOG_BODY(MOCK_WARN, 0, fmt);
}

void
log_info(const char *fmt, ...)
{
	char	msg[1024];

	MOCK_LOG_BODY(MOCK_INFO, 0, fmt);
}

void
log_debug(const char *fmt, ...)
{
	char	msg[1024];

	MOCK_LOG_BODY(MOCK_DEBUG, 0, fmt);
}

void
log_trace(const char *fmt, ...)
{
	char	msg[1024];

	MOCK_LOG_BODY(MOCK_TRACE, 0, fmt);
}

/* Always shown: the message says why the test or the fuzzer stopped. */
void
fatal(const char *fmt, ...)
{
	char	msg[1024];

	MOCK_LOG_BODY(MOCK_WARN, 1, fmt);
	fprintf(stderr, "fatal: %s\n", msg);
	abort();
}

void
fatalx(const char *fmt, ...)
{
	char	msg[1024];

	MOCK_LOG_BODY(MOCK_WARN, 0, fmt);
	fprintf(stderr, "fatal: %s\n", msg);
	abort();
}
