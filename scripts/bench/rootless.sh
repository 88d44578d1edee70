#!/usr/bin/env bash
# make bench, rootless: the one-line container as an ordinary user,
#   tw-unshare -r -muinpf --hostname tupperware tw-mountproc --target ROOT/proc tw-pivot ROOT /bin/true
# (one start of tw), with --map-auto (newuidmap and newgidmap on the way)
# and with tw-pivot --force (two starts of tw, as any other applet in the
# chain takes them), against
# `bwrap --unshare-all --bind ROOT / --proc /proc --hostname tupperware /bin/true`
# run by the same user (goal <= 1.0x), and against the root chain
# (tw-unshare -muinpf … tw-pivot ROOT tw-mountproc /bin/true, run by root).
# With --map-auto also against util-linux's
# `unshare --map-auto --map-root-user -muinpf --fork /bin/true` (which runs
# the same two helpers), where its unshare knows --map-auto.
# With tw-mountsys --target ROOT/sys too, one start of tw against two.
# The user is a throwaway one (useradd, subordinate ranges), removed after.
# Medians of $BENCH_RUNS (30) runs by hyperfine, the user's commands in turn
# (lib.sh's rounds).
set -eu

# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/lib.sh"

needs rootless root hyperfine bwrap newuidmap useradd setpriv jq /bin/busybox tw-unshare

runs=${BENCH_RUNS:-30}
user=twbench$$
work=$(mktemp -d /tmp/tw-bench-rootless.XXXXXX)
chmod 755 "$work"
cleanup() {
	userdel "$user" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
useradd -M -d "$work" -s /bin/sh "$user"
chown "$user:" "$work"
grep -q "^$user:" /etc/subuid || {
	echo "bench/rootless: skipped (useradd gave $user no subordinate ids)" >&2
	exit 0
}
root=$work/rootfs
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups env -i PATH="$PATH" HOME="$work" "$@"; }
as_user "$bench_scripts/busybox-rootfs.sh" "$root"

median_ms() { jq -r --argjson i "$2" '.results[$i].median * 1000 | . * 100 | round / 100' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
hf() {
	local json=$1
	shift
	if ! hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$json" "$@" >"$work/log" 2>&1; then
		cat "$work/log" >&2
		return 1
	fi
}

chain="tw-unshare -r -muinpf --hostname tupperware tw-mountproc --target $root/proc tw-pivot $root /bin/true"
auto="tw-unshare -r --map-auto -muinpf --hostname tupperware tw-mountproc --target $root/proc tw-pivot $root /bin/true"
bwrap="bwrap --unshare-all --bind $root / --proc /proc --hostname tupperware /bin/true"
# tw-pivot --force: the same chain the way other applets take it, through a
# second start of tw in the user namespace
child="tw-unshare -r -muinpf --hostname tupperware tw-mountproc --target $root/proc tw-pivot --force $root /bin/true"
sys="tw-unshare -r -muinpf tw-mountproc --target $root/proc tw-mountsys --target $root/sys tw-pivot $root /bin/true"
sysforce="tw-unshare -r -muinpf tw-mountproc --target $root/proc tw-mountsys --target $root/sys tw-pivot --force $root /bin/true"
unshare="unshare --map-auto --map-root-user -muinpf --fork /bin/true"
unshare --help 2>/dev/null | grep -q -- --map-auto || unshare=
rounds "$work/user.json" "$runs" as_user -- \
	"$chain" "$auto" "$bwrap" "$child" "$sys" "$sysforce" ${unshare:+"$unshare"} >"$work/log" 2>&1 || {
	cat "$work/log" >&2
	exit 1
}
t=$(median_ms "$work/user.json" 0)
a=$(median_ms "$work/user.json" 1)
b=$(median_ms "$work/user.json" 2)
row "rootless chain (-r) vs bwrap --unshare-all" "${t}ms" "${b}ms" "$(ratio "$t" "$b")"
row "rootless chain (-r --map-auto) vs bwrap" "${a}ms" "${b}ms" "$(ratio "$a" "$b")"
if [ -n "$unshare" ]; then
	m=$(median_ms "$work/user.json" 6)
	row "rootless --map-auto vs unshare --map-auto" "${a}ms" "${m}ms" "$(ratio "$a" "$m")"
fi
c=$(median_ms "$work/user.json" 3)
row "rootless chain via tw's child vs bwrap" "${c}ms" "${b}ms" "$(ratio "$c" "$b")"
s=$(median_ms "$work/user.json" 4)
f=$(median_ms "$work/user.json" 5)
row "rootless + tw-mountsys vs via tw's child" "${s}ms" "${f}ms" "$(ratio "$s" "$f")"

# The root chain, on the same tree (root may pivot into the user's).
hf "$work/root.json" "tw-unshare -muinpf --hostname tupperware tw-pivot $root tw-mountproc /bin/true"
r=$(median_ms "$work/root.json" 0)
row "rootless chain (-r) vs the root chain" "${t}ms" "${r}ms" "$(ratio "$t" "$r")"
