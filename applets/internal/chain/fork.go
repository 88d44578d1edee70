package chain

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Fork mode: a child that outlives the process that forks it, such as a
// container's init that waits at a start gate after its runtime is gone
// (tw-runc create). Unlike ForkExec's vfork it is a real fork (a copy of
// this process's memory: the child runs on its own copy of this stack),
// or with Vfork a vfork, or with Vfork and Open a child that shares this
// memory on a stack of its own (share.go), in new namespaces if asked
// (clone flags). The child makes the steps
// recorded for it (MountProcLater, MaskLater, RemountLater,
// RestrictLater, CallLater, TryLater, WriteLater; TakeSteps takes them),
// reports over a pipe that they are done, or which failed and why, then
// waits at an optional gate, makes the late steps (a seccomp filter last)
// and executes the program. Between fork and execve it runs raw system
// calls only.

// Steps are steps recorded for a child, taken from the record.
type Steps struct {
	steps []step
	infos []stepInfo
	keep  []any
	err   error
}

// TakeSteps takes the steps recorded so far, for Fork; the record is
// empty again.
func TakeSteps() *Steps {
	s := &Steps{steps, infos, keep, stepsErr}
	reset()
	return s
}

// Pending reports whether steps are recorded for a child that has not
// taken them yet (tw-limit's join of its cgroup, left to the fork at the
// end of the chain it runs in this process).
func Pending() bool { return len(steps) > 0 || stepsErr != nil }

// Ptr is the address of x as a system call's argument, kept alive until
// the child has taken the steps that point to it.
func Ptr[T any](x *T) uintptr { return ptr(x) }

// CString is s NUL-terminated as a system call's argument, kept alive
// like Ptr's.
func CString(s string) uintptr { return cstring(s) }

// CallLater records system call nr with arguments a (prepared: see Ptr,
// CString); an errno other than ok fails the step, as fail says.
func CallLater(applet string, ok syscall.Errno, fail func(errno syscall.Errno) error, nr uintptr, a ...uintptr) {
	s := step{kind: stepCall, nr: nr, ok: ok}
	copy(s.a[:], a)
	later(applet, s, func(_ int, e syscall.Errno) error { return fail(e) })
}

// TryLater records system call nr with arguments a, whose error is no
// failure.
func TryLater(nr uintptr, a ...uintptr) {
	s := step{kind: stepTry, nr: nr}
	copy(s.a[:], a)
	later("", s, func(_ int, e syscall.Errno) error { return e })
}

// WriteLater records a write of data to the file at path, which must be
// on a procfs if procfs is set. fail makes the error of a stage: 0 open,
// 1 fstatfs (EXDEV: not a procfs), 2 write.
func WriteLater(applet, path string, data []byte, procfs bool, fail func(stage int, errno syscall.Errno) error) {
	if len(data) == 0 {
		data = []byte{0}[:0:1]
	}
	keep = append(keep, data)
	p := uintptr(0)
	if procfs {
		p = 1
	}
	later(applet, step{kind: stepWrite, a: [6]uintptr{cstring(path), uintptr(unsafe.Pointer(unsafe.SliceData(data))), uintptr(len(data)), p}}, fail)
}

// ForkLater records a fork: the child forks again, reports the new
// process's pid and exits (status 0); the new one, a child of the same
// parent (CLONE_PARENT), makes the steps after this one and executes the
// program. It is how a pid namespace joined (setns) or made (unshare) by
// the steps before comes to hold the program: only children are born in
// it. For Fork's steps before its report only (elsewhere the step fails
// with EINVAL); fail makes the error of the fork.
func ForkLater(applet string, fail func(errno syscall.Errno) error) {
	later(applet, step{kind: stepFork}, func(_ int, e syscall.Errno) error { return fail(e) })
}

// Spawn is the child Fork makes.
type Spawn struct {
	Flags uintptr // clone(2) flags: the new namespaces (SIGCHLD is added)
	Steps *Steps  // the steps before the report
	// Gate, if >= 0, is a descriptor the child reads one byte from once
	// it has reported that its steps are done: it goes on only then, and
	// ends (status 1) when it reads none.
	Gate int
	Late *Steps // the steps after the gate
	// Path is executed with Argv and Env: the one place the child
	// executes its program. With Path "", the file open at ExecFd is
	// (fexecve(3): execveat with AT_EMPTY_PATH), as a sealed copy of tw.
	Path      string
	ExecFd    int
	Argv, Env []string
	// Prefix begins the line the child writes on its descriptor 2 when
	// it fails after its report ("tw-runc: "), when no one hears it.
	Prefix string

	// Paths, if set, are the candidates of a PATH search (Candidates),
	// tried in turn as execvp(3) tries them, instead of Path: none
	// executable is ErrNotFound, or the first other error.
	Paths []string
	// Trampoline has the child execute the program through the sealed
	// trampoline (memexec.Trampoline), so that a program that is a
	// script #!/proc/self/exe cannot reach this binary (runc
	// CVE-2019-5736): for a program that gets less privilege than tw,
	// or runs in a root its user may write to. The child checks first
	// that the program is a regular file it may execute (with Paths, to
	// pick one); the trampoline reports a failed execve over the report
	// pipe, as descriptor 3 (without Open, only before a gate).
	Trampoline bool
	// Vfork makes the child a vfork without a gate or Open (clone3 with
	// CLONE_VM|CLONE_VFORK|CLONE_CLEAR_SIGHAND, as ForkExec's): no copy
	// of this process's memory, and Fork returns once the child has
	// executed the program or failed. With Open, the child shares this
	// memory on a stack of its own while Fork goes on (share.go).
	Vfork bool
	// Open, if set, is called with the child's pid once it has made its
	// steps and waits at its gate (a pipe of Fork's: Gate is not read):
	// when Open returns nil the child goes on, and it keeps reporting
	// over the pipe, so that its late steps and its execve fail as its
	// steps do; when Open fails the child is killed and reaped, and Fork
	// returns Open's error.
	Open func(pid int) error
	// Pids, if set, gets the pid of each process the child is: the
	// first, then the one each fork step (ForkLater) made, also when
	// Fork fails. With CLONE_PARENT in Flags they are not this
	// process's children: its parent reaps them, Fork does not.
	Pids *[]int
}

// outlived holds what the children waiting at a gate read (Fork): the
// last of them may run after Fork has returned, as long as this process.
var outlived []any

// ErrNoReport is Fork's error when the child ended without a report.
var ErrNoReport = errors.New("child exited before it was ready")

// readyMark is the child's report that its steps are done; forkMark,
// with a pid, the report of a fork step.
const (
	readyMark = ^uint32(0)
	forkMark  = ^uint32(1)
)

// Fork starts the child s describes and returns its pid once it has made
// its steps (it then waits at its gate; without a gate, once it has
// executed the program). A step that failed comes back as its error, a
// *StepError (the child is reaped). Fork must run on a locked thread
// when the child needs that thread's namespaces, root or cwd; the child
// gets no parent-death signal.
func Fork(s *Spawn) (int, error) {
	c, err := s.args()
	if err != nil {
		return 0, err
	}
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		return 0, os.NewSyscallError("pipe2", err)
	}
	c.pipe = pipe[1]
	var gate [2]int
	if s.Open != nil {
		if err := unix.Pipe2(gate[:], unix.O_CLOEXEC); err != nil {
			unix.Close(pipe[0])
			unix.Close(pipe[1])
			return 0, os.NewSyscallError("pipe2", err)
		}
		c.gate, c.reportLate = gate[0], true
		defer unix.Close(gate[1])
	}
	if s.Gate >= 0 {
		// The messages of what fails after the report: what the step's
		// error says before its errno.
		const probe = syscall.EDOM
		for _, info := range s.Late.infos {
			c.lateMsgs = append(c.lateMsgs, strings.TrimSuffix(info.fail(0, probe).Error(), ": "+probe.Error()))
		}
		c.execMsg = "exec " + s.Argv[0]
		c.gateMsg = "start gate"
	}
	pid, errno := 0, syscall.ENOSYS
	switch {
	case s.Vfork && s.Gate < 0 && s.Open == nil && CanFork && !s.Steps.forks():
		c.clone = cloneArgs{flags: uint64(s.Flags) | unix.CLONE_VM | unix.CLONE_VFORK | unix.CLONE_CLEAR_SIGHAND,
			exitSignal: uint64(unix.SIGCHLD)}
		unix.PthreadSigmask(unix.SIG_SETMASK, nil, &c.mask)
		pid, errno = vfork(&c.clone, &c.mask, nil, c)
	case s.Gate >= 0 && s.Open == nil && !s.Steps.forks():
		// A child that waits at its gate (tw-runc's init) shares this
		// memory too, and may outlive this process (tw-runc create):
		// what it reads, and its stack, stay for as long as the process
		// (outlived keeps them), as they stay in the memory it then holds
		// alone. (Its memory is this process's until it executes the
		// program: marking itself not dumpable marks this process too.)
		var stack []byte
		if pid, stack, errno = shareVM(c, s.Flags); stack != nil {
			outlived = append(outlived, c, s, stack)
		}
	case s.Vfork && s.Open != nil && !s.Steps.forks():
		var stack []byte
		if pid, stack, errno = shareVM(c, s.Flags); stack != nil {
			// The child reads its stack, c and s (the steps' strings)
			// until it has executed the program or is reaped: until the
			// end of the pipe, which its execve closes, or past the reap.
			defer func() {
				unix.Munmap(stack)
				runtime.KeepAlive(c)
				runtime.KeepAlive(s)
			}()
		}
	}
	if errno == syscall.ENOSYS {
		pid, errno = spawn(c, s.Flags|uintptr(syscall.SIGCHLD))
	}
	if s.Open != nil {
		unix.Close(gate[0])
	}
	runtime.KeepAlive(s)
	runtime.KeepAlive(c)
	unix.Close(pipe[1])
	defer unix.Close(pipe[0])
	if errno != 0 {
		return 0, os.NewSyscallError("clone", errno)
	}
	if s.Pids != nil {
		*s.Pids = append(*s.Pids, pid)
	}
	var r [3]uint32
	n := s.read(pipe[0], &r, &pid)
	if n == 12 && r[0] == readyMark && s.Open != nil {
		if err := s.Open(pid); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			s.reap(pid)
			return 0, err
		}
		unix.Write(gate[1], []byte{1})
		n = s.read(pipe[0], &r, &pid)
		if n == 0 {
			return pid, nil // executed
		}
	} else if n == 12 && r[0] == readyMark || n == 0 && s.Gate < 0 && s.Open == nil {
		return pid, nil // at the gate, or executed: the caller waits for it
	}
	s.reap(pid)
	return 0, s.failure(n, r)
}

// args prepares what the child of s needs.
func (s *Spawn) args() (*spawnArgs, error) {
	if s.Steps == nil {
		s.Steps = &Steps{}
	}
	if s.Late == nil {
		s.Late = &Steps{}
	}
	for _, st := range []*Steps{s.Steps, s.Late} {
		if st.err != nil {
			return nil, st.err
		}
	}
	pathp, err := unix.BytePtrFromString(s.Path)
	if err != nil {
		return nil, &os.PathError{Op: "exec", Path: s.Path, Err: err}
	}
	argvp, err := syscall.SlicePtrFromStrings(s.Argv)
	if err != nil {
		return nil, &os.PathError{Op: "exec", Path: s.Path, Err: err}
	}
	envp, err := syscall.SlicePtrFromStrings(s.Env)
	if err != nil {
		return nil, &os.PathError{Op: "exec", Path: s.Path, Err: err}
	}
	c := &spawnArgs{
		path: pathp, argv: &argvp[0], env: &envp[0], steps: s.Steps.steps, late: s.Late.steps,
		gate: s.Gate, errs: errnoTexts(), prefix: s.Prefix, nofile: callerNofile(),
	}
	if err := c.prepare(s); err != nil {
		return nil, err
	}
	return c, nil
}

// failure is the error of the child of s that failed, from the n bytes
// of its report r.
func (s *Spawn) failure(n int, r [3]uint32) error {
	if n == 4 { // the trampoline's report
		return s.execError(syscall.Errno(r[0]))
	}
	if n != 12 {
		return ErrNoReport
	}
	step, stage, e := int(r[0]), int(r[1]), syscall.Errno(r[2])
	ns := len(s.Steps.steps)
	switch {
	case step < ns:
		info := s.Steps.infos[step]
		return &StepError{Applet: info.applet, Err: info.fail(stage, e)}
	case step-ns < len(s.Late.steps):
		info := s.Late.infos[step-ns]
		return &StepError{Applet: info.applet, Err: info.fail(stage, e)}
	}
	return s.execError(e)
}

// execError is the error of the program's execve.
func (s *Spawn) execError(e syscall.Errno) error {
	if s.Paths != nil && (e == 0 || e == syscall.ENOENT || e == syscall.ENOTDIR) {
		return &os.PathError{Op: "exec", Path: s.Argv[0], Err: ErrNotFound}
	}
	return &os.PathError{Op: "exec", Path: s.Argv[0], Err: e}
}

// reap waits for the child pid that failed.
func reap(pid int) { Wait(pid) }

// reap waits for pid, the child that failed or forked, unless it is not
// this process's (CLONE_PARENT).
func (s *Spawn) reap(pid int) {
	if s.Flags&unix.CLONE_PARENT == 0 {
		reap(pid)
	}
}

// read reads the child's next report into r and returns its length,
// past the reports of its fork steps: each makes pid the new process's
// (the one that forked has exited).
func (s *Spawn) read(fd int, r *[3]uint32, pid *int) int {
	for {
		n, _ := readFull(fd, (*[12]byte)(unsafe.Pointer(r))[:])
		if n != 12 || r[0] != forkMark {
			return n
		}
		s.reap(*pid)
		*pid = int(r[1])
		if s.Pids != nil {
			*s.Pids = append(*s.Pids, *pid)
		}
	}
}

// forks reports whether the steps fork again (ForkLater).
func (st *Steps) forks() bool {
	for _, s := range st.steps {
		if s.kind == stepFork {
			return true
		}
	}
	return false
}

func readFull(fd int, b []byte) (int, error) {
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

// errnoTexts are the errors' texts by number, for the child's messages.
var errnoTexts = sync.OnceValue(func() []string {
	t := make([]string, 134)
	for i := range t {
		t[i] = syscall.Errno(i).Error()
	}
	return t
})

// spawnArgs is everything Fork's child needs, prepared before the fork.
type spawnArgs struct {
	nofile      *unix.Rlimit // the caller's RLIMIT_NOFILE, given back first
	path        *byte
	argv, env   **byte
	steps, late []step
	stx         unix.Statx_t
	sfs         unix.Statfs_t
	pipe, gate  int
	report      [3]uint32
	b           [1]byte
	sync        [2]int32 // a fork step's pipe (forkAgain)

	errs                     []string
	prefix, execMsg, gateMsg string
	lateMsgs                 []string

	paths      []uintptr // the candidates (Paths), or path
	tfd        int       // the trampoline, or -1
	execFd     int       // the program open (Spawn.ExecFd), or -1
	targv      []uintptr // the trampoline's argv: [1] the candidate
	reportLate bool      // the pipe stays open past the gate (Open)
	clone      cloneArgs // Vfork, or spawn's clone3
	mask       unix.Sigset_t
	keep       []any // what paths and targv point to
}

// spawn is the parent's and the child's side of the fork, clone's flags
// (the exit signal in the low byte) in flags. As vfork's child, the child
// comes from clone3 with CLONE_CLEAR_SIGHAND and only restores the
// thread's signal mask, instead of ~60 rt_sigaction calls of the
// runtime's afterForkInChild before its first step (tw-runc create waits
// for its report); a clone and afterForkInChild where clone3 or the flag
// is refused.
func spawn(c *spawnArgs, flags uintptr) (int, syscall.Errno) {
	c.clone = cloneArgs{flags: uint64(flags&^0xff) | unix.CLONE_CLEAR_SIGHAND, exitSignal: uint64(flags & 0xff)}
	unix.PthreadSigmask(unix.SIG_SETMASK, nil, &c.mask)
	return forkSpawn(c, flags)
}

// forkSpawn is spawn's fork: the child may not grow the stack nor call
// into the runtime (nosplit, raw system calls only).
//
//go:nosplit
//go:norace
func forkSpawn(c *spawnArgs, flags uintptr) (int, syscall.Errno) {
	beforeFork()
	cleared := !noClone3
	pid, errno := uintptr(0), syscall.ENOSYS
	if cleared {
		pid, _, errno = syscall.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&c.clone)), unsafe.Sizeof(c.clone), 0)
	}
	if errno == syscall.ENOSYS || errno == syscall.EINVAL || errno == syscall.EPERM {
		cleared = false
		pid, errno = rawFork(flags)
	}
	if errno != 0 || pid != 0 {
		afterFork()
		return int(pid), errno
	}
	if cleared {
		syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&c.mask)), 0, sigsetSize, 0, 0)
	} else {
		afterForkInChild()
	}
	spawnChild(c)
	return 0, 0
}

// spawnChild makes the steps, reports, waits at the gate, makes the late
// steps and executes the program. It runs on this process's stack, copied:
// nosplit, raw system calls only, and it never returns.
//
//go:nosplit
//go:norace
func spawnChild(c *spawnArgs) {
	restoreNofile(c.nofile)
	for i := 0; i < len(c.steps); i++ {
		if c.steps[i].kind == stepFork {
			if e := forkAgain(c); e != 0 {
				spawnFail(c, i, 0, e)
			}
		} else if stage, e := doStep(&c.steps[i], &c.stx, &c.sfs); e != 0 {
			spawnFail(c, i, stage, e)
		}
	}
	if c.gate >= 0 {
		c.report[0] = readyMark
		syscall.RawSyscall(syscall.SYS_WRITE, uintptr(c.pipe), uintptr(unsafe.Pointer(&c.report)), 12)
		if !c.reportLate {
			syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(c.pipe), 0, 0)
			c.pipe = -1
		}
		var n uintptr
		var e syscall.Errno
		for {
			n, _, e = syscall.RawSyscall(syscall.SYS_READ, uintptr(c.gate), uintptr(unsafe.Pointer(&c.b[0])), 1)
			if e != syscall.EINTR {
				break
			}
		}
		if n != 1 {
			say(c, c.gateMsg, e)
			exit(1)
		}
		syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(c.gate), 0, 0)
	}
	for i := 0; i < len(c.late); i++ {
		if stage, e := doStep(&c.late[i], &c.stx, &c.sfs); e != 0 {
			spawnFail(c, len(c.steps)+i, stage, e)
		}
	}
	spawnFail(c, len(c.steps)+len(c.late), 0, spawnExec(c))
}

// forkAgain makes a stepFork (see ForkLater): it returns in the new
// process, or the errno of the fork; the one that forked reports the new
// pid and exits. The new one goes on only then, when its end of a pipe
// closes, so that its own reports come after. Raw system calls only: see
// spawnChild.
//
//go:nosplit
//go:norace
func forkAgain(c *spawnArgs) syscall.Errno {
	if _, _, e := syscall.RawSyscall(unix.SYS_PIPE2, uintptr(unsafe.Pointer(&c.sync)), unix.O_CLOEXEC, 0); e != 0 {
		return e
	}
	pid, e := rawFork(unix.CLONE_PARENT | uintptr(syscall.SIGCHLD))
	if e == 0 && pid != 0 {
		c.report = [3]uint32{forkMark, uint32(pid), 0}
		syscall.RawSyscall(syscall.SYS_WRITE, uintptr(c.pipe), uintptr(unsafe.Pointer(&c.report)), 12)
		exit(0)
	}
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(c.sync[1]), 0, 0)
	for e == 0 {
		if _, _, r := syscall.RawSyscall(syscall.SYS_READ, uintptr(c.sync[0]), uintptr(unsafe.Pointer(&c.b[0])), 1); r != syscall.EINTR {
			break
		}
	}
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(c.sync[0]), 0, 0)
	return e
}

// rawFork is clone(2) with flags (the exit signal in the low byte) and no
// new stack: a fork. Clone's flags come first, but on s390x, where the
// stack does.
//
//go:nosplit
//go:norace
func rawFork(flags uintptr) (uintptr, syscall.Errno) {
	a1, a2 := flags, uintptr(0)
	if runtime.GOARCH == "s390x" {
		a1, a2 = a2, a1
	}
	pid, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, a1, a2, 0, 0, 0, 0)
	return pid, e
}

// spawnFail reports the failed step to the parent, or once it has reported
// says it on descriptor 2, and exits: 127 for a program not found, else
// 126 for the program, 1 for a step.
//
//go:nosplit
//go:norace
func spawnFail(c *spawnArgs, step, stage int, errno syscall.Errno) {
	if c.pipe >= 0 {
		c.report = [3]uint32{uint32(step), uint32(stage), uint32(errno)}
		syscall.RawSyscall(syscall.SYS_WRITE, uintptr(c.pipe), uintptr(unsafe.Pointer(&c.report)), 12)
		exit(1)
	}
	late := step - len(c.steps)
	if late < len(c.lateMsgs) {
		say(c, c.lateMsgs[late], errno)
		exit(1)
	}
	say(c, c.execMsg, errno)
	if errno == syscall.ENOENT {
		exit(127)
	}
	exit(126)
}

// say writes "PREFIX WHAT: ERRNO" on descriptor 2.
//
//go:nosplit
//go:norace
func say(c *spawnArgs, what string, errno syscall.Errno) {
	text := "EOF"
	if errno != 0 {
		text = "errno"
		if int(errno) < len(c.errs) {
			text = c.errs[errno]
		}
	}
	for _, s := range [...]string{c.prefix, what, ": ", text, "\n"} {
		if len(s) > 0 {
			syscall.RawSyscall(syscall.SYS_WRITE, 2, uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(len(s)))
		}
	}
}

//go:nosplit
//go:norace
func exit(code int) {
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, uintptr(code), 0, 0)
	}
}
