package engine

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestLateMountsKeepOrder(t *testing.T) {
	proc := specs.Mount{Destination: "/proc", Type: "proc", Source: "proc"}
	sys := specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs"}
	cg := specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup"}
	bindSys := specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind"}}
	tmp := specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"}
	under := specs.Mount{Destination: "/sys/fs/cgroup/x", Type: "tmpfs", Source: "tmpfs"}
	for _, c := range []struct {
		name   string
		mounts []specs.Mount
		want   bool
	}{
		{"runc spec's order", []specs.Mount{proc, sys, cg, tmp}, true},
		{"a cover before the late mount stays below it", []specs.Mount{proc, bindSys, cg}, true},
		{"a bind of /sys after the cgroups would go under them", []specs.Mount{proc, sys, cg, bindSys}, false},
		{"a mount below a late one", []specs.Mount{proc, sys, cg, under}, false},
		{"a mount below a late one, before it", []specs.Mount{under, proc, sys, cg}, false},
		{"a mount below /proc", []specs.Mount{proc, {Destination: "/proc/x", Type: "tmpfs"}}, false},
		{"the root", []specs.Mount{{Destination: "/", Type: "tmpfs"}}, false},
	} {
		if got := lateMountsKeepOrder(c.mounts); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
