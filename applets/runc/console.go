package runc

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

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
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/dev/ptmx", Err: err}
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlockpt: %w", err)
	}
	n, err := unix.IoctlGetUint32(master, unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("ptsname: %w", err)
	}
	name := "/dev/pts/" + strconv.Itoa(int(n))
	slave, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(slave)
	if sz := in.cfg.Spec.Process.ConsoleSize; sz != nil {
		ws := unix.Winsize{Row: uint16(sz.Height), Col: uint16(sz.Width)}
		if err := unix.IoctlSetWinsize(slave, unix.TIOCSWINSZ, &ws); err != nil {
			return fmt.Errorf("set terminal size: %w", err)
		}
	}
	u := in.cfg.Spec.Process.User
	if err := unix.Fchown(slave, int(u.UID), -1); err != nil {
		return &os.PathError{Op: "chown", Path: name, Err: err}
	}
	rights := unix.UnixRights(master)
	if err := unix.Sendmsg(int(sock.Fd()), []byte(name), rights, nil, 0); err != nil {
		return fmt.Errorf("send the terminal over the console socket: %w", err)
	}
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

// terminal is `run`'s own end of the container's terminal, when no
// console socket was given: the master comes over a socketpair, and is
// joined to this process's stdin and stdout (stdin in raw mode while the
// container runs, the window size passed on), as runc run does.
type terminal struct {
	ours, theirs *os.File
	master       *os.File
	restore      func()
	done         chan struct{} // closed when the container's output is all out
}

func newTerminal() (*terminal, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	return &terminal{ours: os.NewFile(uintptr(pair[0]), "console"), theirs: os.NewFile(uintptr(pair[1]), "console")}, nil
}

// attach receives the master and starts copying; stdin, stdout are the
// runtime's own.
func (t *terminal) attach(stdin, stdout *os.File) error {
	t.theirs.Close()
	buf, oob := make([]byte, 64), make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(t.ours.Fd()), buf, oob, 0)
	if err != nil {
		return fmt.Errorf("receive the terminal: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return fmt.Errorf("receive the terminal: no descriptor")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return fmt.Errorf("receive the terminal: no descriptor")
	}
	t.master = os.NewFile(uintptr(fds[0]), "ptmx")
	t.restore = func() {}
	if old, err := unix.IoctlGetTermios(int(stdin.Fd()), unix.TCGETS); err == nil {
		raw := *old
		raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		raw.Oflag &^= unix.OPOST
		raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		raw.Cflag &^= unix.CSIZE | unix.PARENB
		raw.Cflag |= unix.CS8
		raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
		unix.IoctlSetTermios(int(stdin.Fd()), unix.TCSETS, &raw)
		t.restore = func() { unix.IoctlSetTermios(int(stdin.Fd()), unix.TCSETS, old) }
		if ws, err := unix.IoctlGetWinsize(int(stdin.Fd()), unix.TIOCGWINSZ); err == nil {
			unix.IoctlSetWinsize(int(t.master.Fd()), unix.TIOCSWINSZ, ws)
		}
	}
	t.done = make(chan struct{})
	go io.Copy(t.master, stdin)
	go func() {
		io.Copy(stdout, t.master)
		close(t.done)
	}()
	return nil
}

// close restores the terminal; what the container wrote last is read
// until the pty says EIO (no slave left), for at most a moment.
func (t *terminal) close() {
	if t.done != nil {
		select {
		case <-t.done:
		case <-time.After(time.Second):
		}
	}
	if t.restore != nil {
		t.restore()
	}
	t.ours.Close()
	if t.master != nil {
		t.master.Close()
	}
}
