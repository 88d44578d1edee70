//go:build !amd64 && !arm64

package chain

import "syscall"

// CanFork reports whether ForkExec works on this architecture: not here,
// where no rawVfork is written; tw-unshare starts its child mode instead.
const CanFork = false

func rawVfork(flags uintptr) (pid uintptr, errno uintptr) { return 0, uintptr(syscall.ENOSYS) }

func rawClone3(args *cloneArgs, size uintptr) (pid uintptr, errno uintptr) {
	return 0, uintptr(syscall.ENOSYS)
}
