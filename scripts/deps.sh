#!/usr/bin/env bash
# Install what building and testing tupperware needs, from Debian's archive
# and the Go module proxy only. Idempotent: a second run installs nothing.
set -eu

packages=(
	make git ca-certificates curl jq shellcheck
	btrfs-progs util-linux iproute2 procps psmisc nftables
	bats bats-support bats-assert
	busybox-static
	docker-registry skopeo umoci
	crun runc containerd
	hyperfine bubblewrap strace linux-perf
	debootstrap
	man-db groff-base bash-completion zsh
	uidmap
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian package starts a registry on :5000 through its init script on
# some systems; the tests start their own on a free port instead.

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi
cd "$(dirname "$0")/.."
go mod download
