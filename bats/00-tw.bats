#!/usr/bin/env bats
# The dispatcher: one binary, many names.
load helpers

@test "tw --list names every applet, one per line" {
	run -0 tw --list
	for a in "${lines[@]}"; do
		[[ "$a" == tw-* ]]
		[ -L "$TW_BIN/$a" ]
	done
}

@test "tw --version prints a version" {
	run -0 tw --version
	assert_output --regexp '^tw .+'
}

@test "tw --help prints usage on stdout" {
	run -0 --separate-stderr tw --help
	assert_output --partial 'Usage: tw NAME'
	[ -z "$stderr" ]
}

@test "tw with no arguments is a usage error" {
	run -2 tw
}

@test "an unknown applet exits 127 and lists the applets on stderr" {
	run -127 --separate-stderr tw nosuch
	[ -z "$output" ]
	[[ "$stderr" == *"tw: nosuch: no such applet"* ]]
	[[ "$stderr" == *"Applets:"* ]]
}

@test "tw --install DIR makes working symlinks" {
	dir=$BATS_TEST_TMPDIR/bin
	run -0 tw --install "$dir"
	for a in $(tw --list); do
		[ -L "$dir/$a" ]
		run -0 "$dir/$a" --help
	done
	# idempotent
	run -0 tw --install "$dir"
}
