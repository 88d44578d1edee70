package engine

import (
	"encoding/json"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Each field that hides one of specs.Spec or specs.Linux has the hidden
// one's JSON name: one that hides nothing would cost the time it saves.
func TestInitSpecHides(t *testing.T) {
	check := func(hiding, hidden reflect.Type) {
		names := map[string]bool{}
		for i := 0; i < hidden.NumField(); i++ {
			names[hidden.Field(i).Tag.Get("json")] = true
		}
		for i := 0; i < hiding.NumField(); i++ {
			f := hiding.Field(i)
			if f.Anonymous {
				continue
			}
			if !names[f.Tag.Get("json")] {
				t.Errorf("%v.%s: json %q hides nothing of %v", hiding, f.Name, f.Tag.Get("json"), hidden)
			}
		}
	}
	check(reflect.TypeOf(initSpec{}), reflect.TypeOf(specs.Spec{}))
	check(reflect.TypeOf(initLinux{}), reflect.TypeOf(specs.Linux{}))
}

// LoadSpec's reader reads what json.Unmarshal into specs.Spec reads.
func TestReadSpec(t *testing.T) {
	spec := fullSpec()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readSpec(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, spec) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, spec)
	}
	spec.Windows = nil
	if b, err = json.Marshal(spec); err != nil {
		t.Fatal(err)
	}
	if got, err = readSpec(b); err != nil || !reflect.DeepEqual(got, spec) {
		t.Errorf("read back\n%+v, %v\nwant\n%+v", got, err, spec)
	}
	// Bad JSON gets json's message for specs.Spec, runc's.
	for _, bad := range []string{`{"ociVersion": "1.0.2", "hostname": 5}`, `{"process": {"args": "x"}}`,
		`{"linux": {"resources": {"pids": {"limit": "x"}}}}`, `{"mounts": {}}`, `{"ociVersion": "1.0.2",`, `[]`,
		`{"windows": 5}`, `{"vm": {"hypervisor": 5}}`} {
		_, err := readSpec([]byte(bad))
		var s specs.Spec
		want := json.Unmarshal([]byte(bad), &s)
		if err == nil || err.Error() != want.Error() {
			t.Errorf("%s: %v, want %v", bad, err, want)
		}
	}
}

// The init's config reads back what create sent, the spec without the
// fields left out, and the config's other fields as they are.
func TestInitConfigRoundTrip(t *testing.T) {
	spec := fullSpec()
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
}

// fullSpec sets something in every part of a spec the init reads, and
// some of what it does not.
func fullSpec() *specs.Spec {
	umask := uint32(0o22)
	return &specs.Spec{
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
}
