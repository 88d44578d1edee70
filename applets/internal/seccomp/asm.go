package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// label names a place in a program under construction; next (0) is the
// instruction after the jump.
type label int

const next label = 0

// asm is a classic BPF program under construction: jumps name labels,
// resolve turns them into the 8-bit forward offsets the kernel takes.
type asm struct {
	ins []unix.SockFilter
	at  []int // where each label is, by label-1; -1 while unmarked
	fix []fixup
}

type fixup struct {
	pc     int
	jt, jf label
}

// label makes a new label, placed later with mark.
func (a *asm) label() label {
	a.at = append(a.at, -1)
	return label(len(a.at))
}

// mark places l at the next instruction.
func (a *asm) mark(l label) { a.at[l-1] = len(a.ins) }

func (a *asm) stmt(code uint16, k uint32) { a.ins = append(a.ins, unix.SockFilter{Code: code, K: k}) }

// load loads the 32-bit word at off in struct seccomp_data.
func (a *asm) load(off uint32) { a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, off) }

func (a *asm) ret(k uint32) { a.stmt(unix.BPF_RET|unix.BPF_K, k) }

func (a *asm) alu(op uint16, k uint32) { a.stmt(unix.BPF_ALU|op|unix.BPF_K, k) }

// jump compares the accumulator with k and goes to jt or jf.
func (a *asm) jump(op uint16, k uint32, jt, jf label) {
	a.fix = append(a.fix, fixup{len(a.ins), jt, jf})
	a.stmt(unix.BPF_JMP|op|unix.BPF_K, k)
}

// resolve fills in the jump offsets and returns the program.
func (a *asm) resolve() ([]unix.SockFilter, error) {
	off := func(pc int, l label) (uint8, error) {
		if l == next {
			return 0, nil
		}
		d := a.at[l-1] - pc - 1
		if a.at[l-1] < 0 || d < 0 || d > 255 {
			return 0, fmt.Errorf("instruction %d: jump out of range", pc)
		}
		return uint8(d), nil
	}
	for _, f := range a.fix {
		var err error
		if a.ins[f.pc].Jt, err = off(f.pc, f.jt); err != nil {
			return nil, err
		}
		if a.ins[f.pc].Jf, err = off(f.pc, f.jf); err != nil {
			return nil, err
		}
	}
	return a.ins, nil
}
