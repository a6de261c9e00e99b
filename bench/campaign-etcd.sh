#!/usr/bin/env bash
# The whole etcd campaign of docs/CAMPAIGNS.md, timed: three etcd members on three exports (ext4,
# nbdfuse + loop devices) of one faultdisk server on free loopback ports; setup, trace run, then
# every run of the plan (more than 200 with the demonstration file), disk reverts included.
# Prints the report's figures (runs, minutes, runs per minute, outcomes) and the load average
# before and after; the report stays in $WORKDIR.
#
# Usage: sudo bench/campaign-etcd.sh
# Environment: FAULTDISK, the command that runs faultdisk (default: the launcher at the root);
# CAMPAIGN (default docs/campaigns/etcd-3.json); WORKDIR (default /var/tmp/faultdisk-bench-etcd3);
# PARALLEL, the --parallel values to time, one campaign each, in this order (default "1"; e.g.
# "1 2 4 2 1" interleaves them); MAX_RUNS, runs per campaign (default 0: the whole plan).
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
faultdisk=${FAULTDISK:-$root/faultdisk}
campaign=${CAMPAIGN:-$root/docs/campaigns/etcd-3.json}
workdir=${WORKDIR:-/var/tmp/faultdisk-bench-etcd3}
out=$(mktemp -d /tmp/campaign-bench.XXXXXX)
. "$root/bench/serve.sh"
serve_export "spare=memory:1M"

# The same campaign, pointed at this server's ports; the scripts stay where the file refers to them.
file="$root/docs/campaigns/.bench-$$.json"
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -rf "$out" "$file"' EXIT
sed -e "s/127.0.0.1:4444/127.0.0.1:$qmp/g" -e "s/127.0.0.1:10809/127.0.0.1:$nbd/g" "$campaign" >"$file"

for parallel in ${PARALLEL:-1}; do
  echo "--- --parallel $parallel${MAX_RUNS:+, --max-runs $MAX_RUNS}; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  start=$(date +%s)
  $faultdisk campaign "$file" --workdir "$workdir" --fresh --parallel "$parallel" --max-runs "${MAX_RUNS:-0}" | tail -3
  end=$(date +%s)
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  python3 - "$workdir/report.json" "$((end - start))" "$parallel" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"parallel {sys.argv[3]}: runs {r['runs-done']} of {r['runs-planned']}, runs {r['minutes']} min "
      f"({r['runs-per-minute']} runs/min), whole campaign with setup and trace {int(sys.argv[2]) / 60:.1f} min")
print("outcomes:", ", ".join(f"{k} {v}" for k, v in r["outcomes"].items()))
PY
done
