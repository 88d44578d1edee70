package engine

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

// seccompOps maps linux.seccomp's operators to the compiler's.
var seccompOps = map[specs.LinuxSeccompOperator]seccomp.Op{
	specs.OpEqualTo: seccomp.EQ, specs.OpNotEqual: seccomp.NE, specs.OpLessThan: seccomp.LT,
	specs.OpLessEqual: seccomp.LE, specs.OpGreaterThan: seccomp.GT, specs.OpGreaterEqual: seccomp.GE,
	specs.OpMaskedEqual: seccomp.MaskedEQ,
}

func seccompActions() []string   { return sortedKeys(seccompRet) }
func seccompOperators() []string { return sortedKeys(seccompOps) }

func sortedKeys[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

// checkSeccomp refuses what the filter compiler does not do.
func checkSeccomp(s *specs.LinuxSeccomp) error {
	if seccomp.Syscalls() == nil {
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
			if _, ok := seccompOps[a.Op]; !ok {
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

// compileSeccomp translates s for package seccomp: a foreign
// architecture gets the default action; a syscall named with ALLOW and no
// conditions is in the allow list; any other is a rule: its entries in
// order (all conditions of one must hold, the first that holds decides),
// else the default action. Names unknown to this architecture are
// skipped, as libseccomp does.
func compileSeccomp(s *specs.LinuxSeccomp) ([]unix.SockFilter, error) {
	byNr := map[uint32][]seccomp.Case{}
	var newest uint32
	for _, sc := range s.Syscalls {
		c := seccomp.Case{Ret: retOf(sc.Action, sc.ErrnoRet)}
		for _, a := range sc.Args {
			c.Conds = append(c.Conds, seccomp.Cond{Index: a.Index, Op: seccompOps[a.Op], Value: a.Value, ValueTwo: a.ValueTwo})
		}
		for _, name := range sc.Names {
			nr, ok := seccomp.Syscalls()[name]
			if !ok {
				continue
			}
			byNr[nr] = append(byNr[nr], c)
			newest = max(newest, nr)
		}
	}
	nrs := make([]uint32, 0, len(byNr))
	for nr := range byNr {
		nrs = append(nrs, nr)
	}
	sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })
	f := &seccomp.Filter{Arch: seccomp.NativeArch, Default: retOf(s.DefaultAction, s.DefaultErrnoRet)}
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
		cs := byNr[nr]
		if cs[0].Ret == unix.SECCOMP_RET_ALLOW && len(cs[0].Conds) == 0 {
			if f.Default != unix.SECCOMP_RET_ALLOW {
				f.Allow = append(f.Allow, nr)
			}
			continue
		}
		f.Rules = append(f.Rules, seccomp.Rule{Nr: nr, Cases: cs})
	}
	return f.Build()
}
