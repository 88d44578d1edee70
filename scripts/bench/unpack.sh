#!/usr/bin/env bash
# make bench, unpack: tw-unpack against umoci unpack (walkthrough step 4),
# and image → ready rootfs in a fresh btrfs subvolume: tw-unpack
# --rootfs-only against umoci unpack + cp -a (steps 4-6), on a loop-file
# btrfs made here and removed on exit. Times are medians of runs
# interleaved tw/baseline (wall clock, then cpu time); page cache warm.
#
# The images, each one gzip layer made by umoci repack, cached in
# /var/cache/tupperware-bench (tag "bench"), or $UNPACK_IMAGE (LAYOUT:TAG)
# alone when set:
# - unpack-image: generated, 8,000 files in 400 directories (text and
#   binary, 1 KiB-64 KiB), 12 files of 4 MiB, 400 symlinks, 100 hardlinks;
#   117 MB unpacked, 62 MB packed. Many small files: umoci's cost per file
#   shows.
# - unpack-debian: `debootstrap --variant=minbase bookworm` from Debian's
#   archive ($DEBIAN_MIRROR), when debootstrap is installed and the archive
#   answers; 6,800 files, 206 MB unpacked, 91 MB packed. Here inflating
#   the one gzip stream, which no tool can spread over cores, is most of
#   tw's time.
# Each image is also recompressed with zstd (tw-pull --dest-compress-format
# zstd, into the bench's scratch directory) for the zstd row: tw-unpack of
# the zstd layers against tw-unpack of the gzip ones.
set -eu

runs=${BENCH_RUNS:-3}
cache=/var/cache/tupperware-bench
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/lib.sh"

needs unpack root btrfs umoci mkfs.btrfs btrfs python3

work=$(mktemp -d /tmp/tw-bench-unpack.XXXXXX)
loop=''
cleanup() {
	cd /
	if mountpoint -q "$work/mnt"; then umount "$work/mnt"; fi
	if [ -n "$loop" ]; then losetup -d "$loop"; fi
	rm -rf "$work"
}
trap cleanup EXIT

# generate DIR: the bench image's tree, the same every time.
generate() {
	python3 - "$1" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(4)
words = [bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 9))) for _ in range(2000)]
files = []
for d in range(400):
    dd = os.path.join(root, "usr/lib/pkg%03d" % (d // 20), "d%03d" % d)
    os.makedirs(dd)
    for f in range(20):
        p = os.path.join(dd, "f%02d" % f)
        n = int(rnd.lognormvariate(8.3, 1.0)) % 65536 + 1024
        if f % 4 == 0:
            data = rnd.randbytes(n)
        else:
            data = b" ".join(rnd.choice(words) for _ in range(n // 6))[:n]
        with open(p, "wb") as fh:
            fh.write(data)
        os.chmod(p, 0o755 if f % 4 == 0 else 0o644)
        files.append(p)
os.makedirs(os.path.join(root, "usr/share/big"))
for i in range(12):
    with open(os.path.join(root, "usr/share/big/blob%02d" % i), "wb") as fh:
        fh.write(rnd.randbytes(2 << 20) + b"\0" * (2 << 20))
for i in range(400):
    os.symlink(os.path.relpath(files[i * 7], os.path.join(root, "usr")), os.path.join(root, "usr/link%03d" % i))
for i in range(100):
    os.link(files[i * 11], files[i * 11] + ".hard")
PY
}

# pack NAME: the tree made by "fill DIR" becomes the image $cache/NAME.
pack() {
	local name=$1
	echo "bench/unpack: building the bench image $cache/$name" >&2
	rm -rf "${cache:?}/$name" "$work/gen" "$work/gen-bundle"
	mkdir -p "$cache"
	umoci init --layout "$work/gen"
	umoci new --image "$work/gen:bench"
	umoci unpack --image "$work/gen:bench" "$work/gen-bundle" >/dev/null
	fill "$work/gen-bundle/rootfs" || { rm -rf "$work/gen" "$work/gen-bundle"; return 1; }
	umoci repack --image "$work/gen:bench" "$work/gen-bundle" >/dev/null
	rm -rf "$work/gen-bundle"
	mv "$work/gen" "$cache/$name"
}

images=()
if [ -n "${UNPACK_IMAGE:-}" ]; then
	images=("$UNPACK_IMAGE")
else
	fill() { generate "$1"; }
	[ -e "$cache/unpack-image/index.json" ] || pack unpack-image
	images=("$cache/unpack-image:bench")
	if command -v debootstrap >/dev/null; then
		fill() { debootstrap --variant=minbase bookworm "$1" "$mirror" >/dev/null 2>&1; }
		if [ -e "$cache/unpack-debian/index.json" ] || pack unpack-debian; then
			images+=("$cache/unpack-debian:bench")
		else
			echo "bench/unpack: no Debian image (debootstrap from $mirror failed)" >&2
		fi
	fi
fi

truncate -s 4G "$work/disk.img"
mkfs.btrfs -q -f "$work/disk.img" >/dev/null
loop=$(losetup --find --show "$work/disk.img")
mkdir "$work/mnt"
mount -t btrfs "$loop" "$work/mnt"
cd "$work/mnt"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.0fms", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# timed CMD: run CMD, adding its wall and cpu (user+sys) seconds to the
# lists $wall and $cpu.
timed() {
	/usr/bin/time -f '%e %U %S' -o "$work/time" bash -c "$1" >/dev/null 2>&1 ||
		{ echo "bench/unpack: failed: $1" >&2; exit 1; }
	read -r e u s <"$work/time"
	wall+="$e"$'\n'
	cpu+="$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')"$'\n'
}

# bench NAME TWCMD BASECMD: each $runs times, interleaved, cleaning up
# (untimed) after each. Rows: wall-clock medians, then cpu-time medians
# (the machine may be shared; cpu time is what others cannot inflate).
bench() {
	local name=$1 twcmd=$2 bcmd=$3 n wall cpu tw_wall tw_cpu b_wall b_cpu
	local tws='' twc='' bs='' bc=''
	for ((n = 0; n < runs; n++)); do
		sync
		wall='' cpu=''
		timed "$twcmd"
		tws+=$wall twc+=$cpu
		sync
		wall='' cpu=''
		timed "$bcmd"
		bs+=$wall bc+=$cpu
		eval "$clean"
	done
	tw_wall=$(median <<<"$tws") tw_cpu=$(median <<<"$twc")
	b_wall=$(median <<<"$bs") b_cpu=$(median <<<"$bc")
	row "$name" "$(ms "$tw_wall")" "$(ms "$b_wall")" "$(ratio "$tw_wall" "$b_wall")"
	row "    the same, cpu time (user+sys)" "$(ms "$tw_cpu")" "$(ms "$b_cpu")" "$(ratio "$tw_cpu" "$b_cpu")"
}

for image in "${images[@]}"; do
	# One untimed round first: a fresh btrfs allocates its first block
	# groups, and the image's blobs get into the page cache, for both tools.
	tw-unpack --image "$image" warm-tw
	umoci unpack --image "$image" warm-umoci >/dev/null 2>&1
	what="$(find warm-umoci/rootfs | wc -l) files, $(du -sm warm-umoci/rootfs | cut -f1) MB"
	rm -rf warm-tw warm-umoci
	sync

	clean='rm -rf tw umoci'
	bench "unpack $what (vs umoci)" \
		"tw-unpack --image $image tw" \
		"umoci unpack --image $image umoci"

	clean='btrfs subvolume delete tw-sub umoci-sub >/dev/null; rm -rf umoci'
	bench "  --rootfs-only into a subvolume (vs +cp -a)" \
		"btrfs subvolume create tw-sub && tw-unpack --image $image --rootfs-only tw-sub" \
		"umoci unpack --image $image umoci && btrfs subvolume create umoci-sub && cp -a umoci/rootfs/. umoci-sub/"

	# The same image with its layers in zstd (tw-pull recompresses it,
	# untimed): image → rootfs in a fresh subvolume, zstd against gzip.
	# The baseline is tw itself: gzip's one stream on one core is its floor.
	zimage=$work/zstd-$(basename "${image%:*}")
	tw-pull -q --dest-compress-format zstd "oci:$image" "oci:$zimage:bench" >/dev/null
	tw-unpack --image "$zimage:bench" warm-zstd
	rm -rf warm-zstd
	sync
	clean='btrfs subvolume delete tw-sub umoci-sub >/dev/null'
	bench "  zstd layers, --rootfs-only (vs gzip)" \
		"btrfs subvolume create tw-sub && tw-unpack --image $zimage:bench --rootfs-only tw-sub" \
		"btrfs subvolume create umoci-sub && tw-unpack --image $image --rootfs-only umoci-sub"
done
