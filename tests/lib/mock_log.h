/*
 * mock_log.h: src/log.c for the tests and the fuzzers. Every message, of
 * any level, is formatted as log.c would and kept, so that a test can
 * check what was logged; nothing is written, unless MOCK_LOG_ECHO is set
 * to a verbosity (0: what ilbd -f prints, 1: -v, 2: -dd): then the
 * messages log.c would print at that verbosity also go to stderr.
 * fatal() and fatalx() abort(): library code must never die on input.
 */
#ifndef ILBD_MOCK_LOG_H
#define ILBD_MOCK_LOG_H

#include <stddef.h>

#include "log.h"

#define MOCK_LOG_KEEP	(1024 * 1024)	/* bytes of messages kept */

void		 mock_log_reset(void);
size_t		 mock_log_count(const char *);
size_t		 mock_log_total(void);
size_t		 mock_log_dropped(void);
const char	*mock_log_last(void);

#endif
