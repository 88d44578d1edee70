package chain

// canShareVM reports whether rawCloneShared is written for this
// architecture.
const canShareVM = true

// rawCloneShared is clone3(args, size) for a child on the stack args
// gives, which calls sharedChild(c) (share_amd64.s). Not noescape: c and
// what it points to must be on the heap, which the child reads while this
// goroutine's stack may move.
func rawCloneShared(args *cloneArgs, size uintptr, c *spawnArgs) (pid uintptr, errno uintptr)
