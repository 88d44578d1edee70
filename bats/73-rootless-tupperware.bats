#!/usr/bin/env bats
# scripts/tupperware.sh as an ordinary user, end to end, with a store the
# user owns: a loop btrfs that root prepared once, mounted with and without
# user_subvol_rm_allowed and handed over (README: Rootless).
load helpers
load helpers_rootless

SCRIPT=$BATS_TEST_DIRNAME/../scripts/tupperware.sh

setup_file() {
	rootless_setup_file
	requires btrfs
	rootless_btrfs plain
	rootless_btrfs rm user_subvol_rm_allowed
}

teardown_file() {
	if [ -n "${RUSER:-}" ] && [ -d "${RDIR:-}/twhome" ]; then
		TW_HOME=$RDIR/twhome "$BATS_TEST_DIRNAME/../scripts/rootless-store.sh" --teardown "$RUSER" || true
	fi
	rootless_teardown_file
}

setup() {
	HOST_MOUNTS_BEFORE=$(host_mounts)
}

@test "the walkthrough as a user shows the article's proofs, on either store" {
	local m
	for m in plain rm; do
		run -0 --separate-stderr as_user "$SCRIPT" --store "$RDIR/$m" --name "demo$m" --demo
		assert_line -- "--- hostname:  demo$m"
		assert_line -- '--- my pid:    1'
		assert_line -- "--- the host, after: hostname $(hostname)"
		assert_line -- "--- the host's mount table is unchanged"
		assert_line '/THIS_IS_TUPPERWAAAARE'
		assert_line --regexp '^ +1 root +sh$'
		[ ! -e "$RDIR/$m/images/busybox/THIS_IS_TUPPERWAAAARE" ]
		# the image's files are root's inside, the subordinate range's outside
		assert_equal "$(stat -c %u "$RDIR/$m/images/busybox")" "$RUID"
	done
	host_unchanged
}

@test "as a user: --harden (without tw-limit), --fresh and --rm, the image's owners inside" {
	local m
	for m in plain rm; do
		run -0 --separate-stderr as_user "$SCRIPT" --store "$RDIR/$m" --name "h$m" --harden --fresh --rm \
			sh -c 'id -u; stat -c "%u:%g" /etc/passwd /tmp; ls /dev/null; cat /proc/self/status | grep ^Seccomp:'
		assert_output "$(printf '%s\n' 0 0:0 0:0 /dev/null 'Seccomp:	2')"
		assert_equal "${stderr_lines[-1]}" "== cleanup: deleting containers/h$m"
		[ ! -e "$RDIR/$m/containers/h$m" ]
	done
	host_unchanged
}

@test "as a user without a store: a clear error" {
	run -1 --separate-stderr as_user "$SCRIPT" --name nostore true
	assert_equal "${stderr_lines[-1]}" "tupperware.sh: not root: give --store DIR, a directory on btrfs you can write (README: Rootless)"
	run -1 --separate-stderr as_user "$SCRIPT" --store "$RDIR/plain" --net tw0 true
	assert_equal "$stderr" "tupperware.sh: --net needs root (a bridge and a veth pair on the host)"
}

# block START: the lines of the first ``` block after the line matching START
block() {
	awk -v start="$1" '
		index($0, start) { found = 1; next }
		found && !inside && /^```/ { inside = 1; next }
		inside && /^```/ { exit }
		inside { print }' "$BATS_TEST_DIRNAME/../README.md"
}

@test "README: scripts/rootless-store.sh USER --demo (make demo-rootless), then the Rootless block as written" {
	export TW_HOME=$RDIR/twhome LOOP_SIZE=1G
	run -0 --separate-stderr "$BATS_TEST_DIRNAME/../scripts/rootless-store.sh" "$RUSER" --demo
	assert_line --index 0 "$TW_HOME/users/$RUSER/store"
	assert_line -- "--- hostname:  $RUSER"
	assert_line -- '--- my pid:    1'
	assert_line -- "--- the host's mount table is unchanged"
	# a fresh store for the README's block
	run -0 "$BATS_TEST_DIRNAME/../scripts/rootless-store.sh" --teardown "$RUSER"
	run -0 "$BATS_TEST_DIRNAME/../scripts/rootless-store.sh" "$RUSER"
	local script
	script=$(block "## Rootless" | sed -e "s|/var/lib/tupperware/users/alice|$TW_HOME/users/$RUSER|g" -e 's|\(tw-pivot containers/c1 sh\)|\1 -c "hostname; echo \\$\\$"|')
	[ -n "$script" ]
	# the demo left the seed image in the user's ~/.local/share/tupperware
	run as_user bash -euc "$script"
	[ "$status" -eq 0 ] || fail "$output"
	assert_line c1
	assert_line 1
	assert_line "containers/c1: deleted (ioctl SNAP_DESTROY)"
	run -0 "$BATS_TEST_DIRNAME/../scripts/rootless-store.sh" --teardown "$RUSER"
	! mountpoint -q "$TW_HOME/users/$RUSER/store"
}
