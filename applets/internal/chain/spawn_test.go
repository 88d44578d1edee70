package chain

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Fork's child tries Paths as execvp(3) does, forked or a vfork, directly
// or through the trampoline: on past what is missing or not executable,
// ErrNotFound when nothing is found, else the first other error; the
// trampoline's report of a failed execve comes back as Fork's error.
func TestSpawnPaths(t *testing.T) {
	dir := t.TempDir()
	missing, plain, garbage := filepath.Join(dir, "missing", "sh"), filepath.Join(dir, "plain"), filepath.Join(dir, "garbage")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(garbage, []byte{0, 1, 2, 3, 4, 5, 6, 7}, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, vfork := range []bool{false, true} {
		for _, tramp := range []bool{false, true} {
			name := fmt.Sprintf("vfork %v trampoline %v", vfork, tramp)
			spawn := func(path string, paths ...string) (int, error) {
				return Fork(&Spawn{Gate: -1, Path: path, Paths: paths, Argv: []string{"sh", "-c", "exit 3"},
					Vfork: vfork, Trampoline: tramp})
			}
			pid, err := spawn("", missing, plain, dir, "/bin/sh")
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if st := waitStatus(t, pid); st != 3 {
				t.Errorf("%s: status %d, want 3", name, st)
			}
			for _, tc := range []struct {
				paths []string
				want  error
				code  int
			}{
				{[]string{missing, filepath.Join(plain, "sh")}, ErrNotFound, 127},
				{[]string{missing, plain}, unix.EACCES, 126},
				{[]string{dir}, unix.EACCES, 126},
				{[]string{garbage}, unix.ENOEXEC, 126},
			} {
				_, err := spawn("", tc.paths...)
				var pe *os.PathError
				if !errors.As(err, &pe) || pe.Op != "exec" || pe.Path != "sh" || !errors.Is(err, tc.want) || ExitCode(err) != tc.code {
					t.Errorf("%s: %q: %v, want %v", name, tc.paths, err, tc.want)
				}
			}
			if _, err := spawn(missing); !errors.Is(err, unix.ENOENT) {
				t.Errorf("%s: a missing Path: %v", name, err)
			}
		}
	}
}

// Open runs while the child waits at the gate; its error is Fork's, the
// child gone; after it, a late step that fails comes back as its error.
// The same with Vfork: the child shares this memory (a mapping made while
// it waits is in its maps too).
func TestSpawnOpen(t *testing.T) {
	for _, vfork := range []bool{false, true} {
		t.Run(fmt.Sprint("vfork=", vfork), func(t *testing.T) { testSpawnOpen(t, vfork) })
	}
}

func testSpawnOpen(t *testing.T, vfork bool) {
	t.Cleanup(func() { TakeSteps() })
	out := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(out, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	WriteLater("test", out, []byte("before\n"), false, func(_ int, e syscall.Errno) error { return e })
	open := func(pid int) error {
		b, _ := os.ReadFile(out)
		if string(b) != "before\n" {
			return fmt.Errorf("at the gate: %q", b)
		}
		m, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			return err
		}
		defer unix.Munmap(m)
		maps, _ := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
		shared := strings.Contains(string(maps), fmt.Sprintf("%x-", uintptr(unsafe.Pointer(&m[0]))))
		if want := vfork && canShareVM; shared != want {
			return fmt.Errorf("the child shares this memory: %v, want %v", shared, want)
		}
		return nil
	}
	var failed int
	_, err := Fork(&Spawn{Steps: TakeSteps(), Open: func(pid int) error { failed = pid; return errors.New("refused") },
		Path: "/bin/true", Argv: []string{"true"}, Vfork: vfork})
	if err == nil || err.Error() != "refused" {
		t.Errorf("Open refused: %v", err)
	}
	if _, err := unix.Wait4(failed, nil, unix.WNOHANG, nil); err != unix.ECHILD {
		t.Errorf("the child is not reaped: %v", err)
	}
	WriteLater("test", out, []byte("before\n"), false, func(_ int, e syscall.Errno) error { return e })
	steps := TakeSteps()
	CallLater("late", 0, func(e syscall.Errno) error { return fmt.Errorf("late: %w", e) }, unix.SYS_CHDIR, CString(out))
	_, err = Fork(&Spawn{Steps: steps, Late: TakeSteps(), Open: open, Path: "/bin/true", Argv: []string{"true"}, Trampoline: true, Vfork: vfork})
	var se *StepError
	if !errors.As(err, &se) || se.Applet != "late" || !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("late step: %v", err)
	}
	WriteLater("test", out, []byte("before\n"), false, func(_ int, e syscall.Errno) error { return e })
	pid, err := Fork(&Spawn{Steps: TakeSteps(), Open: open, Path: "/bin/sh", Argv: []string{"sh", "-c", `echo after >>"$0"`, out},
		Trampoline: true, Vfork: vfork})
	if err != nil {
		t.Fatal(err)
	}
	if st := waitStatus(t, pid); st != 0 {
		t.Errorf("status %d", st)
	}
	if b, _ := os.ReadFile(out); string(b) != "before\nafter\n" {
		t.Errorf("after the gate: %q", b)
	}
	_, err = Fork(&Spawn{Open: func(int) error { return nil }, Path: "/nonexistent", Argv: []string{"x"}, Trampoline: true, Vfork: vfork})
	if !errors.Is(err, unix.ENOENT) {
		t.Errorf("missing program after Open: %v", err)
	}
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// LinkUpLater brings lo up in the child's network namespace as LinkSetUp
// does; an interface that is missing fails at its stage.
func TestSpawnLinkUp(t *testing.T) {
	needRoot(t)
	t.Cleanup(func() { TakeSteps() })
	out := filepath.Join(t.TempDir(), "out")
	LinkUpLater("test", "lo", func(stage int, e syscall.Errno) error { return fmt.Errorf("stage %d: %w", stage, e) })
	pid, err := Fork(&Spawn{Flags: unix.CLONE_NEWNET, Steps: TakeSteps(), Gate: -1, Vfork: true, Path: "/bin/sh",
		Argv: []string{"sh", "-c", `ip -o link show lo >"$0"`, out}})
	if err != nil {
		t.Fatal(err)
	}
	if st := waitStatus(t, pid); st != 0 {
		t.Fatalf("status %d", st)
	}
	if b, _ := os.ReadFile(out); !strings.Contains(string(b), "<LOOPBACK,UP,LOWER_UP>") {
		t.Errorf("lo: %q", b)
	}
	LinkUpLater("test", "nosuch0", func(stage int, e syscall.Errno) error { return fmt.Errorf("stage %d: %w", stage, e) })
	_, err = Fork(&Spawn{Flags: unix.CLONE_NEWNET, Steps: TakeSteps(), Gate: -1, Path: "/bin/true", Argv: []string{"true"}})
	if err == nil || err.Error() != "stage 1: no such device" {
		t.Errorf("missing interface: %v", err)
	}
}

// PivotLater moves the child into a new root (in a mount namespace of its
// own, private first); a root that is missing fails at the bind.
func TestSpawnPivot(t *testing.T) {
	needRoot(t)
	t.Cleanup(func() { TakeSteps() })
	root := t.TempDir()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("no /bin/busybox")
	}
	if err := os.Mkdir(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	private := func() {
		CallLater("", 0, func(e syscall.Errno) error { return e }, unix.SYS_MOUNT, CString("none"), CString("/"), 0,
			unix.MS_REC|unix.MS_PRIVATE)
	}
	fail := func(stage int, e syscall.Errno) error { return fmt.Errorf("stage %d: %w", stage, e) }
	private()
	PivotLater("test", root, fail)
	pid, err := Fork(&Spawn{Flags: unix.CLONE_NEWNS, Steps: TakeSteps(), Gate: -1, Vfork: true, Trampoline: true,
		Path: "/bin/busybox", Argv: []string{"sh", "-c", "ls / >/out; pwd >>/out"}})
	if err != nil {
		t.Fatal(err)
	}
	if st := waitStatus(t, pid); st != 0 {
		t.Fatalf("status %d", st)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "out")); string(b) != "bin\nout\n/\n" {
		t.Errorf("in the new root: %q", b)
	}
	private()
	PivotLater("test", filepath.Join(root, "missing"), fail)
	_, err = Fork(&Spawn{Flags: unix.CLONE_NEWNS, Steps: TakeSteps(), Gate: -1, Path: "/bin/true", Argv: []string{"true"}})
	if err == nil || err.Error() != "stage 0: no such file or directory" {
		t.Errorf("missing root: %v", err)
	}
}

// Past a gate (tw-runc's init) the trampoline reports nothing: the child
// checks the program first and says what is wrong on its descriptor 2.
func TestSpawnGateTrampoline(t *testing.T) {
	for _, tc := range []struct {
		path string
		want int
	}{{"/bin/sh", 3}, {"/nonexistent", 127}, {"/etc/passwd", 126}} {
		gate := make([]int, 2)
		if err := unix.Pipe2(gate, unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		pid, err := Fork(&Spawn{Gate: gate[0], Path: tc.path, Argv: []string{"sh", "-c", "exit 3"}, Trampoline: true,
			Prefix: "test: "})
		unix.Close(gate[0])
		if err != nil {
			t.Fatal(err)
		}
		unix.Write(gate[1], []byte{0})
		unix.Close(gate[1])
		if st := waitStatus(t, pid); st != tc.want {
			t.Errorf("%s: status %d, want %d", tc.path, st, tc.want)
		}
	}
}
