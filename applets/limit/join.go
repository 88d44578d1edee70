package limit

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cgroup"
	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
)

// One start: where the rest of the chain ends in a fork of this process
// (tw-unshare's thread mode, or a PROG that is no tw applet), the child
// of that fork joins the cgroup right before it executes PROG — a write
// of "0" to each cgroup.procs opened here, a step of package chain's — and
// tw-limit neither starts tw again nor enters the cgroup itself: only PROG
// and what it starts are counted.

// way is how tw-limit runs the rest of the chain.
type way int

const (
	// reexec starts tw again as the child that joins the cgroup and runs
	// the rest of the chain there (supervise).
	reexec way = iota
	// enter runs tw-unshare in this process while the process is in the
	// cgroup, until the container has started in it (around).
	enter
	// unshareJoins runs tw-unshare's thread mode in this process; the
	// child it forks for PROG joins the cgroup.
	unshareJoins
	// forkJoins forks PROG here; the child joins the cgroup (forkJoin).
	forkJoins
)

// how tells how tw-limit runs argv, the rest of the chain, by the rules
// tw-unshare follows: as root (root) where a vfork can be made (canFork),
// tw-unshare runs its chain in thread mode when its options are some of
// -m -u -i -n -p -f, --propagation and --hostname only and every tw-* word
// after them names an applet of thread mode, tw-mountproc after tw-pivot
// and tw-harden last (tw-unshare's threaded; anything else, or any other
// option, leaves that to tw-unshare: enter). -C (--cgroup) is left out:
// the cgroup namespace it makes must be rooted at tw-limit's cgroup, which
// the thread is not in. Any other tw applet first is started again
// (reexec); a PROG that is none is forked here.
func how(argv []string, root, canFork bool) way {
	if name, ok := strings.CutPrefix(argv[0], "tw-"); ok {
		if name != "unshare" {
			return reexec
		}
		if root && canFork && threadChain(argv[1:]) {
			return unshareJoins
		}
		return enter
	}
	if canFork {
		return forkJoins
	}
	return reexec
}

// threadChain reports whether tw-unshare with args (options, then its
// chain) runs in thread mode, conservatively: see how.
func threadChain(args []string) bool {
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		if long, ok := strings.CutPrefix(a, "--"); ok {
			name, _, value := strings.Cut(long, "=")
			switch name {
			case "mount", "uts", "ipc", "net", "pid", "fork":
				if value {
					return false
				}
			case "propagation", "hostname":
				if !value {
					i++
				}
			default:
				return false
			}
			continue
		}
		for _, c := range a[1:] {
			if !strings.ContainsRune("muinpf", c) {
				return false
			}
		}
	}
	if i > len(args) {
		return false // an option's value missing: tw-unshare's usage error
	}
	return chain.ThreadChain(args[i:])
}

// joinLater opens the cgroup.procs of g's directories and records for
// the child of the next fork a write of "0" to each: it joins g. The
// caller closes them once the child has executed PROG.
func joinLater(g *cgroup.Group) (*cgroup.Procs, error) {
	procs, err := cgroup.OpenProcs(g.Paths())
	if err != nil {
		return nil, joinError(err)
	}
	procs.JoinLater("limit", joinError)
	return procs, nil
}

// joinError is cgroup.Join's error.
func joinError(err error) error { return fmt.Errorf("join cgroup: %w", err) }

// unshareJoin runs tw-unshare's thread mode (argv) in this process: the
// child it forks for PROG joins g first.
func unshareJoin(g *cgroup.Group, argv []string, stdio cli.IO) error {
	chain.TakeSteps() // a record of nothing
	defer chain.TakeSteps()
	procs, err := joinLater(g)
	if err != nil {
		return err
	}
	defer procs.Close()
	return chain.Exec(argv, stdio)
}

// forkJoin forks PROG (argv, no tw applet) as the child that joins g,
// forwards signals to it, reaps every child until it is gone and returns
// its exit status, as supervise does.
func forkJoin(g *cgroup.Group, argv []string) (int, error) {
	// Signals are caught from before PROG starts, as in tw-unshare's
	// thread mode.
	caught := chain.CatchSoon()
	defer func() { caught.Forwarder().Stop() }()
	p, err := chain.LookPath(argv[0], os.Getenv("PATH"))
	if err != nil {
		return 0, cli.Exit(chain.ExitCode(err), err)
	}
	// PROG gets 0, 1 and 2 only, as chain.Exec leaves them.
	if err := chain.CloseExtraFiles(); err != nil {
		return 0, err
	}
	chain.TakeSteps() // a record of nothing
	defer chain.TakeSteps()
	// The parent-death signal follows the thread that forks: keep it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	chain.TryLater(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL))
	procs, err := joinLater(g)
	if err != nil {
		return 0, err
	}
	defer procs.Close()
	// Nothing in the container may reach this process through
	// /proc/PID/exe or its memory.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	sigs := caught.Forwarder()
	pid, err := chain.Fork(&chain.Spawn{Steps: chain.TakeSteps(), Gate: -1, Vfork: true,
		Path: p, Argv: argv, Env: chain.Environ(os.Environ())})
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Op == "exec" {
		return 0, cli.Exit(chain.ExitCode(err), err)
	}
	if err != nil {
		return 0, err
	}
	procs.Close() // the child has joined
	// The child has its own cwd: this one need not pin a host directory.
	unix.Chdir("/")
	sigs.To(pid)
	status, err := reapUntil(pid)
	sigs.To(0)
	return status, err
}
