#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# tw-pull's skopeo copy flags beyond the basics: --format, --preserve-digests,
# --remove-signatures, --multi-arch, --additional-tag, --*-no-creds,
# --*-registry-token, --*-cert-dir. skopeo copy is the oracle: the same
# input to both, the same digests or the same refusal. (The compression
# flags are in 23-zstd.bats.)

load helpers
load helpers_registry

setup_file() {
	requires root skopeo umoci python3 jq openssl curl /usr/bin/docker-registry
	export SRC=$BATS_FILE_TMPDIR/src
	busybox_rootfs "$BATS_FILE_TMPDIR/rootfs"
	tw-commit -q --config.cmd /bin/sh "$BATS_FILE_TMPDIR/rootfs" "$SRC:1" >/dev/null
	mkdir -p "$BATS_FILE_TMPDIR/other" && echo other >"$BATS_FILE_TMPDIR/other/x"
	tw-commit -q "$BATS_FILE_TMPDIR/other" "$SRC:2" >/dev/null
	export EXISTING_TREE=$BATS_FILE_TMPDIR/other # pull_bad's
	start_registry
}

teardown_file() {
	stop_registry
}

setup() {
	requires root skopeo umoci python3 jq openssl curl /usr/bin/docker-registry
	cd "$BATS_TEST_TMPDIR" || exit
}

teardown() {
	stop_registry AUTH_REGISTRY
	stop_registry TLS_REGISTRY
	stop_fake_registry
}

@test "tw-pull --format v2s2 and back to oci: skopeo's manifests, byte for byte" {
	tw-pull -q --format v2s2 --dest-tls-verify=false "oci:$SRC:1" "docker://$REGISTRY/v2-tw:1"
	skopeo copy -q --format v2s2 --dest-tls-verify=false "oci:$SRC:1" "docker://$REGISTRY/v2-sk:1"
	skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/v2-tw:1" >tw.json
	skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/v2-sk:1" >sk.json
	jq -e '.mediaType == "application/vnd.docker.distribution.manifest.v2+json"' tw.json
	diff sk.json tw.json
	tw-pull -q -f oci --src-tls-verify=false "docker://$REGISTRY/v2-tw:1" oci:tw:1
	skopeo copy -q -f oci --src-tls-verify=false "docker://$REGISTRY/v2-sk:1" oci:sk:1
	diff <(image_digests sk 1) <(image_digests tw 1)
	# the round trip keeps the layers (the config is rewritten each way)
	diff <(image_digests "$SRC" 1 | grep ^layer) <(image_digests tw 1 | grep ^layer)
	# into an OCI layout too, as skopeo writes it
	tw-pull -q --format v2s2 "oci:$SRC:1" oci:twl:1
	skopeo copy -q --format v2s2 "oci:$SRC:1" oci:skl:1
	diff <(jq -S .manifests skl/index.json) <(jq -S .manifests twl/index.json)
}

@test "tw-pull --format: a bad format is a usage error, nothing written" {
	pull_bad 2 'tw-pull: --format "v2s1": want oci or v2s2' --format v2s1 "oci:$SRC:1" oci:existing:new
	pull_bad 2 'tw-pull: --format "docker": want oci or v2s2' -f docker "oci:$SRC:1" oci:fresh:1
	[ ! -e fresh ]
	run skopeo copy -q --format docker "oci:$SRC:1" oci:sk:1
	assert_failure
	assert_output --partial 'unknown format'
}

@test "tw-pull --preserve-digests: what skopeo keeps, and where it fails" {
	tw-pull -q --format v2s2 --dest-tls-verify=false "oci:$SRC:1" "docker://$REGISTRY/pd:1"
	want=sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/pd:1" | sha256sum | cut -d' ' -f1)
	# it wins over --format: both keep the v2s2 manifest in the OCI layout
	tw-pull -q --preserve-digests -f oci --src-tls-verify=false "docker://$REGISTRY/pd:1" oci:tw:1
	skopeo copy -q --preserve-digests -f oci --src-tls-verify=false "docker://$REGISTRY/pd:1" oci:sk:1
	diff <(jq -S .manifests sk/index.json) <(jq -S .manifests tw/index.json)
	[ "$(jq -r '.manifests[0].digest' tw/index.json)" = "$want" ]
	# registry to registry: the same digest, by both
	tw-pull -q --preserve-digests --src-tls-verify=false --dest-tls-verify=false "docker://$REGISTRY/pd:1" "docker://$REGISTRY/pd-tw:1"
	skopeo copy -q --preserve-digests --src-tls-verify=false --dest-tls-verify=false "docker://$REGISTRY/pd:1" "docker://$REGISTRY/pd-sk:1"
	[ "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/pd-tw:1" | sha256sum | cut -d' ' -f1)" = "$want" ]
	[ "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/pd-sk:1" | sha256sum | cut -d' ' -f1)" = "$want" ]
	# a docker-archive needs another manifest: both fail, nothing written
	run skopeo copy -q --preserve-digests "oci:$SRC:1" docker-archive:sk.tar:a:b
	assert_failure
	assert_output --partial 'writing manifest: Unsupported manifest type, need a Docker schema 2 manifest'
	pull_bad 1 'tw-pull: writing manifest: Unsupported manifest type, need a Docker schema 2 manifest' \
		--preserve-digests "oci:$SRC:1" docker-archive:tw.tar:a:b
	[ ! -e tw.tar ]
	tw-pull -q "oci:$SRC:1" docker-archive:tw.tar:a:b
}

@test "tw-pull --remove-signatures: signatures kept by default, refused by an OCI layout, dropped on request, as in skopeo" {
	skopeo copy -q "oci:$SRC:1" dir:signed
	printf '\xa3not-really-openpgp' >signed/signature-1 # a simple-signing signature, by its first byte
	tw-pull -q dir:signed dir:tw
	skopeo copy -q dir:signed dir:sk
	cmp signed/signature-1 tw/signature-1
	diff <(cd sk && sha256sum -- *) <(cd tw && sha256sum -- *)
	# an OCI layout cannot hold them: both fail; tw-pull leaves nothing
	# (skopeo leaves a half-made layout)
	run skopeo copy -q dir:signed oci:sk-oci:1
	assert_failure
	assert_output --partial 'Pushing signatures for OCI images is not supported'
	pull_bad 1 'tw-pull: can not copy signatures to oci:fresh:1: Pushing signatures for OCI images is not supported' dir:signed oci:fresh:1
	[ ! -e fresh ]
	pull_bad 1 'tw-pull: can not copy signatures to oci:existing:new: Pushing signatures for OCI images is not supported' dir:signed oci:existing:new
	# --remove-signatures: the image alone, the same as skopeo's
	tw-pull -q --remove-signatures dir:signed oci:tw-oci:1
	skopeo copy -q --remove-signatures dir:signed oci:sk-oci2:1
	diff <(image_digests sk-oci2 1) <(image_digests tw-oci 1)
	tw-pull -q --remove-signatures dir:signed dir:tw2
	[ ! -e tw2/signature-1 ]
}

# multi_image LAYOUT TAG: an OCI index of SRC's images 1 (linux/amd64) and 2
# (linux/arm64), tagged TAG in a copy of SRC at LAYOUT.
multi_image() {
	cp -a "$SRC" "$1"
	python3 - "$1" "$2" <<-'PY'
		import hashlib, json, os, sys
		layout, tag = sys.argv[1:]
		index = json.load(open(os.path.join(layout, "index.json")))
		byname = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]}
		ms = []
		for name, arch in (("1", "amd64"), ("2", "arm64")):
		    m = dict(byname[name])
		    del m["annotations"]
		    m["platform"] = {"os": "linux", "architecture": arch}
		    ms.append(m)
		data = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": ms}).encode()
		d = hashlib.sha256(data).hexdigest()
		open(os.path.join(layout, "blobs/sha256", d), "wb").write(data)
		index["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + d,
		                           "size": len(data), "annotations": {"org.opencontainers.image.ref.name": tag}})
		json.dump(index, open(os.path.join(layout, "index.json"), "w"))
	PY
}

# blobs LAYOUT: the names of its blobs, sorted.
blobs() {
	find "$1/blobs" -type f -printf '%f\n' | sort
}

@test "tw-pull --multi-arch system|all|index-only copies what skopeo copies" {
	multi_image multi m
	for how in system all; do
		tw-pull -q --multi-arch "$how" --dest-tls-verify=false oci:multi:m "docker://$REGISTRY/multi-tw-$how:1"
		skopeo copy -q --multi-arch "$how" --dest-tls-verify=false oci:multi:m "docker://$REGISTRY/multi-sk-$how:1"
		diff <(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/multi-sk-$how:1") \
			<(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/multi-tw-$how:1")
	done
	# a registry takes no index whose images it lacks
	run skopeo copy -q --multi-arch index-only --dest-tls-verify=false oci:multi:m "docker://$REGISTRY/multi-sk-index:1"
	assert_failure
	assert_output --partial 'blob unknown to registry'
	run tw-pull -q --multi-arch index-only --dest-tls-verify=false oci:multi:m "docker://$REGISTRY/multi-tw-index:1"
	assert_failure 1
	assert_output --regexp '^tw-pull: uploading manifest list failed, .*blob unknown to registry'
	[ "${#lines[@]}" = 1 ]
	for how in system all index-only; do
		tw-pull -q --multi-arch "$how" oci:multi:m "oci:tw-$how:1"
		skopeo copy -q --multi-arch "$how" oci:multi:m "oci:sk-$how:1"
		# (newer containers/image also writes index.json's own mediaType)
		diff <(jq -S .manifests "sk-$how/index.json") <(jq -S .manifests "tw-$how/index.json")
		diff <(blobs "sk-$how") <(blobs "tw-$how")
	done
	# system: this machine's image only (amd64 here, or none of them)
	[ "$(uname -m)" != x86_64 ] || diff <(image_digests "$SRC" 1) <(image_digests tw-system 1)
	# all: the index and both images; index-only: the index alone
	[ "$(jq -r '.manifests[0].mediaType' tw-all/index.json)" = application/vnd.oci.image.index.v1+json ]
	[ "$(blobs tw-all | wc -l)" -gt "$(blobs tw-index-only | wc -l)" ]
	[ "$(blobs tw-index-only | wc -l)" = 1 ]
}

@test "tw-pull --multi-arch: a bad choice, or with --all, is a usage error" {
	pull_bad 2 'tw-pull: --multi-arch "arm64": want system, all or index-only' --multi-arch arm64 "oci:$SRC:1" oci:existing:new
	pull_bad 2 'tw-pull: --all and --multi-arch cannot be used together' --all --multi-arch all "oci:$SRC:1" oci:existing:new
	run skopeo copy -q --all --multi-arch all "oci:$SRC:1" oci:sk:1
	assert_failure
	assert_output --partial 'Cannot use --all and --multi-arch flags together'
}

@test "tw-pull --additional-tag: a docker-archive with more tags, as skopeo writes it" {
	tw-pull -q --additional-tag busybox:extra --additional-tag example.org/bb:2,other:3 "oci:$SRC:1" docker-archive:tw.tar:busybox:1
	skopeo copy -q --additional-tag busybox:extra --additional-tag example.org/bb:2,other:3 "oci:$SRC:1" docker-archive:sk.tar:busybox:1
	mkdir tw sk
	tar -xf tw.tar -C tw
	tar -xf sk.tar -C sk
	diff <(jq -S . sk/manifest.json) <(jq -S . tw/manifest.json)
	jq -e '.[0].RepoTags == ["docker.io/library/busybox:1", "docker.io/library/busybox:extra", "example.org/bb:2", "docker.io/library/other:3"]' tw/manifest.json
	# each tag is one the docker-archive transport reads back
	tw-pull -q docker-archive:tw.tar:example.org/bb:2 oci:back:1
	layout_ok back:1
}

@test "tw-pull --additional-tag: untagged, malformed, or not a docker-archive: usage errors, nothing written" {
	pull_bad 2 'tw-pull: --additional-tag "busybox": want NAME:TAG' --additional-tag busybox "oci:$SRC:1" docker-archive:tw.tar:busybox:1
	[ ! -e tw.tar ]
	pull_bad 2 'tw-pull: --additional-tag "Busybox:1": invalid reference format: repository name must be lowercase' --additional-tag Busybox:1 "oci:$SRC:1" docker-archive:tw.tar:busybox:1
	[ ! -e tw.tar ]
	# skopeo ignores the tag for any other destination; tw-pull says so
	pull_bad 2 'tw-pull: --additional-tag: only a docker-archive: destination holds more tags' --additional-tag busybox:2 "oci:$SRC:1" oci:existing:new
	run skopeo copy -q --additional-tag busybox "oci:$SRC:1" docker-archive:sk.tar:busybox:1
	assert_failure
	assert_output --partial "additional-tag 'busybox' must be a tagged reference"
}

@test "tw-pull --src-no-creds/--dest-no-creds: anonymous despite --authfile, as skopeo" {
	start_registry --as AUTH_REGISTRY --dir "$BATS_TEST_TMPDIR/auth" --htpasswd tw:s3cret
	reg=$AUTH_REGISTRY
	printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$reg" "$(printf tw:s3cret | base64)" >auth.json
	tw-pull -q --authfile auth.json --dest-tls-verify=false "oci:$SRC:1" "docker://$reg/bb:1"
	run skopeo copy -q --authfile auth.json --dest-tls-verify=false --dest-no-creds "oci:$SRC:1" "docker://$reg/sk:1"
	assert_failure
	assert_output --partial 'authentication required'
	run tw-pull -q --authfile auth.json --dest-tls-verify=false --dest-no-creds "oci:$SRC:1" "docker://$reg/tw:1"
	assert_failure 1
	assert_output --regexp '^tw-pull: .*authentication required'
	[ "${#lines[@]}" = 1 ]
	run tw-pull -q --authfile auth.json --src-tls-verify=false --src-no-creds "docker://$reg/bb:1" oci:fresh:1
	assert_failure 1
	assert_output --regexp '^tw-pull: initializing source docker://.*authentication required'
	[ ! -e fresh ]
	# with the authfile's credentials: the same image skopeo gets
	tw-pull -q --authfile auth.json --src-tls-verify=false "docker://$reg/bb:1" oci:tw:1
	skopeo copy -q --authfile auth.json --src-tls-verify=false "docker://$reg/bb:1" oci:sk:1
	diff <(image_digests sk 1) <(image_digests tw 1)
	pull_bad 2 'tw-pull: --src-creds and --src-no-creds cannot be used together' --src-creds tw:x --src-no-creds "docker://$reg/bb:1" oci:existing:new
	pull_bad 2 'tw-pull: --dest-creds and --dest-no-creds cannot be used together' --dest-creds tw:x --dest-no-creds "oci:$SRC:1" "docker://$reg/bb:2"
}

@test "tw-pull --src-registry-token/--dest-registry-token: the Bearer token reaches the registry, as skopeo's does" {
	start_fake_registry token tok3n "$REGISTRY"
	proxy=$FAKE
	tw-pull -q --dest-tls-verify=false --dest-registry-token tok3n "oci:$SRC:1" "docker://$proxy/token-tw:1"
	skopeo copy -q --dest-tls-verify=false --dest-registry-token tok3n "oci:$SRC:1" "docker://$proxy/token-sk:1"
	tw-pull -q --src-tls-verify=false --src-registry-token tok3n "docker://$proxy/token-sk:1" oci:tw:1
	skopeo copy -q --src-tls-verify=false --src-registry-token tok3n "docker://$proxy/token-tw:1" oci:sk:1
	diff <(image_digests sk 1) <(image_digests tw 1)
	diff <(image_digests "$SRC" 1) <(image_digests tw 1)
	# a wrong token, or none, is refused by both
	run skopeo copy -q --src-tls-verify=false --src-registry-token wrong "docker://$proxy/token-sk:1" oci:sk:2
	assert_failure
	run tw-pull -q --src-tls-verify=false --src-registry-token wrong "docker://$proxy/token-sk:1" oci:fresh:1
	assert_failure 1
	assert_output --regexp '^tw-pull: initializing source docker://.*'
	[ "${#lines[@]}" = 1 ] && [ ! -e fresh ]
	run tw-pull -q --dest-tls-verify=false "oci:$SRC:1" "docker://$proxy/token-none:1"
	assert_failure 1
	[ "${#lines[@]}" = 1 ]
}

@test "tw-pull --src-cert-dir/--dest-cert-dir: TLS verified against the given CA, as skopeo" {
	start_registry --as TLS_REGISTRY --dir "$BATS_TEST_TMPDIR/tls" --tls
	reg=$TLS_REGISTRY
	certs=$BATS_TEST_TMPDIR/tls/certs
	# without the CA: unknown authority, for both
	run skopeo copy -q "oci:$SRC:1" "docker://$reg/bb:1"
	assert_failure
	assert_output --partial 'x509: certificate signed by unknown authority'
	run tw-pull -q "oci:$SRC:1" "docker://$reg/bb:1"
	assert_failure 1
	assert_output --regexp '^tw-pull: .*x509: certificate signed by unknown authority'
	[ "${#lines[@]}" = 1 ]
	# with it, verified
	tw-pull -q --dest-cert-dir "$certs" "oci:$SRC:1" "docker://$reg/bb:1"
	skopeo copy -q --dest-cert-dir "$certs" "oci:$SRC:1" "docker://$reg/sk:1"
	tw-pull -q --src-cert-dir "$certs" "docker://$reg/sk:1" oci:tw:1
	skopeo copy -q --src-cert-dir "$certs" "docker://$reg/bb:1" oci:sk:1
	diff <(image_digests sk 1) <(image_digests tw 1)
	# the source's CA is not the destination's
	run tw-pull -q --src-cert-dir "$certs" "oci:$SRC:1" "docker://$reg/bb:2"
	assert_failure 1
	# a missing directory: skopeo goes on without it (and fails on the
	# unknown authority); tw-pull refuses the typo first
	run skopeo copy -q --dest-cert-dir "$certs.typo" "oci:$SRC:1" "docker://$reg/bb:3"
	assert_output --partial 'x509: certificate signed by unknown authority'
	pull_bad 1 "tw-pull: --dest-cert-dir: stat $certs.typo: no such file or directory" --dest-cert-dir "$certs.typo" "oci:$SRC:1" "docker://$reg/bb:3"
	pull_bad 1 "tw-pull: --src-cert-dir: stat $SRC/index.json: not a directory" --src-cert-dir "$SRC/index.json" "docker://$reg/bb:1" oci:existing:new
}

@test "tw-pull --help lists skopeo's copy flags" {
	run -0 tw-pull --help
	for f in --format --dest-compress-format --dest-compress-level --preserve-digests --remove-signatures \
		--src-cert-dir --dest-cert-dir --src-no-creds --dest-no-creds --src-registry-token --dest-registry-token \
		--multi-arch --additional-tag; do
		grep -qE -- "$f( |\[)" <<<"$output" || fail "--help lacks $f"
	done
}
