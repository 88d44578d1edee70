# Helpers for tw-unpack's tests: test images built with umoci and python3's
# tarfile (test-only tools), and a comparator of unpacked trees, with umoci
# as the oracle. Load with `load helpers_unpack` after `load helpers`.
# shellcheck shell=bash

# tree_manifest DIR: one line per path below DIR (DIR itself is "."), with
# everything unpacking must get right: type, mode, owner, size, symlink
# target, hardlink group, device numbers, mtime (ns), xattrs and a digest of
# the content.
tree_manifest() {
	python3 - "$1" <<'EOF'
import hashlib, os, stat, sys
root = sys.argv[1]
paths = []
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        paths.append(os.path.relpath(os.path.join(d, n), root))
paths.sort()
first = {}
for p in ["."] + paths:
    full = os.path.join(root, p)
    st = os.lstat(full)
    kind = stat.S_IFMT(st.st_mode)
    extra = ""
    if stat.S_ISLNK(st.st_mode):
        extra = "-> " + os.readlink(full)
    elif stat.S_ISREG(st.st_mode):
        with open(full, "rb") as f:
            extra = hashlib.sha256(f.read()).hexdigest()[:16]
        if st.st_nlink > 1:
            key = (st.st_dev, st.st_ino)
            extra += " link=" + first.setdefault(key, p)
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        extra = "dev=%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    size = st.st_size if not stat.S_ISDIR(st.st_mode) else "-"
    try:
        xs = sorted(os.listxattr(full, follow_symlinks=False))
        xattrs = ",".join("%s=%s" % (x, os.getxattr(full, x, follow_symlinks=False).hex()) for x in xs)
    except OSError:
        xattrs = "?"
    print("%s %o %04o %d:%d %s mtime=%d %s [%s]" % (p, kind >> 12, stat.S_IMODE(st.st_mode),
          st.st_uid, st.st_gid, size, st.st_mtime_ns, extra, xattrs))
EOF
}

# assert_same_tree A B: the trees at A and B are the same, by tree_manifest.
assert_same_tree() {
	diff -u <(tree_manifest "$1") <(tree_manifest "$2")
}

# assert_same_tree_but_new_times A B: the same, but mtimes of the last
# three years (directories an unpack made without an entry, for which both
# umoci and tw take the time of the unpack) do not count.
assert_same_tree_but_new_times() {
	local since
	since=$(($(date +%s) - 3 * 365 * 86400))
	diff -u <(tree_manifest "$1" | new_times "$since") <(tree_manifest "$2" | new_times "$since")
}

new_times() {
	awk -v since="$1" '{ for (i = 1; i <= NF; i++) if ($i ~ /^mtime=/ && substr($i, 7) / 1e9 > since) $i = "mtime=new"; print }'
}

# tar_layer OUT.tar SPEC…: a hand-made layer with python3 tarfile, for what
# umoci repack would never write (whiteouts made by hand, evil paths).
# Each SPEC is TYPE:NAME[:ARG], TYPE one of dir, file (ARG = content),
# link (hardlink, ARG = target), sym (ARG = target), wh (a whiteout file).
tar_layer() {
	python3 - "$@" <<'EOF'
import io, sys, tarfile
out, specs = sys.argv[1], sys.argv[2:]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for s in specs:
        kind, name, arg = (s.split(":", 2) + [""])[:3]
        ti = tarfile.TarInfo(name)
        ti.mtime = 1600000000
        ti.uname = ti.gname = ""
        data = None
        if kind == "dir":
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
        elif kind in ("file", "wh"):
            ti.mode = 0o644
            data = arg.encode()
            ti.size = len(data)
        elif kind == "link":
            ti.type, ti.linkname = tarfile.LNKTYPE, arg
        elif kind == "sym":
            ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, arg, 0o777
        else:
            sys.exit("tar_layer: unknown type " + kind)
        t.addfile(ti, io.BytesIO(data) if data is not None else None)
EOF
}

# rich_image LAYOUT TAG: a three-layer image with every kind of entry
# unpacking must get right. Layer 1 (umoci repack): directories with odd
# modes and owners, a setuid file, hardlinks, symlinks, device nodes, a
# fifo, xattrs, set mtimes. Layer 2 (umoci repack): a deleted file and a
# replaced directory, which umoci writes as whiteouts. Layer 3 (by hand): a
# whiteout, an opaque directory with a new file, a file that replaces a
# directory, a hardlink to a lower file, whiteouts that must spare what the
# same layer made before them, a default ACL that new files inherit.
rich_image() {
	local layout=$1 tag=$2 work
	work=$(mktemp -d "$BATS_FILE_TMPDIR/rich.XXXXXX")
	umoci init --layout "$layout"
	umoci new --image "$layout:$tag"
	umoci unpack --image "$layout:$tag" "$work/b" >/dev/null
	local r=$work/b/rootfs
	mkdir -p "$r/bin" "$r/etc/conf.d" "$r/tmp" "$r/dev" "$r/home/user" "$r/opq/sub" "$r/gone-dir/x" "$r/srv" "$r/was-dir/sub"
	echo hello >"$r/bin/hello"
	cp /bin/busybox "$r/bin/busybox"
	chmod 4755 "$r/bin/busybox"
	chmod 2755 "$r/srv"
	chmod 1777 "$r/tmp"
	ln "$r/bin/busybox" "$r/bin/sh"
	ln "$r/bin/hello" "$r/etc/hello-link"
	ln -s busybox "$r/bin/ls"
	ln -s /etc/conf.d "$r/conf"
	ln -s ../nonexistent "$r/etc/dangling"
	mknod "$r/dev/null" c 1 3
	mknod "$r/dev/loop9" b 7 9
	mkfifo "$r/dev/fifo"
	echo secret >"$r/home/user/file"
	chown -R 1000:1000 "$r/home/user"
	chown 12345:54321 "$r/etc/conf.d"
	chmod 0600 "$r/home/user/file"
	mkdir -p "$r/opq2/old-dir"
	echo old >"$r/opq2/old"
	echo a >"$r/opq/a"
	echo b >"$r/opq/sub/b"
	echo deleted >"$r/etc/deleted"
	echo x >"$r/gone-dir/x/y"
	echo f >"$r/was-dir-file"
	setfattr_py "$r/bin/hello" user.greeting 6869207468657265
	setfattr_py "$r/etc/conf.d" user.dir 31
	# a default ACL (u::rwx,u:1000:r-x,g::r-x,m::rwx,o::r-x): what is made
	# in acl/ inherits it, also when unpacking
	mkdir "$r/acl"
	setfattr_py "$r/acl" system.posix_acl_default 0200000001000700ffffffff02000500e803000004000500ffffffff10000700ffffffff20000500ffffffff
	echo inherited >"$r/acl/file"
	mkdir "$r/acl/sub"
	# cap_net_bind_service=ep, a v2 file capability
	setfattr_py "$r/bin/busybox" security.capability 0100000200040000000000000000000000000000
	touch -h -d '2001-02-03 04:05:06.789' "$r/bin/hello" "$r/bin/ls" "$r/etc/conf.d" "$r/home/user/file"
	touch -d '1999-12-31 23:59:59' "$r/etc" "$r/home"
	umoci repack --image "$layout:$tag" "$work/b" >/dev/null
	rm -rf "$work/b"

	umoci unpack --image "$layout:$tag" "$work/b" >/dev/null
	rm "$work/b/rootfs/etc/deleted"
	rm -r "$work/b/rootfs/gone-dir"
	echo new >"$work/b/rootfs/etc/added"
	umoci repack --image "$layout:$tag" "$work/b" >/dev/null
	rm -rf "$work/b"

	tar_layer "$work/l3.tar" \
		dir:opq/ wh:opq/.wh..wh..opq file:opq/new:fresh \
		wh:bin/.wh.hello \
		file:was-dir:now-a-file \
		link:home/hard:etc/added \
		file:acl/plain:no-acl-in-the-layer dir:acl/plaindir/ \
		file:opq2/l3:kept wh:opq2/.wh..wh..opq \
		file:etc/l3:kept wh:etc/.wh.l3
	umoci raw add-layer --image "$layout:$tag" "$work/l3.tar" >/dev/null
	rm -rf "$work"
}

# setfattr_py FILE NAME HEXVALUE: set an xattr without the attr package.
setfattr_py() {
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), follow_symlinks=False)' "$@"
}

# layer_image LAYOUT TAG TAR…: an image whose layers are the given tars.
layer_image() {
	local layout=$1 tag=$2 t
	shift 2
	[ -d "$layout" ] || umoci init --layout "$layout"
	umoci new --image "$layout:$tag"
	for t in "$@"; do
		umoci raw add-layer --image "$layout:$tag" "$t" >/dev/null
	done
}

# blob_of LAYOUT TAG WHAT: the path of the manifest's config blob (WHAT =
# config) or of its last layer (WHAT = layer).
blob_of() {
	local layout=$1 tag=$2 m d
	m=$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$layout/index.json")
	case "$3" in
	config) d=$(jq -r .config.digest "$layout/blobs/${m/://}") ;;
	layer) d=$(jq -r '.layers[-1].digest' "$layout/blobs/${m/://}") ;;
	esac
	echo "$layout/blobs/${d/://}"
}

# dir_state DIR: everything about DIR and below, to show nothing changed.
dir_state() {
	tree_manifest "$1"
}
