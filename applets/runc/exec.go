package runc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/engine"
)

type execOpts struct {
	engine.ExecOpts
	detach             bool
	process, cwd, user string
	env, caps          []string
	tty, noNewPrivs    bool
	ignorePaused       bool
}

// cmdExec runs another process in a container (engine.Exec) and, unless
// --detach, waits for it and passes its status on.
func cmdExec(g *globals, args []string, stdio cli.IO) error {
	var o execOpts
	fs := cli.NewFlagSet("exec", false)
	fs.StringVarP(&o.process, "process", "p", "", "the process, as config.json's process, in `FILE`")
	fs.BoolVarP(&o.detach, "detach", "d", false, "do not wait for the process")
	fs.StringVar(&o.PidFile, "pid-file", "", "write the process's pid to `FILE`")
	fs.StringVar(&o.ConsoleSocket, "console-socket", "", "send the terminal's master over the unix socket `PATH`")
	fs.BoolVarP(&o.tty, "tty", "t", false, "give the process a terminal")
	fs.StringVar(&o.cwd, "cwd", "", "the working directory")
	fs.StringArrayVarP(&o.env, "env", "e", nil, "set an environment variable K=V")
	fs.StringVarP(&o.user, "user", "u", "", "run as `UID[:GID]`")
	fs.StringArrayVarP(&o.caps, "cap", "c", nil, "add a capability")
	fs.BoolVar(&o.noNewPrivs, "no-new-privs", false, "set no_new_privs")
	fs.IntVar(&o.PreserveFds, "preserve-fds", 0, "pass `N` descriptors from 3 on to the process")
	fs.BoolVar(&o.ignorePaused, "ignore-paused", false, "exec although the container is paused")
	fs.String("process-label", "", "the SELinux `LABEL` of the process")
	fs.String("apparmor", "", "the AppArmor `PROFILE` of the process")
	fs.String("cgroup", "", "accepted for runc compatibility")
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 1, -1); err != nil {
		return err
	}
	st, err := g.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	switch st.Status {
	case engine.Stopped:
		return errors.New("cannot exec in a stopped container")
	case engine.Paused:
		if !o.ignorePaused {
			return errors.New("cannot exec in a paused container")
		}
	}
	proc, err := o.processSpec(st, fs.Args()[1:])
	if err != nil {
		return err
	}
	if o.process == "" {
		// --apparmor and --process-label, which runc ignores with --process.
		if v, _ := fs.GetString("apparmor"); v != "" {
			proc.ApparmorProfile = v
		}
		if v, _ := fs.GetString("process-label"); v != "" {
			proc.SelinuxLabel = v
		}
	}
	p, err := g.Exec(st, proc, &o.ExecOpts, stdio)
	if err != nil {
		return err
	}
	if o.detach {
		p.Release()
		return nil
	}
	sigs := chain.Catch()
	defer sigs.Stop()
	sigs.To(p.Pid)
	ps, err := p.Wait()
	if err != nil {
		return err
	}
	return cli.Status(chain.ExitStatus(ps.Sys().(syscall.WaitStatus)))
}

// processSpec is the process to execute: --process FILE, or the
// container's process with the arguments and options of the command line.
func (o *execOpts) processSpec(st *engine.State, argv []string) (*specs.Process, error) {
	if o.process != "" {
		b, err := os.ReadFile(o.process)
		if err != nil {
			return nil, err
		}
		var p specs.Process
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("%s: %w", o.process, err)
		}
		if len(p.Args) == 0 {
			return nil, fmt.Errorf("%s: args is empty", o.process)
		}
		if p.Cwd == "" {
			p.Cwd = "/"
		}
		return &p, nil
	}
	if len(argv) == 0 {
		return nil, cli.Usagef("no program to execute")
	}
	if st.Process == nil {
		return nil, errors.New("the container's process is unknown")
	}
	p := *st.Process
	p.Args = argv
	p.Terminal = o.tty
	p.ConsoleSize = nil
	p.Env = append(append([]string{}, p.Env...), o.env...)
	if o.cwd != "" {
		p.Cwd = o.cwd
	}
	if o.noNewPrivs {
		p.NoNewPrivileges = true
	}
	if o.user != "" {
		u, g, _ := strings.Cut(o.user, ":")
		uid, err := strconv.ParseUint(u, 10, 32)
		if err != nil {
			return nil, cli.Usagef("--user %s: not a numeric uid", o.user)
		}
		p.User = specs.User{UID: uint32(uid)}
		if g != "" {
			gid, err := strconv.ParseUint(g, 10, 32)
			if err != nil {
				return nil, cli.Usagef("--user %s: not a numeric gid", o.user)
			}
			p.User.GID = uint32(gid)
		}
	}
	if len(o.caps) > 0 && p.Capabilities != nil {
		c := *p.Capabilities
		c.Bounding = append(append([]string{}, c.Bounding...), o.caps...)
		c.Effective = append(append([]string{}, c.Effective...), o.caps...)
		c.Permitted = append(append([]string{}, c.Permitted...), o.caps...)
		p.Capabilities = &c
	}
	return &p, nil
}

// parseSignal reads SIGTERM, TERM, term or 15.
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal: %s", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal: %s", s)
}
