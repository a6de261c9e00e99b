#!/bin/sh
# Reads every acknowledged key from every member with a linearizable read (etcdctl's default) and
# prints the outcome as the first word of its last line:
#   corruption-propagated  a value never written for its key, on two members or more
#   wrong-result           such a value on one member
#   data-lost              an acknowledged key missing on a member that answers
#   unavailable            no member answers, or some put was never acknowledged
#   reduced-redundancy     a member does not answer; the others are right
#   correct                every acknowledged key, right, on every member
# usage: check.sh ACKED ENDPOINT,ENDPOINT,...
acked=$1
endpoints=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep '^ack ' "$acked" | sort -u -k2,2 > "$tmp/acked"
fails=$(grep -c '^fail ' "$acked")
answered=0
unreachable=0
lost=0
wrongnodes=0
for ep in $(echo "$endpoints" | tr ',' ' '); do
  if etcdctl --endpoints="$ep" --dial-timeout=1s --command-timeout=2s get --prefix "" > "$tmp/dump" 2>"$tmp/err"; then
    answered=$((answered + 1))
    # key/value lines alternate; join them as "key value"
    paste -d' ' - - < "$tmp/dump" > "$tmp/kv"
    result=$(awk 'NR == FNR { have[$1] = $2; next }
                  { if (!($2 in have)) lost++; else if (have[$2] != $3) wrong++ }
                  END { printf "%d %d\n", lost, wrong }' "$tmp/kv" "$tmp/acked")
    l=${result% *}
    w=${result#* }
    echo "$ep: $(wc -l < "$tmp/kv") keys, $l acknowledged missing, $w wrong"
    lost=$((lost + l))
    if [ "$w" -gt 0 ]; then wrongnodes=$((wrongnodes + 1)); fi
  else
    unreachable=$((unreachable + 1))
    echo "$ep: no answer: $(tail -1 "$tmp/err")"
  fi
done
etcdctl --endpoints="$endpoints" --dial-timeout=1s --command-timeout=1s endpoint health 2>&1 | sed 's/^/health: /'
echo "acknowledged $(wc -l < "$tmp/acked"), unacknowledged puts $fails"
if [ "$wrongnodes" -ge 2 ]; then echo "corruption-propagated on $wrongnodes members"
elif [ "$wrongnodes" -eq 1 ]; then echo "wrong-result on one member"
elif [ "$lost" -gt 0 ]; then echo "data-lost $lost acknowledged keys missing"
elif [ "$answered" -eq 0 ] || [ "$fails" -gt 0 ]; then echo "unavailable ($answered members answered, $fails puts failed)"
elif [ "$unreachable" -gt 0 ]; then echo "reduced-redundancy $unreachable members do not answer"
else echo "correct"
fi
