package engine

import (
	"os"

	"golang.org/x/sys/unix"
)

// The few files create, start and delete read and write, with plain
// system calls: os.File registers each descriptor with the runtime's
// poller (and the ones it refuses cost fcntl calls), several system calls
// more per file on every start.

// readFile is os.ReadFile's result (errors included) without os.File.
func readFile(path string) ([]byte, error) {
	fd, err := openFile(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	b := make([]byte, 0, 4096)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
	}
}

// openFile is unix.Open retried on EINTR, with os.OpenFile's error.
func openFile(path string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Open(path, flags, mode)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

// writeAll writes b to fd.
func writeAll(fd int, path string, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "write", Path: path, Err: err}
		}
		b = b[n:]
	}
	return nil
}
