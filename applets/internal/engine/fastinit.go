package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
	"github.com/tupperware/tw/applets/internal/cgroup"
	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/mount"
	"github.com/tupperware/tw/applets/internal/ns"
)

// The container's init without a second start of tw, as the one-line
// chain's thread mode (package chain): create builds the container in its
// own process, on a locked OS thread that has unshared the namespaces (its
// mounts, devices, pivot_root, hostname happen there, never on another
// thread, and the thread is never given back to the Go runtime: it ends
// with its goroutine). Then it forks the init from that thread
// (chain.Fork, a real fork: the init outlives create), PID 1 of the new
// pid namespace, which runs prepared raw system calls only: it makes
// itself non-dumpable, joins the cgroup (and unshares the cgroup
// namespace), mounts the procs and cgroups of its namespaces, writes
// sysctls, masks, takes its rlimits, identity and capabilities, reports
// to create, waits at the start gate, installs the seccomp filter last
// and executes the program. What needs Go in the init (a user namespace:
// a multithreaded process can neither unshare nor join one;
// hooks that run while the container is made; SELinux mount labels) takes the Go
// init (init.go), as does a config whose mounts the init could not make
// in the same order.

// envGoInit, set in create's environment, makes it take the Go init
// always (to compare the two).
const envGoInit = "_TW_RUNC_GO_INIT"

// forkable reports whether the container's init can be forked from
// create (see above).
func forkable(spec *specs.Spec, o *CreateOpts, stdio cli.IO, r *Runtime) bool {
	if !chain.CanFork || os.Geteuid() != 0 || r.RootlessCgroups ||
		os.Getenv(envGoInit) != "" || spec.Process == nil || spec.Linux == nil ||
		spec.Linux.MountLabel != "" || o.PreserveFds < 0 {
		return false
	}
	if h := spec.Hooks; h != nil && len(h.Prestart)+len(h.CreateRuntime)+len(h.CreateContainer)+len(h.StartContainer) > 0 {
		return false
	}
	if !newNS(spec, specs.MountNamespace) {
		return false
	}
	for _, n := range spec.Linux.Namespaces {
		switch n.Type {
		case specs.UserNamespace:
			return false
		case specs.CgroupNamespace:
			if n.Path != "" {
				return false
			}
		}
	}
	if under(filepath.Clean(spec.Process.Cwd), "/proc") {
		return false
	}
	if !lateMountsKeepOrder(spec.Mounts) {
		return false
	}
	for i, def := range []*os.File{os.Stdin, os.Stdout, os.Stderr} {
		var v any = []any{stdio.Stdin, stdio.Stdout, stdio.Stderr}[i]
		if f := cli.StdFile(v, def); f == nil || f.Fd() != uintptr(i) {
			return false
		}
	}
	// The init marks the descriptors close-on-exec with close_range(2)
	// (Linux 5.11): tried on a range with nothing open.
	return unix.CloseRange(1<<30, 1<<30, unix.CLOSE_RANGE_CLOEXEC) == nil
}

// lateMountsKeepOrder reports whether the forked init may mount the procs
// and (with a cgroup namespace) the cgroups after the other mounts: none
// may be below them, and none that config.json puts after one of them may
// cover it (a bind of /sys after the cgroups at /sys/fs/cgroup), as the
// order would change.
func lateMountsKeepOrder(mounts []specs.Mount) bool {
	var late []string
	for _, m := range mounts {
		d := filepath.Clean("/" + m.Destination)
		if d == "/" || under(d, "/proc") && !(d == "/proc" && m.Type == "proc" && !isBind(m)) {
			return false
		}
		for _, l := range late {
			if under(l, d) {
				return false
			}
		}
		if m.Type == "proc" && !isBind(m) || (m.Type == "cgroup" || m.Type == "cgroup2") && !isBind(m) {
			late = append(late, d)
		}
	}
	for _, m := range mounts {
		d := filepath.Clean("/" + m.Destination)
		for _, l := range late {
			if d != l && under(d, l) {
				return false
			}
		}
	}
	return true
}

// under reports whether the clean path p is dir or below it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// forking is a container whose init a locked thread is building.
type forking struct {
	b    *build
	cg   chan *Cgroup // the cgroup, for the build; closed if none was made
	done chan forkResult
}

type forkResult struct {
	pid int
	err error
}

// startFork starts building the container on a locked thread, up to
// where it needs the cgroup: its namespaces and the root's propagation
// are made while the caller makes the cgroup. finish hands the build the
// cgroup and waits for the init.
func startFork(spec *specs.Spec, rootfs, cgPath string, gate, console *os.File, preserve int) (*forking, error) {
	sec, err := newSeccomp(spec.Linux.Seccomp)
	if err != nil {
		return nil, err
	}
	b := &build{spec: spec, rootfs: rootfs, cgPath: cgPath, gate: int(gate.Fd()), preserve: preserve, sec: sec,
		console: console}
	if b.eff, b.perm, b.inh, err = caps.Current(); err != nil {
		return nil, err
	}
	f := &forking{b: b, cg: make(chan *Cgroup, 1), done: make(chan forkResult, 1)}
	b.cgReady = f.cg
	go func() {
		// This thread leaves the runtime's namespaces for good: it is
		// never unlocked, so the Go runtime ends it with this goroutine.
		runtime.LockOSThread()
		pid, err := b.run()
		f.done <- forkResult{pid, err}
	}()
	return f, nil
}

// finish gives the build the cgroup the caller made (cg, or its error
// cgErr, which ends the build), runs meanwhile while the init forks, and
// returns the init's pid once it waits at the gate, in cg. Errors read as
// the Go init's do.
func (f *forking) finish(cg *Cgroup, cgErr error, meanwhile func()) (int, error) {
	if cgErr == nil && cg != nil {
		// The init joins the cgroup through descriptors opened here, in
		// the runtime's mount namespace.
		var err error
		if f.b.procs, err = cgroup.OpenProcs(cg.Dirs()); err != nil {
			cgErr = f.b.cgroupError(err)
		} else {
			defer f.b.procs.Close()
		}
	}
	if cgErr != nil {
		close(f.cg)
		<-f.done
		return 0, cgErr
	}
	f.cg <- cg
	if meanwhile != nil {
		meanwhile()
	}
	res := <-f.done
	if res.err != nil {
		if errors.Is(res.err, chain.ErrNoReport) {
			return 0, errors.New("container init exited before it was ready")
		}
		// As the Go init's reply: only the message.
		return 0, errors.New(res.err.Error())
	}
	return res.pid, nil
}

// errCgroupLost ends a build whose cgroup could not be made.
var errCgroupLost = errors.New("no cgroup")

// build is the container as the locked thread builds it.
type build struct {
	spec           *specs.Spec
	rootfs, cgPath string
	cg             *Cgroup
	gate, preserve int
	sec            *filter
	cgReady        <-chan *Cgroup // the cgroup, once made; closed if none was
	procs          *cgroup.Procs  // the cgroup's, for the init to join it
	console        *os.File       // the console socket with process.terminal
	closeAfter     []int          // descriptors of this process to close after the fork
	eff, perm, inh caps.Set
}

// cgroupError is the error of the container's cgroup, as the Go init's
// (create).
func (b *build) cgroupError(err error) error { return fmt.Errorf("cgroup %s: %w", b.cgPath, err) }

// inner is the path inside the container of dest, a path below rootfs.
func (b *build) inner(dest string) string {
	rel, err := filepath.Rel(b.rootfs, dest)
	if err != nil || rel == "." {
		return "/"
	}
	return "/" + rel
}

// pathErr is the error of a stage of a chain.WriteLater step, as
// os.WriteFile's.
func pathErr(path string, stage int, e syscall.Errno) error {
	switch stage {
	case 0:
		return &os.PathError{Op: "open", Path: path, Err: e}
	case 1:
		if e == unix.EXDEV {
			return fmt.Errorf("%s: not on procfs", path)
		}
		return &os.PathError{Op: "fstatfs", Path: path, Err: e}
	}
	return &os.PathError{Op: "write", Path: path, Err: e}
}

func (b *build) run() (int, error) {
	spec, proc := b.spec, b.spec.Process
	chain.TakeSteps() // a record of nothing
	defer chain.TakeSteps()
	defer func() {
		for _, fd := range b.closeAfter {
			unix.Close(fd)
		}
	}()
	flags := cloneFlags(spec) &^ (unix.CLONE_NEWCGROUP | unix.CLONE_NEWUSER)
	before, err := mountNS()
	if err != nil {
		return 0, err
	}
	if err := unix.Unshare(int(flags)); err != nil {
		return 0, fmt.Errorf("new namespaces: %w", err)
	}
	// The guard: the mounts below are made in a mount namespace of this
	// thread's own, never in the runtime's.
	if after, err := mountNS(); err != nil || after.Ino == before.Ino && after.Dev == before.Dev {
		return 0, errors.Join(errors.New("new mount namespace: the thread is still in the runtime's"), err)
	}
	for _, n := range spec.Linux.Namespaces {
		if n.Path != "" {
			if err := ns.Enter(n.Path, int(nsFlags[n.Type])); err != nil {
				return 0, err
			}
		}
	}
	if err := prepareRoot(b.rootfs, spec.Linux.RootfsPropagation); err != nil {
		return 0, err
	}
	// What follows needs the cgroup, which the runtime makes meanwhile.
	cg, ok := <-b.cgReady
	if !ok {
		return 0, errCgroupLost
	}
	b.cg = cg
	call := func(fail func(e syscall.Errno) error, nr uintptr, a ...uintptr) {
		chain.CallLater("", 0, fail, nr, a...)
	}
	errorf := func(format string, a ...any) func(e syscall.Errno) error {
		return func(e syscall.Errno) error { return fmt.Errorf(format, append(a, e)...) }
	}
	// CVE-2019-5736: until it executes the program the init is tw, which
	// no process without CAP_SYS_PTRACE may open through /proc/1/exe.
	call(errorf("prctl dumpable: %w"), unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, 0)
	call(errorf("setsid: %w"), unix.SYS_SETSID)
	if b.procs != nil {
		b.procs.JoinLater("", b.cgroupError)
	}
	newCg := newNS(spec, specs.CgroupNamespace)
	if newCg {
		call(errorf("new cgroup namespace: %w"), unix.SYS_UNSHARE, unix.CLONE_NEWCGROUP)
	}
	in := &initProc{cfg: &initConfig{Spec: spec, Rootfs: b.rootfs, Cgroup: b.cg}}
	for _, m := range spec.Mounts {
		if err := b.mount(in, m, newCg); err != nil {
			return 0, err
		}
	}
	if err := makeDevices(b.rootfs, spec.Linux.Devices, false); err != nil {
		return 0, err
	}
	if err := jail(spec, b.rootfs); err != nil {
		return 0, err
	}
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return 0, fmt.Errorf("sethostname %s: %w", spec.Hostname, err)
		}
	}
	if spec.Domainname != "" {
		if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
			return 0, fmt.Errorf("setdomainname %s: %w", spec.Domainname, err)
		}
	}
	for k, v := range spec.Linux.Sysctl {
		p := sysctlPath(k)
		chain.WriteLater("", p, []byte(v), false, func(stage int, e syscall.Errno) error {
			return fmt.Errorf("sysctl %s: %w", k, pathErr(p, stage, e))
		})
	}
	if len(spec.Linux.MaskedPaths) > 0 {
		if err := mount.CheckDevNull(); err != nil {
			return 0, err
		}
	}
	chain.MaskLater("", spec.Linux.MaskedPaths, spec.Linux.ReadonlyPaths)
	if spec.Root.Readonly {
		chain.RemountLater("", "/", unix.MS_RDONLY)
	}
	if proc.Terminal {
		if err := b.terminal(); err != nil {
			return 0, err
		}
	}
	if proc.OOMScoreAdj != nil {
		p := "/proc/self/oom_score_adj"
		chain.WriteLater("", p, []byte(strconv.Itoa(*proc.OOMScoreAdj)), false, func(stage int, e syscall.Errno) error {
			return fmt.Errorf("oom_score_adj: %w", pathErr(p, stage, e))
		})
	}
	// The init inherits this thread's root and cwd.
	if err := unix.Chdir(proc.Cwd); err != nil {
		return 0, &os.PathError{Op: "chdir", Path: proc.Cwd, Err: err}
	}
	env := withHome(proc.Env, proc.User.UID)
	path, err := chain.LookPath(proc.Args[0], getenv(env, "PATH"))
	if err != nil {
		return 0, err
	}
	// (chain.Fork's child gives the program the caller's RLIMIT_NOFILE
	// first, as os/exec gives it to the Go init; config.json's come after.)
	for _, r := range proc.Rlimits {
		lim := &unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		call(errorf("setrlimit %s: %w", r.Type), unix.SYS_PRLIMIT64, 0, uintptr(rlimitResource(r.Type)), chain.Ptr(lim), 0)
	}
	if proc.User.Umask != nil {
		chain.TryLater(unix.SYS_UMASK, uintptr(*proc.User.Umask))
	}
	b.lsm(beforeCreds)
	// Only 0, 1, 2 and the preserved descriptors reach the program.
	call(errorf("close_range: %w"), unix.SYS_CLOSE_RANGE, uintptr(3+b.preserve), ^uintptr(0)>>32, unix.CLOSE_RANGE_CLOEXEC)
	for fd := 3; fd < 3+b.preserve; fd++ {
		call(errorf("preserve fd %d: %w", fd), unix.SYS_FCNTL, uintptr(fd), unix.F_SETFD, 0)
	}
	capSets := newCapSets(proc.Capabilities)
	b.setUser(proc.User, capSets)
	capsLast := !proc.NoNewPrivileges && b.sec.active()
	if capsLast {
		// raiseAdmin: CAP_SYS_ADMIN for the filter, if permitted. A
		// change of uid emptied the effective set.
		if b.perm.Has(caps.SYS_ADMIN) {
			eff := b.eff
			if proc.User.UID != 0 {
				eff = 0
			}
			hdr, data := capData(eff|1<<caps.SYS_ADMIN, b.perm, b.inh)
			chain.TryLater(unix.SYS_CAPSET, hdr, data)
		}
	} else {
		applyCapsLater(capSets)
	}
	if proc.NoNewPrivileges {
		call(errorf("no_new_privs: %w"), unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1)
	}
	b.lsm(afterCreds)
	steps := chain.TakeSteps()
	// After the gate: the filter last (but capset and prctl, as in the Go
	// init).
	if b.sec.active() {
		fprog := &unix.SockFprog{Len: uint16(len(b.sec.prog)), Filter: &b.sec.prog[0]}
		call(errorf("seccomp: %w"), unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, chain.Ptr(fprog))
	}
	if capsLast {
		applyCapsLater(capSets)
	}
	late := chain.TakeSteps()
	// The init's one execve: chain.Fork's child executes path through the
	// sealed trampoline (runc CVE-2019-5736): the init is a fork of create,
	// the host's tw, which a '#!/proc/self/exe' program would run again.
	return chain.Fork(&chain.Spawn{Steps: steps, Gate: b.gate, Late: late, Path: path, Argv: proc.Args, Env: env,
		Prefix: "tw-runc: ", Trampoline: true})
}

// mountNS identifies this thread's mount namespace.
func mountNS() (unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/mnt", &st); err != nil {
		return st, &os.PathError{Op: "stat", Path: "/proc/thread-self/ns/mnt", Err: err}
	}
	return st, nil
}

// mount makes mount m: on this thread, or, for the procs and the cgroups
// of a new cgroup namespace, which only a process inside its namespaces
// can mount, in the init.
func (b *build) mount(in *initProc, m specs.Mount, newCg bool) error {
	isProc := m.Type == "proc" && !isBind(m)
	isCg := (m.Type == "cgroup" || m.Type == "cgroup2") && !isBind(m) && newCg
	if !isProc && !isCg {
		return in.mount(b.rootfs, m)
	}
	dest, err := securejoin.SecureJoin(b.rootfs, m.Destination)
	if err != nil {
		return fmt.Errorf("mount %s: %w", m.Destination, err)
	}
	if err := checkProcMount(b.rootfs, dest, m); err != nil {
		return err
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("mount %s: %w", m.Destination, err)
	}
	flags, prop, data := mountOptions(m.Options)
	inner := b.inner(dest)
	later := func(src, at, fstype string, flags uintptr, data string, op, path string) {
		d := uintptr(0)
		if data != "" {
			d = chain.CString(data)
		}
		chain.CallLater("", 0, func(e syscall.Errno) error {
			return fmt.Errorf("mount %s: %w", m.Destination, &os.PathError{Op: op, Path: path, Err: e})
		}, unix.SYS_MOUNT, chain.CString(src), chain.CString(at), chain.CString(fstype), flags, d)
	}
	switch {
	case isProc:
		src := m.Source
		if src == "" {
			src = m.Type
		}
		later(src, inner, "proc", flags, data, "mount proc", dest)
	case b.cg.V2 || m.Type == "cgroup2":
		later("cgroup2", inner, "cgroup2", flags, "", "mount cgroup2", dest)
	default:
		// cgroup v1: a tmpfs with a directory per hierarchy, made here;
		// the hierarchies mounted by the init.
		if err := unix.Mount("tmpfs", dest, "tmpfs", flags&^unix.MS_RDONLY, "mode=755"); err != nil {
			return fmt.Errorf("mount %s: %w", m.Destination, &os.PathError{Op: "mount tmpfs", Path: dest, Err: err})
		}
		for mp := range b.cg.Paths {
			sub := filepath.Join(dest, filepath.Base(mp))
			if err := os.Mkdir(sub, 0o755); err != nil {
				return fmt.Errorf("mount %s: %w", m.Destination, err)
			}
			later("cgroup", b.inner(sub), "cgroup", flags, b.cg.Opts[mp], "mount cgroup "+b.cg.Opts[mp], sub)
		}
		if flags&unix.MS_RDONLY != 0 {
			if err := mount.Remount(dest, unix.MS_RDONLY); err != nil {
				return fmt.Errorf("mount %s: %w", m.Destination, err)
			}
		}
	}
	for _, p := range prop {
		chain.CallLater("", 0, func(e syscall.Errno) error {
			return fmt.Errorf("mount %s: %w", m.Destination, &os.PathError{Op: "set propagation", Path: dest, Err: e})
		}, unix.SYS_MOUNT, chain.CString(""), chain.CString(inner), chain.CString(""), p, 0)
	}
	return nil
}

// terminal gives the container a terminal as the Go init's console does:
// the pty is opened here, in the container's devpts, and its master sent;
// the init (in its own session) makes the slave its controlling terminal
// and fds 0, 1 and 2.
func (b *build) terminal() error {
	if b.console == nil {
		return fmt.Errorf("process.terminal needs --console-socket")
	}
	slave, name, err := openConsole(b.console, b.spec.Process)
	if err != nil {
		return err
	}
	chain.CallLater("", 0, func(e syscall.Errno) error { return fmt.Errorf("make %s the controlling terminal: %w", name, e) },
		unix.SYS_IOCTL, uintptr(slave), unix.TIOCSCTTY, 0)
	for fd := 0; fd < 3; fd++ {
		chain.CallLater("", 0, func(e syscall.Errno) error { return fmt.Errorf("dup %s to %d: %w", name, fd, e) },
			unix.SYS_DUP3, uintptr(slave), uintptr(fd), 0)
	}
	chain.TryLater(unix.SYS_CLOSE, uintptr(slave))
	// This process's copy, once the init is forked.
	b.closeAfter = append(b.closeAfter, slave)
	return nil
}

// lsm records the init's writes of AppArmor and SELinux attributes at
// step (writeLSM's).
func (b *build) lsm(step lsmStep) {
	_, err := os.Stat("/proc/thread-self/attr/apparmor")
	for _, w := range lsmWrites(b.spec.Process, false, step, err == nil) {
		chain.WriteLater("", w.Path, []byte(w.Value), true, func(stage int, e syscall.Errno) error {
			return fmt.Errorf("%s: %w", w.What, pathErr(w.Path, stage, e))
		})
	}
}

// setUser records setUser's steps: the bounding set cut, then groups, gid
// and uid, keeping the capabilities across the change of uid.
func (b *build) setUser(u specs.User, c *capSets) {
	if c != nil {
		for i, n := 0, capsKnown(); i < n; i++ {
			if !c.bounding.Has(i) {
				chain.CallLater("", unix.EINVAL, func(e syscall.Errno) error {
					return fmt.Errorf("drop capability %d from the bounding set: %w", i, e)
				}, unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(i))
			}
		}
	}
	keepcaps := func(on uintptr) {
		chain.CallLater("", 0, func(e syscall.Errno) error { return fmt.Errorf("keepcaps: %w", e) },
			unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, on)
	}
	keepcaps(1)
	gids := make([]uint32, len(u.AdditionalGids)+1) // one more: never empty
	copy(gids, u.AdditionalGids)
	chain.CallLater("", 0, func(e syscall.Errno) error { return fmt.Errorf("setgroups: %w", e) },
		unix.SYS_SETGROUPS, uintptr(len(u.AdditionalGids)), chain.Ptr(&gids[0]))
	gid, uid := uintptr(u.GID), uintptr(u.UID)
	chain.CallLater("", 0, func(e syscall.Errno) error { return fmt.Errorf("setgid %d: %w", u.GID, e) },
		unix.SYS_SETRESGID, gid, gid, gid)
	chain.CallLater("", 0, func(e syscall.Errno) error { return fmt.Errorf("setuid %d: %w", u.UID, e) },
		unix.SYS_SETRESUID, uid, uid, uid)
	keepcaps(0)
}

// capsKnown is how many capabilities the kernel knows: those of
// caps.Names, or more (PR_CAPBSET_READ refuses a number above the last).
// The init drops no others from the bounding set (the kernel refuses each
// with EINVAL): 23 system calls fewer on its way.
func capsKnown() int {
	n := len(caps.Names)
	for ; n < 64; n++ {
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(n), 0, 0, 0); err == unix.EINVAL {
			break
		}
	}
	return n
}

// capData are capset(2)'s arguments for the sets, kept for the init.
func capData(eff, perm, inh caps.Set) (hdr, data uintptr) {
	h := &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	d := &[2]unix.CapUserData{
		{Effective: uint32(eff), Permitted: uint32(perm), Inheritable: uint32(inh)},
		{Effective: uint32(eff >> 32), Permitted: uint32(perm >> 32), Inheritable: uint32(inh >> 32)},
	}
	return chain.Ptr(h), chain.Ptr(d)
}

// applyCapsLater records applyCaps' steps: the sets, the ambient set
// emptied, then the ambient capabilities the kernel takes raised.
func applyCapsLater(c *capSets) {
	if c == nil {
		return
	}
	hdr, data := capData(c.eff, c.perm, c.inh)
	chain.CallLater("", 0, func(e syscall.Errno) error { return fmt.Errorf("capset %s: %w", c.eff, e) },
		unix.SYS_CAPSET, hdr, data)
	chain.CallLater("", unix.EINVAL, func(e syscall.Errno) error { return fmt.Errorf("clear ambient capabilities: %w", e) },
		unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL)
	for i := 0; i < 64; i++ {
		if c.amb.Has(i) && c.perm.Has(i) && c.inh.Has(i) {
			chain.TryLater(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(i))
		}
	}
}
