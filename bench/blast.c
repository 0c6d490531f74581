/*
 * blast.c: a paced TCP packet generator for bench/e2e.sh's forwarding
 * measurement (run it inside a network namespace of the benchmark only).
 *
 * Usage: blast [-r PPS] [-d SECONDS] [-f FLOWS] [-b BATCH] [-P SPORT0]
 *              [-i IFACE -m MAC] SRC DST [DPORT]
 *   -r  offered packets per second (default 100000; 0: as fast as it can)
 *   -d  duration in seconds (default 5, at most 60)
 *   -f  flows (default 1024, at most 16384): source ports SPORT0..
 *   -b  packets per sendmmsg() (default 32, at most 256)
 *   -P  first source port (default 1024)
 *   -i, -m  send Ethernet frames to MAC on IFACE with AF_PACKET (qdisc
 *       bypassed) instead of IP packets on a raw socket: no routing in the
 *       sender, so it costs less per packet than what it measures
 *
 * FLOWS connections from SRC:SPORT0+i to DST:DPORT (default 80): the first
 * packet of each flow is a SYN, every later one an ACK (the established
 * path), flows taken in turn.  40-byte IPv4/TCP packets with correct
 * checksums, sent on a raw socket (IP_HDRINCL) or AF_PACKET with sendmmsg(), paced on
 * CLOCK_MONOTONIC.  Prints one line:
 *   blast: sent N in T s = R pps (offered O pps), errors E
 * Bounded: it stops after -d seconds whatever happens.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLAST_PKTLEN	40
#define BLAST_ETH	14
#define BLAST_FLOWS_MAX	16384
#define BLAST_BATCH_MAX	256

struct flow_pkts {
	uint8_t	syn[BLAST_ETH + BLAST_PKTLEN];
	uint8_t	ack[BLAST_ETH + BLAST_PKTLEN];
};

static uint16_t
csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ((uint16_t)~s);
}

static uint32_t
csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return (s);
}

static void
build(uint8_t *p, struct in_addr src, struct in_addr dst, uint16_t sport,
    uint16_t dport, uint8_t flags, uint32_t seq)
{
	uint8_t		*ip = p, *tcp = p + 20, ph[12];
	uint16_t	 c;

	memset(p, 0, BLAST_PKTLEN);
	ip[0] = 0x45;
	ip[2] = 0;
	ip[3] = BLAST_PKTLEN;
	ip[4] = 0x1b;			/* id */
	ip[5] = 0x1d;
	ip[6] = 0x40;			/* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	c = csum_fold(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	tcp[0] = (uint8_t)(sport >> 8);
	tcp[1] = (uint8_t)sport;
	tcp[2] = (uint8_t)(dport >> 8);
	tcp[3] = (uint8_t)dport;
	tcp[4] = (uint8_t)(seq >> 24);
	tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8);
	tcp[7] = (uint8_t)seq;
	if (flags & 0x10)
		tcp[11] = 1;		/* ack number 1 */
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	tcp[14] = 0xff;			/* window */
	tcp[15] = 0xff;
	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	ph[10] = 0;
	ph[11] = 20;
	c = csum_fold(csum_add(csum_add(0, ph, 12), tcp, 20));
	tcp[16] = (uint8_t)(c >> 8);
	tcp[17] = (uint8_t)c;
}

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
usage(void)
{
	fprintf(stderr, "usage: blast [-r PPS] [-d SECONDS] [-f FLOWS] "
	    "[-b BATCH] [-P SPORT0] [-i IFACE -m MAC] SRC DST [DPORT]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	static struct flow_pkts	 flows[BLAST_FLOWS_MAX];
	static struct mmsghdr	 msgs[BLAST_BATCH_MAX];
	static struct iovec	 iov[BLAST_BATCH_MAX];
	struct sockaddr_in	 sin;
	struct sockaddr_ll	 sll;
	const char		*ifname = NULL, *macstr = NULL;
	unsigned int		 mac[6];
	size_t			 off = BLAST_ETH, plen = BLAST_PKTLEN;
	struct in_addr		 src, dst;
	double			 rate = 100000, dur = 5, t0, t, el;
	unsigned long		 nflows = 1024, batch = 32, sport0 = 1024;
	unsigned long		 dport = 80, i, f = 0, round = 0;
	uint64_t		 sent = 0, errors = 0, due;
	int			 ch, fd, r, n;

	while ((ch = getopt(argc, argv, "r:d:f:b:P:i:m:")) != -1) {
		switch (ch) {
		case 'i':
			ifname = optarg;
			break;
		case 'm':
			macstr = optarg;
			break;
		case 'r':
			rate = strtod(optarg, NULL);
			break;
		case 'd':
			dur = strtod(optarg, NULL);
			break;
		case 'f':
			nflows = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			batch = strtoul(optarg, NULL, 10);
			break;
		case 'P':
			sport0 = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc > 3)
		usage();
	if (argc == 3)
		dport = strtoul(argv[2], NULL, 10);
	if (inet_pton(AF_INET, argv[0], &src) != 1 ||
	    inet_pton(AF_INET, argv[1], &dst) != 1 || rate < 0 ||
	    dur <= 0 || dur > 60 || nflows == 0 || nflows > BLAST_FLOWS_MAX ||
	    batch == 0 || batch > BLAST_BATCH_MAX || dport == 0 ||
	    dport > 65535 || sport0 == 0 || sport0 + nflows > 65536)
		usage();
	if ((ifname == NULL) != (macstr == NULL))
		usage();
	if (macstr != NULL && sscanf(macstr, "%x:%x:%x:%x:%x:%x", &mac[0],
	    &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) != 6)
		usage();
	for (i = 0; i < nflows; i++) {
		build(flows[i].syn + BLAST_ETH, src, dst,
		    (uint16_t)(sport0 + i), (uint16_t)dport, 0x02, 1000);
		build(flows[i].ack + BLAST_ETH, src, dst,
		    (uint16_t)(sport0 + i), (uint16_t)dport, 0x10, 1001);
	}
	memset(&sin, 0, sizeof(sin));
	memset(&sll, 0, sizeof(sll));
	if (ifname == NULL) {
		if ((fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW)) == -1) {
			perror("blast: raw socket");
			return (1);
		}
		sin.sin_family = AF_INET;
		sin.sin_addr = dst;
	} else {
		int	one = 1;

		if ((fd = socket(AF_PACKET, SOCK_RAW, 0)) == -1) {
			perror("blast: packet socket");
			return (1);
		}
		(void)setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
		    sizeof(one));
		sll.sll_family = AF_PACKET;
		sll.sll_protocol = htons(ETH_P_IP);
		if ((sll.sll_ifindex = (int)if_nametoindex(ifname)) == 0) {
			perror("blast: interface");
			return (1);
		}
		sll.sll_halen = 6;
		for (i = 0; i < 6; i++)
			sll.sll_addr[i] = (uint8_t)mac[i];
		for (i = 0; i < nflows; i++) {
			uint8_t	*fr[2] = { flows[i].syn, flows[i].ack };
			int	 k;

			for (k = 0; k < 2; k++) {
				memcpy(fr[k], sll.sll_addr, 6);
				/* source 02:00:00:00:00:42, locally administered */
				memset(fr[k] + 6, 0, 6);
				fr[k][6] = 0x02;
				fr[k][11] = 0x42;
				fr[k][12] = 0x08;
				fr[k][13] = 0x00;
			}
		}
		off = 0;
		plen = BLAST_ETH + BLAST_PKTLEN;
	}
	for (i = 0; i < batch; i++) {
		if (ifname == NULL) {
			msgs[i].msg_hdr.msg_name = &sin;
			msgs[i].msg_hdr.msg_namelen = sizeof(sin);
		} else {
			msgs[i].msg_hdr.msg_name = &sll;
			msgs[i].msg_hdr.msg_namelen = sizeof(sll);
		}
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		iov[i].iov_len = plen;
	}
	t0 = now_s();
	for (;;) {
		t = now_s();
		el = t - t0;
		if (el >= dur)
			break;
		if (rate > 0) {
			due = (uint64_t)(el * rate);
			if (due < sent + batch) {
				struct timespec	ts;
				double		w = (double)(sent + batch - due) /
				    rate;

				if (w > 0.001)
					w = 0.001;
				ts.tv_sec = 0;
				ts.tv_nsec = (long)(w * 1e9);
				nanosleep(&ts, NULL);
				continue;
			}
		}
		for (i = 0; i < batch; i++) {
			iov[i].iov_base = (round == 0 ? flows[f].syn :
			    flows[f].ack) + off;
			if (++f == nflows) {
				f = 0;
				round++;
			}
		}
		n = (int)batch;
		i = 0;
		while (n > 0) {
			r = sendmmsg(fd, msgs + i, (unsigned int)n, 0);
			if (r <= 0) {
				/* ENOBUFS and the like: the packet is lost */
				errors++;
				sent++;
				i++;
				n--;
				continue;
			}
			sent += (uint64_t)r;
			i += (unsigned long)r;
			n -= r;
		}
	}
	el = now_s() - t0;
	printf("blast: sent %llu in %.3f s = %.0f pps (offered %.0f pps), "
	    "errors %llu\n", (unsigned long long)(sent - errors), el,
	    (double)(sent - errors) / el, rate, (unsigned long long)errors);
	close(fd);
	return (0);
}
