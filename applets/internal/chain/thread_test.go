package chain

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
)

// The child of ForkExec executes the program, or reports why it could not.
// (No proc mounts here: those belong in a namespace of tw-unshare's.)
func TestForkExec(t *testing.T) {
	pid, err := ForkExec("/bin/sh", []string{"sh", "-c", "exit 3"}, []string{"A=1"})
	if err != nil {
		t.Fatal(err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 3 {
		t.Errorf("wait: %v, status %d; want 3", err, ws.ExitStatus())
	}
	_, err = ForkExec("/nonexistent/x", []string{"x"}, nil)
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Op != "exec" || pe.Path != "x" || !errors.Is(err, unix.ENOENT) || ExitCode(err) != 127 {
		t.Errorf("missing program: %v", err)
	}
	_, err = ForkExec(t.TempDir(), []string{"dir"}, nil)
	if !errors.Is(err, unix.EACCES) || ExitCode(err) != 126 {
		t.Errorf("a directory: %v", err)
	}
}

// What tw-harden leaves to the child is set in the child only, and a step
// that fails comes back as that step's error, under its applet's name.
func TestForkExecRestrict(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the bounding set")
	}
	t.Cleanup(func() { StartWith(nil) })
	StartWith(func(string, []string, []string) error { return nil })
	nofile := caps.Rlimit{Name: "nofile", Resource: unix.RLIMIT_NOFILE, Soft: 100, Hard: 200}
	RestrictLater("harden", Restrict{Rlimits: []caps.Rlimit{nofile}, Keep: caps.Default, UID: -1, GID: -1, Caps: caps.Default})
	out := filepath.Join(t.TempDir(), "out")
	pid, err := ForkExec("/bin/sh", []string{"sh", "-c", `ulimit -Sn >"$1"; ulimit -Hn >>"$1"; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status >>"$1"`, "sh", out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
		t.Fatalf("wait: %v, status %d", err, ws.ExitStatus())
	}
	b, _ := os.ReadFile(out)
	if want := "100\n200\nCapEff:\t0000000020000420\nCapBnd:\t0000000020000420\nNoNewPrivs:\t1\n"; string(b) != want {
		t.Errorf("child:\n%s\nwant\n%s", b, want)
	}
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); lim.Cur == 100 {
		t.Errorf("the parent's nofile changed")
	}
	if n, _ := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); n != 0 {
		t.Errorf("the parent got no_new_privs")
	}

	StartWith(func(string, []string, []string) error { return nil })
	MountProcLater("/nonexistent/proc")
	RestrictLater("harden", Restrict{UID: -1, GID: -1, Keep: caps.All, Caps: caps.All})
	_, err = ForkExec("/bin/true", []string{"true"}, nil)
	var se *StepError
	if !errors.As(err, &se) || se.Applet != "mountproc" || err.Error() != "mount proc /nonexistent/proc: no such file or directory" {
		t.Errorf("failed step: %#v", err)
	}
	StartWith(func(string, []string, []string) error { return nil })
	bad := caps.Rlimit{Name: "nofile", Resource: unix.RLIMIT_NOFILE, Soft: 2, Hard: 1}
	RestrictLater("harden", Restrict{Rlimits: []caps.Rlimit{bad}, UID: -1, GID: -1, Keep: caps.All, Caps: caps.All})
	_, err = ForkExec("/bin/true", []string{"true"}, nil)
	if !errors.As(err, &se) || se.Applet != "harden" || err.Error() != "setrlimit nofile: invalid argument" {
		t.Errorf("failed step: %#v", err)
	}
}

// The program starts with the thread's signal mask and no signal blocked
// that the thread lets through, through clone3 and through the fallback of
// kernels without it (read from its /proc status: a shell would reset it).
func TestForkExecSignals(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t.Cleanup(func() { noClone3 = false })
	sigs := func(pid int) string {
		st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		var out []string
		for l := range strings.Lines(string(st)) {
			if strings.HasPrefix(l, "SigBlk:") || strings.HasPrefix(l, "SigIgn:") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "")
	}
	var mask unix.Sigset_t
	unix.PthreadSigmask(unix.SIG_SETMASK, nil, &mask)
	_, ign, _ := strings.Cut(sigs(unix.Gettid()), "SigIgn:")
	want := fmt.Sprintf("SigBlk:\t%016x\nSigIgn:%s", mask.Val[0], ign)
	for _, old := range []bool{false, true} {
		noClone3 = old
		pid, err := ForkExec("/bin/sleep", []string{"sleep", "10"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := sigs(pid)
		unix.Kill(pid, unix.SIGKILL)
		unix.Wait4(pid, nil, 0, nil)
		if got != want {
			t.Errorf("without clone3 %v, the child's signals:\n%s\nwant\n%s", old, got, want)
		}
	}
}
