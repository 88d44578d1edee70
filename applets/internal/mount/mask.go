package mount

import (
	"errors"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Masked and ReadOnly are runc's default maskedPaths and readonlyPaths.
var (
	Masked = []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"}
	ReadOnly = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// Mask hides the masked paths and makes the read-only ones read-only, as
// runc does. A missing path is skipped. Options in tmpfsData go to the
// tmpfs that hides a directory (tw-runc: the SELinux context= option).
func Mask(masked, readonly []string, tmpfsData ...string) error {
	if len(masked) > 0 {
		if err := CheckDevNull(); err != nil {
			return err
		}
	}
	for _, p := range readonly {
		if err := readOnly(p); err != nil {
			return err
		}
	}
	for _, p := range masked {
		if err := mask(p, tmpfsData); err != nil {
			return err
		}
	}
	return nil
}

// CheckDevNull refuses a /dev/null that is not the null device: the
// rootfs could have put any file there, which would be bind-mounted over
// /proc/kcore.
func CheckDevNull() error {
	var st unix.Stat_t
	if err := unix.Stat("/dev/null", &st); err != nil {
		return DevNullError{&os.PathError{Op: "stat", Path: "/dev/null", Err: err}}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		return DevNullError{errors.New("/dev/null is not the null device")}
	}
	return nil
}

// DevNullError says why /dev/null cannot stand in for masked files.
type DevNullError struct{ error }

func mask(p string, tmpfsData []string) error {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		if err == unix.ENOENT {
			return nil
		}
		return &os.PathError{Op: "mask", Path: p, Err: err}
	}
	var err error
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		data := strings.Join(append([]string{"size=0,mode=555"}, tmpfsData...), ",")
		err = unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, data)
	} else {
		err = unix.Mount("/dev/null", p, "", unix.MS_BIND, "")
	}
	if err != nil {
		return &os.PathError{Op: "mask", Path: p, Err: err}
	}
	return nil
}

// readOnly bind-mounts p onto itself and remounts the bind read-only,
// keeping the flags the mount had (nosuid, nodev, noexec of proc).
func readOnly(p string) error {
	if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		if err == unix.ENOENT {
			return nil
		}
		return &os.PathError{Op: "bind mount", Path: p, Err: err}
	}
	return Remount(p, unix.MS_RDONLY)
}

// Remount adds flags (MS_RDONLY, MS_NODEV) to the mount at p, keeping the
// flags it has: a remount of a bind mount must repeat them. The root
// remounted nodev keeps shut the device nodes an image brought along (a
// /disk made with mknod b 8 0), which runc shuts with a devices cgroup.
func Remount(p string, flags uintptr) error {
	var sfs unix.Statfs_t
	if err := unix.Statfs(p, &sfs); err != nil {
		return &os.PathError{Op: "statfs", Path: p, Err: err}
	}
	kept := uintptr(sfs.Flags) & (unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
		unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME)
	if err := unix.Mount("", p, "", unix.MS_BIND|unix.MS_REMOUNT|flags|kept, ""); err != nil {
		op := "make nodev"
		if flags&unix.MS_RDONLY != 0 {
			op = "make read-only"
		}
		return &os.PathError{Op: op, Path: p, Err: err}
	}
	return nil
}
