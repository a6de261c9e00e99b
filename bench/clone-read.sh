#!/usr/bin/env bash
# Read speed of a clone beside its origin: a memory export is filled (1 MiB writes of a pattern,
# so every block holds data), snapshotted, half its 4 KiB blocks rewritten after the snapshot
# (so the origin reads through its live delta and the snapshot's chain), then cloned with
# export-add from, and half the clone's blocks written too (so the clone reads its own delta, then
# the snapshot's chain, then the medium). fio's nbd engine then reads each export in turn,
# interleaved (origin, clone, origin, clone, ...): randread 4 KiB at QD16 and seqread 1 MiB at QD8.
# Each figure is the median of ROUNDS runs of RUNTIME seconds.
#
# Usage: bench/clone-read.sh
# Environment: FAULTDISK, the command that runs faultdisk (default: the launcher at the root);
# SIZE (default 1G), ROUNDS (default 3), RUNTIME (default 5).
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
faultdisk=${FAULTDISK:-$root/faultdisk}
size=${SIZE:-1G}
rounds=${ROUNDS:-3}
runtime=${RUNTIME:-5}
out=$(mktemp -d /tmp/clone-bench.XXXXXX)
. "$root/bench/serve.sh"
serve_export "origin=memory:$size"

uri() { echo "nbd://127.0.0.1:$nbd/$1"; }
qmp() { $faultdisk qmp --qmp "127.0.0.1:$qmp" "$1" "$2" >/dev/null; }

fio --name=fill --ioengine=nbd --uri="$(uri origin)" --rw=write --bs=1M --iodepth=8 \
  --buffer_pattern=0x5a >"$out/fill.log"
qmp snapshot-create '{"device": "origin", "name": "base"}'
# Half the blocks rewritten on each side, seeded, so both read through deltas and the chain.
fio --name=dirty --ioengine=nbd --uri="$(uri origin)" --rw=randwrite --bs=4k --iodepth=16 \
  --percentage_random=100 --randseed=1 --number_ios=$(( $(numfmt --from=iec "$size") / 8192 )) \
  >"$out/dirty-origin.log"
qmp export-add '{"name": "clone", "from": {"device": "origin", "snapshot": "base"}}'
fio --name=dirty --ioengine=nbd --uri="$(uri clone)" --rw=randwrite --bs=4k --iodepth=16 \
  --percentage_random=100 --randseed=2 --number_ios=$(( $(numfmt --from=iec "$size") / 8192 )) \
  >"$out/dirty-clone.log"

# run EXPORT NAME FIO-ARGS...: MiB/s of one run.
run() {
  local export=$1 name=$2
  shift 2
  fio --name="$name" --ioengine=nbd --uri="$(uri "$export")" --numjobs=1 --time_based \
    --runtime="$runtime" "$@" --output-format=json --output="$out/run.json" >/dev/null
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["jobs"][0]["read"]["bw"] / 1024)' "$out/run.json"
}

median() { python3 -c 'import statistics, sys; print(f"{statistics.median(float(l) for l in sys.stdin):.1f}")'; }

printf '%-26s %16s %16s\n' "workload" "origin (MiB/s)" "clone (MiB/s)"
for w in "randread 4k QD16" "seqread 1M QD8"; do
  case $w in
    randread*) args=(--rw=randread --bs=4k --iodepth=16 --randseed=3) ;;
    seqread*) args=(--rw=read --bs=1M --iodepth=8) ;;
  esac
  o=() c=()
  for _ in $(seq "$rounds"); do
    o+=("$(run origin "$w" "${args[@]}")")
    c+=("$(run clone "$w" "${args[@]}")")
  done
  printf '%-26s %16s %16s\n' "$w" "$(printf '%s\n' "${o[@]}" | median)" "$(printf '%s\n' "${c[@]}" | median)"
done
