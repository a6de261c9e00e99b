#!/bin/sh
# COMMITS commits (default 6), each made durable by syncing the whole file system (syncfs)
# before it is acknowledged as "ack cN".
set -e
cd "$1/repo"
i=1
while [ "$i" -le "${COMMITS:-6}" ]; do
  echo "$i" > f
  git add f
  git commit -qm "c$i"
  sync -f .
  echo "ack c$i"
  i=$((i + 1))
done
