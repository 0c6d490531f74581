/* test_config.c: config_load values, defaults, every error class, dump. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* asprintf */
#endif

#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "config.h"

/* A temp dir holding cluster.key (32 bytes) and the configs under test. */
struct fx {
	char			 dir[64];
	char			 path[PATH_MAX];	/* dir/ilbd.conf */
	struct ilbd_conf	*conf;
	char			*cause;
};

/* Two lines every error test starts from; services begin on line 3. */
#define NODE	"node = { id = \"192.0.2.11\"; interface = \"eth0\"; };\n"
#define KEY	"cluster = { key_file = \"cluster.key\"; };\n"
#define HDR	NODE KEY

struct err_case {
	const char	*text;
	int		 line;
	const char	*msg;
};

static void
fx_write(const struct fx *fx, const char *name, const void *buf, size_t len)
{
	char	 path[PATH_MAX];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void
fx_key_bytes(uint8_t *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
}

static int
fx_setup(void **state)
{
	struct fx	*fx;
	uint8_t		 key[32];

	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return (-1);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/ilbd-test-config-XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return (-1);
	}
	snprintf(fx->path, sizeof(fx->path), "%s/ilbd.conf", fx->dir);
	fx_key_bytes(key, sizeof(key));
	fx_write(fx, "cluster.key", key, sizeof(key));
	*state = fx;
	return (0);
}

static void
fx_clear(struct fx *fx)
{
	config_free(fx->conf);
	fx->conf = NULL;
	free(fx->cause);
	fx->cause = NULL;
}

static int
fx_reset(void **state)
{
	fx_clear(*state);
	return (0);
}

/* Remove the temp dir and everything (one level deep) inside it. */
static int
fx_teardown(void **state)
{
	struct fx	*fx = *state;
	struct dirent	*de;
	DIR		*d;
	char		 path[PATH_MAX];

	fx_clear(fx);
	if ((d = opendir(fx->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", fx->dir,
			    de->d_name);
			if (unlink(path) == -1)
				rmdir(path);
		}
		closedir(d);
	}
	rmdir(fx->dir);
	free(fx);
	return (0);
}

/* Write text to dir/ilbd.conf and load it. */
static int
fx_load(struct fx *fx, const char *text)
{
	fx_clear(fx);
	fx_write(fx, "ilbd.conf", text, strlen(text));
	return (config_load(fx->path, &fx->conf, &fx->cause));
}

static void
fx_load_ok(struct fx *fx, const char *text)
{
	if (fx_load(fx, text) != 0) {
		print_error("config:\n%s\nfailed: %s\n", text, fx->cause);
		fail();
	}
	assert_null(fx->cause);
	assert_non_null(fx->conf);
}

/* Loading must fail with "FILE:LINE: ...msg..." (FILE NULL: ilbd.conf). */
static void
fx_expect_in(struct fx *fx, const char *text, const char *file, int line,
    const char *msg)
{
	char	prefix[PATH_MAX + 32];
	int	rv;

	rv = fx_load(fx, text);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", file != NULL ? file :
	    fx->path, line);
	if (rv != -1 || fx->cause == NULL || fx->conf != NULL ||
	    strncmp(fx->cause, prefix, strlen(prefix)) != 0 ||
	    strstr(fx->cause, msg) == NULL) {
		print_error("config:\n%swanted: %s...%s\ngot:    %s\n", text,
		    prefix, msg, rv == 0 ? "success" : fx->cause);
		fail();
	}
}

static void
fx_expect(struct fx *fx, const char *text, int line, const char *msg)
{
	fx_expect_in(fx, text, NULL, line, msg);
}

static void
fx_cases(struct fx *fx, const struct err_case *c, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		fx_expect(fx, c[i].text, c[i].line, c[i].msg);
}

#define FX_CASES(fx, c)	fx_cases((fx), (c), sizeof(c) / sizeof((c)[0]))

static const char full_conf[] =
    "node = {\n"
    "  id = \"192.0.2.11\";\n"
    "  interface = \"eth0\";\n"
    "  address = \"192.0.2.12\"; state_dir = \"/srv/ilbd state\";\n"
    "};\n"
    "cluster = {\n"
    "  group = \"239.192.0.7\";\n"
    "  port = 7947;\n"
    "  hello_ms = 100;\n"
    "  dead_ms = 500;\n"
    "  key_file = \"cluster.key\";\n"
    "  authenticate = true;\n"
    "  scoring = \"keyed\";\n"
    "};\n"
    "input = { mode = \"pcap\"; device = \"ilb7\"; xdp_mode = \"skb\";"
    " queues = 2; };\n"
    "tables = {\n"
    "  ltoc_size = 2048; cache_size = 0;\n"
    "  tcp_timeout_s = 600; fin_timeout_s = 10; syn_timeout_s = 5;"
    " udp_timeout_s = 20; udp_stream_timeout_s = 300; udp_replicate_ms = 0;\n"
    "};\n"
    "control = { socket = \"/run/ilbd-test.sock\"; };\n"
    "metrics = { listen = \"[::1]:9100\"; };\n"
    "services = (\n"
    "  { name = \"web\"; vip = \"198.51.100.10\"; port = 80;\n"
    "    forward = \"dsr\"; scheduler = \"wrr\";\n"
    "    health = { check = \"http\"; interval_ms = 2000; timeout_ms = 700;"
    " rise = 4; fall = 5; initial = \"up\"; port = 8080; method = \"HEAD\";"
    " path = \"/healthz?full=1\"; status = \"200-399\";"
    " host = \"www.example.org\"; };\n"
    "    servers = ( { address = \"192.0.2.21\"; weight = 1; },\n"
    "                { address = \"192.0.2.22\"; weight = 0; } ); },\n"
    "  { name = \"dns-v6.x_1\"; vip = \"2001:db8::10\"; port = 53;\n"
    "    forward = \"gre\"; scheduler = \"hash\"; protocol = \"udp\";"
    " udp_timeout_s = 10; udp_stream_timeout_s = 3600;\n"
    "    health = { check = \"none\"; };\n"
    "    servers = ( { address = \"2001:db8::21\"; weight = 1000; },\n"
    "                { address = \"192.0.2.23\"; } ); }\n"
    ");\n";

static void
test_full(void **state)
{
	struct fx			*fx = *state;
	const struct ilbd_conf		*c;
	const struct service_conf	*s;
	char				 a[ILB_ADDRSTRLEN], key[PATH_MAX];
	uint8_t				 kb[32], h[CONF_KEY_LEN];

	fx_load_ok(fx, full_conf);
	c = fx->conf;
	assert_string_equal(c->path, fx->path);
	assert_string_equal(c->node.id_text, "192.0.2.11");
	assert_int_equal(c->node.id.len, 4);
	assert_int_equal(c->node.id.is_index, 0);
	assert_memory_equal(c->node.id.b, "\xc0\x00\x02\x0b", 4);
	assert_string_equal(c->node.interface, "eth0");
	assert_int_equal(c->node.has_address, 1);
	assert_string_equal(util_addr_fmt(&c->node.address, a, sizeof(a)),
	    "192.0.2.12");
	assert_string_equal(c->node.state_dir, "/srv/ilbd state");
	assert_string_equal(util_addr_fmt(&c->cluster.group, a, sizeof(a)),
	    "239.192.0.7");
	assert_int_equal(c->cluster.port, 7947);
	assert_int_equal(c->cluster.hello_ms, 100);
	assert_int_equal(c->cluster.dead_ms, 500);
	snprintf(key, sizeof(key), "%s/cluster.key", fx->dir);
	assert_string_equal(c->cluster.key_file, key);
	assert_int_equal(c->cluster.authenticate, 1);
	fx_key_bytes(kb, sizeof(kb));
	crypto_generichash(h, sizeof(h), kb, sizeof(kb), NULL, 0);
	assert_memory_equal(c->cluster.key, h, sizeof(h));
	assert_int_equal(c->cluster.scoring, SCORING_KEYED);
	assert_int_equal(c->input.mode, INPUT_PCAP);
	assert_string_equal(c->input.device, "ilb7");
	assert_int_equal(c->input.xdp_mode, XDP_SKB);
	assert_int_equal(c->input.queues, 2);
	assert_int_equal(c->tables.ltoc_size, 2048);
	assert_int_equal(c->tables.cache_size, 0);
	assert_int_equal(c->tables.tcp_timeout_s, 600);
	assert_int_equal(c->tables.fin_timeout_s, 10);
	assert_int_equal(c->tables.syn_timeout_s, 5);
	assert_int_equal(c->tables.udp_timeout_s, 20);
	assert_int_equal(c->tables.udp_stream_timeout_s, 300);
	assert_int_equal(c->tables.udp_replicate_ms, 0);
	assert_string_equal(c->control_socket, "/run/ilbd-test.sock");
	assert_int_equal(c->metrics_enabled, 1);
	assert_string_equal(util_addr_fmt(&c->metrics_addr, a, sizeof(a)),
	    "::1");
	assert_int_equal(c->metrics_port, 9100);
	assert_int_equal(c->nservices, 2);
	s = &c->services[0];
	assert_string_equal(s->name, "web");
	assert_string_equal(util_addr_fmt(&s->vip, a, sizeof(a)),
	    "198.51.100.10");
	assert_int_equal(s->port, 80);
	assert_int_equal(s->forward, FORWARD_DSR);
	assert_int_equal(s->scheduler, SCHED_WRR);
	assert_int_equal(s->health.check, CHECK_HTTP);
	assert_int_equal(s->health.interval_ms, 2000);
	assert_int_equal(s->health.timeout_ms, 700);
	assert_int_equal(s->health.rise, 4);
	assert_int_equal(s->health.fall, 5);
	assert_int_equal(s->health.initial_up, 1);
	assert_int_equal(s->health.port, 8080);
	assert_string_equal(s->health.method, "HEAD");
	assert_string_equal(s->health.path, "/healthz?full=1");
	assert_int_equal(s->health.status_min, 200);
	assert_int_equal(s->health.status_max, 399);
	assert_string_equal(s->health.host, "www.example.org");
	assert_int_equal(s->line, 23);
	assert_int_equal(s->nservers, 2);
	assert_string_equal(util_addr_fmt(&s->servers[1].addr, a, sizeof(a)),
	    "192.0.2.22");
	assert_int_equal(s->servers[0].weight, 1);
	assert_int_equal(s->servers[1].weight, 0);
	assert_int_equal(s->servers[0].line, 26);
	assert_int_equal(s->servers[1].line, 27);
	s = &c->services[1];
	assert_string_equal(s->name, "dns-v6.x_1");
	assert_int_equal(s->vip.family, AF_INET6);
	assert_int_equal(s->forward, FORWARD_GRE);
	assert_int_equal(s->scheduler, SCHED_HASH);
	assert_int_equal(s->protocol, PROTO_UDP);
	assert_int_equal(s->health.check, CHECK_NONE);
	assert_int_equal(s->health.interval_ms, 1000);
	assert_int_equal(s->health.initial_up, 0);
	assert_int_equal(s->servers[0].weight, 1000);
	assert_int_equal(s->servers[1].weight, 1);
	assert_int_equal(s->servers[1].addr.family, AF_INET);
}

static void
test_defaults(void **state)
{
	struct fx		*fx = *state;
	const struct ilbd_conf	*c;
	char			 a[ILB_ADDRSTRLEN];

	fx_load_ok(fx, "node = { id = 3; interface = \"eth1\"; };\n"
	    "cluster = { authenticate = false; };\n");
	c = fx->conf;
	assert_string_equal(c->node.id_text, "3");
	assert_int_equal(c->node.has_address, 0);
	assert_string_equal(c->node.state_dir, "/var/lib/ilbd");
	assert_string_equal(util_addr_fmt(&c->cluster.group, a, sizeof(a)),
	    "239.192.0.1");
	assert_int_equal(c->cluster.port, 7946);
	assert_int_equal(c->cluster.hello_ms, 200);
	assert_int_equal(c->cluster.dead_ms, 1000);
	assert_string_equal(c->cluster.key_file, "/etc/ilbd/cluster.key");
	assert_int_equal(c->cluster.authenticate, 0);
	assert_int_equal(c->cluster.scoring, SCORING_CRC32C_MIX);
	assert_int_equal(c->input.mode, INPUT_TUN);
	assert_string_equal(c->input.device, "ilb0");
	assert_int_equal(c->input.xdp_mode, XDP_AUTO);
	assert_int_equal(c->input.queues, 0);
	assert_int_equal(c->input.workers, 0);
	assert_int_equal(c->tables.ltoc_size, 1048576);
	assert_int_equal(c->tables.cache_size, 1048576);
	assert_int_equal(c->tables.tcp_timeout_s, 900);
	assert_int_equal(c->tables.fin_timeout_s, 60);
	assert_int_equal(c->tables.syn_timeout_s, 30);
	assert_int_equal(c->tables.udp_timeout_s, 30);
	assert_int_equal(c->tables.udp_stream_timeout_s, 120);
	assert_int_equal(c->tables.udp_replicate_ms, 1000);
	assert_string_equal(c->control_socket, "/run/ilbd/ilbd.sock");
	assert_int_equal(c->metrics_enabled, 1);
	assert_string_equal(util_addr_fmt(&c->metrics_addr, a, sizeof(a)),
	    "127.0.0.1");
	assert_int_equal(c->metrics_port, 9650);
	assert_int_equal(c->nservices, 0);
	assert_null(c->services);

	fx_load_ok(fx, HDR "services = ( { name = \"a\"; vip = \"192.0.2.1\"; "
	    "port = 1; servers = ( { address = \"192.0.2.2\"; } ); } );\n"
	    "metrics = { listen = \"\"; };\n");
	c = fx->conf;
	assert_int_equal(c->cluster.authenticate, 1);
	assert_int_equal(c->metrics_enabled, 0);
	assert_int_equal(c->services[0].forward, FORWARD_DSR);
	assert_int_equal(c->services[0].scheduler, SCHED_WLC);
	assert_int_equal(c->services[0].health.check, CHECK_TCP);
	assert_int_equal(c->services[0].health.interval_ms, 1000);
	assert_int_equal(c->services[0].health.timeout_ms, 500);
	assert_int_equal(c->services[0].health.rise, 2);
	assert_int_equal(c->services[0].health.fall, 3);
	/* a new server is down until its first successful check */
	assert_int_equal(c->services[0].health.initial_up, 0);
	assert_int_equal(c->services[0].health.port, 0);
	assert_string_equal(c->services[0].health.method, "GET");
	assert_string_equal(c->services[0].health.path, "/");
	assert_int_equal(c->services[0].health.status_min, 200);
	assert_int_equal(c->services[0].health.status_max, 200);
	assert_string_equal(c->services[0].health.host, "");
	assert_int_equal(c->services[0].servers[0].weight, 1);
}

static void
test_node_id(void **state)
{
	struct fx		*fx = *state;
	const struct node_conf	*n;
	char			 a[ILB_ADDRSTRLEN];

	/* claim 6: an integer index, 4 bytes big-endian */
	fx_load_ok(fx, "node = { id = 258; interface = \"eth0\"; "
	    "address = \"2001:db8::5\"; };\n" KEY);
	n = &fx->conf->node;
	assert_int_equal(n->id.len, 4);
	assert_int_equal(n->id.is_index, 1);
	assert_memory_equal(n->id.b, "\0\0\x01\x02\0\0\0\0\0\0\0\0\0\0\0\0",
	    16);
	assert_string_equal(n->id_text, "258");
	assert_int_equal(n->has_address, 1);
	assert_string_equal(util_addr_fmt(&n->address, a, sizeof(a)),
	    "2001:db8::5");

	fx_load_ok(fx, "node = { id = 4294967295L; interface = \"eth0\"; };\n"
	    KEY);
	n = &fx->conf->node;
	assert_memory_equal(n->id.b, "\xff\xff\xff\xff", 4);
	assert_string_equal(n->id_text, "4294967295");

	/* a string of digits is an index too */
	fx_load_ok(fx, "node = { id = \"0\"; interface = \"eth0\"; };\n" KEY);
	n = &fx->conf->node;
	assert_int_equal(n->id.is_index, 1);
	assert_memory_equal(n->id.b, "\0\0\0\0", 4);
	assert_string_equal(n->id_text, "0");
	assert_int_equal(n->has_address, 0);

	/* written with leading zeros, its text is canonical (fuzz_config) */
	fx_load_ok(fx, "node = { id = \"0304\"; interface = \"eth0\"; };\n"
	    KEY);
	n = &fx->conf->node;
	assert_memory_equal(n->id.b, "\0\0\x01\x30", 4);
	assert_string_equal(n->id_text, "304");

	/* claim 5: an IPv6 address, 16 bytes, doubles as node.address */
	fx_load_ok(fx, "node = { id = \"2001:db8::11\"; interface = \"eth0\"; "
	    "};\n" KEY);
	n = &fx->conf->node;
	assert_int_equal(n->id.len, 16);
	assert_int_equal(n->id.is_index, 0);
	assert_memory_equal(n->id.b, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0"
	    "\x11", 16);
	assert_string_equal(n->id_text, "2001:db8::11");
	assert_int_equal(n->has_address, 1);
	assert_int_equal(n->address.family, AF_INET6);
}

static void
test_syntax(void **state)
{
	struct fx	*fx = *state;
	char		 inc[PATH_MAX];

	fx_expect(fx, HDR "services = (\n  { name = ; }\n);\n", 4,
	    "syntax error");
	fx_expect(fx, HDR "services = (\n  { name = \"a\"; }\n", 5,
	    "syntax error");
	fx_expect(fx, HDR "tables = { ltoc_size = 2048; ltoc_size = 4096; };\n",
	    3, "duplicate setting name");
	fx_expect(fx, HDR "\n@include \"nowhere.conf\"\n", 4,
	    "cannot open include file");
	/* errors in an included file name that file as libconfig has it */
	fx_write(fx, "inc.conf", "\ntables = { ltoc_size = 10; };\n", 31);
	snprintf(inc, sizeof(inc), "%s", "inc.conf");
	fx_expect_in(fx, HDR "@include \"inc.conf\"\n", inc, 2,
	    "ltoc_size: 10 is out of range 1024..67108864");
}

static void
test_unreadable(void **state)
{
	struct fx	*fx = *state;
	char		 path[PATH_MAX], want[PATH_MAX + 64];

	fx_clear(fx);
	snprintf(path, sizeof(path), "%s/absent.conf", fx->dir);
	assert_int_equal(config_load(path, &fx->conf, &fx->cause), -1);
	assert_null(fx->conf);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or "
	    "directory", path);
	assert_string_equal(fx->cause, want);
	fx_clear(fx);
	assert_int_equal(config_load(fx->dir, &fx->conf, &fx->cause), -1);
	assert_non_null(strstr(fx->cause, "Is a directory"));
}

static const struct err_case unknown_cases[] = {
	{ HDR "\nservice = ();\n", 4,
	    "unknown key \"service\" at top level (did you mean \"services\"?)" },
	{ "node = {\n  id = 1;\n  interface = \"eth0\";\n  adress = \"::1\";\n"
	    "};\n", 4, "unknown key \"adress\" in node (did you mean "
	    "\"address\"?)" },
	{ NODE "cluster = {\n  key_file = \"cluster.key\";\n  grop = 1;\n};\n",
	    4, "unknown key \"grop\" in cluster" },
	{ HDR "input = { mode = \"tun\";\n  dev = \"x\"; };\n", 4,
	    "unknown key \"dev\" in input" },
	{ HDR "tables = {\n  tcp_timeout = 5; };\n", 4,
	    "unknown key \"tcp_timeout\" in tables (did you mean "
	    "\"tcp_timeout_s\"?)" },
	{ HDR "control = { path = \"/x\"; };\n", 3,
	    "unknown key \"path\" in control" },
	{ HDR "metrics = { port = 1; };\n", 3,
	    "unknown key \"port\" in metrics" },
	{ HDR "services = (\n  { name = \"web\"; vip = \"192.0.2.1\"; port = 80;"
	    "\n    schedular = \"rr\";\n    servers = ( { address = "
	    "\"192.0.2.2\"; } ); }\n);\n", 5,
	    "unknown key \"schedular\" in service \"web\" (did you mean "
	    "\"scheduler\"?)" },
	{ HDR "services = (\n  { name = \"web\"; vip = \"192.0.2.1\"; port = 80;"
	    "\n    health = { check = \"tcp\";\n      intervall = 5; };\n"
	    "    servers = ( { address = \"192.0.2.2\"; } ); }\n);\n", 6,
	    "unknown key \"intervall\" in health of service \"web\"" },
	{ HDR "services = (\n  { name = \"web\"; vip = \"192.0.2.1\"; port = 80;"
	    "\n    servers = ( { address = \"192.0.2.2\"; },\n"
	    "      { address = \"192.0.2.3\"; wieght = 2; } ); }\n);\n", 6,
	    "unknown key \"wieght\" in server 2 of service \"web\"" },
};

static void
test_unknown_keys(void **state)
{
	FX_CASES(*state, unknown_cases);
}

#define SVC_OPEN	"services = (\n  { name = \"web\"; vip = \"192.0.2.1\";\n"
#define SVC_SERVERS	"    servers = ( { address = \"192.0.2.2\"; } ); }\n);\n"

static const struct err_case type_cases[] = {
	{ HDR SVC_OPEN "    port = \"80\";\n" SVC_SERVERS, 5,
	    "port: expected an integer, not a string" },
	{ NODE "cluster = {\n  key_file = \"cluster.key\";\n"
	    "  authenticate = 1;\n};\n", 4,
	    "authenticate: expected true or false, not an integer" },
	{ NODE "cluster = { key_file = \"cluster.key\";\n hello_ms = 1.5; };\n",
	    3, "hello_ms: expected an integer, not a float" },
	{ "node = (\n);\n", 1, "node: expected a group { ... }, not a list" },
	{ HDR "\nservices = { };\n", 4,
	    "services: expected a list ( { ... }, ... ), not a group" },
	{ HDR "services = [ 1, 2 ];\n", 3,
	    "services: expected a list ( { ... }, ... ), not an array" },
	/* libconfig dates a scalar list item by its lookahead: keep ")" */
	{ HDR "services = (\n  \"web\", 1 );\n", 4,
	    "services: item 1 is a string, expected a group" },
	{ HDR SVC_OPEN "    port = 80;\n    servers = ( { address = "
	    "\"192.0.2.2\"; },\n      7 ); }\n);\n", 7,
	    "servers: item 2 of service \"web\" is an integer, expected a group" },
	{ HDR SVC_OPEN "    port = 80;\n    health = \"tcp\";\n" SVC_SERVERS,
	    6, "health: expected a group { ... }, not a string" },
	{ HDR SVC_OPEN "    port = 80;\n    servers = { address = \"1.2.3.4\"; "
	    "}; }\n);\n", 6, "servers: expected a list" },
	{ "node = {\n  id = true;\n  interface = \"eth0\"; };\n" KEY, 2,
	    "id: expected an address string or an integer, not a boolean" },
	{ HDR "input = { device = 5; };\n", 3,
	    "device: expected a string, not an integer" },
};

static void
test_types(void **state)
{
	FX_CASES(*state, type_cases);
}

static const struct err_case range_cases[] = {
	{ NODE "cluster = { key_file = \"cluster.key\";\n  port = 0; };\n", 3,
	    "port: 0 is out of range 1..65535" },
	{ NODE "cluster = { key_file = \"cluster.key\";\n  hello_ms = 9; };\n",
	    3, "hello_ms: 9 is out of range 10..60000" },
	{ NODE "cluster = { key_file = \"cluster.key\"; hello_ms = 300;\n"
	    "  dead_ms = 599; };\n", 3, "dead_ms: 599 is out of range "
	    "600..600000 (at least 2 * hello_ms)" },
	{ NODE "cluster = { key_file = \"cluster.key\";\n  dead_ms = 600001; "
	    "};\n", 3, "dead_ms: 600001 is out of range 400..600000" },
	{ NODE "cluster = { key_file = \"cluster.key\";\n  hello_ms = 501; };\n",
	    3, "hello_ms: 501 needs dead_ms of at least 1002, but dead_ms "
	    "defaults to 1000: set dead_ms" },
	{ HDR "tables = {\n  ltoc_size = 1023; };\n", 4,
	    "ltoc_size: 1023 is out of range 1024..67108864" },
	{ HDR "tables = {\n  cache_size = -1; };\n", 4,
	    "cache_size: -1 is out of range 0..67108864" },
	{ HDR "tables = {\n  cache_size = 67108865; };\n", 4,
	    "cache_size: 67108865 is out of range 0..67108864" },
	{ HDR "tables = { tcp_timeout_s = 604801; };\n", 3,
	    "tcp_timeout_s: 604801 is out of range 1..604800" },
	{ HDR "tables = { fin_timeout_s = 0; };\n", 3,
	    "fin_timeout_s: 0 is out of range 1..3600" },
	{ HDR "tables = { syn_timeout_s = 3601; };\n", 3,
	    "syn_timeout_s: 3601 is out of range 1..3600" },
	{ HDR "tables = { udp_timeout_s = 0; };\n", 3,
	    "udp_timeout_s: 0 is out of range 1..3600" },
	{ HDR "tables = { udp_stream_timeout_s = 604801; };\n", 3,
	    "udp_stream_timeout_s: 604801 is out of range 1..604800" },
	{ HDR "tables = {\n  udp_replicate_ms = 60001; };\n", 4,
	    "udp_replicate_ms: 60001 is out of range 0..60000" },
	{ HDR SVC_OPEN "    port = 65536;\n" SVC_SERVERS, 5,
	    "port: 65536 is out of range 1..65535" },
	{ HDR SVC_OPEN "    port = 80;\n    servers = (\n      { address = "
	    "\"192.0.2.2\"; weight = 1001; } ); }\n);\n", 7,
	    "weight: 1001 is out of range 0..1000" },
	{ HDR SVC_OPEN "    port = 80;\n    health = { interval_ms = 99;"
	    " };\n" SVC_SERVERS, 6, "interval_ms: 99 is out of range "
	    "100..3600000" },
	{ HDR SVC_OPEN "    port = 80;\n    health = {\n      interval_ms = 300;"
	    " timeout_ms = 301; };\n" SVC_SERVERS, 7, "timeout_ms: 301 is out "
	    "of range 10..300 (at most interval_ms)" },
	{ HDR SVC_OPEN "    port = 80;\n    health = {\n      interval_ms = 300;"
	    " };\n" SVC_SERVERS, 7, "interval_ms: 300 is shorter than the "
	    "default timeout_ms 500: set timeout_ms" },
	{ HDR SVC_OPEN "    port = 80;\n    health = { rise = 0; };\n"
	    SVC_SERVERS, 6, "rise: 0 is out of range 1..100" },
	{ HDR SVC_OPEN "    port = 80;\n    health = { fall = 101; };\n"
	    SVC_SERVERS, 6, "fall: 101 is out of range 1..100" },
	{ "node = {\n  id = -1;\n  interface = \"eth0\"; };\n" KEY, 2,
	    "id: -1 is out of range 0..4294967295 (libconfig wraps" },
	{ "node = {\n  id = 4294967296L;\n  interface = \"eth0\"; };\n" KEY, 2,
	    "id: 4294967296 is out of range 0..4294967295" },
	{ "node = {\n  id = \"4294967296\";\n  interface = \"eth0\"; };\n" KEY,
	    2, "id: 4294967296 is out of range 0..4294967295" },
};

static void
test_ranges(void **state)
{
	FX_CASES(*state, range_cases);
}

static const struct err_case addr_cases[] = {
	{ HDR "services = (\n  { name = \"web\";\n    vip = \"198.51.100.300\";"
	    "\n    port = 80;\n" SVC_SERVERS, 5,
	    "vip: \"198.51.100.300\" is not an IPv4 or IPv6 address" },
	{ HDR "services = (\n  { name = \"web\";\n    vip = \"239.1.1.1\";\n"
	    "    port = 80;\n" SVC_SERVERS, 5,
	    "vip: \"239.1.1.1\" is a multicast address" },
	{ HDR "services = (\n  { name = \"web\";\n    vip = \"::\";\n"
	    "    port = 80;\n" SVC_SERVERS, 5,
	    "vip: \"::\" is the unspecified address" },
	{ HDR "services = (\n  { name = \"web\";\n    vip = \"ff02::1\";\n"
	    "    port = 80;\n" SVC_SERVERS, 5,
	    "vip: \"ff02::1\" is a multicast address" },
	{ HDR SVC_OPEN "    port = 80;\n    servers = (\n      { address = "
	    "\"192.0.2.2 \"; } ); }\n);\n", 7,
	    "address: \"192.0.2.2 \" is not an IPv4 or IPv6 address" },
	{ HDR SVC_OPEN "    port = 80;\n    servers = (\n      { address = "
	    "\"0.0.0.0\"; } ); }\n);\n", 7,
	    "address: \"0.0.0.0\" is the unspecified address" },
	{ "node = { id = 1; interface = \"eth0\";\n  address = \"eth0\"; };\n"
	    KEY, 2, "address: \"eth0\" is not an IPv4 or IPv6 address" },
	{ "node = {\n  id = \"node-a\"; interface = \"eth0\"; };\n" KEY, 2,
	    "id: \"node-a\" is neither an IPv4 or IPv6 address nor an "
	    "integer index" },
	{ "node = {\n  id = \"224.0.0.5\"; interface = \"eth0\"; };\n" KEY, 2,
	    "id: \"224.0.0.5\" is a multicast address" },
	{ NODE "cluster = { key_file = \"cluster.key\";\n"
	    "  group = \"192.0.2.99\"; };\n", 3,
	    "group: \"192.0.2.99\" is not a multicast address (224.0.0.0/4 or "
	    "ff00::/8)" },
	{ NODE "cluster = { key_file = \"cluster.key\";\n"
	    "  group = \"239.1\"; };\n", 3,
	    "group: \"239.1\" is not an IPv4 or IPv6 address" },
	{ HDR "metrics = {\n  listen = \"127.0.0.1\"; };\n", 4,
	    "listen: \"127.0.0.1\" is not ADDRESS:PORT, [IPV6-ADDRESS]:PORT "
	    "or \"\" (disabled)" },
	{ HDR "metrics = { listen = \"::1:9100\"; };\n", 3,
	    "listen: \"::1:9100\" is not ADDRESS:PORT" },
	{ HDR "metrics = { listen = \"[::1]:0\"; };\n", 3,
	    "listen: \"[::1]:0\" is not ADDRESS:PORT" },
};

static void
test_addresses(void **state)
{
	FX_CASES(*state, addr_cases);
}

static void
test_family(void **state)
{
	struct fx	*fx = *state;

	fx_expect(fx, HDR "services = (\n  { name = \"web\"; vip = "
	    "\"198.51.100.10\"; port = 80;\n    servers = (\n      { address = "
	    "\"192.0.2.2\"; },\n      { address = \"2001:db8::2\"; } ); }\n);\n",
	    7, "server 2001:db8::2 is IPv6 but the vip 198.51.100.10 of "
	    "service \"web\" is IPv4: forward \"dsr\" cannot mix address "
	    "families");
	fx_expect(fx, HDR "services = (\n  { name = \"v6\"; vip = "
	    "\"2001:db8::10\"; port = 80; forward = \"dsr\";\n    servers = (\n"
	    "      { address = \"192.0.2.2\"; } ); }\n);\n", 6,
	    "server 192.0.2.2 is IPv4 but the vip 2001:db8::10 of service "
	    "\"v6\" is IPv6");
	fx_load_ok(fx, HDR "services = (\n  { name = \"web\"; vip = "
	    "\"198.51.100.10\"; port = 80; forward = \"gre\";\n    servers = (\n"
	    "      { address = \"192.0.2.2\"; },\n      { address = "
	    "\"2001:db8::2\"; } ); }\n);\n");
	assert_int_equal(fx->conf->services[0].nservers, 2);
}

#define SVC_A	"  { name = \"a\"; vip = \"192.0.2.1\"; port = 80;\n" \
		"    servers = ( { address = \"192.0.2.2\"; } ); },\n"

static const struct err_case dup_cases[] = {
	{ HDR "services = (\n" SVC_A "  { name = \"a\"; vip = \"192.0.2.1\"; "
	    "port = 81;\n    servers = ( { address = \"192.0.2.2\"; } ); }\n);\n",
	    6, "duplicate service name \"a\" (first defined at line 4)" },
	{ HDR "services = (\n" SVC_A "\n  { name = \"b\"; vip = \"192.0.2.1\"; "
	    "port = 80;\n    servers = ( { address = \"192.0.2.2\"; } ); }\n);\n",
	    7, "service \"b\": vip 192.0.2.1 port 80 tcp is already used by service "
	    "\"a\" (at line 4)" },
	{ HDR "services = (\n" SVC_A "  { name = \"b\"; vip = \"192.0.2.1\"; "
	    "port = 80; protocol = \"udp\";\n    servers = ( { address = "
	    "\"192.0.2.2\"; } ); },\n  { name = \"c\"; vip = \"192.0.2.1\"; "
	    "port = 80;\n    protocol = \"udp\";\n    servers = ( { address = "
	    "\"192.0.2.2\"; } ); }\n);\n", 8, "service \"c\": vip 192.0.2.1 "
	    "port 80 udp is already used by service \"b\" (at line 6)" },
	{ HDR "services = (\n" SVC_A "  { name = \"b\"; vip = \"192.0.2.1\"; "
	    "port = 81;\n    servers = (\n      { address = \"192.0.2.7\"; },\n"
	    "      { address = \"192.0.2.8\"; },\n      { address = "
	    "\"192.0.2.7\"; weight = 3; } ); }\n);\n", 10,
	    "duplicate server 192.0.2.7 in service \"b\" (first at line 8)" },
};

static void
test_duplicates(void **state)
{
	struct fx	*fx = *state;

	FX_CASES(fx, dup_cases);
	/* the same vip on another port, the same server in another service */
	fx_load_ok(fx, HDR "services = (\n" SVC_A "  { name = \"b\"; vip = "
	    "\"192.0.2.1\"; port = 443;\n    servers = ( { address = "
	    "\"192.0.2.2\"; } ); }\n);\n");
	assert_int_equal(fx->conf->nservices, 2);	/* the same vip and port, tcp and udp: two services */
	fx_load_ok(fx, HDR "services = (\n" SVC_A "  { name = \"b\"; vip = "
	    "\"192.0.2.1\"; port = 80; protocol = \"udp\";\n    servers = ( "
	    "{ address = \"192.0.2.2\"; } ); }\n);\n");
	assert_int_equal(fx->conf->nservices, 2);
	assert_int_equal(fx->conf->services[0].protocol, PROTO_TCP);
	assert_int_equal(fx->conf->services[1].protocol, PROTO_UDP);
}

static const struct err_case enum_cases[] = {
	{ HDR SVC_OPEN "    port = 80;\n    scheduler = \"lru\";\n" SVC_SERVERS,
	    6, "unknown scheduler \"lru\" (one of: rr, wrr, lc, wlc, hash)" },
	{ HDR SVC_OPEN "    port = 80;\n    forward = \"nat\";\n" SVC_SERVERS,
	    6, "unknown forward method \"nat\" (one of: dsr, gre)" },
	{ HDR SVC_OPEN "    port = 53;\n    protocol = \"sctp\";\n" SVC_SERVERS,
	    6, "unknown protocol \"sctp\" (one of: tcp, udp)" },
	{ HDR "input = {\n  mode = \"tap\"; };\n", 4,
	    "unknown input mode \"tap\" (one of: tun, pcap, xdp)" },
	{ HDR "input = {\n  xdp_mode = \"hw\"; };\n", 4,
	    "unknown xdp mode \"hw\" (one of: auto, native, skb)" },
	{ NODE "cluster = { key_file = \"cluster.key\";\n"
	    "  scoring = \"CRC32\"; };\n", 3,
	    "unknown scoring method \"CRC32\" (one of: crc32c-mix, crc32, "
	    "keyed)" },
	{ HDR SVC_OPEN "    port = 80;\n    health = { check = \"icmp\"; };\n"
	    SVC_SERVERS, 6,
	    "unknown health check \"icmp\" (one of: tcp, none, http, udp)" },
	{ HDR SVC_OPEN "    port = 80;\n    health = { initial = \"Up\"; };\n"
	    SVC_SERVERS, 6,
	    "unknown initial state \"Up\" (one of: down, up)" },
	{ NODE "cluster = { authenticate = false;\n"
	    "  scoring = \"keyed\"; };\n", 3,
	    "scoring method \"keyed\" needs the cluster key" },
};

static void
test_enums(void **state)
{
	FX_CASES(*state, enum_cases);
}

#define HTTP_OPEN	HDR SVC_OPEN "    port = 80;\n    health = { check = " \
			"\"http\";\n"
#define UDP_OPEN	HDR SVC_OPEN "    port = 53; protocol = \"udp\";\n" \
			"    health = { check = \"udp\";\n"
static const struct err_case health_cases[] = {
	{ HTTP_OPEN "      method = \"get\"; };\n" SVC_SERVERS, 7,
	    "method: \"get\" must be 1..16 upper-case letters" },
	{ HTTP_OPEN "      method = \"\"; };\n" SVC_SERVERS, 7,
	    "method: \"\" must be 1..16 upper-case letters" },
	{ HTTP_OPEN "      method = \"VERYLONGMETHODNAME\"; };\n" SVC_SERVERS,
	    7, "method: \"VERYLONGMETHODNAME\" must be 1..16" },
	{ HTTP_OPEN "      method = 1; };\n" SVC_SERVERS, 7,
	    "method: expected a string, not an integer" },
	{ HTTP_OPEN "      path = \"healthz\"; };\n" SVC_SERVERS, 7,
	    "path: \"healthz\" must be 1..255 printable characters, "
	    "beginning with \"/\"" },
	{ HTTP_OPEN "      path = \"/a b\"; };\n" SVC_SERVERS, 7,
	    "path: \"/a b\" must be" },
	{ HTTP_OPEN "      host = \"\"; };\n" SVC_SERVERS, 7,
	    "host: \"\" must be 1..255 printable characters" },
	{ HTTP_OPEN "      status = 99; };\n" SVC_SERVERS, 7,
	    "status: expected an HTTP status 100..599 or a range" },
	{ HTTP_OPEN "      status = 600; };\n" SVC_SERVERS, 7,
	    "status: expected an HTTP status 100..599" },
	{ HTTP_OPEN "      status = \"399-200\"; };\n" SVC_SERVERS, 7,
	    "status: expected an HTTP status 100..599 or a range" },
	{ HTTP_OPEN "      status = \"2xx\"; };\n" SVC_SERVERS, 7,
	    "status: expected an HTTP status 100..599 or a range" },
	{ HTTP_OPEN "      status = \"200-\"; };\n" SVC_SERVERS, 7,
	    "status: expected an HTTP status 100..599 or a range" },
	{ HTTP_OPEN "      status = 2.5; };\n" SVC_SERVERS, 7,
	    "status: expected an integer or a string \"MIN-MAX\", not" },
	{ HTTP_OPEN "      port = 0; };\n" SVC_SERVERS, 7,
	    "port: 0 is out of range 1..65535" },
	{ HTTP_OPEN "      port = 65536; };\n" SVC_SERVERS, 7,
	    "port: 65536 is out of range 1..65535" },
	{ HDR SVC_OPEN "    port = 80;\n    health = {\n      path = \"/x\"; };\n"
	    SVC_SERVERS, 7, "path: only with check = \"http\" (check is "
	    "\"tcp\")" },
	{ HDR SVC_OPEN "    port = 80;\n    health = { check = \"none\";\n"
	    "      status = 200; };\n" SVC_SERVERS, 7, "status: only with "
	    "check = \"http\" (check is \"none\")" },
	/* issue 22: send and expect, with check = "udp" only */
	{ UDP_OPEN "      send = \"\\\\q\"; };\n" SVC_SERVERS, 7,
	    "send: bad escape \"\\q\" at offset 0" },
	{ UDP_OPEN "      expect = \"ab\\\\x4\"; };\n" SVC_SERVERS, 7,
	    "expect: bad escape \"\\x4\" at offset 2" },
	{ UDP_OPEN "      expect = \"\\\\xg0\"; };\n" SVC_SERVERS, 7,
	    "expect: bad escape \"\\xg0\" at offset 0" },
	{ UDP_OPEN "      send = \"a\\\\\"; };\n" SVC_SERVERS, 7,
	    "send: bad escape \"\\\" at offset 1" },
	{ UDP_OPEN "      send = 1; };\n" SVC_SERVERS, 7,
	    "send: expected a string, not an integer" },
	{ UDP_OPEN "      path = \"/x\"; };\n" SVC_SERVERS, 7,
	    "path: only with check = \"http\" (check is \"udp\")" },
	{ UDP_OPEN "      status = 200; };\n" SVC_SERVERS, 7,
	    "status: only with check = \"http\" (check is \"udp\")" },
	{ HTTP_OPEN "      expect = \"OK\"; };\n" SVC_SERVERS, 7,
	    "expect: only with check = \"udp\" (check is \"http\")" },
	{ HDR SVC_OPEN "    port = 80;\n    health = {\n      send = \"x\"; };\n"
	    SVC_SERVERS, 7, "send: only with check = \"udp\" (check is "
	    "\"tcp\")" },
	/* a UDP service without check: "none" */
	{ HDR SVC_OPEN "    port = 53; protocol = \"udp\";\n    health = {\n"
	    "      expect = \"x\"; };\n" SVC_SERVERS, 7, "expect: only with "
	    "check = \"udp\" (check is \"none\")" },
};

static void
test_health_errors(void **state)
{
	FX_CASES(*state, health_cases);
}

static const struct err_case missing_cases[] = {
	{ KEY "\ninput = { mode = \"tun\"; };\n", 1, "missing \"node\" group" },
	{ "\nnode = {\n  interface = \"eth0\"; };\n" KEY, 2,
	    "missing \"id\" in node" },
	{ "\n\nnode = { id = 1;\n};\n" KEY, 3,
	    "missing \"interface\" in node" },
	{ HDR "services = (\n\n  { vip = \"192.0.2.1\"; port = 80;\n"
	    SVC_SERVERS, 5, "missing \"name\" in service 1" },
	{ HDR "services = (\n" SVC_A "  { name = \"b\";\n port = 80;\n"
	    SVC_SERVERS, 6, "missing \"vip\" in service \"b\"" },
	{ HDR "services = (\n  {\n    name = \"web\"; vip = \"192.0.2.1\";\n"
	    SVC_SERVERS, 4, "missing \"port\" in service \"web\"" },
	{ HDR "services = (\n  { name = \"web\";\n    vip = \"192.0.2.1\"; "
	    "port = 80; }\n);\n", 4, "missing \"servers\" in service \"web\"" },
	{ HDR "services = (\n  { name = \"web\"; vip = \"192.0.2.1\"; "
	    "port = 80;\n    servers = (\n    ); }\n);\n", 5,
	    "service \"web\" has no servers" },
	{ HDR SVC_OPEN "    port = 80;\n    servers = ( { address = "
	    "\"192.0.2.2\"; },\n      { weight = 2; } ); }\n);\n", 7,
	    "missing \"address\" in server 2 of service \"web\"" },
};

/*
 * issue 22: send and expect are decoded (\xNN, \n, \r, \t, \\) after
 * libconfig's own escapes; too long or a bad escape names file:line.
 */
static void
test_health_udp(void **state)
{
	struct fx		*fx = *state;
	const struct service_conf *s;
	char			*text, *p;
	size_t			 i;

	fx_load_ok(fx, HDR "services = (\n"
	    "  { name = \"dns\"; vip = \"192.0.2.1\"; port = 53;\n"
	    "    protocol = \"udp\";\n"
	    "    health = { check = \"udp\"; port = 5353;\n"
	    "      send = \"\\\\x00\\\\x01ping\\\\r\\n\\\\\\\\\\\"\";\n"
	    "      expect = \"\\x41\\\\x42\\\\t\"; };\n"
	    "    servers = ( { address = \"192.0.2.2\"; } ); },\n"
	    "  { name = \"quic\"; vip = \"192.0.2.1\"; port = 443;\n"
	    "    protocol = \"udp\";\n"
	    "    servers = ( { address = \"192.0.2.2\"; } ); },\n"
	    "  { name = \"q2\"; vip = \"192.0.2.1\"; port = 444;\n"
	    "    protocol = \"udp\"; health = { port = 8080; };\n"
	    "    servers = ( { address = \"192.0.2.2\"; } ); },\n"
	    "  { name = \"q3\"; vip = \"192.0.2.1\"; port = 445;\n"
	    "    protocol = \"udp\"; health = { check = \"http\"; "
	    "port = 8080; };\n"
	    "    servers = ( { address = \"192.0.2.2\"; } ); },\n"
	    "  { name = \"e\"; vip = \"192.0.2.1\"; port = 446;\n"
	    "    protocol = \"udp\"; health = { check = \"udp\"; };\n"
	    "    servers = ( { address = \"192.0.2.2\"; } ); }\n"
	    ");\n");
	s = &fx->conf->services[0];
	assert_int_equal(s->health.check, CHECK_UDP);
	assert_int_equal(s->health.port, 5353);
	assert_int_equal(s->health.sendlen, 10);
	assert_memory_equal(s->health.send, "\0\001ping\r\n\\\"", 10);
	assert_int_equal(s->health.expectlen, 3);
	assert_memory_equal(s->health.expect, "AB\t", 3);
	/* a UDP service without check: none; tcp and http allowed */
	assert_int_equal(fx->conf->services[1].health.check, CHECK_NONE);
	assert_int_equal(fx->conf->services[2].health.check, CHECK_NONE);
	assert_int_equal(fx->conf->services[2].health.port, 8080);
	assert_int_equal(fx->conf->services[3].health.check, CHECK_HTTP);
	/* defaults: an empty datagram, any answer */
	s = &fx->conf->services[4];
	assert_int_equal(s->health.check, CHECK_UDP);
	assert_int_equal(s->health.sendlen, 0);
	assert_int_equal(s->health.expectlen, 0);

	/* 512 bytes pass, 513 do not; \\x41 is one byte */
	text = malloc(4096);
	assert_non_null(text);
	for (i = 0; i < 2; i++) {
		p = text + sprintf(text, UDP_OPEN "      send = \"");
		memset(p, 'a', 510 + i);
		p += 510 + i;
		sprintf(p, "\\\\x41\\\\x41\"; };\n" SVC_SERVERS);
		if (i == 0) {
			fx_load_ok(fx, text);
			assert_int_equal(fx->conf->services[0].health.sendlen,
			    512);
		} else
			fx_expect(fx, text, 7, "send: longer than 512 bytes");
	}
	free(text);
}

/* The decoder alone. */
static void
test_unescape(void **state)
{
	static const struct {
		const char	*in;
		int		 len;	/* -1, -2: error */
		const char	*out;
		size_t		 bad;
	} v[] = {
		{ "", 0, "", 0 },
		{ "pin", 3, "pin", 0 },
		{ "\\x00\\xfF\\x7e", 3, "\0\xff~", 0 },
		{ "\\n\\r\\t", 3, "\n\r\t", 0 },
		{ "a\\\\b", 3, "a\\b", 0 },
		{ "\n\x01", 2, "\n\x01", 0 },	/* raw bytes as is */
		{ "\\", -1, NULL, 0 },
		{ "ab\\", -1, NULL, 2 },
		{ "\\x", -1, NULL, 0 },
		{ "\\x1", -1, NULL, 0 },
		{ "a\\x1g", -1, NULL, 1 },
		{ "\\0", -1, NULL, 0 },
		{ "\\\"", -1, NULL, 0 },
		{ "abcd", -2, NULL, 3 },
		{ "ab\\x41\\x41", -2, NULL, 6 },
	};
	uint8_t		out[3];
	size_t		i, bad;
	int		n;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		bad = 99;
		n = config_unescape(v[i].in, out, sizeof(out), &bad);
		if (n != v[i].len)
			fail_msg("\"%s\": %d, want %d", v[i].in, n, v[i].len);
		if (n >= 0)
			assert_memory_equal(out, v[i].out, (size_t)n);
		else if (bad != v[i].bad)
			fail_msg("\"%s\": bad at %zu, want %zu", v[i].in, bad,
			    v[i].bad);
	}
}

static void
test_missing(void **state)
{
	FX_CASES(*state, missing_cases);
}

static const struct err_case name_cases[] = {
	{ HDR "services = (\n  { name = \"my web\"; vip = \"192.0.2.1\";\n"
	    "    port = 80;\n" SVC_SERVERS, 4, "name: \"my web\" must be 1..32 "
	    "characters of A-Z a-z 0-9 _ . -" },
	{ HDR "services = (\n  { name = \"\"; vip = \"192.0.2.1\";\n"
	    "    port = 80;\n" SVC_SERVERS, 4, "name: \"\" must be 1..32" },
	{ HDR "services = (\n  { name = \"abcdefghijklmnopqrstuvwxyz0123456\";"
	    " vip = \"192.0.2.1\";\n    port = 80;\n" SVC_SERVERS, 4,
	    "name: \"abcdefghijklmnopqrstuvwxyz0123456\" must be 1..32" },
	{ HDR "input = {\n  device = \"ilb0123456789012\"; };\n", 4,
	    "device: \"ilb0123456789012\" is not an interface name (1..15 "
	    "characters, no '/', ':' or whitespace)" },
	{ HDR "input = { device = \"\"; };\n", 3,
	    "device: \"\" is not an interface name" },
	{ "node = { id = 1;\n  interface = \"eth/0\"; };\n" KEY, 2,
	    "interface: \"eth/0\" is not an interface name" },
	{ "node = { id = 1;\n  interface = \"eth 0\"; };\n" KEY, 2,
	    "interface: \"eth 0\" is not an interface name" },
	{ "node = { id = 1; interface = \"eth0\";\n  user = \"root:0\"; };\n"
	    KEY, 2, "user: \"root:0\" is not a user name" },
	{ "node = { id = 1; interface = \"eth0\";\n  user = \"-x\"; };\n"
	    KEY, 2, "user: \"-x\" is not a user name" },
	{ "node = { id = 1; interface = \"eth0\";\n  state_dir = \"var/lib\"; "
	    "};\n" KEY, 2, "state_dir: \"var/lib\" is not an absolute path "
	    "shorter than 4080 characters (or \"\" to take the boot epoch from "
	    "the clock alone)" },
	{ "node = { id = 1; interface = \"eth0\";\n\n  state_dir = 7; };\n"
	    KEY, 3, "state_dir" },
	{ HDR "control = {\n  socket = \"run/ilbd.sock\"; };\n", 4,
	    "socket: \"run/ilbd.sock\" is not an absolute path shorter than 108 "
	    "characters" },
	{ HDR "control = {\n\n  socket_ro = \"ro.sock\"; };\n", 5,
	    "socket_ro: \"ro.sock\" is not an absolute path shorter than 108 "
	    "characters" },
	{ HDR "control = { socket = \"/run/a.sock\";\n  socket_ro = "
	    "\"/run/a.sock\"; };\n", 4,
	    "socket_ro: \"/run/a.sock\" is the read-write socket's path" },
	{ HDR "control = {\n  socket_ro = 1; };\n", 4, "socket_ro" },
};

static void
test_names(void **state)
{
	struct fx	*fx = *state;

	char		 path[CONF_SOCKPATH_MAX + 1], text[512];

	FX_CASES(fx, name_cases);
	/* sun_path holds 107 characters and the NUL */
	memset(path, 'x', sizeof(path));
	path[0] = '/';
	path[CONF_SOCKPATH_MAX] = '\0';
	snprintf(text, sizeof(text), HDR "control = { socket = \"%s\"; };\n",
	    path);
	fx_expect(fx, text, 3, "is not an absolute path shorter than 108");
	path[CONF_SOCKPATH_MAX - 1] = '\0';
	snprintf(text, sizeof(text), HDR "control = { socket = \"%s\"; };\n"
	    "input = { device = \"ilb01234567890\"; };\n", path);
	fx_load_ok(fx, text);
	assert_int_equal(strlen(fx->conf->control_socket), 107);
	assert_string_equal(fx->conf->input.device, "ilb01234567890");
	/* control.socket_ro: unset by default, else its own path */
	assert_string_equal(fx->conf->control_socket_ro, "");
	fx_load_ok(fx, HDR "control = { socket_ro = \"/run/ilbd/ro.sock\"; "
	    "};\n");
	assert_string_equal(fx->conf->control_socket_ro, "/run/ilbd/ro.sock");
	assert_string_equal(fx->conf->control_socket, "/run/ilbd/ilbd.sock");
	/* node.state_dir "": the boot epoch from the clock alone */
	fx_load_ok(fx, "node = { id = 1; interface = \"eth0\"; "
	    "state_dir = \"\"; };\n" KEY);
	assert_string_equal(fx->conf->node.state_dir, "");
}

/* A config with n services (one line each) or one service of n servers. */
static char *
big_conf(int nservices, int nservers)
{
	char	*buf, *p;
	size_t	 len = 200 + 120 * (size_t)(nservices + nservers);
	int	 i;

	assert_non_null(buf = malloc(len));
	p = buf + snprintf(buf, len, "%s", HDR);
	if (nservices > 0) {
		p += sprintf(p, "services = (\n");
		for (i = 0; i < nservices; i++)
			p += sprintf(p, "  { name = \"s%d\"; vip = \"192.0.2.1\"; "
			    "port = %d; servers = ( { address = \"192.0.2.2\"; "
			    "} ); }%s\n", i, i + 1, i + 1 < nservices ? "," : "");
		sprintf(p, ");\n");
		return (buf);
	}
	p += sprintf(p, "services = ( { name = \"big\"; vip = \"10.0.0.1\"; "
	    "port = 80; servers = (\n");
	for (i = 0; i < nservers; i++)
		p += sprintf(p, "  { address = \"10.1.%d.%d\"; }%s\n", i / 250,
		    i % 250 + 1, i + 1 < nservers ? "," : "");
	sprintf(p, "); } );\n");
	return (buf);
}

static void
test_limits(void **state)
{
	struct fx	*fx = *state;
	char		*text;

	text = big_conf(256, 0);
	fx_load_ok(fx, text);
	assert_int_equal(fx->conf->nservices, 256);
	free(text);
	text = big_conf(257, 0);
	fx_expect(fx, text, 260, "too many services (257, at most 256)");
	free(text);
	text = big_conf(0, 1024);
	fx_load_ok(fx, text);
	assert_int_equal(fx->conf->services[0].nservers, 1024);
	free(text);
	text = big_conf(0, 1025);
	fx_expect(fx, text, 1028, "too many servers in service \"big\" (1025, "
	    "at most 1024)");
	free(text);
}

static void
test_key_errors(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 buf[5000];
	char		 want[PATH_MAX + 128];

	memset(buf, 'k', sizeof(buf));
	fx_write(fx, "short.key", buf, 15);
	fx_write(fx, "big.key", buf, sizeof(buf));
	snprintf(want, sizeof(want), "key_file \"%s/short.key\" has 15 bytes, "
	    "at least 16 are needed", fx->dir);
	fx_expect(fx, NODE "cluster = {\n  port = 7946;\n  key_file = "
	    "\"short.key\";\n};\n", 4, want);
	snprintf(want, sizeof(want), "key_file \"%s/big.key\" is larger than "
	    "4096 bytes", fx->dir);
	fx_expect(fx, NODE "cluster = { key_file = \"big.key\"; };\n", 2, want);
	snprintf(want, sizeof(want), "cannot read key_file \"%s/nokey\": No "
	    "such file or directory; create it with \"head -c 32 /dev/urandom "
	    "> %s/nokey", fx->dir, fx->dir);
	fx_expect(fx, NODE "cluster = {\n  key_file = \"nokey\";\n};\n", 3,
	    want);
	snprintf(want, sizeof(want), "key_file \"%s/.\" is not a regular file",
	    fx->dir);
	fx_expect(fx, NODE "cluster = {\n  key_file = \".\";\n};\n", 3, want);
}

/* The default key file: line of authenticate, else cluster, else 1. */
static void
test_key_default(void **state)
{
	struct fx	*fx = *state;
	const char	*hint = "cannot read key_file \"/etc/ilbd/cluster.key\": "
			    "No such file or directory; create it with \"head "
			    "-c 32 /dev/urandom > /etc/ilbd/cluster.key";

	if (access("/etc/ilbd/cluster.key", F_OK) == 0)
		skip();
	fx_expect(fx, NODE, 1, hint);
	fx_expect(fx, NODE "\ncluster = {\n  port = 7946; };\n", 3, hint);
	fx_expect(fx, NODE "\ncluster = {\n  port = 7946;\n  authenticate = "
	    "true; };\n", 5, "or set cluster.authenticate = false");
}

static void
test_key_ok(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 buf[CONF_KEY_MAX], h[CONF_KEY_LEN];
	static const uint8_t zero[CONF_KEY_LEN];

	memset(buf, 0x5a, sizeof(buf));
	fx_write(fx, "min.key", buf, CONF_KEY_MIN);
	fx_write(fx, "max.key", buf, CONF_KEY_MAX);
	fx_load_ok(fx, NODE "cluster = { key_file = \"min.key\"; };\n");
	crypto_generichash(h, sizeof(h), buf, CONF_KEY_MIN, NULL, 0);
	assert_memory_equal(fx->conf->cluster.key, h, sizeof(h));
	fx_load_ok(fx, NODE "cluster = { key_file = \"max.key\"; };\n");
	crypto_generichash(h, sizeof(h), buf, CONF_KEY_MAX, NULL, 0);
	assert_memory_equal(fx->conf->cluster.key, h, sizeof(h));
	/* authenticate = false never reads the key file */
	fx_load_ok(fx, NODE "cluster = { key_file = \"nokey\"; "
	    "authenticate = false; };\n");
	assert_int_equal(fx->conf->cluster.authenticate, 0);
	assert_memory_equal(fx->conf->cluster.key, zero, sizeof(zero));
	fx_load_ok(fx, NODE "cluster = { authenticate = false; };\n");
}

static void
test_summary(void **state)
{
	struct fx	*fx = *state;
	char		 buf[256];

	fx_load_ok(fx, HDR "services = (\n" SVC_A "  { name = \"b\"; vip = "
	    "\"192.0.2.1\"; port = 81;\n    servers = ( { address = "
	    "\"192.0.2.2\"; }, { address = \"192.0.2.3\"; } ); }\n);\n");
	config_summary(fx->conf, buf, sizeof(buf));
	assert_string_equal(buf, "node 192.0.2.11 on eth0, input tun ilb0, "
	    "scoring crc32c-mix, authenticated, 2 services, 3 servers");
	fx_load_ok(fx, "node = { id = 7; interface = \"eth1\"; };\n"
	    "cluster = { authenticate = false; scoring = \"crc32\"; };\n"
	    "input = { mode = \"pcap\"; };\n");
	config_summary(fx->conf, buf, sizeof(buf));
	assert_string_equal(buf, "node 7 on eth1, input pcap eth1, scoring "
	    "crc32, unauthenticated, 0 services, 0 servers");
}

#define PEERS(list)	NODE "cluster = { key_file = \"cluster.key\";\n" \
			"  peers = " list ";\n};\n"

/* cluster.peers: order kept, self allowed, a list too, IPv6 groups. */
static void
test_peers(void **state)
{
	struct fx	*fx = *state;
	struct ilb_addr	 a;
	char		 buf[256];

	fx_load_ok(fx, HDR);
	assert_int_equal(fx->conf->cluster.npeers, 0);
	fx_load_ok(fx, PEERS("[ \"192.0.2.13\", \"192.0.2.11\", "
	    "\"192.0.2.12\" ]"));
	assert_int_equal(fx->conf->cluster.npeers, 3);
	assert_int_equal(util_addr_parse("192.0.2.13", &a), 0);
	assert_true(util_addr_eq(&fx->conf->cluster.peers[0], &a));
	assert_int_equal(util_addr_parse("192.0.2.12", &a), 0);
	assert_true(util_addr_eq(&fx->conf->cluster.peers[2], &a));
	config_summary(fx->conf, buf, sizeof(buf));
	assert_string_equal(buf, "node 192.0.2.11 on eth0, input tun ilb0, "
	    "scoring crc32c-mix, authenticated, 0 services, 0 servers, "
	    "cluster by unicast to 3 peers");
	fx_load_ok(fx, PEERS("( \"192.0.2.12\" )"));
	assert_int_equal(fx->conf->cluster.npeers, 1);
	fx_load_ok(fx, NODE "cluster = { key_file = \"cluster.key\"; "
	    "group = \"ff15::1\";\n  peers = [ \"2001:db8::11\", "
	    "\"fe80::12\" ];\n};\n");
	assert_int_equal(fx->conf->cluster.npeers, 2);
	assert_int_equal(fx->conf->cluster.peers[1].family, AF_INET6);
}

static const struct err_case peer_cases[] = {
	{ PEERS("\"192.0.2.12\""), 3, "peers: expected an array of "
	    "addresses [ \"192.0.2.11\", ... ], not a string" },
	{ PEERS("[]"), 3, "peers: empty (leave it out to use multicast)" },
	{ PEERS("[ \"192.0.2.12\", \"ilb3\" ]"), 3,
	    "peers: \"ilb3\" is not an IPv4 or IPv6 address" },
	{ PEERS("( \"192.0.2.12\",\n    7 )"), 4,
	    "peers: element 2 is an integer, not an address string" },
	{ PEERS("[ \"239.192.0.1\" ]"), 3,
	    "peers: \"239.192.0.1\" is a multicast address" },
	{ PEERS("[ \"0.0.0.0\" ]"), 3,
	    "peers: \"0.0.0.0\" is the unspecified address" },
	{ PEERS("( \"192.0.2.12\",\n    \"192.0.2.13\",\n"
	    "    \"192.0.2.12\" )"), 5,
	    "peers: \"192.0.2.12\" is listed twice (first at line 3)" },
	{ PEERS("[ \"192.0.2.12\", \"2001:db8::13\" ]"), 3,
	    "peers: \"2001:db8::13\" is IPv6 but the cluster is IPv4 "
	    "(cluster.group 239.192.0.1): every peer must be of the group's "
	    "family (set an IPv6 group to run the cluster over IPv6)" },
	{ NODE "cluster = { key_file = \"cluster.key\"; group = \"ff15::1\";"
	    "\n  peers = [ \"192.0.2.12\" ];\n};\n", 3,
	    "peers: \"192.0.2.12\" is IPv4 but the cluster is IPv6" },
};

static void
test_peer_errors(void **state)
{
	struct fx	*fx = *state;
	char		*text, *p;
	size_t		 i, n = CONF_PEERS_MAX + 1;

	FX_CASES(fx, peer_cases);
	/* one more than a cluster can hold */
	assert_non_null(text = calloc(n, 24));
	p = text;
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s\"10.0.%zu.%zu\"", i > 0 ? ", " : "",
		    i / 250, i % 250 + 1);
	assert_non_null(p = calloc(1, strlen(text) + 256));
	sprintf(p, PEERS("[ %s ]"), text);
	fx_expect(fx, p, 3, "peers: 256 addresses, at most 255");
	free(p);
	free(text);
}

static void
test_names_of_words(void **state)
{
	(void)state;
	assert_string_equal(config_scoring_name(SCORING_CRC32C_MIX),
	    "crc32c-mix");
	assert_string_equal(config_scoring_name(SCORING_KEYED), "keyed");
	assert_string_equal(config_sched_name(SCHED_RR), "rr");
	assert_string_equal(config_sched_name(SCHED_HASH), "hash");
	assert_string_equal(config_forward_name(FORWARD_GRE), "gre");
	assert_string_equal(config_input_name(INPUT_PCAP), "pcap");
	assert_string_equal(config_input_name(INPUT_XDP), "xdp");
	assert_string_equal(config_xdp_mode_name(XDP_AUTO), "auto");
	assert_string_equal(config_xdp_mode_name(XDP_NATIVE), "native");
	assert_string_equal(config_xdp_mode_name(XDP_SKB), "skb");
}

/*
 * input.workers: any number up to 64 (0: one per CPU), in every mode.
 */
static void
test_input_workers(void **state)
{
	struct fx	*fx = *state;

	fx_load_ok(fx, HDR "input = { mode = \"tun\"; workers = 4; };\n");
	assert_int_equal(fx->conf->input.workers, 4);
	fx_load_ok(fx, HDR "input = { workers = 0; };\n");
	assert_int_equal(fx->conf->input.workers, 0);
	fx_load_ok(fx, HDR "input = { mode = \"pcap\"; workers = 2; };\n");
	assert_int_equal(fx->conf->input.workers, 2);
#ifdef HAVE_XDP
	fx_load_ok(fx, HDR "input = { mode = \"xdp\"; workers = 2; };\n");
	assert_int_equal(fx->conf->input.workers, 2);
#endif
	fx_expect(fx, HDR "input = {\n  workers = 65; };\n", 4,
	    "workers: 65 is out of range 0..64 (0 = one per CPU the daemon "
	    "may run on)");
}

/*
 * input.mode "xdp" with its options; refused with its line when ilbd was
 * built without AF_XDP. Out-of-range or mistyped queues, either way.
 */
static void
test_input_xdp(void **state)
{
	struct fx	*fx = *state;
	static const char *const text = HDR "input = {\n  mode = \"xdp\";\n"
	    "  xdp_mode = \"native\";\n  queues = 4; };\n";
#ifdef HAVE_XDP
	char		 buf[256];

	fx_load_ok(fx, text);
	assert_int_equal(fx->conf->input.mode, INPUT_XDP);
	assert_int_equal(fx->conf->input.xdp_mode, XDP_NATIVE);
	assert_int_equal(fx->conf->input.queues, 4);
	config_summary(fx->conf, buf, sizeof(buf));
	assert_string_equal(buf, "node 192.0.2.11 on eth0, input xdp eth0, "
	    "scoring crc32c-mix, authenticated, 0 services, 0 servers");
	fx_load_ok(fx, HDR "input = { mode = \"xdp\"; };\n");
	assert_int_equal(fx->conf->input.xdp_mode, XDP_AUTO);
	assert_int_equal(fx->conf->input.queues, 0);
#else
	fx_expect(fx, text, 4, "input mode \"xdp\": ilbd was built without "
	    "AF_XDP");
#endif
	fx_expect(fx, HDR "input = {\n  queues = 65; };\n", 4,
	    "queues: 65 is out of range 0..64 (0 = all the interface's "
	    "queues)");
	fx_expect(fx, HDR "input = {\n  queues = \"2\"; };\n", 4,
	    "queues: expected an integer, not a string");
}

static void
conf_equal(const struct ilbd_conf *a, const struct ilbd_conf *b)
{
	unsigned int	i, j;

	assert_memory_equal(&a->node.id, &b->node.id, sizeof(a->node.id));
	assert_string_equal(a->node.id_text, b->node.id_text);
	assert_string_equal(a->node.interface, b->node.interface);
	assert_string_equal(a->node.state_dir, b->node.state_dir);
	assert_int_equal(a->node.has_address, b->node.has_address);
	assert_true(!a->node.has_address ||
	    util_addr_eq(&a->node.address, &b->node.address));
	assert_true(util_addr_eq(&a->cluster.group, &b->cluster.group));
	assert_int_equal(a->cluster.port, b->cluster.port);
	assert_int_equal(a->cluster.hello_ms, b->cluster.hello_ms);
	assert_int_equal(a->cluster.dead_ms, b->cluster.dead_ms);
	assert_string_equal(a->cluster.key_file, b->cluster.key_file);
	assert_int_equal(a->cluster.authenticate, b->cluster.authenticate);
	assert_memory_equal(a->cluster.key, b->cluster.key, CONF_KEY_LEN);
	assert_int_equal(a->cluster.scoring, b->cluster.scoring);
	assert_int_equal(a->cluster.npeers, b->cluster.npeers);
	for (i = 0; i < a->cluster.npeers; i++)
		assert_true(util_addr_eq(&a->cluster.peers[i],
		    &b->cluster.peers[i]));
	assert_int_equal(a->input.mode, b->input.mode);
	assert_string_equal(a->input.device, b->input.device);
	assert_int_equal(a->input.xdp_mode, b->input.xdp_mode);
	assert_int_equal(a->input.queues, b->input.queues);
	assert_memory_equal(&a->tables, &b->tables, sizeof(a->tables));
	assert_string_equal(a->control_socket, b->control_socket);
	assert_int_equal(a->metrics_enabled, b->metrics_enabled);
	if (a->metrics_enabled) {
		assert_true(util_addr_eq(&a->metrics_addr, &b->metrics_addr));
		assert_int_equal(a->metrics_port, b->metrics_port);
	}
	assert_int_equal(a->nservices, b->nservices);
	for (i = 0; i < a->nservices; i++) {
		const struct service_conf *s = &a->services[i];
		const struct service_conf *t = &b->services[i];

		assert_string_equal(s->name, t->name);
		assert_true(util_addr_eq(&s->vip, &t->vip));
		assert_int_equal(s->port, t->port);
		assert_int_equal(s->forward, t->forward);
		assert_int_equal(s->scheduler, t->scheduler);
		assert_memory_equal(&s->health, &t->health, sizeof(s->health));
		assert_int_equal(s->nservers, t->nservers);
		for (j = 0; j < s->nservers; j++) {
			assert_true(util_addr_eq(&s->servers[j].addr,
			    &t->servers[j].addr));
			assert_int_equal(s->servers[j].weight,
			    t->servers[j].weight);
			assert_int_equal(s->servers[j].quic_sid_len,
			    t->servers[j].quic_sid_len);
			assert_memory_equal(s->servers[j].quic_sid,
			    t->servers[j].quic_sid, sizeof(s->servers[j].quic_sid));
		}
		assert_int_equal(s->udp_timeout_s, t->udp_timeout_s);
		assert_int_equal(s->udp_stream_timeout_s,
		    t->udp_stream_timeout_s);
		assert_int_equal(s->quic, t->quic);
		assert_int_equal(s->nquic_lb, t->nquic_lb);
		assert_memory_equal(s->quic_lb, t->quic_lb, sizeof(s->quic_lb));
	}
}

/* A quic service up to its servers' list (line 4: the service, 9: the first server). */
#define QUIC_SVC	"services = (\n  { name = \"q\"; vip = \"192.0.2.1\"; " \
	"port = 443; protocol = \"udp\";\n    quic = true;\n" \
	"    quic_lb = ( { rotation = 0; server_id_len = 2; nonce_len = 6; " \
	"self_describe = true; },\n      { rotation = 2; server_id_len = 2; " \
	"nonce_len = 8; } );\n    servers = (\n"
#define QUIC_ONE	"      { address = \"192.0.2.2\"; " \
	"quic_server_id = \"0a01\"; } ); }\n);\n"

/* Dump text, load the dump from the same directory, compare. */
static void
round_trip(struct fx *fx, const char *text)
{
	struct ilbd_conf	*again = NULL;
	char			 path[PATH_MAX], *cause = NULL;
	FILE			*fp;

	fx_load_ok(fx, text);
	snprintf(path, sizeof(path), "%s/dump.conf", fx->dir);
	assert_non_null(fp = fopen(path, "w"));
	config_dump(fx->conf, fp);
	assert_int_equal(fclose(fp), 0);
	if (config_load(path, &again, &cause) != 0) {
		print_error("dump does not load: %s\n", cause);
		free(cause);
		fail();
	}
	conf_equal(fx->conf, again);
	config_free(again);
}

static void
test_dump_round_trip(void **state)
{
	struct fx	*fx = *state;

	round_trip(fx, full_conf);
	round_trip(fx, "node = { id = 3; interface = \"eth1\"; };\n"
	    "cluster = { authenticate = false; };\n");
	round_trip(fx, "node = { id = 3; interface = \"eth1\"; "
	    "state_dir = \"\"; };\n"
	    "cluster = { authenticate = false; };\n");
	round_trip(fx, "node = { id = 4294967295L; interface = \"e\\\"x\"; "
	    "address = \"2001:db8::1\"; };\n"
	    "metrics = { listen = \"\"; };\n"
	    "cluster = { key_file = \"cluster.key\"; group = \"ff15::1\"; };\n"
	    "services = ();\n");
	round_trip(fx, "node = { id = 3; interface = \"eth1\"; };\n"
	    "cluster = { authenticate = false; };\n"
	    "services = ( { name = \"a\"; vip = \"192.0.2.1\"; port = 80;\n"
	    "  health = { check = \"http\"; status = 204; port = 81; };\n"
	    "  servers = ( { address = \"192.0.2.2\"; } ); } );\n");
	round_trip(fx, HDR QUIC_SVC "      { address = \"192.0.2.2\"; "
	    "quic_server_id = \"0a01\"; },\n      { address = \"192.0.2.3\"; "
	    "quic_server_id = \"0A02\"; } ); }\n);\n");
	round_trip(fx, "node = { id = 3; interface = \"eth1\"; };\n"
	    "cluster = { authenticate = false; peers = [ \"192.0.2.11\", "
	    "\"192.0.2.12\" ]; };\n");
	/* issue 22: the bytes of send and expect, escaped twice */
	round_trip(fx, "node = { id = 3; interface = \"eth1\"; };\n"
	    "cluster = { authenticate = false; };\n"
	    "services = ( { name = \"a\"; vip = \"192.0.2.1\"; port = 53;\n"
	    "  protocol = \"udp\";\n"
	    "  health = { check = \"udp\"; send = "
	    "\"\\\\x00q\\\"\\\\\\\\\\xff\\n\";\n"
	    "    expect = \"ok\\\\r\"; };\n"
	    "  servers = ( { address = \"192.0.2.2\"; } ); },\n"
	    "  { name = \"b\"; vip = \"192.0.2.1\"; port = 54;\n"
	    "  protocol = \"udp\"; health = { check = \"udp\"; };\n"
	    "  servers = ( { address = \"192.0.2.2\"; } ); } );\n");
}

/* issue 22: idle timeouts per UDP service. */
static const struct err_case udp_timeout_cases[] = {
	{ HDR SVC_OPEN "    port = 80;\n    udp_timeout_s = 10;\n" SVC_SERVERS,
	    6, "udp_timeout_s: only with protocol = \"udp\" (service \"web\" "
	    "is tcp)" },
	{ HDR SVC_OPEN "    port = 80;\n    udp_stream_timeout_s = 10;\n"
	    SVC_SERVERS, 6, "udp_stream_timeout_s: only with protocol = "
	    "\"udp\"" },
	{ HDR SVC_OPEN "    port = 53; protocol = \"udp\";\n"
	    "    udp_timeout_s = 0;\n" SVC_SERVERS, 6,
	    "udp_timeout_s: 0 is out of range 1..3600" },
	{ HDR SVC_OPEN "    port = 53; protocol = \"udp\";\n"
	    "    udp_stream_timeout_s = 604801;\n" SVC_SERVERS, 6,
	    "udp_stream_timeout_s: 604801 is out of range 1..604800" },
	{ HDR SVC_OPEN "    port = 53; protocol = \"udp\";\n"
	    "    udp_timeout_s = \"10\";\n" SVC_SERVERS, 6,
	    "udp_timeout_s: expected an integer" },
};

static void
test_udp_timeouts(void **state)
{
	struct fx			*fx = *state;
	const struct service_conf	*s;

	FX_CASES(fx, udp_timeout_cases);
	fx_load_ok(fx, full_conf);
	s = &fx->conf->services[0];
	assert_int_equal(s->udp_timeout_s, 0);		/* the tables' */
	assert_int_equal(s->udp_stream_timeout_s, 0);
	s = &fx->conf->services[1];
	assert_int_equal(s->udp_timeout_s, 10);
	assert_int_equal(s->udp_stream_timeout_s, 3600);
}

static const struct err_case quic_cases[] = {
	{ HDR SVC_OPEN "    port = 80;\n    quic = true;\n" SVC_SERVERS, 6,
	    "quic: only with protocol = \"udp\" (service \"web\" is tcp)" },
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\";\n    quic = 1;\n"
	    SVC_SERVERS, 6, "quic: expected true or false, not an integer" },
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\";\n    quic = true;\n"
	    SVC_SERVERS, 6, "quic = true needs at least one configuration in "
	    "quic_lb" },
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\"; quic = true;\n"
	    "    quic_lb = ();\n" SVC_SERVERS, 6, "quic = true needs at least "
	    "one configuration in quic_lb" },
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\";\n    quic_lb = ( { "
	    "server_id_len = 2; nonce_len = 6; } );\n" SVC_SERVERS, 6,
	    "quic_lb: only with quic = true" },
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\"; quic = true;\n"
	    "    quic_lb = ( { server_id_len = 2; nonce_len = 6;\n"
	    "      key = \"000102030405060708090a0b0c0d0e0f\"; } );\n"
	    SVC_SERVERS, 7, "encrypted QUIC-LB connection IDs are not "
	    "supported (plaintext only" },
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\"; quic = true;\n"
	    "    quic_lb = ( { server_id_len = 2; nonce_len = 6; cid = 1; } );\n"
	    SVC_SERVERS, 6, "unknown key \"cid\" in quic_lb 1 of service "
	    "\"web\"" },
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\"; quic = true;\n"
	    "    quic_lb = ( { rotation = 7; server_id_len = 2; nonce_len = 6; "
	    "} );\n" SVC_SERVERS, 6, "rotation: 7 is out of range 0..6" },
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\"; quic = true;\n"
	    "    quic_lb = ( { server_id_len = 2; nonce_len = 3; } );\n"
	    SVC_SERVERS, 6, "nonce_len: 3 is out of range 4..18" },
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\"; quic = true;\n"
	    "    quic_lb = ( { nonce_len = 6; } );\n" SVC_SERVERS, 6,
	    "missing \"server_id_len\" in quic_lb 1 of service \"web\"" },
	/* quic_lb_conf_check(): its cause */
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\"; quic = true;\n"
	    "    quic_lb = ( { server_id_len = 10; nonce_len = 10; } );\n"
	    SVC_SERVERS, 6, "quic_lb of service \"web\": config rotation 0: "
	    "server ID and nonce 20 octets, at most 19" },
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\"; quic = true;\n"
	    "    quic_lb = ( { server_id_len = 2; nonce_len = 6; },\n"
	    "      { server_id_len = 2; nonce_len = 5; } );\n" SVC_SERVERS, 6,
	    "config rotation 0 given twice" },
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\"; quic = true;\n"
	    "    quic_lb = ( { server_id_len = 2; nonce_len = 6; },\n"
	    "      { rotation = 1; server_id_len = 3; nonce_len = 5; } );\n"
	    SVC_SERVERS, 7, "server_id_len 3 in item 2 of service \"web\", "
	    "but 2 in item 1" },
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\"; quic = true;\n"
	    "    quic_lb = ( {server_id_len=1;nonce_len=4;}, {rotation=1;"
	    "server_id_len=1;nonce_len=4;}, {rotation=2;server_id_len=1;"
	    "nonce_len=4;}, {rotation=3;server_id_len=1;nonce_len=4;}, "
	    "{rotation=4;server_id_len=1;nonce_len=4;}, {rotation=5;"
	    "server_id_len=1;nonce_len=4;}, {rotation=6;server_id_len=1;"
	    "nonce_len=4;},\n {rotation=6;server_id_len=1;nonce_len=4;} );\n"
	    SVC_SERVERS, 7, "quic_lb: 8 configurations in service \"web\", "
	    "at most 7" },
	/* servers */
	{ HDR QUIC_SVC "      { address = \"192.0.2.2\"; } ); }\n);\n", 9,
	    "missing \"quic_server_id\" on a server of service \"q\"" },
	{ HDR QUIC_SVC "      { address = \"192.0.2.2\";\n"
	    "        quic_server_id = \"0a0102\"; } ); }\n);\n", 10,
	    "quic_server_id: \"0a0102\" must be 4 hex digits (server_id_len 2" },
	{ HDR QUIC_SVC "      { address = \"192.0.2.2\";\n"
	    "        quic_server_id = \"0g01\"; } ); }\n);\n", 10,
	    "quic_server_id: \"0g01\" is not hexadecimal" },
	{ HDR QUIC_SVC "      { address = \"192.0.2.2\";\n"
	    "        quic_server_id = 10; } ); }\n);\n", 10,
	    "quic_server_id: expected a string, not an integer" },
	{ HDR QUIC_SVC "      { address = \"192.0.2.2\"; quic_server_id = "
	    "\"0a01\"; },\n      { address = \"192.0.2.3\"; quic_server_id = "
	    "\"0A01\"; } ); }\n);\n", 10, "duplicate quic_server_id in service "
	    "\"q\" (first at line 9)" },
	{ HDR SVC_OPEN "    port = 80; protocol = \"udp\";\n    servers = ( {\n"
	    "      address = \"192.0.2.2\"; quic_server_id = \"01\"; } ); }\n);\n",
	    7, "quic_server_id: only on a server of a service with quic = true" },
};

static void
test_quic(void **state)
{
	struct fx			*fx = *state;
	const struct service_conf	*s;

	FX_CASES(fx, quic_cases);
	fx_load_ok(fx, HDR QUIC_SVC QUIC_ONE);
	s = &fx->conf->services[0];
	assert_int_equal(s->quic, 1);
	assert_int_equal(s->nquic_lb, 2);
	assert_int_equal(s->quic_lb[0].cr, 0);
	assert_int_equal(s->quic_lb[0].sid_len, 2);
	assert_int_equal(s->quic_lb[0].nonce_len, 6);
	assert_int_equal(s->quic_lb[0].len_self, 1);
	assert_int_equal(s->quic_lb[0].encrypted, 0);
	assert_int_equal(s->quic_lb[1].cr, 2);
	assert_int_equal(s->quic_lb[1].nonce_len, 8);
	assert_int_equal(s->quic_lb[1].len_self, 0);
	assert_int_equal(s->servers[0].quic_sid_len, 2);
	assert_int_equal(s->servers[0].quic_sid[0], 0x0a);
	assert_int_equal(s->servers[0].quic_sid[1], 0x01);
	/* default: no quic */
	fx_load_ok(fx, HDR SVC_OPEN "    port = 80; protocol = \"udp\";\n"
	    SVC_SERVERS);
	assert_int_equal(fx->conf->services[0].quic, 0);
	assert_int_equal(fx->conf->services[0].nquic_lb, 0);
	assert_int_equal(fx->conf->services[0].servers[0].quic_sid_len, 0);
	/* quic = false is as good as absent */
	fx_load_ok(fx, HDR SVC_OPEN "    port = 80; protocol = \"udp\"; "
	    "quic = false;\n" SVC_SERVERS);
	assert_int_equal(fx->conf->services[0].quic, 0);
}

/* Replace the key_file string of text with path (one occurrence). */
static char *
rewrite_key_file(const char *text, const char *path)
{
	const char	*k, *q1, *q2;
	char		*out;

	if ((k = strstr(text, "key_file")) == NULL ||
	    (q1 = strchr(k, '"')) == NULL || (q2 = strchr(q1 + 1, '"')) ==
	    NULL)
		return (NULL);
	if (asprintf(&out, "%.*s%s%s", (int)(q1 + 1 - text), text, path,
	    q2) == -1)
		return (NULL);
	return (out);
}

static void
test_shipped_conf(void **state)
{
	struct fx	*fx = *state;
	const char	*top = getenv("top_srcdir");
	char		 path[PATH_MAX], key[PATH_MAX], *text, *conf;
	FILE		*fp;
	long		 len;

	snprintf(path, sizeof(path), "%s/etc/ilbd.conf", top != NULL ? top :
	    ".");
	if ((fp = fopen(path, "r")) == NULL) {
		print_message("%s: missing, skipped\n", path);
		skip();
	}
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	assert_true((len = ftell(fp)) >= 0);
	rewind(fp);
	assert_non_null(text = calloc(1, (size_t)len + 1));
	assert_int_equal(fread(text, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	snprintf(key, sizeof(key), "%s/cluster.key", fx->dir);
	conf = rewrite_key_file(text, key);
	free(text);
	if (conf == NULL)
		fail_msg("%s: no key_file = \"...\" to rewrite", path);
	fx_load_ok(fx, conf);
	free(conf);
	assert_string_equal(fx->conf->cluster.key_file, key);
}

/* cluster.key_file_next: read as key_file, into key_next; errors at it. */
static void
test_key_next(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 a[32], b[32], h[CONF_KEY_LEN];
	char		 want[PATH_MAX + 128];

	memset(a, 0x5a, sizeof(a));
	memset(b, 0xa5, sizeof(b));
	fx_write(fx, "a.key", a, sizeof(a));
	fx_write(fx, "b.key", b, sizeof(b));
	fx_load_ok(fx, NODE "cluster = { key_file = \"a.key\"; };\n");
	assert_int_equal(fx->conf->cluster.has_key_next, 0);
	fx_load_ok(fx, NODE "cluster = { key_file = \"a.key\"; "
	    "key_file_next = \"b.key\"; };\n");
	assert_int_equal(fx->conf->cluster.has_key_next, 1);
	crypto_generichash(h, sizeof(h), a, sizeof(a), NULL, 0);
	assert_memory_equal(fx->conf->cluster.key, h, sizeof(h));
	crypto_generichash(h, sizeof(h), b, sizeof(b), NULL, 0);
	assert_memory_equal(fx->conf->cluster.key_next, h, sizeof(h));
	snprintf(want, sizeof(want), "%s/b.key", fx->dir);
	assert_string_equal(fx->conf->cluster.key_file_next, want);
	/* "" is none; without authentication it is never read */
	fx_load_ok(fx, NODE "cluster = { key_file = \"a.key\"; "
	    "key_file_next = \"\"; };\n");
	assert_int_equal(fx->conf->cluster.has_key_next, 0);
	fx_load_ok(fx, NODE "cluster = { authenticate = false; "
	    "key_file_next = \"nokey\"; };\n");
	assert_int_equal(fx->conf->cluster.has_key_next, 0);
	/* errors name the next file, at its line */
	snprintf(want, sizeof(want), "cannot read key_file \"%s/nokey\"",
	    fx->dir);
	fx_expect(fx, NODE "cluster = { key_file = \"a.key\";\n"
	    "  key_file_next = \"nokey\"; };\n", 3, want);
	fx_write(fx, "short.key", a, 15);
	fx_expect(fx, NODE "cluster = {\n  key_file = \"a.key\";\n\n"
	    "  key_file_next = \"short.key\"; };\n", 5, "has 15 bytes");
	fx_expect(fx, NODE "cluster = { key_file = \"a.key\";\n"
	    "  key_file_next = 5; };\n", 3, "key_file_next");
}

/* icmp.echo_rate: default 100, 0..1000000, errors with their line. */
static void
test_icmp(void **state)
{
	struct fx	*fx = *state;

	fx_load_ok(fx, HDR);
	assert_int_equal(fx->conf->icmp.echo_rate, 100);
	fx_load_ok(fx, HDR "icmp = { echo_rate = 0; };\n");
	assert_int_equal(fx->conf->icmp.echo_rate, 0);
	fx_load_ok(fx, HDR "icmp = { echo_rate = 1000000; };\n");
	assert_int_equal(fx->conf->icmp.echo_rate, 1000000);
	fx_expect(fx, HDR "icmp = {\n  echo_rate = 1000001; };\n", 4,
	    "echo_rate");
	fx_expect(fx, HDR "icmp = {\n  echo_rate = -1; };\n", 4, "echo_rate");
	fx_expect(fx, HDR "icmp = {\n  echo = 5; };\n", 4,
	    "unknown key \"echo\" in icmp");
	fx_expect(fx, HDR "icmp = 5;\n", 3, "icmp");
}

int
main(void)
{
	const struct CMUnitTest values[] = {
		cmocka_unit_test_teardown(test_full, fx_reset),
		cmocka_unit_test_teardown(test_defaults, fx_reset),
		cmocka_unit_test_teardown(test_node_id, fx_reset),
		cmocka_unit_test_teardown(test_summary, fx_reset),
		cmocka_unit_test_teardown(test_peers, fx_reset),
		cmocka_unit_test(test_names_of_words),
		cmocka_unit_test_teardown(test_input_xdp, fx_reset),
		cmocka_unit_test_teardown(test_input_workers, fx_reset),
		cmocka_unit_test_teardown(test_dump_round_trip, fx_reset),
		cmocka_unit_test_teardown(test_udp_timeouts, fx_reset),
		cmocka_unit_test_teardown(test_quic, fx_reset),
		cmocka_unit_test_teardown(test_shipped_conf, fx_reset),
	};
	const struct CMUnitTest errors[] = {
		cmocka_unit_test_teardown(test_syntax, fx_reset),
		cmocka_unit_test_teardown(test_unreadable, fx_reset),
		cmocka_unit_test_teardown(test_unknown_keys, fx_reset),
		cmocka_unit_test_teardown(test_types, fx_reset),
		cmocka_unit_test_teardown(test_ranges, fx_reset),
		cmocka_unit_test_teardown(test_addresses, fx_reset),
		cmocka_unit_test_teardown(test_family, fx_reset),
		cmocka_unit_test_teardown(test_duplicates, fx_reset),
		cmocka_unit_test_teardown(test_enums, fx_reset),
		cmocka_unit_test_teardown(test_health_errors, fx_reset),
		cmocka_unit_test_teardown(test_health_udp, fx_reset),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test_teardown(test_missing, fx_reset),
		cmocka_unit_test_teardown(test_names, fx_reset),
		cmocka_unit_test_teardown(test_limits, fx_reset),
		cmocka_unit_test_teardown(test_peer_errors, fx_reset),
		cmocka_unit_test_teardown(test_icmp, fx_reset),
	};
	const struct CMUnitTest keys[] = {
		cmocka_unit_test_teardown(test_key_errors, fx_reset),
		cmocka_unit_test_teardown(test_key_default, fx_reset),
		cmocka_unit_test_teardown(test_key_ok, fx_reset),
		cmocka_unit_test_teardown(test_key_next, fx_reset),
	};
	int	fails = 0;

	fails += cmocka_run_group_tests_name("config values", values, fx_setup,
	    fx_teardown);
	fails += cmocka_run_group_tests_name("config errors", errors, fx_setup,
	    fx_teardown);
	fails += cmocka_run_group_tests_name("config key file", keys, fx_setup,
	    fx_teardown);
	return (fails != 0);
}
