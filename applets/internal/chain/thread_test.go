package chain

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
	"github.com/tupperware/tw/applets/internal/cli"
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

	TakeSteps() // StartWith keeps what was recorded before it
	StartWith(func(string, []string, []string) error { return nil })
	MountProcLater("/nonexistent/proc")
	RestrictLater("harden", Restrict{UID: -1, GID: -1, Keep: caps.All, Caps: caps.All})
	_, err = ForkExec("/bin/true", []string{"true"}, nil)
	var se *StepError
	if !errors.As(err, &se) || se.Applet != "mountproc" || err.Error() != "mount proc /nonexistent/proc: no such file or directory" {
		t.Errorf("failed step: %#v", err)
	}
	TakeSteps()
	StartWith(func(string, []string, []string) error { return nil })
	bad := caps.Rlimit{Name: "nofile", Resource: unix.RLIMIT_NOFILE, Soft: 2, Hard: 1}
	RestrictLater("harden", Restrict{Rlimits: []caps.Rlimit{bad}, UID: -1, GID: -1, Keep: caps.All, Caps: caps.All})
	_, err = ForkExec("/bin/true", []string{"true"}, nil)
	if !errors.As(err, &se) || se.Applet != "harden" || err.Error() != "setrlimit nofile: invalid argument" {
		t.Errorf("failed step: %#v", err)
	}
}

// sigs is what /proc says of the signals of the thread or process id: its
// blocked and ignored ones.
func sigs(id int) string {
	st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", id))
	var out []string
	for l := range strings.Lines(string(st)) {
		if strings.HasPrefix(l, "SigBlk:") || strings.HasPrefix(l, "SigIgn:") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// forkSigs starts sleep with ForkExec on the calling (locked) thread and
// returns what it has of the thread's signals, and what it should have.
func forkSigs() (got, want string, err error) {
	var mask unix.Sigset_t
	unix.PthreadSigmask(unix.SIG_SETMASK, nil, &mask)
	_, ign, _ := strings.Cut(sigs(unix.Gettid()), "SigIgn:")
	want = fmt.Sprintf("SigBlk:\t%016x\nSigIgn:%s", mask.Val[0], ign)
	pid, err := ForkExec("/bin/sleep", []string{"sleep", "10"}, nil)
	if err != nil {
		return "", want, err
	}
	got = sigs(pid)
	unix.Kill(pid, unix.SIGKILL)
	unix.Wait4(pid, nil, 0, nil)
	return got, want, nil
}

// The program starts with the thread's signal mask and no signal blocked
// that the thread lets through, through clone3 and through the fallback of
// kernels without it (read from its /proc status: a shell would reset it).
func TestForkExecSignals(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t.Cleanup(func() { noClone3 = false })
	for _, old := range []bool{false, true} {
		noClone3 = old
		got, want, err := forkSigs()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("without clone3 %v, the child's signals:\n%s\nwant\n%s", old, got, want)
		}
	}
}

// Where a seccomp filter refuses clone3 (ENOSYS as Docker's profile, EPERM
// as older ones), the child comes from clone, with the same signals.
func TestForkExecClone3Refused(t *testing.T) {
	for _, errno := range []unix.Errno{unix.ENOSYS, unix.EPERM} {
		type result struct {
			got, want string
			err       error
		}
		done := make(chan result)
		go func() {
			// Never unlocked: the filter ends with the thread.
			runtime.LockOSThread()
			filter := []unix.SockFilter{
				{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // the syscall number
				{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_CLONE3},
				{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(errno)},
				{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
			}
			prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
			if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
				done <- result{err: err}
				return
			}
			if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0); err != nil {
				done <- result{err: err}
				return
			}
			if _, _, e := unix.Syscall(unix.SYS_CLONE3, 0, 0, 0); e != errno {
				done <- result{err: fmt.Errorf("the filter: clone3 gives %v", e)}
				return
			}
			got, want, err := forkSigs()
			done <- result{got, want, err}
		}()
		r := <-done
		if r.err != nil {
			t.Fatalf("clone3 refused with %v: %v", errno, r.err)
		}
		if r.got != r.want {
			t.Errorf("clone3 refused with %v, the child's signals:\n%s\nwant\n%s", errno, r.got, r.want)
		}
	}
}

// Steps recorded before thread mode began (tw-limit's join of its cgroup,
// before the tw-unshare it runs in its process) are kept, made first, and
// fail under their applet's name.
func TestStartWithKeepsEarlierSteps(t *testing.T) {
	t.Cleanup(func() { StartWith(nil) })
	TakeSteps()
	zero := []byte("0")
	CallLater("limit", 0, func(e syscall.Errno) error { return fmt.Errorf("join cgroup: %w", e) },
		unix.SYS_WRITE, ^uintptr(0), Ptr(&zero[0]), 1)
	StartWith(func(string, []string, []string) error { return nil })
	MountProcLater("/nonexistent/proc")
	_, err := ForkExec("/bin/true", []string{"true"}, nil)
	var se *StepError
	if !errors.As(err, &se) || se.Applet != "limit" || err.Error() != "join cgroup: bad file descriptor" {
		t.Errorf("failed step: %#v", err)
	}
	StartWith(nil)
	if s := TakeSteps(); len(s.steps) != 0 {
		t.Errorf("StartWith(nil) left %d steps", len(s.steps))
	}
}

// Exec refuses to execute in place while steps are left for a child: they
// would be lost (tw-limit's join of its cgroup: PROG outside its limits).
func TestExecRefusesLostSteps(t *testing.T) {
	t.Cleanup(func() { StartWith(nil) })
	StartWith(nil)
	TryLater(unix.SYS_GETPID)
	if !Pending() {
		t.Fatal("a recorded step is not pending")
	}
	// /bin/false: were the guard gone, this test would end here, failed.
	err := Exec([]string{"/bin/false"}, cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	if err == nil || err.Error() != "steps left for a child that is not forked: /bin/false would run without them" {
		t.Errorf("Exec with steps left: %v", err)
	}
	TakeSteps()
	if Pending() {
		t.Error("steps pending after TakeSteps")
	}
}
