#!/usr/bin/env bash
# Many connections: what idle connections cost each server, and whether busy ones share fairly.
#
#   idle:  N connections (default 10,000) negotiated into transmission and left idle; resident
#          memory (VmRSS) and threads of each server before, with them open, after one 4 KiB read
#          on each (an idle connection must still serve), after a 256 KiB read and write on each
#          (idle again after being busy: the buffers of a busy connection must not stay with it),
#          and after they close. The figures with them open and after the 256 KiB are taken twice:
#          2 s after the step, and once idle for --settle seconds (default 65: what the collector
#          gives back once the step's garbage is gone, after the launcher's periodic collection
#          30 to 60 s after the last collection). "per conn" is the settled idle figure less the
#          start, over N. "threads" is counted 2 s after the connections came, "threads b" once
#          settled after the 256 KiB (a connection that was busy must not keep a thread).
#   busy:  100 connections at once (fio's nbd engine, 100 jobs, one connection each, 4 KiB random
#          reads at queue depth 4); each connection's share of the total and the lowest share
#          against an even one (fair: no connection below half its share). --busy-workload seqwrite
#          makes them 1 MiB sequential writes at queue depth 8 (shares in bytes), seqwrite256k 256 KiB
#          ones (any seqwriteNk). Over TCP (TLS too) the
#          summary gives the server's best rate over a quarter of the run from the kernel's byte
#          counts (rate_samples below; fio's total is not one where jobs do not overlap) and, from
#          each socket's counts, the lowest share among the connections under way through the
#          stretch with the most of them (the server's own fairness, apart from when fio's jobs
#          start and how its threads are scheduled). On every transport (Unix sockets too) the
#          same lowest share from fio's own per-second logs of each job (--write_bw_log); the summary
#          adds the kernel's TCP memory (/proc/net/sockstat, every 0.2 s of the run: its peak and
#          median; what the receive queues of the server's sockets hold, beside the clients' own)
#          and the server's resident memory sampled with it (a queue read out of the sockets), and
#          how many connections the kernel dropped at a full accept queue (TcpExt ListenDrops: their
#          clients try again a second or more later, and start that much behind).
#   connect: --connects N (default 2,000) libnbd clients connecting one after another, each
#          negotiated into transmission and shut down before the next (after N/2 to warm up: the JIT compiles the handshake's arithmetic),
#          interleaved over rounds: the time it takes and the server's CPU a connection (over TLS
#          mostly its handshake). Not in the default phases; needs python3-libnbd.
#
# Servers: faultdisk (a busy connection is read by a platform thread, an idle one by a virtual
# thread), faultdisk-platform and faultdisk-virtual (-Dfaultdisk.nbd.readers=platform or virtual:
# one kind of thread for the connection's whole life), faultdisk-variant (JVM options from
# FAULTDISK_VARIANT_OPTS), base (another build: FAULTDISK_BASE_JAR),
# nbdkit (file plugin) and qemu-nbd, all on the same 256 MiB file, one after another for idle
# (memory is not disturbed by load) and interleaved over rounds for busy.
#
# --transport tls or psk: every server requires TLS (a certificate made by openssl for the run, or
# a pre-shared key); the idle clients are libnbd's (bench/nbd_tls_clients.py, python3-libnbd), the
# busy ones fio's over nbds:// (tls only: fio's nbd engine cannot be given a key file).
# --transport unix or tls-unix: the same over a Unix socket each (tls-unix with certificates).
#
# Usage: bench/connections.sh [--idle N] [--busy N] [--rounds R] [--runtime S] [--servers LIST]
#                             [--phases idle,busy] [--nbdkit-idle N (default 1000: 17 threads each)]
#                             [--busy-workload randread|seqwrite|seqwriteNk]
#                             [--transport tcp|tls|psk|unix|tls-unix] [--settle S] [--connects N]
#                             [--export file|memory]
#
# --export memory serves a 256 MiB memory export (faultdisk's memory:256M, nbdkit's memory plugin;
# qemu-nbd has none) in place of the file, which every writer's data otherwise enters under the
# file's one inode lock. The file is 256 MiB of random bytes in /dev/shm (tmpfs), or at the path in
# the environment's BENCH_FILE (made there if missing).
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
idle=10000
busy=100
rounds=3
runtime=10
servers=faultdisk,faultdisk-platform,faultdisk-virtual,nbdkit,qemu-nbd
phases=idle,busy
nbdkit_idle=1000
transport=tcp
settle=65
connects=2000
busy_workload=randread
export=file
while [ $# -gt 0 ]; do
  case "$1" in
    --idle) idle=$2; shift ;;
    --nbdkit-idle) nbdkit_idle=$2; shift ;;
    --busy) busy=$2; shift ;;
    --busy-workload) busy_workload=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --runtime) runtime=$2; shift ;;
    --servers) servers=$2; shift ;;
    --phases) phases=$2; shift ;;
    --transport) transport=$2; shift ;;
    --settle) settle=$2; shift ;;
    --connects) connects=$2; shift ;;
    --export) export=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "connections.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
IFS=, read -r -a server_list <<<"$servers"
log() { echo "[$(date +%H:%M:%S)] $*"; }
die() { echo "connections.sh: $*" >&2; exit 1; }
for t in fio python3 nbdinfo nbdkit qemu-nbd; do command -v "$t" >/dev/null || die "needs $t"; done
case "$transport" in tcp|tls|psk|unix|tls-unix) ;; *) die "--transport is tcp, tls, psk, unix or tls-unix, not $transport" ;; esac
case "$export" in
  file) ;;
  memory) [[ ",$servers," != *",qemu-nbd,"* ]] || die "qemu-nbd has no memory export" ;;
  *) die "--export is file or memory, not $export" ;;
esac
case "$busy_workload" in
  randread) busy_fio=(--rw=randread --bs=4k --iodepth=4) busy_what="randread 4 KiB QD4" busy_way=read ;;
  seqwrite) busy_fio=(--rw=write --bs=1M --iodepth=8) busy_what="sequential write 1 MiB QD8" busy_way=write ;;
  # Smaller writes (seqwrite256k: 256 KiB), where a file export's writers taking turns
  # (WriteTurns) costs the most next to each write.
  seqwrite[1-9]*k) busy_fio=(--rw=write --bs="${busy_workload#seqwrite}" --iodepth=8)
    busy_what="sequential write ${busy_workload#seqwrite} QD8" busy_way=write ;;
  *) die "--busy-workload is randread, seqwrite or seqwriteNk (N KiB writes), not $busy_workload" ;;
esac
# What the transport secures with (tcp, unix: nothing; tls; psk) and whether it is a Unix socket.
security=${transport%-unix}
[ "$security" = unix ] && security=tcp
case "$transport" in *unix) on_unix=1 ;; *) on_unix= ;; esac
if [ "$security" != tcp ] || [[ ",$phases," == *",connect,"* ]]; then
  /usr/bin/python3 -c 'import nbd' 2>/dev/null || die "needs libnbd's Python bindings for /usr/bin/python3 (Debian: python3-libnbd)"
fi
if [ "$security" != tcp ]; then
  command -v openssl >/dev/null || die "needs openssl"
  if [ "$transport" = psk ] && [[ ",$phases," == *",busy,"* ]]; then
    echo "connections.sh: no busy phase over psk (fio's nbd engine cannot be given a key file)" >&2
    phases=${phases//busy/}
  fi
fi

# Room for the idle connections: both ends of each are in this machine's processes.
ulimit -n $((idle * 2 + 4096)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

size_mib=256
file=${BENCH_FILE:-/dev/shm/faultdisk-conn-${size_mib}m.img}
[ -f "$file" ] || head -c $((size_mib << 20)) /dev/urandom >"$file"
out="$root/bench/results/connections-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"

# TLS: a server certificate from a throw-away authority, or a pre-shared key (as compare.sh makes them).
pki="$out/pki"
psk="$out/psk"
. "$root/bench/tls-creds.sh"
. "$root/bench/serve.sh"  # free_ports
case "$security" in
  tls) make_pki "$pki" "$out/pki.log" || die "no certificates" ;;
  psk) make_psk "$psk" ;;
esac
fd_tls() {
  case "$security" in
    tls) echo "--tls require --tls-certificates $pki" ;;
    psk) echo "--tls require --tls-psk $psk/keys.psk" ;;
  esac
}
nbdkit_tls() {
  case "$security" in
    tls) echo "--tls=require --tls-certificates=$pki" ;;
    psk) echo "--tls=require --tls-psk=$psk/keys.psk" ;;
  esac
}
qemu_tls() {
  case "$security" in
    tls) echo "--object tls-creds-x509,id=tls0,dir=$pki,endpoint=server,verify-peer=off --tls-creds tls0" ;;
    psk) echo "--object tls-creds-psk,id=tls0,dir=$psk,endpoint=server --tls-creds tls0" ;;
  esac
}
# A server's address ($1: a port, or over a Unix socket the socket's path) as each server is told it.
fd_listen() { if [ -n "$on_unix" ]; then echo "unix:$1"; else echo "127.0.0.1:$1"; fi; }
nbdkit_listen() { if [ -n "$on_unix" ]; then echo "-U $1"; else echo "-i 127.0.0.1 -p $1"; fi; }
qemu_listen() { if [ -n "$on_unix" ]; then echo "-k $1"; else echo "-b 127.0.0.1 -p $1"; fi; }
# fio's nbd engine: no certificate directory in its URI, so no verification (as compare.sh).
fio_uri() {
  case "$transport" in
    tls) echo "nbds://127.0.0.1:$1/bench?tls-verify-peer=false" ;;
    tls-unix) echo "nbds+unix:///bench?socket=$1&tls-verify-peer=false" ;;
    *) uri_of "$1" ;;
  esac
}
uri_of() {
  case "$transport" in
    tcp) echo "nbd://127.0.0.1:$1/bench" ;;
    tls) echo "nbds://127.0.0.1:$1/bench?tls-certificates=$pki" ;;
    psk) echo "nbds://bench@127.0.0.1:$1/bench?tls-psk-file=$psk/keys.psk" ;;
    unix) echo "nbd+unix:///bench?socket=$1" ;;
    tls-unix) echo "nbds+unix:///bench?socket=$1&tls-certificates=$pki" ;;
  esac
}
"$root/faultdisk" --version >/dev/null || die "building faultdisk failed"

declare -A pid port
cleanup() {
  local s
  # a busy run's fio and its samplers, where it stopped midway
  kill $(jobs -p) 2>/dev/null || true
  for s in "${!pid[@]}"; do kill "${pid[$s]}" 2>/dev/null || true; done
  for s in "${!pid[@]}"; do wait "${pid[$s]}" 2>/dev/null || true; done
}
trap cleanup EXIT

# faultdisk on address $1 (a port or a socket's path), logging to server $2's log, in the
# background; FAULTDISK_JAVA_OPTS and FAULTDISK_JAR in the caller's environment choose the JVM
# options and the build. The connection budget (--max-connections, 100 by default) is raised for
# the test, as the issue asks and as qemu-nbd's -e below.
fd_serve() {
  local spec="$file,locking=off"
  [ "$export" = file ] || spec="memory:${size_mib}M"
  "$root/faultdisk" serve --export "bench=$spec" --nbd "$(fd_listen "$1")" --qmp none $(fd_tls) \
    --max-connections $((idle + busy + 8)) >"$out/$2.log" 2>&1 &
}

# nbdkit's plugin and its arguments for --export.
nbdkit_export() { if [ "$export" = file ]; then echo file "$file"; else echo memory "${size_mib}M"; fi; }

start() {
  local s=$1 p
  if [ -n "$on_unix" ]; then p="$out/$s.sock"; else p=$(free_ports 1); fi
  port[$s]=$p
  case "$s" in
    faultdisk) fd_serve "$p" "$s" ;;
    faultdisk-platform|faultdisk-virtual)
      FAULTDISK_JAVA_OPTS="${FAULTDISK_JAVA_OPTS:-} -Dfaultdisk.nbd.readers=${s#faultdisk-}" fd_serve "$p" "$s" ;;
    faultdisk-variant)
      FAULTDISK_JAVA_OPTS="${FAULTDISK_JAVA_OPTS:-} ${FAULTDISK_VARIANT_OPTS:?faultdisk-variant needs FAULTDISK_VARIANT_OPTS}" \
        fd_serve "$p" "$s" ;;
    base) FAULTDISK_JAR="${FAULTDISK_BASE_JAR:?base needs FAULTDISK_BASE_JAR}" fd_serve "$p" "$s" ;;
    nbdkit)
      # shellcheck disable=SC2046 # the listen options are meant to split
      nbdkit --exit-with-parent -f $(nbdkit_listen "$p") $(nbdkit_tls) -e bench $(nbdkit_export) >"$out/$s.log" 2>&1 & ;;
    qemu-nbd)
      # shellcheck disable=SC2046
      qemu-nbd -f raw --cache=writeback --aio=threads $(qemu_listen "$p") -x bench -t -e $((idle + busy + 8)) $(qemu_tls) \
        "$file" >"$out/$s.log" 2>&1 & ;;
    *) die "unknown server $s" ;;
  esac
  pid[$s]=$!
  for _ in $(seq 240); do
    nbdinfo --size "$(uri_of "$p")" >/dev/null 2>&1 && return 0
    kill -0 "${pid[$s]}" 2>/dev/null || { cat "$out/$s.log"; die "$s exited at startup"; }
    sleep 0.25
  done
  die "$s did not start"
}
stop() {
  kill "${pid[$1]}" 2>/dev/null || true
  wait "${pid[$1]}" 2>/dev/null || true
  unset "pid[$1]"
}
mib() { awk '$1 == "VmRSS:" {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
# VmRSS of pid $1 once idle for --settle seconds, 2 of which have passed already.
settled_mib() { if [ "$settle" -gt 2 ]; then sleep $((settle - 2)); fi; mib "$1"; }
threads() { awk '$1 == "Threads:" {print $2}' "/proc/$1/status"; }
# The kernel's count of connections it dropped at a full accept queue (TcpExt ListenDrops), all listeners.
listen_drops() {
  awk '$1 == "TcpExt:" {if (!n) {for (i = 2; i <= NF; i++) if ($i == "ListenDrops") n = i} else print $n}' /proc/net/netstat
}
# rate_samples PORT read|write: until killed, a line about every half second, "NANOS SOCKETS
# PEER=BYTES...": how many sockets the server has established, and each one's bytes from the kernel
# (ss) as read by the server (received less what waits unread) or sent and acknowledged, by its
# client's address (a socket that has moved none may show none). Each line is stamped halfway
# through its ss call, which takes a while on a loaded machine. The summary takes the best rate over
# any stretch of a quarter of the run: fio's own total adds each job's rate over its own run, and
# jobs that connect one after another do not all run at once. Each socket's bytes give the server's
# own fairness: the lowest share over the stretch with the most connections under way throughout,
# which fio's shares (each job over its own run, the clients' threads' scheduling in it) do not.
rate_samples() {
  local port=$1 way=$2 t counts
  while :; do
    t=$(date +%s%N)
    counts=$(ss -tinH state established "( sport = :$port )" | awk -v way="$way" '
      /^[0-9]/ {q = $1; peer = $4; n++; next}
      {for (i = 1; i <= NF; i++) {
         b = -1
         if (way == "write" && $i ~ /^bytes_received:/) {split($i, f, ":"); b = f[2] - q}
         if (way == "read" && $i ~ /^bytes_acked:/) {split($i, f, ":"); b = f[2]}
         if (b >= 0) each = each " " peer "=" sprintf("%.0f", b)}}
      END {printf "%d%s\n", n, each}')
    echo "$(( (t + $(date +%s%N)) / 2 )) $counts"
    sleep 0.5
  done
}

{
  echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cpus; commit $(git -C "$root" describe --always --dirty); transport $transport; export $export"
} | tee "$out/summary.txt"

if [[ ",$phases," == *",idle,"* ]]; then
  printf '\nidle: %d connections negotiated into transmission and held\n' "$idle" | tee -a "$out/summary.txt"
  printf '%-20s %10s %12s %12s %12s %12s %12s %12s %10s %10s %12s %s\n' server "RSS start" "RSS idle" "settled" "after reads" "after busy" "settled" "closed" threads "threads b" "per conn" "connect time" |
    tee -a "$out/summary.txt"
  for s in "${server_list[@]}"; do
    n_idle=$idle
    if [ "$s" = nbdkit ] && [ "$idle" -gt "$nbdkit_idle" ]; then
      # nbdkit runs 17 threads per connection (a reader and 16 workers): 10,000 connections would
      # need 170,000 threads, past this kind of machine's pid_max (32768), starving everything else.
      n_idle=$nbdkit_idle
      echo "  nbdkit: $n_idle connections, not $idle (17 threads each; pid_max is $(cat /proc/sys/kernel/pid_max))" |
        tee -a "$out/summary.txt"
    fi
    start "$s"
    p=${pid[$s]}
    sleep 1
    rss0=$(mib "$p")
    fifo="$out/hold-$s"
    rm -f "$fifo"
    mkfifo "$fifo"
    if [ "$security" = tcp ]; then
      python3 "$root/bench/nbd_clients.py" "${port[$s]}" bench "$n_idle" <"$fifo" >"$out/clients-$s.txt" 2>&1 &
    else
      (cd / && /usr/bin/python3 "$root/bench/nbd_tls_clients.py" "$(uri_of "${port[$s]}")" "$n_idle") \
        <"$fifo" >"$out/clients-$s.txt" 2>&1 &
    fi
    client=$!
    exec 9>"$fifo"  # the clients' stdin: a line asks for reads, closing it ends them
    await() {  # waits for a line starting with $1 from the clients
      for _ in $(seq 1200); do
        grep -q "^$1" "$out/clients-$s.txt" && return 0
        kill -0 "$client" 2>/dev/null || return 1
        sleep 0.5
      done
      return 1
    }
    rss1="-"; rss1s="-"; rss2="-"; rss4="-"; rss4s="-"; th="-"; th4="-"; took="-"; per="-"
    if await connected; then
      sleep 2
      rss1=$(mib "$p")
      th=$(threads "$p")
      took=$(awk '/^connected/ {print $3}' "$out/clients-$s.txt")
      rss1s=$(settled_mib "$p")
      per="$(( (rss1s - rss0) * 1024 / n_idle )) KiB"
      echo read >&9
      if await read; then
        sleep 1
        rss2=$(mib "$p")
        echo big >&9
        if await big; then
          sleep 2
          rss4=$(mib "$p")
          rss4s=$(settled_mib "$p")
          th4=$(threads "$p")
        fi
      fi
    fi
    grep -q '^big' "$out/clients-$s.txt" ||
      echo "  $s: the clients failed: $(tail -n 2 "$out/clients-$s.txt" | tr '\n' ' ')" | tee -a "$out/summary.txt"
    exec 9>&-
    wait "$client" 2>/dev/null || true
    sleep 2
    rss3=$(mib "$p" 2>/dev/null || echo "-")
    printf '%-20s %9s M %11s M %11s M %11s M %11s M %11s M %11s M %10s %10s %12s %s s\n' "$s" "$rss0" "$rss1" "$rss1s" "$rss2" "$rss4" "$rss4s" "$rss3" "$th" "$th4" "$per" "$took" |
      tee -a "$out/summary.txt"
    stop "$s"
  done
fi

if [[ ",$phases," == *",busy,"* ]]; then
  printf '\nbusy: %d connections (fio nbd engine, %d jobs, %s), %d s per run, %d round(s), interleaved\n' \
    "$busy" "$busy" "$busy_what" "$runtime" "$rounds" | tee -a "$out/summary.txt"
  for s in "${server_list[@]}"; do start "$s"; done
  n=${#server_list[@]}
  for r in $(seq "$rounds"); do
    for k in $(seq 0 $((n - 1))); do
      s=${server_list[$(((k + r - 1) % n))]}
      cpu0=$(awk '{print $14 + $15}' "/proc/${pid[$s]}/stat")
      # The kernel's TCP memory in pages (both ends of every connection) and the server's resident
      # MiB, sampled through the run: where a client's queued writes wait, in the kernel or the server.
      (while sleep 0.2; do
        echo "$(awk '$1 == "TCP:" {for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1)}' /proc/net/sockstat)" \
          "$(mib "${pid[$s]}")"
      done) >"$out/tcpmem-$r-$s.txt" &
      sampler=$!
      drops0=$(listen_drops)
      t0=$(date +%s%N)
      fio --name=busy --ioengine=nbd --uri="$(fio_uri "${port[$s]}")" --numjobs="$busy" --thread \
        "${busy_fio[@]}" --time_based --runtime="$runtime" --output-format=json \
        --write_bw_log="$out/bw-$r-$s" --log_avg_msec=1000 --log_unix_epoch=1 \
        --output="$out/busy-$r-$s.json" >/dev/null 2>&1 &
      fio_pid=$!
      rates=-
      if [ -z "$on_unix" ]; then
        rates="$out/rates-$r-$s.txt"
        rate_samples "${port[$s]}" "$busy_way" >"$rates" &
        rates_pid=$!
      fi
      # A job that failed (its connection refused or dropped, say) is reported below with a share of 0.
      failed=-
      wait "$fio_pid" || failed=$(grep -m1 'nbd_connect\|err=' "$out/busy-$r-$s.json" || echo "fio failed")
      wall=$(( ($(date +%s%N) - t0) / 1000000 ))
      drops=$(( $(listen_drops) - drops0 ))
      kill "$sampler"; wait "$sampler" 2>/dev/null || true
      [ "$rates" = - ] || { kill "$rates_pid"; wait "$rates_pid" 2>/dev/null || true; }
      cpu_ms=$(( ($(awk '{print $14 + $15}' "/proc/${pid[$s]}/stat") - cpu0) * 1000 / $(getconf CLK_TCK) ))
      python3 - "$out/busy-$r-$s.json" "$s" "$r" "$cpu_ms" "$busy_workload" "$out/tcpmem-$r-$s.txt" "$(mib "${pid[$s]}")" "$rates" "$wall" "$runtime" "$drops" "$failed" "$out/bw-$r-$s" \
        <<'PY' | tee -a "$out/summary.txt"
import glob, json, os, statistics, sys
path, server, rnd, cpu_ms, workload, tcpmem, rss, rates_path, wall, runtime, drops, failed, bw_logs = sys.argv[1:]
text = open(path).read()
if "{" not in text:
    sys.exit(f"connections.sh: fio wrote no report against {server}: {failed.strip()}")
jobs = json.loads(text[text.index("{"):])["jobs"]
errors = sum(1 for j in jobs if j["error"])
way = "read" if workload == "randread" else "write"
page = os.sysconf("SC_PAGE_SIZE")
if way == "read":
    rates = [j["read"]["iops"] for j in jobs]
    total = f"{sum(rates) / 1000:7.1f}k IOPS"
    ios = sum(j["read"]["total_ios"] for j in jobs)
    cpu = f"{int(cpu_ms) * 1000 / max(1, ios):5.1f} us/IO"
    extra = ""
else:
    rates = [j["write"]["bw_bytes"] / 1048576 for j in jobs]
    total = f"{sum(rates):7.0f} MiB/s"
    mib = sum(j["write"]["io_bytes"] for j in jobs) / 1048576
    cpu = f"{int(cpu_ms) * 1000 / max(1, mib):5.0f} us/MiB"
    samples = [line.split() for line in open(tcpmem) if len(line.split()) == 2] or [["0", "0"]]
    pages = [int(p) for p, _ in samples]
    resident = [int(m) for _, m in samples]
    extra = (f"; TCP memory peak {max(pages) * page / 1048576:.0f} MiB, median {statistics.median(pages) * page / 1048576:.0f};"
             f" server RSS peak {max(resident)} MiB, median {statistics.median(resident):.0f}, after {rss}")
even = sum(rates) / len(rates)
if rates_path != "-":
    # The best rate over any stretch of at least a quarter of the run, and how many sockets had moved
    # more than a handshake's bytes by its end (2 MiB written to the server, or 64 KiB sent by it:
    # past a TLS handshake too).
    past = 2097152 if way == "write" else 65536
    samples = []
    for line in open(rates_path):
        f = line.split()
        if len(f) >= 2:
            each = dict((p.rsplit("=", 1)[0], int(p.rsplit("=", 1)[1])) for p in f[2:])
            moving = sum(1 for b in each.values() if b > past)
            samples.append((int(f[0]), sum(each.values()), int(f[1]), moving, each))
    best = fairest = None
    for i, (t1, b1, _, _, e1) in enumerate(samples):
        for t2, b2, n2, m2, e2 in samples[i + 1:]:
            if t2 - t1 >= float(runtime) / 4 * 1e9:
                rate = (b2 - b1) / 1048576 / ((t2 - t1) / 1e9)
                if best is None or rate > best[0]:
                    best = (rate, n2, m2)
                # connections past their handshake at the stretch's start and still open at its end;
                # of the stretches with the most, the first
                moved = [e2[p] - b for p, b in e1.items() if b > past and p in e2]
                if moved and (fairest is None or len(moved) > fairest[0]):
                    fairest = (len(moved), min(moved) / (sum(moved) / len(moved)), (t2 - t1) / 1e9)
                break
    unit = "MiB/s" if way == "write" else "MiB/s sent"
    if best:
        extra += (f"; best {best[0]:.0f} {unit} over a quarter of the run by the kernel's byte counts"
                  f" ({best[2]} of {best[1]} connections under way)")
    if fairest:
        extra += (f"; by the kernel's counts, lowest share {fairest[1]:.2f} of an even one among the"
                  f" {fairest[0]} connections under way through {fairest[2]:.1f} s")
    extra += f"; fio's run {int(wall) / 1000:.1f} s"
# fio's own per-second log of each job (Unix timestamps, KiB/s), on every transport (the kernel's
# counts above are TCP's only): each job's bytes over the quarter-run stretch of whole seconds that
# the most jobs logged throughout, the first of them, against their mean.
per_job = []
for log in glob.glob(bw_logs + "_bw.*.log"):
    seconds = {}
    for line in open(log):
        f = [x.strip() for x in line.split(",")]
        if len(f) >= 2:
            second = round(int(f[0]) / 1000)
            seconds[second] = seconds.get(second, 0) + int(f[1])
    per_job.append(seconds)
width = max(1, round(float(runtime) / 4))
logged = None
for start in sorted({t for seconds in per_job for t in seconds}):
    window = range(start, start + width)
    moved = [sum(seconds[t] for t in window) for seconds in per_job if all(t in seconds for t in window)]
    if moved and (logged is None or len(moved) > logged[0]):
        logged = (len(moved), min(moved) / (sum(moved) / len(moved)))
if logged:
    extra += (f"; by fio's per-second logs, lowest share {logged[1]:.2f} of an even one among the"
              f" {logged[0]} jobs logging through {width} s")
extra += f"; {drops} connection(s) dropped at a full accept queue"
if errors or failed != "-":
    extra += f"; {errors} job(s) failed, their share 0 (first error: {failed.strip()})"
print(f"  round {rnd} {server:<20} total {total}, server CPU {cpu}, per connection"
      f" min {min(rates):6.0f} median {statistics.median(rates):6.0f} max {max(rates):6.0f}; lowest share {min(rates)/even:.2f} of an even one{extra}")
PY
    done
  done
fi
if [[ ",$phases," == *",connect,"* ]]; then
  printf '\nconnect: %d connections one after another (libnbd, after %d to warm up), %d round(s), interleaved\n' \
    "$connects" $((connects / 2)) "$rounds" | tee -a "$out/summary.txt"
  for s in "${server_list[@]}"; do
    start "$s"
    (cd / && /usr/bin/python3 "$root/bench/nbd_tls_clients.py" --sequential "$(uri_of "${port[$s]}")" $((connects / 2))) \
      >/dev/null || die "the warm-up clients failed against $s"
  done
  n=${#server_list[@]}
  for r in $(seq "$rounds"); do
    for k in $(seq 0 $((n - 1))); do
      s=${server_list[$(((k + r - 1) % n))]}
      cpu0=$(awk '{print $14 + $15}' "/proc/${pid[$s]}/stat")
      read -r took failed < <(cd / && /usr/bin/python3 "$root/bench/nbd_tls_clients.py" --sequential "$(uri_of "${port[$s]}")" \
        "$connects" 2>>"$out/clients-$s.txt" | awk '/^sequential/ {print $3, $4}') || die "the clients failed against $s"
      cpu_ms=$(( ($(awk '{print $14 + $15}' "/proc/${pid[$s]}/stat") - cpu0) * 1000 / $(getconf CLK_TCK) ))
      awk -v r="$r" -v s="$s" -v n="$connects" -v t="$took" -v c="$cpu_ms" -v f="$failed" -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        printf "  round %d %-20s %7.2f s, %6.0f connections/s, server CPU %5.2f ms a connection, %d shutdown(s) failed, load %s\n",
          r, s, t, n / t, c / n, f, l }' |
        tee -a "$out/summary.txt"
    done
  done
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/summary.txt"
echo "results: $out"
