/*
 * ilbd_xdp.bpf.c: the XDP program of input mode xdp (compiled with clang
 * -target bpf, embedded in ilbd; xdp.c loads it).
 *
 * An IPv4 or IPv6 packet whose destination is a VIP (ilbd_vips, filled
 * by ilbd from the configuration and on reload) goes to the AF_XDP socket
 * of its RX queue (ilbd_xsks): TCP to the services, and what else the
 * decision sorts out itself (ICMP errors for path MTU discovery, later
 * fragments, IPv6 extension headers); the kernel does not own the VIPs
 * in this mode and would drop them anyway. Everything else (ARP, the
 * cluster's UDP, GRE, BGP, BFD, SSH, ND...) is passed to the kernel, as
 * is a VIP packet on a queue with no socket.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

#define ILBD_XDP_QUEUES	64	/* CONF_QUEUES_MAX */
#define ILBD_XDP_VIPS	512	/* CONF_SERVICES_MAX, with room */
#define VLAN_HLEN	4

/* xdp.c's struct xdp_vip_key: family (4 or 6), then the address. */
struct vip_key {
	__u32	family;
	__u8	addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, ILBD_XDP_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} ilbd_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ILBD_XDP_VIPS);
	__type(key, struct vip_key);
	__type(value, __u32);
} ilbd_vips SEC(".maps");

/* libxdp's dispatcher: run first, and on to the next program on pass. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(ilbd_xdp);

SEC("xdp")
int
ilbd_xdp(struct xdp_md *ctx)
{
	void		*data = (void *)(long)ctx->data;
	void		*end = (void *)(long)ctx->data_end;
	struct ethhdr	*eth = data;
	struct vip_key	 key;
	__u16		 proto;
	__u32		 off = sizeof(*eth);

	if ((void *)(eth + 1) > end)
		return (XDP_PASS);
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q) ||
	    proto == bpf_htons(ETH_P_8021AD)) {
		if (data + off + VLAN_HLEN > end)
			return (XDP_PASS);
		proto = *(__u16 *)(data + off + 2);
		off += VLAN_HLEN;
	}
	__builtin_memset(&key, 0, sizeof(key));
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr	*ip = data + off;

		if ((void *)(ip + 1) > end)
			return (XDP_PASS);
		key.family = 4;
		__builtin_memcpy(key.addr, &ip->daddr, 4);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr	*ip6 = data + off;

		if ((void *)(ip6 + 1) > end)
			return (XDP_PASS);
		key.family = 6;
		__builtin_memcpy(key.addr, &ip6->daddr, 16);
	} else
		return (XDP_PASS);
	if (bpf_map_lookup_elem(&ilbd_vips, &key) == NULL)
		return (XDP_PASS);
	return (bpf_redirect_map(&ilbd_xsks, ctx->rx_queue_index, XDP_PASS));
}

char _license[] SEC("license") = "Dual BSD/GPL";
