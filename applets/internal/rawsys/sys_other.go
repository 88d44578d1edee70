//go:build !amd64 && !arm64

package rawsys

// No system call is written for this architecture: each fails.
const SysClose, SysPrlimit64 = 0, 0
