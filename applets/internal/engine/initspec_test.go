package engine

import (
	"encoding/json"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Every field of specs.Spec and specs.Linux is in initSpec and initLinux,
// with the same JSON name, or named in initSpecLeftOut: a field a new
// runtime-spec adds fails here until it is placed.
func TestInitSpecFields(t *testing.T) {
	check := func(prefix string, full, init reflect.Type) {
		for i := 0; i < full.NumField(); i++ {
			f := full.Field(i)
			name := prefix + f.Name
			g, ok := init.FieldByName(f.Name)
			switch {
			case initSpecLeftOut[name] && ok:
				t.Errorf("%s: left out and there", name)
			case initSpecLeftOut[name]:
			case !ok:
				t.Errorf("%s: neither in the init's spec nor left out", name)
			case g.Tag.Get("json") != f.Tag.Get("json"):
				t.Errorf("%s: json tag %q, want %q", name, g.Tag.Get("json"), f.Tag.Get("json"))
			case name != "Linux" && g.Type != f.Type:
				t.Errorf("%s: type %v, want %v", name, g.Type, f.Type)
			}
		}
		for i := 0; i < init.NumField(); i++ {
			if _, ok := full.FieldByName(init.Field(i).Name); !ok {
				t.Errorf("%s%s: not in runtime-spec", prefix, init.Field(i).Name)
			}
		}
	}
	check("", reflect.TypeOf(specs.Spec{}), reflect.TypeOf(initSpec{}))
	check("Linux.", reflect.TypeOf(specs.Linux{}), reflect.TypeOf(initLinux{}))
}

// The init's config reads back what create sent, the spec without the
// fields left out, and the config's other fields as they are.
func TestInitConfigRoundTrip(t *testing.T) {
	umask := uint32(0o22)
	spec := &specs.Spec{
		Version: "1.0.2",
		Process: &specs.Process{Args: []string{"/bin/true"}, Cwd: "/", Env: []string{"A=1"},
			User:         specs.User{UID: 1, GID: 2, Umask: &umask, AdditionalGids: []uint32{3}},
			Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}}, NoNewPrivileges: true,
			Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 9, Soft: 8}}},
		Root:     &specs.Root{Path: "rootfs", Readonly: true},
		Hostname: "h", Domainname: "d",
		Mounts:      []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid"}}},
		Hooks:       &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/hook", Args: []string{"hook"}}}},
		Annotations: map[string]string{"a": "b"},
		Linux: &specs.Linux{
			UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
			GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
			Sysctl:      map[string]string{"net.ipv4.ip_forward": "1"},
			Namespaces:  []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: "/proc/1/ns/net"}},
			Devices:     []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}},
			Seccomp: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow,
					Args: []specs.LinuxSeccompArg{{Index: 1, Value: 2, Op: specs.OpEqualTo}}}}},
			RootfsPropagation: "rslave", MaskedPaths: []string{"/proc/kcore"}, ReadonlyPaths: []string{"/proc/sys"},
			MountLabel: "system_u:object_r:container_file_t:s0",
			// What the init leaves out.
			Resources:   &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(10))}},
			CgroupsPath: "/x",
		},
		Windows: &specs.Windows{LayerFolders: []string{`C:\`}},
	}
	sent := initConfig{Spec: spec, Rootfs: "/b/rootfs", Cgroup: &Cgroup{Paths: map[string]string{"": "/sys/fs/cgroup/x"}},
		ID: "id", Bundle: "/b", InitPid: 42, Exec: true, Pid: 7}
	b, err := json.Marshal(&sent)
	if err != nil {
		t.Fatal(err)
	}
	var got initConfig
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := sent
	s := *spec
	l := *spec.Linux
	l.Resources, l.CgroupsPath = nil, ""
	s.Linux, s.Windows = &l, nil
	want.Spec = &s
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, want)
	}
	if !reflect.DeepEqual(got.Spec, want.Spec) {
		t.Errorf("spec read back\n%+v\nwant\n%+v", got.Spec, want.Spec)
	}
}
