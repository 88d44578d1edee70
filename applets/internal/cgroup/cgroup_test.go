package cgroup

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const hybrid = `23 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct\040x rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 /process_api /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

const selfHybrid = `9:name=systemd:/
8:pids:/
4:memory:/process_api/abc
2:cpuacct:/
1:cpu:/
0::/
`

func TestParseMountinfo(t *testing.T) {
	m, err := ParseMountinfo(strings.NewReader(hybrid))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range m {
		got = append(got, fmt.Sprintf("%s %s %v %v", x.Point, x.Root, x.V2, x.Opts))
	}
	want := []string{
		"/sys/fs/cgroup/cpu / false [rw cpu]",
		"/sys/fs/cgroup/cpu,cpuacct x / false [rw cpuacct]",
		"/sys/fs/cgroup/memory /process_api false [rw memory]",
		"/sys/fs/cgroup/pids / false [rw pids]",
		"/sys/fs/cgroup/systemd / false [rw name=systemd]",
		"/sys/fs/cgroup/unified / true [rw]",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseProcCgroup(t *testing.T) {
	got, err := ParseProcCgroup(strings.NewReader(selfHybrid + "3:cpu2,cpuacct2:/x\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name=systemd": "/", "pids": "/", "memory": "/process_api/abc", "cpuacct": "/",
		"cpu": "/", "": "/", "cpu2": "/x", "cpuacct2": "/x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
}

func TestDir(t *testing.T) {
	for _, c := range []struct{ point, root, cg, want string }{
		{"/sys/fs/cgroup/pids", "/", "/", "/sys/fs/cgroup/pids"},
		{"/sys/fs/cgroup/pids", "/", "/a/b", "/sys/fs/cgroup/pids/a/b"},
		{"/sys/fs/cgroup/memory", "/process_api", "/process_api/abc", "/sys/fs/cgroup/memory/abc"},
		{"/sys/fs/cgroup/memory", "/process_api", "/process_apix", "/sys/fs/cgroup/memory/process_apix"},
	} {
		if got := (Mount{Point: c.point, Root: c.root}).Dir(c.cg); got != c.want {
			t.Errorf("Dir(%s on %s at %s) = %s, want %s", c.cg, c.root, c.point, got, c.want)
		}
	}
}

func locate(t *testing.T, v2ctl string, want ...string) (bool, []Place, error) {
	t.Helper()
	m, _ := ParseMountinfo(strings.NewReader(hybrid))
	self, _ := ParseProcCgroup(strings.NewReader(selfHybrid))
	return Locate(m, self, want, func(dir string) []string {
		if dir != "/sys/fs/cgroup/unified" { // the root
			t.Errorf("v2 controllers read at %s", dir)
		}
		return strings.Fields(v2ctl)
	}, func(dir string) bool { return !strings.Contains(dir, "hidden") })
}

func TestLocateV1(t *testing.T) {
	v2, places, err := locate(t, "hugetlb", "cpu", "memory", "pids")
	if err != nil || v2 {
		t.Fatalf("v2 %v, err %v", v2, err)
	}
	want := []Place{
		{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu", []string{"cpu"}},
		{"/sys/fs/cgroup/memory/abc", "/sys/fs/cgroup/memory/abc", []string{"memory"}},
		{"/sys/fs/cgroup/pids", "/sys/fs/cgroup/pids", []string{"pids"}},
	}
	if !reflect.DeepEqual(places, want) {
		t.Errorf("places %v", places)
	}
}

func TestLocateV2(t *testing.T) {
	v2, places, err := locate(t, "cpu io memory pids", "memory", "pids")
	want := []Place{{"/sys/fs/cgroup/unified/tw", "/sys/fs/cgroup/unified", []string{"memory", "pids"}}}
	if err != nil || !v2 || !reflect.DeepEqual(places, want) {
		t.Errorf("v2 %v, places %v, err %v", v2, places, err)
	}
}

func TestLocateMissing(t *testing.T) {
	_, _, err := locate(t, "memory", "memory", "hugetlb")
	if err == nil || err.Error() != "hugetlb: controller not mounted: neither in cgroup v2 nor as a cgroup v1 hierarchy" {
		t.Errorf("err %v", err)
	}
	m := []Mount{{Point: "/hidden/pids", Root: "/", Opts: []string{"pids"}}}
	_, _, err = Locate(m, map[string]string{"pids": "/"}, []string{"pids"}, func(string) []string { return nil },
		func(dir string) bool { return !strings.Contains(dir, "hidden") })
	if err == nil {
		t.Error("a hidden hierarchy was used")
	}
}

func TestWrites(t *testing.T) {
	l := Limits{Memory: 32 << 20, Pids: 20, CPUQuota: 50000, CPUWeight: 100}
	if got := fmt.Sprint(l.Controllers()); got != "[cpu memory pids]" {
		t.Errorf("controllers %s", got)
	}
	v1 := fmt.Sprint(l.Writes(false))
	if v1 != "[{memory memory.limit_in_bytes 33554432 false} {memory memory.memsw.limit_in_bytes 33554432 true} "+
		"{pids pids.max 20 false} {cpu cpu.cfs_period_us 100000 false} {cpu cpu.cfs_quota_us 50000 false} {cpu cpu.shares 2597 false}]" {
		t.Errorf("v1 %s", v1)
	}
	v2 := fmt.Sprint(l.Writes(true))
	if v2 != "[{memory memory.max 33554432 false} {memory memory.swap.max 0 true} {pids pids.max 20 false} "+
		"{cpu cpu.max 50000 100000 false} {cpu cpu.weight 100 false}]" {
		t.Errorf("v2 %s", v2)
	}
	if (Limits{}).Controllers() != nil {
		t.Error("no limits need controllers")
	}
}

func TestShares(t *testing.T) {
	for w, s := range map[uint64]uint64{1: 2, 100: 2597, 10000: 262144} {
		if got := Shares(w); got != s {
			t.Errorf("Shares(%d) = %d, want %d", w, got, s)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "4096": 4096, "32M": 32 << 20, "32m": 32 << 20, "32MiB": 32 << 20,
		"32MB": 32 << 20, "1g": 1 << 30, "2K": 2048, "1T": 1 << 40} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0", "-1", "12Q", "M", "1.5G", "9999999999T"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): no error", in)
		}
	}
}

func TestParseCPUs(t *testing.T) {
	for in, want := range map[string]int64{"1": 100000, "0.5": 50000, "2.25": 225000, "0.01": 1000} {
		if got, err := ParseCPUs(in); err != nil || got != want {
			t.Errorf("ParseCPUs(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := ParseCPUs("0.001"); err == nil || err.Error() != "0.001: below the kernel's minimum of 0.01 CPU (a quota of 1ms per 100ms)" {
		t.Errorf("0.001: %v", err)
	}
	for _, in := range []string{"", "0", "-1", "x", "NaN"} {
		if _, err := ParseCPUs(in); err == nil {
			t.Errorf("ParseCPUs(%q): no error", in)
		}
	}
}

func TestControllers(t *testing.T) {
	for in, want := range map[string]string{
		"rw,memory":                "memory",
		"rw,cpu,cpuacct":           "cpu,cpuacct",
		"rw,xattr,name=systemd":    "none,name=systemd",
		"rw,release_agent=/x,pids": "pids",
	} {
		if got := controllers(strings.Split(in, ",")); got != want {
			t.Errorf("controllers(%q) = %q, want %q", in, got, want)
		}
	}
}
