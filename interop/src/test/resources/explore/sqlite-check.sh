#!/bin/sh
# Judges a crash state of the SQLite workload. $1: mount point; $2: the acknowledged keys.
# Exit 3: the database is corrupt (PRAGMA integrity_check); exit 2: an acknowledged row is missing.
db="$1/test.db"
[ -f "$db" ] || { echo "test.db is missing"; exit 2; }
ic=$(sqlite3 "$db" "PRAGMA integrity_check;" 2>&1) || { echo "cannot open: $ic"; exit 3; }
[ "$ic" = "ok" ] || { echo "integrity_check: $ic"; exit 3; }
have=$(sqlite3 "$db" "SELECT k FROM t ORDER BY k;" 2>&1) || { echo "cannot read t: $have"; exit 3; }
missing=""
for k in $(cat "$2"); do
  echo "$have" | grep -qx "$k" || missing="$missing $k"
done
[ -z "$missing" ] && exit 0
echo "acknowledged rows missing:$missing"
exit 2
