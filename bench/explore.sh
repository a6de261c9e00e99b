#!/usr/bin/env bash
# faultdisk explore at length: the SQLite and rename demonstrations of docs/EXPLORE.md with large
# state budgets (interop's CI tests run the same scripts with small ones). Per run it prints the
# crash points, states checked, verdicts, states per minute and the time from the start of
# exploration to the first violation, with the load average before and after. Runs one at a time
# on one memory export (ext4 on nbdfuse and a loop device); needs root, /dev/fuse, nbdfuse,
# python3 and sqlite3.
#
# Usage: bench/explore.sh [RUN...]   (default: every run below)
# Environment: FAULTDISK (default: the launcher at the root), STATES (default 1000: the budget of
# the synchronous=FULL runs, which must show no violation), OTHER_STATES (default 300: the other
# runs), SEED (1), KEEP=1 keeps the run directories (reports) under $OUT (default a temporary
# directory).
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
faultdisk=${FAULTDISK:-$root/faultdisk}
states=${STATES:-1000}
other_states=${OTHER_STATES:-300}
seed=${SEED:-1}
out=${OUT:-$(mktemp -d /tmp/explore-bench.XXXXXX)}
mkdir -p "$out"
scripts=$root/interop/src/test/resources/explore
. "$root/bench/serve.sh"
serve_export "d=memory:256M"
if [ "${KEEP:-0}" = 1 ]; then trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT; fi

sqlite() { # NAME JOURNAL SYNC ROWS STATES: the SQLite demonstration, one row per transaction
  local env="JOURNAL=$2 SYNC=$3 ROWS=$4"
  explore "$1" --max-states "$5" \
    --setup "$env python3 $scripts/sqlite-setup.py \"\$1\"" \
    --workload "$env python3 $scripts/sqlite-workload.py \"\$1\"" \
    --check "sh $scripts/sqlite-check.sh \"\$1\" \"\$2\""
}

rename() { # NAME MOUNT-OPTIONS FSYNC: the temporary-file-and-rename application
  local env="LINES=50000 VERSIONS=8 FSYNC=$3"
  explore "$1" --max-states "$other_states" -o "$2" \
    --setup "$env sh $scripts/rename-setup.sh \"\$1\"" \
    --workload "$env sh $scripts/rename-workload.sh \"\$1\"" \
    --check "$env sh $scripts/rename-check.sh \"\$1\""
}

explore() { # NAME ARGS...
  local name=$1; shift
  local load0; load0=$(cut -d' ' -f1 /proc/loadavg)
  local rc=0
  $faultdisk explore --qmp "127.0.0.1:$qmp" --export d --uri "nbd://127.0.0.1:$nbd/d" --seed "$seed" \
    --run-dir "$out/$name" "$@" >"$out/$name.log" 2>&1 || rc=$?
  python3 - "$out/$name/report.json" "$name" "$load0" "$(cut -d' ' -f1 /proc/loadavg)" "$rc" <<'PY'
import json, sys
path, name, load0, load1, rc = sys.argv[1:]
try:
    r = json.load(open(path))
except OSError:
    print(f"{name}: no report (exit {rc}); see its .log"); sys.exit(0)
v = r["violations"]
first = r["first-violation-seconds"]
print(f"{name:<24} points {len(r['crash-points']):>4}  states {r['checked']:>5}  {r['states-per-minute']:>4} states/min"
      f"  violations {v:>4} {r['verdicts']}  first {'-' if first < 0 else str(first) + ' s'}"
      f"  load {load0}->{load1}")
PY
  # the base snapshot stays for --materialize; the export holds at most 64
  $faultdisk snapshot delete d "explore-$name" --qmp "127.0.0.1:$qmp" >/dev/null 2>&1 || true
}

runs=("$@")
[ ${#runs[@]} -eq 0 ] && runs=(sqlite-off sqlite-full-truncate sqlite-full-wal sqlite-normal-wal sqlite-full-delete
  sqlite-extra-delete rename-ordered rename-writeback rename-writeback-noauto rename-fsync-ordered rename-fsync-writeback)
echo "faultdisk explore: $states states (synchronous=FULL runs), $other_states (others), seed $seed, $(nproc) cores; reports in $out"
for run in "${runs[@]}"; do
  case $run in
    sqlite-off) sqlite "$run" delete off 50 "$other_states" ;;
    sqlite-full-truncate) sqlite "$run" truncate full 50 "$states" ;;
    sqlite-full-wal) sqlite "$run" wal full 100 "$states" ;;  # 50 rows give fewer than 1000 distinct states
    sqlite-normal-wal) sqlite "$run" wal normal 50 "$other_states" ;;
    sqlite-full-delete) sqlite "$run" delete full 50 "$other_states" ;;
    sqlite-extra-delete) sqlite "$run" delete extra 50 "$other_states" ;;
    rename-ordered) rename "$run" data=ordered 0 ;;
    rename-writeback) rename "$run" data=writeback 0 ;;
    rename-writeback-noauto) rename "$run" data=writeback,noauto_da_alloc 0 ;;  # no race: ExploreRenameTest's case
    rename-fsync-ordered) rename "$run" data=ordered 1 ;;
    rename-fsync-writeback) rename "$run" data=writeback 1 ;;
    *) echo "unknown run $run" >&2; exit 2 ;;
  esac
done
