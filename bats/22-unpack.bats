#!/usr/bin/env bats
# tw-unpack: an image becomes a bundle (or a rootfs in an empty directory)
# exactly as `umoci unpack` makes it; umoci is the oracle.
load helpers
load helpers_unpack

setup_file() {
	requires root umoci python3 jq
	IMG=$BATS_FILE_TMPDIR/img
	rich_image "$IMG" rich
	umoci unpack --image "$IMG:rich" "$BATS_FILE_TMPDIR/ref" >/dev/null
	export IMG
}

setup() {
	requires root umoci python3 jq
	cd "$BATS_TEST_TMPDIR" || return
}

teardown() {
	cd /
	teardown_btrfs
}

@test "tw-unpack gives the same tree as umoci unpack" {
	run -0 tw-unpack --image "$IMG:rich" bundle
	assert_same_tree "$BATS_FILE_TMPDIR/ref/rootfs" bundle/rootfs
	# the image's parts are all there: whiteout, opaque dir, replaced dir,
	# hardlinks, setuid, device nodes, symlinks, xattrs
	[ ! -e bundle/rootfs/etc/deleted ] && [ ! -e bundle/rootfs/gone-dir ]
	[ ! -e bundle/rootfs/bin/hello ] && [ ! -e bundle/rootfs/opq/a ] && [ ! -e bundle/rootfs/opq/sub ]
	[ "$(cat bundle/rootfs/opq/new)" = fresh ] && [ -f bundle/rootfs/was-dir ]
	[ "$(cat bundle/rootfs/etc/l3)" = kept ] && [ "$(ls -A bundle/rootfs/opq2)" = l3 ]
	[ "$(stat -c %i bundle/rootfs/bin/sh)" = "$(stat -c %i bundle/rootfs/bin/busybox)" ]
	[ "$(stat -c %i bundle/rootfs/home/hard)" = "$(stat -c %i bundle/rootfs/etc/added)" ]
	[ -u bundle/rootfs/bin/busybox ] && [ -k bundle/rootfs/tmp ] && [ -g bundle/rootfs/srv ]
	[ "$(stat -c '%F %t:%T' bundle/rootfs/dev/null)" = "character special file 1:3" ]
	[ "$(stat -c '%F %t:%T' bundle/rootfs/dev/loop9)" = "block special file 7:9" ]
	[ -p bundle/rootfs/dev/fifo ] && [ "$(readlink bundle/rootfs/conf)" = /etc/conf.d ]
	[ "$(stat -c %u:%g bundle/rootfs/etc/conf.d)" = 12345:54321 ]
	run -0 python3 -c 'import os; print(os.getxattr("bundle/rootfs/etc/hello-link", "user.greeting").decode())'
	assert_output "hi there"
}

@test "tw-unpack writes config.json from the image config, as umoci does" {
	run -0 tw-unpack --image "$IMG:rich" bundle
	[ "$(stat -c %a bundle)" = 700 ]
	diff <(jq -S '{process, root, mounts, hostname}' "$BATS_FILE_TMPDIR/ref/config.json") \
		<(jq -S '{process, root, mounts, hostname}' bundle/config.json)
	# no mtree and no umoci.json unless asked
	[ "$(ls bundle)" = "$(printf 'config.json\nrootfs')" ]
	# missing parents are made
	run -0 tw-unpack --image "$IMG:rich" new/parent/bundle
	[ "$(stat -c %a new/parent/bundle)" = 700 ] && [ -f new/parent/bundle/config.json ]
}

@test "tw-unpack --mtree also writes umoci's mtree manifest and umoci.json" {
	run -0 tw-unpack --mtree --image "$IMG:rich" bundle
	ls bundle/sha256_*.mtree
	run -0 jq -r .umoci_version bundle/umoci.json
	assert_output 2
	# so that umoci repack takes the bundle
	cp -a "$IMG" img
	echo more >bundle/rootfs/etc/more
	umoci repack --image img:rich bundle >/dev/null
	umoci unpack --image img:rich again >/dev/null
	[ "$(cat again/rootfs/etc/more)" = more ]
}

@test "tw-unpack takes :latest when no tag is given" {
	run -1 tw-unpack --image "$IMG" bundle
	assert_output "tw-unpack: $IMG: tag not found: latest"
	[ ! -e bundle ]
	umoci tag --image "$IMG:rich" latest
	run -0 tw-unpack --image "$IMG" bundle2
	assert_same_tree "$BATS_FILE_TMPDIR/ref/rootfs" bundle2/rootfs
	umoci rm --image "$IMG:latest"
}

@test "tw-unpack --uid-map/--gid-map shift owners as umoci does" {
	run -0 tw-unpack --uid-map 0:100000:65536 --gid-map 0:200000:65536 --image "$IMG:rich" bundle
	umoci unpack --uid-map 0:100000:65536 --gid-map 0:200000:65536 --image "$IMG:rich" ref >/dev/null
	assert_same_tree ref/rootfs bundle/rootfs
	[ "$(stat -c %u:%g bundle/rootfs/home/user/file)" = 101000:201000 ]
	diff <(jq -S .linux.uidMappings ref/config.json) <(jq -S .linux.uidMappings bundle/config.json)
}

@test "tw-unpack --rootless keeps owners in user.rootlesscontainers as umoci does" {
	run -0 tw-unpack --rootless --image "$IMG:rich" bundle
	umoci unpack --rootless --image "$IMG:rich" ref >/dev/null 2>&1
	assert_same_tree ref/rootfs bundle/rootfs
}

@test "tw-unpack --rootfs-only fills an empty directory with the same tree" {
	mkdir dir
	run -0 tw-unpack --image "$IMG:rich" --rootfs-only dir
	assert_same_tree "$BATS_FILE_TMPDIR/ref/rootfs" dir
	[ "$(ls "$BATS_TEST_TMPDIR")" = dir ]
}

@test "tw-unpack --rootfs-only into a fresh btrfs subvolume" {
	requires btrfs
	setup_btrfs 256M
	btrfs subvolume create "$BTRFS/alpine" >/dev/null
	run -0 tw-unpack --image "$IMG:rich" --rootfs-only "$BTRFS/alpine"
	assert_output ""
	assert_same_tree "$BATS_FILE_TMPDIR/ref/rootfs" "$BTRFS/alpine"
	run -0 btrfs subvolume show "$BTRFS/alpine"
	[ "$(stat -c %i "$BTRFS/alpine")" = 256 ]
}

@test "tw-unpack: odd layers come out as umoci makes them" {
	# duplicate entries, long and non-ASCII names, a hardlink to a symlink,
	# a directory replaced by a symlink and written through, a whiteout of
	# a directory this layer wrote into, implicit parents, whiteouts of
	# missing paths
	tar_layer l1.tar dir:a/ dir:a/b/ file:a/b/f:1 sym:a/s:b file:dup:one file:dup:two \
		"file:ünïcødé/$(printf 'x%.0s' {1..150})/long:L" link:a/hl-to-sym:a/s dir:c/ file:c/x:1
	tar_layer l2.tar sym:a/b:/c file:a/b/through:T wh:.wh.c dir:c/ file:c/new:N \
		file:deep/implicit/dirs/f:I wh:nosuchdir/.wh.x wh:a/.wh.nosuch
	layer_image img t l1.tar l2.tar
	run -0 tw-unpack --image img:t bundle
	umoci unpack --image img:t ref >/dev/null
	# directories made without an entry get the time of the unpack
	assert_same_tree_but_new_times ref/rootfs bundle/rootfs
	[ "$(cat bundle/rootfs/c/through)" = T ] && [ ! -e bundle/rootfs/c/x ] && [ "$(cat bundle/rootfs/dup)" = two ]
}

@test "tw-unpack: layer entries with ../ and absolute paths stay inside the rootfs" {
	local tag=esc$$
	tar_layer evil.tar dir:a/ "file:../../../../escape-$tag:x" "file:/escape-abs-$tag:y" "file:a/../../../b-$tag:z"
	layer_image img t evil.tar
	run -0 tw-unpack --image img:t bundle
	umoci unpack --image img:t ref >/dev/null
	assert_same_tree ref/rootfs bundle/rootfs
	[ "$(cat "bundle/rootfs/escape-$tag")" = x ] && [ "$(cat "bundle/rootfs/escape-abs-$tag")" = y ]
	[ ! -e "/escape-$tag" ] && [ ! -e "/escape-abs-$tag" ] && [ ! -e "/b-$tag" ]
	[ ! -e "$BATS_TEST_TMPDIR/escape-$tag" ] && [ ! -e "$BATS_TEST_TMPDIR/b-$tag" ]
}

@test "tw-unpack: a write through a symlink pointing outside lands inside the rootfs" {
	mkdir outside
	echo orig >outside/target
	tar_layer evil.tar "sym:victim:$BATS_TEST_TMPDIR/outside/target" file:victim:clobbered \
		"sym:abs:$BATS_TEST_TMPDIR/outside" "sym:rel:../../../../../../..$BATS_TEST_TMPDIR/outside" \
		"sym:up:.." file:abs/pwned-abs:1 file:rel/pwned-rel:2 file:up/pwned-up:3 \
		"sym:abs/deeper:../../../../" file:abs/deeper/pwned-deep:4
	layer_image img t evil.tar
	run -0 tw-unpack --image img:t bundle
	umoci unpack --image img:t ref >/dev/null
	# directories made for the symlinks' targets get the time of the unpack
	assert_same_tree_but_new_times ref/rootfs bundle/rootfs
	[ "$(ls -A outside)" = target ] && [ "$(cat outside/target)" = orig ]
	[ "$(cat bundle/rootfs/victim)" = clobbered ]
	[ "$(ls "$BATS_TEST_TMPDIR" | sort | tr '\n' ' ')" = "bundle evil.tar img outside ref " ]
	[ "$(cat "bundle/rootfs/$BATS_TEST_TMPDIR/outside/pwned-abs")" = 1 ]
	[ "$(cat bundle/rootfs/pwned-up)" = 3 ]
}

@test "tw-unpack: a hardlink to a path outside the rootfs fails and leaves nothing" {
	tar_layer evil.tar file:x:1 link:hl:../../../../../etc/passwd
	layer_image img t evil.tar
	run -1 tw-unpack --image img:t bundle
	assert_output --regexp '^tw-unpack: layer sha256:[0-9a-f]{64}: unpack entry: hl: link \.\./\.\./\.\./\.\./\.\./etc/passwd hl: no such file or directory$'
	[ ! -e bundle ]
}

@test "tw-unpack refuses an existing bundle and leaves it untouched" {
	mkdir -m 0750 bundle
	echo keep >bundle/file
	before=$(dir_state bundle)
	run -1 tw-unpack --image "$IMG:rich" bundle
	assert_output "tw-unpack: bundle: bundle already exists"
	[ "$(dir_state bundle)" = "$before" ]
	[ "$(stat -c %a bundle)" = 750 ]
	touch plainfile
	run -1 tw-unpack --image "$IMG:rich" plainfile
	assert_output "tw-unpack: plainfile: bundle already exists"
}

@test "tw-unpack --rootfs-only refuses a non-empty directory and a missing one" {
	mkdir dir && echo keep >dir/file
	before=$(dir_state dir)
	run -1 tw-unpack --image "$IMG:rich" --rootfs-only dir
	assert_output "tw-unpack: dir: directory not empty"
	[ "$(dir_state dir)" = "$before" ]
	run -1 tw-unpack --image "$IMG:rich" --rootfs-only nosuch
	assert_output "tw-unpack: open nosuch: no such file or directory"
	[ ! -e nosuch ]
}

@test "tw-unpack: a missing tag" {
	run -1 tw-unpack --image "$IMG:nosuch" bundle
	assert_output "tw-unpack: $IMG: tag not found: nosuch"
	[ ! -e bundle ]
}

@test "tw-unpack: a layout that is not a layout" {
	mkdir notlayout && echo '{}' >notlayout/index.json
	run -1 tw-unpack --image notlayout:t bundle
	assert_output "tw-unpack: notlayout: not an OCI image layout"
	run -1 tw-unpack --image nosuch bundle
	assert_output "tw-unpack: nosuch: not an OCI image layout"
	[ ! -e bundle ]
}

@test "tw-unpack: a blob whose content does not match its digest" {
	cp -a "$IMG" img
	local c l
	c=$(blob_of img rich config)
	sed -i 's/amd64/AMD64/' "$c"
	run -1 tw-unpack --image img:rich bundle
	assert_output --regexp '^tw-unpack: config sha256:[0-9a-f]{64}: content does not match its digest$'
	[ ! -e bundle ]

	rm -rf img && cp -a "$IMG" img
	l=$(blob_of img rich layer)
	python3 -c 'import gzip, sys; p = sys.argv[1]; d = gzip.decompress(open(p, "rb").read()); open(p, "wb").write(gzip.compress(d.replace(b"fresh", b"FRESH")))' "$l"
	run -1 tw-unpack --image img:rich bundle
	assert_output --regexp '^tw-unpack: layer sha256:[0-9a-f]{64}: content does not match its digest$'
	[ ! -e bundle ]
	mkdir dir
	run -1 tw-unpack --image img:rich --rootfs-only dir
	assert_output --regexp '^tw-unpack: layer sha256:[0-9a-f]{64}: content does not match its digest$'
	[ -z "$(ls -A dir)" ]
}

@test "tw-unpack: a truncated layer leaves no bundle and an empty --rootfs-only dir" {
	cp -a "$IMG" img
	l=$(blob_of img rich layer)
	python3 -c 'import sys; p = sys.argv[1]; d = open(p, "rb").read(); open(p, "wb").write(d[:len(d) // 2])' "$l"
	run -1 tw-unpack --image img:rich bundle
	assert_output --regexp '^tw-unpack: layer sha256:[0-9a-f]{64}: '
	[ ! -e bundle ]

	# a layer that is itself cut short, described by digests that match it
	python3 -c 'import io, tarfile
with tarfile.open("full.tar", "w") as t:
    ti = tarfile.TarInfo("big"); ti.size = 100000; t.addfile(ti, io.BytesIO(b"x" * 100000))
d = open("full.tar", "rb").read(); open("short.tar", "wb").write(d[:50000])'
	layer_image img2 t short.tar
	run -1 tw-unpack --image img2:t bundle
	assert_output --regexp '^tw-unpack: layer sha256:[0-9a-f]{64}: unpack entry: big: unexpected EOF$'
	[ ! -e bundle ]
	mkdir -m 0711 dir
	touch -d '2000-01-01' dir
	before=$(dir_state dir)
	run -1 tw-unpack --image img2:t --rootfs-only dir
	assert_output --regexp '^tw-unpack: layer sha256:[0-9a-f]{64}: unpack entry: big: unexpected EOF$'
	[ "$(dir_state dir)" = "$before" ]
}

@test "tw-unpack usage errors" {
	run -2 tw-unpack bundle
	assert_output --partial "tw-unpack: missing --image LAYOUT[:TAG]"
	run -2 tw-unpack --image "$IMG" --rootfs-only dir bundle
	assert_output --partial "tw-unpack: expected at most 0 argument(s), got 1"
	run -2 tw-unpack --image "$IMG"
	assert_output --partial "tw-unpack: expected 1 argument(s), got 0"
	run -2 tw-unpack --image "$IMG:" bundle
	assert_output --partial "tw-unpack: --image $IMG:: invalid tag \"\""
	run -2 tw-unpack --uid-map 0:x --image "$IMG" bundle
	assert_output --partial 'tw-unpack: --uid-map: invalid mapping "0:x"'
	run -0 tw-unpack --help
	assert_output --partial "Usage: tw-unpack"
	[ ! -e bundle ]
}

@test "tw-unpack: an interrupted unpack leaves no bundle and an empty --rootfs-only dir" {
	python3 -c 'import io, tarfile
with tarfile.open("many.tar", "w") as t:
    for d in range(50):
        ti = tarfile.TarInfo("d%03d" % d); ti.type = tarfile.DIRTYPE; t.addfile(ti)
        for f in range(200):
            ti = tarfile.TarInfo("d%03d/f%03d" % (d, f)); ti.size = 5; t.addfile(ti, io.BytesIO(b"hello"))'
	layer_image img t many.tar
	before=$(find img -type f -exec sha256sum {} + | sort)
	mkdir dir
	for dest in bundle "--rootfs-only dir"; do
		# shellcheck disable=SC2086 # $dest is two words for --rootfs-only
		tw-unpack --image img:t $dest 2>err &
		pid=$!
		until [ -e bundle/rootfs/d001 ] || [ -e dir/d001 ]; do sleep 0.01; done
		kill -INT "$pid"
		status=0
		wait "$pid" || status=$?
		[ "$status" -eq 1 ] && [ "$(cat err)" = "tw-unpack: interrupted" ]
		[ ! -e bundle ] && [ -z "$(ls -A dir)" ]
	done
	[ "$(find img -type f -exec sha256sum {} + | sort)" = "$before" ]
}
