/* icmp.c: ICMP "fragmentation needed" / ICMPv6 "packet too big" to a
 * client whose packet ilbd could not send on in GRE. */
#include <sys/socket.h>

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <linux/icmp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "be.h"
#include "icmp.h"
#include "log.h"
#include "util.h"

struct icmp_tx {
	int			fd4;
	int			fd6;
	uint64_t		window;		/* start of this second, ms */
	unsigned int		in_window;	/* sent in it */
	struct icmp_tx_stats	stats;
};

static size_t
icmp_min(size_t a, size_t b)
{
	return (a < b ? a : b);
}

size_t
icmp_build_too_big(uint8_t *out, size_t outlen, const uint8_t *pkt,
    size_t len, unsigned int mtu)
{
	size_t		ihl, q;
	uint16_t	sum;

	if (outlen < 8 || len < 1)
		return (0);
	if ((pkt[0] >> 4) == 4) {
		ihl = (size_t)(pkt[0] & 0x0f) * 4;
		if (len < 20 || ihl < 20 || len < ihl)
			return (0);
		if (!(pkt[6] & 0x40) ||			/* DF clear */
		    ((pkt[6] & 0x1f) | pkt[7]) != 0 ||	/* later fragment */
		    pkt[9] == IPPROTO_ICMP ||
		    pkt[12] == 0 || pkt[12] >= 224 || pkt[12] == 127)
			return (0);
		q = icmp_min(icmp_min(len, ICMP_QUOTE4_MAX), outlen - 8);
		out[0] = 3;				/* destination unreachable */
		out[1] = 4;				/* fragmentation needed */
		out[2] = out[3] = 0;
		out[4] = out[5] = 0;
		be16_store(out + 6, (uint16_t)mtu);
		memcpy(out + 8, pkt, q);
		sum = util_inet_csum(out, 8 + q);
		be16_store(out + 2, sum);
		return (8 + q);
	}
	if ((pkt[0] >> 4) == 6) {
		if (len < 40 || pkt[6] == IPPROTO_ICMPV6 ||
		    pkt[8] == 0xff ||				/* multicast */
		    (pkt[8] == 0xfe && (pkt[9] & 0xc0) == 0x80))	/* link-local */
			return (0);
		q = icmp_min(icmp_min(len, ICMP_QUOTE6_MAX), outlen - 8);
		out[0] = 2;				/* packet too big */
		out[1] = 0;
		out[2] = out[3] = 0;			/* the kernel's */
		be32_store(out + 4, (uint32_t)mtu);
		memcpy(out + 8, pkt, q);
		return (8 + q);
	}
	return (0);
}

struct icmp_tx *
icmp_tx_open(void)
{
	struct icmp_tx		*t;
	struct icmp_filter	 f4;
	struct icmp6_filter	 f6;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	/* send only: no type is queued on receive */
	t->fd4 = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_ICMP);
	f4.data = ~0U;
	if (t->fd4 == -1 || setsockopt(t->fd4, SOL_RAW, ICMP_FILTER, &f4,
	    sizeof(f4)) == -1)
		log_warn("icmp: IPv4 socket: clients will not be told of "
		    "packets too big to hand off");
	t->fd6 = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_ICMPV6);
	ICMP6_FILTER_SETBLOCKALL(&f6);
	if (t->fd6 == -1 || setsockopt(t->fd6, IPPROTO_ICMPV6, ICMP6_FILTER,
	    &f6, sizeof(f6)) == -1)
		log_debug("icmp: IPv6 socket: %s", strerror(errno));
	return (t);
}

void
icmp_tx_close(struct icmp_tx *t)
{
	if (t == NULL)
		return;
	if (t->fd4 != -1)
		close(t->fd4);
	if (t->fd6 != -1)
		close(t->fd6);
	free(t);
}

int
icmp_too_big(struct icmp_tx *t, const uint8_t *pkt, size_t len,
    unsigned int mtu, uint64_t now)
{
	uint8_t			 buf[8 + ICMP_QUOTE6_MAX];
	struct ilb_addr		 src;
	struct sockaddr_storage	 ss;
	size_t			 n;
	ssize_t			 rc;
	int			 fd;

	if ((n = icmp_build_too_big(buf, sizeof(buf), pkt, len, mtu)) == 0) {
		t->stats.skipped++;
		return (-1);
	}
	if (now - t->window >= 1000) {
		t->window = now;
		t->in_window = 0;
	}
	if (t->in_window >= ICMP_PER_S) {
		t->stats.ratelimited++;
		return (-1);
	}
	t->in_window++;
	memset(&src, 0, sizeof(src));
	if ((pkt[0] >> 4) == 4) {
		src.family = AF_INET;
		memcpy(src.u.b, pkt + 12, 4);
		fd = t->fd4;
	} else {
		src.family = AF_INET6;
		memcpy(src.u.b, pkt + 8, 16);
		fd = t->fd6;
	}
	rc = fd == -1 ? -1 : sendto(fd, buf, n, MSG_DONTWAIT,
	    (struct sockaddr *)&ss, util_sockaddr(&src, 0, &ss));
	if (rc == -1) {
		t->stats.errors++;
		return (-1);
	}
	t->stats.sent++;
	return (0);
}

const struct counter_desc icmp_tx_counters[] = {
#define ICMP_COUNTER(name, help)					\
	COUNTER_FIELD(struct icmp_tx_stats, name, help)
	ICMP_STATS_FOREACH(ICMP_COUNTER)
#undef ICMP_COUNTER
	COUNTER_END
};

const struct icmp_tx_stats *
icmp_tx_stats(const struct icmp_tx *t)
{
	return (&t->stats);
}
