#!/usr/bin/env bats
# tw-runc under Debian's containerd 1.6 and its runc shim: ctr run, run -d
# with task ps/exec/pause/kill/rm, a terminal, and errors as ctr shows them.
# containerd runs on a private socket with its root on a loop btrfs (the
# btrfs snapshotter), the CRI plugin off; it is stopped by PID after.
load helpers
load helpers_runc

setup_file() {
	requires root btrfs jq containerd ctr script
	setup_btrfs 1G
	export LAYOUT=$BATS_FILE_TMPDIR/layout
	make_image "$LAYOUT"
	start_containerd "$BTRFS/containerd"
	tw-pull "oci:$LAYOUT:bb" "oci-archive:$BATS_FILE_TMPDIR/bb.tar:localhost/bb:latest" >/dev/null 2>&1
	ctr -a "$CTRD_SOCK" images import --snapshotter btrfs "$BATS_FILE_TMPDIR/bb.tar" >/dev/null
	export IMAGE=localhost/bb:latest
	export RUNC_ROOT=$BATS_FILE_TMPDIR/runc-root
}

teardown_file() {
	stop_containerd
	teardown_btrfs
}

setup() {
	requires root btrfs jq containerd ctr script
}

teardown() {
	local t
	for t in $(ctr -a "$CTRD_SOCK" tasks ls -q 2>/dev/null); do
		ctr -a "$CTRD_SOCK" tasks kill -s KILL "$t" 2>/dev/null || true
		timeout 10 ctr -a "$CTRD_SOCK" tasks rm -f "$t" 2>/dev/null || true
	done
	for t in $(ctr -a "$CTRD_SOCK" containers ls -q 2>/dev/null); do
		ctr -a "$CTRD_SOCK" containers rm "$t" 2>/dev/null || true
	done
}

# c ARGS…: ctr on our containerd, with tw-runc as the shim's runtime.
c() {
	timeout -k 5 30 ctr -a "$CTRD_SOCK" "$@"
}

run_opts() {
	echo --snapshotter btrfs --fifo-dir "$BATS_FILE_TMPDIR/fifo" --runc-binary "$(command -v tw-runc)" --runc-root "$RUNC_ROOT"
}

# gone ID: containerd, tw-runc and the kernel hold nothing of ID.
gone() {
	[ -z "$(c tasks ls -q | grep -x "$1")" ]
	[ ! -e "$RUNC_ROOT/default/$1" ]
	[ ! -e "/sys/fs/cgroup/memory/default/$1" ] && [ ! -e "/sys/fs/cgroup/pids/default/$1" ]
	! grep -q "/$1/rootfs " /proc/self/mountinfo
}

@test "ctr run --rm: the output and the exit status of the program" {
	# shellcheck disable=SC2046
	run -7 c run --rm $(run_opts) "$IMAGE" hi sh -c 'echo hi; exit 7'
	assert_output 'hi'
	gone hi
	# shellcheck disable=SC2046
	run -3 c run --rm --null-io $(run_opts) "$IMAGE" quiet sh -c 'echo not seen; exit 3'
	assert_output ''
	gone quiet
}

@test "ctr run: the container is what config.json says (namespaces, cgroup, capabilities)" {
	# shellcheck disable=SC2046
	run -0 c run --rm $(run_opts) "$IMAGE" cfg sh -c '
		echo pid=$$; grep memory /proc/self/cgroup
		grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status; ls -l /proc/keys | cut -c1'
	assert_line 'pid=1'
	assert_line --regexp '^[0-9]+:memory:/default/cfg$'
	assert_line --regexp '^CapEff:	00000000a80425fb$'
	assert_line --regexp '^NoNewPrivs:	1$'
	assert_line 'c'
	gone cfg
}

@test "ctr run --seccomp: containerd's default profile, compiled by tw-runc, as runc applies it" {
	script='grep -E "^Seccomp:" /proc/self/status; mkdir /tmp/x && echo mkdir-ok; unshare -U true 2>&1; echo $?'
	# shellcheck disable=SC2046
	run -0 c run --rm --seccomp $(run_opts) "$IMAGE" sc sh -c "$script"
	assert_line 'Seccomp:	2'
	assert_line 'mkdir-ok'
	assert_line 'unshare: unshare(0x10000000): Operation not permitted'
	tw=$output
	run -0 c run --rm --seccomp --snapshotter btrfs --fifo-dir "$BATS_FILE_TMPDIR/fifo" --runc-root "$BATS_FILE_TMPDIR/runc" \
		"$IMAGE" sc-runc sh -c "$script"
	assert_equal "$tw" "$output"
	gone sc
}

@test "ctr run -d, then task ps, exec, pause, resume, kill, rm" {
	# shellcheck disable=SC2046
	run -0 c run -d $(run_opts) --memory-limit 67108864 "$IMAGE" bg sleep 1000
	assert_equal "$(cat /sys/fs/cgroup/memory/default/bg/memory.limit_in_bytes)" 67108864
	run -0 c task ls
	assert_line --regexp '^bg +[0-9]+ +RUNNING$'
	pid=$(c task ls | awk '$1 == "bg" { print $2 }')
	run -0 c task ps bg
	assert_line --regexp "^$pid +-$"
	run -3 c task exec --fifo-dir "$BATS_FILE_TMPDIR/fifo" --exec-id e1 bg sh -c 'echo in $(hostname); exit 3'
	assert_output --partial 'in '
	run -0 c task pause bg
	run -0 c task ls
	assert_line --regexp '^bg +[0-9]+ +PAUSED$'
	run -0 c task resume bg
	run -0 c task ls
	assert_line --regexp '^bg +[0-9]+ +RUNNING$'
	run -6 script -qec "timeout --foreground -k 5 30 ctr -a $CTRD_SOCK task exec -t --fifo-dir $BATS_FILE_TMPDIR/fifo --exec-id e2 bg sh -c 'tty; exit 6'" /dev/null
	assert_output --partial '/dev/pts/'
	run -0 c task metrics bg
	assert_line --regexp '^pids.current +1 *$'
	run -0 c task kill -s KILL bg
	for _ in $(seq 50); do c task ls | grep -q '^bg .*STOPPED' && break; sleep 0.1; done
	run -0 c task ls
	assert_line --regexp '^bg +[0-9]+ +STOPPED$'
	run -0 c task rm bg
	run -0 c container rm bg
	gone bg
}

@test "ctr run -t: the program gets a terminal through the console socket" {
	run -5 script -qec "timeout --foreground -k 5 30 ctr -a $CTRD_SOCK run --rm -t $(run_opts) $IMAGE tty1 sh -c 'tty; echo done; exit 5'" /dev/null
	assert_output --partial '/dev/pts/0'
	assert_output --partial 'done'
	gone tty1
}

@test "ctr run of a missing program: tw-runc's error, as ctr shows it" {
	# shellcheck disable=SC2046
	run -1 c run --rm $(run_opts) "$IMAGE" nope nosuch-program
	assert_output --partial 'exec nosuch-program: command not found'
	c containers rm nope 2>/dev/null || true
	gone nope
}
