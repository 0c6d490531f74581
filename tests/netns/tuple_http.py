#!/usr/bin/env python3
"""tuple_http.py: one HTTP GET from a fixed client address and port.

    tuple_http.py SRC SPORT DST DPORT TIMEOUT

prints the answering server's name (the body tests/netns/httpd.py sends)
and the HTTP status.  The client reads until the server closes and only
then closes, so it never holds the tuple in TIME_WAIT and can use it again
at once.  get() is also imported by scripts that keep the socket (lib.sh's
tuple_get, test_late_end.sh).
"""
import socket
import sys


def get(src, sport, dst, dport, timeout, path="/reuse"):
    """GET path from src:sport with "Connection: close", read until the
    server closes; return the socket, still open, and "server status"."""
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((src, sport))
    s.connect((dst, dport))
    s.sendall(b"GET " + path.encode() +
              b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    head, _, body = data.partition(b"\r\n\r\n")
    return s, (body.decode() or "-") + " " + head.split()[1].decode()


if __name__ == "__main__":
    src, sport, dst, dport, tmo = sys.argv[1:6]
    sock, answer = get(src, int(sport), dst, int(dport), float(tmo))
    sock.close()
    print(answer)
