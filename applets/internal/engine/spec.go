package engine

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
)

// SpecVersion is the newest runtime-spec this engine knows.
var SpecVersion = specs.Version

// LoadSpec reads BUNDLE/config.json and checks it (Validate).
func LoadSpec(bundle string) (*specs.Spec, error) {
	p := filepath.Join(bundle, "config.json")
	b, err := readFile(p)
	if err != nil {
		return nil, err
	}
	s, err := readSpec(b) // initspec.go
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if err := Validate(s); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return s, nil
}

// nsFlags are the clone flags of the namespace types.
var nsFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
}

// nsFiles are the names of the namespace types in /proc/PID/ns.
var nsFiles = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace:     "pid",
	specs.NetworkNamespace: "net",
	specs.MountNamespace:   "mnt",
	specs.IPCNamespace:     "ipc",
	specs.UTSNamespace:     "uts",
	specs.UserNamespace:    "user",
	specs.CgroupNamespace:  "cgroup",
}

// mountTypes are the mount types config.json may ask for.
var mountTypes = map[string]bool{
	"bind": true, "none": true, "": true, "tmpfs": true, "proc": true, "sysfs": true,
	"devpts": true, "mqueue": true, "cgroup": true, "cgroup2": true,
}

// Validate refuses, by name, what this engine does not do, and what
// runc refuses.
func Validate(s *specs.Spec) error {
	if !strings.HasPrefix(s.Version, "1.") {
		return fmt.Errorf("unsupported ociVersion %q: need 1.x", s.Version)
	}
	if s.Process == nil {
		return errors.New("process is missing")
	}
	if len(s.Process.Args) == 0 {
		return errors.New("process.args is empty")
	}
	if s.Process.Cwd == "" || !filepath.IsAbs(s.Process.Cwd) {
		return fmt.Errorf("process.cwd %q is not an absolute path", s.Process.Cwd)
	}
	if s.Root == nil || s.Root.Path == "" {
		return errors.New("root.path is missing")
	}
	if s.Linux == nil {
		return errors.New("linux is missing")
	}
	if h := s.Hooks; h != nil {
		for _, l := range [][]specs.Hook{h.Prestart, h.CreateRuntime, h.CreateContainer, h.StartContainer, h.Poststart, h.Poststop} {
			for _, hook := range l {
				if !filepath.IsAbs(hook.Path) {
					return fmt.Errorf("hooks: path %q is not absolute", hook.Path)
				}
			}
		}
	}
	for _, unsupported := range []struct {
		set  bool
		name string
	}{
		{s.Process.IOPriority != nil, "process.ioPriority"},
		{s.Process.Scheduler != nil, "process.scheduler"},
		{s.Process.ExecCPUAffinity != nil, "process.execCPUAffinity"},
		{s.Linux.IntelRdt != nil, "linux.intelRdt"},
		{s.Linux.Personality != nil, "linux.personality"},
		{s.Linux.TimeOffsets != nil, "linux.timeOffsets"},
		{len(s.Linux.NetDevices) > 0, "linux.netDevices"},
		{s.Linux.MemoryPolicy != nil, "linux.memoryPolicy"},
		{s.Linux.Seccomp != nil && s.Linux.Seccomp.ListenerPath != "", "linux.seccomp.listenerPath"},
		{s.Linux.Resources != nil && len(s.Linux.Resources.HugepageLimits) > 0, "linux.resources.hugepageLimits"},
		{s.Linux.Resources != nil && s.Linux.Resources.Network != nil, "linux.resources.network"},
		{s.Linux.Resources != nil && len(s.Linux.Resources.Rdma) > 0, "linux.resources.rdma"},
		{s.Linux.Resources != nil && s.Linux.Resources.CPU != nil && (s.Linux.Resources.CPU.RealtimeRuntime != nil || s.Linux.Resources.CPU.RealtimePeriod != nil), "linux.resources.cpu.realtimeRuntime"},
		{s.Linux.Resources != nil && s.Linux.Resources.BlockIO != nil && (len(s.Linux.Resources.BlockIO.WeightDevice)+len(s.Linux.Resources.BlockIO.ThrottleReadBpsDevice)+len(s.Linux.Resources.BlockIO.ThrottleWriteBpsDevice)+len(s.Linux.Resources.BlockIO.ThrottleReadIOPSDevice)+len(s.Linux.Resources.BlockIO.ThrottleWriteIOPSDevice) > 0), "linux.resources.blockIO per device"},
	} {
		if unsupported.set {
			return fmt.Errorf("%s is not supported", unsupported.name)
		}
	}
	// AppArmor and SELinux (lsm.go): a label only where SELinux is on.
	if err := checkLSM(s.Process, selinuxEnabled); err != nil {
		return err
	}
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, n := range s.Linux.Namespaces {
		if _, ok := nsFlags[n.Type]; !ok {
			if n.Type == specs.TimeNamespace {
				return errors.New("linux.namespaces: the time namespace is not supported")
			}
			return fmt.Errorf("linux.namespaces: unknown type %q", n.Type)
		}
		if seen[n.Type] {
			return fmt.Errorf("linux.namespaces: %s given twice", n.Type)
		}
		seen[n.Type] = true
	}
	// As runc's configs/validate: a namespace joined by path counts.
	if s.Hostname != "" && !hasNS(s, specs.UTSNamespace) {
		return errors.New("unable to set hostname without a private UTS namespace")
	}
	if s.Domainname != "" && !hasNS(s, specs.UTSNamespace) {
		return errors.New("unable to set domainname without a private UTS namespace")
	}
	if len(s.Linux.MaskedPaths)+len(s.Linux.ReadonlyPaths) > 0 && !hasNS(s, specs.MountNamespace) {
		return errors.New("unable to restrict sys entries without a private MNT namespace")
	}
	// Without a mount namespace runc changes the propagation of the
	// runtime's own root and ignores root.readonly; tw-runc refuses both.
	if !hasNS(s, specs.MountNamespace) {
		if s.Linux.RootfsPropagation != "" {
			return errors.New("linux.rootfsPropagation needs a mount namespace: it would change the runtime's own")
		}
		if s.Root.Readonly {
			return errors.New("root.readonly needs a mount namespace")
		}
	}
	if err := checkSysctls(s); err != nil {
		return err
	}
	if joined(s)["user"] != "" {
		// runc 1.1.5 wants them for a joined one too (joinuser.go)
		if err := checkJoinedUser(s); err != nil {
			return err
		}
	} else if (len(s.Linux.UIDMappings) > 0 || len(s.Linux.GIDMappings) > 0) != newNS(s, specs.UserNamespace) {
		return errors.New("linux.uidMappings and gidMappings need a new user namespace and it needs them")
	}
	for _, m := range s.Mounts {
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("mounts: destination %q is not an absolute path", m.Destination)
		}
		if !mountTypes[m.Type] {
			return fmt.Errorf("mounts: type %q (at %s) is not supported", m.Type, m.Destination)
		}
		if len(m.UIDMappings)+len(m.GIDMappings) > 0 {
			return fmt.Errorf("mounts: idmapped mounts (at %s) are not supported", m.Destination)
		}
	}
	if s.Linux.RootfsPropagation != "" {
		if _, ok := propagation[s.Linux.RootfsPropagation]; !ok {
			return fmt.Errorf("linux.rootfsPropagation: unknown mode %q", s.Linux.RootfsPropagation)
		}
	}
	for _, r := range s.Process.Rlimits {
		if rlimitResource(r.Type) < 0 {
			return fmt.Errorf("process.rlimits: unknown type %q", r.Type)
		}
	}
	if err := checkCaps(s.Process.Capabilities); err != nil {
		return err
	}
	if s.Linux.Seccomp != nil {
		if err := checkSeccomp(s.Linux.Seccomp); err != nil {
			return err
		}
	}
	return nil
}

// hasNS reports whether the container has a namespace of type t of its
// own, new or joined by path (runc's Namespaces.Contains).
func hasNS(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, n := range s.Linux.Namespaces {
		if n.Type == t {
			return true
		}
	}
	return false
}

// newNS reports whether the spec asks for a new namespace of type t.
func newNS(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, n := range s.Linux.Namespaces {
		if n.Type == t && n.Path == "" {
			return true
		}
	}
	return false
}

// cloneFlags are the namespaces made at clone; the cgroup namespace is
// made by the init itself, once it is in its cgroup.
func cloneFlags(s *specs.Spec) uintptr {
	var f uintptr
	for _, n := range s.Linux.Namespaces {
		if n.Path == "" && n.Type != specs.CgroupNamespace {
			f |= nsFlags[n.Type]
		}
	}
	return f
}

// rlimitResource is the resource of an rlimit type (RLIMIT_NOFILE), -1
// when unknown.
func rlimitResource(typ string) int {
	if !strings.HasPrefix(typ, "RLIMIT_") {
		return -1
	}
	r, err := caps.ParseRlimit(typ + "=0")
	if err != nil {
		return -1
	}
	return r.Resource
}

// mountFlags are the options of mount(8) that are flags, runc's table;
// clear is true for the options that clear a flag.
var mountFlags = map[string]struct {
	clear bool
	flag  uintptr
}{
	"async": {true, unix.MS_SYNCHRONOUS}, "atime": {true, unix.MS_NOATIME}, "bind": {false, unix.MS_BIND},
	"defaults": {false, 0}, "dev": {true, unix.MS_NODEV}, "diratime": {true, unix.MS_NODIRATIME},
	"dirsync": {false, unix.MS_DIRSYNC}, "exec": {true, unix.MS_NOEXEC}, "mand": {false, unix.MS_MANDLOCK},
	"noatime": {false, unix.MS_NOATIME}, "nodev": {false, unix.MS_NODEV}, "nodiratime": {false, unix.MS_NODIRATIME},
	"noexec": {false, unix.MS_NOEXEC}, "nomand": {true, unix.MS_MANDLOCK}, "norelatime": {true, unix.MS_RELATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME}, "nosuid": {false, unix.MS_NOSUID}, "rbind": {false, unix.MS_BIND | unix.MS_REC},
	"relatime": {false, unix.MS_RELATIME}, "remount": {false, unix.MS_REMOUNT}, "ro": {false, unix.MS_RDONLY},
	"rw": {true, unix.MS_RDONLY}, "strictatime": {false, unix.MS_STRICTATIME}, "suid": {true, unix.MS_NOSUID},
	"sync": {false, unix.MS_SYNCHRONOUS},
}

// propagation are the options that set a mount's propagation.
var propagation = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// mountOptions splits a mount's options into flags, propagation flags and
// the data string the filesystem reads (mode=755, size=64m…).
func mountOptions(opts []string) (flags uintptr, prop []uintptr, data string) {
	var d []string
	for _, o := range opts {
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		if p, ok := propagation[o]; ok {
			prop = append(prop, p)
			continue
		}
		if o == "tmpcopyup" || strings.HasPrefix(o, "x-") {
			continue
		}
		d = append(d, o)
	}
	return flags, prop, strings.Join(d, ",")
}

// isBind reports whether a mount is a bind mount.
func isBind(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}
