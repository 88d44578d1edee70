#!/usr/bin/env bats
# tw-mountdev and tw-mountsys: the container's /dev and a read-only /sys.
load helpers
load helpers_harden
harden_hooks

# dev PROG…: the container with a fresh /dev, not yet hardened.
dev() {
	tw-unshare -muinpf tw-pivot "$ROOT" tw-mountproc tw-mountdev "$@"
}

@test "tw-mountdev --help prints usage on stdout" {
	run -0 --separate-stderr tw-mountdev --help
	assert_line --index 0 'Usage: tw-mountdev [--target DIR] [--force] [PROG [ARGS…]]'
	assert_output --partial 'ptmxmode=0666'
	[ -z "$stderr" ]
	run -0 --separate-stderr tw-mountsys --help
	assert_line --index 0 'Usage: tw-mountsys [--target DIR] [--force] [PROG [ARGS…]]'
}

@test "/dev holds runc's nodes as character devices, mode 666" {
	run -0 dev sh -c 'for n in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$n; done'
	assert_output "$(printf '%s\n' '/dev/null character special file 1:3 666' \
		'/dev/zero character special file 1:5 666' '/dev/full character special file 1:7 666' \
		'/dev/random character special file 1:8 666' '/dev/urandom character special file 1:9 666' \
		'/dev/tty character special file 5:0 666')"
}

@test "writing to /dev/null leaves no file in the rootfs" {
	run -0 dev sh -c 'echo hello >/dev/null && head -c 4 /dev/zero | od -An -tx1 && { echo x >/dev/full || echo refused; }'
	refute_output --partial hello
	assert_output --partial '00 00 00 00'
	assert_output --partial 'No space left on device'
	assert_line refused
	run -0 ls -A "$ROOT/dev"
	assert_output ''
}

@test "/dev is a tmpfs with the links, shm, mqueue and a private devpts" {
	run -0 dev sh -c 'for l in ptmx fd stdin stdout stderr; do echo "$l -> $(readlink /dev/$l)"; done
		stat -c "%n %a" /dev /dev/shm
		awk "\$5 ~ \"^/dev\" { print \$5, \$6, \$9, \$10 }" /proc/self/mountinfo'
	assert_output "$(printf '%s\n' 'ptmx -> pts/ptmx' 'fd -> /proc/self/fd' 'stdin -> /proc/self/fd/0' \
		'stdout -> /proc/self/fd/1' 'stderr -> /proc/self/fd/2' '/dev 755' '/dev/shm 1777' \
		'/dev rw,nosuid tmpfs rw,size=65536k,mode=755' \
		'/dev/pts rw,nosuid,noexec,relatime devpts rw,gid=5,mode=620,ptmxmode=666' \
		'/dev/shm rw,nosuid,nodev,noexec,relatime tmpfs rw,size=65536k' \
		'/dev/mqueue rw,nosuid,nodev,noexec,relatime mqueue rw')"
}

@test "a pty can be opened: /dev/ptmx makes /dev/pts/0 in the container's own devpts" {
	run -0 dev sh -c 'exec 3</dev/ptmx && ls /dev/pts && stat -c %t:%T /dev/pts/0'
	assert_output "$(printf '0\nptmx\n88:0')"
}

@test "where mknod is not permitted the host's nodes are bound (--target before tw-pivot)" {
	requires setpriv
	run -0 setpriv --bounding-set -mknod tw-unshare -muinpf tw-mountdev --target "$ROOT/dev" \
		tw-pivot "$ROOT" tw-mountproc sh -c 'mknod /tmp/n c 1 3 || echo no-mknod
			awk "\$5 == \"/dev/null\" || \$5 == \"/dev/tty\" { print \$5, \$4 }" /proc/self/mountinfo
			echo x >/dev/null && stat -c "%F %t:%T" /dev/null'
	assert_output "$(printf '%s\n' 'mknod: /tmp/n: Operation not permitted' no-mknod \
		'/dev/null /null' '/dev/tty /tty' 'character special file 1:3')"
	run -0 ls -A "$ROOT/dev"
	assert_output ''
}

@test "tw-mountdev refuses to act in the host's mount namespace" {
	run -1 tw-mountdev true
	assert_output --partial "tw-mountdev: refusing to change mounts in the host's mount namespace"
	[ "${#lines[@]}" -eq 1 ]
	run -1 tw-mountsys true
	assert_output --partial "tw-mountsys: refusing to change mounts in the host's mount namespace"
}

@test "tw-mountsys mounts sysfs read-only, with the container's own network devices" {
	run -0 tw-unshare -muinpf tw-pivot "$ROOT" tw-mountproc tw-mountsys sh -c \
		'awk "\$5 == \"/sys\" { print \$6, \$9 }" /proc/self/mountinfo; ls /sys/class/net; echo x >/sys/kernel/uevent_helper || true'
	assert_output "$(printf '%s\n' 'ro,nosuid,nodev,noexec,relatime sysfs' lo \
		"sh: can't create /sys/kernel/uevent_helper: Read-only file system")"
}

@test "bad usage: an unknown flag is exit 2 with a hint" {
	run -2 tw-mountdev --bogus
	assert_output "$(printf '%s\n' 'tw-mountdev: unknown flag: --bogus' "Try 'tw-mountdev --help' for more information.")"
	run -1 dev --target /nonexistent true
	assert_output 'tw-mountdev: mount tmpfs /nonexistent: no such file or directory'
	run -1 tw-unshare -muinpf tw-pivot "$ROOT" tw-mountproc tw-mountsys --target /nonexistent true
	assert_output 'tw-mountsys: mount sysfs /nonexistent: no such file or directory'
	run -0 ls -A "$ROOT/dev"
	assert_output ''
}
