//go:build amd64 || arm64

package chain

// CanFork reports whether ForkExec works on this architecture (it needs
// rawVfork, written in assembly for amd64 and arm64).
const CanFork = true

// rawVfork is clone(flags, 0, 0, 0, 0) for a vfork child (vfork_*.s).
//
//go:noescape
func rawVfork(flags uintptr) (pid uintptr, errno uintptr)

// rawClone3 is clone3(args, size) for the same vfork child (vfork_*.s).
//
//go:noescape
func rawClone3(args *cloneArgs, size uintptr) (pid uintptr, errno uintptr)
