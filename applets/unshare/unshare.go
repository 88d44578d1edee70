// Package unshare is tw-unshare: run a program in new namespaces, as
// util-linux unshare(1) does (walkthrough steps 1, 10 and 11).
package unshare

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/mount"
	"github.com/tupperware/tw/applets/internal/ns"
)

var Applet = cli.Applet{Name: "unshare", Summary: "run a program in new namespaces", Main: Main}

const usage = `Usage: tw-unshare [-muinpCf] [-Ur] [--map-auto] [--mount-proc[=DIR]] [--propagation MODE] [--hostname NAME] [--] [PROG [ARGS…]]

Run PROG (default /bin/sh) in new namespaces, as unshare(1) of util-linux
does. The program is started as a child (tw-unshare always forks, so --fork
is accepted but changes nothing); with --pid it is PID 1 of the new pid
namespace. tw-unshare waits for it, forwards SIGINT, SIGTERM, SIGHUP and
SIGQUIT to it and exits with its status (128+N for signal N). When
tw-unshare dies, the child is killed.

In a new mount namespace the propagation of every mount is made private
first (--propagation), then proc is mounted (--mount-proc) and the hostname
set (--hostname, needs --uts), then PROG is executed; a tw-* applet named as
PROG runs in the same process, so tw-pivot works although the new root has
no tw binary. When there is nothing to do inside but private propagation
and PROG is not a tw applet, PROG itself is the child (no tw start in
between). When the applets that follow are only tw-pivot, tw-mountproc
(after it), tw-mountsys, tw-mountdev and tw-harden (last), they run in
tw-unshare itself, on a thread that has entered the new namespaces, and
PROG is the child, forked from that thread: one tw start, as bubblewrap
has one. That child, inside the new pid namespace, mounts tw-mountproc's
proc and makes tw-harden's masks and takes away what tw-harden takes
(capabilities, rlimits, no_new_privs, seccomp last) before it executes
PROG. Any other applet runs in a child that starts tw again. PROG
inherits no descriptor but 0, 1 and 2.

Without root, the other namespaces need a new user namespace: add -U
(--user) with -r (--map-root-user: you are root inside, as yourself
outside) and, for more ids than your own, --map-auto (the ranges of
/etc/subuid and /etc/subgid from 0 up, written by newuidmap and newgidmap;
with -r your own id is 0 and the range fills 1 up). tw-unshare does not
add -U by itself, as unshare(1) does not: it says so when the kernel
refuses. The usual rootless chain, -U/-r/--map-auto with --mount and
--pid, then tw-net --lo, tw-mountproc --target DIR and (with --net or
tw-net --lo) tw-mountsys --target DIR (any number, in any order),
tw-pivot NEWROOT and a PROG that is no tw applet, starts tw once, as
bubblewrap starts once: its child makes the namespaces, writes its own
maps (as unshare -r does; with --map-auto it waits for newuidmap and
newgidmap), brings lo up, mounts the procs and sysfses, pivots and
executes PROG, with no start of tw in between; errors are reported as
the applets report them.

tw-unshare tells tw-pivot and tw-mountproc which namespaces it left (in the
environment variable TW_UNSHARE_LEFT, removed before PROG runs): they refuse
to act in the mount namespace of the host. It also holds, while PROG runs,
the file tw-pivot opens on the new root so that the host's filesystem
cannot be remounted read-only from inside (see tw-pivot --help). Without
--pid, processes that PROG leaves running in the background outlive it:
then tw-unshare (their subreaper) holds that file, and waits, until the
last of them has ended too; with --pid they end with PROG, as the kernel
kills a pid namespace with its PID 1.
`

type options struct {
	mount, uts, ipc, net, pid, cgroup, fork bool
	mountProc                               string
	propagation                             string
	hostname                                string
	user                                    userOptions
	caught                                  *chain.Catching // see Main
}

// catch catches signals (chain.Catch): what Main started, or now, nested.
func (o *options) catch() *chain.Forwarder {
	if o.caught != nil {
		return o.caught.Forwarder()
	}
	return chain.Catch()
}

func newOptions(fs *pflag.FlagSet) *options {
	o := &options{}
	fs.BoolVarP(&o.mount, "mount", "m", false, "new mount namespace")
	fs.BoolVarP(&o.uts, "uts", "u", false, "new UTS namespace (hostname)")
	fs.BoolVarP(&o.ipc, "ipc", "i", false, "new IPC namespace")
	fs.BoolVarP(&o.net, "net", "n", false, "new network namespace")
	fs.BoolVarP(&o.pid, "pid", "p", false, "new pid namespace: PROG is its PID 1")
	fs.BoolVarP(&o.cgroup, "cgroup", "C", false, "new cgroup namespace")
	fs.BoolVarP(&o.fork, "fork", "f", false, "fork before PROG (always done)")
	fs.StringVar(&o.mountProc, "mount-proc", "", "mount a fresh proc at `DIR` (default /proc); implies --mount")
	fs.Lookup("mount-proc").NoOptDefVal = "/proc"
	fs.StringVar(&o.propagation, "propagation", "private", "`MODE` of every mount in a new mount namespace: private, slave, shared or unchanged")
	fs.StringVar(&o.hostname, "hostname", "", "set the hostname of the new UTS namespace to `NAME` (needs --uts)")
	o.user.addFlags(fs)
	return o
}

// check completes and validates the options.
func (o *options) check() error {
	if o.mountProc != "" {
		o.mount = true
	}
	if _, ok := propagations[o.propagation]; !ok {
		return cli.Usagef("unsupported propagation mode: %s", o.propagation)
	}
	if o.hostname != "" && !o.uts {
		return cli.Usagef("--hostname needs --uts: it would rename the host")
	}
	return o.user.check(os.Geteuid(), os.Getegid(), os.Getenv(ns.EnvChild) != "")
}

var propagations = map[string]uintptr{
	"private":   unix.MS_REC | unix.MS_PRIVATE,
	"slave":     unix.MS_REC | unix.MS_SLAVE,
	"shared":    unix.MS_REC | unix.MS_SHARED,
	"unchanged": 0,
}

// cloneflags are the clone(2) flags that make the requested namespaces.
func (o *options) cloneflags() uintptr {
	var f uintptr
	for _, n := range []struct {
		on   bool
		flag uintptr
	}{
		{o.mount, unix.CLONE_NEWNS},
		{o.uts, unix.CLONE_NEWUTS},
		{o.ipc, unix.CLONE_NEWIPC},
		{o.net, unix.CLONE_NEWNET},
		{o.pid, unix.CLONE_NEWPID},
		{o.cgroup, unix.CLONE_NEWCGROUP},
		{o.user.user, unix.CLONE_NEWUSER},
	} {
		if n.on {
			f |= n.flag
		}
	}
	return f
}

// Main parses the options. In the process the user started it forks the
// child into the new namespaces and waits; in that child (marked by
// ns.EnvChild) it does the work left inside and executes PROG.
func Main(args []string, stdio cli.IO) error {
	// Every way on locks a thread, and the first runtime.LockOSThread
	// of a process starts the runtime's template thread (a clone, 0.2-0.3
	// ms on a virtual machine): here another thread starts it, while this
	// one parses the options, and the main thread's lock finds it there.
	//
	// Every way on but the child's also catches signals (chain.Catch)
	// before it forks. On amd64 CatchLater does at once (four
	// rt_sigaction); elsewhere os/signal's start is two threads more and
	// a round trip with one of them per signal (0.5-1 ms on a virtual
	// machine), which the main thread, locked, would wait for: that
	// thread starts it, meanwhile, and the ways on take it (catch).
	// Nested, the caller's process goes on after tw-unshare, which stops
	// catching: each way catches then.
	fs := cli.NewFlagSet("unshare", false)
	o := newOptions(fs)
	if !chain.Nested() && os.Getenv(ns.EnvChild) == "" {
		o.caught = chain.CatchLater()
	}
	go func(caught *chain.Catching) {
		runtime.LockOSThread()
		runtime.UnlockOSThread()
		if caught != nil {
			caught.Catch()
		}
	}(o.caught)
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	argv := chain.Self(chain.Argv(fs.Args()))
	if os.Getenv(ns.EnvChild) != "" {
		os.Unsetenv(ns.EnvChild)
		unix.CloseOnExec(3) // the pins' socket: for this process only
		if err := childUser(); err != nil {
			return err
		}
		return o.child(argv, stdio)
	}
	// Steps that an applet before this one left to the container's
	// first process (tw-limit's join of its cgroup) are made only by
	// thread mode's fork: refuse rather than start PROG without them.
	if chain.Pending() && !o.threaded(argv) {
		return errors.New("the steps of the applet before tw-unshare need its thread mode, which these options do not take")
	}
	// Thread mode also for a PROG that needs no tw inside (direct): its
	// raw fork took half the time of os/exec's with SysProcAttr (whose
	// child resets Go's signal handlers one by one before its execve):
	// 24 -> 12.7 ms for -muinpf /bin/true in one hyperfine run.
	if o.threaded(argv) {
		return o.thread(argv, stdio)
	}
	if p, ok := o.fast(argv); ok && stdStreams(stdio) {
		return o.runFast(p, stdio) // userns_fast.go
	}
	return o.parent(args, argv, stdio)
}

// direct reports whether the child can be PROG itself, with no tw in
// between (one Go start less): PROG is not a tw applet and nothing is left
// to do inside but private propagation, which Go does after
// SysProcAttr.Unshareflags' CLONE_NEWNS (mount "/" MS_REC|MS_PRIVATE).
func (o *options) direct(argv []string) bool {
	_, applet := cli.Lookup(argv[0])
	return !applet && o.hostname == "" && o.mountProc == "" && o.user.direct() &&
		(o.propagation == "private" || o.propagation == "unchanged" || !o.mount)
}

// directCommand is PROG at path, started straight into the new namespaces.
func (o *options) directCommand(path string, argv, env []string, stdio cli.IO) *exec.Cmd {
	attr := &syscall.SysProcAttr{Cloneflags: o.cloneflags(), Pdeathsig: syscall.SIGKILL}
	if o.mount && o.propagation == "private" {
		attr.Cloneflags &^= unix.CLONE_NEWNS
		attr.Unshareflags = unix.CLONE_NEWNS
	}
	o.user.apply(attr, false)
	return &exec.Cmd{
		Path:        path,
		Args:        argv,
		Env:         chain.Environ(env),
		Stdin:       stdio.Stdin,
		Stdout:      stdio.Stdout,
		Stderr:      stdio.Stderr,
		SysProcAttr: attr,
	}
}

// command is the child: this binary again, with the same arguments, in the
// new namespaces, told which ones it left and where to send pins (its
// descriptor 3, see ns.Pin).
func (o *options) command(args, env []string, left string, pins *os.File, stdio cli.IO) *exec.Cmd {
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       append([]string{"tw-unshare"}, args...),
		Env:        append(chain.Environ(env), ns.EnvLeft+"="+left, ns.EnvChild+"=1", ns.EnvPin+"=3"),
		ExtraFiles: []*os.File{pins},
		Stdin:      stdio.Stdin,
		Stdout:     stdio.Stdout,
		Stderr:     stdio.Stderr,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: o.cloneflags(),
			Pdeathsig:  syscall.SIGKILL,
		},
	}
	o.user.apply(cmd.SysProcAttr, true)
	return cmd
}

// newChild is the process to start: PROG itself when direct, else this
// binary again, with the pins it will send (nil when direct).
func (o *options) newChild(args, argv []string, stdio cli.IO) (cmd *exec.Cmd, pins *ns.Pins, err error) {
	if !o.direct(argv) {
		left, err := ns.Record("mnt", "pid", "uts")
		if err != nil {
			return nil, nil, fmt.Errorf("record namespaces: %w", err)
		}
		pins, end, err := ns.NewPins()
		if err != nil {
			return nil, nil, err
		}
		cmd := o.command(args, os.Environ(), left, end, stdio)
		if err := o.user.prepare(cmd); err != nil {
			return nil, nil, err
		}
		return cmd, pins, nil
	}
	path, err := chain.LookPath(argv[0], os.Getenv("PATH"))
	if err != nil {
		return nil, nil, cli.Exit(chain.ExitCode(err), err)
	}
	// What is open here must not reach PROG either.
	if err := chain.CloseExtraFiles(); err != nil {
		return nil, nil, err
	}
	return o.directCommand(path, argv, os.Environ(), stdio), nil, nil
}

func (o *options) parent(args, argv []string, stdio cli.IO) error {
	cmd, pins, err := o.newChild(args, argv, stdio)
	if err != nil {
		return err
	}
	direct := pins == nil
	// The container must not reach this process through /proc/PID/exe.
	// (In a new user namespace only once the child is started: the child
	// inherits it until its execve, and its uid_map would be root's.)
	if !o.user.user {
		unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	}
	// Without --pid nothing ends the processes PROG leaves running in the
	// background: as a child subreaper, tw-unshare gets them when PROG
	// ends, and holds the pin until the last of them is gone.
	reaper := !direct && !o.pid
	if reaper {
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	}
	// (Before the lock: a locked thread that waits hands its processor
	// on.)
	sigs := o.catch()
	defer sigs.Stop()
	// Pdeathsig follows the thread that forked the child: keep it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, err := start(cmd)
	if err != nil {
		o.user.mapChild(0, false)
		if direct {
			return hint(startError(err, argv[0]), &o.user, os.Geteuid())
		}
		return hint(fmt.Errorf("new namespaces: %w", err), &o.user, os.Geteuid())
	}
	if o.user.user {
		unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	}
	if err := o.user.mapChild(pid, true); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, 0, nil)
		return err
	}
	if pins != nil {
		cmd.ExtraFiles[0].Close()
		pins.Receive()
		defer pins.Release()
	}
	sigs.To(pid)
	ws, err := wait(pid, sigs)
	if err != nil {
		return err
	}
	if reaper && pins.Stop() > 0 {
		reap(sigs)
	}
	return cli.Status(chain.ExitStatus(ws))
}

// start starts cmd as cmd.Start would, but without os/exec: os.StartProcess
// first probes pidfd support with a throwaway clone, one process more on
// every container start.
func start(cmd *exec.Cmd) (int, error) {
	files := []uintptr{fdOf(cmd.Stdin, 0), fdOf(cmd.Stdout, 1), fdOf(cmd.Stderr, 2)}
	for _, f := range cmd.ExtraFiles {
		files = append(files, f.Fd())
	}
	pid, err := syscall.ForkExec(cmd.Path, cmd.Args, &syscall.ProcAttr{Env: cmd.Env, Files: files, Sys: cmd.SysProcAttr})
	if err != nil {
		return 0, &os.PathError{Op: "fork/exec", Path: cmd.Path, Err: err}
	}
	return pid, nil
}

// fdOf is the descriptor of x when it is a file, else def.
func fdOf(x any, def uintptr) uintptr {
	if f, ok := x.(*os.File); ok && f != nil {
		return f.Fd()
	}
	return def
}

// wait waits for pid to end and reaps it. The signals caught from its end
// on are kept (sigs.To(0)) before it is reaped (while pid cannot be
// reused), so that no signal goes to a stranger.
func wait(pid int, sigs *chain.Forwarder) (syscall.WaitStatus, error) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return 0, fmt.Errorf("wait: %w", err)
		}
	}
	sigs.To(0)
	return chain.Wait(pid)
}

// children lists this process's children (of each of its threads).
func children() []int {
	tasks, _ := os.ReadDir("/proc/self/task")
	var pids []int
	for _, t := range tasks {
		b, _ := os.ReadFile("/proc/self/task/" + t.Name() + "/children")
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// reap waits until no child is left, passing the signals caught on to
// every child left (what PROG left behind came to this process, its
// subreaper).
func reap(sigs *chain.Forwarder) {
	sigs.ToEach(children)
	for {
		_, err := syscall.Wait4(-1, nil, 0, nil)
		if err != nil && err != syscall.EINTR {
			return
		}
	}
}

// startError names what failed when PROG, started directly, could not
// start: PROG, with exit 126 or 127 as chain.Exec gives, when execve
// refused it, else the new namespaces.
func startError(err error, prog string) error {
	for _, errno := range []unix.Errno{unix.ENOENT, unix.EACCES, unix.ENOEXEC, unix.ETXTBSY, unix.EISDIR, unix.ELOOP} {
		if errors.Is(err, errno) {
			err = &os.PathError{Op: "exec", Path: prog, Err: errno}
			return cli.Exit(chain.ExitCode(err), err)
		}
	}
	return fmt.Errorf("new namespaces: %w", err)
}

// child runs inside the new namespaces: propagation, proc, hostname, then
// PROG. Each step is guarded: it acts only where tw-unshare made a new
// namespace, whatever the environment claims.
func (o *options) child(argv []string, stdio cli.IO) error {
	if o.mount {
		if err := ns.CheckMountNS(false); err != nil {
			return err
		}
		if flags := propagations[o.propagation]; flags != 0 {
			if err := unix.Mount("none", "/", "", flags, ""); err != nil {
				return &os.PathError{Op: "make mounts " + o.propagation, Path: "/", Err: err}
			}
		}
		if o.mountProc != "" {
			if err := mountProc(o.mountProc, o.propagation); err != nil {
				return err
			}
		}
	}
	if o.hostname != "" {
		if err := ns.CheckUTSNS(); err != nil {
			return err
		}
		if err := unix.Sethostname([]byte(o.hostname)); err != nil {
			return fmt.Errorf("sethostname %s: %w", o.hostname, err)
		}
	}
	return chain.Exec(argv, stdio)
}

// mountProc mounts a fresh proc at dir as util-linux does: first the old
// one made private (when the whole tree was not), so that nothing
// propagates.
func mountProc(dir, propagation string) error {
	if propagation != "private" {
		if err := unix.Mount("none", dir, "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil && err != unix.EINVAL {
			return &os.PathError{Op: "make mounts private", Path: dir, Err: err}
		}
	}
	return mount.Proc(dir)
}
