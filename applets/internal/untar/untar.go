// Package untar applies OCI image layers (tar streams) to a root directory,
// with the semantics of umoci's layer.UnpackLayer (DirRootfs, not rootless):
// whiteouts and opaque directories, hardlinks, symlinks, device nodes,
// ownership, modes, xattrs and times, and a parent directory keeps the times
// it had before an entry was added to it.
//
// It is leaner than umoci's: every path is resolved by the kernel inside the
// root (openat2 with RESOLVE_IN_ROOT, the in-kernel form of umoci's
// securejoin), the directory an entry lands in is opened once for a run of
// entries, and metadata is set with *at syscalls relative to it. Nothing an
// entry names — "../" components, absolute paths, symlinks pointing out of
// the root — can reach outside the root.
package untar

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	whPrefix = ".wh."
	whOpaque = ".wh..wh..opq"
	paxXattr = "SCHILY.xattr."
)

// forbidden xattrs are host-specific; umoci never restores them.
var forbidden = map[string]bool{"security.selinux": true, "system.nfs4_acl": true}

// Extractor applies layers, one after the other, to one root directory.
type Extractor struct {
	Root        string // the root directory, which must exist
	UIDMappings []rspec.LinuxIDMapping
	GIDMappings []rspec.LinuxIDMapping

	root  int                 // fd of Root
	abs   string              // Root as the kernel names it
	upper map[string]struct{} // paths this layer made, and their ancestors
	cur   *dirHandle          // the directory the last entry went into
	buf   []byte
	now   time.Time
}

// dirHandle is an open directory inside the root and the times it had
// before we added to it, restored when we move on (as umoci restores a
// parent's metadata after each entry).
type dirHandle struct {
	name     string // as the entries spell it, cleaned
	rel      string // symlinks resolved, relative to the root
	fd       int
	saved    bool
	inherits bool // has a default ACL, which new inodes in it inherit
	times    [2]unix.Timespec
}

// Open opens the root for Apply. Close it when done.
func (e *Extractor) Open() error {
	fd, err := unix.Open(e.Root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: e.Root, Err: err}
	}
	e.root = fd
	if e.abs, err = os.Readlink(procPath(fd)); err != nil {
		unix.Close(fd) //nolint:errcheck // O_PATH fd
		return err
	}
	e.buf = make([]byte, 1<<20)
	e.now = time.Now()
	return nil
}

// Close restores the last directory's times and closes the root.
func (e *Extractor) Close() error {
	err := e.leave()
	if cerr := unix.Close(e.root); err == nil && cerr != nil {
		err = &os.PathError{Op: "close", Path: e.Root, Err: cerr}
	}
	return err
}

// Apply extracts one layer's tar stream.
func (e *Extractor) Apply(r io.Reader) error {
	e.upper = map[string]struct{}{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read next entry: %w", err)
		}
		if err := e.entry(hdr, tr); err != nil {
			return fmt.Errorf("unpack entry: %s: %w", hdr.Name, err)
		}
	}
	return e.leave()
}

// CleanPath makes a tar entry's name relative to the root, as umoci does:
// "/a", "../../a" and "a/../../a" all become "a".
func CleanPath(p string) string {
	if p == "" {
		return ""
	}
	p = filepath.Clean("/" + p)
	return filepath.Clean(strings.TrimPrefix(p, "/"))
}

func (e *Extractor) entry(hdr *tar.Header, r io.Reader) error {
	name := CleanPath(hdr.Name)
	dir, file := filepath.Split(name)
	dir = filepath.Clean(dir)
	if name == "." {
		// The root itself: only its metadata may change, never its type.
		if hdr.Typeflag != tar.TypeDir {
			return errors.New("malicious tar entry -- refusing to change type of root directory")
		}
		if err := e.leave(); err != nil {
			return err
		}
		return e.metadata(e.root, ".", hdr, ".", true)
	}

	if strings.HasPrefix(file, whPrefix) {
		if target := strings.TrimPrefix(file, whPrefix); file != whOpaque && (target == "" || target == "." || target == "..") {
			// ".wh.", ".wh.." and ".wh..." name no file: read as paths they
			// would remove the directory, or its parent, or (empty, as our
			// opaque marker) everything in it.
			return fmt.Errorf("invalid whiteout %q", file)
		}
		d, err := e.enter(dir, false)
		if err != nil || d == nil {
			return err // a whiteout in a missing directory has nothing to remove
		}
		if file == whOpaque {
			return e.whiteout(d, "")
		}
		return e.whiteout(d, strings.TrimPrefix(file, whPrefix))
	}

	d, err := e.enter(dir, true)
	if err != nil {
		return err
	}

	// Create first; only when something is in the way look at it: a
	// directory stays for a directory, anything else is clobbered.
	name = filepath.Join(d.name, file)
	var mk func() error
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // old archives use TypeRegA
		return e.regular(d, file, hdr, r)
	case tar.TypeDir:
		mk = func() error { return unix.Mkdirat(d.fd, file, 0o777) }
	case tar.TypeSymlink:
		mk = func() error { return unix.Symlinkat(hdr.Linkname, d.fd, file) }
	case tar.TypeLink:
		mk = func() error { return e.hardlink(d, file, hdr.Linkname) }
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		mode := uint32(hdr.Mode & 0o7777)
		switch hdr.Typeflag {
		case tar.TypeChar:
			mode |= unix.S_IFCHR
		case tar.TypeBlock:
			mode |= unix.S_IFBLK
		default:
			mode |= unix.S_IFIFO
		}
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		mk = func() error { return unix.Mknodat(d.fd, file, mode, int(dev)) }
	default:
		return fmt.Errorf("unknown typeflag '\\x%x'", hdr.Typeflag)
	}
	existed, err := e.create(d, file, hdr, mk)
	if err == nil && hdr.Typeflag != tar.TypeLink {
		// Hardlinks share their target's metadata; the header has none.
		err = e.metadata(d.fd, file, hdr, name, existed || d.inherits)
	}
	if err == nil {
		e.made(d, file)
	}
	return e.pathErr(err, d, file)
}

// create runs mk, and when something is in the way, clobbers it and runs mk
// again — unless both are directories: then existed is true.
func (e *Extractor) create(d *dirHandle, file string, hdr *tar.Header, mk func() error) (existed bool, err error) {
	err = mk()
	if !errors.Is(err, unix.EEXIST) {
		return false, err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, file, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return false, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR && hdr.Typeflag == tar.TypeDir {
		return true, nil
	}
	if err := e.removeAll(d, file); err != nil {
		return false, fmt.Errorf("clobber old path: %w", err)
	}
	return false, mk()
}

// made records that this layer made the path and its ancestors.
// A path's ancestors are in the set whenever the path is.
func (e *Extractor) made(d *dirHandle, file string) {
	for p := filepath.Join(d.rel, file); p != "." && p != "/"; p = filepath.Dir(p) {
		if _, ok := e.upper[p]; ok {
			return
		}
		e.upper[p] = struct{}{}
	}
}

// pathErr keeps a syscall's errno as an *os.PathError naming the entry.
func (e *Extractor) pathErr(err error, d *dirHandle, file string) error {
	if err == nil {
		return nil
	}
	if errno, ok := err.(unix.Errno); ok {
		return &os.PathError{Op: "create", Path: filepath.Join(d.name, file), Err: errno}
	}
	return err
}

func (e *Extractor) regular(d *dirHandle, file string, hdr *tar.Header, r io.Reader) error {
	fd := -1
	existed, err := e.create(d, file, hdr, func() (err error) {
		fd, err = unix.Openat(d.fd, file, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o666)
		return err
	})
	if err != nil {
		return e.pathErr(err, d, file)
	}
	name := filepath.Join(d.name, file)
	err = e.copyTo(fd, name, r, hdr.Size)
	if err == nil {
		err = e.metadata(fd, "", hdr, name, existed || d.inherits)
	}
	if cerr := unix.Close(fd); err == nil && cerr != nil {
		err = &os.PathError{Op: "close", Path: name, Err: cerr}
	}
	if err == nil {
		e.made(d, file)
	}
	return err
}

// copyTo writes the entry's data to fd through our large buffer.
func (e *Extractor) copyTo(fd int, name string, r io.Reader, size int64) error {
	var n int64
	for {
		m, rerr := r.Read(e.buf)
		for w := e.buf[:m]; len(w) > 0; {
			k, err := unix.Write(fd, w)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return &os.PathError{Op: "write", Path: name, Err: err}
			}
			w = w[k:]
		}
		n += int64(m)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if n != size {
		return io.ErrShortWrite
	}
	return nil
}

func (e *Extractor) hardlink(d *dirHandle, file, target string) error {
	tdir, tfile := filepath.Split(CleanPath(target))
	tfd, err := e.openInRoot(filepath.Clean(tdir), unix.O_PATH)
	if err == nil {
		err = unix.Linkat(tfd, tfile, d.fd, file, 0)
		unix.Close(tfd) //nolint:errcheck // O_PATH fd
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if err != nil {
		return &os.LinkError{Op: "link", Old: target, New: filepath.Join(d.name, file), Err: err}
	}
	return nil
}

// metadata applies owner, mode, xattrs and times from hdr to (dirfd, file),
// or to the file open at dirfd itself when file is "". The order is umoci's:
// chown before chmod (chown clears setuid bits), times last.
//
// A new inode has no xattrs to clear unless its directory passes on a
// default ACL: with list false the listing is skipped.
func (e *Extractor) metadata(dirfd int, file string, hdr *tar.Header, name string, list bool) error {
	uid, err := ToHost(hdr.Uid, e.UIDMappings)
	if err != nil {
		return fmt.Errorf("map uid to host: %w", err)
	}
	gid, err := ToHost(hdr.Gid, e.GIDMappings)
	if err != nil {
		return fmt.Errorf("map gid to host: %w", err)
	}
	at := func(op string, err error) error {
		if err != nil {
			return &os.PathError{Op: op, Path: name, Err: err}
		}
		return nil
	}
	fd, path, flags := dirfd, file, unix.AT_SYMLINK_NOFOLLOW
	if file == "" || file == "." {
		// The file itself is open (or is the root): act on the fd.
		fd, path, flags = dirfd, "", unix.AT_EMPTY_PATH
	}
	if err := at("chown", unix.Fchownat(fd, path, uid, gid, flags|unix.AT_SYMLINK_NOFOLLOW)); err != nil {
		return err
	}
	symlink := hdr.Typeflag == tar.TypeSymlink
	if !symlink {
		if err := at("chmod", e.chmod(fd, path, uint32(hdr.Mode&0o7777))); err != nil {
			return err
		}
	}
	if err := at("xattr", e.xattrs(fd, path, hdr, list)); err != nil {
		return err
	}
	mtime := hdr.ModTime
	if mtime.IsZero() {
		mtime = e.now
	}
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = mtime
	}
	ts := [2]unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	return at("utimes", utimensat(fd, path, &ts, flags))
}

func (e *Extractor) chmod(fd int, path string, mode uint32) error {
	if path == "" {
		return unix.Fchmod(fd, mode)
	}
	return unix.Fchmodat(fd, path, mode, 0)
}

// xattrOps are the xattr syscalls on an open fd, or on a path without
// following a final symlink.
type xattrOps struct {
	list   func(buf []byte) (int, error)
	remove func(name string) error
	set    func(name string, value []byte) error
}

func xattrsOf(fd int, path string) xattrOps {
	if path == "" {
		return xattrOps{
			list:   func(b []byte) (int, error) { return unix.Flistxattr(fd, b) },
			remove: func(n string) error { return unix.Fremovexattr(fd, n) },
			set:    func(n string, v []byte) error { return unix.Fsetxattr(fd, n, v, 0) },
		}
	}
	p := procPath(fd) + "/" + path
	return xattrOps{
		list:   func(b []byte) (int, error) { return unix.Llistxattr(p, b) },
		remove: func(n string) error { return unix.Lremovexattr(p, n) },
		set:    func(n string, v []byte) error { return unix.Lsetxattr(p, n, v, 0) },
	}
}

// xattrs makes the file's xattrs exactly the layer's: first all are
// cleared (a directory may exist from a lower layer), then the layer's set.
func (e *Extractor) xattrs(fd int, path string, hdr *tar.Header, list bool) error {
	if !list && len(hdr.PAXRecords) == 0 {
		return nil // most entries: nothing to clear, nothing to set
	}
	ops := xattrsOf(fd, path)
	var names []string
	if list {
		var err error
		names, err = Listxattr(ops.list)
		if err != nil && !errors.Is(err, unix.ENOTSUP) {
			return err
		}
	}
	for _, x := range names {
		if forbidden[x] {
			continue
		}
		if err := ops.remove(x); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return err
		}
	}
	for k, v := range hdr.PAXRecords {
		x, ok := strings.CutPrefix(k, paxXattr)
		if !ok || forbidden[x] {
			continue
		}
		if err := ops.set(x, []byte(v)); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return err
		}
	}
	return nil
}

// Listxattr returns the names list gives (unix.Listxattr and its
// siblings on one file), growing its buffer as the kernel asks.
func Listxattr(list func([]byte) (int, error)) ([]string, error) {
	buf := make([]byte, 256)
	for {
		n, err := list(buf)
		if errors.Is(err, unix.ERANGE) {
			sz, err := list(nil)
			if err != nil {
				return nil, err
			}
			buf = make([]byte, sz)
			continue
		}
		if err != nil {
			return nil, err
		}
		var names []string
		for _, x := range strings.Split(string(buf[:n]), "\x00") {
			if x != "" {
				names = append(names, x)
			}
		}
		return names, nil
	}
}

func procPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

func utimensat(fd int, path string, ts *[2]unix.Timespec, flags int) error {
	return unix.UtimesNanoAt(fd, path, ts[:], flags)
}

// enter makes d the directory for the next entries. With create it makes a
// missing directory (and its parents) first, as umoci's mkdirAll does; without,
// a missing directory gives a nil handle.
func (e *Extractor) enter(dir string, create bool) (*dirHandle, error) {
	if e.cur != nil && e.cur.name == dir {
		return e.cur, nil
	}
	if err := e.leave(); err != nil {
		return nil, err
	}
	fd, err := e.openInRoot(dir, unix.O_RDONLY|unix.O_DIRECTORY)
	saved := err == nil
	if err != nil {
		if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR) {
			return nil, err
		}
		if !create {
			return nil, nil
		}
		if err := e.mkdirAll(dir); err != nil {
			return nil, fmt.Errorf("mkdir parent: %w", err)
		}
		if fd, err = e.openInRoot(dir, unix.O_RDONLY|unix.O_DIRECTORY); err != nil {
			return nil, err
		}
	}
	d := &dirHandle{name: dir, fd: fd, saved: saved}
	rel, err := os.Readlink(procPath(fd))
	if err == nil {
		d.rel, err = filepath.Rel(e.rootPath(), rel)
	}
	if err != nil {
		unix.Close(fd) //nolint:errcheck // read-only fd
		return nil, fmt.Errorf("resolve %s: %w", dir, err)
	}
	if saved {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd) //nolint:errcheck // read-only fd
			return nil, &os.PathError{Op: "stat", Path: dir, Err: err}
		}
		d.times = [2]unix.Timespec{st.Atim, st.Mtim}
	}
	if n, err := unix.Fgetxattr(fd, "system.posix_acl_default", nil); err == nil && n > 0 {
		d.inherits = true
	}
	e.cur = d
	return d, nil
}

// leave restores the current directory's times and closes it.
func (e *Extractor) leave() error {
	d := e.cur
	if d == nil {
		return nil
	}
	e.cur = nil
	var err error
	if d.saved {
		err = utimensat(d.fd, "", &d.times, unix.AT_EMPTY_PATH)
		if err != nil {
			err = &os.PathError{Op: "restore parent directory times", Path: d.name, Err: err}
		}
	}
	if cerr := unix.Close(d.fd); err == nil && cerr != nil {
		err = &os.PathError{Op: "close", Path: d.name, Err: cerr}
	}
	return err
}

func (e *Extractor) rootPath() string { return e.abs }

// openInRoot opens a path inside the root; symlinks resolve as if the root
// were "/", and ".." stops at the root.
func (e *Extractor) openInRoot(name string, flags int) (int, error) {
	fd, err := unix.Openat2(e.root, name, &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	for errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
		fd, err = unix.Openat2(e.root, name, &unix.OpenHow{
			Flags:   uint64(flags | unix.O_CLOEXEC),
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
		})
	}
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return fd, nil
}

// mkdirAll makes dir and its missing parents inside the root. A component
// that is a symlink is followed inside the root; one that is neither a
// directory nor a symlink is replaced by a directory (umoci does the same for
// archives that turn a file into a directory).
func (e *Extractor) mkdirAll(dir string) error {
	parent := "."
	for _, c := range strings.Split(dir, "/") {
		next := filepath.Join(parent, c)
		fd, err := e.openInRoot(next, unix.O_PATH|unix.O_DIRECTORY)
		if err == nil {
			unix.Close(fd) //nolint:errcheck // O_PATH fd
			parent = next
			continue
		}
		pfd, perr := e.openInRoot(parent, unix.O_PATH|unix.O_DIRECTORY)
		if perr != nil {
			return perr
		}
		if errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ENOENT) {
			var st unix.Stat_t
			if unix.Fstatat(pfd, c, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
				if st.Mode&unix.S_IFMT == unix.S_IFLNK {
					// A dangling symlink: make its target, inside the root.
					err = e.mkdirLink(pfd, parent, c)
					unix.Close(pfd) //nolint:errcheck // O_PATH fd
					if err != nil {
						return err
					}
					parent = next
					continue
				}
				ph := &dirHandle{name: parent, fd: pfd}
				if err := e.removeAll(ph, c); err != nil {
					unix.Close(pfd) //nolint:errcheck // O_PATH fd
					return err
				}
			}
			err = unix.Mkdirat(pfd, c, 0o777)
		}
		unix.Close(pfd) //nolint:errcheck // O_PATH fd
		if err != nil {
			return &os.PathError{Op: "mkdir", Path: next, Err: err}
		}
		parent = next
	}
	return nil
}

// mkdirLink makes the directory a dangling symlink points to, resolved
// inside the root as securejoin resolves it.
func (e *Extractor) mkdirLink(pfd int, parent, c string) error {
	target, err := readlinkat(pfd, c)
	if err != nil {
		return &os.PathError{Op: "readlink", Path: filepath.Join(parent, c), Err: err}
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(parent, target)
	}
	return e.mkdirAll(CleanPath(target))
}

func readlinkat(fd int, name string) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(fd, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// whiteout removes name from d (or, for an opaque whiteout, everything in
// d), sparing whatever this layer has already put there.
func (e *Extractor) whiteout(d *dirHandle, name string) error {
	if name != "" {
		var st unix.Stat_t
		if err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
				return nil
			}
			return &os.PathError{Op: "check whiteout target", Path: filepath.Join(d.name, name), Err: err}
		}
		rel := filepath.Join(d.rel, name)
		if _, keep := e.upper[rel]; !keep {
			return e.removeAll(d, name)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return nil
		}
		return e.prune(filepath.Join(e.rootPath(), rel), rel)
	}
	return e.prune(filepath.Join(e.rootPath(), d.rel), d.rel)
}

// prune removes everything below the directory at path that this layer
// has not made. The path has no symlinks in it (it was resolved by the
// kernel), and prune never follows one.
func (e *Extractor) prune(path, rel string) error {
	des, err := os.ReadDir(path)
	if err != nil {
		return fmt.Errorf("whiteout: %w", err)
	}
	for _, de := range des {
		r := filepath.Join(rel, de.Name())
		if _, keep := e.upper[r]; !keep {
			if err := os.RemoveAll(filepath.Join(path, de.Name())); err != nil {
				return fmt.Errorf("whiteout subpath: %w", err)
			}
			e.forget()
			continue
		}
		if de.IsDir() {
			if err := e.prune(filepath.Join(path, de.Name()), r); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeAll removes name from directory d, whatever it is.
func (e *Extractor) removeAll(d *dirHandle, name string) error {
	err := unix.Unlinkat(d.fd, name, 0)
	if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EPERM) {
		err = os.RemoveAll(filepath.Join(procPath(d.fd), name))
		e.forget()
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "remove", Path: filepath.Join(d.name, name), Err: err}
	}
	return nil
}

// forget is called after a directory was removed: the open directory may
// have been inside it. Its saved times are restored only if it still exists.
func (e *Extractor) forget() {
	if e.cur == nil {
		return
	}
	var st unix.Stat_t
	if unix.Fstat(e.cur.fd, &st) == nil && st.Nlink == 0 {
		e.cur.saved = false
	}
}

// ToHost maps a container id to a host id; no mappings map ids to themselves.
func ToHost(id int, maps []rspec.LinuxIDMapping) (int, error) {
	if maps == nil {
		return id, nil
	}
	for _, m := range maps {
		if uint32(id) >= m.ContainerID && uint32(id) < m.ContainerID+m.Size {
			return int(m.HostID + (uint32(id) - m.ContainerID)), nil
		}
	}
	return -1, fmt.Errorf("container id %d cannot be mapped to a host id", id)
}
