package runc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
)

// oneID parses a command that takes flags and exactly one ID.
func oneID(name string, args []string, stdio cli.IO, def func(*pflagSet)) (string, error) {
	fs := cli.NewFlagSet(name, false)
	if def != nil {
		def(fs)
	}
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return "", err
	}
	if err := cli.Args(fs, 1, 1); err != nil {
		return "", err
	}
	return fs.Arg(0), nil
}

// start lets the init of a created container through its gate.
func cmdStart(g *globals, args []string, stdio cli.IO) error {
	id, err := oneID("start", args, stdio, nil)
	if err != nil || id == "" {
		return err
	}
	st, err := g.load(id)
	if err != nil {
		return err
	}
	return g.start(st)
}

func (g *globals) start(st *State) error {
	switch st.Status {
	case Stopped:
		return errors.New("cannot start a container that has stopped")
	case Running, Paused:
		return errors.New("cannot start an already running container")
	}
	fifo := filepath.Join(g.dir(st.ID), fifoFile)
	// O_NONBLOCK: ENXIO instead of a hang when no init holds the gate.
	f, err := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("start gate: %w", err)
	}
	_, err = f.Write([]byte{0})
	f.Close()
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
			g.logf("warning", "%v", err)
		}
	}
	return nil
}

func cmdState(g *globals, args []string, stdio cli.IO) error {
	id, err := oneID("state", args, stdio, nil)
	if err != nil || id == "" {
		return err
	}
	st, err := g.load(id)
	if err != nil {
		return err
	}
	if st.Status == Stopped {
		st.Pid = 0
	}
	b, err := json.MarshalIndent(st.Public, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Stdout, "%s\n", b)
	return nil
}

func cmdKill(g *globals, args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("kill", false)
	all := fs.BoolP("all", "a", false, "send the signal to every process of the container")
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 1, 2); err != nil {
		return err
	}
	sig := unix.SIGTERM
	if fs.NArg() == 2 {
		var err error
		if sig, err = parseSignal(fs.Arg(1)); err != nil {
			return err
		}
	}
	st, err := g.load(fs.Arg(0))
	if err != nil {
		return err
	}
	return g.kill(st, sig, *all)
}

// kill is runc's Signal: to every process of the cgroup, or to the init
// while it runs (never to a pid the init no longer owns).
func (g *globals) kill(st *State, sig unix.Signal, all bool) error {
	if all {
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

func cmdDelete(g *globals, args []string, stdio cli.IO) error {
	var force bool
	id, err := oneID("delete", args, stdio, func(fs *pflagSet) {
		fs.BoolVarP(&force, "force", "f", false, "kill the container if it still runs")
	})
	if err != nil || id == "" {
		return err
	}
	st, err := g.load(id)
	if err != nil {
		if force && errors.Is(err, ErrNotExist) {
			return nil
		}
		return err
	}
	switch st.Status {
	case Stopped:
	case Created:
		return g.killAndDestroy(st)
	default:
		if !force {
			return fmt.Errorf("cannot delete container %s that is not stopped: %s", id, st.Status)
		}
		return g.killAndDestroy(st)
	}
	return g.destroy(st)
}

// killAndDestroy kills the init and waits (up to a second) for it to die.
func (g *globals) killAndDestroy(st *State) error {
	if err := g.kill(st, unix.SIGKILL, false); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	for i := 0; i < 100 && alive(st); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if alive(st) {
		return errors.New("container init still running")
	}
	return g.destroy(st)
}

// destroy removes what create made: the cgroup (after killing what is
// left in it) and the state directory. The mounts went with the mount
// namespace.
func (g *globals) destroy(st *State) error {
	if st.Cgroup != nil {
		if err := st.Cgroup.Remove(); err != nil {
			return err
		}
	}
	if st.Hooks != nil && len(st.Hooks.Poststop) > 0 {
		// A failing poststop hook is a warning: the container goes.
		st.Status = Stopped
		if err := runHooks("poststop", st.Hooks.Poststop, st.Public); err != nil {
			g.logf("warning", "%v", err)
		}
	}
	return os.RemoveAll(g.dir(st.ID))
}

func cmdPs(g *globals, args []string, stdio cli.IO) error {
	var format string
	id, err := oneID("ps", args, stdio, func(fs *pflagSet) {
		fs.StringVarP(&format, "format", "f", "table", "table or json")
	})
	if err != nil || id == "" {
		return err
	}
	st, err := g.load(id)
	if err != nil {
		return err
	}
	pids := []int{}
	if st.Cgroup != nil && st.Cgroup.Exists() {
		if pids, err = st.Cgroup.Procs(); err != nil {
			return err
		}
	}
	switch format {
	case "json":
		b, _ := json.Marshal(pids)
		fmt.Fprintf(stdio.Stdout, "%s\n", b)
	case "table":
		fmt.Fprintln(stdio.Stdout, "PID")
		for _, p := range pids {
			fmt.Fprintln(stdio.Stdout, p)
		}
	default:
		return cli.Usagef("invalid format option: %s", format)
	}
	return nil
}

// cmdUpdate changes the resources of a container's cgroup, as runc
// update does for containerd's shim (Kubernetes' in-place resizes).
func cmdUpdate(g *globals, args []string, stdio cli.IO) error {
	var file string
	var memory, pids int64
	id, err := oneID("update", args, stdio, func(fs *pflagSet) {
		fs.StringVarP(&file, "resources", "r", "", "linux.resources as JSON in `FILE` (- for stdin)")
		fs.Int64Var(&memory, "memory", 0, "memory limit in bytes")
		fs.Int64Var(&pids, "pids-limit", 0, "maximum number of processes")
	})
	if err != nil || id == "" {
		return err
	}
	st, err := g.load(id)
	if err != nil {
		return err
	}
	if st.Status == Stopped {
		return ErrNotRunning
	}
	var r specs.LinuxResources
	switch file {
	case "":
	case "-":
		if err := json.NewDecoder(stdio.Stdin).Decode(&r); err != nil {
			return fmt.Errorf("resources from stdin: %w", err)
		}
	default:
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	if memory != 0 {
		r.Memory = &specs.LinuxMemory{Limit: &memory}
	}
	if pids != 0 {
		r.Pids = &specs.LinuxPids{Limit: &pids}
	}
	if st.Cgroup == nil {
		return errors.New("the container has no cgroup")
	}
	return st.Cgroup.Apply(&r)
}

func cmdPause(g *globals, args []string, stdio cli.IO) error {
	return g.freeze("pause", args, stdio, true)
}

func cmdResume(g *globals, args []string, stdio cli.IO) error {
	return g.freeze("resume", args, stdio, false)
}

func (g *globals) freeze(name string, args []string, stdio cli.IO, on bool) error {
	id, err := oneID(name, args, stdio, nil)
	if err != nil || id == "" {
		return err
	}
	st, err := g.load(id)
	if err != nil {
		return err
	}
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

func cmdList(g *globals, args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("list", false)
	format := fs.StringP("format", "f", "table", "table or json")
	quiet := fs.BoolP("quiet", "q", false, "print the IDs only")
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 0, 0); err != nil {
		return err
	}
	ents, err := os.ReadDir(g.root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	list := []Public{}
	for _, e := range ents {
		if st, err := g.load(e.Name()); err == nil {
			list = append(list, st.Public)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	switch {
	case *quiet:
		for _, s := range list {
			fmt.Fprintln(stdio.Stdout, s.ID)
		}
	case *format == "json":
		b, _ := json.Marshal(list)
		fmt.Fprintf(stdio.Stdout, "%s\n", b)
	case *format == "table":
		w := tabwriter.NewWriter(stdio.Stdout, 12, 1, 3, ' ', 0)
		fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
		for _, s := range list {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
		}
		return w.Flush()
	default:
		return cli.Usagef("invalid format option: %s", *format)
	}
	return nil
}

func cmdRun(g *globals, args []string, stdio cli.IO) error {
	var o createOpts
	fs := createFlags("run", &o)
	fs.BoolVarP(&o.detach, "detach", "d", false, "do not wait for the container")
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 1, 1); err != nil {
		return err
	}
	// In the foreground without a console socket, a terminal of the
	// container is joined to ours.
	var term *terminal
	if !o.detach && o.consoleSocket == "" {
		if spec, err := loadSpec(o.bundle); err == nil && spec.Process.Terminal {
			if term, err = newTerminal(); err != nil {
				return err
			}
			o.console = term.theirs
		}
	}
	st, err := g.create(&o, fs.Arg(0), stdio)
	if err != nil {
		return err
	}
	if o.detach {
		return g.start(st)
	}
	if term != nil {
		if err := term.attach(stdFile(stdio.Stdin, os.Stdin), stdFile(stdio.Stdout, os.Stdout)); err != nil {
			g.killAndDestroy(st)
			return err
		}
		defer term.close()
	}
	// The init is our child: wait for it, pass signals on, delete the
	// container and pass its status on.
	sigs := chain.Catch()
	defer sigs.Stop()
	sigs.To(func(s os.Signal) error { return unix.Kill(st.Pid, s.(syscall.Signal)) })
	if err := g.start(st); err != nil {
		g.killAndDestroy(st)
		return err
	}
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(st.Pid, &ws, 0, nil)
		if err != unix.EINTR {
			break
		}
	}
	if err := g.destroy(st); err != nil {
		return err
	}
	return cli.Status(chain.ExitStatus(syscall.WaitStatus(ws)))
}

// features prints what this runtime supports, in the format of runc's
// `features` (runtime-spec features.md).
func cmdFeatures(g *globals, args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("features", false)
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 0, 0); err != nil {
		return err
	}
	opts := []string{}
	for o := range mountFlags {
		opts = append(opts, o)
	}
	for o := range propagation {
		opts = append(opts, o)
	}
	sort.Strings(opts)
	f := map[string]any{
		"ociVersionMin": "1.0.0",
		"ociVersionMax": specVersion,
		"hooks":         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		"mountOptions":  opts,
		"linux": map[string]any{
			"namespaces":   []string{"cgroup", "ipc", "mount", "network", "pid", "user", "uts"},
			"capabilities": capNames(),
			"cgroup":       map[string]any{"v1": true, "v2": true, "systemd": false, "systemdUser": false},
			"seccomp": map[string]any{
				"enabled":   true,
				"actions":   seccompActions(),
				"operators": seccompOperators(),
			},
			// runtime-spec: whether the runtime supports them, not the host (lsm.go).
			"apparmor": map[string]any{"enabled": true},
			"selinux":  map[string]any{"enabled": true},
		},
		"annotations": map[string]string{"org.opencontainers.runc.version": "1.1.5", "io.github.tupperware.runtime": "tw-runc"},
	}
	b, err := json.MarshalIndent(f, "", "    ")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Stdout, "%s\n", b)
	return nil
}
