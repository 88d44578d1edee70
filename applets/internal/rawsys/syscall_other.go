//go:build !amd64 && !arm64

package rawsys

// Syscall4 fails with ENOSYS where no system call stub is written.
func Syscall4(nr, a1, a2, a3, a4 uintptr) uintptr { return ^uintptr(37) } // -ENOSYS
