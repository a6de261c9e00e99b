#!/usr/bin/env bash
# bench/zeroes.sh [--rounds N] [--size-mib N] [--dir DIR]
# Zeroing a written image over NBD: faultdisk, nbdkit (file plugin) and qemu-nbd, each serving an
# image file of its own on a Unix socket, interleaved. Each round and server: qemu-io writes the
# whole image (a pattern, so every block is allocated and holds data), then zeroes it with one
# request, timed by qemu-io: `write -z` (WRITE_ZEROES with NO_HOLE: the blocks stay allocated) and,
# after writing it again, `write -z -u` (may punch holes); then 20,000 NO_HOLE zeroes of 4 KiB at
# random offsets of the image written again (after unmeasured passes of the same for two seconds,
# as compare.sh warms up), 16 in flight, from libnbd's Python bindings (python3-libnbd; timed by
# the client).
# Prints each round's times, then per server and workload the median in ms and faultdisk's speed
# against each (their time / its time). The images go to --dir (default /var/tmp, disk-backed;
# /dev/shm for tmpfs, which has no ZERO_RANGE: zeroes that keep the blocks are punched and
# allocated again there).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 size_mib=1024 dir=/var/tmp
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
  esac
done
for tool in qemu-io nbdkit qemu-nbd; do
  command -v "$tool" >/dev/null || { echo "zeroes.sh: needs $tool" >&2; exit 2; }
done
python=/usr/bin/python3 # Debian's python3-libnbd is for the system's own
"$python" -c 'import nbd' 2>/dev/null || { echo "zeroes.sh: needs python3-libnbd" >&2; exit 2; }
work=$(mktemp -d "$dir/faultdisk-zeroes.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
servers=(faultdisk nbdkit qemu-nbd)
for s in "${servers[@]}"; do
  truncate -s "${size_mib}M" "$work/$s.img"
done
"$root/faultdisk" serve --export "bench=$work/faultdisk.img" --nbd "unix:$work/faultdisk.sock" --qmp none \
  >"$work/faultdisk.log" 2>&1 &
pids+=($!)
nbdkit --exit-with-parent -f -U "$work/nbdkit.sock" -e bench file "$work/nbdkit.img" >"$work/nbdkit.log" 2>&1 &
pids+=($!)
# --discard=unmap: qemu-nbd ignores trims (and so holes from write -z -u) by default.
qemu-nbd -f raw --cache=writeback --discard=unmap -k "$work/qemu-nbd.sock" -x bench -t "$work/qemu-nbd.img" \
  >"$work/qemu-nbd.log" 2>&1 &
pids+=($!)
for s in "${servers[@]}"; do
  for _ in $(seq 600); do [ -S "$work/$s.sock" ] && break; sleep 0.1; done
  [ -S "$work/$s.sock" ] || { echo "zeroes.sh: $s did not start: $(cat "$work/$s.log")" >&2; exit 1; }
done
uri() { echo "nbd+unix:///bench?socket=$work/$1.sock"; }
# qemu-io's own time for one command, in ms ("... 1 ops; 00.05 sec (...)" or "0:00:05.12").
timed() {
  local line t
  line=$(qemu-io -f raw -c "$2" "$(uri "$1")" | tail -1)
  t=$(sed -E 's/.*ops; ([0-9:.]+) .*/\1/' <<<"$line")
  awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.1f\n", s * 1000 }' <<<"$t"
}
# 20,000 NO_HOLE zeroes of 4 KiB at seeded random offsets, 16 in flight: the client's time in ms.
small_zeroes() {
  "$python" - "$(uri "$1")" "$size" <<'PY'
import nbd, random, sys, time
h = nbd.NBD()
h.connect_uri(sys.argv[1])
pages = int(sys.argv[2]) // 4096
rnd = random.Random(1)
count, done, issued = 20000, [0], 0
def finished(err):
    done[0] += 1
    return 1
start = time.monotonic()
while done[0] < count:
    while issued < count and h.aio_in_flight() < 16:
        h.aio_zero(4096, rnd.randrange(pages) * 4096, completion=finished, flags=nbd.CMD_FLAG_NO_HOLE)
        issued += 1
    h.poll(-1)
print(f"{(time.monotonic() - start) * 1000:.1f}")
PY
}
# Unmeasured passes of the same for at least two seconds of the client's time, as compare.sh warms
# each round up for two: one pass (0.2-0.5 s here) left faultdisk's JIT recompiling its request
# path for a client sending zeroes alone well into the measured pass (docs/BENCHMARKS.md, "This
# round (after 40376ae)").
warm_up_zeroes() {
  local spent=0
  while [ "$spent" -lt 2000 ]; do
    spent=$((spent + $(small_zeroes "$1" | cut -d. -f1)))
  done
}
declare -A times
size=$((size_mib << 20))
for r in $(seq "$rounds"); do
  order=("${servers[@]:r%3}" "${servers[@]:0:r%3}")
  for w in zero zero-unmap zero4k; do
    for s in "${order[@]}"; do
      case "$w" in
        zero4k)
          warm_up_zeroes "$s"
          qemu-io -f raw -c "write -P 0x5a 0 $size" "$(uri "$s")" >/dev/null
          t=$(small_zeroes "$s")
          ;;
        *)
          qemu-io -f raw -c "write -P 0x5a 0 $size" "$(uri "$s")" >/dev/null
          cmd="write -z 0 $size"
          [ "$w" = zero-unmap ] && cmd="write -z -u 0 $size"
          t=$(timed "$s" "$cmd")
          ;;
      esac
      times[$s,$w]+="$t "
      echo "round $r $w $s: $t ms"
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "median ms (faultdisk's speed: nbdkit's time / its time, qemu-nbd's time / its time):"
for w in zero zero-unmap zero4k; do
  fd=$(median <<<"${times[faultdisk,$w]}")
  kit=$(median <<<"${times[nbdkit,$w]}")
  qn=$(median <<<"${times[qemu-nbd,$w]}")
  awk -v w="$w" -v fd="$fd" -v kit="$kit" -v qn="$qn" \
    'BEGIN { printf "  %-11s faultdisk %8.1f  nbdkit %8.1f  qemu-nbd %8.1f  speed %.2f / %.2f\n", w, fd, kit, qn, kit / fd, qn / fd }'
done
