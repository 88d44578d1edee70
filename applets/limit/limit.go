// Package limit is tw-limit: bound the memory, process count and CPU of
// the rest of the chain with a cgroup that lives as long as it does.
package limit

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cgroup"
	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

var Applet = cli.Applet{Name: "limit", Summary: "run a program in a new cgroup with limits", Main: Main}

const usage = `Usage: tw-limit [--memory SIZE] [--pids N] [--cpus N] [--cpu-weight N] [--name NAME] [--] PROG [ARGS…]

Make a cgroup with the given limits, run PROG in it, wait for it, and exit
with its status (128+N for signal N: a program the memory limit killed
gives 137). Then every process left in the cgroup is killed and the cgroup
removed — also when PROG crashed or was killed. (Only when tw-limit itself
is killed with SIGKILL does the container die without it, leaving its
empty cgroup behind.)

  --memory SIZE    memory.max / memory.limit_in_bytes (K, M, G, T binary);
                   swap is not allowed beyond it where swap is accounted
  --pids N         pids.max: at most N tasks (threads count)
  --cpus N         CPU time per 100ms period, 0.01 at least (cpu.max or
                   cpu.cfs_quota_us)
  --cpu-weight N   relative CPU share 1…10000 (cpu.weight; v1 cpu.shares
                   2…262144 as runc converts it)

The cgroup is NAME (default tw-limit-RANDOM): in cgroup v2 when its root
has all the needed controllers, as ROOT/tw/NAME (v2 lets only cgroups
without processes hand controllers down); otherwise one directory in each
cgroup v1 hierarchy that has one of them, below the cgroup tw-limit runs
in. A missing controller is an error; nothing is created.

Without root, the cgroup goes below the cgroup v2 cgroup tw-limit runs in
when that one is delegated to the user (systemd's Delegate=yes: the user
owns it, its cgroup.procs and cgroup.subtree_control), as with rootless
podman: systemd-run --user --scope -p Delegate=yes tw-limit … . tw-limit
moves into a leaf NAME.self of its own there (v2 hands controllers down
only from a cgroup without processes, so no other process may be in it),
turns the controllers on, and takes all of it back at the end. A
controller the delegated cgroup lacks is named in the error; without a
delegated cgroup the error says so.

tw-limit wraps the whole container, first in the chain:
  tw-limit --memory 32M --pids 20 tw-unshare -muinpf tw-pivot ROOT
  tw-mountproc tw-mountsys tw-mountdev tw-harden PROG…
There tw-unshare runs in tw-limit's process, and the container it forks
joins the cgroup right before it executes PROG, its PID 1: tw-limit never
enters the cgroup (the limits count the container only), and tw-unshare
returns when the container has ended. No process is started for tw-limit.
(When tw-unshare has other options than -muinpf, --propagation and
--hostname, or its chain does not run in its process, tw-limit is in the
cgroup until the container has started there.)

Any other PROG tw-limit forks as its child, which joins the cgroup right
before it executes PROG (another tw-* applet first: tw starts again in
that child, in the cgroup, and runs it there); it forwards SIGINT,
SIGTERM, SIGHUP and SIGQUIT to it, dies with it, and is the subreaper of
its orphans. After tw-unshare --pid it is PID 1 of the container and PROG
is not; tw-pivot and tw-mountproc cannot show from there that they run in
new namespaces and refuse: put tw-limit first.
`

// envJoin tells the child the cgroup directories (one a line) it must
// join before it runs PROG.
const envJoin = "TW_LIMIT_JOIN"

type options struct {
	memory, cpus, name string
	pids               int64
	weight             uint64
}

func newOptions(fs *pflag.FlagSet) *options {
	o := &options{}
	fs.StringVar(&o.memory, "memory", "", "memory limit, `SIZE` (32M)")
	fs.Int64Var(&o.pids, "pids", 0, "at most `N` tasks")
	fs.StringVar(&o.cpus, "cpus", "", "`N` CPUs of time (0.5)")
	fs.Uint64Var(&o.weight, "cpu-weight", 0, "relative CPU weight `N`, 1…10000")
	fs.StringVar(&o.name, "name", "", "name of the cgroup (default tw-limit-RANDOM)")
	return o
}

// Limits checks the options and turns them into limits.
func (o *options) Limits() (cgroup.Limits, error) {
	var l cgroup.Limits
	var err error
	if o.memory != "" {
		if l.Memory, err = cgroup.ParseSize(o.memory); err != nil {
			return l, cli.Usagef("--memory %v", err)
		}
	}
	if o.pids < 0 {
		return l, cli.Usagef("--pids %d: not a positive number", o.pids)
	}
	l.Pids = o.pids
	if o.cpus != "" {
		if l.CPUQuota, err = cgroup.ParseCPUs(o.cpus); err != nil {
			return l, cli.Usagef("--cpus %v", err)
		}
	}
	if o.weight > 10000 {
		return l, cli.Usagef("--cpu-weight %d: out of range 1…10000", o.weight)
	}
	l.CPUWeight = o.weight
	if l == (cgroup.Limits{}) {
		return l, cli.Usagef("no limit given: --memory, --pids, --cpus or --cpu-weight")
	}
	if o.name != "" && (strings.Contains(o.name, "/") || o.name == "." || o.name == "..") {
		return l, cli.Usagef("--name %s: not a single path component", o.name)
	}
	return l, nil
}

func Main(args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("limit", false)
	o := newOptions(fs)
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 1, -1); err != nil {
		return err
	}
	argv := fs.Args()
	if n := os.Getenv(envJoin); n != "" {
		os.Unsetenv(envJoin)
		if err := cgroup.Join(strings.Split(n, "\n")); err != nil {
			return err
		}
		return chain.Exec(argv, stdio)
	}
	l, err := o.Limits()
	if err != nil {
		return err
	}
	mounts, self, err := cgroup.Self()
	if err != nil {
		return err
	}
	name := o.name
	if name == "" {
		name = randomName()
	}
	deleg, err := delegated(mounts, self, l.Controllers(), name)
	if err != nil {
		return err
	}
	var v2 bool
	var places []cgroup.Place
	if deleg != nil {
		v2, places = true, []cgroup.Place{deleg.Place(l.Controllers())}
	} else if v2, places, err = cgroup.Locate(mounts, self, l.Controllers(), cgroup.Controllers, cgroup.IsCgroup); err != nil {
		return err
	}
	sweepRecords()
	dirs := make([]string, len(places))
	for i, p := range places {
		dirs[i] = path.Join(p.Parent, name)
	}
	rec, err := newRecord(name, dirs)
	if err != nil && os.Geteuid() == 0 {
		return err
	}
	// A user cannot write the records (/run/tupperware): no record, and
	// the cgroup's own permissions decide below.
	g, err := cgroup.Create(v2, places, name, l)
	if err != nil {
		rec.remove()
		err = userHint(err, v2)
		if uerr := undo(deleg); uerr != nil {
			err = fmt.Errorf("%w; %v", err, uerr)
		}
		return err
	}
	// Orphans of the container come to this process to be reaped (a
	// PID 1 reaps them anyway).
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	var status int
	switch w := how(argv, os.Geteuid() == 0, chain.CanFork); {
	case w == unshareJoins && os.Getenv(ns.EnvChild) == "":
		err = unshareJoin(g, argv, stdio)
	case w == unshareJoins || w == enter:
		err = around(g, argv, stdio)
	case w == forkJoins && stdStreams(stdio):
		if status, err = forkJoin(g, argv); err == nil {
			err = cli.Status(status)
		}
	default:
		if status, err = supervise(g, args, stdio); err == nil {
			err = cli.Status(status)
		}
	}
	if kerr := g.Kill(reapAll, 5*time.Second); kerr != nil && cli.ExitCode(err) == 0 {
		err = kerr
	}
	if rerr := g.Remove(); rerr != nil {
		if cli.ExitCode(err) == 0 {
			err = rerr
		}
	} else {
		rec.remove() // else left for the next run to finish
		if uerr := undo(deleg); uerr != nil && cli.ExitCode(err) == 0 {
			err = uerr
		}
	}
	if cli.ExitCode(err) == 0 {
		return nil
	}
	return err
}

// around runs tw-unshare in this process, inside the group, so that the
// container it forks starts there; as soon as that process is in, this
// one steps out again, so that the container's limits count the
// container only. tw-unshare waits for the container: when it returns,
// the container has ended. No process is started for tw-limit.
func around(g *cgroup.Group, argv []string, stdio cli.IO) error {
	if err := g.Enter(); err != nil {
		return err
	}
	self, err := os.ReadFile("/proc/self/cmdline")
	if err != nil {
		return err
	}
	done := make(chan struct{})
	left := make(chan error, 1)
	go func() {
		for {
			select {
			case <-done:
				left <- nil
				return
			default:
			}
			// The container is tw-unshare's child once it has executed
			// (tw again, or PROG); a process still running this program
			// does not count (Go forks a probe before its first process
			// start).
			for _, pid := range g.Others(os.Getpid()) {
				if executed(pid, self) {
					left <- g.Leave()
					return
				}
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	err = chain.Exec(argv, stdio)
	close(done)
	lerr := <-left
	if lerr == nil {
		lerr = g.Leave()
	}
	if lerr != nil && cli.ExitCode(err) == 0 {
		return lerr
	}
	return err
}

// executed reports whether process pid has executed a program since it
// was forked from this one: its command line differs from self (and is not
// empty, as a zombie's is).
func executed(pid int, self []byte) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && len(b) > 0 && string(b) != string(self)
}

func randomName() string {
	b := make([]byte, 6)
	unix.Getrandom(b, 0) // not crypto/rand: its ~10 packages cost every tw start ~1 ms of init
	return "tw-limit-" + hex.EncodeToString(b)
}

// supervise starts this binary again as the child that joins g and runs
// PROG, forwards signals to it, reaps every child until it is gone and
// returns its exit status.
func supervise(g *cgroup.Group, args []string, stdio cli.IO) (int, error) {
	files, err := inherited(stdio)
	if err != nil {
		return 0, err
	}
	defer func() {
		for _, f := range files[3:] {
			if f != nil {
				f.Close()
			}
		}
	}()
	// Nothing in the container may reach this process through
	// /proc/PID/exe or its memory.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	// Pdeathsig follows the thread that forked the child: keep it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sigs := chain.Catch()
	defer sigs.Stop()
	attr := &os.ProcAttr{
		Env:   append(os.Environ(), envJoin+"="+strings.Join(g.Paths(), "\n")),
		Files: files,
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	}
	p, err := os.StartProcess("/proc/self/exe", append([]string{"tw-limit"}, args...), attr)
	if err != nil {
		return 0, fmt.Errorf("start: %w", err)
	}
	// The child has its own cwd: this one need not pin a host directory.
	unix.Chdir("/")
	sigs.To(p.Pid)
	return reapUntil(p.Pid)
}

// reapUntil reaps every child of this process (PROG's orphans come here)
// until pid ends, and returns pid's exit status (128+N for signal N).
func reapUntil(pid int) (int, error) {
	for {
		var ws unix.WaitStatus
		ended, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("wait: %w", err)
		}
		if ended == pid {
			return chain.ExitStatus(syscall.WaitStatus(ws)), nil
		}
	}
}

// reapAll reaps every child that has exited, without blocking, and
// reports whether none is left.
func reapAll() bool {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		switch {
		case errors.Is(err, unix.EINTR):
		case err != nil: // ECHILD
			return true
		case pid == 0:
			return false
		}
	}
}

// inherited are the descriptors the child gets, at their numbers: stdio,
// and every one an exec would pass on (those without close-on-exec, which
// tw-unshare's record of the container may be), as dups owned here.
func inherited(stdio cli.IO) ([]*os.File, error) {
	files := []*os.File{cli.StdFile(stdio.Stdin, os.Stdin), cli.StdFile(stdio.Stdout, os.Stdout), cli.StdFile(stdio.Stderr, os.Stderr)}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < 3 {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			continue
		}
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return nil, fmt.Errorf("dup descriptor %d: %w", fd, err)
		}
		for len(files) <= fd {
			files = append(files, nil)
		}
		files[fd] = os.NewFile(uintptr(dup), e.Name())
	}
	return files, nil
}

// stdStreams reports whether stdio are this process's descriptors 0, 1
// and 2, which a child forked here inherits.
func stdStreams(stdio cli.IO) bool {
	return cli.StdFile(stdio.Stdin, nil) == os.Stdin && cli.StdFile(stdio.Stdout, nil) == os.Stdout &&
		cli.StdFile(stdio.Stderr, nil) == os.Stderr
}
