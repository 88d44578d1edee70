# Helpers for the namespace applets' tests (3x): a busybox image on a loop
# btrfs, a snapshot of it as the container's root, and the checks that the
# host was left alone. Load with `load helpers_ns` after `load helpers`.
# shellcheck shell=bash

# ns_setup_file: $BTRFS with the subvolume images/busybox and its snapshot
# containers/tupperware ($ROOT), which holds no tw binary. The host's mount
# table is saved for ns_check_host.
ns_setup_file() {
	requires root btrfs unshare /bin/busybox
	busybox_btrfs_root
	ns_save_host
}

# ns_hooks: the calling file's setup_file, teardown_file and teardown are
# ns_setup_file, ns_teardown_file and ns_check_host (a file may define its
# own after the call).
ns_hooks() {
	setup_file() { ns_setup_file; }
	teardown_file() { ns_teardown_file; }
	teardown() { ns_check_host; }
}

# ns_save_host: what ns_check_host compares with.
ns_save_host() {
	HOST_HOSTNAME=$(hostname)
	export HOST_HOSTNAME
	ns_host_mounts >"$BATS_FILE_TMPDIR/mounts.before"
}

ns_teardown_file() {
	teardown_btrfs
}

# ns_host_mounts: the host's mount table, as host_mounts sees it.
ns_host_mounts() {
	host_mounts
}

# ns_check_host: after every test, the host's mounts are as before, the
# hostname is unchanged, the btrfs (if any) is mounted read-write and takes
# writes.
ns_check_host() {
	assert_equal "$(ns_host_mounts)" "$(cat "$BATS_FILE_TMPDIR/mounts.before")"
	assert_equal "$(hostname)" "$HOST_HOSTNAME"
	if [ -n "${BTRFS:-}" ]; then
		assert_equal "$(findmnt -no OPTIONS "$BTRFS" | cut -d, -f1)" rw
		touch "$BTRFS/.rw" && rm "$BTRFS/.rw"
	fi
}

# container PROG [ARGS…]: the whole container in one line, on $ROOT.
container() {
	tw-unshare -muinpf --hostname tupperware tw-pivot "$ROOT" tw-mountproc "$@"
}

