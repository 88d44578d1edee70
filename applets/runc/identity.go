package runc

import (
	"fmt"
	"os"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// capList are the capabilities by number (linux/capability.h).
var capList = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
	"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

func capNames() []string {
	out := make([]string, len(capList))
	for i, c := range capList {
		out[i] = "CAP_" + c
	}
	return out
}

// capSet reads a list of CAP_ names into a bit set.
func capSet(names []string) (uint64, error) {
	var s uint64
	for _, n := range names {
		i := -1
		for j, c := range capList {
			if "CAP_"+c == strings.ToUpper(n) {
				i = j
			}
		}
		if i < 0 {
			return 0, fmt.Errorf("process.capabilities: unknown capability %q", n)
		}
		s |= 1 << i
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

// setUser gives this thread the process's identity, as runc's
// finalizeNamespace does: the bounding set cut, then groups, gid and uid
// (keeping the capabilities across the change of uid), then the
// capability sets and the ambient ones. Credentials belong to a thread;
// the raw syscalls change this one only, which executes the program.
func setUser(u specs.User, c *specs.LinuxCapabilities) error {
	var bounding, eff, perm, inh, amb uint64
	if c != nil {
		bounding, _ = capSet(c.Bounding)
		eff, _ = capSet(c.Effective)
		perm, _ = capSet(c.Permitted)
		inh, _ = capSet(c.Inheritable)
		amb, _ = capSet(c.Ambient)
	}
	if c != nil {
		for i := 0; i < 64; i++ {
			if bounding&(1<<i) != 0 {
				continue
			}
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(i), 0, 0, 0); err != nil {
				if err == unix.EINVAL {
					break // past the kernel's last capability
				}
				return fmt.Errorf("drop capability %d from the bounding set: %w", i, err)
			}
		}
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("keepcaps: %w", err)
	}
	gids := make([]uint32, len(u.AdditionalGids))
	copy(gids, u.AdditionalGids)
	if err := rawSetgroups(gids); err != nil {
		return fmt.Errorf("setgroups: %w", err)
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
	if c == nil {
		return nil
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(eff), Permitted: uint32(perm), Inheritable: uint32(inh)},
		{Effective: uint32(eff >> 32), Permitted: uint32(perm >> 32), Inheritable: uint32(inh >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	for i := 0; i < 64; i++ {
		if amb&(1<<i) != 0 {
			if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(i), 0, 0); err != nil {
				return fmt.Errorf("raise ambient capability %s: %w", capList[i], err)
			}
		}
	}
	return nil
}

// maskPaths hides the masked paths (/dev/null over files, an empty
// read-only tmpfs over directories) and makes the read-only ones
// read-only, as runc does; a missing path is skipped.
func maskPaths(masked, readonly []string) error {
	for _, p := range readonly {
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			if err == unix.ENOENT {
				continue
			}
			return &os.PathError{Op: "bind mount", Path: p, Err: err}
		}
		if err := remountReadonly(p); err != nil {
			return err
		}
	}
	for _, p := range masked {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			if err == unix.ENOENT {
				continue
			}
			return &os.PathError{Op: "mask", Path: p, Err: err}
		}
		var err error
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			err = unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, "size=0")
		} else {
			err = unix.Mount("/dev/null", p, "", unix.MS_BIND, "")
		}
		if err != nil {
			return &os.PathError{Op: "mask", Path: p, Err: err}
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
