#!/bin/sh
# Reads every acknowledged row back from DB and prints the outcome as the first word of its last
# line: wrong-result (a row with another value, or the database fails its integrity check),
# data-lost (an acknowledged row missing), unavailable (the database cannot be read, or a write
# was not acknowledged), correct.
# usage: check.sh ACKED DB
acked=$1
db=$2
if ! integrity=$(sqlite3 "$db" "PRAGMA integrity_check;" 2>&1); then
  echo "database unreadable: $integrity"
  echo "unavailable"
  exit 0
fi
echo "integrity_check: $integrity"
integrity=$(printf '%s' "$integrity" | tr '\n' ' ' | sed 's/ *$//')
rows=$(sqlite3 -separator ' ' "$db" "SELECT k, v FROM kv;" 2>&1) || { echo "$rows"; echo "unavailable"; exit 0; }
lost=0
wrong=0
for line in $(grep '^ack ' "$acked" | awk '{ print $2 "=" $3 }'); do
  k=${line%%=*}
  v=${line#*=}
  got=$(printf '%s\n' "$rows" | awk -v k="$k" '$1 == k { print $2 }')
  if [ -z "$got" ]; then lost=$((lost + 1)); echo "missing $k"
  elif [ "$got" != "$v" ]; then wrong=$((wrong + 1)); echo "wrong $k: $got"
  fi
done
fails=$(grep -c '^fail ' "$acked")
if [ "$integrity" != "ok" ] || [ "$wrong" -gt 0 ]; then echo "wrong-result ($wrong wrong rows, integrity: $integrity)"
elif [ "$lost" -gt 0 ]; then echo "data-lost $lost acknowledged rows missing"
elif [ "$fails" -gt 0 ]; then echo "unavailable ($fails writes failed)"
else echo "correct"
fi
