#!/bin/sh
# Inserts COUNT rows into DB, one transaction each (rollback journal, synchronous=FULL: the commit
# is on the disk when sqlite3 returns), and prints "ack KEY VALUE" for every committed row and
# "fail KEY" for the others.
# usage: workload.sh DB PREFIX COUNT
db=$1
prefix=$2
count=$3
i=0
while [ "$i" -lt "$count" ]; do
  key=$(printf '%s-%04d' "$prefix" "$i")
  value="v-$key"
  if sqlite3 "$db" "PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;
       CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v TEXT);
       INSERT OR REPLACE INTO kv VALUES('$key', '$value');" >/dev/null 2>&1; then
    echo "ack $key $value"
  else
    echo "fail $key"
  fi
  i=$((i + 1))
done
