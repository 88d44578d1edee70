package runc

import (
	"errors"
	"fmt"
	"sort"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// seccompRet maps linux.seccomp's actions to a filter's return values.
var seccompRet = map[specs.LinuxSeccompAction]uint32{
	specs.ActKill:        unix.SECCOMP_RET_KILL_THREAD,
	specs.ActKillThread:  unix.SECCOMP_RET_KILL_THREAD,
	specs.ActKillProcess: unix.SECCOMP_RET_KILL_PROCESS,
	specs.ActTrap:        unix.SECCOMP_RET_TRAP,
	specs.ActErrno:       unix.SECCOMP_RET_ERRNO,
	specs.ActTrace:       unix.SECCOMP_RET_TRACE,
	specs.ActAllow:       unix.SECCOMP_RET_ALLOW,
	specs.ActLog:         unix.SECCOMP_RET_LOG,
}

var seccompOps = map[specs.LinuxSeccompOperator]bool{
	specs.OpEqualTo: true, specs.OpNotEqual: true, specs.OpLessThan: true, specs.OpLessEqual: true,
	specs.OpGreaterThan: true, specs.OpGreaterEqual: true, specs.OpMaskedEqual: true,
}

func seccompActions() []string {
	var out []string
	for a := range seccompRet {
		out = append(out, string(a))
	}
	sort.Strings(out)
	return out
}

func seccompOperators() []string {
	var out []string
	for o := range seccompOps {
		out = append(out, string(o))
	}
	sort.Strings(out)
	return out
}

// checkSeccomp refuses what the filter compiler does not do.
func checkSeccomp(s *specs.LinuxSeccomp) error {
	if syscallNumbers == nil {
		return errors.New("linux.seccomp is not supported on this architecture")
	}
	if len(s.Flags) > 0 {
		return fmt.Errorf("linux.seccomp.flags %v are not supported", s.Flags)
	}
	if _, ok := seccompRet[s.DefaultAction]; !ok {
		return fmt.Errorf("linux.seccomp.defaultAction %q is not supported", s.DefaultAction)
	}
	for _, sc := range s.Syscalls {
		if _, ok := seccompRet[sc.Action]; !ok {
			return fmt.Errorf("linux.seccomp: action %q is not supported", sc.Action)
		}
		for _, a := range sc.Args {
			if !seccompOps[a.Op] {
				return fmt.Errorf("linux.seccomp: operator %q is not supported", a.Op)
			}
			if a.Index > 5 {
				return fmt.Errorf("linux.seccomp: argument index %d is out of range", a.Index)
			}
		}
	}
	return nil
}

// filter is a compiled linux.seccomp: a classic BPF program.
type filter struct{ prog []unix.SockFilter }

// newSeccomp compiles s (nil: no filter).
func newSeccomp(s *specs.LinuxSeccomp) (*filter, error) {
	if s == nil {
		return &filter{}, nil
	}
	if err := checkSeccomp(s); err != nil {
		return nil, err
	}
	prog, err := compileSeccomp(s)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	return &filter{prog: prog}, nil
}

// install loads the filter on this thread; the program executed from it
// keeps it.
func (f *filter) install() error {
	if len(f.prog) == 0 {
		return nil
	}
	fprog := unix.SockFprog{Len: uint16(len(f.prog)), Filter: &f.prog[0]}
	if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		return fmt.Errorf("seccomp: %w", e)
	}
	return nil
}

func retOf(a specs.LinuxSeccompAction, errno *uint) uint32 {
	r := seccompRet[a]
	switch a {
	case specs.ActErrno:
		e := uint32(unix.EPERM)
		if errno != nil {
			e = uint32(*errno)
		}
		r |= e & unix.SECCOMP_RET_DATA
	case specs.ActTrace:
		if errno != nil {
			r |= uint32(*errno) & unix.SECCOMP_RET_DATA
		}
	}
	return r
}

// asm is a BPF program under construction with symbolic jump targets.
type asm struct {
	ins    []unix.SockFilter
	fix    []fixup
	labels map[string]int
}

type fixup struct {
	at     int
	jt, jf string
}

func (a *asm) stmt(code uint16, k uint32) { a.ins = append(a.ins, unix.SockFilter{Code: code, K: k}) }

// jmp adds a conditional jump; "" as a target is the next instruction.
func (a *asm) jmp(op uint16, k uint32, jt, jf string) {
	a.fix = append(a.fix, fixup{len(a.ins), jt, jf})
	a.ins = append(a.ins, unix.SockFilter{Code: unix.BPF_JMP | op | unix.BPF_K, K: k})
}

func (a *asm) label(l string) { a.labels[l] = len(a.ins) }

func (a *asm) resolve() error {
	for _, f := range a.fix {
		for _, t := range []struct {
			l   string
			dst *uint8
		}{{f.jt, &a.ins[f.at].Jt}, {f.jf, &a.ins[f.at].Jf}} {
			if t.l == "" {
				continue
			}
			to, ok := a.labels[t.l]
			off := to - f.at - 1
			if !ok || off < 0 || off > 255 {
				return fmt.Errorf("jump to %s out of range", t.l)
			}
			*t.dst = uint8(off)
		}
	}
	return nil
}

const (
	ldW    = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	offNr  = 0
	offArc = 4
	offArg = 16
)

// compileSeccomp builds: a foreign architecture gets the default action;
// then for each syscall named, its rules in order (all conditions of a
// rule must hold, the first rule that holds decides); everything else the
// default action. Names unknown to this architecture are skipped, as
// libseccomp does.
func compileSeccomp(s *specs.LinuxSeccomp) ([]unix.SockFilter, error) {
	type rule struct {
		args []specs.LinuxSeccompArg
		ret  uint32
	}
	byNr := map[uint32][]rule{}
	for _, sc := range s.Syscalls {
		for _, name := range sc.Names {
			nr, ok := syscallNumbers[name]
			if !ok {
				continue
			}
			byNr[nr] = append(byNr[nr], rule{sc.Args, retOf(sc.Action, sc.ErrnoRet)})
		}
	}
	nrs := make([]uint32, 0, len(byNr))
	for nr := range byNr {
		nrs = append(nrs, nr)
	}
	sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })
	def := retOf(s.DefaultAction, s.DefaultErrnoRet)

	a := &asm{labels: map[string]int{}}
	a.stmt(ldW, offArc)
	a.jmp(unix.BPF_JEQ, nativeArch, "", "foreign")
	a.stmt(ldW, offNr)
	// The x32 ABI of amd64 numbers its syscalls from 0x40000000.
	a.jmp(unix.BPF_JGE, 0x40000000, "", "native")
	a.label("foreign")
	a.stmt(unix.BPF_RET|unix.BPF_K, def)
	a.label("native")
	// Each syscall: a test that skips its block, then the block, which
	// always returns, so that the number is still loaded after a skip and
	// every jump stays short.
	for _, nr := range nrs {
		a.jmp(unix.BPF_JEQ, nr, "", fmt.Sprintf("skip%d", nr))
		for i, r := range byNr[nr] {
			next := fmt.Sprintf("nr%d.%d", nr, i+1)
			for j, c := range r.args {
				cond(a, c, fmt.Sprintf("nr%d.%d.%d", nr, i, j+1), next)
				a.label(fmt.Sprintf("nr%d.%d.%d", nr, i, j+1))
			}
			a.stmt(unix.BPF_RET|unix.BPF_K, r.ret)
			a.label(next)
		}
		a.stmt(unix.BPF_RET|unix.BPF_K, def)
		a.label(fmt.Sprintf("skip%d", nr))
	}
	a.stmt(unix.BPF_RET|unix.BPF_K, def)
	if err := a.resolve(); err != nil {
		return nil, err
	}
	if len(a.ins) > unix.BPF_MAXINSNS {
		return nil, errors.New("filter longer than BPF_MAXINSNS")
	}
	return a.ins, nil
}

// cond tests one 64-bit argument condition, 32 bits at a time (the high
// word first), jumping to pass or fail.
func cond(a *asm, c specs.LinuxSeccompArg, pass, fail string) {
	hi := func(v uint64) uint32 { return uint32(v >> 32) }
	lo := func(v uint64) uint32 { return uint32(v) }
	ldHi := func() { a.stmt(ldW, offArg+8*uint32(c.Index)+4) }
	ldLo := func() { a.stmt(ldW, offArg+8*uint32(c.Index)) }
	v := c.Value
	lbl := fmt.Sprintf("c%d", len(a.ins))
	switch c.Op {
	case specs.OpEqualTo, specs.OpNotEqual:
		t, f := pass, fail
		if c.Op == specs.OpNotEqual {
			t, f = fail, pass
		}
		ldHi()
		a.jmp(unix.BPF_JEQ, hi(v), "", f)
		ldLo()
		a.jmp(unix.BPF_JEQ, lo(v), t, f)
	case specs.OpMaskedEqual:
		ldHi()
		a.stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, hi(v))
		a.jmp(unix.BPF_JEQ, hi(c.ValueTwo), "", fail)
		ldLo()
		a.stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, lo(v))
		a.jmp(unix.BPF_JEQ, lo(c.ValueTwo), pass, fail)
	case specs.OpGreaterThan, specs.OpGreaterEqual, specs.OpLessThan, specs.OpLessEqual:
		// a > v, a >= v; a < v is !(a >= v), a <= v is !(a > v).
		op := uint16(unix.BPF_JGT)
		if c.Op == specs.OpGreaterEqual || c.Op == specs.OpLessThan {
			op = unix.BPF_JGE
		}
		t, f := pass, fail
		if c.Op == specs.OpLessThan || c.Op == specs.OpLessEqual {
			t, f = fail, pass
		}
		ldHi()
		a.jmp(unix.BPF_JGT, hi(v), t, "")
		a.jmp(unix.BPF_JEQ, hi(v), lbl, f)
		a.label(lbl)
		ldLo()
		a.jmp(op, lo(v), t, f)
	}
}
