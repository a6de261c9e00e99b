#!/usr/bin/env bash
# scripts/trixie/build.sh [DIR]: a Debian 13 (trixie) root file system in DIR (default: target/trixie
# beside this repository's root) with NBD clients and servers newer than Debian 12's: libnbd 1.22
# (nbdinfo, nbdcopy, nbdsh, its Python bindings), QEMU 10 (qemu-io, qemu-img, qemu-nbd) and nbdkit
# 1.42. They negotiate NBD's extended headers, which Debian 12's do not; the interop tests run them
# with chroot (root only) against this server. Made with debootstrap from Debian's mirror (about a
# minute and 320 MB); reused when DIR holds a root made by this same script. Prints DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../../target/trixie}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=libnbd-bin,python3-libnbd,qemu-utils,nbdkit
command -v debootstrap >/dev/null || { echo "trixie/build.sh: needs debootstrap (Debian package debootstrap)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "trixie/build.sh: debootstrap needs root" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# The stamp names the packages and this script: a changed script makes the root again.
stamp="trixie $packages $(sha256sum "$0" | cut -c1-12)"
if [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ] && [ -x "$dir/usr/bin/nbdinfo" ]; then
  echo "$dir"
  exit 0
fi
# Nothing may be mounted inside (a bind mount of /dev/shm, say): removing the root would empty it.
if awk -v d="$dir/" 'index($2 "/", d) == 1 {found = 1} END {exit !found}' /proc/mounts; then
  echo "trixie/build.sh: something is mounted under $dir; unmount it first" >&2
  exit 1
fi
# Only a root this script made (or an empty directory) is replaced.
if [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/stamp" ]; then
  echo "trixie/build.sh: $dir is not empty and holds no root made by this script" >&2
  exit 1
fi
rm -rf "$dir"
mkdir -p "$dir"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! debootstrap --variant=minbase --include="$packages" trixie "$dir" "$mirror" >"$log" 2>&1; then
  tail -20 "$log" >&2
  echo "trixie/build.sh: debootstrap failed (log above)" >&2
  exit 1
fi
rm -rf "$dir/var/cache/apt/archives"/*.deb
echo "$stamp" >"$dir/stamp"
echo "$dir"
