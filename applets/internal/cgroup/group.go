package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Group is a cgroup this process made, one directory per hierarchy. It
// holds descriptors of the directories and their parents, so that it can
// be emptied and removed after a pivot_root has hidden the paths.
type Group struct {
	V2   bool
	Name string
	dirs []dir
}

type dir struct {
	path   string // for messages
	parent int    // descriptor of the parent directory
	fd     int    // descriptor of the cgroup directory
	origin string // the cgroup this process came from
}

// Self reads where this process is: the cgroup mounts and its cgroups.
func Self() ([]Mount, map[string]string, error) {
	mounts, err := mountinfo()
	if err != nil {
		return nil, nil, err
	}
	g, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, nil, err
	}
	defer g.Close()
	self, err := ParseProcCgroup(g)
	if err != nil {
		return nil, nil, fmt.Errorf("/proc/self/cgroup: %w", err)
	}
	return mounts, self, nil
}

// Controllers reads the cgroup.controllers of a v2 directory.
func Controllers(dir string) []string {
	b, err := os.ReadFile(path.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// IsCgroup reports whether dir is a directory of a cgroup v1 filesystem.
func IsCgroup(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP_SUPER_MAGIC
}

// Create makes cgroup name below each place and writes the limits. On
// failure nothing is left behind.
func Create(v2 bool, places []Place, name string, l Limits) (g *Group, err error) {
	g = &Group{V2: v2, Name: name}
	defer func() {
		if err != nil {
			g.Remove()
			g = nil
		}
	}()
	for _, p := range places {
		if v2 {
			if err := v2Parent(p.Parent, p.Controllers); err != nil {
				return g, err
			}
		}
		d := dir{path: path.Join(p.Parent, name), parent: -1, fd: -1, origin: p.Origin}
		if d.parent, err = unix.Open(p.Parent, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return g, &os.PathError{Op: "open", Path: p.Parent, Err: err}
		}
		if err = unix.Mkdirat(d.parent, name, 0o755); err != nil {
			unix.Close(d.parent)
			return g, &os.PathError{Op: "mkdir", Path: d.path, Err: err}
		}
		g.dirs = append(g.dirs, d)
		last := &g.dirs[len(g.dirs)-1]
		if last.fd, err = unix.Openat(d.parent, name, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return g, &os.PathError{Op: "open", Path: d.path, Err: err}
		}
		for _, w := range l.Writes(v2) {
			if !contains(p.Controllers, w.Controller) {
				continue
			}
			if err = g.write(*last, w.File, w.Value); err != nil {
				if w.Optional && errors.Is(err, unix.ENOENT) {
					continue
				}
				return g, err
			}
		}
	}
	return g, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// v2Parent makes the shared parent of tw's v2 cgroups, below the root,
// and lets the controllers down to it and from it.
func v2Parent(parent string, controllers []string) error {
	if err := enable(path.Dir(parent), controllers, false); err != nil {
		return err
	}
	if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return enable(parent, controllers, false)
}

// enable adds the controllers to the parent's cgroup.subtree_control
// where they are missing: all at once, or each on its own (each), the
// kernel's refusals ignored, so that one it refuses (cpuset in a threaded
// subtree, say) does not keep the others away.
func enable(parent string, controllers []string, each bool) error {
	p := path.Join(parent, "cgroup.subtree_control")
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	var add []string
	for _, c := range controllers {
		if !contains(strings.Fields(string(b)), c) {
			add = append(add, "+"+c)
		}
	}
	if each {
		for _, a := range add {
			_ = os.WriteFile(p, []byte(a), 0)
		}
		return nil
	}
	if len(add) == 0 {
		return nil
	}
	if err := os.WriteFile(p, []byte(strings.Join(add, " ")), 0); err != nil {
		return fmt.Errorf("enable %s for sub-cgroups: %w", strings.Join(controllers, ","), err)
	}
	return nil
}

func (g *Group) write(d dir, file, value string) error {
	fd, err := unix.Openat(d.fd, file, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		_, err = unix.Write(fd, []byte(value))
		unix.Close(fd)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", path.Join(d.path, file), value, err)
	}
	return nil
}

// Paths are the directories of the group.
func (g *Group) Paths() []string {
	var out []string
	for _, d := range g.dirs {
		out = append(out, d.path)
	}
	return out
}

// Join moves this process into the cgroup directories dirs.
func Join(dirs []string) error {
	if err := join(dirs, 0); err != nil {
		return fmt.Errorf("join cgroup: %w", err)
	}
	return nil
}

// join moves process pid (0: this one) into the directories dirs.
func join(dirs []string, pid int) error {
	for _, d := range dirs {
		if err := os.WriteFile(path.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			return err
		}
	}
	return nil
}

// Enter moves this process into the group.
func (g *Group) Enter() error {
	for _, d := range g.dirs {
		if err := g.write(d, "cgroup.procs", "0"); err != nil {
			return fmt.Errorf("join cgroup: %w", err)
		}
	}
	return nil
}

// Leave moves this process back into the cgroups it came from.
func (g *Group) Leave() error {
	for _, d := range g.dirs {
		p := path.Join(d.origin, "cgroup.procs")
		if err := os.WriteFile(p, []byte("0"), 0); err != nil {
			return fmt.Errorf("leave cgroup %s: %w", d.path, err)
		}
	}
	return nil
}

// Others lists the processes in the group other than pid.
func (g *Group) Others(pid int) []int {
	var out []int
	for _, p := range g.pids() {
		if p != pid {
			out = append(out, p)
		}
	}
	return out
}

// pids lists the processes left in the group.
func (g *Group) pids() []int {
	var out []int
	for _, d := range g.dirs {
		fd, err := unix.Openat(d.fd, "cgroup.procs", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		f := os.NewFile(uintptr(fd), "cgroup.procs")
		var buf bytes.Buffer
		buf.ReadFrom(f)
		f.Close()
		out = parsePids(buf.Bytes(), out)
	}
	return out
}

// Kill kills every process left in the group and waits until the group
// is empty and reap (which reaps our exited children without blocking)
// reports that none is left, or timeout passes.
func (g *Group) Kill(reap func() (done bool), timeout time.Duration) error {
	if g.V2 && len(g.dirs) > 0 {
		g.write(g.dirs[0], "cgroup.kill", "1") // Linux 5.14 and later
	}
	deadline := time.Now().Add(timeout)
	for {
		left := g.pids()
		for _, pid := range left {
			unix.Kill(pid, unix.SIGKILL)
		}
		if done := reap(); done && len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s: %d processes would not die", g.Name, len(left))
		}
		time.Sleep(time.Millisecond)
	}
}

// Remove removes the directories (retrying while the kernel is still
// releasing the last tasks) and closes the descriptors.
func (g *Group) Remove() error {
	var first error
	for _, d := range g.dirs {
		if d.fd >= 0 {
			unix.Close(d.fd)
		}
		err := rmdirBusy(200, func() error { return unix.Unlinkat(d.parent, path.Base(d.path), unix.AT_REMOVEDIR) }, nil)
		if err != nil && err != unix.ENOENT && first == nil {
			first = &os.PathError{Op: "rmdir", Path: d.path, Err: err}
		}
		unix.Close(d.parent)
	}
	g.dirs = nil
	return first
}

// mountinfo reads the cgroup mounts of /proc/self/mountinfo.
func mountinfo() ([]Mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mounts, err := ParseMountinfo(f)
	if err != nil {
		return nil, fmt.Errorf("/proc/self/mountinfo: %w", err)
	}
	return mounts, nil
}

// parsePids appends the pids of a cgroup.procs to out.
func parsePids(b []byte, out []int) []int {
	for _, s := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(s); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// rmdirBusy calls rm until the kernel no longer says EBUSY (it is still
// releasing the last tasks), up to tries times 5 ms, calling again (if
// given) every 20 tries, to kill what is still there.
func rmdirBusy(tries int, rm func() error, again func()) error {
	var err error
	for i := 0; i < tries; i++ {
		if err = rm(); err != unix.EBUSY {
			break
		}
		if again != nil && i%20 == 19 {
			again()
		}
		time.Sleep(5 * time.Millisecond)
	}
	return err
}
