/* fwd.c: direct server return, IP packets framed and sent on AF_PACKET. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "be.h"
#include "fwd.h"
#include "log.h"
#include "util.h"

#define FWD_SLOT_SIZE	(FWD_ETH_HLEN + FWD_MTU_MAX)

/* One queued frame: its message, its address and its bytes. */
struct fwd_slot {
	struct iovec		iov;
	struct sockaddr_ll	sll;
	uint8_t			frame[FWD_SLOT_SIZE];
};

struct fwd {
	int			fd;
	int			ifindex;
	char			ifname[IF_NAMESIZE];
	uint8_t			mac[6];		/* the interface's, the source */
	unsigned int		mtu;		/* min(interface MTU, FWD_MTU_MAX) */
	unsigned int		n;		/* frames queued */
	fwd_sink		sink;		/* fwd_set_sink() */
	void			*sink_arg;
	struct mmsghdr		msgs[FWD_BATCH];
	struct fwd_slot		slots[FWD_BATCH];
	struct fwd_stats	stats;
};

static int
fwd_error(char **cause, const char *ifname, const char *what)
{
	return (util_cause(cause, "%s: %s: %s", ifname, what,
	    strerror(errno)));
}

/*
 * Read the interface's index, MAC address and MTU. Returns 0 or -1 with
 * *cause set.
 */
int
fwd_refresh(struct fwd *f, char **cause)
{
	struct ifreq	ifr;

	memset(&ifr, 0, sizeof(ifr));
	util_strlcpy(ifr.ifr_name, f->ifname, sizeof(ifr.ifr_name));
	if (ioctl(f->fd, SIOCGIFINDEX, &ifr) == -1)
		return (fwd_error(cause, f->ifname, "interface index"));
	f->ifindex = ifr.ifr_ifindex;
	if (ioctl(f->fd, SIOCGIFHWADDR, &ifr) == -1)
		return (fwd_error(cause, f->ifname, "hardware address"));
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		errno = EPFNOSUPPORT;
		return (fwd_error(cause, f->ifname, "not an Ethernet device"));
	}
	memcpy(f->mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(f->fd, SIOCGIFMTU, &ifr) == -1)
		return (fwd_error(cause, f->ifname, "MTU"));
	f->mtu = ifr.ifr_mtu > FWD_MTU_MAX ? FWD_MTU_MAX :
	    (unsigned int)ifr.ifr_mtu;
	return (0);
}

/* Point every message at its slot; the Ethernet source is ours. */
static void
fwd_prepare(struct fwd *f)
{
	struct fwd_slot	*s;
	unsigned int	 i;

	memset(f->msgs, 0, sizeof(f->msgs));
	for (i = 0; i < FWD_BATCH; i++) {
		s = &f->slots[i];
		s->iov.iov_base = s->frame;
		s->sll.sll_family = AF_PACKET;
		s->sll.sll_halen = 6;
		f->msgs[i].msg_hdr.msg_iov = &s->iov;
		f->msgs[i].msg_hdr.msg_iovlen = 1;
		f->msgs[i].msg_hdr.msg_name = &s->sll;
		f->msgs[i].msg_hdr.msg_namelen = sizeof(s->sll);
	}
}

/*
 * Open an AF_PACKET socket for sending on ifname. Protocol 0: it receives
 * nothing. PACKET_QDISC_BYPASS: frames go straight to the driver (no
 * qdisc, so no tc or nftables egress hooks either); a full driver queue
 * drops them (counted as send_errors). Returns NULL with *cause on error.
 */
struct fwd *
fwd_open(const char *ifname, char **cause)
{
	struct fwd		*f;
	struct sockaddr_ll	 sll;
	int			 one = 1;

	if ((f = calloc(1, sizeof(*f))) == NULL) {
		fwd_error(cause, ifname, "fwd");
		return (NULL);
	}
	util_strlcpy(f->ifname, ifname, sizeof(f->ifname));
	f->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd == -1) {
		fwd_error(cause, ifname, "packet socket");
		goto fail;
	}
	if (fwd_refresh(f, cause) == -1)
		goto fail;
	if (setsockopt(f->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
	    sizeof(one)) == -1)
		log_warn("%s: PACKET_QDISC_BYPASS", ifname);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = 0;
	sll.sll_ifindex = f->ifindex;
	if (bind(f->fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		fwd_error(cause, ifname, "bind packet socket");
		goto fail;
	}
	fwd_prepare(f);
	return (f);
fail:
	fwd_close(f);
	return (NULL);
}

/*
 * Queue ip (an IPv4 or IPv6 packet of len bytes) for the server at
 * dst_mac: Ethernet header (dst_mac, our MAC, the IP ethertype) and a copy
 * of the packet into the next slot; a full batch is flushed. Packets
 * longer than the MTU are dropped (too_big). Returns 0 or -1 (counted).
 */
int
fwd_queue(struct fwd *f, const uint8_t dst_mac[6], const uint8_t *ip,
    size_t len)
{
	struct fwd_slot	*s;
	uint16_t	 type;

	if (len == 0 || ((ip[0] >> 4) != 4 && (ip[0] >> 4) != 6)) {
		f->stats.bad_packet++;
		return (-1);
	}
	if (len > f->mtu) {
		f->stats.too_big++;
		return (-1);
	}
	type = (ip[0] >> 4) == 4 ? ETHERTYPE_IP : ETHERTYPE_IPV6;
	s = &f->slots[f->n++];
	memcpy(s->frame, dst_mac, 6);
	memcpy(s->frame + 6, f->mac, 6);
	be16_store(s->frame + 12, type);
	memcpy(s->frame + FWD_ETH_HLEN, ip, len);
	s->iov.iov_len = FWD_ETH_HLEN + len;
	s->sll.sll_protocol = htons(type);
	s->sll.sll_ifindex = f->ifindex;
	memcpy(s->sll.sll_addr, dst_mac, 6);
	if (f->n == FWD_BATCH)
		fwd_flush(f);
	return (0);
}

/*
 * Send every queued frame; a frame the kernel refuses is counted and
 * skipped, never retried. Returns the number of frames sent.
 */
int
fwd_flush(struct fwd *f)
{
	const uint8_t	*frames[FWD_BATCH];
	size_t		 lens[FWD_BATCH];
	unsigned int	 i = 0, sent = 0;
	int		 r;

	if (f->sink != NULL && f->n > 0) {
		for (i = 0; i < f->n; i++) {
			frames[i] = f->slots[i].frame;
			lens[i] = f->slots[i].iov.iov_len;
			f->stats.bytes += lens[i] - FWD_ETH_HLEN;
		}
		f->sink(f->sink_arg, frames, lens, f->n);
		f->stats.sent += f->n;
		f->n = 0;
		return ((int)i);
	}
	while (i < f->n) {
		r = sendmmsg(f->fd, f->msgs + i, f->n - i, MSG_DONTWAIT);
		if (r <= 0) {
			f->stats.send_errors++;
			log_trace("%s: send: %s", f->ifname, strerror(errno));
			i++;
			continue;
		}
		for (; r > 0; r--, i++, sent++)
			f->stats.bytes += f->slots[i].iov.iov_len -
			    FWD_ETH_HLEN;
	}
	f->stats.sent += sent;
	f->n = 0;
	return ((int)sent);
}

void
fwd_set_sink(struct fwd *f, fwd_sink sink, void *arg)
{
	f->sink = sink;
	f->sink_arg = arg;
}

unsigned int
fwd_send_frames(struct fwd *f, const uint8_t *const *frames,
    const size_t *lens, size_t n)
{
	struct mmsghdr		msgs[FWD_BATCH];
	struct iovec		iov[FWD_BATCH];
	struct sockaddr_ll	sll[FWD_BATCH];
	size_t			i, k, off = 0;
	unsigned int		errors = 0;
	int			r;

	while (off < n) {
		k = n - off > FWD_BATCH ? FWD_BATCH : n - off;
		memset(msgs, 0, k * sizeof(msgs[0]));
		for (i = 0; i < k; i++) {
			const uint8_t	*fr = frames[off + i];

			iov[i].iov_base = (void *)(uintptr_t)fr;
			iov[i].iov_len = lens[off + i];
			memset(&sll[i], 0, sizeof(sll[i]));
			sll[i].sll_family = AF_PACKET;
			sll[i].sll_halen = 6;
			sll[i].sll_ifindex = f->ifindex;
			memcpy(&sll[i].sll_protocol, fr + 12, 2);
			memcpy(sll[i].sll_addr, fr, 6);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &sll[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(sll[i]);
		}
		i = 0;
		while (i < k) {
			r = sendmmsg(f->fd, msgs + i, (unsigned int)(k - i),
			    MSG_DONTWAIT);
			if (r <= 0) {
				errors++;
				i++;
				continue;
			}
			i += (size_t)r;
		}
		off += k;
	}
	return (errors);
}

/* The largest IP packet fwd_queue() takes. */
unsigned int
fwd_mtu(const struct fwd *f)
{
	return (f->mtu);
}

const uint8_t *
fwd_mac(const struct fwd *f)
{
	return (f->mac);
}

const struct counter_desc fwd_counters[] = {
#define FWD_COUNTER(name, help)						\
	COUNTER_FIELD(struct fwd_stats, name, help)
	FWD_STATS_FOREACH(FWD_COUNTER)
#undef FWD_COUNTER
	COUNTER_END
};

const struct fwd_stats *
fwd_stats(const struct fwd *f)
{
	return (&f->stats);
}

/* Close; frames still queued are dropped, not sent. */
void
fwd_close(struct fwd *f)
{
	if (f == NULL)
		return;
	if (f->fd != -1)
		close(f->fd);
	free(f);
}
