#!/usr/bin/env bash
# Installs what ./mvnw -Prelease package left in DIST on this machine, the tarball and the .deb,
# and runs `faultdisk serve` from each against qemu-io with no JDK in the environment: a write,
# a fault armed with the same installation's control commands, the failed write qemu-io reports,
# a clean read back, then SIGTERM. The .deb also has to put faultdisk on the PATH and its man
# pages where man finds them; it is removed again at the end. Each server must run with the JVM
# options of scripts/jvm.options and its AOT cache mapped. Needs root, qemu-io, man-db and a
# JDK's jcmd (FAULTDISK_JAVA_HOME or JAVA_HOME), which reads the running server's JVM options.
# Usage: release/check.sh [DIST]   (CI runs it after the test suite, see .ci/run)
set -euo pipefail
dist=$(cd "${1:-$(dirname "$0")/../dist}" && pwd)
work=$(mktemp -d)
server=
installed=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  [ -n "$installed" ] && dpkg -r faultdisk >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "release check: FAILED: $*" >&2; exit 1; }
# No JAVA_HOME and no JDK's bin on the PATH: the release must bring its own runtime.
clean_env=(env -i HOME="$work" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8)
jcmd=${FAULTDISK_JAVA_HOME:-${JAVA_HOME:-}}/bin/jcmd
[ -x "$jcmd" ] || fail "no jcmd: set FAULTDISK_JAVA_HOME or JAVA_HOME to a JDK"
mapfile -t jvm_options < <("$(dirname "$0")/../scripts/jvm-options.sh")

# serve_and_check NAME FAULTDISK: the whole round trip with this faultdisk command.
serve_and_check() {
  local name=$1 fd=$2 dir=$work/$1
  mkdir -p "$dir"
  local nbd=$dir/nbd.sock qmp=$dir/qmp.sock
  local uri="nbd+unix:///disk0?socket=$nbd"
  "${clean_env[@]}" "$fd" serve --export disk0=memory:16M --nbd "unix:$nbd" --qmp "unix:$qmp" \
    >"$dir/serve.out" 2>"$dir/serve.err" &
  server=$!
  timeout 60 bash -c "until grep -q '^Stop with Ctrl-C' '$dir/serve.out'; do kill -0 $server || exit 1; sleep 0.2; done" \
    || fail "$name: faultdisk serve did not start: $(cat "$dir/serve.out" "$dir/serve.err")"
  # The server runs on the runtime the release brought, not on a JDK of the machine.
  grep -q "$(dirname "$(dirname "$(readlink -f "$fd")")")/lib/runtime/lib/server/libjvm.so" "/proc/$server/maps" \
    || fail "$name: the server does not run on the bundled runtime"
  # ...with the launcher's JVM options (scripts/jvm.options), as the JVM itself reports them.
  local args
  args=$("$jcmd" "$server" VM.command_line | grep '^jvm_args:') || fail "$name: jcmd VM.command_line"
  for option in "${jvm_options[@]}"; do
    [[ " $args " == *" $option "* ]] || fail "$name: the server runs without $option: $args"
  done
  # ...and with the ahead-of-time cache the build trained (release/build.sh), mapped: a cache the
  # JVM refuses (moved, or the jar's time changed by the packaging) leaves it without, quietly.
  local app
  app=$(dirname "$(dirname "$(readlink -f "$fd")")")/lib/app
  [ -f "$app/faultdisk.aot" ] || fail "$name: no AOT cache in $app"
  "$jcmd" "$server" VM.info | grep -q '^CDS archive(s) mapped at' \
    || fail "$name: the server runs without its AOT cache: $("$jcmd" "$server" VM.info | grep '^CDS')"
  qemu-io -f raw -c 'write -P 0xab 0 64k' "$uri" >"$dir/io1" || fail "$name: write: $(cat "$dir/io1")"
  "${clean_env[@]}" "$fd" blkdebug set-rules disk0 --inject-error write_aio,errno=ENOSPC,once --qmp "unix:$qmp" \
    >"$dir/ctl" 2>&1 || fail "$name: blkdebug set-rules: $(cat "$dir/ctl")"
  qemu-io -f raw -c 'write -P 0xcd 0 4k' "$uri" >"$dir/io2" 2>&1 || true
  grep -q 'write failed: No space left on device' "$dir/io2" || fail "$name: the armed fault did not fire: $(cat "$dir/io2")"
  qemu-io -f raw -c 'read -P 0xab 0 64k' "$uri" >"$dir/io3" 2>&1 || fail "$name: read: $(cat "$dir/io3")"
  grep -q 'Pattern verification failed' "$dir/io3" && fail "$name: read back other data: $(cat "$dir/io3")"
  kill -TERM "$server"
  wait "$server" || true
  server=
  grep -q 'faultdisk: stopped; exports flushed.' "$dir/serve.out" || fail "$name: no clean stop: $(cat "$dir/serve.out")"
  echo "release check: $name: serve, qemu-io write, fault, read back, SIGTERM: ok"
}

tarball=$(ls "$dist"/faultdisk-*-linux-x64.tar.gz)
deb=$(ls "$dist"/faultdisk_*_amd64.deb)
(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS"

tar -C "$work" -xzf "$tarball"
home=$(ls -d "$work"/faultdisk-*-linux-x64)
[ -f "$home/share/man/man1/faultdisk-serve.1.gz" ] || fail "tarball: no man page for faultdisk serve"
[ -f "$home/LICENSE" ] || fail "tarball: no LICENSE"
serve_and_check tarball "$home/bin/faultdisk"

installed=yes
dpkg -i "$deb" >"$work/dpkg.out" 2>&1 || fail "dpkg -i: $(cat "$work/dpkg.out")"
[ "$("${clean_env[@]}" sh -c 'command -v faultdisk')" = /usr/bin/faultdisk ] || fail ".deb: faultdisk is not on the PATH"
for page in faultdisk faultdisk-serve faultdisk-break-wait; do
  man -w "$page" >/dev/null 2>&1 || fail ".deb: man $page finds no page"
done
"${clean_env[@]}" man -P cat faultdisk-serve 2>/dev/null | grep -q -- '--export' || fail ".deb: man faultdisk-serve does not show --export"
serve_and_check deb /usr/bin/faultdisk
dpkg -r faultdisk >/dev/null
installed=
[ ! -e /usr/bin/faultdisk ] && [ ! -e /opt/faultdisk ] || fail ".deb: dpkg -r left files behind"
echo "release-check: 2 passed, 0 failed"
