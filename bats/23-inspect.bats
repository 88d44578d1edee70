#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# tw-inspect: skopeo inspect and skopeo list-tags, with skopeo as the
# oracle on the same images, on every transport tw-pull reads.

load helpers
load helpers_registry

setup_file() {
	requires root skopeo jq python3 curl /usr/bin/docker-registry
	start_registry
	export IMG=$BATS_FILE_TMPDIR/img
	busybox_rootfs "$BATS_FILE_TMPDIR/rootfs"
	tw-commit -q --config.cmd /bin/sh --config.env A=B --config.env PATH=/bin "$BATS_FILE_TMPDIR/rootfs" "$IMG:1" >/dev/null
	tw-pull -q --dest-tls-verify=false "oci:$IMG:1" "docker://$REGISTRY/busybox:1" >/dev/null
	tw-pull -q --dest-tls-verify=false "oci:$IMG:1" "docker://$REGISTRY/busybox:2" >/dev/null
	cd "$BATS_FILE_TMPDIR" || exit
	skopeo copy -q "oci:$IMG:1" oci-archive:img.tar:1
	skopeo copy -q "oci:$IMG:1" dir:imgdir
	skopeo copy -q "oci:$IMG:1" docker-archive:img-d.tar:busybox:1
	export TRANSPORTS="oci:$IMG:1 oci-archive:$BATS_FILE_TMPDIR/img.tar:1 dir:$BATS_FILE_TMPDIR/imgdir docker-archive:$BATS_FILE_TMPDIR/img-d.tar docker://$REGISTRY/busybox:1"
}

teardown_file() {
	stop_registry
}

setup() {
	requires root skopeo jq python3 curl /usr/bin/docker-registry
	cd "$BATS_TEST_TMPDIR" || exit
}

# tls IMAGE: the flag a registry on 127.0.0.1 without TLS needs.
tls() {
	case "$1" in docker://*) echo --tls-verify=false ;; *) echo --tls-verify=true ;; esac
}

@test "tw-inspect prints skopeo inspect's summary on every transport" {
	for ref in $TRANSPORTS; do
		echo "# $ref"
		skopeo inspect "$(tls "$ref")" "$ref" >sk.json
		tw-inspect "$(tls "$ref")" "$ref" >tw.json
		# Debian's skopeo 1.9 has no LayersData yet (newer ones do): compare
		# the rest with it, LayersData with the manifest below.
		diff sk.json <(jq --indent 4 'del(.LayersData)' tw.json)
	done
	jq -e '.Name == "'"$REGISTRY"'/busybox" and (.RepoTags | sort) == ["1", "2"] and (.Env | index("A=B")) != null' tw.json
}

@test "tw-inspect: LayersData is the manifest's layers (digest, size, media type)" {
	for ref in "oci:$IMG:1" "docker://$REGISTRY/busybox:1"; do
		tw-inspect "$(tls "$ref")" "$ref" >tw.json
		skopeo inspect --raw "$(tls "$ref")" "$ref" >manifest.json
		diff <(jq -c '[.layers[] | {MIMEType: .mediaType, Digest: .digest, Size: .size}]' manifest.json) \
			<(jq -c '[.LayersData[] | {MIMEType, Digest, Size}]' tw.json)
		diff <(jq -c '.Layers' tw.json) <(jq -c '[.LayersData[].Digest]' tw.json)
	done
}

@test "tw-inspect --raw, --config and --raw --config print what skopeo prints, byte for byte" {
	for ref in $TRANSPORTS; do
		echo "# $ref"
		for flags in --raw --config "--config --raw"; do
			# shellcheck disable=SC2086 # flags is a list of words
			cmp <(skopeo inspect $flags "$(tls "$ref")" "$ref") <(tw-inspect $flags "$(tls "$ref")" "$ref")
		done
	done
}

@test "tw-inspect --no-tags leaves RepoTags empty, as skopeo's --no-tags does" {
	ref="docker://$REGISTRY/busybox:1"
	diff <(skopeo inspect --no-tags --tls-verify=false "$ref") \
		<(tw-inspect -n --tls-verify=false "$ref" | jq --indent 4 'del(.LayersData)')
}

@test "tw-inspect --tags prints skopeo list-tags' answer (registry, docker-archive)" {
	diff <(skopeo list-tags --tls-verify=false "docker://$REGISTRY/busybox") \
		<(tw-inspect --tags --tls-verify=false "docker://$REGISTRY/busybox")
	diff <(skopeo list-tags "docker-archive:$BATS_FILE_TMPDIR/img-d.tar") \
		<(tw-inspect --tags "docker-archive:$BATS_FILE_TMPDIR/img-d.tar")
}

@test "tw-inspect: bad input is a one-line error with skopeo's exit status class" {
	run --separate-stderr tw-inspect
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "tw-inspect: expected 1 argument(s), got 0"
	run --separate-stderr tw-inspect nope:x
	assert_failure 2
	assert_equal "${stderr_lines[0]}" 'tw-inspect: nope:x: unknown transport "nope"'
	run --separate-stderr tw-inspect --tags --tls-verify=false "docker://$REGISTRY/busybox:1"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "tw-inspect: docker://$REGISTRY/busybox:1: --tags takes a repository, without tag or digest"
	run --separate-stderr tw-inspect --tags "oci:$IMG:1"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "tw-inspect: --tags: oci: only docker:// and docker-archive: have tags to list"
	run --separate-stderr tw-inspect --tags --raw "docker://$REGISTRY/busybox"
	assert_failure 2
	# a missing image: skopeo fails too; one line, exit 1, nothing on stdout
	for ref in "oci:$IMG:nosuchtag" "docker://$REGISTRY/busybox:nosuchtag" oci:nosuchdir:1; do
		run skopeo inspect --tls-verify=false "$ref"
		assert_failure
		run --separate-stderr tw-inspect --tls-verify=false "$ref"
		assert_failure 1
		assert_output ''
		assert_equal "${#stderr_lines[@]}" 1
		[[ "$stderr" == tw-inspect:\ * ]]
	done
	# the image is untouched
	diff <(skopeo inspect "oci:$IMG:1") <(tw-inspect "oci:$IMG:1" | jq --indent 4 'del(.LayersData)')
}
