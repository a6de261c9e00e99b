#!/usr/bin/env bash
# scripts/aot-option.sh JAR: prints the JVM options that start JAR with its ahead-of-time cache
# (scripts/aot-cache.sh), one to a line, when the cache is there and newer than the jar; else
# nothing. For the launcher and the bench scripts that start a jar themselves. The JVM's own
# messages about the cache are off: one made by another JDK or for another jar is not used, and
# the server runs as it would without it.
jar=$1
cache=${jar%.jar}.aot
if [ -f "$cache" ] && [ "$cache" -nt "$jar" ]; then
  printf '%s\n' "-XX:AOTCache=$cache" "-Xlog:aot=off"
fi
