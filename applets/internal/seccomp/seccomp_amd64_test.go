package seccomp

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
)

// run interprets prog on one syscall with Eval.
func run(t *testing.T, prog []unix.SockFilter, arch, nr uint32, args ...uint64) uint32 {
	t.Helper()
	r, err := Eval(prog, arch, nr, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
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
	// 52 cases of 5 instructions: a block of 261
	r := Rule{Nr: 1}
	for v := uint64(0); v < 52; v++ {
		r.Cases = append(r.Cases, Case{Conds: []Cond{{Op: EQ, Value: v}}, Ret: retAllow})
	}
	f := &Filter{Arch: 1, Rules: []Rule{r}}
	if _, err := f.Build(); err == nil || !strings.Contains(err.Error(), "block too long") {
		t.Errorf("a 261-instruction rule: %v", err)
	}
	r.Cases = r.Cases[:50]
	if _, err := (&Filter{Arch: 1, Rules: []Rule{r}}).Build(); err != nil {
		t.Errorf("a 251-instruction rule: %v", err)
	}
	f = &Filter{Arch: 1, Allow: make([]uint32, 0)}
	for i := uint32(0); i < 3000; i += 2 {
		f.Allow = append(f.Allow, i)
	}
	if _, err := f.Build(); err != ErrTooLong {
		t.Errorf("long program: %v", err)
	}
}

func TestBadCond(t *testing.T) {
	for _, c := range []struct {
		cond Cond
		want string
	}{
		{Cond{Index: 6, Op: EQ}, "argument index 6 is out of range"},
		{Cond{Op: 0}, "operator 0 is not known"},
		{Cond{Op: MaskedEQ + 1}, "operator 8 is not known"},
	} {
		f := &Filter{Arch: 1, Rules: []Rule{{Nr: 1, Cases: []Case{{Conds: []Cond{c.cond}}}}}}
		if _, err := f.Build(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cond, err, c.want)
		}
	}
}

// TestConds checks each comparison on 64-bit values around the word
// boundary, against Go's own comparison.
func TestConds(t *testing.T) {
	vals := []uint64{0, 1, 9, 10, 11, 1<<32 - 1, 1 << 32, 1<<32 + 10, 5<<32 + 10, 1<<64 - 1}
	ops := map[Op]func(a, v, v2 uint64) bool{
		EQ: func(a, v, _ uint64) bool { return a == v }, NE: func(a, v, _ uint64) bool { return a != v },
		LT: func(a, v, _ uint64) bool { return a < v }, LE: func(a, v, _ uint64) bool { return a <= v },
		GT: func(a, v, _ uint64) bool { return a > v }, GE: func(a, v, _ uint64) bool { return a >= v },
		MaskedEQ: func(a, v, v2 uint64) bool { return a&v == v2 },
	}
	for op, want := range ops {
		for _, v := range vals {
			for _, v2 := range []uint64{0, 10, 1 << 32} {
				f := &Filter{Arch: 1, Default: Errno(unix.EPERM), Rules: []Rule{{Nr: 7,
					Cases: []Case{{Conds: []Cond{{Index: 3, Op: op, Value: v, ValueTwo: v2}}, Ret: retAllow}}}}}
				p, err := f.Build()
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range vals {
					got := run(t, p, 1, 7, 0, 0, 0, a) == allow
					if got != want(a, v, v2) {
						t.Errorf("op %d: %#x vs %#x, %#x: %v", op, a, v, v2, got)
					}
				}
			}
		}
	}
}

func TestSyscallTable(t *testing.T) {
	if Syscalls() == nil {
		t.Skip("no syscall table for this architecture")
	}
	for name, nr := range map[string]uint32{"read": unix.SYS_READ, "clone3": unix.SYS_CLONE3,
		"close_range": unix.SYS_CLONE3 + 1, "personality": unix.SYS_PERSONALITY, "mseal": unix.SYS_MSEAL} {
		if got, ok := Syscalls()[name]; !ok || got != nr {
			t.Errorf("%s = %d, %v, want %d", name, got, ok, nr)
		}
	}
	if n := len(Syscalls()); n < 380 {
		t.Errorf("%d syscalls", n)
	}
}

// TestSyscallTableIsGenerated: the committed table is what go generate
// writes today.
func TestSyscallTableIsGenerated(t *testing.T) {
	if testing.Short() || runtime.GOARCH != "amd64" {
		t.Skip("runs the generator: not with -short, amd64 only")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skip("no go tool")
	}
	out := filepath.Join(t.TempDir(), "z.go")
	if b, err := exec.Command(goTool, "run", "gen_syscalls.go", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("go run gen_syscalls.go: %v: %s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("zsyscalls_amd64.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("zsyscalls_amd64.go is not what gen_syscalls.go writes: run go generate ./applets/internal/seccomp")
	}
}
