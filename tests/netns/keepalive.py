#!/usr/bin/env python3
"""keepalive.py: long-lived HTTP/1.1 keep-alive connections through the VIP.

Usage: keepalive.py [options] ADDRESS

ADDRESS is IPv4 or IPv6 (then the Host header is "[ADDRESS]").

Opens C connections to ADDRESS:PORT gradually (over --ramp seconds); on
each one sends "GET /ka/I/N" at least every --interval seconds (the next
request goes out as soon as the previous answer is in and the interval has
passed since the previous request) and checks every answer: status 200, a
non-empty body naming a server, X-Server the same, and the SAME server for
the whole life of the connection.  Nothing is ever re-established: an error,
a reset, an EOF, a malformed or wrong answer, a change of server, or no
answer within --timeout seconds fails the connection, which is closed and
counted (with the reason) and never reopened.

When every connection has got its first answer (or failed), "READY ok failed
seconds" is written to --ready (and to stderr).  Requests stop --duration
seconds after the start, or as soon as SIGUSR1 arrives (a test starts the
load with a --duration that only catches a hang and stops it when the event
under test is over); outstanding answers are then awaited (--timeout at
most); whatever happens the program stops --duration + 10 seconds after the
start, or --timeout + 5 seconds after SIGUSR1 (an answer still outstanding
then is unanswered).

With --idle a connection makes one request when it opens and then stays
idle: each SIGUSR2 makes every live connection send one more request
(checked as any other); the test then stops the load with SIGUSR1, which
awaits those answers.

At the end a JSON summary goes to --out (default stdout): connections
ok/failed, requests sent/answered/unanswered, per-server connections and
answers, latency (max, p50, p99), the largest gap between two answers on one
connection, failures by reason and the first failures in detail.

Exit status: 0 only if every connection lived to the end and no request went
unanswered; 1 otherwise; 2 on a usage error.

One process, non-blocking sockets and selectors (300 connections x 10
requests/s = 3,000 requests/s is well within one Python process).
"""
import argparse
import errno
import heapq
import json
import os
import resource
import selectors
import signal
import socket
import sys
import time

mono = time.monotonic

CONNECTING, IDLE, WAITING, FAILED, CLOSED = range(5)


class Conn:
    __slots__ = ("idx", "sock", "state", "server", "port", "buf", "out",
                 "sent_at", "last_sent", "last_answer", "nreq", "nans",
                 "opened_at", "max_gap", "established")

    def __init__(self, idx):
        self.idx = idx
        self.sock = None
        self.state = CONNECTING
        self.server = None
        self.port = 0
        self.buf = b""
        self.out = b""
        self.sent_at = 0.0          # send time of the outstanding request
        self.last_sent = 0.0
        self.last_answer = 0.0
        self.nreq = 0
        self.nans = 0
        self.opened_at = 0.0
        self.max_gap = 0.0
        self.established = False    # first answer received


class Client:
    def __init__(self, args):
        self.a = args
        self.sel = selectors.DefaultSelector()
        self.conns = [Conn(i) for i in range(args.connections)]
        self.timers = []            # (time, seq, conn index)
        self.tseq = 0
        self.sent = 0
        self.answered = 0
        self.unanswered = 0
        self.latencies = []
        self.max_latency = 0.0
        self.servers = {}           # name -> {"connections": n, "answers": n}
        self.failures = []
        self.by_reason = {}
        self.ready_at = None
        self.opened = 0
        self.stopping = False
        self.stop_asked = False     # SIGUSR1
        self.pokes_asked = 0        # SIGUSR2 (--idle)
        self.pokes = 0              # of them carried out
        self.host = args.host or (
            "[%s]" % args.address if ":" in args.address else args.address)
        self.family = (socket.AF_INET6 if ":" in args.address
                       else socket.AF_INET)

    # -- bookkeeping ---------------------------------------------------
    def rel(self, t):
        return round(t - self.t0, 3)

    def fail(self, c, reason, now):
        if c.state in (FAILED, CLOSED):
            return
        if c.state == WAITING or (c.state == CONNECTING and c.out):
            self.unanswered += 1
        c.state = FAILED
        kind = reason.split(":")[0]
        self.by_reason[kind] = self.by_reason.get(kind, 0) + 1
        if len(self.failures) < self.a.max_failures:
            self.failures.append({
                "conn": c.idx, "local_port": c.port, "server": c.server,
                "reason": reason, "t": self.rel(now),
                "t_since_ready": (round(now - self.ready_at, 3)
                                  if self.ready_at is not None else None),
                "requests": c.nreq, "answers": c.nans,
                "last_answer_t": self.rel(c.last_answer) if c.nans else None,
            })
        self.close(c)
        c.state = FAILED

    def close(self, c):
        if c.sock is not None:
            try:
                self.sel.unregister(c.sock)
            except (KeyError, ValueError):
                pass
            try:
                c.sock.close()
            except OSError:
                pass
            c.sock = None

    def timer(self, when, c):
        self.tseq += 1
        heapq.heappush(self.timers, (when, self.tseq, c.idx))

    # -- connections ---------------------------------------------------
    def open(self, c, now):
        s = socket.socket(self.family, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sock = s
        c.opened_at = now
        c.sent_at = now             # the connect timeout runs from here
        rc = s.connect_ex((self.a.address, self.a.port))
        if rc not in (0, errno.EINPROGRESS):
            self.fail(c, "connect: " + os.strerror(rc), now)
            return
        try:
            c.port = s.getsockname()[1]
        except OSError:
            pass
        self.sel.register(s, selectors.EVENT_WRITE, c)

    def on_connected(self, c, now):
        err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self.fail(c, "connect: " + os.strerror(err), now)
            return
        c.port = c.sock.getsockname()[1]
        c.state = IDLE
        self.sel.modify(c.sock, selectors.EVENT_READ, c)
        self.send(c, now)

    def send(self, c, now):
        if c.state != IDLE:
            return
        c.nreq += 1
        req = ("GET /ka/%d/%d HTTP/1.1\r\nHost: %s\r\n"
               "User-Agent: keepalive.py\r\n\r\n" % (c.idx, c.nreq, self.host))
        c.out = req.encode()
        c.state = WAITING
        c.sent_at = now
        c.last_sent = now
        self.sent += 1
        self.flush(c, now)

    def flush(self, c, now):
        try:
            n = c.sock.send(c.out)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError as e:
            self.fail(c, "send: " + (e.strerror or str(e)), now)
            return
        c.out = c.out[n:]
        ev = selectors.EVENT_READ | (selectors.EVENT_WRITE if c.out else 0)
        self.sel.modify(c.sock, ev, c)

    def on_read(self, c, now):
        try:
            data = c.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionResetError:
            self.fail(c, "reset", now)
            return
        except OSError as e:
            self.fail(c, "recv: " + (e.strerror or str(e)), now)
            return
        if not data:
            self.fail(c, "eof" + (" (request outstanding)"
                                  if c.state == WAITING else ""), now)
            return
        if c.state != WAITING:
            self.fail(c, "unsolicited data", now)
            return
        c.buf += data
        self.parse(c, now)

    def parse(self, c, now):
        end = c.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(c.buf) > 16384:
                self.fail(c, "bad answer: header too long", now)
            return
        head = c.buf[:end].decode("latin-1").split("\r\n")
        status = head[0].split(" ", 2)
        if len(status) < 2 or not status[0].startswith("HTTP/1."):
            self.fail(c, "bad answer: status line %r" % head[0][:60], now)
            return
        hdr = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            hdr[k.strip().lower()] = v.strip()
        try:
            length = int(hdr.get("content-length", ""))
        except ValueError:
            self.fail(c, "bad answer: no content-length", now)
            return
        if len(c.buf) < end + 4 + length:
            return                  # the body is not all in yet
        body = c.buf[end + 4:end + 4 + length].decode("latin-1")
        rest = c.buf[end + 4 + length:]
        c.buf = b""
        if rest:
            self.fail(c, "bad answer: trailing data", now)
            return
        if status[1] != "200":
            self.fail(c, "status: %s" % status[1], now)
            return
        if not body or hdr.get("x-server", body) != body:
            self.fail(c, "bad answer: body %r x-server %r" %
                      (body[:40], hdr.get("x-server")), now)
            return
        if c.server is None:
            c.server = body
            self.servers.setdefault(body, {"connections": 0, "answers": 0})
            self.servers[body]["connections"] += 1
        elif body != c.server:
            self.fail(c, "server changed: %s -> %s" % (c.server, body), now)
            return
        lat = now - c.sent_at
        self.latencies.append(lat)
        self.max_latency = max(self.max_latency, lat)
        if c.nans:
            c.max_gap = max(c.max_gap, now - c.last_answer)
        c.nans += 1
        c.last_answer = now
        self.answered += 1
        self.servers[body]["answers"] += 1
        c.established = True
        c.state = IDLE
        if hdr.get("connection", "").lower() == "close":
            self.fail(c, "server closes the connection", now)
            return
        if not self.stopping and not self.a.idle:
            self.timer(max(now, c.last_sent + self.a.interval), c)

    # -- the loop --------------------------------------------------------
    def sweep(self, now):
        for c in self.conns:
            if c.state == CONNECTING and c.sock is not None:
                if now - c.opened_at > self.a.timeout:
                    self.fail(c, "connect: timeout", now)
            elif c.state == WAITING and now - c.sent_at > self.a.timeout:
                self.fail(c, "timeout: no answer in %g s" % self.a.timeout, now)

    def check_ready(self, now):
        if self.ready_at is not None or self.opened < len(self.conns):
            return
        if any(not c.established and c.state != FAILED for c in self.conns):
            return
        self.ready_at = now
        ok = sum(1 for c in self.conns if c.state != FAILED)
        line = "READY %d %d %.3f\n" % (ok, len(self.conns) - ok, now - self.t0)
        if self.a.ready:
            with open(self.a.ready + ".tmp", "w") as f:
                f.write(line)
            os.rename(self.a.ready + ".tmp", self.a.ready)
        sys.stderr.write(line)
        sys.stderr.flush()

    def live(self):
        return [c for c in self.conns if c.state not in (FAILED, CLOSED)]

    def run(self):
        a = self.a
        self.t0 = t0 = mono()
        t_end = t0 + a.duration
        hard = t0 + a.duration + 10
        next_sweep = t0
        n = len(self.conns)
        while True:
            now = mono()
            if now >= hard:
                break
            # ramp: connection i opens at t0 + ramp * i / n
            while self.opened < n and (
                    now >= t0 + a.ramp * self.opened / n):
                self.open(self.conns[self.opened], now)
                self.opened += 1
            # --idle: a SIGUSR2 (before any SIGUSR1 that followed it)
            # sends one request on every live, idle connection
            while self.pokes < self.pokes_asked and not self.stopping:
                self.pokes += 1
                for c in self.conns:
                    if c.state == IDLE and c.sock is not None:
                        self.send(c, now)
            if not self.stopping and (now >= t_end or self.stop_asked):
                self.stopping = True
                self.timers = []
                hard = min(hard, now + a.timeout + 5)
            if self.stopping and not any(
                    c.state in (WAITING, CONNECTING) for c in self.conns):
                break
            wait = 0.02
            if self.timers:
                wait = min(wait, max(0.0, self.timers[0][0] - now))
            for key, mask in self.sel.select(wait):
                c = key.data
                now = mono()
                if c.sock is None:
                    continue
                if c.state == CONNECTING:
                    if mask & (selectors.EVENT_WRITE | selectors.EVENT_READ):
                        self.on_connected(c, now)
                    continue
                if mask & selectors.EVENT_READ:
                    self.on_read(c, now)
                if c.sock is not None and mask & selectors.EVENT_WRITE and c.out:
                    self.flush(c, now)
            now = mono()
            while self.timers and self.timers[0][0] <= now:
                _, _, i = heapq.heappop(self.timers)
                c = self.conns[i]
                if c.state == IDLE and c.sock is not None:
                    self.send(c, now)
            if now >= next_sweep:
                self.sweep(now)
                self.check_ready(now)
                next_sweep = now + 0.05
        now = mono()
        for c in self.conns:
            if c.state == WAITING:
                self.unanswered += 1
                c.state = CLOSED
                kind = "unanswered at the hard deadline"
                self.by_reason[kind] = self.by_reason.get(kind, 0) + 1
            elif c.state == CONNECTING:
                self.fail(c, "connect: still connecting at the end", now)
            self.close(c)
        return now - t0

    def summary(self, elapsed):
        lat = sorted(self.latencies)

        def pct(p):
            if not lat:
                return None
            return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 2)
        failed = sum(1 for c in self.conns if c.state == FAILED)
        return {
            "connections": len(self.conns),
            "connections_ok": len(self.conns) - failed,
            "connections_failed": failed,
            "requests_sent": self.sent,
            "requests_answered": self.answered,
            "requests_unanswered": self.unanswered,
            "servers": self.servers,
            "latency_ms": {"max": round(1000 * self.max_latency, 2),
                           "p50": pct(0.50), "p99": pct(0.99)},
            "max_gap_ms": round(1000 * max(
                [c.max_gap for c in self.conns] or [0]), 2),
            "ready_s": (round(self.ready_at - self.t0, 3)
                        if self.ready_at is not None else None),
            "elapsed_s": round(elapsed, 3),
            "pokes": self.pokes,
            "failures_by_reason": self.by_reason,
            "failures": self.failures,
        }


def main():
    p = argparse.ArgumentParser(
        description="long-lived HTTP keep-alive connections, checked")
    p.add_argument("address")
    p.add_argument("-p", "--port", type=int, default=80)
    p.add_argument("-c", "--connections", type=int, default=300)
    p.add_argument("-d", "--duration", type=float, default=20.0,
                   help="seconds from the start until requests stop "
                   "(SIGUSR1 stops them earlier)")
    p.add_argument("-i", "--interval", type=float, default=0.1)
    p.add_argument("-t", "--timeout", type=float, default=5.0)
    p.add_argument("-r", "--ramp", type=float, default=2.0)
    p.add_argument("--ready", help="file that gets the READY line")
    p.add_argument("--out", help="file for the JSON summary (default stdout)")
    p.add_argument("--host", help="Host header (default: the address)")
    p.add_argument("--idle", action="store_true",
                   help="one request per connection, then one more on "
                   "each SIGUSR2")
    p.add_argument("--max-failures", type=int, default=20,
                   help="failures listed in detail")
    a = p.parse_args()
    if a.connections < 1 or a.duration <= 0 or a.interval <= 0 or \
            a.timeout <= 0 or a.ramp < 0:
        p.error("counts and times must be positive")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.connections + 64
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
        except (ValueError, OSError):
            pass
    cl = Client(a)

    def on_usr1(_sig, _frame):
        cl.stop_asked = True
    signal.signal(signal.SIGUSR1, on_usr1)

    def on_usr2(_sig, _frame):
        cl.pokes_asked += 1
    signal.signal(signal.SIGUSR2, on_usr2)
    try:
        elapsed = cl.run()
    except KeyboardInterrupt:
        elapsed = mono() - cl.t0
        cl.by_reason["interrupted"] = 1
        for c in cl.conns:
            if c.state not in (FAILED, CLOSED):
                cl.fail(c, "interrupted", mono())
    s = cl.summary(elapsed)
    text = json.dumps(s, indent=1, sort_keys=True) + "\n"
    if a.out:
        with open(a.out + ".tmp", "w") as f:
            f.write(text)
        os.rename(a.out + ".tmp", a.out)
    else:
        sys.stdout.write(text)
    good = (s["connections_failed"] == 0 and s["requests_unanswered"] == 0
            and s["requests_answered"] > 0)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
