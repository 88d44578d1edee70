package chain

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/memexec"
)

// Thread mode with tw-harden in the chain: the child executes the
// program through the sealed trampoline (memexec.Trampoline), not
// directly from this binary, so that a program that is a script
// `#!/proc/self/exe` makes the kernel run the trampoline and not the
// host's tw inside the container (runc CVE-2019-5736). A chain without
// tw-harden leaves the container root with every capability: no boundary,
// and no trampoline.

// trampolined is set by RestrictLater: the chain hardens its program.
var trampolined bool

// trampArgs is what the child needs for the trampoline: its descriptor,
// its argv, and the write end of the pipe where it reports a failed
// execve of the program; the parent reads the other end.
type trampArgs struct {
	fd   int
	argv **byte
	r, w int
	buf  [4]byte
}

// viaTrampoline prepares c's child to execute path with argv through the
// trampoline.
func (c *forkArgs) viaTrampoline(path string, argv []string) error {
	fd, err := memexec.Trampoline()
	if err != nil {
		return &os.PathError{Op: "exec", Path: argv[0], Err: err}
	}
	targv, err := syscall.SlicePtrFromStrings(memexec.TrampolineArgv(path, argv, true))
	if err != nil {
		return &os.PathError{Op: "exec", Path: argv[0], Err: err}
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return os.NewSyscallError("pipe2", err)
	}
	c.t = &trampArgs{fd: fd, argv: &targv[0], r: p[0], w: p[1]}
	return nil
}

// report is what the trampoline reported once the child has executed
// it: 0 when the program runs, else the errno of its execve. It closes
// the pipe.
func (t *trampArgs) report() syscall.Errno {
	unix.Close(t.w)
	defer unix.Close(t.r)
	n := 0
	for n < len(t.buf) {
		m, err := unix.Read(t.r, t.buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || m == 0 {
			break
		}
		n += m
	}
	return memexec.ReportedErrno(t.buf[:n])
}

// emptyPath is "" for execveat(AT_EMPTY_PATH).
var emptyPath = [1]byte{0}

// execTrampoline executes the trampoline for the child of thread mode;
// it returns only on error.
//
//go:nosplit
//go:norace
func execTrampoline(c *forkArgs) syscall.Errno {
	return execSealed(c.t.fd, c.t.w, uintptr(unsafe.Pointer(c.t.argv)), uintptr(unsafe.Pointer(c.env)))
}

// execSealed makes w (the report pipe, if >= 0) descriptor 3, open across
// the execveat of the trampoline fd (which makes it close-on-exec again),
// and executes the trampoline with argv and env; it returns only on
// error. It runs in a child: nosplit, raw system calls only.
//
//go:nosplit
//go:norace
func execSealed(fd, w int, argv, env uintptr) syscall.Errno {
	var e syscall.Errno
	if w == 3 {
		_, _, e = syscall.RawSyscall(unix.SYS_FCNTL, 3, unix.F_SETFD, 0)
	} else if w >= 0 {
		_, _, e = syscall.RawSyscall(unix.SYS_DUP3, uintptr(w), 3, 0)
	}
	if e != 0 {
		return e
	}
	_, _, e = syscall.RawSyscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(&emptyPath[0])),
		argv, env, unix.AT_EMPTY_PATH, 0)
	return e
}

// ExecSealed is Exec for a program that gets less privilege than this
// process (tw-enter --harden): a program, not an applet, is executed
// through the sealed trampoline. With report, descriptor 3 is the write
// end of the caller's pipe, where the trampoline reports a failed execve
// of the program (memexec.ReportedErrno).
func ExecSealed(argv []string, stdio cli.IO, report bool) error {
	if len(argv) == 0 {
		return Exec(argv, stdio)
	}
	if _, ok := cli.Lookup(Self(argv)[0]); ok {
		return Exec(argv, stdio)
	}
	path, err := LookPath(argv[0], os.Getenv("PATH"))
	if err != nil {
		return cli.Exit(ExitCode(err), err)
	}
	if err := CloseExtraFiles(); err != nil {
		return err
	}
	err = memexec.ExecTrampoline(path, argv, Environ(os.Environ()), report)
	err = &os.PathError{Op: "exec", Path: argv[0], Err: err}
	return cli.Exit(ExitCode(err), err)
}
