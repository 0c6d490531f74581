#!/usr/bin/env python3
# gen_score_vectors.py: independent reference for src/score.c (DESIGN.md 3).
#
# Prints the C initializers pasted into tests/unit/test_score.c.  Stdlib
# only, and shares no code with the C side: crc32c is bitwise, crc32 is
# zlib.crc32, SipHash-2-4 is written out below, BLAKE2b is hashlib's.
#
# Usage: python3 tests/unit/gen_score_vectors.py > /tmp/vectors.inc

import hashlib
import ipaddress
import struct
import zlib

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF


def crc32c(data):
    c = 0xFFFFFFFF
    for byte in data:
        c ^= byte
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def fmix32(h):
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h


def fmix64(h):
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & M64
    h ^= h >> 33
    return h


def rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & M64


def siphash24(key, msg):
    k0, k1 = struct.unpack("<QQ", key)
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def rnd():
        nonlocal v0, v1, v2, v3
        v0 = (v0 + v1) & M64; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
        v2 = (v2 + v3) & M64; v3 = rotl(v3, 16); v3 ^= v2
        v0 = (v0 + v3) & M64; v3 = rotl(v3, 21); v3 ^= v0
        v2 = (v2 + v1) & M64; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)

    n = len(msg)
    tail = msg[n - n % 8:] + bytes(7 - n % 8) + bytes([n & 0xFF])
    blocks = msg[:n - n % 8] + tail
    for i in range(0, len(blocks), 8):
        m = struct.unpack("<Q", blocks[i:i + 8])[0]
        v3 ^= m
        rnd(); rnd()
        v0 ^= m
    v2 ^= 0xFF
    rnd(); rnd(); rnd(); rnd()
    return v0 ^ v1 ^ v2 ^ v3


# SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e
assert siphash24(bytes(range(16)), bytes(range(15))) == 0xA129CA6149BE45E5
assert crc32c(b"123456789") == 0xE3069283
assert zlib.crc32(b"123456789") == 0xCBF43926

CLUSTER_KEY = bytes(range(32))                  # 00 01 .. 1f
SIPKEY = hashlib.blake2b(b"ilbd keyed scoring v1", key=CLUSTER_KEY,
                         digest_size=16).digest()


def member(text):
    if text.isdigit():
        return struct.pack(">I", int(text)), 1
    return ipaddress.ip_address(text).packed, 0


def conn(dport, daddr, sport, saddr):
    # claim 4: dport | daddr | sport | saddr, network order
    return (struct.pack(">H", dport) + ipaddress.ip_address(daddr).packed +
            struct.pack(">H", sport) + ipaddress.ip_address(saddr).packed)


MEMBERS = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "7", "2001:db8::1"]
CONNS = [
    conn(80, "198.51.100.10", 40000, "203.0.113.5"),
    conn(443, "198.51.100.10", 51515, "192.0.2.77"),
    conn(80, "198.51.100.11", 1024, "10.1.2.3"),
    conn(8080, "198.51.100.12", 65535, "172.16.9.200"),
    conn(443, "2001:db8:100::10", 40001, "2001:db8:cafe::5"),
    conn(80, "2001:db8:100::11", 33333, "2001:db8:beef::1234"),
]


def score(method, mid, c):
    if method == "crc32c-mix":
        return fmix32(crc32c(mid + c))
    if method == "crc32":
        return zlib.crc32(mid + c)
    return fmix64(siphash24(SIPKEY, c) ^ siphash24(SIPKEY, mid))


def cbytes(b):
    return ", ".join("0x%02x" % x for x in b)


def main():
    print("/* cluster key 00 01 .. 1f; derived SipHash key: */")
    print("static const uint8_t vec_sipkey[16] = { %s };" % cbytes(SIPKEY))
    print("static const struct vec_member vec_members[%d] = {" % len(MEMBERS))
    for t in MEMBERS:
        b, isidx = member(t)
        print("\t{ \"%s\", %d, %d, { %s } }," % (t, len(b), isidx, cbytes(b)))
    print("};")
    print("static const struct vec_conn vec_conns[%d] = {" % len(CONNS))
    for c in CONNS:
        print("\t{ %d, { %s } }," % (len(c), cbytes(c)))
    print("};")
    print("/* [method][conn]: scores per member, then owner, backup */")
    print("static const struct vec_result vec_results[3][%d] = {" % len(CONNS))
    for method in ("crc32c-mix", "crc32", "keyed"):
        print("    {\t/* %s */" % method)
        for c in CONNS:
            s = [score(method, member(t)[0], c) for t in MEMBERS]
            ids = [member(t)[0] for t in MEMBERS]
            # larger score, then larger id (shorter id ranks lower)
            order = sorted(range(len(MEMBERS)), reverse=True,
                           key=lambda i: (s[i], len(ids[i]), ids[i]))
            fmt = "0x%016xULL" if method == "keyed" else "0x%08xULL"
            print("\t{ { %s }, %d, %d }," %
                  (", ".join(fmt % v for v in s), order[0], order[1]))
        print("    },")
    print("};")


if __name__ == "__main__":
    main()
