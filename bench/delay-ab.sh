#!/usr/bin/env bash
# bench/delay-ab.sh [--rounds N] [--qd N[,N...]] [--delay-ms N] [--runtime S] [--ramp S]
#   [--warm-ups N] [--client fio|light] [--transport tcp|unix] [--listener]
# SERVER...: builds of
# faultdisk (and nbdkit) against each other on injected delays, interleaved: per round, queue depth
# and server, `java -jar JAR serve --max-in-flight 64` with one read delay rule (default 1 ms) added
# over QMP, or for the name `nbdkit`, nbdkit's delay filter with one worker thread per request in
# flight (`-t QD`, so its pool is not the limit); fio randread 4 KiB at each queue depth --qd
# (default 64; 2 s warm-up, then --runtime s, default 5) measured. Prints IOPS, fio's clat p50 /
# p99 / p99.9, the server's CPU and fio's own CPU per read, the server's resident memory after the
# warm-up and at the end, and the load average. JVM options per build from OPTS_0, OPTS_1, ...,
# after the launcher's own (scripts/jvm.options, and the jar's AOT cache when scripts/aot-cache.sh
# made one: each build runs as ./faultdisk runs it). Image:
# bench/compare.sh's 256 MiB one (BENCH_FILE to choose). For before/after runs of a change to the
# delay path, e.g.
#   git stash; ./mvnw -q package -DskipTests; cp cli/target/faultdisk.jar /tmp/before.jar; git stash pop
#   ./mvnw -q package -DskipTests; bench/delay-ab.sh --qd 1 /tmp/before.jar cli/target/faultdisk.jar
# and for how latency grows with the queue depth:
#   bench/delay-ab.sh --rounds 2 --qd 1,8,16,32,64 cli/target/faultdisk.jar nbdkit
# --client light: bench/qd-client.c (compiled with cc) instead of fio, a client far lighter than
# libnbd (1.5-2.5 µs of CPU per read where fio's nbd engine and nbdcopy take 11-12): every reply
# that has arrived read with one recv, the reads replacing them sent with one send; it shows what
# the server does when the client is not the limit.
# --transport unix: the NBD connection over a Unix socket instead of TCP on 127.0.0.1 (the
# default), for servers and clients alike; it shows what the loopback TCP stack costs.
# --listener: a QMP client on each faultdisk server reading every event (one FAULT_INJECTED per
# delayed read), as a test harness that listens would; its count of events read and dropped is
# printed under each round.
# The name `floor`: bench/floor-server.c (compiled with cc), the least a server can do to delay
# reads (one thread, exact deadlines, no rules or events): what the client and the machine allow.
# OPTS_N for a floor are its environment settings (OPTS_1="FLOOR_THREADS=2 FLOOR_KSTAMP=1").
# RULE_N: JSON members added to faultdisk build N's delay rule (RULE_1='{"events": false}').
# ARGS_N: arguments added to faultdisk build N's `serve` (ARGS_0='--warm-up 1s': with --warm-ups 0,
# the server's first connection after its own warm-up).
# --ramp S: the measured fio run first runs S s on its connection unmeasured (fio's ramp_time),
# for the steady state alone: a connection's first 0.3 s at QD64 is slower against every server,
# the floor too (all 64 reads sent at once fall due at once, and take time to spread out), and a
# JVM server's first second after a connection turnover (--warm-ups below). The server's CPU a
# read is then its CPU over the whole run scaled by runtime / (ramp + runtime), an approximation
# (the ramp's pace is a little lower). fio only.
# --warm-ups N: N warm-up runs of 2 s before the measured one (default 1), each on a connection of
# its own. The JIT compiles a JVM server's hot paths with what the first connection did: when that
# connection ends and the next starts, paths it never took (its end, a new connection's first
# wait) trap and the hot methods run less optimised until compiled again, about 0.7 s
# (-XX:+PrintCompilation: "made not entrant: uncommon trap" at the turnover). With 2 the measured
# connection comes after one turnover, as it would on a server that has seen clients come and go.
# With 0 it is the server's first connection, as a test's first workload is: the JIT's warm-up
# falls in it, unless the jar has an AOT cache (scripts/aot-cache.sh).
set -euo pipefail
rounds=3 qds=64 delay_ms=1 runtime=5 ramp=0 warmups=1 client=fio transport=tcp listener=no lpid=
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --qd) qds=$2; shift 2 ;;
    --delay-ms) delay_ms=$2; shift 2 ;;
    --runtime) runtime=$2; shift 2 ;;
    --ramp) ramp=$2; shift 2 ;;
    --warm-ups) warmups=$2; shift 2 ;;
    --client) client=$2; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    --listener) listener=yes; shift ;;
    -h|--help) sed -n '2,48p' "$0"; exit 0 ;;
    -*) echo "delay-ab.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "delay-ab.sh: name at least one jar (or nbdkit, floor)" >&2; exit 2; }
servers=("$@")
file=${BENCH_FILE:-/dev/shm/faultdisk-bench-256m.img}
[ -f "$file" ] || { echo "no image $file: run bench/compare.sh --size-mib 256 once, or set BENCH_FILE" >&2; exit 1; }
java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
mapfile -t jvm_options < <("$(dirname "$0")/../scripts/jvm-options.sh")
. "$(dirname "$0")/serve.sh"  # free_ports, await_port
out=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$out"' EXIT
case "$ramp" in ''|*[!0-9]*) echo "delay-ab.sh: --ramp takes whole seconds" >&2; exit 2 ;; esac
case "$warmups" in ''|*[!0-9]*) echo "delay-ab.sh: --warm-ups takes a count" >&2; exit 2 ;; esac
[ "$ramp" -eq 0 ] || [ "$client" = fio ] || { echo "delay-ab.sh: --ramp needs --client fio" >&2; exit 2; }
case "$client" in
  fio) ;;
  light) cc -O2 -o "$out/qd-client" "$(dirname "$0")/qd-client.c" ;;
  *) echo "delay-ab.sh: --client is fio or light" >&2; exit 2 ;;
esac
for s in "${servers[@]}"; do
  [ "$s" = floor ] && { cc -O2 -pthread -o "$out/floor-server" "$(dirname "$0")/floor-server.c"; break; }
done
case "$transport" in
  tcp|unix) ;;
  *) echo "delay-ab.sh: --transport is tcp or unix" >&2; exit 2 ;;
esac
for i in "${!servers[@]}"; do
  case "${servers[$i]}" in
    nbdkit|floor) ;;
    *) echo "build $i: $("$(dirname "$0")/aot-note.sh" "${servers[$i]}" "$(dirname "$(dirname "$java")")")" ;;
  esac
done
hz=$(getconf CLK_TCK)
rss() { awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$1/status"; }
await_socket() { for _ in $(seq 100); do [ -S "$1" ] && return; sleep 0.2; done; }
# measure CMD...: runs the measured client CMD, its output to $out/client.out, between two readings
# of the server's CPU time and memory, then stops the server; sets ticks, rss0 and rss1.
measure() {
  rss0=$(rss "$pid")
  local cpu0
  cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  "$@" >"$out/client.out"
  ticks=$(($(awk '{print $14 + $15}' "/proc/$pid/stat") - cpu0))
  rss1=$(rss "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  pid=
  if [ -n "$lpid" ]; then wait "$lpid" || true; lpid=; fi
}
# listen QMP_PORT: a client reading every event in the background; sets lpid.
listen() {
  python3 - "$1" >"$out/listener.out" <<'PY' &
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
f = s.makefile("rb")
f.readline()
s.sendall(b'{"execute": "qmp_capabilities"}\n')
f.readline()
read = dropped = 0
try:
    for line in f:
        read += 1
        if b"EVENTS_DROPPED" in line:
            dropped += json.loads(line)["data"]["count"]
except OSError:
    pass
print("  listener: %d events read, %d dropped" % (read, dropped))
PY
  lpid=$!
  sleep 0.3
}
# start_server INDEX QD PORT QMP_PORT: starts server INDEX with its delay; sets pid.
start_server() {
  local i=$1 qd=$2 port=$3 q=$4 opts_var=OPTS_$1 args_var=ARGS_$1
  rm -f "$out/nbd.sock"
  if [ "${servers[$i]}" = floor ]; then
    local at=$port
    [ "$transport" = unix ] && at=$out/nbd.sock
    # shellcheck disable=SC2086 # OPTS_N holds the floor's environment settings, split on spaces
    env ${!opts_var:-} "$out/floor-server" "$file" $((delay_ms * 1000)) "$at" >"$out/server.log" 2>&1 &
    pid=$!
    if [ "$transport" = unix ]; then await_socket "$out/nbd.sock"; else await_port "$port"; fi
    return
  fi
  if [ "${servers[$i]}" = nbdkit ]; then
    local listen=(-i 127.0.0.1 -p "$port")
    [ "$transport" = unix ] && listen=(-U "$out/nbd.sock")
    nbdkit -f -t "$qd" "${listen[@]}" --filter=delay file "$file" "rdelay=${delay_ms}ms" >"$out/server.log" 2>&1 &
    pid=$!
    if [ "$transport" = unix ]; then await_socket "$out/nbd.sock"; else await_port "$port"; fi
    return
  fi
  local nbd="127.0.0.1:$port"
  [ "$transport" = unix ] && nbd="unix:$out/nbd.sock"
  # shellcheck disable=SC2086 # the options are meant to split
  "$java" "${jvm_options[@]}" $("$(dirname "$0")/../scripts/aot-option.sh" "${servers[$i]}" "$(dirname "$(dirname "$java")")") ${!opts_var:-} -jar "${servers[$i]}" serve --export "bench=$file,locking=off" \
    --nbd "$nbd" --qmp "127.0.0.1:$q" --max-in-flight 64 ${!args_var:-} >"$out/server.log" 2>&1 &
  pid=$!
  await_port "$q"
  local rule_var=RULE_$i
  python3 - "$q" "$delay_ms" "${!rule_var:-{\}}" <<'PY'
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
f = s.makefile("rw")
f.readline()
rule = {"type": "delay", "ops": ["read"], "ms": int(sys.argv[2])}
rule.update(json.loads(sys.argv[3]))
for c in [{"execute": "qmp_capabilities"},
          {"execute": "fault-add", "arguments": {"device": "bench", "rules": [rule]}}]:
    f.write(json.dumps(c) + "\n"); f.flush()
    if "return" not in json.loads(f.readline()):
        sys.exit("QMP failed")
PY
  if [ "$listener" = yes ]; then listen "$q"; fi
}
for r in $(seq "$rounds"); do
  for qd in ${qds//,/ }; do
    for i in "${!servers[@]}"; do
      read -r port qmp_port < <(free_ports 2)
      start_server "$i" "$qd" "$port" "$qmp_port"
      name=bench
      case "${servers[$i]}" in nbdkit|floor) name= ;; esac
      uri="nbd://127.0.0.1:$port/$name" host=127.0.0.1
      [ "$transport" = unix ] && uri="nbd+unix:///$name?socket=$out/nbd.sock" host=$out/nbd.sock
      if [ "$client" = light ]; then
        for _ in $(seq "$warmups"); do
          "$out/qd-client" "$host" "$port" "$name" "$qd" 0 2 "$r" >/dev/null # warm-up
        done
        measure "$out/qd-client" "$host" "$port" "$name" "$qd" 0 "$runtime" "$r"
        # reads/s N p50 X p99 X p99.9 X ms client_cpu_us_per_read X reads N
        read -r _ iops _ p50 _ p99 _ p999 _ _ client_us _ reads <"$out/client.out"
        awk -v r="$r" -v qd="$qd" -v i="$i" -v iops="$iops" -v p50="$p50" -v p99="$p99" -v p999="$p999" \
          -v c="$client_us" -v ticks="$ticks" -v hz="$hz" -v reads="$reads" -v rss0="$rss0" \
          -v rss1="$rss1" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
          printf "round %s QD %s build %s: IOPS %6.0f lat p50 %.3f p99 %.3f p99.9 %.3f ms, CPU %.1f us/read " \
            "(qd-client %.1f), RSS %s -> %s MiB, load %s\n", r, qd, i, iops, p50, p99, p999,
            ticks / hz * 1e6 / reads, c, rss0, rss1, load }'
        if [ -s "$out/listener.out" ]; then cat "$out/listener.out"; rm "$out/listener.out"; fi
        continue
      fi
      job=(--name=w --ioengine=nbd "--uri=$uri" --time_based --rw=randread --bs=4k "--iodepth=$qd" --output-format=json)
      for _ in $(seq "$warmups"); do
        fio "${job[@]}" --runtime=2 >/dev/null
      done
      measure fio "${job[@]}" "--runtime=$runtime" "--ramp_time=$ramp"
      python3 - "$out/client.out" "$i" "$ticks" "$hz" "$r" "$rss0" "$rss1" "$qd" "$ramp" "$runtime" <<'PY'
import json, sys
t = open(sys.argv[1]).read()
job = json.loads(t[t.index("{"):])["jobs"][0]
j = job["read"]
p = j["clat_ns"]["percentile"]
measured = int(sys.argv[10]) / (int(sys.argv[9]) + int(sys.argv[10]))  # the share of the run fio counted
cpu_us = int(sys.argv[3]) * measured * 1e6 / int(sys.argv[4]) / j["total_ios"]
fio_us = (job["usr_cpu"] + job["sys_cpu"]) / 100 * j["runtime"] * 1e3 / j["total_ios"]
print("round %s QD %s build %s: IOPS %6.0f clat p50 %.3f p99 %.3f p99.9 %.3f ms, CPU %.1f us/read (fio %.1f), "
      "RSS %s -> %s MiB, load %s" % (
    sys.argv[5], sys.argv[8], sys.argv[2], j["iops"], p["50.000000"] / 1e6, p["99.000000"] / 1e6,
    p["99.900000"] / 1e6, cpu_us, fio_us, sys.argv[6], sys.argv[7], open("/proc/loadavg").read().split()[0]))
PY
      if [ -s "$out/listener.out" ]; then cat "$out/listener.out"; rm "$out/listener.out"; fi
    done
  done
done
