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

// Stop ends the receiving (whoever may still hold the child's end) and
// returns the number of pins held.
func (p *Pins) Stop() int {
	unix.Shutdown(p.conn, unix.SHUT_RDWR)
	<-p.done
	return len(p.files)
}

// Release lets the pins go, once the container is gone.
func (p *Pins) Release() {
	p.Stop()
	for _, fd := range p.files {
		unix.Close(fd)
	}
	unix.Close(p.conn)
}

// Pin opens a nameless file for writing on dir's filesystem and sends it
// to tw-unshare (in thread mode tw-unshare is this process: it keeps it,
// and the file is opened on another thread while Pin returns; PinsMade
// waits for it and gives its error). It does nothing outside tw-unshare
// (no EnvPin), or when
// the filesystem has no O_TMPFILE or nothing of dir's mount can be
// written. Call it before dir is bind-mounted: a dir that cannot be
// written (a read-only btrfs subvolume) is pinned through the nearest
// directory above it, on the same mount, that can (see pinFile).
func Pin(dir string) error {
	v := os.Getenv(EnvPin)
	if thread.on {
		// Made on another thread, while this one goes on to the bind
		// mount and pivot_root (O_TMPFILE writes an inode: 0.1-0.8 ms
		// on ext4); that thread is in the mount namespace tw-unshare
		// left, where dir is on the same filesystem. The child of thread
		// mode waits for it (PinsMade) before it executes the program.
		c := make(chan pin, 1)
		go func() {
			fd, err := pinFile(dir)
			c <- pin{fd, err}
		}()
		thread.pending = append(thread.pending, c)
		return nil
	}
	if v == "" {
		return nil
	}
	conn, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%s=%s: not a descriptor", EnvPin, v)
	}
	fd, err := pinFile(dir)
	if err != nil || fd < 0 {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Sendmsg(conn, []byte{0}, unix.UnixRights(fd), nil, 0); err != nil {
		return &os.PathError{Op: "pin", Path: dir, Err: err}
	}
	return nil
}

// PinsMade waits for the pins that thread mode makes on another thread
// (Pin), holds them until LeaveThread, and returns the first error.
func PinsMade() error {
	var first error
	for _, c := range thread.pending {
		p := <-c
		if p.fd >= 0 {
			thread.pins = append(thread.pins, p.fd) // held until the process ends
		}
		if first == nil {
			first = p.err
		}
	}
	thread.pending = nil
	return first
}

// pinFile opens the pin: a nameless file open for writing in dir or, when
// dir cannot be written (EROFS, EACCES, EPERM), in the nearest directory
// above it on the same mount that can. The kernel refuses to remount a
// superblock read-only while any of its mounts has a file open for
// writing (sb_prepare_remount_readonly: EBUSY), whichever directory or
// subvolume the file is in, so a read-only subvolume is held busy through
// its writable parent. -1 and no error: nothing to pin with.
func pinFile(dir string) (int, error) {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, dir, 0, unix.STATX_MNT_ID, &st); err != nil {
		return -1, &os.PathError{Op: "pin", Path: dir, Err: err}
	}
	for d := dir; ; d += "/.." {
		fd, err := unix.Open(d, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR):
			return -1, nil // no O_TMPFILE here
		case !errors.Is(err, unix.EROFS) && !errors.Is(err, unix.EACCES) && !errors.Is(err, unix.EPERM):
			return -1, &os.PathError{Op: "pin", Path: dir, Err: err}
		}
		if !upOnMount(d, st.Mnt_id) {
			return -1, nil // read-only up to the root of the mount
		}
	}
}

// upOnMount reports whether d's parent is another directory on mount mnt.
func upOnMount(d string, mnt uint64) bool {
	var st, up unix.Statx_t
	mask := unix.STATX_MNT_ID | unix.STATX_INO
	if unix.Statx(unix.AT_FDCWD, d, 0, mask, &st) != nil || unix.Statx(unix.AT_FDCWD, d+"/..", 0, mask, &up) != nil {
		return false
	}
	same := st.Ino == up.Ino && st.Dev_major == up.Dev_major && st.Dev_minor == up.Dev_minor
	return up.Mnt_id == mnt && !same
}
