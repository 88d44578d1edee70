package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Container is an OCI container's cgroup (tw-runc's): one directory per
// cgroup v1 hierarchy (keyed by the hierarchy's mount point), or the one
// directory of the unified cgroup v2 hierarchy (key ""). It is kept, as
// JSON, in the container's state.
type Container struct {
	V2    bool              `json:"v2,omitempty"`
	Paths map[string]string `json:"paths"`
	// Made are the directories this create made, parents first: a
	// failed create removes these and nothing else.
	Made []string `json:"-"`
	// Shared: the cgroup was there before the container (another
	// container's, say); delete leaves it and what else runs in it.
	Shared bool `json:"shared,omitempty"`
	// Opts are the v1 hierarchies' mount options that name their
	// controllers ("memory", "none,name=systemd"), by mount point.
	Opts map[string]string `json:"opts,omitempty"`
}

// hierarchies finds the mounted cgroup hierarchies (whole ones, root
// "/"): the v1 ones with their mount options, or the unified one when the
// machine has cgroup v2 only.
func hierarchies() (mounts []string, opts map[string]string, v2 bool, err error) {
	all, err := mountinfo()
	if err != nil {
		return nil, nil, false, err
	}
	opts = map[string]string{}
	var unified string
	for _, m := range all {
		switch {
		case m.Root != "/":
		case !m.V2:
			if _, dup := opts[m.Point]; !dup {
				mounts = append(mounts, m.Point)
			}
			opts[m.Point] = controllers(m.Opts)
		case unified == "" || m.Point == "/sys/fs/cgroup":
			unified = m.Point
		}
	}
	if len(mounts) > 0 {
		sort.Strings(mounts)
		return mounts, opts, false, nil
	}
	if unified != "" {
		return []string{unified}, nil, true, nil
	}
	return nil, nil, false, errors.New("no cgroup hierarchy mounted")
}

// controllers keeps of a v1 cgroup's super options those that name it:
// "rw,memory" is "memory", "rw,xattr,name=systemd" is "none,name=systemd".
func controllers(superOpts []string) string {
	var keep []string
	named := false
	for _, o := range superOpts {
		switch {
		case o == "rw", o == "ro", o == "xattr", o == "noprefix", o == "clone_children", strings.HasPrefix(o, "release_agent="):
		case strings.HasPrefix(o, "name="):
			named = true
			keep = append(keep, o)
		default:
			keep = append(keep, o)
		}
	}
	if named && len(keep) == 1 {
		keep = append([]string{"none"}, keep...)
	}
	return strings.Join(keep, ",")
}

// NewContainer makes the container's cgroup directories, remembering which
// it made (Made): a cgroup that was there (another container's, say) is
// joined, never removed by Undo.
func NewContainer(path string) (*Container, error) {
	mounts, opts, v2, err := hierarchies()
	if err != nil {
		return nil, err
	}
	cg := &Container{V2: v2, Paths: map[string]string{}, Opts: opts}
	for _, m := range mounts {
		key := m
		if v2 {
			key = ""
		}
		dir := filepath.Join(m, path)
		if _, err := os.Stat(dir); err == nil {
			cg.Shared = true
		}
		if err := cg.mkdirAll(m, dir); err != nil {
			cg.Undo()
			return nil, err
		}
		cg.Paths[key] = dir
		if !v2 && strings.Contains(","+opts[m]+",", ",cpuset,") {
			if err := cpusetInherit(m, path); err != nil {
				cg.Undo()
				return nil, err
			}
		}
	}
	if v2 {
		if err := enableControllers(mounts[0], path); err != nil {
			cg.Undo()
			return nil, err
		}
	}
	return cg, nil
}

// mkdirAll makes dir and its parents below root, adding those it made to
// cg.Made.
func (cg *Container) mkdirAll(root, dir string) error {
	if dir == root {
		return nil
	}
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := cg.mkdirAll(root, filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	cg.Made = append(cg.Made, dir)
	return nil
}

// Undo removes what NewContainer made after a failed create: the processes
// in a cgroup it made are the failed init's; a cgroup it did not make is
// left as it is, with what runs in it.
func (cg *Container) Undo() {
	made := map[string]bool{}
	for _, d := range cg.Made {
		made[d] = true
	}
	mine := &Container{V2: cg.V2, Paths: map[string]string{}, Opts: cg.Opts} // not Shared: these are its own
	for k, d := range cg.Paths {
		if made[d] {
			mine.Paths[k] = d
		}
	}
	mine.Remove()
	for i := len(cg.Made) - 1; i >= 0; i-- {
		unix.Rmdir(cg.Made[i])
	}
}

// cpusetInherit copies cpus and mems down to a new v1 cpuset cgroup: an
// empty one accepts no task.
func cpusetInherit(root, path string) error {
	dir := root
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		parent := dir
		dir = filepath.Join(dir, part)
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			cur, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				return err
			}
			if strings.TrimSpace(string(cur)) != "" {
				continue
			}
			val, err := os.ReadFile(filepath.Join(parent, f))
			if err != nil {
				return err
			}
			if err := writeFile(filepath.Join(dir, f), strings.TrimSpace(string(val))); err != nil {
				return err
			}
		}
	}
	return nil
}

// enableControllers lets the controllers of the root reach path, each on
// its own, as with runc.
func enableControllers(root, path string) error {
	b, err := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
	if err != nil {
		return err
	}
	dir := root
	for _, part := range append([]string{""}, strings.Split(strings.Trim(path, "/"), "/")...) {
		dir = filepath.Join(dir, part)
		if dir == filepath.Join(root, path) {
			break
		}
		_ = enable(dir, strings.Fields(string(b)), true)
	}
	return nil
}

func writeFile(path, val string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(val); err != nil {
		f.Close()
		return fmt.Errorf("write %s to %s: %w", val, path, errors.Unwrap(err))
	}
	return f.Close()
}

// dirOf finds the directory of the hierarchy whose mount point ends in
// name (v1: "memory", "cpu,cpuacct"), or the unified one.
func (cg *Container) dirOf(ctl string) string {
	if cg.V2 {
		return cg.Paths[""]
	}
	for m, d := range cg.Paths {
		for _, c := range strings.Split(cg.Opts[m], ",") {
			if c == ctl {
				return d
			}
		}
	}
	return ""
}

// set writes val to file of controller ctl; a missing controller is an
// error naming it.
func (cg *Container) set(ctl, file, val string) error {
	d := cg.dirOf(ctl)
	if d == "" {
		return fmt.Errorf("cgroup controller %s is not mounted", ctl)
	}
	return writeFile(filepath.Join(d, file), val)
}

// Apply sets linux.resources (not the device rules: Devices does).
func (cg *Container) Apply(r *specs.LinuxResources) error {
	writes, err := Resources(r, cg.V2)
	if err != nil {
		return err
	}
	return cg.write(writes)
}

// write makes the writes; a missing controller is an error naming it.
func (cg *Container) write(writes []Write) error {
	for _, w := range writes {
		if err := cg.set(w.Controller, w.File, w.Value); err != nil {
			return err
		}
	}
	return nil
}

// Devices sets the device rules (DeviceRules): on cgroup v1 in the
// devices controller, on v2 as an eBPF program attached to the cgroup.
func (cg *Container) Devices(rules []specs.LinuxDeviceCgroup) error {
	if cg.V2 {
		prog, err := DeviceFilter(rules)
		if err != nil {
			return err
		}
		return AttachDeviceFilter(cg.Paths[""], prog)
	}
	return cg.write(DeviceWrites(rules))
}

// Dirs are the cgroup's directories.
func (cg *Container) Dirs() []string {
	dirs := make([]string, 0, len(cg.Paths))
	for _, d := range cg.Paths {
		dirs = append(dirs, d)
	}
	return dirs
}

// Join moves pid into every directory of the cgroup.
func (cg *Container) Join(pid int) error { return join(cg.Dirs(), pid) }

// Procs lists the processes in the cgroup, by host pid.
func (cg *Container) Procs() ([]int, error) {
	d := cg.dirOf("pids")
	if d == "" {
		d = cg.dirOf("freezer")
	}
	if d == "" {
		for _, p := range cg.Paths {
			d = p
			break
		}
	}
	b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	return parsePids(b, []int{}), nil
}

// Exists reports whether the cgroup's directories are still there.
func (cg *Container) Exists() bool {
	for _, d := range cg.Paths {
		if _, err := os.Stat(d); err == nil {
			return true
		}
	}
	return false
}

// Frozen reports whether the freezer holds the cgroup.
func (cg *Container) Frozen() bool {
	if cg.V2 {
		b, err := os.ReadFile(filepath.Join(cg.Paths[""], "cgroup.freeze"))
		return err == nil && strings.TrimSpace(string(b)) == "1"
	}
	d := cg.dirOf("freezer")
	if d == "" {
		return false
	}
	b, err := os.ReadFile(filepath.Join(d, "freezer.state"))
	return err == nil && strings.TrimSpace(string(b)) != "THAWED"
}

// ErrNoFreezer is the reason pause and resume fail without a freezer.
var ErrNoFreezer = errors.New("the cgroup freezer is not available")

// Freeze freezes (or thaws) every process and waits until the kernel
// says it is done.
func (cg *Container) Freeze(on bool) error {
	file, want, val := "freezer.state", "FROZEN", "FROZEN"
	d := cg.dirOf("freezer")
	if cg.V2 {
		file, want, val = "cgroup.freeze", "1", "1"
		if _, err := os.Stat(filepath.Join(d, file)); err != nil {
			d = ""
		}
	}
	if !on {
		want, val = "THAWED", "THAWED"
		if cg.V2 {
			want, val = "0", "0"
		}
	}
	if d == "" {
		return ErrNoFreezer
	}
	if err := writeFile(filepath.Join(d, file), val); err != nil {
		return err
	}
	for i := 0; i < 1000; i++ {
		if cg.V2 {
			b, _ := os.ReadFile(filepath.Join(d, "cgroup.events"))
			if strings.Contains(string(b), "frozen "+want) {
				return nil
			}
		} else if b, _ := os.ReadFile(filepath.Join(d, file)); strings.TrimSpace(string(b)) == want {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("%s: still not %s", filepath.Join(d, file), want)
}

// Kill sends sig to every process of the cgroup; with SIGKILL the cgroup
// is frozen first, so that no process escapes by forking.
func (cg *Container) Kill(sig unix.Signal) error {
	if sig == unix.SIGKILL && cg.Freeze(true) == nil {
		defer cg.Freeze(false)
	}
	pids, err := cg.Procs()
	if err != nil {
		return err
	}
	for _, p := range pids {
		if err := unix.Kill(p, sig); err != nil && err != unix.ESRCH {
			return fmt.Errorf("kill %d: %w", p, err)
		}
	}
	return nil
}

// killNoFreeze sends SIGKILL to every process of the cgroup.
func (cg *Container) killNoFreeze() {
	pids, _ := cg.Procs()
	for _, p := range pids {
		unix.Kill(p, unix.SIGKILL)
	}
}

// Remove kills what is left in the cgroup and removes its directories;
// a shared one is only removed if empty, as runc leaves it.
func (cg *Container) Remove() error {
	if !cg.Exists() {
		return nil
	}
	if cg.Shared {
		for _, d := range cg.Paths {
			unix.Rmdir(d)
		}
		return nil
	}
	if pids, _ := cg.Procs(); len(pids) > 0 {
		cg.Kill(unix.SIGKILL)
	}
	// A dying init stays in its cgroup until the processes of its pid
	// namespace are reaped (by a reaper outside): wait for that, up to 10
	// s, killing again every 100 ms.
	for _, d := range cg.Paths {
		d := d
		err := rmdirBusy(2000, func() error { return unix.Rmdir(d) }, cg.killNoFreeze)
		if err != nil && err != unix.ENOENT {
			return &os.PathError{Op: "remove cgroup", Path: d, Err: err}
		}
	}
	return nil
}
