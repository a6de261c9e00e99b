#!/usr/bin/env python3
"""Runs `qemu-img bench` (QEMU's own NBD client) again and again for a time; reports it as fio would.

  qemu_bench_run.py qemuread4k|qemuwrite4k URI SECONDS > JSON

Each run is one qemu-img process and one connection: 500,000 requests of 4 KiB, 16 in flight,
at offsets stepping through the export from 0 (qemu-img bench has no random mode; it wraps at
the export's end), reads, or writes of its pattern byte for qemuwrite4k. A second client for the
small-request workloads besides fio's nbd engine (libnbd): QEMU's block layer sends requests from
coroutines and reads replies on its own schedule. Runs go on until SECONDS have passed (at least
one), each timed as qemu-img times itself (from its first request to its last reply: opening the
export and the handshake not included). No TLS: qemu-img bench takes no --object for credentials.
bench/compare.sh puts its image back after each qemuwrite4k run. The JSON has the fields of fio's that
bench/summarize.py reads.
"""
import re
import resource
import subprocess
import sys

import fio_shape

REQUEST = 4096
COUNT = 500_000
DEPTH = 16
DONE = re.compile(r"Run completed in ([0-9.]+) seconds")


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("qemuread4k", "qemuwrite4k"):
        sys.exit(__doc__)
    workload, uri, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    direction = "write" if workload == "qemuwrite4k" else "read"
    command = ["qemu-img", "bench", "-f", "raw", "-c", str(COUNT), "-d", str(DEPTH), "-s", str(REQUEST)]
    if direction == "write":
        command.append("-w")
    runs = 0
    elapsed = 0.0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    while runs == 0 or elapsed < seconds:
        done = subprocess.run([*command, uri], capture_output=True, text=True)
        found = DONE.search(done.stdout)
        if done.returncode != 0 or not found:
            sys.exit(f"qemu-img bench failed ({done.returncode}): {(done.stderr or done.stdout).strip()}")
        elapsed += float(found.group(1))
        runs += 1
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # qemu-img's own CPU (its opening of the export included: a small share).
    fio_shape.dump(workload, direction, runs * COUNT, REQUEST, elapsed, before, after, runs=runs)


if __name__ == "__main__":
    main()
