//go:build !amd64 && !arm64

package hugeheap

// madvise does nothing where no system call stub is written.
func madvise(addr, length, advice uintptr) {}
