#!/usr/bin/env bats
# tw-net on bad input: one clear line, the exit code, and nothing
# half-configured left (no bridge it made, no veth, no state entry).
load helpers
load helpers_net

setup_file() {
	net_setup_file twt51 10.201.51
}

teardown_file() {
	ip link del "${BR}d" 2>/dev/null || true
	net_teardown_file
}

teardown() {
	net_stop_all
	net_check_host
}

# net_state: what a failed tw-net must leave as it was: the bridge, the
# veths on it, the addresses of running containers.
net_state() {
	ip -o -4 addr show dev "$BR" 2>&1 | awk '{ print $2, $3, $4 }'
	veths
	local e
	for e in "$NET_STATE/$BR"/*; do
		# Only live entries: a failed tw-net may reclaim stale ones.
		[ -e "$e" ] && ! released "$(basename "$e")" 2>/dev/null && echo "$e: $(cat "$e")"
	done
	return 0
}

# fails CODE MESSAGE CMD…: CMD exits CODE with the one line MESSAGE on
# stderr (and the --help hint for a usage error), prints nothing on stdout
# and leaves net_state unchanged.
fails() {
	local code=$1 msg=$2 before
	shift 2
	before=$(net_state)
	run "-$code" --separate-stderr "$@"
	assert_output ""
	if [ "$code" -eq 2 ]; then
		assert_equal "$stderr" "$(printf '%s\n%s' "$msg" "Try 'tw-net --help' for more information.")"
	else
		assert_equal "$stderr" "$msg"
	fi
	assert_equal "$(net_state)" "$before"
}

@test "bad input before the bridge exists leaves no bridge behind" {
	fails 2 "tw-net: --addr $NET.300/24: not an IPv4 address or CIDR" \
		tw-net -b "$BR" -a "$NET.300/24" true
	fails 2 "tw-net: --subnet $NET.0/33: not an IPv4 CIDR" \
		tw-net -b "$BR" --subnet "$NET.0/33" true
	fails 2 "tw-net: --addr $NET.2/24: not in --subnet 10.201.52.0/24" \
		tw-net -b "$BR" --subnet 10.201.52.0/24 -a "$NET.2/24" true
	fails 2 "tw-net: --bridge ${BR}abcdefghijk: longer than 15 characters" \
		tw-net -b "${BR}abcdefghijk" true
	fails 2 'tw-net: --bridge eth0: must be "tw" followed by letters or digits' \
		tw-net -b eth0 true
	fails 2 "tw-net: --pid takes no PROG" \
		tw-net -b "$BR" --pid 1 true
	sleep 0 &
	local dead=$!
	wait "$dead"
	fails 1 "tw-net: pid $dead: no such process" \
		tw-net --pid "$dead" -b "$BR" --subnet "$NET.0/24"
	sleep 10 </dev/null >/dev/null 2>&1 3>&- &
	local host=$!
	echo "$host" >>"$BATS_FILE_TMPDIR/pids"
	fails 1 "tw-net: pid $host: runs in this network namespace (start it with tw-unshare --net)" \
		tw-net --pid "$host" -b "$BR" --subnet "$NET.0/24"
	# A step after the veth fails: all is undone, the new bridge too.
	fails 1 "tw-net: open $BATS_TEST_TMPDIR/nosuch: no such file or directory" \
		tw-net -b "$BR" --subnet "$NET.0/24" --resolv "$BATS_TEST_TMPDIR/nosuch" true
	fails 1 "tw-net: $BR: no such bridge" \
		tw-net --down -b "$BR"
	run -1 ip link show "$BR"
	[ ! -e "$NET_STATE/$BR" ]
}

@test "a subnet that overlaps a route of the host is refused" {
	local route
	route=$(ip -4 route show | awk '$1 ~ /\// && $3 !~ /^tw/ { print $1; exit }')
	[ -n "$route" ] || skip "the host has no IPv4 route but the default one"
	fails 1 "tw-net: subnet $route overlaps the host's route to $route" \
		tw-net -b "$BR" --subnet "$route" true
	run -1 ip link show "$BR"
}

@test "an address in use, the bridge's, or outside its subnet is refused" {
	start_container "$C1" -a "$NET.2"
	local veth
	veth=$(cut -d' ' -f1 "$NET_STATE/$BR/$NET.2")
	fails 1 "tw-net: $NET.2: address in use (pid $CPID, veth $veth)" \
		net_container "$C2" -a "$NET.2" -- true
	fails 1 "tw-net: $NET.2: address in use (pid $CPID, veth $veth)" \
		tw-net -b "$BR" -a "$NET.2" true
	fails 2 "tw-net: --addr $NET.1: address in use by the bridge" \
		net_container "$C2" -a "$NET.1" -- true
	fails 1 "tw-net: $NET.1: address in use by the bridge" \
		tw-net -b "$BR" -a "$NET.1" true
	fails 1 "tw-net: $NET.255: is the broadcast address of $NET.0/24" \
		tw-net -b "$BR" -a "$NET.255" true
	fails 1 "tw-net: 10.201.99.2: not in the bridge's subnet $NET.0/24" \
		tw-net -b "$BR" -a 10.201.99.2 true
	fails 1 "tw-net: bridge $BR: has subnet $NET.0/24, not 10.201.52.0/24" \
		tw-net -b "$BR" --subnet 10.201.52.0/24 true
	# The running container was not disturbed.
	run -0 inside "$CINIT" ping -c1 -W2 "$NET.1"
	stop_container "$C1" "$CPID"
}

@test "--pid refuses a namespace that has an eth0 already" {
	start_container "$C1" -a "$NET.2"
	fails 1 "tw-net: pid $CINIT: has an eth0 already" \
		tw-net --pid "$CINIT" -b "$BR"
	stop_container "$C1" "$CPID"
}

@test "a program that is not found: 127, and the veth and address are released" {
	fails 127 "tw-net: exec nosuchprog: command not found" \
		tw-net -b "$BR" --subnet "$NET.0/24" -a "$NET.7" nosuchprog
	no_veths
	[ ! -e "$NET_STATE/$BR/$NET.7" ]
}

@test "a link of the bridge's name that is no bridge is left alone" {
	ip link add "${BR}d" type veth peer name "${BR}e"
	fails 1 "tw-net: ${BR}d: exists and is a veth, not a bridge" \
		tw-net -b "${BR}d" --subnet 10.201.52.0/24 true
	fails 1 "tw-net: ${BR}d: exists and is a veth, not a bridge" \
		tw-net --down -b "${BR}d"
	run -0 ip -o link show "${BR}d"
	ip link del "${BR}d"
}
