#!/usr/bin/env bash
# make bench: tw-pull against skopeo copy, pulling one big image from a
# local registry (Debian's docker-registry on 127.0.0.1) into fresh OCI
# layouts. Target: ratio <= 1.0.
#
# The image is built once and cached for the other benches:
#   BENCH_CACHE   directory of the cache (default /var/cache/tupperware-bench)
#   BENCH_IMAGE   the image, an OCI layout and tag: $BENCH_CACHE/oci:rootfs
#                 (a Debian bookworm minbase from debootstrap; a generated
#                 tree of random files when debootstrap cannot run)
#   BENCH_ROOTFS  the tree it was made from: $BENCH_CACHE/rootfs
# Delete $BENCH_CACHE to rebuild. Rows are printed like scripts/bench.sh's.
set -eu
cd "$(dirname "$0")/../.."
PATH="$PWD/bin:$PATH"

BENCH_CACHE=${BENCH_CACHE:-/var/cache/tupperware-bench}
BENCH_ROOTFS=$BENCH_CACHE/rootfs
BENCH_IMAGE=$BENCH_CACHE/oci:rootfs
RUNS=${BENCH_RUNS:-3}

say() { echo "bench/pull: $*" >&2; }

# random_tree DIR: >= 6,000 files, >= 60 MB, half of it incompressible.
random_tree() {
	python3 - "$1" <<-'PY'
		import os, random, sys
		root = sys.argv[1]
		rnd = random.Random(42)
		for i in range(6000):
		    d = os.path.join(root, "d%02d" % (i % 60), "e%02d" % (i % 7))
		    os.makedirs(d, exist_ok=True)
		    size = rnd.choice([100, 1000, 4000, 10000, 30000])
		    data = os.urandom(size // 2) + bytes(rnd.randrange(32, 64) for _ in range(size - size // 2))
		    with open(os.path.join(d, "f%05d" % i), "wb") as f:
		        f.write(data)
	PY
}

build_rootfs() {
	local tmp=$BENCH_CACHE/rootfs.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	if command -v debootstrap >/dev/null &&
		unshare -m --propagation private debootstrap --variant=minbase bookworm "$tmp" \
			http://deb.debian.org/debian >"$BENCH_CACHE/debootstrap.log" 2>&1; then
		say "rootfs from debootstrap (Debian bookworm minbase)"
	else
		say "debootstrap failed (see $BENCH_CACHE/debootstrap.log): a tree of random files instead"
		rm -rf "$tmp"
		mkdir -p "$tmp"
		random_tree "$tmp"
	fi
	mv "$tmp" "$BENCH_ROOTFS"
}

mkdir -p "$BENCH_CACHE"
if ! [ -f "$BENCH_CACHE/oci/index.json" ]; then
	[ -d "$BENCH_ROOTFS" ] || build_rootfs
	tw-commit -q --config.cmd /bin/sh "$BENCH_ROOTFS" "$BENCH_IMAGE" >/dev/null
fi
files=$(find "$BENCH_ROOTFS" | wc -l)
mb=$(du -sm "$BENCH_ROOTFS" | cut -f1)
say "image $BENCH_IMAGE: $files files, $mb MB"

work=$(mktemp -d)
BATS_FILE_TMPDIR=$work
# shellcheck source=bats/helpers_registry.bash
. bats/helpers_registry.bash
trap 'stop_registry; rm -rf "$work"' EXIT
start_registry
src=docker://$REGISTRY/bench:1
tw-pull -q --dest-tls-verify=false "oci:$BENCH_IMAGE" "$src" >/dev/null

# mean_s COMMAND: mean wall time in seconds over $RUNS runs, each into a
# fresh layout.
mean_s() {
	hyperfine -N --runs "$RUNS" --warmup 1 --prepare "rm -rf $work/dest" \
		--export-json "$work/h.json" "$1" >/dev/null 2>&1
	jq -r '.results[0].mean' "$work/h.json"
}

row() {
	printf '%-44s %11.3fs %11.3fs %8.2f\n' "$1" "$2" "$3" "$(echo "$2 / $3" | bc -l)"
}

tw=$(mean_s "$PWD/bin/tw-pull -q --src-tls-verify=false $src oci:$work/dest:1")
sk=$(mean_s "skopeo copy -q --src-tls-verify=false $src oci:$work/dest:1")
row "pull ${files} files ${mb}MB: tw-pull / skopeo" "$tw" "$sk"
tw=$(mean_s "$PWD/bin/tw-pull -q oci:$BENCH_IMAGE oci:$work/dest:1")
sk=$(mean_s "skopeo copy -q oci:$BENCH_IMAGE oci:$work/dest:1")
row "copy oci->oci: tw-pull / skopeo" "$tw" "$sk"
umoci init --layout "$work/base" && umoci new --image "$work/base:1"
tw=$(mean_s "$PWD/bin/tw-commit -q $BENCH_ROOTFS $work/dest:1")
sk=$(mean_s "umoci insert --image $work/base:1 $BENCH_ROOTFS /")
row "commit a rootfs: tw-commit / umoci insert" "$tw" "$sk"
