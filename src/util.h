/* util.h: addresses, error causes, the clock and small string helpers. */
#ifndef ILBD_UTIL_H
#define ILBD_UTIL_H

#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define ILB_ADDRSTRLEN	46	/* INET6_ADDRSTRLEN */

/* An IPv4 or IPv6 address; unused bytes are zero so memcmp() compares. */
struct ilb_addr {
	uint8_t		family;		/* AF_INET or AF_INET6 */
	uint8_t		pad[3];
	union {
		uint8_t		b[16];	/* 4 or 16 bytes, network order */
		struct in_addr	v4;
		struct in6_addr	v6;
	} u;
};

int		 util_addr_parse(const char *, struct ilb_addr *);
const char	*util_addr_fmt(const struct ilb_addr *, char *, size_t);
size_t		 util_addr_len(const struct ilb_addr *);
int		 util_addr_eq(const struct ilb_addr *, const struct ilb_addr *);
int		 util_hostport_parse(const char *, struct ilb_addr *, uint16_t *);
size_t		 util_strlcpy(char *, const char *, size_t);
/* The MTU of interface name, or -1 (errno set). */
int		 util_if_mtu(const char *);
/*
 * The Internet checksum (RFC 1071) of p: the one's complement of the
 * folded one's complement sum. Over data that carries its checksum, 0
 * means it verifies.
 */
uint16_t	 util_inet_csum(const uint8_t *, size_t);
/* sockaddr for an ilb_addr and port; its length, 0 for no family. */
socklen_t	 util_sockaddr(const struct ilb_addr *, uint16_t,
		    struct sockaddr_storage *);

/*
 * Set *cause to a malloc'd printf-style message for the user (NULL if
 * memory ran out); nothing if cause is NULL. errno is left as it was.
 * Returns -1, so that an error path can return (util_cause(cause, ...)).
 */
int		 util_cause(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
int		 util_vcause(char **, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
/* Milliseconds on the daemon's one clock, CLOCK_MONOTONIC_COARSE. */
uint64_t	 util_now_ms(void);

#endif
