# Helpers for the tw-runc tests: a busybox bundle made the tw way
# (tw-commit, tw-unpack), config edits with jq, the leftovers check, and
# Debian's containerd on a private socket. Load after helpers.
# shellcheck shell=bash

# make_image LAYOUT: a busybox image, tagged bb, in an OCI layout.
make_image() {
	local dir=${BATS_FILE_TMPDIR:-$BATS_TMPDIR}
	mkdir -p "$dir/bbroot"
	busybox_rootfs "$dir/bbroot"
	tw-commit "$dir/bbroot" "$1:bb" >/dev/null
}

# make_bundle LAYOUT BUNDLE: a bundle of the busybox image, without a
# terminal, its program `sh -c 'sleep 1000'`, with a default cgroup.
make_bundle() {
	tw-unpack --image "$1:bb" "$2" >/dev/null
	config "$2" '.process.terminal = false | .process.args = ["sleep", "1000"]'
}

# config BUNDLE JQ [JQ-ARGS…]: edit BUNDLE/config.json with a jq filter.
config() {
	jq "${@:3}" "$2" "$1/config.json" >"$1/config.json.new"
	mv "$1/config.json.new" "$1/config.json"
}

# runc_args PROG…: set the bundle's program.
runc_args() {
	local json a
	json=$(for a in "$@"; do printf '%s' "$a" | jq -Rs .; done | jq -s .)
	config "$BUNDLE" ".process.args = $json"
}

# twr ARGS…: tw-runc with the test's --root and --log.
twr() {
	tw-runc --root "$RUNC_ROOT" --log "$RUNC_LOG" --log-format json "$@"
}

# status ID: the container's status, from `state`.
status() {
	twr state "$1" | jq -r .status
}

# wait_status ID STATUS: wait (up to 5 s) until the container has STATUS.
wait_status() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(status "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.05
	done
	echo "wait_status: $1 is $(status "$1" 2>&1), not $2" >&2
	return 1
}

# last_log_error: the msg of the last error line of --log, as
# containerd's shim shows it.
last_log_error() {
	jq -r 'select(.level == "error") | .msg' "$RUNC_LOG" | tail -n 1
}

# nothing_left ID: no state under --root, no cgroup of ID, no mount below
# the test's directory in the host's mount table (other mounts may come
# and go: the machine is shared).
nothing_left() {
	[ ! -e "$RUNC_ROOT/$1" ] || { echo "state of $1 left in $RUNC_ROOT" >&2; return 1; }
	local d
	for d in /sys/fs/cgroup/*/; do
		[ ! -e "$d$1" ] || { echo "cgroup $d$1 left" >&2; return 1; }
	done
	! awk '{ print $5 }' /proc/self/mountinfo | grep -F "$BATS_TEST_TMPDIR" >&2 ||
		{ echo "mounts left below $BATS_TEST_TMPDIR" >&2; return 1; }
}

# start_containerd: Debian's containerd with its root, state and sockets in
# a temp dir (root on $1 when given, e.g. a btrfs), the CRI plugin off.
# Sets CTRD (the dir), CTRD_SOCK and CTRD_PID.
start_containerd() {
	CTRD=${BATS_FILE_TMPDIR:-$BATS_TMPDIR}/containerd
	local root=${1:-$CTRD/root} i
	mkdir -p "$CTRD"
	# the shims' sockets go to /run/containerd/s whatever the config says
	CTRD_MADE_RUN=
	[ -e /run/containerd ] || CTRD_MADE_RUN=1
	export CTRD_MADE_RUN
	CTRD_SOCK=$CTRD/containerd.sock
	cat >"$CTRD/config.toml" <<-CONF
		version = 2
		root = "$root"
		state = "$CTRD/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$CTRD_SOCK"
		[ttrpc]
		  address = "$CTRD_SOCK.ttrpc"
	CONF
	containerd --config "$CTRD/config.toml" >"$CTRD/log" 2>&1 &
	CTRD_PID=$!
	export CTRD CTRD_SOCK CTRD_PID
	for ((i = 0; i < 100; i++)); do
		ctr -a "$CTRD_SOCK" version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "containerd did not start: $(tail -n 5 "$CTRD/log")" >&2
	return 1
}

# stop_containerd: stop it by its PID, then remove what it left (mounts of
# its root and state first).
stop_containerd() {
	local m
	if [ -n "${CTRD_PID:-}" ]; then
		kill "$CTRD_PID" 2>/dev/null || true
		wait "$CTRD_PID" 2>/dev/null || true
	fi
	CTRD_PID=''
	if [ -n "${CTRD_MADE_RUN:-}" ]; then
		rmdir /run/containerd/s /run/containerd 2>/dev/null || true
	fi
	[ -n "${CTRD:-}" ] || return 0
	awk -v d="$CTRD" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m"
		done
}

# twrd ARGS…: twr for the commands that leave a container running
# (create, run -d, exec -d): the container gets the runtime's stdio, so
# bats' `run` would wait for it; here the container's stdio are files
# (c.out, c.err in the test's dir) and the runtime's stderr is printed.
twrd() {
	local rc=0
	: >"$BATS_TEST_TMPDIR/c.err"
	twr "$@" </dev/null >"$BATS_TEST_TMPDIR/c.out" 2>"$BATS_TEST_TMPDIR/c.err" 3>&- || rc=$?
	cat "$BATS_TEST_TMPDIR/c.err"
	return "$rc"
}

# runc_setup_file: the busybox image every test makes its bundle of, in
# $LAYOUT.
runc_setup_file() {
	export LAYOUT=$BATS_FILE_TMPDIR/layout
	make_image "$LAYOUT"
}

# runc_setup: the test's tw-runc --root and --log ($RUNC_ROOT, $RUNC_LOG)
# and a fresh bundle of the image ($BUNDLE); the test runs in its own
# directory.
runc_setup() {
	RUNC_ROOT=$BATS_TEST_TMPDIR/root
	RUNC_LOG=$BATS_TEST_TMPDIR/log.json
	BUNDLE=$BATS_TEST_TMPDIR/bundle
	make_bundle "$LAYOUT" "$BUNDLE"
	cd "$BATS_TEST_TMPDIR" || return
}

# runc_teardown [RUNTIME ROOT]…: delete (--force) every container left
# under $RUNC_ROOT by tw-runc, and under each other ROOT by RUNTIME.
runc_teardown() {
	local rt root d
	set -- tw-runc "$RUNC_ROOT" "$@"
	while [ $# -ge 2 ]; do
		rt=$1 root=$2
		shift 2
		for d in "$root"/*; do
			[ -e "$d" ] || continue
			"$rt" --root "$root" delete --force "${d##*/}" || true
		done
	done
}

# userns_bundle [JQ]: $BUNDLE with its own user namespace, the container's
# root at host uid 100000, its rootfs owned by that uid (and every
# directory above it searchable, so that uid reaches it), no cgroup mount;
# then the jq filter JQ, when given.
userns_bundle() {
	chown -R 100000:100000 "$BUNDLE/rootfs"
	local d=$BUNDLE
	while [ "$d" != / ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	config "$BUNDLE" '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts = [.mounts[] | select(.type != "cgroup")] | '"${1:-.}"
}
