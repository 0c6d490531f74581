/* log.h: logging to stderr (foreground; "<N>" for the journal) or syslog. */
#ifndef ILBD_LOG_H
#define ILBD_LOG_H

#include <stdarg.h>

/* name, to stderr (1) or syslog (0), verbosity. */
void	log_init(const char *, int, int);
/* 1 if stderr is the journal (JOURNAL_STREAM): lines then start "<N>". */
int	log_stderr_is_journal(void);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_trace(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
