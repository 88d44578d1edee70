#!/usr/bin/env bats
# tw-net in a user namespace: loopback only (--lo), as bubblewrap's
# --unshare-net gives it; a bridge and veths need root in the host's
# namespaces. Every case runs as a throwaway user (helpers_rootless).
load helpers
load helpers_rootless

setup_file() {
	rootless_setup_file
	requires ip nsenter bwrap
}

teardown_file() {
	rootless_teardown_file
}

setup() {
	LINKS_BEFORE=$(ip -o link show | cut -d: -f2)
	STATE_BEFORE=$(ls -R /run/tupperware/net 2>/dev/null || true)
	BG="" CPID=""
}

# The container of a test ends with it: its program (CPID), then what
# started it (BG); the user has no process left, so that userdel works.
teardown() {
	[ -z "$CPID" ] || kill "$CPID" 2>/dev/null || true
	if [ -n "$BG" ]; then
		kill "$BG" 2>/dev/null || true
		wait "$BG" 2>/dev/null || true
	fi
	for _ in $(seq 50); do
		pgrep -u "$RUSER" >/dev/null || break
		sleep 0.1
	done
}

# host_net_unchanged: no link made or lost on the host, nothing recorded.
host_net_unchanged() {
	assert_equal "$(ip -o link show | cut -d: -f2)" "$LINKS_BEFORE"
	assert_equal "$(ls -R /run/tupperware/net 2>/dev/null || true)" "$STATE_BEFORE"
}

# lo_state: lo's flags and addresses, as ip shows them.
lo_state='ip -o link show lo | cut -d" " -f2-3; ip -o addr show lo | awk "{ print \$2, \$3, \$4 }"'

@test "tw-net --lo as a user: lo up in a new network namespace of the user namespace, as bwrap --unshare-net" {
	run -0 as_user bwrap --unshare-net --dev-bind / / sh -c "$lo_state"
	local want=$output
	assert_line 'lo: <LOOPBACK,UP,LOWER_UP>'
	run -0 as_user tw-unshare -r tw-net --lo sh -c "$lo_state"
	assert_equal "$output" "$want"
	# its own network namespace, not the host's and not tw-unshare's
	run -0 as_user tw-unshare -r -n sh -c 'readlink /proc/self/ns/net; tw-net --lo readlink /proc/self/ns/net'
	assert_equal "${#lines[@]}" 2
	refute_line "$(readlink /proc/self/ns/net)"
	[ "${lines[0]}" != "${lines[1]}" ]
	# in the chain: before tw-pivot, in the process
	run -0 as_user tw-unshare -r -muipf --hostname c1 tw-net --lo sh -c 'ip -o link show lo; hostname; echo $$'
	assert_line --index 0 --regexp '^1: lo: <LOOPBACK,UP,LOWER_UP>'
	assert_line --index 1 c1
	assert_line --index 2 1
	host_net_unchanged
}

@test "tw-net --lo --pid brings up lo of a running container of the user's, joining its user namespace" {
	as_user tw-unshare -r -n sleep 30 &
	BG=$!
	local pid=""
	for _ in $(seq 50); do
		pid=$(pgrep -u "$RUSER" -x sleep | head -1)
		[ -z "$pid" ] || break
		sleep 0.1
	done
	[ -n "$pid" ] || fail "no container"
	CPID=$pid
	run -0 nsenter -t "$pid" -n ip -o link show lo
	assert_output --regexp '^1: lo: <LOOPBACK> '
	# from the host's user namespace: a child of tw-net joins the container's
	run -0 --separate-stderr as_user tw-net --lo --pid "$pid"
	assert_output ""
	[ -z "$stderr" ]
	run -0 nsenter -t "$pid" -n ip -o link show lo
	assert_output --regexp '^1: lo: <LOOPBACK,UP,LOWER_UP> '
	# from inside it, as nsenter puts tw-net there
	nsenter -t "$pid" -n ip link set lo down
	run -0 --separate-stderr as_user nsenter --user --preserve-credentials -t "$pid" tw-net --lo --pid "$pid"
	assert_output ""
	[ -z "$stderr" ]
	run -0 nsenter -t "$pid" -n ip -o link show lo
	assert_output --regexp '^1: lo: <LOOPBACK,UP,LOWER_UP> '
	# another user's container is not the user's to join
	nsenter -t "$pid" -n ip link set lo down
	run -1 --separate-stderr as_user_nosub tw-net --lo --pid "$pid"
	assert_equal "$stderr" "tw-net: open /proc/$pid/ns/net: permission denied"
	run -0 nsenter -t "$pid" -n ip -o link show lo
	assert_output --regexp '^1: lo: <LOOPBACK> '
	# the guard: not the network namespace tw-net runs in, nor the host's
	run -1 --separate-stderr as_user nsenter --user --net --preserve-credentials -t "$pid" tw-net --lo --pid "$pid"
	assert_equal "$stderr" "tw-net: pid $pid: runs in this network namespace (start it with tw-unshare --net)"
	run -1 --separate-stderr as_user nsenter --user --preserve-credentials -t "$pid" tw-net --lo --pid 1
	assert_equal "$stderr" "tw-net: open /proc/1/ns/net: permission denied"
	run -1 --separate-stderr as_user tw-unshare -r -n sh -c 'exec tw-net --lo --pid $$'
	[[ "$stderr" =~ ^tw-net:\ pid\ [0-9]+:\ runs\ in\ this\ network\ namespace\ \(start\ it\ with\ tw-unshare\ --net\)$ ]] || fail "$stderr"
	host_net_unchanged
}

@test "tw-net as a user: without a user namespace, and a bridge, a clear error; --lo takes no bridge options" {
	run -1 --separate-stderr as_user tw-net --lo true
	assert_output ""
	assert_equal "$stderr" "tw-net: new network namespace: operation not permitted (not root: run tw-net --lo in a user namespace: tw-unshare -r tw-net --lo PROG)"
	for form in "" "tw-unshare -r"; do
		# shellcheck disable=SC2086 # form is a command and its options
		run -1 --separate-stderr as_user $form tw-net -b twu$$ true
		assert_output ""
		[[ "$stderr" =~ ^tw-net:\ .*(permission\ denied|operation\ not\ permitted)\ \(not\ root:\ a\ bridge\ and\ veths\ need\ root\ in\ the\ host\'s\ namespaces\;\ --lo\ gives\ loopback\ only\)$ ]] || fail "$stderr"
	done
	for opt in "-b tw1" "-a 10.0.0.2" "--subnet 10.0.0.0/24" "--nat" "--up" "--down" "--resolv /tmp"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr as_user tw-net --lo $opt true
		assert_output ""
		[[ "$stderr" == "tw-net: --lo takes only --pid or PROG, not --"* ]] || fail "$stderr"
	done
	host_net_unchanged
}

@test "tw-net --lo as root: lo up in a new network namespace, nothing recorded" {
	run -0 tw-net --lo sh -c "readlink /proc/self/ns/net; $lo_state"
	refute_line --index 0 "$(readlink /proc/self/ns/net)"
	assert_line 'lo: <LOOPBACK,UP,LOWER_UP>'
	assert_line 'lo inet 127.0.0.1/8'
	assert_line 'lo inet6 ::1/128'
	host_net_unchanged
}
