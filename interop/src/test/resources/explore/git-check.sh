#!/bin/sh
# Judges a crash state of the git workload. $1: mount point; $2: the acknowledged keys.
# Exit 3: the repository is corrupt (git fsck); exit 2: an acknowledged commit is missing.
cd "$1/repo" || { echo "the repository is missing"; exit 2; }
out=$(git fsck --no-progress 2>&1) || { echo "git fsck: $out" | head -5; exit 3; }
subjects=$(git log --format=%s 2>&1) || { echo "git log: $subjects"; exit 3; }
for k in $(cat "$2"); do
  echo "$subjects" | grep -qx "$k" || { echo "acknowledged commit $k is missing"; exit 2; }
done
exit 0
