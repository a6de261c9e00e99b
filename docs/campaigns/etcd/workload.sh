#!/bin/sh
# Writes COUNT keys PREFIX/0000... through etcdctl (any member), each put retried up to 3 times.
# Prints "ack KEY VALUE" for every put etcd acknowledged and "fail KEY" for every one it did not:
# the check holds etcd to the acknowledged ones.
# usage: workload.sh ENDPOINTS PREFIX COUNT
endpoints=$1
prefix=$2
count=$3
run=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
i=0
while [ "$i" -lt "$count" ]; do
  key=$(printf '%s/%04d' "$prefix" "$i")
  value="v-$run-$i"
  ok=0
  for try in 1 2 3; do
    if etcdctl --endpoints="$endpoints" --dial-timeout=1s --command-timeout=2s put "$key" "$value" >/dev/null 2>&1; then
      ok=1
      break
    fi
  done
  if [ "$ok" = 1 ]; then echo "ack $key $value"; else echo "fail $key"; fi
  i=$((i + 1))
done
