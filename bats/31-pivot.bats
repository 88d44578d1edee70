#!/usr/bin/env bats
# tw-pivot, and the whole container in one line:
#   tw-unshare -muinpf --hostname tupperware tw-pivot ROOT tw-mountproc PROG…
# ROOT is a btrfs snapshot of a busybox image: no tw binary in it.
load helpers
load helpers_ns
ns_hooks

setup() {
	[ ! -e "$ROOT/bin/tw" ] && [ ! -e "$ROOT/bin/tw-pivot" ]
}

teardown() {
	if [ -e "$BATS_TEST_TMPDIR/msqid" ]; then
		ipcrm -q "$(cat "$BATS_TEST_TMPDIR/msqid")"
	fi
	ns_check_host
}

@test "tw-pivot --help prints usage on stdout" {
	run -0 --separate-stderr tw-pivot --help
	assert_line --index 0 'Usage: tw-pivot [--force] NEWROOT [PROG [ARGS…]]'
	[ -z "$stderr" ]
}

@test "in the container, the shell is PID 1" {
	run -0 container sh -c 'echo $$'
	assert_output 1
}

@test "ps shows only the container's processes" {
	run -0 container sh -c 'ps -o pid,comm; :'
	assert_line --index 0 --regexp '^ *PID +COMMAND$'
	assert_line --index 1 --regexp '^ *1 +sh$'
	assert_line --index 2 --regexp '^ *[0-9] +ps$'
	[ "${#lines[@]}" -eq 3 ]
}

@test "the container has its hostname; the host keeps its own" {
	run -0 container hostname
	assert_output tupperware
	assert_equal "$(hostname)" "$HOST_HOSTNAME"
}

@test "the container sees only its own mounts: its root and its proc" {
	run -0 container cat /proc/self/mountinfo
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 0 --regexp '^[0-9]+ [0-9]+ [0-9]+:[0-9]+ /containers/tupperware / rw,.* - btrfs '
	assert_line --index 1 --regexp '^[0-9]+ [0-9]+ [0-9]+:[0-9]+ / /proc rw,nosuid,nodev,noexec,.* - proc '
	# and no old root left behind
	run -0 container ls -a /
	assert_equal "$output" "$(ls -a "$ROOT")"
}

@test "the container inherits no descriptor: ls /proc/self/fd shows 0 1 2 and its own" {
	file=$BATS_TEST_TMPDIR/host-file
	run -0 container ls /proc/self/fd 3>"$file" 4<"$file" 9<"$BTRFS"
	assert_output "$(printf '0\n1\n2\n3')"
	run -0 container ls -l /proc/self/fd/ 3>"$file"
	refute_output --partial "$file"
}

@test "the container's program is its own /proc/self/exe, not tw; no TW_ variable" {
	run -0 container sh -c 'readlink /proc/self/exe; readlink /proc/1/exe; env; :'
	assert_line --index 0 /bin/busybox
	assert_line --index 1 /bin/busybox
	refute_output --partial TW_UNSHARE
}

@test "the container's network has only lo" {
	run -0 container ip -o link
	[ "${#lines[@]}" -eq 1 ]
	assert_line --index 0 --regexp '^1: lo: <LOOPBACK>'
}

@test "the host's IPC objects are invisible in the container" {
	id=$(ipcmk -Q | awk '{ print $NF }')
	echo "$id" >"$BATS_TEST_TMPDIR/msqid" # removed by teardown
	run -0 awk 'NR > 1 { print $2 }' /proc/sysvipc/msg
	assert_line "$id"
	# busybox has no ipcs: the kernel's table, as the container sees it
	run -0 container cat /proc/sysvipc/msg
	[ "${#lines[@]}" -eq 1 ]
	assert_line --index 0 --regexp '^ +key +msqid '
}

@test "a file made in the container is in the snapshot, not in the image, not on the host" {
	name=tw-ns-test-$$
	run -0 container touch "/$name"
	[ -e "$ROOT/$name" ]
	[ ! -e "$IMAGE/$name" ]
	[ ! -e "/$name" ]
	rm "$ROOT/$name"
}

@test "umount -a in the container touches neither the host's mounts nor its btrfs" {
	# umount(2) of one's own root remounts its superblock read-only, the
	# host's btrfs with it: tw-unshare holds a file open for writing on it
	# (a nameless one tw-pivot made) while the container lives.
	run -1 container sh -c 'umount -a'
	assert_output "umount: can't unmount /: Device or resource busy"
	assert_equal "$(findmnt -no OPTIONS "$BTRFS" | cut -d, -f1)" rw
	run -255 container mount -o remount,ro /
	assert_output --regexp '^mount: mounting /dev/loop[0-9]+ on / failed: Device or resource busy$'
	assert_equal "$(findmnt -no OPTIONS "$BTRFS" | cut -d, -f1)" rw
	run -0 container cat /proc/self/mountinfo
	[ "${#lines[@]}" -eq 2 ]
}

@test "the pin is held by tw-unshare, not by the container, and goes with it" {
	# not the function container: $! must be tw-unshare itself
	tw-unshare -muinpf tw-pivot "$ROOT" tw-mountproc sh -c 'touch /ready; exec sleep 60' 3>&- &
	pid=$!
	wait_for "$ROOT/ready"
	# a nameless file on the container's root, named in the mount it was
	# made in: "/containers/tupperware/#INODE (deleted)"
	run -0 find "/proc/$pid/fd" -lname '*/#* (deleted)'
	[ "${#lines[@]}" -eq 1 ]
	child=$(child_of "$pid")
	run -0 ls "/proc/$child/fd"
	assert_output "$(printf '0\n1\n2')"
	kill -KILL "$child"
	wait "$pid" || true
	rm "$ROOT/ready"
	# the btrfs can be made read-only again: nothing holds it
	mount -o remount,ro "$BTRFS"
	mount -o remount,rw "$BTRFS"
}

# ro_remount_check: the btrfs's options, restored to rw if a test made it
# read-only (so that the tests after it still run); prints what it was.
ro_remount_check() {
	local opts
	opts=$(findmnt -no OPTIONS "$BTRFS" | cut -d, -f1)
	if [ "$opts" != rw ]; then mount -o remount,rw "$BTRFS"; fi
	echo "$opts"
}

@test "umount -a in a container on a read-only subvolume leaves the host's btrfs read-write" {
	# The pin cannot be made on a read-only subvolume (EROFS): it is made
	# in the writable directory above it, on the same btrfs.
	ro=$BTRFS/images/ro-$BATS_TEST_NUMBER
	btrfs subvolume snapshot -r "$IMAGE" "$ro" >/dev/null
	run tw-unshare -muinpf tw-pivot "$ro" tw-mountproc sh -c 'mount -o remount,ro /; umount -a'
	opts=$(ro_remount_check)
	btrfs subvolume delete "$ro" >/dev/null
	assert_equal "$opts" rw
	assert_line "umount: can't unmount /: Device or resource busy"
	assert_line --regexp '^mount: mounting /dev/loop[0-9]+ on / failed: Device or resource busy$'
}

# background_remount CHAIN…: run CHAIN sh -c '…' with a background job
# that tries to make / read-only after PROG ended; prints the btrfs's
# options afterwards, whether tw-unshare had waited for the job, and what
# the job got.
background_remount() {
	local waited=no opts bg
	"$@" sh -c '(sleep 1; err=$(umount / 2>&1); echo "$? $err" >/bg.rc) >&- 2>&- & exit 5' >/dev/null 2>&1 &&
		return 1 || [ $? -eq 5 ] || return 1
	if [ -e "$ROOT/bg.rc" ]; then waited=yes; fi
	# (without the guard the btrfs turns read-only and bg.rc never comes)
	for _ in $(seq 50); do
		[ -e "$ROOT/bg.rc" ] || [ "$(findmnt -no OPTIONS "$BTRFS" | cut -d, -f1)" = ro ] && break
		sleep 0.1
	done
	opts=$(ro_remount_check)
	bg=$(cat "$ROOT/bg.rc" 2>/dev/null || true)
	rm -f "$ROOT/bg.rc"
	echo "$opts $waited $bg"
}

@test "without --pid, what PROG leaves in the background cannot make the host's btrfs read-only later" {
	# tw-unshare is their subreaper: it waits for them, and holds the pin
	# until the last one is gone; the status is PROG's (5). The background
	# job writes nothing on the btrfs before its umount: a file open for
	# writing would itself keep the remount busy. sh gives it /dev/null.
	mknod "$ROOT/dev/null" c 1 3
	# thread mode, then the child that starts tw again (the other order)
	run background_remount tw-unshare -mu tw-pivot "$ROOT"
	run2=$(background_remount tw-unshare -mu tw-mountproc --host-pids --target "$ROOT/proc" tw-pivot "$ROOT") || run2="status $?"
	rm -f "$ROOT/dev/null"
	assert_output "rw yes 1 umount: can't unmount /: Device or resource busy"
	assert_equal "$run2" "rw yes 1 umount: can't unmount /: Device or resource busy"
}

@test "without --pid, SIGTERM to tw-unshare while it waits for what PROG left passes on to those processes" {
	mknod "$ROOT/dev/null" c 1 3 # (sh gives its job /dev/null)
	# thread mode, then the child that starts tw again (the other order)
	for chain in "tw-unshare -mu tw-pivot $ROOT" \
		"tw-unshare -mu tw-mountproc --host-pids --target $ROOT/proc tw-pivot $ROOT"; do
		rm -f "$ROOT/bg.pid"
		# shellcheck disable=SC2086
		$chain sh -c 'sleep 100 >&- 2>&- & echo $! >/bg.pid; exit 5' >/dev/null 2>&1 &
		local tw=$! bg= status=
		for _ in $(seq 50); do
			[ -s "$ROOT/bg.pid" ] && break
			sleep 0.1
		done
		bg=$(cat "$ROOT/bg.pid")
		rm -f "$ROOT/bg.pid"
		sleep 0.3 # PROG has ended: tw-unshare waits for the sleep, its subreaper
		kill -0 "$tw"
		kill -TERM "$tw"
		for _ in $(seq 50); do
			kill -0 "$tw" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$tw" 2>/dev/null; then
			kill -KILL "$bg" "$tw"
			false "the sleep did not get SIGTERM: tw-unshare still waits"
		fi
		wait "$tw" || status=$?
		assert_equal "$status" 5 # PROG's
		run ! kill -0 "$bg"
	done
	rm -f "$ROOT/dev/null"
}

@test "the exit status of the container's program comes out" {
	run -7 container sh -c 'exit 7'
	assert_output ''
	run -0 container true
}

@test "a container whose PID 1 is killed with SIGKILL reports 137" {
	# not the function container: $! must be tw-unshare itself
	tw-unshare -muinpf tw-pivot "$ROOT" tw-mountproc sh -c 'exec sleep 60' 3>&- &
	pid=$!
	kill -KILL "$(child_of "$pid")"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 137 ]
}

@test "the other order: tw-mountproc --target ROOT/proc tw-pivot ROOT" {
	run -0 tw-unshare -muinpf --hostname tupperware tw-mountproc --target "$ROOT/proc" tw-pivot "$ROOT" \
		sh -c 'echo $$; hostname; cat /proc/self/mountinfo; ls /proc/self/fd' 3>"$BATS_TEST_TMPDIR/f"
	assert_line --index 0 1
	assert_line --index 1 tupperware
	assert_line --index 2 --regexp ' /containers/tupperware / rw,.* - btrfs '
	assert_line --index 3 --regexp ' / /proc rw,nosuid,nodev,noexec,.* - proc '
	assert_equal "$(printf '%s\n' "${lines[@]:4}")" "$(printf '0\n1\n2\n3')"
	run -1 grep -F " $ROOT/proc " /proc/self/mountinfo
}

@test "tw-pivot works from any directory, with a relative NEWROOT" {
	cd "$ROOT/bin"
	run -0 tw-unshare -mpf tw-pivot .. tw-mountproc sh -c 'pwd; ls /proc/1/exe'
	assert_output "$(printf '/\n/proc/1/exe')"
	cd "$BATS_TEST_TMPDIR"
	run -0 tw-unshare -mpf tw-pivot "$ROOT" pwd
	assert_output /
}

@test "tw-pivot by its path, or as tw pivot, runs like its name: in the process, with no tw in the root" {
	local tw dir
	tw=$(command -v tw)
	dir=${tw%/tw}
	for chain in "$dir/tw-pivot" "$tw pivot" "tw pivot" "tw tw-pivot"; do
		# shellcheck disable=SC2086
		run -0 tw-unshare -muinpf --hostname tupperware $chain "$ROOT" tw-mountproc \
			sh -c 'echo $$; hostname; cat /proc/self/mountinfo'
		assert_line --index 0 1
		assert_line --index 1 tupperware
		assert_line --index 2 --regexp ' /containers/tupperware / rw,.* - btrfs '
		assert_line --index 3 --regexp ' / /proc rw,nosuid,nodev,noexec,.* - proc '
		[ "${#lines[@]}" -eq 4 ]
		# shellcheck disable=SC2086
		run -0 tw-unshare -m $chain "$ROOT" /bin/true
	done
	# the other order, both by path (tw-mountproc first: tw's child mode)
	run -0 tw-unshare -muinpf "$dir/tw-mountproc" --target "$ROOT/proc" "$dir/tw-pivot" "$ROOT" sh -c 'echo $$; ls /proc/1/exe'
	assert_output $'1\n/proc/1/exe'
	# after tw-pivot a path names a file of the new root, which has no tw
	run -127 tw-unshare -muinpf tw-pivot "$ROOT" "$dir/tw-mountproc" true
	assert_output "tw-pivot: exec $dir/tw-mountproc: no such file or directory"
	# another tw build is a program like any other: its guard cannot see
	# tw-unshare's record, which no program gets
	cp "$tw" "$BATS_TEST_TMPDIR/tw-pivot"
	run -1 tw-unshare -muinpf "$BATS_TEST_TMPDIR/tw-pivot" "$ROOT" /bin/true
	assert_output --regexp "^tw-pivot: refusing to change mounts in the host's mount namespace: cannot show that mnt:"
	run -127 tw-unshare -muinpf tw nosuch "$ROOT"
	assert_line --index 0 'tw: nosuch: no such applet'
}

@test "tw-pivot works on a plain directory" {
	dir=$BTRFS/plain
	mkdir "$dir"
	cp -a "$IMAGE/." "$dir/"
	run -0 tw-unshare -mpf tw-pivot "$dir" tw-mountproc sh -c 'echo $$; cat /proc/self/mountinfo'
	assert_line --index 0 1
	assert_line --index 1 --regexp ' /plain / rw,'
	rm -rf "$dir"
}

@test "nothing propagates out of tw-pivot, even when the mounts are shared" {
	# The outer throwaway namespace has shared mounts that are peers of the
	# container's (--propagation unchanged): the bind of ROOT must not show.
	run -0 unshare -m --propagation shared sh -c '
		tw-unshare -mpf --propagation unchanged tw-pivot "$1" true || exit
		grep -c " $1 " /proc/self/mountinfo; :' sh "$ROOT"
	assert_output 0
}

@test "without PROG the container runs /bin/sh, found inside the new root" {
	run -0 container <<<'echo $$; readlink /proc/self/exe'
	assert_output "$(printf '1\n/bin/busybox')"
}

@test "NEWROOT missing: exit 1, nothing mounted" {
	run -1 tw-unshare -m tw-pivot "$BTRFS/nosuch" true
	assert_output "tw-pivot: new root $BTRFS/nosuch: no such file or directory"
}

@test "NEWROOT not a directory: exit 1" {
	run -1 tw-unshare -m tw-pivot "$ROOT/etc/passwd" true
	assert_output "tw-pivot: new root $ROOT/etc/passwd: not a directory"
}

@test "NEWROOT the host's own /: exit 1" {
	run -1 tw-unshare -m tw-pivot / true
	assert_output "tw-pivot: new root /: is the current root"
	run -1 tw-unshare -m tw-pivot /usr/.. true
	assert_output "tw-pivot: new root /usr/..: is the current root"
}

@test "a program missing from the new root: exit 127" {
	[ -x /bin/bash ] && [ ! -e "$ROOT/bin/bash" ]
	run -127 tw-unshare -mpf tw-pivot "$ROOT" /bin/bash -c true
	assert_output 'tw-pivot: exec /bin/bash: no such file or directory'
	run -127 tw-unshare -mpf tw-pivot "$ROOT" bash -c true
	assert_output 'tw-pivot: exec bash: command not found'
	run -127 container bash
	assert_output 'tw-mountproc: exec bash: command not found'
}

@test "a program that is not executable: exit 126" {
	touch "$ROOT/bin/noexec"
	run -126 tw-unshare -mpf tw-pivot "$ROOT" /bin/noexec
	assert_output 'tw-pivot: exec /bin/noexec: permission denied'
	run -126 container noexec
	assert_output 'tw-mountproc: exec noexec: permission denied'
	rm "$ROOT/bin/noexec"
}

@test "an unknown flag or no NEWROOT: exit 2" {
	# in a throwaway namespace, should the parser let it through
	run -2 unshare -m -f --propagation private tw-pivot --bogus "$ROOT"
	assert_output "$(printf "tw-pivot: unknown flag: --bogus\nTry 'tw-pivot --help' for more information.")"
	run -2 tw-pivot
	assert_line --index 0 'tw-pivot: expected at least 1 argument(s), got 0'
	run -2 tw-unshare -m tw-pivot --bogus "$ROOT"
	assert_line --index 0 'tw-pivot: unknown flag: --bogus'
}

# The guard. tw-pivot run in the host sees its parent in its own mount
# namespace, no record of tw-unshare, and /proc/1 unreadable. unshare -m -f
# makes exactly that, in a throwaway namespace, so that a broken guard
# pivots there and not on the host; without -f the parent is outside and
# the same command goes through, so it is the guard that refuses.
@test "tw-pivot refuses a mount namespace it cannot show to be another one than the host's" {
	run -1 unshare -m -f --propagation private tw-pivot "$ROOT" /bin/true
	assert_output --regexp "^tw-pivot: refusing to change mounts in the host's mount namespace: cannot show that mnt:\[[0-9]+\] is another one \(run under tw-unshare --mount, or pass --force\)$"
	run -0 unshare -m --propagation private tw-pivot "$ROOT" /bin/true
}

@test "--force accepts a namespace that cannot be shown to be another one (here a throwaway one)" {
	run -0 unshare -m -f --propagation private tw-pivot --force "$ROOT" ls /
	assert_equal "$output" "$(ls "$ROOT")"
	# but never the one tw-unshare was started in
	run -1 unshare -m -f --propagation private tw-unshare -pf tw-pivot --force "$ROOT" true
	assert_output --partial 'is the one tw-unshare was started in (add --mount)'
}

@test "a forged record of tw-unshare does not get tw-pivot past the guard" {
	run -1 unshare -m -f --propagation private env TW_UNSHARE_LEFT='mnt:[4026599999]' tw-pivot "$ROOT" /bin/true
	assert_output --regexp "^tw-pivot: refusing to change mounts in the host's mount namespace: cannot show that mnt:\[[0-9]+\] is another one"
}

@test "tw-pivot refuses to run in the namespace tw-unshare was started in (no --mount)" {
	run -1 unshare -m -f --propagation private tw-unshare -upf tw-pivot "$ROOT" /bin/true
	assert_output --regexp "^tw-pivot: refusing to change mounts in the host's mount namespace: mnt:\[[0-9]+\] is the one tw-unshare was started in \(add --mount\)$"
}

@test "after all containers: the host's mounts are as before, nothing left under the btrfs" {
	run -0 findmnt -rn -o TARGET --submounts --mountpoint "$BTRFS"
	assert_output "$BTRFS"
	[ "$(losetup -j "$BTRFS_IMG" | wc -l)" -eq 1 ]
	run -0 btrfs subvolume list "$BTRFS"
	[ "${#lines[@]}" -eq 2 ]
}

@test "the program gets the caller's RLIMIT_NOFILE, as with util-linux's unshare (Go raised its own)" {
	# a soft limit below the hard one, which Go's runtime raises in tw
	local want
	want=$(ulimit -Sn 512 && unshare -muinpf --mount-proc chroot "$ROOT" /bin/sh -c 'ulimit -Sn; ulimit -Hn')
	assert_equal "$(head -1 <<<"$want")" 512
	# thread mode, child mode; the hardened chain
	run -0 bash -c 'ulimit -Sn 512 && exec tw-unshare -muinpf tw-pivot "$1" tw-mountproc /bin/sh -c "ulimit -Sn; ulimit -Hn"' _ "$ROOT"
	assert_output "$want"
	# (tw-harden then sets runc's default, 1024 both)
	run -0 bash -c 'ulimit -Sn 512 && exec tw-unshare -muinpf tw-pivot "$1" tw-mountproc tw-mountsys tw-mountdev tw-harden /bin/sh -c "ulimit -Sn; ulimit -Hn"' _ "$ROOT"
	assert_output $'1024\n1024'
	run -0 bash -c 'ulimit -Sn 512 && exec tw-unshare -muinpf tw-mountproc --target "$1/proc" tw-pivot "$1" /bin/sh -c "ulimit -Sn; ulimit -Hn"' _ "$ROOT"
	assert_output "$want"
}
