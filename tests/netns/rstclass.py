#!/usr/bin/env python3
"""rstclass.py: classify the resets a server sent, from its capture.

Usage: rstclass.py PORT FILE.pcap...

Each FILE is one server's capture (libpcap, Ethernet, IPv4) of the TCP
segments with SYN or RST set on its port PORT, as taken by
"tcpdump -w FILE 'tcp port PORT and tcp[tcpflags] & (tcp-syn|tcp-rst) != 0'".

A reset the server sent on a tuple is *excused* when it answers a late
segment of a connection the client itself had reset: the last connection
this server opened on the tuple (its SYN-ACK gives the server's initial
sequence number) was reset by the client before, and the server's reset
lies in that connection's sequence space: Linux resets an unknown
segment with seq = the segment's acknowledgement number, within WINDOW
(4096) of that initial number, as these connections carry a few hundred
bytes.  The window must be that narrow: the servers' namespaces share one
kernel, whose initial sequence numbers for a tuple differ between
servers only by a clock of 64 ns ticks, so the next connection on the
tuple, a fraction of a second later on another server, has a number a
few MB past the first one's.  Such a segment was on its way when the client reset
(a handoff is a longer path than a direct forward); the server could not
have done otherwise, and the ILBs did not mix two connections.

Any other server reset is *unexplained*: a segment of a connection the
server never opened on the tuple (another connection's, sent to the
wrong server), or of a live one.  Prints

    server_rsts N excused N unexplained N

then one line per unexplained reset (at most 10).  Exit status 0.
"""
import struct
import sys

SYN, RST, ACK = 0x02, 0x04, 0x10
WINDOW = 4096


def packets(path):
    """(time, src, sport, dst, dport, flags, seq, ack) of each IPv4 TCP."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
    linktype = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        t = sec + frac / (1e9 if nano else 1e6)
        if linktype == 1:
            if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
                continue
            ip = pkt[14:]
        elif linktype == 113:
            if len(pkt) < 16 or pkt[14:16] != b"\x08\x00":
                continue
            ip = pkt[16:]
        else:
            ip = pkt
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        tcp = ip[ihl:]
        if len(tcp) < 14:
            continue
        sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
        yield (t, ip[12:16], sport, ip[16:20], dport, tcp[13], seq, ack)


def classify(port, path, out):
    """Count one server's resets into out; list the unexplained."""
    conn = {}       # client tuple -> [server ISN or None, reset by client]
    for t, src, sport, dst, dport, fl, seq, _ in packets(path):
        if dport == port:                       # from the client
            key = (src, sport)
            if fl & SYN and not fl & ACK:
                conn[key] = [None, False]
            elif fl & RST and key in conn:
                conn[key][1] = True
        elif sport == port:                     # from the server
            key = (dst, dport)
            if fl & SYN and fl & ACK:
                if key in conn:
                    conn[key][0] = seq
            elif fl & RST:
                out["server_rsts"] += 1
                c = conn.get(key)
                if c and c[0] is not None and c[1] and \
                        (seq - c[0]) % (1 << 32) < WINDOW:
                    out["excused"] += 1
                else:
                    out["unexplained"] += 1
                    if len(out["list"]) < 10:
                        out["list"].append("%s %.6f port %d seq %u: %s" % (
                            path, t, dport, seq,
                            "no connection of this server on the tuple"
                            if not c or c[0] is None else
                            "not reset by the client" if not c[1] else
                            "outside its connection (isn %u)" % c[0]))


def main():
    port = int(sys.argv[1])
    out = {"server_rsts": 0, "excused": 0, "unexplained": 0, "list": []}
    for path in sys.argv[2:]:
        classify(port, path, out)
    print("server_rsts %d excused %d unexplained %d" % (
        out["server_rsts"], out["excused"], out["unexplained"]))
    for line in out["list"]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
