#!/usr/bin/env bash
# scripts/guest/run.sh DIR JOB [--file PATH]... [QEMU-ARG...]: boots the guest scripts/guest/build.sh
# made in DIR with JOB (a shell script, run by busybox sh -e as /job.sh), each --file as
# /files/NAME (data the host made, for the job to write and the host to compare), and QEMU's user
# network, in which the host's 127.0.0.1 is 10.0.2.2: an NBD server on the host's loopback is at
# 10.0.2.2 for the guest's nbd-client. The guest's console is this script's stdin and stdout (lines the job reads from
# /dev/console come from stdin); its last line is "faultdisk-guest: exit N", N the job's status,
# and this script exits with N (or 125 when the guest ended without that line). By default
# QEMU's emulation (TCG: the boot takes about 5 s on a 2-CPU machine); GUEST_ACCEL=kvm for KVM
# where it works (a /dev/kvm from the kvm_pvm module runs only kernels built as PVM guests: a
# stock kernel hangs before its first line). GUEST_MEM (default
# 1024 MiB) and GUEST_CPUS (default 2).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: guest/run.sh DIR JOB [--file PATH]... [QEMU-ARG...]" >&2; exit 2; }
dir=$1 job=$2
shift 2
files=()
while [ $# -gt 0 ] && [ "$1" = --file ]; do
  [ -f "${2:-}" ] || { echo "guest/run.sh: no file ${2:-}" >&2; exit 2; }
  files+=("$2")
  shift 2
done
[ -d "$dir" ] || { echo "guest/run.sh: no directory $dir: run scripts/guest/build.sh $dir" >&2; exit 2; }
dir=$(cd "$dir" && pwd)
for f in vmlinuz base.cpio.gz busybox; do
  [ -e "$dir/$f" ] || { echo "guest/run.sh: no $dir/$f: run scripts/guest/build.sh $dir" >&2; exit 2; }
done
[ -f "$job" ] || { echo "guest/run.sh: no job $job" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "guest/run.sh: needs qemu-system-x86_64 (Debian package qemu-system-x86)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/job/files"
cp "$job" "$work/job/job.sh"
for f in "${files[@]}"; do cp "$f" "$work/job/files/"; done
# The kernel unpacks concatenated archives one over the other: the job is a second one.
(cd "$work/job" && find . | "$dir/busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$work/job.cpio.gz"
cat "$dir/base.cpio.gz" "$work/job.cpio.gz" >"$work/initrd"
accel=${GUEST_ACCEL:-tcg} cpu=max
[ "$accel" = kvm ] && cpu=host,-arch-capabilities
qemu-system-x86_64 -machine "q35,accel=$accel" -cpu "$cpu" -m "${GUEST_MEM:-1024}" -smp "${GUEST_CPUS:-2}" \
  -kernel "$dir/vmlinuz" -initrd "$work/initrd" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init" \
  -display none -monitor none -serial stdio -no-reboot \
  -netdev user,id=n0 -device virtio-net-pci,netdev=n0 "$@" | tee "$work/console" || true
status=$(tr -d '\r' <"$work/console" | sed -n 's/^faultdisk-guest: exit \([0-9]*\)$/\1/p' | tail -1)
exit "${status:-125}"
