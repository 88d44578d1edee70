//go:build !amd64 && !arm64

package chain

import "syscall"

// Clone is not written for this architecture (see clone.go): CanFork is false.
func Clone(flags uintptr) (pid uintptr, errno uintptr) { return 0, uintptr(syscall.ENOSYS) }
