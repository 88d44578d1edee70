package btrfs

import (
	"errors"
	"os"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Errors of tw's own checks, worded for the one-line messages.
var (
	ErrNotBtrfs     = errors.New("not on a btrfs filesystem")
	ErrNotSubvolume = errors.New("not a btrfs subvolume")
)

// Error is a failure on one path. It reads "PATH: reason", the form of
// tw's messages, and unwraps to the *os.PathError that also names the
// operation.
type Error struct{ *os.PathError }

func (e *Error) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.PathError }

// PathError makes an Error; a nil err stays nil.
func PathError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var be *Error
	if errors.As(err, &be) {
		return err
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &Error{&os.PathError{Op: op, Path: path, Err: err}}
}

// IsBtrfs tells whether path is on a btrfs.
func IsBtrfs(path string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false, err
	}
	return st.Type == Magic, nil
}

// IsSubvolume tells whether path is the root directory of a subvolume:
// on a btrfs, and inode 256.
func IsSubvolume(path string) (bool, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return false, err
	}
	if st.Ino != FirstFreeID || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return false, nil
	}
	return IsBtrfs(path)
}

// CheckFd returns ErrNotBtrfs unless fd is on a btrfs, and, with subvol
// set, ErrNotSubvolume unless it is a subvolume's root directory.
func CheckFd(fd int, subvol bool) error {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		return err
	}
	if sfs.Type != Magic {
		return ErrNotBtrfs
	}
	if !subvol {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Ino != FirstFreeID || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return ErrNotSubvolume
	}
	return nil
}

// OpenDir opens a directory for the ioctls (read-only, close-on-exec).
func OpenDir(path string) (int, error) {
	return unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// CheckName refuses what cannot be a new entry's name in a directory.
func CheckName(name string) error {
	switch {
	case len(name) > NameMax:
		return unix.ENAMETOOLONG
	case name == "" || name == "." || name == ".." || strings.Contains(name, "/"):
		return unix.EINVAL
	}
	return nil
}

// CreateSubvolume makes an empty subvolume name in the directory dirfd.
func CreateSubvolume(dirfd int, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	var args volArgs
	if err := setName(args.Name[:], name); err != nil {
		return err
	}
	return ioctl(dirfd, iocSubvolCreate, unsafe.Pointer(&args))
}

// Snapshotter makes snapshots of one source subvolume; it reuses its
// argument buffer, so that a thousand snapshots cost a thousand ioctls
// and nothing more.
type Snapshotter struct {
	args volArgsV2
}

// NewSnapshotter prepares snapshots of the subvolume open at srcfd.
func NewSnapshotter(srcfd int, readonly bool) *Snapshotter {
	s := &Snapshotter{}
	s.args.Fd = int64(srcfd)
	if readonly {
		s.args.Flags = subvolRdonly
	}
	return s
}

// Snapshot makes the snapshot name in the directory dirfd.
func (s *Snapshotter) Snapshot(dirfd int, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if err := setName(s.args.Name[:], name); err != nil {
		return err
	}
	return ioctl(dirfd, iocSnapCreateV2, unsafe.Pointer(&s.args))
}

// Snapshot makes a snapshot of the subvolume at srcfd as name in dirfd.
func Snapshot(srcfd, dirfd int, name string, readonly bool) error {
	return NewSnapshotter(srcfd, readonly).Snapshot(dirfd, name)
}

// DeleteSubvolume deletes the subvolume name in the directory dirfd with
// SNAP_DESTROY_V2, or SNAP_DESTROY on a kernel without it.
func DeleteSubvolume(dirfd int, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	var v2 volArgsV2
	if err := setName(v2.Name[:], name); err != nil {
		return err
	}
	err := ioctl(dirfd, iocSnapDestroyV2, unsafe.Pointer(&v2))
	if err != unix.ENOTTY && err != unix.EINVAL {
		return err
	}
	var v1 volArgs
	if err := setName(v1.Name[:], name); err != nil {
		return err
	}
	return ioctl(dirfd, iocSnapDestroy, unsafe.Pointer(&v1))
}

// ReadOnly tells whether the subvolume open at fd is read-only.
func ReadOnly(fd int) (bool, error) {
	var flags uint64
	if err := ioctl(fd, iocSubvolGetflags, unsafe.Pointer(&flags)); err != nil {
		return false, err
	}
	return flags&subvolRdonly != 0, nil
}

// SetReadOnly sets or clears the read-only flag of the subvolume at fd.
func SetReadOnly(fd int, ro bool) error {
	var flags uint64
	if err := ioctl(fd, iocSubvolGetflags, unsafe.Pointer(&flags)); err != nil {
		return err
	}
	if ro {
		flags |= subvolRdonly
	} else {
		flags &^= subvolRdonly
	}
	return ioctl(fd, iocSubvolSetflags, unsafe.Pointer(&flags))
}

// UUID is a subvolume's UUID; the zero UUID means none.
type UUID [uuidSize]byte

func (u UUID) String() string {
	if u == (UUID{}) {
		return "-"
	}
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 36)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&15])
	}
	return string(b)
}

// Info is what GET_SUBVOL_INFO tells of a subvolume.
type Info struct {
	ID         uint64
	Name       string
	ParentID   uint64 // the subvolume holding this one; 0 for the top level
	DirID      uint64 // the directory inode in the parent holding it
	Generation uint64
	Otransid   uint64 // generation at creation
	ReadOnly   bool
	UUID       UUID
	ParentUUID UUID // the source of a snapshot
	// ReceivedUUID is set on a subvolume made by btrfs receive.
	ReceivedUUID UUID
	Created      time.Time
}

// GetInfo reads the subvolume that fd is in (unprivileged).
func GetInfo(fd int) (Info, error) {
	var a subvolInfoArgs
	if err := ioctl(fd, iocGetSubvolInfo, unsafe.Pointer(&a)); err != nil {
		return Info{}, err
	}
	return Info{
		ID:           a.TreeID,
		Name:         cString(a.Name[:]),
		ParentID:     a.ParentID,
		DirID:        a.DirID,
		Generation:   a.Generation,
		Otransid:     a.Otransid,
		ReadOnly:     a.Flags&rootSubvolRdonl != 0,
		UUID:         a.UUID,
		ParentUUID:   a.ParentUUID,
		ReceivedUUID: a.ReceivedUUID,
		Created:      time.Unix(int64(a.Otime.Sec), int64(a.Otime.Nsec)),
	}, nil
}

// InoLookup returns the path of directory inode objectid inside
// subvolume treeid ("" for its root, else "a/b/" with a trailing slash),
// resolved through fd, any file on the filesystem.
func InoLookup(fd int, treeid, objectid uint64) (string, error) {
	a := inoLookupArgs{TreeID: treeid, ObjectID: objectid}
	if err := ioctl(fd, iocInoLookup, unsafe.Pointer(&a)); err != nil {
		return "", err
	}
	return cString(a.Name[:]), nil
}

// Dirs opens each parent directory once, for commands that make or
// delete many subvolumes in a few directories.
type Dirs struct{ fds map[string]int }

// Open returns an fd of the directory path, opened on first use and
// checked to be on a btrfs (ErrNotBtrfs).
func (d *Dirs) Open(path string) (int, error) {
	if fd, ok := d.fds[path]; ok {
		return fd, nil
	}
	fd, err := OpenDir(path)
	if err != nil {
		return -1, err
	}
	if err := CheckFd(fd, false); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if d.fds == nil {
		d.fds = map[string]int{}
	}
	d.fds[path] = fd
	return fd, nil
}

// Close closes every directory opened.
func (d *Dirs) Close() {
	for _, fd := range d.fds {
		unix.Close(fd)
	}
	d.fds = nil
}

// MountID is the id of the mount that fd is on (statx STATX_MNT_ID).
func MountID(fd int) (uint64, error) {
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &stx); err != nil {
		return 0, err
	}
	return stx.Mnt_id, nil
}
