# shellcheck shell=bash
# Shared by the bench scripts (source it): the table row and the skip when
# the machine lacks what a benchmark needs.

# row NAME TW BASELINE RATIO: one line of make bench's table.
row() { printf '%-44s %12s %12s %8s\n' "$@"; }

# needs BENCH WHAT…: unless every WHAT is there — root, btrfs (in the
# kernel) or a command — say so on stderr and skip this benchmark (exit 0).
needs() {
	local bench=$1 w
	shift
	for w in "$@"; do
		case "$w" in
		root) [ "$(id -u)" -eq 0 ] ;;
		btrfs) grep -qw btrfs /proc/filesystems ;;
		*) command -v "$w" >/dev/null ;;
		esac || {
			echo "bench/$bench: skipped (needs $w)" >&2
			exit 0
		}
	done
}

# busybox_rootfs DIR: the busybox tree every container benchmark runs.
bench_scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
busybox_rootfs() { "$bench_scripts/busybox-rootfs.sh" "$1"; }

# rounds JSON RUNS [WRAPPER…] -- COMMAND…: RUNS runs of each COMMAND by
# hyperfine, in BENCH_ROUNDS (5) rounds that each start with another
# COMMAND, so that what the machine does that minute weighs on every
# command alike (one hyperfine run times all runs of the first command
# before the second's: on a shared virtual machine its ratios moved by
# ±10% from run to run). WRAPPER… (a command that runs its arguments, such
# as `unshare -m sh -c '…; "$@"' sh`) runs each round's hyperfine. JSON gets
# hyperfine's shape: .results[i] of COMMAND i, its .times of every round
# and their .median.
rounds() {
	local json=$1 runs=$2 n r i j k
	shift 2
	local wrap=() cmds=() rot
	while [ "$1" != -- ]; do
		wrap+=("$1")
		shift
	done
	shift
	cmds=("$@")
	n=${#cmds[@]}
	r=${BENCH_ROUNDS:-5}
	k=$(((runs + r - 1) / r))
	for ((i = 0; i < r; i++)); do
		rot=()
		for ((j = 0; j < n; j++)); do rot+=("${cmds[$(((j + i) % n))]}"); done
		"${wrap[@]}" hyperfine -N --style none --warmup 2 --runs "$k" --export-json "$json.$i" "${rot[@]}" || return 1
	done
	for ((i = 0; i < r; i++)); do cat "$json.$i"; done | jq -s --argjson n "$n" '
		def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		. as $rounds | {results: [range(0; $n) as $i |
			[range(0; $rounds | length) as $r | $rounds[$r].results[($i - $r + $n * ($rounds | length)) % $n]] as $mine |
			{command: $mine[0].command, times: [$mine[].times[]]} | .median = (.times | median)]}' >"$json"
	for ((i = 0; i < r; i++)); do rm -f "$json.$i"; done
}
