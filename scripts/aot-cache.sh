#!/usr/bin/env bash
# scripts/aot-cache.sh [JAR [CACHE]]: makes the JVM's ahead-of-time cache for a faultdisk jar
# (JDK 25: the classes loaded and linked, JEP 483, and the methods' profiles, JEP 515) from a
# training run: `serve` with a file and a memory export on loopback, driven for about fifteen
# seconds by fio (reads and writes large and small, flushes, trims, a 1 ms read delay added over
# QMP, connections coming and going) and by nbdinfo's block-status map when it is installed. A
# server started with the cache compiles its hot paths from the training's profiles at once, so
# its first connections run as later ones do instead of paying for the JIT's warm-up and its
# recompiles at the first connection's end (docs/BENCHMARKS.md, "The AOT cache").
#   JAR    default cli/target/faultdisk.jar
#   CACHE  default JAR with .aot for .jar: where ./faultdisk looks (scripts/aot-option.sh); the
#          JDK it was made with is named in CACHE.jdk
#   JAVA   (environment) the java to train with, default $JAVA_HOME/bin/java: a cache holds only
#          for the JDK and the jar (path, size and time) it was made with; a JVM given another
#          runs without it.
#   AOT_TRAINER (environment) fio, the default, or warm-up. Without fio and its nbd engine the
#          training is the server's own warm-up (`serve --warm-up`: 4 KiB reads, writes, zeroes,
#          trims and flushes on a scratch file beside the image and on a memory copy, which also
#          takes 256 KiB reads, plain and with a 1 ms delay, over four connections each; no large
#          writes), a narrower cache: what it never ran is profiled and compiled at run time, as
#          without one. fio's training sends no zeroes (fio cannot); a two-second warm-up before
#          it trained them, but the 1 ms delay's p99 came out 0.1-0.15 ms worse in eight of ten
#          rounds, at the edge of this machine's noise (docs/BENCHMARKS.md, "This round (after
#          40376ae)"): not kept.
# A run that fails on the way leaves no cache.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jar=$(readlink -f "${1:-$root/cli/target/faultdisk.jar}")
cache=${2:-${jar%.jar}.aot}
[ -f "$jar" ] || { echo "aot-cache: no jar $jar" >&2; exit 1; }
trainer=${AOT_TRAINER:-fio}
case "$trainer" in fio|warm-up) ;; *) echo "aot-cache: AOT_TRAINER is fio or warm-up, not $trainer" >&2; exit 2 ;; esac
if [ "$trainer" = fio ] && ! command -v fio >/dev/null; then
  echo "aot-cache: fio is not installed: training on the server's own warm-up only (no large writes)" >&2
  trainer=warm-up
fi
if [ -z "${JAVA:-}" ]; then
  . "$root/scripts/find-jdk.sh"
  JAVA=$JAVA_HOME/bin/java
fi
work=$(mktemp -d)
pid= trained=no
# A training cut short leaves no cache: the JVM would write one of what it saw when stopped.
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ "$trained" != yes ]; then
    rm -f "$cache" "$cache.config" "$cache.jdk"
    echo "aot-cache: the training run failed, no cache; its clients said:" >&2
    cat "$work/fio.out" "$work/ctl.out" 2>/dev/null | tail -n 20 >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT
mapfile -t jvm_options < <("$root/scripts/jvm-options.sh")
rm -f "$cache" "$cache.jdk"
# The cache is written when the JVM exits (SIGTERM below): a second JVM assembles it from what the
# first recorded.
# The warm-up trainer's work is done before the server prints its banner.
warm_up=()
[ "$trainer" = warm-up ] && warm_up=(--warm-up 8s)
"$JAVA" "${jvm_options[@]}" "-XX:AOTCacheOutput=$cache" -Xlog:aot=error -jar "$jar" serve \
  --export "file=$work/image,size=256M,locking=off" --export mem=memory:256M \
  --nbd 127.0.0.1:0 --qmp 127.0.0.1:0 "${warm_up[@]}" >"$work/serve.out" 2>&1 &
pid=$!
for _ in $(seq 300); do
  grep -q '^Stop with Ctrl-C' "$work/serve.out" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.out" >&2; exit 1; }
  sleep 0.1
done
nbd=$(sed -n 's/^faultdisk: serving NBD on //p' "$work/serve.out")
qmp=$(sed -n 's/^faultdisk: QMP control on //p' "$work/serve.out")
[ -n "$nbd" ] && [ -n "$qmp" ] || { echo "aot-cache: the server did not start" >&2; cat "$work/serve.out" >&2; exit 1; }
# run EXPORT SECONDS FIO-OPTION...: one connection's workload
run() {
  local export=$1 seconds=$2
  shift 2
  fio --name=train --ioengine=nbd "--uri=nbd://$nbd/$export" --time_based "--runtime=$seconds" \
    --output=/dev/null "$@" >>"$work/fio.out" 2>&1
}
# train_with_fio: large and small reads and writes, flushes, trims and QD1 reads on both exports,
# then a 1 ms read delay: the delayed requests' path, over three connections one after another
# (the second and third start after a connection ended, as on a server that has seen clients go).
train_with_fio() {
  for export in file mem; do
    run "$export" 1 --rw=write --bs=1M --iodepth=8
    run "$export" 1 --rw=read --bs=1M --iodepth=8
    run "$export" 1 --rw=randrw --bs=4k --iodepth=16 --fsync=32
    run "$export" 1 --rw=randtrim --bs=64k --iodepth=4
  done
  run file 1 --rw=randread --bs=4k --iodepth=1
  fd faults add file delay,ops=read,ms=1
  for _ in 1 2 3; do
    run file 2 --rw=randread --bs=4k --iodepth=64
  done
  fd faults clear file
  run file 1 --rw=randread --bs=4k --iodepth=16
}
fd() { "$JAVA" "${jvm_options[@]}" -jar "$jar" "$@" --qmp "$qmp" >>"$work/ctl.out" 2>&1; }
if [ "$trainer" = fio ]; then
  train_with_fio
elif ! grep -q '^faultdisk: warmed up with' "$work/serve.out"; then
  echo "aot-cache: the server's warm-up did not run" >&2
  cat "$work/serve.out" >&2
  exit 1
fi
if command -v nbdinfo >/dev/null; then
  nbdinfo --map "nbd://$nbd/file" >/dev/null
fi
trained=yes
kill -TERM "$pid"
wait "$pid" || true
pid=
[ -s "$cache" ] || { echo "aot-cache: no cache written" >&2; cat "$work/serve.out" >&2; exit 1; }
"$root/scripts/aot-jdk.sh" "$(dirname "$(dirname "$(readlink -f "$JAVA")")")" >"$cache.jdk"
echo "aot-cache: $cache ($(du -h "$cache" | cut -f1)) for $jar"
