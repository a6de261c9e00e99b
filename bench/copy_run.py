#!/usr/bin/env python3
"""Copies a whole disk with nbdcopy, again and again for a time, and reports it as fio would.

  copy_run.py copyread|copywrite|copyread4k|copywrite4k URI FILE SECONDS > JSON

copyread copies the export to null: (reads only); copywrite copies FILE, the image the server
serves, onto the export (the same bytes back in place, so the content stays what every server of
the run serves). nbdcopy runs with its defaults written out: up to 4 connections (one unless the
server advertises multi-conn), 64 requests in flight of 256 KiB each. copyread4k and copywrite4k
copy the same way with one connection and 16 requests of 4 KiB in flight: what each request
costs, where fio cannot go (it cannot be given a TLS key file). Whole copies run until
SECONDS have passed (at least one), each timed from its start to its end, a process's start
included, as a user waiting for the copy sees it. The JSON has the fields of fio's that
bench/summarize.py reads (bandwidth, I/Os of 256 KiB, the error), so a copy is one more workload.
"""
import resource
import subprocess
import sys
import time

import fio_shape

# Per workload: the request size and nbdcopy's options.
SHAPES = {
    "copyread": (256 * 1024, ["--connections=4", "--requests=64"]),
    "copywrite": (256 * 1024, ["--connections=4", "--requests=64"]),
    "copyread4k": (4096, ["--connections=1", "--requests=16"]),
    "copywrite4k": (4096, ["--connections=1", "--requests=16"]),
}


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in SHAPES:
        sys.exit(__doc__)
    workload, uri, image, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    request, options = SHAPES[workload]
    options = [*options, f"--request-size={request}"]
    if workload.startswith("copyread"):
        source, destination, direction = uri, "null:", "read"
    else:
        source, destination, direction = image, uri, "write"
    size = int(subprocess.run(["nbdinfo", "--size", uri], check=True, capture_output=True, text=True).stdout)
    copies = 0
    elapsed = 0.0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    while copies == 0 or elapsed < seconds:
        start = time.monotonic()
        done = subprocess.run(["nbdcopy", *options, source, destination], capture_output=True, text=True)
        elapsed += time.monotonic() - start
        if done.returncode != 0:
            sys.exit(f"nbdcopy failed ({done.returncode}): {done.stderr.strip()}")
        copies += 1
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # nbdcopy's own CPU (and nbdinfo's, negligible).
    fio_shape.dump(workload, direction, copies * size // request, request, elapsed, before, after, copies=copies)


if __name__ == "__main__":
    main()
