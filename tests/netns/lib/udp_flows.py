#!/usr/bin/env python3
"""udp_flows.py: long-lived UDP flows through a VIP, each from its own
source port, every answer checked.

Usage: udp_flows.py [options] ADDRESS PORT

Opens N flows (UDP sockets, distinct source ports: --sport-base P binds
P..P+N-1, else the kernel's) to ADDRESS:PORT, IPv4 or IPv6. Flow F sends
"U F SEQ\\n" (padded to --size bytes) every --interval ms, SEQ 0, 1, 2...,
the flows spread over the interval. udp_echo.py answers "U F SEQ NAME";
each answer is checked: this flow, a SEQ it sent, not seen before. NAME
is the server: a flow should see one server for its whole life.

Sending stops after --count datagrams per flow, --duration seconds, or
SIGUSR1, whichever comes first; answers are then awaited for --timeout
seconds. Whatever happens the program ends --duration + --timeout + 5
seconds after its start. When every flow has had its first answer,
"READY ok pending seconds" is written to --ready (and stderr).

Printed, one line per flow:
    flow F sport P servers NAME[,NAME...] sent S answered A lost L
        max_gap_ms G switches W bad B
(lost: sent but never answered; max_gap_ms: the longest time between two
answers, or from the last answer to the end of sending when what followed
it was lost; switches: changes of server between successive answers;
bad: malformed, foreign or duplicate answers), then a total line
"udp_flows: N flows, N ok, N failed, lost L, max_gap_ms G,
late_ms L, servers NAME=flows..." (late_ms: the most a datagram left
after its time, this program's own stalls, which a gap includes).
--out FILE also writes all of it as JSON.

A flow is ok when it got an answer, saw one server, no bad answer and
lost at most --max-lost datagrams. Exit status: 0 if every flow is ok,
1 otherwise, 2 on a usage error.
"""
import argparse
import heapq
import json
import selectors
import signal
import socket
import sys
import time

mono = time.monotonic
stop_sending = False


def on_usr1(_sig, _frm):
    global stop_sending
    stop_sending = True


class Flow:
    __slots__ = ("idx", "sock", "sport", "sent", "got", "answered", "bad",
                 "servers", "last_server", "switches", "last_answer",
                 "max_gap", "max_seq_answered", "first_answer")

    def __init__(self, idx, sock):
        self.idx = idx
        self.sock = sock
        self.sport = sock.getsockname()[1]
        self.sent = 0               # next SEQ
        self.got = bytearray()      # 1 per SEQ answered
        self.answered = 0
        self.bad = 0
        self.servers = {}           # name -> answers
        self.last_server = None
        self.switches = 0
        self.last_answer = None     # mono() of the latest answer
        self.max_gap = 0.0
        self.max_seq_answered = -1
        self.first_answer = None

    def on_answer(self, data, now):
        """Check one datagram; count it."""
        parts = data.split(b" ")
        try:
            if len(parts) != 4 or parts[0] != b"U" or \
                    int(parts[1]) != self.idx:
                raise ValueError
            seq = int(parts[2])
            name = parts[3].decode("ascii", "replace")
        except ValueError:
            self.bad += 1
            return
        if not 0 <= seq < self.sent or self.got[seq]:
            self.bad += 1
            return
        self.got[seq] = 1
        self.answered += 1
        self.max_seq_answered = max(self.max_seq_answered, seq)
        if self.last_answer is not None:
            self.max_gap = max(self.max_gap, now - self.last_answer)
        else:
            self.first_answer = now
        self.last_answer = now
        self.servers[name] = self.servers.get(name, 0) + 1
        if self.last_server is not None and name != self.last_server:
            self.switches += 1
        self.last_server = name

    def finish(self, send_end):
        """The trailing gap: answers lost after the last one received."""
        if self.last_answer is not None and \
                self.max_seq_answered < self.sent - 1:
            self.max_gap = max(self.max_gap, send_end - self.last_answer)

    def ok(self, max_lost):
        return (self.answered > 0 and len(self.servers) == 1 and
                self.bad == 0 and self.sent - self.answered <= max_lost)

    def report(self):
        return {"flow": self.idx, "sport": self.sport,
                "servers": self.servers, "sent": self.sent,
                "answered": self.answered,
                "lost": self.sent - self.answered,
                "max_gap_ms": round(self.max_gap * 1000),
                "switches": self.switches, "bad": self.bad}


def open_flows(a, family):
    flows = []
    for i in range(a.flows):
        s = socket.socket(family, socket.SOCK_DGRAM)
        if a.sport_base:
            s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0",
                    a.sport_base + i))
        s.connect((a.address, a.port))
        s.setblocking(False)
        flows.append(Flow(i, s))
    return flows


def payload(flow, seq, size):
    p = b"U %d %d\n" % (flow, seq)
    return p + b"." * max(0, size - len(p))


def run(a, flows, ready_path):
    """Send on schedule and read answers until the end."""
    sel = selectors.DefaultSelector()
    for f in flows:
        sel.register(f.sock, selectors.EVENT_READ, f)
    start = mono()
    hard_end = start + a.duration + a.timeout + 5
    send_end = start + a.duration
    ival = a.interval / 1000.0
    sched = [(start + ival * i / len(flows), i) for i in range(len(flows))]
    heapq.heapify(sched)
    ready_done = False
    sending_over = None
    late = 0.0                  # the latest a datagram left, vs schedule
    while True:
        now = mono()
        if sending_over is None and (stop_sending or now >= send_end or
                                     not sched):
            sending_over = now
        if sending_over is not None and (now >= sending_over + a.timeout or
                                         all(f.answered == f.sent
                                             for f in flows)):
            break
        if now >= hard_end:
            break
        while sending_over is None and sched and sched[0][0] <= now:
            t, i = heapq.heappop(sched)
            f = flows[i]
            late = max(late, now - t)
            try:
                f.sock.send(payload(i, f.sent, a.size))
            except OSError:
                pass            # counted as lost: no answer will come
            f.sent += 1
            f.got.append(0)
            if f.sent < a.count:
                # On schedule, not drifting; a late loop skips no SEQ.
                heapq.heappush(sched, (max(t + ival, now), i))
        wake = sched[0][0] if sched and sending_over is None else now + 0.1
        for key, _ in sel.select(timeout=max(0.0, min(wake, hard_end) -
                                             mono())):
            f = key.data
            for _ in range(64):
                try:
                    data = f.sock.recv(2048)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break       # e.g. ICMP port unreachable: lost
                f.on_answer(data, mono())
        if not ready_done and all(f.answered for f in flows):
            ready_done = True
            line = "READY %d %d %.3f" % (len(flows), 0, mono() - start)
            print(line, file=sys.stderr)
            if ready_path:
                with open(ready_path, "w") as fp:
                    fp.write(line + "\n")
    return (sending_over if sending_over is not None else mono()), late


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("address")
    ap.add_argument("port", type=int)
    ap.add_argument("-n", "--flows", type=int, default=20)
    ap.add_argument("-i", "--interval", type=float, default=100.0,
                    help="ms between two datagrams of a flow")
    ap.add_argument("-c", "--count", type=int, default=100000,
                    help="datagrams per flow at most")
    ap.add_argument("-d", "--duration", type=float, default=10.0)
    ap.add_argument("-t", "--timeout", type=float, default=2.0)
    ap.add_argument("-s", "--size", type=int, default=0)
    ap.add_argument("--sport-base", type=int, default=0)
    ap.add_argument("--max-lost", type=int, default=0)
    ap.add_argument("--ready")
    ap.add_argument("-o", "--out", help="JSON report file")
    a = ap.parse_args()
    if not (0 < a.flows <= 4096 and 0 < a.port < 65536 and
            a.interval >= 1 and 0 < a.count <= 1000000 and
            0 < a.duration <= 3600 and 0 < a.timeout <= 60 and
            0 <= a.size <= 1400 and
            (a.sport_base == 0 or 0 < a.sport_base <= 65536 - a.flows)):
        ap.error("a value out of range")
    family = socket.AF_INET6 if ":" in a.address else socket.AF_INET
    signal.signal(signal.SIGUSR1, on_usr1)
    try:
        flows = open_flows(a, family)
    except OSError as e:
        print("udp_flows: %s" % e, file=sys.stderr)
        return 2
    send_end, late = run(a, flows, a.ready)

    per_server = {}
    nok = 0
    for f in flows:
        f.finish(send_end)
        if f.ok(a.max_lost):
            nok += 1
        for name in f.servers:
            per_server[name] = per_server.get(name, 0) + 1
        r = f.report()
        print("flow %d sport %d servers %s sent %d answered %d lost %d "
              "max_gap_ms %d switches %d bad %d" %
              (r["flow"], r["sport"], ",".join(sorted(f.servers)) or "-",
               r["sent"], r["answered"], r["lost"], r["max_gap_ms"],
               r["switches"], r["bad"]))
    lost = sum(f.sent - f.answered for f in flows)
    gap = max(round(f.max_gap * 1000) for f in flows)
    print("udp_flows: %d flows, %d ok, %d failed, lost %d, max_gap_ms %d, "
          "late_ms %d, servers %s" %
          (len(flows), nok, len(flows) - nok, lost, gap, round(late * 1000),
           " ".join("%s=%d" % kv for kv in sorted(per_server.items()))
           or "-"))
    if a.out:
        with open(a.out, "w") as fp:
            json.dump({"flows": len(flows), "ok": nok,
                       "failed": len(flows) - nok, "lost": lost,
                       "max_gap_ms": gap, "late_ms": round(late * 1000),
                       "servers": per_server,
                       "per_flow": [f.report() for f in flows]}, fp)
            fp.write("\n")
    return 0 if nok == len(flows) else 1


if __name__ == "__main__":
    sys.exit(main())
