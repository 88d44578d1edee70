package chain

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/ns"
)

// Thread mode: tw-unshare may run the rest of the chain in its own process,
// on one locked OS thread that has unshared the namespaces, instead of in a
// child that starts this binary again (one Go start less, the largest part
// of a container's start). The program at the end of the chain is then not
// executed in place: it is forked from that thread as tw-unshare's child
// (PID 1 of a new pid namespace) and waited for. A proc of the new pid
// namespace can only be mounted by a process inside it, so tw-mountproc
// leaves its mount to that child, which makes it between fork and execve.

var starter func(path string, argv, env []string) error

// StartWith puts this process in thread mode: Exec hands the program at
// the end of the chain to start instead of executing it in place; steps
// recorded before, by an applet that called the thread mode's in this
// process (tw-limit's join of its cgroup), are kept for its child and made
// first. With nil it leaves thread mode and forgets the steps left to the
// child.
func StartWith(start func(path string, argv, env []string) error) {
	starter = start
	if start == nil {
		reset()
	}
}

// threadApplets are the applets that work in thread mode: they change
// mounts only (of the thread's mount namespace, in the thread's network
// and IPC namespaces for sysfs and mqueue), or leave their work to the
// child: tw-mountproc's proc, tw-harden's masks of it and what it takes
// away from the program (capabilities, rlimits, no_new_privs, seccomp).
var threadApplets = map[string]bool{"pivot": true, "mountproc": true, "mountsys": true, "mountdev": true, "harden": true}

// ThreadChain reports whether argv, the chain after tw-unshare's options,
// can run in thread mode: every tw-* word (any word, to be safe) names an
// applet that works there, tw-mountproc comes after tw-pivot (its --target
// is resolved by the child, after the pivot), and tw-harden comes last
// (what follows it would run with the thread's capabilities). tw-unshare
// and tw-limit, which leaves its cgroup's join to thread mode's child,
// decide by it.
func ThreadChain(argv []string) bool {
	mountproc, harden := false, false
	for _, w := range argv {
		// A path to tw-NAME may be this binary (Self): counted as
		// NAME; tw itself with a name after it goes to the child.
		base := w[strings.LastIndexByte(w, '/')+1:]
		if base == "tw" {
			return false
		}
		name, ok := strings.CutPrefix(base, "tw-")
		if !ok {
			continue
		}
		if !threadApplets[name] || name == "pivot" && mountproc || harden {
			return false
		}
		mountproc = mountproc || name == "mountproc"
		harden = name == "harden"
	}
	return true
}

// Threaded reports whether the chain runs in thread mode.
func Threaded() bool { return starter != nil }

// ForkExec starts path as a child of the calling (locked) thread, with the
// thread's namespaces, root and cwd; the child makes the steps recorded by
// MountProcLater, MaskLater and RestrictLater, then executes path with argv
// and env. The child is a vfork (clone with CLONE_VM|CLONE_VFORK, as
// syscall.ForkExec makes it): no copy of this process's memory, which
// would cost the page tables and then a page fault on every page either
// side writes; the thread waits until the child has executed the program
// or failed. Between fork and execve the child runs raw system calls
// only; a failure comes back as the error of that step, a *StepError
// under the applet that recorded it. The child gets SIGKILL when the
// thread ends.
func ForkExec(path string, argv, env []string) (int, error) {
	if !CanFork {
		return 0, errors.New("thread mode: no vfork on this architecture")
	}
	if stepsErr != nil {
		return 0, stepsErr
	}
	// tw-pivot's pin, made on another thread meanwhile (ns.Pin), is held
	// before the program runs.
	if err := ns.PinsMade(); err != nil {
		return 0, &StepError{Applet: "pivot", Err: err}
	}
	pathp, err := unix.BytePtrFromString(path)
	if err != nil {
		return 0, &os.PathError{Op: "exec", Path: path, Err: err}
	}
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return 0, &os.PathError{Op: "exec", Path: path, Err: err}
	}
	envp, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return 0, &os.PathError{Op: "exec", Path: path, Err: err}
	}
	c := &forkArgs{path: pathp, argv: &argvp[0], env: &envp[0], steps: steps, nofile: callerNofile()}
	c.clone = cloneArgs{flags: unix.CLONE_VM | unix.CLONE_VFORK | unix.CLONE_CLEAR_SIGHAND, exitSignal: uint64(unix.SIGCHLD)}
	// The mask the child restores, the thread's own (fork blocks all).
	unix.PthreadSigmask(unix.SIG_SETMASK, nil, &c.mask)
	if trampolined {
		if err := c.viaTrampoline(path, argv); err != nil {
			return 0, err
		}
	}
	pid, errno := fork(c)
	runtime.KeepAlive(keep)
	if c.t != nil {
		if e := c.t.report(); e != 0 && !c.failed {
			c.failed, c.step, c.errno = true, len(steps), e
		}
	}
	if errno != 0 {
		return 0, os.NewSyscallError("clone", errno)
	}
	if !c.failed {
		return pid, nil
	}
	reap(pid)
	if c.step == len(steps) {
		return 0, &os.PathError{Op: "exec", Path: argv[0], Err: c.errno}
	}
	info := infos[c.step]
	return 0, &StepError{Applet: info.applet, Err: info.fail(c.stage, c.errno)}
}

// forkArgs is everything the child needs, prepared before the fork, its
// buffers, and its report: the step, stage and errno that failed.
type forkArgs struct {
	nofile *unix.Rlimit // the caller's RLIMIT_NOFILE, given back first
	path   *byte
	argv   **byte
	env    **byte
	steps  []step
	t      *trampArgs // execute through the trampoline
	stx    unix.Statx_t
	sfs    unix.Statfs_t
	clone  cloneArgs
	mask   unix.Sigset_t

	failed      bool
	step, stage int
	errno       syscall.Errno
}

//go:linkname beforeFork syscall.runtime_BeforeFork
func beforeFork()

//go:linkname afterFork syscall.runtime_AfterFork
func afterFork()

//go:linkname afterForkInChild syscall.runtime_AfterForkInChild
func afterForkInChild()

// noClone3 makes fork take the path of kernels without clone3 (tests).
var noClone3 bool

// sigsetSize is the size of the kernel's sigset_t (_NSIG/8 on amd64 and
// arm64), which rt_sigprocmask wants; unix.Sigset_t is glibc's, larger.
const sigsetSize = 8

// cloneArgs is struct clone_args of clone3(2), its first version.
type cloneArgs struct {
	flags, pidfd, childTID, parentTID, exitSignal, stack, stackSize, tls uint64
}

// fork is the parent's and the child's side of ForkExec's vfork.
//
//go:nosplit
//go:norace
func fork(c *forkArgs) (int, syscall.Errno) { return vfork(&c.clone, &c.mask, c, nil) }

// vfork is the parent's and the child's side of a vfork, ForkExec's (c)
// or Fork's (s): clone says the flags, mask is the signal mask the child
// restores. The child runs in this frame, on this stack, while the parent
// waits in rawClone3 or rawVfork: it may not return, grow the stack nor
// call into the runtime (nosplit, raw system calls only), and the parent
// uses nothing of this frame but what they returned to it.
//
// The child comes from clone3 with CLONE_CLEAR_SIGHAND: the kernel gives
// it the default action of every signal that has a handler, and it only
// restores the thread's signal mask (which the runtime's beforeFork set
// to block all), instead of the runtime's afterForkInChild, ~60
// rt_sigaction calls while the parent waits. Where clone3 or the flag is
// unknown (before Linux 5.5) or refused (a seccomp filter's ENOSYS, or
// EPERM of older ones) it is a clone as syscall.ForkExec's, and
// afterForkInChild.
//
//go:nosplit
//go:norace
func vfork(clone *cloneArgs, mask *unix.Sigset_t, c *forkArgs, s *spawnArgs) (int, syscall.Errno) {
	beforeFork()
	cleared := !noClone3
	pid, errno := uintptr(0), uintptr(syscall.ENOSYS)
	if cleared {
		pid, errno = rawClone3(clone, unsafe.Sizeof(*clone))
	}
	if errno == uintptr(syscall.ENOSYS) || errno == uintptr(syscall.EINVAL) || errno == uintptr(syscall.EPERM) {
		cleared = false
		pid, errno = rawVfork(uintptr(clone.flags&^unix.CLONE_CLEAR_SIGHAND | clone.exitSignal))
	}
	if errno != 0 || pid != 0 {
		afterFork()
		return int(pid), syscall.Errno(errno)
	}
	if cleared {
		syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(mask)), 0, sigsetSize, 0, 0)
	} else {
		afterForkInChild()
	}
	if c != nil {
		child(c)
	}
	spawnChild(s)
	return 0, 0
}
