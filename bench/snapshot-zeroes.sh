#!/usr/bin/env bash
# Zeroes under a snapshot: a 100 GiB memory export with 64 MiB written and a snapshot taken, then
# 48 GiB zeroed in twelve WRITE_ZEROES of 4 GiB less 4 KiB (the most a client without NBD's
# extended headers sends; libnbd's Python bindings), then `nbdinfo --map` of the whole export.
# Prints the zeroing time, the map's time and extents, and the server's resident memory. Runs the
# launcher's build, or FAULTDISK_JAR's (for A/B: run it once per jar).
#
# Usage: bench/snapshot-zeroes.sh            (needs nbdinfo, qemu-io, python3-libnbd)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
for t in nbdinfo qemu-io; do command -v "$t" >/dev/null || { echo "needs $t" >&2; exit 1; }; done
/usr/bin/python3 -c 'import nbd' 2>/dev/null || { echo "needs python3-libnbd" >&2; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT
nbd=$(port)
qmp=$(port)
"$root/faultdisk" serve --nbd "127.0.0.1:$nbd" --qmp "127.0.0.1:$qmp" --export d=memory:100G >"$out/serve.log" 2>&1 &
pid=$!
for _ in $(seq 200); do nbdinfo --size "nbd://127.0.0.1:$nbd/d" >/dev/null 2>&1 && break; sleep 0.25; done
qemu-io -f raw -c 'write -P 1 0 64M' "nbd://127.0.0.1:$nbd/d" >/dev/null
"$root/faultdisk" snapshot create d s1 --qmp "127.0.0.1:$qmp" >/dev/null
start=$(date +%s.%N)
# From /tmp: a directory named nbd (this repository's module) would shadow the bindings.
(cd /tmp && /usr/bin/python3 - "$nbd") <<'PY'
import nbd, sys
h = nbd.NBD()
h.connect_uri("nbd://127.0.0.1:%s/d" % sys.argv[1])
step = (4 << 30) - 4096
for i in range(12):
    h.zero(step, (1 << 20) + i * step)
h.shutdown()
PY
zeroed=$(date +%s.%N)
extents=$(nbdinfo --map "nbd://127.0.0.1:$nbd/d" | wc -l)
mapped=$(date +%s.%N)
printf '%s at commit %s, load %s: zero 48 GiB %.3f s; nbdinfo --map %.3f s, %s extents; RSS %s MiB\n' \
  "${FAULTDISK_JAR:-the launcher's build}" "$(git -C "$root" describe --always --dirty)" "$(cut -d' ' -f1 /proc/loadavg)" \
  "$(echo "$zeroed - $start" | bc)" "$(echo "$mapped - $zeroed" | bc)" "$extents" \
  "$(awk '$1 == "VmRSS:" {printf "%.0f", $2 / 1024}' "/proc/$pid/status")"
