// Package hugeheap puts the start of Go's heap on one transparent huge
// page, for every start of tw.
//
// A Go program touches about a hundred fresh pages of its heap before main
// (stacks, spans, the inits' maps and slices), and tw's inits and its chain
// touch as many again. On the virtual machine tw is measured on, each first
// touch of a page costs microseconds of the hypervisor's; on one huge page
// the touches after the first are free. Measured 2026-12-02, in one
// hyperfine run each: `tw-mountproc --help` 8.4 → 7.2–7.8 ms, the one-line
// chain 13.5–14.3 → 12.4–13.2 ms.
//
// The runtime leaves its heap to the system's THP policy, "madvise" on
// Debian: no huge page unless asked. This package asks in its init, which
// runs before any other package of tw (it imports nothing that has an init,
// its system calls are package rawsys's, and its path sorts before the
// standard library's internal packages):
// MADV_HUGEPAGE on the 4 MiB from the 2 MiB-aligned start of the region the
// heap allocates from, and MADV_COLLAPSE of the first 2 MiB, whose pages the
// runtime has already touched. Both are hints: a kernel without them (before
// 6.1) or no free huge page leaves the heap as it was, and their errors are
// ignored. Where the administrator set THP to "never" (which MADV_COLLAPSE
// would otherwise override) or the system has no THP, nothing is asked.
package hugeheap

import (
	"unsafe"

	"github.com/tupperware/tw/applets/internal/rawsys"
)

// Linux's values, the same on amd64 and arm64.
const (
	madvHugepage = 14
	madvCollapse = 25
	hugePage     = 2 << 20
	atFDCWD      = ^uintptr(99) // -100
	oRdonly      = 0x80000      // O_RDONLY|O_CLOEXEC
)

// first is the heap object whose address says where the heap allocates.
var first *[16]byte

func init() {
	if !allowed() {
		return
	}
	first = new([16]byte)
	start := uintptr(unsafe.Pointer(first)) &^ (hugePage - 1)
	rawsys.Syscall4(rawsys.SysMadvise, start, 2*hugePage, madvHugepage, 0)
	rawsys.Syscall4(rawsys.SysMadvise, start, hugePage, madvCollapse, 0)
}

// thpEnabled is the system's THP policy, "always [madvise] never".
var thpEnabled = []byte("/sys/kernel/mm/transparent_hugepage/enabled\x00")

// allowed reports whether THP is there and not set to "never".
func allowed() bool {
	fd := rawsys.Syscall4(rawsys.SysOpenat, atFDCWD, uintptr(unsafe.Pointer(&thpEnabled[0])), oRdonly, 0)
	if int(fd) < 0 {
		return false
	}
	var buf [64]byte
	n := int(rawsys.Syscall4(rawsys.SysRead, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0))
	rawsys.Syscall4(rawsys.SysClose, fd, 0, 0, 0)
	return n > 0 && policy(buf[:n]) != "never"
}

// policy is the word in brackets of a THP policy line, or "".
func policy(line []byte) string {
	for i, c := range line {
		if c != '[' {
			continue
		}
		for j := i + 1; j < len(line); j++ {
			if line[j] == ']' {
				return string(line[i+1 : j])
			}
		}
	}
	return ""
}
