package engine

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestLSMWrites(t *testing.T) {
	const (
		exec = "/proc/thread-self/attr/exec"
		aa   = "/proc/thread-self/attr/apparmor/exec"
	)
	both := &specs.Process{ApparmorProfile: "cri-containerd.apparmor.d", SelinuxLabel: "system_u:system_r:container_t:s0:c1,c2"}
	for _, c := range []struct {
		name  string
		p     *specs.Process
		exec  bool
		step  lsmStep
		aaDir bool
		want  []attrWrite
	}{
		{"nothing asked, nothing written", &specs.Process{}, false, beforeCreds, true, nil},
		{"nothing asked, exec", &specs.Process{}, true, afterCreds, true, nil},
		{"create: the profile, then the label, before the credentials", both, false, beforeCreds, true, []attrWrite{
			{aa, "exec cri-containerd.apparmor.d", "unable to apply apparmor profile: apparmor failed to apply profile"},
			{exec, "system_u:system_r:container_t:s0:c1,c2", "can't set process label"},
		}},
		{"create: nothing after the credentials", both, false, afterCreds, true, nil},
		{"create, a kernel without attr/apparmor: the old file", &specs.Process{ApparmorProfile: "p"}, false, beforeCreds, false, []attrWrite{
			{exec, "exec p", "unable to apply apparmor profile: apparmor failed to apply profile"},
		}},
		{"exec: the label before the credentials", both, true, beforeCreds, true, []attrWrite{
			{exec, "system_u:system_r:container_t:s0:c1,c2", "can't set process label"},
		}},
		{"exec: the profile after them", both, true, afterCreds, true, []attrWrite{
			{aa, "exec cri-containerd.apparmor.d", "apparmor failed to apply profile"},
		}},
		{"exec, old kernel", &specs.Process{ApparmorProfile: "p"}, true, afterCreds, false, []attrWrite{
			{exec, "exec p", "apparmor failed to apply profile"},
		}},
	} {
		if got := lsmWrites(c.p, c.exec, c.step, c.aaDir); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestCheckLSM(t *testing.T) {
	label := &specs.Process{SelinuxLabel: "system_u:system_r:container_t:s0"}
	if err := checkLSM(label, func() bool { return false }); !errors.Is(err, errSELinuxOff) ||
		err.Error() != "selinux label is specified in config, but selinux is disabled or not supported" {
		t.Errorf("a label without SELinux: %v", err)
	}
	if err := checkLSM(label, func() bool { return true }); err != nil {
		t.Errorf("a label with SELinux: %v", err)
	}
	// An AppArmor profile is never refused up front: the kernel decides.
	if err := checkLSM(&specs.Process{ApparmorProfile: "p"}, func() bool { return false }); err != nil {
		t.Errorf("a profile: %v", err)
	}
}

func TestLabelled(t *testing.T) {
	const l = "system_u:object_r:container_file_t:s0:c1,c2"
	ctx := `context="` + l + `"`
	for _, c := range []struct {
		m    specs.Mount
		want string
	}{
		{specs.Mount{Type: "tmpfs", Options: []string{"nosuid", "mode=755"}}, "nosuid,mode=755," + ctx},
		{specs.Mount{Type: "devpts", Options: []string{"newinstance"}}, "newinstance," + ctx},
		{specs.Mount{Type: "tmpfs"}, ctx},
		{specs.Mount{Type: "proc"}, ""},
		{specs.Mount{Type: "sysfs", Options: []string{"ro"}}, "ro"},
		{specs.Mount{Type: "mqueue"}, ""},
		{specs.Mount{Type: "cgroup"}, ""},
		{specs.Mount{Type: "bind", Options: []string{"rbind"}}, "rbind"},
		{specs.Mount{Type: "none", Options: []string{"bind", "ro"}}, "bind,ro"},
	} {
		if got := strings.Join(labelled(c.m, l), ","); got != c.want {
			t.Errorf("%s %v: got %q, want %q", c.m.Type, c.m.Options, got, c.want)
		}
	}
	// The data the kernel sees: the label last, after the other options.
	m := specs.Mount{Type: "tmpfs", Options: []string{"nosuid", "mode=755", "size=65536k"}}
	if _, _, data := mountOptions(labelled(m, l)); data != "mode=755,size=65536k,"+ctx {
		t.Errorf("data = %q", data)
	}
	if len(m.Options) != 3 {
		t.Errorf("the spec's options were changed: %v", m.Options)
	}
	if got := labelled(m, ""); !reflect.DeepEqual(got, m.Options) {
		t.Errorf("without a label: %v", got)
	}
	if got := maskLabel(l); !reflect.DeepEqual(got, []string{ctx}) {
		t.Errorf("maskLabel = %v", got)
	}
	if got := labelData("mode=755", l); got != "mode=755,"+ctx {
		t.Errorf("labelData = %q", got)
	}
	if got := labelData("mode=755", ""); got != "mode=755" {
		t.Errorf("labelData without a label = %q", got)
	}
	if got := maskLabel(""); got != nil {
		t.Errorf("maskLabel without a label = %v", got)
	}
}

func TestSELinuxfsMountPoint(t *testing.T) {
	for line, want := range map[string]string{
		"25 22 0:22 / /sys/fs/selinux rw,nosuid,noexec,relatime shared:6 - selinuxfs selinuxfs rw": "/sys/fs/selinux",
		"99 22 0:22 / /mnt/sel rw - selinuxfs none rw":                                             "/mnt/sel",
		"22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw":               "",
		"30 22 0:26 / /sys/fs/selinux-not rw - tmpfs selinuxfs rw":                                 "",
	} {
		if got := selinuxfsMountPoint(line); got != want {
			t.Errorf("%q: got %q, want %q", line, got, want)
		}
	}
}

func TestValidateLSM(t *testing.T) {
	base := func() *specs.Spec {
		return &specs.Spec{Version: "1.0.2", Process: &specs.Process{Args: []string{"sh"}, Cwd: "/"}, Root: &specs.Root{Path: "rootfs"},
			Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}}}}
	}
	s := base()
	s.Process.ApparmorProfile = "cri-containerd.apparmor.d"
	s.Linux.MountLabel = "system_u:object_r:container_file_t:s0"
	if err := Validate(s); err != nil {
		t.Errorf("a profile and a mount label are the kernel's to refuse: %v", err)
	}
	s = base()
	s.Process.SelinuxLabel = "system_u:system_r:container_t:s0"
	if err := Validate(s); selinuxEnabled() != (err == nil) {
		t.Errorf("a label, SELinux on: %v: %v", selinuxEnabled(), err)
	}
}
