package chain

import (
	"errors"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Thread mode: tw-unshare may run the rest of the chain in its own process,
// on one locked OS thread that has unshared the namespaces, instead of in a
// child that starts this binary again (one Go start less, the largest part
// of a container's start). The program at the end of the chain is then not
// executed in place: it is forked from that thread as tw-unshare's child
// (PID 1 of a new pid namespace) and waited for. A proc of the new pid
// namespace can only be mounted by a process inside it, so tw-mountproc
// leaves its mount to that child, which makes it between fork and execve.

var (
	starter  func(path string, argv, env []string) error
	procDirs []string
)

// StartWith puts this process in thread mode: Exec hands the program at
// the end of the chain to start instead of executing it in place.
func StartWith(start func(path string, argv, env []string) error) { starter = start }

// Threaded reports whether the chain runs in thread mode.
func Threaded() bool { return starter != nil }

// MountProcLater has the child of thread mode mount a fresh proc at dir
// (after those recorded before) before it executes the program.
func MountProcLater(dir string) { procDirs = append(procDirs, dir) }

// maxProcs bounds the proc mounts one child makes.
const maxProcs = 4

// ErrTooManyProcs refuses more proc mounts than a child makes.
var ErrTooManyProcs = errors.New("too many proc mounts")

// ForkExec starts path as a child of the calling (locked) thread, with the
// thread's namespaces, root and cwd; the child mounts the procs recorded by
// MountProcLater, then executes path with argv and env. Between fork and
// execve the child runs raw system calls only, as syscall.ForkExec's child
// does; a failure there comes back through a pipe as the error of that
// step. The child gets SIGKILL when the thread ends.
func ForkExec(path string, argv, env []string) (int, error) {
	if len(procDirs) > maxProcs {
		return 0, ErrTooManyProcs
	}
	pathp, err := unix.BytePtrFromString(path)
	if err != nil {
		return 0, &os.PathError{Op: "exec", Path: path, Err: err}
	}
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return 0, &os.PathError{Op: "exec", Path: path, Err: err}
	}
	envp, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return 0, &os.PathError{Op: "exec", Path: path, Err: err}
	}
	var procs [maxProcs]*byte
	for i, d := range procDirs {
		if procs[i], err = unix.BytePtrFromString(d); err != nil {
			return 0, &os.PathError{Op: "mount proc", Path: d, Err: err}
		}
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return 0, os.NewSyscallError("pipe2", err)
	}
	c := forkArgs{
		path: pathp, argv: &argvp[0], env: &envp[0], proc: &procName[0],
		procs: &procs, n: len(procDirs), errfd: p[1],
	}
	pid, errno := fork(&c)
	unix.Close(p[1])
	defer unix.Close(p[0])
	if errno != 0 {
		return 0, os.NewSyscallError("fork", errno)
	}
	// The child's report: 8 bytes (step, errno) if it failed, none once
	// its execve closed the pipe.
	var r [2]uint32
	n, _ := readFull(p[0], (*[8]byte)(unsafe.Pointer(&r))[:])
	if n != 8 {
		return pid, nil
	}
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
			break
		}
	}
	if r[0] > 0 {
		return 0, &os.PathError{Op: "mount proc", Path: procDirs[r[0]-1], Err: syscall.Errno(r[1])}
	}
	return 0, &os.PathError{Op: "exec", Path: argv[0], Err: syscall.Errno(r[1])}
}

var procName = [...]byte{'p', 'r', 'o', 'c', 0}

func readFull(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Read(fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || m == 0 {
			return n, err
		}
		n += m
	}
	return n, nil
}

// forkArgs is everything the child needs, prepared before the fork.
type forkArgs struct {
	path  *byte
	argv  **byte
	env   **byte
	proc  *byte
	procs *[maxProcs]*byte
	n     int
	errfd int
}

//go:linkname beforeFork syscall.runtime_BeforeFork
func beforeFork()

//go:linkname afterFork syscall.runtime_AfterFork
func afterFork()

//go:linkname afterForkInChild syscall.runtime_AfterForkInChild
func afterForkInChild()

// fork is the parent's and the child's side of the fork. The child may
// not grow its stack nor call into the runtime: it is nosplit and makes
// raw system calls only, and it never returns.
//
//go:nosplit
//go:norace
func fork(c *forkArgs) (int, syscall.Errno) {
	beforeFork()
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 || pid != 0 {
		afterFork()
		return int(pid), errno
	}
	afterForkInChild()
	syscall.RawSyscall(syscall.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0)
	var step uintptr
	for step = 0; step < uintptr(c.n) && step < maxProcs; step++ {
		dir := uintptr(unsafe.Pointer(c.procs[step]))
		proc := uintptr(unsafe.Pointer(c.proc))
		_, _, errno = syscall.RawSyscall6(syscall.SYS_MOUNT, proc, dir, proc, unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, 0, 0)
		if errno != 0 {
			childFail(c.errfd, step+1, errno)
		}
	}
	_, _, errno = syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(c.path)), uintptr(unsafe.Pointer(c.argv)), uintptr(unsafe.Pointer(c.env)))
	childFail(c.errfd, 0, errno)
	return 0, 0
}

// childFail reports the failed step and its errno to the parent and exits.
//
//go:nosplit
//go:norace
func childFail(fd int, step uintptr, errno syscall.Errno) {
	r := [2]uint32{uint32(step), uint32(errno)}
	syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&r)), 8)
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 127, 0, 0)
	}
}
