#!/usr/bin/env python3
"""quic_client.py: crafted QUIC datagrams for test_quic.sh.

Usage: quic_client.py [options] VIP PORT

Sends COUNT datagrams to VIP:PORT, each from its own socket (so its own
source port), bound to the --src addresses in turn, and waits for each
answer (tests/netns/lib/udp_echo.py answers with the datagram's first
line, a space and its name). --form long sends a QUIC v1 Initial-like
long header with a random client-chosen DCID; --form short a 1-RTT
short header whose DCID is the plaintext QUIC-LB encoding of --sid with
configuration rotation --cr (as quic_lb_encode() in src/quic_lb.c):

    first octet  cr << 5 | (self-describe ? CID length - 1 : random 5 bits)
    server ID    --sid, len(--sid) octets
    nonce        --nonce-len random octets

No real QUIC stack is needed: a load balancer reads only the header.
Datagrams that get no answer in --timeout seconds are sent again, from
the same socket, up to --retries times.

Prints one line "answers NAME=N ... lost=L" (names sorted) and with
--out writes a JSON object {"answers": {NAME: N}, "lost": L}.

Exit status: 0 if every datagram was answered; 1 if some were not; 2 on
a usage error.
"""
import argparse
import json
import os
import select
import socket
import sys
import time


def short_header(cr, sid, nonce_len, self_describe):
    cidlen = 1 + len(sid) + nonce_len
    low5 = (cidlen - 1) if self_describe else os.urandom(1)[0]
    first = (cr << 5) | (low5 & 0x1f)
    dcid = bytes([first]) + sid + os.urandom(nonce_len)
    # form 0, fixed bit 1, 2-octet packet number; then PN and payload
    return bytes([0x41]) + dcid + os.urandom(22)


def long_header():
    dcid = os.urandom(8)
    scid = os.urandom(8)
    # form 1, fixed bit 1, type Initial; version 1; DCID; SCID; token 0
    return bytes([0xc3]) + (1).to_bytes(4, "big") + bytes([len(dcid)]) + \
        dcid + bytes([len(scid)]) + scid + b"\0" + os.urandom(40)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("vip")
    ap.add_argument("port", type=int)
    ap.add_argument("-n", "--count", type=int, default=1)
    ap.add_argument("--form", choices=("long", "short"), default="short")
    ap.add_argument("--cr", type=int, default=0)
    ap.add_argument("--sid", default="0a01", help="server ID, hex")
    ap.add_argument("--nonce-len", type=int, default=6)
    ap.add_argument("--self-describe", action="store_true")
    ap.add_argument("--src", action="append", default=[],
                    help="source address (repeat: used in turn)")
    ap.add_argument("--sport", type=int, default=0,
                    help="source port of the first socket (0: any)")
    ap.add_argument("-t", "--timeout", type=float, default=1.0)
    ap.add_argument("-r", "--retries", type=int, default=3)
    ap.add_argument("-P", "--parallel", type=int, default=20)
    ap.add_argument("-o", "--out")
    a = ap.parse_args()
    try:
        sid = bytes.fromhex(a.sid)
    except ValueError:
        ap.error("--sid: not hex")
    if not 0 <= a.cr <= 7 or not sid or a.count < 1 or a.parallel < 1:
        ap.error("bad --cr, --sid, --count or --parallel")

    srcs = a.src or [""]
    answers = {}
    lost = 0
    todo = list(range(a.count))
    while todo:
        batch, todo = todo[:a.parallel], todo[a.parallel:]
        socks = {}
        for i in batch:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sport = a.sport + i if a.sport else 0
            s.bind((srcs[i % len(srcs)], sport))
            s.setblocking(False)
            if a.form == "short":
                data = short_header(a.cr, sid, a.nonce_len,
                                    a.self_describe)
            else:
                data = long_header()
            socks[s] = [data, 0]
        pending = set(socks)
        for s in pending:
            s.sendto(socks[s][0], (a.vip, a.port))
        deadline = time.monotonic() + a.timeout
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                again = [s for s in pending if socks[s][1] < a.retries]
                for s in pending - set(again):
                    lost += 1
                pending = set(again)
                for s in pending:
                    socks[s][1] += 1
                    s.sendto(socks[s][0], (a.vip, a.port))
                deadline = time.monotonic() + a.timeout
                continue
            ready, _, _ = select.select(list(pending), [], [], left)
            for s in ready:
                try:
                    reply = s.recv(65535)
                except OSError:
                    continue
                name = reply.rsplit(b" ", 1)[-1].decode(errors="replace")
                answers[name] = answers.get(name, 0) + 1
                pending.discard(s)
        for s in socks:
            s.close()
    print("answers %s lost=%d" % (" ".join(
        "%s=%d" % (k, answers[k]) for k in sorted(answers)), lost))
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"answers": answers, "lost": lost}, f)
            f.write("\n")
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
