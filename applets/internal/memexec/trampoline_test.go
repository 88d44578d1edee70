package memexec

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// runTrampoline runs the trampoline as a child with argv and env, and
// returns its output and exit status.
func runTrampoline(t *testing.T, argv, env []string, extra ...*os.File) (string, int) {
	t.Helper()
	fd, err := Trampoline()
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: "/proc/self/fd/" + strconv.Itoa(fd), Args: argv, Env: env, ExtraFiles: extra}
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

func needTrampoline(t *testing.T) {
	if len(trampolineHex) == 0 {
		t.Skip("no trampoline on " + runtime.GOARCH)
	}
}

func TestTrampolineExecutes(t *testing.T) {
	needTrampoline(t)
	out, code := runTrampoline(t, TrampolineArgv("/bin/echo", []string{"echo", "a b", "c"}, false), nil)
	if out != "a b c\n" || code != 0 {
		t.Errorf("echo through the trampoline: %q, status %d", out, code)
	}
	// the environment is passed on as it is
	out, code = runTrampoline(t, TrampolineArgv("/usr/bin/env", []string{"env"}, false), []string{"A=1", "B=x y"})
	if out != "A=1\nB=x y\n" || code != 0 {
		t.Errorf("env through the trampoline: %q, status %d", out, code)
	}
	// the program's own binary is its /proc/self/exe
	want, _ := filepath.EvalSymlinks("/bin/readlink")
	out, code = runTrampoline(t, TrampolineArgv("/bin/readlink", []string{"readlink", "/proc/self/exe"}, false), nil)
	if out != want+"\n" || code != 0 {
		t.Errorf("/proc/self/exe through the trampoline: %q, status %d, want %s", out, code, want)
	}
}

func TestTrampolineFails127(t *testing.T) {
	needTrampoline(t)
	for _, argv := range [][]string{
		TrampolineArgv("/nonexistent", []string{"x"}, false),
		TrampolineArgv("/", []string{"x"}, true), // EACCES
		{TrampolineName},                         // no program
	} {
		if out, code := runTrampoline(t, argv, []string{"A=/bin/echo"}); out != "" || code != 127 {
			t.Errorf("%q: %q, status %d, want 127", argv, out, code)
		}
	}
}

// A script whose interpreter is /proc/self/exe runs the trampoline (the
// binary that executed it), not the binary that executed the trampoline:
// here the trampoline again, which executes the script's argument.
func TestTrampolineScript(t *testing.T) {
	needTrampoline(t)
	script := filepath.Join(t.TempDir(), "s")
	if err := os.WriteFile(script, []byte("#!/proc/self/exe /bin/echo\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, code := runTrampoline(t, TrampolineArgv(script, []string{"s", "arg"}, false), nil)
	if out != "arg\n" || code != 0 {
		t.Errorf("script through the trampoline: %q, status %d, want \"arg\"", out, code)
	}
}

func TestTrampolineSealed(t *testing.T) {
	needTrampoline(t)
	fd, err := Trampoline()
	if err != nil {
		t.Fatal(err)
	}
	if fd2, _ := Trampoline(); fd2 != fd {
		t.Errorf("a second call made another trampoline: %d, %d", fd, fd2)
	}
	if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
		t.Errorf("trampoline descriptor flags %#x, %v: not close-on-exec", fl, err)
	}
	if s, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0); err != nil || s&seals != seals {
		t.Errorf("seals %#x, %v, want %#x", s, err, seals)
	}
	w, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(fd), os.O_WRONLY, 0)
	if err == nil {
		_, err = w.WriteAt([]byte("x"), 0)
		w.Close()
	}
	if !errors.Is(err, unix.EPERM) {
		t.Errorf("write to the trampoline: %v, want EPERM", err)
	}
	if len(trampolineELF()) > 512 {
		t.Errorf("trampoline of %d bytes", len(trampolineELF()))
	}
}

// With an empty argv[0] the trampoline reports a failed execve's errno to
// descriptor 3, which the program does not inherit.
func TestTrampolineReports(t *testing.T) {
	needTrampoline(t)
	for _, c := range []struct {
		path string
		argv []string
		out  string
		code int
		want syscall.Errno
	}{
		{"/nonexistent", []string{"x"}, "", 127, unix.ENOENT},
		{"/", []string{"x"}, "", 127, unix.EACCES},
		{"/etc/passwd", []string{"x"}, "", 127, unix.EACCES},
		{"/bin/readlink", []string{"readlink", "/proc/self/fd/3"}, "", 1, 0}, // not open: status 1
	} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		out, code := runTrampoline(t, TrampolineArgv(c.path, c.argv, true), nil, w)
		w.Close()
		b, _ := io.ReadAll(r)
		r.Close()
		if got := ReportedErrno(b); out != c.out || code != c.code || got != c.want {
			t.Errorf("%s: %q, status %d, reported %v (%d bytes); want %q, %d, %v", c.path, out, code, got, len(b), c.out, c.code, c.want)
		}
	}
}

// ExecTrampoline replaces a Go process with the program, through the
// trampoline; a failure is reported to descriptor 3 when asked.
func TestExecTrampoline(t *testing.T) {
	needTrampoline(t)
	run := func(prog string, report bool) (string, int, syscall.Errno) {
		cmd := exec.Command("/proc/self/exe")
		cmd.Env = append(os.Environ(), "MEMEXEC_TRAMPOLINE="+prog)
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if report {
			cmd.Env = append(cmd.Env, "MEMEXEC_REPORT=1")
		}
		cmd.ExtraFiles = []*os.File{w}
		out, err := cmd.Output()
		w.Close()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		return string(out), code, ReportedErrno(b)
	}
	if out, code, e := run("/usr/bin/env", true); out != "A=1\n" || code != 0 || e != 0 {
		t.Errorf("env: %q, status %d, reported %v", out, code, e)
	}
	if out, code, e := run("/nonexistent", true); out != "" || code != 127 || e != unix.ENOENT {
		t.Errorf("/nonexistent: %q, status %d, reported %v", out, code, e)
	}
	// without report, descriptor 3 is the program's
	if out, code, e := run("/bin/readlink /proc/self/fd/3", false); !strings.HasPrefix(out, "pipe:") || code != 0 || e != 0 {
		t.Errorf("readlink of descriptor 3: %q, status %d, reported %v", out, code, e)
	}
}
