# Sourced by ./mvnw (POSIX sh) before the stock Apache Maven Wrapper code, for two things the stock
# wrapper cannot know:
#
# 1. JAVA_HOME: a JDK 25 or newer (scripts/find-jdk.sh), as a machine's default java may be older.
#
# 2. MVNW_REPOURL: the Maven repository the pinned Maven (.mvn/wrapper/maven-wrapper.properties)
#    is downloaded from on first use. The project names no repository host, so the properties hold
#    only the distribution's path and SHA-256, and the base comes from the machine, in this order:
#      - MVNW_REPOURL, if set: the stock wrapper's own variable;
#      - the first unblocked mirror of central in ~/.m2/settings.xml, then in the settings of the
#        Maven installed on the machine: where this machine's builds already fetch from;
#      - the central repository in the super POM of the Maven installed on the machine (the `mvn`
#        on PATH, as Debian's `maven` package or any Maven 3 provides): where that Maven fetches
#        from by default.
#    The wrapper checks the download against distributionSha256Sum whatever the source.

. "$(dirname "$0")/scripts/find-jdk.sh"

# Without unzip the stock wrapper fetches the .tar.gz instead, which the zip's checksum then rejects.
if ! command -v unzip >/dev/null; then
  echo "mvnw: needs unzip to install the pinned Maven (Debian: apt-get install unzip)." >&2
  exit 1
fi

# Prints the URL of the first mirror of central in the settings file $1 that is not blocked.
central_mirror() {
  [ -r "$1" ] || return 0
  awk '
    { text = text $0 "\n" }
    function element(block, name,   rest) {
      if (!match(block, "<" name ">[^<]*</" name ">")) return ""
      rest = substr(block, RSTART + length(name) + 2, RLENGTH - 2 * length(name) - 5)
      gsub(/^[ \t\n\r]+|[ \t\n\r]+$/, "", rest)
      return rest
    }
    END {
      while ((i = index(text, "<!--")) > 0) {
        j = index(substr(text, i + 4), "-->")
        if (j == 0) break
        text = substr(text, 1, i - 1) substr(text, i + j + 6)
      }
      while ((i = index(text, "<mirror>")) > 0) {
        text = substr(text, i)
        j = index(text, "</mirror>")
        if (j == 0) break
        block = substr(text, 1, j)
        text = substr(text, j + 9)
        if (element(block, "blocked") == "true") continue
        n = split(element(block, "mirrorOf"), of, ",")
        covers = 0
        for (k = 1; k <= n; k++) {
          gsub(/[ \t\n\r]/, "", of[k])
          if (of[k] == "!central") { covers = 0; break }
          if (of[k] == "*" || of[k] == "central" || of[k] == "external:*") covers = 1
        }
        if (covers && element(block, "url") != "") { print element(block, "url"); exit }
      }
    }' "$1"
}

# Prints the central repository URL from the super POM of the Maven installed in $1.
super_pom_central() {
  for model_jar in "$1"/lib/maven-model-builder*.jar; do
    [ -r "$model_jar" ] && unzip -p "$model_jar" org/apache/maven/model/pom-4.0.0.xml
  done 2>/dev/null | sed -n 's:.*<url>\(.*\)</url>.*:\1:p' | head -n 1
}

if [ -z "${MVNW_REPOURL:-}" ]; then
  machine_mvn=$(command -v mvn || true)
  machine_maven_home=
  [ -z "$machine_mvn" ] || machine_maven_home=$(dirname "$(dirname "$(readlink -f "$machine_mvn")")")
  MVNW_REPOURL=$(central_mirror "$HOME/.m2/settings.xml")
  if [ -z "$MVNW_REPOURL" ] && [ -n "$machine_maven_home" ]; then
    MVNW_REPOURL=$(central_mirror "$machine_maven_home/conf/settings.xml")
    [ -n "$MVNW_REPOURL" ] || MVNW_REPOURL=$(super_pom_central "$machine_maven_home")
  fi
  if [ -z "$MVNW_REPOURL" ]; then
    echo "mvnw: no Maven repository to download Maven from: set MVNW_REPOURL to one (your mirror," >&2
    echo "      or Maven Central's URL), add a mirror of central to ~/.m2/settings.xml, or install" >&2
    echo "      any Maven 3 (Debian: apt-get install maven), whose default repository is then used." >&2
    exit 1
  fi
  MVNW_REPOURL=${MVNW_REPOURL%/}
  export MVNW_REPOURL
fi
