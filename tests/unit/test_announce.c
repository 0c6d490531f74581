/* test_announce.c: which readiness routes a phase wants (announce.c). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "announce.h"
#include "config.h"
#include "world.h"

#define TEST_MAX	16

/* Three services: two on 198.51.100.10 (ports 80, 443), one on .20. */
static struct ilbd_conf *
test_conf(uint32_t table)
{
	struct ilbd_conf	*c = world_conf_new(1024, 1024);

	(void)world_service(c, "web", 10, SCHED_RR);
	world_service(c, "tls", 10, SCHED_RR)->port = 443;
	(void)world_service(c, "other", 20, SCHED_RR);
	c->announce.table = table;
	return (c);
}

static void
test_off(void **state)
{
	struct ilbd_conf	*c = test_conf(0);
	struct announce_route	 r[TEST_MAX];

	(void)state;
	assert_int_equal(announce_desired(c, ANNOUNCE_ACTIVE, r, TEST_MAX), 0);
	assert_int_equal(announce_desired(c, ANNOUNCE_LEAVING, r, TEST_MAX), 0);
	world_conf_free(c);
}

static void
test_joining(void **state)
{
	struct ilbd_conf	*c = test_conf(100);
	struct announce_route	 r[TEST_MAX];

	(void)state;
	assert_int_equal(announce_desired(c, ANNOUNCE_JOINING, r, TEST_MAX), 0);
	world_conf_free(c);
}

/* Active: each VIP once, active metric, in the order of the services. */
static void
test_active(void **state)
{
	struct ilbd_conf	*c = test_conf(100);
	struct announce_route	 r[TEST_MAX];
	struct ilb_addr		 a10, a20;

	(void)state;
	world_addr(&a10, "198.51.100.10");
	world_addr(&a20, "198.51.100.20");
	assert_int_equal(announce_desired(c, ANNOUNCE_ACTIVE, r, TEST_MAX), 2);
	assert_true(util_addr_eq(&r[0].dst, &a10));
	assert_true(util_addr_eq(&r[1].dst, &a20));
	assert_int_equal(r[0].metric, ANNOUNCE_METRIC_ACTIVE);
	assert_int_equal(r[1].metric, ANNOUNCE_METRIC_ACTIVE);
	/* no room: what fits */
	assert_int_equal(announce_desired(c, ANNOUNCE_ACTIVE, r, 1), 1);
	world_conf_free(c);
}

/* Leaving: the same VIPs, the leaving metric; IPv6 VIPs too. */
static void
test_leaving(void **state)
{
	struct ilbd_conf	*c = test_conf(7);
	struct announce_route	 r[TEST_MAX];
	struct ilb_addr		 a6;

	(void)state;
	world_addr(&a6, "2001:db8:100::10");
	world_service(c, "web6", 1, SCHED_RR)->vip = a6;
	assert_int_equal(announce_desired(c, ANNOUNCE_LEAVING, r, TEST_MAX), 3);
	assert_true(util_addr_eq(&r[2].dst, &a6));
	assert_int_equal(r[0].metric, ANNOUNCE_METRIC_LEAVING);
	assert_int_equal(r[2].metric, ANNOUNCE_METRIC_LEAVING);
	assert_true(ANNOUNCE_METRIC_ACTIVE < ANNOUNCE_METRIC_LEAVING);
	world_conf_free(c);
}

/* The announce group: defaults, values, the system tables refused. */
static int
test_load(const char *group, struct ilbd_conf **conf, char **cause)
{
	char	 path[] = "/tmp/test_announce.XXXXXX";
	FILE	*f;
	int	 fd, rc;

	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		fail_msg("cannot write a temp file");
	fprintf(f, "node = { id = 1; interface = \"lo\"; };\n"
	    "cluster = { authenticate = false; };\n%s\n"
	    "services = ( { name = \"web\"; vip = \"198.51.100.10\"; "
	    "port = 80; servers = ( { address = \"192.0.2.21\"; } ); } );\n",
	    group);
	fclose(f);
	*conf = NULL;
	*cause = NULL;
	rc = config_load(path, conf, cause);
	unlink(path);
	return (rc);
}

static void
test_config(void **state)
{
	struct ilbd_conf	*c;
	char			*cause;

	(void)state;
	assert_int_equal(test_load("", &c, &cause), 0);
	assert_int_equal(c->announce.table, 0);
	assert_int_equal(c->announce.drain_ms, 2000);
	config_free(c);
	assert_int_equal(test_load("announce = { table = 4242; drain_ms = 0; };",
	    &c, &cause), 0);
	assert_int_equal(c->announce.table, 4242);
	assert_int_equal(c->announce.drain_ms, 0);
	config_free(c);
	/* main: FRR 8.4 announces only the main table's kernel routes */
	assert_int_equal(test_load("announce = { table = 254; };", &c, &cause),
	    0);
	assert_int_equal(c->announce.table, 254);
	config_free(c);
	assert_int_equal(test_load("announce = { table = 255; };", &c, &cause),
	    -1);
	assert_non_null(strstr(cause, "table of the system"));
	free(cause);
	assert_int_equal(test_load("announce = { table = 253; };", &c, &cause),
	    -1);
	free(cause);
	assert_int_equal(test_load("announce = { drain_ms = 600001; };", &c,
	    &cause), -1);
	free(cause);
	assert_int_equal(test_load("announce = { metric = 1; };", &c, &cause),
	    -1);
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_joining),
		cmocka_unit_test(test_active),
		cmocka_unit_test(test_leaving),
		cmocka_unit_test(test_config),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
