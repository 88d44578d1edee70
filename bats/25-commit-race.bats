#!/usr/bin/env bats
# tw-commit of a running container's tree: a process of the container
# swaps a directory and a symlink to a host directory in a loop
# (renameat2 RENAME_EXCHANGE) while tw-commit reads the tree. Read by path
# (lstat, then open), a commit now and then packs the host's file; read
# through descriptors from the root down, never.

load helpers

setup() {
	requires root go /bin/busybox
	cd "$BATS_TEST_TMPDIR" || exit
}

# racer.go: the container's process. It makes race/d (a directory with a
# file) and race/s (a symlink to HOSTDIR, which means nothing inside the
# container), then exchanges them until /stop appears.
write_racer() {
	cat >racer.go <<-'GO'
		package main

		import (
			"os"
			"runtime"
			"syscall"
			"unsafe"
		)

		func main() {
			dir, host := os.Args[1], os.Args[2]
			os.MkdirAll(dir+"/d", 0o755)
			os.WriteFile(dir+"/d/f", []byte("CONTAINER!\n"), 0o644) // as long as the host file
			os.Symlink(host, dir+"/s")
			nr := map[string]uintptr{"amd64": 316, "arm64": 276}[runtime.GOARCH]
			a, _ := syscall.BytePtrFromString(dir + "/d")
			b, _ := syscall.BytePtrFromString(dir + "/s")
			cwd := -100 // AT_FDCWD
			os.WriteFile("/ready", nil, 0o644)
			for i := 0; ; i++ {
				syscall.Syscall6(nr, uintptr(cwd), uintptr(unsafe.Pointer(a)), uintptr(cwd), uintptr(unsafe.Pointer(b)), 2, 0) // RENAME_EXCHANGE
				if i%4096 == 0 {
					if _, err := os.Stat("/stop"); err == nil {
						return
					}
				}
			}
		}
	GO
}

@test "tw-commit of a tree a container races (dir <-> symlink to the host, RENAME_EXCHANGE): 100 commits, no host byte in any layer" {
	mkdir hostdir
	echo HOSTSECRET >hostdir/f
	chmod 0600 hostdir/f
	write_racer
	busybox_rootfs root
	(cd "$BATS_TEST_DIRNAME/.." && CGO_ENABLED=0 go build -o "$BATS_TEST_TMPDIR/root/racer" "$BATS_TEST_TMPDIR/racer.go")
	tw-unshare -muinpf tw-pivot root tw-mountproc /racer /race "$BATS_TEST_TMPDIR/hostdir" &
	pid=$!
	for _ in $(seq 100); do [ -e root/ready ] && break; sleep 0.1; done
	[ -e root/ready ]
	ok=0
	for i in $(seq 100); do
		tw-commit -q root/race "L:$i" >/dev/null 2>>errors && ok=$((ok + 1))
	done
	touch root/stop
	wait "$pid"
	# not one layer holds the host's bytes, and every commit succeeded
	for b in L/blobs/sha256/*; do
		if zcat -f "$b" | grep -qa HOSTSECRET; then
			fail "$b holds the host's file"
		fi
	done
	[ "$ok" = 100 ] || { cat errors; false; }
	run -0 jq '.manifests | length' L/index.json
	assert_output 100
	# what was packed is the container's: d is its directory or its symlink
	umoci unpack --image L:100 bundle >/dev/null
	if [ -L bundle/rootfs/d ]; then
		assert_equal "$(readlink bundle/rootfs/d)" "$BATS_TEST_TMPDIR/hostdir"
	else
		assert_equal "$(cat bundle/rootfs/d/f)" CONTAINER!
	fi
}
