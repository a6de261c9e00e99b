#!/usr/bin/env bash
# Memory exports side by side: faultdisk's memory:SIZE against nbdkit's memory plugin (qemu-nbd has
# no memory backend), interleaved, a fresh server for every run. Each run first fills the export
# (fio, 1 MiB sequential writes over all of it: the "fill" row, pages made anew), then runs the
# workload 2 s unmeasured and 5 s measured; it reports throughput, the server's CPU a MiB (utime +
# stime from /proc/PID/stat around the measured run), the client's (fio's or nbdcopy's own user +
# system time a MiB, and its share of a CPU: near 100% for one fio job, the client, not the server,
# sets the pace; nbdcopy's threads together may pass 100%) and the server's resident memory after
# it. Servers
# run in turn, the order rotating from round to round; the table gives each server's median and
# the ratio faultdisk / nbdkit (median over median, the lowest and highest round's in brackets).
#
# Usage: bench/memory-exports.sh [--rounds N] [--size SIZE] [--workloads LIST] [--servers LIST]
#                                [--transport tcp|unix|tls|psk]
#   workloads (default seqread,seqwrite,randread,randwrite,randrw): as bench/compare.sh names them
#   (randtrim and trimwrite too: trims count as bytes moved); copyread, copywrite, copyread4k and
#   copywrite4k run nbdcopy (bench/copy_run.py) instead of fio; refill trims the whole export at
#   random in 64 KiB pieces after the fill (unmeasured), then measures one sequential 1 MiB write
#   pass over it (pages taken again after their memory went back to the system)
#   servers (default faultdisk,nbdkit): also base, faultdisk run from FAULTDISK_BASE_JAR (another
#   build, for before/after runs), and variant, faultdisk with FAULTDISK_VARIANT_OPTS added to
#   its JVM's options (a setting tried against the default in the same run)
#   transport: tcp (default), unix (a Unix socket each server), tls, TLS with certificates from a
#   certificate authority made for the run (fio's workloads as over tcp), or psk, TLS with a
#   pre-shared key made for the run, on 127.0.0.1;
#   psk runs nbdcopy's workloads only (fio cannot be given the key file), and the fill is then a
#   whole copy of random data by nbdcopy
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/fio-workloads.sh"
rounds=3
size=1G
workloads=seqread,seqwrite,randread,randwrite,randrw
servers=faultdisk,nbdkit
transport=tcp
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift ;;
    --size) size=$2; shift ;;
    --workloads) workloads=$2; shift ;;
    --servers) servers=$2; shift ;;
    --transport) transport=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "memory-exports.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for t in fio nbdinfo nbdkit python3; do command -v "$t" >/dev/null || { echo "needs $t" >&2; exit 1; }; done
IFS=, read -r -a server_list <<<"$servers"
IFS=, read -r -a workload_list <<<"$workloads"
for s in "${server_list[@]}"; do
  case "$s" in
    faultdisk|variant|nbdkit) ;;
    base) [ -n "${FAULTDISK_BASE_JAR:-}" ] || { echo "server base needs FAULTDISK_BASE_JAR (a faultdisk jar)" >&2; exit 2; } ;;
    *) echo "unknown server: $s (faultdisk, base, variant or nbdkit)" >&2; exit 2 ;;
  esac
done
is_copy() { case "$1" in copyread|copywrite|copyread4k|copywrite4k) return 0 ;; *) return 1 ;; esac; }
case "$transport" in tcp|unix|tls|psk) ;; *) echo "--transport is tcp, unix, tls or psk, not $transport" >&2; exit 2 ;; esac
for w in "${workload_list[@]}"; do
  is_copy "$w" || [ "$w" = refill ] || fio_workload "$w" >/dev/null || { echo "unknown workload: $w" >&2; exit 2; }
  [ "$transport" != psk ] || is_copy "$w" || { echo "--transport psk runs nbdcopy's workloads only, not $w" >&2; exit 2; }
  is_copy "$w" && { command -v nbdcopy >/dev/null || { echo "needs nbdcopy" >&2; exit 1; }; }
done
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT
"$root/faultdisk" --version >/dev/null
# What nbdcopy writes: random data of the export's size (copywrite, and the fill over TLS).
if [ "$transport" = psk ] || [[ ",$workloads," == *,copywrite* ]]; then
  head -c "$(numfmt --from=iec "$size")" /dev/urandom >"$out/image"
fi
fd_tls=() kit_tls=() user=
if [ "$transport" = psk ]; then
  . "$root/bench/tls-creds.sh"
  make_psk "$out/psk"
  fd_tls=(--tls require --tls-psk "$out/psk/keys.psk")
  kit_tls=(--tls=require "--tls-psk=$out/psk/keys.psk")
  user=bench@
elif [ "$transport" = tls ]; then
  command -v openssl >/dev/null || { echo "needs openssl" >&2; exit 1; }
  . "$root/bench/tls-creds.sh"
  make_pki "$out/pki" "$out/openssl.log"
  fd_tls=(--tls require --tls-certificates "$out/pki")
  kit_tls=(--tls=require "--tls-certificates=$out/pki")
fi
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# One line: server workload MiB/s IOPS CPU-µs-a-MiB RSS-MiB (the fill's line has workload "fill").
run() {
  local s=$1 w=$2 p pid uri listen kit_at
  p=$(port)
  listen=127.0.0.1:$p kit_at=(-i 127.0.0.1 -p "$p")
  if [ "$transport" = unix ]; then
    rm -f "$out/$s.sock"
    listen=unix:$out/$s.sock kit_at=(-U "$out/$s.sock")
  fi
  case "$s" in
    nbdkit) nbdkit --exit-with-parent -f "${kit_at[@]}" "${kit_tls[@]}" -e m memory "$size" >"$out/$s.log" 2>&1 & ;;
    *)
      # One faultdisk command line; base and variant differ only in their environment.
      fd_env=()
      [ "$s" = base ] && fd_env=("FAULTDISK_JAR=$FAULTDISK_BASE_JAR")
      [ "$s" = variant ] && fd_env=("FAULTDISK_JAVA_OPTS=${FAULTDISK_JAVA_OPTS:-} ${FAULTDISK_VARIANT_OPTS:-}")
      env "${fd_env[@]}" "$root/faultdisk" serve --export "m=memory:$size" --nbd "$listen" --qmp none \
        "${fd_tls[@]}" >"$out/$s.log" 2>&1 &
      ;;
  esac
  pid=$!
  case "$transport" in
    psk) uri="nbds://${user}127.0.0.1:$p/m?tls-psk-file=$out/psk/keys.psk" ;;
    unix) uri="nbd+unix:///m?socket=$out/$s.sock" ;;
    # fio's nbd engine lets no URI name a local file (libnbd's allow-local-file is off there): the
    # connection is encrypted all the same, only the certificate goes unchecked.
    tls) uri="nbds://127.0.0.1:$p/m?tls-verify-peer=false" ;;
    *) uri="nbd://127.0.0.1:$p/m" ;;
  esac
  for _ in $(seq 200); do nbdinfo --size "$uri" >/dev/null 2>&1 && break; sleep 0.25; done
  if [ "$transport" = psk ]; then
    measure "$s" fill "$pid" python3 "$root/bench/copy_run.py" copywrite "$uri" "$out/image" 0
  else
    measure "$s" fill "$pid" fio_json "$uri" --rw=write --bs=1M --iodepth=8 --size="$size"
  fi
  if [ "$w" = refill ]; then
    fio --name=w --ioengine=nbd --uri="$uri" --rw=randtrim --bs=64k --iodepth=16 --size="$size" >/dev/null 2>&1
    measure "$s" "$w" "$pid" fio_json "$uri" --rw=write --bs=1M --iodepth=8 --size="$size"
  elif is_copy "$w"; then
    python3 "$root/bench/copy_run.py" "$w" "$uri" "$out/image" 2 >/dev/null
    measure "$s" "$w" "$pid" python3 "$root/bench/copy_run.py" "$w" "$uri" "$out/image" 5
  else
    # shellcheck disable=SC2046
    fio --name=w --ioengine=nbd --uri="$uri" $(fio_workload "$w") --time_based --runtime=2 >/dev/null 2>&1
    # shellcheck disable=SC2046
    measure "$s" "$w" "$pid" fio_json "$uri" $(fio_workload "$w") --time_based --runtime=5
  fi
  kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
# fio_json URI FIO-OPTIONS...: one fio run's JSON.
fio_json() {
  local uri=$1
  shift
  fio --name=w --ioengine=nbd --uri="$uri" "$@" --output-format=json 2>/dev/null | sed -n '/^{/,$p'
}
# measure SERVER WORKLOAD PID CLIENT...: one client run (fio_json, or copy_run.py, which prints
# fio's shape), one line of results.
measure() {
  local s=$1 w=$2 pid=$3 t0 t1
  shift 3
  t0=$(ticks "$pid")
  "$@" >"$out/fio.json"
  t1=$(ticks "$pid")
  PYTHONPATH="$root/bench" python3 - "$s" "$w" "$t0" "$t1" \
    "$(awk '$1 == "VmRSS:" {printf "%.0f", $2 / 1024}' "/proc/$pid/status")" "$out/fio.json" <<'PY' | tee -a "$out/results.txt"
import sys
from summarize import client_cpu, fio_job
s, w, t0, t1, rss, path = sys.argv[1:]
j = fio_job(path)
ways = [d for d in ("read", "write", "trim") if d in j]  # a trim counts its bytes as a read or write does
# copy_run.py's shape gives the bandwidth, not the bytes.
io = sum(j[d].get("io_bytes", j[d]["bw_bytes"] * j[d]["runtime"] / 1000) for d in ways)
secs = max(j[d]["runtime"] for d in ways) / 1000
cpu = (int(t1) - int(t0)) / 100
# The client's own CPU as compare.sh's summary reads it (a MiB here, not an I/O), "-" where the
# client does not say.
per_io = client_cpu(path)
ios = sum(j[d]["total_ios"] for d in ways)
client = f"{per_io[0] * ios / (io / 1048576):.0f} {per_io[1]:.0f}" if per_io else "- -"
print(f"{s} {w} {io / 1048576 / secs:.0f} {sum(j[d]['iops'] for d in ways):.0f} {cpu / (io / 1048576) * 1e6:.0f} {rss} {client}")
PY
}
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cpus; transport $transport; commit $(git -C "$root" describe --always --dirty); $(nbdkit --version | head -n 1); fio $(fio --version)"
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
rows, clients = {}, {}
for line in open(sys.argv[1]):
    s, w, mibs, iops, cpu, rss, ccpu, share = line.split()
    rows.setdefault((w, s), []).append((float(mibs), float(iops), float(cpu), int(rss)))
    if share != "-":
        clients.setdefault((w, s), []).append((float(ccpu), float(share)))
servers = sorted({s for _, s in rows}, key=lambda s: (s != "faultdisk", s))
print("\n| workload | " + " | ".join(f"{s} MiB/s (IOPS)" for s in servers)
      + " | faultdisk / nbdkit | CPU µs a MiB | client's CPU µs a MiB (its share of a CPU, %) | RSS MiB |")
print("|---" * (len(servers) + 5) + "|")
for w in dict.fromkeys(w for w, _ in rows):
    med = {s: statistics.median(m for m, *_ in rows[(w, s)]) for s in servers if (w, s) in rows}
    iops = {s: statistics.median(i for _, i, *_ in rows[(w, s)]) for s in servers if (w, s) in rows}
    ratio = "-"
    if "faultdisk" in med and "nbdkit" in med:
        per = [a[0] / b[0] for a, b in zip(rows[(w, "faultdisk")], rows[(w, "nbdkit")])]
        ratio = f"**{med['faultdisk'] / med['nbdkit']:.2f}** ({min(per):.2f}-{max(per):.2f})"
    cpu = " / ".join(f"{statistics.median(c for _, _, c, _ in rows[(w, s)]):.0f}" for s in servers if (w, s) in rows)
    rss = " / ".join(f"{statistics.median(r for *_, r in rows[(w, s)]):.0f}" for s in servers if (w, s) in rows)
    client = " / ".join(
        f"{statistics.median(c for c, _ in clients[(w, s)]):.0f} ({statistics.median(p for _, p in clients[(w, s)]):.0f})"
        if (w, s) in clients else "-"
        for s in servers if (w, s) in rows)
    print(f"| {w} | " + " | ".join(f"{med[s]:.0f} ({iops[s]:.0f})" for s in servers if s in med)
          + f" | {ratio} | {cpu} | {client} | {rss} |")
PY
