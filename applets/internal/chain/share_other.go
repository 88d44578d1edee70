//go:build !amd64

package chain

import "syscall"

// canShareVM reports whether rawCloneShared is written for this
// architecture: not here (Fork's child with Open is a real fork).
const canShareVM = false

func rawCloneShared(args *cloneArgs, size uintptr, c *spawnArgs) (pid uintptr, errno uintptr) {
	return 0, uintptr(syscall.ENOSYS)
}
