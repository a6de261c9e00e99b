#!/usr/bin/env bash
# bench/delay-tick.sh [ROUNDS [TICK_MICROS...]]: the delay timer's tick (faultdisk.delay.tickMicros)
# against itself, interleaved: per round and tick, faultdisk serve --max-in-flight 64 with one 1 ms
# read delay rule, fio randread 4 KiB at queue depth 64 (3 s warm-up, then 5 s measured); prints
# IOPS, fio's clat p50/p99/p99.9, the server's CPU per read and the load average.
# Defaults: 3 rounds of ticks 1 50 100 250. Image: bench/compare.sh's (BENCH_FILE to choose).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
rounds=${1:-3}
shift || true
ticks=("$@")
[ ${#ticks[@]} -gt 0 ] || ticks=(1 50 100 250)
file=${BENCH_FILE:-/dev/shm/faultdisk-bench-256m.img}
[ -f "$file" ] || { echo "no image $file: run bench/compare.sh --size-mib 256 once, or set BENCH_FILE" >&2; exit 1; }
. "$root/bench/serve.sh"  # free_ports, await_port
"$root/faultdisk" --version >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
hz=$(getconf CLK_TCK)
for r in $(seq "$rounds"); do
  for tick in "${ticks[@]}"; do
    read -r port q < <(free_ports 2)
    FAULTDISK_JAVA_OPTS="-Dfaultdisk.delay.tickMicros=$tick" "$root/faultdisk" serve --export "bench=$file,locking=off" \
      --nbd "127.0.0.1:$port" --qmp "127.0.0.1:$q" --max-in-flight 64 >"$out/server.log" 2>&1 &
    pid=$!
    await_port "$q"
    python3 - "$q" <<'PY'
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
f = s.makefile("rw")
f.readline()
for c in [{"execute": "qmp_capabilities"},
          {"execute": "fault-add", "arguments": {"device": "bench", "rules": [{"type": "delay", "ops": ["read"], "ms": 1}]}}]:
    f.write(json.dumps(c) + "\n"); f.flush()
    if "return" not in json.loads(f.readline()):
        sys.exit("QMP failed")
PY
    job=(--name=w --ioengine=nbd "--uri=nbd://127.0.0.1:$port/bench" --time_based --rw=randread --bs=4k --iodepth=64 --output-format=json)
    fio "${job[@]}" --runtime=3 >/dev/null
    cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    fio "${job[@]}" --runtime=5 >"$out/fio.json"
    cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    python3 - "$out/fio.json" "$tick" "$((cpu1 - cpu0))" "$hz" "$r" <<'PY'
import json, sys
t = open(sys.argv[1]).read()
j = json.loads(t[t.index("{"):])["jobs"][0]["read"]
p = j["clat_ns"]["percentile"]
cpu_us = int(sys.argv[3]) * 1e6 / int(sys.argv[4]) / j["total_ios"]
print("round %s tick %5s us: IOPS %6.0f clat p50 %.2f p99 %.2f p99.9 %.2f ms, CPU %.1f us/read, load %s" % (
    sys.argv[5], sys.argv[2], j["iops"], p["50.000000"] / 1e6, p["99.000000"] / 1e6, p["99.900000"] / 1e6,
    cpu_us, open("/proc/loadavg").read().split()[0]))
PY
  done
done
