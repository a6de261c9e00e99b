#!/bin/sh
# Starts etcd 3 with its data on the file system at $1 (client port 23790, peer 23800), its log in
# $2, and waits up to ETCD_WAIT seconds (default 10) for it to answer; ETCD_PID is its pid.
# stop_etcd kills it.
start_etcd() {
  etcd --name e --data-dir "$1/etcd" --listen-client-urls http://127.0.0.1:23790 \
    --advertise-client-urls http://127.0.0.1:23790 --listen-peer-urls http://127.0.0.1:23800 \
    --initial-advertise-peer-urls http://127.0.0.1:23800 --initial-cluster e=http://127.0.0.1:23800 \
    >"$2" 2>&1 &
  ETCD_PID=$!
  end=$(($(date +%s) + ${ETCD_WAIT:-10}))
  while [ "$(date +%s)" -lt "$end" ]; do
    etcdctl --endpoints=127.0.0.1:23790 --dial-timeout=200ms --command-timeout=500ms endpoint health \
      >/dev/null 2>&1 && return 0
    kill -0 "$ETCD_PID" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}
stop_etcd() {
  kill -9 "$ETCD_PID" 2>/dev/null
  wait "$ETCD_PID" 2>/dev/null
  return 0
}
