#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# tw-commit: a directory becomes an image in an OCI layout. umoci is the
# oracle: what it unpacks from our image must be the tree we packed.

load helpers
load helpers_registry

setup_file() {
	requires root umoci python3
	export TREE=$BATS_FILE_TMPDIR/tree
	special_tree "$TREE"
}

setup() {
	requires root umoci python3
	cd "$BATS_TEST_TMPDIR" || exit
}

# config_of LAYOUT TAG: the image config of TAG.
config_of() {
	local m c
	m=$(image_digests "$1" "$2" | awk '$1 == "manifest" { print $2 }')
	c=$(jq -r .config.digest "$1/blobs/${m%%:*}/${m#*:}")
	cat "$1/blobs/${c%%:*}/${c#*:}"
}

@test "tw-commit: umoci unpacks the tree we packed, special files and all" {
	run tw-commit "$TREE" oci/img:v1
	assert_success
	assert_output --regexp '^sha256:[0-9a-f]{64}$'
	layout_ok oci/img:v1
	umoci unpack --image oci/img:v1 bundle >/dev/null
	diff <(tree_state "$TREE") <(tree_state bundle/rootfs)
	# one gzip layer, an OCI manifest tagged v1 and nothing else
	[ "$(jq -r '.manifests | length' oci/img/index.json)" = 1 ]
	run image_digests oci/img v1
	[ "$(grep -c '^layer ' <<<"$output")" = 1 ]
	# the layer does not depend on when or where it was made
	tw-commit -q "$TREE" oci/other
	[ "$(image_digests oci/other latest | grep '^layer ')" = "$(grep '^layer ' <<<"$output")" ]
	m=$(jq -r '.manifests[0].digest' oci/img/index.json)
	jq -e '.layers[0].mediaType == "application/vnd.oci.image.layer.v1.tar+gzip"' "oci/img/blobs/sha256/${m#sha256:}"
}

@test "tw-commit: the busybox image runs its config (cmd, env, workingdir, user, author)" {
	busybox_rootfs root
	run tw-commit --config.cmd /bin/sh --config.cmd -c --config.cmd 'echo hi' \
		--config.entrypoint /bin/env --config.env A=1 --config.env B=2 --config.env A=3 \
		--config.workingdir /root --config.user 0:0 --author 'tw <tw@example.org>' \
		--history.comment 'first layer' root oci/bb
	assert_success
	run config_of oci/bb latest
	assert_success
	jq -e '.config.Cmd == ["/bin/sh", "-c", "echo hi"]' <<<"$output"
	jq -e '.config.Entrypoint == ["/bin/env"]' <<<"$output"
	jq -e '.config.Env == ["B=2", "A=3"]' <<<"$output"
	jq -e '.config.WorkingDir == "/root" and .config.User == "0:0"' <<<"$output"
	jq -e '.author == "tw <tw@example.org>" and .os == "linux"' <<<"$output"
	jq -e '(.rootfs.diff_ids | length) == 1 and .history[0].comment == "first layer" and .history[0].created_by == "tw-commit"' <<<"$output"
	# umoci reads the same config back
	umoci unpack --image oci/bb bundle >/dev/null
	jq -e '.process.args == ["/bin/env", "/bin/sh", "-c", "echo hi"] and .process.cwd == "/root"' bundle/config.json
	jq -e '.process.env | index("A=3") != null' bundle/config.json
}

@test "tw-commit: the same tree gives the same digests (reproducible)" {
	export SOURCE_DATE_EPOCH=1700000000
	a=$(tw-commit "$TREE" one)
	b=$(tw-commit "$TREE" two)
	[ "$a" = "$b" ]
	diff <(image_digests one latest) <(image_digests two latest)
	config_of one latest | jq -e '.created == "2023-11-14T22:13:20Z"'
}

@test "tw-commit: a second tag joins an existing layout; an existing tag is replaced, and said so" {
	export SOURCE_DATE_EPOCH=1700000000
	first=$(tw-commit -q "$TREE" oci:a)
	mkdir other && echo x >other/x
	run --separate-stderr tw-commit other oci:b
	assert_success
	[ "$stderr" = "" ]
	second=$output
	run image_digests oci a
	assert_line --index 0 "manifest $first"
	run --separate-stderr tw-commit other oci:a
	assert_success
	[ "$stderr" = "tw-commit: replacing oci:a (was $first)" ]
	[ "$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | sort | join(",")' oci/index.json)" = "a,b" ]
	run image_digests oci a
	assert_line --index 0 "manifest $second"
	layout_ok oci:a
	layout_ok oci:b
}

@test "tw-commit --from: DIR becomes a second layer; --overlayfs whiteouts delete files below" {
	tw-commit -q --config.cmd /bin/sh "$TREE" oci:base
	mkdir -p upper/etc upper/bin upper/home
	echo changed >upper/etc/motd
	mknod upper/bin/suid c 0 0                     # overlayfs whiteout: delete
	mkdir upper/home/user && setfattr_py trusted.overlay.opaque y upper/home/user
	echo new >upper/home/user/new
	run tw-commit --from oci:base --overlayfs upper oci:child
	assert_success
	run image_digests oci child
	[ "$(grep -c '^layer ' <<<"$output")" = 2 ]
	config_of oci child | jq -e '(.rootfs.diff_ids | length) == 2 and .config.Cmd == ["/bin/sh"] and (.history | length) == 2'
	umoci unpack --image oci:child bundle >/dev/null
	[ "$(cat bundle/rootfs/etc/motd)" = changed ]
	[ ! -e bundle/rootfs/bin/suid ]
	[ -e bundle/rootfs/bin/sgid ]
	[ "$(ls bundle/rootfs/home/user)" = new ]
	# the base image is untouched
	umoci unpack --image oci:base base >/dev/null
	diff <(tree_state "$TREE") <(tree_state base/rootfs)
}

# setfattr_py NAME VALUE PATH
setfattr_py() {
	python3 -c 'import os, sys; os.setxattr(sys.argv[3], sys.argv[1], sys.argv[2].encode())' "$@"
}

@test "tw-commit --from another layout copies the parent's layers" {
	tw-commit -q "$TREE" base:1
	mkdir d && echo x >d/x
	run tw-commit --from base:1 d child:1
	assert_success
	layout_ok child:1
	umoci unpack --image child:1 bundle >/dev/null
	[ -x bundle/rootfs/bin/busybox ] && [ "$(cat bundle/rootfs/x)" = x ]
}

@test "tw-commit of a missing DIR fails and makes no layout" {
	run tw-commit nosuch oci:x
	assert_failure 1
	assert_output "tw-commit: stat nosuch: no such file or directory"
	[ ! -e oci ]
	[ -z "$(ls -A .)" ]
}

@test "tw-commit of a missing DIR leaves an existing layout as it was" {
	tw-commit -q "$TREE" oci:x
	before=$(layout_state oci)
	run tw-commit nosuch oci:y
	assert_failure 1
	assert_output "tw-commit: stat nosuch: no such file or directory"
	[ "$(layout_state oci)" = "$before" ]
}

@test "tw-commit of a file, not a directory, fails" {
	echo x >file
	run tw-commit file oci:x
	assert_failure 1
	assert_output "tw-commit: file: not a directory"
	[ ! -e oci ]
}

@test "tw-commit into a directory that is not a layout refuses and touches nothing" {
	mkdir notalayout && echo keep >notalayout/file
	run tw-commit "$TREE" notalayout:x
	assert_failure 1
	assert_output "tw-commit: notalayout: not an OCI image layout"
	[ "$(ls -A notalayout)" = file ] && [ "$(cat notalayout/file)" = keep ]
}

@test "tw-commit with a malformed tag is a usage error" {
	run tw-commit "$TREE" 'oci:bad tag'
	assert_failure 2
	assert_line --index 0 'tw-commit: "oci:bad tag": invalid tag "bad tag"'
	assert_line --index 1 "Try 'tw-commit --help' for more information."
	[ ! -e oci ]
	run tw-commit "$TREE"
	assert_failure 2
	assert_line --index 0 "tw-commit: expected 2 argument(s), got 1"
}

@test "tw-commit --from a missing tag fails and leaves the layout as it was" {
	tw-commit -q "$TREE" oci:base
	before=$(layout_state oci)
	run tw-commit --from oci:nosuch "$TREE" oci:child
	assert_failure 1
	assert_output "tw-commit: oci:nosuch: no such tag"
	[ "$(layout_state oci)" = "$before" ]
}

@test "tw-commit --from a layout with a corrupt layer fails and leaves the destination as it was" {
	tw-commit -q "$TREE" base:1
	layer=$(image_digests base 1 | awk '$1 == "layer" { print $2 }')
	blob=base/blobs/sha256/${layer#sha256:}
	chmod u+w "$blob"
	printf 'garbage' | dd of="$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
	mkdir d && echo x >d/x
	run tw-commit --from base:1 d child:1
	assert_failure 1
	assert_output --regexp "^tw-commit: base:1: copy $layer: .*"
	[ "${#lines[@]}" = 1 ]
	[ ! -e child ]
	[ -z "$(find . -maxdepth 1 -name '.child*')" ]
}

# catches_int PID: until PID has its SIGINT handler (SigCgt bit 2), at most
# 10 s. A job started with & in a script ignores SIGINT until tw-commit asks
# for it, so a signal sent earlier, as on a loaded machine, would be lost.
catches_int() {
	local mask
	for _ in $(seq 100); do
		mask=$(awk '$1 == "SigCgt:" { print $2 }' "/proc/$1/status" 2>/dev/null)
		if [ -n "$mask" ] && (((16#$mask & 2) != 0)); then return 0; fi
		sleep 0.1
	done
	return 1
}

@test "tw-commit interrupted (SIGINT) leaves no layout, or the existing one as it was" {
	mkdir big
	head -c 300M /dev/urandom >big/random
	tw-commit big oci:x 2>err &
	pid=$!
	catches_int "$pid"
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" = 130 ]
	[ "$(cat err)" = "tw-commit: interrupted" ]
	[ ! -e oci ] && [ -z "$(find . -maxdepth 1 -name '.oci*')" ]
	tw-commit -q "$TREE" oci:old
	before=$(cat oci/index.json)
	tw-commit big oci:new 2>err &
	pid=$!
	catches_int "$pid"
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" = 130 ]
	[ "$(cat oci/index.json)" = "$before" ]
	layout_ok oci:old
	[ -z "$(find oci -maxdepth 1 -name '.umoci-*')" ]
}

@test "tw-commit --help shows the usage" {
	run tw-commit --help
	assert_success
	assert_line --index 0 "Usage: tw-commit [OPTIONS] DIR LAYOUT[:TAG]"
	assert_output --partial "--config.env"
}
