#!/usr/bin/env bash
# fio from Debian 13 (fio 3.39 on libnbd 1.22, which asks for NBD's extended headers) against
# faultdisk, Debian 13's qemu-nbd 10 (which speaks them) and nbdkit 1.42 (which does not: the
# client falls back to structured replies), all serving the same 1 GiB image in /dev/shm over
# loopback TCP; rounds interleaved; one line per run, then the medians and ratios.
# Runs in the Debian 13 root of scripts/trixie/build.sh (target/trixie, or TRIXIE_ROOT) with chroot,
# as root; installs fio into that root on first use (from Debian's mirror), bind-mounts /dev/shm.
#
# Usage: bench/current-clients.sh [ROUNDS [RUNTIME]]      (defaults 3 rounds of 8 s per run)
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
rounds=${1:-3}
runtime=${2:-8}
root=${TRIXIE_ROOT:-$here/target/trixie}
[ "$(id -u)" = 0 ] || { echo "needs root (chroot)" >&2; exit 1; }
[ -x "$root/usr/bin/nbdkit" ] || root=$("$here/scripts/trixie/build.sh" "$root")
if [ ! -x "$root/usr/bin/fio" ]; then
  chroot "$root" bash -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fio' >/dev/null
fi
mounted=""
img=/dev/shm/current-clients-1024m.img
[ -f "$img" ] || dd if=/dev/urandom of="$img" bs=1M count=1024 status=none
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A port=([faultdisk]=$(port) [qemu-nbd]=$(port) [nbdkit]=$(port))
out=$(mktemp -d)
# The bind mount goes with the run: scripts/trixie/build.sh deletes a root it remakes.
trap 'kill $(jobs -p) 2>/dev/null || true; pkill -f "current-clients-1024m.img" || true; rm -rf "$out"; [ -z "$mounted" ] || umount "$root/dev/shm"' EXIT
mkdir -p "$root/dev/shm"
mountpoint -q "$root/dev/shm" || { mount --bind /dev/shm "$root/dev/shm"; mounted=yes; }
"$here/faultdisk" serve --nbd "127.0.0.1:${port[faultdisk]}" --qmp none --export "bench=$img" >"$out/faultdisk.log" 2>&1 &
chroot "$root" qemu-nbd --persistent --shared=8 --format=raw --export-name=bench -b 127.0.0.1 \
  -p "${port[qemu-nbd]}" "$img" >"$out/qemu-nbd.log" 2>&1 &
chroot "$root" nbdkit --foreground -i 127.0.0.1 -p "${port[nbdkit]}" file "$img" >"$out/nbdkit.log" 2>&1 &
for s in faultdisk qemu-nbd nbdkit; do
  for _ in $(seq 200); do chroot "$root" nbdinfo --size "nbd://127.0.0.1:${port[$s]}/bench" >/dev/null 2>&1 && break; sleep 0.25; done
done
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cpus; commit $(git -C "$here" describe --always --dirty)"
run() { # rw bs iodepth server -> "IOPS MiB/s"
  chroot "$root" fio --name=j --ioengine=nbd --uri="nbd://127.0.0.1:${port[$4]}/bench" --rw="$1" --bs="$2" \
    --iodepth="$3" --size=1G --time_based --runtime="$runtime" --ramp_time=1 --output-format=json 2>/dev/null |
    python3 -c 'import json,sys; t=sys.stdin.read(); j=json.loads(t[t.index("{"):])["jobs"][0]; r=j["read"]; w=j["write"]; print("%.0f %.1f" % (r["iops"]+w["iops"], (r["bw"]+w["bw"])/1024))'
}
servers=(faultdisk qemu-nbd nbdkit)
for r in $(seq "$rounds"); do
  for wl in "randread 4k 16" "read 1m 8" "randrw 4k 16"; do
    for s in "${servers[@]}"; do
      # shellcheck disable=SC2086
      echo "round $r | $wl | $s | $(run $wl "$s")" | tee -a "$out/runs"
    done
  done
  servers=("${servers[@]:1}" "${servers[0]}") # the order rotates from round to round
done
python3 - "$out/runs" <<'PY'
import statistics, sys
rows = [l.split(" | ") for l in open(sys.argv[1]).read().splitlines()]
by = {}
for _, wl, s, v in rows:
    iops, mib = map(float, v.split())
    by.setdefault(wl, {}).setdefault(s, []).append(mib if wl.startswith("read 1m") else iops)
print("| workload | faultdisk | qemu-nbd 10 | nbdkit 1.42 | faultdisk/nbdkit | faultdisk/qemu-nbd |")
print("|---|---|---|---|---|---|")
for wl, v in by.items():
    m = {s: statistics.median(x) for s, x in v.items()}
    unit = " MiB/s" if wl.startswith("read 1m") else " IOPS"
    print("| %s | %.0f%s | %.0f | %.0f | %.2f | %.2f |" % (wl, m["faultdisk"], unit, m["qemu-nbd"], m["nbdkit"],
          m["faultdisk"] / m["nbdkit"], m["faultdisk"] / m["qemu-nbd"]))
PY
