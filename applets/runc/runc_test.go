package runc

import (
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestMountOptions(t *testing.T) {
	flags, prop, data := mountOptions([]string{"nosuid", "noexec", "ro", "rw", "rbind", "rslave", "mode=755", "size=64k", "x-ignored", "tmpcopyup"})
	if want := uintptr(unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_BIND | unix.MS_REC); flags != want {
		t.Errorf("flags = %#x, want %#x", flags, want)
	}
	if len(prop) != 1 || prop[0] != unix.MS_SLAVE|unix.MS_REC {
		t.Errorf("propagation = %v", prop)
	}
	if data != "mode=755,size=64k" {
		t.Errorf("data = %q", data)
	}
	if !isBind(specs.Mount{Type: "none", Options: []string{"rbind"}}) || isBind(specs.Mount{Type: "tmpfs"}) {
		t.Error("isBind")
	}
}

func TestCgroupPath(t *testing.T) {
	for _, c := range []struct {
		in, id  string
		systemd bool
		want    string
	}{
		{"/default/c1", "c1", false, "/default/c1"},
		{"default/c1", "c1", false, "/default/c1"},
		{"", "c1", false, "/c1"},
		{"/a/../b", "c1", false, "/b"},
		{"system.slice:docker:abc", "abc", true, "/system.slice/docker-abc.scope"},
		{"a-b.slice:cri:x", "x", true, "/a.slice/a-b.slice/cri-x.scope"},
	} {
		got, err := cgroupPath(c.in, c.id, c.systemd)
		if err != nil || got != c.want {
			t.Errorf("cgroupPath(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := cgroupPath("/..", "x", false); err == nil {
		t.Error("the root cgroup was accepted")
	}
	// systemd's names stay names: no way above the hierarchy's root
	for _, in := range []string{"system.slice:p:../../../../tmp/X", "../x.slice:p:n", "system.slice:..:..",
		"system.slice:p/q:n", "nope:p:n", "/a/b", "a:b"} {
		if got, err := cgroupPath(in, "x", true); err == nil {
			t.Errorf("cgroupPath(%q, systemd) = %q, want an error", in, got)
		}
	}
	if got, _ := cgroupPath("", "x", true); got != "/system.slice/runc-x.scope" {
		t.Errorf("empty systemd cgroupsPath: %q", got)
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{"9": unix.SIGKILL, "KILL": unix.SIGKILL, "sigterm": unix.SIGTERM, "SIGUSR1": unix.SIGUSR1, "15": unix.SIGTERM} {
		if got, err := parseSignal(in); err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0", "65", "NOPE", "-1"} {
		if _, err := parseSignal(in); err == nil {
			t.Errorf("parseSignal(%q) accepted", in)
		}
	}
}

func TestCheckID(t *testing.T) {
	for _, ok := range []string{"a", "c1", "default_x-1.2+3"} {
		if err := checkID(ok); err != nil {
			t.Errorf("checkID(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "../x", "a b"} {
		if err := checkID(bad); err == nil {
			t.Errorf("checkID(%q) accepted", bad)
		}
	}
}

// minimal is the smallest config.json validate accepts.
func minimal() *specs.Spec {
	return &specs.Spec{
		Version: "1.0.2",
		Process: &specs.Process{Args: []string{"sh"}, Cwd: "/"},
		Root:    &specs.Root{Path: "rootfs"},
		Linux:   &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: "mount"}, {Type: "pid"}}},
	}
}

func TestValidate(t *testing.T) {
	if err := validate(minimal()); err != nil {
		t.Fatalf("minimal spec: %v", err)
	}
	// as runc: no mount namespace, or one joined by path; a hostname in a
	// uts namespace joined by path; namespaced sysctls in their namespaces
	for _, edit := range []func(*specs.Spec){
		func(s *specs.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[1:] },
		func(s *specs.Spec) { s.Linux.Namespaces[0].Path = "/proc/1/ns/mnt" },
		func(s *specs.Spec) {
			s.Hostname = "h"
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "uts", Path: "/proc/1/ns/uts"})
		},
		func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "network"},
				specs.LinuxNamespace{Type: "ipc"}, specs.LinuxNamespace{Type: "uts"})
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "fs.mqueue.msg_max": "1",
				"kernel.domainname": "d", "net/ipv4/conf/eth0.100/rp_filter": "1"}
		},
	} {
		s := minimal()
		edit(s)
		if err := validate(s); err != nil {
			t.Errorf("validate: %v", err)
		}
	}
	if p := sysctlPath("net/ipv4/conf/eth0.100/rp_filter"); p != "/proc/sys/net/ipv4/conf/eth0.100/rp_filter" {
		t.Errorf("sysctlPath: %s", p)
	}
	for _, c := range []struct {
		edit func(*specs.Spec)
		want string
	}{
		{func(s *specs.Spec) { s.Version = "0.9" }, `unsupported ociVersion "0.9": need 1.x`},
		{func(s *specs.Spec) { s.Process = nil }, "process is missing"},
		{func(s *specs.Spec) { s.Process.Cwd = "tmp" }, `process.cwd "tmp" is not an absolute path`},
		{func(s *specs.Spec) {
			s.Linux.Namespaces = s.Linux.Namespaces[1:]
			s.Linux.MaskedPaths = []string{"/proc/kcore"}
		}, "unable to restrict sys entries without a private MNT namespace"},
		{func(s *specs.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[1:]; s.Root.Readonly = true }, "root.readonly needs a mount namespace"},
		{func(s *specs.Spec) { s.Hostname = "h" }, "unable to set hostname without a private UTS namespace"},
		{func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"} }, `sysctl "net.ipv4.ip_forward" not allowed in host network namespace`},
		{func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "network", Path: "/proc/self/ns/net"})
			s.Linux.Sysctl = map[string]string{"net/ipv4/ip_forward": "1"}
		}, `sysctl "net.ipv4.ip_forward" not allowed in host network namespace`},
		{func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.msgmax": "1"} }, `sysctl "kernel.msgmax" is not allowed in the hosts ipc namespace`},
		{func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.domainname": "x"} }, `sysctl "kernel.domainname" is not in a separate kernel namespace`},
		{func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"} }, `sysctl "vm.swappiness" is not in a separate kernel namespace`},
		{func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user", Path: "/proc/1/ns/user"})
		}, "joining a user namespace by path is not supported"},
		{func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "pid"})
		}, "pid given twice"},
		{func(s *specs.Spec) { s.Linux.UIDMappings = []specs.LinuxIDMapping{{Size: 1}} }, "need a new user namespace"},
		{func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{} }, "linux.intelRdt is not supported"},
		{func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{} }, "linux.personality is not supported"},
		{func(s *specs.Spec) { s.Mounts = []specs.Mount{{Destination: "x", Type: "tmpfs"}} }, `destination "x" is not an absolute path`},
		{func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net/../../x": "1"} }, `invalid key "net/../../x"`},
		{func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_ALLOW", Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: "SCMP_ACT_ERRNO", Args: []specs.LinuxSeccompArg{{Index: 6, Op: "SCMP_CMP_EQ"}}}}}
		}, "argument index 6 is out of range"},
	} {
		s := minimal()
		c.edit(s)
		err := validate(s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("validate: %v, want %q", err, c.want)
		}
	}
}

// bpf interprets a seccomp program on one syscall, as the kernel does.
func bpf(t *testing.T, prog []unix.SockFilter, arch, nr uint32, args ...uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[0:], nr)
	binary.LittleEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			acc &= in.K
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K:
			ok := map[uint16]bool{unix.BPF_JEQ: acc == in.K, unix.BPF_JGT: acc > in.K, unix.BPF_JGE: acc >= in.K}[in.Code&^(unix.BPF_JMP|unix.BPF_K)]
			if ok {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		default:
			t.Fatalf("pc %d: instruction %#x", pc, in.Code)
		}
	}
	t.Fatal("fell off the end of the program")
	return 0
}

func TestSeccompCompile(t *testing.T) {
	if syscallNumbers() == nil {
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
	nr := func(n string) uint32 { return syscallNumbers()[n] }
	allow, enosys := uint32(unix.SECCOMP_RET_ALLOW), uint32(unix.SECCOMP_RET_ERRNO|38)
	for _, c := range []struct {
		arch uint32
		nr   string
		args []uint64
		want uint32
	}{
		{nativeArch, "read", nil, allow},
		{nativeArch, "write", nil, allow},
		{nativeArch, "open", nil, enosys},
		{0x40000003, "read", nil, enosys}, // another architecture
		{nativeArch, "personality", []uint64{8}, allow},
		{nativeArch, "personality", []uint64{0xffffffff}, allow},
		{nativeArch, "personality", []uint64{0x1_00000008}, enosys},
		{nativeArch, "personality", []uint64{9}, enosys},
		{nativeArch, "socket", []uint64{2}, allow},
		{nativeArch, "socket", []uint64{40}, enosys},
		{nativeArch, "clone", []uint64{17}, allow},
		{nativeArch, "clone", []uint64{unix.CLONE_NEWNS | 17}, enosys},
		{nativeArch, "kill", nil, unix.SECCOMP_RET_KILL_PROCESS},
		{nativeArch, "lseek", []uint64{0, 1 << 32}, allow},
		{nativeArch, "lseek", []uint64{0, 1<<33 - 1}, allow},
		{nativeArch, "lseek", []uint64{0, 1 << 33}, enosys},
		{nativeArch, "lseek", []uint64{0, 1<<32 - 1}, enosys},
		{nativeArch, "dup", []uint64{11}, unix.SECCOMP_RET_ERRNO | 9},
		{nativeArch, "dup", []uint64{1 << 32}, unix.SECCOMP_RET_ERRNO | 9},
		{nativeArch, "dup", []uint64{10}, enosys},
		{nativeArch, "dup2", []uint64{10}, unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{nativeArch, "dup2", []uint64{1<<32 + 1}, enosys},
	} {
		if got := bpf(t, f.prog, c.arch, nr(c.nr), c.args...); got != c.want {
			t.Errorf("%s%v (arch %#x) = %#x, want %#x", c.nr, c.args, c.arch, got, c.want)
		}
	}
}

func TestSeccompNewerThanProfile(t *testing.T) {
	if syscallNumbers() == nil {
		t.Skip("no syscall table for this architecture")
	}
	nr := func(n string) uint32 { return syscallNumbers()[n] }
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
		if got := bpf(t, f.prog, nativeArch, nr(c.call)); got != c.want {
			t.Errorf("%s under %s = %#x, want %#x", c.call, c.profile, got, c.want)
		}
	}
}

func TestCheckProcMount(t *testing.T) {
	root := t.TempDir()
	dir := t.TempDir()
	for _, c := range []struct {
		dest string
		m    specs.Mount
		want string
	}{
		{"/proc", specs.Mount{Type: "proc", Source: "proc"}, ""},
		{"/proc", specs.Mount{Type: "bind", Source: "/proc", Options: []string{"rbind"}}, ""},
		{"/proc", specs.Mount{Type: "bind", Source: dir, Options: []string{"rbind"}}, "not of type proc"},
		{"/proc", specs.Mount{Type: "tmpfs", Source: "tmpfs"}, "not of type proc"},
		{"/proc/uptime", specs.Mount{Type: "bind", Source: dir, Options: []string{"bind"}}, ""},
		{"/proc/sys/kernel/ns_last_pid", specs.Mount{Type: "bind", Source: dir}, ""},
		{"/proc/sys", specs.Mount{Type: "bind", Source: dir, Options: []string{"rbind"}}, "inside /proc"},
		{"/proc/sys", specs.Mount{Type: "tmpfs", Source: "tmpfs"}, "inside /proc"},
		{"/procfoo", specs.Mount{Type: "tmpfs", Source: "tmpfs"}, ""},
		{"/", specs.Mount{Type: "tmpfs", Source: "tmpfs"}, ""},
	} {
		err := checkProcMount(root, filepath.Join(root, c.dest), c.m)
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("checkProcMount %s %+v = %v, want %q", c.dest, c.m, err, c.want)
		}
	}
}
