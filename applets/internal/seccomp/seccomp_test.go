package seccomp

import (
	"encoding/binary"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
)

// run interprets a classic BPF seccomp program on one struct seccomp_data,
// as the kernel does, and fails on any instruction a seccomp filter may
// not use or a jump out of the program.
func run(t *testing.T, prog []unix.SockFilter, arch, nr uint32, args ...uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[offNr:], nr)
	binary.LittleEndian.PutUint32(data[offArch:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[offArgs+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if in.K%4 != 0 || in.K+4 > 64 {
				t.Fatalf("pc %d: load at %d", pc, in.K)
			}
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var ok bool
			switch in.Code &^ (unix.BPF_JMP | unix.BPF_K) {
			case unix.BPF_JEQ:
				ok = acc == in.K
			case unix.BPF_JGT:
				ok = acc > in.K
			case unix.BPF_JGE:
				ok = acc >= in.K
			case unix.BPF_JSET:
				ok = acc&in.K != 0
			}
			if ok {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
			if pc+1 >= len(prog) {
				t.Fatalf("pc %d: jump out of the program", pc)
			}
		default:
			t.Fatalf("pc %d: instruction %#x not allowed", pc, in.Code)
		}
	}
	t.Fatalf("fell off the end of the program")
	return 0
}

func build(t *testing.T, have caps.Set) []unix.SockFilter {
	t.Helper()
	f, err := Docker(have)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Build()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	allow = uint32(unix.SECCOMP_RET_ALLOW)
	eperm = Errno(unix.EPERM)
)

func TestRanges(t *testing.T) {
	got := fmt.Sprint(ranges([]uint32{5, 1, 2, 3, 9, 10, 3, 12}))
	if got != "[[1 3] [5 5] [9 10] [12 12]]" {
		t.Errorf("ranges = %s", got)
	}
}

func TestDockerProfile(t *testing.T) {
	p := build(t, caps.Default)
	if len(p) > 400 {
		t.Errorf("program has %d instructions", len(p))
	}
	for _, nr := range allowAmd64 {
		if r := run(t, p, unix.AUDIT_ARCH_X86_64, nr); r != allow {
			t.Errorf("syscall %d: %#x, want allow", nr, r)
		}
	}
	for name, c := range map[string]struct {
		nr   uint32
		args []uint64
		want uint32
	}{
		"mount":                 {unix.SYS_MOUNT, nil, eperm},
		"unshare":               {unix.SYS_UNSHARE, nil, eperm},
		"keyctl":                {unix.SYS_KEYCTL, nil, eperm},
		"kexec_load":            {unix.SYS_KEXEC_LOAD, nil, eperm},
		"reboot":                {unix.SYS_REBOOT, nil, eperm},
		"chroot":                {unix.SYS_CHROOT, nil, eperm},
		"last+1":                {unix.SYS_MSEAL + 100, nil, eperm},
		"x32 read":              {0x40000000, nil, eperm},
		"personality 0":         {unix.SYS_PERSONALITY, []uint64{0}, allow},
		"personality query":     {unix.SYS_PERSONALITY, []uint64{0xffffffff}, allow},
		"personality 0x20008":   {unix.SYS_PERSONALITY, []uint64{0x20008}, allow},
		"personality no-aslr":   {unix.SYS_PERSONALITY, []uint64{0x40000}, eperm},
		"personality high bits": {unix.SYS_PERSONALITY, []uint64{1 << 32}, eperm},
		"socket inet":           {unix.SYS_SOCKET, []uint64{unix.AF_INET}, allow},
		"socket vsock":          {unix.SYS_SOCKET, []uint64{unix.AF_VSOCK}, eperm},
		"socket vsock high":     {unix.SYS_SOCKET, []uint64{1<<32 | unix.AF_VSOCK}, allow},
		"clone thread":          {unix.SYS_CLONE, []uint64{unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_SIGHAND}, allow},
		"clone fork":            {unix.SYS_CLONE, []uint64{uint64(unix.SIGCHLD)}, allow},
		"clone newuser":         {unix.SYS_CLONE, []uint64{unix.CLONE_NEWUSER}, eperm},
		"clone newns":           {unix.SYS_CLONE, []uint64{unix.CLONE_NEWNS | uint64(unix.SIGCHLD)}, eperm},
		"clone3":                {unix.SYS_CLONE3, nil, Errno(unix.ENOSYS)},
	} {
		if r := run(t, p, unix.AUDIT_ARCH_X86_64, c.nr, c.args...); r != c.want {
			t.Errorf("%s: %#x, want %#x", name, r, c.want)
		}
	}
	if r := run(t, p, unix.AUDIT_ARCH_I386, unix.SYS_READ); r != eperm {
		t.Errorf("i386 read: %#x", r)
	}
}

func TestCapabilitiesBringTheirSyscalls(t *testing.T) {
	p := build(t, caps.Default|1<<caps.SYS_ADMIN|1<<18)
	for name, c := range map[string]struct {
		nr   uint32
		args []uint64
	}{
		"mount":         {unix.SYS_MOUNT, nil},
		"unshare":       {unix.SYS_UNSHARE, nil},
		"clone newuser": {unix.SYS_CLONE, []uint64{unix.CLONE_NEWUSER}},
		"clone3":        {unix.SYS_CLONE3, nil},
		"chroot":        {unix.SYS_CHROOT, nil},
	} {
		if r := run(t, p, unix.AUDIT_ARCH_X86_64, c.nr, c.args...); r != allow {
			t.Errorf("%s with its capability: %#x", name, r)
		}
	}
	if r := run(t, p, unix.AUDIT_ARCH_X86_64, unix.SYS_REBOOT); r != eperm {
		t.Errorf("reboot without SYS_BOOT: %#x", r)
	}
}

func TestRuleTooLong(t *testing.T) {
	f := &Filter{Arch: 1, Rules: []Rule{{Nr: 1, Code: make([]unix.SockFilter, 256)}}}
	if _, err := f.Build(); err == nil {
		t.Error("a 256-instruction rule was accepted")
	}
	f = &Filter{Arch: 1, Allow: make([]uint32, 0)}
	for i := uint32(0); i < 3000; i += 2 {
		f.Allow = append(f.Allow, i)
	}
	if _, err := f.Build(); err != ErrTooLong {
		t.Errorf("long program: %v", err)
	}
}
