#!/bin/sh
# Replaces "config" by writing config.tmp and renaming it over; with FSYNC=1 config.tmp is
# fsynced first (the safe sequence), else nothing is. Another program's fsync (of "other")
# commits the file system's journal meanwhile, as on a busy machine.
cd "$1" || exit 1
v=1
while [ $v -le "${VERSIONS:-6}" ]; do
  yes "version $v" | head -n "${LINES:-2048}" > config.tmp
  [ "${FSYNC:-0}" = 1 ] && sync config.tmp
  mv config.tmp config
  dd if=/dev/zero of=other bs=4096 count=1 conv=fsync status=none
  v=$((v + 1))
done
