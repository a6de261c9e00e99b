#!/usr/bin/env bash
# scripts/guest/build.sh [DIR]: a Linux guest for trying faultdisk with the kernel's own NBD client
# where the host kernel has none (no nbd module, or no modules at all). Debian's kernel
# (linux-image-amd64) and busybox-static, fetched with `apt-get download` (no root needed), and the
# host's nbd-client (and fio, mkfs.ext4 and debugfs when installed) with the libraries they load, in
# DIR (default: target/guest beside this repository's root): vmlinuz and base.cpio.gz, an initramfs
# whose /init loads the modules (nbd, virtio-net, virtio-blk, ext4 and what they need), brings up
# QEMU's user network (the host is 10.0.2.2) and runs /job.sh, which scripts/guest/run.sh adds;
# busybox, for run.sh's cpio. Prints DIR.
# Reuses DIR when it holds a guest of the same kernel package made by this same script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../../target/guest}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
for tool in apt-get apt-cache dpkg-deb depmod gzip ldd; do
  command -v "$tool" >/dev/null || { echo "guest/build.sh: needs $tool" >&2; exit 1; }
done
command -v nbd-client >/dev/null || { echo "guest/build.sh: needs nbd-client (Debian package nbd-client)" >&2; exit 1; }
image=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$image" ] || { echo "guest/build.sh: apt-cache knows no linux-image-amd64 (run apt-get update)" >&2; exit 1; }
version=$(apt-cache policy "$image" | awk '/Candidate:/ {print $2}')
# The stamp names the kernel package and this script: a changed script makes the guest again.
stamp="$image $version $(sha256sum "$0" | cut -c1-12)"
if [ -f "$dir/vmlinuz" ] && [ -f "$dir/base.cpio.gz" ] && [ -x "$dir/busybox" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$dir"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q "$image" busybox-static >/dev/null 2>"$work/apt.err") || {
  cat "$work/apt.err" >&2; echo "guest/build.sh: apt-get download failed" >&2; exit 1; }
dpkg-deb -x "$work/$image"_*.deb "$work/k"
dpkg-deb -x "$work"/busybox-static_*.deb "$work/bb"
kver=${image#linux-image-}
depmod -b "$work/k" "$kver"
mods=$work/k/lib/modules/$kver
root=$work/root
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,mnt,modules,etc,lib64,usr/lib}
cp "$work/bb/bin/busybox" "$root/bin/busybox"
# Modules in load order: each after the modules it needs (modules.dep).
declare -A loaded=()
order=()
load() {
  local m=$1 deps d
  [ -n "${loaded[$m]:-}" ] && return
  loaded[$m]=1
  deps=$(awk -v m="$m:" '$1 == m {for (i = 2; i <= NF; i++) print $i}' "$mods/modules.dep")
  for d in $deps; do load "$d"; done
  order+=("$m")
}
for name in nbd virtio_net virtio_pci virtio_blk ext4 crc32c_generic; do
  path=$(awk -F: -v n="/$name.ko" 'index($1, n) == length($1) - length(n) + 1 {print $1; exit}' "$mods/modules.dep")
  [ -n "$path" ] || { echo "guest/build.sh: no module $name in $image" >&2; exit 1; }
  load "$path"
done
: >"$root/modules/order"
for m in "${order[@]}"; do
  f=$(basename "$m")
  case "$f" in
    *.xz) xz -dc "$mods/$m" >"$root/modules/${f%.xz}"; f=${f%.xz} ;;
    *.zst) zstd -qdc "$mods/$m" >"$root/modules/${f%.zst}"; f=${f%.zst} ;;
    *) cp "$mods/$m" "$root/modules/$f" ;;
  esac
  echo "$f" >>"$root/modules/order"
done
# Host programs with the shared libraries they load (same architecture: the guest is x86_64 too).
add() {
  local bin lib
  bin=$(command -v "$1") || return 0
  cp "$bin" "$root/bin/"
  for lib in $(ldd "$bin" | awk '/=> \// {print $3} /^\t\// {print $1}'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}
add nbd-client
add fio
add mkfs.ext4
add debugfs
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
for m in $(cat /modules/order); do insmod "/modules/$m" || echo "faultdisk-guest: insmod $m failed"; done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo "faultdisk-guest: up"
sh -e /job.sh
echo "faultdisk-guest: exit $?"
reboot -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | "$work/bb/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$work/base.cpio.gz"
cp "$work/k/boot/vmlinuz-$kver" "$dir/vmlinuz"
cp "$work/bb/bin/busybox" "$dir/busybox"
mv "$work/base.cpio.gz" "$dir/base.cpio.gz"
echo "$stamp" >"$dir/stamp"
echo "$dir"
