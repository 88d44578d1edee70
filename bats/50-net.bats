#!/usr/bin/env bats
# tw-net: containers on a bridge of their own (walkthrough step 16). All
# traffic stays between the test's containers and its bridge twt50.
load helpers
load helpers_net

setup_file() {
	net_setup_file twt50 10.201.50
}

teardown_file() {
	net_teardown_file
}

teardown() {
	net_stop_all
	net_check_host
}

@test "tw-net --help prints usage on stdout" {
	run -0 --separate-stderr tw-net --help
	assert_line --index 0 --partial 'Usage: tw-net [-b BRIDGE]'
	assert_output --partial 'tw-unshare -muipf'
	assert_output --partial '--pid PID'
	assert_output --partial '--down'
	[ -z "$stderr" ]
}

@test "a container gets eth0 with its address, lo up and a default route via the bridge" {
	run -0 net_container "$C1" -a "$NET.2/24" -- sh -c 'readlink /proc/self/ns/net; ip -o addr show; ip -o link show lo; ip route'
	refute_line "$(readlink /proc/self/ns/net)"
	assert_line --regexp "^[0-9]+: eth0 +inet $NET\.2/24 brd $NET\.255 scope global eth0"
	assert_line --regexp '^1: lo +inet 127\.0\.0\.1/8 '
	assert_line --regexp '^1: lo: <LOOPBACK,UP,LOWER_UP>'
	assert_line "default via $NET.1 dev eth0 "
	# Nothing else: no interface but lo and eth0.
	refute_line --regexp '^[0-9]+: (eth[1-9]|tw|veth)'
	# The bridge: made once, with the subnet's first address, up.
	run -0 ip -o -4 addr show dev "$BR"
	assert_output --regexp "inet $NET\.1/24 brd $NET\.255 "
	run -0 ip -o link show "$BR"
	assert_output --regexp '<[A-Z_,-]*,UP[A-Z_,-]*>'
	# The container ended: its address is released, its veth goes with
	# its namespace.
	released "$NET.2"
	no_veths
}

@test "the namespaces tw-unshare makes after tw-net are inside tw-net's network namespace" {
	run -0 tw-net -b "$BR" --subnet "$NET.0/24" -a "$NET.2" sh -c 'readlink /proc/self/ns/net; tw-unshare -muipf sh -c "readlink /proc/self/ns/net; readlink /proc/self/ns/mnt"'
	assert_equal "${#lines[@]}" 3
	assert_equal "${lines[0]}" "${lines[1]}"
	refute_line --index 0 "$(readlink /proc/self/ns/net)"
	refute_line --index 2 "$(readlink /proc/self/ns/mnt)"
	# In-process chain: tw-net's thread is the one tw-unshare forks from.
	run -0 tw-net -b "$BR" --subnet "$NET.0/24" -a "$NET.2" tw-unshare -muipf sh -c 'ip -o link show eth0; readlink /proc/self/ns/net'
	assert_line --index 0 --regexp '^[0-9]+: eth0@if[0-9]+: <[A-Z_,-]*,UP,'
	assert_equal "${#lines[@]}" 2
	refute_line --index 1 "$(readlink /proc/self/ns/net)"
}

@test "two containers ping each other and the bridge, and talk TCP" {
	start_container "$C1" --serve -a "$NET.2"
	local p1=$CPID i1=$CINIT
	start_container "$C2" -a "$NET.3"
	local p2=$CPID i2=$CINIT
	assert_equal "$(veths | wc -l)" 2
	run -0 inside "$i1" ping -c1 -W2 "$NET.3"
	assert_output --partial '1 packets received'
	run -0 inside "$i1" ping -c1 -W2 "$NET.1"
	assert_output --partial '1 packets received'
	run -0 inside "$i2" ping -c1 -W2 "$NET.2"
	assert_output --partial '1 packets received'
	run -0 inside "$i2" ping -c1 -W2 "$NET.1"
	assert_output --partial '1 packets received'
	# busybox nc as the TCP echo server in c1, as the client in c2.
	run -0 inside "$i2" sh -c "echo hello-from-c2 | nc -w 2 $NET.2 7000"
	assert_output hello-from-c2
	# Each sees only its own eth0 and lo.
	run -0 inside "$i2" ip -o -4 addr show
	assert_equal "${#lines[@]}" 2
	assert_line --regexp "eth0 +inet $NET\.3/24 "
	stop_container "$C1" "$p1"
	stop_container "$C2" "$p2"
	released "$NET.2" "$NET.3"
	no_veths
	# The next container reclaims the stale entries.
	run -0 net_container "$C1" -- true
	run -0 find "$NET_STATE/$BR" -name "$NET.*"
	assert_output "$NET_STATE/$BR/$NET.2"
	released "$NET.2"
}

@test "addresses are allocated: the lowest free one, never one in use, a released one again" {
	start_container "$C1"
	local p1=$CPID
	run -0 cat "$NET_STATE/$BR/$NET.2"
	assert_output --regexp "^tw[0-9a-f]{8} $p1\$"
	veth=${output% *}
	assert_equal "$(veths)" "$veth"
	run -0 net_container "$C2" -- sh -c 'ip -o -4 addr show eth0'
	assert_output --regexp "eth0 +inet $NET\.3/24 "
	stop_container "$C1" "$p1"
	# Free once the kernel removed c1's veth with its namespace.
	no_veths
	run -0 net_container "$C2" -- sh -c 'ip -o -4 addr show eth0'
	assert_output --regexp "eth0 +inet $NET\.2/24 "
	# Asked for by --addr, an address is free as soon as its process ended.
	run -0 net_container "$C2" -a "$NET.2" -- true
	run -0 net_container "$C2" -a "$NET.2" -- true
}

@test "containers started at once get distinct addresses" {
	local i n pids=()
	# Each container holds its address until all six have one (C1/tmp/go,
	# at most 30 s), so that none can end and free its address early on a
	# loaded machine.
	rm -f "$C1/tmp/go"
	for i in 1 2 3 4 5 6; do
		net_argv "$C1" -- sh -c 'ip -o -4 addr show eth0; n=0; while [ ! -e /tmp/go ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n+1)); done'
		"${NET_ARGV[@]}" >"$BATS_TEST_TMPDIR/out$i" 2>&1 </dev/null 3>&- &
		pids+=("$!")
		echo "$!" >>"$BATS_FILE_TMPDIR/pids"
	done
	for n in $(seq 300); do
		[ "$(cat "$BATS_TEST_TMPDIR"/out* | grep -c inet)" -lt 6 ] || break
		sleep 0.1
	done
	touch "$C1/tmp/go"
	for i in "${pids[@]}"; do
		wait "$i"
	done
	run -0 sh -c "cat $BATS_TEST_TMPDIR/out* | awk '{ print \$4 }' | sort -u"
	assert_equal "${#lines[@]}" 6
	for i in "${lines[@]}"; do
		[[ "$i" == "$NET".*/24 ]]
	done
}

@test "the address of a container that was killed is reclaimed" {
	start_container "$C1" -a "$NET.2"
	local p1=$CPID veth
	veth=$(cut -d' ' -f1 "$NET_STATE/$BR/$NET.2")
	# SIGKILL: tw-net cannot clean up; the kernel removes the veth with
	# the network namespace, the state entry stays behind.
	kill -9 "$p1"
	wait "$p1" || true
	wait_gone "$veth"
	[ -e "$NET_STATE/$BR/$NET.2" ]
	run -0 net_container "$C2" -- sh -c 'ip -o -4 addr show eth0'
	assert_output --regexp "eth0 +inet $NET\.2/24 "
	[ "$(cut -d' ' -f1 "$NET_STATE/$BR/$NET.2")" != "$veth" ]
	# An entry naming a veth that does not exist is stale too, even when
	# its process runs.
	echo "tw00000000 1" >"$NET_STATE/$BR/$NET.2"
	run -0 net_container "$C2" -a "$NET.2" -- true
	[ "$(cut -d' ' -f1 "$NET_STATE/$BR/$NET.2")" != tw00000000 ]
}

@test "--pid connects the network namespace of a running container" {
	rm -f "$C3/tmp/ready" "$C3/tmp/out"
	tw-unshare -muinpf --hostname c3 tw-pivot "$C3" tw-mountproc sh -c \
		'touch /tmp/ready; i=0; until ip link show eth0 >/dev/null 2>&1 || [ $i -ge 50 ]; do sleep 0.1; i=$((i+1)); done
		 ip -o -4 addr show eth0 >/tmp/out; ping -c1 -W2 '"$NET.1"' >>/tmp/out 2>&1' \
		</dev/null >/dev/null 2>&1 3>&- &
	local p=$!
	echo "$p" >>"$BATS_FILE_TMPDIR/pids"
	wait_for "$C3/tmp/ready"
	local init
	init=$(child_of "$p")
	run -0 --separate-stderr tw-net --pid "$init" -b "$BR" --subnet "$NET.0/24" -a "$NET.9" --resolv "$C3" --dns 192.0.2.53
	assert_output "$NET.9/24"
	[ -z "$stderr" ]
	run -0 cat "$NET_STATE/$BR/$NET.9"
	assert_output --regexp "^tw[0-9a-f]{8} $init\$"
	veth=${output% *}
	wait "$p"
	run -0 cat "$C3/tmp/out"
	assert_line --index 0 --regexp "eth0 +inet $NET\.9/24 "
	assert_output --partial '1 packets received'
	assert_equal "$(cat "$C3/etc/resolv.conf")" "nameserver 192.0.2.53"
	wait_gone "$veth"
}

@test "--resolv writes the rootfs's /etc/resolv.conf, replacing a symbolic link" {
	ln -sf /run/systemd/resolve/stub-resolv.conf "$C2/etc/resolv.conf"
	run -0 net_container "$C2" --resolv "$C2" --dns 192.0.2.53 --dns 192.0.2.54 -- cat /etc/resolv.conf
	assert_output "$(printf 'nameserver 192.0.2.53\nnameserver 192.0.2.54')"
	[ -f "$C2/etc/resolv.conf" ] && [ ! -L "$C2/etc/resolv.conf" ]
	[ ! -e "$C2/run/systemd" ]
}

@test "--down removes the bridge, the veths on it and its state" {
	start_container "$C1" -a "$NET.2"
	local p1=$CPID
	run -0 --separate-stderr tw-net --down -b "$BR"
	assert_output ""
	[ -z "$stderr" ]
	run -1 ip link show "$BR"
	[ ! -e "$NET_STATE/$BR" ]
	# The running container lost its eth0 with the veth.
	run -0 inside "$(child_of "$p1")" ip -o link show
	assert_output --regexp '^1: lo: '
	assert_equal "${#lines[@]}" 1
	stop_container "$C1" "$p1"
	run -1 --separate-stderr tw-net --down -b "$BR"
	assert_equal "$stderr" "tw-net: $BR: no such bridge"
	# And a new container makes it again.
	run -0 net_container "$C1" -- true
	run -0 ip -o -4 addr show dev "$BR"
	assert_output --partial "inet $NET.1/24"
	run -0 tw-net --down -b "$BR"
	run -1 ip link show "$BR"
}
