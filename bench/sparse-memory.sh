#!/usr/bin/env bash
# A big sparse memory disk: a 16 TiB memory export, 1 GiB written to it at random (fio, 4 KiB
# writes at random 4 KiB-aligned offsets, seeded), then block status over the whole disk. For
# faultdisk (memory:16T) and nbdkit's memory plugin (a sparse array), one after the other:
#   - resident memory (VmRSS) before and after the writes: goal, in proportion to the 1 GiB;
#   - block status: `nbdinfo --map` over all 16 TiB (every extent, client and server), empty and
#     after the writes. Where Debian 13's root is there (scripts/trixie/build.sh, target/trixie;
#     TRIXIE_ROOT names another; run as root), also with its nbdinfo (libnbd 1.22), which asks for
#     extended headers: 64-bit extents, so an empty 16 TiB is one reply instead of 4,096 (nbdkit
#     1.42 and older answer without them, and that nbdinfo falls back).
#
# Usage: bench/sparse-memory.sh [SIZE [WRITTEN]]      (defaults 16T and 1G)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
size=${1:-16T}
written=${2:-1G}
for t in fio nbdinfo nbdkit; do command -v "$t" >/dev/null || { echo "needs $t" >&2; exit 1; }; done
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT
"$root/faultdisk" --version >/dev/null
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mib() { awk '$1 == "VmRSS:" {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
trixie=${TRIXIE_ROOT:-$root/target/trixie}
ext=""
[ -x "$trixie/usr/bin/nbdinfo" ] && [ "$(id -u)" = 0 ] && ext=yes
# Seconds and extents of `nbdinfo --map` of $1 (nbdinfo 1.14 here, or with "ext" Debian 13's).
map() {
  local start lines
  start=$(date +%s.%N)
  if [ "${2:-}" = ext ]; then
    lines=$(chroot "$trixie" nbdinfo --map "$1" | wc -l)
  else
    lines=$(nbdinfo --map "$1" | wc -l)
  fi
  printf '%.3f %s' "$(echo "$(date +%s.%N) - $start" | bc)" "$lines"
}
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cpus; commit $(git -C "$root" describe --always --dirty)"
printf '%-10s %10s %12s %12s %14s %10s %14s %12s %14s %16s\n' server "RSS empty" "RSS written" "heap live" "map extents" "map time" "write time" "empty map" "empty map ext" "map ext (extents)"
for s in faultdisk nbdkit; do
  p=$(port)
  if [ "$s" = faultdisk ]; then
    "$root/faultdisk" serve --export "big=memory:$size" --nbd "127.0.0.1:$p" --qmp none >"$out/$s.log" 2>&1 &
  else
    nbdkit --exit-with-parent -f -i 127.0.0.1 -p "$p" -e big memory "$size" >"$out/$s.log" 2>&1 &
  fi
  pid=$!
  for _ in $(seq 200); do nbdinfo --size "nbd://127.0.0.1:$p/big" >/dev/null 2>&1 && break; sleep 0.25; done
  sleep 1
  before=$(mib "$pid")
  read -r empty _ <<<"$(map "nbd://127.0.0.1:$p/big")"
  emptyext="-"
  [ -n "$ext" ] && read -r emptyext _ <<<"$(map "nbd://127.0.0.1:$p/big" ext)" && emptyext="$emptyext s"
  start=$(date +%s.%N)
  fio --name=w --ioengine=nbd --uri="nbd://127.0.0.1:$p/big" --rw=randwrite --bs=4k --iodepth=16 \
    --size="$size" --io_size="$written" --norandommap --randrepeat=1 --randseed=17 \
    --output="$out/fio-$s.txt" >/dev/null 2>&1
  wrote=$(echo "$(date +%s.%N) - $start" | bc)
  sleep 2
  after=$(mib "$pid")
  read -r mapped extents <<<"$(map "nbd://127.0.0.1:$p/big")"
  mapext="-"
  [ -n "$ext" ] && mapext=$(map "nbd://127.0.0.1:$p/big" ext | awk '{printf "%.2f s (%s)", $1, $2}')
  gc="-"
  if [ "$s" = faultdisk ]; then
    # RSS includes the run's garbage and heap kept committed: the heap in use after a full
    # collection is what the export's data and index really hold.
    jcmd="$(dirname "$(readlink -f "/proc/$pid/exe")")/jcmd"
    "$jcmd" "$pid" GC.run >/dev/null 2>&1 &&
      gc="$("$jcmd" "$pid" GC.heap_info | awk '/garbage-first heap/ {for (i = 1; i <= NF; i++) if ($i == "used") {v = $(i + 1); sub(/K,?/, "", v); printf "%.0f M", v / 1024}}')"
  fi
  printf '%-10s %8s M %10s M %12s %14s %9.2f s %12.1f s %10.3f s %14s %16s\n' "$s" "$before" "$after" "$gc" "$extents" "$mapped" "$wrote" "$empty" "$emptyext" "$mapext"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
