package engine

import (
	"encoding/json"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
	"github.com/tupperware/tw/applets/internal/seccomp"
)

// bpf interprets a seccomp program on one syscall, as the kernel does.
func bpf(t *testing.T, prog []unix.SockFilter, arch, nr uint32, args ...uint64) uint32 {
	t.Helper()
	r, err := seccomp.Eval(prog, arch, nr, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// decision is what a filter should answer to one syscall, by name.
type decision struct {
	arch uint32
	nr   string
	args []uint64
	want uint32
}

// decide checks each decision of prog.
func decide(t *testing.T, what string, prog []unix.SockFilter, ds []decision) {
	t.Helper()
	for _, c := range ds {
		if got := bpf(t, prog, c.arch, seccomp.Syscalls()[c.nr], c.args...); got != c.want {
			t.Errorf("%s: %s%v (arch %#x) = %#x, want %#x", what, c.nr, c.args, c.arch, got, c.want)
		}
	}
}

func TestSeccompCompile(t *testing.T) {
	if seccomp.Syscalls() == nil {
		t.Skip("no syscall table for this architecture")
	}
	var s specs.LinuxSeccomp
	err := json.Unmarshal([]byte(`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [
		{"names": ["read", "write", "no_such_call"], "action": "SCMP_ACT_ALLOW"},
		{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
		{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]},
		{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]},
		{"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
		{"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS"},
		{"names": ["lseek"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 4294967296, "op": "SCMP_CMP_GE"}, {"index": 1, "value": 8589934592, "op": "SCMP_CMP_LT"}]},
		{"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9, "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_GT"}]},
		{"names": ["dup2"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_LE"}]}
	]}`), &s)
	if err != nil {
		t.Fatal(err)
	}
	f, err := newSeccomp(&s)
	if err != nil {
		t.Fatal(err)
	}
	allow, enosys := uint32(unix.SECCOMP_RET_ALLOW), uint32(unix.SECCOMP_RET_ERRNO|38)
	decide(t, "OCI", f.prog, []decision{
		{seccomp.NativeArch, "read", nil, allow},
		{seccomp.NativeArch, "write", nil, allow},
		{seccomp.NativeArch, "open", nil, enosys},
		{0x40000003, "read", nil, enosys}, // another architecture
		{seccomp.NativeArch, "personality", []uint64{8}, allow},
		{seccomp.NativeArch, "personality", []uint64{0xffffffff}, allow},
		{seccomp.NativeArch, "personality", []uint64{0x1_00000008}, enosys},
		{seccomp.NativeArch, "personality", []uint64{9}, enosys},
		{seccomp.NativeArch, "socket", []uint64{2}, allow},
		{seccomp.NativeArch, "socket", []uint64{40}, enosys},
		{seccomp.NativeArch, "clone", []uint64{17}, allow},
		{seccomp.NativeArch, "clone", []uint64{unix.CLONE_NEWNS | 17}, enosys},
		{seccomp.NativeArch, "kill", nil, unix.SECCOMP_RET_KILL_PROCESS},
		{seccomp.NativeArch, "lseek", []uint64{0, 1 << 32}, allow},
		{seccomp.NativeArch, "lseek", []uint64{0, 1<<33 - 1}, allow},
		{seccomp.NativeArch, "lseek", []uint64{0, 1 << 33}, enosys},
		{seccomp.NativeArch, "lseek", []uint64{0, 1<<32 - 1}, enosys},
		{seccomp.NativeArch, "dup", []uint64{11}, unix.SECCOMP_RET_ERRNO | 9},
		{seccomp.NativeArch, "dup", []uint64{1 << 32}, unix.SECCOMP_RET_ERRNO | 9},
		{seccomp.NativeArch, "dup", []uint64{10}, enosys},
		{seccomp.NativeArch, "dup2", []uint64{10}, unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{seccomp.NativeArch, "dup2", []uint64{1<<32 + 1}, enosys},
	})
}

func TestSeccompNewerThanProfile(t *testing.T) {
	if seccomp.Syscalls() == nil {
		t.Skip("no syscall table for this architecture")
	}
	nr := func(n string) uint32 { return seccomp.Syscalls()[n] }
	eperm, enosys := uint32(unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM)), uint32(unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS))
	for _, c := range []struct {
		profile string
		call    string
		want    uint32
	}{
		// a profile from before close_range: newer syscalls get ENOSYS
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "getrandom"], "action": "SCMP_ACT_ALLOW"}]}`, "close_range", enosys},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "getrandom"], "action": "SCMP_ACT_ALLOW"}]}`, "mkdir", eperm},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "getrandom"], "action": "SCMP_ACT_ALLOW"}]}`, "getrandom", unix.SECCOMP_RET_ALLOW},
		// a newer profile that names close_range decides it
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "close_range"], "action": "SCMP_ACT_ALLOW"}]}`, "clone3", eperm},
		// an allowing default needs no stub
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}`, "close_range", unix.SECCOMP_RET_ALLOW},
		{`{"defaultAction": "SCMP_ACT_KILL", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}`, "close_range", enosys},
	} {
		var s specs.LinuxSeccomp
		if err := json.Unmarshal([]byte(c.profile), &s); err != nil {
			t.Fatal(err)
		}
		f, err := newSeccomp(&s)
		if err != nil {
			t.Fatal(err)
		}
		if got := bpf(t, f.prog, seccomp.NativeArch, nr(c.call)); got != c.want {
			t.Errorf("%s under %s = %#x, want %#x", c.call, c.profile, got, c.want)
		}
	}
}

// TestOneCompiler compiles Docker's profile (tw-harden's) and a sample
// OCI profile that says the same in linux.seccomp's terms through the one
// compiler, and checks that both decide alike.
func TestOneCompiler(t *testing.T) {
	if seccomp.Syscalls() == nil {
		t.Skip("no syscall table for this architecture")
	}
	d, err := seccomp.Docker(caps.Default)
	if err != nil {
		t.Fatal(err)
	}
	docker, err := d.Build()
	if err != nil {
		t.Fatal(err)
	}
	var s specs.LinuxSeccomp
	err = json.Unmarshal([]byte(`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["read", "write", "getpid", "mkdir", "close_range"], "action": "SCMP_ACT_ALLOW"},
		{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
		{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
		{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 131072, "op": "SCMP_CMP_EQ"}]},
		{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 131080, "op": "SCMP_CMP_EQ"}]},
		{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]},
		{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]},
		{"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
		{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
	]}`), &s)
	if err != nil {
		t.Fatal(err)
	}
	oci, err := newSeccomp(&s)
	if err != nil {
		t.Fatal(err)
	}
	allow, eperm, enosys := uint32(unix.SECCOMP_RET_ALLOW), seccomp.Errno(unix.EPERM), seccomp.Errno(unix.ENOSYS)
	both := []decision{
		{seccomp.NativeArch, "read", nil, allow},
		{seccomp.NativeArch, "getpid", nil, allow},
		{seccomp.NativeArch, "mkdir", nil, allow},
		{seccomp.NativeArch, "close_range", nil, allow},
		{seccomp.NativeArch, "mount", nil, eperm},
		{seccomp.NativeArch, "unshare", nil, eperm},
		{seccomp.NativeArch, "kexec_load", nil, eperm},
		{unix.AUDIT_ARCH_I386, "read", nil, eperm},
		{seccomp.NativeArch, "personality", []uint64{0}, allow},
		{seccomp.NativeArch, "personality", []uint64{0x20008}, allow},
		{seccomp.NativeArch, "personality", []uint64{0xffffffff}, allow},
		{seccomp.NativeArch, "personality", []uint64{0x40000}, eperm},
		{seccomp.NativeArch, "personality", []uint64{1 << 32}, eperm},
		{seccomp.NativeArch, "socket", []uint64{unix.AF_INET}, allow},
		{seccomp.NativeArch, "socket", []uint64{unix.AF_VSOCK}, eperm},
		{seccomp.NativeArch, "socket", []uint64{1<<32 | unix.AF_VSOCK}, allow},
		{seccomp.NativeArch, "clone", []uint64{unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_SIGHAND}, allow},
		{seccomp.NativeArch, "clone", []uint64{unix.CLONE_NEWUSER}, eperm},
		{seccomp.NativeArch, "clone", []uint64{1<<32 | unix.CLONE_NEWNS}, eperm},
		{seccomp.NativeArch, "clone3", nil, enosys},
	}
	decide(t, "Docker", docker, both)
	decide(t, "OCI", oci.prog, both)
	// A syscall newer than any the OCI profile names gets ENOSYS there
	// (Newest), and Docker's Default: its allow list knows them all.
	if got := bpf(t, oci.prog, seccomp.NativeArch, unix.SYS_MSEAL); got != enosys {
		t.Errorf("OCI: mseal = %#x, want ENOSYS", got)
	}
	if got := bpf(t, docker, seccomp.NativeArch, unix.SYS_MSEAL); got != eperm {
		t.Errorf("Docker: mseal = %#x, want EPERM", got)
	}
}
