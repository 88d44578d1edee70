#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# One OCI layout, many writers: tw-pull and tw-commit update index.json
# under the layout's lock (read, merge, replace), so parallel runs keep
# every tag; a killed tw-pull's staging directory is removed by the next
# run, and a live run's never is.

load helpers
load helpers_registry

setup_file() {
	requires root umoci python3 jq
	export SRC=$BATS_FILE_TMPDIR/src
	busybox_rootfs "$BATS_FILE_TMPDIR/rootfs"
	tw-commit -q --config.cmd /bin/sh "$BATS_FILE_TMPDIR/rootfs" "$SRC:1" >/dev/null
	mkdir -p "$BATS_FILE_TMPDIR/small"
	echo small >"$BATS_FILE_TMPDIR/small/file"
}

setup() {
	requires root umoci python3 jq
	cd "$BATS_TEST_TMPDIR" || exit
}

teardown() {
	stop_fake_registry
	stop_registry
}

# eventually CMD: wait up to 10s for the shell command CMD to succeed.
eventually() {
	local _
	for _ in $(seq 100); do
		eval "$1" && return 0
		sleep 0.1
	done
	echo "eventually: $1 did not come true" >&2
	return 1
}

# at_once CMD…: run CMD four times at once, each time with a, b, c, d in
# place of every {} in its arguments; waits for all four and fails when
# any failed.
at_once() {
	local t pids=() p rc=0
	for t in a b c d; do
		"${@//\{\}/$t}" >/dev/null &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=$?; done
	return "$rc"
}

# tags DIR: the tags of a layout, sorted, on one line.
tags() {
	jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | sort | join(" ")' "$1/index.json"
}

@test "four tw-pulls into one existing layout at once keep all four tags" {
	tw-commit -q "$BATS_FILE_TMPDIR/small" L:old >/dev/null
	for round in 1 2 3; do
		at_once tw-pull -q "oci:$SRC:1" "oci:L:{}$round"
	done
	assert_equal "$(tags L)" "a1 a2 a3 b1 b2 b3 c1 c2 c3 d1 d2 d3 old"
	for t in old a1 b2 c3 d3; do layout_ok "L:$t"; done
	[ -z "$(find . -name '.*tw-pull*' -o -name '.index.json.tw-*')" ]
}

@test "four tw-pulls into a layout that does not exist yet keep all four tags" {
	for round in 1 2 3; do
		at_once tw-pull -q "oci:$SRC:1" "oci:new$round:{}"
		assert_equal "$(tags "new$round")" "a b c d"
		layout_ok "new$round:a" && layout_ok "new$round:d"
	done
	[ -z "$(find . -name '.*tw-pull*')" ]
}

@test "four tw-commits into one layout at once keep all four tags" {
	for t in a b c d; do
		mkdir "tree$t" && echo "$t" >"tree$t/$t"
	done
	for L in fresh existing; do
		[ "$L" = existing ] && tw-commit -q "$BATS_FILE_TMPDIR/small" existing:old >/dev/null
		at_once tw-commit -q "tree{}" "$L:{}"
		for t in a b c d; do layout_ok "$L:$t"; done
	done
	assert_equal "$(tags fresh)" "a b c d"
	assert_equal "$(tags existing)" "a b c d old"
	umoci unpack --image existing:c bundle >/dev/null
	[ "$(cat bundle/rootfs/c)" = c ]
}

@test "tw-pull killed (SIGKILL) mid-copy: the next run removes its staging directory, never a live run's" {
	requires skopeo curl /usr/bin/docker-registry
	start_registry
	tw-pull -q --dest-tls-verify=false "oci:$SRC:1" "docker://$REGISTRY/busybox:1" >/dev/null
	start_fake_registry proxy "$REGISTRY" # trickles blobs
	tw-commit -q "$BATS_FILE_TMPDIR/small" dest:old >/dev/null
	for d in dest:new fresh:1; do
		tw-pull --src-tls-verify=false "docker://$FAKE/busybox:1" "oci:$d" 2>err &
		pid=$!
		eventually 'grep -q "^Copying blob" err'
		sleep 0.3
		kill -KILL "$pid"
		wait "$pid" || true
	done
	# what the killed runs left: a staging layout beside fresh, one in dest
	[ -n "$(find . -maxdepth 1 -name '.fresh.tw-pull-*')" ]
	[ -n "$(find dest -maxdepth 1 -name '.tw-pull-*')" ]
	# a live run's staging directory is kept: a run still copying
	tw-pull -q --src-tls-verify=false "docker://$FAKE/busybox:1" oci:fresh:live 2>/dev/null &
	live=$!
	eventually '[ -n "$(find . -maxdepth 1 -name ".fresh.tw-pull-$live-*")" ]'
	mine=$(find . -maxdepth 1 -name ".fresh.tw-pull-$live-*")
	run -0 tw-pull -q "oci:$SRC:1" oci:fresh:1
	run -0 tw-pull -q "oci:$SRC:1" oci:dest:new
	[ -z "$(find dest -name '.tw-pull-*')" ]
	assert_equal "$(find . -maxdepth 1 -name '.fresh.tw-pull-*')" "$mine"
	wait "$live"
	[ -z "$(find . -name '.*tw-pull*')" ]
	assert_equal "$(tags fresh)" "1 live"
	assert_equal "$(tags dest)" "new old"
	layout_ok fresh:1 && layout_ok fresh:live && layout_ok dest:new && layout_ok dest:old
}

@test "tw-commit killed (SIGKILL) mid-layer: the next commit removes what it left, never what a live run has" {
	# a layer that takes seconds to compress: random bytes
	mkdir big
	head -c 192M /dev/urandom >big/random
	tw-commit -q "$BATS_FILE_TMPDIR/small" dest:old >/dev/null
	for d in dest:new fresh:1; do
		tw-commit -q big "$d" >/dev/null 2>&1 &
		pid=$!
		eventually '[ -n "$(find . dest -maxdepth 1 -name ".*tw-commit-$pid-*")" ]'
		sleep 0.3
		kill -KILL "$pid"
		wait "$pid" || true
	done
	# what the killed runs left: a temporary layout beside fresh, a staging
	# directory in dest (with umoci's half-written blob in it)
	[ ! -e fresh ]
	left=$(find . -maxdepth 1 -name '.fresh.tw-commit-*')
	[ -n "$left" ]
	inside=$(find dest -maxdepth 1 -name '.tw-commit-*')
	[ -n "$inside" ]
	# a live run's temporary layout is kept: a commit still packing (held
	# there with SIGSTOP, long before it takes the layout's lock)
	tw-commit -q big fresh:live >/dev/null &
	live=$!
	eventually '[ -n "$(find . -maxdepth 1 -name ".fresh.tw-commit-$live-*")" ]'
	kill -STOP "$live"
	mine=$(find . -maxdepth 1 -name ".fresh.tw-commit-$live-*")
	rc=0
	tw-commit -q "$BATS_FILE_TMPDIR/small" fresh:1 >/dev/null || rc=$?
	tw-commit -q "$BATS_FILE_TMPDIR/small" dest:new >/dev/null || rc=$?
	kill -CONT "$live"
	[ "$rc" = 0 ]
	[ ! -e "$left" ] && [ ! -e "$inside" ]
	assert_equal "$(find . -maxdepth 1 -name '.fresh.tw-commit-*')" "$mine"
	wait "$live"
	[ -z "$(find . -name '.*tw-commit-*' -o -name '.umoci-*')" ]
	assert_equal "$(tags fresh)" "1 live"
	assert_equal "$(tags dest)" "new old"
	layout_ok fresh:1 && layout_ok fresh:live && layout_ok dest:new && layout_ok dest:old
}
