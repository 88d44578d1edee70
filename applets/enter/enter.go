// Package enter is tw-enter: run a program inside a running container, as
// util-linux nsenter --all --target PID does, found by its name.
package enter

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cgroup"
	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
	"github.com/tupperware/tw/applets/internal/running"
)

var Applet = cli.Applet{Name: "enter", Summary: "run a program inside a running container (nsenter)", Main: Main}

const usage = `Usage: tw-enter [--harden] [--no-cgroup] TARGET [PROG [ARGS…]]

Run PROG (default /bin/sh) inside a running container, as
'nsenter --all --target PID' does: in its cgroup and its pid, mount, UTS,
IPC, network and cgroup namespaces, so that PROG sees the container's root,
its /proc and its hostname; the working directory is /. TARGET is the
container's name (the --hostname given to tw-unshare, which
scripts/tupperware.sh --name sets; see tw-ps) or a PID: of the container's
first process, of the tw process that started it, or of any process.

PROG is a child of tw-enter, which waits for it, forwards SIGINT, SIGTERM,
SIGHUP and SIGQUIT and exits with its status (128+N for signal N). PROG
inherits no descriptor but 0, 1 and 2, and none of tw's environment.

With --harden PROG gets what tw-harden (or another runtime) gave the
container, read back from its first process: the bounding, effective and
permitted capabilities, the user and groups, the resource limits,
no_new_privs and its seccomp filters, the same BPF programs in the same
order (read with ptrace(PTRACE_SECCOMP_GET_FILTER), which stops that
process for a moment; the filters' flags, such as SECCOMP_FILTER_FLAG_LOG,
are not kept). A filter that cannot be read (no CAP_SYS_PTRACE over the
process, a kernel without CONFIG_CHECKPOINT_RESTORE) is an error, not
replaced by another. Without --harden PROG keeps tw-enter's own
privileges, as with nsenter. --no-cgroup leaves PROG in tw-enter's
cgroups.
`

// EnvChild tells the process tw-enter starts in the container's pid
// namespace which process to join: "PID".
const EnvChild = "TW_ENTER_CHILD"

type options struct {
	harden, noCgroup bool
}

// Main runs tw-enter.
func Main(args []string, stdio cli.IO) error {
	var o options
	fs := cli.NewFlagSet("tw-enter", false)
	fs.BoolVar(&o.harden, "harden", false, "give PROG the container's capabilities, user, limits, no_new_privs and seccomp")
	fs.BoolVar(&o.noCgroup, "no-cgroup", false, "do not join the container's cgroups")
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 1, -1); err != nil {
		return err
	}
	argv := chain.Argv(fs.Args()[1:])
	if v := os.Getenv(EnvChild); v != "" {
		os.Unsetenv(EnvChild)
		filters := os.Getenv(EnvFilters)
		os.Unsetenv(EnvFilters)
		pid, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%s=%s: not a PID", EnvChild, v)
		}
		return o.child(pid, filters, argv, stdio)
	}
	list, err := running.Scan()
	if err != nil {
		return fmt.Errorf("read /proc: %w", err)
	}
	c, err := running.Find(list, fs.Arg(0))
	if err != nil {
		return err
	}
	env := []string{EnvChild + "=" + strconv.Itoa(c.Pid)}
	// ptrace and wait must come from one thread, the one that forks
	runtime.LockOSThread()
	if o.harden {
		h, err := readHardening(c.Pid)
		if err != nil {
			return fmt.Errorf("read the hardening of %d: %w", c.Pid, err)
		}
		if h.seccomp {
			filters, err := readFilters(c.Pid)
			if err != nil {
				return fmt.Errorf("read the seccomp filter of %d: %w", c.Pid, err)
			}
			env = append(env, EnvFilters+"="+encodeFilters(filters))
		}
	}
	return parent(c.Pid, args, env, o.harden, argv[0], stdio)
}

// parent starts this binary again as a child in the pid namespace of pid
// and waits for it: a pid namespace is entered only by a new process.
// With harden the child executes PROG through the sealed trampoline
// (chain.ExecSealed), which reports a failed execve of PROG to a pipe
// that is the child's descriptor 3; parent reports it as prog's.
func parent(pid int, args, env []string, harden bool, prog string, stdio cli.IO) error {
	// The container must not reach this process through /proc/PID/exe.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	// setns(CLONE_NEWPID) changes the namespace of this thread's
	// children: the thread forks the child and is never unlocked.
	runtime.LockOSThread()
	if ns.Differs(pid, "pid") {
		if err := ns.Enter(fmt.Sprintf("/proc/%d/ns/pid", pid), unix.CLONE_NEWPID); err != nil {
			return err
		}
	}
	cmd := &exec.Cmd{
		Path:   "/proc/self/exe",
		Args:   append([]string{"tw-enter"}, args...),
		Env:    append(os.Environ(), env...),
		Stdin:  stdio.Stdin,
		Stdout: stdio.Stdout,
		Stderr: stdio.Stderr,
	}
	var report *os.File
	if harden {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		defer r.Close()
		report, cmd.ExtraFiles = r, []*os.File{w}
	}
	sigs := chain.Catch()
	defer sigs.Stop()
	err := cmd.Start()
	if report != nil {
		cmd.ExtraFiles[0].Close()
	}
	if err != nil {
		return fmt.Errorf("start in the container's pid namespace: %w", err)
	}
	sigs.To(cmd.Process.Pid)
	err = cmd.Wait()
	if report != nil {
		if err := execError(report, prog); err != nil {
			return err
		}
	}
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		return cli.Status(chain.ExitStatus(xe.Sys().(syscall.WaitStatus)))
	}
	return err
}

// child runs in the container's pid namespace but still sees the host's
// /proc: it reads what it needs of pid, joins its cgroups and namespaces,
// the mount namespace last, takes its hardening and executes PROG.
func (o *options) child(pid int, filters string, argv []string, stdio cli.IO) error {
	// Go's fork cannot ask for this: its check that the parent lives
	// compares getppid(), 0 in another pid namespace, and kills the child.
	unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	runtime.LockOSThread()
	var h *hardening
	if o.harden {
		var err error
		if h, err = readHardening(pid); err != nil {
			return fmt.Errorf("read the hardening of %d: %w", pid, err)
		}
		if h.filters, err = decodeFilters(filters); err != nil {
			return err
		}
	}
	if !o.noCgroup {
		if err := joinCgroups(pid); err != nil {
			return err
		}
	}
	if err := ns.Join(pid); err != nil {
		return err
	}
	if err := unix.Chdir("/"); err != nil {
		return &os.PathError{Op: "chdir", Path: "/", Err: err}
	}
	if h != nil {
		if err := h.apply(); err != nil {
			return err
		}
		return chain.ExecSealed(argv, stdio, true)
	}
	return chain.Exec(argv, stdio)
}

// joinCgroups moves this process into pid's cgroup in every hierarchy
// where it is in another one.
func joinCgroups(pid int) error {
	mounts, self, err := cgroup.Self()
	if err != nil {
		return err
	}
	theirs, err := running.Cgroups(pid)
	if err != nil {
		return err
	}
	var dirs []string
	for _, m := range mounts {
		key, ok := hierarchy(m, theirs)
		if !ok || theirs[key] == self[key] {
			continue
		}
		dirs = append(dirs, m.Dir(theirs[key]))
	}
	return cgroup.Join(dirs)
}

// hierarchy is the key of /proc/PID/cgroup that names the cgroup in the
// hierarchy mounted at m: "" for v2, else one of its controllers.
func hierarchy(m cgroup.Mount, g map[string]string) (string, bool) {
	if m.V2 {
		_, ok := g[""]
		return "", ok
	}
	for _, o := range m.Opts {
		if _, ok := g[o]; ok {
			return o, true
		}
	}
	return "", false
}
