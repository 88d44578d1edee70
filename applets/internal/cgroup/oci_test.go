package cgroup

import (
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func u64(n uint64) *uint64 { return &n }

func show(w []Write) string {
	var b []string
	for _, x := range w {
		b = append(b, fmt.Sprintf("%s/%s=%s", x.Controller, x.File, x.Value))
	}
	return strings.Join(b, " ")
}

func TestResources(t *testing.T) {
	yes := true
	weight := uint16(500)
	full := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: i64(1 << 20), Reservation: i64(1 << 19), Swap: i64(2 << 20), Swappiness: u64(10), DisableOOMKiller: &yes},
		Pids:    &specs.LinuxPids{Limit: i64(0)},
		CPU:     &specs.LinuxCPU{Shares: u64(1024), Period: u64(50000), Quota: i64(25000), Cpus: "0", Mems: "0"},
		BlockIO: &specs.LinuxBlockIO{Weight: &weight},
	}
	for _, c := range []struct {
		r    *specs.LinuxResources
		v2   bool
		want string
	}{
		{nil, false, ""},
		{nil, true, ""},
		{full, false, "memory/memory.limit_in_bytes=1048576 memory/memory.soft_limit_in_bytes=524288 " +
			"memory/memory.memsw.limit_in_bytes=2097152 memory/memory.swappiness=10 memory/memory.oom_control=1 " +
			"pids/pids.max=max cpu/cpu.shares=1024 cpu/cpu.cfs_period_us=50000 cpu/cpu.cfs_quota_us=25000 " +
			"cpuset/cpuset.cpus=0 cpuset/cpuset.mems=0 blkio/blkio.weight=500"},
		// v2: swap is memory plus swap in the spec, swap alone in the kernel;
		// no v2 file for swappiness, the OOM killer or blkio's weight
		{full, true, "memory/memory.max=1048576 memory/memory.low=524288 memory/memory.swap.max=1048576 " +
			"pids/pids.max=max cpu/cpu.weight=39 cpu/cpu.max=25000 50000 cpuset/cpuset.cpus=0 cpuset/cpuset.mems=0"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1), Swap: i64(-1)}, Pids: &specs.LinuxPids{Limit: i64(7)},
			CPU: &specs.LinuxCPU{Quota: i64(-1)}}, true,
			"memory/memory.max=max memory/memory.swap.max=max pids/pids.max=7 cpu/cpu.max=max 100000"},
		// swap without a memory limit: nothing to subtract it from
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: i64(5)}}, true, ""},
		// zero shares, period and quota are not set
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(0), Period: u64(0), Quota: i64(0)}}, false, ""},
		{&specs.LinuxResources{Unified: map[string]string{"pids.max": "9", "io.weight": "50"}}, true, "/io.weight=50 /pids.max=9"},
	} {
		got, err := Resources(c.r, c.v2)
		if err != nil || show(got) != c.want {
			t.Errorf("Resources(v2 %v) = %q, %v\nwant %q", c.v2, show(got), err, c.want)
		}
	}
	if _, err := Resources(&specs.LinuxResources{Unified: map[string]string{"a": "1"}}, false); err == nil || err.Error() != "linux.resources.unified needs cgroup v2" {
		t.Errorf("unified on v1: %v", err)
	}
	if _, err := Resources(&specs.LinuxResources{Unified: map[string]string{"../cgroup.procs": "1"}}, true); err == nil {
		t.Error("a unified key with a slash: no error")
	}
}

func TestSharesWeight(t *testing.T) {
	for _, c := range []struct{ shares, weight uint64 }{{2, 1}, {1024, 39}, {262144, 10000}} {
		if got := Weight(c.shares); got != c.weight {
			t.Errorf("Weight(%d) = %d, want %d", c.shares, got, c.weight)
		}
	}
	for _, w := range []uint64{1, 10000} { // both round down: exact only at the ends
		if got := Weight(Shares(w)); got != w {
			t.Errorf("Weight(Shares(%d)) = %d", w, got)
		}
	}
}

func TestDeviceWrites(t *testing.T) {
	got := show(DeviceWrites(DeviceRules(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "b", Major: i64(7), Access: "rw"}}},
		[]specs.LinuxDevice{{Path: "/dev/fuse", Type: "u", Major: 10, Minor: 229}})))
	want := "devices/devices.deny=a devices/devices.allow=b 7:* rw devices/devices.allow=c *:* m"
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "devices/devices.allow=c 10:229 rwm") {
		t.Errorf("DeviceWrites = %q", got)
	}
}
