#!/bin/sh
# A git repository with one commit on the file system at $1. FSYNC: git's core.fsync setting
# (none, all, ...: which files git fsyncs before it goes on; git 2.36 and later).
set -e
cd "$1"
git init -q repo
cd repo
git config user.email explore@example.com
git config user.name explore
git config core.fsync "${FSYNC:-none}"
echo 0 > f
git add f
git commit -qm c0
