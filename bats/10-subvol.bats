#!/usr/bin/env bats
# tw-subvol: create, delete, list, show and the read-only flag of btrfs
# subvolumes, checked against btrfs-progs.
# shellcheck disable=SC2154 # output, lines, stderr_lines are set by bats' run
load helpers
load helpers_storage

setup_file() { storage_setup_file; }
teardown_file() { teardown_btrfs; }
setup() { storage_setup; }

@test "create makes empty subvolumes that btrfs-progs sees" {
	run -0 --separate-stderr tw-subvol create a b/
	assert_equal "$output" ""
	for s in a b; do
		run -0 btrfs subvolume show "$T/$s"
		assert_equal "$(subvol_field "$T/$s" Name)" "$s"
		[ -z "$(ls -A "$s")" ]
		assert_equal "$(stat -c %i "$s")" 256
	done
	run -0 btrfs subvolume list "$BTRFS"
	assert_line --regexp " path t$BATS_TEST_NUMBER/a\$"
	assert_line --regexp " path t$BATS_TEST_NUMBER/b\$"
}

@test "create makes nested subvolumes in one call, parents first" {
	run -0 tw-subvol create x x/y x/y/z
	x=$(subvol_field x "Subvolume ID")
	y=$(subvol_field x/y "Subvolume ID")
	assert_equal "$(subvol_field x/y "Parent ID")" "$x"
	assert_equal "$(subvol_field x/y/z "Parent ID")" "$y"
}

@test "list prints what 'btrfs subvolume list -p' prints" {
	tw-subvol create a b a/c
	mkdir a/dir
	tw-subvol create a/dir/d
	btrfs property set b ro true
	run -0 tw-subvol list "$BTRFS"
	assert_output "$(btrfs subvolume list -p "$BTRFS")"
	run -0 tw-subvol list a/dir
	assert_output "$(btrfs subvolume list -p "$BTRFS")"
	run -0 tw-subvol list -p -r .
	assert_output "$(btrfs subvolume list -p -r "$BTRFS")"
	assert_output --partial "path t$BATS_TEST_NUMBER/b"
}

@test "list --json has id, parent, path and read-only for every subvolume" {
	tw-subvol create a a/c
	btrfs property set a/c ro true
	run -0 tw-subvol list --json .
	assert_equal "$(jq -r '.[] | "ID \(.id) gen \(.generation) parent \(.parent_id) top level \(.parent_id) path \(.path)"' <<<"$output")" \
		"$(btrfs subvolume list -p "$BTRFS")"
	assert_equal "$(jq -r --arg t "t$BATS_TEST_NUMBER/" '.[] | select(.readonly and (.path | startswith($t))) | .path' <<<"$output")" "t$BATS_TEST_NUMBER/a/c"
	assert_equal "$(jq -r ".[] | select(.path == \"t$BATS_TEST_NUMBER/a\") | .uuid" <<<"$output")" "$(subvol_field a UUID)"
}

@test "show prints the first lines of 'btrfs subvolume show'" {
	tw-subvol create a
	mkdir a/dir
	tw-subvol create a/dir/b
	btrfs subvolume snapshot -r a snap >/dev/null
	for s in a a/dir/b snap "$BTRFS"; do
		run -0 tw-subvol show "$s"
		assert_output "$(btrfs subvolume show "$s" | head -n 12)"
	done
	run -0 tw-subvol show snap
	assert_line --index 3 --regexp "Parent UUID:[[:space:]]+$(subvol_field a UUID)\$"
	assert_line --index 11 --regexp "Flags:[[:space:]]+readonly\$"
}

@test "show --json has the fields of 'btrfs subvolume show'" {
	tw-subvol create a
	btrfs subvolume snapshot -r a snap >/dev/null
	run -0 tw-subvol show --json snap
	j=$output
	assert_equal "$(jq -r .path <<<"$j")" "t$BATS_TEST_NUMBER/snap"
	assert_equal "$(jq -r .name <<<"$j")" snap
	assert_equal "$(jq -r .id <<<"$j")" "$(subvol_field snap 'Subvolume ID')"
	assert_equal "$(jq -r .parent_id <<<"$j")" "$(subvol_field snap 'Parent ID')"
	assert_equal "$(jq -r .uuid <<<"$j")" "$(subvol_field snap UUID)"
	assert_equal "$(jq -r .parent_uuid <<<"$j")" "$(subvol_field a UUID)"
	assert_equal "$(jq -r .generation <<<"$j")" "$(subvol_field snap Generation)"
	assert_equal "$(jq -r .readonly <<<"$j")" true
	assert_equal "$(date -d "$(jq -r .created <<<"$j")" +%s)" "$(date -d "$(subvol_field snap 'Creation time')" +%s)"
}

@test "ro gets and sets the flag that 'btrfs property get ro' reads" {
	tw-subvol create a
	run -0 tw-subvol ro a
	assert_output false
	run -0 tw-subvol ro a true
	assert_output ""
	assert_equal "$(btrfs property get a ro)" "ro=true"
	run -0 tw-subvol ro a
	assert_output true
	run ! touch a/file
	run -0 tw-subvol ro a false
	assert_equal "$(btrfs property get a ro)" "ro=false"
	touch a/file
}

@test "delete removes subvolumes" {
	tw-subvol create a b
	touch a/file
	run -0 --separate-stderr tw-subvol delete a b
	assert_equal "$output" ""
	[ ! -e a ] && [ ! -e b ]
	run -0 btrfs subvolume list "$BTRFS"
	refute_output --partial "t$BATS_TEST_NUMBER/"
}

@test "delete -r removes nested subvolumes, deepest first" {
	tw-subvol create x x/y x/y/z x/w
	mkdir x/dir
	tw-subvol create x/dir/v
	btrfs property set x/y/z ro true
	run -0 tw-subvol delete -r x
	[ ! -e x ]
	run -0 btrfs subvolume list "$BTRFS"
	refute_output --partial "t$BATS_TEST_NUMBER/"
}

@test "delete: a PATH named twice, or inside another, is deleted once" {
	tw-subvol create a x x/y x/y/z
	run -0 tw-subvol delete -r a x x/y a x/y/z
	[ ! -e a ] && [ ! -e x ]
	run -0 btrfs subvolume list "$BTRFS"
	refute_output --partial "t$BATS_TEST_NUMBER/"
}

@test "delete -r of a subvolume without nested ones" {
	tw-subvol create a
	run -0 tw-subvol delete --recursive a
	[ ! -e a ]
}

@test "--help prints the usage on stdout" {
	run -0 --separate-stderr tw-subvol --help
	assert_line --index 0 "Usage: tw-subvol create PATH…"
	[ -z "$stderr" ]
	run -0 tw-subvol delete --help
	assert_line --index 0 "Usage: tw-subvol create PATH…"
	assert_output --partial "--recursive"
}

# --- errors: exit 1, one line, nothing changed -----------------------------

@test "create: PATH not on btrfs" {
	fails_cleanly 1 "tw-subvol: $BATS_TEST_TMPDIR/x: not on a btrfs filesystem" tw-subvol create "$BATS_TEST_TMPDIR/x"
	[ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "create: PATH exists" {
	tw-subvol create a
	mkdir d
	fails_cleanly 1 "tw-subvol: a: file exists" tw-subvol create a
	fails_cleanly 1 "tw-subvol: d: file exists" tw-subvol create d
}

@test "create: parent of PATH missing" {
	fails_cleanly 1 "tw-subvol: nosuch: no such file or directory" tw-subvol create nosuch/a
}

@test "create: name too long" {
	long=$(printf 'n%.0s' {1..256})
	fails_cleanly 1 "tw-subvol: $long: file name too long" tw-subvol create "$long"
	# 255 bytes is the limit and works
	run -0 tw-subvol create "${long:1}"
}

@test "create: inside a read-only subvolume is not permitted" {
	tw-subvol create ro
	tw-subvol ro ro true
	fails_cleanly 1 "tw-subvol: ro/new: read-only file system" tw-subvol create ro/new
}

@test "create: checks every PATH before making any" {
	fails_cleanly 1 "tw-subvol: nosuch: no such file or directory" tw-subvol create a b nosuch/c
	[ ! -e a ] && [ ! -e b ]
	fails_cleanly 1 "tw-subvol: a: file exists" tw-subvol create a a
}

@test "delete: not a subvolume" {
	mkdir plain
	fails_cleanly 1 "tw-subvol: plain: not a btrfs subvolume" tw-subvol delete plain
	touch file
	fails_cleanly 1 "tw-subvol: file: not a directory" tw-subvol delete file
}

@test "delete: PATH not on btrfs" {
	mkdir "$BATS_TEST_TMPDIR/d"
	fails_cleanly 1 "tw-subvol: $BATS_TEST_TMPDIR/d: not on a btrfs filesystem" tw-subvol delete "$BATS_TEST_TMPDIR/d"
	[ -d "$BATS_TEST_TMPDIR/d" ]
}

@test "delete: PATH missing" {
	fails_cleanly 1 "tw-subvol: nosuch: no such file or directory" tw-subvol delete nosuch
}

@test "delete: nested subvolumes without -r, nothing deleted" {
	tw-subvol create a x x/y x/y/z
	fails_cleanly 1 "tw-subvol: x: holds subvolume x/y (delete with -r)" tw-subvol delete x
	fails_cleanly 1 "tw-subvol: x/y: holds subvolume x/y/z (delete with -r)" tw-subvol delete x/y
	[ -d a ] && [ -d x/y/z ]
}

# same_delete ARGS…: in two fresh trees, btrfs-progs and tw-subvol delete
# ARGS; both must succeed or fail alike and leave the same subvolumes.
same_delete() {
	local t want got
	n=$((${n:-0} + 1))
	for t in oracle$n tw$n; do
		mkdir "$t"
		(cd "$t" && tw-subvol create a b o o/i o/i/j x x/y >/dev/null)
	done
	run -0 bash -c 'cd "$0" && btrfs subvolume delete "$@" >/dev/null 2>&1; echo $?' "oracle$n" "$@"
	want=$output
	run -0 --separate-stderr bash -c 'cd "$0" && tw-subvol delete "$@"; echo $?' "tw$n" "$@"
	got=$output
	assert_equal "$got" "$want"
	assert_equal "$(cd "tw$n" && find . | sort)" "$(cd "oracle$n" && find . | sort)"
}

@test "delete: PATHs go in the order given, each checked in its turn, as btrfs-progs does" {
	same_delete o/i/j o/i o
	[ ! -e tw1/o ]
	same_delete a x nosuch b
	[ ! -e tw2/a ] && [ ! -e tw2/b ] && [ -d tw2/x/y ]
	same_delete o o/i/j o/i
	same_delete b/ a/.
	# the failure of one PATH is reported, and the others still go
	mkdir t2 && cd t2
	tw-subvol create outer outer/inner x x/y a
	run -1 --separate-stderr tw-subvol delete outer/inner outer x nosuch a
	assert_equal "$output" ""
	assert_equal "$stderr" "tw-subvol: x: holds subvolume x/y (delete with -r)
tw-subvol: nosuch: no such file or directory"
	[ ! -e outer ] && [ ! -e a ] && [ -d x/y ]
}

@test "delete: from inside a read-only subvolume is not permitted" {
	tw-subvol create ro ro/inner
	tw-subvol ro ro true
	fails_cleanly 1 "tw-subvol: ro/inner: read-only file system" tw-subvol delete ro/inner
	fails_cleanly 1 "tw-subvol: ro/inner: read-only file system" tw-subvol delete -r ro
}

@test "delete: the mounted top level is refused" {
	fails_cleanly 1 "tw-subvol: $BTRFS: device or resource busy" tw-subvol delete -r "$BTRFS"
	cd "$BTRFS"
	fails_cleanly 1 "tw-subvol: .: device or resource busy" tw-subvol delete -r .
}

@test "show, ro and list: errors name the path" {
	mkdir plain
	fails_cleanly 1 "tw-subvol: plain: not a btrfs subvolume" tw-subvol show plain
	fails_cleanly 1 "tw-subvol: plain: not a btrfs subvolume" tw-subvol ro plain true
	fails_cleanly 1 "tw-subvol: nosuch: no such file or directory" tw-subvol show nosuch
	fails_cleanly 1 "tw-subvol: $BATS_TEST_TMPDIR: not on a btrfs filesystem" tw-subvol list "$BATS_TEST_TMPDIR"
	fails_cleanly 1 "tw-subvol: $BATS_TEST_TMPDIR: not on a btrfs filesystem" tw-subvol show "$BATS_TEST_TMPDIR"
}

@test "usage errors exit 2" {
	tw-subvol create a
	before=$(storage_state)
	for args in "" "frobnicate a" "create" "delete" "list" "list a b" "show" "show a b" "ro" "ro a maybe" "ro a true x" "delete --bogus a"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr tw-subvol $args
		assert_equal "$output" ""
		assert_equal "${#stderr_lines[@]}" 2
		assert_equal "${stderr_lines[1]}" "Try 'tw-subvol --help' for more information."
	done
	run -2 --separate-stderr tw-subvol ro a maybe
	assert_equal "${stderr_lines[0]}" 'tw-subvol: ro: expected true or false, got "maybe"'
	run -2 --separate-stderr tw-subvol frobnicate
	assert_equal "${stderr_lines[0]}" 'tw-subvol: unknown command "frobnicate"'
	assert_equal "$(storage_state)" "$before"
}
