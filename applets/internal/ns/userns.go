package ns

// User namespaces for a caller without root, as util-linux unshare(1)
// makes them: one id mapped by writing /proc/PID/uid_map (Go does that
// through SysProcAttr.UidMappings), ranges from /etc/subuid and
// /etc/subgid through the setuid helpers newuidmap and newgidmap
// (chain.NewIDMaps runs them).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
)

// IDMap is one line of a uid_map or gid_map: Count ids from Outer (in the
// parent namespace) appear as Inner on.
type IDMap struct{ Inner, Outer, Count uint32 }

// SubIDFiles are where the subordinate ranges are kept.
const (
	SubUIDFile = "/etc/subuid"
	SubGIDFile = "/etc/subgid"
)

// ParseSubID finds the first range of the user (by name or by number) in
// the text of an /etc/subuid-like file, as util-linux does, mapped from
// inner id 0.
func ParseSubID(r io.Reader, name string, id uint32) (IDMap, bool, error) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		f := strings.Split(strings.TrimSpace(s.Text()), ":")
		if len(f) != 3 || (f[0] != name && f[0] != strconv.FormatUint(uint64(id), 10)) {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 {
			return IDMap{}, false, fmt.Errorf("bad line %q", s.Text())
		}
		return IDMap{Inner: 0, Outer: uint32(start), Count: uint32(count)}, true, nil
	}
	return IDMap{}, false, s.Err()
}

// SubID is ParseSubID on file (SubUIDFile or SubGIDFile).
func SubID(file, name string, id uint32) (IDMap, error) {
	f, err := os.Open(file)
	if err != nil {
		return IDMap{}, err
	}
	defer f.Close()
	m, ok, err := ParseSubID(f, name, id)
	if err != nil {
		return IDMap{}, fmt.Errorf("%s: %w", file, err)
	}
	if !ok {
		return IDMap{}, fmt.Errorf("%s: no range for user %s (%d): ask root for one (usermod --add-subuids/--add-subgids)", file, name, id)
	}
	return m, nil
}

// AddSingle adds the map of one id (outer seen as inner) to ranges, taking
// inner out of any range that holds it (the range is split and maps one
// id less), as util-linux's add_single_map_range does for --map-auto with
// --map-root-user or --map-user. The single map comes first.
func AddSingle(ranges []IDMap, outer, inner uint32) []IDMap {
	out := []IDMap{{Inner: inner, Outer: outer, Count: 1}}
	for _, r := range ranges {
		if r.Count == 0 {
			continue
		}
		if inner < r.Inner || inner-r.Inner >= r.Count {
			out = append(out, r)
			continue
		}
		lo := inner - r.Inner
		if lo > 0 {
			out = append(out, IDMap{Inner: r.Inner, Outer: r.Outer, Count: lo})
		}
		if hi := r.Count - lo - 1; hi > 0 {
			out = append(out, IDMap{Inner: inner + 1, Outer: r.Outer + lo, Count: hi})
		}
	}
	return out
}

// Args are the arguments of newuidmap/newgidmap after the pid.
func Args(maps []IDMap) []string {
	a := make([]string, 0, 3*len(maps))
	for _, m := range maps {
		a = append(a, strconv.FormatUint(uint64(m.Inner), 10), strconv.FormatUint(uint64(m.Outer), 10), strconv.FormatUint(uint64(m.Count), 10))
	}
	return a
}

// SysMaps converts maps for SysProcAttr.UidMappings/GidMappings.
func SysMaps(maps []IDMap) []syscall.SysProcIDMap {
	s := make([]syscall.SysProcIDMap, len(maps))
	for i, m := range maps {
		s[i] = syscall.SysProcIDMap{ContainerID: int(m.Inner), HostID: int(m.Outer), Size: int(m.Count)}
	}
	return s
}

// SetGroups writes "allow" or "deny" to /proc/PID/setgroups (0: self),
// which only works before the gid map is written.
func SetGroups(pid int, value string) error {
	p := "/proc/self/setgroups"
	if pid != 0 {
		p = fmt.Sprintf("/proc/%d/setgroups", pid)
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(value)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("setgroups %s: %w", value, err)
	}
	return nil
}

// AllCaps is every capability the kernel knows, for
// SysProcAttr.AmbientCaps: tw's own child keeps them across its execve
// whatever uid it is mapped to, and drops them (ClearAmbient) before the
// program it runs, as unshare(1) has them in-process.
func AllCaps() []uintptr {
	last := uintptr(unix.CAP_LAST_CAP)
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			last = uintptr(n)
		}
	}
	all := make([]uintptr, 0, last+1)
	for c := uintptr(0); c <= last; c++ {
		all = append(all, c)
	}
	return all
}

// ClearAmbient empties the ambient and the inheritable sets, so that the
// next execve grants capabilities by the usual rules only. Capabilities
// are per thread: it locks the calling goroutine to its thread for good,
// so that the execve that follows (chain.Exec, on this goroutine) runs on
// the thread it cleared (the others end with the execve). Cheaper than
// AllThreadsSyscall, which stops the world.
func ClearAmbient() error {
	runtime.LockOSThread()
	eff, perm, _, err := caps.Current()
	if err != nil {
		return err
	}
	return caps.Apply(eff, perm, 0)
}

// userInitial is the initial user namespace (USER_NS_INIT_INO 0xEFFFFFFD).
const userInitial = "user:[4026531837]"

// PinFile opens the pin of dir as Pin does, for the caller to hold: -1
// and no error when there is nothing to pin with.
func PinFile(dir string) (int, error) { return pinFile(dir) }

// HostRoot reports whether this process is root in the initial user
// namespace, which alone may change the host's network, cgroups and
// such (false when its user namespace cannot be read).
func HostRoot() bool {
	id, err := Read(0, "user")
	return os.Geteuid() == 0 && err == nil && id == userInitial
}

// UserHint explains a mount of proc or sysfs that a user namespace
// refused (EPERM): the kernel mounts them only with need (a namespace of
// their kind owned by the user namespace) and while another one is visible
// in the mount namespace, which it no longer is after tw-pivot detached the
// old root; so in a user namespace they are mounted before tw-pivot, at
// NEWROOT/DIR. Not in one (or when that cannot be read), err is returned as
// it is.
func UserHint(err error, dir, need string) error {
	if !errors.Is(err, unix.EPERM) {
		return err
	}
	if id, rerr := Read(0, "user"); rerr == nil && id == userInitial {
		return err
	}
	return fmt.Errorf("%w (a user namespace needs %sthe mount before tw-pivot: --target NEWROOT%s)", err, need, dir)
}
