package mount

import (
	"os"

	"golang.org/x/sys/unix"
)

// Proc mounts a fresh proc at dir, nosuid, nodev, noexec. The caller sees
// to it that the mount cannot propagate to the host (ns.Slave).
func Proc(dir string) error {
	if err := unix.Mount("proc", dir, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return &os.PathError{Op: "mount proc", Path: dir, Err: err}
	}
	return nil
}

// Sysfs mounts a read-only sysfs at dir, nosuid, nodev, noexec; like
// Proc, the caller sees to propagation.
func Sysfs(dir string) error {
	flags := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if err := unix.Mount("sysfs", dir, "sysfs", flags, ""); err != nil {
		return &os.PathError{Op: "mount sysfs", Path: dir, Err: err}
	}
	return nil
}
