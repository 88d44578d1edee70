// Package mount builds a container's filesystem, each piece once for the
// chain's applets and for tw-runc: the root (Pivot, Enter), proc and
// sysfs (Proc, Sysfs), /dev (Dev), the masked and read-only paths of
// /proc and /sys (Mask), and remounts that keep a mount's flags (Remount).
package mount

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/ns"
)

// Pivot makes root the root directory as runc's prepareRoot and pivotRoot
// do: every mount private, root bind-mounted onto itself,
// pivot_root(".", "."), the old root (now stacked on /) detached, cwd /.
func Pivot(root string) error {
	if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return &os.PathError{Op: "make mounts private", Path: "/", Err: err}
	}
	// umount -a in the container must not make the host's filesystem
	// read-only (see ns.Pin; before the bind, on root's own mount).
	if err := ns.Pin(root); err != nil {
		return err
	}
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return &os.PathError{Op: "bind mount", Path: root, Err: err}
	}
	return Enter(root)
}

// Enter makes root, a mount point whose parent mount is not shared, the
// root directory: pivot_root(".", "."), the old root detached, cwd /.
// The propagation of the mounts is left as it is.
func Enter(root string) error {
	// Opened after the bind: the descriptor is the new mount's root.
	newroot, err := unix.Open(root, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(newroot)
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/", Err: err}
	}
	defer unix.Close(oldroot)
	if err := unix.Fchdir(newroot); err != nil {
		return &os.PathError{Op: "chdir", Path: root, Err: err}
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return &os.PathError{Op: "pivot_root", Path: root, Err: err}
	}
	// The kernel does not promise where "." is now: go to the old root,
	// which is stacked on top of the new one, and detach it.
	if err := unix.Fchdir(oldroot); err != nil {
		return &os.PathError{Op: "chdir", Path: "old root", Err: err}
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return &os.PathError{Op: "detach", Path: "old root", Err: err}
	}
	if err := unix.Chdir("/"); err != nil {
		return &os.PathError{Op: "chdir", Path: "/", Err: err}
	}
	return nil
}
