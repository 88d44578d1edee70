package cgroup

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestDeviceRule(t *testing.T) {
	for _, c := range []struct {
		r    specs.LinuxDeviceCgroup
		want string
	}{
		{specs.LinuxDeviceCgroup{Access: "rwm"}, "a"},
		{specs.LinuxDeviceCgroup{Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"}, "c 1:3 rwm"},
		{specs.LinuxDeviceCgroup{Type: "c", Major: i64(136), Access: "rw"}, "c 136:* rw"},
		{specs.LinuxDeviceCgroup{Type: "b", Major: i64(-1), Minor: i64(-1)}, "b *:* rwm"},
	} {
		if got := deviceRule(c.r); got != c.want {
			t.Errorf("deviceRule(%+v) = %q, want %q", c.r, got, c.want)
		}
	}
}

// ebpfRun interprets a device filter on one access, as the kernel would.
func ebpfRun(t *testing.T, prog []EBPF, typ, access, major, minor uint32) uint32 {
	t.Helper()
	ctx := [3]uint32{access<<16 | typ, major, minor}
	var r [11]uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		dst, src := in.regs&0xf, in.regs>>4
		switch in.code {
		case ldxW:
			if src != 1 {
				t.Fatalf("pc %d: load from r%d", pc, src)
			}
			r[dst] = ctx[in.off/4]
		case alu32 | unix.BPF_MOV | unix.BPF_X:
			r[dst] = r[src]
		case alu32 | unix.BPF_MOV | unix.BPF_K:
			r[dst] = uint32(in.imm)
		case alu32 | unix.BPF_RSH | unix.BPF_K:
			r[dst] >>= uint32(in.imm)
		case alu32 | unix.BPF_AND | unix.BPF_K:
			r[dst] &= uint32(in.imm)
		case jmp | unix.BPF_JNE | unix.BPF_K:
			if r[dst] != uint32(in.imm) {
				pc += int(in.off)
			}
		case jmp | unix.BPF_EXIT:
			return r[0]
		default:
			t.Fatalf("pc %d: instruction %#x", pc, in.code)
		}
	}
	t.Fatal("fell off the end of the program")
	return 0
}

func TestDeviceFilter(t *testing.T) {
	rules := append([]specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: i64(10), Minor: i64(229), Access: "r"},
		{Allow: true, Type: "b", Major: i64(7), Access: "rw"},
	}, DefaultDevices...)
	prog, err := DeviceFilter(rules)
	if err != nil {
		t.Fatal(err)
	}
	const m, r, w = 1, 2, 4
	for _, c := range []struct {
		typ, access, major, minor uint32
		want                      uint32
	}{
		{devChr, r | w, 1, 3, 1},    // null
		{devChr, m, 1, 3, 1},        // mknod null
		{devChr, r, 10, 229, 1},     // fuse, read
		{devChr, r | w, 10, 229, 0}, // fuse, write too
		{devBlk, r, 7, 3, 1},        // any loop device
		{devBlk, m, 8, 3, 1},        // mknod of any node (runc's default)
		{devChr, r, 7, 3, 0},        // a char device 7:3
		{devChr, r, 136, 42, 1},     // a pts
		{devBlk, r, 8, 0, 0},        // a disk
	} {
		if got := ebpfRun(t, prog, c.typ, c.access, c.major, c.minor); got != c.want {
			t.Errorf("type %d access %d %d:%d = %d, want %d", c.typ, c.access, c.major, c.minor, got, c.want)
		}
	}
	// DeviceRules: deny all first, FIFOs get none, linux.devices last
	got := DeviceRules(nil, []specs.LinuxDevice{{Path: "/dev/p", Type: "p"}, {Path: "/dev/f", Type: "c", Major: 10, Minor: 229}})
	if len(got) != 2+len(DefaultDevices) || got[0].Allow || got[0].Type != "" || *got[len(got)-1].Major != 10 {
		t.Errorf("DeviceRules = %+v", got)
	}
	// no deny-all rule: what no rule names is allowed
	prog, _ = DeviceFilter([]specs.LinuxDeviceCgroup{{Allow: false, Type: "b", Major: i64(8), Access: "rwm"}})
	if ebpfRun(t, prog, devBlk, r, 8, 1) != 0 || ebpfRun(t, prog, devBlk, r, 9, 1) != 1 {
		t.Error("a lone deny rule")
	}
}
