//go:build amd64 || arm64

package chain

// Clone is clone(flags, 0, 0, 0, 0) for a child that shares this memory and
// runs on this stack, as ForkExec's child does (flags holds CLONE_VM and
// CLONE_VFORK, and any namespaces for the child to make): rawVfork, for a
// caller with a child of its own (tw-unshare's rootless chain). The child
// returns into the caller's frame and the parent resumes there once the
// child has executed a program or exited: the caller must be nosplit,
// make raw system calls only in the child, and never return from it.
//
//go:noescape
func Clone(flags uintptr) (pid uintptr, errno uintptr)
