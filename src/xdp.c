/*
 * xdp.c: packet input through AF_XDP on node.interface (input.mode
 * "xdp"). The XDP program (ilbd_xdp.bpf.c, embedded) is attached with
 * libxdp; each RX queue has its AF_XDP socket with its own UMEM, read
 * from the one event loop. A frame read is handed to the callback and
 * goes straight back to the fill ring: nothing is allocated per packet.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <event2/event.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "be.h"
#include "config.h"
#include "log.h"
#include "util.h"
#include "xdp.h"

#define XDP_PROG_NAME	"ilbd_xdp"	/* the program's name in the kernel */
#define XDP_VIPS_MAX	512		/* ilbd_vips's max_entries */
#define XDP_STALE_MAX	8		/* stale programs removed at most */

#define ETH_HLEN_	14
#define VLAN_HLEN	4
#define ETYPE_IPV4	0x0800
#define ETYPE_IPV6	0x86dd
#define ETYPE_8021Q	0x8100
#define ETYPE_8021AD	0x88a8

/*
 * The ELF object clang built from ilbd_xdp.bpf.c, embedded as it is. The
 * path is the build directory's (make runs there; Makefile.am makes this
 * object depend on it): no generated source that a copy of the source
 * tree could carry stale.
 */
__asm__(".section .rodata\n"
    ".balign 8\n"
    "ilbd_xdp_obj:\n"
    ".incbin \"src/ilbd_xdp.bpf.o\"\n"
    "ilbd_xdp_obj_end:\n"
    ".previous\n");
extern const unsigned char ilbd_xdp_obj[], ilbd_xdp_obj_end[];

/* The key of ilbd_vips: struct vip_key in ilbd_xdp.bpf.c. */
struct xdp_vip_key {
	uint32_t	family;		/* 4 or 6 */
	uint8_t		addr[16];
};

/*
 * One RX queue: its socket, its UMEM and the rings; read by one thread
 * (the daemon's loop, or an input worker), whose counters these are.
 */
struct xdp_queue {
	struct xdp_input	*x;
	unsigned int		 id;
	void			*arg;		/* the callback's */
	struct xdp_stats	 stats;		/* packets, bytes, nonip,
						   budget_hits */
	void			*area;		/* XDP_NUM_FRAMES frames */
	struct xsk_umem		*umem;
	struct xsk_socket	*xsk;
	struct xsk_ring_prod	 fq;
	struct xsk_ring_cons	 cq;
	struct xsk_ring_cons	 rx;
	struct event		*ev;
};

struct xdp_input {
	char			 ifname[IF_NAMESIZE];
	int			 ifindex;
	enum xdp_attach_mode	 mode;		/* as attached */
	struct bpf_object	*obj;
	struct xdp_program	*prog;
	int			 attached;
	uint32_t		 main_id;	/* ours, or libxdp's dispatcher */
	int			 alone;		/* the only program there */
	int			 vips_fd;
	int			 xsks_fd;
	xdp_cb			 cb;
	unsigned int		 nq;
	struct xdp_queue	*q;
	struct xdp_stats	 stats;
};

static int	 xdp_print(enum libbpf_print_level, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
static int	 xdp_xprint(enum libxdp_print_level, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
static int	 xdp_err(char **, const char *, int);
static void	 xdp_remove_stale(struct xdp_input *);
static int	 xdp_attach(struct xdp_input *, enum conf_xdp_mode, char **);
static void	 xdp_detach(struct xdp_input *);
static struct xdp_input *xdp_open_on(struct event_base *const *,
		    void *const *, unsigned int, const struct ilbd_conf *,
		    xdp_cb, char **);
static int	 xdp_queue_open(struct xdp_input *, struct xdp_queue *,
		    struct event_base *, enum conf_xdp_mode, char **);
static void	 xdp_queue_close(struct xdp_queue *);
static void	 xdp_kick(struct xdp_queue *);
static void	 xdp_read(evutil_socket_t, short, void *);
static int	 xdp_vip_key(const struct ilb_addr *, struct xdp_vip_key *);
static int	 xdp_vip_wanted(const struct ilbd_conf *,
		    const struct xdp_vip_key *);

int
xdp_strip(const uint8_t *f, size_t len, size_t *off)
{
	uint16_t	etype;
	size_t		o = ETH_HLEN_;

	if (len < ETH_HLEN_)
		return (-1);
	etype = be16_load(f + 12);
	if (etype == ETYPE_8021Q || etype == ETYPE_8021AD) {
		if (len < o + VLAN_HLEN)
			return (-1);
		etype = be16_load(f + o + 2);
		o += VLAN_HLEN;
	}
	if ((etype != ETYPE_IPV4 && etype != ETYPE_IPV6) || len <= o)
		return (-1);
	*off = o;
	return (0);
}

unsigned int
xdp_queues(const struct ilbd_conf *conf)
{
	struct ethtool_channels	ch;
	struct ifreq		ifr;
	unsigned int		n = 0;
	int			s;

	if (conf->input.queues > 0)
		return (conf->input.queues);
	memset(&ch, 0, sizeof(ch));
	memset(&ifr, 0, sizeof(ifr));
	ch.cmd = ETHTOOL_GCHANNELS;
	util_strlcpy(ifr.ifr_name, conf->node.interface, sizeof(ifr.ifr_name));
	ifr.ifr_data = (void *)&ch;
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1) {
		if (ioctl(s, SIOCETHTOOL, &ifr) == 0)
			n = ch.combined_count + ch.rx_count;
		close(s);
	}
	/* No channel count (a driver without it): one queue. */
	if (n == 0)
		n = 1;
	return (n > CONF_QUEUES_MAX ? CONF_QUEUES_MAX : n);
}

/*
 * libbpf's and libxdp's messages: their warnings as information (a
 * missing bpffs, a fallback they make; what fails reaches the caller as
 * an error), the rest debug.
 */
static int
xdp_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char	buf[512];
	size_t	n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if ((n = strlen(buf)) > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (level == LIBBPF_WARN)
		log_info("xdp: %s", buf);
	else
		log_debug("xdp: %s", buf);
	return (0);
}

static int
xdp_xprint(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return (xdp_print(level == LIBXDP_WARN ? LIBBPF_WARN : LIBBPF_DEBUG,
	    fmt, ap));
}

/* *cause "what: error" from a negative errno; always -1. */
static int
xdp_err(char **cause, const char *what, int err)
{
	char	buf[128];

	if (libxdp_strerror(err, buf, sizeof(buf)) != 0)
		util_strlcpy(buf, strerror(err < 0 ? -err : err), sizeof(buf));
	return (util_cause(cause, "%s: %s", what, buf));
}

/*
 * A previous ilbd that crashed left its program on the interface:
 * remove it (ours by name), so that packets for the VIPs are not sent
 * to its socket-less map before ours.
 */
static void
xdp_remove_stale(struct xdp_input *x)
{
	struct xdp_multiprog	*mp;
	struct xdp_program	*p;
	int			 i, found;

	(void)libxdp_clean_references(x->ifindex);
	for (i = 0; i < XDP_STALE_MAX; i++) {
		mp = xdp_multiprog__get_from_ifindex(x->ifindex);
		if (mp == NULL || libxdp_get_error(mp) != 0)
			return;
		found = 0;
		if (xdp_multiprog__is_legacy(mp)) {
			p = xdp_multiprog__main_prog(mp);
			if (p != NULL && strcmp(xdp_program__name(p),
			    XDP_PROG_NAME) == 0) {
				found = 1;
				if (xdp_multiprog__detach(mp) != 0)
					found = 0;
			}
		} else {
			for (p = xdp_multiprog__next_prog(NULL, mp); p != NULL;
			    p = xdp_multiprog__next_prog(p, mp))
				if (strcmp(xdp_program__name(p),
				    XDP_PROG_NAME) == 0)
					break;
			if (p != NULL && xdp_program__detach(p, x->ifindex,
			    xdp_multiprog__attach_mode(mp), 0) == 0)
				found = 1;
		}
		xdp_multiprog__close(mp);
		if (!found)
			return;
		log_warnx("%s: removed a stale XDP program %s (an ilbd that "
		    "did not exit cleanly)", x->ifname, XDP_PROG_NAME);
	}
}

/* Open the embedded object and attach it; note what the interface runs. */
static int
xdp_attach(struct xdp_input *x, enum conf_xdp_mode mode, char **cause)
{
	DECLARE_LIBBPF_OPTS(bpf_object_open_opts, oopts,
	    .object_name = XDP_PROG_NAME);
	DECLARE_LIBXDP_OPTS(xdp_program_opts, popts);
	struct xdp_multiprog	*mp;
	enum xdp_attach_mode	 want;
	int			 err;

	x->obj = bpf_object__open_mem(ilbd_xdp_obj,
	    (size_t)(ilbd_xdp_obj_end - ilbd_xdp_obj), &oopts);
	if ((err = (int)libbpf_get_error(x->obj)) != 0) {
		x->obj = NULL;
		return (xdp_err(cause, "XDP object", err));
	}
	popts.obj = x->obj;
	popts.prog_name = XDP_PROG_NAME;
	x->prog = xdp_program__create(&popts);
	if ((err = (int)libxdp_get_error(x->prog)) != 0) {
		x->prog = NULL;
		return (xdp_err(cause, "XDP program", err));
	}
	want = mode == XDP_NATIVE ? XDP_MODE_NATIVE : mode == XDP_SKB ?
	    XDP_MODE_SKB : XDP_MODE_UNSPEC;
	xdp_remove_stale(x);
	if ((err = xdp_program__attach(x->prog, x->ifindex, want, 0)) != 0)
		return (xdp_err(cause, "attach the XDP program", err));
	x->attached = 1;
	x->mode = xdp_program__is_attached(x->prog, x->ifindex);
	mp = xdp_multiprog__get_from_ifindex(x->ifindex);
	if (mp != NULL && libxdp_get_error(mp) == 0) {
		if (xdp_multiprog__main_prog(mp) != NULL)
			x->main_id = xdp_program__id(
			    xdp_multiprog__main_prog(mp));
		x->alone = xdp_multiprog__is_legacy(mp) ||
		    xdp_multiprog__program_count(mp) == 1;
		xdp_multiprog__close(mp);
	}
	x->vips_fd = bpf_object__find_map_fd_by_name(x->obj, "ilbd_vips");
	x->xsks_fd = bpf_object__find_map_fd_by_name(x->obj, "ilbd_xsks");
	if (x->vips_fd < 0 || x->xsks_fd < 0)
		return (util_cause(cause, "XDP program without its maps"));
	log_info("%s: XDP program %s attached (%s mode%s)", x->ifname,
	    XDP_PROG_NAME, x->mode == XDP_MODE_NATIVE ? "native" :
	    x->mode == XDP_MODE_SKB ? "skb" : "other", x->alone ? "" :
	    ", with other programs");
	return (0);
}

/*
 * Detach the program. libxdp needs privileges ilbd has given up by
 * then (reading programs by id); netlink needs only CAP_NET_ADMIN, which
 * ilbd keeps: remove what the interface runs if it is still what ilbd
 * attached and nothing else runs there.
 */
static void
xdp_detach(struct xdp_input *x)
{
	uint32_t	id = 0;
	int		flags, err;

	if (!x->attached)
		return;
	x->attached = 0;
	if (geteuid() == 0 &&
	    xdp_program__detach(x->prog, x->ifindex, x->mode, 0) == 0) {
		log_info("%s: XDP program detached", x->ifname);
		return;
	}
	flags = x->mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE :
	    x->mode == XDP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE : 0;
	if (!x->alone || bpf_xdp_query_id(x->ifindex, flags, &id) != 0 ||
	    id != x->main_id || id == 0) {
		log_warnx("%s: cannot detach the XDP program (the next ilbd "
		    "replaces it; or: ip link set dev %s xdp off)", x->ifname,
		    x->ifname);
		return;
	}
	if ((err = bpf_xdp_detach(x->ifindex, flags, NULL)) != 0)
		log_warnx("%s: detach the XDP program: %s", x->ifname,
		    strerror(-err));
	else
		log_info("%s: XDP program detached", x->ifname);
}

/* The UMEM, every frame in the fill ring, the socket in the XSK map. */
static int
xdp_queue_open(struct xdp_input *x, struct xdp_queue *q,
    struct event_base *base, enum conf_xdp_mode mode, char **cause)
{
	struct xsk_umem_config		ucfg;
	struct xsk_socket_config	scfg;
	char				what[64];
	uint32_t			idx = 0, i;
	int				err;

	q->x = x;
	q->area = mmap(NULL, (size_t)XDP_NUM_FRAMES * XDP_FRAME_SIZE,
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q->area == MAP_FAILED) {
		q->area = NULL;
		return (util_cause(cause, "UMEM: %s", strerror(errno)));
	}
	memset(&ucfg, 0, sizeof(ucfg));
	ucfg.fill_size = XDP_NUM_FRAMES;
	ucfg.comp_size = XSK_RING_CONS__DEFAULT_NUM_DESCS;
	ucfg.frame_size = XDP_FRAME_SIZE;
	if ((err = xsk_umem__create(&q->umem, q->area,
	    (uint64_t)XDP_NUM_FRAMES * XDP_FRAME_SIZE, &q->fq, &q->cq,
	    &ucfg)) != 0) {
		q->umem = NULL;
		snprintf(what, sizeof(what), "queue %u: UMEM", q->id);
		return (xdp_err(cause, what, err));
	}
	memset(&scfg, 0, sizeof(scfg));
	scfg.rx_size = XDP_NUM_FRAMES;
	scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
	/* Generic XDP has no zero-copy; elsewhere the kernel chooses. */
	scfg.bind_flags = XDP_USE_NEED_WAKEUP |
	    (mode == XDP_SKB || x->mode == XDP_MODE_SKB ? XDP_COPY : 0);
	if ((err = xsk_socket__create(&q->xsk, x->ifname, q->id, q->umem,
	    &q->rx, NULL, &scfg)) != 0) {
		q->xsk = NULL;
		snprintf(what, sizeof(what), "queue %u: AF_XDP socket", q->id);
		return (xdp_err(cause, what, err));
	}
	if (xsk_ring_prod__reserve(&q->fq, XDP_NUM_FRAMES, &idx) !=
	    XDP_NUM_FRAMES)
		return (util_cause(cause, "queue %u: fill ring", q->id));
	for (i = 0; i < XDP_NUM_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&q->fq, idx + i) =
		    (uint64_t)i * XDP_FRAME_SIZE;
	xsk_ring_prod__submit(&q->fq, XDP_NUM_FRAMES);
	if ((err = xsk_socket__update_xskmap(q->xsk, x->xsks_fd)) != 0) {
		snprintf(what, sizeof(what), "queue %u: XSK map", q->id);
		return (xdp_err(cause, what, err));
	}
	q->ev = event_new(base, xsk_socket__fd(q->xsk), EV_READ | EV_PERSIST,
	    xdp_read, q);
	if (q->ev == NULL || event_add(q->ev, NULL) == -1)
		return (util_cause(cause, "queue %u: cannot add read event",
		    q->id));
	return (0);
}

static void
xdp_queue_close(struct xdp_queue *q)
{
	if (q->ev != NULL)
		event_free(q->ev);
	if (q->xsk != NULL) {
		if (q->x->xsks_fd >= 0)
			(void)bpf_map_delete_elem(q->x->xsks_fd, &q->id);
		xsk_socket__delete(q->xsk);
	}
	if (q->umem != NULL)
		(void)xsk_umem__delete(q->umem);
	if (q->area != NULL)
		munmap(q->area, (size_t)XDP_NUM_FRAMES * XDP_FRAME_SIZE);
	memset(q, 0, sizeof(*q));
}

/* A driver waiting for fill frames (need_wakeup) is told of them. */
static void
xdp_kick(struct xdp_queue *q)
{
	if (xsk_ring_prod__needs_wakeup(&q->fq))
		(void)recvfrom(xsk_socket__fd(q->xsk), NULL, 0, MSG_DONTWAIT,
		    NULL, NULL);
}

/*
 * Up to XDP_BUDGET frames from the RX ring to the callback, in bursts of
 * up to XDP_BURST (the frames stay in the UMEM until given back: no
 * copy), then the same frames back to the fill ring. The fill ring has
 * room for them: every frame of the UMEM is in it but those just read.
 */
static void
xdp_read(evutil_socket_t fd, short what, void *arg)
{
	struct xdp_queue	*q = arg;
	struct xdp_input	*x = q->x;
	struct xdp_stats	*st = &q->stats;
	const struct xdp_desc	*d;
	const uint8_t		*f, *pkts[XDP_BURST];
	uint32_t		 rxi = 0, fqi = 0, n, i;
	size_t			 off, lens[XDP_BURST], k = 0;

	(void)fd;
	(void)what;
	if ((n = xsk_ring_cons__peek(&q->rx, XDP_BUDGET, &rxi)) == 0) {
		xdp_kick(q);
		return;
	}
	if (n == XDP_BUDGET)
		st->budget_hits++;
	for (i = 0; i < n; i++) {
		d = xsk_ring_cons__rx_desc(&q->rx, rxi + i);
		f = xsk_umem__get_data(q->area,
		    xsk_umem__add_offset_to_addr(d->addr));
		if (xdp_strip(f, d->len, &off) == -1) {
			st->nonip++;
			continue;
		}
		st->packets++;
		st->bytes += d->len - off;
		pkts[k] = f + off;
		lens[k++] = d->len - off;
		if (k == XDP_BURST) {
			x->cb(q->arg, pkts, lens, k);
			k = 0;
		}
	}
	if (k > 0)
		x->cb(q->arg, pkts, lens, k);
	if (xsk_ring_prod__reserve(&q->fq, n, &fqi) == n) {
		for (i = 0; i < n; i++) {
			d = xsk_ring_cons__rx_desc(&q->rx, rxi + i);
			*xsk_ring_prod__fill_addr(&q->fq, fqi + i) =
			    xsk_umem__extract_addr(d->addr) &
			    ~(uint64_t)(XDP_FRAME_SIZE - 1);
		}
		xsk_ring_prod__submit(&q->fq, n);
	}
	xsk_ring_cons__release(&q->rx, n);
	xdp_kick(q);
}

/* The map key of a VIP: 0, or -1 for an address of no known family. */
static int
xdp_vip_key(const struct ilb_addr *a, struct xdp_vip_key *k)
{
	memset(k, 0, sizeof(*k));
	if (a->family == AF_INET) {
		k->family = 4;
		memcpy(k->addr, a->u.b, 4);
	} else if (a->family == AF_INET6) {
		k->family = 6;
		memcpy(k->addr, a->u.b, 16);
	} else
		return (-1);
	return (0);
}

/* Whether k is the VIP of a service of conf. */
static int
xdp_vip_wanted(const struct ilbd_conf *conf, const struct xdp_vip_key *k)
{
	struct xdp_vip_key	w;
	unsigned int		i;

	for (i = 0; i < conf->nservices; i++)
		if (xdp_vip_key(&conf->services[i].vip, &w) == 0 &&
		    memcmp(&w, k, sizeof(w)) == 0)
			return (1);
	return (0);
}

/* New VIPs first, then the old ones out: a kept VIP never misses. */
int
xdp_set_vips(struct xdp_input *x, const struct ilbd_conf *conf,
    char **cause)
{
	struct xdp_vip_key	 k, next, stale[XDP_VIPS_MAX];
	const void		*prev = NULL;
	uint32_t		 one = 1;
	unsigned int		 i, nstale = 0, nvips = 0;

	*cause = NULL;
	for (i = 0; i < conf->nservices; i++) {
		if (xdp_vip_key(&conf->services[i].vip, &k) == -1)
			continue;
		if (bpf_map_update_elem(x->vips_fd, &k, &one, BPF_ANY) != 0)
			return (util_cause(cause, "XDP VIP map: %s",
			    strerror(errno)));
	}
	while (nstale < XDP_VIPS_MAX &&
	    bpf_map_get_next_key(x->vips_fd, prev, &next) == 0) {
		if (!xdp_vip_wanted(conf, &next))
			stale[nstale++] = next;
		else
			nvips++;
		k = next;
		prev = &k;
	}
	for (i = 0; i < nstale; i++)
		(void)bpf_map_delete_elem(x->vips_fd, &stale[i]);
	log_debug("%s: XDP VIP map: %u VIP%s, %u removed", x->ifname, nvips,
	    nvips == 1 ? "" : "s", nstale);
	return (0);
}

struct xdp_input *
xdp_open(struct event_base *base, const struct ilbd_conf *conf, xdp_cb cb,
    void *arg, char **cause)
{
	return (xdp_open_on(&base, &arg, 1, conf, cb, cause));
}

struct xdp_input *
xdp_open_spread(struct event_base *const *bases, void *const *args,
    unsigned int n, const struct ilbd_conf *conf, xdp_cb cb, char **cause)
{
	return (xdp_open_on(bases, args, n, conf, cb, cause));
}

/* Queue i is read on bases[i % n], its bursts to cb(args[i % n], ...). */
static struct xdp_input *
xdp_open_on(struct event_base *const *bases, void *const *args,
    unsigned int n, const struct ilbd_conf *conf, xdp_cb cb, char **cause)
{
	struct xdp_input	*x;
	char			*why;
	unsigned int		 i;

	*cause = NULL;
	libbpf_set_print(xdp_print);
	libxdp_set_print(xdp_xprint);
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		*cause = strdup("xdp: out of memory");
		return (NULL);
	}
	util_strlcpy(x->ifname, conf->node.interface, sizeof(x->ifname));
	x->cb = cb;
	x->vips_fd = x->xsks_fd = -1;
	if ((x->ifindex = (int)if_nametoindex(x->ifname)) == 0) {
		util_cause(cause, "%s: %s", x->ifname, strerror(errno));
		goto fail;
	}
	x->nq = xdp_queues(conf);
	if ((x->q = calloc(x->nq, sizeof(*x->q))) == NULL) {
		*cause = strdup("xdp: out of memory");
		goto fail;
	}
	if (xdp_attach(x, conf->input.xdp_mode, cause) == -1 ||
	    xdp_set_vips(x, conf, cause) == -1)
		goto fail;
	for (i = 0; i < x->nq; i++) {
		x->q[i].id = i;
		x->q[i].arg = args[i % n];
		if (xdp_queue_open(x, &x->q[i], bases[i % n],
		    conf->input.xdp_mode, cause) == -1)
			goto fail;
	}
	log_info("%s: AF_XDP input on %u queue%s", x->ifname, x->nq,
	    x->nq == 1 ? "" : "s");
	return (x);
fail:
	if ((why = *cause) != NULL) {
		util_cause(cause, "xdp on %s: %s", conf->node.interface, why);
		free(why);
	}
	xdp_close(x);
	return (NULL);
}

void
xdp_close(struct xdp_input *x)
{
	unsigned int	i;

	if (x == NULL)
		return;
	for (i = 0; x->q != NULL && i < x->nq; i++)
		if (x->q[i].x != NULL)
			xdp_queue_close(&x->q[i]);
	free(x->q);
	xdp_detach(x);
	if (x->prog != NULL)
		xdp_program__close(x->prog);
	if (x->obj != NULL)
		bpf_object__close(x->obj);
	free(x);
}

const struct counter_desc xdp_counters[] = {
	{ .name = "packets", .help = "packets received on the AF_XDP "
	    "sockets", .off = offsetof(struct xdp_stats, packets),
	    .sub = "input" },
	{ .name = "drops", .help = "packets the AF_XDP sockets had no room "
	    "for", .off = offsetof(struct xdp_stats, drops) },
	{ .name = "nonip", .help = "frames neither IPv4 nor IPv6",
	    .off = offsetof(struct xdp_stats, nonip) },
	COUNTER_END
};

const struct xdp_stats *
xdp_stats(struct xdp_input *x)
{
	struct xdp_statistics	st;
	socklen_t		len;
	unsigned int		i;
	uint64_t		drops = 0, invalid = 0;

	for (i = 0; i < x->nq; i++) {
		if (x->q[i].xsk == NULL)
			continue;
		len = sizeof(st);
		memset(&st, 0, sizeof(st));
		if (getsockopt(xsk_socket__fd(x->q[i].xsk), SOL_XDP,
		    XDP_STATISTICS, &st, &len) != 0)
			continue;
		drops += st.rx_dropped + st.rx_ring_full;
		invalid += st.rx_invalid_descs;
	}
	/* each queue's own, written by the thread that reads it */
	x->stats.packets = x->stats.bytes = x->stats.nonip = 0;
	x->stats.budget_hits = 0;
	for (i = 0; i < x->nq; i++) {
		x->stats.packets += __atomic_load_n(&x->q[i].stats.packets,
		    __ATOMIC_RELAXED);
		x->stats.bytes += __atomic_load_n(&x->q[i].stats.bytes,
		    __ATOMIC_RELAXED);
		x->stats.nonip += __atomic_load_n(&x->q[i].stats.nonip,
		    __ATOMIC_RELAXED);
		x->stats.budget_hits += __atomic_load_n(
		    &x->q[i].stats.budget_hits, __ATOMIC_RELAXED);
	}
	x->stats.drops = drops;
	x->stats.invalid = invalid;
	return (&x->stats);
}
