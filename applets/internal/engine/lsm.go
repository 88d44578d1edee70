package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// AppArmor and SELinux, applied as runc applies them (libcontainer's
// standard_init_linux.go for create, setns_init_linux.go for exec,
// apparmor/apparmor_linux.go, go-selinux):
//
//   - process.apparmorProfile: the init writes "exec PROFILE" to its
//     /proc/thread-self/attr/apparmor/exec (/proc/thread-self/attr/exec
//     on kernels without the apparmor directory); the kernel switches the
//     profile at execve. Nothing is checked up front: where AppArmor is
//     off the kernel refuses the write (EINVAL) and so the container.
//   - process.selinuxLabel: written to /proc/thread-self/attr/exec, the
//     label the kernel gives the program at execve; refused up front
//     where SELinux is off, in runc's words.
//   - linux.mountLabel: the context= option of the container's mounts
//     but proc, sysfs, mqueue, cgroups and binds, and of the tmpfs that
//     masks a directory or holds cgroup v1's hierarchies; the mqueue mount gets it as its security.selinux
//     attribute, where SELinux is on. Not checked up front (runc does
//     not): without SELinux the kernel refuses the option (tmpfs: EINVAL)
//     and so the container.
//
// When, relative to the other steps of the init (runc's order):
// create writes both before the seccomp filter that needs CAP_SYS_ADMIN
// and before setuid and the capabilities; exec writes the SELinux label
// there too, but the AppArmor profile after setuid, the capabilities and
// no_new_privs. Both come before the filter installed last (with
// no_new_privs) and before execve.

// errSELinuxOff is runc's refusal of a label where SELinux is off.
var errSELinuxOff = errors.New("selinux label is specified in config, but selinux is disabled or not supported")

// lsmStep is a point of the init where it writes LSM attributes.
type lsmStep int

const (
	// beforeCreds: before the first seccomp filter, setuid and the
	// capabilities.
	beforeCreds lsmStep = iota
	// afterCreds: after setuid, the capabilities and no_new_privs,
	// before the last seccomp filter.
	afterCreds
)

// attrWrite is one write of the init to an attr file of its own thread.
type attrWrite struct {
	Path, Value string
	What        string // what failed, in runc's words
}

// lsmWrites are the writes of step, in order, for process p of a
// container (exec false) or of an exec; aaDir says whether the kernel
// has /proc/thread-self/attr/apparmor (Linux 5.1 and later).
func lsmWrites(p *specs.Process, exec bool, step lsmStep, aaDir bool) []attrWrite {
	var ws []attrWrite
	selinux := func() {
		if p.SelinuxLabel != "" {
			ws = append(ws, attrWrite{"/proc/thread-self/attr/exec", p.SelinuxLabel, "can't set process label"})
		}
	}
	apparmor := func() {
		if p.ApparmorProfile == "" {
			return
		}
		path := "/proc/thread-self/attr/exec"
		if aaDir {
			path = "/proc/thread-self/attr/apparmor/exec"
		}
		what := "apparmor failed to apply profile"
		if !exec {
			what = "unable to apply apparmor profile: " + what
		}
		ws = append(ws, attrWrite{path, "exec " + p.ApparmorProfile, what})
	}
	switch {
	case step == beforeCreds && !exec:
		apparmor()
		selinux()
	case step == beforeCreds && exec:
		selinux()
	case step == afterCreds && exec:
		apparmor()
	}
	return ws
}

// writeLSM makes the writes of step for the init's process.
func (in *initProc) writeLSM(step lsmStep) error {
	_, err := os.Stat("/proc/thread-self/attr/apparmor")
	for _, w := range lsmWrites(in.cfg.Spec.Process, in.cfg.Exec, step, err == nil) {
		if err := writeAttr(w.Path, w.Value); err != nil {
			return fmt.Errorf("%s: %w", w.What, err)
		}
	}
	return nil
}

// writeAttr writes value to the attr file at path, which must be on a
// procfs (the container's /proc, mounted by the runtime).
func writeAttr(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &sfs); err != nil {
		return &os.PathError{Op: "fstatfs", Path: path, Err: err}
	}
	if sfs.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("%s: not on procfs", path)
	}
	_, err = f.WriteString(value)
	return err
}

// checkLSM refuses, up front, an SELinux label where SELinux is off
// (asked only of a label).
func checkLSM(p *specs.Process, selinuxOn func() bool) error {
	if p.SelinuxLabel != "" && !selinuxOn() {
		return errSELinuxOff
	}
	return nil
}

// selinuxEnabled is go-selinux's GetEnabled: a writable selinuxfs is
// mounted and this process's label is not "kernel".
var selinuxEnabled = sync.OnceValue(func() bool {
	if !selinuxfsMounted() {
		return false
	}
	cur, err := os.ReadFile("/proc/thread-self/attr/current")
	return err == nil && string(bytes.TrimRight(cur, "\x00\n")) != "kernel"
})

// selinuxfsMounted looks for a writable selinuxfs at /sys/fs/selinux, then
// (when the kernel knows the type) in the mount table.
func selinuxfsMounted() bool {
	if isSELinuxfs("/sys/fs/selinux") {
		return true
	}
	fss, err := os.ReadFile("/proc/filesystems")
	if err != nil || !bytes.Contains(fss, []byte("\tselinuxfs\n")) {
		return false
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if p := selinuxfsMountPoint(s.Text()); p != "" && isSELinuxfs(p) {
			return true
		}
	}
	return false
}

// selinuxfsMountPoint is the mount point of a mountinfo line of an
// selinuxfs, else "".
func selinuxfsMountPoint(line string) string {
	if !strings.Contains(line, " - selinuxfs ") {
		return ""
	}
	f := strings.Fields(line)
	if len(f) < 5 {
		return ""
	}
	return f[4]
}

func isSELinuxfs(p string) bool {
	var sfs unix.Statfs_t
	return unix.Statfs(p, &sfs) == nil && uint32(sfs.Type) == uint32(unix.SELINUX_MAGIC) && sfs.Flags&unix.ST_RDONLY == 0
}

// labelled are the options of mount m with the mount label as its
// context= option, as runc formats it, for the mounts that take one.
func labelled(m specs.Mount, label string) []string {
	if label == "" || isBind(m) {
		return m.Options
	}
	switch m.Type {
	case "proc", "sysfs", "mqueue", "cgroup", "cgroup2":
		return m.Options
	}
	return append(m.Options[:len(m.Options):len(m.Options)], fmt.Sprintf("context=%q", label))
}

// maskLabel is the mount label as the option of the tmpfs that masks a
// directory, as runc gives it.
func maskLabel(label string) []string {
	if label == "" {
		return nil
	}
	return []string{fmt.Sprintf("context=%q", label)}
}

// labelData is the data of a tmpfs with the mount label (cgroup v1's
// /sys/fs/cgroup).
func labelData(data, label string) string {
	return strings.Join(labelled(specs.Mount{Type: "tmpfs", Options: []string{data}}, label), ",")
}

// labelMqueue gives an mqueue mount the mount label as its SELinux
// attribute, where SELinux is on (runc's label.SetFileLabel).
func labelMqueue(m specs.Mount, dest, label string, selinuxOn func() bool) error {
	if m.Type != "mqueue" || label == "" || !selinuxOn() {
		return nil
	}
	if err := unix.Setxattr(dest, "security.selinux", []byte(label), 0); err != nil {
		return &os.PathError{Op: "setxattr(label=" + label + ")", Path: dest, Err: err}
	}
	return nil
}
