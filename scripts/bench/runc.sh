#!/usr/bin/env bash
# make bench: tw-runc as an OCI runtime. create+start+wait+delete of a
# busybox bundle running /bin/true (`run`) against runc and crun on the same
# bundle; then `ctr run --rm IMAGE /bin/true` under Debian's containerd with
# tw-runc against runc as the shim's runtime. Medians of 20 runs (hyperfine,
# the commands in turn: lib.sh's rounds);
# ratio = tw / baseline.
set -eu

# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/lib.sh"

needs runc root runc crun hyperfine jq /bin/busybox

work=$(mktemp -d /tmp/tw-bench-runc.XXXXXX)
ctrd_pid=
made_run=
[ -e /run/containerd ] || made_run=1
cleanup() {
	if [ -n "$ctrd_pid" ]; then
		kill "$ctrd_pid" 2>/dev/null || true
		wait "$ctrd_pid" 2>/dev/null || true
	fi
	# the shims' sockets go to /run/containerd/s whatever the config says
	if [ -n "$made_run" ]; then
		rmdir /run/containerd/s /run/containerd 2>/dev/null || true
	fi
	awk -v d="$work" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r umount -l
	rm -rf "$work"
}
trap cleanup EXIT

# The image the tw way: a busybox tree committed, then unpacked as a bundle.
root=$work/tree
busybox_rootfs "$root"
tw-commit "$root" "$work/layout:bb" >/dev/null
tw-unpack --image "$work/layout:bb" "$work/bundle" >/dev/null
jq '.ociVersion = "1.0.2" | .process.terminal = false | .process.args = ["/bin/true"]' "$work/bundle/config.json" >"$work/config.json"
mv "$work/config.json" "$work/bundle/config.json"

med() { jq -r ".results[$2].median * 1000" "$1"; }
ms() { printf '%.2fms' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
compare() { # NAME JSON TW BASELINE
	local a b
	a=$(med "$2" "$3") b=$(med "$2" "$4")
	row "$1" "$(ms "$a")" "$(ms "$b")" "$(ratio "$a" "$b")"
}

# crun refuses a hybrid cgroup layout whose cgroup2 has a controller: all
# three run in a private mount namespace without the cgroup2 mount (tw-runc
# and runc use the v1 hierarchies either way).
b=$work/bundle
json=$work/direct.json
# shellcheck disable=SC2016
rounds "$json" 20 unshare -m sh -c 'if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi; "$@"' sh -- \
	"tw-runc --root $work/tw run --bundle $b tw-bench" \
	"runc --root $work/runc run --bundle $b tw-bench" \
	"crun --root $work/crun run --bundle $b tw-bench" >/dev/null 2>"$work/stderr" ||
	{ cat "$work/stderr" >&2; exit 1; }
compare "runc: run /bin/true (create+start+delete) vs runc" "$json" 0 1
compare "runc: run /bin/true (create+start+delete) vs crun" "$json" 0 2

# containerd, if installed: its root on the temp dir, the CRI plugin off.
if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
	echo "bench/runc: containerd not installed; ctr run skipped" >&2
	exit 0
fi
sock=$work/containerd.sock
cat >"$work/containerd.toml" <<-CONF
	version = 2
	root = "$work/containerd"
	state = "$work/containerd-state"
	disabled_plugins = ["io.containerd.grpc.v1.cri"]
	[grpc]
	  address = "$sock"
	[ttrpc]
	  address = "$sock.ttrpc"
CONF
containerd --config "$work/containerd.toml" >"$work/containerd.log" 2>&1 &
ctrd_pid=$!
for _ in $(seq 100); do
	ctr -a "$sock" version >/dev/null 2>&1 && break
	sleep 0.1
done
tw-pull "oci:$work/layout:bb" "oci-archive:$work/bb.tar:localhost/bb:latest" >/dev/null 2>&1
ctr -a "$sock" images import "$work/bb.tar" >/dev/null
json=$work/ctr.json
rounds "$json" 20 -- \
	"ctr -a $sock run --rm --fifo-dir $work/fifo --runc-binary $(command -v tw-runc) --runc-root $work/tw-ctr localhost/bb:latest tw-bench /bin/true" \
	"ctr -a $sock run --rm --fifo-dir $work/fifo --runc-root $work/runc-ctr localhost/bb:latest tw-bench /bin/true" \
	>/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
compare "runc: ctr run --rm /bin/true vs runc" "$json" 0 1
