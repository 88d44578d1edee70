package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
)

// The child of a fork of package chain joins through the files OpenProcs
// opened: it writes "0" to each cgroup.procs (regular files here, which
// take the write as a cgroup's do). A missing one, or a write that fails
// (/dev/full), comes back as an *os.PathError in the caller's words.
func TestProcsJoinLater(t *testing.T) {
	t.Cleanup(func() { chain.TakeSteps() })
	wrap := func(err error) error { return fmt.Errorf("join cgroup: %w", err) }
	dirs := []string{t.TempDir(), t.TempDir()}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	procs, err := OpenProcs(dirs)
	if err != nil {
		t.Fatal(err)
	}
	procs.JoinLater("test", wrap)
	pid, err := chain.Fork(&chain.Spawn{Steps: chain.TakeSteps(), Gate: -1, Path: "/bin/true", Argv: []string{"true"}})
	procs.Close()
	procs.Close() // again: nothing
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Wait4(pid, nil, 0, nil); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if b, _ := os.ReadFile(filepath.Join(d, "cgroup.procs")); string(b) != "0" {
			t.Errorf("%s/cgroup.procs: %q, want \"0\"", d, b)
		}
	}

	missing := filepath.Join(dirs[0], "missing")
	_, err = OpenProcs([]string{dirs[0], missing})
	var pe *os.PathError
	if !errors.As(err, &pe) || err.Error() != fmt.Sprintf("open %s/cgroup.procs: no such file or directory", missing) {
		t.Errorf("a missing cgroup.procs: %v", err)
	}

	full := t.TempDir()
	if err := os.Symlink("/dev/full", filepath.Join(full, "cgroup.procs")); err != nil {
		t.Fatal(err)
	}
	if procs, err = OpenProcs([]string{full}); err != nil {
		t.Fatal(err)
	}
	defer procs.Close()
	procs.JoinLater("test", wrap)
	_, err = chain.Fork(&chain.Spawn{Steps: chain.TakeSteps(), Gate: -1, Path: "/bin/true", Argv: []string{"true"}})
	var se *chain.StepError
	want := fmt.Sprintf("join cgroup: write %s/cgroup.procs: no space left on device", full)
	if !errors.As(err, &se) || se.Applet != "test" || !errors.As(err, &pe) || err.Error() != want {
		t.Errorf("a failed write: %v, want %s", err, want)
	}
}
