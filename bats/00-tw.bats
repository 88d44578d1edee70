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

# The split build (cmd/tw/split.go): bin/tw links only the core applets and
# runs the image applets from a second program it carries.

# inits: the packages a tw command initialises before main (Go's inittrace).
inits() {
	GODEBUG=inittrace=1 "$@" 2>&1 >/dev/null | awk '$1 == "init" { print $2 }'
}

@test "tw-mountproc initialises no image library" {
	run -0 inits tw-mountproc --help
	[ "${#lines[@]}" -gt 10 ]
	[ "${#lines[@]}" -le 110 ]
	refute_output --regexp 'go\.podman\.io|umoci|sigstore|openpgp|protobuf'
}

@test "tw asks for its heap's huge page before any other package starts" {
	# applets/internal/hugeheap: the first init after the runtime's own, in
	# both programs, so that the pages the other inits touch are on it.
	run -0 inits tw-mountproc --help
	assert_line --index 0 --regexp '^(internal/|runtime)'
	first=$(printf '%s\n' "${lines[@]}" | grep -v -E '^(internal/|runtime)' | head -n 1)
	[ "$first" = github.com/tupperware/tw/applets/internal/hugeheap ]
	run -0 inits tw-pull --help
	first=$(printf '%s\n' "${lines[@]}" | grep -v -E '^(internal/|runtime)' | head -n 1)
	[ "$first" = github.com/tupperware/tw/applets/internal/hugeheap ]
}

@test "tw-pull runs the embedded program, which links the image libraries" {
	run -0 inits tw-pull --help
	assert_output --partial 'go.podman.io/image/v5'
	run -0 --separate-stderr tw-pull --help
	assert_line --index 0 'Usage: tw-pull [OPTIONS] SRC DST'
}

@test "the image applets keep their messages and exit codes" {
	run -2 --separate-stderr tw-unpack --nosuch
	[ -z "$output" ]
	[ "$stderr" = "tw-unpack: unknown flag: --nosuch
Try 'tw-unpack --help' for more information." ]
	run -1 --separate-stderr tw commit "$BATS_TEST_TMPDIR/nosuch" "$BATS_TEST_TMPDIR/oci:x"
	[ -z "$output" ]
	[[ "$stderr" == "tw-commit: "*"nosuch"* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ ! -e "$BATS_TEST_TMPDIR/oci" ]
}

@test "bin/tw alone, copied to an empty directory, commits and pulls an image" {
	dir=$BATS_TEST_TMPDIR/alone
	mkdir -p "$dir" "$BATS_TEST_TMPDIR/tree/bin"
	cp "$TW_BIN/tw" "$dir/tw"
	cp /bin/busybox "$BATS_TEST_TMPDIR/tree/bin/busybox"
	cd "$BATS_TEST_TMPDIR"
	run -0 env -i PATH=/nonexistent "$dir/tw" commit -q tree oci/a:v1
	digest=$output
	run -0 env -i PATH=/nonexistent "$dir/tw" pull -q oci:oci/a:v1 oci:oci/b:v1
	run -0 jq -r '.manifests[0].digest' oci/b/index.json
	assert_output "$digest"
	run -0 ls "$dir"
	assert_output tw
}

@test "tw-pull runs after tw-pivot, with no /proc and no tw binary in the new root" {
	requires root
	root=$BATS_TEST_TMPDIR/root
	busybox_rootfs "$root"
	run -0 --separate-stderr tw-unshare -muinpf tw-pivot "$root" tw-pull --help
	assert_line --index 0 'Usage: tw-pull [OPTIONS] SRC DST'
	run -2 --separate-stderr tw-unshare -muinpf tw-pivot "$root" tw-pull
	[ "$stderr" = "tw-pull: expected 2 argument(s), got 0
Try 'tw-pull --help' for more information." ]
}
