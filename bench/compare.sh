#!/usr/bin/env bash
# Benchmarks faultdisk against nbdkit (file plugin) and qemu-nbd, all three serving the SAME dense
# raw file over loopback TCP (or, with --transport unix, a Unix socket each; with --transport tls,
# TCP with TLS from a throw-away certificate authority; with --transport tls-unix, TLS on a Unix
# socket each; with --transport psk, TCP with TLS from a pre-shared key), measured with fio's nbd
# engine (one job, one connection) or nbdcopy.
#
# Runs are interleaved: for each round, for each workload, each server in turn (the order rotating
# from round to round). Machine noise (this kind of machine is shared) then hits every server
# alike, and the ratios between servers mean more than the absolute figures. The table at the end
# gives the median per server and workload and the ratios faultdisk/nbdkit and faultdisk/qemu-nbd.
#
# Usage: bench/compare.sh [--quick] [--rounds N] [--runtime SECONDS] [--warmup SECONDS]
#                         [--file PATH] [--size-mib N] [--out DIR] [--servers LIST]
#                         [--workloads LIST] [--delay-ms N] [--transport tcp|unix|tls|tls-unix|psk] [--no-verify]
#                         [--tail-hole]
# Environment: ROUNDS, RUNTIME, WARMUP, BENCH_FILE, BENCH_SIZE_MIB, BENCH_OUT, SERVERS, WORKLOADS,
# DELAY_MS, TRANSPORT, TAIL_HOLE=1 (flags win). FAULTDISK_JAVA_OPTS reaches faultdisk's JVM (for example a JFR recording).
#
# Injected delays: the servers faultdisk-delay (a fault rule added over QMP once it is up) and
# nbdkit-delay (nbdkit's delay filter) delay every read by --delay-ms; the workloads randread64
# (queue depth 64: what the delay costs in throughput) and randread1 (queue depth 1: how exact the
# delay is, from fio's completion latency percentiles) go with them, for example:
#   bench/compare.sh --servers faultdisk-delay,nbdkit-delay --workloads randread64 --delay-ms 1
#   bench/compare.sh --servers faultdisk-delay,nbdkit-delay --workloads randread1 --delay-ms 10
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)

usage() {
  cat <<'EOF'
bench/compare.sh: faultdisk vs nbdkit (file plugin) vs qemu-nbd on the same file, with fio.

  --quick            smoke run: 1 round, 2 s per run, 1 s warm-up
  --rounds N         rounds of interleaved runs (default 3, env ROUNDS)
  --runtime S        seconds per measured fio run (default 5, env RUNTIME)
  --warmup S         seconds per unmeasured warm-up run, 0 for none (default 2, env WARMUP)
  --file PATH        the raw image (default: /dev/shm if it has room, else /var/tmp; env BENCH_FILE)
  --size-mib N       image size in MiB (default 1024, env BENCH_SIZE_MIB)
  --out DIR          where fio's JSON and the logs go (default bench/results/DATE, env BENCH_OUT)
  --servers LIST     comma-separated, from faultdisk,nbdkit,qemu-nbd (the default), faultdisk-metrics
                     (serve --metrics, scraped every second), faultdisk-platform and faultdisk-virtual
                     (connection readers on one kind of thread), faultdisk-variant and faultdisk-variant2
                     (JVM options from FAULTDISK_VARIANT_OPTS, FAULTDISK_VARIANT2_OPTS), faultdisk-rules, faultdisk-ranges,
                     faultdisk-triggers, faultdisk-delay, nbdkit-delay (env SERVERS)
  --workloads LIST   comma-separated, from seqread,seqwrite,randread,randrw (the default),
                     randread64, randread1, randwrite, syncwrite (QD1, a flush after each write),
                     randtrim (4 KiB trims at random), trimwrite (64 KiB trimmed then written, in
                     turn; the image is put back after each trim run, as for qemuwrite4k),
                     and on four connections at once seqread4c,
                     seqwrite4c, randread4c, randrw4c, 1 MiB writes at queue depth 32 on one and on
                     four connections seqwrite32 and seqwrite4c32, and whole-disk copies with nbdcopy (its defaults:
                     up to 4 connections, 64 requests of 256 KiB) copyread (to null:) and
                     copywrite (the image onto the export), and with one connection and 16
                     requests of 4 KiB copyread4k and copywrite4k, and with QEMU's client (qemu-img
                     bench, 16 requests of 4 KiB, tcp and unix only) qemuread4k and qemuwrite4k
                     (env WORKLOADS); and, after those, with servers and
                     reports of their own: connections (bench/connections.sh: 10,000 idle
                     connections and 100 busy ones, against the listed servers it knows) and
                     control (bench/control-latency.sh: fault-add and power-fail under fio load,
                     faultdisk alone: no other server has such commands) and firstconnect
                     (bench/first-connect.sh, --rounds rounds: a fresh server's first nbdinfo runs, faultdisk with
                     and without serve --warm-up, against the listed nbdkit and qemu-nbd; over the
                     run's transport when it is tcp, unix, tls or psk, else tcp)
  --delay-ms N       the read delay of faultdisk-delay and nbdkit-delay (default 1, env DELAY_MS)
  --in-flight N      delayed requests one connection may have waiting at once: faultdisk-delay's
                     --max-in-flight, nbdkit-delay's worker threads (-t); default 16, both
                     servers' own default (env IN_FLIGHT)
                     (base and base-delay: faultdisk and faultdisk-delay run from FAULTDISK_BASE_JAR,
                     another build such as the main branch's, for before/after runs)
  --transport T      tcp (the default: 127.0.0.1), unix (each server on a Unix socket of its own,
                     nbd+unix:// URIs for fio and the checks) or tls (127.0.0.1, every server
                     requiring TLS with one server certificate made by openssl for the run, fio
                     through nbds:// URIs; env TRANSPORT) or tls-unix (TLS as tls, on a Unix
                     socket each as unix) or psk (127.0.0.1, TLS with a pre-shared key made for
                     the run; nbdcopy's workloads only: fio's nbd engine cannot be given the
                     key file); the workloads with scripts of their own (connections, control)
                     stay on plain TCP, firstconnect as said above
  --no-verify        skip the check that every server serves the file's exact content
  --tail-hole        the image's last MiB is a hole, the rest random data: a sparse image, as
                     most images are (made with truncate or qemu-img create, never written to the
                     end); a file of its own, *-tail-hole.img. A workload that writes the end
                     (seqwrite, copywrite) fills the hole for the runs after it (env TAIL_HOLE=1)

The image is created once (dense, random data) and reused by later runs when its size matches.
EOF
}

rounds=${ROUNDS:-3}
runtime=${RUNTIME:-5}
warmup=${WARMUP:-2}
file=${BENCH_FILE:-}
size_mib=${BENCH_SIZE_MIB:-1024}
out=${BENCH_OUT:-}
servers=${SERVERS:-faultdisk,nbdkit,qemu-nbd}
workloads=${WORKLOADS:-seqread,seqwrite,randread,randrw}
delay_ms=${DELAY_MS:-1}
in_flight=${IN_FLIGHT:-16}
transport=${TRANSPORT:-tcp}
verify=1
tail_hole=${TAIL_HOLE:-0}

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) rounds=1; runtime=2; warmup=1 ;;
    --rounds) rounds=$2; shift ;;
    --runtime) runtime=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --file) file=$2; shift ;;
    --size-mib) size_mib=$2; shift ;;
    --out) out=$2; shift ;;
    --servers) servers=$2; shift ;;
    --workloads) workloads=$2; shift ;;
    --delay-ms) delay_ms=$2; shift ;;
    --in-flight) in_flight=$2; shift ;;
    --transport) transport=$2; shift ;;
    --no-verify) verify=0 ;;
    --tail-hole) tail_hole=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "compare.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*"; }

for n in "$rounds" "$runtime" "$warmup" "$size_mib" "$delay_ms" "$in_flight"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "not a whole number: $n"
done
case "$transport" in tcp|unix|tls|tls-unix|psk) ;; *) die "--transport is tcp, unix, tls, tls-unix or psk, not $transport" ;; esac
IFS=, read -r -a server_list <<<"$servers"
IFS=, read -r -a workload_list <<<"$workloads"
# What the transport is made of: a Unix socket each (or TCP), TLS (or not).
case "$transport" in unix|tls-unix) on_unix=1 ;; *) on_unix= ;; esac
case "$transport" in tls|tls-unix) with_tls=1 ;; *) with_tls= ;; esac
# libnbd reads a key file from a URI only where the program allows local files; fio's engine does not.
# qemu-img bench takes no credentials at all.
if [ -n "$with_tls" ] || [ "$transport" = psk ]; then
  for w in "${workload_list[@]}"; do
    case "$w" in qemuread4k|qemuwrite4k) die "$w runs over tcp and unix only (qemu-img bench takes no TLS credentials)" ;; esac
  done
fi
# QEMU 7.2's client against qemu-nbd over TCP stalls for delayed ACKs: 2,000 reads at QD16 took
# 5.2 s (388 a second; at QD1 0.09 s), so that pair is not run.
if [ "$transport" = tcp ] && [[ ",$servers," == *",qemu-nbd,"* ]]; then
  for w in "${workload_list[@]}"; do
    case "$w" in qemuread4k|qemuwrite4k) die "$w against qemu-nbd over TCP: QEMU's client and qemu-nbd stall for delayed ACKs there (a few hundred requests a second); use --transport unix or leave qemu-nbd out" ;; esac
  done
fi
if [ "$transport" = psk ]; then
  for w in "${workload_list[@]}"; do
    case "$w" in copyread|copywrite|copyread4k|copywrite4k|connections|control|firstconnect) ;; *) die "--transport psk runs nbdcopy's workloads only (fio cannot be given the key file), not $w" ;; esac
  done
fi
[ "$rounds" -ge 1 ] && [ "$runtime" -ge 1 ] && [ "$size_mib" -ge 16 ] || die "rounds and runtime must be >= 1, size >= 16 MiB"
# Workloads that have scripts of their own (their own servers, rounds and report): run after the
# fio workloads, with the servers of this run that they know.
extra=()
fio_workloads=()
for w in "${workload_list[@]}"; do
  case "$w" in connections|control|firstconnect) extra+=("$w") ;; *) fio_workloads+=("$w") ;; esac
done
run_extra() {
  local w s known=()
  for s in "${server_list[@]}"; do
    case "$s" in faultdisk|faultdisk-platform|faultdisk-virtual|nbdkit|qemu-nbd) known+=("$s") ;; esac
  done
  for w in "${extra[@]}"; do
    case "$w" in
      connections)
        [ ${#known[@]} -gt 0 ] || die "connections: none of the servers is one bench/connections.sh knows"
        "$root/bench/connections.sh" --servers "$(IFS=,; echo "${known[*]}")" ;;
      control) "$root/bench/control-latency.sh" ;;
      firstconnect)
        local first=() t=tcp
        for s in "${server_list[@]}"; do
          case "$s" in faultdisk) first+=(faultdisk faultdisk-warm) ;; nbdkit|qemu-nbd) first+=("$s") ;; esac
        done
        [ ${#first[@]} -gt 0 ] || die "firstconnect: none of the servers is one bench/first-connect.sh knows"
        case "$transport" in tcp|unix|tls|psk) t=$transport ;; esac
        "$root/bench/first-connect.sh" --rounds "$rounds" --transport "$t" --servers "$(IFS=,; echo "${first[*]}")" ;;
    esac
  done
}
if [ ${#fio_workloads[@]} -eq 0 ]; then
  run_extra
  exit 0
fi
workload_list=("${fio_workloads[@]}")
for s in "${server_list[@]}"; do
  case "$s" in base|base-delay) [ -n "${FAULTDISK_BASE_JAR:-}" ] || die "$s needs FAULTDISK_BASE_JAR" ;; esac
  case "$s" in base|base-delay|faultdisk|faultdisk-variant|faultdisk-variant2|faultdisk-metrics|faultdisk-platform|faultdisk-virtual|faultdisk-rules|faultdisk-ranges|faultdisk-triggers|faultdisk-delay|nbdkit|nbdkit-delay|qemu-nbd) ;;
    *) die "unknown server: $s" ;;
  esac
done

. "$root/bench/fio-workloads.sh"
. "$root/bench/serve.sh"  # free_ports
workload_args() {
  case "$1" in
    copyread|copywrite|copyread4k|copywrite4k) ;; # nbdcopy, not fio (run_fio)
    qemuread4k|qemuwrite4k) ;; # qemu-img bench, not fio (run_fio)
    *) fio_workload "$1" || die "unknown workload: $1" ;;
  esac
}
for w in "${workload_list[@]}"; do workload_args "$w" >/dev/null; done
is_copy() { case "$1" in copyread|copywrite|copyread4k|copywrite4k) return 0 ;; *) return 1 ;; esac; }
is_qemu() { case "$1" in qemuread4k|qemuwrite4k) return 0 ;; *) return 1 ;; esac; }

need_tools=(fio python3 nbdinfo)
for s in "${server_list[@]}"; do
  case "$s" in nbdkit*) need_tools+=(nbdkit) ;; qemu-nbd) need_tools+=(qemu-nbd) ;; esac
done
[ "$verify" = 1 ] && need_tools+=(qemu-img qemu-io)
for w in "${workload_list[@]}"; do
  is_copy "$w" && need_tools+=(nbdcopy)
  is_qemu "$w" && need_tools+=(qemu-img)
done
[ -n "$with_tls" ] && need_tools+=(openssl)
[ "$transport" = psk ] && need_tools+=(od)
for t in "${need_tools[@]}"; do
  command -v "$t" >/dev/null || die "needs $t (Debian: fio, nbdkit, qemu-utils, libnbd-bin)"
done

size=$((size_mib * 1024 * 1024))
hole=0  # bytes at the image's end left a hole
suffix=
if [ "$tail_hole" = 1 ]; then
  hole=$((1024 * 1024))
  suffix=-tail-hole
fi

# --- the image -----------------------------------------------------------------------------------
if [ -z "$file" ]; then
  shm_free=$(df --output=avail -B1 /dev/shm 2>/dev/null | tail -n 1 || echo 0)
  if [ -d /dev/shm ] && [ "${shm_free:-0}" -gt $((size + 512 * 1024 * 1024)) ]; then
    file=/dev/shm/faultdisk-bench-${size_mib}m$suffix.img
    where="/dev/shm (tmpfs: no disk I/O, the servers' own costs dominate)"
  else
    file=/var/tmp/faultdisk-bench-${size_mib}m$suffix.img
    where="/var/tmp (/dev/shm lacks room; the page cache holds the file after the first pass)"
  fi
else
  where="$(dirname "$file") (given)"
fi

# Dense but for the hole asked for at its end: allocated exactly up to it.
is_ready() {
  local bytes blocks bsize
  read -r bytes blocks bsize < <(stat -c '%s %b %B' "$1")
  [ "$bytes" -eq "$size" ] && [ $((blocks * bsize)) -ge $((size - hole)) ] &&
    { [ "$hole" = 0 ] || [ $((blocks * bsize)) -lt "$size" ]; }
}
if [ -f "$file" ] && is_ready "$file"; then
  log "reusing image $file"
else
  log "writing $((size_mib - hole / 1048576)) MiB of random data to $file, then $((hole / 1048576)) MiB of hole"
  rm -f "$file.tmp"
  head -c "$((size - hole))" /dev/urandom >"$file.tmp"
  truncate -s "$size" "$file.tmp"
  mv "$file.tmp" "$file"
  is_ready "$file" || die "$file is not as asked after writing it (dense, but for a 1 MiB hole at the end with --tail-hole)"
fi
pristine=  # the image's copy kept aside for qemuwrite4k (below), removed by cleanup

# --- output ----------------------------------------------------------------------------------------
if [ -z "$out" ]; then
  out="$root/bench/results/$(date +%Y%m%d-%H%M%S)"
fi
rm -rf "$out/runs" "$out/warmup"  # a reused directory must not mix in an older run's files
mkdir -p "$out/runs"
: >"$out/cpu.tsv"
: >"$out/rss.tsv"

# --- servers ---------------------------------------------------------------------------------------
declare -A pid port qmp_port
started=()
sock_dir=
cleanup() {
  local s p i
  for s in "${started[@]}"; do
    p=${pid[$s]}
    kill -TERM "$p" 2>/dev/null || true
  done
  for s in "${started[@]}"; do
    p=${pid[$s]}
    for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  started=()
  [ -z "$sock_dir" ] || rm -rf "$sock_dir"
  [ -z "$pristine" ] || rm -f "$pristine"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# qemu-img bench writes one byte value over and over, and trims punch holes: with qemuwrite4k,
# randtrim or trimwrite the image is copied aside (once cleanup is set to remove the copy) and put
# back in place after each of their runs, so that every run (and later ones) meets the same random
# data, the holes filled again.
puts_back() { [ "$1" = qemuwrite4k ] || [ "$1" = randtrim ] || [ "$1" = trimwrite ]; }
for w in "${workload_list[@]}"; do
  if puts_back "$w" && [ -z "$pristine" ]; then pristine="$file.pristine"; cp "$file" "$pristine"; fi
done

read -r -a listen_ports < <(free_ports "$((2 * ${#server_list[@]}))")  # an NBD and a QMP port each

if [[ " ${server_list[*]} " == *" faultdisk"* ]]; then
  # The launcher rebuilds the jar when sources changed; do it now, not while a server is timed.
  log "building faultdisk if needed"
  "$root/faultdisk" --version >/dev/null || die "building faultdisk failed"
fi

# Where each server listens for NBD: 127.0.0.1:PORT, or a Unix socket in $sock_dir (a short path
# of its own: a socket's path is limited to 107 bytes). Paths here have no spaces.
if [ -n "$on_unix" ]; then
  sock_dir=$(mktemp -d "${TMPDIR:-/tmp}/fd-bench.XXXXXX")
fi
# With TLS: a certificate authority and a server certificate, or a pre-shared key (tls-creds.sh).
. "$root/bench/tls-creds.sh"
pki=
if [ -n "$with_tls" ]; then
  pki="$out/pki"
  make_pki "$pki" "$out/pki.log" || die "no certificates"
fi
psk=
if [ "$transport" = psk ]; then
  psk="$out/psk"
  make_psk "$psk"
fi
sock_of() { echo "$sock_dir/$1.sock"; }
nbd_listen() { if [ -n "$on_unix" ]; then echo "unix:$(sock_of "$1")"; else echo "127.0.0.1:$2"; fi; }
# faultdisk's, nbdkit's and qemu-nbd's options for the transport (words; no spaces in paths).
fd_tls() {
  if [ -n "$psk" ]; then echo "--tls require --tls-psk $psk/keys.psk"; elif [ -n "$with_tls" ]; then echo "--tls require --tls-certificates $pki"; fi
}
nbdkit_listen() {
  case "$transport" in
    unix) echo "-U $(sock_of "$1")" ;;
    tls) echo "-i 127.0.0.1 -p $2 --tls=require --tls-certificates=$pki" ;;
    tls-unix) echo "-U $(sock_of "$1") --tls=require --tls-certificates=$pki" ;;
    psk) echo "-i 127.0.0.1 -p $2 --tls=require --tls-psk=$psk/keys.psk" ;;
    *) echo "-i 127.0.0.1 -p $2" ;;
  esac
}
qemu_nbd_listen() {
  case "$transport" in
    unix) echo "-k $(sock_of "$1")" ;;
    tls) echo "-b 127.0.0.1 -p $2 --object tls-creds-x509,id=tls0,dir=$pki,endpoint=server,verify-peer=off --tls-creds tls0" ;;
    tls-unix) echo "-k $(sock_of "$1") --object tls-creds-x509,id=tls0,dir=$pki,endpoint=server,verify-peer=off --tls-creds tls0" ;;
    psk) echo "-b 127.0.0.1 -p $2 --object tls-creds-psk,id=tls0,dir=$psk,endpoint=server --tls-creds tls0" ;;
    *) echo "-b 127.0.0.1 -p $2" ;;
  esac
}
# The URI clients reach server $1 by (fio and nbdinfo, through libnbd).
uri() {
  case "$transport" in
    unix) echo "nbd+unix:///bench?socket=$(sock_of "$1")" ;;
    tls) echo "nbds://127.0.0.1:${port[$1]}/bench?tls-certificates=$pki" ;;
    tls-unix) echo "nbds+unix:///bench?socket=$(sock_of "$1")&tls-certificates=$pki" ;;
    psk) echo "nbds://bench@127.0.0.1:${port[$1]}/bench?tls-psk-file=$psk/keys.psk" ;;
    *) echo "nbd://127.0.0.1:${port[$1]}/bench" ;;
  esac
}
# fio's nbd engine does not let a URI name local files (libnbd's allow-local-file is off there),
# so it keeps the encryption and skips checking the certificate: only the handshake, before the
# timed I/O, would differ.
fio_uri() {
  case "$transport" in
    tls) echo "nbds://127.0.0.1:${port[$1]}/bench?tls-verify-peer=false" ;;
    tls-unix) echo "nbds+unix:///bench?socket=$(sock_of "$1")&tls-verify-peer=false" ;;
    *) uri "$1" ;;
  esac
}
# How qemu-img and qemu-io reach server $1: their own URIs, or with TLS a JSON filename (the
# options of the raw layer over an NBD child) and a client credentials object (options first).
qemu_target() {
  case "$transport" in
    unix) echo "nbd+unix:///bench?socket=$(sock_of "$1")" ;;
    tls) echo "--object tls-creds-x509,id=tls0,dir=$pki,endpoint=client" \
      "json:{\"file\":{\"driver\":\"nbd\",\"server\":{\"type\":\"inet\",\"host\":\"127.0.0.1\",\"port\":\"${port[$1]}\"},\"export\":\"bench\",\"tls-creds\":\"tls0\"}}" ;;
    # Over a Unix socket qemu has no host name to check the certificate against: it is given one.
    tls-unix) echo "--object tls-creds-x509,id=tls0,dir=$pki,endpoint=client" \
      "json:{\"file\":{\"driver\":\"nbd\",\"server\":{\"type\":\"unix\",\"path\":\"$(sock_of "$1")\"},\"export\":\"bench\",\"tls-creds\":\"tls0\",\"tls-hostname\":\"localhost\"}}" ;;
    psk) echo "--object tls-creds-psk,id=tls0,dir=$psk,username=bench,endpoint=client" \
      "json:{\"file\":{\"driver\":\"nbd\",\"server\":{\"type\":\"inet\",\"host\":\"127.0.0.1\",\"port\":\"${port[$1]}\"},\"export\":\"bench\",\"tls-creds\":\"tls0\"}}" ;;
    *) echo "nbd://127.0.0.1:${port[$1]}/bench" ;;
  esac
}

start_server() {
  local s=$1 p=$2 q=$3 kind=$1 launcher=("$root/faultdisk")
  port[$s]=$p
  qmp_port[$s]=$q
  if [[ "$s" == base* ]]; then
    # Another build of faultdisk (FAULTDISK_BASE_JAR, e.g. the main branch's jar) for A/B runs,
    # through the launcher, so that only the build differs (env execs it: $! stays the JVM's pid).
    launcher=(env "FAULTDISK_JAR=$FAULTDISK_BASE_JAR" "$root/faultdisk")
    kind=faultdisk${s#base}
  fi
  case "$kind" in
    faultdisk)
      # The launcher execs java, so $! is the JVM's pid.
      "${launcher[@]}" serve --export "bench=$file,locking=off" --nbd "$(nbd_listen "$s" "$p")" $(fd_tls) --qmp none >"$out/$s.log" 2>&1 &
      ;;
    faultdisk-platform|faultdisk-virtual)
      # The same server with each connection's reader on one kind of thread for its whole life
      # (by default a busy connection is read by a platform thread, an idle one by a virtual thread).
      FAULTDISK_JAVA_OPTS="${FAULTDISK_JAVA_OPTS:-} -Dfaultdisk.nbd.readers=${s#faultdisk-}" \
        "$root/faultdisk" serve --export "bench=$file,locking=off" --nbd "$(nbd_listen "$s" "$p")" $(fd_tls) --qmp none >"$out/$s.log" 2>&1 &
      ;;
    faultdisk-variant|faultdisk-variant2)
      # The same server with more JVM options (FAULTDISK_VARIANT_OPTS, FAULTDISK_VARIANT2_OPTS, e.g.
      # -Dfaultdisk.nbd.sendfile=false): settings against the default in the same interleaved run.
      opts_var=FAULTDISK_VARIANT${s#faultdisk-variant}_OPTS
      FAULTDISK_JAVA_OPTS="${FAULTDISK_JAVA_OPTS:-} ${!opts_var:-}" \
        "$root/faultdisk" serve --export "bench=$file,locking=off" --nbd "$(nbd_listen "$s" "$p")" $(fd_tls) --qmp none >"$out/$s.log" 2>&1 &
      ;;
    faultdisk-metrics)
      # The same server recording metrics (latency histograms timed per request), scraped once a
      # second below as Prometheus would.
      "$root/faultdisk" serve --export "bench=$file,locking=off" --nbd "$(nbd_listen "$s" "$p")" $(fd_tls) --qmp none --metrics "127.0.0.1:$q" \
        >"$out/faultdisk-metrics.log" 2>&1 &
      ;;
    faultdisk-rules)
      # The same server with 1,000 blkdebug rules engaged: 500 on events every request fires
      # (read_aio, write_aio) but for states never reached, 490 on events raw I/O never fires, and
      # 10 that act on every request without failing it: 5 inject-error rules armed by each read
      # for sectors far past the end, 5 set-state rules that keep state 1 on each write.
      python3 - "$out/rules.conf" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(990):
        event = ("read_aio", "write_aio")[i % 2] if i < 500 else ("l1_update", "refblock_alloc", "cluster_alloc")[i % 3]
        f.write(f'[inject-error]\nevent = "{event}"\nstate = "{i + 2}"\nerrno = "5"\n\n')
    for i in range(5):
        f.write(f'[inject-error]\nevent = "read_aio"\nsector = "{10**12 + i}"\nerrno = "5"\n\n')
        f.write('[set-state]\nevent = "write_aio"\nstate = "1"\nnew_state = "1"\n\n')
PY
      "$root/faultdisk" serve --export "bench=$file,locking=off,rules=$out/rules.conf" --nbd "$(nbd_listen "$s" "$p")" $(fd_tls) --qmp none \
        >"$out/faultdisk-rules.log" 2>&1 &
      ;;
    faultdisk-ranges)
      # The same server with 100,000 range-targeted fault rules that never fire, added over QMP.
      "$root/faultdisk" serve --export "bench=$file,locking=off" --nbd "$(nbd_listen "$s" "$p")" $(fd_tls) --qmp "127.0.0.1:$q" \
        >"$out/faultdisk-ranges.log" 2>&1 &
      ;;
    faultdisk-triggers)
      # The same server with 100 armed triggers that never fire, added over QMP once it answers.
      "$root/faultdisk" serve --export "bench=$file,locking=off" --nbd "$(nbd_listen "$s" "$p")" $(fd_tls) --qmp "127.0.0.1:$q" \
        >"$out/faultdisk-triggers.log" 2>&1 &
      ;;
    faultdisk-delay)
      # Delays every read by --delay-ms through a fault rule, added over QMP once it answers.
      "${launcher[@]}" serve --export "bench=$file,locking=off" --nbd "$(nbd_listen "$s" "$p")" $(fd_tls) --qmp "127.0.0.1:$q" \
        --max-in-flight "$in_flight" >"$out/$s.log" 2>&1 &
      ;;
    nbdkit)
      # File plugin, default 16 worker threads, page cache (cache=default).
      nbdkit --exit-with-parent -f $(nbdkit_listen "$s" "$p") -e bench file "$file" >"$out/nbdkit.log" 2>&1 &
      ;;
    nbdkit-delay)
      # The delay filter sleeps in nbdkit's worker threads (16 by default, --in-flight).
      nbdkit --exit-with-parent -f $(nbdkit_listen "$s" "$p") -t "$in_flight" -e bench --filter=delay file "$file" \
        "rdelay=${delay_ms}ms" >"$out/nbdkit-delay.log" 2>&1 &
      ;;
    qemu-nbd)
      # --cache=writeback is qemu-nbd's default (page cache, no O_DIRECT), stated for the record;
      # -t keeps it up between fio runs, -e allows the verification clients alongside.
      qemu-nbd -f raw --cache=writeback --aio=threads --discard=unmap $(qemu_nbd_listen "$s" "$p") -x bench -t -e 4 "$file" \
        >"$out/qemu-nbd.log" 2>&1 &
      ;;
  esac
  pid[$s]=$!
  started+=("$s")
  if [ "$s" = faultdisk-metrics ]; then
    (while kill -0 "${pid[$s]}" 2>/dev/null; do
      curl -s -o /dev/null "http://127.0.0.1:$q/metrics" || true
      sleep 1
    done) &
  fi
}

wait_ready() {
  local s=$1 i got
  for i in $(seq 240); do
    kill -0 "${pid[$s]}" 2>/dev/null || { cat "$out/$s.log" >&2; die "$s exited at startup"; }
    got=$(nbdinfo --size "$(uri "$s")" 2>/dev/null || true)
    if [ -n "$got" ]; then
      [ "$got" = "$size" ] || die "$s serves $got bytes, expected $size"
      return 0
    fi
    sleep 0.25
  done
  die "$s did not answer on port ${port[$s]} within 60 s"
}

# Sends the QMP commands on stdin (one JSON object a line) to 127.0.0.1:PORT after the greeting
# and qmp_capabilities, and fails on the first reply that is not a return.
qmp_send() {  # port timeout-seconds
  python3 -c '
import json, socket, sys
cmds = [{"execute": "qmp_capabilities"}] + [json.loads(line) for line in sys.stdin if line.strip()]
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=float(sys.argv[2])) as s:
    f = s.makefile("rw")
    f.readline()  # greeting
    for cmd in cmds:
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        reply = json.loads(f.readline())
        if "return" not in reply:
            sys.exit("QMP %s: %s" % (cmd["execute"], reply))
' "$1" "$2"
}

# Sends trigger-add over QMP: 100 triggers that count every request of the workloads (read,
# write and flush on the export) but wait for a count no run reaches, so each request is
# evaluated by all of them and none fires: the cost of armed triggers that do not match.
add_idle_triggers() {
  python3 - <<'PY' | qmp_send "$1" 10
import json
triggers = [{"when": {"device": "bench", "ops": ["read", "write", "flush"], "nth": 10**15 + i},
             "actions": [{"execute": "fault-clear", "arguments": {"device": "bench"}}]} for i in range(100)]
print(json.dumps({"execute": "trigger-add", "arguments": {"triggers": triggers}}))
PY
}

# Sends fault-add over QMP, 250 rules a command: 100,000 error rules on reads, each on its own
# 4 KiB range (spread over the file, so ~40% of random 4 KiB reads overlap one), each skipping
# its first 10^12 matches: every rule a read overlaps is selected and counts, none fires.
add_range_rules() {
  python3 - "$size" <<'PY' | qmp_send "$1" 60
import json, sys
size = int(sys.argv[1])
stride = (size // 100_000) // 4096 * 4096
for b in range(0, 100_000, 250):
    rules = [{"type": "error", "ops": ["read"], "offset": i * stride, "length": 4096, "after": 10**12}
             for i in range(b, b + 250)]
    print(json.dumps({"execute": "fault-add", "arguments": {"device": "bench", "rules": rules}}))
PY
}

# Sends fault-add over QMP: every read of the export is delayed by --delay-ms.
add_read_delay() {
  python3 - "$delay_ms" <<'PY' | qmp_send "$1" 10
import json, sys
rule = {"type": "delay", "ops": ["read"], "ms": int(sys.argv[1])}
print(json.dumps({"execute": "fault-add", "arguments": {"device": "bench", "rules": [rule]}}))
PY
}

i=0
for s in "${server_list[@]}"; do
  start_server "$s" "${listen_ports[$i]}" "${listen_ports[$((i + 1))]}"
  i=$((i + 2))
done
for s in "${server_list[@]}"; do
  wait_ready "$s"
  if [ "$s" = faultdisk-delay ] || [ "$s" = base-delay ]; then
    add_read_delay "${qmp_port[$s]}" || die "could not add the read delay to faultdisk-delay"
  fi
  if [ "$s" = faultdisk-ranges ]; then
    add_range_rules "${qmp_port[$s]}" || die "could not add the range rules to faultdisk-ranges"
  fi
  if [ "$s" = faultdisk-triggers ]; then
    add_idle_triggers "${qmp_port[$s]}" || die "could not add the triggers to faultdisk-triggers"
  fi
  log "$s: pid ${pid[$s]}, $(uri "$s")"
done


# Every server must return the file's exact bytes, and a write through one must be read back
# through the others: otherwise they would not be serving the same file.
verify_same_file() {
  local phase=$1 s
  for s in "${server_list[@]}"; do
    # shellcheck disable=SC2046 # qemu_target is options and a filename, split on purpose
    qemu-img compare -U -f raw -F raw "$file" $(qemu_target "$s") >"$out/compare-$phase-$s.log" 2>&1 ||
      { cat "$out/compare-$phase-$s.log" >&2; die "$s does not serve the content of $file ($phase)"; }
  done
  log "verified ($phase): all servers return the exact content of $file"
}
verify_cross_write() {
  local first=${server_list[0]} s pattern=$((RANDOM % 254 + 1)) offset=$((size / 2))
  # shellcheck disable=SC2046 # as above
  qemu-io -f raw -c "write -P $pattern $offset 1M" $(qemu_target "$first") >"$out/crosswrite.log" 2>&1 ||
    die "write through $first failed"
  for s in "${server_list[@]}"; do
    # shellcheck disable=SC2046 # as above
    qemu-io -f raw -r -c "read -P $pattern $offset 1M" $(qemu_target "$s") >>"$out/crosswrite.log" 2>&1 ||
      die "read back through $s failed"
  done
  ! grep -q "Pattern verification failed" "$out/crosswrite.log" ||
    die "a write through $first was not seen through another server"
  cmp -s -n 1048576 -i "$offset:0" "$file" <(head -c 1048576 /dev/zero | tr '\0' "\\$(printf '%03o' "$pattern")") ||
    die "a write through $first did not reach $file"
  log "verified: a 1 MiB write through $first is read back through every server and is in the file"
}
if [ "$verify" = 1 ]; then
  verify_same_file before
  verify_cross_write
fi

# --- measurements ----------------------------------------------------------------------------------
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, all threads
rss_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
record_rss() {
  local s
  for s in "${server_list[@]}"; do
    printf '%s\t%s\t%s\t%s\n' "$1" "$s" "$(rss_kib "${pid[$s]}" VmRSS)" "$(rss_kib "${pid[$s]}" VmHWM)" >>"$out/rss.tsv"
  done
}

run_fio() {  # server workload seconds json-file
  local s=$1 w=$2 secs=$3 json=$4
  kill -0 "${pid[$s]}" 2>/dev/null || die "$s died (log: $out/$s.log)"
  # Another client than fio (nbdcopy, qemu-img bench), through a script that reports in fio's shape.
  local client=() tool=
  if is_copy "$w"; then
    client=("$root/bench/copy_run.py" "$w" "$(fio_uri "$s")" "$file" "$secs") tool=nbdcopy
  elif is_qemu "$w"; then
    client=("$root/bench/qemu_bench_run.py" "$w" "$(fio_uri "$s")" "$secs") tool="qemu-img bench"
  fi
  if [ -n "$tool" ]; then
    if python3 "${client[@]}" >"$json" 2>>"$out/fio-stdout.log"; then
      # In place (the servers hold the file open): the random data back over qemu-img's bytes.
      ! puts_back "$w" || dd if="$pristine" of="$file" bs=4M conv=notrunc status=none
      return 0
    fi
    kill -0 "${pid[$s]}" 2>/dev/null || die "$s exited during the $w run (its log is $out/$s.log)"
    die "$tool failed against $s ($w): see $out/fio-stdout.log"
  fi
  # shellcheck disable=SC2046 # workload_args is meant to split into options (a later --numjobs wins)
  fio --name="$w" --ioengine=nbd --uri="$(fio_uri "$s")" --numjobs=1 --time_based --runtime="$secs" \
    $(workload_args "$w") --output-format=json --output="$json" >>"$out/fio-stdout.log" 2>&1 && {
    # In place, as above: the random data back over the trimmed holes (writing them fills them).
    ! puts_back "$w" || dd if="$pristine" of="$file" bs=4M conv=notrunc status=none
    return 0
  }
  if ! kill -0 "${pid[$s]}" 2>/dev/null; then
    tail -n 3 "$out/$s.log" >&2
    die "$s exited during the $w run (a crash, or a signal from outside: its log is $out/$s.log)"
  fi
  die "fio failed against $s ($w): see $json and $out/fio-stdout.log"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
record_rss start
if [ "$warmup" -gt 0 ]; then
  log "warm-up: ${warmup} s per server and workload, not measured (the JVM compiles its hot paths)"
  mkdir -p "$out/warmup"
  for w in "${workload_list[@]}"; do
    for s in "${server_list[@]}"; do
      run_fio "$s" "$w" "$warmup" "$out/warmup/$w-$s.json"
    done
  done
fi
record_rss after-warmup

total=$((rounds * ${#workload_list[@]} * ${#server_list[@]}))
log "measuring: $rounds round(s) x ${#workload_list[@]} workload(s) x ${#server_list[@]} server(s) x $runtime s = about $((total * runtime)) s"
n=0
nservers=${#server_list[@]}
for r in $(seq "$rounds"); do
  for w in "${workload_list[@]}"; do
    # The order rotates each round, so no server always runs first (or right after another).
    for k in $(seq 0 $((nservers - 1))); do
      s=${server_list[$(((k + r - 1) % nservers))]}
      n=$((n + 1))
      before=$(cpu_ticks "${pid[$s]}")
      run_fio "$s" "$w" "$runtime" "$out/runs/$r-$w-$s.json"
      after=$(cpu_ticks "${pid[$s]}")
      printf '%s\t%s\t%s\t%s\n' "$r" "$w" "$s" "$(((after - before) * 1000 / ticks))" >>"$out/cpu.tsv"
      printf '  [%d/%d] round %d %-8s %-9s %s\n' "$n" "$total" "$r" "$w" "$s" \
        "$(python3 "$root/bench/summarize.py" --one "$out/runs/$r-$w-$s.json")"
    done
  done
  record_rss "after-round-$r"
done

# A JVM that has not collected yet still holds the garbage of past connections (heap and direct
# buffers): one explicit GC at the end tells garbage from memory really held.
if [ -n "${pid[faultdisk]:-}" ]; then
  jcmd_bin="$(dirname "$(readlink -f "/proc/${pid[faultdisk]}/exe")")/jcmd"
  if [ -x "$jcmd_bin" ] && "$jcmd_bin" "${pid[faultdisk]}" GC.run >/dev/null 2>&1; then
    sleep 1
    printf '%s\t%s\t%s\t%s\n' after-gc faultdisk "$(rss_kib "${pid[faultdisk]}" VmRSS)" \
      "$(rss_kib "${pid[faultdisk]}" VmHWM)" >>"$out/rss.tsv"
  fi
fi

if [ "$verify" = 1 ]; then
  verify_same_file after
fi

# --- report ----------------------------------------------------------------------------------------
{
  echo "image: $file ($size_mib MiB, dense random data$([ "$hole" = 0 ] || echo ", its last MiB a hole")) in $where"
  echo "rounds: $rounds, runtime per run: $runtime s, warm-up per run: $warmup s, one fio job, one connection ($transport)"
  echo "machine: $(nproc) cpus; $(fio --version); $(nbdkit --version 2>/dev/null | head -n 1 || true);" \
    "$(qemu-nbd --version 2>/dev/null | head -n 1 || true); $("$root/faultdisk" --version 2>/dev/null || true)" \
    "at $(git -C "$root" describe --always --dirty 2>/dev/null || echo "unknown commit")"
  echo "load average: $load_before at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "servers: faultdisk serve --export bench=FILE,locking=off (all serve the one image); nbdkit -f file FILE (16 threads);" \
    "qemu-nbd -f raw --cache=writeback --aio=threads --discard=unmap -t -x bench FILE"
  case " ${server_list[*]} " in
    *" faultdisk"*) echo "faultdisk's build: $("$root/bench/aot-note.sh" "${FAULTDISK_JAR:-$root/cli/target/faultdisk.jar}")" ;;
  esac
  case " ${server_list[*]} " in
    *" base"*) echo "base build: $("$root/bench/aot-note.sh" "$FAULTDISK_BASE_JAR")" ;;
  esac
  case " ${server_list[*]} " in
    *-delay*) echo "delays: every read delayed by ${delay_ms} ms, ${in_flight} requests in flight at most (faultdisk-delay: a delay rule added with" \
      "fault-add over QMP; nbdkit-delay: --filter=delay rdelay=${delay_ms}ms)" ;;
  esac
  echo
  python3 "$root/bench/summarize.py" "$out" "${server_list[@]}"
} | tee "$out/summary.txt"
echo
echo "fio JSON and logs: $out"
echo "image kept for the next run: $file (rm it to free $size_mib MiB)"
run_extra
