#!/usr/bin/env bats
# tw-unshare: util-linux's unshare as a chainloader that forks and waits.
load helpers
load helpers_ns

setup_file() {
	requires root unshare
	ns_save_host
}

teardown() {
	ns_check_host
}

@test "tw-unshare --help prints usage on stdout" {
	run -0 --separate-stderr tw-unshare --help
	assert_line --index 0 --partial 'Usage: tw-unshare [-muinpCf]'
	assert_output --partial '--mount-proc'
	[ -z "$stderr" ]
}

@test "each flag makes its namespace, and only that one" {
	local f kind k
	for f in m:mnt u:uts i:ipc n:net p:pid C:cgroup; do
		kind=${f#*:}
		run -0 tw-unshare "-${f%%:*}" -f sh -c 'for k in mnt uts ipc net pid cgroup; do readlink /proc/self/ns/$k; done'
		for k in mnt uts ipc net pid cgroup; do
			if [ "$k" = "$kind" ]; then
				refute_line "$(readlink /proc/self/ns/"$k")"
			else
				assert_line "$(readlink /proc/self/ns/"$k")"
			fi
		done
	done
}

@test "short flags combine: -muinpf makes five namespaces, the program is PID 1" {
	run -0 tw-unshare -muinpf sh -c 'echo $$; readlink /proc/self/ns/mnt /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/net /proc/self/ns/pid'
	assert_line --index 0 1
	for k in mnt uts ipc net pid; do
		refute_line "$(readlink /proc/self/ns/$k)"
	done
}

@test "--mount-proc mounts a proc of the new pid namespace" {
	run -0 tw-unshare -pf --mount-proc readlink /proc/self
	assert_output 1
	# ls is PID 1 and alone.
	run -0 tw-unshare -pf --mount-proc ls /proc
	assert_equal "$(grep '^[0-9]' <<<"$output")" 1
}

@test "--mount-proc=DIR mounts proc at DIR, gone with the namespace" {
	dir=$BATS_TEST_TMPDIR/proc
	mkdir "$dir"
	run -0 tw-unshare -pf --mount-proc="$dir" cat "$dir/self/stat"
	[[ "$output" == "1 (cat) "* ]]
	run -1 grep -F " $dir " /proc/self/mountinfo
}

@test "--hostname names the new UTS namespace; the host keeps its name" {
	run -0 tw-unshare -u --hostname tupperware hostname
	assert_output tupperware
	assert_equal "$(hostname)" "$HOST_HOSTNAME"
}

@test "propagation is private in a new mount namespace unless told otherwise" {
	# A throwaway namespace whose mounts are shared stands in for a host
	# with shared mounts (this one has none).
	count='grep -c shared: /proc/self/mountinfo || true'
	run -0 unshare -m --propagation shared tw-unshare -m sh -c "$count"
	assert_output 0
	run -0 unshare -m --propagation shared tw-unshare -m --propagation private sh -c "$count"
	assert_output 0
	run -0 unshare -m --propagation shared tw-unshare -m --propagation unchanged sh -c "$count"
	refute_output 0
	run -0 unshare -m --propagation shared tw-unshare -m --propagation slave sh -c "$count; grep -c master: /proc/self/mountinfo"
	assert_line --index 0 0
	refute_line --index 1 0
}

@test "options after PROG belong to PROG" {
	run -0 tw-unshare -u sh -c 'echo "$@"' sh --pid -m --hostname x
	assert_output '--pid -m --hostname x'
	run -0 tw-unshare -u -- sh -c 'echo "$@"' sh -u
	assert_output '-u'
}

@test "without PROG it runs /bin/sh" {
	run -0 tw-unshare -pf <<<'echo $$'
	assert_output 1
}

@test "the exit status of PROG is passed on" {
	run -7 tw-unshare -muinpf sh -c 'exit 7'
	assert_output ''
	run -0 tw-unshare -m true
	run -1 tw-unshare -m false
}

@test "a PROG killed by signal N gives 128+N" {
	run -137 tw-unshare -m sh -c 'kill -KILL $$'
	run -143 tw-unshare -m sh -c 'kill -TERM $$'
}

@test "PID 1 killed with SIGKILL from the host gives 137" {
	tw-unshare -muinpf sh -c 'exec sleep 60' 3>&- &
	pid=$!
	kill -KILL "$(child_of "$pid")"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 137 ]
}

@test "SIGTERM, SIGINT, SIGHUP, SIGQUIT are forwarded to PROG" {
	local sig n
	for sig in TERM:15 INT:2 HUP:1 QUIT:3; do
		n=${sig#*:}
		rm -f "$BATS_TEST_TMPDIR/ready"
		tw-unshare -muinpf sh -c "trap 'exit $n' ${sig%:*}; touch '$BATS_TEST_TMPDIR/ready'; while :; do sleep 0.05; done" 3>&- &
		pid=$!
		wait_for "$BATS_TEST_TMPDIR/ready"
		kill -"${sig%:*}" "$pid"
		status=0
		wait "$pid" || status=$?
		[ "$status" -eq "$n" ]
	done
}

@test "when tw-unshare dies, PROG is killed" {
	tw-unshare -mpf sleep 60 3>&- &
	pid=$!
	child=$(child_of "$pid")
	kill -KILL "$pid"
	wait "$pid" || true
	for _ in $(seq 50); do
		kill -0 "$child" 2>/dev/null || break
		sleep 0.1
	done
	run -1 kill -0 "$child"
}

@test "PROG inherits no descriptor but 0, 1, 2 and no TW_ variable" {
	file=$BATS_TEST_TMPDIR/leak
	# ls's own directory is the only descriptor after 0, 1, 2: 3.
	run -0 tw-unshare -muinpf ls /proc/self/fd 3>"$file" 4<"$file" 9>"$file"
	assert_output "$(printf '0\n1\n2\n3')"
	run -0 tw-unshare -muinpf env 3>"$file"
	refute_output --partial TW_UNSHARE
	# the same through tw's work inside (--hostname)
	run -0 tw-unshare -muinpf --hostname box ls /proc/self/fd 3>"$file" 4<"$file" 9>"$file"
	assert_output "$(printf '0\n1\n2\n3')"
	run -0 tw-unshare -muinpf --hostname box env 3>"$file"
	refute_output --partial TW_UNSHARE
}

@test "PROG is looked up on PATH: 127 when not found, 126 when not executable" {
	run -127 tw-unshare -m nosuch-program
	assert_output 'tw-unshare: exec nosuch-program: command not found'
	run -127 tw-unshare -m /nonexistent/prog
	assert_output 'tw-unshare: exec /nonexistent/prog: no such file or directory'
	touch "$BATS_TEST_TMPDIR/noexec"
	run -126 tw-unshare -m "$BATS_TEST_TMPDIR/noexec"
	assert_output "tw-unshare: exec $BATS_TEST_TMPDIR/noexec: permission denied"
	PATH=$BATS_TEST_TMPDIR:$PATH run -126 tw-unshare -m noexec
	assert_output 'tw-unshare: exec noexec: permission denied'
	printf 'garbage\n' >"$BATS_TEST_TMPDIR/garbage"
	chmod +x "$BATS_TEST_TMPDIR/garbage"
	run -126 tw-unshare -m "$BATS_TEST_TMPDIR/garbage"
	assert_output "tw-unshare: exec $BATS_TEST_TMPDIR/garbage: exec format error"
	# the same when tw has work to do inside first (here: the hostname)
	run -127 tw-unshare -u --hostname box nosuch-program
	assert_output 'tw-unshare: exec nosuch-program: command not found'
	run -126 tw-unshare -u --hostname box "$BATS_TEST_TMPDIR/garbage"
	assert_output "tw-unshare: exec $BATS_TEST_TMPDIR/garbage: exec format error"
}

@test "bad flags are usage errors (exit 2)" {
	run -2 tw-unshare --bogus true
	assert_output "$(printf "tw-unshare: unknown flag: --bogus\nTry 'tw-unshare --help' for more information.")"
	run -2 tw-unshare -mx true
	assert_line --index 0 "tw-unshare: unknown shorthand flag: 'x' in -x"
	run -2 tw-unshare -m --propagation rprivate true
	assert_line --index 0 'tw-unshare: unsupported propagation mode: rprivate'
	run -2 tw-unshare --hostname box true
	assert_line --index 0 'tw-unshare: --hostname needs --uts: it would rename the host'
}

@test "a forged child marker does not make tw-unshare touch the mounts it runs in" {
	# Run where the host's conditions hold (the parent in the same
	# namespace, no record), but in throwaway namespaces, so that a broken
	# guard could not harm the host.
	run -1 unshare -m -f --propagation private env TW_UNSHARE_CHILD=1 tw-unshare -m true
	assert_output --regexp "^tw-unshare: refusing to change mounts in the host's mount namespace: cannot show that mnt:\[[0-9]+\] is another one"
	run -1 unshare -u -f env TW_UNSHARE_CHILD=1 tw-unshare -u --hostname box true
	assert_output "tw-unshare: refusing to set the hostname of the host's UTS namespace"
}
