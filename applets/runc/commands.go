package runc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/engine"
)

// oneID parses a command that takes flags and exactly one ID.
func oneID(name string, args []string, stdio cli.IO, def func(*pflag.FlagSet)) (string, error) {
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

// oneContainer parses a command that takes flags and exactly one ID, and
// loads that container's state; nil without an error after --help.
func (g *globals) oneContainer(name string, args []string, stdio cli.IO, def func(*pflag.FlagSet)) (*engine.State, error) {
	id, err := oneID(name, args, stdio, def)
	if err != nil || id == "" {
		return nil, err
	}
	return g.Load(id)
}

// start lets the init of a created container through its gate.
func cmdStart(g *globals, args []string, stdio cli.IO) error {
	st, err := g.oneContainer("start", args, stdio, nil)
	if err != nil || st == nil {
		return err
	}
	return g.Start(st)
}

func cmdState(g *globals, args []string, stdio cli.IO) error {
	st, err := g.oneContainer("state", args, stdio, nil)
	if err != nil || st == nil {
		return err
	}
	if st.Status == engine.Stopped {
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
	st, err := g.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	return g.Kill(st, sig, *all)
}

func cmdDelete(g *globals, args []string, stdio cli.IO) error {
	var force bool
	id, err := oneID("delete", args, stdio, func(fs *pflag.FlagSet) {
		fs.BoolVarP(&force, "force", "f", false, "kill the container if it still runs")
	})
	if err != nil || id == "" {
		return err
	}
	st, err := g.Load(id)
	if err != nil {
		if force && errors.Is(err, engine.ErrNotExist) {
			return nil
		}
		return err
	}
	return g.Delete(st, force)
}

func cmdPs(g *globals, args []string, stdio cli.IO) error {
	var format string
	st, err := g.oneContainer("ps", args, stdio, func(fs *pflag.FlagSet) {
		fs.StringVarP(&format, "format", "f", "table", "table or json")
	})
	if err != nil || st == nil {
		return err
	}
	pids, err := st.Processes()
	if err != nil {
		return err
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
	st, err := g.oneContainer("update", args, stdio, func(fs *pflag.FlagSet) {
		fs.StringVarP(&file, "resources", "r", "", "linux.resources as JSON in `FILE` (- for stdin)")
		fs.Int64Var(&memory, "memory", 0, "memory limit in bytes")
		fs.Int64Var(&pids, "pids-limit", 0, "maximum number of processes")
	})
	if err != nil || st == nil {
		return err
	}
	if st.Status == engine.Stopped {
		return engine.ErrNotRunning
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
	return st.Update(&r)
}

func cmdPause(g *globals, args []string, stdio cli.IO) error {
	return g.freeze("pause", args, stdio, true)
}

func cmdResume(g *globals, args []string, stdio cli.IO) error {
	return g.freeze("resume", args, stdio, false)
}

func (g *globals) freeze(name string, args []string, stdio cli.IO, on bool) error {
	st, err := g.oneContainer(name, args, stdio, nil)
	if err != nil || st == nil {
		return err
	}
	return st.Freeze(on)
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
	list, err := g.List()
	if err != nil {
		return err
	}
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

// createOpts are the options of create and run.
type createOpts struct {
	engine.CreateOpts
	detach bool // run only
}

func createFlags(name string, o *createOpts) *pflag.FlagSet {
	fs := cli.NewFlagSet(name, false)
	fs.StringVarP(&o.Bundle, "bundle", "b", ".", "the bundle `DIR` (config.json and the root)")
	fs.StringVar(&o.PidFile, "pid-file", "", "write the init's pid to `FILE`")
	fs.StringVar(&o.ConsoleSocket, "console-socket", "", "send the terminal's master over the unix socket `PATH`")
	fs.IntVar(&o.PreserveFds, "preserve-fds", 0, "pass `N` descriptors from 3 on to the container")
	fs.Bool("no-pivot", false, "accepted for runc compatibility (tw always pivots)")
	fs.Bool("no-new-keyring", false, "accepted for runc compatibility")
	return fs
}

func cmdCreate(g *globals, args []string, stdio cli.IO) error {
	var o createOpts
	fs := createFlags("create", &o)
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 1, 1); err != nil {
		return err
	}
	_, err := g.Create(fs.Arg(0), &o.CreateOpts, stdio)
	return err
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
	// In the foreground, signals are caught from here on, as runc catches
	// them: none is lost while the container is made (where os/signal
	// catches, its thread starts meanwhile, not between create and start).
	var caught *chain.Catching
	if !o.detach {
		caught = chain.CatchSoon()
		defer func() {
			if caught != nil {
				caught.Forwarder().Stop()
			}
		}()
	}
	// In the foreground without a console socket, a terminal of the
	// container is joined to ours.
	var term *terminal
	if !o.detach && o.ConsoleSocket == "" {
		if spec, err := engine.LoadSpec(o.Bundle); err == nil {
			o.Spec = spec // read once
			if spec.Process.Terminal {
				if term, err = newTerminal(); err != nil {
					return err
				}
				o.Console = term.theirs
			}
		}
	}
	st, err := g.Create(fs.Arg(0), &o.CreateOpts, stdio)
	if err != nil {
		return err
	}
	if o.detach {
		return g.Start(st)
	}
	if term != nil {
		if err := term.attach(cli.StdFile(stdio.Stdin, os.Stdin), cli.StdFile(stdio.Stdout, os.Stdout)); err != nil {
			g.Delete(st, true)
			return err
		}
		defer term.close()
	}
	// The init is our child: wait for it, pass signals on, delete the
	// container and pass its status on.
	sigs := caught.Forwarder()
	caught = nil
	defer sigs.Stop()
	sigs.To(st.Pid)
	if err := g.Start(st); err != nil {
		g.Delete(st, true)
		return err
	}
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(st.Pid, &ws, 0, nil)
		if err != unix.EINTR {
			break
		}
	}
	if err := g.Destroy(st); err != nil {
		return err
	}
	return cli.Status(chain.ExitStatus(syscall.WaitStatus(ws)))
}

// cmdInit is the container's init (engine.Init), started by create and
// exec; internal.
func cmdInit(g *globals, args []string, stdio cli.IO) error {
	return engine.Init(stdio)
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
	b, err := json.MarshalIndent(engine.Features(), "", "    ")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Stdout, "%s\n", b)
	return nil
}
