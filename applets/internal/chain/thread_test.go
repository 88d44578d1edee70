package chain

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
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
