package btrfs

// What a user without CAP_SYS_ADMIN can read: TREE_SEARCH and INO_LOOKUP
// are root's, GET_SUBVOL_INFO, GET_SUBVOL_ROOTREF and INO_LOOKUP_USER
// (Linux 4.18) are not. They see the subvolumes below one the user can
// open, as btrfs-progs' unprivileged `subvolume list` does.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/mountinfo"
)

const inoLookupUserPath = inoLookupPath - NameMax - 1 // BTRFS_INO_LOOKUP_USER_PATH_MAX

var (
	iocGetSubvolRootref = ioc(iocRead|iocWrite, 61, unsafe.Sizeof(rootrefArgs{}))
	iocInoLookupUser    = ioc(iocRead|iocWrite, 62, unsafe.Sizeof(inoLookupUserArgs{}))
)

// struct btrfs_ioctl_get_subvol_rootref_args
type rootrefArgs struct {
	MinTreeID uint64
	Rootref   [255]struct{ TreeID, DirID uint64 }
	NumItems  uint8
	_         [7]uint8
}

// struct btrfs_ioctl_ino_lookup_user_args
type inoLookupUserArgs struct {
	DirID  uint64
	TreeID uint64
	Name   [NameMax + 1]byte
	Path   [inoLookupUserPath]byte
}

// ChildrenUser is Children for a user: the subvolumes directly inside the
// subvolume fd is in, each with its path relative to that subvolume's
// root. The user must be able to search the directories on the way; with
// skipDenied, a subvolume the user cannot reach is left out.
func ChildrenUser(fd int, skipDenied bool) ([]Ref, error) {
	info, err := GetInfo(fd)
	if err != nil {
		return nil, err
	}
	var refs []Ref
	a := rootrefArgs{}
	for {
		err := ioctl(fd, iocGetSubvolRootref, unsafe.Pointer(&a))
		if err != nil && !errors.Is(err, unix.EOVERFLOW) {
			return nil, err
		}
		for _, r := range a.Rootref[:a.NumItems] {
			refs = append(refs, Ref{ID: r.TreeID, ParentID: info.ID, DirID: r.DirID})
		}
		if err == nil || a.NumItems == 0 {
			break
		}
		a = rootrefArgs{MinTreeID: a.Rootref[a.NumItems-1].TreeID + 1}
	}
	out := refs[:0]
	for _, r := range refs {
		l := inoLookupUserArgs{DirID: r.DirID, TreeID: r.ID}
		if err := ioctl(fd, iocInoLookupUser, unsafe.Pointer(&l)); err != nil {
			if skipDenied && (errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)) {
				continue
			}
			return nil, fmt.Errorf("look up subvolume %d: %w", r.ID, err)
		}
		r.Name = cString(l.Path[:]) + cString(l.Name[:])
		out = append(out, r)
	}
	return out, nil
}

// MountRoot is the path, from the top level, of the directory mounted
// where fd's mount is (the fourth field of /proc/self/mountinfo, "/" for
// the top level, "/@home" for subvol=@home), and that mount's mount point.
func MountRoot(fd int) (root, point string, err error) {
	id, err := MountID(fd)
	if err != nil {
		return "", "", err
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		fs := strings.Fields(s.Text())
		if len(fs) < 5 || fs[0] != strconv.FormatUint(id, 10) {
			continue
		}
		return mountinfo.Unescape(fs[3]), mountinfo.Unescape(fs[4]), nil
	}
	return "", "", fmt.Errorf("mount %d not in /proc/self/mountinfo", id)
}

// PathUser is Path for a user: the path from the top level of the
// subvolume at abs (an absolute path, opened as fd), from the mount it is
// reached through.
func PathUser(fd int, abs string) (string, error) {
	root, point, err := MountRoot(fd)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(point, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s is not below its mount point %s", abs, point)
	}
	return strings.TrimPrefix(filepath.Join(root, rel), "/"), nil
}

// ListUser is List for a user: every subvolume below the one at abs (fd)
// that the user can reach, with the paths List gives.
func ListUser(fd int, abs string) ([]Subvolume, error) {
	var out []Subvolume
	var walk func(fd int, abs string) error
	walk = func(fd int, abs string) error {
		refs, err := ChildrenUser(fd, true)
		if err != nil {
			return &os.PathError{Op: "list", Path: abs, Err: err}
		}
		for _, r := range refs {
			p := filepath.Join(abs, r.Name)
			cfd, err := OpenDir(p)
			if errors.Is(err, unix.EACCES) {
				continue
			}
			if err != nil {
				return &os.PathError{Op: "open", Path: p, Err: err}
			}
			err = func() error {
				info, err := GetInfo(cfd)
				if err != nil {
					return &os.PathError{Op: "list", Path: p, Err: err}
				}
				path, err := PathUser(cfd, p)
				if err != nil {
					return &os.PathError{Op: "list", Path: p, Err: err}
				}
				out = append(out, Subvolume{ID: info.ID, ParentID: info.ParentID, Generation: info.Generation,
					ReadOnly: info.ReadOnly, UUID: info.UUID, Path: path})
				return walk(cfd, p)
			}()
			unix.Close(cfd)
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(fd, abs); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
