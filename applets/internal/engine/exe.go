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
// layers are the binary's directory and a second, lower one that overlayfs
// needs to be read-only (as runc 1.2 does): /proc/PID/exe then names a
// file of a mount that is in no mount table and refuses writes (EROFS).
// The lower layer is dummy, an existing directory (the runtime's root,
// runc's choice too), else an empty tmpfs made for it, which costs a
// second superblock and a second RCU grace period when it is dissolved.
// Where both fail, a copy of the binary in a sealed memfd (runc 1.1's way,
// some 15 ms for tw's size). The descriptor is placed at 100 or above,
// out of the way of the descriptors the child gets.
func sealedExe(dummy string) (*os.File, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	fd := -1
	if dummy != "" {
		fd, err = overlayExe(exe, dummy)
	}
	if fd < 0 {
		fd, err = overlayExe(exe, "")
	}
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

// overlayExe opens exe through a read-only overlay of its directory on
// top of dummy, or of an empty tmpfs if dummy is "".
func overlayExe(exe, dummy string) (int, error) {
	if strings.ContainsAny(filepath.Dir(exe)+dummy, `:\`) {
		return -1, fmt.Errorf("%s: overlayfs would split the directory's name", exe)
	}
	if dummy == "" {
		empty, err := detachedMount("tmpfs", map[string]string{"size": "4k", "mode": "0500"})
		if err != nil {
			return -1, err
		}
		defer unix.Close(empty)
		dummy = fmt.Sprintf("/proc/self/fd/%d", empty)
	}
	lower := filepath.Dir(exe) + ":" + dummy
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

// sealing is sealedExe run on another thread, so that the kernel's part of
// it (two superblocks, the RCU grace period of the dissolved mount) runs
// while config.json is parsed: wait returns its result.
type sealing struct {
	done chan struct{}
	f    *os.File
	err  error
}

func sealAsync(dummy string) *sealing {
	s := &sealing{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.f, s.err = sealedExe(dummy)
	}()
	return s
}

func (s *sealing) wait() (*os.File, error) {
	<-s.done
	return s.f, s.err
}

// discard closes the sealed binary if no one took it.
func (s *sealing) discard() {
	if f, err := s.wait(); err == nil {
		f.Close()
	}
}
