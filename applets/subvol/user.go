package subvol

// tw-subvol for a user without CAP_SYS_ADMIN. create, snapshot and ro work
// as they are (the kernel lets the owner); list, show and the check for
// nested subvolumes fall back from TREE_SEARCH to the unprivileged ioctls;
// delete falls back, where SNAP_DESTROY is refused (no
// user_subvol_rm_allowed), to emptying the subvolume and rmdir, which
// the kernel allows on an empty subvolume the user may remove.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/btrfs"
	"github.com/tupperware/tw/applets/internal/readdir"
)

// listSubvols is btrfs.List, or for a user the subvolumes below the one
// path is in.
func listSubvols(fd int, path string) ([]btrfs.Subvolume, error) {
	subs, err := btrfs.List(fd)
	if !errors.Is(err, unix.EPERM) {
		return subs, err
	}
	root, err := subvolRoot(path)
	if err != nil {
		return nil, err
	}
	rfd, err := btrfs.OpenDir(root)
	if err != nil {
		return nil, err
	}
	defer unix.Close(rfd)
	return btrfs.ListUser(rfd, root)
}

// subvolRoot is the root directory of the subvolume path is in (inode
// 256), as an absolute path.
func subvolRoot(path string) (string, error) {
	p, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	var first unix.Stat_t
	if err := unix.Stat(p, &first); err != nil {
		return "", &os.PathError{Op: "stat", Path: path, Err: err}
	}
	for {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			return "", &os.PathError{Op: "stat", Path: p, Err: err}
		}
		if st.Dev != first.Dev {
			return "", fmt.Errorf("%s: no subvolume root found above it", path)
		}
		if st.Ino == btrfs.FirstFreeID || p == "/" {
			return p, nil
		}
		p = filepath.Dir(p)
	}
}

// subvolPath is btrfs.Path, or for a user the path through the mount.
func subvolPath(fd int, path string, id uint64) (string, error) {
	p, err := btrfs.Path(fd, id)
	if !errors.Is(err, unix.EPERM) {
		return p, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return btrfs.PathUser(fd, abs)
}

// children is btrfs.Children, or for a user the same read through p, the
// subvolume's path.
func children(fd int, id uint64, p string) ([]btrfs.Ref, error) {
	refs, err := btrfs.Children(fd, id)
	if !errors.Is(err, unix.EPERM) {
		return refs, err
	}
	cfd, err := btrfs.OpenDir(p)
	if err != nil {
		return nil, err
	}
	defer unix.Close(cfd)
	return btrfs.ChildrenUser(cfd, false)
}

// ErrNoUserDelete is why a user cannot delete a subvolume that SNAP_DESTROY
// refused and that cannot be emptied.
var ErrNoUserDelete = errors.New("not permitted to a user without the mount option user_subvol_rm_allowed, and it cannot be emptied")

// deleteOne deletes the subvolume name in dirfd (path, as the user named
// it) with SNAP_DESTROY; where that is refused (EPERM: a user, and no
// user_subvol_rm_allowed), by emptying it and rmdir. verbose, when not
// nil, is told which.
func deleteOne(dirfd int, name, path string, verbose io.Writer) error {
	err := btrfs.DeleteSubvolume(dirfd, name)
	if errors.Is(err, unix.EROFS) && os.Geteuid() != 0 {
		// A user may delete a read-only subvolume of theirs only once it
		// is writable again (root may at once).
		err = deleteReadOnly(dirfd, name)
	}
	if err == nil {
		say(verbose, "%s: deleted (ioctl SNAP_DESTROY)\n", path)
		return nil
	}
	if !errors.Is(err, unix.EPERM) {
		return btrfs.PathError("delete", path, err)
	}
	if err := emptyAndRemove(dirfd, name); err != nil {
		return btrfs.PathError("delete", path, err)
	}
	say(verbose, "%s: deleted by emptying it and rmdir (SNAP_DESTROY refused: no user_subvol_rm_allowed)\n", path)
	return nil
}

// deleteReadOnly makes the subvolume writable and deletes it with the
// ioctl; if that fails, it is made read-only again.
func deleteReadOnly(dirfd int, name string) error {
	fd, err := unix.Openat(dirfd, name, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	// Not itself read-only: its parent is, and nothing helps.
	if ro, err := btrfs.ReadOnly(fd); err != nil || !ro {
		return unix.EROFS
	}
	if err := btrfs.SetReadOnly(fd, false); err != nil {
		return unix.EROFS
	}
	err = btrfs.DeleteSubvolume(dirfd, name)
	if err != nil {
		btrfs.SetReadOnly(fd, true)
	}
	return err
}

func say(w io.Writer, format string, a ...any) {
	if w != nil {
		fmt.Fprintf(w, format, a...)
	}
}

// emptyAndRemove removes everything in the subvolume name in dirfd, then
// the subvolume with rmdir. It first checks that every directory can be
// written and holds no other subvolume or mount, so that it fails before
// it removes anything; a read-only subvolume is made writable only then.
func emptyAndRemove(dirfd int, name string) error {
	fd, err := unix.Openat(dirfd, name, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if err := checkDir(dirfd, name, name, &st); err != nil {
		return fmt.Errorf("%w: %s", ErrNoUserDelete, err)
	}
	if err := walkTree(fd, "", st.Dev, checkDir, nil); err != nil {
		return fmt.Errorf("%w: %s", ErrNoUserDelete, err)
	}
	if ro, err := btrfs.ReadOnly(fd); err != nil {
		return err
	} else if ro {
		if err := btrfs.SetReadOnly(fd, false); err != nil {
			return fmt.Errorf("%w: make it writable: %s", ErrNoUserDelete, err)
		}
	}
	if err := walkTree(fd, "", st.Dev, nil, removeEntry); err != nil {
		return err
	}
	return unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
}

// checkDir refuses a directory the user cannot empty.
func checkDir(parent int, name, rel string, st *unix.Stat_t) error {
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	// A read-only subvolume is made writable before it is emptied.
	if err := unix.Faccessat(parent, name, unix.W_OK|unix.X_OK, unix.AT_SYMLINK_NOFOLLOW); err != nil && err != unix.EROFS {
		return &os.PathError{Op: "empty", Path: rel, Err: err}
	}
	return nil
}

// removeEntry removes an entry, a directory after its contents.
func removeEntry(parent int, name, rel string, st *unix.Stat_t) error {
	flags := 0
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		flags = unix.AT_REMOVEDIR
	}
	if err := unix.Unlinkat(parent, name, flags); err != nil {
		return &os.PathError{Op: "remove", Path: rel, Err: err}
	}
	return nil
}

// walkTree calls pre on every entry below the directory fd (rel is its
// path for messages) before descending into it, and post after. A
// directory on another device (a subvolume or a mount) is an error:
// nothing there is touched.
func walkTree(fd int, rel string, dev uint64, pre, post func(parent int, name, rel string, st *unix.Stat_t) error) error {
	names, err := readdir.Names(fd, rel)
	if err != nil {
		return err
	}
	for _, n := range names {
		r := filepath.Join(rel, n)
		var st unix.Stat_t
		if err := unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: "stat", Path: r, Err: err}
		}
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		if isDir && st.Dev != dev {
			return &os.PathError{Op: "empty", Path: r, Err: errors.New("another subvolume or a mount")}
		}
		if pre != nil {
			if err := pre(fd, n, r, &st); err != nil {
				return err
			}
		}
		if isDir {
			sub, err := unix.Openat(fd, n, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return &os.PathError{Op: "open", Path: r, Err: err}
			}
			err = walkTree(sub, r, dev, pre, post)
			unix.Close(sub)
			if err != nil {
				return err
			}
		}
		if post != nil {
			if err := post(fd, n, r, &st); err != nil {
				return err
			}
		}
	}
	return nil
}
