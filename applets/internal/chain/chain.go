// Package chain executes the rest of a chainloader's command line, as
// nice, chroot and execline programs do: a tw applet runs in this process
// (a function call: no process start, and no tw binary needed in a new
// root), any other program replaces this process through execve.
package chain

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

// DefaultPath is searched when PATH is unset, as execvp(3) and shells do.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ErrNotFound is the reason a name without a slash was not found on PATH.
var ErrNotFound = errors.New("command not found")

// Exec runs argv: argv[0] a tw applet name (tw-NAME) runs in this process
// and its error is reported here, under its own name; anything else is
// looked up on PATH and executed, with no descriptor but 0, 1 and 2 left
// open and without tw's internal environment. Exec returns only on error:
// exit 127 when the program is not found, 126 when it cannot be executed.
func Exec(argv []string, stdio cli.IO) error {
	if len(argv) == 0 {
		return cli.Usagef("no program to execute")
	}
	argv = Self(argv)
	if a, ok := cli.Lookup(argv[0]); ok {
		nested++
		defer func() { nested-- }()
		return report(a, a.Main(argv[1:], stdio), stdio.Stderr)
	}
	path, err := LookPath(argv[0], os.Getenv("PATH"))
	if err != nil {
		return cli.Exit(ExitCode(err), err)
	}
	if err := CloseExtraFiles(); err != nil {
		return err
	}
	if starter != nil {
		return starter(path, argv, Environ(os.Environ()))
	}
	// Steps left for a child would be lost by executing in place: the
	// applet that recorded them expected a fork (see Pending).
	if Pending() {
		return errors.New("steps left for a child that is not forked: " + argv[0] + " would run without them")
	}
	err = unix.Exec(path, argv, Environ(os.Environ()))
	err = &os.PathError{Op: "exec", Path: argv[0], Err: err}
	return cli.Exit(ExitCode(err), err)
}

// Self names a tw applet given as a path to this very binary
// (/usr/local/bin/tw-pivot ROOT …), or as this binary with the applet's name
// after it (tw pivot ROOT …, /usr/local/bin/tw pivot ROOT …), by its name,
// tw-pivot ROOT …, so that it runs in this process as the name does. Any
// other argv comes back as it is; so does a path to another file, even
// one named tw-NAME (another build of tw is executed like any program).
func Self(argv []string) []string {
	if len(argv) == 0 {
		return argv
	}
	var rest []string
	base := argv[0][strings.LastIndexByte(argv[0], '/')+1:]
	switch _, applet := cli.Lookup(base); {
	case applet && base != argv[0]:
		rest = append([]string{base}, argv[1:]...)
	case base == "tw" && len(argv) > 1:
		if _, ok := cli.Get(strings.TrimPrefix(argv[1], "tw-")); !ok {
			return argv
		}
		rest = append([]string{"tw-" + strings.TrimPrefix(argv[1], "tw-")}, argv[2:]...)
	default:
		return argv
	}
	path, err := LookPath(argv[0], os.Getenv("PATH"))
	if err != nil {
		return argv
	}
	var st, self unix.Stat_t
	if unix.Stat(path, &st) != nil || unix.Stat("/proc/self/exe", &self) != nil || st.Dev != self.Dev || st.Ino != self.Ino {
		return argv
	}
	return rest
}

// nested counts the applets running in this process that Exec started.
var nested int

// Nested reports whether the applet running was started by another applet
// of this process (through Exec), which goes on when it returns; else it
// is the process's first, and the process ends when it returns.
func Nested() bool { return nested > 0 }

// report prints an in-process applet's error the way the dispatcher does
// and passes its exit code on silently, so that the outer applet does not
// print it again under its own name. A step that an applet left to the
// child of thread mode fails under that applet's name.
func report(a cli.Applet, err error, stderr io.Writer) error {
	if err == nil {
		return nil
	}
	var se *StepError
	if errors.As(err, &se) {
		if b, ok := cli.Get(se.Applet); ok {
			a = b
		}
	}
	return cli.Status(cli.Report(a, err, stderr))
}

// Argv is the rest of a chainloader's command line: the program to execute
// next, /bin/sh when none is named.
func Argv(rest []string) []string {
	if len(rest) == 0 {
		return []string{"/bin/sh"}
	}
	return rest
}

// ExitCode maps a failure to find or execute a program to the exit status
// of shells and chainloaders: 127 not found, 126 found but not executable.
func ExitCode(err error) int {
	if errors.Is(err, ErrNotFound) || errors.Is(err, unix.ENOENT) {
		return 127
	}
	return 126
}

// LookPath finds name as execvp(3) does: a name with a slash is used as it
// is, any other is searched in the directories of path (DefaultPath when
// empty; an empty entry is the current directory). It checks what execve
// would refuse, so that the exit code can tell "not found" from "not
// executable": a file that is found but not executable gives EACCES unless
// an executable one comes later on the path.
func LookPath(name, path string) (string, error) {
	if name == "" {
		return "", &os.PathError{Op: "exec", Path: name, Err: unix.ENOENT}
	}
	if strings.Contains(name, "/") {
		if err := executable(name); err != nil {
			return "", &os.PathError{Op: "exec", Path: name, Err: err}
		}
		return name, nil
	}
	var denied error
	for _, p := range Candidates(name, path) {
		err := executable(p)
		if err == nil {
			return p, nil
		}
		if denied == nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR) {
			denied = err
		}
	}
	if denied != nil {
		return "", &os.PathError{Op: "exec", Path: name, Err: denied}
	}
	return "", &os.PathError{Op: "exec", Path: name, Err: ErrNotFound}
}

// Candidates are the paths execvp(3) tries for name, a name without a
// slash, on path (DefaultPath when empty; an empty entry is the current
// directory).
func Candidates(name, path string) []string {
	if path == "" {
		path = DefaultPath
	}
	var c []string
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		c = append(c, dir+"/"+name)
	}
	return c
}

// executable reports why execve(p) would fail before reading the file:
// ENOENT, EACCES for a directory or a file without execute permission.
func executable(p string) error {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return unix.EACCES
	}
	return unix.Access(p, unix.X_OK)
}

// Environ is env without tw's internal variables (package ns).
func Environ(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if name != ns.EnvLeft && name != ns.EnvChild && name != ns.EnvPin {
			out = append(out, kv)
		}
	}
	return out
}

// CloseExtraFiles marks every descriptor from 3 up close-on-exec, so that
// the program executed next inherits only 0, 1 and 2: no descriptor to a
// host file or directory (runc CVE-2024-21626) and none to the tw binary
// (runc CVE-2019-5736). Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC; there
// every open descriptor is marked one by one.
func CloseExtraFiles() error {
	err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	// A seccomp profile older than close_range may deny it with EPERM.
	if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("close_range: %w", err)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("getrlimit: %w", err)
	}
	for fd := 3; uint64(fd) < lim.Cur; fd++ {
		unix.CloseOnExec(fd)
	}
	return nil
}
