#!/usr/bin/env bash
# make bench, net: the one-line container running /bin/true on a busybox
# rootfs, with its network made by tw-net (bridge, veth, address, route,
# lo, and both released when it ends),
#   tw-net -b twb0 --subnet 10.201.200.0/24 tw-unshare -muipf … /bin/true
# against the same chain without tw-net (tw-unshare -muinpf: an empty
# network namespace), and tw-net --pid (connecting a running container)
# against the same done with iproute2's ip(8). Medians of $BENCH_RUNS (30)
# runs by hyperfine. The bridge twb0 exists only during the bench.
set -eu

# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/lib.sh"

needs net root hyperfine jq ip nsenter /bin/busybox tw-net

runs=${BENCH_RUNS:-30}
br=twb0 net=10.201.200
work=$(mktemp -d /tmp/tw-bench-net.XXXXXX)
holder=''
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	tw-net --down -b "$br" >/dev/null 2>&1 || true
	ip link del twbv0 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
root=$work/rootfs

busybox_rootfs "$root"

median_ms() {
	jq -r --argjson i "$2" '.results[$i].median * 1000 | . * 100 | round / 100' "$1"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

# compare NAME TW BASELINE [HYPERFINE OPTIONS…]: one hyperfine run, one row.
compare() {
	local name=$1 tw=$2 base=$3 json=$work/$RANDOM.json
	shift 3
	if ! hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$json" "$@" "$tw" "$base" >"$work/log" 2>&1; then
		cat "$work/log" >&2
		return 1
	fi
	local t b
	t=$(median_ms "$json" 0)
	b=$(median_ms "$json" 1)
	row "$name" "${t}ms" "${b}ms" "$(ratio "$t" "$b")"
}

tw-net --up -b "$br" --subnet "$net.0/24"
chain="tw-unshare -muipf --hostname tupperware tw-pivot $root tw-mountproc /bin/true"
compare "start /bin/true: with tw-net / without" \
	"tw-net -b $br $chain" "tw-unshare -muinpf --hostname tupperware tw-pivot $root tw-mountproc /bin/true"

# Connecting a running network namespace: tw-net --pid against ip(8).
# Each run connects the holder's namespace and removes its eth0 again.
unshare -n sleep 600 &
holder=$!
sleep 0.2
cat >"$work/tw.sh" <<SH
tw-net --pid $holder -b $br -a $net.9 >/dev/null
nsenter -t $holder -n ip link del eth0
SH
cat >"$work/ip.sh" <<SH
ip link add twbv0 mtu 1500 master $br type veth peer name eth0 netns $holder
ip link set twbv0 up
nsenter -t $holder -n sh -c 'ip link set lo up && ip addr add $net.9/24 dev eth0 && ip link set eth0 up && ip route add default via $net.1'
nsenter -t $holder -n ip link del eth0
SH
compare "connect a running container: tw-net / ip(8)" "bash $work/tw.sh" "bash $work/ip.sh"

# What the netlink library adds to every applet's start: the package
# initialisation of net, net/netip and netlink (GODEBUG=inittrace=1, the
# median of 11 runs of tw-mountproc --help).
net_init_ms() {
	for _ in $(seq 11); do
		GODEBUG=inittrace=1 tw-mountproc --help 2>&1 >/dev/null |
			awk '$1 == "init" && ($2 ~ /vishvananda/ || $2 == "net" || $2 == "net/netip") { s += $5 } END { printf "%.3f\n", s }'
	done | sort -n | sed -n 6p
}
all_init_ms() {
	for _ in $(seq 11); do
		GODEBUG=inittrace=1 tw-mountproc --help 2>&1 >/dev/null | awk '$1 == "init" { s += $5 } END { printf "%.3f\n", s }'
	done | sort -n | sed -n 6p
}
n=$(net_init_ms)
a=$(all_init_ms)
row "init: net+netlink pkgs / all of tw's" "${n}ms" "${a}ms" "$(ratio "$n" "$a")"
