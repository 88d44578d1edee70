package engine

import (
	"errors"
	"os"
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
	if err := Validate(minimal()); err != nil {
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
		// a user namespace joined by path, with maps (not compared with
		// the namespace's, as runc 1.1.5: joinuser.go)
		joinUser(func(s *specs.Spec) {}),
		joinUser(func(s *specs.Spec) { s.Process.User = specs.User{UID: 999, GID: 999} }),
		func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "network"},
				specs.LinuxNamespace{Type: "ipc"}, specs.LinuxNamespace{Type: "uts"})
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "fs.mqueue.msg_max": "1",
				"kernel.domainname": "d", "net/ipv4/conf/eth0.100/rp_filter": "1"}
		},
	} {
		s := minimal()
		edit(s)
		if err := Validate(s); err != nil {
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
		// a user namespace joined by path: runc 1.1.5's checks of the maps
		{joinUser(func(s *specs.Spec) { s.Linux.UIDMappings = nil }), "User namespaces enabled, but no uid mappings found"},
		{joinUser(func(s *specs.Spec) { s.Linux.GIDMappings = nil }), "User namespaces enabled, but no gid mappings found"},
		{joinUser(func(s *specs.Spec) { s.Linux.UIDMappings[0].ContainerID = 1 }), "User namespaces enabled, but no user mapping found"},
		{joinUser(func(s *specs.Spec) { s.Linux.GIDMappings[0].ContainerID = 1 }), "User namespaces enabled, but no group mapping found"},
		{joinUser(func(s *specs.Spec) { s.Process.User.UID = 1000 }), "cannot set uid to unmapped user in user namespace"},
		{joinUser(func(s *specs.Spec) { s.Process.User.GID = 1000 }), "cannot set gid to unmapped user in user namespace"},
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
		err := Validate(s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("validate: %v, want %q", err, c.want)
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

// A Runtime's directory read back: nothing there, then a container whose
// init is gone (stopped), listed, refused by Start, removed by Delete.
func TestRuntimeState(t *testing.T) {
	r := &Runtime{Root: filepath.Join(t.TempDir(), "root")}
	if list, err := r.List(); err != nil || len(list) != 0 {
		t.Fatalf("List of a missing root = %v, %v", list, err)
	}
	if _, err := r.Load("nope"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Load of an unknown ID: %v", err)
	}
	if _, err := r.Load("../x"); err == nil || errors.Is(err, ErrNotExist) {
		t.Fatalf("Load of a bad ID: %v", err)
	}
	if err := os.MkdirAll(r.dir("c1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := r.save(&State{Public: Public{ID: "c1", Pid: 0, Status: Running}}); err != nil {
		t.Fatal(err)
	}
	st, err := r.Load("c1")
	if err != nil || st.Status != Stopped {
		t.Fatalf("Load of a container without init = %+v, %v", st, err)
	}
	if list, err := r.List(); err != nil || len(list) != 1 || list[0].ID != "c1" {
		t.Fatalf("List = %v, %v", list, err)
	}
	if err := r.Start(st); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("Start of a stopped container: %v", err)
	}
	if err := r.Kill(st, unix.SIGTERM, false); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Kill of a stopped container: %v", err)
	}
	if err := r.Delete(st, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.dir("c1")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Delete left %s: %v", r.dir("c1"), err)
	}
}

// joinUser edits a spec to join a user namespace by path, with maps of
// 1000 ids, then edit.
func joinUser(edit func(*specs.Spec)) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user", Path: "/proc/1/ns/user"})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}}
		edit(s)
	}
}
