#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# tw-pull: skopeo copy semantics against a real registry (Debian's
# docker-registry on 127.0.0.1), with skopeo as the oracle.

load helpers
load helpers_registry

setup_file() {
	requires root skopeo umoci python3 curl /usr/bin/docker-registry
	start_registry
	# the busybox image, made offline and pushed with tw-pull
	export SRC=$BATS_FILE_TMPDIR/src
	busybox_rootfs "$BATS_FILE_TMPDIR/rootfs"
	tw-commit -q --config.cmd /bin/sh "$BATS_FILE_TMPDIR/rootfs" "$SRC:1" >/dev/null
	tw-pull -q --dest-tls-verify=false "oci:$SRC:1" "docker://$REGISTRY/busybox:1" >/dev/null
}

teardown_file() {
	stop_fake_registry
	stop_registry
}

setup() {
	requires root skopeo umoci python3 curl /usr/bin/docker-registry
	cd "$BATS_TEST_TMPDIR" || exit
}

teardown() {
	stop_fake_registry
}

@test "tw-pull: pull back what we pushed; stdout is the manifest digest" {
	run --separate-stderr tw-pull --src-tls-verify=false "docker://$REGISTRY/busybox:1" oci:pulled:1
	assert_success
	want=$(image_digests "$SRC" 1)
	assert_output "$(head -1 <<<"$want" | cut -d' ' -f2)"
	diff <(echo "$want") <(image_digests pulled 1)
	layout_ok pulled:1
	umoci unpack --image pulled:1 bundle >/dev/null
	[ -x bundle/rootfs/bin/busybox ]
	diff <(tree_state "$BATS_FILE_TMPDIR/rootfs") <(tree_state bundle/rootfs)
}

@test "tw-pull gives the digests skopeo copy gives (registry -> oci, oci -> oci, oci -> registry)" {
	tw-pull -q --src-tls-verify=false "docker://$REGISTRY/busybox:1" oci:tw:1
	skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/busybox:1" oci:sk:1
	diff <(image_digests sk 1) <(image_digests tw 1)
	tw-pull -q "oci:$SRC:1" oci:tw:2
	skopeo copy -q "oci:$SRC:1" oci:sk:2
	diff <(image_digests sk 2) <(image_digests tw 2)
	tw-pull -q --dest-tls-verify=false "oci:$SRC:1" "docker://$REGISTRY/tw:1"
	skopeo copy -q --dest-tls-verify=false "oci:$SRC:1" "docker://$REGISTRY/sk:1"
	diff <(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/sk:1") \
		<(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/tw:1")
}

@test "tw-pull through oci-archive:, dir: and docker-archive: matches skopeo" {
	for t in oci-archive:tw.tar:1 dir:twdir docker-archive:twd.tar:busybox:1; do
		tw-pull -q "oci:$SRC:1" "$t"
		tw-pull -q "$t" "oci:tw:${t%%:*}"
	done
	for t in oci-archive:sk.tar:1 dir:skdir docker-archive:skd.tar:busybox:1; do
		skopeo copy -q "oci:$SRC:1" "$t"
		skopeo copy -q "$t" "oci:sk:${t%%:*}"
	done
	for t in oci-archive dir; do
		diff <(image_digests sk "$t") <(image_digests tw "$t")
	done
	[ "$(image_digests tw dir)" = "$(image_digests "$SRC" 1)" ]
	# a docker-archive holds uncompressed layers, which the way back
	# compresses again, with the gzip of each one's containers/image
	# version: the config and the uncompressed layers must match
	diff <(image_digests sk docker-archive | grep '^config') <(image_digests tw docker-archive | grep '^config')
	for l in $(image_digests tw docker-archive | awk '$1 == "layer" { print $2 }'); do
		zcat "tw/blobs/sha256/${l#sha256:}" | sha256sum
	done >tw.diffs
	for l in $(image_digests sk docker-archive | awk '$1 == "layer" { print $2 }'); do
		zcat "sk/blobs/sha256/${l#sha256:}" | sha256sum
	done >sk.diffs
	diff sk.diffs tw.diffs
}

@test "tw-pull: one progress line per blob on stderr, nothing with --quiet, --digestfile" {
	run --separate-stderr tw-pull --digestfile d --src-tls-verify=false "docker://$REGISTRY/busybox:1" oci:a:1
	assert_success
	[ "$output" = "$(cat d)" ]
	for l in $(image_digests "$SRC" 1 | awk '$1 == "layer" { print $2 }'); do
		[ "$(grep -c "^Copying blob $l" <<<"$stderr")" = 1 ]
	done
	grep -q "^Copying config $(image_digests "$SRC" 1 | awk '$1 == "config" { print $2 }')" <<<"$stderr"
	run --separate-stderr tw-pull --quiet --src-tls-verify=false "docker://$REGISTRY/busybox:1" oci:b:1
	assert_success
	[ "$stderr" = "" ]
	assert_output --regexp '^sha256:[0-9a-f]{64}$'
}

@test "tw-pull makes the parents of an oci: destination, and adds a tag to an existing layout" {
	tw-pull -q "oci:$SRC:1" oci:a/b/c/img:1
	layout_ok a/b/c/img:1
	[ "$(stat -c %a a/b/c/img)" = 755 ]
	before=$(image_digests a/b/c/img 1)
	tw-pull -q --src-tls-verify=false "docker://$REGISTRY/busybox:1" oci:a/b/c/img:2
	[ "$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | sort | join(",")' a/b/c/img/index.json)" = "1,2" ]
	[ "$(image_digests a/b/c/img 1)" = "$before" ]
	layout_ok a/b/c/img:2
	[ -z "$(find a -name '.*tw-pull*')" ]
	# and into an existing empty directory
	mkdir empty
	tw-pull -q "oci:$SRC:1" oci:empty:1
	layout_ok empty:1
}

@test "tw-pull verifies TLS by default" {
	run tw-pull -q "docker://$REGISTRY/busybox:1" oci:x:1
	assert_failure 1
	assert_output "tw-pull: initializing source docker://$REGISTRY/busybox:1: fetching manifest 1 in $REGISTRY/busybox: pinging container registry $REGISTRY: Get \"https://$REGISTRY/v2/\": http: server gave HTTP response to HTTPS client"
	[ ! -e x ]
}

@test "tw-pull --policy FILE is honoured" {
	echo '{"default": [{"type": "reject"}]}' >reject.json
	run tw-pull -q --policy reject.json "oci:$SRC:1" oci:x:1
	assert_failure 1
	assert_output "tw-pull: source image rejected: Running image oci:$SRC:1 is rejected by policy."
	[ ! -e x ]
	run tw-pull --help
	assert_output --partial "insecureAcceptAnything"
}

# bad input: the exact message, and nothing created or changed -------------

# check_bad STATUS MESSAGE ARGS…: run tw-pull -q ARGS… into a fresh and an
# existing destination (holding another image); both must be as before.
check_bad() {
	local status=$1 msg=$2 before
	shift 2
	mkdir -p other && echo x >other/x
	tw-commit -q other existing:old >/dev/null
	before=$(layout_state existing)
	run tw-pull -q "$@" oci:fresh:1
	assert_failure "$status"
	assert_line --index 0 "$msg"
	[ "${#lines[@]}" = "$((status == 2 ? 2 : 1))" ]
	[ ! -e fresh ]
	run tw-pull -q "$@" oci:existing:new
	assert_failure "$status"
	[ "$(layout_state existing)" = "$before" ]
	[ -z "$(find . -name '.*tw-pull*')" ]
	layout_ok existing:old
}

@test "tw-pull: unknown transport" {
	check_bad 2 'tw-pull: foo:bar: unknown transport "foo"' foo:bar
}

@test "tw-pull: malformed reference" {
	check_bad 2 'tw-pull: docker://127.0.0.1/Busybox: invalid reference format: repository name must be lowercase' docker://127.0.0.1/Busybox
	check_bad 2 'tw-pull: busybox: expected TRANSPORT:REFERENCE' busybox
}

@test "tw-pull: malformed destination tag" {
	run tw-pull -q "oci:$SRC:1" 'oci:fresh:bad%tag'
	assert_failure 2
	assert_line --index 0 'tw-pull: oci:fresh:bad%tag: invalid image bad%tag'
	[ -z "$(ls -A .)" ]
}

@test "tw-pull: missing tag in a layout" {
	check_bad 1 "tw-pull: initializing source oci:$SRC:nosuch: no descriptor found for reference \"nosuch\"" "oci:$SRC:nosuch"
}

@test "tw-pull: a layout that is not a layout" {
	mkdir -p notalayout && echo x >notalayout/file
	check_bad 1 "tw-pull: notalayout: not an OCI image layout" oci:notalayout:1
	# nor as a destination
	run tw-pull -q "oci:$SRC:1" oci:notalayout:1
	assert_failure 1
	assert_output "tw-pull: notalayout: not an OCI image layout"
	[ "$(ls -A notalayout)" = file ]
}

@test "tw-pull: registry down (nothing listening)" {
	port=$(free_port)
	check_bad 1 "tw-pull: initializing source docker://127.0.0.1:$port/busybox:1: fetching manifest 1 in 127.0.0.1:$port/busybox: pinging container registry 127.0.0.1:$port: Get \"http://127.0.0.1:$port/v2/\": dial tcp 127.0.0.1:$port: connect: connection refused" \
		--src-tls-verify=false "docker://127.0.0.1:$port/busybox:1"
}

@test "tw-pull --retry-times retries network errors, then fails" {
	port=$(free_port)
	run --separate-stderr tw-pull --retry-times 1 --src-tls-verify=false "docker://127.0.0.1:$port/busybox:1" oci:x:1
	assert_failure 1
	[ "$(grep -c '^tw-pull: attempt 1 of 2 failed: .*connection refused; retrying in 1s$' <<<"$stderr")" = 1 ]
	[ ! -e x ]
}

@test "tw-pull: image not found (404)" {
	check_bad 1 "tw-pull: initializing source docker://$REGISTRY/nosuch:1: reading manifest 1 in $REGISTRY/nosuch: manifest unknown" \
		--src-tls-verify=false "docker://$REGISTRY/nosuch:1"
}

@test "tw-pull: registry answering 500" {
	start_fake_registry 500
	check_bad 1 "tw-pull: initializing source docker://$FAKE/busybox:1: reading manifest 1 in $FAKE/busybox: received unexpected HTTP status: 500 Internal Server Error" \
		--src-tls-verify=false "docker://$FAKE/busybox:1"
}

@test "tw-pull: a blob whose content does not match its digest" {
	cp -a "$SRC" corrupt
	layer=$(image_digests corrupt 1 | awk '$1 == "layer" { print $2 }')
	blob=corrupt/blobs/sha256/${layer#sha256:}
	printf 'garbage' | dd of="$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
	run tw-pull -q oci:corrupt:1 oci:fresh:1
	assert_failure 1
	assert_output --regexp "^tw-pull: writing blob: happened during read: Digest did not match, expected $layer, got sha256:[0-9a-f]{64}\$"
	[ "${#lines[@]}" = 1 ]
	[ ! -e fresh ]
	check_bad 1 "$output" oci:corrupt:1
}

@test "tw-pull: interrupted (SIGINT) mid-copy leaves the layout valid, and a re-run succeeds" {
	start_fake_registry proxy "$REGISTRY" # trickles blobs
	mkdir other && echo x >other/x
	tw-commit -q other dest:old >/dev/null
	before=$(cat dest/index.json)
	tw-pull --src-tls-verify=false "docker://$FAKE/busybox:1" oci:dest:new 2>err &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^Copying blob' err && break
		sleep 0.05
	done
	sleep 0.3
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" = 130 ]
	[ "$(tail -1 err)" = "tw-pull: interrupted" ]
	[ "$(cat dest/index.json)" = "$before" ]
	layout_ok dest:old
	[ -z "$(find . -name '.*tw-pull*')" ]
	# and a fresh destination is not made at all
	tw-pull -q --src-tls-verify=false "docker://$FAKE/busybox:1" oci:fresh:1 &
	pid=$!
	sleep 1
	kill -INT "$pid"
	wait "$pid" || true
	[ ! -e fresh ] && [ -z "$(find . -name '.*tw-pull*')" ]
	# the re-run succeeds
	run tw-pull -q --src-tls-verify=false "docker://$REGISTRY/busybox:1" oci:dest:new
	assert_success
	layout_ok dest:new
	layout_ok dest:old
}

@test "tw-pull --help shows the usage; bad flags are usage errors" {
	run tw-pull --help
	assert_success
	assert_line --index 0 "Usage: tw-pull [OPTIONS] SRC DST"
	run tw-pull --nosuch a b
	assert_failure 2
	assert_line --index 0 "tw-pull: unknown flag: --nosuch"
	run tw-pull --src-creds :pw "oci:$SRC:1" oci:x
	assert_failure 2
	assert_line --index 0 "tw-pull: --src-creds: empty user name"
	[ ! -e x ]
}
