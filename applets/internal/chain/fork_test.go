package chain

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

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
