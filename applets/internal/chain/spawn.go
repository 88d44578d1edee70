package chain

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/memexec"
)

// What Fork's child executes: Path, or the first of Paths that execve
// takes, directly or through the sealed trampoline (Spawn.Trampoline), or
// the file open at ExecFd.

// prepare makes c's candidates, and the trampoline's descriptor and argv
// when s asks for it.
func (c *spawnArgs) prepare(s *Spawn) error {
	paths := s.Paths
	if paths == nil {
		paths = []string{s.Path}
	}
	pp, err := syscall.SlicePtrFromStrings(paths)
	if err != nil {
		return &os.PathError{Op: "exec", Path: s.Argv[0], Err: err}
	}
	c.paths = addresses(pp[:len(paths)])
	c.keep = append(c.keep, pp)
	c.tfd, c.execFd = -1, -1
	if s.Path == "" && s.Paths == nil {
		c.execFd = s.ExecFd
	}
	if !s.Trampoline {
		return nil
	}
	if c.execFd >= 0 {
		return &os.PathError{Op: "exec", Path: s.Argv[0], Err: syscall.EINVAL} // not through the trampoline
	}
	fd, err := memexec.Trampoline()
	if err != nil {
		return &os.PathError{Op: "exec", Path: s.Argv[0], Err: err}
	}
	// a report over descriptor 3 while the pipe is open
	report := s.Gate < 0 || s.Open != nil
	tp, err := syscall.SlicePtrFromStrings(memexec.TrampolineArgv("", s.Argv, report))
	if err != nil {
		return &os.PathError{Op: "exec", Path: s.Argv[0], Err: err}
	}
	c.tfd, c.targv = fd, addresses(tp)
	c.keep = append(c.keep, tp)
	return nil
}

// addresses are the pointers of p as integers, which the child may write
// without the collector's write barrier (the caller keeps p alive).
func addresses(p []*byte) []uintptr {
	a := make([]uintptr, len(p))
	for i, b := range p {
		a[i] = uintptr(unsafe.Pointer(b))
	}
	return a
}

// spawnExec executes the program: each candidate in turn, on to the next
// when it is not found, and returns the first other errno, else the
// last. Raw system calls only: see spawnChild.
//
//go:nosplit
//go:norace
func spawnExec(c *spawnArgs) syscall.Errno {
	var e, denied syscall.Errno
	if c.execFd >= 0 {
		_, _, e = syscall.RawSyscall6(unix.SYS_EXECVEAT, uintptr(c.execFd), c.paths[0],
			uintptr(unsafe.Pointer(c.argv)), uintptr(unsafe.Pointer(c.env)), unix.AT_EMPTY_PATH, 0)
		return e
	}
	for i := 0; i < len(c.paths); i++ {
		p := c.paths[i]
		if c.targv == nil {
			_, _, e = syscall.RawSyscall(syscall.SYS_EXECVE, p, uintptr(unsafe.Pointer(c.argv)), uintptr(unsafe.Pointer(c.env)))
		} else if e = runnable(p, &c.stx); e == 0 || e == syscall.EPERM || e == syscall.ENOSYS {
			// (EPERM, ENOSYS: a seccomp profile that denies the checks;
			// the trampoline reports what execve says then.)
			c.targv[1] = p
			e = execSealed(c.tfd, c.pipe, uintptr(unsafe.Pointer(&c.targv[0])), uintptr(unsafe.Pointer(c.env)))
			if e != syscall.EPERM && e != syscall.ENOSYS {
				return e
			}
			// A profile older than execveat, or one that denies it: the
			// program directly, as runc 1.1 executes it.
			_, _, e = syscall.RawSyscall(syscall.SYS_EXECVE, p, uintptr(unsafe.Pointer(c.argv)), uintptr(unsafe.Pointer(c.env)))
		}
		if e != syscall.ENOENT && e != syscall.ENOTDIR && denied == 0 {
			denied = e
		}
	}
	if denied != 0 {
		return denied
	}
	return e
}

// runnable is what execve would say of the file at p before it reads
// it: ENOENT, EACCES for what is not a regular file or not executable.
//
//go:nosplit
//go:norace
func runnable(p uintptr, stx *unix.Statx_t) syscall.Errno {
	_, _, e := syscall.RawSyscall6(unix.SYS_STATX, atFDCWD, p, 0, unix.STATX_TYPE, uintptr(unsafe.Pointer(stx)), 0)
	if e != 0 {
		return e
	}
	if stx.Mode&unix.S_IFMT != unix.S_IFREG {
		return syscall.EACCES
	}
	_, _, e = syscall.RawSyscall(unix.SYS_FACCESSAT, atFDCWD, p, unix.X_OK)
	return e
}
