#!/bin/sh
# Prints "leader" or "follower" for the member at ENDPOINT (etcdctl endpoint status).
# usage: role.sh ENDPOINT
etcdctl --endpoints="$1" --dial-timeout=1s --command-timeout=2s endpoint status -w fields 2>/dev/null |
  awk -F' : ' '/"MemberID"/ { m = $2 } /"Leader"/ { l = $2 }
               END { if (m == "") print "unknown"; else if (m == l) print "leader"; else print "follower" }'
