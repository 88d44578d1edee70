package runc

import (
	"errors"
	"fmt"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/seccomp"
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
	if syscallNumbers() == nil {
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

// active reports whether there is a filter to install.
func (f *filter) active() bool { return len(f.prog) > 0 }

// install loads the filter on this thread; the program executed from it
// keeps it.
func (f *filter) install() error {
	if len(f.prog) == 0 {
		return nil
	}
	return seccomp.Install(f.prog)
}

func ptr[T any](v T) *T { return &v }

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
	offArg = 16 // the arguments in struct seccomp_data
)

// compileSeccomp builds the filter with package seccomp: a foreign
// architecture gets the default action; a syscall named with ALLOW and no
// conditions is in the allow list; any other is a rule: its entries in
// order (all conditions of one must hold, the first that holds decides),
// else the default action. Names unknown to this architecture are
// skipped, as libseccomp does.
func compileSeccomp(s *specs.LinuxSeccomp) ([]unix.SockFilter, error) {
	type rule struct {
		args []specs.LinuxSeccompArg
		ret  uint32
	}
	byNr := map[uint32][]rule{}
	var newest uint32
	for _, sc := range s.Syscalls {
		for _, name := range sc.Names {
			nr, ok := syscallNumbers()[name]
			if !ok {
				continue
			}
			byNr[nr] = append(byNr[nr], rule{sc.Args, retOf(sc.Action, sc.ErrnoRet)})
			newest = max(newest, nr)
		}
	}
	nrs := make([]uint32, 0, len(byNr))
	for nr := range byNr {
		nrs = append(nrs, nr)
	}
	sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })
	f := &seccomp.Filter{Arch: nativeArch, Default: retOf(s.DefaultAction, s.DefaultErrnoRet)}
	// As runc: a profile that denies by default answers the syscalls newer
	// than any it names with ENOSYS (close_range, clone3 to a profile
	// written before them), so that programs fall back.
	switch s.DefaultAction {
	case specs.ActAllow, specs.ActLog, specs.ActTrace:
	default:
		if f.Default != retOf(specs.ActErrno, ptr(uint(unix.ENOSYS))) {
			f.Newest = newest
		}
	}
	for _, nr := range nrs {
		rs := byNr[nr]
		if rs[0].ret == unix.SECCOMP_RET_ALLOW && len(rs[0].args) == 0 {
			if f.Default != unix.SECCOMP_RET_ALLOW {
				f.Allow = append(f.Allow, nr)
			}
			continue
		}
		a := &asm{labels: map[string]int{}}
		for i, r := range rs {
			next := fmt.Sprintf("r%d", i+1)
			for j, c := range r.args {
				cond(a, c, fmt.Sprintf("r%d.%d", i, j+1), next)
				a.label(fmt.Sprintf("r%d.%d", i, j+1))
			}
			a.stmt(unix.BPF_RET|unix.BPF_K, r.ret)
			a.label(next)
		}
		a.stmt(unix.BPF_RET|unix.BPF_K, f.Default)
		if err := a.resolve(); err != nil {
			return nil, fmt.Errorf("syscall %d: %w", nr, err)
		}
		f.Rules = append(f.Rules, seccomp.Rule{Nr: nr, Code: a.ins})
	}
	return f.Build()
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
