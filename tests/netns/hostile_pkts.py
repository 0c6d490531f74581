#!/usr/bin/python3
"""hostile_pkts.py: malformed and odd packets to a VIP, sent with scapy
(Debian's python3-scapy), for tests/netns/test_hostile_pkts.sh.

  hostile_pkts.py --iface IF --dst-mac MAC --src A --vip V [--port P]
                  [--src6 A6 --vip6 V6] [--idle S]
  hostile_pkts.py --list

Every packet leaves IF as an Ethernet frame to MAC (the router, from the
client; an ILB, from the rogue on the LAN), so the bytes are exactly the
ones built here: nothing is checked or completed by a local IP stack.

Commands come on stdin, one per line, "CLASS COUNT": COUNT packets (or
pairs, for the fragment classes) of CLASS are sent, then one line
"done CLASS COUNT SENT ANSWERED MATCHED" is printed: SENT frames,
ANSWERED SYN-ACKs received (for the classes that expect an answer; 0
otherwise), MATCHED of the COUNT frames the class is about (the later
fragment of a pair) those that match --filter, libpcap's compilation of
ilbd's capture filter (-1 without --filter): in pcap mode exactly those
reach ilbd.  A class that cannot
be built prints "error CLASS REASON".  The script exits on EOF or after
--idle seconds without a command.  Source ports are 10000-19999, below
the kernel's ephemeral range, so no packet ever belongs to a real
connection of the client.
"""
import argparse
import ctypes
import ctypes.util
import logging
import random
import select
import struct
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (AH, Ether, ICMP, IP, IPOption_EOL,  # noqa: E402
                       IPOption_NOP, IPOption_RR, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, Raw, TCP, UDP,
                       conf, get_if_hwaddr, sendp, srp)

conf.verb = 0

A = None                # the parsed arguments
SPORT = [10000 + random.randrange(5000)]


def sport():
    """A fresh source port in 10000-19999."""
    SPORT[0] = 10000 + (SPORT[0] - 10000 + 1) % 10000
    return SPORT[0]


IPID = [random.randrange(1, 65536)]


def ipid():
    """A fresh IP id: sequential from a random start, so no two datagrams
    of a run share one (ilbd keys fragments by addresses, protocol and id
    for 5 s: a random id could repeat an earlier class's datagram)."""
    IPID[0] = IPID[0] % 65535 + 1
    return IPID[0]


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4_fix(b, hlen=None):
    """Recompute the IPv4 header checksum over hlen bytes (default: IHL)."""
    b = bytearray(b)
    hlen = hlen if hlen is not None else (b[0] & 0x0f) * 4
    b[10:12] = b"\0\0"
    b[10:12] = struct.pack("!H", csum(bytes(b[:hlen])))
    return bytes(b)


def tcp4(flags="S", payload=b"", **kw):
    """A well-formed IPv4 TCP segment to the VIP, as bytes."""
    return bytes(IP(src=A.src, dst=A.vip, id=ipid()) /
                 TCP(sport=sport(), dport=A.port, flags=flags,
                     seq=random.randrange(1 << 32), **kw) / Raw(payload))


def set16(b, off, v):
    b = bytearray(b)
    b[off:off + 2] = struct.pack("!H", v)
    return bytes(b)


# --- IPv4 header ----------------------------------------------------------
# In pcap mode the capture filter "tcp and dst host VIP and dst port P" reads
# the port at 4 * IHL + 2: a bad IHL reaches ilbd only where those bytes
# happen to hold P, so the IHL cases put P there.

def v4_ihl0():
    """IHL 0; the total length is P, where the filter looks for the port."""
    b = tcp4(payload=bytes(A.port - 40))
    b = bytearray(set16(b, 2, A.port))
    b[0] = 0x40
    return [bytes(b)]


def v4_ihl2():
    """IHL 2; the header checksum field holds P (filter: port at 8 + 2)."""
    b = bytearray(tcp4())
    b[0] = 0x42
    return [set16(bytes(b), 10, A.port)]


def v4_ihl_past_end():
    """IHL 15 (60 bytes) in a 40-byte packet."""
    b = bytearray(tcp4())
    b[0] = 0x4f
    return [ip4_fix(bytes(b), 20)]


def v4_ihl_past_totlen():
    """IHL 15, total length 40, 100 bytes on the wire; P at 62."""
    b = bytearray(tcp4(payload=bytes(60)))
    b[0] = 0x4f
    b = set16(set16(bytes(b), 2, 40), 62, A.port)
    return [ip4_fix(b, 60)]


def v4_totlen_past_end():
    """Total length 1500 in a 40-byte packet."""
    return [ip4_fix(set16(tcp4(), 2, 1500))]


def v4_totlen_short():
    """Total length 12, below the 20-byte header."""
    return [ip4_fix(set16(tcp4(), 2, 12))]


def v4_zero_payload():
    """Total length 20, protocol TCP: no TCP header at all.  20 bytes
    follow past the total length (a TCP header to P: the filter reads
    the port there); a router trims them."""
    b = tcp4()
    return [ip4_fix(set16(b, 2, 20))]


def v4_bad_csum():
    """A SYN with a wrong IPv4 header checksum."""
    b = tcp4()
    return [set16(b, 10, struct.unpack("!H", b[10:12])[0] ^ 0x5a5a)]


def v4_options_nop():
    """A SYN with IP options (NOP NOP NOP EOL, IHL 6): legal."""
    return [bytes(IP(src=A.src, dst=A.vip, id=ipid(),
                     options=[IPOption_NOP(), IPOption_NOP(),
                              IPOption_NOP(), IPOption_EOL()]) /
                  TCP(sport=sport(), dport=A.port, flags="S",
                      seq=random.randrange(1 << 32)))]


def v4_options_rr():
    """A SYN with a record-route option (3 slots, IHL 9): legal."""
    return [bytes(IP(src=A.src, dst=A.vip, id=ipid(),
                     options=[IPOption_RR(routers=["0.0.0.0"] * 3)]) /
                  TCP(sport=sport(), dport=A.port, flags="S",
                      seq=random.randrange(1 << 32)))]


# --- TCP header -------------------------------------------------------------

def tcp_doff_low():
    """TCP data offset 2 (8 bytes), below the 20-byte minimum."""
    return [tcp4(dataofs=2)]


def tcp_doff_past():
    """TCP data offset 15 (60 bytes) in a 20-byte segment."""
    return [tcp4(dataofs=15)]


def tcp_flags(f):
    def build():
        return [tcp4(flags=f)]
    build.__doc__ = "A segment with TCP flags %s only." % (f or "none")
    return build


# --- fragments ----------------------------------------------------------------

def frags(parts, mf_last=False):
    """Fragments of one SYN carrying 16 bytes of data (36 bytes of TCP):
    parts is a list of (byte offset, end) slices of it, in send order."""
    i = ipid()
    seg = bytes(TCP(sport=sport(), dport=A.port, flags="S",
                    seq=random.randrange(1 << 32)) / Raw(b"x" * 16))
    out = []
    for off, end in parts:
        mf = end < len(seg) or mf_last
        out.append(bytes(IP(src=A.src, dst=A.vip, id=i, proto=6,
                            flags="MF" if mf else 0, frag=off // 8) /
                         Raw(seg[off:end])))
    return out


def frag_tiny():
    """A first fragment with 8 bytes of TCP (ports and sequence only)."""
    return frags([(0, 8)])


def frag_overlap():
    """First fragment TCP bytes 0-23, then bytes 8-35 (offset 1): the
    second rewrites the TCP header's flags and window."""
    return frags([(0, 24), (8, 36)])


def frag_reverse():
    """The later fragment (bytes 24-35) before the first (0-23)."""
    return frags([(24, 36), (0, 24)])


def frag_orphan():
    """A later fragment (bytes 24-35) whose first never comes."""
    return frags([(24, 36)])


# --- not TCP ------------------------------------------------------------------

def not_tcp_udp():
    """UDP to the VIP's port, where the VIP has no UDP service."""
    return [bytes(IP(src=A.src, dst=A.vip, id=ipid()) /
                  UDP(sport=sport(), dport=A.port) / Raw(b"hostile"))]


def not_tcp_sctp():
    """SCTP (protocol 132) to the VIP's port: neither TCP nor UDP."""
    return [bytes(IP(src=A.src, dst=A.vip, id=ipid(), proto=132) /
                  struct.pack("!HHII", sport(), A.port, 1, 0))]


def not_tcp_icmp():
    """An ICMP echo request to the VIP."""
    return [bytes(IP(src=A.src, dst=A.vip, id=ipid()) /
                  ICMP(type=8, id=sport(), seq=1))]


def icmp_bad_inner():
    """ICMP frag-needed to the VIP whose embedded packet is truncated
    (IHL 5, 10 bytes): an ICMP error with a malformed embedded packet."""
    inner = bytes(IP(src=A.vip, dst=A.src, id=ipid()) /
                  TCP(sport=A.port, dport=sport()))[:10]
    return [bytes(IP(src=A.src, dst=A.vip, id=ipid()) /
                  ICMP(type=3, code=4, nexthopmtu=1280) / Raw(inner))]


# --- IPv6 -------------------------------------------------------------------
# In pcap mode the filter's "dst port P" needs next header TCP in the fixed
# header: frames with any extension header never reach ilbd there.

def tcp6(*ext, **kw):
    p = IPv6(src=A.src6, dst=A.vip6, **kw)
    for e in ext:
        p = p / e
    return bytes(p / TCP(sport=sport(), dport=A.port, flags="S",
                         seq=random.randrange(1 << 32)))


def v6_plen_past():
    """Payload length 1000 in a packet with 20 bytes of payload."""
    return [tcp6(plen=1000)]


def v6_too_many():
    """Ten destination-options headers (ilbd walks at most 8)."""
    return [tcp6(*[IPv6ExtHdrDestOpt() for _ in range(10)])]


def v6_hbh_late():
    """Hop-by-hop options after a destination-options header."""
    return [tcp6(IPv6ExtHdrDestOpt(), IPv6ExtHdrHopByHop())]


def v6_two_frag():
    """Two fragment headers (both offset 0)."""
    return [tcp6(IPv6ExtHdrFragment(id=ipid()), IPv6ExtHdrFragment(id=ipid()))]


def v6_exthdr_past():
    """A destination-options header 88 bytes long in a short packet."""
    b = bytearray(tcp6(IPv6ExtHdrDestOpt()))
    b[41] = 10                  # (10 + 1) * 8 bytes
    return [bytes(b)]


def v6_ah():
    """An authentication header before TCP."""
    return [tcp6(AH(spi=0x1234, seq=1, icv=b"\0" * 12))]


CLASSES = {
    "ihl0": v4_ihl0, "ihl2": v4_ihl2, "ihl_past_end": v4_ihl_past_end,
    "ihl_past_totlen": v4_ihl_past_totlen,
    "totlen_past_end": v4_totlen_past_end, "totlen_short": v4_totlen_short,
    "zero_payload": v4_zero_payload, "bad_csum": v4_bad_csum,
    "options_nop": v4_options_nop, "options_rr": v4_options_rr,
    "tcp_doff_low": tcp_doff_low, "tcp_doff_past": tcp_doff_past,
    "flags_synfin": tcp_flags("SF"), "flags_synrst": tcp_flags("SR"),
    "flags_none": tcp_flags(""), "flags_urgpsh": tcp_flags("UP"),
    "frag_tiny": frag_tiny, "frag_overlap": frag_overlap,
    "frag_reverse": frag_reverse, "frag_orphan": frag_orphan,
    "udp": not_tcp_udp, "sctp": not_tcp_sctp, "icmp_echo": not_tcp_icmp,
    "icmp_bad_inner": icmp_bad_inner,
    "v6_plen_past": v6_plen_past, "v6_too_many": v6_too_many,
    "v6_hbh_late": v6_hbh_late, "v6_two_frag": v6_two_frag,
    "v6_exthdr_past": v6_exthdr_past, "v6_ah": v6_ah,
}
ANSWERED = ("options_nop", "options_rr")    # a server answers SYN-ACK
# The frames of a unit a class is about (default: all): the later fragment.
COUNTED = {"frag_overlap": (1,), "frag_reverse": (0,), "frag_orphan": (0,)}


class BpfProgram(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.c_void_p)]


class PcapPkthdr(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long),
                ("caplen", ctypes.c_uint32), ("len", ctypes.c_uint32)]


def bpf_matcher(text):
    """A function telling whether an Ethernet frame matches the libpcap
    filter text (compiled by libpcap itself, as ilbd does)."""
    lib = ctypes.CDLL(ctypes.util.find_library("pcap") or "libpcap.so.0.8")
    lib.pcap_open_dead.restype = ctypes.c_void_p
    lib.pcap_open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.pcap_compile.argtypes = [ctypes.c_void_p, ctypes.POINTER(BpfProgram),
                                 ctypes.c_char_p, ctypes.c_int,
                                 ctypes.c_uint32]
    lib.pcap_geterr.restype = ctypes.c_char_p
    lib.pcap_geterr.argtypes = [ctypes.c_void_p]
    lib.pcap_offline_filter.argtypes = [ctypes.POINTER(BpfProgram),
                                        ctypes.POINTER(PcapPkthdr),
                                        ctypes.c_char_p]
    p = lib.pcap_open_dead(1, 65535)        # DLT_EN10MB
    prog = BpfProgram()
    if lib.pcap_compile(p, ctypes.byref(prog), text.encode(), 1,
                        0xffffffff) != 0:
        raise ValueError("filter %r: %s" % (text, lib.pcap_geterr(p)))

    def match(b):
        h = PcapPkthdr(0, 0, len(b), len(b))
        return lib.pcap_offline_filter(ctypes.byref(prog), ctypes.byref(h),
                                       b) != 0
    return match


def frame(pkt):
    et = 0x86dd if pkt[0] >> 4 == 6 else 0x0800
    return Ether(dst=A.dst_mac, src=A.src_mac, type=et) / Raw(pkt)


def run(name, count):
    if name not in CLASSES:
        return "error %s unknown class" % name
    if name.startswith("v6_") and not (A.src6 and A.vip6):
        return "error %s no --src6/--vip6" % name
    frames = []
    matched = 0
    for _ in range(count):
        unit = [frame(p) for p in CLASSES[name]()]
        for k in COUNTED.get(name, range(len(unit))):
            if A.match is not None and A.match(bytes(unit[k])):
                matched += 1
        frames.extend(unit)
    answered = 0
    if name in ANSWERED:
        # parsed again, so that scapy can match the answers
        # parsed again, so that scapy can match the answers; a SYN whose
        # SYN-ACK went missing is sent again (retry) -- under load, once
        # in a while, the answer escapes scapy's sniffer
        ans, _ = srp([Ether(bytes(f)) for f in frames], iface=A.iface,
                     timeout=A.wait, retry=2, verbose=0)
        answered = sum(1 for _, r in ans
                       if TCP in r and (r[TCP].flags & 0x12) == 0x12)
    else:
        sendp(frames, iface=A.iface, verbose=0)
    return "done %s %d %d %d %d" % (name, count, len(frames), answered,
                                    matched if A.match is not None else -1)


def main():
    global A
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--list", action="store_true")
    p.add_argument("--iface", default="eth0")
    p.add_argument("--dst-mac")
    p.add_argument("--src")
    p.add_argument("--vip")
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--src6")
    p.add_argument("--vip6")
    p.add_argument("--idle", type=float, default=60)
    p.add_argument("--wait", type=float, default=2,
                   help="seconds to wait for SYN-ACKs")
    p.add_argument("--filter", help="ilbd's capture filter: count the "
                   "frames that match it")
    A = p.parse_args()
    if A.list:
        for k, f in CLASSES.items():
            print("%-16s %s" % (k, (f.__doc__ or "").split("\n")[0]))
        return 0
    if not (A.dst_mac and A.src and A.vip):
        p.error("--dst-mac, --src and --vip are needed")
    A.src_mac = get_if_hwaddr(A.iface)
    A.match = bpf_matcher(A.filter) if A.filter else None
    print("ready", flush=True)
    while True:
        r, _, _ = select.select([sys.stdin], [], [], A.idle)
        if not r:
            print("idle", flush=True)
            return 1
        line = sys.stdin.readline()
        if not line:
            return 0
        w = line.split()
        if len(w) != 2 or not w[1].isdigit():
            print("error %s bad command" % line.strip(), flush=True)
            continue
        print(run(w[0], int(w[1])), flush=True)


if __name__ == "__main__":
    sys.exit(main())
