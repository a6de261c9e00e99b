#!/usr/bin/env bash
# bench/aot-note.sh JAR [JAVA_HOME]: one line for a bench report saying whether the launcher
# starts JAR with an AOT cache (scripts/aot-cache.sh, scripts/aot-option.sh): a cache changes a
# server's first seconds, so a run says which builds had one. JAVA_HOME: the launcher's JDK by
# default (scripts/find-jdk.sh).
root=$(cd "$(dirname "$0")/.." && pwd)
jar=$1 home=${2:-}
[ -n "$home" ] || home=$(. "$root/scripts/find-jdk.sh" && echo "$JAVA_HOME") || exit 0
option=$("$root/scripts/aot-option.sh" "$jar" "$home" | head -n 1)
if [ -n "$option" ]; then
  echo "$jar: with the AOT cache ${option#-XX:AOTCache=}"
else
  echo "$jar: no AOT cache"
fi
