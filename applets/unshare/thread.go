package unshare

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

// threadApplets are the applets that work in thread mode (see package
// chain): they change mounts only (of the thread's mount namespace, in the
// thread's network and IPC namespaces for sysfs and mqueue), and
// tw-mountproc's proc can be left to the child.
var threadApplets = map[string]bool{"pivot": true, "mountproc": true, "mountsys": true, "mountdev": true}

// threaded reports whether the rest of the chain can run in this process,
// on a locked thread: every tw-* word of argv (any word, to be safe) names
// an applet that works there, tw-mountproc comes after tw-pivot (its --target is resolved
// by the child, after the pivot), and no proc is mounted by tw-unshare.
func (o *options) threaded(argv []string) bool {
	if o.mountProc != "" {
		return false
	}
	mountproc := false
	for _, w := range argv {
		name, ok := strings.CutPrefix(w, "tw-")
		if !ok {
			continue
		}
		if !threadApplets[name] || name == "pivot" && mountproc {
			return false
		}
		mountproc = mountproc || name == "mountproc"
	}
	return true
}

// thread runs the chain in this process: the namespaces are unshared on a
// locked thread (unshare(2) of mount, UTS, IPC, net and cgroup namespaces
// acts on the calling thread; CLONE_NEWPID on the children it makes), the
// steps inside run there as in the child, and the program at the end is
// forked from it (chain.ForkExec: PID 1 of the new pid namespace) and
// waited for.
func (o *options) thread(argv []string, stdio cli.IO) error {
	// On a goroutine of its own, locked to its thread and never unlocked:
	// when it ends, the runtime ends the thread, namespaces and root with
	// it, and whoever called tw-unshare in this process (tw-limit, say)
	// goes on in the host's.
	done := make(chan error)
	go func() { done <- o.threadMain(argv, stdio) }()
	return <-done
}

func (o *options) threadMain(argv []string, stdio cli.IO) error {
	left, err := ns.Record("mnt", "pid", "uts")
	if err != nil {
		return fmt.Errorf("record namespaces: %w", err)
	}
	// The container must not reach this process through /proc/PID/exe.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	if !o.pid {
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) // see parent
	}
	runtime.LockOSThread()
	if err := unix.Unshare(int(o.cloneflags())); err != nil {
		return fmt.Errorf("new namespaces: %w", err)
	}
	// With CLONE_NEWPID done, the thread's children are in a new pid
	// namespace (its pid_for_children cannot be read before the first).
	ns.EnterThread(o.pid)
	os.Setenv(ns.EnvLeft, left)
	defer func() {
		chain.StartWith(nil)
		ns.LeaveThread()
		os.Unsetenv(ns.EnvLeft)
	}()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	defer func() {
		signal.Stop(sigs)
		close(sigs)
	}()
	var target atomic.Int64
	go forward(sigs, &target)
	chain.StartWith(func(path string, argv, env []string) error {
		pid, err := chain.ForkExec(path, argv, env)
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Op == "exec" {
			return cli.Exit(chain.ExitCode(err), err)
		}
		if err != nil {
			return err
		}
		target.Store(int64(pid))
		ws, err := wait(pid, &target)
		if err != nil {
			return err
		}
		if !o.pid && ns.Pinned() {
			reap()
		}
		return cli.Status(ExitStatus(ws))
	})
	return o.child(argv, stdio)
}
