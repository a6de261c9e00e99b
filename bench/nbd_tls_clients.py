#!/usr/bin/python3
"""NBD clients over TLS for the connection benchmarks (bench/connections.sh --transport tls|psk).

  nbd_tls_clients.py URI N   opens N connections to URI through libnbd (an nbds:// URI naming the
                             certificates or the key file), each negotiated into transmission, and
                             prints "connected N SECONDS"; then for each line on stdin, on every
                             connection: "read" one 4 KiB read, "big" a 256 KiB read and the same
                             256 KiB written back (the records a busy connection sends and receives
                             are then full size); prints the line and N; at the end of stdin shuts
                             each down (NBD_CMD_DISC, close_notify) and exits
  nbd_tls_clients.py --sequential URI N
                             connects N times one after another, each connection negotiated into
                             transmission and shut down before the next; prints "sequential N
                             SECONDS ERRORS" (a connection's setup and teardown, the TLS handshake
                             in it; ERRORS counts shutdowns libnbd reported as failed)

libnbd does the TLS (GnuTLS) as nbdinfo and nbdcopy do: Python's ssl has no pre-shared keys.
Needs libnbd's Python bindings (Debian: python3-libnbd), for the system's python3.
"""
import resource
import sys
import time

import nbd


def connect(uri):
    h = nbd.NBD()
    h.set_uri_allow_local_file(True)  # the URI names the key file or the certificates
    h.connect_uri(uri)
    return h


def sequential(uri, n):
    start = time.monotonic()
    errors = 0
    for _ in range(n):
        h = connect(uri)
        try:
            h.shutdown()
        except nbd.Error as e:
            errors += 1
            print(f"shutdown failed: {e}", file=sys.stderr, flush=True)
        del h  # closes the socket now (CPython frees the handle at once)
    print(f"sequential {n} {time.monotonic() - start:.2f} {errors}", flush=True)


def main():
    if sys.argv[1] == "--sequential":
        sequential(sys.argv[2], int(sys.argv[3]))
        return
    uri, n = sys.argv[1], int(sys.argv[2])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1024), hard))
    start = time.monotonic()
    handles = []
    for _ in range(n):
        handles.append(connect(uri))
    print(f"connected {n} {time.monotonic() - start:.1f}", flush=True)
    for line in sys.stdin:
        what = line.strip()
        for h in handles:
            if what == "read":
                h.pread(4096, 0)
            elif what == "big":
                h.pwrite(h.pread(256 * 1024, 0), 0)
        print(f"{what} {n}", flush=True)
    for h in handles:
        h.shutdown()


if __name__ == "__main__":
    main()
