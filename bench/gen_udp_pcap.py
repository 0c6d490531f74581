#!/usr/bin/env python3
"""gen_udp_pcap.py FLOWS PACKETS OUT: a pcap (LINKTYPE_RAW) of PACKETS
UDP datagrams of FLOWS flows, 100.64.0.0/10 clients to 198.51.100.10:53,
flows in random order (seed 1), 20-byte payloads; for bench_lb -p
(bench/README, "UDP decision")."""
import random
import struct
import sys


def csum(h):
    s = sum(struct.unpack('!10H', h))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    nflows, npkts, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rnd = random.Random(1)
    flows = [(0x64400000 | rnd.getrandbits(22), 1024 + rnd.getrandbits(15))
             for _ in range(nflows)]
    payload = b'q' * 20
    with open(out, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
        for i in range(npkts):
            src, sport = flows[rnd.randrange(nflows)]
            udp = struct.pack('!HHHH', sport, 53, 8 + len(payload), 0)
            ip = struct.pack('!BBHHHBBHII', 0x45, 0, 20 + len(udp) +
                             len(payload), i & 0xffff, 0, 64, 17, 0, src,
                             0xc633640a)
            ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
            pkt = ip + udp + payload
            f.write(struct.pack('<IIII', i // 1000000, i % 1000000,
                                len(pkt), len(pkt)) + pkt)


if __name__ == '__main__':
    main()
