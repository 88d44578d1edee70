// Package seccomp compiles a seccomp policy (an allow list, syscalls
// decided by their arguments, a default) into a classic BPF program in
// pure Go and installs it with seccomp(2): no libseccomp, the binary stays
// static. Docker's default profile (tw-harden) and a container's
// linux.seccomp (tw-runc translates it) both go through Filter.Build.
package seccomp

import (
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

//go:generate go run gen_syscalls.go

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

// Op compares one 64-bit syscall argument, unsigned.
type Op uint8

// The comparisons of libseccomp (SCMP_CMP_*).
const (
	EQ       Op = iota + 1 // arg == Value
	NE                     // arg != Value
	LT                     // arg < Value
	LE                     // arg <= Value
	GT                     // arg > Value
	GE                     // arg >= Value
	MaskedEQ               // arg & Value == ValueTwo
)

// Cond is one test on argument Index (0 to 5).
type Cond struct {
	Index           uint
	Op              Op
	Value, ValueTwo uint64
}

// Case returns Ret when all its Conds hold (always, with none).
type Case struct {
	Conds []Cond
	Ret   uint32
}

// Rule decides syscall Nr by its arguments: the first Case that holds
// decides, else the Filter's Default.
type Rule struct {
	Nr    uint32
	Cases []Case
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
	s := slices.Clone(nrs)
	slices.Sort(s)
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
//	for each rule: if nr == Nr: its cases in order, then return Default
//	for each run [lo, hi] of Allow, ascending:
//	    if nr > hi: next run; if nr >= lo: allow; else: Default
//	return Default
func (f *Filter) Build() ([]unix.SockFilter, error) {
	runs := ranges(f.Allow)
	n := 16 + 4*len(runs) + 16*len(f.Rules) // enough for most filters
	a := asm{ins: make([]unix.SockFilter, 0, n), fix: make([]fixup, 0, n/2), at: make([]int, 0, n/2)}
	native, ok := a.label(), a.label()
	a.load(offArch)
	a.jump(unix.BPF_JEQ, f.Arch, native, next)
	a.ret(f.Default)
	a.mark(native)
	a.load(offNr)
	a.jump(unix.BPF_JGE, 0x40000000, next, ok)
	a.ret(f.Default)
	a.mark(ok)
	if f.Newest != 0 {
		known := a.label()
		a.jump(unix.BPF_JGT, f.Newest, next, known)
		a.ret(Errno(unix.ENOSYS))
		a.mark(known)
	}
	for _, r := range f.Rules {
		// A rule's block always returns: when it is skipped, nr is
		// still loaded.
		other, start := a.label(), len(a.ins)
		a.jump(unix.BPF_JEQ, r.Nr, next, other)
		for _, c := range r.Cases {
			fail := a.label()
			for _, cd := range c.Conds {
				pass := a.label()
				if err := a.cond(cd, pass, fail); err != nil {
					return nil, fmt.Errorf("rule for syscall %d: %w", r.Nr, err)
				}
				a.mark(pass)
			}
			a.ret(c.Ret)
			a.mark(fail)
		}
		a.ret(f.Default)
		if len(a.ins)-start-1 > 255 {
			return nil, fmt.Errorf("rule for syscall %d: block too long", r.Nr)
		}
		a.mark(other)
	}
	for _, r := range runs {
		above, below := a.label(), a.label()
		a.jump(unix.BPF_JGT, r[1], above, next)
		a.jump(unix.BPF_JGE, r[0], next, below)
		a.ret(retAllow)
		a.mark(below)
		a.ret(f.Default)
		a.mark(above)
	}
	a.ret(f.Default)
	if len(a.ins) > unix.BPF_MAXINSNS {
		return nil, ErrTooLong
	}
	return a.resolve()
}

// cond tests one 64-bit argument, 32 bits at a time (the high word
// first, little-endian: it is stored second), jumping to pass or fail.
func (a *asm) cond(c Cond, pass, fail label) error {
	if c.Index > 5 {
		return fmt.Errorf("argument index %d is out of range", c.Index)
	}
	hi := func(v uint64) uint32 { return uint32(v >> 32) }
	lo := func(v uint64) uint32 { return uint32(v) }
	ldHi := func() { a.load(offArgs + 8*uint32(c.Index) + 4) }
	ldLo := func() { a.load(offArgs + 8*uint32(c.Index)) }
	v := c.Value
	switch c.Op {
	case EQ, NE:
		t, f := pass, fail
		if c.Op == NE {
			t, f = fail, pass
		}
		ldHi()
		a.jump(unix.BPF_JEQ, hi(v), next, f)
		ldLo()
		a.jump(unix.BPF_JEQ, lo(v), t, f)
	case MaskedEQ:
		// x & 0 == 0 always holds: a mask of the low word only (clone's
		// flags) tests the low word only.
		if hi(v) != 0 || hi(c.ValueTwo) != 0 {
			ldHi()
			a.alu(unix.BPF_AND, hi(v))
			a.jump(unix.BPF_JEQ, hi(c.ValueTwo), next, fail)
		}
		ldLo()
		a.alu(unix.BPF_AND, lo(v))
		a.jump(unix.BPF_JEQ, lo(c.ValueTwo), pass, fail)
	case GT, GE, LT, LE:
		// a > v, a >= v; a < v is !(a >= v), a <= v is !(a > v).
		op := uint16(unix.BPF_JGT)
		if c.Op == GE || c.Op == LT {
			op = unix.BPF_JGE
		}
		t, f := pass, fail
		if c.Op == LT || c.Op == LE {
			t, f = fail, pass
		}
		ldHi()
		a.jump(unix.BPF_JGT, hi(v), t, next)
		a.jump(unix.BPF_JEQ, hi(v), next, f)
		ldLo()
		a.jump(op, lo(v), t, f)
	default:
		return fmt.Errorf("operator %d is not known", c.Op)
	}
	return nil
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
