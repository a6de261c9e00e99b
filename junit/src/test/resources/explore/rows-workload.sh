#!/bin/sh
# One row per transaction, each by its own sqlite3 process; "ack N" once the process (and its
# COMMIT) returned. Environment: SYNC (off, full), ROWS.
db="$1/rows.db"
n=1
while [ "$n" -le "${ROWS:-5}" ]; do
  sqlite3 "$db" "PRAGMA journal_mode=truncate; PRAGMA synchronous=${SYNC:-full}; INSERT INTO t VALUES($n);" >/dev/null || exit 1
  echo "ack $n"
  n=$((n + 1))
done
