/* health_http.c: the request and status line of HTTP health checks. */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "health.h"
#include "util.h"

int
health_http_status(const char *buf, size_t len)
{
	static const char	pfx[] = "HTTP/";
	size_t			i, n = sizeof(pfx) - 1;
	int			st = 0;

	/* "HTTP/" DIGIT "." DIGIT SP 3DIGIT (SP / CR / LF) */
	for (i = 0; i < len && i < n; i++)
		if (buf[i] != pfx[i])
			return (-1);
	if (len > 5 && (buf[5] < '0' || buf[5] > '9'))
		return (-1);
	if (len > 6 && buf[6] != '.')
		return (-1);
	if (len > 7 && (buf[7] < '0' || buf[7] > '9'))
		return (-1);
	if (len > 8 && buf[8] != ' ')
		return (-1);
	for (i = 9; i < 12 && i < len; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return (-1);
		st = st * 10 + (buf[i] - '0');
	}
	if (len < 13)
		return (0);
	if (buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
		return (-1);
	if (st < 100)
		return (-1);
	return (st);
}

size_t
health_http_head(const struct health_conf *hc, char *buf, size_t len)
{
	int	n;

	n = snprintf(buf, len, "%s %s HTTP/1.0\r\nHost: ", hc->method,
	    hc->path);
	if (n < 0 || (size_t)n >= len)
		return (0);
	return ((size_t)n);
}

size_t
health_http_host(const struct health_conf *hc, const struct ilb_addr *a,
    uint16_t port, char *buf, size_t len)
{
	char	s[ILB_ADDRSTRLEN];
	int	n;

	if (hc->host[0] != '\0')
		n = snprintf(buf, len, "%s", hc->host);
	else {
		util_addr_fmt(a, s, sizeof(s));
		n = snprintf(buf, len, a->family == AF_INET6 ? "[%s]" : "%s",
		    s);
		if (n >= 0 && (size_t)n < len && port != 80)
			n += snprintf(buf + n, len - (size_t)n, ":%u", port);
	}
	if (n < 0 || (size_t)n >= len)
		return (0);
	return ((size_t)n);
}
