package limit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/stale"
)

// recordDir holds one record per running tw-limit: a file named like its
// cgroup, listing the cgroup's directories, locked (flock) while that
// tw-limit lives. A record whose lock is free belongs to a tw-limit that
// was killed: the next tw-limit removes its cgroup directories, if no
// process is left in them, and the record. A cgroup without a record was
// not made by tw-limit and is never touched.
var recordDir = "/run/tupperware/limit"

// record is this run's record, its lock held.
type record struct {
	fd   int
	path string
}

// sweepRecords removes what killed tw-limit runs left behind.
func sweepRecords() {
	ents, err := os.ReadDir(recordDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(recordDir, e.Name())
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		if stale.Hold(fd) == nil && removeDirs(fd) {
			unix.Unlink(p)
		}
		unix.Close(fd)
	}
}

// removeDirs removes the cgroup directories listed in the record open at
// fd and tells whether none is left (one with processes stays).
func removeDirs(fd int) bool {
	data, err := readAll(fd)
	if err != nil {
		return false
	}
	gone := true
	for _, d := range strings.Split(strings.TrimSpace(data), "\n") {
		if d == "" || !filepath.IsAbs(d) || !isCgroupDir(filepath.Dir(d)) {
			continue
		}
		if err := unix.Rmdir(d); err != nil && !errors.Is(err, unix.ENOENT) {
			gone = false
		}
	}
	return gone
}

func isCgroupDir(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && (st.Type == unix.CGROUP_SUPER_MAGIC || st.Type == unix.CGROUP2_SUPER_MAGIC)
}

func readAll(fd int) (string, error) {
	var b strings.Builder
	buf := make([]byte, 4096)
	for off := int64(0); ; {
		n, err := unix.Pread(fd, buf, off)
		if err != nil {
			return "", err
		}
		if n == 0 {
			return b.String(), nil
		}
		b.Write(buf[:n])
		off += int64(n)
	}
}

// newRecord records that this run makes the cgroup directories dirs under
// name. A live record of the same name means another tw-limit runs that
// cgroup now.
func newRecord(name string, dirs []string) (*record, error) {
	if err := os.MkdirAll(recordDir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(recordDir, ".new-")
	if err != nil {
		return nil, err
	}
	fd, err := unix.Dup(int(f.Fd()))
	if err == nil {
		unix.CloseOnExec(fd)
		err = stale.Hold(fd)
		if err == nil {
			_, err = f.WriteString(strings.Join(dirs, "\n") + "\n")
		}
	}
	f.Close()
	r := &record{fd: fd, path: filepath.Join(recordDir, name)}
	if err == nil {
		// Put in place only now, locked: no run sees it unlocked.
		err = unix.Renameat2(unix.AT_FDCWD, f.Name(), unix.AT_FDCWD, r.path, unix.RENAME_NOREPLACE)
		if errors.Is(err, unix.EEXIST) {
			err = fmt.Errorf("cgroup %s: in use by another tw-limit", name)
			if stuck(r.path) {
				err = fmt.Errorf("cgroup %s: left by a killed tw-limit, with processes still in it", name)
			}
		}
	}
	if err != nil {
		os.Remove(f.Name())
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, err
	}
	return r, nil
}

// remove deletes the record and drops its lock; a nil record (a user's
// run) has nothing to remove.
func (r *record) remove() {
	if r == nil {
		return
	}
	unix.Unlink(r.path)
	unix.Close(r.fd)
}

// stuck tells whether the record at path is stale yet still there (its
// cgroup could not be removed): its lock is free.
func stuck(path string) bool {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return stale.Hold(fd) == nil
}
