// Package memexec runs a program that this binary carries in memory: it is
// copied into a sealed memfd and executed from there, so it needs no file
// on any filesystem (it runs after tw-pivot too) and nobody can rewrite it
// while it runs (runc CVE-2019-5736).
package memexec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cli"
)

// seals forbid any change to the memfd's contents, and any change of that.
const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE

// Sealed copies src into a new memfd named name and seals it: its contents
// can no longer change. The file is close-on-exec and executable, also
// where vm.memfd_noexec would otherwise seal it against execution.
func Sealed(name string, src io.Reader) (*os.File, error) {
	// MFD_EXEC asks for an executable memfd; kernels before 6.3 lack it.
	flags := unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING
	fd, err := unix.MemfdCreate(name, flags|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.MemfdCreate(name, flags)
	}
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "memfd:"+name)
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return nil, err
	}
	if err := seal(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal %s: %w", f.Name(), err)
	}
	return f, nil
}

// seal adds seals to f. F_SEAL_WRITE fails with EBUSY while a page of the
// file has a reference beyond its own (the kernel waits ~75 ms for those
// first): the page-cache scans of a reclaim agent take such references for
// an instant, and made `tw-unpack` fail once in a CI run. It is tried again.
func seal(f *os.File) error {
	var err error
	for try := 0; try < 5; try++ {
		if _, err = unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); !errors.Is(err, unix.EBUSY) {
			return err
		}
		time.Sleep(time.Duration(10<<try) * time.Millisecond)
	}
	return err
}

// Exec replaces this process with prog, run as argv with env and stdio as
// its descriptors 0, 1 and 2. It returns only on error.
func Exec(prog []byte, argv, env []string, stdio cli.IO) error {
	f, err := Sealed(argv[0], bytes.NewReader(prog))
	if err != nil {
		return err
	}
	defer f.Close()
	fd := int(f.Fd())
	if err := dupStdio(stdio); err != nil {
		return err
	}
	// execve of /proc/self/fd/N goes through syscall.Exec, which keeps the
	// Go runtime from starting threads meanwhile and restores the file limit
	// Go raised; without /proc (after tw-pivot) execveat does it by the fd.
	path := "/proc/self/fd/" + strconv.Itoa(fd)
	err = syscall.Exec(path, argv, env)
	if errors.Is(err, unix.ENOENT) {
		path, err = f.Name(), execveat(fd, argv, env)
	}
	return &os.PathError{Op: "exec", Path: path, Err: err}
}

// dupStdio makes the streams of stdio descriptors 0, 1 and 2, through fresh
// descriptors first so that any permutation of them works.
func dupStdio(stdio cli.IO) error {
	var tmp [3]int
	for i, s := range []any{stdio.Stdin, stdio.Stdout, stdio.Stderr} {
		f, ok := s.(*os.File)
		if !ok {
			return fmt.Errorf("standard stream %d is not a file", i)
		}
		fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return fmt.Errorf("dup standard stream %d: %w", i, err)
		}
		defer unix.Close(fd)
		tmp[i] = fd
	}
	for i, fd := range tmp {
		if err := unix.Dup3(fd, i, 0); err != nil {
			return fmt.Errorf("dup standard stream %d: %w", i, err)
		}
	}
	return nil
}

// execveat is execveat(fd, "", argv, env, AT_EMPTY_PATH).
func execveat(fd int, argv, env []string) error {
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	envp, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return err
	}
	empty := []byte{0}
	_, _, errno := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(&empty[0])),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
	return errno
}
