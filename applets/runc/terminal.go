package runc

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

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
