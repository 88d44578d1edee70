# Helpers for the hardening and limit applets' tests (35-37): a busybox
# image on a loop btrfs, a snapshot of it as the container's root, the
# whole container in one line, and the checks that the host was left
# alone. Load with `load helpers_harden` after `load helpers`.
# shellcheck shell=bash

# harden_setup_file: $BTRFS with the subvolume images/busybox and its
# snapshot containers/tupperware ($ROOT), which holds no tw binary. The
# host's mount table and tw's cgroups are saved for harden_check_host.
harden_setup_file() {
	requires root btrfs /bin/busybox
	busybox_btrfs_root
	harden_save_host
}

# harden_hooks: the calling file's setup_file, teardown_file and teardown
# are harden_setup_file, harden_teardown_file and harden_check_host (a file
# may define its own after the call).
harden_hooks() {
	setup_file() { harden_setup_file; }
	teardown_file() { harden_teardown_file; }
	teardown() { harden_check_host; }
}

harden_teardown_file() {
	teardown_btrfs
}

# harden_save_host: what harden_check_host compares with.
harden_save_host() {
	HOST_HOSTNAME=$(hostname)
	export HOST_HOSTNAME
	harden_host_mounts >"$BATS_FILE_TMPDIR/mounts.before"
	tw_cgroups >"$BATS_FILE_TMPDIR/cgroups.before"
}

# harden_host_mounts: the host's mount table, as host_mounts sees it.
harden_host_mounts() {
	host_mounts
}

# tw_cgroups: the cgroups tw-limit made below ours (tw-limit-*), in every v1 hierarchy
# and in cgroup2.
tw_cgroups() {
	local ctl path dir
	while IFS=: read -r _ ctl path; do
		case "$ctl" in
		name=*) continue ;;
		'') dir=$(findmnt -rno TARGET -t cgroup2 | head -1) ;;
		*) dir=$(findmnt -rno TARGET,OPTIONS -t cgroup | awk -v c="$ctl" '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $1; exit } }') ;;
		esac
		[ -n "$dir" ] && find "$dir$path" -maxdepth 1 -name 'tw-limit-*' 2>/dev/null
	done </proc/self/cgroup | sort -u
}

# harden_check_host: after every test, the host's mounts are as before,
# the hostname is unchanged, no cgroup of tw is left.
harden_check_host() {
	assert_equal "$(harden_host_mounts)" "$(cat "$BATS_FILE_TMPDIR/mounts.before")"
	assert_equal "$(hostname)" "$HOST_HOSTNAME"
	assert_equal "$(tw_cgroups)" "$(cat "$BATS_FILE_TMPDIR/cgroups.before")"
}

# container PROG [ARGS…]: the whole hardened container in one line, on
# $ROOT; options for tw-harden go in $HARDEN, for tw-limit in $LIMIT.
container() {
	# shellcheck disable=SC2086
	${LIMIT:+tw-limit $LIMIT} tw-unshare -muinpf --hostname tupperware tw-pivot "$ROOT" \
		tw-mountproc tw-mountsys tw-mountdev tw-harden ${HARDEN:-} "$@"
}

# cgroup_dir CONTROLLER: the v1 directory of our cgroup for CONTROLLER.
cgroup_dir() {
	local mnt path
	mnt=$(findmnt -rno TARGET,OPTIONS -t cgroup | awk -v c="$1" '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $1; exit } }')
	path=$(awk -F: -v c="$1" '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $3 }' /proc/self/cgroup)
	echo "$mnt${path%/}"
}
