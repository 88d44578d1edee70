package hugeheap

// System call numbers of linux/amd64.
const (
	sysRead    = 0
	sysClose   = 3
	sysMadvise = 28
	sysOpenat  = 257
)

// syscall3 is a raw system call (syscall_amd64.s).
//
//go:noescape
func syscall3(nr, a1, a2, a3 uintptr) (r uintptr)
