/*
 * fuzz_config.c: config_load() on the input written to a scratch file,
 * then config_dump() loaded again must give the same configuration, and
 * lb_init() must take whatever config_load() accepted.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "lb.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	fuzz_dir[64];
static char	fuzz_path[128];		/* the input */
static char	fuzz_path2[128];	/* its config_dump() */
static char	fuzz_keypath[128];	/* cluster.key beside them */

static void
fuzz_cleanup(void)
{
	unlink(fuzz_path);
	unlink(fuzz_path2);
	unlink(fuzz_keypath);
	rmdir(fuzz_dir);
}

/* A private directory with a 32-byte cluster.key: relative key_file works. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t	key[32];
	size_t	i;
	int	fd;

	(void)argc;
	(void)argv;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/ilbd-fuzz-config.%ld",
	    (long)getpid());
	if (mkdir(fuzz_dir, 0700) == -1 && errno != EEXIST)
		abort();
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/ilbd.conf", fuzz_dir);
	snprintf(fuzz_path2, sizeof(fuzz_path2), "%s/dump.conf", fuzz_dir);
	snprintf(fuzz_keypath, sizeof(fuzz_keypath), "%s/cluster.key",
	    fuzz_dir);
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa0 + i);
	if ((fd = open(fuzz_keypath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ==
	    -1 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key))
		abort();
	close(fd);
	atexit(fuzz_cleanup);
	return (0);
}

static void
fuzz_write(const char *path, const void *data, size_t size)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    (size > 0 && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
}

/* Two configurations alike but for the file and the line numbers. */
static void
fuzz_conf_same(const struct ilbd_conf *a, const struct ilbd_conf *b)
{
	struct ilbd_conf	x = *a, y = *b;
	struct service_conf	s, t;
	unsigned int		i, j;

	memset(x.path, 0, sizeof(x.path));
	memset(y.path, 0, sizeof(y.path));
	x.services = y.services = NULL;
	FUZZ_CHECK(memcmp(&x, &y, sizeof(x)) == 0);
	for (i = 0; i < a->nservices; i++) {
		s = a->services[i];
		t = b->services[i];
		s.line = t.line = 0;
		s.servers = t.servers = NULL;
		FUZZ_CHECK(memcmp(&s, &t, sizeof(s)) == 0);
		for (j = 0; j < s.nservers; j++) {
			FUZZ_CHECK(util_addr_eq(&a->services[i].servers[j].addr,
			    &b->services[i].servers[j].addr));
			FUZZ_CHECK(a->services[i].servers[j].weight ==
			    b->services[i].servers[j].weight);
			FUZZ_CHECK(a->services[i].servers[j].quic_sid_len ==
			    b->services[i].servers[j].quic_sid_len);
			FUZZ_CHECK(memcmp(a->services[i].servers[j].quic_sid,
			    b->services[i].servers[j].quic_sid,
			    sizeof(a->services[i].servers[j].quic_sid)) == 0);
		}
	}
}

/* config_dump() is the effective configuration: it loads back the same. */
static void
fuzz_dump_roundtrip(const struct ilbd_conf *conf)
{
	struct ilbd_conf	*back = NULL;
	char			*text = NULL, *cause = NULL;
	size_t			 len = 0;
	FILE			*f;

	if ((f = open_memstream(&text, &len)) == NULL)
		abort();
	config_dump(conf, f);
	fclose(f);
	fuzz_write(fuzz_path2, text, len);
	if (config_load(fuzz_path2, &back, &cause) == -1) {
		fprintf(stderr, "config_dump output does not load: %s\n%s",
		    cause != NULL ? cause : "?", text);
		FUZZ_CHECK(0);
	}
	fuzz_conf_same(conf, back);
	config_free(back);
	free(text);
}

/* The daemon's next step: lb_init() (tables shrunk to keep it quick). */
static void
fuzz_lb_init(const struct ilbd_conf *conf)
{
	struct ilbd_conf	c = *conf;
	struct lb		*lb;

	c.tables.ltoc_size = 1024;
	if (c.tables.cache_size > 1024)
		c.tables.cache_size = 1024;
	if ((lb = malloc(sizeof(*lb))) == NULL)
		abort();
	if (lb_init(lb, &c, 1) == -1) {
		fprintf(stderr, "lb_init refuses a valid config: %s\n",
		    strerror(errno));
		FUZZ_CHECK(0);
	}
	lb_free(lb);
	free(lb);
}

/*
 * The input is the file. @include is skipped: it would read other files
 * (the include directory is the scratch one, but absolute paths work).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ilbd_conf	*conf = NULL;
	char			*cause = NULL, line[256];

	if (memmem(data, size, "@include", 8) != NULL)
		return (0);
	fuzz_write(fuzz_path, data, size);
	if (config_load(fuzz_path, &conf, &cause) == -1) {
		FUZZ_CHECK(conf == NULL);
		free(cause);
		return (0);
	}
	FUZZ_CHECK(conf != NULL && cause == NULL);
	config_summary(conf, line, sizeof(line));
	fuzz_dump_roundtrip(conf);
	fuzz_lb_init(conf);
	config_free(conf);
	return (0);
}
