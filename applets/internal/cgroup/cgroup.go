// Package cgroup is tw's one cgroup manager. For tw-limit it finds where
// this process's cgroups are, and makes, fills, empties and removes a
// child cgroup in cgroup v2 or, where v2 lacks the controllers, in the v1
// hierarchies that have them (Group). For tw-runc it makes an OCI
// container's cgroup at its cgroupsPath (Container). Both fill them with
// []Write, worked out by pure functions (Limits.Writes, Resources,
// DeviceWrites); cgroup v2's device rules are an eBPF program
// (DeviceFilter).
package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	mi "github.com/tupperware/tw/applets/internal/mountinfo" // mountinfo() is ours (group.go)
)

// Mount is a cgroup or cgroup2 filesystem from /proc/self/mountinfo.
type Mount struct {
	Point string   // where it is mounted
	Root  string   // which cgroup of the hierarchy is its root
	V2    bool     // cgroup2
	Opts  []string // super options: the controllers of a v1 hierarchy
}

// ParseMountinfo reads the cgroup mounts of a mountinfo file.
func ParseMountinfo(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := -1
		for i, s := range f {
			if s == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || len(f) < sep+4 {
			continue
		}
		fstype := f[sep+1]
		if fstype != "cgroup" && fstype != "cgroup2" {
			continue
		}
		out = append(out, Mount{
			Point: mi.Unescape(f[4]),
			Root:  mi.Unescape(f[3]),
			V2:    fstype == "cgroup2",
			Opts:  strings.Split(f[sep+3], ","),
		})
	}
	return out, sc.Err()
}

// ParseProcCgroup reads /proc/PID/cgroup: the cgroup of each v1
// controller by name, and the v2 one under "".
func ParseProcCgroup(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			out[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out, sc.Err()
}

// Dir is the directory of cgroup cg of a hierarchy mounted at m.
func (m Mount) Dir(cg string) string {
	rel := cg
	if m.Root != "/" && (cg == m.Root || strings.HasPrefix(cg, m.Root+"/")) {
		rel = strings.TrimPrefix(cg, m.Root)
	}
	return path.Join(m.Point, rel)
}

// Has reports whether a v1 hierarchy carries controller c.
func (m Mount) Has(c string) bool {
	for _, o := range m.Opts {
		if o == c {
			return true
		}
	}
	return false
}

// Place is where the new cgroup goes in one hierarchy: its parent
// directory, the controllers it is meant for there, and the cgroup this
// process is in (Origin), to which it returns after stepping in.
type Place struct {
	Parent      string
	Origin      string
	Controllers []string
}

// V2Parent is the directory below a cgroup2 mount in which tw-limit makes
// its cgroups: cgroup v2 lets only the root and cgroups without processes
// hand controllers down, so the cgroup of the caller (which has one: the
// caller) cannot be the parent, as it is in v1.
const V2Parent = "tw"

// ErrNoController is wrapped by Locate when a controller is nowhere.
var ErrNoController = errors.New("controller not mounted: neither in cgroup v2 nor as a cgroup v1 hierarchy")

// Locate decides between v2 and v1 for the controllers want (sorted,
// distinct): v2 when the root of a cgroup2 mount has all of them
// (v2controllers reads cgroup.controllers of a directory), the parent
// then being V2Parent below it; else one place per v1 hierarchy that
// carries some of them, below the cgroup this process is in there. A v1
// directory that isCgroup denies (a mount hidden under a later one) is
// passed over.
func Locate(mounts []Mount, self map[string]string, want []string, v2controllers func(dir string) []string, isCgroup func(dir string) bool) (v2 bool, places []Place, err error) {
	for _, m := range mounts {
		if !m.V2 {
			continue
		}
		cg, ok := self[""]
		if !ok {
			break
		}
		if containsAll(v2controllers(m.Point), want) {
			return true, []Place{{Parent: path.Join(m.Point, V2Parent), Origin: m.Dir(cg), Controllers: want}}, nil
		}
		break
	}
	byDir := map[string]*Place{}
	var order []string
	for _, c := range want {
		found := false
		for _, m := range mounts {
			if m.V2 || !m.Has(c) {
				continue
			}
			cg, ok := self[c]
			if !ok {
				continue
			}
			dir := m.Dir(cg)
			if !isCgroup(dir) {
				continue
			}
			if p, ok := byDir[dir]; ok {
				p.Controllers = append(p.Controllers, c)
			} else {
				byDir[dir] = &Place{Parent: dir, Origin: dir, Controllers: []string{c}}
				order = append(order, dir)
			}
			found = true
			break
		}
		if !found {
			return false, nil, fmt.Errorf("%s: %w", c, ErrNoController)
		}
	}
	for _, d := range order {
		places = append(places, *byDir[d])
	}
	return false, places, nil
}

func containsAll(have, want []string) bool {
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

// Limits are what tw-limit sets. Zero means not set.
type Limits struct {
	Memory    int64  // bytes
	Pids      int64  // tasks
	CPUQuota  int64  // microseconds per Period
	CPUWeight uint64 // 1…10000, cgroup v2's scale
}

// Period is the CFS period that CPUQuota is a share of.
const Period = 100000

// MinQuota is the smallest CFS quota the kernel accepts (1 ms).
const MinQuota = 1000

// Controllers are those the limits need, sorted.
func (l Limits) Controllers() []string {
	var c []string
	if l.CPUQuota != 0 || l.CPUWeight != 0 {
		c = append(c, "cpu")
	}
	if l.Memory != 0 {
		c = append(c, "memory")
	}
	if l.Pids != 0 {
		c = append(c, "pids")
	}
	sort.Strings(c)
	return c
}

// Write is one value written into a file of the new cgroup. Optional
// files are skipped when the kernel lacks them (swap accounting).
type Write struct {
	Controller, File, Value string
	Optional                bool
}

// Writes are the files to fill, in order, for v2 or v1.
func (l Limits) Writes(v2 bool) []Write {
	var w []Write
	if l.Memory != 0 {
		m := strconv.FormatInt(l.Memory, 10)
		if v2 {
			w = append(w, Write{"memory", "memory.max", m, false}, Write{"memory", "memory.swap.max", "0", true})
		} else {
			// memsw (memory plus swap) may only be set at or above the
			// memory limit: memory first.
			w = append(w, Write{"memory", "memory.limit_in_bytes", m, false}, Write{"memory", "memory.memsw.limit_in_bytes", m, true})
		}
	}
	if l.Pids != 0 {
		w = append(w, Write{"pids", "pids.max", strconv.FormatInt(l.Pids, 10), false})
	}
	if l.CPUQuota != 0 {
		if v2 {
			w = append(w, Write{"cpu", "cpu.max", fmt.Sprintf("%d %d", l.CPUQuota, Period), false})
		} else {
			w = append(w, Write{"cpu", "cpu.cfs_period_us", strconv.Itoa(Period), false},
				Write{"cpu", "cpu.cfs_quota_us", strconv.FormatInt(l.CPUQuota, 10), false})
		}
	}
	if l.CPUWeight != 0 {
		if v2 {
			w = append(w, Write{"cpu", "cpu.weight", strconv.FormatUint(l.CPUWeight, 10), false})
		} else {
			w = append(w, Write{"cpu", "cpu.shares", strconv.FormatUint(Shares(l.CPUWeight), 10), false})
		}
	}
	return w
}

// Shares converts a v2 cpu.weight (1…10000) to v1 cpu.shares (2…262144),
// as runc and crun do.
func Shares(weight uint64) uint64 { return 2 + (weight-1)*262142/9999 }

// ParseSize reads a byte count: a number with an optional binary unit
// K, M, G or T (lower case too, with or without a trailing B or iB).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(s, "B"), "i")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		case 't', 'T':
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("not a positive size: %q", s)
	}
	if n > (1<<63-1)/mult {
		return 0, fmt.Errorf("size too large: %q", s)
	}
	return n * mult, nil
}

// ParseCPUs turns a number of CPUs (1.5) into a quota per Period.
func ParseCPUs(s string) (int64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0) || f > 1<<20 {
		return 0, fmt.Errorf("not a positive number of CPUs: %q", s)
	}
	q := int64(f*Period + 0.5)
	if q < MinQuota {
		return 0, fmt.Errorf("%s: below the kernel's minimum of 0.01 CPU (a quota of 1ms per 100ms)", s)
	}
	return q, nil
}
