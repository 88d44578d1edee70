// Package snapshot is tw-snapshot: copy-on-write snapshots of a btrfs
// subvolume, as `btrfs subvolume snapshot [-r] SRC DST` makes them
// (walkthrough step 7), one container's root each.
package snapshot

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/btrfs"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/readdir"
	"github.com/tupperware/tw/applets/internal/stale"
)

const usage = `Usage: tw-snapshot [-r] SRC DST…

Make a copy-on-write snapshot of the btrfs subvolume SRC at each DST, like
'btrfs subvolume snapshot [-r] SRC DST'. When DST is an existing directory
the snapshot is DST/basename(SRC); otherwise DST is the new snapshot and its
parent directory must exist.

Many DSTs in one call open SRC once and are made together, so that they
share the kernel's transaction commits: a thousand containers from one
image take seconds, not minutes. Writable ones are made in a hidden
staging directory (.tw-snapshot.PID.N) beside DST and renamed into place;
the staging directories of a killed run, and the snapshots in them, are
removed by the next run into the same directory.
Every DST is checked before the first snapshot is made.
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
		key := filepath.Clean(j.path)
		if seen[key] {
			return btrfs.PathError("snapshot", j.path, unix.EEXIST)
		}
		seen[key] = true
		jobs = append(jobs, j)
	}
	swept := map[int]bool{}
	for _, j := range jobs {
		if !swept[j.fd] {
			swept[j.fd] = true
			sweep(j.fd)
		}
	}
	if len(jobs) > 1 && !readonly && !intoSource(srcfd, jobs) {
		return many(srcfd, jobs)
	}
	// One by one: a read-only snapshot cannot be renamed into place, and
	// a staging directory in SRC would show in the snapshots.
	s := btrfs.NewSnapshotter(srcfd, readonly)
	for _, j := range jobs {
		if err := s.Snapshot(j.fd, j.name); err != nil {
			return btrfs.PathError("snapshot", j.path, err)
		}
	}
	return nil
}

// intoSource tells whether a snapshot goes into SRC itself (or it cannot
// tell).
func intoSource(srcfd int, jobs []job) bool {
	src, err := btrfs.GetInfo(srcfd)
	if err != nil {
		return true
	}
	done := map[int]bool{}
	for _, j := range jobs {
		if done[j.fd] {
			continue
		}
		done[j.fd] = true
		if dir, err := btrfs.GetInfo(j.fd); err != nil || dir.ID == src.ID {
			return true
		}
	}
	return false
}

// workers is how many snapshots many makes at once.
var workers = 32

// many makes several writable snapshots. Made one after the other, each
// costs a transaction commit of its own, and the kernel keeps the
// destination directory locked through it. Snapshots made at the same
// time in different directories share commits, so workers run at once,
// each making its snapshots in a staging directory of its own beside the
// destination and renaming them into place (RENAME_NOREPLACE: an entry
// that appeared meanwhile is not replaced). After a failure no new
// snapshot starts; the first error in the order of jobs is returned.
func many(srcfd int, jobs []job) error {
	errs := make([]error, len(jobs))
	next := make(chan int)
	var failed atomic.Bool
	var wg sync.WaitGroup
	for w := range min(workers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := stager{name: fmt.Sprintf("%s%d.%d", stagingPrefix, os.Getpid(), w), fds: map[int]int{}}
			defer st.close()
			s := btrfs.NewSnapshotter(srcfd, false)
			for i := range next {
				if err := st.snapshot(s, jobs[i]); err != nil {
					errs[i] = btrfs.PathError("snapshot", jobs[i].path, err)
					failed.Store(true)
				}
			}
		}()
	}
	for i := range jobs {
		if failed.Load() {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// stager is one worker's staging directories, one per destination
// directory, made on first use and removed at the end.
type stager struct {
	name string      // of each staging directory
	fds  map[int]int // destination directory fd → staging directory fd
}

// snapshot makes j's snapshot in the staging directory beside it and
// renames it into place; where no staging directory can be made (a
// read-only destination, say), it makes the snapshot in place, which
// then fails or not for the reason the kernel gives.
func (st *stager) snapshot(s *btrfs.Snapshotter, j job) error {
	sfd, ok := st.fds[j.fd]
	if !ok {
		sfd = -1
		if unix.Mkdirat(j.fd, st.name, 0o700) == nil {
			if fd, err := unix.Openat(j.fd, st.name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
				sfd = fd
				stale.Hold(fd) // ours while we live: no other run sweeps it
			} else {
				unix.Unlinkat(j.fd, st.name, unix.AT_REMOVEDIR)
			}
		}
		st.fds[j.fd] = sfd
	}
	if sfd < 0 {
		return s.Snapshot(j.fd, j.name)
	}
	if err := s.Snapshot(sfd, j.name); err != nil {
		return err
	}
	if err := unix.Renameat2(sfd, j.name, j.fd, j.name, unix.RENAME_NOREPLACE); err != nil {
		btrfs.DeleteSubvolume(sfd, j.name)
		return err
	}
	return nil
}

// stagingPrefix starts the name of every staging directory.
const stagingPrefix = ".tw-snapshot."

// sweep removes, from the destination directory dirfd, the staging
// directories of tw-snapshot runs that were killed, and the orphan
// snapshots in them; those of live runs stay.
func sweep(dirfd int) {
	stale.Sweep(dirfd, stagingPrefix, func(name string, fd int) error {
		if names, err := readdir.Names(fd, name); err == nil {
			for _, n := range names {
				if btrfs.DeleteSubvolume(fd, n) != nil {
					unix.Unlinkat(fd, n, 0)
				}
			}
		}
		return unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
	})
}

// close removes the staging directories, empty by now.
func (st *stager) close() {
	for dfd, sfd := range st.fds {
		if sfd >= 0 {
			unix.Close(sfd)
			unix.Unlinkat(dfd, st.name, unix.AT_REMOVEDIR)
		}
	}
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
