/* digest.c: the SHA-256 of a file, as hex (show info, ilbd_config_info). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include <sodium.h>

#include "digest.h"

int
digest_file_sha256(const char *path, char *hex)
{
	crypto_hash_sha256_state	st;
	unsigned char			buf[8192];
	unsigned char			md[crypto_hash_sha256_BYTES];
	ssize_t				n;
	int				fd, saved;

	hex[0] = '\0';
	if (sodium_init() == -1) {
		errno = ENOSYS;
		return (-1);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	crypto_hash_sha256_init(&st);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			close(fd);
			errno = saved;
			return (-1);
		}
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
	}
	close(fd);
	crypto_hash_sha256_final(&st, md);
	sodium_bin2hex(hex, DIGEST_SHA256_HEX, md, sizeof(md));
	return (0);
}
