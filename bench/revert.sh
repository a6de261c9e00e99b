#!/usr/bin/env bash
# How long a snapshot revert takes, against the size of the change, beside QEMU's internal qcow2
# snapshots: a 4 GiB memory export gets a snapshot, then 256 MiB of random 4 KiB writes (65536
# distinct blocks, seeded) or a single 4 KiB write through NBD, then snapshot-revert is timed as
# the QMP round trip a client sees. The same change is written into a 4 GiB qcow2 image after
# `qemu-img snapshot -c`, and `qemu-img snapshot -a` is timed (a process, so it includes opening
# the image). Each figure is the median of RUNS reverts (RUNS_SMALL for the one-write case, which
# is cheap to repeat: its early rounds run before the JIT compiled the path); beside faultdisk's,
# the median round trip of query-version on the same connection, the floor any QMP command pays.
#
# Usage: bench/revert.sh
# Environment: FAULTDISK, the command that runs faultdisk (default: the launcher at the root);
# RUNS (default 5), RUNS_SMALL (default 50), CASES (default "big small").
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
faultdisk=${FAULTDISK:-$root/faultdisk}
runs=${RUNS:-5}
runs_small=${RUNS_SMALL:-50}
cases=${CASES:-big small}
out=$(mktemp -d /tmp/revert-bench.XXXXXX)
. "$root/bench/serve.sh"
serve_export "d=memory:4G"

# writes COUNT: qemu-io commands writing COUNT distinct random 4 KiB blocks of 4 GiB (seeded).
writes() {
  python3 - "$1" <<'PY'
import random, sys
rng = random.Random(42)
for block in rng.sample(range(1 << 20), int(sys.argv[1])):
    print(f"write -P {block % 251} {block * 4096} 4k")
PY
}
writes 65536 >"$out/big.cmds"
writes 1 >"$out/small.cmds"

# faultdisk CMDS N: median milliseconds of snapshot-revert after the writes in CMDS, over N rounds,
# and the median query-version round trip.
faultdisk_revert() {
  python3 - "$qmp" "$nbd" "$1" "$2" <<'PY'
import json, socket, statistics, subprocess, sys, time
qmp_port, nbd_port, cmds, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.create_connection(("127.0.0.1", int(qmp_port)))
f = s.makefile("rw")
f.readline()  # greeting
def call(cmd, args=None):
    f.write(json.dumps({"execute": cmd, "arguments": args or {}}) + "\n")
    f.flush()
    while True:
        reply = json.loads(f.readline())
        if "event" not in reply:
            if "error" in reply:
                sys.exit(f"{cmd}: {reply['error']}")
            return reply["return"]
call("qmp_capabilities")
call("snapshot-create", {"device": "d", "name": "base"})
times = []
for _ in range(runs):
    with open(cmds) as c:
        subprocess.run(["qemu-io", "-f", "raw", f"nbd://127.0.0.1:{nbd_port}/d"], stdin=c,
                       stdout=subprocess.DEVNULL, check=True)
    start = time.perf_counter()
    reply = call("snapshot-revert", {"device": "d", "name": "base"})
    times.append((time.perf_counter() - start) * 1000)
    assert reply["bytes-reverted"] > 0, reply
call("snapshot-delete", {"device": "d", "name": "base"})
# The floor: the same round trip for a command that does nothing (query-version).
floor = []
for _ in range(100):
    start = time.perf_counter()
    call("query-version")
    floor.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(times):.3f} {statistics.median(floor):.3f}")
PY
}

# qemu CMDS N: median milliseconds of `qemu-img snapshot -a` after the writes in CMDS, over N rounds.
qemu_revert() {
  local image=$out/disk.qcow2 times=() runs=$2
  qemu-img create -q -f qcow2 "$image" 4G
  qemu-img snapshot -c base "$image"
  for _ in $(seq "$runs"); do
    qemu-io -f qcow2 "$image" <"$1" >/dev/null
    local start end
    start=$(date +%s%N)
    qemu-img snapshot -a base "$image"
    end=$(date +%s%N)
    times+=("$(( (end - start) / 1000 ))")
  done
  rm -f "$image"
  printf '%s\n' "${times[@]}" | python3 -c 'import statistics, sys; print(f"{statistics.median(int(l) for l in sys.stdin) / 1000:.3f}")'
}

printf '%-32s %15s %22s %26s\n' "change since the snapshot" "faultdisk (ms)" "QMP round trip (ms)" \
  "qemu-img snapshot -a (ms)"
for case in $cases; do
  if [ "$case" = big ]; then
    label="256 MiB of random 4 KiB writes" n=$runs
  else
    label="one 4 KiB write" n=$runs_small
  fi
  read -r revert floor < <(faultdisk_revert "$out/$case.cmds" "$n")
  printf '%-32s %15s %22s %26s\n' "$label" "$revert" "$floor" "$(qemu_revert "$out/$case.cmds" "$n")"
done
