// Package readdir lists directories by descriptor: what tw-commit's walk,
// tw-subvol's and tw-snapshot's recursive deletes and internal/stale's
// sweep read, each through the descriptor it already holds, so that no
// path is looked up again.
package readdir

import (
	"os"

	"golang.org/x/sys/unix"
)

// Names lists the directory open at fd (an O_PATH descriptor will do), in
// the order the filesystem gives. Errors are *os.PathError naming name.
func Names(fd int, name string) ([]string, error) {
	d, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(d), name)
	defer f.Close() //nolint:errcheck // read-only
	return f.Readdirnames(-1)
}
