package unshare

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

// threaded reports whether the rest of the chain can run in this process,
// on a locked thread: it is a thread chain (chain.ThreadChain), and no
// proc is mounted by tw-unshare.
func (o *options) threaded(argv []string) bool {
	// A user namespace can only be unshared by a single-threaded process;
	// without root the child mode's error says what to add.
	if !chain.CanFork || o.mountProc != "" || o.user.user || os.Geteuid() != 0 {
		return false
	}
	return chain.ThreadChain(argv)
}

// thread runs the chain in this process: the namespaces are unshared on a
// locked thread (unshare(2) of mount, UTS, IPC, net and cgroup namespaces
// acts on the calling thread; CLONE_NEWPID on the children it makes), the
// steps inside run there as in the child, and the program at the end is
// forked from it (chain.ForkExec: PID 1 of the new pid namespace) and
// waited for.
func (o *options) thread(argv []string, stdio cli.IO) error {
	// Signals are caught from before PROG starts (see Main).
	caught := o.caught
	if caught == nil {
		caught = chain.CatchSoon()
	}
	// On the calling thread, which may carry namespaces of its own
	// (tw-net's network namespace): the container starts from them, as a
	// child forked from it would.
	runtime.LockOSThread()
	if !chain.Nested() {
		// tw-unshare is the first applet of this process, which ends
		// when it returns: the thread needs no way back, and stays
		// locked.
		return o.threadMain(argv, caught, stdio)
	}
	// Afterwards the thread goes back to them, so that whoever called
	// tw-unshare in this process (tw-limit, tw-net) goes on outside the
	// container.
	back, err := save(o.cloneflags())
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer back.close()
	err = o.threadMain(argv, caught, stdio)
	if rerr := back.restore(); rerr != nil {
		// The thread stays locked, so that nothing else runs on it.
		return errors.Join(err, rerr)
	}
	runtime.UnlockOSThread()
	return err
}

// saved is where the thread was before thread mode: a descriptor of each
// namespace it leaves (flag: descriptor), of its root and of its cwd.
type saved struct {
	ns        map[int]int
	root, cwd int
}

// nsFiles name the namespaces thread mode leaves, restored in this order
// (the mount namespace first: setns of it resets root and cwd).
var nsFiles = []struct {
	flag int
	name string
}{
	{unix.CLONE_NEWNS, "mnt"}, {unix.CLONE_NEWUTS, "uts"}, {unix.CLONE_NEWIPC, "ipc"},
	{unix.CLONE_NEWNET, "net"}, {unix.CLONE_NEWCGROUP, "cgroup"}, {unix.CLONE_NEWPID, "pid_for_children"},
}

func save(flags uintptr) (*saved, error) {
	s := &saved{ns: map[int]int{}, root: -1, cwd: -1}
	open := func(p string, flags int) (int, error) {
		fd, err := unix.Open(p, flags|unix.O_CLOEXEC, 0)
		if err != nil {
			s.close()
			return -1, &os.PathError{Op: "open", Path: p, Err: err}
		}
		return fd, nil
	}
	var err error
	for _, n := range nsFiles {
		if int(flags)&n.flag != 0 {
			if s.ns[n.flag], err = open("/proc/thread-self/ns/"+n.name, unix.O_RDONLY); err != nil {
				return nil, err
			}
		}
	}
	if s.root, err = open("/", unix.O_PATH|unix.O_DIRECTORY); err != nil {
		return nil, err
	}
	if s.cwd, err = open(".", unix.O_PATH|unix.O_DIRECTORY); err != nil {
		return nil, err
	}
	return s, nil
}

// restore puts the thread back into the saved namespaces, root and cwd.
func (s *saved) restore() error {
	for _, n := range nsFiles {
		if fd, ok := s.ns[n.flag]; ok {
			if err := unix.Setns(fd, n.flag); err != nil {
				return fmt.Errorf("back to the %s namespace: %w", n.name, err)
			}
		}
	}
	if err := unix.Fchdir(s.root); err != nil {
		return fmt.Errorf("back to the root: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("back to the root: %w", err)
	}
	if err := unix.Fchdir(s.cwd); err != nil {
		return fmt.Errorf("back to the working directory: %w", err)
	}
	return nil
}

func (s *saved) close() {
	for _, fd := range s.ns {
		unix.Close(fd)
	}
	for _, fd := range []int{s.root, s.cwd} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

func (o *options) threadMain(argv []string, caught *chain.Catching, stdio cli.IO) error {
	// The guards pass on the thread's own facts (ns.EnterThreadNS) where
	// it makes a namespace; without --mount tw-pivot and the others need
	// the record of the mount namespace tw-unshare left, to refuse.
	var left string
	if !o.mount {
		var err error
		if left, err = ns.Record("mnt", "pid", "uts"); err != nil {
			return fmt.Errorf("record namespaces: %w", err)
		}
	}
	// The container must not reach this process through /proc/PID/exe.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	if !o.pid {
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) // see parent
	}
	if err := unix.Unshare(int(o.cloneflags())); err != nil {
		return fmt.Errorf("new namespaces: %w", err)
	}
	// With CLONE_NEWPID done, the thread's children are in a new pid
	// namespace (its pid_for_children cannot be read before the first).
	ns.EnterThread(o.pid)
	ns.EnterThreadNS(o.mount, o.uts)
	if left != "" {
		os.Setenv(ns.EnvLeft, left)
	}
	defer func() {
		chain.StartWith(nil)
		ns.LeaveThread()
		if left != "" {
			os.Unsetenv(ns.EnvLeft)
		}
		// (When the process ends next, the signals go with it.)
		if chain.Nested() {
			caught.Forwarder().Stop()
		}
	}()
	chain.StartWith(func(path string, argv, env []string) error {
		sigs := caught.Forwarder()
		pid, err := chain.ForkExec(path, argv, env)
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Op == "exec" {
			return cli.Exit(chain.ExitCode(err), err)
		}
		if err != nil {
			return err
		}
		sigs.To(pid)
		ws, err := wait(pid, sigs)
		if err != nil {
			return err
		}
		if !o.pid && ns.Pinned() {
			reap(sigs)
		}
		return cli.Status(chain.ExitStatus(ws))
	})
	return o.child(argv, stdio)
}
