#!/usr/bin/env bash
# Memory exports side by side: faultdisk's memory:SIZE against nbdkit's memory plugin (qemu-nbd has
# no memory backend), interleaved, a fresh server for every run. Each run first fills the export
# (fio, 1 MiB sequential writes over all of it: the "fill" row, pages made anew), then runs the
# workload 2 s unmeasured and 5 s measured; it reports throughput, the server's CPU a MiB (utime +
# stime from /proc/PID/stat around the measured run) and its resident memory after it. Servers
# run in turn, the order rotating from round to round; the table gives each server's median and
# the ratio faultdisk / nbdkit (median over median, the lowest and highest round's in brackets).
#
# Usage: bench/memory-exports.sh [--rounds N] [--size SIZE] [--workloads LIST] [--servers LIST]
#   workloads (default seqread,seqwrite,randread,randwrite,randrw): as bench/compare.sh names them
#   (randtrim and trimwrite too: trims count as bytes moved)
#   servers (default faultdisk,nbdkit): also base, faultdisk run from FAULTDISK_BASE_JAR (another
#   build, for before/after runs)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/fio-workloads.sh"
rounds=3
size=1G
workloads=seqread,seqwrite,randread,randwrite,randrw
servers=faultdisk,nbdkit
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift ;;
    --size) size=$2; shift ;;
    --workloads) workloads=$2; shift ;;
    --servers) servers=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "memory-exports.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for t in fio nbdinfo nbdkit python3; do command -v "$t" >/dev/null || { echo "needs $t" >&2; exit 1; }; done
IFS=, read -r -a server_list <<<"$servers"
IFS=, read -r -a workload_list <<<"$workloads"
for w in "${workload_list[@]}"; do fio_workload "$w" >/dev/null || { echo "unknown workload: $w" >&2; exit 2; }; done
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT
"$root/faultdisk" --version >/dev/null
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# One line: server workload MiB/s IOPS CPU-µs-a-MiB RSS-MiB (the fill's line has workload "fill").
run() {
  local s=$1 w=$2 p pid uri
  p=$(port)
  case "$s" in
    nbdkit) nbdkit --exit-with-parent -f -i 127.0.0.1 -p "$p" -e m memory "$size" >"$out/$s.log" 2>&1 & ;;
    base) FAULTDISK_JAR=$FAULTDISK_BASE_JAR "$root/faultdisk" serve --export "m=memory:$size" \
      --nbd "127.0.0.1:$p" --qmp none >"$out/$s.log" 2>&1 & ;;
    *) "$root/faultdisk" serve --export "m=memory:$size" --nbd "127.0.0.1:$p" --qmp none >"$out/$s.log" 2>&1 & ;;
  esac
  pid=$!
  uri="nbd://127.0.0.1:$p/m"
  for _ in $(seq 200); do nbdinfo --size "$uri" >/dev/null 2>&1 && break; sleep 0.25; done
  measure "$s" fill "$pid" "$uri" --rw=write --bs=1M --iodepth=8 --size="$size"
  # shellcheck disable=SC2046
  fio --name=w --ioengine=nbd --uri="$uri" $(fio_workload "$w") --time_based --runtime=2 >/dev/null 2>&1
  # shellcheck disable=SC2046
  measure "$s" "$w" "$pid" "$uri" $(fio_workload "$w") --time_based --runtime=5
  kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
# measure SERVER WORKLOAD PID URI FIO-OPTIONS...: one fio run, one line of results.
measure() {
  local s=$1 w=$2 pid=$3 uri=$4 t0 t1
  shift 4
  t0=$(ticks "$pid")
  fio --name=w --ioengine=nbd --uri="$uri" "$@" --output-format=json 2>/dev/null |
    sed -n '/^{/,$p' >"$out/fio.json"
  t1=$(ticks "$pid")
  python3 - "$s" "$w" "$t0" "$t1" "$(awk '$1 == "VmRSS:" {printf "%.0f", $2 / 1024}' "/proc/$pid/status")" \
    "$out/fio.json" <<'PY' | tee -a "$out/results.txt"
import json, sys
s, w, t0, t1, rss, path = sys.argv[1:]
j = json.load(open(path))["jobs"][0]
ways = ("read", "write", "trim")  # a trim counts its bytes as a read or write does
io = sum(j[d]["io_bytes"] for d in ways)
secs = max(j[d]["runtime"] for d in ways) / 1000
cpu = (int(t1) - int(t0)) / 100
print(f"{s} {w} {io / 1048576 / secs:.0f} {sum(j[d]['iops'] for d in ways):.0f} {cpu / (io / 1048576) * 1e6:.0f} {rss}")
PY
}
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cpus; commit $(git -C "$root" describe --always --dirty); $(nbdkit --version | head -n 1); fio $(fio --version)"
for r in $(seq "$rounds"); do
  for w in "${workload_list[@]}"; do
    n=${#server_list[@]}
    for i in $(seq 0 $((n - 1))); do
      run "${server_list[$(((i + r) % n))]}" "$w" | sed "s/^/round $r: /"
    done
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out/results.txt" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    s, w, mibs, iops, cpu, rss = line.split()
    rows.setdefault((w, s), []).append((float(mibs), float(iops), float(cpu), int(rss)))
servers = sorted({s for _, s in rows}, key=lambda s: (s != "faultdisk", s))
print("\n| workload | " + " | ".join(f"{s} MiB/s (IOPS)" for s in servers) + " | faultdisk / nbdkit | CPU µs a MiB | RSS MiB |")
print("|---" * (len(servers) + 4) + "|")
for w in dict.fromkeys(w for w, _ in rows):
    med = {s: statistics.median(m for m, *_ in rows[(w, s)]) for s in servers if (w, s) in rows}
    iops = {s: statistics.median(i for _, i, *_ in rows[(w, s)]) for s in servers if (w, s) in rows}
    ratio = "-"
    if "faultdisk" in med and "nbdkit" in med:
        per = [a[0] / b[0] for a, b in zip(rows[(w, "faultdisk")], rows[(w, "nbdkit")])]
        ratio = f"**{med['faultdisk'] / med['nbdkit']:.2f}** ({min(per):.2f}-{max(per):.2f})"
    cpu = " / ".join(f"{statistics.median(c for _, _, c, _ in rows[(w, s)]):.0f}" for s in servers if (w, s) in rows)
    rss = " / ".join(f"{statistics.median(r for *_, r in rows[(w, s)]):.0f}" for s in servers if (w, s) in rows)
    print(f"| {w} | " + " | ".join(f"{med[s]:.0f} ({iops[s]:.0f})" for s in servers if s in med) + f" | {ratio} | {cpu} | {rss} |")
PY
