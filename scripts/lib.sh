# shellcheck shell=bash
# Shared by the tupperware scripts: where things live, storage on btrfs,
# the offline default image. Source it; it defines functions and defaults only.

# TW_HOME holds tupperware's own state when no STORE is given: a sparse loop
# file with a btrfs on it (mounted at $TW_HOME/store) and the seed image.
# A user (not root) keeps it under ~/.local/share and brings a STORE.
if [ "$(id -u)" -eq 0 ]; then
	TW_HOME=${TW_HOME:-/var/lib/tupperware}
else
	TW_HOME=${TW_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/tupperware}
fi
LOOP_SIZE=${LOOP_SIZE:-4G}
# shellcheck disable=SC2034 # used by the scripts that source this
SEED_IMAGE="oci:$TW_HOME/seed/busybox:latest"

# The scripts' own directory, absolute: they change directory as they go.
TW_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say() { printf '%s\n' "$*" >&2; }
die() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# The tw binary: bin/ of this checkout first, then PATH.
tw_path() {
	local top=${TW_SCRIPTS%/*}
	if [ -x "$top/bin/tw" ]; then
		PATH="$top/bin:$PATH"
	fi
	command -v tw-pull >/dev/null || die "tw is not built or installed: run 'make build' or 'make install'"
}

is_btrfs() { [ "$(stat -f -c %T "$1" 2>/dev/null)" = btrfs ]; }

# store_ensure: make STORE a usable btrfs directory. With STORE given it must
# already be on btrfs and writable; without it, the loop-file btrfs under
# TW_HOME is made once and reused (mounted again if needed).
store_ensure() {
	if [ -n "${STORE:-}" ]; then
		[ -d "$STORE" ] || die "$STORE: no such directory"
		is_btrfs "$STORE" || die "$STORE: not on a btrfs filesystem (leave STORE unset to use a loop-file btrfs under $TW_HOME)"
		[ -w "$STORE" ] && touch "$STORE/.tw-write-test" 2>/dev/null ||
			die "$STORE: read-only file system or not writable"
		rm -f "$STORE/.tw-write-test"
		return
	fi
	STORE=$TW_HOME/store
	if is_btrfs "$STORE" && mountpoint -q "$STORE"; then
		return
	fi
	[ "$(id -u)" -eq 0 ] || die "not root: give --store DIR, a directory on btrfs you can write (README: Rootless)"
	mkdir -p "$STORE" || die "$TW_HOME: cannot create"
	if [ ! -f "$TW_HOME/store.img" ]; then
		say "storage: making a $LOOP_SIZE sparse loop file $TW_HOME/store.img with btrfs"
		truncate -s "$LOOP_SIZE" "$TW_HOME/store.img.tmp"
		mkfs.btrfs -q "$TW_HOME/store.img.tmp" >/dev/null || {
			rm -f "$TW_HOME/store.img.tmp"
			die "mkfs.btrfs failed (is btrfs-progs installed?)"
		}
		mv "$TW_HOME/store.img.tmp" "$TW_HOME/store.img"
	fi
	say "storage: mounting $TW_HOME/store.img at $STORE"
	mount -o loop "$TW_HOME/store.img" "$STORE" || die "$STORE: cannot mount $TW_HOME/store.img"
}

# store_teardown: unmount the loop-file btrfs (and so detach its loop device).
# With --purge, also delete the file. Only ever the one under TW_HOME.
store_teardown() {
	local store=$TW_HOME/store
	if mountpoint -q "$store"; then
		umount "$store" || die "$store: still busy (a container running?)"
	fi
	if [ "${1:-}" = --purge ]; then
		rm -f "$TW_HOME/store.img"
		rm -rf "$TW_HOME/seed"
		rmdir "$store" "$TW_HOME" 2>/dev/null || true
	fi
}

# seed_ensure: the offline default image, built once with tw-commit from
# Debian's static busybox and its applet links.
seed_ensure() {
	local layout=$TW_HOME/seed/busybox tmp
	[ -f "$layout/index.json" ] && return
	[ -x /bin/busybox ] || die "/bin/busybox missing: install busybox-static (make deps)"
	say "image: building the offline busybox image into $layout"
	tmp=$(mktemp -d)
	"$TW_SCRIPTS/busybox-rootfs.sh" "$tmp"
	mkdir -p "$TW_HOME/seed"
	# a user's files are root's in the image (tw-commit --rootless)
	local ids=()
	[ "$(id -u)" -eq 0 ] || ids=(--rootless)
	tw-commit --quiet "${ids[@]}" --config.cmd /bin/sh --config.env PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		--author tupperware "$tmp" "$layout:latest" >/dev/null || {
		rm -rf "$tmp" "$layout"
		die "could not build the default image"
	}
	rm -rf "$tmp"
}

# image_name IMAGE: the short name the walkthrough uses for directories
# (docker://alpine:latest -> alpine; oci:/x/busybox:latest -> busybox).
image_name() {
	local ref=${1#*:}
	ref=${ref#//}
	ref=${ref%%@*}
	ref=${ref##*/}
	ref=${ref%%:*}
	printf '%s\n' "${ref:-image}"
}
