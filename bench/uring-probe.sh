#!/usr/bin/env bash
# What a 4 KiB read of a cached file costs through io_uring (16 per io_uring_enter, unlinked and
# linked) against pread, on the file system of FILE, and whether io_uring hands the reads to its
# worker threads there (iou-wrk: the file system cannot read without blocking, e.g. tmpfs here).
# docs/BENCHMARKS.md, "io_uring".
#
# Usage: bench/uring-probe.sh FILE      (a file of some 100 MiB or more; it is read once first)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
file=${1:?usage: bench/uring-probe.sh FILE}
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
classes="$root/nbd/target/classes"
[ -f "$classes/dev/faultdisk/nbd/IoUring.class" ] || { echo "build first: ./mvnw -B -q package -DskipTests" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$java_home/bin/javac" -cp "$classes" -d "$out" "$root/bench/UringReadProbe.java"
cat "$file" >/dev/null
echo "$(stat -f -c %T "$file") ($file), load average $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
"$java_home/bin/java" --enable-native-access=ALL-UNNAMED -cp "$out:$classes" dev.faultdisk.nbd.UringReadProbe "$file" &
pid=$!
sleep 2
echo "io_uring worker threads (iou-wrk) after 2 s: $(ps -T -p "$pid" -o comm= | grep -c '^iou-wrk' || true)"
wait "$pid"
