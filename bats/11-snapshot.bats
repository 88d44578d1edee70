#!/usr/bin/env bats
# tw-snapshot: copy-on-write snapshots of a subvolume, checked against
# btrfs-progs.
# shellcheck disable=SC2154 # output, lines, stderr_lines are set by bats' run
load helpers
load helpers_storage

setup_file() {
	storage_setup_file
	# The image every test snapshots: a small root filesystem.
	btrfs subvolume create "$BTRFS/img" >/dev/null
	busybox_rootfs "$BTRFS/img"
	echo hello >"$BTRFS/img/etc/motd"
	export IMG=$BTRFS/img
}
teardown_file() { teardown_btrfs; }
setup() { storage_setup; }

@test "snapshot to a new path: same files, parent UUID is the source's" {
	run -0 --separate-stderr tw-snapshot "$IMG" c1
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	diff -r --no-dereference "$IMG" c1
	assert_equal "$(subvol_field c1 'Parent UUID')" "$(subvol_field "$IMG" UUID)"
	assert_equal "$(btrfs property get c1 ro)" "ro=false"
	assert_equal "$(subvol_field c1 Name)" c1
}

@test "a snapshot is copy-on-write: changing it leaves the source alone" {
	tw-snapshot "$IMG" c1
	echo changed >c1/etc/motd
	rm c1/bin/busybox
	assert_equal "$(cat "$IMG/etc/motd")" hello
	[ -x "$IMG/bin/busybox" ]
}

@test "-r makes a read-only snapshot" {
	run -0 tw-snapshot -r "$IMG" ro1
	assert_equal "$(btrfs property get ro1 ro)" "ro=true"
	assert_equal "$(subvol_field ro1 Flags)" readonly
	run ! touch ro1/file
	# a read-only snapshot is a fine source
	run -0 tw-snapshot ro1 rw1
	assert_equal "$(btrfs property get rw1 ro)" "ro=false"
	assert_equal "$(subvol_field rw1 'Parent UUID')" "$(subvol_field ro1 UUID)"
}

@test "DST an existing directory: the snapshot is DST/basename(SRC)" {
	mkdir containers
	run -0 tw-snapshot "$IMG" containers
	assert_equal "$(subvol_field containers/img 'Parent UUID')" "$(subvol_field "$IMG" UUID)"
	# also when SRC is given with a trailing slash
	mkdir other
	run -0 tw-snapshot "$IMG/" other/
	[ "$(stat -c %i other/img)" = 256 ]
}

@test "many DSTs in one call, each a snapshot of SRC" {
	mkdir containers into
	dsts=()
	for i in $(seq 1 50); do dsts+=("containers/c$i"); done
	run -0 tw-snapshot "$IMG" "${dsts[@]}" into
	uuid=$(subvol_field "$IMG" UUID)
	for d in "${dsts[@]}" into/img; do
		assert_equal "$(subvol_field "$d" 'Parent UUID')" "$uuid"
	done
	run -0 btrfs subvolume list "$BTRFS"
	assert_equal "$(grep -c " path t$BATS_TEST_NUMBER/containers/c" <<<"$output")" 50
	# the staging directories tw made them in are gone
	assert_equal "$(find . -name '.tw-snapshot*')" ""
	assert_equal "$(find . -mindepth 1 -maxdepth 1 | sort)" "$(printf './containers\n./into')"
	run -0 tw-snapshot -r "$IMG" containers/r1 containers/r2
	assert_equal "$(btrfs property get containers/r2 ro)" "ro=true"
}

@test "a tw-snapshot killed (SIGKILL) leaves staging directories that the next run removes, orphans and all; a live run's stay" {
	mkdir c
	dsts=()
	for i in $(seq 1 3000); do dsts+=("c/c$i"); done
	tw-snapshot "$IMG" "${dsts[@]}" &
	pid=$!
	for _ in $(seq 200); do
		[ -n "$(find c -maxdepth 2 -path "c/.tw-snapshot.$pid.*/*" -print -quit)" ] && break
		sleep 0.05
	done
	kill -KILL "$pid"
	wait "$pid" || true
	orphans=$(find c -maxdepth 2 -path 'c/.tw-snapshot.*/*' | wc -l)
	[ "$orphans" -gt 0 ]
	# a live run's (its PID alive and its lock held), and one whose PID is
	# not ours to see but whose lock is held (another PID namespace): kept
	sleep 60 &
	sleeper=$!
	mkdir "c/.tw-snapshot.$sleeper.0" "c/.tw-snapshot.$pid.99"
	exec {lock1}<"c/.tw-snapshot.$sleeper.0" {lock2}<"c/.tw-snapshot.$pid.99"
	flock -n "$lock1" && flock -n "$lock2"
	run -0 tw-snapshot "$IMG" c/next
	assert_equal "$(find c -maxdepth 1 -name '.tw-snapshot.*' | sort)" "$(printf '%s\n' "c/.tw-snapshot.$pid.99" "c/.tw-snapshot.$sleeper.0" | sort)"
	kill "$sleeper"
	wait "$sleeper" || true
	exec {lock1}<&- {lock2}<&-
	run -0 tw-snapshot "$IMG" c/last
	assert_equal "$(find c -maxdepth 1 -name '.tw-snapshot.*')" ""
	# no orphan subvolume is left: every subvolume under c/ is a c/cN, next or last
	run -0 btrfs subvolume list "$BTRFS"
	refute_output --partial ".tw-snapshot."
	assert_equal "$(grep -c " path t$BATS_TEST_NUMBER/c/" <<<"$output")" "$(find c -mindepth 1 -maxdepth 1 | wc -l)"
}

@test "many snapshots into SRC itself hold no staging directory" {
	tw-subvol create src
	touch src/file
	run -0 tw-snapshot src src/c1 src/c2 src/c3
	for c in c1 c2 c3; do
		assert_equal "$(subvol_field src/$c 'Parent UUID')" "$(subvol_field src UUID)"
		run -0 find "src/$c" -name '.tw-snapshot*'
		assert_output ""
	done
	assert_equal "$(ls -A src | tr '\n' ' ')" "c1 c2 c3 file "
}

@test "snapshots and tw-subvol list agree with btrfs-progs" {
	tw-snapshot -r "$IMG" a b
	run -0 tw-subvol list -r "$BTRFS"
	assert_output "$(btrfs subvolume list -p -r "$BTRFS")"
	assert_output --partial "path t$BATS_TEST_NUMBER/a"
	assert_output --partial "path t$BATS_TEST_NUMBER/b"
}

@test "--help prints the usage on stdout" {
	run -0 --separate-stderr tw-snapshot --help
	assert_line --index 0 "Usage: tw-snapshot [-r] SRC DST…"
	assert_output --partial "--readonly"
	[ -z "$stderr" ]
}

# --- errors: exit 1, one line, nothing changed -----------------------------

@test "SRC not on btrfs" {
	mkdir "$BATS_TEST_TMPDIR/src"
	fails_cleanly 1 "tw-snapshot: $BATS_TEST_TMPDIR/src: not on a btrfs filesystem" tw-snapshot "$BATS_TEST_TMPDIR/src" c1
}

@test "SRC not a subvolume: a plain directory on btrfs" {
	mkdir plain
	fails_cleanly 1 "tw-snapshot: plain: not a btrfs subvolume" tw-snapshot plain c1
	fails_cleanly 1 "tw-snapshot: $IMG/etc: not a btrfs subvolume" tw-snapshot "$IMG/etc" c1
}

@test "SRC missing" {
	fails_cleanly 1 "tw-snapshot: nosuch: no such file or directory" tw-snapshot nosuch c1
}

@test "DST exists" {
	touch file
	tw-subvol create sub
	mkdir dir dir/img
	fails_cleanly 1 "tw-snapshot: file: file exists" tw-snapshot "$IMG" file
	fails_cleanly 1 "tw-snapshot: dir/img: file exists" tw-snapshot "$IMG" dir
	# two DSTs naming the same snapshot
	fails_cleanly 1 "tw-snapshot: c1: file exists" tw-snapshot "$IMG" c1 c1
	fails_cleanly 1 "tw-snapshot: ./c1/: file exists" tw-snapshot "$IMG" c1 ./c1/
	fails_cleanly 1 "tw-snapshot: sub/img: file exists" tw-snapshot "$IMG" sub sub/
}

@test "DST parent missing" {
	fails_cleanly 1 "tw-snapshot: nosuch: no such file or directory" tw-snapshot "$IMG" nosuch/c1
}

@test "DST not on btrfs" {
	fails_cleanly 1 "tw-snapshot: $BATS_TEST_TMPDIR/c1: not on a btrfs filesystem" tw-snapshot "$IMG" "$BATS_TEST_TMPDIR/c1"
	fails_cleanly 1 "tw-snapshot: $BATS_TEST_TMPDIR: not on a btrfs filesystem" tw-snapshot "$IMG" "$BATS_TEST_TMPDIR"
}

@test "DST name too long" {
	long=$(printf 'n%.0s' {1..256})
	fails_cleanly 1 "tw-snapshot: $long: file name too long" tw-snapshot "$IMG" "$long"
	run -0 tw-snapshot "$IMG" "${long:1}"
}

@test "snapshot into a read-only subvolume is not permitted" {
	tw-subvol create ro
	tw-subvol ro ro true
	fails_cleanly 1 "tw-snapshot: ro/c1: read-only file system" tw-snapshot "$IMG" ro/c1
	fails_cleanly 1 "tw-snapshot: ro/img: read-only file system" tw-snapshot -r "$IMG" ro
	fails_cleanly 1 "tw-snapshot: ro/c1: read-only file system" tw-snapshot "$IMG" ro/c1 ro/c2 ro/c3
}

@test "every DST is checked before the first snapshot" {
	mkdir containers
	fails_cleanly 1 "tw-snapshot: nosuch: no such file or directory" tw-snapshot "$IMG" containers/c1 containers/c2 nosuch/c3
	[ -z "$(ls -A containers)" ]
}

@test "usage errors exit 2" {
	before=$(storage_state)
	for args in "" "$IMG" "-x $IMG c1" "--readonly=maybe $IMG c1"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr tw-snapshot $args
		assert_equal "$output" ""
		assert_equal "${#stderr_lines[@]}" 2
		assert_equal "${stderr_lines[1]}" "Try 'tw-snapshot --help' for more information."
	done
	run -2 --separate-stderr tw-snapshot "$IMG"
	assert_equal "${stderr_lines[0]}" "tw-snapshot: expected at least 2 argument(s), got 1"
	[ ! -e c1 ]
	assert_equal "$(storage_state)" "$before"
}
