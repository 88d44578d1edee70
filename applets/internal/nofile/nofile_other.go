//go:build !amd64 && !arm64

package nofile

// prlimit is not written for this architecture: the limit is unknown.
func prlimit(resource uintptr, old *rlimit) int64 { return -38 } // -ENOSYS
