package engine

import (
	"fmt"
	"os"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/mount"
)

// makeDevices makes runc's default devices and those of linux.devices
// below rootfs, then /dev's links and /dev/ptmx for the container's
// devpts. In a user namespace, where mknod is not permitted, the host's
// node is bind-mounted instead.
func makeDevices(rootfs string, devices []specs.LinuxDevice, userns bool) error {
	seen := map[string]bool{}
	for _, d := range devices {
		seen[filepath.Clean(d.Path)] = true
	}
	all := append([]specs.LinuxDevice{}, devices...)
	for _, n := range mount.Nodes {
		d := specs.LinuxDevice{Path: "/dev/" + n.Name, Type: "c", Major: int64(n.Major), Minor: int64(n.Minor)}
		if !seen[d.Path] {
			all = append(all, d)
		}
	}
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, d := range all {
		if err := makeDevice(rootfs, d, userns); err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
	}
	for _, l := range mount.Links {
		if l[0] == "ptmx" {
			continue
		}
		if err := symlinkIn(rootfs, l[1], "/dev/"+l[0]); err != nil {
			return err
		}
	}
	// With a devpts of its own, /dev/ptmx must be its ptmx.
	pts, err := securejoin.SecureJoin(rootfs, "/dev/pts/ptmx")
	if err != nil {
		return err
	}
	if _, err := os.Stat(pts); err == nil {
		ptmx, err := joinParent(rootfs, "/dev/ptmx")
		if err != nil {
			return err
		}
		if target, err := os.Readlink(ptmx); err == nil && target == "pts/ptmx" {
			return nil
		}
		if err := os.Remove(ptmx); err != nil && !os.IsNotExist(err) {
			return err
		}
		if err := os.Symlink("pts/ptmx", ptmx); err != nil {
			return err
		}
	}
	return nil
}

func makeDevice(rootfs string, d specs.LinuxDevice, userns bool) error {
	if err := mkdirIn(rootfs, filepath.Dir(d.Path)); err != nil {
		return err
	}
	dest, err := joinParent(rootfs, d.Path)
	if err != nil {
		return err
	}
	if userns {
		return bindMount(d.Path, dest, 0)
	}
	var typ uint32
	switch d.Type {
	case "c", "u":
		typ = unix.S_IFCHR
	case "b":
		typ = unix.S_IFBLK
	case "p":
		typ = unix.S_IFIFO
	default:
		return fmt.Errorf("unknown device type %q", d.Type)
	}
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(*d.FileMode) & 0o7777
	}
	err = unix.Mknod(dest, typ|mode, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor))))
	if err == unix.EEXIST {
		// What a mount of the config put there (a bind over /dev/null,
		// /dev/kvm): the user's, kept as runc keeps it.
		if mountRoot(dest) {
			return nil
		}
		// The image's own node (a /dev not of tmpfs): it must be the one.
		var st unix.Stat_t
		if err := unix.Lstat(dest, &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != typ || st.Rdev != unix.Mkdev(uint32(d.Major), uint32(d.Minor)) {
			return &os.PathError{Op: "mknod", Path: dest, Err: unix.EEXIST}
		}
		return nil
	}
	if err != nil {
		return &os.PathError{Op: "mknod", Path: dest, Err: err}
	}
	uid, gid := 0, 0
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := unix.Lchown(dest, uid, gid); err != nil {
		return &os.PathError{Op: "chown", Path: dest, Err: err}
	}
	return nil
}

// mountRoot reports whether path (not followed) is the root of a mount.
func mountRoot(path string) bool {
	var st unix.Statx_t
	err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &st)
	return err == nil && st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
}

// symlinkIn makes the link name (inside rootfs) to target, unless the
// name exists.
func symlinkIn(rootfs, target, name string) error {
	p, err := joinParent(rootfs, name)
	if err != nil {
		return err
	}
	if err := os.Symlink(target, p); err != nil && !os.IsExist(err) {
		return err
	}
	return nil
}

// joinParent is name inside rootfs with its directory resolved there
// (symbolic links included) and its last part as it is: what exists at
// that name, a symbolic link say, is not followed.
func joinParent(rootfs, name string) (string, error) {
	dir, err := securejoin.SecureJoin(rootfs, filepath.Dir(name))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.Base(name)), nil
}

// mkdirIn makes the directory dir inside rootfs, with its parents.
func mkdirIn(rootfs, dir string) error {
	p, err := securejoin.SecureJoin(rootfs, dir)
	if err != nil {
		return err
	}
	return os.MkdirAll(p, 0o755)
}
