#!/usr/bin/env bash
# Usage: scripts/rootless-store.sh USER [--demo]
#        scripts/rootless-store.sh --teardown USER
#
# Root, once: a store for an ordinary USER, who then runs the walkthrough
# without root (scripts/tupperware.sh --store DIR). A sparse loop file
# ($TW_HOME/users/USER/store.img, LOOP_SIZE, default 4G) with a btrfs mounted
# at $TW_HOME/users/USER/store with user_subvol_rm_allowed (so that the user
# deletes subvolumes with the ioctl) and handed over to USER. Prints the
# store's path. With --demo it then runs scripts/tupperware.sh --demo as
# USER. --teardown unmounts it and deletes the file.
set -eu
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || die "run it as root: it mounts a loop file for the user"
teardown=false demo=false
if [ "${1:-}" = --teardown ]; then teardown=true; shift; fi
[ $# -ge 1 ] || die "usage: ${0##*/} USER [--demo] | --teardown USER"
user=$1
[ "${2:-}" != --demo ] || demo=true
id -u "$user" >/dev/null 2>&1 || die "$user: no such user"
dir=$TW_HOME/users/$user
store=$dir/store

if $teardown; then
	if mountpoint -q "$store"; then umount "$store" || die "$store: still busy (a container running?)"; fi
	rm -f "$dir/store.img"
	rmdir "$store" "$dir" 2>/dev/null || true
	exit 0
fi

if ! mountpoint -q "$store"; then
	mkdir -p "$store"
	chmod 755 "$TW_HOME" "$TW_HOME/users" "$dir"
	if [ ! -f "$dir/store.img" ]; then
		say "storage: making a $LOOP_SIZE sparse loop file $dir/store.img with btrfs for $user"
		truncate -s "$LOOP_SIZE" "$dir/store.img.tmp"
		mkfs.btrfs -q "$dir/store.img.tmp" >/dev/null || {
			rm -f "$dir/store.img.tmp"
			die "mkfs.btrfs failed (is btrfs-progs installed?)"
		}
		mv "$dir/store.img.tmp" "$dir/store.img"
	fi
	mount -o loop,user_subvol_rm_allowed "$dir/store.img" "$store" || die "$store: cannot mount $dir/store.img"
	chown "$user:" "$store"
fi
echo "$store"

if $demo; then
	home=$(getent passwd "$user" | cut -d: -f6)
	if [ ! -d "$home" ] || [ "$(stat -c %U "$home")" != "$user" ]; then
		home=$dir/home
		mkdir -p "$home"
		chown "$user:" "$home"
	fi
	setpriv --reuid="$user" --regid="$user" --init-groups env -i PATH="$PATH" HOME="$home" \
		"$TW_SCRIPTS/tupperware.sh" --store "$store" --name "$user" --demo
fi
