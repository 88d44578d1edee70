//go:build amd64 || arm64

package hugeheap

// madvise is madvise(2) with its result ignored (madvise_$GOARCH.s).
//
//go:noescape
func madvise(addr, length, advice uintptr)
