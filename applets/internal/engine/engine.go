// Package engine is tw-runc's OCI engine, as runc's libcontainer and
// specconv are runc's: it checks a bundle's config.json (Validate),
// translates it into the pieces of applets/internal (mount, caps, cgroup,
// seccomp, ns, chain, memexec), makes the container (Create: its cgroup,
// its state directory and its init, this binary again, which builds the
// container in new namespaces and waits at a start gate), runs its hooks,
// and keeps its state. tw-runc (applets/runc) is only its command line.
package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Version is the version of runc whose command line and behaviour tw-runc
// follows (containerd's shim reads it).
const Version = "1.1.5"

// Runtime is a directory of containers' state (runc's --root), one
// directory per container: state.json and, until start, the gate
// exec.fifo.
type Runtime struct {
	Root          string // the directory, /run/tw-runc by default
	SystemdCgroup bool   // cgroupsPath reads slice:prefix:name
	// RootlessCgroups (runc's --rootless): no cgroup where the user may
	// not make one and none is needed (rootless.go).
	RootlessCgroups bool
	Warn            func(msg string) // hears what fails without failing (poststart and poststop hooks); may be nil
}

func (r *Runtime) warn(err error) {
	if r.Warn != nil {
		r.Warn(err.Error())
	}
}

// Start lets the init of a created container through its gate: the
// container's program runs.
func (r *Runtime) Start(st *State) error {
	switch st.Status {
	case Stopped:
		return errors.New("cannot start a container that has stopped")
	case Running, Paused:
		return errors.New("cannot start an already running container")
	}
	fifo := filepath.Join(r.dir(st.ID), fifoFile)
	// O_NONBLOCK: ENXIO instead of a hang when no init holds the gate.
	fd, err := openFile(fifo, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("start gate: %w", err)
	}
	err = writeAll(fd, fifo, []byte{0})
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("start gate: %w", err)
	}
	if err := os.Remove(fifo); err != nil {
		return err
	}
	if st.Hooks != nil && len(st.Hooks.Poststart) > 0 {
		// A failing poststart hook is a warning: the container runs.
		st.Status = Running
		if err := runHooks("poststart", st.Hooks.Poststart, st.Public); err != nil {
			r.warn(err)
		}
	}
	return nil
}

// Kill is runc's Signal: sig to every process of the cgroup (all), or to
// the init while it runs (never to a pid the init no longer owns).
func (r *Runtime) Kill(st *State, sig unix.Signal, all bool) error {
	if all && st.Cgroup == nil && st.Status != Stopped {
		if err := killAllNoCgroup(st, sig); err != nil { // rootless.go
			return err
		}
	} else if all {
		if st.Cgroup == nil || !st.Cgroup.Exists() {
			if st.Status == Stopped {
				return nil
			}
		} else {
			return st.Cgroup.Kill(sig)
		}
	}
	if st.Status == Stopped {
		return ErrNotRunning
	}
	if err := unix.Kill(st.Pid, sig); err != nil {
		if err == unix.ESRCH {
			return ErrNotRunning
		}
		return fmt.Errorf("unable to signal init: %w", err)
	}
	if st.Status == Paused && (sig == unix.SIGKILL || sig == unix.SIGTERM) && st.Cgroup != nil {
		st.Cgroup.Freeze(false)
	}
	return nil
}

// Delete removes a container: a stopped one, a created one (its init is
// killed first), and with force a running or paused one too.
func (r *Runtime) Delete(st *State, force bool) error {
	switch st.Status {
	case Stopped:
	case Created:
		return r.killAndDestroy(st)
	default:
		if !force {
			return fmt.Errorf("cannot delete container %s that is not stopped: %s", st.ID, st.Status)
		}
		return r.killAndDestroy(st)
	}
	return r.Destroy(st)
}

// killAndDestroy kills the init and waits (up to a second) for it to die.
func (r *Runtime) killAndDestroy(st *State) error {
	if err := r.Kill(st, unix.SIGKILL, false); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	for i := 0; i < 100 && alive(st); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if alive(st) {
		return errors.New("container init still running")
	}
	return r.Destroy(st)
}

// Destroy removes what Create made, of a container whose init is gone:
// the cgroup (after killing what is left in it) and the state directory;
// then it runs the poststop hooks. The mounts went with the mount
// namespace.
func (r *Runtime) Destroy(st *State) error {
	if st.Cgroup != nil {
		if err := st.Cgroup.Remove(); err != nil {
			return err
		}
	}
	if st.Hooks != nil && len(st.Hooks.Poststop) > 0 {
		// A failing poststop hook is a warning: the container goes.
		st.Status = Stopped
		if err := runHooks("poststop", st.Hooks.Poststop, st.Public); err != nil {
			r.warn(err)
		}
	}
	// What Create and Start leave there (state.json), then the directory.
	dir := r.dir(st.ID)
	unix.Unlink(filepath.Join(dir, stateFile))
	if unix.Rmdir(dir) == nil {
		return nil
	}
	return os.RemoveAll(dir)
}

// List is the state of every container below Root, sorted by ID.
func (r *Runtime) List() ([]Public, error) {
	ents, err := os.ReadDir(r.Root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	list := []Public{}
	for _, e := range ents {
		if st, err := r.Load(e.Name()); err == nil {
			list = append(list, st.Public)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list, nil
}

// Processes are the host pids of the container's processes.
func (st *State) Processes() ([]int, error) {
	if st.Cgroup == nil && st.Status != Stopped {
		return nil, errNoCgroupOf
	}
	if st.Cgroup == nil || !st.Cgroup.Exists() {
		return []int{}, nil
	}
	return st.Cgroup.Procs()
}

// Update changes the resources of the container's cgroup (runc update).
func (st *State) Update(res *specs.LinuxResources) error {
	if st.Status == Stopped {
		return ErrNotRunning
	}
	if st.Cgroup == nil {
		return errors.New("the container has no cgroup")
	}
	return st.Cgroup.Apply(res)
}

// Freeze freezes every process of the container (on: pause) or thaws
// them (resume).
func (st *State) Freeze(on bool) error {
	switch {
	case on && st.Status != Running && st.Status != Created:
		return ErrNotRunning
	case !on && st.Status != Paused:
		return errors.New("container not paused")
	}
	if st.Cgroup == nil {
		return ErrNoFreezer
	}
	return st.Cgroup.Freeze(on)
}
