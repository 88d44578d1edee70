#!/usr/bin/env bats
# tw-harden: masked /proc, capabilities, no_new_privs, rlimits, --user,
# seccomp — the container as safe as runc's default.
load helpers
load helpers_harden
harden_hooks

@test "tw-harden --help documents the default set and the order of the chain" {
	run -0 --separate-stderr tw-harden --help
	assert_line --index 0 --partial 'Usage: tw-harden [--cap-add CAPS]'
	assert_output --partial 'AUDIT_WRITE, KILL, NET_BIND_SERVICE (CapEff 0000000020000420)'
	assert_output --partial 'tw-mountproc tw-mountsys tw-mountdev tw-harden [OPTIONS] PROG'
	[ -z "$stderr" ]
}

@test "the kept capabilities are runc's three, no_new_privs is set, nofile is 1024" {
	run -0 container sh -c 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status; ulimit -Sn; ulimit -Hn'
	assert_output "$(printf '%s\n' 'CapInh:	0000000000000000' 'CapPrm:	0000000020000420' \
		'CapEff:	0000000020000420' 'CapBnd:	0000000020000420' 'CapAmb:	0000000000000000' \
		'NoNewPrivs:	1' 1024 1024)"
}

@test "--cap-add and --cap-drop change the set; --cap-drop ALL --cap-add X keeps X" {
	HARDEN='--cap-add CHOWN,cap_sys_chroot --cap-drop kill' run -0 container grep CapEff /proc/self/status
	assert_output 'CapEff:	0000000020040401'
	HARDEN='--cap-drop ALL' run -0 container grep CapEff /proc/self/status
	assert_output 'CapEff:	0000000000000000'
	HARDEN='--cap-drop ALL --cap-add NET_RAW' run -0 container grep CapEff /proc/self/status
	assert_output 'CapEff:	0000000000002000'
}

@test "mknod and mount fail without their capabilities; with them they work" {
	run -0 container sh -c 'mknod /tmp/n c 1 3 || echo no-mknod; mount -t tmpfs none /tmp || echo no-mount'
	assert_output "$(printf '%s\n' 'mknod: /tmp/n: Operation not permitted' no-mknod \
		'mount: permission denied (are you root?)' no-mount)"
	HARDEN='--cap-add MKNOD' run -0 container sh -c 'mknod /tmp/n c 1 3 && stat -c %t:%T /tmp/n && rm /tmp/n'
	assert_output 1:3
}

@test "/proc/kcore, /proc/keys, /proc/timer_list read empty; /sys/firmware and /proc/acpi are empty" {
	[ -n "$(cat /proc/keys)" ] # the host's is not empty
	run -0 container sh -c 'for f in kcore keys timer_list sched_debug; do cat /proc/$f 2>/dev/null; done | wc -c
		ls -A /sys/firmware /proc/acpi | wc -l'
	assert_output "$(printf '0\n3')" # the two headers and the blank line between
}

@test "writing /proc/sysrq-trigger or /proc/sys/kernel/hostname fails; the host keeps its name" {
	run -0 container sh -c 'echo h >/proc/sysrq-trigger || echo no-sysrq
		echo bad >/proc/sys/kernel/hostname || echo no-hostname
		awk "\$5 == \"/proc/sys\" || \$5 == \"/proc/bus\" { print \$5, \$6 }" /proc/self/mountinfo'
	assert_line no-sysrq
	assert_line "sh: can't create /proc/sys/kernel/hostname: Read-only file system"
	assert_line no-hostname
	assert_line '/proc/sys ro,nosuid,nodev,noexec,relatime'
	assert_line '/proc/bus ro,nosuid,nodev,noexec,relatime'
}

@test "device nodes the image brought along cannot be opened: the root is nodev" {
	mknod "$ROOT/disk" b "$(stat -c '%t' "$BTRFS_LOOP" | xargs printf '%d')" "$(stat -c '%T' "$BTRFS_LOOP" | xargs printf '%d')"
	mknod "$ROOT/null" c 1 3
	run -0 tw-unshare -muinpf tw-pivot "$ROOT" tw-mountproc tw-mountdev sh -c 'head -c 1 /disk | wc -c'
	assert_output 1
	run -0 container sh -c 'head -c 1 /disk; echo x >/null; echo x >/dev/null && echo dev-ok
		awk "\$5 == \"/\" { print \$6 }" /proc/self/mountinfo'
	rm "$ROOT/disk" "$ROOT/null"
	assert_output "$(printf '%s\n' "head: /disk: Permission denied" "sh: can't create /null: Permission denied" dev-ok rw,nodev,relatime)"
}

@test "--rlimit sets soft and hard limits; a later one for the same type wins" {
	HARDEN='--rlimit nofile=512:2048 --rlimit core=0 --rlimit RLIMIT_NPROC=100 --rlimit fsize=unlimited' \
		run -0 container sh -c 'ulimit -Sn; ulimit -Hn; ulimit -c; ulimit -u; ulimit -f'
	assert_output "$(printf '512\n2048\n0\n100\nunlimited')"
}

@test "--user UID:GID runs as that user with no capabilities left but the bounding set" {
	HARDEN='--user 1000:1001' run -0 container sh -c 'id; grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status; touch /x || true'
	assert_output "$(printf '%s\n' 'uid=1000 gid=1001' 'CapPrm:	0000000000000000' \
		'CapEff:	0000000000000000' 'CapBnd:	0000000020000420' "touch: /x: Permission denied")"
	HARDEN='--user 7' run -0 container id -u
	assert_output 7
}

@test "--seccomp: a syscall Docker's profile forbids fails with EPERM, the rest works" {
	# unshare(CLONE_NEWUSER) needs no capability: only seccomp stops it.
	run -0 container sh -c 'unshare -U true && echo userns-ok; grep "^Seccomp:" /proc/self/status'
	assert_output "$(printf 'userns-ok\nSeccomp:\t0')"
	HARDEN=--seccomp run -0 container sh -c 'unshare -U true || echo refused
		grep "^Seccomp:" /proc/self/status; echo a b | wc -w; dd if=/dev/zero bs=1k count=1 2>/dev/null | wc -c'
	assert_output "$(printf '%s\n' 'unshare: unshare(0x10000000): Operation not permitted' refused 'Seccomp:	2' 2 1024)"
	# A capability brings its syscalls back, as in Docker.
	HARDEN='--seccomp --cap-add SYS_ADMIN' run -0 container sh -c 'unshare -U true && echo userns-ok'
	assert_output userns-ok
}

@test "thread mode (one tw start) hardens as the child that starts tw again does" {
	# The chain as it is runs on tw-unshare's thread, and the child forked
	# from it makes tw-harden's steps; with tw-mountproc before tw-pivot
	# (which thread mode does not take) tw starts again in the child.
	opts='--seccomp --user 1000:1001 --rlimit core=0 --cap-add NET_RAW,CHOWN'
	check='grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status; ulimit -Sn; ulimit -Hn; ulimit -c; id
		awk "\$5 ~ /^\/proc\/|^\/sys\/firmware|^\/$/ { print \$5, \$6 }" /proc/self/mountinfo | sort'
	# shellcheck disable=SC2086
	run -0 strace -f -qq -e trace=execve -o "$BATS_TEST_TMPDIR/thread" tw-unshare -muinpf tw-pivot "$ROOT" \
		tw-mountproc tw-mountsys tw-mountdev tw-harden $opts sh -c "$check"
	thread=$output
	# shellcheck disable=SC2086
	run -0 strace -f -qq -e trace=execve -o "$BATS_TEST_TMPDIR/child" tw-unshare -muinpf \
		tw-mountproc --target "$ROOT/proc" tw-pivot "$ROOT" tw-mountsys tw-mountdev tw-harden $opts sh -c "$check"
	assert_equal "$thread" "$output"
	assert_line 'CapBnd:	0000000020002421'
	assert_line 'CapEff:	0000000000000000'
	assert_line 'NoNewPrivs:	1'
	assert_line 'Seccomp:	2'
	assert_line 'uid=1000 gid=1001'
	assert_line '/ rw,nodev,relatime'
	assert_line '/proc/sys ro,nosuid,nodev,noexec,relatime'
	assert_line '/sys/firmware ro,nosuid,nodev,noexec,relatime'
	# (busybox runs its applets as /proc/self/exe too: tw's have tw-unshare)
	run -1 grep -c 'execve("/proc/self/exe", \["tw-unshare"' "$BATS_TEST_TMPDIR/thread"
	run -0 grep -c 'execve("/proc/self/exe", \["tw-unshare"' "$BATS_TEST_TMPDIR/child"
	assert_output 1
}

@test "in thread mode a step left to the child fails under its applet's name; the program does not run" {
	run -1 tw-unshare -muinpf tw-pivot "$ROOT" tw-mountproc --target /nosuch tw-mountdev tw-harden touch /ran
	assert_output 'tw-mountproc: mount proc /nosuch: no such file or directory'
	run -127 tw-unshare -muinpf tw-pivot "$ROOT" tw-mountproc tw-mountdev tw-harden --seccomp nosuch
	assert_output 'tw-harden: exec nosuch: command not found'
	[ ! -e "$ROOT/ran" ]
}

@test "masking needs the real /dev/null: refused without tw-mountdev, or with --no-mask skipped" {
	run -1 tw-unshare -muinpf tw-pivot "$ROOT" tw-mountproc tw-harden true
	assert_output 'tw-harden: mask paths: stat /dev/null: no such file or directory (run tw-mountdev first, or pass --no-mask)'
	run -0 tw-unshare -muinpf tw-pivot "$ROOT" tw-mountproc tw-harden --no-mask grep CapEff /proc/self/status
	assert_output 'CapEff:	0000000020000420'
	touch "$ROOT/dev/null"
	run -1 tw-unshare -muinpf tw-pivot "$ROOT" tw-mountproc tw-harden true
	rm "$ROOT/dev/null"
	assert_output 'tw-harden: mask paths: /dev/null is not the null device (run tw-mountdev first, or pass --no-mask)'
}

@test "bad input is one line, exit 2, and nothing is changed" {
	run -2 tw-harden --cap-add CAP_BOGUS true
	assert_output "$(printf '%s\n' 'tw-harden: unknown capability: CAP_BOGUS' "Try 'tw-harden --help' for more information.")"
	run -2 tw-harden --cap-drop chown,,nope true
	assert_line --index 0 'tw-harden: unknown capability: nope'
	run -2 tw-harden --rlimit nofile=abc true
	assert_line --index 0 'tw-harden: --rlimit nofile=abc: not a number: "abc"'
	run -2 tw-harden --rlimit nofile true
	assert_line --index 0 'tw-harden: --rlimit nofile: expected TYPE=SOFT[:HARD]'
	run -2 tw-harden --rlimit bogus=1 true
	assert_line --index 0 'tw-harden: --rlimit bogus=1: unknown resource "bogus"'
	run -2 tw-harden --rlimit nofile=10:5 true
	assert_line --index 0 'tw-harden: --rlimit nofile=10:5: soft limit above the hard limit'
	run -2 tw-harden --user root true
	assert_line --index 0 'tw-harden: --user root: not a numeric id: "root"'
	[ "${#lines[@]}" -eq 2 ]
	# Inside the container too: the program does not run.
	HARDEN='--cap-add BOGUS' run -2 container touch /ran
	[ ! -e "$ROOT/ran" ]
}

@test "tw-harden refuses to mask in the host's mount namespace" {
	run -1 tw-harden true
	assert_output --partial "tw-harden: refusing to change mounts in the host's mount namespace"
}
