// Package seccomp builds a seccomp filter, Docker's default profile, as a
// classic BPF program in pure Go and installs it with seccomp(2): no
// libseccomp, the binary stays static.
package seccomp

import (
	"errors"
	"fmt"
	"sort"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Offsets in struct seccomp_data (linux/seccomp.h).
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// Return values of a filter.
const (
	retAllow = unix.SECCOMP_RET_ALLOW
	retErrno = unix.SECCOMP_RET_ERRNO
)

// Errno is the return value that fails a syscall with errno e.
func Errno(e unix.Errno) uint32 { return retErrno | uint32(e)&unix.SECCOMP_RET_DATA }

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

func ret(k uint32) unix.SockFilter { return stmt(unix.BPF_RET|unix.BPF_K, k) }

func load(off uint32) unix.SockFilter { return stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, off) }

// argLo and argHi load the low and high 32 bits of argument i
// (little-endian: the low word first).
func argLo(i int) unix.SockFilter { return load(offArgs + 8*uint32(i)) }
func argHi(i int) unix.SockFilter { return load(offArgs + 8*uint32(i) + 4) }

// Rule decides one syscall by its arguments: Code is a BPF block that
// runs with nothing loaded and must end every path in a return.
type Rule struct {
	Nr   uint32
	Code []unix.SockFilter
}

// Filter is a whole policy for one architecture.
type Filter struct {
	Arch    uint32   // AUDIT_ARCH_* of the native ABI; others are denied
	Allow   []uint32 // syscall numbers allowed whatever their arguments
	Rules   []Rule   // syscalls decided by their arguments (not in Allow)
	Default uint32   // the return for everything else
	// Newest, when not 0, is the highest syscall number the policy
	// knows: a newer syscall gets ENOSYS, which programs take as "fall
	// back to the old one" (runc's -ENOSYS stub), not Default.
	Newest uint32
}

// ErrTooLong is returned for a program the kernel would refuse.
var ErrTooLong = errors.New("seccomp program longer than BPF_MAXINSNS")

// ranges groups sorted, distinct numbers into [lo, hi] runs.
func ranges(nrs []uint32) [][2]uint32 {
	s := append([]uint32(nil), nrs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var out [][2]uint32
	for _, n := range s {
		if l := len(out); l > 0 && n <= out[l-1][1]+1 {
			if n > out[l-1][1] {
				out[l-1][1] = n
			}
			continue
		}
		out = append(out, [2]uint32{n, n})
	}
	return out
}

// Build assembles the program. Every jump is short (within a block):
//
//	load arch; if != Arch: return Default
//	load nr;   if >= 0x40000000 (the x32 ABI): return Default
//	if Newest and nr > Newest: return ENOSYS
//	for each rule: if nr == Nr: its block (which returns)
//	for each run [lo, hi] of Allow, ascending:
//	    if nr > hi: next run; if nr >= lo: allow; else: Default
//	return Default
func (f *Filter) Build() ([]unix.SockFilter, error) {
	p := []unix.SockFilter{
		load(offArch),
		jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, f.Arch, 1, 0),
		ret(f.Default),
		load(offNr),
		jump(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, 0x40000000, 0, 1),
		ret(f.Default),
	}
	if f.Newest != 0 {
		p = append(p, jump(unix.BPF_JMP|unix.BPF_JGT|unix.BPF_K, f.Newest, 0, 1), ret(Errno(unix.ENOSYS)))
	}
	for _, r := range f.Rules {
		if len(r.Code) > 255 {
			return nil, fmt.Errorf("rule for syscall %d: block too long", r.Nr)
		}
		p = append(p, jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, r.Nr, 0, uint8(len(r.Code))))
		// Blocks always return: when one is skipped, nr is still loaded.
		p = append(p, r.Code...)
	}
	for _, r := range ranges(f.Allow) {
		p = append(p,
			jump(unix.BPF_JMP|unix.BPF_JGT|unix.BPF_K, r[1], 3, 0),
			jump(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, r[0], 0, 1),
			ret(retAllow),
			ret(f.Default),
		)
	}
	p = append(p, ret(f.Default))
	if len(p) > unix.BPF_MAXINSNS {
		return nil, ErrTooLong
	}
	return p, nil
}

// Install loads prog as this thread's seccomp filter. The caller must have
// set no_new_privs (or hold CAP_SYS_ADMIN); the filter is kept across
// execve and by every thread or process this thread starts.
func Install(prog []unix.SockFilter) error {
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		return fmt.Errorf("seccomp: %w", e)
	}
	return nil
}
