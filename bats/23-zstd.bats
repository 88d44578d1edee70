#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# zstd layers end to end: tw-commit --compress, tw-unpack and tw-pull both
# ways. Debian's umoci (0.4.7) refuses zstd layers ("blob is not correct
# mediatype"), so skopeo (1.9.3, which reads and writes them) converts
# between gzip and zstd, and umoci unpacks the gzip side as the oracle.

load helpers
load helpers_registry
load helpers_unpack

setup_file() {
	requires root skopeo umoci python3 jq zstd /usr/bin/docker-registry
	export TREE=$BATS_FILE_TMPDIR/tree IMG=$BATS_FILE_TMPDIR/img
	special_tree "$TREE"
	rich_image "$IMG" rich
	umoci unpack --image "$IMG:rich" "$BATS_FILE_TMPDIR/ref" >/dev/null
	export EXISTING_TREE=$TREE # pull_bad's
	start_registry
}

teardown_file() {
	stop_registry
}

setup() {
	requires root skopeo umoci python3 jq zstd /usr/bin/docker-registry
	cd "$BATS_TEST_TMPDIR" || exit
}

# layers LAYOUT TAG: "MEDIATYPE DIGEST" per layer of TAG.
layers() {
	local m
	m=$(jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$1/index.json")
	jq -r '.layers[] | .mediaType + " " + .digest' "$1/blobs/${m/://}"
}

# diff_ids LAYOUT TAG: the sha256 of each layer, decompressed by the zstd,
# gzip or cat command, whichever its media type names.
diff_ids() {
	local mt d
	while read -r mt d; do
		case "$mt" in
		*+zstd) zstd -dc "$1/blobs/${d/://}" ;;
		*+gzip) gzip -dc "$1/blobs/${d/://}" ;;
		*) cat "$1/blobs/${d/://}" ;;
		esac | sha256sum | cut -d' ' -f1
	done < <(layers "$1" "$2")
}

@test "tw-commit --compress zstd|gzip|none: the layer's media type, one tar whatever the compression" {
	for c in zstd gzip none; do
		run -0 tw-commit -q --compress "$c" "$TREE" oci:"$c"
	done
	layers oci zstd | grep -q '^application/vnd.oci.image.layer.v1.tar+zstd sha256:'
	layers oci gzip | grep -q '^application/vnd.oci.image.layer.v1.tar+gzip sha256:'
	layers oci none | grep -q '^application/vnd.oci.image.layer.v1.tar sha256:'
	# zstd's own tool reads the blob, and the three carry the same tar: the
	# diff id the config names
	want=$(jq -r '.rootfs.diff_ids[0]' "$(blob_of oci zstd config)")
	for c in zstd gzip none; do
		[ "sha256:$(diff_ids oci "$c")" = "$want" ]
	done
	zstd -t -q "$(blob_of oci zstd layer)"
	# gzip is still the default
	tw-commit -q "$TREE" oci:default
	[ "$(layers oci default)" = "$(layers oci gzip)" ]
	# and zstd layers are reproducible as gzip ones are
	SOURCE_DATE_EPOCH=1700000000 tw-commit -q --compress zstd "$TREE" one
	SOURCE_DATE_EPOCH=1700000000 tw-commit -q --compress zstd "$TREE" two
	diff <(image_digests one latest) <(image_digests two latest)
}

@test "tw-unpack of tw-commit's zstd and uncompressed images gives the tree umoci gives from the gzip one" {
	for c in zstd gzip none; do
		tw-commit -q --compress "$c" "$TREE" oci:"$c"
	done
	umoci unpack --image oci:gzip ref >/dev/null
	tw-unpack --image oci:gzip gzip
	for c in zstd none; do
		run -0 tw-unpack --image oci:"$c" "$c"
		assert_same_tree ref/rootfs "$c/rootfs"
		diff <(jq -S '{process, root, mounts, hostname}' gzip/config.json) <(jq -S '{process, root, mounts, hostname}' "$c/config.json")
	done
	diff <(tree_state "$TREE") <(tree_state zstd/rootfs)
	# umoci 0.4.7 cannot be the oracle for zstd itself
	run umoci unpack --image oci:zstd umoci-zstd
	assert_failure
	assert_output --partial 'blob is not correct mediatype: application/vnd.oci.image.layer.v1.tar+zstd'
}

@test "tw-unpack of skopeo's zstd image (three layers, whiteouts, hardlinks, xattrs) = umoci unpack of the gzip one" {
	skopeo copy -q --dest-compress-format zstd "oci:$IMG:rich" oci:z:rich
	[ "$(layers z rich | grep -c '+zstd ')" = 3 ]
	run -0 tw-unpack --image z:rich bundle
	assert_same_tree "$BATS_FILE_TMPDIR/ref/rootfs" bundle/rootfs
	mkdir sub
	run -0 tw-unpack --image z:rich --rootfs-only sub
	assert_same_tree "$BATS_FILE_TMPDIR/ref/rootfs" sub
}

@test "skopeo reads tw-commit's zstd layer: converted to gzip, umoci unpacks the same tree" {
	tw-commit -q --compress zstd "$TREE" oci:z
	skopeo copy -q --dest-compress-format gzip oci:oci:z oci:g:z
	layers g z | grep -q '+gzip '
	# the config is untouched: the diff id skopeo computes is ours
	[ "$(image_digests g z | grep ^config)" = "$(image_digests oci z | grep ^config)" ]
	umoci unpack --image g:z bundle >/dev/null
	diff <(tree_state "$TREE") <(tree_state bundle/rootfs)
}

@test "tw-pull --dest-compress-format zstd and back to gzip: what skopeo does, same configs, same tars" {
	tw-pull -q --dest-compress-format zstd "oci:$IMG:rich" oci:tw:z
	skopeo copy -q --dest-compress-format zstd "oci:$IMG:rich" oci:sk:z
	[ "$(layers tw z | cut -d' ' -f1)" = "$(layers sk z | cut -d' ' -f1)" ]
	[ "$(layers tw z | grep -c '+zstd ')" = 3 ]
	# the compressed bytes depend on each one's zstd library version; the
	# config (diff ids) and the tars must match
	diff <(image_digests sk z | grep ^config) <(image_digests tw z | grep ^config)
	diff <(diff_ids sk z) <(diff_ids tw z)
	diff <(diff_ids "$IMG" rich) <(diff_ids tw z)
	# and back: zstd to gzip
	tw-pull -q --dest-compress-format gzip oci:tw:z oci:twg:g
	skopeo copy -q --dest-compress-format gzip oci:tw:z oci:skg:g
	[ "$(layers twg g | grep -c '+gzip ')" = 3 ]
	diff <(image_digests skg g | grep ^config) <(image_digests twg g | grep ^config)
	diff <(diff_ids skg g) <(diff_ids twg g)
	run -0 tw-unpack --image twg:g bundle
	assert_same_tree "$BATS_FILE_TMPDIR/ref/rootfs" bundle/rootfs
	# a zstd layer asked to stay zstd is copied as it is: same digests
	tw-pull -q --dest-compress-format zstd oci:tw:z oci:again:z
	diff <(image_digests tw z) <(image_digests again z)
	# as in skopeo, a layer the destination layout already holds is reused
	# as it is, whatever --dest-compress-format says
	tw-pull -q --dest-compress-format gzip oci:tw:z oci:tw:g
	skopeo copy -q --dest-compress-format gzip oci:tw:z oci:tw:skg
	[ "$(layers tw g)" = "$(layers tw z)" ] && [ "$(layers tw skg)" = "$(layers tw z)" ]
}

@test "tw-pull --dest-compress-level: the level changes the bytes, never the tar" {
	tw-commit -q --compress none "$TREE" oci:plain
	tw-pull -q --dest-compress-format zstd --dest-compress-level 1 oci:oci:plain oci:z:1
	tw-pull -q --dest-compress-format zstd --dest-compress-level 19 oci:oci:plain oci:z:19
	skopeo copy -q --dest-compress-format zstd --dest-compress-level 19 oci:oci:plain oci:sk:19
	[ "$(layers z 1)" != "$(layers z 19)" ]
	[ "$(diff_ids z 1)" = "$(diff_ids z 19)" ] && [ "$(diff_ids z 19)" = "$(diff_ids sk 19)" ]
	tw-pull -q --dest-compress-level 9 oci:oci:plain oci:g:9
	layers g 9 | grep -q '+gzip '
	[ "$(diff_ids g 9)" = "$(diff_ids z 1)" ]
}

@test "zstd through a registry both ways: tw-pull pushes and pulls what skopeo pushes and pulls" {
	tw-commit -q --compress zstd "$TREE" oci:z
	tw-pull -q --dest-tls-verify=false oci:oci:z "docker://$REGISTRY/zstd-tw:1"
	skopeo copy -q --dest-tls-verify=false oci:oci:z "docker://$REGISTRY/zstd-sk:1"
	# a push changes nothing of a zstd image: the same manifest, byte for byte
	diff <(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/zstd-sk:1") \
		<(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/zstd-tw:1")
	tw-pull -q --src-tls-verify=false "docker://$REGISTRY/zstd-sk:1" oci:tw:1
	skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/zstd-tw:1" oci:sk:1
	diff <(image_digests oci z) <(image_digests tw 1)
	diff <(image_digests sk 1) <(image_digests tw 1)
	run -0 tw-unpack --image tw:1 bundle
	diff <(tree_state "$TREE") <(tree_state bundle/rootfs)
	# a gzip image pushed as zstd, as skopeo pushes it
	tw-pull -q --dest-tls-verify=false --dest-compress-format zstd "oci:$IMG:rich" "docker://$REGISTRY/rich-tw:1"
	skopeo copy -q --dest-tls-verify=false --dest-compress-format zstd "oci:$IMG:rich" "docker://$REGISTRY/rich-sk:1"
	tw-pull -q --src-tls-verify=false "docker://$REGISTRY/rich-tw:1" oci:tw:rich
	skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/rich-sk:1" oci:sk:rich
	[ "$(layers tw rich | grep -c '+zstd ')" = 3 ]
	diff <(image_digests sk rich | grep ^config) <(image_digests tw rich | grep ^config)
	diff <(diff_ids sk rich) <(diff_ids tw rich)
}

@test "tw-pull of a zstd image into a docker-archive decompresses it" {
	tw-commit -q --compress zstd "$TREE" oci:z
	tw-pull -q oci:oci:z docker-archive:tw.tar:zstd:1
	# skopeo 1.9.3 cannot ("zstd compression is not supported for docker
	# images"; later versions can): it writes the archive from a gzip copy
	run skopeo copy -q oci:oci:z docker-archive:sk.tar:zstd:1
	assert_failure
	assert_output --partial 'zstd compression is not supported for docker images'
	skopeo copy -q --dest-compress-format gzip oci:oci:z oci:g:z
	skopeo copy -q oci:g:z docker-archive:sk.tar:zstd:1
	mkdir tw sk
	tar -xf tw.tar -C tw
	tar -xf sk.tar -C sk
	diff <(jq -S . sk/manifest.json) <(jq -S . tw/manifest.json)
	[ "sha256:$(sha256sum "tw/$(jq -r '.[0].Layers[0]' tw/manifest.json)" | cut -d' ' -f1)" = "$(jq -r '.rootfs.diff_ids[0]' "$(blob_of oci z config)")" ]
}

# bad input: exit status, one line (and the hint for usage errors), and
# nothing made or changed -----------------------------------------------

@test "tw-commit --compress with an unknown algorithm: usage error, no layout made or changed" {
	for bad in lz4 ZSTD '' zstd:chunked; do
		run tw-commit --compress "$bad" "$TREE" oci:x
		assert_failure 2
		assert_line --index 0 "tw-commit: --compress \"$bad\": want gzip, zstd or none"
		assert_line --index 1 "Try 'tw-commit --help' for more information."
		[ "${#lines[@]}" = 2 ]
		[ -z "$(ls -A .)" ]
	done
	tw-commit -q "$TREE" oci:old
	before=$(layout_state oci)
	run tw-commit --compress xz "$TREE" oci:new
	assert_failure 2
	[ "$(layout_state oci)" = "$before" ]
	[ -z "$(find . -maxdepth 2 -name '.*tw-commit*')" ]
}

@test "tw-pull: unknown compression format, bad levels" {
	pull_bad 2 'tw-pull: --dest-compress-format "xz": want gzip or zstd' --dest-compress-format xz "oci:$IMG:rich" oci:fresh:1
	[ ! -e fresh ]
	pull_bad 2 'tw-pull: --dest-compress-format "zstd:chunked": want gzip or zstd' --dest-compress-format zstd:chunked "oci:$IMG:rich" oci:existing:new
	pull_bad 2 'tw-pull: --dest-compress-level 23: zstd takes 1 to 22' --dest-compress-format zstd --dest-compress-level 23 "oci:$IMG:rich" oci:existing:new
	pull_bad 2 'tw-pull: --dest-compress-level 0: zstd takes 1 to 22' --dest-compress-format zstd --dest-compress-level 0 "oci:$IMG:rich" oci:existing:new
	pull_bad 2 'tw-pull: --dest-compress-level 10: gzip takes -2 to 9' --dest-compress-level 10 "oci:$IMG:rich" oci:existing:new
	pull_bad 2 'tw-pull: invalid argument "fast" for "--dest-compress-level" flag: must be an integer' --dest-compress-level fast "oci:$IMG:rich" oci:existing:new
	# skopeo fails only when it compresses a layer (after writing blobs),
	# with pgzip's message, and not at all when no layer needs it; tw-pull
	# before it reads anything
	skopeo copy -q --dest-compress-level 10 --dest-compress-format gzip oci:existing:old oci:sk:1
	tw-commit -q --compress none "$TREE" oci:plain
	run skopeo copy -q --dest-compress-level 10 --dest-compress-format gzip oci:oci:plain oci:sk:2
	assert_failure
	assert_output --partial 'gzip: invalid compression level: 10'
}

@test "tw-pull: zstd where it cannot go is refused, where skopeo silently writes something else" {
	# skopeo writes uncompressed layers into a docker-archive, keeps a dir:'s
	# layers as they come and gzip under --preserve-digests, and says nothing
	skopeo copy -q --dest-compress-format zstd "oci:$IMG:rich" docker-archive:sk.tar:a:b
	skopeo copy -q --dest-compress-format zstd "oci:$IMG:rich" dir:skdir
	run ! grep -q zstd skdir/manifest.json
	skopeo copy -q --preserve-digests --dest-compress-format zstd "oci:$IMG:rich" oci:skp:1
	diff <(image_digests "$IMG" rich) <(image_digests skp 1)
	# tw-pull says so and writes nothing
	pull_bad 2 'tw-pull: --dest-compress-format zstd: a docker-archive: destination holds uncompressed layers' \
		--dest-compress-format zstd "oci:$IMG:rich" docker-archive:tw.tar:a:b
	[ ! -e tw.tar ]
	pull_bad 2 'tw-pull: --dest-compress-format zstd: a dir: destination keeps layers as they come' \
		--dest-compress-format zstd "oci:$IMG:rich" dir:twdir
	[ ! -e twdir ]
	pull_bad 2 'tw-pull: --dest-compress-level: a docker-archive: destination holds uncompressed layers' \
		--dest-compress-level 3 "oci:$IMG:rich" docker-archive:tw.tar:a:b
	pull_bad 2 'tw-pull: --dest-compress-format zstd: recompressed layers get new digests, which --preserve-digests forbids' \
		--preserve-digests --dest-compress-format zstd "oci:$IMG:rich" oci:existing:new
	# a v2s2 manifest cannot name a zstd layer: skopeo fails after writing
	# the blobs, tw-pull before
	run skopeo copy -q --format v2s2 --dest-compress-format zstd "oci:$IMG:rich" oci:skv:1
	assert_failure
	assert_output --partial 'zstd compression is not supported for type'
	pull_bad 2 'tw-pull: --dest-compress-format zstd: a v2s2 manifest cannot name zstd layers (use --format oci)' \
		--format v2s2 --dest-compress-format zstd "oci:$IMG:rich" "docker://$REGISTRY/never:1"
	run skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/never:1"
	assert_failure
}

@test "tw-unpack: a corrupt zstd layer fails, and leaves no bundle and an empty --rootfs-only directory" {
	tw-commit -q --compress zstd "$TREE" oci:z
	cp -a oci bad
	blob=$(blob_of bad z layer)
	# garbage inside the frame, the digest fixed up to match: the zstd
	# decoder, not the digest check, must catch it
	python3 - "$blob" <<-'PY'
		import sys
		p = sys.argv[1]
		b = bytearray(open(p, "rb").read())
		for i in range(200, 260):
		    b[i] ^= 0x5a
		open(p, "wb").write(bytes(b))
	PY
	python3 - bad z "$blob" <<-'PY'
		import hashlib, json, os, sys
		layout, tag, blob = sys.argv[1:]
		new = hashlib.sha256(open(blob, "rb").read()).hexdigest()
		old = os.path.basename(blob)
		os.rename(blob, os.path.join(layout, "blobs/sha256", new))
		def put(obj):
		    data = json.dumps(obj).encode()
		    d = hashlib.sha256(data).hexdigest()
		    open(os.path.join(layout, "blobs/sha256", d), "wb").write(data)
		    return "sha256:" + d, len(data)
		index = json.load(open(os.path.join(layout, "index.json")))
		for m in index["manifests"]:
		    if m["annotations"]["org.opencontainers.image.ref.name"] == tag:
		        man = json.load(open(os.path.join(layout, "blobs", m["digest"].replace(":", "/"))))
		        for l in man["layers"]:
		            if l["digest"] == "sha256:" + old:
		                l["digest"] = "sha256:" + new
		        m["digest"], m["size"] = put(man)
		json.dump(index, open(os.path.join(layout, "index.json"), "w"))
	PY
	run tw-unpack --image bad:z bundle
	assert_failure 1
	assert_output --regexp '^tw-unpack: layer sha256:[0-9a-f]{64}: .*'
	[ "${#lines[@]}" = 1 ]
	[ ! -e bundle ]
	mkdir sub
	run tw-unpack --image bad:z --rootfs-only sub
	assert_failure 1
	[ -z "$(ls -A sub)" ]
	# the intact image still unpacks
	run -0 tw-unpack --image oci:z good
}

@test "tw-unpack: a gzip blob labelled zstd fails with zstd's word, nothing left" {
	tw-commit -q --compress gzip "$TREE" oci:g
	m=$(image_digests oci g | awk '$1 == "manifest" { print $2 }')
	# relabel the layer in a copy of the manifest, under a new tag
	python3 - oci "$m" <<-'PY'
		import hashlib, json, os, sys
		layout, m = sys.argv[1:]
		man = json.load(open(os.path.join(layout, "blobs", m.replace(":", "/"))))
		man["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+zstd"
		data = json.dumps(man).encode()
		d = hashlib.sha256(data).hexdigest()
		open(os.path.join(layout, "blobs/sha256", d), "wb").write(data)
		index = json.load(open(os.path.join(layout, "index.json")))
		index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + d,
		                           "size": len(data), "annotations": {"org.opencontainers.image.ref.name": "liar"}})
		json.dump(index, open(os.path.join(layout, "index.json"), "w"))
	PY
	run tw-unpack --image oci:liar bundle
	assert_failure 1
	assert_output --regexp '^tw-unpack: layer sha256:[0-9a-f]{64}: .*magic number mismatch'
	[ "${#lines[@]}" = 1 ]
	[ ! -e bundle ]
}

@test "README: the zstd section runs as written, its last line refused as it says" {
	mkdir -p rootfs images/alpine-zstd
	busybox_rootfs rootfs
	tw-commit -q rootfs oci-images/alpine:latest >/dev/null
	mapfile -t cmds < <(awk '/readme-zstd/ { found = 1; next }
		found && !inside && /^```/ { inside = 1; next }
		inside && /^```/ { exit }
		inside { print }' "$BATS_TEST_DIRNAME/../README.md")
	[ "${#cmds[@]}" = 4 ]
	for cmd in "${cmds[@]:0:3}"; do
		run bash -euc "${cmd%%   #*}"
		[ "$status" -eq 0 ] || fail "README command failed ($status): $cmd: $output"
	done
	layers oci-images/mine zstd | grep -q '+zstd '
	layers oci-images/alpine-zstd latest | grep -q '+zstd '
	diff <(tree_state rootfs) <(tree_state images/alpine-zstd)
	cmd=${cmds[3]//127.0.0.1:5000/$REGISTRY}
	run bash -euc "$cmd"
	assert_failure 2
	assert_line --index 0 'tw-pull: --dest-compress-format zstd: a v2s2 manifest cannot name zstd layers (use --format oci)'
}
