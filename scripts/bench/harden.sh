#!/usr/bin/env bash
# make bench: the hardened one-line container running /bin/true against
# `crun run` with crun's default spec (namespaces, /dev, read-only /sys,
# masked /proc, runc's 3 capabilities, no_new_privs, RLIMIT_NOFILE, a
# cgroup; the goal is <= 0.8x), then the cost of each hardening step on its
# own, and thread mode against child mode. Medians of 30 runs, all the
# commands in turn (lib.sh's rounds); ratio = tw / baseline.
set -eu

# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/lib.sh"

needs harden root crun hyperfine /bin/busybox

work=$(mktemp -d /tmp/tw-bench-harden.XXXXXX)
# The container id is this run's own: another run of the bench at the same
# time (or a killed one) would make crun refuse a shared one now and then.
trap 'crun delete -f tw-bench-harden-$$ 2>/dev/null || true; rm -rf "$work"' EXIT

# The busybox tree, and crun's default spec around it.
root=$work/bundle/rootfs
busybox_rootfs "$root"
(cd "$work/bundle" && crun spec)
jq '.process.terminal = false | .process.args = ["/bin/true"] | .root.path = "rootfs"' \
	"$work/bundle/config.json" >"$work/config.json"
mv "$work/config.json" "$work/bundle/config.json"

# The commands: the plain container of the walkthrough, then step by step.
base="tw-unshare -muinpf tw-pivot $root tw-mountproc"
limit="tw-limit --memory 256M --pids 1024"
cmds=(
	"crun run -b $work/bundle tw-bench-harden-$$"
	"$limit tw-unshare -muinpf tw-pivot $root tw-mountproc tw-mountsys tw-mountdev tw-harden /bin/true"
	"$base /bin/true"
	"$limit $base /bin/true"
	"$base tw-mountsys /bin/true"
	"$base tw-mountdev /bin/true"
	"$base tw-harden --no-mask /bin/true"
	"$base tw-mountdev tw-harden --no-mask /bin/true"
	"$base tw-mountdev tw-harden /bin/true"
	"$base tw-mountdev tw-harden --seccomp /bin/true"
	"$limit tw-unshare -muinpf tw-mountproc --target $root/proc tw-pivot $root tw-mountsys tw-mountdev tw-harden /bin/true"
	"$limit /bin/true"
	"/bin/true"
)

# crun refuses a hybrid cgroup layout whose cgroup2 has a controller
# (here hugetlb): both sides run in a private mount namespace without the
# cgroup2 mount, where crun uses the v1 hierarchies as tw-limit does.
json=$work/results.json
# shellcheck disable=SC2016
rounds "$json" 30 unshare -m sh -c 'if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi; "$@"' sh \
	-- "${cmds[@]}" >/dev/null 2>"$work/stderr" ||
	{ cat "$work/stderr" >&2; exit 1; }

med() { jq -r ".results[$1].median * 1000" "$json"; }
ms() { printf '%.2fms' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
compare() { # NAME WITH WITHOUT
	local a b
	a=$(med "$2") b=$(med "$3")
	row "$1" "$(ms "$a")" "$(ms "$b")" "$(ratio "$a" "$b")"
}

compare "harden: container /bin/true vs crun run" 1 0
compare "harden: + tw-limit (memory, pids; v1)" 3 2
# tw-limit's own cost: it forks PROG, whose child joins the cgroup (one
# Go start, as in the chain, where tw-unshare's child joins it).
compare "harden: tw-limit /bin/true vs /bin/true" 11 12
compare "harden: + tw-mountsys" 4 2
compare "harden: + tw-mountdev" 5 2
compare "harden: + tw-harden --no-mask (caps etc.)" 6 2
compare "harden: + mask /proc, nodev / (tw-harden)" 8 7
compare "harden: + --seccomp (tw-harden)" 9 8
# Thread mode (one tw start; tw-harden's steps made by PROG's process before
# execve) against the child that starts tw again, which the other order of
# tw-mountproc and tw-pivot keeps.
compare "harden: container, thread vs child mode" 1 10
