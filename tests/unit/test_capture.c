/*
 * test_capture.c: cmocka tests of the pcap filter text and link stripping,
 * and of the TUN input (the other input): its multicast test and its
 * bursts.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>
#include <pcap/pcap.h>

#include "capture.h"
#include "config.h"
#include "tun.h"
#include "util.h"

#define TC_SERVICES	8

struct tc_fixture {
	struct ilbd_conf	conf;
	struct service_conf	services[TC_SERVICES];
};

static int	 tc_setup(void **);
static int	 tc_teardown(void **);
static void	 tc_service(void **, const char *, uint16_t);
static void	 tc_filter_is(void **, const char *);

static int
tc_setup(void **state)
{
	struct tc_fixture	*fx;

	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	fx->conf.services = fx->services;
	*state = fx;
	return (0);
}

static int
tc_teardown(void **state)
{
	free(*state);
	return (0);
}

/* Append a service vip:port to the fixture's config. */
static void
tc_service(void **state, const char *vip, uint16_t port)
{
	struct tc_fixture	*fx = *state;
	struct service_conf	*s;

	assert_true(fx->conf.nservices < TC_SERVICES);
	s = &fx->services[fx->conf.nservices++];
	assert_int_equal(util_addr_parse(vip, &s->vip), 0);
	s->port = port;
}

/* What every filter adds for ICMP errors and later fragments to the VIPs. */
#define TC_EXTRA	" and (icmp or (ip[6:2] & 0x1fff != 0) or " \
			"(ip6 and ip6[6] != 6)))"

/* The filter is want, and libpcap compiles it for Ethernet and raw IP. */
static void
tc_filter_is(void **state, const char *want)
{
	struct tc_fixture	*fx = *state;
	struct bpf_program	 prog;
	pcap_t			*p;
	char			*f;
	int			 dlts[] = { DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL };
	size_t			 i;

	f = capture_filter(&fx->conf);
	assert_non_null(f);
	assert_string_equal(f, want);
	for (i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		p = pcap_open_dead(dlts[i], CAPTURE_SNAPLEN);
		assert_non_null(p);
		assert_int_equal(pcap_compile(p, &prog, f, 1,
		    PCAP_NETMASK_UNKNOWN), 0);
		pcap_freecode(&prog);
		pcap_close(p);
	}
	free(f);
}

static void
test_filter_v4(void **state)
{
	tc_service(state, "198.51.100.10", 80);
	tc_filter_is(state, "(tcp and (dst host 198.51.100.10 and dst port 80)) "
	    "or (dst host 198.51.100.10"
	    TC_EXTRA);
}

static void
test_filter_v6(void **state)
{
	tc_service(state, "2001:db8:100::10", 443);
	tc_filter_is(state,
	    "(tcp and (dst host 2001:db8:100::10 and dst port 443)) "
	    "or (dst host 2001:db8:100::10" TC_EXTRA);
}

static void
test_filter_mixed(void **state)
{
	tc_service(state, "198.51.100.10", 80);
	tc_service(state, "2001:db8:100::10", 443);
	tc_filter_is(state, "(tcp and ((dst host 198.51.100.10 and dst port 80) "
	    "or (dst host 2001:db8:100::10 and dst port 443))) "
	    "or ((dst host 198.51.100.10 or dst host 2001:db8:100::10)"
	    TC_EXTRA);
}

static void
test_filter_one_vip_many_ports(void **state)
{
	tc_service(state, "198.51.100.10", 80);
	tc_service(state, "198.51.100.10", 443);
	tc_service(state, "198.51.100.10", 8080);
	tc_filter_is(state, "(tcp and (dst host 198.51.100.10 and "
	    "(dst port 80 or dst port 443 or dst port 8080))) "
	    "or (dst host 198.51.100.10" TC_EXTRA);
}

/* Services of one VIP are grouped even when others come in between. */
static void
test_filter_interleaved(void **state)
{
	tc_service(state, "198.51.100.10", 80);
	tc_service(state, "2001:db8:100::10", 443);
	tc_service(state, "198.51.100.10", 443);
	tc_service(state, "198.51.100.11", 80);
	tc_filter_is(state, "(tcp and ((dst host 198.51.100.10 and "
	    "(dst port 80 or dst port 443)) or "
	    "(dst host 2001:db8:100::10 and dst port 443) or "
	    "(dst host 198.51.100.11 and dst port 80))) "
	    "or ((dst host 198.51.100.10 or dst host 2001:db8:100::10 or "
	    "dst host 198.51.100.11)" TC_EXTRA);
}

static void
test_filter_duplicate_port(void **state)
{
	tc_service(state, "198.51.100.10", 80);
	tc_service(state, "198.51.100.10", 80);
	tc_filter_is(state, "(tcp and (dst host 198.51.100.10 and dst port 80)) "
	    "or (dst host 198.51.100.10"
	    TC_EXTRA);
}

/* A UDP service gets its own "udp and" term; a TCP-only filter is unchanged. */
static void
test_filter_udp(void **state)
{
	struct tc_fixture	*fx = *state;

	tc_service(state, "198.51.100.10", 53);
	fx->services[0].protocol = PROTO_UDP;
	tc_filter_is(state, "(udp and (dst host 198.51.100.10 and dst port 53)) "
	    "or (dst host 198.51.100.10" TC_EXTRA);
}

/* TCP and UDP on one VIP and port are two services; each keeps its ports. */
static void
test_filter_tcp_and_udp(void **state)
{
	struct tc_fixture	*fx = *state;

	tc_service(state, "198.51.100.10", 53);
	tc_service(state, "198.51.100.10", 53);
	tc_service(state, "198.51.100.10", 80);
	tc_service(state, "2001:db8:100::10", 443);
	tc_service(state, "2001:db8:100::10", 443);
	fx->services[1].protocol = PROTO_UDP;
	fx->services[4].protocol = PROTO_UDP;
	tc_filter_is(state, "(tcp and ((dst host 198.51.100.10 and "
	    "(dst port 53 or dst port 80)) or "
	    "(dst host 2001:db8:100::10 and dst port 443))) or "
	    "(udp and ((dst host 198.51.100.10 and dst port 53) or "
	    "(dst host 2001:db8:100::10 and dst port 443))) "
	    "or ((dst host 198.51.100.10 or dst host 2001:db8:100::10)"
	    TC_EXTRA);
}

static void
test_filter_none(void **state)
{
	tc_filter_is(state, "less 0");
}

/* Frames: Ethernet header, optional tags, then a byte of IP header. */
static const uint8_t tc_eth4[] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00, 0x45, 0 };
static const uint8_t tc_eth6[] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x86, 0xdd, 0x60, 0 };
static const uint8_t tc_eth_vlan4[] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0x00, 0x00, 0x64,
	0x08, 0x00, 0x45 };
static const uint8_t tc_eth_qinq6[] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x88, 0xa8, 0x00, 0x64,
	0x86, 0xdd, 0x60 };
static const uint8_t tc_eth_two_tags[] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x88, 0xa8, 0x00, 0x64,
	0x81, 0x00, 0x00, 0x65, 0x08, 0x00, 0x45 };
static const uint8_t tc_eth_arp[] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x06, 0, 1 };
static const uint8_t tc_sll4[] = {
	0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00, 0x45 };
static const uint8_t tc_sll_vlan6[] = {
	0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x81, 0x00, 0x00, 0x64,
	0x86, 0xdd, 0x60 };
static const uint8_t tc_sll2_6[] = {
	0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
	0x60 };
static const uint8_t tc_raw4[] = { 0x45, 0, 0, 20 };
static const uint8_t tc_raw6[] = { 0x60, 0, 0, 0 };
static const uint8_t tc_raw_bad[] = { 0x55, 0, 0, 0 };

/* capture_strip() gives want (or -1) for frame cut to len bytes. */
static void
tc_strip(int dlt, const uint8_t *f, size_t len, int want)
{
	size_t	off = 999;

	if (want == -1) {
		assert_int_equal(capture_strip(dlt, f, len, &off), -1);
		assert_int_equal(off, 999);
	} else {
		assert_int_equal(capture_strip(dlt, f, len, &off), 0);
		assert_int_equal(off, want);
	}
}

static void
test_strip_ethernet(void **state)
{
	(void)state;
	tc_strip(DLT_EN10MB, tc_eth4, sizeof(tc_eth4), 14);
	tc_strip(DLT_EN10MB, tc_eth6, sizeof(tc_eth6), 14);
	tc_strip(DLT_EN10MB, tc_eth_arp, sizeof(tc_eth_arp), -1);
	tc_strip(DLT_EN10MB, tc_eth4, 15, 14);
	/* Truncated: no IP byte, half a header, nothing. */
	tc_strip(DLT_EN10MB, tc_eth4, 14, -1);
	tc_strip(DLT_EN10MB, tc_eth4, 13, -1);
	tc_strip(DLT_EN10MB, tc_eth4, 0, -1);
}

static void
test_strip_vlan(void **state)
{
	(void)state;
	tc_strip(DLT_EN10MB, tc_eth_vlan4, sizeof(tc_eth_vlan4), 18);
	tc_strip(DLT_EN10MB, tc_eth_qinq6, sizeof(tc_eth_qinq6), 18);
	/* One tag only: a second one is not IP. */
	tc_strip(DLT_EN10MB, tc_eth_two_tags, sizeof(tc_eth_two_tags), -1);
	/* Cut inside the tag, after the tag, at the IP header. */
	tc_strip(DLT_EN10MB, tc_eth_vlan4, 16, -1);
	tc_strip(DLT_EN10MB, tc_eth_vlan4, 17, -1);
	tc_strip(DLT_EN10MB, tc_eth_vlan4, 18, -1);
}

static void
test_strip_sll(void **state)
{
	(void)state;
	tc_strip(DLT_LINUX_SLL, tc_sll4, sizeof(tc_sll4), 16);
	tc_strip(DLT_LINUX_SLL, tc_sll_vlan6, sizeof(tc_sll_vlan6), 20);
	tc_strip(DLT_LINUX_SLL, tc_sll4, 16, -1);
	tc_strip(DLT_LINUX_SLL, tc_sll4, 15, -1);
	tc_strip(DLT_LINUX_SLL2, tc_sll2_6, sizeof(tc_sll2_6), 20);
	tc_strip(DLT_LINUX_SLL2, tc_sll2_6, 20, -1);
	tc_strip(DLT_LINUX_SLL2, tc_sll2_6, 3, -1);
	/* An Ethernet frame read as SLL: the protocol field is not IP. */
	tc_strip(DLT_LINUX_SLL, tc_eth_arp, sizeof(tc_eth_arp), -1);
}

static void
test_strip_raw(void **state)
{
	(void)state;
	tc_strip(DLT_RAW, tc_raw4, sizeof(tc_raw4), 0);
	tc_strip(DLT_RAW, tc_raw6, sizeof(tc_raw6), 0);
	tc_strip(DLT_RAW, tc_raw4, 1, 0);
	tc_strip(DLT_RAW, tc_raw_bad, sizeof(tc_raw_bad), -1);
	tc_strip(DLT_RAW, tc_raw4, 0, -1);
}

static void
test_strip_unknown_dlt(void **state)
{
	(void)state;
	tc_strip(DLT_NULL, tc_raw4, sizeof(tc_raw4), -1);
	tc_strip(DLT_IEEE802_11, tc_eth4, sizeof(tc_eth4), -1);
	assert_false(capture_dlt_supported(DLT_NULL));
	assert_true(capture_dlt_supported(DLT_EN10MB));
	assert_true(capture_dlt_supported(DLT_RAW));
}

/*
 * TUN input: what goes to a multicast group is the kernel's own (the MLD
 * reports IPv6 forwarding brings), never a VIP's; unicast is read.
 */
static void
test_tun_multicast(void **state)
{
	uint8_t	p6[40], p4[20];

	(void)state;
	memset(p6, 0, sizeof(p6));
	p6[0] = 0x60;
	p6[6] = 0;			/* hop-by-hop: an MLDv2 report */
	p6[24] = 0xff;			/* ff02::16 */
	p6[25] = 0x02;
	p6[39] = 0x16;
	assert_true(tun_is_multicast(p6, sizeof(p6)));
	p6[24] = 0x20;			/* 2001:db8:100::10, a VIP */
	p6[25] = 0x01;
	assert_false(tun_is_multicast(p6, sizeof(p6)));
	p6[24] = 0xff;
	assert_false(tun_is_multicast(p6, 39));	/* too short: left to lb */
	memset(p4, 0, sizeof(p4));
	p4[0] = 0x45;
	p4[16] = 224;			/* 224.0.0.22 */
	p4[19] = 22;
	assert_true(tun_is_multicast(p4, sizeof(p4)));
	p4[16] = 239;
	assert_true(tun_is_multicast(p4, sizeof(p4)));
	p4[16] = 198;			/* 198.51.100.10, a VIP */
	p4[17] = 51;
	p4[18] = 100;
	p4[19] = 10;
	assert_false(tun_is_multicast(p4, sizeof(p4)));
	p4[16] = 240;
	assert_false(tun_is_multicast(p4, sizeof(p4)));
	p4[16] = 224;
	assert_false(tun_is_multicast(p4, 19));
	assert_false(tun_is_multicast(p4, 0));
	p4[0] = 0x15;			/* neither version */
	assert_false(tun_is_multicast(p4, sizeof(p4)));
}

/* What the TUN input handed on: every packet's number, every burst's size. */
struct tc_bursts {
	unsigned int	next;		/* number of the next packet expected */
	unsigned int	npkts;
	unsigned int	nbursts;
	unsigned int	sizes[64];
};

static void
tc_on_burst(void *arg, const uint8_t *const *pkts, const size_t *lens,
    size_t n)
{
	struct tc_bursts	*b = arg;
	size_t			 i;

	assert_true(n >= 1 && n <= TUN_BURST);
	assert_true(b->nbursts < 64);
	b->sizes[b->nbursts++] = (unsigned int)n;
	/* all of the burst is there at once, in the order written */
	for (i = 0; i < n; i++) {
		assert_int_equal(lens[i], 40);
		assert_int_equal(pkts[i][0], 0x45);
		assert_int_equal(pkts[i][4] << 8 | pkts[i][5], b->next);
		b->next++;
		b->npkts++;
		if (b->next == 7 || b->next == 30)
			b->next++;	/* the empty one, the multicast one */
	}
}

/*
 * TUN input from a datagram socket: 70 datagrams, one empty and one to a
 * multicast group; the first read event reads its budget of 64 and hands
 * on bursts of at most TUN_BURST (the last one short), the next reads the
 * rest until EAGAIN.
 */
static void
test_tun_bursts(void **state)
{
	struct event_base	*base;
	struct tun		*t;
	struct tc_bursts	 b;
	uint8_t			 p[40];
	char			*cause = NULL;
	int			 sv[2];
	unsigned int		 i;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	/* room for 70 datagrams, whatever the defaults */
	i = 1 << 20;
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &i, sizeof(i));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &i, sizeof(i));
	for (i = 0; i < 70; i++) {
		memset(p, 0, sizeof(p));
		p[0] = 0x45;
		p[4] = (uint8_t)(i >> 8);
		p[5] = (uint8_t)i;
		p[16] = i == 30 ? 224 : 198;
		assert_int_equal(send(sv[0], p, i == 7 ? 0 : sizeof(p), 0),
		    i == 7 ? 0 : (ssize_t)sizeof(p));
	}
	assert_non_null(base = event_base_new());
	assert_non_null(t = tun_open_fd(base, sv[1], tc_on_burst, &b,
	    &cause));
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(b.npkts, 62);
	assert_int_equal(b.nbursts, 4);
	assert_int_equal(b.sizes[0], 16);
	assert_int_equal(b.sizes[1], 16);
	assert_int_equal(b.sizes[2], 16);
	assert_int_equal(b.sizes[3], 14);
	assert_int_equal(tun_stats(t)->budget_hits, 1);
	assert_int_equal(tun_stats(t)->empty, 1);
	assert_int_equal(tun_stats(t)->multicast, 1);
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(b.npkts, 68);
	assert_int_equal(b.nbursts, 5);
	assert_int_equal(b.sizes[4], 6);
	assert_int_equal(b.next, 70);
	assert_int_equal(tun_stats(t)->budget_hits, 1);
	assert_int_equal(tun_stats(t)->packets, 68);
	assert_int_equal(tun_stats(t)->bursts, 5);
	tun_close(t);
	close(sv[0]);
	event_base_free(base);
}

/* What the capture handed on: as tc_on_burst(), frames 5 and 20 skipped. */
static void
tc_on_capture(void *arg, const uint8_t *const *pkts, const size_t *lens,
    size_t n)
{
	struct tc_bursts	*b = arg;
	size_t			 i;

	assert_true(n >= 1 && n <= CAPTURE_BURST);
	assert_true(b->nbursts < 64);
	b->sizes[b->nbursts++] = (unsigned int)n;
	for (i = 0; i < n; i++) {
		assert_int_equal(lens[i], 40);
		assert_int_equal(pkts[i][0], 0x45);
		assert_int_equal(pkts[i][4] << 8 | pkts[i][5], b->next);
		b->next++;
		b->npkts++;
		if (b->next == 5 || b->next == 20)
			b->next++;	/* not IP, cut short */
	}
}

/*
 * The capture input from a savefile in a pipe: 70 Ethernet frames, one
 * ARP and one cut short; the first read event dispatches its budget of
 * 64 frames and hands on bursts of at most CAPTURE_BURST (the last one
 * short), the next the rest.
 */
static void
test_capture_bursts(void **state)
{
	struct event_base	*base;
	struct capture		*c;
	struct tc_bursts	 b;
	struct pcap_pkthdr	 h;
	pcap_t			*dead;
	pcap_dumper_t		*d;
	FILE			*w, *r;
	uint8_t			 f[54];
	char			*cause = NULL;
	int			 pv[2];
	unsigned int		 i;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(pipe(pv), 0);
	assert_non_null(w = fdopen(pv[1], "w"));
	assert_non_null(dead = pcap_open_dead(DLT_EN10MB, 65535));
	assert_non_null(d = pcap_dump_fopen(dead, w));
	for (i = 0; i < 70; i++) {
		memset(f, 0, sizeof(f));
		f[12] = 0x08;			/* ARP, or IPv4 */
		f[13] = i == 5 ? 0x06 : 0x00;
		f[14] = 0x45;
		f[18] = (uint8_t)(i >> 8);
		f[19] = (uint8_t)i;
		memset(&h, 0, sizeof(h));
		h.caplen = sizeof(f);
		h.len = i == 20 ? 60 : sizeof(f);
		pcap_dump((u_char *)d, &h, f);
	}
	pcap_dump_close(d);		/* 70 small frames fit in the pipe */
	pcap_close(dead);
	assert_non_null(r = fdopen(pv[0], "r"));
	assert_non_null(base = event_base_new());
	c = capture_open_file(base, r, tc_on_capture, &b, &cause);
	assert_non_null(c);
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(b.npkts, 62);
	assert_int_equal(b.nbursts, 4);
	assert_int_equal(b.sizes[0], 16);
	assert_int_equal(b.sizes[1], 16);
	assert_int_equal(b.sizes[2], 16);
	assert_int_equal(b.sizes[3], 14);
	assert_int_equal(capture_stats(c)->budget_hits, 1);
	assert_int_equal(capture_stats(c)->nonip, 1);
	assert_int_equal(capture_stats(c)->truncated, 1);
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(b.npkts, 68);
	assert_int_equal(b.nbursts, 5);
	assert_int_equal(b.sizes[4], 6);
	assert_int_equal(b.next, 70);
	assert_int_equal(capture_stats(c)->packets, 68);
	assert_int_equal(capture_stats(c)->bursts, 5);
	capture_close(c);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_filter_v4, tc_setup,
		    tc_teardown),
		cmocka_unit_test_setup_teardown(test_filter_v6, tc_setup,
		    tc_teardown),
		cmocka_unit_test_setup_teardown(test_filter_mixed, tc_setup,
		    tc_teardown),
		cmocka_unit_test_setup_teardown(test_filter_one_vip_many_ports,
		    tc_setup, tc_teardown),
		cmocka_unit_test_setup_teardown(test_filter_interleaved,
		    tc_setup, tc_teardown),
		cmocka_unit_test_setup_teardown(test_filter_duplicate_port,
		    tc_setup, tc_teardown),
		cmocka_unit_test_setup_teardown(test_filter_udp,
		    tc_setup, tc_teardown),
		cmocka_unit_test_setup_teardown(test_filter_tcp_and_udp,
		    tc_setup, tc_teardown),
		cmocka_unit_test_setup_teardown(test_filter_none, tc_setup,
		    tc_teardown),
		cmocka_unit_test(test_strip_ethernet),
		cmocka_unit_test(test_strip_vlan),
		cmocka_unit_test(test_strip_sll),
		cmocka_unit_test(test_strip_raw),
		cmocka_unit_test(test_strip_unknown_dlt),
		cmocka_unit_test(test_tun_multicast),
		cmocka_unit_test(test_tun_bursts),
		cmocka_unit_test(test_capture_bursts),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
