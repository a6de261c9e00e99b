#!/usr/bin/env bash
# scripts/aot-option.sh JAR JAVA_HOME: prints the JVM options that start JAR on JAVA_HOME's JVM
# with its ahead-of-time cache (scripts/aot-cache.sh), one to a line, when the cache is there,
# newer than the jar and made by that JDK; else nothing. For the launcher and the bench scripts
# that start a jar themselves. A cache the JVM cannot use (another jar, another JDK) makes it run
# without even the JDK's own class data, so it is not offered; the JVM's messages about the cache
# are off, as it runs on without it in any case.
jar=$1 java_home=$2
cache=${jar%.jar}.aot
[ -f "$cache" ] && [ "$cache" -nt "$jar" ] || exit 0
[ "$(cat "$cache.jdk" 2>/dev/null)" = "$("$(dirname "$0")/aot-jdk.sh" "$java_home")" ] || exit 0
printf '%s\n' "-XX:AOTCache=$cache" "-Xlog:aot=off"
