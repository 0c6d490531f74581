/* fuzz_log.c: log.c for the fuzzers: messages are formatted, never written. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static int	fuzz_log_verbose;

static void	fuzz_log_vformat(const char *, va_list)
		    __attribute__((format(printf, 1, 0)));

/* Format into a scratch buffer so that bad format arguments still trip. */
static void
fuzz_log_vformat(const char *fmt, va_list ap)
{
	char	buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
}

void
log_init(const char *name, int tostderr, int verbose)
{
	(void)name;
	(void)tostderr;
	fuzz_log_verbose = verbose;
}

void
log_setverbose(int v)
{
	fuzz_log_verbose = v;
}

int
log_getverbose(void)
{
	return (fuzz_log_verbose);
}

#define FUZZ_LOG_BODY(fmt) do {			\
	va_list	ap;				\
						\
	va_start(ap, fmt);			\
	fuzz_log_vformat(fmt, ap);		\
	va_end(ap);				\
} while (0)

void
log_warn(const char *fmt, ...)
{
	FUZZ_LOG_BODY(fmt);
}

void
log_warnx(const char *fmt, ...)
{
	FUZZ_LOG_BODY(fmt);
}

void
log_info(const char *fmt, ...)
{
	FUZZ_LOG_BODY(fmt);
}

void
log_debug(const char *fmt, ...)
{
	FUZZ_LOG_BODY(fmt);
}

void
log_trace(const char *fmt, ...)
{
	FUZZ_LOG_BODY(fmt);
}

/* Library code must never die on input: a fatal() is a finding. */
void
fatal(const char *fmt, ...)
{
	FUZZ_LOG_BODY(fmt);
	abort();
}

void
fatalx(const char *fmt, ...)
{
	FUZZ_LOG_BODY(fmt);
	abort();
}
