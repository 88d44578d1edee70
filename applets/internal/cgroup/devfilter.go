package cgroup

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cgroup v2 has no devices files: the device rules become an eBPF
// program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup, as
// runc does. The kernel runs it on every open and mknod of a device with
// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
// (access_type: the access bits << 16 | the device type); 1 allows.

// EBPF is one eBPF instruction.
type EBPF struct {
	code uint8
	regs uint8 // dst in the low 4 bits, src in the high 4
	off  int16
	imm  int32
}

const (
	ldxW   = unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W
	alu32  = unix.BPF_ALU
	jmp    = unix.BPF_JMP
	devBlk = 1 // BPF_DEVCG_DEV_BLOCK
	devChr = 2 // BPF_DEVCG_DEV_CHAR
)

func reg(dst, src uint8) uint8 { return dst | src<<4 }

// DeviceFilter compiles rules with cgroup v1's meaning: the last rule that
// matches a device decides; none matching allows. The rules are tested
// from the last: the first match returns.
func DeviceFilter(rules []specs.LinuxDeviceCgroup) ([]EBPF, error) {
	p := []EBPF{
		{code: ldxW, regs: reg(2, 1), off: 0},                                   // r2 = access_type
		{code: alu32 | unix.BPF_MOV | unix.BPF_X, regs: reg(3, 2)},              // r3 = r2
		{code: alu32 | unix.BPF_RSH | unix.BPF_K, regs: reg(3, 0), imm: 16},     // r3 = access
		{code: alu32 | unix.BPF_AND | unix.BPF_K, regs: reg(2, 0), imm: 0xffff}, // r2 = type
		{code: ldxW, regs: reg(4, 1), off: 4},                                   // r4 = major
		{code: ldxW, regs: reg(5, 1), off: 8},                                   // r5 = minor
	}
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		var tests []EBPF
		switch r.Type {
		case "", "a":
		case "c":
			tests = append(tests, EBPF{code: jmp | unix.BPF_JNE | unix.BPF_K, regs: reg(2, 0), imm: devChr})
		case "b":
			tests = append(tests, EBPF{code: jmp | unix.BPF_JNE | unix.BPF_K, regs: reg(2, 0), imm: devBlk})
		default:
			return nil, fmt.Errorf("device rule: unknown type %q", r.Type)
		}
		access := int32(0)
		for _, c := range r.Access {
			switch c {
			case 'm':
				access |= 1
			case 'r':
				access |= 2
			case 'w':
				access |= 4
			default:
				return nil, fmt.Errorf("device rule: unknown access %q", r.Access)
			}
		}
		if r.Access == "" {
			access = 7
		}
		if access != 7 {
			// the access asked for must be within the rule's
			tests = append(tests,
				EBPF{code: alu32 | unix.BPF_MOV | unix.BPF_X, regs: reg(6, 3)},
				EBPF{code: alu32 | unix.BPF_AND | unix.BPF_K, regs: reg(6, 0), imm: ^access & 7},
				EBPF{code: jmp | unix.BPF_JNE | unix.BPF_K, regs: reg(6, 0), imm: 0})
		}
		if r.Major != nil && *r.Major >= 0 {
			tests = append(tests, EBPF{code: jmp | unix.BPF_JNE | unix.BPF_K, regs: reg(4, 0), imm: int32(*r.Major)})
		}
		if r.Minor != nil && *r.Minor >= 0 {
			tests = append(tests, EBPF{code: jmp | unix.BPF_JNE | unix.BPF_K, regs: reg(5, 0), imm: int32(*r.Minor)})
		}
		allow := int32(0)
		if r.Allow {
			allow = 1
		}
		// Each failed test jumps past the rest of the block: the tests
		// after it and the two instructions of the verdict.
		for j := range tests {
			if tests[j].code&0x07 == jmp {
				tests[j].off = int16(len(tests) - j - 1 + 2)
			}
		}
		p = append(p, tests...)
		p = append(p,
			EBPF{code: alu32 | unix.BPF_MOV | unix.BPF_K, regs: reg(0, 0), imm: allow},
			EBPF{code: jmp | unix.BPF_EXIT})
		if len(tests) == 0 {
			// A rule for every device decides for the earlier ones:
			// the verifier refuses code it cannot reach.
			return p, nil
		}
	}
	return append(p,
		EBPF{code: alu32 | unix.BPF_MOV | unix.BPF_K, regs: reg(0, 0), imm: 1},
		EBPF{code: jmp | unix.BPF_EXIT}), nil
}

// AttachDeviceFilter loads prog and attaches it to the cgroup v2
// directory dir; the cgroup keeps it.
func AttachDeviceFilter(dir string, prog []EBPF) error {
	fd, err := loadDeviceFilter(prog, nil)
	if err != nil {
		// Again with the verifier's log, for its reason.
		log := make([]byte, 64<<10)
		if _, err2 := loadDeviceFilter(prog, log); err2 == nil {
			return fmt.Errorf("load the device filter: %w", err)
		}
		if i := bytes.IndexByte(log, 0); i > 0 {
			return fmt.Errorf("load the device filter: %w: %s", err, bytes.TrimSpace(log[:i]))
		}
		return fmt.Errorf("load the device filter: %w", err)
	}
	defer unix.Close(fd)
	cg, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(cg)
	var attach [20]byte
	*(*uint32)(unsafe.Pointer(&attach[0])) = uint32(cg)
	*(*uint32)(unsafe.Pointer(&attach[4])) = uint32(fd)
	*(*uint32)(unsafe.Pointer(&attach[8])) = unix.BPF_CGROUP_DEVICE
	*(*uint32)(unsafe.Pointer(&attach[12])) = unix.BPF_F_ALLOW_MULTI
	if _, _, e := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_ATTACH, uintptr(unsafe.Pointer(&attach[0])), unsafe.Sizeof(attach)); e != 0 {
		return fmt.Errorf("attach the device filter to %s: %w", dir, e)
	}
	return nil
}

// loadDeviceFilter loads prog, with the verifier's log into log if given.
func loadDeviceFilter(prog []EBPF, log []byte) (int, error) {
	license := []byte("GPL\x00")
	var load [48]byte
	*(*uint32)(unsafe.Pointer(&load[0])) = unix.BPF_PROG_TYPE_CGROUP_DEVICE
	*(*uint32)(unsafe.Pointer(&load[4])) = uint32(len(prog))
	*(*uint64)(unsafe.Pointer(&load[8])) = uint64(uintptr(unsafe.Pointer(&prog[0])))
	*(*uint64)(unsafe.Pointer(&load[16])) = uint64(uintptr(unsafe.Pointer(&license[0])))
	if len(log) > 0 {
		*(*uint32)(unsafe.Pointer(&load[24])) = 1 // log_level
		*(*uint32)(unsafe.Pointer(&load[28])) = uint32(len(log))
		*(*uint64)(unsafe.Pointer(&load[32])) = uint64(uintptr(unsafe.Pointer(&log[0])))
	}
	fd, _, e := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&load[0])), unsafe.Sizeof(load))
	runtime.KeepAlive(prog)
	runtime.KeepAlive(license)
	runtime.KeepAlive(log)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}
