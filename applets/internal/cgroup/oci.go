package cgroup

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Weight converts v1 cpu.shares (2…262144) to a v2 cpu.weight
// (1…10000), as runc does: the inverse of Shares.
func Weight(shares uint64) uint64 { return 1 + ((shares-2)*9999)/262142 }

// Resources are the files to fill, in order, for an OCI runtime's
// linux.resources (not the device rules: DeviceRules), for v2 or v1. A
// write of linux.resources.unified has no controller: it goes to the one
// v2 directory.
func Resources(r *specs.LinuxResources, v2 bool) ([]Write, error) {
	if r == nil {
		return nil, nil
	}
	if v2 {
		return resourcesV2(r)
	}
	if len(r.Unified) > 0 {
		return nil, errors.New("linux.resources.unified needs cgroup v2")
	}
	var w []Write
	add := func(ctl, file, val string) { w = append(w, Write{Controller: ctl, File: file, Value: val}) }
	if m := r.Memory; m != nil {
		if m.Limit != nil {
			add("memory", "memory.limit_in_bytes", strconv.FormatInt(*m.Limit, 10))
		}
		if m.Reservation != nil {
			add("memory", "memory.soft_limit_in_bytes", strconv.FormatInt(*m.Reservation, 10))
		}
		if m.Swap != nil {
			add("memory", "memory.memsw.limit_in_bytes", strconv.FormatInt(*m.Swap, 10))
		}
		if m.Swappiness != nil {
			add("memory", "memory.swappiness", strconv.FormatUint(*m.Swappiness, 10))
		}
		if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
			add("memory", "memory.oom_control", "1")
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil {
		val := "max"
		if *p.Limit > 0 {
			val = strconv.FormatInt(*p.Limit, 10)
		}
		add("pids", "pids.max", val)
	}
	if c := r.CPU; c != nil {
		if c.Shares != nil && *c.Shares != 0 {
			add("cpu", "cpu.shares", strconv.FormatUint(*c.Shares, 10))
		}
		if c.Period != nil && *c.Period != 0 {
			add("cpu", "cpu.cfs_period_us", strconv.FormatUint(*c.Period, 10))
		}
		if c.Quota != nil && *c.Quota != 0 {
			add("cpu", "cpu.cfs_quota_us", strconv.FormatInt(*c.Quota, 10))
		}
		w = append(w, cpuset(c)...)
	}
	if b := r.BlockIO; b != nil && b.Weight != nil && *b.Weight != 0 {
		add("blkio", "blkio.weight", strconv.FormatUint(uint64(*b.Weight), 10))
	}
	return w, nil
}

func resourcesV2(r *specs.LinuxResources) ([]Write, error) {
	var w []Write
	add := func(ctl, file, val string) { w = append(w, Write{Controller: ctl, File: file, Value: val}) }
	if m := r.Memory; m != nil {
		if m.Limit != nil {
			add("memory", "memory.max", limitV2(*m.Limit))
		}
		if m.Reservation != nil {
			add("memory", "memory.low", strconv.FormatInt(*m.Reservation, 10))
		}
		if m.Swap != nil && m.Limit != nil {
			swap := "max"
			if *m.Swap >= 0 {
				swap = strconv.FormatInt(*m.Swap-*m.Limit, 10)
			}
			add("memory", "memory.swap.max", swap)
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil {
		add("pids", "pids.max", limitV2(*p.Limit))
	}
	if c := r.CPU; c != nil {
		if c.Shares != nil && *c.Shares != 0 {
			add("cpu", "cpu.weight", strconv.FormatUint(Weight(*c.Shares), 10))
		}
		if c.Quota != nil && *c.Quota != 0 {
			period := uint64(Period)
			if c.Period != nil && *c.Period != 0 {
				period = *c.Period
			}
			add("cpu", "cpu.max", fmt.Sprintf("%s %d", limitV2(*c.Quota), period))
		}
		w = append(w, cpuset(c)...)
	}
	keys := make([]string, 0, len(r.Unified))
	for k := range r.Unified {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(k, "/") {
			return nil, fmt.Errorf("linux.resources.unified: invalid key %q", k)
		}
		add("", k, r.Unified[k])
	}
	return w, nil
}

func cpuset(c *specs.LinuxCPU) []Write {
	var w []Write
	if c.Cpus != "" {
		w = append(w, Write{Controller: "cpuset", File: "cpuset.cpus", Value: c.Cpus})
	}
	if c.Mems != "" {
		w = append(w, Write{Controller: "cpuset", File: "cpuset.mems", Value: c.Mems})
	}
	return w
}

// limitV2 is cgroup v2's form of a limit: none at or below zero.
func limitV2(n int64) string {
	if n <= 0 {
		return "max"
	}
	return strconv.FormatInt(n, 10)
}
