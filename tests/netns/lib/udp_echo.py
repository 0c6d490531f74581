#!/usr/bin/env python3
"""udp_echo.py: the UDP server of the UDP netns tests: answers each
datagram with its first line and the server's name.

Usage: udp_echo.py [options] NAME PORT

Listens on PORT of every address, IPv4 and IPv6 (--bind: only those
given). A datagram "U FLOW SEQ[\\n padding]" (udp_flows.py) is answered
with "U FLOW SEQ NAME"; any other datagram with its first line (at most
200 bytes), a space and NAME. The answer leaves from the address the
datagram was sent to (IP_PKTINFO / IPV6_PKTINFO), the VIP when a load
balancer forwarded it to a VIP this host holds, whichever address the
route to the client would pick otherwise.

Bounded: stops on SIGTERM or SIGINT, or after --duration seconds
(default 900). At exit a JSON line goes to --out (default stderr):
datagrams answered, distinct client address:port pairs, errors.

Exit status: 0; 1 if no socket could be opened; 2 on a usage error.
"""
import argparse
import json
import selectors
import signal
import socket
import struct
import sys
import time

IP_PKTINFO = 8          # linux/in.h; the socket module lacks it
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)
LINE_MAX = 200
stopping = False


def on_signal(_sig, _frm):
    global stopping
    stopping = True


def open_socket(family, addr, port):
    """A UDP socket on addr:port that reports each datagram's destination."""
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
    else:
        s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.bind((addr, port))
    s.setblocking(False)
    return s


def reply_cmsg(family, ancdata):
    """The control message that makes the answer leave from the address
    the datagram came to (no interface: the route decides)."""
    for level, ctype, data in ancdata:
        if family == socket.AF_INET and level == socket.IPPROTO_IP and \
                ctype == IP_PKTINFO and len(data) >= 12:
            # struct in_pktinfo: ifindex, spec_dst, addr
            return [(level, ctype, struct.pack("=i4s4s", 0, data[8:12],
                                               b"\0" * 4))]
        if family == socket.AF_INET6 and level == socket.IPPROTO_IPV6 and \
                ctype == IPV6_PKTINFO and len(data) >= 20:
            # struct in6_pktinfo: addr, ifindex
            return [(level, ctype, struct.pack("=16si", data[:16], 0))]
    return []


def answer(data, name):
    line = data.split(b"\n", 1)[0][:LINE_MAX]
    return line + b" " + name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("name")
    ap.add_argument("port", type=int)
    ap.add_argument("-b", "--bind", action="append", default=[],
                    help="address to listen on (repeat; default: all)")
    ap.add_argument("-d", "--duration", type=float, default=900.0)
    ap.add_argument("-o", "--out", help="JSON summary file (default stderr)")
    a = ap.parse_args()
    name = a.name.encode()
    if not 0 < a.port < 65536 or b" " in name or not name:
        ap.error("bad port or name")

    binds = a.bind or ["0.0.0.0", "::"]
    sel = selectors.DefaultSelector()
    for addr in binds:
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        try:
            s = open_socket(fam, addr, a.port)
        except OSError as e:
            print("udp_echo: %s port %d: %s" % (addr, a.port, e),
                  file=sys.stderr)
            continue
        sel.register(s, selectors.EVENT_READ, fam)
    if not sel.get_map():
        return 1
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    answered = errors = 0
    clients = set()
    end = time.monotonic() + a.duration
    while not stopping and time.monotonic() < end:
        for key, _ in sel.select(timeout=min(0.5, max(0.0,
                                 end - time.monotonic()))):
            s, fam = key.fileobj, key.data
            for _ in range(64):     # a burst, then look at the clock
                try:
                    data, anc, _fl, peer = s.recvmsg(65535, 256)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    errors += 1
                    break
                try:
                    s.sendmsg([answer(data, name)], reply_cmsg(fam, anc),
                              0, peer)
                    answered += 1
                    clients.add(peer[:2])
                except OSError:
                    errors += 1
    summary = json.dumps({"name": a.name, "answered": answered,
                          "clients": len(clients), "errors": errors})
    if a.out:
        with open(a.out, "w") as f:
            f.write(summary + "\n")
    else:
        print(summary, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
