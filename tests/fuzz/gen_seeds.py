#!/usr/bin/env python3
"""gen_seeds.py: write the seed corpora under tests/fuzz/seeds (run once;
the output is committed). Frames are: control byte, 16-bit BE length,
bytes (see fuzz.h); the addresses match fuzz_world.c."""
import hashlib
import hmac
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "seeds")

VIP4 = bytes([198, 51, 100, 10])
VIP6 = bytes.fromhex("20010db8010000000000000000000010")
CLI4 = bytes([203, 0, 113, 7])
CLI6 = bytes.fromhex("20010db8000c00000000000000000007")
KEY = bytes(range(32))                     # fuzz_msg.c's cluster key

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def tcp(sport, dport, flags, opts=b"", data=b""):
    opts += b"\0" * (-len(opts) % 4)
    off = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, 1000, 0 if flags == SYN
                       else 2000, off << 4, flags, 65535, 0, 0) + opts + data


def ip4(payload, proto=6, src=CLI4, dst=VIP4, frag=0, ident=0x1234):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                    frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ip6(payload, nh=6, src=CLI6, dst=VIP6):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64, src,
                       dst) + payload


def ext(nh, body=b"\0" * 6):
    """An 8-byte-multiple extension header: next header, length, body."""
    return bytes([nh, (len(body) + 2) // 8 - 1]) + body


def frame(ctl, data):
    return bytes([ctl]) + struct.pack("!H", len(data)) + data


def write(sub, name, data):
    d = os.path.join(SEEDS, sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


MSS = b"\x02\x04\x05\xb4"


def packets():
    s4 = ip4(tcp(40000, 80, SYN, MSS))
    a4 = ip4(tcp(40000, 80, ACK, data=b"GET / HTTP/1.0\r\n\r\n"))
    f4 = ip4(tcp(40000, 80, FIN | ACK))
    r4 = ip4(tcp(40000, 80, RST))
    s6 = ip6(tcp(40001, 443, SYN, MSS))
    a6 = ip6(tcp(40001, 443, ACK))
    seg = tcp(40002, 80, ACK, data=b"x" * 16)
    first = ip4(seg[:24], frag=0x2000)               # MF, offset 0
    later = ip4(seg[24:], frag=3)                    # offset 24 bytes
    # routing (type 0, segments left 0) -> destination options -> TCP
    exts = ip6(bytes([60, 0, 0, 0]) + b"\0" * 4 + bytes([6, 0]) +
               b"\x01\x04\0\0\0\0" + tcp(40003, 443, SYN), nh=43)
    # hop-by-hop (PadN) -> destination options -> TCP
    hbh = ip6(bytes([60, 0]) + b"\x01\x04\0\0\0\0" + bytes([6, 0]) +
              b"\x01\x04\0\0\0\0" + tcp(40004, 443, SYN), nh=0)
    frag6 = ip6(struct.pack("!BBHI", 6, 0, 0x0001, 0xabcd) +
                tcp(40005, 443, SYN), nh=44)
    udp = ip4(struct.pack("!HHHH", 5353, 80, 8, 0), proto=17)
    write("fuzz_packet", "v4-flow", frame(0, s4) + frame(2, a4) +
          frame(2, f4) + frame(120, a4))
    write("fuzz_packet", "v4-rst-self1", bytes([1]) + frame(0, s4)[1:] +
          frame(0, r4))
    write("fuzz_packet", "v4-handoff-self2", bytes([2]) +
          frame(1, s4)[1:] + frame(1, a4))
    write("fuzz_packet", "v4-ack-notmember", bytes([3]) + frame(0, a4)[1:])
    write("fuzz_packet", "v6-flow", frame(0, s6) + frame(2, a6))
    write("fuzz_packet", "v4-fragments", frame(0, first) + frame(0, later))
    write("fuzz_packet", "v6-exthdrs", frame(0, exts) + frame(0, hbh) +
          frame(0, frag6))
    write("fuzz_packet", "v4-udp", frame(0, udp))
    # the quic service (fuzz_world.c, UDP 443): a short header naming
    # server 0a02 (rotation 0, self-described length 9), a long header,
    # and a short header with rotation 2, which no configuration has
    def udp4(sport, payload):
        return ip4(struct.pack("!HHHH", sport, 443, 8 + len(payload), 0) +
                   payload, proto=17)
    cid = bytes([0x08, 0x0a, 0x02]) + b"\x11" * 6
    short = udp4(40010, b"\x41" + cid + b"\xee" * 20)
    long_ = udp4(40011, b"\xc3\0\0\0\x01\x08" + b"\x22" * 8 + b"\x08" +
                 b"\x33" * 8 + b"\0" + b"\xee" * 20)
    other = udp4(40012, b"\x41\x48\x0a\x02" + b"\x11" * 6 + b"\xee" * 20)
    write("fuzz_packet", "v4-quic", frame(0, short) + frame(1, short) +
          frame(0, long_) + frame(0, other))


def member(addr):
    return bytes([4, 0]) + addr


def conn4(sport, server, owner, backup, state=1):
    key = struct.pack("!H4sH4s", 80, VIP4, sport, CLI4)
    return (bytes([12]) + key + bytes([4]) + server + owner + backup +
            bytes([state, 0]))


def conn6(sport, server, owner, state=1):
    key = struct.pack("!H16sH16s", 443, VIP6, sport, CLI6)
    return (bytes([36]) + key + bytes([6]) + server + owner +
            bytes([0, 0]) + bytes([state, 0]))


def recs(*rs):
    return b"".join(struct.pack("!H", len(r)) + r for r in rs)


def mixed(*trs):
    """A MIXED (type 8) body: (type, record) pairs, each type, length, bytes."""
    return b"".join(bytes([t]) + struct.pack("!H", len(r)) + r
                    for t, r in trs)


def msg(mtype, body, sender=bytes([10, 0, 0, 2]), seq=1, auth=True,
        epoch=555, index=False):
    hdr = (b"ILBD" + bytes([1, mtype]) + struct.pack("!HQQH",
           1 if auth else 0, epoch, seq, len(body)) +
           bytes([len(sender), 1 if index else 0])
           + sender + b"\0" * (16 - len(sender)))
    m = hdr + body
    if auth:
        m += hmac.new(KEY, m, hashlib.sha512).digest()[:32]
    return m


def id_body(addr=bytes([10, 0, 0, 2]), state=2, members=2):
    fam = 4 if len(addr) == 4 else 6
    return (bytes([0, state]) + struct.pack("!HHBB", members, 0, fam, 0) +
            addr + b"\0" * (16 - len(addr)) + struct.pack("!II", 200, 1000))


def messages():
    m2 = bytes([10, 0, 0, 2])
    m3 = bytes([10, 0, 0, 3])
    s21 = bytes([192, 0, 2, 21])
    s6 = bytes.fromhex("20010db8000000000000000000000021")
    keyrec = bytes([12]) + struct.pack("!H4sH4s", 80, VIP4, 40000, CLI4)
    idm = msg(1, id_body())
    write("fuzz_msg", "id", frame(0, idm))
    write("fuzz_msg", "id-noauth-v6", frame(0, msg(1, id_body(
        bytes.fromhex("20010db8000000000000000000000099"), 1), auth=False,
        sender=bytes.fromhex("20010db8000000000000000000000099"))))
    write("fuzz_msg", "id-new-end", frame(0x80, idm) + frame(0, msg(
        2, recs(conn4(40000, s21, member(m2), member(bytes([10, 0, 0, 1]))),
                conn6(40001, s6, member(m2))), seq=2)) +
        frame(0, msg(3, recs(keyrec), seq=3)))
    write("fuzz_msg", "refresh", frame(0, idm) + frame(0, msg(
        6, recs(keyrec, keyrec), seq=2)))
    write("fuzz_msg", "transfer-done-ack", frame(0, idm) + frame(16, msg(
        5, recs(conn4(40010, s21, member(bytes([10, 0, 0, 1])), member(m3),
                      0)), seq=1)) +
        frame(16, msg(7, struct.pack("!II", 1, 1), seq=2)) +
        frame(16, msg(4, struct.pack("!II", 1, 1), seq=3)))
    write("fuzz_msg", "mixed", frame(0, idm) + frame(0, msg(8, mixed(
        (2, conn4(40020, s21, member(m2), member(bytes([10, 0, 0, 1])))),
        (3, keyrec + struct.pack("!H", 0x1234)),
        (6, keyrec),
        (5, conn4(40021, s21, member(m2), member(m3), 2)),
        (7, struct.pack("!II", 2, 1)),
        (4, struct.pack("!II", 2, 1))), seq=2)) +
        frame(16, msg(8, mixed((5, conn6(40022, s6, member(m2))),
                               (7, struct.pack("!II", 3, 1))), seq=1)))
    # ADMIN (type 9): a drain of 192.0.2.21 and a weight of 2001:db8::21
    adm = (recs(struct.pack("!Q", 1796476495315) + member(m2) +
                bytes([3]) + struct.pack("!H", 0) + bytes([4]) + s21 +
                bytes([3]) + b"web",
                struct.pack("!Q", 1796476495316) + member(m3) +
                bytes([4]) + struct.pack("!H", 1000) + bytes([6]) + s6 +
                bytes([4]) + b"web6"))
    write("fuzz_msg", "admin", frame(0, idm) + frame(0, msg(9, adm, seq=2)))
    write("fuzz_msg", "id-index-gone", frame(0, msg(1, id_body(m3),
          sender=bytes([0, 0, 0, 7]), index=True)) + frame(0xe0, idm) +
          frame(0xe0, idm))


def ctl():
    lines = [
        b"ILBCTL/1 show members\n",
        b"ILBCTL/1 json show connections limit 5 vip 198.51.100.10:80\n",
        b"ILBCTL/1 sh ca cl [2001:db8:c::7]:40001\r\n",
        b"ILBCTL/1 show owner 203.0.113.7:40000 198.51.100.10:80",
        b"ILBCTL/1 json server weight web 192.0.2.21 5\n",
        b"ILBCTL/1 server drain web6 2001:db8::22\n",
        b"ILBCTL/1 json show stats\n",
        b"ILBCTL/1 OK 1234\n",
        b"show\0services",
        b"!server enable web 192.0.2.22",
    ]
    for i, line in enumerate(lines):
        write("fuzz_ctl", "line%d" % i, line)


def quic():
    """fuzz_quic: short-header DCID length octet, then a UDP payload."""
    initial = (bytes([0xc3]) + struct.pack("!I", 1) + bytes([8]) +
               bytes.fromhex("8394c8f03e515708") + bytes([5]) +
               bytes.fromhex("0011223344") + bytes(20))
    write("fuzz_quic", "initial-v1", bytes([8]) + initial)
    write("fuzz_quic", "short-sid0", bytes([8]) + bytes([0x43]) +
          bytes.fromhex("07c4605e4504cc4f") + bytes(16))
    write("fuzz_quic", "short-sid1-self", bytes([0]) + bytes([0x41]) +
          bytes.fromhex("2a350d28b42003487d970b") + bytes(16))
    write("fuzz_quic", "short-cr5", bytes([9]) + bytes([0x40]) +
          bytes.fromhex("a07700112233445566") + bytes(16))
    write("fuzz_quic", "short-cr5-conf", bytes([0xff]) + bytes([0x40]) +
          bytes.fromhex("a07700112233445566") + bytes(16))
    write("fuzz_quic", "unroutable", bytes([8]) + bytes([0x40]) +
          bytes.fromhex("e7aabbccddeeff00") + bytes(16))
    write("fuzz_quic", "vn-long-cid", bytes([0]) + bytes([0x80]) +
          bytes(4) + bytes([30]) + bytes(range(30)) + bytes([0]))


def configs():
    src = open(os.path.join(HERE, "..", "..", "etc", "ilbd.conf")).read()
    out = []
    for line in src.splitlines():
        code = line.split("#", 1)[0].rstrip()
        if code:
            out.append(code.strip())
    text = "\n".join(out) + "\n"
    text = text.replace('key_file = "/etc/ilbd/cluster.key";',
                        'key_file = "/nonexistent/cluster.key";')
    text = text.replace("authenticate = true;", "authenticate = false;")
    write("fuzz_config", "example.conf", text.encode())
    write("fuzz_config", "minimal.conf", b"""node = { id = 3; interface = "eth0"; address = "10.0.0.3"; user = ""; };
cluster = { key_file = "cluster.key"; scoring = "keyed"; };
input = { mode = "pcap"; };
tables = { ltoc_size = 1024; cache_size = 0; };
metrics = { listen = ""; };
services = ( { name = "ssh"; vip = "198.51.100.20"; port = 22;
  forward = "gre"; scheduler = "hash"; health = { check = "none"; };
  servers = ( { address = "192.0.2.31"; }, { address = "192.0.2.32"; weight = 0; } ); } );
""")
    write("fuzz_config", "v6.conf", b"""node = { id = "2001:db8::11"; interface = "ens3"; };
cluster = { group = "ff15::1"; port = 7000; hello_ms = 50; dead_ms = 100;
  authenticate = false; scoring = "crc32";
  peers = [ "2001:db8::11", "2001:db8::12", "fe80::13" ]; };
control = { socket = "/tmp/ilbd.sock"; };
metrics = { listen = "[::1]:9650"; };
services = ( { name = "a.b-c_d"; vip = "2001:db8:100::10"; port = 443;
  scheduler = "rr"; servers = ( { address = "2001:db8::21"; } ); } );
""")
    write("fuzz_config", "quic.conf", b"""node = { id = 3; interface = "eth0"; };
cluster = { authenticate = false; };
services = ( { name = "h3"; vip = "198.51.100.10"; port = 443;
  protocol = "udp"; quic = true;
  quic_lb = ( { rotation = 0; server_id_len = 2; nonce_len = 6;
    self_describe = true; }, { rotation = 3; server_id_len = 2;
    nonce_len = 17; } );
  health = { check = "none"; };
  servers = ( { address = "192.0.2.21"; quic_server_id = "0a01"; },
    { address = "192.0.2.22"; quic_server_id = "0A02"; weight = 0; } ); } );
""")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        SEEDS = sys.argv[1]
    packets()
    messages()
    ctl()
    quic()
    configs()
