# Helpers for tw-net's tests (5x): a bridge and a subnet of the test's own,
# busybox containers on a loop btrfs, and the checks that the host's
# interfaces, routes and firewall were left alone. Load with
# `load helpers_net` after `load helpers`.
# shellcheck shell=bash

NET_STATE=/run/tupperware/net

# net_setup_file BRIDGE NET: the test's bridge name and subnet NET.0/24
# ($BR, $NET), a busybox image on a loop btrfs and three snapshots of it
# ($C1 $C2 $C3), and a record of the host's network for net_check_host.
net_setup_file() {
	requires root btrfs ip nsenter /bin/busybox
	BR=$1 NET=$2
	export BR NET
	if ip link show "$BR" >/dev/null 2>&1; then
		echo "net_setup_file: $BR exists: another test run?" >&2
		return 1
	fi
	setup_btrfs
	mkdir "$BTRFS/images" "$BTRFS/containers"
	btrfs subvolume create "$BTRFS/images/busybox" >/dev/null
	busybox_rootfs "$BTRFS/images/busybox"
	# busybox sh opens /dev/null for every background job.
	mknod -m 666 "$BTRFS/images/busybox/dev/null" c 1 3
	local c
	for c in c1 c2 c3; do
		btrfs subvolume snapshot "$BTRFS/images/busybox" "$BTRFS/containers/$c" >/dev/null
	done
	C1=$BTRFS/containers/c1 C2=$BTRFS/containers/c2 C3=$BTRFS/containers/c3
	export C1 C2 C3
	net_host >"$BATS_FILE_TMPDIR/net.before"
	: >"$BATS_FILE_TMPDIR/pids"
}

# net_stop_all: kill what a test left running (by the PIDs it recorded)
# and wait until the kernel removed the veths of their namespaces.
net_stop_all() {
	local p _
	if [ -s "$BATS_FILE_TMPDIR/pids" ]; then
		while read -r p; do
			kill -9 "$p" 2>/dev/null || true
		done <"$BATS_FILE_TMPDIR/pids"
		: >"$BATS_FILE_TMPDIR/pids"
	fi
	for _ in $(seq 50); do
		[ -z "$(veths)" ] && return 0
		sleep 0.1
	done
}

# net_teardown_file: stop what the tests left running, remove the bridge,
# its rules and its state even when a test failed, then the btrfs.
net_teardown_file() {
	net_stop_all
	if [ -n "${BR:-}" ]; then
		tw-net --down -b "$BR" >/dev/null 2>&1 || true
		ip link del "$BR" 2>/dev/null || true
		nft delete table ip "$BR" 2>/dev/null || true
		rm -rf "${NET_STATE:?}/$BR"
	fi
	teardown_btrfs
}

# net_host: what tw-net must not change on the host: its links (but the
# test's bridge and the veths of tw-net), its IPv4 routes (but the test's
# subnet), its nftables rules (but the test's table) and ip_forward.
net_host() {
	ip -o link show | awk -F': ' '$2 !~ /^tw/ { sub(/@.*/, "", $2); print "link", $2 }'
	ip -4 route show table all | grep -v -e "$NET\." -e "dev $BR" | sed 's/^/route /'
	if command -v nft >/dev/null; then
		nft list ruleset | awk -v t="table ip $BR {" '$0 == t { skip = 1 } !skip { print "nft", $0 } skip && $0 == "}" { skip = 0 }'
	fi
	echo "ip_forward $(cat /proc/sys/net/ipv4/ip_forward)"
}

# net_check_host: the host's network is as net_setup_file found it.
net_check_host() {
	assert_equal "$(net_host)" "$(cat "$BATS_FILE_TMPDIR/net.before")"
}

# net_argv ROOT [TW-NET OPTIONS…] -- PROG [ARGS…]: sets NET_ARGV to the
# one-line container on ROOT, with a network on $BR and its subnet.
net_argv() {
	local root=$1 opts=()
	shift
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	NET_ARGV=(tw-net -b "$BR" --subnet "$NET.0/24" "${opts[@]}"
		tw-unshare -muipf --hostname "$(basename "$root")" tw-pivot "$root" tw-mountproc "$@")
}

# net_container ROOT [TW-NET OPTIONS…] -- PROG [ARGS…]: run it.
net_container() {
	net_argv "$@"
	"${NET_ARGV[@]}"
}

# start_container ROOT [TW-NET OPTIONS…]: net_container in the background,
# running a shell that says it is ready in ROOT/tmp/ready and lives until
# ROOT/tmp/stop appears (at most 30 s); with --serve it also runs a TCP
# echo server on port 7000. Sets $CPID (tw-net's process, which waits for
# the container) and $CINIT (the container's PID 1, seen from the host).
start_container() {
	local root=$1 serve=''
	shift
	if [ "${1:-}" = --serve ]; then
		serve='nc -ll -p 7000 -e /bin/cat & '
		shift
	fi
	rm -f "$root/tmp/ready" "$root/tmp/stop"
	net_argv "$root" "$@" -- sh -c "${serve}touch /tmp/ready; i=0; while [ ! -e /tmp/stop ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done"
	# A simple command, so that $! is tw-net itself.
	"${NET_ARGV[@]}" </dev/null >"$root/tmp/log" 2>&1 3>&- &
	CPID=$!
	echo "$CPID" >>"$BATS_FILE_TMPDIR/pids"
	wait_for "$root/tmp/ready"
	CINIT=$(child_of "$CPID")
	export CPID CINIT
}

# stop_container ROOT PID: ask the container on ROOT to end, wait for its
# tw-net process PID and check that it exited 0.
stop_container() {
	touch "$1/tmp/stop"
	local rc=0
	wait "$2" || rc=$?
	assert_equal "$rc" 0
}

# inside PID CMD…: run CMD in every namespace and the root of the
# container whose PID 1 is PID (util-linux nsenter, as an oracle).
inside() {
	local pid=$1
	shift
	nsenter -t "$pid" -m -u -i -n -p -r -w "$@"
}

# veths: the links enslaved to $BR (none once every container ended).
veths() {
	ip -o link show master "$BR" 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'
}

# released ADDR…: the addresses are free: no entry in the state, or one
# whose process ended (the next tw-net reclaims it).
released() {
	local a e
	for a in "$@"; do
		[ -e "$NET_STATE/$BR/$a" ] || continue
		e=$(cat "$NET_STATE/$BR/$a")
		if [ -d "/proc/${e#* }" ] && ! grep -q '^State:.*Z' "/proc/${e#* }/status"; then
			echo "released: $a is held by $e" >&2
			return 1
		fi
	done
}

# no_veths: no veth is left on $BR once the containers ended. The kernel
# removes a veth with its network namespace, asynchronously: at most 5
# seconds.
no_veths() {
	local _
	for _ in $(seq 50); do
		[ -z "$(veths)" ] && return 0
		sleep 0.1
	done
	assert_equal "$(veths)" ""
}

# wait_gone LINK: until the link LINK is gone, at most 5 seconds (a veth
# goes with its network namespace, which the kernel frees asynchronously).
wait_gone() {
	local _
	for _ in $(seq 50); do
		ip link show "$1" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	echo "wait_gone: $1 is still there" >&2
	return 1
}

