// Package stale tells the working files of a run that is gone from those of
// a live one, so that the next run can remove what a killed one left
// behind (tw-pull's staging layouts, tw-snapshot's staging directories,
// tw-limit's cgroups) and never touch what a live run still owns.
//
// A run names its working directory with its PID and holds an exclusive
// flock(2) on it while it lives; the kernel drops the lock when the process
// dies, however it dies. A directory is stale when the PID in its name is
// not a live process and nobody holds its lock: the PID covers the moment
// between making the directory and locking it, the lock covers a PID that
// was reused or lives in another PID namespace.
package stale

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/readdir"
)

// Hold takes the exclusive lock of the open directory fd for as long as
// fd stays open. It fails when another live run holds it.
func Hold(fd int) error {
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			return err
		}
	}
}

// PID reads the process ID that follows prefix in name, up to the next
// '.' or '-' or the end: ".tw-snapshot.42.0" with prefix ".tw-snapshot."
// gives 42.
func PID(name, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	if i := strings.IndexAny(rest, ".-"); i >= 0 {
		rest = rest[:i]
	}
	pid, err := strconv.Atoi(rest)
	return pid, err == nil && pid > 0
}

// Alive reports whether a process with this PID exists (in this PID
// namespace).
func Alive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// Claim checks whether the directory name in dirfd, made by the run with
// this PID, is stale. If it is, it returns an open descriptor of it with
// its lock held, so that no run can take it while it is removed; the
// caller closes it. A directory that is not stale gives -1 and no error.
func Claim(dirfd int, name string, pid int) (int, error) {
	if Alive(pid) {
		return -1, nil
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return -1, nil // removed meanwhile
		}
		return -1, &os.PathError{Op: "open", Path: name, Err: err}
	}
	if err := Hold(fd); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EWOULDBLOCK) {
			return -1, nil // a live run holds it
		}
		return -1, &os.PathError{Op: "flock", Path: name, Err: err}
	}
	return fd, nil
}

// Sweep calls remove for each stale directory in dirfd whose name starts
// with prefix followed by a PID, with the claimed descriptor of it (locked,
// closed after remove returns). It reports the first error of remove but
// goes on with the others; an unreadable dirfd is no error: there is
// nothing to sweep.
func Sweep(dirfd int, prefix string, remove func(name string, fd int) error) error {
	names, err := readdir.Names(dirfd, ".")
	if err != nil {
		return nil
	}
	var first error
	for _, name := range names {
		pid, ok := PID(name, prefix)
		if !ok {
			continue
		}
		fd, err := Claim(dirfd, name, pid)
		if err == nil && fd >= 0 {
			err = remove(name, fd)
			unix.Close(fd)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// SweepDir is Sweep on the directory at path with os.RemoveAll: it removes
// every stale directory (and all below it) named prefix followed by a PID
// there. A directory it cannot open has nothing to sweep.
func SweepDir(path, prefix string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	return Sweep(fd, prefix, func(name string, _ int) error {
		return os.RemoveAll(filepath.Join(path, name))
	})
}
