#!/usr/bin/env bash
# bench/first-connect.sh [--rounds N] [--connects N] [--transport tcp|unix|tls|psk] [--warm-up DURATION]
#   [--servers LIST]
# How long a just-started server takes to let its first clients in: per round and server, a fresh
# server, then --connects (default 5) `nbdinfo --size` runs one after another, each timed whole
# (the process's start, the connection, TLS if any, the negotiation), the first apart from the
# rest. Servers (default faultdisk,faultdisk-warm,nbdkit,qemu-nbd, interleaved in each round):
# faultdisk as ./faultdisk runs it (FAULTDISK_JAR for another build), faultdisk-warm the same with
# `serve --warm-up` (default 2s; --warm-up), faultdisk-variant the same with FAULTDISK_VARIANT_OPTS's
# JVM options, nbdkit's memory plugin, qemu-nbd on a sparse file.
# --transport unix: a Unix socket each; tls: TCP with TLS from a throw-away certificate authority
# (bench/tls-creds.sh); psk: TLS with a pre-shared key. Prints each round's times in ms, then per
# server the median first connection and the median of the others. bench/compare.sh runs it as
# its workload firstconnect.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=5 connects=5 transport=tcp warm=2s servers=faultdisk,faultdisk-warm,nbdkit,qemu-nbd
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --connects) connects=$2; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    --warm-up) warm=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
  esac
done
case "$transport" in tcp|unix|tls|psk) ;; *) echo "first-connect.sh: --transport is tcp, unix, tls or psk" >&2; exit 2 ;; esac
[ "$connects" -ge 2 ] || { echo "first-connect.sh: --connects is 2 or more" >&2; exit 2; }
for tool in nbdinfo nbdkit qemu-nbd python3 openssl; do
  command -v "$tool" >/dev/null || { echo "first-connect.sh: $tool is not installed" >&2; exit 1; }
done
. "$root/bench/serve.sh"
. "$root/bench/tls-creds.sh"
out=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$out"' EXIT
faultdisk=$root/faultdisk
$faultdisk --version >/dev/null # builds the jar if needed, before anything is timed
make_pki "$out/pki" "$out/openssl.log"
make_psk "$out/psk"
truncate -s 1G "$out/disk.img"

# Each server's TLS arguments and the URI nbdinfo is given.
fd_tls() {
  case "$transport" in
    tls) echo "--tls require --tls-certificates $out/pki" ;;
    psk) echo "--tls require --tls-psk $out/psk/keys.psk" ;;
  esac
}
# A server's Unix socket (--transport unix).
sock() { echo "$out/$1.sock"; }
uri() {
  case "$transport" in
    tcp) echo "nbd://127.0.0.1:$1/bench" ;;
    unix) echo "nbd+unix:///bench?socket=$1" ;;
    tls) echo "nbds://127.0.0.1:$1/bench?tls-certificates=$out/pki" ;;
    psk) echo "nbds://bench@127.0.0.1:$1/bench?tls-psk-file=$out/psk/keys.psk" ;;
  esac
}
start() { # SERVER PORT: starts it in the background, sets $pid
  local tls=()
  case "$1" in
    faultdisk | faultdisk-warm | faultdisk-variant)
      read -ra tls <<<"$(fd_tls)"
      local warm_args=()
      [ "$1" = faultdisk-warm ] && warm_args=(--warm-up "$warm")
      local at="127.0.0.1:$2"
      [ "$transport" = unix ] && at="unix:$(sock "$1")"
      local opts="${FAULTDISK_JAVA_OPTS:-}"
      [ "$1" = faultdisk-variant ] && opts="$opts ${FAULTDISK_VARIANT_OPTS:-}"
      FAULTDISK_JAVA_OPTS="$opts" $faultdisk serve --export bench=memory:1G --nbd "$at" --qmp none \
        "${tls[@]}" "${warm_args[@]}" >"$out/serve.log" 2>&1 &
      ;;
    nbdkit)
      case "$transport" in
        tls) tls=(--tls=require "--tls-certificates=$out/pki") ;;
        psk) tls=(--tls=require "--tls-psk=$out/psk/keys.psk") ;;
      esac
      local listen=(-i 127.0.0.1 -p "$2")
      [ "$transport" = unix ] && listen=(-U "$(sock "$1")")
      nbdkit -f "${listen[@]}" -e bench "${tls[@]}" memory 1G >"$out/serve.log" 2>&1 &
      ;;
    qemu-nbd)
      case "$transport" in
        tls) tls=(--object "tls-creds-x509,id=tls0,dir=$out/pki,endpoint=server,verify-peer=off" --tls-creds tls0) ;;
        psk) tls=(--object "tls-creds-psk,id=tls0,dir=$out/psk,endpoint=server" --tls-creds tls0) ;;
      esac
      local listen=(-b 127.0.0.1 -p "$2")
      [ "$transport" = unix ] && listen=(-k "$(sock "$1")")
      qemu-nbd -f raw "${listen[@]}" -x bench -t -e 8 "${tls[@]}" "$out/disk.img" >"$out/serve.log" 2>&1 &
      ;;
    *) echo "first-connect.sh: unknown server $1" >&2; exit 2 ;;
  esac
  pid=$!
}
# Waits without connecting (a probe would be the first connection): faultdisk's banner, or for the
# others the port in the kernel's table of listening sockets, or the Unix socket's file.
await_listen() { # SERVER PORT
  local hex
  hex=$(printf ':%04X ' "$2")
  for _ in $(seq 600); do
    case "$1" in
      faultdisk*) grep -q '^Stop with' "$out/serve.log" && return 0 ;;
      *) if [ "$transport" = unix ]; then [ -S "$(sock "$1")" ] && return 0; else grep -q "$hex" /proc/net/tcp && return 0; fi ;;
    esac
    kill -0 "$pid" 2>/dev/null || { cat "$out/serve.log" >&2; return 1; }
    sleep 0.05
  done
  cat "$out/serve.log" >&2
  return 1
}

IFS=, read -ra names <<<"$servers"
declare -A firsts rests
echo "first-connect: $rounds rounds, $connects connections each, transport $transport, warm-up $warm; load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  for name in "${names[@]}"; do
    read -r port < <(free_ports 1)
    start "$name" "$port"
    await_listen "$name" "$port"
    at=$port
    [ "$transport" = unix ] && at=$(sock "$name")
    times=()
    for _ in $(seq "$connects"); do
      t0=$(date +%s%N)
      nbdinfo --size "$(uri "$at")" >/dev/null
      t1=$(date +%s%N)
      times+=("$(((t1 - t0) / 1000000))")
    done
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    rm -f "$(sock "$name")"
    printf 'round %d %-15s ms: %s\n' "$r" "$name" "${times[*]}"
    firsts[$name]+="${times[0]} "
    rests[$name]+="${times[*]:1} "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "median first connection / median of the others (ms):"
for name in "${names[@]}"; do
  printf '  %-15s %6s / %s\n' "$name" "$(median <<<"${firsts[$name]}")" "$(median <<<"${rests[$name]}")"
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
