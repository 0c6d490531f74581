/*
 * test_log.c: the real logger (src/log.c) under -f: "<N>" priority
 * prefixes when stderr is the journal (JOURNAL_STREAM names its device and
 * inode), plain lines otherwise.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

struct fx {
	char	path[64];
	int	saved;		/* the test runner's stderr */
};

static int
setup(void **state)
{
	struct fx	*fx;
	int		 fd;

	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return (-1);
	snprintf(fx->path, sizeof(fx->path), "/tmp/test_log.XXXXXX");
	if ((fd = mkstemp(fx->path)) == -1)
		return (-1);
	fflush(stderr);
	fx->saved = dup(STDERR_FILENO);
	if (fx->saved == -1 || dup2(fd, STDERR_FILENO) == -1)
		return (-1);
	close(fd);
	*state = fx;
	return (0);
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;

	fflush(stderr);
	dup2(fx->saved, STDERR_FILENO);
	close(fx->saved);
	unlink(fx->path);
	free(fx);
	unsetenv("JOURNAL_STREAM");
	return (0);
}

/* Set JOURNAL_STREAM to stderr's device:inode, plus delta on the inode. */
static void
set_stream(long delta)
{
	struct stat	st;
	char		v[64];

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (unsigned long long)delta);
	assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
}

/* What stderr got. */
static void
read_back(struct fx *fx, char *buf, size_t len)
{
	FILE	*fp;
	size_t	 n;

	fflush(stderr);
	assert_non_null(fp = fopen(fx->path, "r"));
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

static void
log_some(void)
{
	log_warnx("a warning");
	log_info("some info");
	log_debug("debug at -v");
	log_debug("trace is not shown at -v%s", "");
}

static void
test_journal_prefix(void **state)
{
	struct fx	*fx = *state;
	char		 buf[512];

	set_stream(0);
	assert_int_equal(log_stderr_is_journal(), 1);
	log_init("test_log", 1, 1);
	log_some();
	log_trace("not at -v");
	read_back(fx, buf, sizeof(buf));
	assert_string_equal(buf, "<3>a warning\n<6>some info\n"
	    "<7>debug at -v\n<7>trace is not shown at -v\n");
}

static void
test_not_journal(void **state)
{
	struct fx	*fx = *state;
	char		 buf[512];

	set_stream(1);		/* another stream: a pipe to a terminal */
	assert_int_equal(log_stderr_is_journal(), 0);
	log_init("test_log", 1, 0);
	log_some();
	read_back(fx, buf, sizeof(buf));
	assert_string_equal(buf, "a warning\nsome info\n");
}

static void
test_no_env(void **state)
{
	struct fx	*fx = *state;
	char		 buf[512];

	unsetenv("JOURNAL_STREAM");
	assert_int_equal(log_stderr_is_journal(), 0);
	log_init("test_log", 1, 0);
	log_warnx("plain");
	read_back(fx, buf, sizeof(buf));
	assert_string_equal(buf, "plain\n");
}

static void
test_bad_env(void **state)
{
	(void)state;
	assert_int_equal(setenv("JOURNAL_STREAM", "12:34x", 1), 0);
	assert_int_equal(log_stderr_is_journal(), 0);
	assert_int_equal(setenv("JOURNAL_STREAM", "", 1), 0);
	assert_int_equal(log_stderr_is_journal(), 0);
	assert_int_equal(setenv("JOURNAL_STREAM", "12", 1), 0);
	assert_int_equal(log_stderr_is_journal(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_journal_prefix, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_journal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_env, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
