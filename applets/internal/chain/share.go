package chain

import (
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A child that shares this process's memory, as a vfork's does, on a
// stack of its own, while the parent goes on: Fork's child with Open
// (tw-unshare --map-auto's, which waits at its gate until its parent has
// run newuidmap and newgidmap for it), and Start's (those two helpers). A vfork's parent could not run
// them, and a real fork copies the page tables of this process, then
// takes a copy-on-write fault on every page either side writes. The child
// runs raw system calls only until it executes the program, as a vfork's;
// what it reads (spawnArgs and what it points to) is on the heap, kept
// alive by Fork, which unmaps its stack once the child has executed the
// program or is reaped.

// shareStack is the size of the child's stack: its functions are nosplit,
// whose chains the linker holds to a few hundred bytes.
const shareStack = 64 << 10

// shareVM starts c's child with clone3 and CLONE_VM on a stack of its own
// (flags: the namespaces), and returns its pid and the stack; errno
// ENOSYS when this architecture has no rawCloneShared, or when clone3 or
// CLONE_CLEAR_SIGHAND is refused (before Linux 5.5, or a seccomp filter):
// the caller forks then.
func shareVM(c *spawnArgs, flags uintptr) (int, []byte, syscall.Errno) {
	if !canShareVM || noClone3 {
		return 0, nil, syscall.ENOSYS
	}
	stack, err := unix.Mmap(-1, 0, shareStack, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_STACK)
	if err != nil {
		return 0, nil, syscall.ENOSYS
	}
	c.clone = cloneArgs{flags: uint64(flags) | unix.CLONE_VM | unix.CLONE_CLEAR_SIGHAND, exitSignal: uint64(unix.SIGCHLD),
		stack: uint64(uintptr(unsafe.Pointer(&stack[0]))), stackSize: shareStack}
	unix.PthreadSigmask(unix.SIG_SETMASK, nil, &c.mask)
	pid, errno := cloneShared(c)
	if errno != 0 {
		unix.Munmap(stack)
		if errno == syscall.EINVAL || errno == syscall.EPERM {
			errno = syscall.ENOSYS
		}
		return 0, nil, errno
	}
	return pid, stack, 0
}

// cloneShared is the parent's side of the clone: between beforeFork and
// afterFork it may not grow the stack (nosplit).
//
//go:nosplit
//go:norace
func cloneShared(c *spawnArgs) (int, syscall.Errno) {
	beforeFork()
	pid, errno := rawCloneShared(&c.clone, unsafe.Sizeof(c.clone), c)
	afterFork()
	return int(pid), syscall.Errno(errno)
}

// sharedChild is the child, on its own stack (rawCloneShared calls it):
// it restores the thread's signal mask (beforeFork blocked all; the
// kernel reset the handlers) and goes on as Fork's child. Nosplit, raw
// system calls only; it never returns.
//
//go:nosplit
//go:norace
func sharedChild(c *spawnArgs) {
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&c.mask)), 0, sigsetSize, 0, 0)
	spawnChild(c)
}

// Start starts path with argv and env, fds as its descriptors 0, 1 and 2,
// as a child that shares this memory on a stack of its own, and returns
// at once, not once the child has executed path as a vfork's parent does:
// two started one after the other make their execve at the same time
// (NewIDMaps). started waits until the child has executed path, and
// returns the error of its execve (the child reaped then), as Fork's.
// Where no such child is written or clone3 is refused, the child is
// Fork's vfork.
func Start(path string, argv, env []string, fds [3]int) (pid int, started func() error, err error) {
	st := &Steps{}
	for to, fd := range fds {
		st.steps = append(st.steps, step{kind: stepCall, nr: unix.SYS_DUP3, a: [6]uintptr{uintptr(fd), uintptr(to)}})
		st.infos = append(st.infos, stepInfo{fail: func(_ int, e syscall.Errno) error { return os.NewSyscallError("dup3", e) }})
	}
	s := &Spawn{Steps: st, Gate: -1, Vfork: true, Path: path, Argv: argv, Env: env}
	vfork := func() (int, func() error, error) {
		pid, err := Fork(s)
		return pid, func() error { return nil }, err
	}
	if !canShareVM {
		return vfork()
	}
	c, err := s.args()
	if err != nil {
		return 0, nil, err
	}
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		return 0, nil, os.NewSyscallError("pipe2", err)
	}
	c.pipe = pipe[1]
	pid, stack, errno := shareVM(c, 0)
	unix.Close(pipe[1])
	if errno != 0 {
		unix.Close(pipe[0])
		if errno == syscall.ENOSYS {
			return vfork()
		}
		return 0, nil, os.NewSyscallError("clone", errno)
	}
	return pid, func() error {
		var r [3]uint32
		n, _ := readFull(pipe[0], (*[12]byte)(unsafe.Pointer(&r))[:])
		unix.Close(pipe[0])
		if n != 0 {
			reap(pid)
		}
		unix.Munmap(stack)
		runtime.KeepAlive(c)
		runtime.KeepAlive(s)
		if n != 0 {
			return s.failure(n, r)
		}
		return nil
	}, nil
}
