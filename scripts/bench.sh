#!/usr/bin/env bash
# make bench: tw against the tools it replaces, as ratios from one run on
# the same data. Each scripts/bench/*.sh prints rows of the table.
set -eu
cd "$(dirname "$0")/.."
PATH="$PWD/bin:$PATH"
export PATH
printf '%-44s %12s %12s %8s\n' "benchmark" "tw" "baseline" "ratio"
for b in scripts/bench/*.sh; do
	[ "$b" != scripts/bench/lib.sh ] || continue
	[ -e "$b" ] || continue
	bash "$b"
done
