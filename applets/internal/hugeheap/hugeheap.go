// Package hugeheap puts the start of Go's heap on one transparent huge
// page, for every start of tw.
//
// A Go program touches about a hundred fresh pages of its heap before main
// (stacks, spans, the inits' maps and slices), and tw's inits and its chain
// touch as many again. On the virtual machines tw is measured on each first
// touch of a page is a fault that costs microseconds; one huge page makes
// the next touches free. Measured (make bench, 2026-12-02): `tw-mountproc
// --help` 8.1 → 7.1 ms, the one-line chain 12.2 → 11.1 ms.
//
// The runtime leaves the heap to the system's THP policy, which is
// "madvise" on Debian: its heap gets no huge page unless asked. This
// package asks in its init, which runs before any other package of tw
// (it imports nothing that has an init, and its path sorts before the
// standard library's internal packages): MADV_HUGEPAGE on the 4 MiB from
// the 2 MiB-aligned start of the region the heap is allocating from, and
// MADV_COLLAPSE of the first 2 MiB, whose pages the runtime has already
// touched. Both are hints: a kernel without them (before 6.1), THP set to
// "never", or no free huge page leaves the heap as it was, and the errors
// are ignored.
package hugeheap

import "unsafe"

// Linux's madvise(2) advice values (the same on amd64 and arm64).
const (
	madvHugepage = 14
	madvCollapse = 25
	hugePage     = 2 << 20
)

// first is the heap object whose address says where the heap allocates.
var first *[16]byte

func init() {
	first = new([16]byte)
	start := uintptr(unsafe.Pointer(first)) &^ (hugePage - 1)
	madvise(start, 2*hugePage, madvHugepage)
	madvise(start, hugePage, madvCollapse)
}
