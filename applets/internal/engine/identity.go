package engine

import (
	"fmt"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
)

func capNames() []string {
	out := make([]string, len(caps.Names))
	for i, c := range caps.Names {
		out[i] = "CAP_" + c
	}
	return out
}

// capSet reads a list of capability names into a set.
func capSet(names []string) (caps.Set, error) {
	var s caps.Set
	for _, n := range names {
		c, err := caps.Parse(n)
		if err != nil || strings.EqualFold(n, "ALL") {
			return 0, fmt.Errorf("process.capabilities: unknown capability %q", n)
		}
		s |= c
	}
	return s, nil
}

// checkCaps refuses an unknown capability name.
func checkCaps(c *specs.LinuxCapabilities) error {
	if c == nil {
		return nil
	}
	for _, l := range [][]string{c.Bounding, c.Effective, c.Inheritable, c.Permitted, c.Ambient} {
		if _, err := capSet(l); err != nil {
			return err
		}
	}
	return nil
}

// capSets are the capability sets of process.capabilities.
type capSets struct{ bounding, eff, perm, inh, amb caps.Set }

func newCapSets(c *specs.LinuxCapabilities) *capSets {
	if c == nil {
		return nil
	}
	var s capSets
	s.bounding, _ = capSet(c.Bounding)
	s.eff, _ = capSet(c.Effective)
	s.perm, _ = capSet(c.Permitted)
	s.inh, _ = capSet(c.Inheritable)
	s.amb, _ = capSet(c.Ambient)
	return &s
}

// setUser gives this thread the process's identity, as runc's
// finalizeNamespace does: the bounding set cut, then groups, gid and uid
// (keeping the capabilities across the change of uid). The capability
// sets themselves are applyCaps' step. Without groups (a rootless
// container, whose user namespace allows no setgroups) the supplementary
// groups are left as they are, as runc leaves them. Credentials belong to a thread;
// the raw syscalls change this one only, which executes the program.
func setUser(u specs.User, c *capSets, groups bool) error {
	if c != nil {
		if err := caps.DropBounding(c.bounding); err != nil {
			return err
		}
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("keepcaps: %w", err)
	}
	if groups {
		gids := make([]uint32, len(u.AdditionalGids))
		copy(gids, u.AdditionalGids)
		if err := rawSetgroups(gids); err != nil {
			return fmt.Errorf("setgroups: %w", err)
		}
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)); e != 0 {
		return fmt.Errorf("setgid %d: %w", u.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)); e != 0 {
		return fmt.Errorf("setuid %d: %w", u.UID, e)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("keepcaps: %w", err)
	}
	return nil
}

// raiseAdmin puts CAP_SYS_ADMIN into the effective set, if permitted,
// so that a seccomp filter can be installed without no_new_privs after
// the change of uid; applyCaps sets the final sets after it. It reports
// whether the thread has it.
func raiseAdmin() bool {
	eff, perm, inh, err := caps.Current()
	if err != nil || !perm.Has(caps.SYS_ADMIN) {
		return false
	}
	return caps.Apply(eff|1<<caps.SYS_ADMIN, perm, inh) == nil
}

// applyCaps sets the capability sets, then raises the ambient ones as
// runc does: one by one, and one the kernel refuses (not both permitted
// and inheritable) is left out, not an error (runc warns; its runc spec
// lists ambient capabilities that are not inheritable).
func applyCaps(c *capSets) error {
	if c == nil {
		return nil
	}
	if err := caps.Apply(c.eff, c.perm, c.inh); err != nil {
		return err
	}
	for i := 0; i < 64; i++ {
		if c.amb.Has(i) && c.perm.Has(i) && c.inh.Has(i) {
			unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(i), 0, 0)
		}
	}
	return nil
}

// rawSetgroups sets this thread's supplementary groups.
func rawSetgroups(gids []uint32) error {
	var p unsafe.Pointer
	if len(gids) > 0 {
		p = unsafe.Pointer(&gids[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gids)), uintptr(p), 0); e != 0 {
		return e
	}
	return nil
}
