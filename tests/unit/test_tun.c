/* test_tun.c: the TUN device's MTU: GRE overhead and the MTU derived. */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "tun.h"
#include "util.h"

/* A configuration with cluster group g and one service of n servers. */
static void
conf_make(struct ilbd_conf *c, struct service_conf *svc,
    struct server_conf *srv, const char *g, enum conf_forward fwd,
    const char *const *servers, unsigned int n)
{
	unsigned int	i;

	memset(c, 0, sizeof(*c));
	memset(svc, 0, sizeof(*svc));
	assert_int_equal(util_addr_parse(g, &c->cluster.group), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(util_addr_parse(servers[i], &srv[i].addr), 0);
	svc->forward = fwd;
	svc->servers = srv;
	svc->nservers = n;
	c->services = svc;
	c->nservices = 1;
}

static void
test_overhead(void **state)
{
	static const char *const v4[] = { "192.0.2.21", "192.0.2.22" };
	static const char *const mixed[] = { "192.0.2.21", "2001:db8::21" };
	struct ilbd_conf	c;
	struct service_conf	svc;
	struct server_conf	srv[2];

	(void)state;
	/* handoff: outer IPv4 20 + GRE with key 8 */
	conf_make(&c, &svc, srv, "239.192.0.1", FORWARD_DSR, v4, 2);
	assert_int_equal(tun_gre_overhead(&c), 28);
	/* GRE to IPv4 servers (24) fits within the handoff's 28 */
	conf_make(&c, &svc, srv, "239.192.0.1", FORWARD_GRE, v4, 2);
	assert_int_equal(tun_gre_overhead(&c), 28);
	/* an IPv6 server with forward = "gre": 40 + 4 */
	conf_make(&c, &svc, srv, "239.192.0.1", FORWARD_GRE, mixed, 2);
	assert_int_equal(tun_gre_overhead(&c), 44);
	/* DSR servers add nothing, whatever their family */
	conf_make(&c, &svc, srv, "239.192.0.1", FORWARD_DSR, mixed, 2);
	assert_int_equal(tun_gre_overhead(&c), 28);
	/* an IPv6 cluster: handoff in outer IPv6, 40 + 8 */
	conf_make(&c, &svc, srv, "ff35:20:2001:db8::1", FORWARD_GRE, mixed,
	    2);
	assert_int_equal(tun_gre_overhead(&c), 48);
}

static void
test_mtu_for(void **state)
{
	(void)state;
	assert_int_equal(tun_mtu_for(1500, 28), 1472);
	assert_int_equal(tun_mtu_for(1500, 48), 1452);
	assert_int_equal(tun_mtu_for(9000, 28), 8972);
	/* never below IPv6's minimum: IPv6 VIPs need it */
	assert_int_equal(tun_mtu_for(1308, 28), 1280);
	assert_int_equal(tun_mtu_for(1307, 28), TUN_MTU_MIN);
	assert_int_equal(tun_mtu_for(576, 28), TUN_MTU_MIN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overhead),
		cmocka_unit_test(test_mtu_for),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
