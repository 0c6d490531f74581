#!/usr/bin/env python3
"""churn.py: new connections as fast as they go, for the netns tests.

Usage: churn.py [-r] ADDRESS PORT SECONDS [CONCURRENCY]

Keeps CONCURRENCY (default 64) connections in flight for SECONDS: each
connects, sends one "GET / HTTP/1.1" with "Connection: close", reads the
answer to the end (the server closes first, so the client's port is free
at once and the kernel hands it out again: with a narrow
ip_local_port_range tuples come back within seconds) and closes.  Without
-r the client never resets a connection: it closes after the server's
FIN, with nothing unread, and the server keeps the tuple in TIME_WAIT.
With -r it then resets the connection (SO_LINGER 0), as many HTTP clients
do: the server forgets the tuple at once, and answers any later segment
on it with a reset of its own.

A connection fails on a reset, a refusal, any other socket error, an
answer that is not "HTTP/1.x 200", or no end within 5 s.  Connections
still open at SECONDS are finished (bounded by that timeout), then one line
is printed:

    done N ok N failed N reset N refused N timeout N other N noport N rate R

noport counts connect() refusals for want of a local port (EADDRNOTAVAIL),
not connections.  Exit status 0.
"""
import errno
import selectors
import socket
import struct
import sys
import time

TIMEOUT = 5.0
REQUEST = b"GET / HTTP/1.1\r\nHost: vip\r\nConnection: close\r\n\r\n"


class Conn:
    """One connection in flight."""

    def __init__(self, sock, started):
        self.sock = sock
        self.started = started
        self.sent = False
        self.data = b""


def main():
    args = sys.argv[1:]
    rst = bool(args) and args[0] == "-r"
    if rst:
        args = args[1:]
    addr, port, seconds = args[0], int(args[1]), float(args[2])
    conc = int(args[3]) if len(args) > 3 else 64
    linger0 = struct.pack("ii", 1, 0)
    sel = selectors.DefaultSelector()
    counts = dict.fromkeys(("done", "ok", "failed", "reset", "refused",
                            "timeout", "other", "noport"), 0)
    start = time.monotonic()
    end = start + seconds

    def finish(c, why):
        sel.unregister(c.sock)
        if rst and why == "ok":
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)
        c.sock.close()
        counts["done"] += 1
        if why == "ok":
            counts["ok"] += 1
        else:
            counts["failed"] += 1
            counts[why] += 1

    def open_one(now):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex((addr, port))
        if rc == errno.EADDRNOTAVAIL:
            s.close()
            counts["noport"] += 1
            return False
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            counts["done"] += 1
            counts["failed"] += 1
            counts["refused" if rc == errno.ECONNREFUSED else "other"] += 1
            return True
        c = Conn(s, now)
        sel.register(s, selectors.EVENT_WRITE, c)
        return True

    def on_event(c, now):
        if not c.sent:
            rc = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if rc != 0:
                finish(c, {errno.ECONNREFUSED: "refused",
                           errno.ECONNRESET: "reset"}.get(rc, "other"))
                return
            try:
                c.sock.send(REQUEST)
            except ConnectionResetError:
                finish(c, "reset")
                return
            except OSError:
                finish(c, "other")
                return
            c.sent = True
            sel.modify(c.sock, selectors.EVENT_READ, c)
            return
        try:
            b = c.sock.recv(65536)
        except ConnectionResetError:
            finish(c, "reset")
            return
        except OSError:
            finish(c, "other")
            return
        if b:
            c.data += b
            return
        finish(c, "ok" if c.data.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200"))
               else "other")

    while True:
        now = time.monotonic()
        if now < end:
            while len(sel.get_map()) < conc:
                if not open_one(now):
                    break
        elif not sel.get_map():
            break
        for key, _ in sel.select(0.05):
            on_event(key.data, time.monotonic())
        now = time.monotonic()
        for key in list(sel.get_map().values()):
            if now - key.data.started > TIMEOUT:
                finish(key.data, "timeout")
    rate = counts["done"] / max(time.monotonic() - start, 0.001)
    print(" ".join("%s %d" % (k, v) for k, v in counts.items()) +
          " rate %.0f" % rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
