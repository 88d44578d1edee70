// Package nofile keeps RLIMIT_NOFILE as this process got it. Go's package
// syscall raises the soft limit at its init and gives the caller's back
// only to the children os/exec starts; a child forked otherwise (tw-runc's
// init, chain.Fork) would keep the raised one. This package reads the
// limit first: it imports nothing with an init (its system call is
// package rawsys's), and packages are initialized in the
// order of their import paths where no import orders them (Go 1.21), in
// which this one comes before "syscall".
package nofile

import (
	"unsafe"

	"github.com/tupperware/tw/applets/internal/rawsys"
)

// rlimit is struct rlimit64: soft, hard.
type rlimit struct{ cur, max uint64 }

var (
	orig  rlimit
	known bool
)

const rlimitNofile = 7 // RLIMIT_NOFILE

func init() {
	// prlimit64(0, RLIMIT_NOFILE, NULL, &orig)
	known = rawsys.Syscall4(rawsys.SysPrlimit64, 0, rlimitNofile, 0, uintptr(unsafe.Pointer(&orig))) == 0
}

// Original returns the soft and hard RLIMIT_NOFILE this process started
// with, and whether they are known.
func Original() (soft, hard uint64, ok bool) { return orig.cur, orig.max, known }
