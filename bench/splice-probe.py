#!/usr/bin/env python3
"""bench/splice-probe.py [COUNT]: what a receiving thread pays per MiB written into a tmpfs file,
received from loopback TCP by recv_into + pwrite (two copies) or by splice socket -> pipe -> file
(one copy). The sender runs in the same process; prints the receiving thread's CPU per MiB and the
rate. Linux, Python 3.10+; the file goes to /dev/shm and is removed."""
import fcntl
import os
import resource
import socket
import sys
import threading
import time

MIB = 1 << 20
COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
F_SETPIPE_SZ = 1031


def cpu():
    r = resource.getrusage(resource.RUSAGE_THREAD)
    return r.ru_utime + r.ru_stime


def measure(name, receive_one):
    t0, c0 = time.time(), cpu()
    for i in range(COUNT):
        receive_one((i % 256) * MIB)
    print("%-6s %.1f us CPU/MiB, %.0f MiB/s" % (name, (cpu() - c0) / COUNT * 1e6, COUNT / (time.time() - t0)))


def main():
    path = "/dev/shm/splice-probe-%d.img" % os.getpid()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.ftruncate(fd, 256 * MIB)
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def send():
            c = socket.create_connection(server.getsockname())
            data = os.urandom(MIB)
            for _ in range(2 * COUNT):
                c.sendall(data)
            c.close()

        threading.Thread(target=send, daemon=True).start()
        s, _ = server.accept()
        buf = bytearray(MIB)
        view = memoryview(buf)

        def copy(offset):
            got = 0
            while got < MIB:
                got += s.recv_into(view[got:], MIB - got)
            os.pwrite(fd, buf, offset)

        measure("copy", copy)
        r, w = os.pipe()
        fcntl.fcntl(w, F_SETPIPE_SZ, MIB)

        def splice(offset):
            got = 0
            while got < MIB:
                got += os.splice(s.fileno(), w, MIB - got)
            put = 0
            while put < MIB:
                put += os.splice(r, fd, MIB - put, offset_dst=offset + put)

        measure("splice", splice)
    finally:
        os.close(fd)
        os.unlink(path)


if __name__ == "__main__":
    main()
