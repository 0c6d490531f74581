/*
 * test_cluster_peers.c: cluster.peers: the fan-out (cluster_peers.c) and
 * two clusters on loopback that find each other by unicast alone.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "cluster.h"
#include "cluster_peers.h"
#include "config.h"
#include "mock_log.h"
#include "msg.h"

#define LOOP_MS		3000	/* bound on waiting for the clusters */

static void
addr(const char *s, struct ilb_addr *a)
{
	assert_int_equal(util_addr_parse(s, a), 0);
}

/* A UDP socket bound to ip:port (port 0: any), non-blocking. */
static int
udp_bound(const char *ip, uint16_t port)
{
	struct sockaddr_storage	ss;
	struct ilb_addr		a;
	socklen_t		len;
	int			fd;

	addr(ip, &a);
	len = util_sockaddr(&a, port, &ss);
	assert_true((fd = socket(a.family, SOCK_DGRAM | SOCK_NONBLOCK, 0)) >=
	    0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	return (fd);
}

static uint16_t
udp_port(int fd)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return (ntohs(sin.sin_port));
}

/* A port free on 127.0.0.1..3 at the time of asking. */
static uint16_t
free_port(void)
{
	int		fd = udp_bound("127.0.0.1", 0);
	uint16_t	port = udp_port(fd);

	close(fd);
	return (port);
}

/* Datagrams waiting on fd, each len bytes long; the count. */
static int
drain(int fd, size_t len)
{
	uint8_t	buf[MSG_MAX_LEN];
	ssize_t	n;
	int	count = 0;

	while ((n = recv(fd, buf, sizeof(buf), 0)) != -1) {
		assert_int_equal((size_t)n, len);
		count++;
	}
	assert_int_equal(errno, EAGAIN);
	return (count);
}

static void
conf_peers(struct cluster_conf *c, uint16_t port, const char *const *list)
{
	memset(c, 0, sizeof(*c));
	addr("239.192.0.1", &c->group);
	c->port = port;
	for (; *list != NULL; list++)
		addr(*list, &c->peers[c->npeers++]);
}

/* Self is left out; the rest keep their order and the cluster port. */
static void
test_set(void **state)
{
	static const char *const list[] = { "192.0.2.11", "192.0.2.12",
	    "192.0.2.13", NULL };
	static const char *const list6[] = { "2001:db8::1", "fe80::2", NULL };
	struct cluster_conf	c;
	struct cluster_peers	p;
	struct ilb_addr		self, a;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	(void)state;
	conf_peers(&c, 7946, list);
	addr("192.0.2.12", &self);
	assert_int_equal(cluster_peers_set(&p, &c, &self, 3), 2);
	sin = (struct sockaddr_in *)&p.sa[1];
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 7946);
	addr("192.0.2.13", &a);
	assert_memory_equal(&sin->sin_addr, a.u.b, 4);
	assert_true(cluster_peers_has(&p, &a));
	assert_false(cluster_peers_has(&p, &self));	/* never from self */
	addr("192.0.2.14", &a);
	assert_false(cluster_peers_has(&p, &a));
	addr("192.0.2.99", &self);			/* not listed */
	assert_int_equal(cluster_peers_set(&p, &c, &self, 3), 3);
	conf_peers(&c, 7000, list6);
	assert_int_equal(cluster_peers_set(&p, &c, NULL, 3), 2);
	sin6 = (struct sockaddr_in6 *)&p.sa[0];
	assert_int_equal(sin6->sin6_scope_id, 0);
	sin6 = (struct sockaddr_in6 *)&p.sa[1];	/* link-local: scoped */
	assert_int_equal(sin6->sin6_scope_id, 3);
	assert_int_equal(ntohs(sin6->sin6_port), 7000);
}

/* One datagram to each peer; a refusal is counted for that peer only. */
static void
test_send(void **state)
{
	static const char *const list[] = { "127.0.0.2", "255.255.255.255",
	    "127.0.0.3", "127.0.0.1", NULL };
	struct cluster_conf	c;
	struct cluster_peers	p;
	struct ilb_addr		self;
	uint16_t		port = free_port();
	uint64_t		errors = 0;
	int			r2, r3, r1, s;

	(void)state;
	mock_log_reset();
	r1 = udp_bound("127.0.0.1", port);
	r2 = udp_bound("127.0.0.2", port);
	r3 = udp_bound("127.0.0.3", port);
	s = udp_bound("127.0.0.1", 0);
	conf_peers(&c, port, list);
	addr("127.0.0.1", &self);
	assert_int_equal(cluster_peers_set(&p, &c, &self, 1), 3);
	/* the broadcast address is refused (EACCES: no SO_BROADCAST) */
	assert_int_equal(cluster_peers_send(&p, s, (const uint8_t *)"hello",
	    5, &errors), 0);
	assert_int_equal(cluster_peers_send(&p, s, (const uint8_t *)"again",
	    5, &errors), 0);
	assert_int_equal(errors, 2);
	assert_int_equal(p.errors[0], 0);
	assert_int_equal(p.errors[1], 2);
	assert_int_equal(p.errors[2], 0);
	assert_int_equal(mock_log_count("sendto peer 255.255.255.255"), 2);
	assert_int_equal(drain(r2, 5), 2);
	assert_int_equal(drain(r3, 5), 2);
	assert_int_equal(drain(r1, 5), 0);	/* self: skipped */
	/* every peer refusing: -1 */
	conf_peers(&c, port, list + 1);
	c.npeers = 1;
	cluster_peers_set(&p, &c, &self, 1);
	assert_int_equal(cluster_peers_send(&p, s, (const uint8_t *)"x", 1,
	    &errors), -1);
	assert_int_equal(errors, 3);
	/* no peer but self: nothing to do, not an error */
	conf_peers(&c, port, list + 3);
	assert_int_equal(cluster_peers_set(&p, &c, &self, 1), 0);
	assert_int_equal(cluster_peers_send(&p, s, (const uint8_t *)"x", 1,
	    &errors), 0);
	assert_int_equal(errors, 3);
	close(r1);
	close(r2);
	close(r3);
	close(s);
}

/* Two nodes on loopback, and the key they share. */
struct fx {
	char			 dir[64];
	uint16_t		 port;
	struct event_base	*base;
	struct ilbd_conf	*conf[2];
	struct cluster		*c[2];
};

static void
fx_write(const char *path, const char *text, size_t len)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Node 127.0.0.I on lo, peers 127.0.0.1..3 (3: no one, or the test). */
static struct ilbd_conf *
fx_conf(struct fx *fx, int i)
{
	struct ilbd_conf	*conf;
	char			 path[PATH_MAX], text[1024], *cause = NULL;
	int			 n;

	snprintf(path, sizeof(path), "%s/ilb%d.conf", fx->dir, i);
	n = snprintf(text, sizeof(text), "node = { id = \"127.0.0.%d\"; "
	    "interface = \"lo\"; state_dir = \"\"; };\n"
	    "cluster = { port = %u; hello_ms = 10; dead_ms = 200;\n"
	    "  key_file = \"cluster.key\";\n"
	    "  peers = [ \"127.0.0.1\", \"127.0.0.2\", \"127.0.0.3\" ];\n};\n",
	    i, fx->port);
	fx_write(path, text, (size_t)n);
	if (config_load(path, &conf, &cause) != 0)
		fail_msg("%s", cause);
	return (conf);
}

static void
fx_members(void *arg)
{
	(void)arg;
}

static int
fx_setup(void **state)
{
	struct fx	*fx;
	char		 path[PATH_MAX], *cause = NULL;
	int		 i;

	assert_non_null(fx = calloc(1, sizeof(*fx)));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/ilbd-test-peers-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(path, sizeof(path), "%s/cluster.key", fx->dir);
	fx_write(path, "0123456789abcdef0123456789abcdef", 32);
	fx->port = free_port();
	assert_non_null(fx->base = event_base_new());
	for (i = 0; i < 2; i++) {
		fx->conf[i] = fx_conf(fx, i + 1);
		fx->c[i] = cluster_open(fx->base, fx->conf[i], fx_members,
		    NULL, &cause);
		if (fx->c[i] == NULL)
			fail_msg("cluster_open: %s", cause);
	}
	*state = fx;
	return (0);
}

static int
fx_teardown(void **state)
{
	struct fx	*fx = *state;
	char		 path[PATH_MAX];
	int		 i;

	for (i = 0; i < 2; i++) {
		cluster_close(fx->c[i]);
		config_free(fx->conf[i]);
		snprintf(path, sizeof(path), "%s/ilb%d.conf", fx->dir, i + 1);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/cluster.key", fx->dir);
	unlink(path);
	rmdir(fx->dir);
	event_base_free(fx->base);
	free(fx);
	return (0);
}

/* Live members (self included) node i knows. */
static int
fx_live(const struct fx *fx, int i)
{
	const struct cluster_table	*t = cluster_get_table(fx->c[i]);
	int				 n = 0;
	uint16_t			 s;

	for (s = 0; s < t->nslots; s++)
		n += t->m[s].in_use && t->m[s].alive;
	return (n);
}

/* Run the loop until both know each other (LOOP_MS at most). */
static int
fx_meet(struct fx *fx)
{
	struct timeval	tv = { 0, 10000 };
	int		i;

	for (i = 0; i < LOOP_MS / 10; i++) {
		if (fx_live(fx, 0) == 2 && fx_live(fx, 1) == 2)
			return (1);
		event_base_loopexit(fx->base, &tv);
		event_base_dispatch(fx->base);
	}
	return (0);
}

/*
 * Without any multicast (peers set; loopback carries none to them), the
 * two find each other; 127.0.0.3, listed but silent, gets each one's ID
 * messages; a stranger's datagram is refused before its MAC, a listed
 * peer's bad one by the MAC check as multicast ones are.
 */
static void
test_two_nodes(void **state)
{
	struct fx			*fx = *state;
	const struct cluster_stats	*st = cluster_stats(fx->c[0]);
	struct sockaddr_storage		 to;
	struct ilb_addr			 a;
	socklen_t			 tolen;
	uint8_t				 junk[MSG_HDR_LEN + 8];
	int				 r3, s9, s2;

	r3 = udp_bound("127.0.0.3", fx->port);
	assert_true(fx_meet(fx));
	assert_true(drain(r3, MSG_HDR_LEN + MSG_ID_BODY_LEN + MSG_MAC_LEN) >= 2);
	assert_int_equal(st->own, 0);
	assert_int_equal(st->not_peer, 0);
	assert_int_equal(st->send_errors, 0);
	assert_true(st->sent >= 1);
	memset(junk, 0x55, sizeof(junk));
	addr("127.0.0.1", &a);
	tolen = util_sockaddr(&a, fx->port, &to);
	s9 = udp_bound("127.0.0.9", 0);
	assert_int_equal(sendto(s9, junk, sizeof(junk), 0,
	    (struct sockaddr *)&to, tolen), (ssize_t)sizeof(junk));
	s2 = udp_bound("127.0.0.2", 0);
	assert_int_equal(sendto(s2, junk, sizeof(junk), 0,
	    (struct sockaddr *)&to, tolen), (ssize_t)sizeof(junk));
	usleep(20000);
	cluster_poll(fx->c[0]);
	assert_int_equal(st->not_peer, 1);
	assert_int_equal(st->rejected[MSG_R_MAGIC], 1);
	assert_int_equal(mock_log_count("not in cluster.peers"), 1);
	close(r3);
	close(s9);
	close(s2);
}

/* A reload changes the list at once; a switch to multicast is refused. */
static void
test_reload(void **state)
{
	struct fx		*fx = *state;
	struct ilbd_conf	*n;
	const char		*why;

	assert_true(fx_meet(fx));
	mock_log_reset();
	assert_int_equal(cluster_reload(fx->c[0], fx->conf[0]), 0);
	assert_int_equal(mock_log_count("cluster: unicast to"), 0); /* same */
	assert_non_null(n = calloc(1, sizeof(*n)));
	*n = *fx->conf[0];
	n->cluster.npeers = 0;
	assert_non_null(why = cluster_reload_check(fx->c[0], n));
	assert_string_equal(why, "cluster.peers (from unicast to multicast)");
	n->cluster.npeers = 1;		/* 127.0.0.1 alone: node 2 unheard */
	assert_null(cluster_reload_check(fx->c[0], n));
	assert_int_equal(cluster_reload(fx->c[0], n), 0);
	assert_int_equal(mock_log_count("cluster: unicast to 0 peers (was 2)"),
	    1);
	free(n);
}

int
main(void)
{
	const struct CMUnitTest fanout[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_send),
	};
	const struct CMUnitTest nodes[] = {
		cmocka_unit_test_setup_teardown(test_two_nodes, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_reload, fx_setup,
		    fx_teardown),
	};
	int	fails = 0;

	fails += cmocka_run_group_tests_name("peers fan-out", fanout, NULL,
	    NULL);
	fails += cmocka_run_group_tests_name("peers on loopback", nodes, NULL,
	    NULL);
	return (fails != 0);
}
