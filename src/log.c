/*
 * log.c: logging to stderr in the foreground, to syslog otherwise. When
 * stderr is the journal (systemd sets JOURNAL_STREAM to its device and
 * inode), each line starts with its priority as "<N>" (sd-daemon(3)), so
 * that journald records errors as errors and not everything as "info".
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static int	 log_tostderr = 1;
static int	 log_verbose;		/* 0 default, 1 -v or -d, 2 -dd ... */
static int	 log_journal;		/* stderr is the journal: "<N>" */

/* Is stderr the stream JOURNAL_STREAM ("DEVICE:INODE") names? */
int
log_stderr_is_journal(void)
{
	const char		*e = getenv("JOURNAL_STREAM");
	unsigned long long	 dev, ino;
	struct stat		 st;
	char			 end;

	if (e == NULL || sscanf(e, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return (0);
	return ((unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino);
}

/* Start logging: name, to stderr (foreground) or syslog, verbosity. */
void
log_init(const char *name, int tostderr, int verbose)
{
	log_tostderr = tostderr;
	log_verbose = verbose;
	log_journal = tostderr && log_stderr_is_journal();
	if (!tostderr)
		openlog(name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

static void	log_vwrite(int, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
static void	log_vwarn_errno(int, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static void
log_vwrite(int pri, const char *fmt, va_list ap)
{
	if (log_tostderr) {
		if (log_journal)	/* LOG_ERR 3 is SD_ERR "<3>", ... */
			fprintf(stderr, "<%d>", LOG_PRI(pri));
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		fflush(stderr);
	} else
		vsyslog(pri, fmt, ap);
}

static void
log_write(int pri, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
log_write(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(pri, fmt, ap);
	va_end(ap);
}

/* Log fmt followed by strerror(errno) at priority pri. */
static void
log_vwarn_errno(int pri, const char *fmt, va_list ap)
{
	char	msg[1024];
	int	saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_write(pri, "%s: %s", msg, strerror(saved));
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwarn_errno(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap);
	va_end(ap);
}

/* Control-plane detail: -v or -d. */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/* Per-packet detail: -dd and more. */
void
log_trace(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbose < 2)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwarn_errno(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
