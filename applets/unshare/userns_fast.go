package unshare

// The one-line rootless container with one Go start, as bubblewrap has one
// C start. Without root the namespaces need a new user namespace, which a
// multithreaded process (any Go program) can neither unshare nor join, so
// thread mode is out, and tw's child in the new namespaces used to be a
// second start of tw (the largest part of the rootless chain's time: a Go
// start, and the fork of a Go process without vfork, which Go's ForkExec
// does for CLONE_NEWUSER). For the chain's usual shape
//
//	tw-unshare -r -m -p … [--hostname NAME] [tw-net --lo] [tw-mountproc|tw-mountsys --target DIR]… tw-pivot ROOT PROG…
//
// tw-unshare instead records the chain's steps for chain.Fork's child,
// which makes the namespaces in its clone and runs raw system calls only
// until it executes PROG: it writes its own uid and gid maps (its own ids,
// as unshare -r and bwrap do), makes every mount private, sets the
// hostname, brings lo up in its network namespace (tw-net --lo: the clone
// makes it, as tw-net --lo would make one), mounts the procs and sysfses
// in order, does tw-pivot's bind mount, pivot_root and detach, and
// executes PROG, looked up on PATH inside the new root, through the sealed
// trampoline where the user could write tw's binary (writableExe). As it
// maps itself, the child is a vfork (Spawn.Vfork): no copy of this
// process's page tables and no copy-on-write faults after, which cost
// more than all its system calls; the parent waits until it has executed
// PROG or failed. The guards of tw-pivot and tw-mountproc hold by
// construction (the clone makes the mount, pid and network namespaces:
// tw-mountsys needs --net or tw-net --lo here, else it takes the usual
// way), and tw-pivot's pin is not needed (see runFast). A failed step
// comes back as its error (chain.StepError) and is reported as the applet
// of that step reports it, with its exit code. With --map-auto the child
// waits at its gate until tw-unshare has run newuidmap and newgidmap for
// it (Spawn.Open): a vfork's parent could not run them, so it shares this
// process's memory on a stack of its own while the parent goes on (no
// copy of the page tables either, nor copy-on-write faults; a real fork
// where that child is not written). Any other shape (other applets,
// options, root) takes the usual way.

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

// fastPlan is the chain's shape, checked: the mounts of tw-mountproc and
// tw-mountsys in their order, the new root, PROG and its arguments.
type fastPlan struct {
	lo     bool // tw-net --lo first
	mounts []fastMount
	root   string
	argv   []string
}

// fastMount is a proc (tw-mountproc) or, with sys, a sysfs (tw-mountsys)
// at dir.
type fastMount struct {
	sys bool
	dir string
}

// What the mounts' applets say of a mount the user namespace refused
// (ns.UserHint).
var fastHints = map[bool]struct{ dir, need string }{
	false: {"/proc", "a pid namespace of its own (--pid) and "},
	true:  {"/sys", "a network namespace of its own (--net) and "},
}

// fast reports whether the chain has the shape of the fast path, and its
// plan. What the applets would refuse (a root that is missing, not a
// directory, or the current root) takes the usual way, for their message.
func (o *options) fast(argv []string) (*fastPlan, bool) {
	u := &o.user
	if !u.user || u.euid == 0 || (!u.helper && (len(u.uids) > 1 || len(u.gids) > 1 || u.setgroups == "allow")) ||
		!o.mount || !o.pid || o.propagation != "private" || o.mountProc != "" {
		return nil, false
	}
	p := &fastPlan{}
	i := 0
	if len(argv) > 1 && argv[0] == "tw-net" && argv[1] == "--lo" {
		p.lo = true
		i = 2
	}
	for i < len(argv) && (argv[i] == "tw-mountproc" || argv[i] == "tw-mountsys") {
		// sysfs needs a network namespace of the user namespace's own:
		// without, the usual way says so
		m := fastMount{sys: argv[i] == "tw-mountsys"}
		if m.sys && !o.net && !p.lo {
			return nil, false
		}
		switch {
		case i+2 < len(argv) && argv[i+1] == "--target":
			m.dir = argv[i+2]
			i += 3
		case i+1 < len(argv) && strings.HasPrefix(argv[i+1], "--target="):
			m.dir = strings.TrimPrefix(argv[i+1], "--target=")
			i += 2
		default:
			return nil, false
		}
		p.mounts = append(p.mounts, m)
	}
	if i+1 >= len(argv) || argv[i] != "tw-pivot" || strings.HasPrefix(argv[i+1], "-") {
		return nil, false
	}
	p.root = argv[i+1]
	p.argv = chain.Argv(argv[i+2:])
	// (tw itself, by any path, takes the usual way: see chain.Self)
	base := p.argv[0][strings.LastIndexByte(p.argv[0], '/')+1:]
	if p.argv[0] == "" || base == "tw" || strings.HasPrefix(base, "tw-") {
		return nil, false
	}
	var st, cur unix.Stat_t
	if unix.Stat(p.root, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || unix.Stat("/", &cur) != nil ||
		(st.Dev == cur.Dev && st.Ino == cur.Ino) {
		return nil, false
	}
	for _, m := range p.mounts {
		if unix.Stat(m.dir, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return nil, false
		}
	}
	// The child marks the descriptors close-on-exec with close_range(2),
	// which kernels before 5.11 (or a seccomp profile) may lack: tried on
	// a range with nothing open.
	if unix.CloseRange(1<<30, 1<<30, unix.CLOSE_RANGE_CLOEXEC) != nil {
		return nil, false
	}
	return p, true
}

// stdStreams reports whether stdio are this process's descriptors 0, 1
// and 2, which the fast path's child keeps as they are.
func stdStreams(stdio cli.IO) bool {
	return fdOf(stdio.Stdin, 0) == 0 && fdOf(stdio.Stdout, 1) == 1 && fdOf(stdio.Stderr, 2) == 2
}

// fastSteps records the child's steps, in order, for chain.Fork: its
// parent-death signal (Fork sets none) before its gate, the chain's
// after. Each fails with the error its applet gives, under the applet's
// name (none: tw-unshare's own).
func (o *options) fastSteps(p *fastPlan) (first, rest *chain.Steps) {
	u := &o.user
	call := func(applet string, fail func(e syscall.Errno) error, nr uintptr, a ...uintptr) {
		chain.CallLater(applet, 0, fail, nr, a...)
	}
	call("", func(e syscall.Errno) error { return fmt.Errorf("new namespaces: pdeathsig: %w", e) },
		unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL))
	first = chain.TakeSteps()
	write := func(file string, data []byte) {
		chain.WriteLater("", "/proc/self/"+file, data, true, func(_ int, e syscall.Errno) error {
			return fmt.Errorf("new namespaces: write /proc/self/%s: %w", file, e)
		})
	}
	line := func(m []ns.IDMap) []byte {
		if len(m) == 0 {
			return nil
		}
		return []byte(fmt.Sprintf("%d %d %d\n", m[0].Inner, m[0].Outer, m[0].Count))
	}
	if !u.helper { // else newuidmap and newgidmap write them
		gid, uid := line(u.gids), line(u.uids)
		if len(gid) > 0 || u.setgroups == "deny" {
			write("setgroups", []byte("deny"))
		}
		if len(gid) > 0 {
			write("gid_map", gid)
		}
		if len(uid) > 0 {
			write("uid_map", uid)
		}
	}
	call("", func(e syscall.Errno) error { return &os.PathError{Op: "make mounts private", Path: "/", Err: e} },
		unix.SYS_MOUNT, chain.CString("none"), chain.CString("/"), 0, unix.MS_REC|unix.MS_PRIVATE)
	if o.hostname != "" {
		name := []byte(o.hostname)
		call("", func(e syscall.Errno) error { return fmt.Errorf("sethostname %s: %w", o.hostname, e) },
			unix.SYS_SETHOSTNAME, chain.Ptr(&name[0]), uintptr(len(name)))
	}
	if p.lo {
		chain.LinkUpLater("tw-net", "lo", func(_ int, e syscall.Errno) error { return fmt.Errorf("lo: up: %w", e) })
	}
	for _, m := range p.mounts {
		if !m.sys {
			chain.MountProcLater(m.dir) // tw-mountproc's mount.Proc
			continue
		}
		// tw-mountsys's mount.Sysfs
		sysfs := chain.CString("sysfs")
		call("tw-mountsys", func(e syscall.Errno) error { return &os.PathError{Op: "mount sysfs", Path: m.dir, Err: e} },
			unix.SYS_MOUNT, sysfs, chain.CString(m.dir), sysfs, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)
	}
	chain.PivotLater("tw-pivot", p.root, func(stage int, e syscall.Errno) error {
		op := [...][2]string{{"bind mount", p.root}, {"open", p.root}, {"open", "/"}, {"chdir", p.root},
			{"pivot_root", p.root}, {"chdir", "old root"}, {"detach", "old root"}, {"chdir", "/"}}[stage]
		return &os.PathError{Op: op[0], Path: op[1], Err: e}
	})
	// PROG inherits no descriptor but 0, 1 and 2 (the report pipe is
	// close-on-exec already).
	call("tw-pivot", func(e syscall.Errno) error { return &os.PathError{Op: "close_range", Path: "3…", Err: e} },
		unix.SYS_CLOSE_RANGE, 3, ^uintptr(0)>>32, unix.CLOSE_RANGE_CLOEXEC)
	return first, chain.TakeSteps()
}

// runFast is tw-unshare's parent with the fast path's child: it forks the
// child, waits for it and passes its status on. It holds no pin (see
// ns.Pin): the container's root has its capabilities in the new user
// namespace only, and the kernel remounts a filesystem read-only only for
// a caller with CAP_SYS_ADMIN in the user namespace that mounted it.
func (o *options) runFast(p *fastPlan, stdio cli.IO) error {
	s := &chain.Spawn{Gate: -1, Path: p.argv[0], Argv: p.argv, Env: chain.Environ(os.Environ()),
		Trampoline: writableExe(), Vfork: true, Flags: o.cloneflags()}
	if p.lo {
		s.Flags |= unix.CLONE_NEWNET
	}
	if !strings.Contains(p.argv[0], "/") {
		s.Paths = chain.Candidates(p.argv[0], os.Getenv("PATH"))
	}
	// Without a gate the late steps follow the first at once.
	s.Steps, s.Late = o.fastSteps(p)
	if o.user.helper {
		// The child waits for its maps before the chain's steps.
		s.Open = o.user.newMaps
	}
	// (Before the lock: a locked thread that waits hands its processor
	// on.)
	sigs := o.catch()
	// Pdeathsig follows the thread that forked the child: keep it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer func() {
		// (When the process ends next, the signals go with it.)
		if chain.Nested() {
			sigs.Stop()
		}
	}()
	pid, err := chain.Fork(s)
	if err != nil {
		return o.fastError(err, stdio)
	}
	// Not before: the child could not write its own maps (a process that
	// is not dumpable has its /proc files owned by root).
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	sigs.To(pid)
	ws, err := wait(pid, sigs)
	if err != nil {
		return err
	}
	return cli.Status(chain.ExitStatus(ws))
}

// writableExe reports whether this user could write tw's own binary (one
// the user installed): a PROG that is a script #!/proc/self/exe in the
// user's root would then hold it and could rewrite it (runc
// CVE-2019-5736), so PROG is executed through the sealed trampoline. The
// user's container cannot open a binary for writing that its user cannot
// (its capabilities are the user namespace's), and the trampoline's
// second execve costs the chain ~1 ms: none then.
func writableExe() bool {
	var st unix.Stat_t
	if unix.Stat("/proc/self/exe", &st) != nil {
		return true
	}
	return int(st.Uid) == os.Geteuid() || unix.Access("/proc/self/exe", unix.W_OK) == nil
}

func applet(name string) cli.Applet {
	a, _ := cli.Lookup(name)
	return a
}

// fastError reports a failed step as the applet of that step does.
func (o *options) fastError(err error, stdio cli.IO) error {
	by := func(name string, err error) error {
		return cli.Status(cli.Report(applet(name), err, stdio.Stderr))
	}
	var se *chain.StepError
	var sce *os.SyscallError
	var pe *os.PathError
	switch {
	case errors.As(err, &se) && se.Applet == "mountproc": // chain.MountProcLater's
		h := fastHints[false]
		return by("tw-mountproc", ns.UserHint(se.Err, h.dir, h.need))
	case errors.As(err, &se) && se.Applet == "tw-mountsys":
		h := fastHints[true]
		return by(se.Applet, ns.UserHint(se.Err, h.dir, h.need))
	case errors.As(err, &se) && se.Applet != "":
		return by(se.Applet, se.Err)
	case errors.As(err, &se):
		return se.Err
	case errors.As(err, &sce) && sce.Syscall == "clone":
		return hint(fmt.Errorf("new namespaces: %w", sce.Err), &o.user, os.Geteuid())
	case errors.As(err, &pe) && pe.Op == "exec":
		return by("tw-pivot", cli.Exit(chain.ExitCode(err), err))
	}
	return err
}
