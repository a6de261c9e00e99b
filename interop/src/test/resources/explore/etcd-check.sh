#!/bin/sh
# Judges a crash state of the etcd workload. $1: mount point; $2: the acknowledged keys.
# Exit 3: etcd does not start and answer within ETCD_WAIT s (10); exit 2: an acknowledged key is missing.
. "$(dirname "$0")/etcd-lib.sh"
log="$FAULTDISK_RUN/etcd-check-$FAULTDISK_STATE.log"
start_etcd "$1" "$log" || { echo "etcd does not serve: $(tail -n 2 "$log")"; stop_etcd; exit 3; }
for k in $(cat "$2"); do
  v=$(etcdctl --endpoints=127.0.0.1:23790 get --print-value-only "$k") || { echo "get $k failed"; stop_etcd; exit 3; }
  [ "$v" = "v${k#k}" ] || { echo "acknowledged $k is missing (got '$v')"; stop_etcd; exit 2; }
done
stop_etcd
exit 0
