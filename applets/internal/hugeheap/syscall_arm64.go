package hugeheap

// System call numbers of linux/arm64.
const (
	sysRead    = 63
	sysClose   = 57
	sysMadvise = 233
	sysOpenat  = 56
)

// syscall3 is a raw system call (syscall_arm64.s).
//
//go:noescape
func syscall3(nr, a1, a2, a3 uintptr) (r uintptr)
