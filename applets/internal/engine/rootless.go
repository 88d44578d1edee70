package engine

// Rootless containers, as runc 1.1 runs them for a caller without root:
// the state under $XDG_RUNTIME_DIR, the config checked by runc's rootless
// validator (a user namespace with mappings; uid= and gid= mount options
// of mapped ids; no additional groups), the mappings written by the
// runtime where the kernel lets a user write them (its own uid and gid,
// one each) and else by the setuid newuidmap and newgidmap, a cgroup only
// where the user may make one (none is needed without resources), and
// the host's device nodes bound where mknod is not allowed (devices.go).

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cgroup"
	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/ns"
)

// DefaultRoot is tw-runc's --root when none is given, as runc's: for a
// caller without root (or root of a user namespace that is not a user
// called root) $XDG_RUNTIME_DIR/tw-runc where $XDG_RUNTIME_DIR is set;
// /run/tw-runc otherwise. xdg says it is the XDG one, which the caller
// makes sticky (MakeXDGRoot).
func DefaultRoot(euid int, inUserNS bool, getenv func(string) (string, bool)) (root string, xdg bool) {
	dir, _ := getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		return "/run/tw-runc", false
	}
	honor := euid != 0
	if euid == 0 && inUserNS {
		u, ok := getenv("USER")
		honor = !ok || u != "root"
	}
	if !honor {
		return "/run/tw-runc", false
	}
	return filepath.Join(dir, "tw-runc"), true
}

// MakeXDGRoot makes the default root below $XDG_RUNTIME_DIR, 0700 and
// sticky, as runc does (the XDG specification prunes what is not sticky).
func MakeXDGRoot(root string) error {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("the path in $XDG_RUNTIME_DIR must be writable by the user: %w", err)
	}
	if err := os.Chmod(root, 0o700|os.ModeSticky); err != nil {
		return fmt.Errorf("check the permissions of the path in $XDG_RUNTIME_DIR: %w", err)
	}
	return nil
}

// InUserNS reports whether this process runs in a user namespace other
// than the initial one (its uid_map is not the whole range).
func InUserNS() bool {
	b, err := readFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return !(len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295")
}

// RootlessCgroups reads runc's --rootless (true, false or auto): auto is
// true for a caller without root and for root of a user namespace.
func RootlessCgroups(flag string, euid int, inUserNS bool) (bool, error) {
	switch flag {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "auto", "":
		return euid != 0 || inUserNS, nil
	}
	return false, fmt.Errorf("invalid value %q for --rootless: want true, false or auto", flag)
}

// checkRootless is runc's rootless validator, for a caller without root:
// a user namespace (new, or joined by path: joinuser.go) with uid and gid mappings, root mapped, mount
// options uid= and gid= of mapped ids only, the process's user mapped, no additional
// groups (a user namespace of a user allows no setgroups).
func checkRootless(s *specs.Spec) error {
	if !hasNS(s, specs.UserNamespace) {
		return errors.New("rootless container requires user namespaces")
	}
	if len(s.Linux.UIDMappings) == 0 {
		return errors.New("rootless containers requires at least one UID mapping")
	}
	if len(s.Linux.GIDMappings) == 0 {
		return errors.New("rootless containers requires at least one GID mapping")
	}
	// root mapped before the mount options, as runc 1.1.5 says it
	if err := checkRootMapped(s); err != nil {
		return err
	}
	for _, m := range s.Mounts {
		for _, o := range m.Options {
			for _, k := range []struct {
				key  string
				maps []specs.LinuxIDMapping
			}{{"uid=", s.Linux.UIDMappings}, {"gid=", s.Linux.GIDMappings}} {
				v, ok := strings.CutPrefix(o, k.key)
				if !ok {
					continue
				}
				id, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					continue // an option of another meaning: runc ignores it
				}
				if !mapped(uint32(id), k.maps) {
					return fmt.Errorf("cannot specify %s mount options for unmapped %s in rootless containers", k.key, strings.TrimSuffix(k.key, "="))
				}
			}
		}
	}
	if !mapped(s.Process.User.UID, s.Linux.UIDMappings) {
		return errors.New("cannot set uid to unmapped user in user namespace")
	}
	if !mapped(s.Process.User.GID, s.Linux.GIDMappings) {
		return errors.New("cannot set gid to unmapped user in user namespace")
	}
	if len(s.Process.User.AdditionalGids) > 0 {
		return errors.New("cannot set any additional groups in a rootless container")
	}
	return nil
}

// checkRootMapped refuses a new user namespace whose maps lack the
// container's uid or gid 0, in runc's words (its HostRootUID and
// HostRootGID, as root and as a user, after the rootless validator): the
// init becomes root of the namespace, which the kernel refuses (EINVAL)
// for an unmapped id.
func checkRootMapped(s *specs.Spec) error {
	if !newNS(s, specs.UserNamespace) {
		return nil
	}
	if !mapped(0, s.Linux.UIDMappings) {
		return errors.New("User namespaces enabled, but no user mapping found")
	}
	if !mapped(0, s.Linux.GIDMappings) {
		return errors.New("User namespaces enabled, but no group mapping found")
	}
	return nil
}

// mapped reports whether id (in the container) is in one of maps.
func mapped(id uint32, maps []specs.LinuxIDMapping) bool {
	for _, m := range maps {
		if id >= m.ContainerID && uint64(id) < uint64(m.ContainerID)+uint64(m.Size) {
			return true
		}
	}
	return false
}

// ownMap reports whether maps is the one map a user may write itself:
// its own id, once.
func ownMap(maps []specs.LinuxIDMapping, id int) bool {
	return len(maps) == 1 && maps[0].Size == 1 && int64(maps[0].HostID) == int64(id)
}

// needHelpers reports whether a caller without root needs newuidmap and
// newgidmap for the spec's mappings: anything but its own uid and gid.
func needHelpers(s *specs.Spec, euid, egid int) bool {
	return !ownMap(s.Linux.UIDMappings, euid) || !ownMap(s.Linux.GIDMappings, egid)
}

// rootlessInit sets up the init's start for a caller without root: its
// own ids are mapped by Go (setgroups denied first, as the kernel wants);
// other ids are left to mapIDs, and the init keeps every capability of
// its namespace across its execve (ambient) to become its root then.
func rootlessInit(spec *specs.Spec, attr *syscall.SysProcAttr) (helpers bool) {
	if needHelpers(spec, os.Geteuid(), os.Getegid()) {
		attr.AmbientCaps = ns.AllCaps()
		return true
	}
	attr.UidMappings = idMap(spec.Linux.UIDMappings)
	attr.GidMappings = idMap(spec.Linux.GIDMappings)
	attr.GidMappingsEnableSetgroups = false
	attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
	return false
}

// mapIDs writes the mappings of the init pid through newuidmap and
// newgidmap (at the same time), as runc does when the kernel refuses the
// runtime.
func mapIDs(spec *specs.Spec, pid int) error {
	return chain.NewIDMaps(pid, idMaps(spec.Linux.UIDMappings), idMaps(spec.Linux.GIDMappings))
}

func idMaps(m []specs.LinuxIDMapping) []ns.IDMap {
	out := make([]ns.IDMap, 0, len(m))
	for _, e := range m {
		out = append(out, ns.IDMap{Inner: e.ContainerID, Outer: e.HostID, Count: e.Size})
	}
	return out
}

// becomeRoot is the init's first step after newuidmap and newgidmap: root
// of its user namespace on this thread (as runc's nsexec), then no
// ambient capabilities left of those it was started with.
func becomeRoot() error {
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, 0, 0, 0); e != 0 {
		return fmt.Errorf("become root in the user namespace: setresgid: %w", e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, 0, 0, 0); e != 0 {
		return fmt.Errorf("become root in the user namespace: setresuid: %w", e)
	}
	return ns.ClearAmbient()
}

// errNoCgroup is runc's message when a rootless container asks for limits
// and no cgroup can be made.
const errNoCgroup = "rootless needs no limits + no cgrouppath when no permission is granted for cgroups"

// rootlessCgroup makes the cgroup of a rootless container where the user
// may: without the permission, no cgroup when neither cgroupsPath nor
// limits are given (runc's rule), else runc's error.
func rootlessCgroup(path, id string, spec *specs.Spec) (*Cgroup, error) {
	if spec.Linux.CgroupsPath == "" {
		if mounts, self, err := cgroup.Self(); err == nil {
			path = ownCgroupPath(mounts, self, id, path)
		}
	}
	cg, err := cgroup.NewContainer(path)
	if err == nil {
		return cg, nil
	}
	if !errors.Is(err, os.ErrPermission) && !errors.Is(err, unix.EROFS) {
		return nil, fmt.Errorf("cgroup %s: %w", path, err)
	}
	if spec.Linux.CgroupsPath != "" {
		return nil, fmt.Errorf("cgroup %s: %w", path, err)
	}
	for _, v2 := range []bool{false, true} {
		if w, werr := cgroup.Resources(spec.Linux.Resources, v2); werr != nil || len(w) > 0 {
			return nil, fmt.Errorf("%s: %w", errNoCgroup, err)
		}
	}
	return nil, nil
}

// ownCgroupPath is where runc puts a rootless container without a
// cgroupsPath: below the runtime's own cgroup, which a user's delegated
// cgroup v2 subtree (systemd's user@UID.service) lets it write. With v1
// hierarchies, where a user is given none, it is def.
func ownCgroupPath(mounts []cgroup.Mount, self map[string]string, id, def string) string {
	own, ok := self[""]
	for _, m := range mounts {
		if !m.V2 {
			return def
		}
	}
	if !ok || len(mounts) == 0 {
		return def
	}
	return filepath.Join("/", own, id)
}

// selfCgroup is the cgroup this process is in, for the cgroup mounts of a
// container that has no cgroup of its own (rootless, without the
// permission): runc binds the runtime's cgroups in then. Nothing of it is
// kept: it is not the container's to kill or remove.
func selfCgroup() (*Cgroup, error) {
	mounts, self, err := cgroup.Self()
	if err != nil {
		return nil, err
	}
	cg := &Cgroup{Paths: map[string]string{}, Opts: map[string]string{}, Shared: true}
	v1 := false
	for _, m := range mounts {
		v1 = v1 || !m.V2
	}
	for _, m := range mounts {
		// the host's hierarchies, not a container's binds of them
		if _, dup := cg.Paths[m.Point]; dup || (m.Point != "/sys/fs/cgroup" && filepath.Dir(m.Point) != "/sys/fs/cgroup") {
			continue
		}
		if m.V2 {
			if p, ok := self[""]; ok && !v1 {
				cg.V2 = true
				cg.Paths[""] = m.Dir(p)
			}
			continue
		}
		var in string
		var names []string
		for _, o := range m.Opts {
			if p, ok := self[o]; ok {
				in, names = p, append(names, o)
			}
		}
		if in == "" {
			continue
		}
		if len(names) == 1 && strings.HasPrefix(names[0], "name=") {
			names = append([]string{"none"}, names...)
		}
		cg.Paths[m.Point] = m.Dir(in)
		cg.Opts[m.Point] = strings.Join(names, ",")
	}
	return cg, nil
}

// errNoCgroupOf is why ps and kill --all fail for a rootless container
// without a cgroup (runc fails them too).
var errNoCgroupOf = errors.New("the container has no cgroup (rootless, without the permission to make one)")

// killAllNoCgroup is kill --all of a container without a cgroup: SIGKILL
// to the init of a pid namespace of its own kills every process of it, so
// the init only; anything else cannot reach them all.
func killAllNoCgroup(st *State, sig unix.Signal) error {
	if sig == unix.SIGKILL && ns.Differs(st.Pid, "pid") {
		return nil // Kill signals the init next
	}
	return errNoCgroupOf
}
