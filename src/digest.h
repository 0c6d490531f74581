/* digest.h: the SHA-256 of a file, as hex (show info, ilbd_config_info). */
#ifndef ILBD_DIGEST_H
#define ILBD_DIGEST_H

#include <stddef.h>

#define DIGEST_SHA256_HEX	65	/* 64 hex digits and the NUL */

/*
 * The SHA-256 of the file at path into hex (lowercase). 0, or -1 with
 * errno set and hex "".
 */
int		 digest_file_sha256(const char *, char *);

#endif
