#!/usr/bin/env bash
# Block status under a snapshot: a big sparse disk with WRITTEN bytes of 4 KiB writes at random
# (fio, seeded), a snapshot, as many again over it (elsewhere), then `nbdinfo --map` of the whole
# disk, timed, three times: before the snapshot, right after it, and after the writes over it.
#   - faultdisk: a memory export of SIZE, the snapshot by `faultdisk snapshot create`;
#   - qemu-nbd: the same as a qcow2 chain, which is what a snapshot is to QEMU: the first writes
#     into base.qcow2, an overlay backed by it (qemu-img create -b), the second writes into the
#     overlay; 8 KiB clusters (4 KiB ones cap an image at 8 TiB), so the images hold about twice
#     what was written (in /dev/shm if it has room, else /var/tmp). qemu-nbd serves one image at
#     a time, so it is stopped and started on the overlay between the two.
# nbdkit has no snapshots; its cow filter (an overlay) aborts on block status in 1.32
# ("extents_to_block_descriptors: Assertion `e.length <= length' failed").
#
# Usage: bench/snapshot-map.sh [SIZE [WRITTEN]]      (defaults 16T and 256M; about 13 minutes
# here, nearly all of it qemu-nbd taking the writes into qcow2)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
size=${1:-16T}
written=${2:-256M}
for t in fio nbdinfo qemu-nbd qemu-img; do command -v "$t" >/dev/null || { echo "needs $t" >&2; exit 1; }; done
dir=/dev/shm
[ "$(df --output=avail -k /dev/shm | tail -1)" -gt $((4 * 1024 * 1024)) ] || dir=/var/tmp
out=$(mktemp -d "$dir/snapshot-map.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT
"$root/faultdisk" --version >/dev/null
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mib() { awk '$1 == "VmRSS:" {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
wait_up() { for _ in $(seq 200); do nbdinfo --size "$1" >/dev/null 2>&1 && return; sleep 0.25; done; echo "no server at $1" >&2; exit 1; }
# fio's random offsets do not change with --randseed here, so the second pass is shifted instead.
writes() {
  fio --name=w --ioengine=nbd --uri="$1" --rw=randwrite --bs=4k --size="$size" --io_size="$written" \
    --randseed=7 --offset="$2" --iodepth=16 --norandommap --random_generator=tausworthe64 --output=/dev/null
}
# Seconds and extents of `nbdinfo --map` of $1.
map() {
  local start lines
  start=$(date +%s.%N)
  lines=$(nbdinfo --map "$1" | wc -l)
  printf '%.3f s %s extents' "$(echo "$(date +%s.%N) - $start" | bc)" "$lines"
}
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cpus; commit $(git -C "$root" describe --always --dirty); $size, $written written twice; images in $dir"

nbd=$(port)
qmp=$(port)
"$root/faultdisk" serve --nbd "127.0.0.1:$nbd" --qmp "127.0.0.1:$qmp" --export "d=memory:$size" >"$out/serve.log" 2>&1 &
pid=$!
uri="nbd://127.0.0.1:$nbd/d"
wait_up "$uri"
writes "$uri" 0
before=$(map "$uri")
"$root/faultdisk" snapshot create d s1 --qmp "127.0.0.1:$qmp" >/dev/null
after=$(map "$uri")
writes "$uri" 123456k
over=$(map "$uri")
build=${FAULTDISK_JAR:-"the launcher's build"}
echo "faultdisk ($build): before the snapshot $before; after it $after; with $written over it $over; RSS $(mib "$pid") MiB"
kill "$pid"
wait "$pid" 2>/dev/null || true

qemu-img create -q -f qcow2 -o cluster_size=8192 "$out/base.qcow2" "$size"
nbd=$(port)
uri="nbd://127.0.0.1:$nbd/d"
qemu-nbd -f qcow2 -b 127.0.0.1 -p "$nbd" -x d -t "$out/base.qcow2" 2>"$out/qemu-nbd.log" &
pid=$!
wait_up "$uri"
writes "$uri" 0
before=$(map "$uri")
kill "$pid"
wait "$pid" 2>/dev/null || true
qemu-img create -q -f qcow2 -o cluster_size=8192 -b "$out/base.qcow2" -F qcow2 "$out/over.qcow2"
qemu-nbd -f qcow2 -b 127.0.0.1 -p "$nbd" -x d -t "$out/over.qcow2" 2>>"$out/qemu-nbd.log" &
pid=$!
wait_up "$uri"
after=$(map "$uri")
writes "$uri" 123456k
over=$(map "$uri")
echo "qemu-nbd $(qemu-nbd --version | head -1 | awk '{print $2}') (qcow2 chain): before the overlay $before; after it $after; with $written over it $over; RSS $(mib "$pid") MiB"
