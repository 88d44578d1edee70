#!/usr/bin/env bash
# make bench, container: the whole tw container in one line running
# /bin/true on a busybox rootfs,
#   tw-unshare -muinpf --hostname tupperware tw-pivot ROOT tw-mountproc /bin/true
# against bubblewrap (`bwrap --unshare-all --bind ROOT / --proc /proc --dev
# /dev /bin/true`: the goal is <= 1.0x), `crun run` and `runc run` of the
# same rootfs (bundles made here
# with `crun spec`/`runc spec`: no terminal, args ["/bin/true"]), and
# against util-linux `unshare -muinpf --mount-proc chroot ROOT /bin/true` as
# the floor. Then tw-unshare alone against unshare(1) (the cost of its
# re-exec), the start-up of `tw-mountproc --help` against a Go hello world
# (target <= 2.5x) and tw's package initialisation (GODEBUG=inittrace=1).
# Medians of $BENCH_RUNS (30) runs by hyperfine, tw and baseline in turn
# (lib.sh's rounds).
#
# Everything runs in a throwaway mount namespace (unshare -m) in which
# /sys/fs/cgroup is a plain cgroup2 mount: crun 1.8 refuses the host's
# hybrid cgroup layout. crun's bundle has no linux.resources (its device
# rules need an eBPF program, and raising RLIMIT_MEMLOCK for it is not
# permitted here); runc's is the unedited spec.
set -eu

# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/lib.sh"

needs container root hyperfine unshare chroot jq /bin/busybox tw-unshare
if [ -z "${TW_BENCH_NS:-}" ]; then
	exec env TW_BENCH_NS=1 unshare -m --propagation private bash "$0" "$@"
fi
mount -t cgroup2 none /sys/fs/cgroup

runs=${BENCH_RUNS:-30}
work=$(mktemp -d /tmp/tw-bench-container.XXXXXX)
# State a killed run may have left in /run/crun, /run/runc.
forget() {
	if command -v crun >/dev/null; then crun delete -f tw-bench-crun-$$ 2>/dev/null || true; fi
	if command -v runc >/dev/null; then runc delete -f tw-bench-runc-$$ 2>/dev/null || true; fi
}
forget
trap 'forget; rm -rf "$work"' EXIT
root=$work/rootfs

busybox_rootfs "$root"

# bundle DIR RUNTIME [JQ]: an OCI bundle for RUNTIME's own spec, edited.
bundle() {
	mkdir "$1"
	(cd "$1" && "$2" spec)
	jq --arg root "$root" '.process.terminal = false | .process.args = ["/bin/true"] | .root.path = $root'"${3:+ | $3}" \
		"$1/config.json" >"$1/config.json.new"
	mv "$1/config.json.new" "$1/config.json"
}

# median-ms JSON INDEX: the median of one hyperfine result, in ms.
median_ms() {
	jq -r --argjson i "$2" '.results[$i].median * 1000 | . * 100 | round / 100' "$1"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

# compare NAME TW BASELINE…: tw and the baselines in turn, a row per baseline.
compare() {
	local name=$1 tw=$2 json=$work/$RANDOM.json i=1 t b
	shift 2
	if ! rounds "$json" "$runs" -- "$tw" "$@" >"$work/log" 2>&1; then
		cat "$work/log" >&2
		return 1
	fi
	t=$(median_ms "$json" 0)
	for label in "${labels[@]}"; do
		b=$(median_ms "$json" "$i")
		row "$name vs $label" "${t}ms" "${b}ms" "$(ratio "$t" "$b")"
		i=$((i + 1))
	done
}

chain="tw-unshare -muinpf --hostname tupperware tw-pivot $root tw-mountproc /bin/true"
runtimes=() labels=()
if command -v bwrap >/dev/null; then
	runtimes+=("bwrap --unshare-all --bind $root / --proc /proc --dev /dev /bin/true") labels+=("bwrap")
fi
if command -v crun >/dev/null; then
	bundle "$work/crun" crun 'del(.linux.resources)'
	runtimes+=("crun run --bundle $work/crun tw-bench-crun-$$") labels+=("crun run")
fi
if command -v runc >/dev/null; then
	bundle "$work/runc" runc
	runtimes+=("runc run --bundle $work/runc tw-bench-runc-$$") labels+=("runc run")
fi
runtimes+=("unshare -muinpf --mount-proc chroot $root /bin/true") labels+=("unshare+chroot")
compare "start /bin/true: tw chain" "$chain" "${runtimes[@]}"

labels=("unshare(1)")
compare "tw-unshare -muinpf true" "tw-unshare -muinpf /bin/true" "unshare -muinpf /bin/true"

# Thread mode (one Go start) against the child that starts tw again (two):
# the same steps in the other order, which thread mode does not take.
labels=("child mode")
compare "chain: thread mode" "$chain" \
	"tw-unshare -muinpf --hostname tupperware tw-mountproc --target $root/proc tw-pivot $root /bin/true"

# Start-up of the one binary against the smallest Go program.
if command -v go >/dev/null; then
	mkdir "$work/hello"
	printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello, world") }\n' >"$work/hello/main.go"
	(cd "$work/hello" && printf 'module hello\n\ngo 1.21\n' >go.mod &&
		CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o hello .)
	labels=("Go hello")
	compare "tw-mountproc --help" "tw-mountproc --help" "$work/hello/hello"
	# The package initialisation every applet pays: the sum of the clock
	# times GODEBUG=inittrace=1 reports (median of 11 runs), and the
	# slowest packages.
	inits() { GODEBUG=inittrace=1 "$@" 2>&1 >/dev/null | awk '$1 == "init" { print $5, $2 }'; }
	init_ms() {
		for _ in $(seq 11); do inits "$@" | awk '{ s += $1 } END { printf "%.3f\n", s }'; done |
			sort -n | sed -n 6p
	}
	tw_init=$(init_ms tw-mountproc --help)
	hello_init=$(init_ms "$work/hello/hello")
	row "init: tw ($(inits tw-mountproc --help | wc -l) pkgs) vs Go hello" "${tw_init}ms" "${hello_init}ms" \
		"$(ratio "$tw_init" "$hello_init")"
	inits tw-mountproc --help | sort -rn | head -3 | while read -r ms pkg; do
		row "  init: $pkg" "${ms}ms" "" ""
	done
fi
