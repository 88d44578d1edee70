package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/memexec"
)

// sealedExe opens this binary in a way a container cannot write through
// (runc CVE-2019-5736): while tw is the container's init, or the process
// `exec` starts, a process of the container may reach it through
// /proc/PID/exe, and opened for writing that would be tw on the host.
//
// The init is executed from a detached, read-only overlayfs whose only
// layers are the binary's directory and an empty tmpfs (as runc 1.2
// does): /proc/PID/exe then names a file of a mount that is in no mount
// table and refuses writes (EROFS). Where that fails, a copy of the
// binary in a sealed memfd (runc 1.1's way, some 15 ms for tw's size).
// The descriptor is placed at 100 or above, out of the way of the
// descriptors the child gets.
func sealedExe() (*os.File, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	fd, err := overlayExe(exe)
	if err != nil {
		if fd, err = memfdExe(); err != nil {
			return nil, fmt.Errorf("seal %s: %w", exe, err)
		}
	}
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 100)
	unix.Close(fd)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", exe, err)
	}
	return os.NewFile(uintptr(high), exe), nil
}

// overlayExe opens exe through a read-only overlay of its directory.
func overlayExe(exe string) (int, error) {
	if strings.ContainsAny(filepath.Dir(exe), `:\`) {
		return -1, fmt.Errorf("%s: overlayfs would split the directory's name", exe)
	}
	empty, err := detachedMount("tmpfs", map[string]string{"size": "4k", "mode": "0500"})
	if err != nil {
		return -1, err
	}
	defer unix.Close(empty)
	lower := filepath.Dir(exe) + ":" + fmt.Sprintf("/proc/self/fd/%d", empty)
	ovl, err := detachedMount("overlay", map[string]string{"lowerdir": lower})
	if err != nil {
		return -1, err
	}
	defer unix.Close(ovl)
	return unix.Openat(ovl, filepath.Base(exe), unix.O_PATH|unix.O_CLOEXEC, 0)
}

// detachedMount makes a read-only mount of fstype that is attached
// nowhere: it lives as long as a descriptor or an executable holds it.
func detachedMount(fstype string, opts map[string]string) (int, error) {
	fsfd, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen %s: %w", fstype, err)
	}
	defer unix.Close(fsfd)
	for k, v := range opts {
		if err := unix.FsconfigSetString(fsfd, k, v); err != nil {
			return -1, fmt.Errorf("%s %s=%s: %w", fstype, k, v, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("%s: %w", fstype, err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
	if err != nil {
		return -1, fmt.Errorf("fsmount %s: %w", fstype, err)
	}
	return mfd, nil
}

// memfdExe copies this binary into a sealed memfd.
func memfdExe() (int, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return -1, err
	}
	defer src.Close()
	f, err := memexec.Sealed("tw-runc", src)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	return unix.Dup(int(f.Fd()))
}
