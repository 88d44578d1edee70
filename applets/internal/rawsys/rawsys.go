// Package rawsys makes raw system calls for the first inits of tw, which
// must run before package syscall's: its init raises RLIMIT_NOFILE (package
// nofile reads the caller's first), and package hugeheap asks for its huge
// page before other packages touch the heap. It imports nothing with an
// init, and has none.
package rawsys
