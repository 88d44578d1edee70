#!/usr/bin/env bats
# README.md: every command it shows runs, as shown.
load helpers
load helpers_registry

README=$BATS_TEST_DIRNAME/../README.md

setup_file() {
	requires root btrfs docker-registry
	setup_btrfs 1G
	export TW_HOME=$BATS_FILE_TMPDIR/home
	start_registry
}

teardown() {
	if mountpoint -q "$TW_HOME/store"; then umount "$TW_HOME/store"; fi
	if [ -d "$BATS_TEST_TMPDIR/demo" ]; then
		TW_HOME=$BATS_TEST_TMPDIR/demo "$BATS_TEST_DIRNAME/../scripts/tupperware.sh" --teardown --purge || true
	fi
}

teardown_file() {
	stop_registry
	teardown_btrfs
}

# block START: the lines of the first ``` block after the line matching START
block() {
	awk -v start="$1" '
		index($0, start) { found = 1; next }
		found && !inside && /^```/ { inside = 1; next }
		inside && /^```/ { exit }
		inside { print }' "$README"
}

@test "README: the first two commands are the demo and the tests" {
	run -0 block 'On a fresh Debian machine'
	assert_line --index 0 --regexp '^make demo +#'
	assert_line --index 1 --regexp '^make test +#'
}

@test "README: the by-hand walkthrough runs as written" {
	# the demo's store and seed image, here on the test's loop btrfs
	mkdir -p "$TW_HOME/store" "$BTRFS/walk"
	mount --bind "$BTRFS/walk" "$TW_HOME/store"
	# shellcheck source=scripts/lib.sh
	. "$BATS_TEST_DIRNAME/../scripts/lib.sh"
	seed_ensure 2>/dev/null
	script=$(block 'readme-example' | sed "s|/var/lib/tupperware|$TW_HOME|g")
	[ -n "$script" ]
	run bash -euxc "$script"
	[ "$status" -eq 0 ] || fail "$output"
	umount "$TW_HOME/store"
	assert_line 'tupperware'
	assert_line '1'
	assert_line 'THIS_IS_TUPPERWAAAARE'
}

@test "README: every synopsis is the first line of the applet's --help" {
	run -0 block 'Every applet prints its full usage'
	synopses=$output
	for a in $(tw --list); do
		first=$("$a" --help | head -n 1)
		first=${first#Usage: }
		grep -qxF -- "$first" <<<"$synopses" || fail "README lacks the synopsis of $a: $first"
	done
}

@test "README: the examples run" {
	cd "$BTRFS"
	mkdir -p ex && cd ex
	# what the examples start from: an image subvolume, a layout, a rootfs
	mkdir images rootfs
	busybox_rootfs rootfs
	tw-commit --quiet rootfs oci-images/alpine:latest >/dev/null
	mkdir containers
	n=0
	while IFS= read -r line; do
		cmd=${line%%   #*}
		case "$cmd" in
		*docker://alpine*) continue ;; # Docker Hub: not reachable from here
		esac
		cmd=${cmd//127.0.0.1:5000/$REGISTRY}
		case "$cmd" in
		*"tw-unshare --mount --pid --fork --mount-proc ps"*) cmd="$cmd -o pid,comm" ;;
		*"pivot containers/c1 sh"*) cmd="$cmd -c 'echo \$\$; ls /proc/1/status'" ;;
		esac
		run bash -euc "$cmd"
		[ "$status" -eq 0 ] || fail "README example failed ($status): $cmd: $output"
		# the image the examples use gets its files once it exists
		[[ "$cmd" != "tw-subvol create images/alpine"* ]] || busybox_rootfs images/alpine
		n=$((n + 1))
	done < <(block 'Examples:')
	[ "$n" -ge 8 ]
	tw-subvol delete -r images containers/c1 containers/c2 containers/c3 >/dev/null 2>&1 || true
}

@test "README: make install PREFIX and tw --install" {
	prefix=$BATS_TEST_TMPDIR/prefix
	run -0 make -C "$BATS_TEST_DIRNAME/.." install PREFIX="$prefix"
	[ -x "$prefix/bin/tw" ]
	for a in $(tw --list); do [ -L "$prefix/bin/$a" ]; done
	run -0 "$prefix/bin/tw-subvol" --help
	run -0 "$prefix/bin/tw" --install "$BATS_TEST_TMPDIR/links"
	[ -L "$BATS_TEST_TMPDIR/links/tw-pivot" ]
	run -0 "$prefix/bin/tw" --install --copy "$BATS_TEST_TMPDIR/copy"
	cmp "$prefix/bin/tw" "$BATS_TEST_TMPDIR/copy/tw"
	[ "$(readlink "$BATS_TEST_TMPDIR/copy/tw-pivot")" = tw ]
}

@test "README: make demo works, twice in a row, and after a cleanup" {
	export TW_HOME=$BATS_TEST_TMPDIR/demo LOOP_SIZE=1G
	# what the demo mounts is under TW_HOME, and nothing is left there
	demo_mounts() { grep -F " $TW_HOME/" /proc/self/mountinfo || true; }
	top=$BATS_TEST_DIRNAME/..
	for round in 1 2; do
		run -0 --separate-stderr make -s -C "$top" demo
		assert_line -- '--- hostname:  tupperware'
		assert_line -- '--- my pid:    1'
		assert_line -- "--- the host's mount table is unchanged"
		assert_line '/THIS_IS_TUPPERWAAAARE'
	done
	run -0 "$top/scripts/tupperware.sh" --teardown
	[ -z "$(demo_mounts)" ]
	# after the cleanup, the store is mounted again and reused
	run -0 --separate-stderr make -s -C "$top" demo
	assert_line -- '--- my pid:    1'
	run -0 "$top/scripts/tupperware.sh" --teardown --purge
	[ ! -e "$TW_HOME" ]
	[ -z "$(demo_mounts)" ]
}

@test "README: the networking example runs" {
	requires ip
	cd "$BTRFS"
	mkdir -p netex/containers && cd netex
	for c in c1 c2; do
		tw-subvol create "containers/$c" >/dev/null
		busybox_rootfs "containers/$c"
	done
	# a bridge and subnet of this test's own
	bridge=twr$$
	out=''
	while IFS= read -r line; do
		cmd=${line%%   #*}
		cmd=${cmd//-b tw0/-b $bridge}
		cmd=${cmd//10.88.0.2\/16/10.202.0.2\/24}
		[[ "$cmd" != *" sh" ]] || cmd="$cmd -c 'ip -4 addr show eth0'"
		run bash -euc "$cmd"
		[ "$status" -eq 0 ] || { tw-net --down -b "$bridge" || true; fail "README example failed ($status): $cmd: $output"; }
		out+=$output$'\n'
	done < <(block 'Networking: the walkthrough')
	[[ "$out" == *"inet 10.202.0.2/24"* ]]
	# c1 has ended, so c2 gets the lowest free address: .2 again, or .3 while c1's veth lingers
	[ "$(grep -cE 'inet 10\.202\.0\.[23]/24' <<<"$out")" -eq 2 ]
	run ip link show "$bridge"
	[ "$status" -ne 0 ]
}

@test "README: the hardened container runs as written" {
	cd "$BTRFS"
	mkdir -p hardex/containers && cd hardex
	tw-subvol create containers/c1 >/dev/null
	busybox_rootfs containers/c1
	cmd=$(block 'Hardening and limits: as safe')
	[[ "$cmd" == *" sh" ]]
	run -0 bash -euc "$cmd -c 'grep -E \"^(CapEff|NoNewPrivs|Seccomp):\" /proc/self/status; ls /dev/null; echo \$\$'"
	assert_line --regexp '^CapEff:[[:space:]]+0000000020000420$'
	assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	assert_line '/dev/null'
	assert_line '1'
}
