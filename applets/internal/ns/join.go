package ns

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Join makes this thread enter the cgroup, IPC, UTS, network and mount
// namespaces of process pid, those that are not already its own, as
// nsenter --all and runc exec do. All are opened first and the mount
// namespace is joined last: after it, /proc may be another one. The pid
// namespace is the caller's business (it takes a new process). The
// caller keeps its goroutine locked to the thread.
func Join(pid int) error {
	type nsFd struct {
		kind string
		flag int
		fd   int
	}
	var fds []nsFd
	defer func() {
		for _, n := range fds {
			unix.Close(n.fd)
		}
	}()
	for _, k := range []struct {
		kind string
		flag int
	}{{"cgroup", unix.CLONE_NEWCGROUP}, {"ipc", unix.CLONE_NEWIPC}, {"uts", unix.CLONE_NEWUTS}, {"net", unix.CLONE_NEWNET}, {"mnt", unix.CLONE_NEWNS}} {
		if !Differs(pid, k.kind) {
			continue
		}
		p := fmt.Sprintf("/proc/%d/ns/%s", pid, k.kind)
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: p, Err: err}
		}
		fds = append(fds, nsFd{k.kind, k.flag, fd})
	}
	for _, n := range fds {
		if n.flag == unix.CLONE_NEWNS {
			// A thread shares its root and cwd with the others: it may
			// change its mount namespace only after unsharing them.
			if err := unix.Unshare(unix.CLONE_FS); err != nil {
				return fmt.Errorf("unshare fs: %w", err)
			}
		}
		if err := unix.Setns(n.fd, n.flag); err != nil {
			return fmt.Errorf("join the %s namespace of %d: %w", n.kind, pid, err)
		}
	}
	return nil
}

// Differs reports whether pid's namespace of kind is known not to be this
// process's (false when either cannot be read).
func Differs(pid int, kind string) bool {
	theirs, err1 := Read(pid, kind)
	ours, err2 := Read(0, kind)
	return err1 == nil && err2 == nil && theirs != ours
}

// Enter makes this thread join the namespace at path (/proc/PID/ns/KIND
// or a bind of it) of kind flag, as setns(1) of nsenter --KIND=path does.
func Enter(path string, flag int) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open namespace", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, flag); err != nil {
		return &os.PathError{Op: "setns", Path: path, Err: err}
	}
	return nil
}
