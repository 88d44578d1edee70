# Common helpers for tupperware's bats tests. Load with `load helpers`.
# shellcheck shell=bash
bats_require_minimum_version 1.5.0

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# The binary under test and its tw-* symlinks (argv[0] dispatch is part of
# what is tested).
TW_BIN=${TW_BIN:-$(cd "$BATS_TEST_DIRNAME/../bin" && pwd)}
export TW_BIN
PATH="$TW_BIN:$PATH"
export PATH

# requires root|btrfs|CMD…: skip the test, with the reason, when the machine
# lacks what it needs.
requires() {
	local r
	for r in "$@"; do
		case "$r" in
		root) [ "$(id -u)" -eq 0 ] || skip "test requires root" ;;
		btrfs)
			grep -qw btrfs /proc/filesystems || skip "test requires btrfs in the kernel"
			command -v mkfs.btrfs >/dev/null || skip "test requires mkfs.btrfs (btrfs-progs)"
			;;
		*) command -v "$r" >/dev/null || skip "test requires $r" ;;
		esac
	done
}

# setup_btrfs [SIZE]: a fresh btrfs on a loop file, mounted at $BTRFS.
# Call from setup_file (or setup); teardown_btrfs undoes it, also after a
# failed test. The loop device is detached by us, not left to autoclear.
setup_btrfs() {
	local size=${1:-512M} dir=${BATS_FILE_TMPDIR:-$BATS_TMPDIR}
	BTRFS_IMG=$(mktemp "$dir/btrfs.XXXXXX.img")
	truncate -s "$size" "$BTRFS_IMG"
	mkfs.btrfs -q -f "$BTRFS_IMG" >/dev/null
	BTRFS_LOOP=$(losetup --find --show "$BTRFS_IMG")
	BTRFS=$(mktemp -d "$dir/btrfs.XXXXXX")
	mount -t btrfs "$BTRFS_LOOP" "$BTRFS"
	export BTRFS BTRFS_LOOP BTRFS_IMG
}

teardown_btrfs() {
	if [ -n "${BTRFS:-}" ] && mountpoint -q "$BTRFS"; then
		umount "$BTRFS" || umount -l "$BTRFS"
	fi
	if [ -n "${BTRFS_LOOP:-}" ]; then
		losetup -d "$BTRFS_LOOP" 2>/dev/null || true
	fi
	if [ -n "${BTRFS_IMG:-}" ]; then rm -f "$BTRFS_IMG"; fi
	if [ -n "${BTRFS:-}" ]; then rmdir "$BTRFS" 2>/dev/null || true; fi
	BTRFS='' BTRFS_LOOP='' BTRFS_IMG=''
}

# host_mounts: the host's mount table without mount IDs, to compare before
# and after a test that must leave it unchanged; mounts of other test runs
# under /tmp, which may come and go in parallel, are left out.
host_mounts() {
	awk -v mine="${BATS_RUN_TMPDIR:-/nonexistent}" \
		'$5 !~ "^/tmp/" || index($5, mine) == 1 { $1 = ""; $2 = ""; print }' /proc/self/mountinfo | sort
}

# host_unchanged: the host's mount table is as it was in HOST_MOUNTS_BEFORE
# (set by the test's setup from host_mounts).
host_unchanged() {
	local now
	now=$(host_mounts)
	[ "$now" = "$HOST_MOUNTS_BEFORE" ] || fail "host mounts changed: $(diff <(echo "$HOST_MOUNTS_BEFORE") <(echo "$now"))"
}

# btrfs_state DIR: what btrfs-progs sees of the filesystem at DIR, the
# independent oracle for "nothing was damaged".
btrfs_state() {
	btrfs subvolume list -a "$1" | sort
	find "$1" -xdev | sort
}

# busybox_btrfs_root [SIZE]: setup_btrfs, then the subvolume images/busybox
# ($IMAGE) with a busybox root filesystem in it, and its snapshot
# containers/tupperware ($ROOT), which holds no tw binary.
busybox_btrfs_root() {
	setup_btrfs "$@"
	mkdir "$BTRFS/images" "$BTRFS/containers"
	btrfs subvolume create "$BTRFS/images/busybox" >/dev/null
	busybox_rootfs "$BTRFS/images/busybox"
	btrfs subvolume snapshot "$BTRFS/images/busybox" "$BTRFS/containers/tupperware" >/dev/null
	IMAGE=$BTRFS/images/busybox
	ROOT=$BTRFS/containers/tupperware
	export IMAGE ROOT
}

# busybox_rootfs DIR: a minimal root filesystem from Debian's static busybox
# (scripts/busybox-rootfs.sh), into DIR.
busybox_rootfs() {
	"$BATS_TEST_DIRNAME/../scripts/busybox-rootfs.sh" "$1"
}

# wait_for FILE: until FILE exists (a container signals it is ready), at
# most 5 seconds.
wait_for() {
	local _
	for _ in $(seq 50); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "wait_for: $1 did not appear" >&2
	return 1
}

# end_pids PID…: SIGKILL each process this test started, and reap it.
end_pids() {
	local p
	for p in "$@"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# child_of PID: the (first) child process of PID, waiting for it to appear.
child_of() {
	local _ c
	for _ in $(seq 50); do
		c=$(pgrep -P "$1" | head -1) && [ -n "$c" ] && echo "$c" && return 0
		sleep 0.1
	done
	echo "child_of: $1 has no child" >&2
	return 1
}

# console_receiver: prints a python3 program for a runtime's
# --console-socket PATH (its argument): it takes the terminal's master and
# prints what comes through it, without the terminal's carriage returns.
console_receiver() {
	cat <<-'PY'
		import array, os, socket, sys
		s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		s.bind(sys.argv[1])
		s.listen(1)
		c, _ = s.accept()
		fds = array.array("i")
		_, anc, _, _ = c.recvmsg(1024, socket.CMSG_LEN(4))
		fds.frombytes(anc[0][2][:4])
		out = b""
		while True:
		    try:
		        b = os.read(fds[0], 4096)
		    except OSError:
		        break
		    if not b:
		        break
		    out += b
		sys.stdout.write(out.decode().replace("\r", ""))
	PY
}
