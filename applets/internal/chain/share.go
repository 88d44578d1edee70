package chain

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A child that shares this process's memory, as a vfork's does, on a
// stack of its own, while the parent goes on: Fork's child with Open
// (tw-unshare --map-auto's, which waits at its gate until its parent has
// run newuidmap and newgidmap for it). A vfork's parent could not run
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
