package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cgroup"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

// envInit marks the container's init (this binary again, `tw-runc init`)
// and tells it the numbers of its descriptors.
const envInit = "_TW_RUNC_INIT"

// CreateOpts are the options of Create besides the container's ID.
type CreateOpts struct {
	Bundle        string      // the bundle's directory: config.json and the root
	PidFile       string      // where to write the init's pid, if not ""
	ConsoleSocket string      // where to send the terminal's master, if not ""
	PreserveFds   int         // how many descriptors from 3 on the container gets
	Console       *os.File    // instead of ConsoleSocket: our end of a socketpair (run)
	Spec          *specs.Spec // the bundle's config.json if the caller has loaded it (LoadSpec), else nil
}

// initConfig is what create sends its init over the sync socket.
type initConfig struct {
	Spec   *specs.Spec `json:"spec"`
	Rootfs string      `json:"rootfs"`
	Cgroup *Cgroup     `json:"cgroup"`
	// Rootless: the runtime has no root (rootless.go).
	Rootless bool `json:"rootless,omitempty"`
	// Exec: join the namespaces of Pid instead of making a container.
	Exec bool `json:"exec,omitempty"`
	Pid  int  `json:"pid,omitempty"`
	// For the hooks the init runs: the container's ID, bundle, and the
	// init's pid in the runtime's pid namespace.
	ID      string `json:"id,omitempty"`
	Bundle  string `json:"bundle,omitempty"`
	InitPid int    `json:"initPid,omitempty"`
	// InUser: the init forked into the user namespace the config joins
	// by path (joinuser.go).
	InUser bool `json:"inUser,omitempty"`
}

// initFds are the numbers of the init's descriptors, from envInit.
type initFds struct {
	Sync, Fifo, Console, Preserve int
}

// Create makes container id of the bundle: its state directory with the
// start gate, its cgroup, and its init, which prepares everything and
// waits at the gate. On failure nothing is left behind.
func (r *Runtime) Create(id string, o *CreateOpts, stdio cli.IO) (st *State, err error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	bundle, err := filepath.Abs(o.Bundle)
	if err != nil {
		return nil, err
	}
	spec := o.Spec
	if spec == nil {
		spec, err = LoadSpec(bundle)
	}
	if err != nil {
		return nil, err
	}
	// The init is forked from this process (fastinit.go), or is this
	// binary again, sealed (exe.go): made while the rest is checked.
	var seal *sealing
	fork := forkable(spec, o, stdio, r)
	if !fork {
		seal = sealAsync(r.Root)
	}
	defer func() {
		if seal != nil {
			seal.discard()
		}
	}()
	rootless := os.Geteuid() != 0
	if rootless {
		if err := checkRootless(spec); err != nil { // rootless.go
			return nil, err
		}
	} else if err := checkRootMapped(spec); err != nil { // rootless.go
		return nil, err
	}
	if spec.Process.Terminal && o.ConsoleSocket == "" && o.Console == nil {
		return nil, errors.New("cannot allocate tty if runc will detach without setting console socket")
	}
	if !spec.Process.Terminal && o.ConsoleSocket != "" {
		return nil, errors.New("cannot use console socket if runc will not detach or allocate tty")
	}
	rootfs := spec.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(bundle, rootfs)
	}
	if fi, err := os.Stat(rootfs); err != nil {
		return nil, fmt.Errorf("root: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("root: %s: not a directory", rootfs)
	}
	cgPath, err := cgroupPath(spec.Linux.CgroupsPath, id, r.SystemdCgroup)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.Root, 0o700); err != nil {
		return nil, err
	}
	dir := r.dir(id)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container with id exists: %s", id)
		}
		return nil, err
	}
	var cg *Cgroup
	var cmd *exec.Cmd
	pid := 0 // the init's
	defer func() {
		if err == nil {
			return
		}
		if cmd != nil && cmd.Process != nil {
			cmd.Process.Kill()
			cmd.Wait()
		} else if pid > 0 {
			unix.Kill(pid, unix.SIGKILL)
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, 0, nil)
		}
		if cg != nil {
			cg.Undo()
		}
		os.RemoveAll(dir)
	}()

	fifo := filepath.Join(dir, fifoFile)
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		return nil, &os.PathError{Op: "mkfifo", Path: fifo, Err: err}
	}
	// The init holds the gate open for reading and writing: it blocks in
	// read until start writes, and start's open never blocks.
	gfd, err := openFile(fifo, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	gate := os.NewFile(uintptr(gfd), fifo) // blocking: not the poller's
	defer gate.Close()
	// The init starts before its cgroup is made: its start (execve, the Go
	// runtime) runs while this one makes the cgroup, and it does nothing
	// until it has its config, which it gets once it is in the cgroup.
	extra := preserved(o.PreserveFds)
	console := o.Console
	if o.ConsoleSocket != "" {
		if console, err = dialConsole(o.ConsoleSocket); err != nil {
			return nil, err
		}
		defer console.Close()
	}
	if fork {
		// The init's thread makes its namespaces while this one makes the
		// cgroup, and, while the init forks, this one encodes the state
		// once: the encoder's first use costs more than the rest of save.
		f, err := startFork(spec, rootfs, cgPath, gate, console, o.PreserveFds)
		if err != nil {
			return nil, err
		}
		cg, err = r.newCgroup(cgPath, id, spec)
		st := r.newState(spec, id, bundle, rootfs, cg)
		if pid, err = f.finish(cg, err, func() { json.Marshal(st) }); err != nil {
			return nil, err
		}
		return r.created(st, pid, o.PidFile)
	}
	// In a user namespace joined by path the init forks into it and
	// makes or joins the others from there (joinuser.go).
	flags, joinPid, joinUser := cloneFlags(spec), joined(spec)["pid"], joined(spec)["user"] != ""
	if joinUser {
		flags, joinPid = 0, ""
	}
	cmd, parent, err := startInit(seal, spec, flags, joinPid, extra, gate, console, stdio)
	seal = nil
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	if cg, err = r.newCgroup(cgPath, id, spec); err != nil {
		return nil, err
	}
	if cg != nil {
		if err := cg.Join(cmd.Process.Pid); err != nil {
			return nil, fmt.Errorf("cgroup %s: %w", cgPath, err)
		}
	}
	initPid := cmd.Process.Pid
	cfg := initConfig{Spec: spec, Rootfs: rootfs, Cgroup: cg, ID: id, Bundle: bundle, InitPid: initPid, Rootless: rootless}
	if joinUser {
		p, err := forkedInit(cmd, parent, &cfg) // userns.go
		if err != nil {
			return nil, err
		}
		cmd, pid, initPid = nil, p.Pid, p.Pid
		cfg.InitPid, cfg.InUser = p.Pid, true
	}
	hooks := func(string) error {
		st := hookState(spec, id, bundle, Creating, initPid)
		if err := runHooks("prestart", spec.Hooks.Prestart, st); err != nil {
			return err
		}
		return runHooks("createRuntime", spec.Hooks.CreateRuntime, st)
	}
	if err := handshake(parent, &cfg, hooks); err != nil {
		return nil, err
	}
	if st, err = r.created(r.newState(spec, id, bundle, rootfs, cg), initPid, o.PidFile); err != nil {
		return nil, err
	}
	if cmd != nil {
		cmd.Process.Release()
	}
	return st, nil
}

// newCgroup makes the container's cgroup with its limits and device
// rules; on failure the caller undoes the cgroup it returns.
func (r *Runtime) newCgroup(cgPath, id string, spec *specs.Spec) (cg *Cgroup, err error) {
	if r.RootlessCgroups {
		// None where the user may not make one and needs none (rootless.go).
		if cg, err = rootlessCgroup(cgPath, id, spec); err != nil {
			return nil, err
		}
	} else if cg, err = cgroup.NewContainer(cgPath); err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", cgPath, err)
	}
	if cg != nil {
		if err := cg.Apply(spec.Linux.Resources); err != nil {
			return cg, fmt.Errorf("cgroup %s: %w", cgPath, err)
		}
		// Rootless, device rules are not expected to work (runc ignores them).
		if err := cg.Devices(cgroup.DeviceRules(spec.Linux.Resources, spec.Linux.Devices)); err != nil && !r.RootlessCgroups {
			return cg, fmt.Errorf("cgroup %s: %w", cgPath, err)
		}
	}
	return cg, nil
}

// newState is the state of a container being created, without its init.
func (r *Runtime) newState(spec *specs.Spec, id, bundle, rootfs string, cg *Cgroup) *State {
	return &State{
		Public: Public{OCIVersion: spec.Version, ID: id, Status: Created, Bundle: bundle,
			Rootfs: rootfs, Annotations: spec.Annotations},
		Cgroup: cg, Namespace: joined(spec), Process: spec.Process, Seccomp: spec.Linux.Seccomp,
		Hooks: spec.Hooks,
	}
}

// created saves the state st of a container whose init (pid) waits at the
// gate, and writes the pid file.
func (r *Runtime) created(st *State, pid int, pidFile string) (*State, error) {
	start, _, err := procStat(pid)
	if err != nil {
		return nil, fmt.Errorf("container init: %w", err)
	}
	st.Pid, st.InitStart, st.Created = pid, start, time.Now().UTC()
	if err := r.save(st); err != nil {
		return nil, err
	}
	if pidFile != "" {
		if err := writeFileAtomic(pidFile, []byte(strconv.Itoa(st.Pid)), 0o644); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// joined are the namespaces the container joined by path.
func joined(s *specs.Spec) map[string]string {
	m := map[string]string{}
	for _, n := range s.Linux.Namespaces {
		if n.Path != "" {
			m[string(n.Type)] = n.Path
		}
	}
	return m
}

// preserved are the descriptors 3…3+n-1 that --preserve-fds passes on.
func preserved(n int) []*os.File {
	var fs []*os.File
	for fd := 3; fd < 3+n; fd++ {
		fs = append(fs, os.NewFile(uintptr(fd), "preserved-"+strconv.Itoa(fd)))
	}
	return fs
}

// startInit starts this binary again (the sealed copy seal makes, which it
// closes) as the container's init, in new namespaces (flags), with the
// preserved descriptors first (3…), then the sync socket, the start gate
// and the console socket (either may be nil).
// It returns the parent's end of the sync socket. The init waits for its
// config, so the caller may first put it in its cgroup.
func startInit(seal *sealing, spec *specs.Spec, flags uintptr, joinPid string, extra []*os.File, gate, console *os.File, stdio cli.IO) (*exec.Cmd, *os.File, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		seal.discard()
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	parent, child := os.NewFile(uintptr(pair[0]), "sync"), os.NewFile(uintptr(pair[1]), "sync")
	defer child.Close()
	exe, err := seal.wait()
	if err != nil {
		parent.Close()
		return nil, nil, err
	}
	defer exe.Close()
	files := append(extra, child)
	ids := initFds{Sync: 2 + len(files), Fifo: -1, Console: -1, Preserve: len(extra)}
	if gate != nil {
		files = append(files, gate)
		ids.Fifo = 2 + len(files)
	}
	if console != nil {
		files = append(files, console)
		ids.Console = 2 + len(files)
	}
	cmd := &exec.Cmd{
		Path:       fmt.Sprintf("/proc/self/fd/%d", exe.Fd()),
		Args:       []string{"tw-runc", "init"},
		Env:        []string{fmt.Sprintf("%s=%d,%d,%d,%d", envInit, ids.Sync, ids.Fifo, ids.Console, ids.Preserve)},
		Stdin:      cli.StdFile(stdio.Stdin, os.Stdin),
		Stdout:     cli.StdFile(stdio.Stdout, os.Stdout),
		Stderr:     cli.StdFile(stdio.Stderr, os.Stderr),
		ExtraFiles: files,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: flags,
			Setsid:     true,
		},
	}
	helpers := false
	if flags&unix.CLONE_NEWUSER != 0 && os.Geteuid() != 0 {
		helpers = rootlessInit(spec, cmd.SysProcAttr) // rootless.go
	} else if flags&unix.CLONE_NEWUSER != 0 {
		cmd.SysProcAttr.UidMappings = idMap(spec.Linux.UIDMappings)
		cmd.SysProcAttr.GidMappings = idMap(spec.Linux.GIDMappings)
		cmd.SysProcAttr.GidMappingsEnableSetgroups = true
		// Root of the new namespace, so that the init keeps its
		// capabilities there across execve.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	// A pid namespace joined by path is the one of the init's children:
	// setns on this thread, which forks the init and is never unlocked, so
	// that the Go runtime drops it when this goroutine ends.
	if joinPid != "" {
		runtime.LockOSThread()
		if err := ns.Enter(joinPid, unix.CLONE_NEWPID); err != nil {
			parent.Close()
			return nil, nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		parent.Close()
		return nil, nil, fmt.Errorf("start container init: %w", err)
	}
	if helpers {
		// The init waits for its config: its ids are mapped first.
		if err := mapIDs(spec, cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			parent.Close()
			return nil, nil, err
		}
	}
	return cmd, parent, nil
}

func idMap(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, 0, len(m))
	for _, e := range m {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)})
	}
	return out
}

// initReply is a line of the init on the sync socket: ready, an error,
// or a request to run the createRuntime hooks (prestart too) in the
// runtime's namespaces before it goes on.
type initReply struct {
	Ready bool   `json:"ready,omitempty"`
	Error string `json:"error,omitempty"`
	Hooks string `json:"hooks,omitempty"`
}

// handshake sends the init its config and serves it until its last
// reply: ready, or the error that stopped it (an exec's init says nothing:
// the socket closes at execve). An init that dies without a word is an
// error too. hooks runs the hooks the init asks for.
func handshake(sock *os.File, cfg *initConfig, hooks func(kind string) error) error {
	enc := json.NewEncoder(sock)
	if err := enc.Encode(cfg); err != nil {
		return fmt.Errorf("send config to the container init: %w", err)
	}
	dec := json.NewDecoder(sock)
	for {
		var r initReply
		err := dec.Decode(&r)
		switch {
		case err == io.EOF && cfg.Exec:
			return nil
		case err == io.EOF:
			return errors.New("container init exited before it was ready")
		case err != nil:
			return fmt.Errorf("read from the container init: %w", err)
		case r.Error != "":
			return errors.New(r.Error)
		case r.Ready:
			return nil
		case r.Hooks != "" && hooks != nil:
			if err := hooks(r.Hooks); err != nil {
				return err
			}
			if err := enc.Encode(initReply{Ready: true}); err != nil {
				return fmt.Errorf("sync socket: %w", err)
			}
		default:
			return fmt.Errorf("container init: unexpected reply %+v", r)
		}
	}
}
