package commit

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/umoci/oci/layer"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/readdir"
	"github.com/tupperware/tw/applets/internal/untar"
)

// The layer of a directory, as umoci's layer.GenerateInsertLayer(dir, "/",
// false, opt) writes it (the same bytes for the same tree), but every file
// is read through descriptors from the root's down: each entry is opened
// in its directory's descriptor with openat2(RESOLVE_IN_ROOT|
// RESOLVE_NO_MAGICLINKS) and O_NOFOLLOW, its metadata is the fstat of that
// descriptor, and its contents, xattrs and link target are read through
// the same descriptor, never by a second lookup of a path. A running container that swaps a directory and a
// symlink while tw-commit reads its tree (renameat2 RENAME_EXCHANGE) can
// make it read another file of the container, never one of the host.

// walkOptions are the parts of umoci's RepackOptions tw-commit uses.
type walkOptions struct {
	sourceDateEpoch *time.Time
	overlayfs       bool              // trusted.overlay.* whiteouts become OCI whiteouts
	maps            *layer.MapOptions // owners mapped back (rootless.go)
}

const (
	whPrefix      = ".wh."
	whOpaque      = whPrefix + whPrefix + ".opq"
	overlayPrefix = "trusted.overlay."
)

// generateLayer streams the layer of the tree at root.
func generateLayer(root string, opt walkOptions) io.ReadCloser {
	r, w := io.Pipe()
	go func() {
		err := writeLayer(w, root, opt)
		if err != nil {
			err = fmt.Errorf("generate insert layer: %w", err)
		}
		w.CloseWithError(err)
	}()
	return r
}

type walker struct {
	tw     *tar.Writer
	root   int
	opt    walkOptions
	inodes map[uint64]string
	buf    []byte
}

func writeLayer(w io.Writer, root string, opt walkOptions) error {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(fd)
	wk := &walker{tw: tar.NewWriter(w), root: fd, opt: opt, inodes: map[uint64]string{}, buf: make([]byte, 1<<20)}
	if err := wk.walk(fd, ".", "."); err != nil {
		// Name the file as the user does, below the DIR they gave.
		var pe *os.PathError
		if errors.As(err, &pe) {
			pe.Path = filepath.Join(root, pe.Path)
		}
		return err
	}
	return wk.tw.Close()
}

// openAt opens name in the directory open at dirfd without following a
// symlink at its end; name is one component (or "." for the root), and
// the kernel keeps the lookup inside dirfd.
func openAt(dirfd int, name, rel string) (int, error) {
	how := &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(dirfd, name, how)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: rel, Err: err}
		}
		return fd, nil
	}
}

// reopen opens the file behind an O_PATH descriptor for reading: the same
// inode, whatever its path is now.
func reopen(fd int, flags int) (int, error) {
	for {
		r, err := unix.Open(procFd(fd), flags|unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if err != unix.EINTR {
			return r, err
		}
	}
}

func procFd(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// walk adds name, in the directory open at dirfd, and for a directory what
// is below it, in the order of filepath.Walk (lexical, a directory before
// its contents). A directory's entries are opened through the descriptor
// of the directory that was listed: what a lookup finds is always in it.
func (wk *walker) walk(dirfd int, name, rel string) error {
	fd, err := openAt(dirfd, name, rel)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: rel, Err: err}
	}
	abs := filepath.Join("/", rel)
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if wk.opt.overlayfs {
		switch wk.whiteoutKind(fd, &st) {
		case "plain":
			return wk.whiteout(abs, false)
		case "opaque":
			if err := wk.add(fd, &st, abs); err != nil {
				return fmt.Errorf("generate directory entry for opaque whiteout from overlayfs: %w", err)
			}
			if err := wk.whiteout(abs, true); err != nil {
				return err
			}
			return wk.children(fd, rel)
		}
	}
	if err := wk.add(fd, &st, abs); err != nil {
		return err
	}
	if !isDir {
		return nil
	}
	return wk.children(fd, rel)
}

func (wk *walker) children(fd int, rel string) error {
	names, err := readdir.Names(fd, rel)
	if err != nil {
		return err
	}
	sort.Strings(names)
	// The listed directory itself (O_PATH fd is enough for lookups).
	for _, n := range names {
		if err := wk.walk(fd, n, filepath.Join(rel, n)); err != nil {
			return err
		}
	}
	return nil
}

// whiteoutKind tells an overlayfs whiteout: a 0:0 character device or an
// empty file with trusted.overlay.whiteout ("plain"), or a directory with
// trusted.overlay.opaque=y ("opaque").
func (wk *walker) whiteoutKind(fd int, st *syscall.Stat_t) string {
	p := procFd(fd)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		if st.Rdev == 0 {
			return "plain"
		}
	case unix.S_IFDIR:
		buf := make([]byte, 16)
		if n, err := unix.Getxattr(p, overlayPrefix+"opaque", buf); err == nil && string(buf[:n]) == "y" {
			return "opaque"
		}
	case unix.S_IFREG:
		if st.Size == 0 {
			names, _ := listxattr(p)
			for _, x := range names {
				if x == overlayPrefix+"whiteout" {
					return "plain"
				}
			}
		}
	}
	return ""
}

func (wk *walker) whiteout(name string, opaque bool) error {
	name, err := normalise(name, false)
	if err != nil {
		return err
	}
	dir, file := filepath.Split(name)
	if strings.HasPrefix(file, whPrefix) {
		return fmt.Errorf("invalid path has whiteout prefix %q: %s", whPrefix, name)
	}
	wh := filepath.Join(dir, whPrefix+file)
	if opaque {
		wh = filepath.Join(name, whOpaque)
	}
	if err := wk.tw.WriteHeader(&tar.Header{Name: wh, Size: 0}); err != nil {
		return fmt.Errorf("write whiteout header: %w", err)
	}
	return nil
}

// normalise is umoci's for the absolute names of the walk: relative, and
// "/" after a directory's (the root's is "/").
func normalise(raw string, isDir bool) (string, error) {
	p := strings.TrimPrefix(filepath.Clean("/"+raw), "/")
	if isDir {
		p += "/"
	}
	return p, nil
}

// add writes the entry of the file open at fd (O_PATH), as umoci's
// tarGenerator.AddFile does.
func (wk *walker) add(fd int, st *syscall.Stat_t, name string) error {
	link := ""
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		var err error
		if link, err = readlinkFd(fd); err != nil {
			return fmt.Errorf("add file readlink: %w", err)
		}
	}
	hdr, err := tar.FileInfoHeader(statInfo{name: filepath.Base(name), st: st}, link)
	if err != nil {
		return fmt.Errorf("convert fi to hdr: %w", err)
	}
	if e := wk.opt.sourceDateEpoch; e != nil {
		if !hdr.ModTime.IsZero() && hdr.ModTime.After(*e) {
			hdr.ModTime = *e
		}
		if !hdr.AccessTime.IsZero() && hdr.AccessTime.After(*e) {
			hdr.AccessTime = *e
		}
		if !hdr.ChangeTime.IsZero() && hdr.ChangeTime.After(*e) {
			hdr.ChangeTime = *e
		}
	}
	hdr.Xattrs = map[string]string{} //nolint:staticcheck // as umoci writes them
	hdr.Uname, hdr.Gname = "", ""
	hdr.ModTime = hdr.ModTime.Truncate(time.Second)
	hdr.AccessTime = hdr.AccessTime.Truncate(time.Second)
	hdr.ChangeTime = hdr.ChangeTime.Truncate(time.Second)
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if hdr.Name, err = normalise(name, isDir); err != nil {
		return err
	}
	if strings.HasPrefix(filepath.Base(hdr.Name), whPrefix) {
		return fmt.Errorf("invalid path has whiteout prefix %q: %s", whPrefix, hdr.Name)
	}
	if k := st.Mode & unix.S_IFMT; k == unix.S_IFBLK || k == unix.S_IFCHR {
		hdr.Devmajor = int64(unix.Major(st.Rdev))
		hdr.Devminor = int64(unix.Minor(st.Rdev))
	}

	// Contents and xattrs through the descriptor: a regular file is
	// reopened for reading (the same inode), anything else is read
	// through its /proc/self/fd link, which names the inode itself.
	var data *os.File
	xp := procFd(fd)
	if st.Mode&unix.S_IFMT == unix.S_IFREG {
		r, err := reopen(fd, 0)
		if err != nil {
			return fmt.Errorf("open file: %w", &os.PathError{Op: "open", Path: name, Err: err})
		}
		data = os.NewFile(uintptr(r), name)
		defer data.Close()
		var again syscall.Stat_t
		if err := syscall.Fstat(r, &again); err != nil || again.Ino != st.Ino || again.Dev != st.Dev {
			return fmt.Errorf("open file: %s: changed while read", name)
		}
		xp = procFd(r)
	}
	if err := wk.xattrs(hdr, xp); err != nil {
		return err
	}
	if err := owners(hdr, wk.opt.maps); err != nil {
		return err
	}
	// Hardlinks as umoci finds them, but never to a directory: a tree
	// changed while it is read (a directory renamed, seen twice) must not
	// give a layer that no one can unpack (link(2) of a directory).
	if !isDir {
		if old, ok := wk.inodes[st.Ino]; ok {
			hdr.Typeflag = tar.TypeLink
			hdr.Linkname = old
			hdr.Size = 0
		} else {
			wk.inodes[st.Ino] = hdr.Name
		}
	}
	if err := wk.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	if hdr.Typeflag == tar.TypeReg {
		n, err := io.CopyBuffer(wk.tw, io.LimitReader(data, hdr.Size+1), wk.buf)
		if err != nil {
			return fmt.Errorf("copy to layer: %w", err)
		}
		if n != hdr.Size {
			return fmt.Errorf("copy to layer: %w", io.ErrShortWrite)
		}
	}
	return nil
}

// xattrs fills hdr.Xattrs as umoci does: SELinux labels and NFSv4 ACLs
// never, empty values never, and with --overlayfs overlayfs' own
// trusted.overlay.* left out and escaped trusted.overlay.overlay.* unescaped.
func (wk *walker) xattrs(hdr *tar.Header, p string) error {
	names, err := listxattr(p)
	if err != nil {
		if !errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("get xattr list: %w", err)
		}
		names = nil
	}
	for _, x := range names {
		mapped := x
		switch {
		case x == "security.selinux" || x == "system.nfs4_acl":
			continue
		case wk.opt.overlayfs && strings.HasPrefix(x, overlayPrefix):
			sub, escaped := strings.CutPrefix(x, overlayPrefix+"overlay.")
			if !escaped {
				continue
			}
			mapped = overlayPrefix + sub
		}
		value, err := getxattr(p, x)
		if err != nil && !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENODATA) {
			return fmt.Errorf("get xattr %q: %w", x, err)
		}
		if len(value) == 0 {
			continue
		}
		hdr.Xattrs[mapped] = string(value) //nolint:staticcheck // as umoci writes them
	}
	return nil
}

// listxattr lists the xattrs of the file at p (a /proc/self/fd link).
func listxattr(p string) ([]string, error) {
	return untar.Listxattr(func(b []byte) (int, error) { return unix.Listxattr(p, b) })
}

func getxattr(p, name string) ([]byte, error) {
	for size := 256; ; {
		buf := make([]byte, size)
		n, err := unix.Getxattr(p, name, buf)
		if errors.Is(err, unix.ERANGE) {
			if size, err = unix.Getxattr(p, name, nil); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

func readlinkFd(fd int) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(fd, "", buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// statInfo is the fs.FileInfo of an fstat, as os.Lstat makes it, so that
// tar.FileInfoHeader builds the header umoci's os.Lstat gives it.
type statInfo struct {
	name string
	st   *syscall.Stat_t
}

func (s statInfo) Name() string       { return s.name }
func (s statInfo) Size() int64        { return s.st.Size }
func (s statInfo) ModTime() time.Time { return time.Unix(s.st.Mtim.Unix()) }
func (s statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s statInfo) Sys() any {
	// archive/tar reads owner, times and device numbers from this.
	return s.st
}

func (s statInfo) Mode() fs.FileMode {
	m := fs.FileMode(s.st.Mode & 0o777)
	switch s.st.Mode & unix.S_IFMT {
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if s.st.Mode&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if s.st.Mode&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if s.st.Mode&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}
