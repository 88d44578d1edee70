#!/usr/bin/env bats
# tw-subvol and tw-snapshot as an ordinary user, on a loop btrfs mounted
# without user_subvol_rm_allowed (plain) and with it (rm): create,
# snapshot, ro, list and show through the unprivileged ioctls, held to
# btrfs-progs run as root; delete by the ioctl where allowed, else by
# emptying and rmdir; the kernel's refusals as clear errors.
load helpers
load helpers_rootless
load helpers_storage

setup_file() {
	rootless_setup_file
	requires btrfs
	rootless_btrfs plain
	rootless_btrfs rm user_subvol_rm_allowed
}

teardown_file() {
	rootless_teardown_file
}

# each test in its own directory on both filesystems, made by the user
setup() {
	local m
	for m in plain rm; do as_user mkdir "$RDIR/$m/t$BATS_TEST_NUMBER"; done
}

@test "create, snapshot, snapshot -r and ro as a user, as btrfs-progs sees them" {
	local m
	for m in plain rm; do
		cd "$RDIR/$m/t$BATS_TEST_NUMBER"
		run -0 as_user tw-subvol create a b
		run -0 as_user touch a/file
		run -0 as_user tw-snapshot a s1
		run -0 as_user tw-snapshot -r a s2
		run -0 as_user tw-subvol ro s1 true
		run -0 as_user tw-subvol ro s2
		assert_output true
		run -0 btrfs property get s1 ro
		assert_output ro=true
		assert_equal "$(subvol_field s2 'Parent UUID')" "$(subvol_field a UUID)"
		[ -f s1/file ]
		assert_equal "$(stat -c %u a s1)" "$(printf '%s\n' "$RUID" "$RUID")"
	done
}

@test "list and show as a user print what btrfs-progs prints as root" {
	local m d
	for m in plain rm; do
		d=$RDIR/$m/t$BATS_TEST_NUMBER
		cd "$d"
		run -0 as_user tw-subvol create x x/inner
		run -0 as_user mkdir -p x/dir
		run -0 as_user tw-subvol create x/dir/deep
		run -0 as_user tw-snapshot -r x/inner ro
		run -0 as_user tw-subvol list "$RDIR/$m"
		local mine=$output
		run -0 btrfs subvolume list -p "$RDIR/$m"
		assert_equal "$mine" "$output"
		run -0 as_user tw-subvol list -r .
		assert_output "$(btrfs subvolume list -p -r "$RDIR/$m")"
		run -0 as_user tw-subvol show x/dir/deep
		assert_line --index 0 "t$BATS_TEST_NUMBER/x/dir/deep"
		assert_line --partial "Subvolume ID: 		$(subvol_field x/dir/deep 'Subvolume ID')"
		run -0 as_user tw-subvol show --json ro
		assert_output --partial '"readonly": true'
		assert_output --partial "\"path\": \"t$BATS_TEST_NUMBER/ro\""
	done
}

@test "list as a user leaves out the subvolumes the user cannot reach" {
	cd "$RDIR/plain/t$BATS_TEST_NUMBER"
	run -0 as_user tw-subvol create open
	run -0 tw-subvol create closed
	chmod 700 closed
	run -0 tw-subvol create closed/hidden
	run -0 as_user tw-subvol list .
	assert_line --partial "path t$BATS_TEST_NUMBER/open"
	refute_line --partial "closed"
	run -0 tw-subvol list .
	assert_line --partial "path t$BATS_TEST_NUMBER/closed/hidden"
}

@test "delete: the ioctl with user_subvol_rm_allowed, emptying and rmdir without; -v says which" {
	local m
	for m in plain rm; do
		cd "$RDIR/$m/t$BATS_TEST_NUMBER"
		run -0 as_user tw-subvol create a a/nested
		run -0 as_user mkdir -p a/d/e
		run -0 as_user sh -c 'echo x > a/d/e/f; ln -s /etc a/link; ln -s /etc/passwd a/d/l; mkfifo a/fifo'
		run -0 as_user tw-snapshot -r a/nested ro
		run -0 --separate-stderr as_user tw-subvol delete -v -r a ro
		if [ "$m" = rm ]; then
			assert_equal "$stderr" "$(printf '%s\n' 'a/nested: deleted (ioctl SNAP_DESTROY)' 'a: deleted (ioctl SNAP_DESTROY)' 'ro: deleted (ioctl SNAP_DESTROY)')"
		else
			assert_equal "$stderr" "$(printf '%s: deleted by emptying it and rmdir (SNAP_DESTROY refused: no user_subvol_rm_allowed)\n' a/nested a ro)"
		fi
		[ ! -e a ] && [ ! -e ro ]
		# what the links point to is untouched
		[ -s /etc/passwd ]
		run -0 btrfs subvolume list "$RDIR/$m"
		refute_output --partial "t$BATS_TEST_NUMBER/"
	done
}

@test "delete as a user refuses, before it removes anything of that PATH: another owner's files, a mount inside, nested without -r" {
	cd "$RDIR/plain/t$BATS_TEST_NUMBER"
	BTRFS=$RDIR/plain
	run -0 as_user tw-subvol create a b c
	run -0 as_user touch a/mine c/mine
	mkdir a/roots
	touch a/roots/f
	fails_cleanly 1 "tw-subvol: a: not permitted to a user without the mount option user_subvol_rm_allowed, and it cannot be emptied: empty roots: permission denied" \
		as_user tw-subvol delete a
	[ -e c/mine ] && [ -e a/mine ]
	run -0 as_user tw-subvol create b/n
	fails_cleanly 1 "tw-subvol: b: holds subvolume b/n (delete with -r)" as_user tw-subvol delete b
	run -0 as_user mkdir c/mnt
	mount -t tmpfs none c/mnt
	touch c/mnt/keep
	fails_cleanly 1 "tw-subvol: c: not permitted to a user without the mount option user_subvol_rm_allowed, and it cannot be emptied: empty mnt: another subvolume or a mount" \
		as_user tw-subvol delete c
	[ -e c/mnt/keep ]
	umount c/mnt
}

@test "where the kernel refuses a user: another's subvolume, a directory the user cannot write" {
	local m
	for m in plain rm; do
		cd "$RDIR/$m/t$BATS_TEST_NUMBER"
		BTRFS=$RDIR/$m
		run -0 tw-subvol create roots
		mkdir -m 755 rootdir
		fails_cleanly 1 "tw-snapshot: mine: operation not permitted" as_user tw-snapshot roots mine
		fails_cleanly 1 "tw-subvol: roots: operation not permitted" as_user tw-subvol ro roots true
		fails_cleanly 1 "tw-subvol: rootdir/x: permission denied" as_user tw-subvol create rootdir/x
		if [ "$m" = rm ]; then
			fails_cleanly 1 "tw-subvol: roots: permission denied" as_user tw-subvol delete roots
		else
			fails_cleanly 1 "tw-subvol: roots: not permitted to a user without the mount option user_subvol_rm_allowed, and it cannot be emptied: empty roots: permission denied" \
				as_user tw-subvol delete roots
		fi
	done
}
