#!/usr/bin/env bash
# bench/reader-waits.sh [--export file|memory] [--busy N] [--runtime S] [--samples K]: where a
# faultdisk server's connection readers wait while N fio jobs (default 100, one connection each)
# write 1 MiB at queue depth 8, as bench/connections.sh --busy-workload seqwrite runs them. From 8 s
# into the run, K samples (default 10) of every nbd-conn-* thread's wait channel (/proc/PID/task/*/
# wchan; "running" where it has none: on a CPU or runnable), one line per sample with how many
# threads wait where. On a file export (256 MiB in /dev/shm, as connections.sh's) nearly every reader
# waits for the file's inode lock (shmem_file_write_iter on tmpfs); on a memory export, for its
# socket or a CPU. FAULTDISK_JAR chooses the build.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
export=file busy=100 runtime=20 samples=10
while [ $# -gt 0 ]; do
  case "$1" in
    --export) export=$2; shift ;;
    --busy) busy=$2; shift ;;
    --runtime) runtime=$2; shift ;;
    --samples) samples=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "reader-waits.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$runtime" -ge 12 ] || { echo "reader-waits.sh: --runtime of 12 s or more (sampling starts at 8 s)" >&2; exit 2; }
case "$export" in
  file)
    file=/dev/shm/faultdisk-conn-256m.img
    [ -f "$file" ] || head -c $((256 << 20)) /dev/urandom >"$file"
    spec="$file,locking=off" ;;
  memory) spec=memory:256M ;;
  *) echo "reader-waits.sh: --export is file or memory, not $export" >&2; exit 2 ;;
esac
. "$root/bench/serve.sh" # free_ports, await_port
read -r port q < <(free_ports 2)
out=$(mktemp -d)
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
"$root/faultdisk" serve --export "bench=$spec" --nbd "127.0.0.1:$port" --qmp "127.0.0.1:$q" \
  --max-connections $((busy + 8)) >"$out/server.log" 2>&1 &
pid=$!
await_port "$q"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); export $export; $busy writers, $runtime s"
fio --name=busy --ioengine=nbd "--uri=nbd://127.0.0.1:$port/bench" --numjobs="$busy" --thread --rw=write \
  --bs=1M --iodepth=8 --time_based --runtime="$runtime" --output-format=json --output="$out/fio.json" >/dev/null 2>&1 &
fio_pid=$!
sleep 8
for _ in $(seq "$samples"); do
  declare -A where=()
  n=0
  for t in /proc/"$pid"/task/*; do
    # the shell's own reads: a sample of a hundred threads must not take seconds of forks
    read -r name <"$t/comm" 2>/dev/null || continue
    [[ "$name" == nbd-conn-* ]] || continue
    wchan=
    read -r wchan <"$t/wchan" 2>/dev/null || true # no newline at its end
    [ -n "$wchan" ] && [ "$wchan" != 0 ] || wchan=running
    where[$wchan]=$(( ${where[$wchan]:-0} + 1 ))
    n=$((n + 1))
  done
  line="$(date +%T.%N | cut -c1-11) readers $n:"
  for w in "${!where[@]}"; do line+=" $w ${where[$w]}"; done
  echo "$line"
  unset where
  sleep 0.3
done
wait "$fio_pid" || { echo "reader-waits.sh: fio failed" >&2; exit 1; }
python3 - "$out/fio.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
jobs = json.loads(text[text.index("{"):])["jobs"]
print("fio: %.0f MiB/s summed over %d jobs" % (sum(j["write"]["bw_bytes"] for j in jobs) / 1048576, len(jobs)))
PY
