# Helpers for the rootless tests: every case runs as a throwaway user made
# with useradd (subordinate ranges included) and removed after, also when a
# test fails. Load after helpers.
# shellcheck shell=bash

# The files useradd and userdel change, which must be byte-identical
# after the tests.
ROOTLESS_ID_FILES=(/etc/passwd /etc/group /etc/shadow /etc/gshadow /etc/subuid /etc/subgid)

# rootless_setup_file: records the id files, makes the user $RUSER (with
# ranges in /etc/subuid and /etc/subgid) and $RUSER_NOSUB (without), and a
# world-traversable directory $RDIR for what the user must reach (bats'
# own temporary directories are 0700).
rootless_setup_file() {
	requires root useradd userdel newuidmap newgidmap setpriv
	local f
	ROOTLESS_SUMS=$(for f in "${ROOTLESS_ID_FILES[@]}"; do [ ! -e "$f" ] || sha256sum "$f"; done)
	export ROOTLESS_SUMS
	RUSER=twr$$ RUSER_NOSUB=twn$$
	export RUSER RUSER_NOSUB
	RDIR=$(mktemp -d /tmp/tw-rootless.XXXXXX)
	chmod 755 "$RDIR"
	export RDIR
	useradd -M -d "$RDIR/home" -s /bin/sh "$RUSER"
	useradd -M -d "$RDIR/home-nosub" -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$RUSER_NOSUB"
	grep -q "^$RUSER:" /etc/subuid || usermod --add-subuids 300000-365535 --add-subgids 300000-365535 "$RUSER"
	RUID=$(id -u "$RUSER") RGID=$(id -g "$RUSER")
	export RUID RGID
	mkdir -p "$RDIR/home"
	chown "$RUSER:" "$RDIR/home"
}

# rootless_teardown_file: unmounts the btrfs made by rootless_btrfs,
# removes the users and their files, and fails when an id file is not
# byte-identical to what it was.
rootless_teardown_file() {
	local m now
	if [ -n "${RDIR:-}" ]; then
		for m in "$RDIR"/*.loop; do [ ! -e "$m" ] || rootless_btrfs_teardown "$(basename "$m" .loop)"; done
	fi
	if [ -n "${RUSER:-}" ]; then
		userdel "$RUSER" 2>/dev/null || true
		userdel "$RUSER_NOSUB" 2>/dev/null || true
	fi
	if [ -n "${RDIR:-}" ]; then
		# whatever a failed test left mounted below RDIR, deepest first
		findmnt -rn -o TARGET | grep "^$RDIR/" | sort -r | while read -r m; do umount "$m" || umount -l "$m"; done
		rm -rf "$RDIR"
	fi
	now=$(for m in "${ROOTLESS_ID_FILES[@]}"; do [ ! -e "$m" ] || sha256sum "$m"; done)
	[ "$now" = "${ROOTLESS_SUMS:-$now}" ] || {
		echo "id files changed by the tests: $(diff <(echo "$ROOTLESS_SUMS") <(echo "$now"))" >&2
		return 1
	}
}

# rootless_btrfs NAME [OPTS]: a fresh btrfs on a loop file mounted at
# $RDIR/NAME with mount options OPTS, its top owned by the user.
rootless_btrfs() {
	local dir=$RDIR/$1 img=$RDIR/$1.img
	truncate -s 512M "$img"
	mkfs.btrfs -q -f "$img" >/dev/null
	mkdir "$dir"
	losetup --find --show "$img" >"$RDIR/$1.loop"
	mount -t btrfs ${2:+-o "$2"} "$(cat "$RDIR/$1.loop")" "$dir"
	chown "$RUSER:" "$dir"
}

rootless_btrfs_teardown() {
	local dir=$RDIR/$1
	if mountpoint -q "$dir"; then umount "$dir" || umount -l "$dir"; fi
	if [ -s "$RDIR/$1.loop" ]; then losetup -d "$(cat "$RDIR/$1.loop")" 2>/dev/null || true; fi
	rm -f "$RDIR/$1.img" "$RDIR/$1.loop"
	rmdir "$dir" 2>/dev/null || true
}

# as_user CMD…: CMD as $RUSER (as_user_nosub: as $RUSER_NOSUB), with a
# clean environment: PATH with tw first, HOME, no XDG or TW_ variables.
as_user() {
	setpriv --reuid="$RUSER" --regid="$RUSER" --init-groups \
		env -i PATH="$TW_BIN:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" HOME="$RDIR/home" "$@"
}

as_user_nosub() {
	setpriv --reuid="$RUSER_NOSUB" --regid="$RUSER_NOSUB" --init-groups \
		env -i PATH="$TW_BIN:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" HOME="$RDIR/home-nosub" "$@"
}
