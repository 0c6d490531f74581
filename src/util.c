/*
 * util.c: address parsing and formatting, error causes, the clock, string
 * and interface helpers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* vasprintf */
#endif

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "be.h"
#include "util.h"

/* Parse a bare IPv4 or IPv6 address; unused bytes of *a are zeroed. */
int
util_addr_parse(const char *s, struct ilb_addr *a)
{
	struct ilb_addr	tmp;

	if (s == NULL || *s == '\0')
		return (-1);
	memset(&tmp, 0, sizeof(tmp));
	if (inet_pton(AF_INET, s, &tmp.u.v4) == 1)
		tmp.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &tmp.u.v6) == 1)
		tmp.family = AF_INET6;
	else
		return (-1);
	*a = tmp;
	return (0);
}

/* Format a into buf; an unknown family or a short buffer gives "?". */
const char *
util_addr_fmt(const struct ilb_addr *a, char *buf, size_t len)
{
	if (len == 0)
		return (buf);
	if ((a->family != AF_INET && a->family != AF_INET6) ||
	    inet_ntop(a->family, a->u.b, buf, len) == NULL)
		util_strlcpy(buf, "?", len);
	return (buf);
}

/* Number of significant address bytes: 4, 16, or 0 for no family. */
size_t
util_addr_len(const struct ilb_addr *a)
{
	switch (a->family) {
	case AF_INET:
		return (4);
	case AF_INET6:
		return (16);
	default:
		return (0);
	}
}

int
util_addr_eq(const struct ilb_addr *a, const struct ilb_addr *b)
{
	return (a->family == b->family &&
	    memcmp(a->u.b, b->u.b, util_addr_len(a)) == 0);
}

/* Parse a decimal port, 1..65535, digits only. */
static int
util_port_parse(const char *s, uint16_t *port)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (*s == '\0' || strlen(s) > 5)
		return (-1);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return (-1);
	*port = (uint16_t)v;
	return (0);
}

/* Parse "192.0.2.1:80" or "[2001:db8::1]:80"; outputs untouched on error. */
int
util_hostport_parse(const char *s, struct ilb_addr *a, uint16_t *port)
{
	char		 host[ILB_ADDRSTRLEN];
	const char	*p, *end;
	struct ilb_addr	 tmp;
	uint16_t	 tport;
	size_t		 hlen;
	int		 v6;

	if (s == NULL)
		return (-1);
	if ((v6 = (*s == '[')) != 0) {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return (-1);
		p = s + 1;
		hlen = (size_t)(end - p);
		end++;
	} else {
		if ((end = strrchr(s, ':')) == NULL)
			return (-1);
		p = s;
		hlen = (size_t)(end - p);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return (-1);
	memcpy(host, p, hlen);
	host[hlen] = '\0';
	if (util_addr_parse(host, &tmp) == -1 ||
	    tmp.family != (v6 ? AF_INET6 : AF_INET))
		return (-1);
	if (util_port_parse(end + 1, &tport) == -1)
		return (-1);
	*a = tmp;
	*port = tport;
	return (0);
}

/* BSD strlcpy: copy with truncation, always terminate, return strlen(src). */
size_t
util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t	len = strlen(src);

	if (size > 0) {
		size_t	n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return (len);
}

int
util_if_mtu(const char *name)
{
	struct ifreq	ifr;
	int		s, rc = -1, e;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	memset(&ifr, 0, sizeof(ifr));
	util_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		rc = ifr.ifr_mtu;
	e = errno;
	close(s);
	errno = e;
	return (rc);
}

uint16_t
util_inet_csum(const uint8_t *p, size_t len)
{
	uint32_t	sum = 0;
	size_t		i;

	for (i = 0; i + 1 < len; i += 2)
		sum += be16_load(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

socklen_t
util_sockaddr(const struct ilb_addr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	switch (a->family) {
	case AF_INET:
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->u.v4;
		return (sizeof(*sin));
	case AF_INET6:
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a->u.v6;
		return (sizeof(*sin6));
	default:
		return (0);
	}
}

int
util_vcause(char **cause, const char *fmt, va_list ap)
{
	int	saved = errno;

	if (cause == NULL)
		return (-1);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	errno = saved;
	return (-1);
}

int
util_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	util_vcause(cause, fmt, ap);
	va_end(ap);
	return (-1);
}

/*
 * The coarse clock: the time at the last scheduler tick, read from the
 * vDSO without touching the clock source, a few ns a call against tens
 * for CLOCK_MONOTONIC; the data path reads it for every packet. It moves
 * in steps of one tick (1 to 10 ms, 4 ms at HZ=250). Nothing in ilbd
 * needs finer: the shortest intervals compared against it are hello_ms
 * (at least 10) and dead_ms (at least 20), the peer connect backoff (200)
 * and repl's progress poll (50), each run from libevent timers that are
 * themselves on this clock (libevent's default without
 * EVENT_BASE_FLAG_PRECISE_TIMER), so a tick's error is one they already
 * have. One clock for every module also lets times cross modules (dp's
 * entry ages shown by ctlcmd) without mixing two.
 */
uint64_t
util_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}
