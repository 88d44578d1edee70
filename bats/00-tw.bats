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

@test "tw --install --copy DIR writes tw there and links to it; the copy's text is on a huge page" {
	dir=$BATS_TEST_TMPDIR/inst
	run -0 tw --install --copy "$dir"
	cmp "$TW_BIN/tw" "$dir/tw"
	[ "$(stat -c %a "$dir/tw")" = 755 ]
	for a in $(tw --list); do
		[ "$(readlink "$dir/$a")" = tw ]
	done
	run -0 --separate-stderr "$dir/tw-mountproc" --help
	assert_line --index 0 --partial 'Usage: tw-mountproc'
	# again, from the copy itself: it replaces the file it runs from
	run -0 "$dir/tw" --install --copy "$dir"
	cmp "$TW_BIN/tw" "$dir/tw"
	run -0 ls "$dir"
	refute_output --partial .tmp
	# Written 2 MiB at a time on a filesystem with large folios (ext4 since
	# Linux 6.16), the text (2 MiB-aligned, make build's -R) is mapped
	# as one huge page: FilePmdMapped in the smaps of a running tw.
	if [ "$(stat -f -c %T "$dir")" = ext2/ext3 ] && grep -q '\[\(always\|madvise\)\]' /sys/kernel/mm/transparent_hugepage/enabled &&
		printf '6.16\n%s\n' "$(uname -r)" | sort -V -C; then
		run -0 "$dir/tw-unshare" -m sh -c 'grep -A30 "^00400000-.* $1\$" /proc/$PPID/smaps' sh "$dir/tw"
		assert_line --regexp '^FilePmdMapped: +2048 kB$'
		# a plain cp leaves it in small folios
		cp "$dir/tw" "$dir/tw.cp"
		run -0 "$dir/tw.cp" unshare -m sh -c 'grep -A30 "^00400000-.* $1\$" /proc/$PPID/smaps' sh "$dir/tw.cp"
		assert_line --regexp '^FilePmdMapped: +0 kB$'
	fi
}

@test "tw --install: bad arguments exit 2, a directory that cannot be made exits 1, nothing left" {
	run -2 tw --install
	assert_output 'tw: --install: expected [--copy] and one directory'
	run -2 tw --install --copy
	run -2 tw --install --bogus "$BATS_TEST_TMPDIR/x"
	run -2 tw --install --copy a b
	[ ! -e "$BATS_TEST_TMPDIR/x" ]
	touch "$BATS_TEST_TMPDIR/file"
	run -1 tw --install --copy "$BATS_TEST_TMPDIR/file/bin"
	assert_output --regexp '^tw: install: mkdir .*/file: not a directory$'
	# tw there is a directory: the rename fails, the directory stays as
	# it was, and no temporary file is left
	mkdir -p "$BATS_TEST_TMPDIR/d/tw/keep"
	run -1 tw --install --copy "$BATS_TEST_TMPDIR/d"
	assert_output --regexp '^tw: install: copy to .*/d/tw: rename .*/d/tw.tmp .*/d/tw: file exists$'
	run -0 ls -A "$BATS_TEST_TMPDIR/d" "$BATS_TEST_TMPDIR/d/tw"
	assert_output "$(printf '%s\n' "$BATS_TEST_TMPDIR/d:" tw '' "$BATS_TEST_TMPDIR/d/tw:" keep)"
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
