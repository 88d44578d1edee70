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
