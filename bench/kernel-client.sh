#!/usr/bin/env bash
# bench/kernel-client.sh [--rounds N] [--runtime S] [--workloads LIST] [--servers LIST] [--guest DIR]
# The kernel's own NBD client as the workload, for machines whose kernel has no nbd driver: one
# boot of the guest scripts/guest/build.sh makes (Debian's kernel, the host's nbd-client and fio),
# in which, for each round, workload and server (interleaved, the servers' order turned each
# round), nbd-client attaches /dev/nbd0, fio runs with libaio and O_DIRECT on it for --runtime s
# (default 5) and nbd-client detaches. The servers (default faultdisk,nbdkit,qemu-nbd; also
# faultdisk-variant: faultdisk with FAULTDISK_VARIANT_OPTS added to its JVM options) serve
# bench/compare.sh's 256 MiB image (BENCH_FILE to choose) on the host's loopback, with
# compare.sh's options; the guest reaches them through QEMU's user network. Workloads (default
# seqread,seqwrite,randread,randrw,randread1,syncwrite) are compare.sh's single-connection ones.
# Prints every run (fio's read and write KiB/s and IOPS, then the server's CPU ticks over it), then
# the medians (MiB/s for 1 MiB requests, IOPS otherwise), the ratios of faultdisk to the others,
# and each server's CPU a request (a MiB for seq*).
# The guest runs under QEMU's emulation unless GUEST_ACCEL=kvm (scripts/guest/run.sh): emulated,
# the guest and QEMU's user network are far slower than any of the servers, and the rows say what
# the client can do more than what the server can.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 runtime=5 workloads=seqread,seqwrite,randread,randrw,randread1,syncwrite
servers=faultdisk,nbdkit,qemu-nbd guest=$root/target/guest
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --runtime) runtime=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --guest) guest=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "kernel-client.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for n in "$rounds" "$runtime"; do
  case "$n" in ''|*[!0-9]*|0) echo "kernel-client.sh: --rounds and --runtime take positive whole numbers" >&2; exit 2 ;; esac
done
. "$root/bench/fio-workloads.sh"
. "$root/bench/serve.sh"  # free_ports, await_port
# The workloads of compare.sh's (fio-workloads.sh) this script runs: one nbd-client attach is one
# connection.
fio_args() {
  case "$1" in
    seqread|seqwrite|randread|randrw|randread1|randwrite|syncwrite) fio_workload "$1" ;;
    *) echo "kernel-client.sh: unknown workload $1" >&2; exit 2 ;;
  esac
}
IFS=, read -r -a wl <<<"$workloads"
IFS=, read -r -a sl <<<"$servers"
for w in "${wl[@]}"; do fio_args "$w" >/dev/null; done
for s in "${sl[@]}"; do
  case "$s" in faultdisk|faultdisk-variant|nbdkit|qemu-nbd) ;; *) echo "kernel-client.sh: unknown server $s" >&2; exit 2 ;; esac
done
file=${BENCH_FILE:-/dev/shm/faultdisk-bench-256m.img}
[ -f "$file" ] || { echo "kernel-client.sh: no image $file: run bench/compare.sh --size-mib 256 once, or set BENCH_FILE" >&2; exit 1; }
"$root/scripts/guest/build.sh" "$guest" >/dev/null
out=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$out"' EXIT
declare -A port
read -r -a free < <(free_ports "${#sl[@]}")
i=0
for s in "${sl[@]}"; do
  p=${free[$i]}
  i=$((i + 1))
  port[$s]=$p
  case "$s" in
    faultdisk)
      "$root/faultdisk" --version >/dev/null
      echo "faultdisk's build: $("$root/bench/aot-note.sh" "${FAULTDISK_JAR:-$root/cli/target/faultdisk.jar}")"
      "$root/faultdisk" serve --export "bench=$file,locking=off" --nbd "127.0.0.1:$p" --qmp none >"$out/$s.log" 2>&1 & ;;
    faultdisk-variant)
      # shellcheck disable=SC2086 # JVM options, split on spaces as compare.sh splits them
      FAULTDISK_JAVA_OPTS="${FAULTDISK_JAVA_OPTS:-} ${FAULTDISK_VARIANT_OPTS:?faultdisk-variant needs FAULTDISK_VARIANT_OPTS}" \
        "$root/faultdisk" serve --export "bench=$file,locking=off" --nbd "127.0.0.1:$p" --qmp none >"$out/$s.log" 2>&1 & ;;
    nbdkit) nbdkit -f -i 127.0.0.1 -p "$p" -e bench file "$file" >"$out/$s.log" 2>&1 & ;;
    qemu-nbd) qemu-nbd -f raw --cache=writeback --aio=threads -b 127.0.0.1 -p "$p" -x bench -t -e 4 "$file" >"$out/$s.log" 2>&1 & ;;
  esac
  pids+=($!)
done
for s in "${sl[@]}"; do
  await_port "${port[$s]}" || { cat "$out/$s.log" >&2; echo "kernel-client.sh: $s did not start" >&2; exit 1; }
done
{
  for r in $(seq "$rounds"); do
    for w in "${wl[@]}"; do
      n=${#sl[@]}
      for k in $(seq 0 $((n - 1))); do
        s=${sl[$(((k + r - 1) % n))]}
        echo "nbd-client 10.0.2.2 ${port[$s]} /dev/nbd0 -N bench >/dev/null"
        # terse v3: fields 7/8 read KiB/s and IOPS, 48/49 the same for writes
        echo "fio --name=$w --filename=/dev/nbd0 --direct=1 --ioengine=libaio $(fio_args "$w") --runtime=$runtime --time_based --output-format=terse --terse-version=3 | awk -F';' '{print \"kc $s $w $r\", \$7, \$8, \$48, \$49}'"
        echo "nbd-client -d /dev/nbd0 >/dev/null"
      done
    done
  done
} >"$out/job.sh"
echo "guest: $(cat "$guest/stamp"), ${GUEST_ACCEL:-tcg}; rounds $rounds, ${runtime} s a run; image $file; load $(cut -d' ' -f1-3 /proc/loadavg)"
# Each server's CPU (utime + stime, all threads) read at each of its result lines: between two of
# its runs a server is idle, so the difference is what its run (with its connect) cost.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A pid_of last
i=0
for s in "${sl[@]}"; do
  pid_of[$s]=${pids[$i]}
  i=$((i + 1))
  last[$s]=$(cpu_ticks "${pid_of[$s]}")
done
: >"$out/console"
"$root/scripts/guest/run.sh" "$guest" "$out/job.sh" </dev/null | while IFS= read -r line; do
  line=${line%$'\r'}
  case "$line" in
    "kc "*)
      read -r _ s _ <<<"$line"
      now=$(cpu_ticks "${pid_of[$s]}")
      line="$line $((now - last[$s]))"
      last[$s]=$now
      echo "$line" ;;
  esac
  echo "$line" >>"$out/console"
done
grep -q '^faultdisk-guest: exit 0' "$out/console" || { echo "kernel-client.sh: the guest's job failed:" >&2; tail -20 "$out/console" >&2; exit 1; }
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
# Medians and ratios: MiB/s for 1 MiB requests, IOPS for 4 KiB ones; the server's CPU a request
# (µs a MiB for 1 MiB requests), median over the rounds.
awk -v servers="$servers" -v workloads="$workloads" -v runtime="$runtime" -v hz="$(getconf CLK_TCK)" '
  $1 == "kc" {
    big = ($3 ~ /^seq/)
    v = big ? ($5 + $7) / 1024 : ($6 + $8)
    key = $2 " " $3; n[key]++; val[key, n[key]] = v
    cpu[key, n[key]] = v > 0 ? $9 / hz * 1e6 / (v * runtime) : 0
  }
  function median(key, what,   m, i, j, t, a) {
    m = n[key]; for (i = 1; i <= m; i++) a[i] = what == "cpu" ? cpu[key, i] : val[key, i]
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  END {
    ns = split(servers, s, ","); nw = split(workloads, w, ",")
    printf "%-10s", "workload"; for (i = 1; i <= ns; i++) printf " %12s", s[i]
    for (i = 1; i <= ns; i++) if (s[i] != "faultdisk") printf " %14s", "fd/" s[i]
    printf "   server CPU µs a request (a MiB for seq*):"
    for (i = 1; i <= ns; i++) printf " %s", s[i]
    printf "\n"
    for (j = 1; j <= nw; j++) {
      printf "%-10s", w[j]
      for (i = 1; i <= ns; i++) { m[i] = median(s[i] " " w[j]); printf " %12.1f", m[i] }
      for (i = 1; i <= ns; i++) if (s[i] != "faultdisk") { f = median("faultdisk " w[j]); printf " %14s", (m[i] > 0 && n["faultdisk " w[j]] > 0) ? sprintf("%.2f", f / m[i]) : "-" }
      printf "   (%s)", (w[j] ~ /^seq/) ? "MiB/s" : "IOPS"
      for (i = 1; i <= ns; i++) printf " %.1f", median(s[i] " " w[j], "cpu")
      printf "\n"
    }
  }' "$out/console"
