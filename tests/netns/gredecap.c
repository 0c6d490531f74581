/* gredecap.c: userspace GRE decapsulator for test servers (raw GRE -> TUN). */

/*
 * gredecap [-k KEY] TUNNAME
 *
 * The test kernels have no GRE devices, so a server namespace runs this:
 * it creates the TUN device TUNNAME (IFF_TUN | IFF_NO_PI), brings it up,
 * reads GRE packets from raw IPPROTO_GRE sockets (IPv4, and IPv6 when
 * available), strips the outer header and GRE header and writes the inner
 * packet into the TUN so that the kernel delivers it locally (the VIP is on
 * lo). With -k only packets carrying that key are accepted; without, the
 * key is ignored. Packets arrive on the TUN with the client's source
 * address, which is routed elsewhere: the test must set rp_filter to 0 on
 * the TUN and on "all" (the kernel uses the larger of the two). Runs until
 * SIGTERM or SIGINT, prints nothing per packet, and a one-line summary on
 * stderr at exit.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef IPPROTO_GRE
#define IPPROTO_GRE	47
#endif

#define GD_BUF_SIZE	65536

static volatile sig_atomic_t	gd_quit;

struct gd_stats {
	unsigned long	in, out, bad, badkey, errors;
};

static void
gd_signal(int sig)
{
	(void)sig;
	gd_quit = 1;
}

static void
gd_usage(void)
{
	fprintf(stderr, "usage: gredecap [-k KEY] TUNNAME\n");
	exit(2);
}

static uint32_t
gd_rd(const uint8_t *p, int n)
{
	uint32_t	v = 0;
	int		i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return (v);
}

/*
 * Find the inner packet of the GRE packet p (len bytes, no outer header).
 * Returns its offset, or -1 if malformed or the key does not match.
 */
static long
gd_gre(const uint8_t *p, size_t len, int check_key, uint32_t key,
    struct gd_stats *st)
{
	uint32_t	flags, proto;
	size_t		off = 4;
	int		has_key;

	if (len < 4)
		return (-1);
	flags = gd_rd(p, 2);
	proto = gd_rd(p + 2, 2);
	if ((flags & 0x4f07) != 0 ||	/* routing, SSR, recursion, version */
	    (proto != 0x0800 && proto != 0x86dd))
		return (-1);
	off += (flags & 0x8000) ? 4 : 0;	/* checksum: not verified */
	has_key = (flags & 0x2000) != 0;
	if (has_key && len >= off + 4 && check_key &&
	    gd_rd(p + off, 4) != key) {
		st->badkey++;
		return (-1);
	}
	if (check_key && !has_key) {
		st->badkey++;
		return (-1);
	}
	off += has_key ? 4 : 0;
	off += (flags & 0x1000) ? 4 : 0;
	if (off >= len)
		return (-1);
	return ((long)off);
}

/* Decapsulate one datagram from the raw socket of family and deliver it. */
static void
gd_packet(int tun, int family, const uint8_t *b, size_t len, int check_key,
    uint32_t key, struct gd_stats *st)
{
	size_t	ihl = 0, tot = len;
	long	off;

	st->in++;
	if (family == AF_INET) {
		if (len < 20 || (b[0] >> 4) != 4)
			goto bad;
		ihl = (size_t)(b[0] & 0x0f) * 4;
		tot = gd_rd(b + 2, 2);
		if (ihl < 20 || tot < ihl || tot > len)
			goto bad;
	}
	if ((off = gd_gre(b + ihl, tot - ihl, check_key, key, st)) == -1)
		goto bad;
	if (write(tun, b + ihl + off, tot - ihl - (size_t)off) == -1)
		st->errors++;
	else
		st->out++;
	return;
bad:
	st->bad++;
}

static int
gd_tun(const char *name)
{
	struct ifreq	ifr;
	int		fd, s;

	if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) == -1)
		return (-1);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) == -1)
		goto fail;
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1) {
		close(s);
		goto fail;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1) {
		close(s);
		goto fail;
	}
	close(s);
	return (fd);
fail:
	close(fd);
	return (-1);
}

int
main(int argc, char *argv[])
{
	static uint8_t		buf[GD_BUF_SIZE];
	struct sigaction	sa;
	struct pollfd		pfd[2];
	struct gd_stats		st;
	unsigned long		v;
	uint32_t		key = 0;
	char			*end;
	ssize_t			r;
	int			ch, check_key = 0, tun, i, npfd = 0;

	while ((ch = getopt(argc, argv, "k:")) != -1) {
		switch (ch) {
		case 'k':
			errno = 0;
			v = strtoul(optarg, &end, 0);
			if (errno != 0 || *end != '\0' || v > 0xffffffffUL)
				gd_usage();
			key = (uint32_t)v;
			check_key = 1;
			break;
		default:
			gd_usage();
		}
	}
	if (argc - optind != 1 || strlen(argv[optind]) >= IFNAMSIZ)
		gd_usage();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = gd_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((tun = gd_tun(argv[optind])) == -1) {
		fprintf(stderr, "gredecap: %s: %s\n", argv[optind],
		    strerror(errno));
		return (1);
	}
	pfd[0].fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_GRE);
	if (pfd[0].fd == -1) {
		fprintf(stderr, "gredecap: raw GRE socket: %s\n",
		    strerror(errno));
		return (1);
	}
	npfd = 1;
	pfd[1].fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_GRE);
	if (pfd[1].fd != -1)
		npfd = 2;
	pfd[0].events = pfd[1].events = POLLIN;
	memset(&st, 0, sizeof(st));
	while (!gd_quit) {
		if (poll(pfd, (nfds_t)npfd, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < npfd; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			r = recv(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r > 0)
				gd_packet(tun, i == 0 ? AF_INET : AF_INET6,
				    buf, (size_t)r, check_key, key, &st);
		}
	}
	fprintf(stderr, "gredecap: in %lu out %lu bad %lu badkey %lu "
	    "errors %lu\n", st.in, st.out, st.bad, st.badkey, st.errors);
	for (i = 0; i < npfd; i++)
		close(pfd[i].fd);
	close(tun);
	return (0);
}
