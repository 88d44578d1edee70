package chain

import (
	"syscall"
	"unsafe"
)

// sigaction is the kernel's struct sigaction on amd64.
type sigaction struct {
	handler, flags, restorer uintptr
	mask                     uint64
}

const (
	saRestart  = 0x10000000
	saOnstack  = 0x08000000
	saRestorer = 0x04000000
)

// Implemented in sigfwd_amd64.s; sigHandler and sigRestorer are entered
// by the kernel only.
func sigHandler()
func sigRestorer()
func sigEntries() (handler, restorer uintptr)

// rawCatch puts sigHandler on sigs (on each thread's signal stack, which
// Go gives every thread, and restarting system calls as Go's own handler
// does) and keeps their previous actions in old.
func rawCatch(sigs []syscall.Signal, old []sigaction) bool {
	h, r := sigEntries()
	act := sigaction{handler: h, flags: saRestart | saOnstack | saRestorer, restorer: r}
	for i, s := range sigs {
		if !setAction(s, &act, &old[i]) {
			rawRestore(sigs[:i], old)
			return false
		}
	}
	return true
}

// rawRestore gives sigs back their actions in old.
func rawRestore(sigs []syscall.Signal, old []sigaction) {
	for i, s := range sigs {
		setAction(s, &old[i], nil)
	}
}

func setAction(s syscall.Signal, act, old *sigaction) bool {
	_, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(s), uintptr(unsafe.Pointer(act)),
		uintptr(unsafe.Pointer(old)), 8, 0, 0)
	return e == 0
}

// rawSignalsOK says that Catch catches with the raw handler here.
const rawSignalsOK = true
