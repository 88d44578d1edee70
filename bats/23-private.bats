#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# What an image brings stays private: only root reaches an unpacked tree.
# umoci's oracle: its bundle is 0700 and its rootfs takes the image's root
# entry; tw-unpack's bundle is the same, and --rootfs-only (no bundle
# around the tree) never lets the root entry widen access to DIR and
# warns when others can reach DIR.

load helpers

setup() {
	requires root umoci setpriv
	cd "$BATS_TEST_TMPDIR" || exit
	# an image whose root entry is 0777 and uid 1000's, with a setuid-root program
	mkdir tree
	cp /bin/true tree/pwn
	chmod 4755 tree/pwn
	echo secret >tree/shadow
	chmod 0600 tree/shadow
	chmod 0777 tree
	chown 1000:1000 tree
	tw-commit -q tree oci:open >/dev/null
	chmod 0700 tree
	chown 0:0 tree
	tw-commit -q tree oci:closed >/dev/null
	# a directory every user can reach (the test's own are 0700)
	PUB=$(mktemp -d /tmp/tw-private.XXXXXX)
	chmod 0755 "$PUB"
}

teardown() {
	[ -z "${PUB:-}" ] || rm -rf "$PUB"
}

# mode_owner PATH: octal mode, uid and gid
mode_owner() { stat -c '%a %u %g' "$1"; }

# nobody CMD…: CMD as uid/gid 65534 without supplementary groups
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

@test "a bundle is 0700 and its rootfs follows the image's root entry, as umoci's" {
	umoci unpack --image oci:open ub >/dev/null
	run -0 tw-unpack --image oci:open tb
	assert_equal "$(mode_owner ub)" "700 0 0"
	assert_equal "$(mode_owner tb)" "700 0 0"
	assert_equal "$(mode_owner tb/rootfs)" "$(mode_owner ub/rootfs)"
	assert_equal "$(mode_owner tb/rootfs)" "777 1000 1000"
	mv tb "$PUB/tb"
	run ! nobody test -e "$PUB/tb/rootfs/pwn"
}

@test "--rootfs-only: the image's root entry never widens access to DIR, it may narrow it" {
	mkdir -m 0700 priv
	for m in 755 700 750 1777; do
		mkdir "priv/$m"
		chmod "$m" "priv/$m"
		run -0 --separate-stderr tw-unpack --image oci:open --rootfs-only "priv/$m"
		assert_equal "$stderr" ""
		# owner kept; the mode keeps only bits DIR had (0777 & mode), and sticky
		case $m in 1777) want=777 ;; *) want=$m ;; esac
		assert_equal "$(mode_owner "priv/$m")" "$want 0 0"
		assert_equal "$(stat -c %a "priv/$m/pwn")" 4755
		# umoci's rootfs takes the entry as it is: 777 1000 (inside a 0700 bundle)
	done
	# a 0700 root entry narrows a 0755 DIR
	mkdir priv/c
	run -0 tw-unpack --image oci:closed --rootfs-only priv/c
	assert_equal "$(mode_owner priv/c)" "700 0 0"
	# the root of the tree is root's, whoever had DIR (as before)
	mkdir priv/u && chown 4242:4242 priv/u
	run -0 tw-unpack --image oci:open --rootfs-only priv/u
	assert_equal "$(mode_owner priv/u)" "755 0 0"
}

@test "--rootfs-only into a DIR that others can reach warns, naming the risk; a private one is quiet" {
	msg="users other than root can reach it: the image's setuid programs and private files will be open to them; unpack below a directory only root can enter (chmod 0700 its parent)"
	mkdir "$PUB/x"
	run -0 --separate-stderr tw-unpack --image oci:open --rootfs-only "$PUB/x"
	assert_equal "$output" ""
	assert_equal "$stderr" "tw-unpack: warning: $PUB/x: $msg"
	# why: any user reaches the setuid program and runs it
	nobody test -u "$PUB/x/pwn" -a -x "$PUB/x/pwn"
	# one user, the owner of a 0700 parent, can reach it too
	mkdir -m 0700 "$PUB/own"
	mkdir "$PUB/own/x"
	chown 1000 "$PUB/own"
	run -0 --separate-stderr tw-unpack --image oci:open --rootfs-only "$PUB/own/x"
	assert_equal "$stderr" "tw-unpack: warning: $PUB/own/x: $msg"
	# a 0700 root-owned parent: quiet, and nobody reaches the program
	mkdir -m 0700 "$PUB/images"
	mkdir "$PUB/images/x"
	run -0 --separate-stderr tw-unpack --image oci:open --rootfs-only "$PUB/images/x"
	assert_equal "$stderr" ""
	run ! nobody test -e "$PUB/images/x/pwn"
	run ! nobody cat "$PUB/images/x/shadow"
}

@test "scripts/tupperware.sh keeps images/, containers/ and oci-images/ root's only" {
	requires btrfs /bin/busybox
	setup_btrfs 512M
	chmod 0755 "$BTRFS"
	run -0 env STORE="$BTRFS" TW_HOME="$BATS_TEST_TMPDIR/home" "$BATS_TEST_DIRNAME/../scripts/tupperware.sh" --name "p$$" --rm true
	for d in images containers oci-images; do
		assert_equal "$(mode_owner "$BTRFS/$d")" "700 0 0"
	done
	run ! nobody ls "$BTRFS/images/"
	teardown_btrfs
}
