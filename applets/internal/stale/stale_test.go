package stale

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPID(t *testing.T) {
	for name, want := range map[string]int{".tw-snapshot.42.0": 42, ".x.tw-pull-7-abc": 7, ".tw-snapshot.9": 9} {
		prefix := ".tw-snapshot."
		if name == ".x.tw-pull-7-abc" {
			prefix = ".x.tw-pull-"
		}
		if got, ok := PID(name, prefix); !ok || got != want {
			t.Errorf("PID(%q) = %d, %v", name, got, ok)
		}
	}
	for _, name := range []string{".tw-snapshot.", ".tw-snapshot.x.1", ".tw-snapshot.-1", "other.1", ".tw-snapshot.0"} {
		if _, ok := PID(name, ".tw-snapshot."); ok {
			t.Errorf("PID(%q) parsed", name)
		}
	}
}

// deadPID is the PID of a process that has exited.
func deadPID(t *testing.T) int {
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Skip(err)
	}
	return c.Process.Pid
}

func TestSweep(t *testing.T) {
	dir := t.TempDir()
	dead := deadPID(t)
	names := map[string]bool{ // name → removed by Sweep
		".w." + strconv.Itoa(dead) + ".0":        true,  // gone, lock free
		".w." + strconv.Itoa(os.Getpid()) + ".0": false, // a live PID
		".w." + strconv.Itoa(dead) + ".1":        false, // gone, but its lock held (another PID namespace)
		"other":                                  false,
	}
	for n := range names {
		if err := os.Mkdir(filepath.Join(dir, n), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	held, err := unix.Open(filepath.Join(dir, ".w."+strconv.Itoa(dead)+".1"), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(held)
	if err := Hold(held); err != nil {
		t.Fatal(err)
	}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	err = Sweep(dfd, ".w.", func(name string, _ int) error { return os.Remove(filepath.Join(dir, name)) })
	if err != nil {
		t.Fatal(err)
	}
	for n, gone := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); (err != nil) != gone {
			t.Errorf("%s: removed %v, want %v", n, err != nil, gone)
		}
	}
}

func TestSweepDir(t *testing.T) {
	dir := t.TempDir()
	dead := filepath.Join(dir, ".x.tw-commit-"+strconv.Itoa(deadPID(t))+"-1")
	live := filepath.Join(dir, ".x.tw-commit-"+strconv.Itoa(os.Getpid())+"-2")
	for _, d := range []string{filepath.Join(dead, "blobs/sha256"), live} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dead, "blobs/sha256/half"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SweepDir(dir, ".x.tw-commit-"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("%s: not removed (%v)", dead, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live run's %s: %v", live, err)
	}
	if err := SweepDir(filepath.Join(dir, "missing"), ".x."); err != nil {
		t.Errorf("a missing directory: %v", err)
	}
}
