package ns

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// A container whose root is a mount of the host's btrfs can make that
// btrfs read-only for the host too: umount(2) of one's own root, as
// `umount -a` does, "unmounts" it by remounting its superblock read-only.
// The kernel refuses that while a file is open for writing on the
// filesystem, so tw-pivot opens one (O_TMPFILE: no name, gone when closed)
// on the new root and hands it to tw-unshare, which holds it for as long
// as the container lives.

// EnvPin names the descriptor, in the child of tw-unshare, of the socket
// on which tw-unshare receives the pins. Removed, like EnvLeft, before a
// program is executed; the descriptor is closed then.
const EnvPin = "TW_UNSHARE_PIN"

// Pins is tw-unshare's end: the files received, held until Release.
type Pins struct {
	conn  int
	done  chan struct{}
	files []int
}

// NewPins makes the socket pair; child is the end for the child, to be
// passed as its descriptor 3 (EnvPin=3). Receive starts taking pins.
func NewPins() (p *Pins, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return &Pins{conn: fds[0], done: make(chan struct{})}, os.NewFile(uintptr(fds[1]), "pins"), nil
}

// Receive takes the pins the child sends until it closes its end (when it
// executes the container's program, or dies).
func (p *Pins) Receive() {
	go func() {
		defer close(p.done)
		oob := make([]byte, unix.CmsgSpace(4))
		for {
			n, oobn, _, _, err := unix.Recvmsg(p.conn, make([]byte, 1), oob, unix.MSG_CMSG_CLOEXEC)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || n == 0 {
				return
			}
			msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
			for _, m := range msgs {
				fds, _ := unix.ParseUnixRights(&m)
				p.files = append(p.files, fds...)
			}
		}
	}()
}

// Release lets the pins go, once the container is gone (whoever may still
// hold the child's end).
func (p *Pins) Release() {
	unix.Shutdown(p.conn, unix.SHUT_RDWR)
	<-p.done
	for _, fd := range p.files {
		unix.Close(fd)
	}
	unix.Close(p.conn)
}

// Pin opens a nameless file for writing on dir's filesystem and sends it
// to tw-unshare. It does nothing outside tw-unshare (no EnvPin), or when
// the filesystem cannot be written or has no O_TMPFILE.
func Pin(dir string) error {
	v := os.Getenv(EnvPin)
	if v == "" {
		return nil
	}
	conn, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%s=%s: not a descriptor", EnvPin, v)
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, unix.EROFS) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) {
		return nil
	}
	if err != nil {
		return &os.PathError{Op: "pin", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Sendmsg(conn, []byte{0}, unix.UnixRights(fd), nil, 0); err != nil {
		return &os.PathError{Op: "pin", Path: dir, Err: err}
	}
	return nil
}
