package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/mount"
)

// prepareRoot readies the container's mount namespace as runc's
// prepareRoot does: every mount a slave of the runtime's (or
// rootfsPropagation), so that what the host mounts later still reaches
// the container's rshared and rslave binds; only the mount holding the
// root made private (a slave with a slave rootfsPropagation), so that
// the root's bind onto itself does not reach the host and pivot_root
// accepts it; then that bind, on which the container's mounts are made.
func prepareRoot(rootfs, rootProp string) error {
	flag := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if rootProp != "" {
		flag = propagation[rootProp]
	}
	if err := unix.Mount("", "/", "", flag, ""); err != nil {
		return &os.PathError{Op: "set propagation", Path: "/", Err: err}
	}
	parent := uintptr(unix.MS_PRIVATE)
	if flag&unix.MS_SLAVE != 0 {
		parent = unix.MS_SLAVE
	}
	// EINVAL: not a mount point; its parent directory may be.
	for p := rootfs; ; p = filepath.Dir(p) {
		err := unix.Mount("", p, "", parent, "")
		if err == nil {
			break
		}
		if err != unix.EINVAL || p == "/" {
			return &os.PathError{Op: "set propagation of the root's parent mount", Path: p, Err: err}
		}
	}
	if err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return &os.PathError{Op: "bind mount", Path: rootfs, Err: err}
	}
	return nil
}

// jail makes rootfs the root: pivot_root in the container's own mount
// namespace, then rootfsPropagation (shared, unbindable) on the new root;
// chroot without one, as runc does.
func jail(spec *specs.Spec, rootfs string) error {
	if !hasNS(spec, specs.MountNamespace) {
		if err := unix.Chroot(rootfs); err != nil {
			return &os.PathError{Op: "chroot", Path: rootfs, Err: err}
		}
		if err := unix.Chdir("/"); err != nil {
			return &os.PathError{Op: "chdir", Path: "/", Err: err}
		}
		return nil
	}
	if err := mount.Enter(rootfs); err != nil {
		return err
	}
	if p := propagation[spec.Linux.RootfsPropagation]; p&(unix.MS_PRIVATE|unix.MS_SLAVE) == 0 && p != 0 {
		if err := unix.Mount("", "/", "", p, ""); err != nil {
			return &os.PathError{Op: "rootfsPropagation " + spec.Linux.RootfsPropagation, Path: "/", Err: err}
		}
	}
	return nil
}

// procMounts are the files below /proc a mount may cover: those lxcfs
// emulates, runc's allow-list.
var procMounts = []string{
	"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps", "/proc/uptime",
	"/proc/loadavg", "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid", "/proc/sys/crypto/fips_enabled",
}

// checkProcMount refuses, as runc's checkProcMount, a mount over the
// container's /proc that is not a procfs (a new one, or a bind of one),
// and any mount inside /proc but on runc's allow-list. dest is the
// destination resolved inside rootfs.
func checkProcMount(rootfs, dest string, m specs.Mount) error {
	rel, err := filepath.Rel(filepath.Join(rootfs, "/proc"), dest)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return nil
	}
	if rel == "." {
		if m.Type == "proc" && !isBind(m) {
			return nil
		}
		if isBind(m) {
			var sfs unix.Statfs_t
			if err := unix.Statfs(m.Source, &sfs); err != nil {
				return &os.PathError{Op: "statfs", Path: m.Source, Err: err}
			}
			if sfs.Type == unix.PROC_SUPER_MAGIC {
				return nil
			}
		}
		return fmt.Errorf("%q cannot be mounted because it is not of type proc", dest)
	}
	for _, ok := range procMounts {
		if dest == filepath.Join(rootfs, ok) {
			return nil
		}
	}
	return fmt.Errorf("%q cannot be mounted because it is inside /proc", dest)
}
