#!/usr/bin/env bats
# scripts/tupperware.sh: the walkthrough end to end, on a loop btrfs, with
# the offline default image and with an image from a local registry.
load helpers
load helpers_registry

SCRIPT=$BATS_TEST_DIRNAME/../scripts/tupperware.sh

setup_file() {
	requires root btrfs docker-registry
	setup_btrfs 1G
	export STORE=$BTRFS
	export TW_HOME=$BATS_FILE_TMPDIR/home
	start_registry
}

teardown_file() {
	stop_registry
	teardown_btrfs
}

setup() {
	HOST_MOUNTS_BEFORE=$(host_mounts)
	BG_PIDFILE=
}

# A test that leaves a container in the background names its pid file in
# BG_PIDFILE: it is ended here too when the test failed half way.
teardown() {
	if [ -n "$BG_PIDFILE" ] && [ -s "$BG_PIDFILE" ]; then
		kill "$(cat "$BG_PIDFILE")" 2>/dev/null || true
	fi
}

@test "the walkthrough with the offline default image shows the article's proofs" {
	run -0 --separate-stderr "$SCRIPT" --name demo1 --demo
	assert_line -- '--- hostname:  demo1'
	assert_line -- '--- my pid:    1'
	assert_line -- "--- the host, after: hostname $(hostname)"
	assert_line -- "--- the host's mount table is unchanged"
	assert_line '/THIS_IS_TUPPERWAAAARE'
	# ps inside shows the container's processes only: sh as 1 and ps itself
	ps_lines=$(sed -n '/^--- ps:/,/^--- mounts:/p' <<<"$output" | grep -cE '^ +[0-9]+ ')
	[ "$ps_lines" -eq 2 ]
	# the container's mount table: its root and its /proc, nothing of the host
	mounts=$(sed -n '/^--- mounts:/,/^--- marker:/p' <<<"$output" | grep -c ' - ')
	[ "$mounts" -eq 2 ]
	# the steps are named with the article's numbers
	[[ "$stderr" == *"== 3. fetch the image"* ]]
	[[ "$stderr" == *"== 7. a copy-on-write snapshot"* ]]
	# what the walkthrough leaves: an image subvolume (read-only), a container snapshot with the marker
	run -0 btrfs subvolume show "$STORE/images/busybox"
	run -0 btrfs property get -ts "$STORE/images/busybox" ro
	assert_output 'ro=true'
	[ -f "$STORE/containers/demo1/THIS_IS_TUPPERWAAAARE" ]
	[ ! -e "$STORE/images/busybox/THIS_IS_TUPPERWAAAARE" ]
	host_unchanged
}

@test "a command runs in the container and its status comes out" {
	run -0 "$SCRIPT" --name cmd1 --rm sh -c 'hostname; echo $$'
	assert_line 'cmd1'
	assert_line '1'
	run -7 "$SCRIPT" --name cmd1 --rm sh -c 'exit 7'
	host_unchanged
}

@test "re-running with the same name reuses the snapshot; --fresh replaces it" {
	run -0 "$SCRIPT" --name again sh -c 'echo kept >/kept'
	run -0 --separate-stderr "$SCRIPT" --name again cat /kept
	assert_output 'kept'
	run -1 --separate-stderr "$SCRIPT" --name again --fresh cat /kept
	assert_equal "${stderr_lines[-1]}" 'cat: can'"'"'t open '"'"'/kept'"'"': No such file or directory'
	[ ! -e "$STORE/containers/again/kept" ]
}

@test "--rm deletes the container snapshot afterwards" {
	run -0 "$SCRIPT" --name gone --rm true
	[ ! -e "$STORE/containers/gone" ]
	run -0 btrfs subvolume list "$STORE"
	refute_output --partial 'containers/gone'
}

@test "an image from the local registry runs too" {
	# the seed image the offline default builds, pushed to the registry
	[ -f "$TW_HOME/seed/busybox/index.json" ] || "$SCRIPT" --name seed --rm true
	run -0 tw-pull --quiet --dest-tls-verify=false "oci:$TW_HOME/seed/busybox:latest" "docker://$REGISTRY/reg/bb:1"
	PULL_OPTS=--src-tls-verify=false run -0 "$SCRIPT" --image "docker://$REGISTRY/reg/bb:1" --name fromreg --rm sh -c 'ls /bin/busybox; hostname'
	assert_line '/bin/busybox'
	assert_line 'fromreg'
	[ -f "$STORE/oci-images/bb/index.json" ]
	run -0 btrfs subvolume show "$STORE/images/bb"
}

@test "an image that does not exist: clear error, nothing half-made" {
	before=$(btrfs_state "$STORE")
	run -1 --separate-stderr "$SCRIPT" --image "oci:$BATS_TEST_TMPDIR/nosuch:latest" --name nope true
	[[ "$stderr" == *"tupperware.sh: oci:$BATS_TEST_TMPDIR/nosuch:latest: could not fetch the image"* ]]
	[ ! -e "$STORE/oci-images/nosuch" ]
	[ ! -e "$STORE/images/nosuch" ]
	[ ! -e "$STORE/containers/nope" ]
	[ "$(btrfs_state "$STORE")" = "$before" ]
}

@test "a name already running: clear error, the running one untouched" {
	# PID 1 ignores SIGTERM unless it handles it, as in any container
	"$SCRIPT" --name busy sh -c 'trap "exit 143" TERM; while :; do sleep 0.1; done' >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 50); do [ -f "$STORE/run/busy.pid" ] && break; sleep 0.1; done
	run -1 --separate-stderr "$SCRIPT" --name busy true
	[[ "$stderr" == *"tupperware.sh: busy: a container of that name is running (pid "* ]]
	[ -d "$STORE/containers/busy" ]
	kill "$(cat "$STORE/run/busy.pid")"
	wait "$pid" || true
	[ ! -e "$STORE/run/busy.pid" ]
}

@test "STORE on a read-only path: clear error, nothing made" {
	btrfs subvolume create "$STORE/ro" >/dev/null
	btrfs property set -ts "$STORE/ro" ro true
	run -1 --separate-stderr env STORE="$STORE/ro" "$SCRIPT" --name x true
	assert_equal "${stderr_lines[-1]}" "tupperware.sh: $STORE/ro: read-only file system or not writable"
	[ -z "$(ls -A "$STORE/ro")" ]
	btrfs property set -ts "$STORE/ro" ro false
	btrfs subvolume delete "$STORE/ro" >/dev/null
}

@test "STORE not on btrfs, an invalid name, an unknown option: clear errors" {
	run -1 --separate-stderr env STORE="$BATS_TEST_TMPDIR" "$SCRIPT" true
	[[ "${stderr_lines[-1]}" == "tupperware.sh: $BATS_TEST_TMPDIR: not on a btrfs filesystem"* ]]
	run -1 --separate-stderr "$SCRIPT" --name '../evil' true
	assert_equal "$stderr" "tupperware.sh: ../evil: invalid name (letters, digits, . _ - only)"
	run -1 --separate-stderr "$SCRIPT" --bogus
	assert_equal "$stderr" "tupperware.sh: unknown option: --bogus (try --help)"
}

@test "--harden: /dev, runc's capabilities, no_new_privs, seccomp, limits" {
	run -0 --separate-stderr "$SCRIPT" --name hard --harden --rm sh -c '
		grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status
		[ -c /dev/null ] && echo null-is-a-device
		cat /proc/keys | wc -c
		echo $$'
	assert_line --regexp '^CapEff:[[:space:]]+0000000020000420$'
	assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	assert_line 'null-is-a-device'
	assert_line --index 4 '0'
	assert_line --index 5 '1'
	[ ! -e "$STORE/containers/hard" ]
	host_unchanged
}

@test "--net BRIDGE: the container gets eth0 on the bridge; the bridge goes with tw-net --down" {
	requires ip
	bridge=twt$$
	SUBNET=10.203.0.0/24 run --separate-stderr "$SCRIPT" --name netc --net "$bridge" --rm sh -c 'ip -4 addr show eth0; ip route'
	tw-net --down -b "$bridge"
	[ "$status" -eq 0 ]
	assert_line --partial 'inet 10.203.0.2/24'
	assert_line --partial 'default via 10.203.0.1'
	run ip link show "$bridge"
	[ "$status" -ne 0 ]
}

@test "--list and --exec NAME: the running container is listed, and a command runs in it with its hardening" {
	name=ux-exec-$$
	"$SCRIPT" --name "$name" --harden sh -c 'trap "exit 143" TERM; while :; do sleep 0.1; done' >/dev/null 2>&1 &
	pid=$!
	BG_PIDFILE=$STORE/run/$name.pid
	for _ in $(seq 100); do "$SCRIPT" --list -q | grep -q . && tw-ps | grep -q "^$name " && break; sleep 0.1; done
	run -0 "$SCRIPT" --list
	# ROOT is tw-pivot's relative root joined to tw-unshare's cwd outside
	# the container (in thread mode the thread in the container may be the
	# one /proc/PID/cwd shows)
	assert_line --regexp "^$name +[0-9]+ +$STORE/containers/$name +$name "
	run -0 "$SCRIPT" --list --json
	jq -e --arg n "$name" '.[] | select(.name == $n) | .cgroup != ""' <<<"$output"
	run -0 "$SCRIPT" --exec "$name" sh -c 'hostname; ls /THIS_IS_TUPPERWAAAARE; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status'
	assert_line "$name"
	assert_line /THIS_IS_TUPPERWAAAARE
	assert_line --regexp '^CapEff:[[:space:]]+0000000020000420$'
	assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	run -3 "$SCRIPT" --exec "$name" sh -c 'exit 3'
	run -1 --separate-stderr "$SCRIPT" --exec "nosuch-$name" true
	assert_equal "$stderr" "tw-enter: nosuch-$name: no such running container"
	run -1 --separate-stderr "$SCRIPT" --exec
	assert_equal "$stderr" "tupperware.sh: --exec needs a container NAME (try --list)"
	kill "$(cat "$STORE/run/$name.pid")"
	wait "$pid" || true
	host_unchanged
}
