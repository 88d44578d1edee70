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

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

type execOpts struct {
	createOpts
	process, cwd, user string
	env, caps          []string
	tty, noNewPrivs    bool
	ignorePaused       bool
}

// cmdExec runs another process in a container: this binary again, in the
// container's pid namespace, joins its other namespaces and its cgroup,
// takes the process's identity and executes the program.
func cmdExec(g *globals, args []string, stdio cli.IO) error {
	var o execOpts
	fs := cli.NewFlagSet("exec", false)
	fs.StringVarP(&o.process, "process", "p", "", "the process, as config.json's process, in `FILE`")
	fs.BoolVarP(&o.detach, "detach", "d", false, "do not wait for the process")
	fs.StringVar(&o.pidFile, "pid-file", "", "write the process's pid to `FILE`")
	fs.StringVar(&o.consoleSocket, "console-socket", "", "send the terminal's master over the unix socket `PATH`")
	fs.BoolVarP(&o.tty, "tty", "t", false, "give the process a terminal")
	fs.StringVar(&o.cwd, "cwd", "", "the working directory")
	fs.StringArrayVarP(&o.env, "env", "e", nil, "set an environment variable K=V")
	fs.StringVarP(&o.user, "user", "u", "", "run as `UID[:GID]`")
	fs.StringArrayVarP(&o.caps, "cap", "c", nil, "add a capability")
	fs.BoolVar(&o.noNewPrivs, "no-new-privs", false, "set no_new_privs")
	fs.IntVar(&o.preserveFds, "preserve-fds", 0, "pass `N` descriptors from 3 on to the process")
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
	st, err := g.load(fs.Arg(0))
	if err != nil {
		return err
	}
	switch st.Status {
	case Stopped:
		return errors.New("cannot exec in a stopped container")
	case Paused:
		if !o.ignorePaused {
			return errors.New("cannot exec in a paused container")
		}
	}
	proc, err := o.processSpec(st, fs.Args()[1:])
	if err != nil {
		return err
	}
	if err := execLSM(fs, proc, o.process != ""); err != nil { // lsm.go
		return err
	}
	if proc.Terminal && o.consoleSocket == "" {
		return errors.New("cannot allocate tty if runc will detach without setting console socket")
	}
	// With a user namespace the init forks into it first (userns.go).
	userns := nsDiffers(st.Pid, "user")
	var console *os.File
	if proc.Terminal {
		if console, err = dialConsole(o.consoleSocket); err != nil {
			return err
		}
		defer console.Close()
	}
	spec := &specs.Spec{Version: st.OCIVersion, Process: proc, Linux: &specs.Linux{Seccomp: st.Seccomp}}
	joinPid := ""
	if nsDiffers(st.Pid, "pid") && !userns {
		joinPid = fmt.Sprintf("/proc/%d/ns/pid", st.Pid)
	}
	cmd, parent, err := startInit(spec, 0, joinPid, preserved(o.preserveFds), nil, console, stdio)
	if err != nil {
		return err
	}
	defer parent.Close()
	fail := func(err error) error {
		cmd.Process.Kill()
		cmd.Wait()
		return err
	}
	if st.Cgroup != nil {
		if err := st.Cgroup.Join(cmd.Process.Pid); err != nil {
			return fail(fmt.Errorf("join the container's cgroup: %w", err))
		}
	}
	p, err := execHandshake(cmd, parent, &initConfig{Spec: spec, Exec: true, Pid: st.Pid}, userns)
	if err != nil {
		return err
	}
	if o.pidFile != "" {
		if err := writeFileAtomic(o.pidFile, []byte(strconv.Itoa(p.Pid)), 0o644); err != nil {
			return err
		}
	}
	if o.detach {
		p.Release()
		return nil
	}
	sigs := chain.Catch()
	defer sigs.Stop()
	sigs.To(p.Signal)
	ps, err := p.Wait()
	if err != nil {
		return err
	}
	return cli.Status(chain.ExitStatus(ps.Sys().(syscall.WaitStatus)))
}

// processSpec is the process to execute: --process FILE, or the
// container's process with the arguments and options of the command line.
func (o *execOpts) processSpec(st *State, argv []string) (*specs.Process, error) {
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
		return &p, checkCaps(p.Capabilities)
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
	return &p, checkCaps(p.Capabilities)
}

// nsDiffers reports whether pid's namespace of kind is not this process's.
func nsDiffers(pid int, kind string) bool {
	theirs, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	ours, err2 := os.Readlink("/proc/self/ns/" + kind)
	return err1 == nil && err2 == nil && theirs != ours
}

// joinContainer is the exec side of the init: it enters the namespaces of
// the container's init (its pid namespace it was born in). The mount
// namespace comes last, as the others are found through /proc.
func (in *initProc) joinContainer() error {
	return ns.Join(in.cfg.Pid)
}
