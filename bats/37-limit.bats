#!/usr/bin/env bats
# tw-limit: memory, pids and CPU limits through a cgroup that goes away
# with the container.
load helpers
load helpers_harden
harden_hooks

setup_file() {
	harden_setup_file
	MEMCG=$(cgroup_dir memory)
	PIDSCG=$(cgroup_dir pids)
	CPUCG=$(cgroup_dir cpu)
	export MEMCG PIDSCG CPUCG
}

@test "tw-limit --help documents the limits and where it goes in the chain" {
	run -0 --separate-stderr tw-limit --help
	assert_line --index 0 --partial 'Usage: tw-limit [--memory SIZE] [--pids N]'
	assert_output --partial 'tw-limit --memory 32M --pids 20 tw-unshare -muinpf tw-pivot ROOT'
	[ -z "$stderr" ]
}

@test "the limits are written to the cgroup (v1 here), which the program runs in" {
	name=tw-limit-test-$BATS_TEST_NUMBER
	run -0 tw-limit --memory 32M --pids 20 --cpus 0.5 --cpu-weight 100 --name "$name" sh -c \
		"cat $MEMCG/$name/memory.limit_in_bytes $PIDSCG/$name/pids.max $CPUCG/$name/cpu.cfs_quota_us \
			$CPUCG/$name/cpu.cfs_period_us $CPUCG/$name/cpu.shares; grep -E '(pids|memory|cpu):' /proc/self/cgroup"
	mem=${MEMCG#/sys/fs/cgroup/memory}
	assert_output "$(printf '%s\n' 33554432 20 50000 100000 2597 "8:pids:${PIDSCG#/sys/fs/cgroup/pids}/$name" \
		"4:memory:$mem/$name" "1:cpu:${CPUCG#/sys/fs/cgroup/cpu}/$name")"
	[ ! -e "$MEMCG/$name" ] && [ ! -e "$PIDSCG/$name" ] && [ ! -e "$CPUCG/$name" ]
}

@test "a process that allocates past --memory 32M is killed: the container exits 137" {
	LIMIT='--memory 32M' run -137 container dd if=/dev/zero of=/dev/null bs=64M count=1
	# Below the limit it works.
	LIMIT='--memory 32M' run -0 container dd if=/dev/zero of=/dev/null bs=8M count=1
}

@test "a loop that forks past --pids 20 hits EAGAIN; the host is unaffected" {
	LIMIT='--pids 20' run -0 container sh -c 'for i in $(seq 40); do sleep 1 & done 2>&1 | head -1; wait'
	assert_output "sh: can't fork: Resource temporarily unavailable"
	run -0 sh -c 'for i in $(seq 40); do sleep 0.1 & done; wait; echo host-ok'
	assert_output host-ok
}

@test "the cgroup is gone after the container ends: normally, killed, or with processes left" {
	LIMIT='--pids 50' run -0 container true
	LIMIT='--pids 50' run -7 container sh -c 'exit 7'
	# PID 1 cannot kill itself: a child of it is killed.
	LIMIT='--pids 50' run -137 container sh -c 'sh -c "kill -KILL \$\$"; exit $?'
	# Without a pid namespace a daemon would outlive the program: it is killed.
	run -0 tw-limit --pids 50 sh -c 'sleep 300 & echo $!'
	! kill -0 "$output" 2>/dev/null
	# harden_check_host (teardown) checks that no cgroup is left.
}

@test "a crash of the program leaves nothing behind: killed from the host with SIGKILL" {
	name=tw-limit-test-$BATS_TEST_NUMBER
	rm -f "$ROOT/ready"
	LIMIT="--memory 64M --name $name" container sh -c 'touch /ready; exec sleep 60' 3>&- &
	pid=$!
	for _ in $(seq 50); do [ -e "$ROOT/ready" ] && break; sleep 0.1; done
	[ -d "$MEMCG/$name" ]
	victim=$(cat "$MEMCG/$name/cgroup.procs")
	kill -KILL "$victim"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 137 ]
	[ ! -e "$MEMCG/$name" ]
	rm -f "$ROOT/ready"
}

@test "SIGTERM to the container reaches the program, tw-limit first or after tw-unshare" {
	local cmd ready
	for cmd in "tw-limit --pids 50 tw-unshare -muinpf tw-pivot $ROOT tw-mountproc tw-mountsys tw-mountdev tw-harden" \
		"tw-unshare -muinpf tw-limit --pids 50" "tw-limit --pids 50"; do
		ready=$ROOT/ready
		[[ "$cmd" == *tw-pivot* ]] || ready=$BATS_TEST_TMPDIR/ready
		rm -f "$ROOT/ready" "$BATS_TEST_TMPDIR/ready"
		# shellcheck disable=SC2086
		$cmd sh -c 'trap "exit 42" TERM; touch "$0"; while :; do sleep 0.05; done' "${ready#"$ROOT"}" 3>&- &
		pid=$!
		for _ in $(seq 50); do [ -e "$ready" ] && break; sleep 0.1; done
		kill -TERM "$pid"
		status=0
		wait "$pid" || status=$?
		[ "$status" -eq 42 ]
	done
	rm -f "$ROOT/ready"
}

@test "first in the chain, tw-limit puts the container alone in the cgroup, its program PID 1" {
	name=tw-limit-test-$BATS_TEST_NUMBER
	rm -f "$ROOT/ready"
	tw-limit --pids 20 --name "$name" tw-unshare -muinpf tw-pivot "$ROOT" tw-mountproc \
		sh -c 'echo $$ >/ready; exec sleep 60' 3>&- &
	pid=$!
	for _ in $(seq 50); do [ -s "$ROOT/ready" ] && break; sleep 0.1; done
	assert_equal "$(cat "$ROOT/ready")" 1
	assert_equal "$(cat "$PIDSCG/$name/pids.current")" 1
	procs=$(cat "$PIDSCG/$name/cgroup.procs")
	assert_equal "$(cat "/proc/$procs/comm")" sleep
	kill -KILL "$procs" # PID 1 of the container ignores SIGTERM
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 137 ]
	[ ! -e "$PIDSCG/$name" ]
	rm -f "$ROOT/ready"
	# After tw-unshare, tw-limit is PID 1 and the program a child of it;
	# the guards of tw-pivot or tw-mountproc refuse to go on from there.
	run -0 tw-unshare -muinpf --mount-proc tw-limit --pids 20 sh -c 'echo $$; cat /proc/1/comm'
	refute_line --index 0 1
	assert_line --index 1 exe
	run -1 tw-unshare -muinpf tw-limit --pids 20 tw-pivot "$ROOT" tw-mountproc touch /ran
	[ "${#lines[@]}" -eq 1 ]
	[ ! -e "$ROOT/ran" ]
}

@test "one start: PROG, forked by tw-limit itself, is in the cgroup and tw-limit is not; the limit holds" {
	name=tw-limit-test-$BATS_TEST_NUMBER
	out=$BATS_TEST_TMPDIR/out
	# A plain PROG: tw-limit's own child (its parent's pid is tw-limit's).
	tw-limit --pids 20 --name "$name" sh -c 'echo $PPID; grep pids: /proc/self/cgroup /proc/$PPID/cgroup | cut -d: -f4;
		cat "$0/pids.max"; while read -r p; do printf "%s " "$p"; done <"$0/cgroup.procs"; echo; echo "$$ "' \
		"$PIDSCG/$name" >"$out" &
	pid=$!
	wait "$pid"
	mapfile -t l <"$out"
	rel=${PIDSCG#/sys/fs/cgroup/pids}
	assert_equal "${l[0]}" "$pid"
	assert_equal "${l[1]}" "$rel/$name"
	assert_equal "${l[2]}" "${rel:-/}"
	assert_equal "${l[3]}" 20
	assert_equal "${l[4]}" "${l[5]}" # PROG alone in the cgroup
	[ ! -e "$PIDSCG/$name" ]
	# The container of the hardened chain: tw-unshare's child, in tw-limit's process.
	rm -f "$ROOT/ready"
	tw-limit --pids 20 --memory 64M --name "$name" tw-unshare -muinpf tw-pivot "$ROOT" tw-mountproc tw-mountsys \
		tw-mountdev tw-harden sh -c 'grep -E "pids|memory" /proc/self/cgroup >/ready.new; mv /ready.new /ready; exec sleep 60' 3>&- &
	pid=$!
	for _ in $(seq 50); do [ -s "$ROOT/ready" ] && break; sleep 0.1; done
	procs=$(cat "$PIDSCG/$name/cgroup.procs")
	assert_equal "$(cat "$MEMCG/$name/cgroup.procs")" "$procs"
	assert_equal "$(cat "/proc/$procs/comm")" sleep
	assert_equal "$(awk '{ print $4 }' "/proc/$procs/stat")" "$pid" # no tw started in between
	run -0 grep -E 'pids|memory' "/proc/$pid/cgroup"
	refute_output --partial "$name"
	run -0 cat "$ROOT/ready"
	assert_line --regexp "^[0-9]+:pids:.*/$name\$"
	assert_line --regexp "^[0-9]+:memory:.*/$name\$"
	assert_equal "$(cat "$PIDSCG/$name/pids.current")" 1
	kill -KILL "$procs"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 137 ]
	[ ! -e "$PIDSCG/$name" ] && [ ! -e "$MEMCG/$name" ]
	rm -f "$ROOT/ready"
	# The limit holds for a plain PROG too, and counts PROG's processes only.
	# (busybox sh: the subshell, two sleeps, then the fork that fails; read is a builtin.)
	run -0 tw-limit --pids 3 /bin/busybox sh -c '(for i in 1 2 3 4; do sleep 1 & done) 2>"$1"; read -r l <"$1"; echo "$l"' \
		sh "$BATS_TEST_TMPDIR/err"
	assert_output --partial "can't fork: Resource temporarily unavailable"
	run -0 tw-limit --pids 3 /bin/busybox sh -c 'sleep 0.1 & sleep 0.1 & wait; echo two-ok'
	assert_output two-ok
}

@test "a plain PROG: its exit status, 128+N for a signal, not found 127, not executable 126" {
	run -7 tw-limit --pids 50 sh -c 'exit 7'
	run -137 tw-limit --pids 50 sh -c 'kill -KILL $$'
	# (SIGTERM forwarded to a plain PROG: the signals test above.)
	run -127 tw-limit --pids 50 nosuch-program
	assert_output 'tw-limit: exec nosuch-program: command not found'
	run -126 tw-limit --pids 50 /etc/passwd
	assert_output 'tw-limit: exec /etc/passwd: permission denied'
}

@test "where no fork of tw-limit's process ends the chain, PROG still starts in the cgroup" {
	name=tw-limit-test-$BATS_TEST_NUMBER
	# tw-unshare's child mode (--mount-proc): tw-limit is in the cgroup until the container is.
	run -0 tw-limit --pids 20 --name "$name" tw-unshare -muinpf --mount-proc sh -c 'grep pids: /proc/self/cgroup'
	assert_output --regexp "^[0-9]+:pids:.*/$name\$"
	# A new cgroup namespace is rooted at the cgroup (the thread is in it when it is made).
	run -0 tw-limit --pids 20 --name "$name" tw-unshare -C sh -c 'grep pids: /proc/self/cgroup'
	assert_output --regexp '^[0-9]+:pids:/$'
	# Another tw applet first: tw starts again, in the cgroup.
	run -0 tw-limit --pids 20 --name "$name" tw-unshare -m tw-limit --pids 10 --name "$name-2" sh -c 'grep pids: /proc/self/cgroup'
	assert_output --regexp "^[0-9]+:pids:.*/$name/$name-2\$"
	[ ! -e "$PIDSCG/$name" ]
}

@test "the program inherits no descriptor of tw-limit's cgroups, in either position" {
	LIMIT='--pids 50' run -0 container ls /proc/self/fd
	assert_output "$(printf '0\n1\n2\n3')" # 3: ls's own directory
	run -0 tw-unshare -muinpf --mount-proc tw-limit --pids 50 ls /proc/self/fd
	assert_output "$(printf '0\n1\n2\n3')"
}

@test "bad limits are one line, exit 2, and no cgroup is made" {
	run -2 tw-limit --cpus 0.001 true
	assert_output "$(printf '%s\n' "tw-limit: --cpus 0.001: below the kernel's minimum of 0.01 CPU (a quota of 1ms per 100ms)" \
		"Try 'tw-limit --help' for more information.")"
	run -2 tw-limit --memory 12Q true
	assert_line --index 0 'tw-limit: --memory not a positive size: "12Q"'
	run -2 tw-limit --memory 0 true
	assert_line --index 0 'tw-limit: --memory not a positive size: "0"'
	run -2 tw-limit --pids -1 true
	assert_line --index 0 'tw-limit: --pids -1: not a positive number'
	run -2 tw-limit --cpu-weight 10001 true
	assert_line --index 0 'tw-limit: --cpu-weight 10001: out of range 1…10000'
	run -2 tw-limit true
	assert_line --index 0 'tw-limit: no limit given: --memory, --pids, --cpus or --cpu-weight'
	run -2 tw-limit --pids 5
	assert_line --index 0 'tw-limit: expected at least 1 argument(s), got 0'
	run -2 tw-limit --pids 5 --name ../x true
	assert_line --index 0 'tw-limit: --name ../x: not a single path component'
}

@test "a missing cgroup controller is one line, exit 1, and nothing is made" {
	# A private mount namespace whose /sys/fs/cgroup has the pids hierarchy only.
	run -1 unshare -m sh -c 'mount -t tmpfs none /sys/fs/cgroup && mkdir /sys/fs/cgroup/pids &&
		mount -t cgroup -o pids none /sys/fs/cgroup/pids && tw-limit --memory 32M --pids 10 touch "$0"' "$BATS_TEST_TMPDIR/ran"
	assert_output 'tw-limit: memory: controller not mounted: neither in cgroup v2 nor as a cgroup v1 hierarchy'
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
}

@test "an existing cgroup of the same --name is an error and is left alone" {
	name=tw-limit-test-$BATS_TEST_NUMBER
	mkdir "$PIDSCG/$name"
	run -1 tw-limit --pids 5 --memory 32M --name "$name" true
	rmdir "$PIDSCG/$name"
	assert_output "tw-limit: mkdir $PIDSCG/$name: file exists"
	[ ! -e "$MEMCG/$name" ]
}

@test "tw-limit killed (SIGKILL): the next run removes its empty cgroup, and a rerun with the same --name works" {
	name=tw-limit-test-$BATS_TEST_NUMBER
	tw-limit --pids 50 --name "$name" sleep 60 &
	pid=$!
	for _ in $(seq 50); do [ -s "$PIDSCG/$name/cgroup.procs" ] && break; sleep 0.1; done
	victim=$(cat "$PIDSCG/$name/cgroup.procs")
	[ -f "/run/tupperware/limit/$name" ]
	# a live tw-limit's cgroup and record are left alone by another run
	run -0 tw-limit --pids 5 true
	[ -d "$PIDSCG/$name" ] && [ -f "/run/tupperware/limit/$name" ]
	run -1 tw-limit --pids 5 --name "$name" true
	assert_output "tw-limit: cgroup $name: in use by another tw-limit"
	kill -KILL "$pid"
	wait "$pid" || true
	for _ in $(seq 50); do kill -0 "$victim" 2>/dev/null || break; sleep 0.1; done
	# what it left: its cgroup, and its record, unlocked now
	[ -d "$PIDSCG/$name" ] && [ -f "/run/tupperware/limit/$name" ]
	# a process in it (here one we put there) keeps it, and the name taken
	sleep 60 &
	sleeper=$!
	echo "$sleeper" >"$PIDSCG/$name/cgroup.procs"
	run -1 tw-limit --pids 5 --name "$name" true
	assert_output "tw-limit: cgroup $name: left by a killed tw-limit, with processes still in it"
	[ -d "$PIDSCG/$name" ]
	kill -KILL "$sleeper"
	wait "$sleeper" || true
	for _ in $(seq 50); do [ -s "$PIDSCG/$name/cgroup.procs" ] || break; sleep 0.1; done
	# now it is empty: the rerun removes it and runs
	run -0 tw-limit --pids 5 --name "$name" true
	[ ! -e "$PIDSCG/$name" ] && [ ! -e "$MEMCG/$name" ] && [ ! -e "/run/tupperware/limit/$name" ]
	# a killed run with a random name: any next run removes its cgroup
	tw-limit --pids 50 --memory 64M sleep 60 &
	pid=$!
	for _ in $(seq 50); do
		left=$(grep -lx "$(pgrep -P "$pid" sleep || echo none)" "$PIDSCG"/tw-limit-*/cgroup.procs 2>/dev/null) && break
		sleep 0.1
	done
	victim=$(cat "$left")
	kill -KILL "$pid" "$victim"
	wait "$pid" || true
	for _ in $(seq 50); do [ -s "$left" ] || break; sleep 0.1; done
	[ -d "$(dirname "$left")" ]
	run -0 tw-limit --pids 5 true
	[ ! -e "$(dirname "$left")" ] && [ ! -e "$MEMCG/$(basename "$(dirname "$left")")" ]
}
