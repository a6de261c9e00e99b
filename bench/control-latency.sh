#!/usr/bin/env bash
# Control latency under load: with fio at full speed on one export (4 KiB random reads, QD16, and
# 1 MiB sequential reads, QD8, one connection each, on the same 1 GiB file as compare.sh),
# bench/control_latency.py measures on a second export of the same server how soon a fault rule
# added over QMP fails requests, and how long power-fail takes to return its report. The same
# measurement without load first, as the floor. Goals (issue 17): rule applied within 5 ms at p99,
# power-fail report within 10 ms at p99.
#
# nbdkit and qemu-nbd have no control channel that changes a running export's faults (nbdkit's
# error filter can be switched by a file, but that checks the file on every request and is
# not a command with a reply), so this workload measures faultdisk alone.
#
# Usage: bench/control-latency.sh [ROUNDS] [PROBE...]   (default 200 per measurement; PROBE
#        process, the default, or thread: where control_latency.py runs its probe; several are
#        measured one after another under each load, for a comparison in one run)
# Environment: CLIENT_FIFO=1 runs control_latency.py and its probe in the real-time class (chrt -f
# 1; root or CAP_SYS_NICE), so that they do not wait for a CPU behind fio: what is left of the
# tails is the server's and the kernel's, not the client's.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
rounds=${1:-200}
shift || true
probes=("${@:-process}")
for p in "${probes[@]}"; do
  case "$p" in process|thread) ;; *) echo "control-latency.sh: PROBE is process or thread, not $p" >&2; exit 2 ;; esac
done
client=(python3)
if [ "${CLIENT_FIFO:-0}" = 1 ]; then
  chrt -f 1 true 2>/dev/null || { echo "control-latency.sh: CLIENT_FIFO=1 needs chrt -f (root or CAP_SYS_NICE)" >&2; exit 2; }
  client=(chrt -f 1 python3)
fi
faultdisk=${FAULTDISK:-$root/faultdisk}
file=/dev/shm/faultdisk-bench-1024m.img
[ -f "$file" ] || head -c $((1 << 30)) /dev/urandom >"$file"
out=$(mktemp -d)
. "$root/bench/serve.sh"
serve_export "bench=$file,locking=off" --export ctl=memory:64M
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cpus; commit $(git -C "$root" describe --always --dirty); client: ${client[*]}"
measure() {
  local p
  for p in "${probes[@]}"; do
    [ "${#probes[@]}" -eq 1 ] || echo "-- probe in a $p"
    "${client[@]}" "$root/bench/control_latency.py" "$qmp" "$nbd" ctl "$rounds" "$p"
  done
}
echo "== no load"
measure
for w in "randread --bs=4k --iodepth=16" "read --bs=1M --iodepth=8"; do
  echo "== fio --rw=$w on the other export, at full speed"
  # shellcheck disable=SC2086
  fio --name=load --ioengine=nbd --uri="nbd://127.0.0.1:$nbd/bench" --rw=$w --time_based --runtime=600 \
    --output-format=json --output="$out/fio.json" >/dev/null 2>&1 &
  load=$!
  sleep 2
  measure
  kill "$load" 2>/dev/null || true
  wait "$load" 2>/dev/null || true
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
