#!/usr/bin/env bats
# Images as an ordinary user: a multi-owner image (built with tw-commit
# from a tree with several owners, as a Debian image has them) unpacked
# with --rootless as umoci does, or inside tw-unshare --map-auto -r so that
# its owners come out right in the container; tw-commit reads the owners
# back (the layer round-trips); tw-pull with the user's auth and policy
# under ~/.config/containers, as skopeo reads them.
load helpers
load helpers_rootless
load helpers_registry

setup_file() {
	rootless_setup_file
	requires btrfs umoci python3 docker-registry
	rootless_btrfs store
	local t=$RDIR/tree
	busybox_rootfs "$t"
	mkdir -p "$t/home/alice" "$t/var/www"
	echo secret >"$t/home/alice/secret"
	chmod 600 "$t/home/alice/secret"
	chmod 700 "$t/home/alice"
	chown -R 1000:1000 "$t/home/alice"
	echo hi >"$t/var/www/index.html"
	ln "$t/var/www/index.html" "$t/var/www/hard.html"
	chown -R 33:33 "$t/var/www"
	echo x >"$t/usr/bin/suid"
	chmod 4755 "$t/usr/bin/suid"
	echo 'root:*:1::::::' >"$t/etc/shadow"
	chown 0:42 "$t/etc/shadow"
	chmod 640 "$t/etc/shadow"
	SOURCE_DATE_EPOCH=0 tw-commit -q "$t" "$RDIR/layout:mo" >/dev/null
	chmod -R a+rX "$RDIR/layout"
	start_registry alice:wonderland
	tw-pull --quiet --dest-tls-verify=false --dest-creds alice:wonderland "oci:$RDIR/layout:mo" "docker://$REGISTRY/mo:1"
}

teardown_file() {
	stop_registry
	rootless_teardown_file
}

setup() {
	W=$RDIR/store/t$BATS_TEST_NUMBER
	as_user mkdir "$W"
	cd "$W" || return
}

# diff_id LAYOUT: the last layer's diff id of the image in LAYOUT.
diff_id() {
	local m c
	m=$(jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2)
	c=$(jq -r '.config.digest' "$1/blobs/sha256/$m" | cut -d: -f2)
	jq -r '.rootfs.diff_ids[-1]' "$1/blobs/sha256/$c"
}

# owners DIR: path uid gid mode and the rootlesscontainers xattr of every
# entry below DIR.
owners() {
	python3 - "$1" <<'EOF'
import os, sys
root = sys.argv[1]
for d, dirs, files in os.walk(root):
    for n in sorted(dirs + files):
        p = os.path.join(d, n)
        st = os.lstat(p)
        try:
            x = os.getxattr(p, "user.rootlesscontainers", follow_symlinks=False).hex()
        except OSError:
            x = "-"
        print(os.path.relpath(p, root), st.st_uid, st.st_gid, oct(st.st_mode), x)
EOF
}

@test "tw-unpack --rootless as a user writes the owners as umoci unpack --rootless does" {
	run -0 as_user tw-subvol create rootfs
	run -0 as_user tw-unpack --rootless --image "$RDIR/layout:mo" --rootfs-only rootfs
	run -0 as_user umoci --log error unpack --rootless --image "$RDIR/layout:mo" bundle
	assert_equal "$(owners rootfs)" "$(owners bundle/rootfs)"
	# every file is the user's; the image's owners are in the xattr
	run -0 find rootfs ! -user "$RUSER"
	assert_output ""
	run -0 owners rootfs
	assert_line --regexp "^home/alice/secret $RUID $RGID 0o100600 [0-9a-f]+\$"
	refute_line --regexp "^home/alice/secret .* -\$"
}

@test "unpack --rootless then commit --rootless round-trips the layer (but for a symlink's owner, which a user xattr cannot hold)" {
	run -0 as_user tw-unpack --rootless --image "$RDIR/layout:mo" --rootfs-only .
	# the busybox tree's symlinks are root's: round-trip exact
	run -0 as_user env SOURCE_DATE_EPOCH=0 tw-commit -q --rootless . "$RDIR/home/rt$BATS_TEST_NUMBER:1"
	assert_equal "$(diff_id "$RDIR/home/rt$BATS_TEST_NUMBER")" "$(diff_id "$RDIR/layout")"
	# without --rootless the owners are the user's
	run -0 as_user env SOURCE_DATE_EPOCH=0 tw-commit -q . "$RDIR/home/plain$BATS_TEST_NUMBER:1"
	[ "$(diff_id "$RDIR/home/plain$BATS_TEST_NUMBER")" != "$(diff_id "$RDIR/layout")" ]
}

@test "unpacked inside tw-unshare --map-auto -r, the owners come out right in the container and commit round-trips" {
	local sub
	sub=$(grep "^$RUSER:" /etc/subuid | cut -d: -f2)
	run -0 as_user tw-subvol create rootfs
	run -0 as_user tw-unshare --map-auto -r tw-unpack --image "$RDIR/layout:mo" --rootfs-only rootfs
	# on the host: the subordinate range
	assert_equal "$(stat -c %u:%g rootfs/home/alice/secret)" "$((sub + 999)):$((sub + 999))"
	assert_equal "$(stat -c %u:%g rootfs/etc/shadow)" "$RUID:$((sub + 41))"
	run -0 as_user tw-unshare --map-auto -r -muinpf tw-mountproc --target "$W/rootfs/proc" tw-pivot "$W/rootfs" \
		/bin/sh -c 'stat -c "%n %u:%g %a" /home/alice /home/alice/secret /var/www/index.html /etc/shadow /usr/bin/suid; cat /home/alice/secret'
	assert_output "$(printf '%s\n' '/home/alice 1000:1000 700' '/home/alice/secret 1000:1000 600' '/var/www/index.html 33:33 644' \
		'/etc/shadow 0:42 640' '/usr/bin/suid 0:0 4755' secret)"
	run -0 as_user tw-unshare --map-auto -r env SOURCE_DATE_EPOCH=0 tw-commit -q rootfs "$RDIR/home/ns$BATS_TEST_NUMBER:1"
	assert_equal "$(diff_id "$RDIR/home/ns$BATS_TEST_NUMBER")" "$(diff_id "$RDIR/layout")"
	# and the user deletes it from inside (outside, the range's files are not theirs)
	run -1 as_user tw-subvol delete rootfs
	run -0 as_user tw-unshare --map-auto -r tw-subvol delete rootfs
	[ ! -e rootfs ]
}

@test "where the kernel refuses a user: unpack without --rootless, commit of files the user cannot read" {
	run -0 as_user mkdir plain
	run -1 --separate-stderr as_user tw-unpack --image "$RDIR/layout:mo" --rootfs-only plain
	assert_output ""
	assert_equal "$stderr" "tw-unpack: lchown plain: operation not permitted (not root: add --rootless, or unpack inside tw-unshare --map-auto -r)"
	assert_equal "$(find plain -mindepth 1 | wc -l)" 0
	run -0 as_user tw-unshare --map-auto -r sh -c 'mkdir t && tw-unpack --image "$0:mo" --rootfs-only t' "$RDIR/layout"
	run -1 --separate-stderr as_user tw-commit -q t "$RDIR/home/no$BATS_TEST_NUMBER:1"
	assert_equal "${#stderr_lines[@]}" 1
	[[ "$stderr" == "tw-commit: t: "*": open t/home/alice: permission denied" ]] || fail "$stderr"
	[ ! -e "$RDIR/home/no$BATS_TEST_NUMBER" ]
	run -0 as_user tw-unshare --map-auto -r tw-subvol delete t 2>/dev/null || as_user tw-unshare --map-auto -r rm -rf t
}

@test "tw-pull as a user: credentials from ~/.config/containers/auth.json, the user's policy.json" {
	local cfg=$RDIR/home/.config/containers
	run -1 --separate-stderr as_user tw-pull --quiet --src-tls-verify=false "docker://$REGISTRY/mo:1" "oci:$W/l:mo"
	assert_output ""
	as_user mkdir -p "$cfg"
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY" "$(printf alice:wonderland | base64)" | as_user tee "$cfg/auth.json" >/dev/null
	run -0 as_user tw-pull --quiet --src-tls-verify=false "docker://$REGISTRY/mo:1" "oci:$W/l:mo"
	assert_equal "$(diff_id "$W/l")" "$(diff_id "$RDIR/layout")"
	echo '{"default":[{"type":"reject"}]}' | as_user tee "$cfg/policy.json" >/dev/null
	run -1 --separate-stderr as_user tw-pull --quiet --src-tls-verify=false "docker://$REGISTRY/mo:1" "oci:$W/l2:mo"
	assert_equal "$stderr" "tw-pull: source image rejected: Running image docker://$REGISTRY/mo:1 is rejected by policy."
	[ ! -e "$W/l2" ]
	as_user rm -rf "$RDIR/home/.config"
}
