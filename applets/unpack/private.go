package unpack

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// An image holds setuid programs and files only root should read. Docker
// and umoci keep an unpacked tree where only root can reach it: umoci's
// bundle directory is 0700, whatever the image's root entry says of
// rootfs/ inside it. With --rootfs-only there is no bundle around the
// tree, so two rules keep it private: the image's root entry ("." in a
// layer) never loosens who can reach DIR (its owner stays, its mode only
// loses bits), and a DIR that users other than root can reach is named in
// a warning, with the way out: a private (0700) parent directory.

// reachable returns the first directory on the way from / to dir (dir
// included) that users other than root can search, when every one on the
// way can be searched by one such user (anybody, or one owner, or one
// group), and "" when only root can reach dir.
func reachable(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	var path []string
	for d := real; ; d = filepath.Dir(d) {
		path = append([]string{d}, path...)
		if d == "/" {
			break
		}
	}
	type who struct {
		kind byte // 'o' anybody, 'u' an owner, 'g' a group
		id   uint32
	}
	var sts []unix.Stat_t
	cands := []who{{kind: 'o'}}
	for _, d := range path {
		var st unix.Stat_t
		if err := unix.Stat(d, &st); err != nil {
			return "", &os.PathError{Op: "stat", Path: d, Err: err}
		}
		sts = append(sts, st)
		if st.Uid != 0 {
			cands = append(cands, who{'u', st.Uid})
		}
		if st.Gid != 0 {
			cands = append(cands, who{'g', st.Gid})
		}
	}
	for _, c := range cands {
		ok := true
		for _, st := range sts {
			search := st.Mode&0o001 != 0 ||
				(c.kind == 'u' && st.Uid == c.id && st.Mode&0o100 != 0) ||
				(c.kind == 'g' && st.Gid == c.id && st.Mode&0o010 != 0)
			if !search {
				ok = false
				break
			}
		}
		if ok {
			return real, nil
		}
	}
	return "", nil
}

// warnReachable warns on w when users other than root can reach dir.
func warnReachable(dir string, w io.Writer) {
	if p, err := reachable(dir); err == nil && p != "" {
		fmt.Fprintf(w, "tw-unpack: warning: %s: users other than root can reach it: the image's setuid programs "+
			"and private files will be open to them; unpack below a directory only root can enter (chmod 0700 its parent)\n", dir)
	}
}

// keepRoot returns what undoes, after the layers are applied, whatever
// the image's root entry did to widen access to the tree at dir: dir gets
// back its owner, and of its mode keeps only the permission bits it has
// now (the image may take bits away, never add them) and the sticky bit.
func keepRoot(dir string) (restore func() error, err error) {
	var before unix.Stat_t
	if err := unix.Lstat(dir, &before); err != nil {
		return nil, &os.PathError{Op: "stat", Path: dir, Err: err}
	}
	return func() error {
		var after unix.Stat_t
		if err := unix.Lstat(dir, &after); err != nil {
			return &os.PathError{Op: "stat", Path: dir, Err: err}
		}
		if after.Uid != before.Uid || after.Gid != before.Gid {
			if err := unix.Lchown(dir, int(before.Uid), int(before.Gid)); err != nil {
				return &os.PathError{Op: "chown", Path: dir, Err: err}
			}
		}
		mode := after.Mode&unix.S_ISVTX | after.Mode&before.Mode&0o777
		if mode != after.Mode&0o7777 || after.Uid != before.Uid || after.Gid != before.Gid {
			if err := unix.Chmod(dir, mode); err != nil {
				return &os.PathError{Op: "chmod", Path: dir, Err: err}
			}
		}
		return nil
	}, nil
}
