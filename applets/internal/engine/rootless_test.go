package engine

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tupperware/tw/applets/internal/cgroup"
)

func TestDefaultRoot(t *testing.T) {
	for _, c := range []struct {
		euid   int
		userns bool
		env    map[string]string
		root   string
		xdg    bool
	}{
		{1000, false, map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, "/run/user/1000/tw-runc", true},
		{1000, false, nil, "/run/tw-runc", false},
		{1000, false, map[string]string{"XDG_RUNTIME_DIR": ""}, "/run/tw-runc", false},
		// real root ignores /run/user/0, as runc does
		{0, false, map[string]string{"XDG_RUNTIME_DIR": "/run/user/0"}, "/run/tw-runc", false},
		// root of a user namespace: the XDG one unless USER is root
		{0, true, map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, "/run/user/1000/tw-runc", true},
		{0, true, map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "USER": "alice"}, "/run/user/1000/tw-runc", true},
		{0, true, map[string]string{"XDG_RUNTIME_DIR": "/run/user/0", "USER": "root"}, "/run/tw-runc", false},
	} {
		getenv := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
		root, xdg := DefaultRoot(c.euid, c.userns, getenv)
		if root != c.root || xdg != c.xdg {
			t.Errorf("DefaultRoot(%d, %v, %v) = %q, %v; want %q, %v", c.euid, c.userns, c.env, root, xdg, c.root, c.xdg)
		}
	}
}

func TestRootlessCgroups(t *testing.T) {
	for _, c := range []struct {
		flag   string
		euid   int
		userns bool
		want   bool
	}{
		{"auto", 1000, false, true}, {"auto", 0, false, false}, {"auto", 0, true, true}, {"", 1000, false, true},
		{"true", 0, false, true}, {"false", 1000, false, false},
	} {
		got, err := RootlessCgroups(c.flag, c.euid, c.userns)
		if err != nil || got != c.want {
			t.Errorf("RootlessCgroups(%q, %d, %v) = %v, %v; want %v", c.flag, c.euid, c.userns, got, err, c.want)
		}
	}
	if _, err := RootlessCgroups("maybe", 1000, false); err == nil {
		t.Error("RootlessCgroups(maybe): no error")
	}
}

// rootlessSpec is what tw-unpack --rootless writes for user 1000.
func rootlessSpec() *specs.Spec {
	return &specs.Spec{
		Process: &specs.Process{User: specs.User{UID: 0, GID: 0}},
		Mounts:  []specs.Mount{{Destination: "/dev/pts", Type: "devpts", Options: []string{"newinstance", "mode=0620", "gid=0"}}},
		Linux: &specs.Linux{
			Namespaces:  []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}, {Type: specs.UserNamespace}},
			UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
			GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
		},
	}
}

func TestCheckRootless(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(s *specs.Spec)
		want   string
	}{
		{"unpacked", func(s *specs.Spec) {}, ""},
		{"no userns", func(s *specs.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[:2] }, "rootless container requires user namespaces"},
		// one the user owns, as runc 1.1.5 (its maps: Validate, joinuser.go)
		{"joined userns", func(s *specs.Spec) { s.Linux.Namespaces[2].Path = "/proc/1/ns/user" }, ""},
		{"joined userns, additional gids", func(s *specs.Spec) {
			s.Linux.Namespaces[2].Path = "/proc/1/ns/user"
			s.Process.User.AdditionalGids = []uint32{0}
		}, "cannot set any additional groups in a rootless container"},
		{"no uid map", func(s *specs.Spec) { s.Linux.UIDMappings = nil }, "rootless containers requires at least one UID mapping"},
		{"no gid map", func(s *specs.Spec) { s.Linux.GIDMappings = nil }, "rootless containers requires at least one GID mapping"},
		{"gid= unmapped", func(s *specs.Spec) { s.Mounts[0].Options[2] = "gid=5" }, "cannot specify gid= mount options for unmapped gid in rootless containers"},
		{"uid= unmapped", func(s *specs.Spec) { s.Mounts[0].Options = append(s.Mounts[0].Options, "uid=1") }, "cannot specify uid= mount options for unmapped uid in rootless containers"},
		{"uid= not a number", func(s *specs.Spec) { s.Mounts[0].Options = append(s.Mounts[0].Options, "uid=x") }, ""},
		{"user unmapped", func(s *specs.Spec) { s.Process.User.UID = 1000 }, "cannot set uid to unmapped user in user namespace"},
		{"group unmapped", func(s *specs.Spec) { s.Process.User.GID = 1 }, "cannot set gid to unmapped user in user namespace"},
		{"additional gids", func(s *specs.Spec) { s.Process.User.AdditionalGids = []uint32{0} }, "cannot set any additional groups in a rootless container"},
		{"root unmapped (runc: before the user's checks)", func(s *specs.Spec) { s.Linux.UIDMappings[0].ContainerID = 1000 }, "User namespaces enabled, but no user mapping found"},
		{"root unmapped, uid= unmapped (runc: before the mount options)", func(s *specs.Spec) {
			s.Linux.UIDMappings[0].ContainerID = 1000
			s.Mounts[0].Options = append(s.Mounts[0].Options, "uid=7")
		}, "User namespaces enabled, but no user mapping found"},
		{"subordinate range", func(s *specs.Spec) {
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: 100000, Size: 65536})
			s.Process.User.UID = 1000
		}, ""},
		{"top of the range", func(s *specs.Spec) {
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 4294967294, HostID: 100000, Size: 1})
			s.Process.User.UID = 4294967294
		}, ""},
	} {
		s := rootlessSpec()
		c.change(s)
		err := checkRootless(s)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s: checkRootless = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestNeedHelpers(t *testing.T) {
	s := rootlessSpec()
	if needHelpers(s, 1000, 1000) {
		t.Error("own uid and gid: helpers needed")
	}
	if !needHelpers(s, 1000, 1001) {
		t.Error("another gid: no helpers")
	}
	s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: 100000, Size: 65536})
	if !needHelpers(s, 1000, 1000) {
		t.Error("subordinate range: no helpers")
	}
	// its own uid as another id inside: the kernel lets the user write it
	s = rootlessSpec()
	s.Linux.UIDMappings[0].ContainerID = 1000
	if needHelpers(s, 1000, 1000) {
		t.Error("own uid as 1000: helpers needed")
	}
}

func TestOwnCgroupPath(t *testing.T) {
	v2 := []cgroup.Mount{{Point: "/sys/fs/cgroup", Root: "/", V2: true}}
	v1 := []cgroup.Mount{{Point: "/sys/fs/cgroup/memory", Root: "/", Opts: []string{"rw", "memory"}}, {Point: "/sys/fs/cgroup/unified", Root: "/", V2: true}}
	user := map[string]string{"": "/user.slice/user-1000.slice/user@1000.service/app.slice/run.scope"}
	if got := ownCgroupPath(v2, user, "c1", "/c1"); got != user[""]+"/c1" {
		t.Errorf("v2: %q", got)
	}
	if got := ownCgroupPath(v2, map[string]string{"": "/"}, "c1", "/c1"); got != "/c1" {
		t.Errorf("v2 at the root: %q", got)
	}
	if got := ownCgroupPath(v1, map[string]string{"memory": "/m", "": "/"}, "c1", "/c1"); got != "/c1" {
		t.Errorf("v1: %q", got)
	}
	if got := ownCgroupPath(v2, map[string]string{}, "c1", "/c1"); got != "/c1" {
		t.Errorf("no v2 line: %q", got)
	}
}

func TestCheckRootMapped(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(s *specs.Spec)
		want   string
	}{
		{"root mapped", func(s *specs.Spec) {}, ""},
		{"one id, not root", func(s *specs.Spec) {
			s.Linux.UIDMappings[0].ContainerID = 1000
			s.Linux.GIDMappings[0].ContainerID = 1000
		}, "User namespaces enabled, but no user mapping found"},
		{"gid 0 missing", func(s *specs.Spec) { s.Linux.GIDMappings[0].ContainerID = 1 }, "User namespaces enabled, but no group mapping found"},
		{"root in a later range", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 1000, HostID: 1000, Size: 1}, {ContainerID: 0, HostID: 100000, Size: 1000}}
		}, ""},
		{"no user namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = s.Linux.Namespaces[:2]
			s.Linux.UIDMappings[0].ContainerID = 1000
		}, ""},
		{"joined by path", func(s *specs.Spec) {
			s.Linux.Namespaces[2].Path = "/proc/1/ns/user"
			s.Linux.UIDMappings = nil
		}, ""},
	} {
		s := rootlessSpec()
		c.change(s)
		got := ""
		if err := checkRootMapped(s); err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s: checkRootMapped = %q, want %q", c.name, got, c.want)
		}
	}
}
