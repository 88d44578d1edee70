#!/usr/bin/env bats
# tw-mountproc: a fresh proc for a new pid namespace, then the next program.
load helpers
load helpers_ns
ns_hooks

@test "tw-mountproc --help prints usage on stdout" {
	run -0 --separate-stderr tw-mountproc --help
	assert_line --index 0 'Usage: tw-mountproc [--target DIR] [--host-pids] [--force] [PROG [ARGS…]]'
	[ -z "$stderr" ]
}

@test "a fresh proc, nosuid,nodev,noexec, at /proc, listing only the new pid namespace" {
	run -0 tw-unshare -mpf tw-mountproc awk '$5 == "/proc"' /proc/self/mountinfo
	assert_line --index "$((${#lines[@]} - 1))" --regexp ' / /proc rw,nosuid,nodev,noexec,relatime( .*)? - proc proc rw$'
	# ls is PID 1, and alone
	run -0 tw-unshare -mpf tw-mountproc ls /proc
	assert_equal "$(grep '^[0-9]' <<<"$output")" 1
}

@test "--target DIR mounts it there; gone with the container" {
	run -0 tw-unshare -mpf tw-mountproc --target "$ROOT/proc" cat "$ROOT/proc/self/stat"
	[[ "$output" == "1 (cat) "* ]]
	run -1 grep -F " $ROOT/proc " /proc/self/mountinfo
	[ -z "$(ls -A "$ROOT/proc")" ]
}

@test "a missing --target DIR: exit 1" {
	run -1 tw-unshare -mpf tw-mountproc --target "$ROOT/nosuch" true
	assert_output "tw-mountproc: mount proc $ROOT/nosuch: no such file or directory"
}

@test "without a new pid namespace tw-mountproc refuses (exit 1), unless --host-pids" {
	run -1 tw-unshare -m tw-mountproc true
	assert_output "tw-mountproc: not in a new pid namespace: a fresh proc would list the host's processes (run under tw-unshare --pid --fork, or pass --host-pids)"
	run -1 tw-unshare -mf tw-mountproc --target "$ROOT/proc" true
	assert_output --partial 'tw-mountproc: not in a new pid namespace'
	[ -z "$(ls -A "$ROOT/proc")" ]
	run -0 tw-unshare -m tw-mountproc --host-pids sh -c 'test -d /proc/$PPID'
}

@test "after tw-pivot, with no /proc yet, tw-mountproc still knows its namespaces" {
	# The new root has no tw binary: a tw-* applet runs only in-process.
	run -127 tw-unshare -mpf tw-pivot "$ROOT" sh -c 'ls /proc | wc -l; exec tw-mountproc true'
	assert_line --index 0 0
	assert_line --index 1 --partial 'tw-mountproc: not found'
	run -1 tw-unshare -m tw-pivot "$ROOT" tw-mountproc true
	assert_output --partial 'tw-mountproc: not in a new pid namespace'
	run -0 tw-unshare -mpf tw-pivot "$ROOT" tw-mountproc cat /proc/self/stat
	[[ "$output" == "1 (cat) "* ]]
}

@test "nothing propagates out, even when the mounts are shared" {
	# The outer throwaway namespace has shared mounts that are peers of the
	# container's (--propagation unchanged): the proc must not show there.
	run -0 unshare -m --propagation shared sh -c '
		tw-unshare -mpf --propagation unchanged tw-mountproc --target "$1/proc" true || exit
		grep -c " $1/proc " /proc/self/mountinfo; :' sh "$ROOT"
	assert_output 0
}

@test "an unknown flag: exit 2" {
	run -2 unshare -m -f --propagation private tw-mountproc --bogus
	assert_output "$(printf "tw-mountproc: unknown flag: --bogus\nTry 'tw-mountproc --help' for more information.")"
}

# As for tw-pivot: the host's conditions, in a throwaway namespace.
@test "tw-mountproc refuses a mount namespace it cannot show to be another one than the host's" {
	run -1 unshare -m -f --propagation private tw-mountproc --host-pids true
	assert_output --regexp "^tw-mountproc: refusing to change mounts in the host's mount namespace: cannot show that mnt:\[[0-9]+\] is another one \(run under tw-unshare --mount, or pass --force\)$"
	run -1 unshare -m -f --propagation private tw-unshare -pf tw-mountproc true
	assert_output --regexp "^tw-mountproc: refusing to change mounts in the host's mount namespace: mnt:\[[0-9]+\] is the one tw-unshare was started in \(add --mount\)$"
	run -0 unshare -m --propagation private tw-mountproc --host-pids true
	run -0 unshare -m -f --propagation private tw-mountproc --force --host-pids true
}
