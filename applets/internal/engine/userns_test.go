package engine

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The fork into a user namespace, for real: a helper process (this test binary again) forks
// into a user namespace held by a sleep and executes /bin/sh there; the
// child is the test's (CLONE_PARENT), which reaps it.

const envForkHelper = "TW_RUNC_FORK_HELPER"

// envForkUnshare has the helper make new pid and UTS namespaces in the
// user namespace (create's init in a joined one: joinuser.go).
const envForkUnshare = "TW_RUNC_FORK_UNSHARE"

func TestForkHelper(t *testing.T) {
	ns := os.Getenv(envForkHelper)
	if ns == "" {
		t.Skip("a helper of TestForkIntoUserNS")
	}
	fd, err := unix.Open(ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Printf("open: %v\n", err)
		return
	}
	exe, err := unix.Open("/bin/sh", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Printf("open: %v\n", err)
		return
	}
	script := `echo "uid $(id -u) gid $(id -g) ppid $PPID sid $(cut -d' ' -f6 /proc/self/stat) self $$"; readlink /proc/self/ns/user /proc/self/ns/uts`
	var flags uintptr
	if os.Getenv(envForkUnshare) != "" {
		flags = unix.CLONE_NEWPID | unix.CLONE_NEWUTS
	}
	pid, reap, err := forkIntoUserNS(fd, -1, exe, flags, []string{"sh", "-c", script}, []string{"PATH=/usr/bin:/bin"})
	fmt.Printf("forked %d %v\n", pid, err)
	fmt.Printf("reap %d\n", reap)
}

func forkHelper(t *testing.T, ns string, env ...string) (pid int, out []string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestForkHelper$", "-test.v")
	cmd.Env = append(append(os.Environ(), envForkHelper+"="+ns), env...)
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v: %s", err, b)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "forked" {
			pid, _ = strconv.Atoi(f[1])
		} else if len(f) == 2 && f[0] == "reap" && f[1] != "0" {
			// the first child, which forked the one that executed
			r, _ := strconv.Atoi(f[1])
			var ws unix.WaitStatus
			if _, err := unix.Wait4(r, &ws, 0, nil); err != nil || !ws.Exited() || ws.ExitStatus() != 0 {
				t.Errorf("the first child %d: %v %v", r, err, ws)
			}
		}
		out = append(out, l)
	}
	if pid <= 0 {
		t.Fatalf("no pid from the helper: %s", b)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		t.Fatalf("wait for %d, the helper's child, as our own: %v", pid, err)
	}
	if ws.Exited() {
		out = append(out, "status "+strconv.Itoa(ws.ExitStatus()))
	}
	return pid, out
}

func TestForkIntoUserNS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	holder := exec.Command("sleep", "100")
	holder.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
	}
	if err := holder.Start(); err != nil {
		t.Skipf("no user namespace here: %v", err)
	}
	defer func() {
		holder.Process.Kill()
		holder.Wait()
	}()
	ns := fmt.Sprintf("/proc/%d/ns/user", holder.Process.Pid)
	want, err := os.Readlink(ns)
	if err != nil {
		t.Fatal(err)
	}
	pid, out := forkHelper(t, ns)
	all := strings.Join(out, "\n")
	wantID := fmt.Sprintf("uid 0 gid 0 ppid %d sid %d self %d", os.Getpid(), pid, pid)
	for _, w := range []string{wantID, want, fmt.Sprintf("forked %d <nil>", pid), "status 0"} {
		if !strings.Contains(all, w) {
			t.Errorf("want %q in:\n%s", w, all)
		}
	}

	// New pid and UTS namespaces made in it: the child forks again, the
	// last one is PID 1 there (its parent, the test, outside), in a UTS
	// namespace of its own.
	uts, err := os.Readlink("/proc/self/ns/uts")
	if err != nil {
		t.Fatal(err)
	}
	pid, out = forkHelper(t, ns, envForkUnshare+"=1")
	all = strings.Join(out, "\n")
	for _, w := range []string{fmt.Sprintf("uid 0 gid 0 ppid 0 sid %d self 1", pid), want, fmt.Sprintf("forked %d <nil>", pid), "status 0"} {
		if !strings.Contains(all, w) {
			t.Errorf("want %q in:\n%s", w, all)
		}
	}
	if strings.Contains(all, uts) || !strings.Contains(all, "uts:[") {
		t.Errorf("want a new UTS namespace, not %s, in:\n%s", uts, all)
	}

	// Not a namespace: the child fails at setns and says so (status 1, as
	// any step of chain.Fork's child).
	pid, out = forkHelper(t, "/dev/null")
	all = strings.Join(out, "\n")
	if !strings.Contains(all, fmt.Sprintf("forked %d setns: invalid argument", pid)) || !slices.Contains(out, "status 1") {
		t.Errorf("want the setns error and status 1 in:\n%s", all)
	}
}
