package rawsys

import (
	"syscall"
	"testing"
	"unsafe"
)

// Syscall4 passes its four arguments and gives the result or -errno.
func TestSyscall4(t *testing.T) {
	if r := Syscall4(SysClose, ^uintptr(0), 0, 0, 0); int(r) != -int(syscall.EBADF) {
		t.Errorf("close(-1) = %d, want -EBADF", int(r))
	}
	var lim [2]uint64 // struct rlimit64
	if r := Syscall4(SysPrlimit64, 0, uintptr(syscall.RLIMIT_NOFILE), 0, uintptr(unsafe.Pointer(&lim))); r != 0 {
		t.Fatalf("prlimit64 = %d", int(r))
	}
	var want syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		t.Fatal(err)
	}
	if lim[0] != want.Cur || lim[1] != want.Max {
		t.Errorf("prlimit64 gave %v, getrlimit %+v", lim, want)
	}
}
