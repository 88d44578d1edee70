package engine

import (
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// dialConsole connects to the console socket of containerd's shim, over
// which the init sends the master of the container's terminal.
func dialConsole(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "connect console socket", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// console gives the container a terminal, as runc does: a pty of the
// container's devpts, its master sent over the console socket
// (SCM_RIGHTS), its slave the controlling terminal and fds 0, 1 and 2.
func (in *initProc) console() error {
	if in.fds.Console < 0 {
		return fmt.Errorf("process.terminal needs --console-socket")
	}
	sock := os.NewFile(uintptr(in.fds.Console), "console-socket")
	defer sock.Close()
	slave, name, err := openConsole(sock, in.cfg.Spec.Process)
	if err != nil {
		return err
	}
	defer unix.Close(slave)
	if err := unix.IoctlSetInt(slave, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("make %s the controlling terminal: %w", name, err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("dup %s to %d: %w", name, fd, err)
		}
	}
	return nil
}

// openConsole opens a pty of the devpts at /dev/pts (of this thread's
// root), sends its master over sock and returns its slave (close-on-exec)
// and the slave's name: what is left is to make it the controlling
// terminal and fds 0, 1 and 2.
func openConsole(sock *os.File, p *specs.Process) (int, string, error) {
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", &os.PathError{Op: "open", Path: "/dev/ptmx", Err: err}
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return -1, "", fmt.Errorf("unlockpt: %w", err)
	}
	n, err := unix.IoctlGetUint32(master, unix.TIOCGPTN)
	if err != nil {
		return -1, "", fmt.Errorf("ptsname: %w", err)
	}
	name := "/dev/pts/" + strconv.Itoa(int(n))
	slave, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", &os.PathError{Op: "open", Path: name, Err: err}
	}
	fail := func(err error) (int, string, error) {
		unix.Close(slave)
		return -1, "", err
	}
	if sz := p.ConsoleSize; sz != nil {
		ws := unix.Winsize{Row: uint16(sz.Height), Col: uint16(sz.Width)}
		if err := unix.IoctlSetWinsize(slave, unix.TIOCSWINSZ, &ws); err != nil {
			return fail(fmt.Errorf("set terminal size: %w", err))
		}
	}
	if err := unix.Fchown(slave, int(p.User.UID), -1); err != nil {
		return fail(&os.PathError{Op: "chown", Path: name, Err: err})
	}
	rights := unix.UnixRights(master)
	if err := unix.Sendmsg(int(sock.Fd()), []byte(name), rights, nil, 0); err != nil {
		return fail(fmt.Errorf("send the terminal over the console socket: %w", err))
	}
	return slave, name, nil
}
