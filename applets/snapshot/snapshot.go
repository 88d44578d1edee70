// Package snapshot is tw-snapshot: copy-on-write snapshots of a btrfs
// subvolume, as `btrfs subvolume snapshot [-r] SRC DST` makes them
// (walkthrough step 7), one container's root each.
package snapshot

import (
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/btrfs"
	"github.com/tupperware/tw/applets/internal/cli"
)

const usage = `Usage: tw-snapshot [-r] SRC DST…

Make a copy-on-write snapshot of the btrfs subvolume SRC at each DST, like
'btrfs subvolume snapshot [-r] SRC DST'. When DST is an existing directory
the snapshot is DST/basename(SRC); otherwise DST is the new snapshot and its
parent directory must exist.

Many DSTs in one call open SRC once and make one ioctl each: a thousand
containers from one image is one command. Every DST is checked before the
first snapshot is made.
`

// Applet is tw-snapshot.
var Applet = cli.Applet{Name: "snapshot", Summary: "copy-on-write snapshots of a btrfs subvolume", Main: Main}

// Main runs tw-snapshot.
func Main(args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("snapshot", true)
	readonly := fs.BoolP("readonly", "r", false, "make read-only snapshots")
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 2, -1); err != nil {
		return err
	}
	return snapshot(fs.Arg(0), fs.Args()[1:], *readonly)
}

// job is one snapshot to make: name in the directory open at fd.
type job struct {
	fd   int
	name string
	path string
}

func snapshot(src string, dsts []string, readonly bool) error {
	srcfd, err := btrfs.OpenDir(src)
	if err != nil {
		return btrfs.PathError("open", src, err)
	}
	defer unix.Close(srcfd)
	if err := btrfs.CheckFd(srcfd, true); err != nil {
		return btrfs.PathError("snapshot", src, err)
	}
	var dirs btrfs.Dirs
	defer dirs.Close()
	jobs := make([]job, 0, len(dsts))
	seen := make(map[string]bool, len(dsts))
	for _, dst := range dsts {
		j, err := plan(&dirs, src, dst)
		if err != nil {
			return err
		}
		if seen[j.path] {
			return btrfs.PathError("snapshot", j.path, unix.EEXIST)
		}
		seen[j.path] = true
		jobs = append(jobs, j)
	}
	s := btrfs.NewSnapshotter(srcfd, readonly)
	for _, j := range jobs {
		if err := s.Snapshot(j.fd, j.name); err != nil {
			return btrfs.PathError("snapshot", j.path, err)
		}
	}
	return nil
}

// plan resolves dst as btrfs-progs does: an existing directory receives
// basename(SRC); else dst names the new snapshot in an existing parent.
func plan(dirs *btrfs.Dirs, src, dst string) (job, error) {
	var st unix.Stat_t
	err := unix.Stat(dst, &st)
	switch {
	case err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR:
		name := filepath.Base(filepath.Clean(src))
		path := filepath.Join(dst, name)
		fd, err := dirs.Open(dst)
		if err != nil {
			return job{}, btrfs.PathError("snapshot", dst, err)
		}
		if unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
			return job{}, btrfs.PathError("snapshot", path, unix.EEXIST)
		}
		return job{fd, name, path}, nil
	case err == nil:
		return job{}, btrfs.PathError("snapshot", dst, unix.EEXIST)
	case err != unix.ENOENT:
		return job{}, btrfs.PathError("snapshot", dst, err)
	}
	c := filepath.Clean(dst)
	dir, name := filepath.Dir(c), filepath.Base(c)
	if err := btrfs.CheckName(name); err != nil {
		return job{}, btrfs.PathError("snapshot", dst, err)
	}
	fd, err := dirs.Open(dir)
	if err == btrfs.ErrNotBtrfs {
		return job{}, btrfs.PathError("snapshot", dst, err)
	} else if err != nil {
		return job{}, btrfs.PathError("open", dir, err)
	}
	return job{fd, name, dst}, nil
}
