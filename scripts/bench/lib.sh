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
