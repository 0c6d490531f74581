#!/usr/bin/env python3
"""tuple_hold.py: keep-alive connections from fixed client ports.

    tuple_hold.py SRC DST DPORT STOPFILE MAXS PORT...

opens one HTTP/1.1 keep-alive connection from SRC:PORT to DST:DPORT for
each PORT, sends a GET on each at once and then every 0.2 s, until
STOPFILE exists or MAXS seconds have passed; each answer must come within
2 s from the server that answered the first (the body httpd.py sends is
its name).  Prints "READY" once every first answer is in, then at the end
one line per port: "PORT FIRST_SERVER answers=N failures=N changes=N"
(a failure: no answer, an error or a closed connection; the connection
is not used again).  Exit 0 when every connection had no failure and no
change of server, 1 otherwise.
"""
import os
import socket
import sys
import time


def request(s):
    """One GET on s; the answering server's name, or raise."""
    s.sendall(b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        b = s.recv(65536)
        if not b:
            raise OSError("closed")
        data += b
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        b = s.recv(65536)
        if not b:
            raise OSError("closed")
        body += b
    if head.split()[1] != b"200":
        raise OSError("status " + head.split()[1].decode())
    return body[:length].decode().strip()


def main():
    src, dst, dport, stop, maxs = sys.argv[1:6]
    ports = [int(p) for p in sys.argv[6:]]
    conns = {}
    for p in ports:
        s = socket.socket()
        s.settimeout(2)
        s.bind((src, p))
        s.connect((dst, int(dport)))
        conns[p] = {"s": s, "first": request(s), "answers": 1,
                    "failures": 0, "changes": 0}
    print("READY", flush=True)
    end = time.time() + float(maxs)
    while not os.path.exists(stop) and time.time() < end:
        for p, c in conns.items():
            if c["failures"]:
                continue
            try:
                srv = request(c["s"])
            except OSError:
                c["failures"] += 1
                continue
            c["answers"] += 1
            if srv != c["first"]:
                c["changes"] += 1
        time.sleep(0.2)
    rc = 0
    for p, c in conns.items():
        print("%d %s answers=%d failures=%d changes=%d" % (
            p, c["first"], c["answers"], c["failures"], c["changes"]))
        if c["failures"] or c["changes"]:
            rc = 1
        c["s"].close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
