//go:build !amd64

package runc

// Only amd64 has a syscall table: linux.seccomp is refused elsewhere.
var syscallNumbers map[string]uint32

const nativeArch = 0
