#!/usr/bin/env python3
"""httpd.py: a tiny HTTP/1.1 server for the netns tests.

Usage: httpd.py [--status-file FILE] NAME [PORT [ADDRESS]]

Answers every GET or HEAD with the body NAME (no newline) and the header
"X-Server: NAME", so a client can tell which server answered.  One thread per
connection, keep-alive unless the client asks for "Connection: close".

Large transfers (path MTU and fragment tests):
  GET /bytes/N   a body of N bytes (N <= 64 MiB), the repeated "0123456789abcdef"
  POST (any)     reads the Content-Length body, answers "LENGTH SHA256HEX"

ADDRESS defaults to 0.0.0.0; an IPv6 ADDRESS such as "::" serves IPv6 and
IPv4 both.

A health endpoint whose answer a test switches (test_health_http.sh):
  --status-file FILE  every answer has the status written in FILE (e.g.
                      "503"), 200 while FILE does not exist; the request
                      line of each GET or HEAD is appended to FILE.log
"""
import hashlib
import http.server
import socket
import sys

BYTES_MAX = 64 << 20


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive by default
    server_version = "ilbd-test-httpd"
    sys_version = ""

    def _status(self):
        """200, or the status in --status-file FILE if it exists."""
        f = self.server.status_file
        if f is None:
            return 200
        with open(f + ".log", "a") as log:
            log.write("%s %s\n" % (self.requestline,
                                   self.headers.get("Host", "-")))
        try:
            with open(f) as fp:
                return int(fp.read().strip() or "200")
        except FileNotFoundError:
            return 200

    def _answer(self, body, data=None):
        if data is None:
            data = self.server.name.encode()
        self.send_response(self._status())
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Server", self.server.name)
        if self.close_connection:
            # Say so: a client that is not told reuses the connection
            # (curl does), and its next request then meets our FIN/RST.
            self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self):
        self._answer(True, self._bytes())

    def _bytes(self):
        """The body of GET /bytes/N, or None for any other path."""
        if not self.path.startswith("/bytes/"):
            return None
        n = self.path[len("/bytes/"):]
        if not n.isdigit() or int(n) > BYTES_MAX:
            return None
        n = int(n)
        return (b"0123456789abcdef" * (n // 16 + 1))[:n]

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        h = hashlib.sha256()
        left = n
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
        got = n - left
        if left:
            self.close_connection = True
        self._answer(True, ("%d %s" % (got, h.hexdigest())).encode())

    def do_HEAD(self):
        self._answer(False)

    def log_message(self, fmt, *args):  # quiet: thousands of requests
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True           # do not wait for clients on exit
    allow_reuse_address = True
    request_queue_size = 512        # the default of 5 drops bursts of SYNs


class Server6(Server):
    """An IPv6 ADDRESS (e.g. "::"): IPv6, and IPv4 too (not V6ONLY)."""
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def main():
    argv = sys.argv[1:]
    status_file = None
    if len(argv) >= 2 and argv[0] == "--status-file":
        status_file = argv[1]
        argv = argv[2:]
    if len(argv) < 1:
        sys.stderr.write("usage: httpd.py [--status-file FILE] NAME "
                         "[PORT [ADDRESS]]\n")
        return 2
    port = int(argv[1]) if len(argv) > 1 else 80
    addr = argv[2] if len(argv) > 2 else "0.0.0.0"
    srv = (Server6 if ":" in addr else Server)((addr, port), Handler)
    srv.name = argv[0]
    srv.status_file = status_file
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
