#!/usr/bin/env python3
"""NBD clients for the connection benchmarks (bench/connections.sh).

  nbd_clients.py PORT EXPORT N   opens N connections (to 127.0.0.1:PORT, or to the Unix socket
                                 PORT names if it is a path), negotiates each into transmission (fixed
                                 newstyle, NBD_OPT_GO) and prints "connected N SECONDS"; then for
                                 each line "read" on stdin makes one 4 KiB read on every
                                 connection, which must be answered (an idle connection still
                                 serves), and prints "read N"; for "big", a 256 KiB read and
                                 the same bytes written back on each, and prints "big N"
                                 (a connection that was busy); at the end of stdin sends
                                 NBD_CMD_DISC on each and exits

Plain sockets and the wire format from the NBD protocol; no library, so the client costs little
and the figures are the server's.
"""
import resource
import socket
import struct
import sys
import time

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REPLY_MAGIC = 0x3E889045565A9
OPT_GO = 7
REP_ACK = 1
FLAG_FIXED_NEWSTYLE = 1
FLAG_NO_ZEROES = 2
REQUEST_MAGIC = 0x25609513
SIMPLE_REPLY_MAGIC = 0x67446698
CMD_READ = 0
CMD_WRITE = 1
CMD_DISC = 2
BIG = 256 * 1024


def recv_exact(s, n):
    data = bytearray()
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError("server closed the connection")
        data += chunk
    return bytes(data)


def connect(where, export):
    """Connects to a loopback TCP port (an int or its digits) or a Unix socket's path."""
    where = str(where)
    if where.isdigit():
        s = socket.create_connection(("127.0.0.1", int(where)), timeout=30)
    else:  # a Unix socket's path
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(30)
        s.connect(where)
    magic, opt, _flags = struct.unpack(">QQH", recv_exact(s, 18))
    if magic != NBDMAGIC or opt != IHAVEOPT:
        raise SystemExit("not an NBD newstyle server")
    s.sendall(struct.pack(">I", FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES))
    name = export.encode()
    data = struct.pack(">I", len(name)) + name + struct.pack(">H", 0)
    s.sendall(struct.pack(">QII", IHAVEOPT, OPT_GO, len(data)) + data)
    while True:
        magic, _opt, rtype, length = struct.unpack(">QIII", recv_exact(s, 20))
        if magic != REPLY_MAGIC:
            raise SystemExit("bad option reply magic")
        recv_exact(s, length)
        if rtype == REP_ACK:
            return s
        if rtype & 0x80000000:
            raise SystemExit(f"NBD_OPT_GO refused: reply type {rtype:#x}")


def read_one(s, cookie):
    s.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_READ, cookie, 0, 4096))
    magic, error, got = struct.unpack(">IIQ", recv_exact(s, 16))
    if magic != SIMPLE_REPLY_MAGIC or error != 0 or got != cookie:
        raise SystemExit(f"bad reply to a read: magic {magic:#x} error {error}")
    recv_exact(s, 4096)


def write_back(s, cookie):
    """A 256 KiB read, and the same bytes written back."""
    s.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_READ, cookie, 0, BIG))
    magic, error, got = struct.unpack(">IIQ", recv_exact(s, 16))
    if magic != SIMPLE_REPLY_MAGIC or error != 0 or got != cookie:
        raise SystemExit(f"bad reply to a read: magic {magic:#x} error {error}")
    data = recv_exact(s, BIG)
    s.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_WRITE, cookie, 0, BIG) + data)
    magic, error, got = struct.unpack(">IIQ", recv_exact(s, 16))
    if magic != SIMPLE_REPLY_MAGIC or error != 0 or got != cookie:
        raise SystemExit(f"bad reply to a write: magic {magic:#x} error {error}")


def main():
    port, export, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1024), hard))
    start = time.monotonic()
    conns = [connect(port, export) for _ in range(n)]
    took = time.monotonic() - start
    print(f"connected {n} {took:.1f}", flush=True)
    for line in sys.stdin:
        if line.strip() == "read":
            for i, s in enumerate(conns):
                read_one(s, i + 1)
            print(f"read {n}", flush=True)
        elif line.strip() == "big":
            for i, s in enumerate(conns):
                write_back(s, i + 1)
            print(f"big {n}", flush=True)
    for s in conns:
        try:
            s.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_DISC, 0, 0, 0))
        except OSError:
            pass
        s.close()


if __name__ == "__main__":
    main()
