# Helpers for the storage tests (tw-subvol, tw-snapshot). Load after helpers.
# shellcheck shell=bash

# storage_setup_file: one btrfs for the whole file, made by setup_btrfs.
storage_setup_file() {
	requires root btrfs
	setup_btrfs 512M
}

# storage_setup: each test works in its own directory on the btrfs, $T,
# and starts there.
storage_setup() {
	T=$BTRFS/t$BATS_TEST_NUMBER
	mkdir "$T"
	cd "$T" || return
}

# storage_state: btrfs-progs' view of the whole filesystem, read-only
# flags included; equal before and after means nothing was changed.
storage_state() {
	btrfs_state "$BTRFS"
	echo "read-only:"
	btrfs subvolume list -r "$BTRFS"
}

# fails_cleanly STATUS MESSAGE CMD…: CMD exits with STATUS, prints exactly
# MESSAGE (one line on stderr, nothing on stdout) and leaves the
# filesystem as it was.
# shellcheck disable=SC2154 # output and stderr are set by bats' run
fails_cleanly() {
	local status=$1 msg=$2 before
	shift 2
	before=$(storage_state)
	run "-$status" --separate-stderr "$@"
	assert_equal "$output" ""
	assert_equal "$stderr" "$msg"
	assert_equal "$(storage_state)" "$before"
}

# subvol_field PATH FIELD: one field of `btrfs subvolume show PATH`.
subvol_field() {
	btrfs subvolume show "$1" | sed -n "s/^[[:space:]]*$2:[[:space:]]*//p"
}
