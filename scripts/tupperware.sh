#!/usr/bin/env bash
# The walkthrough "Create a container without Moby", step by step, with tw.
#
# Usage: scripts/tupperware.sh [--name NAME] [--image IMAGE] [--store DIR]
#                              [--rm] [--fresh] [--demo] [CMD [ARGS…]]
#        scripts/tupperware.sh --teardown [--purge]
#        scripts/tupperware.sh --exec NAME [CMD [ARGS…]]
#        scripts/tupperware.sh --list [--json]
#
#   --name NAME    container name and hostname (env NAME, default tupperware)
#   --image IMAGE  any tw-pull source (env IMAGE, default: an offline busybox
#                  image built with tw-commit; docker://alpine:latest works
#                  where the network allows)
#   --store DIR    a directory on btrfs (env STORE; default: a loop-file
#                  btrfs under $TW_HOME, made once and reused)
#   --rm           delete the container's snapshot when it exits
#   --fresh        replace an existing container snapshot of that name
#   --demo         run the proofs the article shows, non-interactively
#   --harden       go beyond the article: /sys, /dev, runc's masks, caps and
#                  seccomp (tw-mountsys tw-mountdev tw-harden --seccomp) and
#                  limits (tw-limit, env MEMORY default 256M, PIDS 1024)
#   --net BRIDGE   the article's step 16: eth0 on BRIDGE (tw-net), next
#                  free address of its subnet (env SUBNET, 10.88.0.0/16)
#   --teardown     unmount the default loop-file store (--purge deletes it)
#   --exec NAME    run CMD (default /bin/sh) in the running container NAME,
#                  with its hardening (tw-enter --harden)
#   --list         the running containers (tw-ps; --json for JSON)
#   CMD            what runs in the container (env CMD, default /bin/sh)
#
# Env PULL_OPTS adds options to tw-pull (e.g. --src-tls-verify=false for a
# registry on 127.0.0.1); TW_HOME and LOOP_SIZE place the default store.
set -eu
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

NAME=${NAME:-tupperware}
IMAGE=${IMAGE:-}
rm_after=false fresh=false demo=false harden=false bridge=
while [ $# -gt 0 ]; do
	case "$1" in
	--name) NAME=$2; shift 2 ;;
	--image) IMAGE=$2; shift 2 ;;
	--store) STORE=$2; shift 2 ;;
	--rm) rm_after=true; shift ;;
	--fresh) fresh=true; shift ;;
	--demo) demo=true; shift ;;
	--harden) harden=true; shift ;;
	--net) bridge=$2; shift 2 ;;
	--teardown) shift; store_teardown "$@"; exit 0 ;;
	--exec)
		[ $# -ge 2 ] || die "--exec needs a container NAME (try --list)"
		tw_path
		exec tw-enter --harden "${@:2}" ;;
	--list) shift; tw_path; exec tw-ps "$@" ;;
	-h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option: $1 (try --help)" ;;
	*) break ;;
	esac
done
case "$NAME" in
'' | *[!A-Za-z0-9_.-]* | .*) die "$NAME: invalid name (letters, digits, . _ - only)" ;;
esac
[ $# -gt 0 ] || set -- ${CMD:-/bin/sh}
tw_path

# As a user (not root) every step runs in a user namespace where the user
# is root: with the subordinate ranges of /etc/subuid and /etc/subgid
# (--map-auto) when the user has them, so that the image's owners come out
# right; proc, sysfs and /dev are mounted before tw-pivot (README: Rootless).
rootless=false userns=() asroot=()
if [ "$(id -u)" -ne 0 ]; then
	rootless=true
	userns=(-r)
	if grep -Eq "^($(id -un)|$(id -u)):" /etc/subuid 2>/dev/null && command -v newuidmap >/dev/null; then
		userns+=(--map-auto)
		asroot=(tw-unshare -r --map-auto)
	fi
	[ -z "$bridge" ] || die "--net needs root (a bridge and a veth pair on the host)"
fi

say "== 1, 2. storage on btrfs, and the walkthrough's directories"
store_ensure
cd "$STORE"
mkdir -p images containers oci-images run
# An image holds setuid programs and private files: only root may reach
# its tree and the containers' (as Docker's and umoci's stores do).
chmod 0700 images containers oci-images

if [ -z "$IMAGE" ]; then
	seed_ensure
	IMAGE=$SEED_IMAGE
fi
img=$(image_name "$IMAGE")

say "== 3. fetch the image: tw-pull $IMAGE oci:oci-images/$img:latest"
if [ ! -f "oci-images/$img/index.json" ]; then
	# shellcheck disable=SC2086 # PULL_OPTS is a list of words
	tw-pull --quiet ${PULL_OPTS:-} "$IMAGE" "oci:oci-images/$img:latest" >/dev/null || {
		rm -rf "oci-images/$img"
		die "$IMAGE: could not fetch the image"
	}
fi

say "== 4, 5, 6. unpack it straight into a new subvolume: images/$img"
if [ ! -d "images/$img" ]; then
	tw-subvol create "images/$img" >/dev/null
	unpack=(tw-unpack)
	if $rootless && [ ${#asroot[@]} -eq 0 ]; then unpack+=(--rootless); fi
	"${asroot[@]}" "${unpack[@]}" --image "oci-images/$img:latest" --rootfs-only "images/$img" || {
		"${asroot[@]}" tw-subvol delete "images/$img" >/dev/null
		die "oci-images/$img: could not unpack the image"
	}
	tw-subvol ro "images/$img" true
fi

say "== 7. a copy-on-write snapshot for the container: containers/$NAME"
pidfile=run/$NAME.pid
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
	die "$NAME: a container of that name is running (pid $(cat "$pidfile"))"
fi
if [ -d "containers/$NAME" ] && $fresh; then
	"${asroot[@]}" tw-subvol delete -r "containers/$NAME" >/dev/null
fi
if [ -d "containers/$NAME" ]; then
	say "   (reusing the existing snapshot containers/$NAME; --fresh replaces it)"
else
	tw-snapshot "images/$img" "containers/$NAME" >/dev/null
fi

say "== 8. mark it"
touch "containers/$NAME/THIS_IS_TUPPERWAAAARE"

if $demo; then
	set -- /bin/sh -c '
		echo "--- hostname:  $(hostname)"
		echo "--- my pid:    $$"
		echo "--- ps:"; ps -o pid,user,comm
		echo "--- mounts:";  cat /proc/self/mountinfo
		echo "--- marker:";  ls /THIS_IS_TUPPERWAAAARE'
fi

say "== 9-15. new namespaces, hostname, pivot_root, /proc: $*"
host_before=$(awk '{ $1=""; $2=""; print }' /proc/self/mountinfo | sort)
chain=(tw-unshare "${userns[@]}" --mount --uts --ipc --pid --fork --hostname "$NAME")
[ -n "$bridge" ] || chain+=(--net) # with --net BRIDGE, tw-net makes it
if $rootless; then
	root=containers/$NAME
	chain+=(tw-mountproc --target "$root/proc")
	if $harden; then
		chain+=(tw-mountsys --target "$root/sys" tw-mountdev --target "$root/dev" tw-pivot "$root" tw-harden --seccomp)
		say "   (as a user: no tw-limit, which needs a delegated cgroup v2 subtree)"
	else
		chain+=(tw-pivot "$root")
	fi
else
	chain+=(tw-pivot "containers/$NAME" tw-mountproc)
fi
if $harden && ! $rootless; then
	chain=(tw-limit --memory "${MEMORY:-256M}" --pids "${PIDS:-1024}" "${chain[@]}"
		tw-mountsys tw-mountdev tw-harden --seccomp)
fi
if [ -n "$bridge" ]; then
	chain=(tw-net --bridge "$bridge" --subnet "${SUBNET:-10.88.0.0/16}" "${chain[@]}")
fi
status=0
(
	echo "$BASHPID" >"$pidfile"
	exec "${chain[@]}" "$@"
) || status=$?
rm -f "$pidfile"

if $demo; then
	host_after=$(awk '{ $1=""; $2=""; print }' /proc/self/mountinfo | sort)
	echo "--- the host, after: hostname $(hostname)"
	if [ "$host_before" = "$host_after" ]; then
		echo "--- the host's mount table is unchanged"
	else
		echo "--- the host's mount table CHANGED:"
		diff <(echo "$host_before") <(echo "$host_after") || true
		status=1
	fi
	[ -e "images/$img/THIS_IS_TUPPERWAAAARE" ] && { echo "--- the marker leaked into the image"; status=1; }
fi
if $rm_after; then
	say "== cleanup: deleting containers/$NAME"
	"${asroot[@]}" tw-subvol delete -r "containers/$NAME" >/dev/null
fi
exit "$status"
