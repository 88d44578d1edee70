package chain

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

// bin makes files in a fresh directory: name → mode (0 makes a directory).
func bin(t *testing.T, files map[string]os.FileMode) string {
	t.Helper()
	dir := t.TempDir()
	for name, mode := range files {
		p := filepath.Join(dir, name)
		var err error
		if mode == 0 {
			err = os.Mkdir(p, 0o755)
		} else {
			err = os.WriteFile(p, []byte("#!/bin/sh\n"), mode)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLookPath(t *testing.T) {
	a := bin(t, map[string]os.FileMode{"prog": 0o755, "plain": 0o644, "both": 0o644, "dir": 0})
	b := bin(t, map[string]os.FileMode{"both": 0o755, "dir": 0o755})
	path := a + ":" + b
	for _, tc := range []struct {
		name, path string
		want       string // found path
		code       int    // or exit code
		msg        string
	}{
		{name: "prog", path: path, want: a + "/prog"},
		{name: "both", path: path, want: b + "/both"}, // a later executable wins
		{name: "dir", path: path, want: b + "/dir"},   // a directory is skipped
		{name: "plain", path: path, code: 126, msg: "exec plain: permission denied"},
		{name: "nosuch", path: path, code: 127, msg: "exec nosuch: command not found"},
		{name: "prog", path: "/nonexistent:" + a + "/prog:" + a, want: a + "/prog"}, // ENOTDIR, ENOENT skipped
		{name: a + "/prog", path: "", want: a + "/prog"},
		{name: a + "/plain", path: path, code: 126, msg: "exec " + a + "/plain: permission denied"},
		{name: a + "/dir", path: path, code: 126, msg: "exec " + a + "/dir: permission denied"},
		{name: a + "/nosuch", path: path, code: 127, msg: "exec " + a + "/nosuch: no such file or directory"},
		{name: "", path: path, code: 127, msg: "exec : no such file or directory"},
	} {
		got, err := LookPath(tc.name, tc.path)
		if tc.want != "" {
			if err != nil || got != tc.want {
				t.Errorf("LookPath(%q, %q) = %q, %v; want %q", tc.name, tc.path, got, err, tc.want)
			}
			continue
		}
		if err == nil || err.Error() != tc.msg || ExitCode(err) != tc.code {
			t.Errorf("LookPath(%q) error %v (exit %d); want %q (exit %d)", tc.name, err, ExitCode(err), tc.msg, tc.code)
		}
		var pe *os.PathError
		if !errors.As(err, &pe) {
			t.Errorf("LookPath(%q): %T is not an *os.PathError", tc.name, err)
		}
	}
}

func TestLookPathDefault(t *testing.T) {
	if got, err := LookPath("sh", ""); err != nil || filepath.Base(got) != "sh" {
		t.Errorf("sh on the default path: %q, %v", got, err)
	}
}

func TestLookPathEmptyEntryIsCwd(t *testing.T) {
	dir := bin(t, map[string]os.FileMode{"here": 0o755})
	t.Chdir(dir)
	if got, err := LookPath("here", "/nonexistent::"); err != nil || got != "./here" {
		t.Errorf("LookPath(here) in cwd = %q, %v", got, err)
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&os.PathError{Op: "exec", Path: "x", Err: ErrNotFound}, 127},
		{&os.PathError{Op: "exec", Path: "x", Err: unix.ENOENT}, 127},
		{&os.PathError{Op: "exec", Path: "x", Err: unix.EACCES}, 126},
		{&os.PathError{Op: "exec", Path: "x", Err: unix.ENOEXEC}, 126},
		{&os.PathError{Op: "exec", Path: "x", Err: unix.ETXTBSY}, 126},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("%v: exit %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestExecNotFound(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := Exec([]string{"nosuch", "arg"}, cli.IO{})
	if cli.ExitCode(err) != 127 || err.Error() != "exec nosuch: command not found" {
		t.Errorf("Exec(nosuch) = %v (exit %d)", err, cli.ExitCode(err))
	}
	if err := Exec(nil, cli.IO{}); cli.ExitCode(err) != 2 {
		t.Errorf("Exec() = %v, want a usage error", err)
	}
}

func TestEnviron(t *testing.T) {
	env := []string{"A=1", ns.EnvLeft + "=mnt:[1]", "B=" + ns.EnvLeft, ns.EnvChild + "=1", ns.EnvPin + "=3", ns.EnvLeft + "X=keep"}
	want := []string{"A=1", "B=" + ns.EnvLeft, ns.EnvLeft + "X=keep"}
	if got := Environ(env); !slices.Equal(got, want) {
		t.Errorf("Environ = %q, want %q", got, want)
	}
	if env[1] != ns.EnvLeft+"=mnt:[1]" {
		t.Errorf("Environ changed its argument")
	}
}

// An applet named in argv runs in this process; its errors are reported
// under its own name and only the exit code goes back up the chain.
func TestExecApplet(t *testing.T) {
	var got []string
	cli.Register(
		cli.Applet{Name: "chaintest-ok", Main: func(args []string, _ cli.IO) error { got = args; return nil }},
		cli.Applet{Name: "chaintest-fail", Main: func([]string, cli.IO) error { return cli.Exit(3, errors.New("boom")) }},
		cli.Applet{Name: "chaintest-usage", Main: func([]string, cli.IO) error { return cli.Usagef("unknown flag: --x") }},
		cli.Applet{Name: "chaintest-status", Main: func([]string, cli.IO) error { return cli.Status(137) }},
	)
	if err := Exec([]string{"tw-chaintest-ok", "a", "-b"}, cli.IO{}); err != nil || !slices.Equal(got, []string{"a", "-b"}) {
		t.Errorf("in-process applet: err %v, args %q", err, got)
	}
	for _, tc := range []struct {
		name, stderr string
		code         int
	}{
		{"tw-chaintest-fail", "tw-chaintest-fail: boom\n", 3},
		{"tw-chaintest-usage", "tw-chaintest-usage: unknown flag: --x\nTry 'tw-chaintest-usage --help' for more information.\n", 2},
		{"tw-chaintest-status", "", 137},
	} {
		var stderr bytes.Buffer
		err := Exec([]string{tc.name}, cli.IO{Stderr: &stderr})
		var ee *cli.ExitError
		if !errors.As(err, &ee) || !ee.Silent || ee.Code != tc.code || stderr.String() != tc.stderr {
			t.Errorf("%s: err %#v, stderr %q; want silent exit %d, stderr %q", tc.name, err, stderr.String(), tc.code, tc.stderr)
		}
	}
}

func TestCloseExtraFiles(t *testing.T) {
	f, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	if err := CloseExtraFiles(); err != nil {
		t.Fatal(err)
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("fd %d: flags %#x, %v; want FD_CLOEXEC", fd, flags, err)
	}
	for _, std := range []uintptr{0, 1, 2} {
		if flags, err := unix.FcntlInt(std, unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC != 0 {
			t.Errorf("fd %d was marked close-on-exec", std)
		}
	}
}

func TestCandidates(t *testing.T) {
	if got := Candidates("sh", "/bin::/usr/bin"); !slices.Equal(got, []string{"/bin/sh", "./sh", "/usr/bin/sh"}) {
		t.Errorf("Candidates: %q", got)
	}
	if got := Candidates("sh", ""); len(got) == 0 || got[0] != "/usr/local/sbin/sh" {
		t.Errorf("Candidates with no PATH: %q", got)
	}
}

// A tw applet given by a path to this binary, or as tw NAME, is named by
// its name; a path to another file, or a name of no applet, is left.
func TestSelf(t *testing.T) {
	cli.Register(cli.Applet{Name: "selftest", Main: func([]string, cli.IO) error { return nil }})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	other := dir + "/other"
	if err := os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"tw-selftest": exe, "tw": exe, "tw-nosuch": exe, "x/tw-selftest": other, "y/tw": other} {
		p := dir + "/" + name
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
	for _, tc := range []struct{ in, want []string }{
		{[]string{dir + "/tw-selftest", "a"}, []string{"tw-selftest", "a"}},
		{[]string{dir + "/tw", "selftest", "a"}, []string{"tw-selftest", "a"}},
		{[]string{"tw", "tw-selftest"}, []string{"tw-selftest"}},
		{[]string{"tw-selftest", "a"}, []string{"tw-selftest", "a"}},
		{[]string{dir + "/tw-nosuch"}, []string{dir + "/tw-nosuch"}},
		{[]string{"tw", "nosuch"}, []string{"tw", "nosuch"}},
		{[]string{"tw"}, []string{"tw"}},
		{[]string{dir + "/x/tw-selftest"}, []string{dir + "/x/tw-selftest"}},
		{[]string{dir + "/y/tw", "selftest"}, []string{dir + "/y/tw", "selftest"}},
		{[]string{dir + "/missing/tw-selftest"}, []string{dir + "/missing/tw-selftest"}},
		{[]string{"/bin/true"}, []string{"/bin/true"}},
		{nil, nil},
	} {
		if got := Self(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Self(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
