//go:build !amd64

package runc

// Only amd64 has a syscall table: linux.seccomp is refused elsewhere.
func syscallNumbers() map[string]uint32 { return nil }

const nativeArch = 0
