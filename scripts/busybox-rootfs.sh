#!/usr/bin/env bash
# Usage: scripts/busybox-rootfs.sh DIR
# A minimal root filesystem from Debian's static busybox, made in DIR
# (created when missing): /bin/busybox with one symlink per applet at the
# place busybox names, the usual empty directories, /tmp 1777, and an
# /etc/passwd and /etc/group with root and nobody. The offline default
# image, the tests and the benchmarks all start from it.
set -eu
[ $# -eq 1 ] || { echo "usage: ${0##*/} DIR" >&2; exit 2; }
root=$1
[ -x /bin/busybox ] || { echo "${0##*/}: /bin/busybox missing: install busybox-static (make deps)" >&2; exit 1; }
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,dev,sys,tmp,etc,root,var}
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list-full); do
	[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
