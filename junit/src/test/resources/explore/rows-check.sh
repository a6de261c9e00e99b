#!/bin/sh
# $1 mount point, $2 the acknowledged keys, one a line. Exit 3: the database is corrupt; 2: an
# acknowledged row is missing.
db="$1/rows.db"
ok=$(sqlite3 "$db" "PRAGMA integrity_check" 2>&1)
[ "$ok" = ok ] || { echo "integrity_check: $ok"; exit 3; }
acked=$(grep -c . "$2")
[ "$acked" -eq 0 ] && exit 0
found=$(sqlite3 "$db" "SELECT count(*) FROM t WHERE v IN ($(paste -sd, "$2"))")
[ "$found" -eq "$acked" ] || { echo "acknowledged rows missing: $found of $acked there"; exit 2; }
