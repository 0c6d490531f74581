#!/usr/bin/env python3
"""dns_query.py: DNS queries through a VIP, each from its own socket and
source port, every answer checked. Python's standard library only.

Usage: dns_query.py [options] SERVER NAME ADDRESS [ADDRESS...]

Sends --queries A queries (AAAA with -6) for NAME to SERVER (IPv4 or
IPv6) port --port, at most --parallel outstanding, each from a new UDP
socket (a new source port). An answer is correct when its ID and
question are the query's, it is a response with RCODE 0, and its answer
section holds exactly one A (AAAA) record, one of the ADDRESSes (a test
gives each server its own address for NAME, so the answers show how the
queries spread). A query unanswered after --timeout seconds is lost;
nothing is sent again. The run ends when every query is answered or
lost, or --duration seconds after the start at the latest.

Prints "dns_query: Q queries, C correct, W wrong, L lost, P source
ports, answers ADDRESS=N ..." and, with --out FILE, the same as JSON
(with the first wrong answers' reasons).

Exit status: 0 if every query got a correct answer (at most --max-lost
lost), 1 otherwise, 2 on a usage error.
"""
import argparse
import ipaddress
import json
import os
import selectors
import socket
import struct
import sys
import time

mono = time.monotonic
T_A, T_AAAA, C_IN = 1, 28, 1


def build_query(qid, name, qtype):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)     # RD
    for label in name.rstrip(".").split("."):
        b = label.encode("ascii")
        if not 0 < len(b) < 64:
            raise ValueError("bad label in %r" % name)
        q += bytes([len(b)]) + b
    return q + b"\0" + struct.pack("!HH", qtype, C_IN)


def read_name(msg, off):
    """A possibly compressed name at off: (lowercase name, offset after)."""
    labels, end, jumps = [], None, 0
    while True:
        if off >= len(msg):
            raise ValueError("name past the end")
        n = msg[off]
        if n & 0xc0 == 0xc0:
            if off + 1 >= len(msg) or jumps > 32:
                raise ValueError("bad compression pointer")
            if end is None:
                end = off + 2
            off = (n & 0x3f) << 8 | msg[off + 1]
            jumps += 1
        elif n & 0xc0:
            raise ValueError("bad label type")
        elif n == 0:
            return (".".join(labels).lower(), end if end is not None
                    else off + 1)
        else:
            if off + 1 + n > len(msg):
                raise ValueError("label past the end")
            labels.append(msg[off + 1:off + 1 + n].decode("ascii",
                                                          "replace"))
            off += 1 + n


def check_answer(msg, qid, name, qtype):
    """The addresses of a correct answer; raises ValueError otherwise."""
    if len(msg) < 12:
        raise ValueError("short message")
    rid, flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", msg[:12])
    if rid != qid:
        raise ValueError("id %d, not %d" % (rid, qid))
    if not flags & 0x8000 or flags & 0x000f:
        raise ValueError("flags 0x%04x (not a response, or RCODE)" % flags)
    if qd != 1:
        raise ValueError("%d questions" % qd)
    qn, off = read_name(msg, 12)
    if off + 4 > len(msg):
        raise ValueError("question past the end")
    t, c = struct.unpack("!HH", msg[off:off + 4])
    if qn != name.rstrip(".").lower() or t != qtype or c != C_IN:
        raise ValueError("question %s/%d/%d" % (qn, t, c))
    off += 4
    addrs = []
    for _ in range(an):
        _rn, off = read_name(msg, off)
        if off + 10 > len(msg):
            raise ValueError("record past the end")
        t, c, _ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        if off + rdlen > len(msg):
            raise ValueError("rdata past the end")
        if t == qtype and c == C_IN:
            addrs.append(str(ipaddress.ip_address(msg[off:off + rdlen])))
        off += rdlen
    if len(addrs) != 1:
        raise ValueError("%d address records" % len(addrs))
    return addrs[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("server")
    ap.add_argument("name")
    ap.add_argument("expect", nargs="+")
    ap.add_argument("-p", "--port", type=int, default=53)
    ap.add_argument("-q", "--queries", type=int, default=100)
    ap.add_argument("-P", "--parallel", type=int, default=20)
    ap.add_argument("-t", "--timeout", type=float, default=2.0)
    ap.add_argument("-d", "--duration", type=float, default=60.0)
    ap.add_argument("-6", dest="aaaa", action="store_true")
    ap.add_argument("--max-lost", type=int, default=0)
    ap.add_argument("-o", "--out")
    a = ap.parse_args()
    if not (0 < a.queries <= 100000 and 0 < a.parallel <= 500 and
            0 < a.port < 65536 and 0 < a.timeout <= 30 and
            0 < a.duration <= 3600):
        ap.error("a value out of range")
    try:
        expect = {str(ipaddress.ip_address(x)) for x in a.expect}
        build_query(0, a.name, T_A)
    except ValueError as e:
        ap.error(str(e))
    qtype = T_AAAA if a.aaaa else T_A
    family = socket.AF_INET6 if ":" in a.server else socket.AF_INET

    sel = selectors.DefaultSelector()
    start = mono()
    end = start + a.duration
    sent = correct = lost = 0
    wrong = []
    answers = {}
    ports = set()
    inflight = {}           # socket -> (qid, deadline)
    while (sent < a.queries or inflight) and mono() < end:
        while sent < a.queries and len(inflight) < a.parallel:
            s = socket.socket(family, socket.SOCK_DGRAM)
            s.setblocking(False)
            s.connect((a.server, a.port))
            qid = int.from_bytes(os.urandom(2), "big")
            try:
                s.send(build_query(qid, a.name, qtype))
            except OSError:
                pass        # lost at its deadline
            ports.add(s.getsockname()[1])
            inflight[s] = (qid, mono() + a.timeout)
            sel.register(s, selectors.EVENT_READ)
            sent += 1
        first = min(d for _, d in inflight.values())
        ready = sel.select(timeout=max(0.0, min(first, end) - mono()))
        for key, _ in ready:
            s = key.fileobj
            qid, _d = inflight[s]
            try:
                msg = s.recv(4096)
            except OSError as e:
                msg = None
                wrong.append("recv: %s" % e)
            if msg is not None:
                try:
                    addr = check_answer(msg, qid, a.name, qtype)
                    if addr not in expect:
                        raise ValueError("address %s not expected" % addr)
                    answers[addr] = answers.get(addr, 0) + 1
                    correct += 1
                except ValueError as e:
                    wrong.append(str(e))
            sel.unregister(s)
            s.close()
            del inflight[s]
        now = mono()
        for s in [s for s, (_, d) in inflight.items() if d <= now]:
            lost += 1
            sel.unregister(s)
            s.close()
            del inflight[s]
    lost += len(inflight) + (a.queries - sent)
    for s in inflight:
        s.close()
    line = ("dns_query: %d queries, %d correct, %d wrong, %d lost, "
            "%d source ports, answers %s" %
            (a.queries, correct, len(wrong), lost, len(ports),
             " ".join("%s=%d" % kv for kv in sorted(answers.items()))
             or "-"))
    print(line)
    if a.out:
        with open(a.out, "w") as fp:
            json.dump({"queries": a.queries, "correct": correct,
                       "wrong": len(wrong), "lost": lost,
                       "ports": len(ports), "answers": answers,
                       "first_wrong": wrong[:10]}, fp)
            fp.write("\n")
    ok = not wrong and lost <= a.max_lost and \
        correct + lost == a.queries
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
