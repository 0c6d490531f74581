/* synflood.c: a bounded flood of TCP SYNs from spoofed sources (tests). */

/*
 * synflood [-c COUNT] [-t SECONDS] [-r RATE] [-s PREFIX/LEN] DST PORT
 *
 * Sends IPv4 TCP SYNs to DST:PORT through a raw socket (IPPROTO_RAW, so the
 * IP header is ours) with a random source address inside PREFIX/LEN
 * (default 203.0.113.128/25), a random source port (1024..65535), a random
 * sequence number and IP id, an MSS option, and valid IPv4 and TCP
 * checksums. It stops after COUNT packets (default 0: no count bound) or
 * SECONDS seconds (default 10, at most 600), whichever comes first, or on
 * SIGINT or SIGTERM; RATE is packets per second (default 0: as fast as
 * possible). Packets go out in batches of SF_BATCH with sendmmsg(2); a
 * batch the kernel refuses (ENOBUFS, EAGAIN) is counted in "refused" and
 * not retried. At the end it prints one line on stdout:
 *
 *	sent N in T s (R pps)[, refused M]
 *
 * The sources are spoofed: the SYN-ACKs go to addresses nobody owns, so
 * the caller must route PREFIX somewhere they die quietly (the netns test
 * routes it, at the router, to the client, which does not forward).
 * Root (CAP_NET_RAW) is needed. Only IPv4.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SF_BATCH	64
#define SF_IP_LEN	20
#define SF_TCP_LEN	24		/* 20 + the MSS option */
#define SF_PKT_LEN	(SF_IP_LEN + SF_TCP_LEN)
#define SF_MAX_SECONDS	600

static volatile sig_atomic_t	sf_quit;

static void
sf_signal(int sig)
{
	(void)sig;
	sf_quit = 1;
}

static void
sf_usage(void)
{
	fprintf(stderr, "usage: synflood [-c count] [-t seconds] [-r rate] "
	    "[-s prefix/len] dst port\n");
	exit(2);
}

static unsigned long
sf_num(const char *s, unsigned long max)
{
	unsigned long	 v;
	char		*end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		sf_usage();
	return (v);
}

/* xorshift64*: fast, and good enough for addresses and ports. */
static uint64_t
sf_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 0x2545f4914f6cdd1dULL);
}

static double
sf_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* The Internet checksum of len bytes, added to sum (folded at the end). */
static uint32_t
sf_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t	i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return (sum);
}

static uint16_t
sf_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

static void
sf_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
sf_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/*
 * Build one SYN in p (SF_PKT_LEN bytes): src and dst in host order, the
 * ports and sequence number random.
 */
static void
sf_build(uint8_t *p, uint32_t src, uint32_t dst, uint16_t dport,
    uint64_t *rs)
{
	uint8_t		*ip = p, *tcp = p + SF_IP_LEN, pseudo[12];
	uint64_t	 r = sf_rand(rs);
	uint32_t	 sum;

	memset(p, 0, SF_PKT_LEN);
	ip[0] = 0x45;
	sf_put16(ip + 2, SF_PKT_LEN);
	sf_put16(ip + 4, (uint16_t)r);			/* id */
	ip[6] = 0x40;					/* DF */
	ip[8] = 64;					/* TTL */
	ip[9] = IPPROTO_TCP;
	sf_put32(ip + 12, src);
	sf_put32(ip + 16, dst);
	sf_put16(ip + 10, sf_fold(sf_sum(ip, SF_IP_LEN, 0)));

	sf_put16(tcp, (uint16_t)(1024 + (r >> 16) % (65536 - 1024)));
	sf_put16(tcp + 2, dport);
	sf_put32(tcp + 4, (uint32_t)(r >> 32));		/* seq */
	tcp[12] = (SF_TCP_LEN / 4) << 4;
	tcp[13] = 0x02;					/* SYN */
	sf_put16(tcp + 14, 64240);			/* window */
	tcp[20] = 2;					/* MSS 1460 */
	tcp[21] = 4;
	sf_put16(tcp + 22, 1460);
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	sf_put16(pseudo + 10, SF_TCP_LEN);
	sum = sf_sum(pseudo, sizeof(pseudo), 0);
	sf_put16(tcp + 16, sf_fold(sf_sum(tcp, SF_TCP_LEN, sum)));
}

/* Parse "a.b.c.d/len" into a base address and a host mask (host order). */
static int
sf_prefix(const char *s, uint32_t *base, uint32_t *hostmask)
{
	struct in_addr	 a;
	char		 buf[32], *slash;
	unsigned long	 len;

	if (strlen(s) >= sizeof(buf))
		return (-1);
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) == NULL)
		return (-1);
	*slash = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return (-1);
	len = sf_num(slash + 1, 32);
	*hostmask = len == 0 ? 0xffffffffU : (1U << (32 - len)) - 1;
	*base = ntohl(a.s_addr) & ~*hostmask;
	return (0);
}

int
main(int argc, char *argv[])
{
	static uint8_t		pkt[SF_BATCH][SF_PKT_LEN];
	struct mmsghdr		msg[SF_BATCH];
	struct iovec		iov[SF_BATCH];
	struct sockaddr_in	sin;
	struct sigaction	sa;
	struct timespec		ts = { 0, 200000 };	/* 0.2 ms */
	const char		*prefix = "203.0.113.128/25";
	unsigned long		 count = 0, seconds = 10, rate = 0;
	unsigned long		 sent = 0, refused = 0, n, i, want;
	uint32_t		 base, hostmask, dst, src;
	uint16_t		 dport;
	uint64_t		 rs;
	double			 t0, t, el;
	int			 ch, fd, r;

	while ((ch = getopt(argc, argv, "c:r:s:t:")) != -1) {
		switch (ch) {
		case 'c':
			count = sf_num(optarg, 1000000000UL);
			break;
		case 'r':
			rate = sf_num(optarg, 100000000UL);
			break;
		case 's':
			prefix = optarg;
			break;
		case 't':
			seconds = sf_num(optarg, SF_MAX_SECONDS);
			break;
		default:
			sf_usage();
		}
	}
	if (argc - optind != 2 || seconds == 0)
		sf_usage();
	if (sf_prefix(prefix, &base, &hostmask) == -1) {
		fprintf(stderr, "synflood: bad prefix %s\n", prefix);
		return (2);
	}
	if (inet_pton(AF_INET, argv[optind], &sin.sin_addr) != 1)
		sf_usage();
	dst = ntohl(sin.sin_addr.s_addr);
	dport = (uint16_t)sf_num(argv[optind + 1], 65535);
	sin.sin_family = AF_INET;
	sin.sin_port = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sf_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)) == -1) {
		fprintf(stderr, "synflood: raw socket: %s\n", strerror(errno));
		return (1);
	}
	memset(msg, 0, sizeof(msg));
	for (i = 0; i < SF_BATCH; i++) {
		iov[i].iov_base = pkt[i];
		iov[i].iov_len = SF_PKT_LEN;
		msg[i].msg_hdr.msg_name = &sin;
		msg[i].msg_hdr.msg_namelen = sizeof(sin);
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	rs = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid() ^
	    0x9e3779b97f4a7c15ULL;
	t0 = t = sf_now();
	while (!sf_quit && (el = t - t0) < (double)seconds &&
	    (count == 0 || sent < count)) {
		n = SF_BATCH;
		if (count != 0 && count - sent < n)
			n = count - sent;
		if (rate != 0) {
			want = (unsigned long)(el * (double)rate) + 1;
			if (want <= sent + refused) {
				nanosleep(&ts, NULL);
				t = sf_now();
				continue;
			}
			if (want - sent - refused < n)
				n = want - sent - refused;
		}
		for (i = 0; i < n; i++) {
			src = base | ((uint32_t)sf_rand(&rs) & hostmask);
			sf_build(pkt[i], src, dst, dport, &rs);
		}
		r = sendmmsg(fd, msg, (unsigned int)n, 0);
		if (r > 0)
			sent += (unsigned long)r;
		else if (r == -1 && (errno == ENOBUFS || errno == EAGAIN))
			refused += n;
		else if (r == -1 && errno != EINTR) {
			fprintf(stderr, "synflood: sendmmsg: %s\n",
			    strerror(errno));
			break;
		}
		t = sf_now();
	}
	el = sf_now() - t0;
	printf("sent %lu in %.2f s (%.0f pps)", sent, el,
	    el > 0 ? (double)sent / el : 0.0);
	if (refused != 0)
		printf(", refused %lu", refused);
	printf("\n");
	close(fd);
	return (sent > 0 ? 0 : 1);
}
