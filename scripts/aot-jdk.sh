#!/usr/bin/env bash
# scripts/aot-jdk.sh JAVA_HOME: one line that names a JDK's build without starting it (its path
# and its class image's size and time), kept beside an AOT cache (CACHE.jdk) by
# scripts/aot-cache.sh and compared by scripts/aot-option.sh: a cache holds for one JDK only.
home=$(readlink -f "$1")
echo "$home $(stat -c '%s %Y' "$home/lib/modules" 2>/dev/null)"
