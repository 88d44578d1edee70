#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# tw-ps lists the containers the chain started, tw-enter joins one; util-linux
# nsenter is the oracle for what the entered program sees.

load helpers

setup_file() {
	requires root nsenter jq /bin/busybox
	export ROOT=$BATS_FILE_TMPDIR/rootfs
	busybox_rootfs "$ROOT"
}

setup() {
	requires root nsenter jq /bin/busybox
	cd "$BATS_TEST_TMPDIR" || exit
	NAME=ux-$BATS_TEST_NUMBER-$$
	PIDS=()
	BR=
}

teardown() {
	# tw-unshare's child dies with it (SIGKILL as its parent-death signal)
	end_pids "${PIDS[@]}"
	# the bridge of the tw-net test, also when it failed
	if [ -n "${BR:-}" ]; then
		tw-net --down -b "$BR" >/dev/null 2>&1 || true
		ip link del "$BR" 2>/dev/null || true
		rm -rf "/run/tupperware/net/${BR:?}"
	fi
}

# start NAME [CHAIN-PREFIX…] -- [HARDEN-OPTIONS…]: a container on $ROOT in
# the background that sleeps, named NAME; sets PARENT (the tw process) and
# CPID (the container's first process).
start() {
	local name=$1 pre=() h=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do pre+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	h=("$@")
	if [ ${#h[@]} -gt 0 ]; then
		h=(tw-mountsys tw-mountdev tw-harden "${h[@]}")
	fi
	"${pre[@]}" tw-unshare "${UNSHARE:--muinpf}" --hostname "$name" tw-pivot "$ROOT" tw-mountproc "${h[@]}" /bin/sleep 1000 3>&- &
	PARENT=$!
	PIDS+=("$PARENT")
	CPID=$(child_of "$PARENT")
	# until the chain has reached sleep
	for _ in $(seq 50); do
		[ "$(cat "/proc/$CPID/comm")" = sleep ] && return 0
		sleep 0.1
	done
	return 1
}

@test "tw-ps lists a running container: name, PID, root, hostname; --json and -q say the same" {
	start "$NAME"
	run -0 tw-ps
	assert_line --index 0 --regexp '^NAME +PID +ROOT +HOSTNAME +UPTIME +ADDRESS +CGROUP$'
	assert_line --regexp "^$NAME +$CPID +$ROOT +$NAME +[0-9]+s +- +- *$"
	run -0 tw-ps --json
	jq -e --arg n "$NAME" --argjson p "$CPID" --argjson pp "$PARENT" --arg r "$ROOT" \
		'.[] | select(.name == $n) | .pid == $p and .parent == $pp and .root == $r and .hostname == $n and .uptime >= 0 and .address == ""' <<<"$output"
	run -0 tw-ps -q
	assert_line "$CPID"
	# gone once it ended
	kill -KILL "$PARENT"
	wait "$PARENT" || true
	for _ in $(seq 50); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
	run -0 tw-ps -q
	[[ $'\n'"$output"$'\n' != *$'\n'"$CPID"$'\n'* ]]
}

@test "tw-ps: a relative tw-pivot root is made absolute; tw-limit's cgroup is shown" {
	cd "$(dirname "$ROOT")"
	start "$NAME" tw-limit --pids 50 --name "$NAME" --
	run -0 tw-ps --json
	jq -e --arg n "$NAME" --arg r "$ROOT" '.[] | select(.name == $n) | .root == $r and (.cgroup | endswith("/" + $n))' <<<"$output"
}

@test "tw-ps against lsns, nsenter, ps and /proc: the PID of the container's pid namespace, its hostname now, uptime, cgroup" {
	requires lsns ps
	start "$NAME"
	first=$CPID
	# the hostname changed inside: NAME stays what tw-unshare was given
	nsenter --uts --target "$first" hostname "$NAME-renamed"
	start "$NAME-b" tw-limit --pids 50 --name "$NAME-b" --
	# ps's elapsed seconds of each first process, just before and after
	etimes() { echo "$(ps -o etimes= -p "$first") $(ps -o etimes= -p "$CPID")"; }
	before=$(etimes)
	run -0 tw-ps --json
	json=$output
	after=$(etimes)
	i=0
	for c in "$NAME $first $NAME-renamed" "$NAME-b $CPID $NAME-b"; do
		i=$((i + 1))
		read -r n cpid host <<<"$c"
		got() { jq -r --arg n "$n" --arg f "$1" '.[] | select(.name == $n) | .[$f]' <<<"$json"; }
		# lsns: the lowest PID in the container's pid namespace, and its only process
		ns=$(readlink "/proc/$cpid/ns/pid" | tr -dc 0-9)
		run -0 lsns --noheadings --raw --type pid --output NS,PID,NPROCS
		assert_line "$ns $(got pid) 1"
		assert_equal "$(got pid)" "$cpid"
		# the hostname of its UTS namespace, as nsenter reads it
		assert_equal "$(got hostname)" "$(nsenter --uts --target "$cpid" hostname)"
		assert_equal "$(got hostname)" "$host"
		# uptime: between what ps said before and after (whole seconds each)
		lo=$(awk -v i="$i" '{ print $i }' <<<"$before") hi=$(awk -v i="$i" '{ print $i }' <<<"$after")
		[ "$(got uptime)" -ge $((lo - 1)) ] && [ "$(got uptime)" -le $((hi + 1)) ] ||
			fail "$n: uptime $(got uptime), ps said $lo before and $hi after"
	done
	# the cgroup: tw-limit's, as /proc/PID/cgroup names it; none for the other
	cg=$(jq -r --arg n "$NAME-b" '.[] | select(.name == $n) | .cgroup' <<<"$json")
	[[ "$cg" == */"$NAME-b" ]]
	grep -qE "^[0-9]+:[^:]*:$cg\$" "/proc/$CPID/cgroup"
	assert_equal "$(jq -r --arg n "$NAME" '.[] | select(.name == $n) | .cgroup' <<<"$json")" ""
}

@test "tw-enter NAME sees what nsenter --all --target PID sees: namespaces, root, /proc, hostname" {
	start "$NAME"
	# shellcheck disable=SC2016 # expanded inside the container
	probe='for n in mnt uts ipc net pid cgroup; do readlink /proc/self/ns/$n; done; hostname; ls /; cat /proc/1/cmdline | tr "\0" " "; echo; cat /proc/self/cgroup'
	nsenter --all --target "$CPID" --wd=/ /bin/sh -c "$probe" >want
	run -0 tw-enter "$NAME" /bin/sh -c "$probe"
	assert_equal "$output" "$(cat want)"
	assert_line "$NAME"
	assert_line "/bin/sleep 1000 "
	refute_line "$(readlink /proc/self/ns/mnt)"
	run -0 tw-enter "$NAME" /bin/pwd
	assert_output /
	# by the PID of its first process, and of the tw process that started it
	run -0 tw-enter "$CPID" /bin/sh -c "$probe"
	assert_equal "$output" "$(cat want)"
	run -0 tw-enter "$PARENT" /bin/sh -c "$probe"
	assert_equal "$output" "$(cat want)"
}

@test "tw-enter: the program inherits no host descriptor, and nothing of tw's environment" {
	start "$NAME"
	exec 7</etc/hostname 8>"$BATS_TEST_TMPDIR/out"
	run -0 tw-enter "$NAME" /bin/sh -c 'ls /proc/$$/fd; env'
	exec 7<&- 8>&-
	assert_equal "$(sed -n '1,/^$/p' <<<"$output" | grep -c '^[0-9]*$')" 3
	assert_line 0
	assert_line 2
	refute_line 7
	refute_line 8
	refute_output --partial TW_ENTER
}

@test "tw-enter joins the container's cgroups (tw-limit's here), as runc exec does; --no-cgroup keeps tw-enter's" {
	# nsenter joins no cgroup (only the cgroup namespace): the oracle is
	# the container's first process, /proc/PID/cgroup read from the host
	start "$NAME" tw-limit --pids 50 --name "$NAME" --
	run -0 tw-enter "$NAME" /bin/cat /proc/self/cgroup
	assert_equal "$output" "$(cat "/proc/$CPID/cgroup")"
	assert_line --regexp "^[0-9]+:[^:]*:/$NAME\$"
	run -0 tw-enter --no-cgroup "$NAME" /bin/cat /proc/self/cgroup
	assert_equal "$output" "$(cat /proc/self/cgroup)"
	refute_output --partial "/$NAME"
}

@test "tw-enter passes the program's status on; a missing program is 127" {
	start "$NAME"
	run -7 tw-enter "$NAME" /bin/sh -c 'exit 7'
	run -137 tw-enter "$NAME" /bin/sh -c 'kill -KILL $$'
	run -127 --separate-stderr tw-enter "$NAME" /nonesuch
	assert_equal "$stderr" "tw-enter: exec /nonesuch: no such file or directory"
	# the default program is /bin/sh, reading stdin
	run -0 tw-enter "$NAME" <<<'hostname'
	assert_output "$NAME"
}

@test "tw-enter --harden gives the container's capabilities, user, limits, no_new_privs and seccomp; without it, tw-enter's own" {
	start "$NAME" -- --seccomp --user 1000:1000 --rlimit nproc=77 --cap-add CHOWN
	# shellcheck disable=SC2016
	probe='grep -E "^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):" /proc/$$/status; cat /proc/$$/limits'
	run -0 tw-enter --harden "$NAME" /bin/sh -c "$probe"
	want=$(grep -E "^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):" "/proc/$CPID/status"; cat "/proc/$CPID/limits")
	assert_equal "$output" "$want"
	assert_line --regexp '^CapBnd:.*00000000200004(21|20)$'
	assert_line --regexp '^Seccomp:.*2$'
	run -0 tw-enter "$NAME" /bin/sh -c "$probe"
	assert_line --regexp '^Uid:[[:space:]]+0[[:space:]]'
	assert_line --regexp '^Seccomp:[[:space:]]+0$'
	# the seccomp filter forbids what Docker's does
	run -0 tw-enter --harden "$NAME" /bin/sh -c 'unshare -U true 2>&1; echo rc=$?'
	refute_line rc=0
}

@test "tw-enter: bad input is a one-line error, and the container is untouched" {
	start "$NAME"
	run -2 --separate-stderr tw-enter
	assert_equal "${stderr_lines[0]}" "tw-enter: expected at least 1 argument(s), got 0"
	run -1 --separate-stderr tw-enter "nosuch-$NAME" /bin/true
	assert_equal "$stderr" "tw-enter: nosuch-$NAME: no such running container"
	run -1 --separate-stderr tw-enter 999999999 /bin/true
	assert_equal "$stderr" "tw-enter: 999999999: no such process"
	run -1 --separate-stderr tw-enter 0 /bin/true
	assert_equal "$stderr" "tw-enter: 0: not a PID"
	# two of one name: a PID must choose
	first=$CPID
	start "$NAME"
	run -1 --separate-stderr tw-enter "$NAME" /bin/true
	assert_equal "$stderr" "tw-enter: $NAME: 2 containers have that name (PIDs $first $CPID): give a PID"
	run -0 tw-enter "$first" /bin/hostname
	assert_output "$NAME"
	kill -0 "$first"
	kill -0 "$CPID"
}

@test "tw-ps shows the address tw-net gave; tw-enter sees the container's eth0" {
	requires ip
	br=twe$$
	ip link show "$br" >/dev/null 2>&1 && skip "$br exists"
	BR=$br
	# tw-net made the network namespace: tw-unshare without -n
	UNSHARE=-muipf start "$NAME" tw-net -b "$br" --subnet 10.201.38.0/24 -a 10.201.38.5 --
	run -0 tw-ps --json
	jq -e --arg n "$NAME" --arg b "$br" '.[] | select(.name == $n) | .address == "10.201.38.5" and .bridge == $b' <<<"$output"
	run -0 tw-ps
	assert_line --regexp "^$NAME +$CPID .* $br/10\.201\.38\.5 "
	run -0 tw-enter "$NAME" /bin/busybox ip -4 -o addr show eth0
	assert_output --partial 'inet 10.201.38.5/24'
}

@test "tw-enter --harden installs the target's own seccomp filter, whatever it is (bwrap's here, not Docker's)" {
	requires bwrap python3
	[ "$(uname -m)" = x86_64 ] || skip "the test's filter is for x86_64"
	# a filter of our own: mkdir and mkdirat fail with EPERM, all else is
	# allowed (Docker's profile allows them, and forbids much else)
	python3 -c 'import struct, sys
ins = [(0x20, 0, 0, 0), (0x15, 2, 0, 83), (0x15, 1, 0, 258), (0x06, 0, 0, 0x7fff0000), (0x06, 0, 0, 0x00050001)]
sys.stdout.buffer.write(b"".join(struct.pack("<HBBI", *i) for i in ins))' >filter.bpf
	bwrap --bind / / --seccomp 9 /bin/sleep 1000 9<filter.bpf 3>&- &
	PIDS+=($!)
	pid=$(child_of $!)
	# bwrap's child outlives a bwrap killed with SIGKILL: teardown ends both
	PIDS+=("$pid")
	for _ in $(seq 50); do
		[ "$(cat "/proc/$pid/comm")" = sleep ] && break
		sleep 0.1
	done
	# the oracle: a program under the same filter
	run -1 bwrap --bind / / --seccomp 9 mkdir "$BATS_TEST_TMPDIR/d" 9<filter.bpf
	assert_output --partial 'Operation not permitted'
	want=$output
	run -1 tw-enter --harden --no-cgroup "$pid" mkdir "$BATS_TEST_TMPDIR/d"
	assert_equal "$output" "$want"
	[ ! -e d ]
	# shellcheck disable=SC2016
	run -0 tw-enter --harden --no-cgroup "$pid" /bin/sh -c 'grep -E "^(NoNewPrivs|Seccomp|Seccomp_filters):" /proc/$$/status; unshare -U true 2>&1; echo rc=$?'
	assert_equal "$(sed -n '1,/^Seccomp_filters/p' <<<"$output")" "$(grep -E '^(NoNewPrivs|Seccomp|Seccomp_filters):' "/proc/$pid/status")"
	# what Docker's profile forbids, this filter allows
	assert_line rc=0
	# without --harden: no filter
	run -0 tw-enter --no-cgroup "$pid" mkdir "$BATS_TEST_TMPDIR/d"
	[ -d d ]
}
