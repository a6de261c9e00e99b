#!/usr/bin/env python3
"""Summarizes a bench/compare.sh run from fio's JSON output.

  summarize.py DIR SERVER...   medians, ratios to faultdisk, server CPU per I/O and memory
  summarize.py --one JSON      one run's figures on one line (progress output)
"""
import json
import statistics
import sys
from pathlib import Path

WORKLOADS = {
    # name: (label, headline metric)
    "seqread": ("sequential read 1 MiB, QD8", "MiB/s"),
    "seqwrite": ("sequential write 1 MiB, QD8", "MiB/s"),
    "randread": ("random read 4 KiB, QD16", "IOPS"),
    "randrw": ("random 4 KiB 50/50 read/write, QD16", "IOPS"),
    "randread64": ("random read 4 KiB, QD64", "IOPS"),
    "randread1": ("random read 4 KiB, QD1", "IOPS"),
    "randwrite": ("random write 4 KiB, QD16", "IOPS"),
    "syncwrite": ("random write 4 KiB, QD1, each followed by a flush", "IOPS"),
    "randtrim": ("random trim 4 KiB, QD16", "IOPS"),
    "trimwrite": ("trim then write 64 KiB in turn, QD16 (trims and writes)", "IOPS"),
    "seqread4c": ("sequential read 1 MiB, QD8, 4 connections", "MiB/s"),
    "seqwrite4c": ("sequential write 1 MiB, QD8, 4 connections", "MiB/s"),
    "randread4c": ("random read 4 KiB, QD16, 4 connections", "IOPS"),
    "randrw4c": ("random 4 KiB 50/50 read/write, QD16, 4 connections", "IOPS"),
    "copyread": ("whole-disk copy to null: with nbdcopy (up to 4 connections, 64 x 256 KiB)", "MiB/s"),
    "copywrite": ("whole-disk copy from the image with nbdcopy (up to 4 connections, 64 x 256 KiB)", "MiB/s"),
    "copyread4k": ("whole-disk copy to null: with nbdcopy (one connection, 16 x 4 KiB)", "IOPS"),
    "copywrite4k": ("whole-disk copy from the image with nbdcopy (one connection, 16 x 4 KiB)", "IOPS"),
    "qemuread4k": ("sequential read with qemu-img bench (one connection, 16 x 4 KiB)", "IOPS"),
    "qemuwrite4k": ("sequential write with qemu-img bench (one connection, 16 x 4 KiB)", "IOPS"),
}
# Workloads whose completion latency percentiles are reported too.
LATENCY = ("randread64", "randread1")
MIB = 1024 * 1024
DIRECTIONS = ("read", "write", "trim")


def fio_job(path):
    """Returns the one job of a fio run's JSON (or bench/copy_run.py's or qemu_bench_run.py's, in fio's shape)."""
    with open(path) as f:
        text = f.read()
    # fio may print notices before the JSON document.
    return json.loads(text[text.index("{"):])["jobs"][0]


def figures(path):
    """Returns (MiB/s, IOPS, total I/Os) of one fio run, reads, writes and trims together."""
    job = fio_job(path)
    if job.get("error"):
        raise SystemExit(f"{path}: fio reported error {job['error']}")
    mibs = iops = ios = 0.0
    for d in DIRECTIONS:
        if d in job:  # bench/copy_run.py and qemu_bench_run.py report reads and writes only
            mibs += job[d]["bw_bytes"] / MIB
            iops += job[d]["iops"]
            ios += job[d]["total_ios"]
    if ios == 0:
        raise SystemExit(f"{path}: no I/O completed")
    return mibs, iops, ios


def client_cpu(path):
    """Returns the client's own CPU time (user + system) per I/O of one run in µs and its share of
    a CPU in percent, or None.

    On two CPUs shared by client and server the client is often the busy end: then what the
    server's way of answering costs the client decides the throughput, not the server's CPU.
    """
    job = fio_job(path)
    if "usr_cpu" not in job or "job_runtime" not in job:
        return None
    ios = sum(job[d]["total_ios"] for d in DIRECTIONS if d in job)
    share = job["usr_cpu"] + job["sys_cpu"]
    return share / 100 * job["job_runtime"] * 1000 / ios, share


def latency(path):
    """Returns fio's read completion latency (p50, p99, p99.9) of one run, in milliseconds."""
    p = fio_job(path)["read"]["clat_ns"]["percentile"]
    return tuple(p[k] / 1e6 for k in ("50.000000", "99.000000", "99.900000"))


def headline(workload, fig):
    return fig[0] if WORKLOADS[workload][1] == "MiB/s" else fig[1]


def fmt(value, metric):
    if metric == "IOPS":
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}"


def one(path):
    mibs, iops, _ = figures(path)
    return f"{mibs:8.0f} MiB/s {iops:9.0f} IOPS"


def summarize(out, servers):
    runs = {}  # (workload, server) -> {round: figures}
    for p in sorted((out / "runs").glob("*.json")):
        rnd, rest = p.stem.split("-", 1)
        workload, server = rest.split("-", 1)
        runs.setdefault((workload, server), {})[int(rnd)] = figures(p)
    cpu = {}  # (workload, server) -> {round: cpu ms}
    cpu_file = out / "cpu.tsv"
    if cpu_file.exists():
        for line in cpu_file.read_text().splitlines():
            rnd, workload, server, ms = line.split("\t")
            cpu.setdefault((workload, server), {})[int(rnd)] = int(ms)
    workloads = [w for w in WORKLOADS if any((w, s) in runs for s in servers)]
    # Ratios are faultdisk's (or, without it, the first faultdisk-* server's) to each other server.
    ref = "faultdisk" if "faultdisk" in servers else next((s for s in servers if s.startswith("faultdisk")), None)
    peers = [s for s in servers if s != ref] if ref else []

    head = ["workload", "metric"] + [f"{s} (median)" for s in servers] + [f"{ref}/{p}" for p in peers]
    rows = []
    for w in workloads:
        label, metric = WORKLOADS[w]
        med = {s: statistics.median(headline(w, f) for f in runs[(w, s)].values()) for s in servers}
        row = [label, metric] + [fmt(med[s], metric) for s in servers]
        for p in peers:
            paired = [headline(w, runs[(w, ref)][r]) / headline(w, runs[(w, p)][r])
                      for r in runs[(w, ref)] if r in runs[(w, p)]]
            ratio = med[ref] / med[p]
            spread = f" ({min(paired):.2f}-{max(paired):.2f})" if len(paired) > 1 else ""
            row.append(f"**{ratio:.2f}**{spread}")
        rows.append(row)
    print("Throughput: median over rounds. Ratios: median/median; in brackets the lowest and highest")
    print("ratio of the runs made side by side in one round.")
    print()
    table(head, rows)

    timed = [w for w in workloads if w in LATENCY]
    if timed:
        print()
        print("Read completion latency (fio clat, ms; median over rounds of each percentile):")
        print()
        def percentiles(w, s):
            lat = [latency(out / "runs" / f"{r}-{w}-{s}.json") for r in runs[(w, s)]]
            return " / ".join(f"{statistics.median(x[i] for x in lat):.2f}" for i in range(3))

        table(["workload"] + [f"{s} p50 / p99 / p99.9" for s in servers], per_server(timed, servers, percentiles))

    if cpu:
        print()
        print("Server CPU time per I/O (user+system of the whole server process, median over rounds;")
        print("lower is better; fio and the server share the machine's cpus):")
        print()
        def server_cpu(w, s):
            per = [cpu[(w, s)][r] * 1000 / runs[(w, s)][r][2] for r in runs[(w, s)] if r in cpu.get((w, s), {})]
            return f"{statistics.median(per):.1f}" if per else "-"

        table(["workload"] + [f"{s} µs/I/O" for s in servers], per_server(workloads, servers, server_cpu))

    print()
    print("Client CPU time per I/O (fio's, nbdcopy's or qemu-img's own user+system, median over rounds; the")
    print("client's share of a CPU in brackets, a job's own with several fio jobs: near 100% the client,")
    print("not the server, sets the pace):")
    print()
    def client(w, s):
        got = [c for c in (client_cpu(out / "runs" / f"{r}-{w}-{s}.json") for r in runs[(w, s)]) if c]
        return f"{statistics.median(c[0] for c in got):.1f} ({statistics.median(c[1] for c in got):.0f}%)" if got else "-"

    table(["workload"] + [f"{s} µs/I/O (share)" for s in servers], per_server(workloads, servers, client))

    rss_file = out / "rss.tsv"
    if rss_file.exists():
        samples = {}  # server -> [(phase, rss, hwm)]
        for line in rss_file.read_text().splitlines():
            phase, server, rss, hwm = line.split("\t")
            samples.setdefault(server, []).append((phase, int(rss or 0), int(hwm or 0)))
        print()
        print("Resident memory (VmRSS, MiB) at start, after the warm-up, after each round (faultdisk also after")
        print("one explicit GC at the end); peak (VmHWM):")
        print()
        for s in servers:
            if s in samples:
                seq = ", ".join(f"{phase} {rss / 1024:.0f}" for phase, rss, _ in samples[s])
                print(f"- {s}: {seq}; peak {max(h for _, _, h in samples[s]) / 1024:.0f}")


def per_server(workloads, servers, cell):
    """Rows of a table with a column per server: each workload's label, then cell(workload, server)."""
    return [[WORKLOADS[w][0]] + [cell(w, s) for s in servers] for w in workloads]


def table(head, rows):
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


def main(argv):
    if len(argv) == 2 and argv[0] == "--one":
        print(one(argv[1]))
        return
    if len(argv) < 2:
        raise SystemExit(__doc__)
    summarize(Path(argv[0]), argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
