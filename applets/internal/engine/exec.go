package engine

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

// ExecOpts are the options of Exec besides the process.
type ExecOpts struct {
	PidFile       string // where to write the process's pid, if not ""
	ConsoleSocket string // where to send the terminal's master (process.terminal)
	PreserveFds   int    // how many descriptors from 3 on the process gets
}

// Exec runs another process in container st: this binary again, in the
// container's pid namespace, joins its other namespaces and its cgroup,
// takes the process's identity and executes the program. It returns the
// process once the program runs; the caller waits for it or not.
func (r *Runtime) Exec(st *State, proc *specs.Process, o *ExecOpts, stdio cli.IO) (*os.Process, error) {
	if err := checkCaps(proc.Capabilities); err != nil {
		return nil, err
	}
	if err := checkLSM(proc, selinuxEnabled); err != nil { // lsm.go
		return nil, err
	}
	if os.Geteuid() != 0 && len(proc.User.AdditionalGids) > 0 {
		return nil, errors.New("cannot set any additional groups in a rootless container")
	}
	if proc.Terminal && o.ConsoleSocket == "" {
		return nil, errors.New("cannot allocate tty if runc will detach without setting console socket")
	}
	// With a user namespace the init forks into it first (userns.go).
	userns := ns.Differs(st.Pid, "user")
	var console *os.File
	if proc.Terminal {
		var err error
		if console, err = dialConsole(o.ConsoleSocket); err != nil {
			return nil, err
		}
		defer console.Close()
	}
	spec := &specs.Spec{Version: st.OCIVersion, Process: proc, Linux: &specs.Linux{Seccomp: st.Seccomp}}
	joinPid := ""
	if ns.Differs(st.Pid, "pid") && !userns {
		joinPid = fmt.Sprintf("/proc/%d/ns/pid", st.Pid)
	}
	cmd, parent, err := startInit(sealAsync(r.Root), spec, 0, joinPid, preserved(o.PreserveFds), nil, console, stdio)
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	if st.Cgroup != nil {
		if err := st.Cgroup.Join(cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("join the container's cgroup: %w", err)
		}
	}
	p, err := execHandshake(cmd, parent, &initConfig{Spec: spec, Exec: true, Pid: st.Pid, Rootless: os.Geteuid() != 0}, userns)
	if err != nil {
		return nil, err
	}
	if o.PidFile != "" {
		if err := writeFileAtomic(o.PidFile, []byte(strconv.Itoa(p.Pid)), 0o644); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// joinContainer is the exec side of the init: it enters the namespaces of
// the container's init (its pid namespace it was born in). The mount
// namespace comes last, as the others are found through /proc.
func (in *initProc) joinContainer() error {
	return ns.Join(in.cfg.Pid)
}
