#!/usr/bin/env bash
# make bench, storage: tw-subvol and tw-snapshot against btrfs-progs, on a
# loop-file btrfs made here (and removed on exit) holding an image
# subvolume of 5,000 files. Prints rows of the bench table; times of single
# commands are medians of runs interleaved tw/btrfs, so that both see the
# same filesystem and the same load.
set -eu

runs=${BENCH_RUNS:-50}          # runs per single-command benchmark
many=${BENCH_SNAPSHOTS:-1000}   # snapshots in the bulk benchmark
startups=${BENCH_STARTUPS:-200} # runs of the start-up benchmark

# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/lib.sh"

needs storage root btrfs mkfs.btrfs

work=$(mktemp -d /tmp/tw-bench-storage.XXXXXX)
loop=''
# cleanup: unmount the filesystem and detach its loop device.
cleanup() {
	cd /
	if mountpoint -q "$work/mnt"; then umount "$work/mnt"; fi
	if [ -n "$loop" ]; then losetup -d "$loop"; fi
	loop=''
	rm -f "$work/disk.img"
}
trap 'cleanup; if ! mountpoint -q "$work/mnt"; then rm -rf "$work"; fi' EXIT

# fresh_fs: a new btrfs on a new loop file, mounted at $work/mnt (the
# working directory), with the image: 5,000 small files in 50 directories.
# The previous one is removed first.
fresh_fs() {
	local d f
	cleanup
	mkdir -p "$work/mnt"
	truncate -s 4G "$work/disk.img"
	mkfs.btrfs -q -f "$work/disk.img" >/dev/null
	loop=$(losetup --find --show "$work/disk.img")
	mount -t btrfs "$loop" "$work/mnt"
	cd "$work/mnt"
	btrfs subvolume create img >/dev/null
	for d in $(seq 1 50); do
		mkdir "img/d$d"
		for f in $(seq 1 100); do
			echo "file $d/$f" >"img/d$d/f$f"
		done
	done
	btrfs filesystem sync . >/dev/null
}
fresh_fs

# us: the wall clock in microseconds, into variable $1 (no subshell, so
# that a fork does not count into the time measured).
us() { printf -v "$1" '%s' "${EPOCHREALTIME/./}"; }

# median: the middle of the numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# ms MICROSECONDS, ratio A B
ms() { awk -v u="$1" 'BEGIN { printf "%.2fms", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# bench NAME TWCMD BTRFSCMD: run each $runs times, interleaved; {} in a
# command becomes the run number. Prints the row.
bench() {
	local name=$1 twcmd=$2 bcmd=$3 i t0 t1 tw='' bt=''
	for i in $(seq 1 "$runs"); do
		us t0
		eval "${twcmd//\{\}/$i}" >/dev/null
		us t1
		tw+="$((t1 - t0))"$'\n'
		us t0
		eval "${bcmd//\{\}/$i}" >/dev/null
		us t1
		bt+="$((t1 - t0))"$'\n'
	done
	tw=$(median <<<"$tw")
	bt=$(median <<<"$bt")
	row "$name" "$(ms "$tw")" "$(ms "$bt")" "$(ratio "$tw" "$bt")"
}

mkdir create snap
bench "subvol create (median of $runs)" \
	"tw-subvol create create/tw{}" "btrfs subvolume create create/btrfs{}"
bench "snapshot of 5,000 files (median of $runs)" \
	"tw-snapshot img snap/tw{}" "btrfs subvolume snapshot img snap/btrfs{}"
bench "snapshot -r (median of $runs)" \
	"tw-snapshot -r img snap/rtw{}" "btrfs subvolume snapshot -r img snap/rbtrfs{}"
bench "subvol show (median of $runs)" \
	"tw-subvol show snap/tw{}" "btrfs subvolume show snap/btrfs{}"
bench "subvol delete (median of $runs)" \
	"tw-subvol delete snap/tw{}" "btrfs subvolume delete snap/btrfs{}"

# used_kib: space in use per statfs, as df shows it, once the deleted
# subvolumes are cleaned up and everything is committed.
used_kib() {
	btrfs subvolume sync . >/dev/null
	btrfs filesystem sync . >/dev/null
	stat -f -c '%b %f %S' . | awk '{ printf "%d", ($1 - $2) * $3 / 1024 }'
}

# Many snapshots: one tw call against one btrfs call per snapshot. A
# snapshot costs the kernel more the more subvolumes the filesystem has,
# so each side starts on a fresh filesystem.
# Sets took_us and added_kib.
took_us='' added_kib=''
many_snapshots() {
	local i t0='' t1='' u0 u1 dsts
	fresh_fs
	mkdir many
	u0=$(used_kib)
	us t0
	if [ "$1" = tw ]; then
		dsts=()
		for i in $(seq 1 "$many"); do dsts+=("many/c$i"); done
		tw-snapshot img "${dsts[@]}"
	else
		for i in $(seq 1 "$many"); do
			btrfs subvolume snapshot img "many/c$i" >/dev/null
		done
	fi
	us t1
	u1=$(used_kib)
	took_us=$((t1 - t0)) added_kib=$((u1 - u0))
}
many_snapshots tw
tw_us=$took_us tw_kib=$added_kib
many_snapshots btrfs
bt_us=$took_us bt_kib=$added_kib
sec() { awk -v u="$1" 'BEGIN { printf "%.2fs", u / 1e6 }'; }
kib() { awk -v k="$1" -v n="$many" 'BEGIN { printf "%.1fKiB", k / n }'; }
row "$many snapshots: 1 tw call vs $many btrfs" "$(sec "$tw_us")" "$(sec "$bt_us")" "$(ratio "$tw_us" "$bt_us")"
row "  disk added per snapshot (statfs)" "$(kib "$tw_kib")" "$(kib "$bt_kib")" \
	"$(if [ "$bt_kib" -gt 0 ]; then ratio "$tw_kib" "$bt_kib"; else echo -; fi)"

# Start-up: tw's --help against the smallest Go program.
mkdir "$work/hello"
cat >"$work/hello/main.go" <<'GO'
package main

import "os"

func main() { os.Stdout.WriteString("hello, world\n") }
GO
(cd "$work/hello" && GOFLAGS=-mod=mod go mod init hello >/dev/null 2>&1 &&
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o hello .)
runs=$startups bench "start-up: tw-subvol --help vs Go hello" \
	"tw-subvol --help" "$work/hello/hello"
