#!/bin/sh
# "config" must hold one whole version: $LINES equal lines "version N". Empty, mixed or short: broken.
f="$1/config"
[ -f "$f" ] || { echo "config is missing"; exit 1; }
lines=$(wc -l < "$f")
distinct=$(sort -u "$f" | wc -l)
[ "$lines" -eq "${LINES:-2048}" ] && [ "$distinct" -eq 1 ] && grep -qx 'version [0-9]*' "$f" && exit 0
echo "config broken: $(wc -c < "$f") bytes, $lines lines, $distinct distinct"
exit 1
