#!/bin/sh
# Starts a one-member etcd cluster with its data on the file system at $1, puts KEYS keys
# (default 8) with etcdctl, "ack kN" after each put returned (etcd fsyncs its WAL before it
# answers), then kills etcd.
. "$(dirname "$0")/etcd-lib.sh"
start_etcd "$1" "$FAULTDISK_RUN/etcd-workload.log" || { echo "etcd did not start" >&2; exit 1; }
i=1
while [ "$i" -le "${KEYS:-8}" ]; do
  etcdctl --endpoints=127.0.0.1:23790 put "k$i" "v$i" >/dev/null || { stop_etcd; exit 1; }
  echo "ack k$i"
  i=$((i + 1))
done
stop_etcd
exit 0
