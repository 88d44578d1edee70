// Package caps names the Linux capabilities and computes the set a
// container keeps: a default, plus --cap-add, minus --cap-drop.
package caps

import (
	"fmt"
	"sort"
	"strings"
)

// Set is a capability set, bit N for capability N (as in
// /proc/PID/status CapEff).
type Set uint64

// Names are the capabilities by number (linux/capability.h), without the
// CAP_ prefix.
var Names = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
	"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

// Capability numbers used by name elsewhere in tw.
const (
	SYS_ADMIN = 21
	MKNOD     = 27
)

// All is every capability this package knows.
var All = Set(1)<<len(Names) - 1

// Default is what a container keeps: the 3 of runc's and crun's default
// spec (AUDIT_WRITE, KILL, NET_BIND_SERVICE) — CapEff 0x20000420.
// Docker's 14 add CHOWN DAC_OVERRIDE FOWNER FSETID MKNOD NET_RAW SETGID
// SETUID SETFCAP SETPCAP SYS_CHROOT, which are safe only with a devices
// cgroup that keeps MKNOD from opening the host's disks.
var Default = Set(1<<5 | 1<<10 | 1<<29)

// Parse reads one capability: KILL, kill, CAP_KILL; ALL is every one.
func Parse(name string) (Set, error) {
	n := strings.TrimPrefix(strings.ToUpper(name), "CAP_")
	if n == "ALL" {
		return All, nil
	}
	for i, c := range Names {
		if c == n {
			return Set(1) << i, nil
		}
	}
	return 0, fmt.Errorf("unknown capability: %s", name)
}

// ParseList reads a comma-separated list of capabilities.
func ParseList(list []string) (Set, error) {
	var s Set
	for _, item := range list {
		for _, name := range strings.Split(item, ",") {
			if name == "" {
				continue
			}
			c, err := Parse(name)
			if err != nil {
				return 0, err
			}
			s |= c
		}
	}
	return s, nil
}

// Compute is base with add added, then drop removed; as in Docker,
// --cap-drop ALL --cap-add X keeps exactly X.
func Compute(base Set, add, drop []string) (Set, error) {
	a, err := ParseList(add)
	if err != nil {
		return 0, err
	}
	d, err := ParseList(drop)
	if err != nil {
		return 0, err
	}
	if d == All {
		return a, nil
	}
	return (base | a) &^ d, nil
}

// Has reports whether capability n is in s.
func (s Set) Has(n int) bool { return s&(1<<n) != 0 }

// String is the names of s, sorted, comma-separated, with CAP_ prefixes.
func (s Set) String() string {
	var out []string
	for i, n := range Names {
		if s.Has(i) {
			out = append(out, "CAP_"+n)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
