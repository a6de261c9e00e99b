#!/usr/bin/env bash
# Prints the options of scripts/jvm.options one to a line, without its comments and blank lines:
# for the launcher, the release build and check, and bench/delay-ab.sh.
grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$(dirname "$0")/jvm.options"
