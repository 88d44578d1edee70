//go:build !amd64

package chain

import "syscall"

// sigaction is a stand-in: no raw handler is written for this
// architecture, and Forwarder uses os/signal.
type sigaction struct{}

const rawSignalsOK = false

func rawCatch([]syscall.Signal, []sigaction) bool { return false }
func rawRestore([]syscall.Signal, []sigaction)    {}
