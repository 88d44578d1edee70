//go:build amd64 || arm64

package rawsys

// Syscall4 makes system call nr with four arguments and returns its result,
// or -errno (syscall_$GOARCH.s).
//
//go:noescape
func Syscall4(nr, a1, a2, a3, a4 uintptr) (r uintptr)
