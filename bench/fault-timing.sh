#!/usr/bin/env bash
# How exactly injected delays, throttles and the limping-disk preset show in fio's figures: the
# precise measurements the interop test FaultTimingTest used to assert, kept here because
# wall-clock figures belong to a benchmark (the test keeps only the bounds load cannot break).
#
# Each case runs fio (nbd engine, 4 KiB random reads of an 8 MiB region) against one
# `faultdisk serve` with a rule added over QMP, then prints fio's IOPS and completion latency
# p50/p99 next to the range a quiet machine gives. A figure outside its range is marked; the
# script exits 1 if any is.
#
# Usage: bench/fault-timing.sh
# Environment: FAULTDISK, the command that runs faultdisk (default: the launcher at the root).
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
faultdisk=${FAULTDISK:-$root/faultdisk}
out=$(mktemp -d /tmp/fault-timing.XXXXXX)
. "$root/bench/serve.sh"
serve_export "d=memory:16M"

qmp() { $faultdisk qmp "$@" --qmp "127.0.0.1:$qmp" >/dev/null; }

status=0
# case NAME DEPTH SECONDS QMP-COMMAND ARGS CHECKS: CHECKS is a Python expression over iops, p50, p99 (ms).
case_() {
  local name=$1 depth=$2 seconds=$3 command=$4 args=$5 checks=$6
  qmp fault-clear '{"device": "d"}'
  qmp "$command" "$args"
  fio --name=t --ioengine=nbd --uri="nbd://127.0.0.1:$nbd/d" --rw=randread --bs=4k --iodepth="$depth" \
    --size=8M --time_based --runtime="$seconds" --output-format=json >"$out/$name.json"
  python3 - "$out/$name.json" "$name" "$checks" <<'PY' || status=1
import json, sys
path, name, checks = sys.argv[1:]
text = open(path).read()
read = json.loads(text[text.index("{"):])["jobs"][0]["read"]
iops = read["iops"]
p50 = read["clat_ns"]["percentile"]["50.000000"] / 1e6
p99 = read["clat_ns"]["percentile"]["99.000000"] / 1e6
ok = eval(checks)
print(f"{name:28} iops {iops:8.1f}  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  expected {checks}"
      + ("" if ok else "  <-- OUTSIDE"))
sys.exit(0 if ok else 1)
PY
}

case_ delay-10ms-qd1 1 2 fault-add '{"device": "d", "rules": [{"type": "delay", "ops": ["read"], "ms": 10}]}' \
  '10 <= p50 < 15 and 40 < iops <= 100'
case_ throttle-200-qd8 8 3 fault-add \
  '{"device": "d", "rules": [{"type": "throttle", "ops": ["read"], "ops-per-second": 200, "burst-ops": 10}]}' \
  '150 < iops < 240'
case_ limping-disk-qd4 4 3 fault-preset \
  '{"device": "d", "preset": "limping-disk", "params": {"median-ms": 4, "p99-ms": 40, "seed": 3}}' \
  '3 < p50 < 8 and 20 < p99 < 80'
exit "$status"
