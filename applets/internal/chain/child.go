package chain

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
	"github.com/tupperware/tw/applets/internal/nofile"
)

// What the child of thread mode does between fork and execve: the steps
// the applets of the chain leave to it (MountProcLater, MaskLater,
// RestrictLater), in the order they were recorded. Each step is one to
// three raw system calls whose arguments are all prepared here, before the
// fork: the child shares this process's memory and stack (vfork) and may
// neither allocate nor grow its stack.

type stepKind uint8

const (
	stepCall    stepKind = iota // one system call; ok is an errno that is no failure
	stepMask                    // /dev/null bound over a file, an empty read-only tmpfs over a directory
	stepRemount                 // (bound onto itself first if a[2]) remounted with flags a[1] added to its own
	stepTry                     // one system call whose error is no failure
	stepWrite                   // a[1:3] written to the file at a[0] (on a procfs if a[3]: else EXDEV at stage 1)
	stepPivot                   // into the new root at a[0] (PivotLater)
	stepLinkUp                  // the interface of ifr up (LinkUpLater)
	stepFork                    // fork again, the new process goes on (ForkLater: Fork's child only)
)

type step struct {
	kind stepKind
	ok   syscall.Errno
	nr   uintptr
	a    [6]uintptr
	ifr  *ifreqFlags
}

// stepInfo is what the parent makes of a failed step: the applet that
// recorded it, and its error from the stage that failed and the errno.
type stepInfo struct {
	applet string
	fail   func(stage int, errno syscall.Errno) error
}

var (
	steps    []step
	infos    []stepInfo
	keep     []any // what the steps point to, alive until ForkExec
	stepsErr error // a step that could not be prepared
)

// callerNofile is RLIMIT_NOFILE as this process got it, before package
// syscall raised the soft limit (package nofile), or nil if unknown: the
// child gives it back to the program first thing, as os/exec does, and as
// util-linux's unshare leaves it.
func callerNofile() *unix.Rlimit {
	soft, hard, ok := nofile.Original()
	if !ok {
		return nil
	}
	return &unix.Rlimit{Cur: soft, Max: hard}
}

// restoreNofile is the child's side of callerNofile (raw, errors ignored
// as os/exec ignores them).
//
//go:nosplit
//go:norace
func restoreNofile(lim *unix.Rlimit) {
	if lim != nil {
		syscall.RawSyscall6(unix.SYS_PRLIMIT64, 0, unix.RLIMIT_NOFILE, uintptr(unsafe.Pointer(lim)), 0, 0, 0)
	}
}

// StepError is a step of the child that failed, under the name of the
// applet that left it to the child (chain.Exec reports it so).
type StepError struct {
	Applet string
	Err    error
}

func (e *StepError) Error() string { return e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

func reset() {
	steps, infos, keep, stepsErr = nil, nil, nil, nil
	trampolined = false
}

func later(applet string, s step, fail func(stage int, errno syscall.Errno) error) {
	steps = append(steps, s)
	infos = append(infos, stepInfo{applet, fail})
}

// cstring is s NUL-terminated, kept alive for the child.
func cstring(s string) uintptr {
	p, err := unix.BytePtrFromString(s)
	if err != nil {
		if stepsErr == nil {
			stepsErr = &os.PathError{Op: "prepare", Path: s, Err: err}
		}
		return 0
	}
	keep = append(keep, p)
	return uintptr(unsafe.Pointer(p))
}

// ptr is the address of x, kept alive for the child.
func ptr[T any](x *T) uintptr {
	keep = append(keep, x)
	return uintptr(unsafe.Pointer(x))
}

// MountProcLater has the child of thread mode mount a fresh proc at dir,
// nosuid, nodev, noexec (mount.Proc): only a process of the new pid
// namespace can.
func MountProcLater(dir string) {
	flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	proc := cstring("proc")
	later("mountproc", step{kind: stepCall, nr: unix.SYS_MOUNT, a: [6]uintptr{proc, cstring(dir), proc, flags}},
		func(_ int, e syscall.Errno) error { return &os.PathError{Op: "mount proc", Path: dir, Err: e} })
}

// MaskLater has the child of thread mode do what mount.Mask does, after the
// procs are mounted: each of readonly made read-only, each of masked
// hidden, missing ones skipped. The caller checks /dev/null first.
func MaskLater(applet string, masked, readonly []string) {
	for _, p := range readonly {
		remountLater(applet, p, unix.MS_RDONLY, true)
	}
	for _, p := range masked {
		later(applet, step{kind: stepMask, a: [6]uintptr{cstring(p)}},
			func(_ int, e syscall.Errno) error { return &os.PathError{Op: "mask", Path: p, Err: e} })
	}
}

// RemountLater has the child of thread mode add flags (MS_RDONLY,
// MS_NODEV) to the mount at p, keeping the flags it has (mount.Remount).
func RemountLater(applet, p string, flags uintptr) { remountLater(applet, p, flags, false) }

// remountLater records a remount of p, after a bind of p onto itself
// when bind is set (a missing p is then skipped).
func remountLater(applet, p string, flags uintptr, bind bool) {
	b := uintptr(0)
	if bind {
		b = 1
	}
	op := "make nodev"
	if flags&unix.MS_RDONLY != 0 {
		op = "make read-only"
	}
	later(applet, step{kind: stepRemount, a: [6]uintptr{cstring(p), flags, b}}, func(stage int, e syscall.Errno) error {
		return &os.PathError{Op: [...]string{"bind mount", "statfs", op}[stage], Path: p, Err: e}
	})
}

// Restrict is what the child of thread mode takes away from itself after
// its mounts, in tw-harden's order: rlimits; the bounding set cut to Keep;
// the user (UID >= 0: no supplementary groups, GID, UID); Caps as the
// effective and permitted set, nothing inheritable or ambient;
// no_new_privs; the seccomp Filter (if any) last, right before execve,
// which it must allow.
type Restrict struct {
	Rlimits  []caps.Rlimit
	Keep     caps.Set
	UID, GID int
	Caps     caps.Set
	Filter   []unix.SockFilter
}

// RestrictLater records r for the child of thread mode.
func RestrictLater(applet string, r Restrict) {
	trampolined = true
	call := func(nr uintptr, ok syscall.Errno, fail func(e syscall.Errno) error, a ...uintptr) {
		s := step{kind: stepCall, nr: nr, ok: ok}
		copy(s.a[:], a)
		later(applet, s, func(_ int, e syscall.Errno) error { return fail(e) })
	}
	for _, rl := range r.Rlimits {
		lim := &unix.Rlimit{Cur: rl.Soft, Max: rl.Hard}
		call(unix.SYS_PRLIMIT64, 0, func(e syscall.Errno) error { return fmt.Errorf("setrlimit %s: %w", rl.Name, e) },
			0, uintptr(rl.Resource), ptr(lim), 0)
	}
	for c := 0; c <= lastCap(); c++ {
		if !r.Keep.Has(c) {
			call(unix.SYS_PRCTL, unix.EINVAL, func(e syscall.Errno) error {
				return fmt.Errorf("drop capability %d from the bounding set: %w", c, e)
			}, unix.PR_CAPBSET_DROP, uintptr(c))
		}
	}
	if r.UID >= 0 {
		call(unix.SYS_SETGROUPS, 0, func(e syscall.Errno) error { return fmt.Errorf("setgroups: %w", e) }, 0, 0)
		gid, uid := uintptr(r.GID), uintptr(r.UID)
		call(unix.SYS_SETRESGID, 0, func(e syscall.Errno) error { return fmt.Errorf("setresgid %d: %w", r.GID, e) }, gid, gid, gid)
		call(unix.SYS_SETRESUID, 0, func(e syscall.Errno) error { return fmt.Errorf("setresuid %d: %w", r.UID, e) }, uid, uid, uid)
		// A change of user clears the parent-death signal.
		call(unix.SYS_PRCTL, 0, func(e syscall.Errno) error { return fmt.Errorf("pdeathsig: %w", e) },
			unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL))
	}
	hdr := &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := &[2]unix.CapUserData{
		{Effective: uint32(r.Caps), Permitted: uint32(r.Caps)},
		{Effective: uint32(r.Caps >> 32), Permitted: uint32(r.Caps >> 32)},
	}
	call(unix.SYS_CAPSET, 0, func(e syscall.Errno) error { return fmt.Errorf("capset %s: %w", r.Caps, e) }, ptr(hdr), ptr(data))
	call(unix.SYS_PRCTL, unix.EINVAL, func(e syscall.Errno) error { return fmt.Errorf("clear ambient capabilities: %w", e) },
		unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL)
	call(unix.SYS_PRCTL, 0, func(e syscall.Errno) error { return fmt.Errorf("no_new_privs: %w", e) },
		unix.PR_SET_NO_NEW_PRIVS, 1)
	if len(r.Filter) > 0 {
		keep = append(keep, r.Filter)
		prog := &unix.SockFprog{Len: uint16(len(r.Filter)), Filter: &r.Filter[0]}
		call(unix.SYS_SECCOMP, 0, func(e syscall.Errno) error { return fmt.Errorf("seccomp: %w", e) },
			unix.SECCOMP_SET_MODE_FILTER, 0, ptr(prog))
	}
}

// lastCap is the highest capability the kernel knows: PR_CAPBSET_READ
// refuses any above it.
func lastCap() int {
	known := func(c int) bool {
		_, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		return err != unix.EINVAL
	}
	c := len(caps.Names) - 1
	for known(c + 1) {
		c++
	}
	for c > 0 && !known(c) {
		c--
	}
	return c
}

// Constants the child passes to mount(2).
var (
	tmpfsName = [...]byte{'t', 'm', 'p', 'f', 's', 0}
	maskData  = [...]byte{'s', 'i', 'z', 'e', '=', '0', ',', 'm', 'o', 'd', 'e', '=', '5', '5', '5', 0}
	devNull   = [...]byte{'/', 'd', 'e', 'v', '/', 'n', 'u', 'l', 'l', 0}
)

// atFDCWD is AT_FDCWD (-100) as a system call's argument.
const atFDCWD = ^uintptr(99)

// keptFlags are the flags of a mount that its read-only remount repeats
// (mount.Remount).
const keptFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME

// child runs the steps and executes the program, or reports the step, the
// stage of it and the errno that failed in c and exits. It runs on the
// parent's stack, in the parent's memory: nosplit, raw system calls only,
// and it never returns.
//
//go:nosplit
//go:norace
func child(c *forkArgs) {
	syscall.RawSyscall(syscall.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0)
	restoreNofile(c.nofile)
	for i := 0; i < len(c.steps); i++ {
		if stage, e := doStep(&c.steps[i], &c.stx, &c.sfs); e != 0 {
			childFail(c, i, stage, e)
		}
	}
	if c.t != nil {
		childFail(c, len(c.steps), 0, execTrampoline(c))
	}
	_, _, e := syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(c.path)),
		uintptr(unsafe.Pointer(c.argv)), uintptr(unsafe.Pointer(c.env)))
	childFail(c, len(c.steps), 0, e)
}

// doStep makes step s in a child (ForkExec's or Fork's), with stx and sfs
// as its buffers, and returns the stage of it and the errno that failed,
// errno 0 when it did not. Raw system calls only: see child.
//
//go:nosplit
//go:norace
func doStep(s *step, stx *unix.Statx_t, sfs *unix.Statfs_t) (int, syscall.Errno) {
	switch s.kind {
	case stepCall:
		_, _, e := syscall.RawSyscall6(s.nr, s.a[0], s.a[1], s.a[2], s.a[3], s.a[4], s.a[5])
		if e != 0 && e != s.ok {
			return 0, e
		}
	case stepTry:
		syscall.RawSyscall6(s.nr, s.a[0], s.a[1], s.a[2], s.a[3], s.a[4], s.a[5])
	case stepMask:
		_, _, e := syscall.RawSyscall6(unix.SYS_STATX, atFDCWD, s.a[0], 0, unix.STATX_TYPE,
			uintptr(unsafe.Pointer(stx)), 0)
		if e == syscall.ENOENT {
			return 0, 0
		}
		if e != 0 {
			return 0, e
		}
		if stx.Mode&unix.S_IFMT == unix.S_IFDIR {
			fs := uintptr(unsafe.Pointer(&tmpfsName[0]))
			_, _, e = syscall.RawSyscall6(unix.SYS_MOUNT, fs, s.a[0], fs,
				unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, uintptr(unsafe.Pointer(&maskData[0])), 0)
		} else {
			_, _, e = syscall.RawSyscall6(unix.SYS_MOUNT, uintptr(unsafe.Pointer(&devNull[0])), s.a[0], 0, unix.MS_BIND, 0, 0)
		}
		if e != 0 {
			return 1, e
		}
	case stepRemount:
		if s.a[2] != 0 {
			_, _, e := syscall.RawSyscall6(unix.SYS_MOUNT, s.a[0], s.a[0], 0, unix.MS_BIND|unix.MS_REC, 0, 0)
			if e == syscall.ENOENT {
				return 0, 0
			}
			if e != 0 {
				return 0, e
			}
		}
		_, _, e := syscall.RawSyscall(unix.SYS_STATFS, s.a[0], uintptr(unsafe.Pointer(sfs)), 0)
		if e != 0 {
			return 1, e
		}
		flags := uintptr(sfs.Flags)&keptFlags | unix.MS_BIND | unix.MS_REMOUNT | s.a[1]
		_, _, e = syscall.RawSyscall6(unix.SYS_MOUNT, 0, s.a[0], 0, flags, 0, 0)
		if e != 0 {
			return 2, e
		}
	case stepWrite:
		fd, _, e := syscall.RawSyscall6(unix.SYS_OPENAT, atFDCWD, s.a[0], unix.O_WRONLY|unix.O_CLOEXEC, 0, 0, 0)
		if e != 0 {
			return 0, e
		}
		if s.a[3] != 0 {
			_, _, e = syscall.RawSyscall(unix.SYS_FSTATFS, fd, uintptr(unsafe.Pointer(sfs)), 0)
			if e == 0 && uint32(sfs.Type) != unix.PROC_SUPER_MAGIC {
				e = syscall.EXDEV
			}
			if e != 0 {
				syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
				return 1, e
			}
		}
		_, _, e = syscall.RawSyscall(unix.SYS_WRITE, fd, s.a[1], s.a[2])
		syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
		if e != 0 {
			return 2, e
		}
	case stepPivot:
		return pivot(s.a[0])
	case stepLinkUp:
		return linkUp(s.ifr)
	case stepFork:
		return 0, syscall.EINVAL // not here: spawnChild makes it
	}
	return 0, 0
}

// childFail records the failed step in c (the parent reads it once the
// child is gone) and exits.
//
//go:nosplit
//go:norace
func childFail(c *forkArgs, step, stage int, errno syscall.Errno) {
	c.failed, c.step, c.stage, c.errno = true, step, stage, errno
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 127, 0, 0)
	}
}
