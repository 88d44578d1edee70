#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# tw-pull with credentials: a registry with htpasswd authentication.

load helpers
load helpers_registry

setup_file() {
	requires root python3 curl /usr/bin/docker-registry
	start_registry tw:secret
	export SRC=$BATS_FILE_TMPDIR/src
	busybox_rootfs "$BATS_FILE_TMPDIR/rootfs"
	tw-commit -q "$BATS_FILE_TMPDIR/rootfs" "$SRC:1" >/dev/null
}

teardown_file() {
	stop_registry
}

setup() {
	requires root python3 curl /usr/bin/docker-registry
	cd "$BATS_TEST_TMPDIR" || exit
}

@test "tw-pull --dest-creds pushes and --src-creds pulls" {
	run tw-pull -q --dest-tls-verify=false --dest-creds tw:secret "oci:$SRC:1" "docker://$REGISTRY/busybox:1"
	assert_success
	run tw-pull -q --src-tls-verify=false --src-creds tw:secret "docker://$REGISTRY/busybox:1" oci:back:1
	assert_success
	diff <(image_digests "$SRC" 1) <(image_digests back 1)
}

@test "tw-pull --authfile reads credentials as skopeo does" {
	printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REGISTRY" "$(printf tw:secret | base64)" >auth.json
	run tw-pull -q --tls-verify=false --authfile auth.json "oci:$SRC:1" "docker://$REGISTRY/busybox:2"
	assert_success
	REGISTRY_AUTH_FILE=auth.json run tw-pull -q --tls-verify=false "docker://$REGISTRY/busybox:2" oci:back:2
	assert_success
}

@test "tw-pull without or with wrong credentials is refused and makes nothing" {
	tw-pull -q --dest-tls-verify=false --dest-creds tw:secret "oci:$SRC:1" "docker://$REGISTRY/busybox:3"
	echo '{"auths": {}}' >none.json
	run tw-pull -q --src-tls-verify=false --authfile none.json "docker://$REGISTRY/busybox:3" oci:x:1
	assert_failure 1
	assert_output "tw-pull: initializing source docker://$REGISTRY/busybox:3: reading manifest 3 in $REGISTRY/busybox: authentication required"
	[ ! -e x ]
	run tw-pull -q --src-tls-verify=false --src-creds tw:wrong "docker://$REGISTRY/busybox:3" oci:x:1
	assert_failure 1
	assert_output --regexp "^tw-pull: initializing source docker://$REGISTRY/busybox:3: .*(unauthorized|authentication required).*"
	[ "${#lines[@]}" = 1 ]
	[ ! -e x ]
}
