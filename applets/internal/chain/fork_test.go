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
	"time"

	"golang.org/x/sys/unix"
)

func waitStatus(t *testing.T, pid int) int {
	t.Helper()
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		t.Fatal(err)
	}
	return ws.ExitStatus()
}

// Fork's child makes its steps, reports, waits at its gate until a byte
// comes, and only then executes the program.
func TestForkGate(t *testing.T) {
	t.Cleanup(func() { TakeSteps() })
	out := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(out, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	WriteLater("test", out, []byte("step\n"), false, func(stage int, e syscall.Errno) error { return e })
	steps := TakeSteps()
	gate := make([]int, 2)
	if err := unix.Pipe2(gate, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(gate[0])
	pid, err := Fork(&Spawn{Steps: steps, Gate: gate[0], Path: "/bin/sh",
		Argv: []string{"sh", "-c", `echo prog >>"$0"; exit 5`, out}, Prefix: "test: "})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "step\n" {
		t.Errorf("before the gate: %q", b)
	}
	unix.Write(gate[1], []byte{0})
	unix.Close(gate[1])
	if st := waitStatus(t, pid); st != 5 {
		t.Errorf("status %d, want 5", st)
	}
	if b, _ := os.ReadFile(out); string(b) != "step\nprog\n" {
		t.Errorf("after the gate: %q", b)
	}
}

// A child at its gate shares this memory where it can (amd64): what it
// reads after the gate, its late steps and its argv, outlives Fork and the
// collections and allocations that come before the gate opens.
func TestForkGateShared(t *testing.T) {
	t.Cleanup(func() { TakeSteps() })
	out := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(out, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	gate := make([]int, 2)
	if err := unix.Pipe2(gate, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(gate[0])
	pid, err := func() (int, error) {
		steps := TakeSteps()
		WriteLater("test", out, []byte(strings.Repeat("late", 100)+"\n"), false, func(_ int, e syscall.Errno) error { return e })
		late := TakeSteps()
		arg := strings.Repeat("prog", 100)
		return Fork(&Spawn{Steps: steps, Gate: gate[0], Late: late, Path: "/bin/sh",
			Argv: []string{"sh", "-c", `echo "$1" >>"$0"`, out, arg}, Prefix: "test: "})
	}()
	if err != nil {
		t.Fatal(err)
	}
	const kcmpVM = 1 // KCMP_VM
	same, _, errno := unix.Syscall6(unix.SYS_KCMP, uintptr(os.Getpid()), uintptr(pid), kcmpVM, 0, 0, 0)
	if canShareVM && (errno != 0 || same != 0) {
		t.Errorf("the child at its gate does not share this memory: kcmp %d, %v", same, errno)
	}
	// What Fork allocated is garbage for the collector now: reuse it.
	for i := 0; i < 3; i++ {
		runtime.GC()
		junk := make([][]byte, 256)
		for j := range junk {
			junk[j] = []byte(strings.Repeat("x", 64<<(j%10)))
		}
		runtime.KeepAlive(junk)
	}
	unix.Write(gate[1], []byte{0})
	unix.Close(gate[1])
	if st := waitStatus(t, pid); st != 0 {
		t.Errorf("status %d, want 0", st)
	}
	want := strings.Repeat("late", 100) + "\n" + strings.Repeat("prog", 100) + "\n"
	if b, _ := os.ReadFile(out); string(b) != want {
		t.Errorf("after the gate: %q", b)
	}
}

// A failed step comes back as its error, under its applet; a gate that
// closes without a byte ends the child; without a gate, a program that
// cannot be executed is Fork's error.
func TestForkErrors(t *testing.T) {
	t.Cleanup(func() { TakeSteps() })
	dir := filepath.Join(t.TempDir(), "missing")
	CallLater("test", 0, func(e syscall.Errno) error { return &os.PathError{Op: "chdir", Path: dir, Err: e} },
		unix.SYS_CHDIR, CString(dir))
	_, err := Fork(&Spawn{Steps: TakeSteps(), Gate: -1, Path: "/bin/true", Argv: []string{"true"}})
	var se *StepError
	if !errors.As(err, &se) || se.Applet != "test" || err.Error() != fmt.Sprintf("chdir %s: no such file or directory", dir) {
		t.Errorf("failed step: %v", err)
	}
	_, err = Fork(&Spawn{Gate: -1, Path: "/nonexistent/x", Argv: []string{"x"}})
	if !errors.Is(err, unix.ENOENT) || ExitCode(err) != 127 {
		t.Errorf("missing program: %v", err)
	}
	// (A gate the child holds open for writing too, as a pipe's two ends
	// or tw-runc's FIFO, never ends: /dev/null does at once.)
	gate, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer gate.Close()
	TryLater(unix.SYS_CHDIR, CString(dir)) // its error is none
	pid, err := Fork(&Spawn{Steps: TakeSteps(), Gate: int(gate.Fd()), Path: "/bin/true", Argv: []string{"true"}, Prefix: "test: "})
	if err != nil {
		t.Fatal(err)
	}
	if st := waitStatus(t, pid); st != 1 {
		t.Errorf("gate closed: status %d, want 1", st)
	}
}

// Fork's child (a fork, not a vfork) starts the program with the thread's
// signal mask and the ignored signals it had, through clone3 with
// CLONE_CLEAR_SIGHAND and through the fallback of kernels without it.
func TestForkSignals(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t.Cleanup(func() { noClone3 = false; TakeSteps() })
	var mask unix.Sigset_t
	unix.PthreadSigmask(unix.SIG_SETMASK, nil, &mask)
	_, ign, _ := strings.Cut(sigs(unix.Gettid()), "SigIgn:")
	want := fmt.Sprintf("SigBlk:\t%016x\nSigIgn:%s", mask.Val[0], ign)
	for _, old := range []bool{false, true} {
		noClone3 = old
		pid, err := Fork(&Spawn{Steps: TakeSteps(), Gate: -1, Path: "/bin/sleep", Argv: []string{"sleep", "10"}})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for i := 0; i < 200; i++ { // until the exec is done
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); string(b) == "sleep\n" {
				got = sigs(pid)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		unix.Kill(pid, unix.SIGKILL)
		unix.Wait4(pid, nil, 0, nil)
		if got != want {
			t.Errorf("without clone3 %v, the child's signals:\n%s\nwant\n%s", old, got, want)
		}
	}
}

// A fork step: the child forks again and exits (Fork reaps it: it is this
// process's child without CLONE_PARENT), the new process, a child of this
// one too, makes the steps after it and executes the program, here the
// file open at ExecFd; Pids gets both. After a new pid namespace (root)
// the program is its PID 1. A step that fails after the fork comes back
// as its error, both processes reaped.
func TestForkLater(t *testing.T) {
	t.Cleanup(func() { TakeSteps() })
	sh, err := unix.Open("/bin/sh", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sh)
	cloneErr := func(e syscall.Errno) error { return fmt.Errorf("clone: %w", e) }
	out := filepath.Join(t.TempDir(), "out")
	for _, unshare := range []bool{false, true} {
		if unshare && os.Geteuid() != 0 {
			t.Log("not root: no new pid namespace")
			break
		}
		if unshare {
			CallLater("test", 0, func(e syscall.Errno) error { return e }, unix.SYS_UNSHARE, unix.CLONE_NEWPID)
		}
		ForkLater("test", cloneErr)
		var pids []int
		pid, err := Fork(&Spawn{Steps: TakeSteps(), Gate: -1, ExecFd: sh, Pids: &pids,
			Argv: []string{"sh", "-c", `echo "$$ $PPID" >"$0"`, out}})
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) != 2 || pids[1] != pid || pids[0] == pid {
			t.Fatalf("pids %v, want the first and %d", pids, pid)
		}
		if _, err := unix.Wait4(pids[0], nil, unix.WNOHANG, nil); err != unix.ECHILD {
			t.Errorf("the first child %d: %v, want it reaped (ECHILD)", pids[0], err)
		}
		if st := waitStatus(t, pid); st != 0 {
			t.Errorf("status %d", st)
		}
		want := fmt.Sprintf("%d %d\n", pid, os.Getpid())
		if unshare {
			want = "1 0\n"
		}
		if b, _ := os.ReadFile(out); string(b) != want {
			t.Errorf("unshare %v: the program says %q, want %q", unshare, b, want)
		}
	}

	dir := filepath.Join(t.TempDir(), "missing")
	ForkLater("test", cloneErr)
	CallLater("test", 0, func(e syscall.Errno) error { return &os.PathError{Op: "chdir", Path: dir, Err: e} },
		unix.SYS_CHDIR, CString(dir))
	var pids []int
	_, err = Fork(&Spawn{Steps: TakeSteps(), Gate: -1, Path: "/bin/true", Argv: []string{"true"}, Pids: &pids})
	var se *StepError
	if !errors.As(err, &se) || err.Error() != fmt.Sprintf("chdir %s: no such file or directory", dir) || len(pids) != 2 {
		t.Errorf("a step after the fork: %v, pids %v", err, pids)
	}
	for _, p := range pids {
		if _, err := unix.Wait4(p, nil, unix.WNOHANG, nil); err != unix.ECHILD {
			t.Errorf("%d: %v, want it reaped (ECHILD)", p, err)
		}
	}

	// Thread mode's child shares this memory: it does not fork again.
	ForkLater("test", cloneErr)
	_, err = ForkExec("/bin/true", []string{"true"}, nil)
	if !errors.As(err, &se) || err.Error() != "clone: invalid argument" {
		t.Errorf("a fork step in ForkExec's child: %v", err)
	}
}
