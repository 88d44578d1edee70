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
// tw-unshare instead forks a child that makes the namespaces in its clone
// and runs raw system calls only until it executes PROG, as chain.ForkExec's
// child does: it writes its own uid and gid maps (its own ids, as unshare -r
// and bwrap do), makes every mount private, sets the hostname, brings lo
// up in its network namespace (tw-net --lo: the clone makes it, as
// tw-net --lo would make one), mounts the procs and sysfses in order, does tw-pivot's bind mount, pivot_root and detach, and executes
// PROG, looked up on PATH inside the new root. As it maps itself, the
// child is a vfork (chain.Clone, CLONE_VM|CLONE_VFORK): no copy of this
// process's page tables and no copy-on-write faults after, which cost more
// than all its system calls; the parent waits until it has executed PROG
// or failed. The guards of tw-pivot and tw-mountproc hold by construction
// (the clone makes the mount, pid and network namespaces: tw-mountsys
// needs --net or tw-net --lo here, else it takes the usual way), and
// tw-pivot's pin is
// not needed (see runFast). A failure comes back through a pipe as the
// step that failed and its errno, and is reported as the applet of that
// step reports it, with its exit code. With --map-auto the child waits on
// a pipe until tw-unshare has run newuidmap and newgidmap for it, so it is
// a real fork (a vfork's parent could not run them). Any other shape
// (other applets, options, root) takes the usual way.

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

// fastMounts and fastPaths bound what the child does (its arguments are
// fixed arrays: it may not allocate).
const (
	fastMounts = 8
	fastPaths  = 32
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

// The mounts' applets, with what they mount and how: tw-mountproc's
// mount.Proc and tw-mountsys's mount.Sysfs.
var fastKinds = map[bool]struct {
	applet, fstype, op, dir, need string
	flags                         uintptr
}{
	false: {"tw-mountproc", "proc", "mount proc", "/proc", "a pid namespace of its own (--pid) and ", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
	true:  {"tw-mountsys", "sysfs", "mount sysfs", "/sys", "a network namespace of its own (--net) and ", unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
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
	if len(p.mounts) > fastMounts || i+1 >= len(argv) || argv[i] != "tw-pivot" || strings.HasPrefix(argv[i+1], "-") {
		return nil, false
	}
	p.root = argv[i+1]
	p.argv = chain.Argv(argv[i+2:])
	if _, applet := cli.Lookup(p.argv[0]); applet || p.argv[0] == "" || strings.HasPrefix(p.argv[0], "tw-") {
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

// candidates are the paths execvp(3) would try for name, inside the new
// root (after the pivot, relative to it).
func candidates(name, path string) []string {
	if strings.Contains(name, "/") {
		return []string{name}
	}
	if path == "" {
		path = chain.DefaultPath
	}
	var c []string
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		c = append(c, dir+"/"+name)
	}
	return c
}

// The steps of the child, as reported back.
const (
	stepSetgroups = 1 + iota
	stepGidMap
	stepUIDMap
	stepPrivate
	stepHostname
	stepLoSocket
	stepLoFlags
	stepLoUp
	stepBind
	stepOpenRoot
	stepOpenOld
	stepChdirRoot
	stepPivot
	stepChdirOld
	stepDetach
	stepChdirSlash
	stepCloseRange
	stepExec
	stepMount = 100 // + the index of the mount
)

// fastArgs is everything the child needs, prepared before the fork.
type fastArgs struct {
	setgroups, gidMap, uidMap *byte
	deny, gidLine, uidLine    []byte
	denyGroups                bool // before a gid map, or for --setgroups=deny
	hostname                  []byte
	lo                        bool
	ifr                       ifreqFlags // lo's flags, read and written by the child
	mounts                    [fastMounts]rawMountArgs
	nmounts                   int
	root, slash, dot, none    *byte
	paths                     [fastPaths]*byte
	npaths                    int
	argv, env                 **byte
	errfd                     int
	syncfd                    int // --map-auto: wait for the maps newuidmap writes; else -1
}

// ifreqFlags is struct ifreq with its flags (SIOCGIFFLAGS, SIOCSIFFLAGS).
type ifreqFlags struct {
	name  [unix.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

// rawMountArgs is a mount of fstype (also its source) at dir.
type rawMountArgs struct {
	fstype, dir *byte
	flags       uintptr
}

func cstr(s string) (*byte, error) { return unix.BytePtrFromString(s) }

func (o *options) fastArgs(p *fastPlan, errfd, syncfd int) (*fastArgs, error) {
	u := &o.user
	c := &fastArgs{errfd: errfd, syncfd: syncfd, deny: []byte("deny"), hostname: []byte(o.hostname)}
	var err error
	ptr := func(s string) *byte {
		var b *byte
		if err == nil {
			b, err = cstr(s)
		}
		return b
	}
	line := func(m []ns.IDMap) []byte {
		if len(m) == 0 {
			return nil
		}
		return []byte(fmt.Sprintf("%d %d %d\n", m[0].Inner, m[0].Outer, m[0].Count))
	}
	c.setgroups, c.gidMap, c.uidMap = ptr("/proc/self/setgroups"), ptr("/proc/self/gid_map"), ptr("/proc/self/uid_map")
	if !u.helper { // else newuidmap and newgidmap write them
		c.gidLine, c.uidLine = line(u.gids), line(u.uids)
		c.denyGroups = len(c.gidLine) > 0 || u.setgroups == "deny"
	}
	c.root, c.slash, c.dot, c.none = ptr(p.root), ptr("/"), ptr("."), ptr("none")
	c.lo = p.lo
	copy(c.ifr.name[:], "lo")
	for i, m := range p.mounts {
		k := fastKinds[m.sys]
		c.mounts[i] = rawMountArgs{ptr(k.fstype), ptr(m.dir), k.flags}
	}
	c.nmounts = len(p.mounts)
	paths := candidates(p.argv[0], os.Getenv("PATH"))
	if len(paths) > fastPaths {
		paths = paths[:fastPaths]
	}
	for i, s := range paths {
		c.paths[i] = ptr(s)
	}
	c.npaths = len(paths)
	if err != nil {
		return nil, err
	}
	argv, err := syscall.SlicePtrFromStrings(p.argv)
	if err != nil {
		return nil, err
	}
	env, err := syscall.SlicePtrFromStrings(chain.Environ(os.Environ()))
	if err != nil {
		return nil, err
	}
	c.argv, c.env = &argv[0], &env[0]
	return c, nil
}

// runFast is tw-unshare's parent with the fast path's child: it forks the
// child, waits for it and passes its status on. It holds no pin (see
// ns.Pin): the container's root has its capabilities in the new user
// namespace only, and the kernel remounts a filesystem read-only only for
// a caller with CAP_SYS_ADMIN in the user namespace that mounted it.
func (o *options) runFast(p *fastPlan, stdio cli.IO) error {
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		return os.NewSyscallError("pipe2", err)
	}
	defer unix.Close(pipe[0])
	sync := [2]int{-1, -1}
	if o.user.helper {
		if err := unix.Pipe2(sync[:], unix.O_CLOEXEC); err != nil {
			unix.Close(pipe[1])
			return os.NewSyscallError("pipe2", err)
		}
		defer unix.Close(sync[1])
	}
	c, err := o.fastArgs(p, pipe[1], sync[0])
	if err != nil {
		unix.Close(pipe[1])
		unix.Close(sync[0])
		return err
	}
	// Pdeathsig follows the thread that forked the child: keep it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sigs := chain.Catch()
	defer func() {
		// (When the process ends next, the signals go with it.)
		if chain.Nested() {
			sigs.Stop()
		}
	}()
	flags := o.cloneflags()
	if p.lo {
		flags |= unix.CLONE_NEWNET
	}
	pid, errno := fastFork(c, flags)
	runtime.KeepAlive(c)
	unix.Close(pipe[1])
	if sync[0] >= 0 {
		unix.Close(sync[0])
	}
	if errno != 0 {
		return hint(fmt.Errorf("new namespaces: %w", errno), &o.user, os.Geteuid())
	}
	if o.user.helper {
		// The child waits for its maps before anything else.
		if err := o.user.newMaps(pid); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, 0, nil)
			return err
		}
		unix.Write(sync[1], []byte{1})
	}
	// Not before: the child could not write its own maps (a process that
	// is not dumpable has its /proc files owned by root).
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	var target atomic.Int64
	target.Store(int64(pid))
	sigs.To(sendTo(&target))
	var r [2]uint32
	if n, _ := readAll(pipe[0], (*[8]byte)(unsafe.Pointer(&r))[:]); n == 8 {
		var ws unix.WaitStatus
		for {
			if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
				break
			}
		}
		return o.fastError(p, int(r[0]), syscall.Errno(r[1]), stdio)
	}
	ws, err := wait(pid, &target)
	if err != nil {
		return err
	}
	return cli.Status(chain.ExitStatus(ws))
}

func applet(name string) cli.Applet {
	a, _ := cli.Lookup(name)
	return a
}

func readAll(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Read(fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || m == 0 {
			return n, err
		}
		n += m
	}
	return n, nil
}

// fastError reports a failed step as the applet of that step does.
func (o *options) fastError(p *fastPlan, step int, errno syscall.Errno, stdio cli.IO) error {
	pe := func(op, path string) error { return &os.PathError{Op: op, Path: path, Err: errno} }
	by := func(name string, err error) error {
		return cli.Status(cli.Report(applet(name), err, stdio.Stderr))
	}
	switch {
	case step >= stepMount && step-stepMount < len(p.mounts):
		m := p.mounts[step-stepMount]
		k := fastKinds[m.sys]
		return by(k.applet, ns.UserHint(pe(k.op, m.dir), k.dir, k.need))
	case step <= stepUIDMap:
		file := map[int]string{stepSetgroups: "setgroups", stepGidMap: "gid_map", stepUIDMap: "uid_map"}[step]
		return fmt.Errorf("new namespaces: write /proc/self/%s: %w", file, errno)
	case step == stepPrivate:
		return pe("make mounts private", "/")
	case step >= stepLoSocket && step <= stepLoUp:
		return by("tw-net", fmt.Errorf("lo: up: %w", errno))
	case step == stepHostname:
		return fmt.Errorf("sethostname %s: %w", o.hostname, errno)
	case step == stepExec:
		var err error = errno
		if errno == 0 {
			err = chain.ErrNotFound
		}
		err = &os.PathError{Op: "exec", Path: p.argv[0], Err: err}
		return by("tw-pivot", cli.Exit(chain.ExitCode(err), err))
	}
	ops := map[int][2]string{
		stepBind: {"bind mount", p.root}, stepOpenRoot: {"open", p.root}, stepOpenOld: {"open", "/"},
		stepChdirRoot: {"chdir", p.root}, stepPivot: {"pivot_root", p.root}, stepChdirOld: {"chdir", "old root"},
		stepDetach: {"detach", "old root"}, stepChdirSlash: {"chdir", "/"}, stepCloseRange: {"close_range", "3…"},
	}
	op, ok := ops[step]
	if !ok {
		return fmt.Errorf("new namespaces: step %d: %w", step, errno)
	}
	return by("tw-pivot", pe(op[0], op[1]))
}

//go:linkname beforeFork syscall.runtime_BeforeFork
func beforeFork()

//go:linkname afterFork syscall.runtime_AfterFork
func afterFork()

//go:linkname afterForkInChild syscall.runtime_AfterForkInChild
func afterForkInChild()

// fastFork is the parent's and the child's side of the fork: a vfork when
// the child maps itself (it runs on this stack, in this memory, while the
// parent waits), else a copy. The child may not grow its stack nor call
// into the runtime but for the fork hooks: it is nosplit, makes raw
// system calls only, and never returns.
//
//go:nosplit
//go:norace
func fastFork(c *fastArgs, flags uintptr) (int, syscall.Errno) {
	beforeFork()
	var pid, errno uintptr
	if c.syncfd < 0 && chain.CanFork {
		pid, errno = chain.Clone(flags | syscall.CLONE_VM | syscall.CLONE_VFORK | uintptr(syscall.SIGCHLD))
	} else {
		var e syscall.Errno
		pid, _, e = syscall.RawSyscall6(syscall.SYS_CLONE, flags|uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
		errno = uintptr(e)
	}
	if errno != 0 || pid != 0 {
		afterFork()
		return int(pid), syscall.Errno(errno)
	}
	afterForkInChild()
	fastChild(c)
	return 0, 0
}

//go:nosplit
//go:norace
func fastChild(c *fastArgs) {
	syscall.RawSyscall(syscall.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0)
	if c.syncfd >= 0 {
		var b [1]byte
		n, _, _ := syscall.RawSyscall(syscall.SYS_READ, uintptr(c.syncfd), uintptr(unsafe.Pointer(&b[0])), 1)
		if n != 1 {
			for { // the parent could not map the ids: it says so
				syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 127, 0, 0)
			}
		}
	}
	if c.denyGroups {
		writeFile(c, stepSetgroups, c.setgroups, c.deny)
	}
	if len(c.gidLine) > 0 {
		writeFile(c, stepGidMap, c.gidMap, c.gidLine)
	}
	if len(c.uidLine) > 0 {
		writeFile(c, stepUIDMap, c.uidMap, c.uidLine)
	}
	none, slash := uintptr(unsafe.Pointer(c.none)), uintptr(unsafe.Pointer(c.slash))
	check(c, stepPrivate, rawMount(none, slash, 0, unix.MS_REC|unix.MS_PRIVATE))
	if len(c.hostname) > 0 {
		_, _, errno := syscall.RawSyscall(syscall.SYS_SETHOSTNAME, uintptr(unsafe.Pointer(&c.hostname[0])), uintptr(len(c.hostname)), 0)
		check(c, stepHostname, errno)
	}
	if c.lo {
		// lo up, as netlink's LinkSetUp makes it: its flags and IFF_UP
		fd, _, errno := syscall.RawSyscall(syscall.SYS_SOCKET, unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		check(c, stepLoSocket, errno)
		ifr := uintptr(unsafe.Pointer(&c.ifr))
		_, _, errno = syscall.RawSyscall(syscall.SYS_IOCTL, fd, unix.SIOCGIFFLAGS, ifr)
		check(c, stepLoFlags, errno)
		c.ifr.flags |= unix.IFF_UP
		_, _, errno = syscall.RawSyscall(syscall.SYS_IOCTL, fd, unix.SIOCSIFFLAGS, ifr)
		check(c, stepLoUp, errno)
		syscall.RawSyscall(syscall.SYS_CLOSE, fd, 0, 0)
	}
	for i := 0; i < c.nmounts && i < fastMounts; i++ {
		m := &c.mounts[i]
		fstype := uintptr(unsafe.Pointer(m.fstype))
		check(c, stepMount+i, rawMount(fstype, uintptr(unsafe.Pointer(m.dir)), fstype, m.flags))
	}
	root := uintptr(unsafe.Pointer(c.root))
	check(c, stepBind, rawMount(root, root, 0, unix.MS_BIND|unix.MS_REC))
	newroot := rawOpen(c, stepOpenRoot, root)
	oldroot := rawOpen(c, stepOpenOld, slash)
	_, _, errno := syscall.RawSyscall(syscall.SYS_FCHDIR, newroot, 0, 0)
	check(c, stepChdirRoot, errno)
	dot := uintptr(unsafe.Pointer(c.dot))
	_, _, errno = syscall.RawSyscall(syscall.SYS_PIVOT_ROOT, dot, dot, 0)
	check(c, stepPivot, errno)
	_, _, errno = syscall.RawSyscall(syscall.SYS_FCHDIR, oldroot, 0, 0)
	check(c, stepChdirOld, errno)
	_, _, errno = syscall.RawSyscall(syscall.SYS_UMOUNT2, dot, unix.MNT_DETACH, 0)
	check(c, stepDetach, errno)
	_, _, errno = syscall.RawSyscall(syscall.SYS_CHDIR, slash, 0, 0)
	check(c, stepChdirSlash, errno)
	syscall.RawSyscall(syscall.SYS_CLOSE, newroot, 0, 0)
	syscall.RawSyscall(syscall.SYS_CLOSE, oldroot, 0, 0)
	// PROG inherits no descriptor but 0, 1 and 2 (the pipe is
	// close-on-exec already).
	_, _, errno = syscall.RawSyscall(unix.SYS_CLOSE_RANGE, 3, ^uintptr(0)>>32, unix.CLOSE_RANGE_CLOEXEC)
	check(c, stepCloseRange, errno)
	// execvp: on to the next directory when not found there; else the
	// first other error, or not found (0).
	var denied syscall.Errno
	for i := 0; i < c.npaths && i < fastPaths; i++ {
		_, _, errno = syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(c.paths[i])), uintptr(unsafe.Pointer(c.argv)), uintptr(unsafe.Pointer(c.env)))
		if errno != syscall.ENOENT && errno != syscall.ENOTDIR && denied == 0 {
			denied = errno
		}
	}
	fail(c.errfd, stepExec, denied)
}

//go:nosplit
//go:norace
func rawMount(src, dst, fstype, flags uintptr) syscall.Errno {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_MOUNT, src, dst, fstype, flags, 0, 0)
	return errno
}

//go:nosplit
//go:norace
func rawOpen(c *fastArgs, step int, p uintptr) uintptr {
	fd, _, errno := syscall.RawSyscall6(syscall.SYS_OPENAT, atFdcwd, p, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
	check(c, step, errno)
	return fd
}

//go:nosplit
//go:norace
func writeFile(c *fastArgs, step int, p *byte, data []byte) {
	fd, _, errno := syscall.RawSyscall6(syscall.SYS_OPENAT, atFdcwd, uintptr(unsafe.Pointer(p)), unix.O_WRONLY|unix.O_CLOEXEC, 0, 0, 0)
	check(c, step, errno)
	_, _, errno = syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)))
	check(c, step, errno)
	syscall.RawSyscall(syscall.SYS_CLOSE, fd, 0, 0)
}

//go:nosplit
//go:norace
func check(c *fastArgs, step int, errno syscall.Errno) {
	if errno != 0 {
		fail(c.errfd, step, errno)
	}
}

// fail reports the failed step and its errno to the parent and exits.
//
//go:nosplit
//go:norace
func fail(fd int, step int, errno syscall.Errno) {
	r := [2]uint32{uint32(step), uint32(errno)}
	syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&r)), 8)
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 127, 0, 0)
	}
}

// atFdcwd is AT_FDCWD as a system call argument.
var atFdcwd = func() uintptr { fd := unix.AT_FDCWD; return uintptr(fd) }()
