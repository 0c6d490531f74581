/* icmp.c: ICMP "fragmentation needed" / ICMPv6 "packet too big" to a
 * client whose packet ilbd could not send on in GRE; echo replies (ping)
 * from a VIP. */
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

#ifndef ICMP_IPV6_HDRINCL
#define ICMP_IPV6_HDRINCL	36	/* IPV6_HDRINCL, linux/in6.h */
#endif

static void	icmp_echo_open(struct icmp_tx *);

struct icmp_tx {
	int			fd4;
	int			fd6;
	int			raw4;		/* echo replies: whole packets */
	int			raw6;
	struct icmp_bucket	echo;
	uint8_t			reply[20 + ICMP_ECHO_MAX];
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

/* One's complement sum of p (len bytes) added to sum, not folded. */
static uint32_t
icmp_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < len; i += 2)
		sum += be16_load(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return (sum);
}

static uint16_t
icmp_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

/* The ICMPv6 checksum of msg (len bytes) from src to dst (RFC 4443 2.3). */
static uint16_t
icmp6_csum(const uint8_t *src, const uint8_t *dst, const uint8_t *msg,
    size_t len)
{
	uint32_t	sum;

	sum = icmp_sum(0, src, 16);
	sum = icmp_sum(sum, dst, 16);
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
	sum += IPPROTO_ICMPV6;
	return (icmp_fold(icmp_sum(sum, msg, len)));
}

/*
 * The ICMP part of an echo request in pkt: its offset into *off, its
 * length into *n; 4 or 6 (the family), or 0 if not a whole, checked
 * echo request from a unicast source.
 */
static int
icmp_echo_parse(const uint8_t *pkt, size_t len, size_t *off, size_t *n)
{
	size_t		ihl, tot;

	if (len < 1)
		return (0);
	if ((pkt[0] >> 4) == 4) {
		ihl = (size_t)(pkt[0] & 0x0f) * 4;
		if (len < 20 || ihl < 20)
			return (0);
		tot = be16_load(pkt + 2);
		if (tot > len || tot < ihl + 8 || pkt[9] != IPPROTO_ICMP ||
		    ((pkt[6] & 0x3f) | pkt[7]) != 0 ||	/* a fragment */
		    pkt[ihl] != 8 || pkt[ihl + 1] != 0 ||
		    pkt[12] == 0 || pkt[12] >= 224 || pkt[12] == 127 ||
		    util_inet_csum(pkt + ihl, tot - ihl) != 0)
			return (0);
		*off = ihl;
		*n = tot - ihl;
		return (4);
	}
	if ((pkt[0] >> 4) == 6) {
		if (len < 48)
			return (0);
		tot = 40 + (size_t)be16_load(pkt + 4);
		if (tot > len || tot < 48 || pkt[6] != IPPROTO_ICMPV6 ||
		    pkt[40] != 128 || pkt[41] != 0 ||
		    pkt[8] == 0xff ||				/* multicast */
		    (pkt[8] == 0xfe && (pkt[9] & 0xc0) == 0x80) ||	/* link-local */
		    memcmp(pkt + 8, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15) == 0 ||
		    icmp6_csum(pkt + 8, pkt + 24, pkt + 40, tot - 40) != 0)
			return (0);				/* ::, ::1 */
		*off = 40;
		*n = tot - 40;
		return (6);
	}
	return (0);
}

int
icmp_echo_dst(const uint8_t *pkt, size_t len, struct ilb_addr *dst)
{
	size_t	off, n;

	memset(dst, 0, sizeof(*dst));
	switch (icmp_echo_parse(pkt, len, &off, &n)) {
	case 4:
		dst->family = AF_INET;
		memcpy(dst->u.b, pkt + 16, 4);
		return (1);
	case 6:
		dst->family = AF_INET6;
		memcpy(dst->u.b, pkt + 24, 16);
		return (1);
	default:
		return (0);
	}
}

size_t
icmp_build_echo_reply(uint8_t *out, size_t outlen, const uint8_t *pkt,
    size_t len)
{
	size_t	off, n;
	int	v;

	if ((v = icmp_echo_parse(pkt, len, &off, &n)) == 0 ||
	    outlen < (v == 4 ? 20 : 40) + n)
		return (0);
	if (v == 4) {
		memset(out, 0, 20);
		out[0] = 0x45;
		be16_store(out + 2, (uint16_t)(20 + n));
		out[8] = 64;
		out[9] = IPPROTO_ICMP;
		memcpy(out + 12, pkt + 16, 4);		/* from the VIP */
		memcpy(out + 16, pkt + 12, 4);
		be16_store(out + 10, util_inet_csum(out, 20));
		memcpy(out + 20, pkt + off, n);
		out[20] = 0;				/* echo reply */
		out[22] = out[23] = 0;
		be16_store(out + 22, util_inet_csum(out + 20, n));
		return (20 + n);
	}
	memset(out, 0, 40);
	out[0] = 0x60;
	be16_store(out + 4, (uint16_t)n);
	out[6] = IPPROTO_ICMPV6;
	out[7] = 64;
	memcpy(out + 8, pkt + 24, 16);			/* from the VIP */
	memcpy(out + 24, pkt + 8, 16);
	memcpy(out + 40, pkt + off, n);
	out[40] = 129;					/* echo reply */
	out[42] = out[43] = 0;
	be16_store(out + 42, icmp6_csum(out + 8, out + 24, out + 40, n));
	return (40 + n);
}

void
icmp_bucket_set(struct icmp_bucket *b, uint32_t rate, uint64_t now)
{
	if (b->rate == rate && b->last != 0)
		return;
	b->rate = rate;
	b->milli = (uint64_t)rate * 1000;		/* full */
	b->last = now;
}

int
icmp_bucket_take(struct icmp_bucket *b, uint64_t now)
{
	uint64_t	cap = (uint64_t)b->rate * 1000;

	if (now > b->last) {
		b->milli += (now - b->last) * b->rate;	/* rate/1000 per ms */
		if (b->milli > cap)
			b->milli = cap;
		b->last = now;
	}
	if (b->milli < 1000)
		return (0);
	b->milli -= 1000;
	return (1);
}

/* The raw sockets of echo replies (send only: IPPROTO_RAW reads none). */
static void
icmp_echo_open(struct icmp_tx *t)
{
	int	on = 1;

	t->raw4 = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_RAW);
	if (t->raw4 == -1)
		log_warn("icmp: IPv4 raw socket: ping to a VIP will not be "
		    "answered");
	t->raw6 = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_RAW);
	/* implied by IPPROTO_RAW since Linux 4.5; said again for clarity */
	if (t->raw6 != -1)
		(void)setsockopt(t->raw6, IPPROTO_IPV6, ICMP_IPV6_HDRINCL, &on,
		    sizeof(on));
	else
		log_debug("icmp: IPv6 raw socket: %s", strerror(errno));
}

void
icmp_echo_rate(struct icmp_tx *t, uint32_t rate, uint64_t now)
{
	icmp_bucket_set(&t->echo, rate, now);
}

int
icmp_echo(struct icmp_tx *t, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct ilb_addr		 dst;
	struct sockaddr_storage	 ss;
	size_t			 n;
	int			 fd;

	if (!icmp_bucket_take(&t->echo, now)) {
		t->stats.echo_ratelimited++;
		log_debug("icmp: echo request to a VIP not answered: over "
		    "echo_rate (%u a second)", t->echo.rate);
		return (-1);
	}
	if ((n = icmp_build_echo_reply(t->reply, sizeof(t->reply), pkt,
	    len)) == 0) {
		t->stats.echo_errors++;
		return (-1);
	}
	memset(&dst, 0, sizeof(dst));
	if (t->reply[0] >> 4 == 4) {
		dst.family = AF_INET;
		memcpy(dst.u.b, t->reply + 16, 4);
		fd = t->raw4;
	} else {
		dst.family = AF_INET6;
		memcpy(dst.u.b, t->reply + 24, 16);
		fd = t->raw6;
	}
	if (fd == -1 || sendto(fd, t->reply, n, MSG_DONTWAIT,
	    (struct sockaddr *)&ss, util_sockaddr(&dst, 0, &ss)) == -1) {
		t->stats.echo_errors++;
		log_debug("icmp: echo reply not sent: %s", fd == -1 ?
		    "no raw socket" : strerror(errno));
		return (-1);
	}
	t->stats.echo_answered++;
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
	icmp_echo_open(t);
	icmp_bucket_set(&t->echo, ICMP_ECHO_RATE, 0);
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
	if (t->raw4 != -1)
		close(t->raw4);
	if (t->raw6 != -1)
		close(t->raw6);
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
