# Sourced by ./mvnw (POSIX sh) and ./faultdisk (bash): sets JAVA_HOME to a JDK 25 or newer.
# Order: FAULTDISK_JAVA_HOME, JAVA_HOME, java on PATH, then the usual install folders.
java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
find_jdk25() {
  local candidate major
  for candidate in "${FAULTDISK_JAVA_HOME:-}" "${JAVA_HOME:-}" \
      "$(dirname "$(dirname "$(readlink -f "$(command -v javac 2>/dev/null || echo /nonexistent)")")")" \
      /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25* /usr/lib/jvm/* /opt/java/* /opt/jdk*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
if ! JAVA_HOME=$(find_jdk25); then
  echo "faultdisk needs a JDK 25 or newer: none found in FAULTDISK_JAVA_HOME, JAVA_HOME, PATH or /usr/lib/jvm." >&2
  exit 1
fi
export JAVA_HOME
