#!/usr/bin/env bash
# JUnit with a server per test vs one per class (docs/BENCHMARKS.md, "JUnit: a server per class").
# Usage: bench/junit-per-class.sh [qemu-io]   (without an argument: the control-only pattern)
set -euo pipefail
cd "$(dirname "$0")/.."
# One reactor run, so the classpath names the sibling modules' target/classes.
./mvnw -B -q test-compile dependency:build-classpath -pl junit -am -Derrorprone.skip \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >/dev/null
cp="junit/target/test-classes:junit/target/classes:$(cat junit/target/bench.classpath)"
. scripts/find-jdk.sh # the JDK 25 the build uses (JAVA_HOME)
exec "$JAVA_HOME/bin/java" -cp "$cp" dev.faultdisk.junit.PerClassBench "$@"
