package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

// exec into a container with a user namespace.
//
// A process joins a user namespace with setns only while it is single
// threaded, and a Go process never is: runc joins it in C before its Go
// runtime starts (nsexec.c). Here the exec's init (this binary, started
// by exec in no namespace of the container) forks a child with a raw
// clone, a copy of its one locked thread; the child joins the container's
// user namespace, becomes its root (setresgid/setresuid 0, as nsexec),
// starts a session and executes this binary again: that second init, in
// the user namespace, gets the config and joins the other namespaces as
// every exec's init does. The child is born in the container's pid
// namespace and, with CLONE_PARENT, is the runtime's child, as runc's
// last stage is: the runtime waits for it and writes its pid.

// forkReply is the first init's word to exec: the pid (in exec's pid
// namespace) of the init it forked, or why it could not; Reap is a child
// of exec's that exited on the way (rootless: forkIntoUserNS).
type forkReply struct {
	Pid   int    `json:"pid,omitempty"`
	Reap  int    `json:"reap,omitempty"`
	Error string `json:"error,omitempty"`
}

// inUserNS reports whether this exec's init must fork into the container's
// user namespace first, or this create's init into the one the config
// joins (joinuser.go).
func (in *initProc) inUserNS() bool {
	if !in.cfg.Exec {
		return in.joinsUser()
	}
	return ns.Differs(in.cfg.Pid, "user")
}

// forkInUserNS is the first init of an exec into a container with a user
// namespace: it forks the second into it and tells exec its pid.
func (in *initProc) forkInUserNS() error {
	pid, reap, err := in.forkSecond()
	r := forkReply{Pid: pid, Reap: reap}
	if err != nil {
		r.Error = err.Error()
	}
	in.ready = true // exec reads this reply, not an error of Init
	if e := json.NewEncoder(in.sync).Encode(r); e != nil {
		return fmt.Errorf("sync socket: %w", e)
	}
	if err != nil {
		return cli.Status(1)
	}
	return nil
}

func (in *initProc) forkSecond() (child, reap int, err error) {
	if !in.cfg.Exec {
		return in.forkJoinedUser() // joinuser.go
	}
	pid := in.cfg.Pid
	pidFd := -1
	if ns.Differs(pid, "pid") {
		p := fmt.Sprintf("/proc/%d/ns/pid", pid)
		if in.cfg.Rootless {
			// A user may join the pid namespace only from inside the
			// user namespace: the child does, and forks (runc's stage 1).
			if pidFd, err = unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
				return 0, 0, &os.PathError{Op: "open", Path: p, Err: err}
			}
			defer unix.Close(pidFd)
		} else if err := ns.Enter(p, unix.CLONE_NEWPID); err != nil {
			// For the child: this thread is locked, and its children
			// are born in the namespace.
			return 0, 0, err
		}
	}
	p := fmt.Sprintf("/proc/%d/ns/user", pid)
	userFd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(userFd)
	// The sealed binary this init runs from (exe.go).
	exeFd, err := unix.Open("/proc/self/exe", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, &os.PathError{Op: "open", Path: "/proc/self/exe", Err: err}
	}
	defer unix.Close(exeFd)
	env := fmt.Sprintf("%s=%d,%d,%d,%d", envInit, in.fds.Sync, in.fds.Fifo, in.fds.Console, in.fds.Preserve)
	child, reap, err = forkIntoUserNS(userFd, pidFd, exeFd, 0, []string{"tw-runc", "init"}, []string{env})
	if err != nil {
		return child, reap, fmt.Errorf("join the user namespace of %d: %w", pid, err)
	}
	return child, reap, nil
}

// forkSteps name the child's steps, for its error.
var forkSteps = []string{"clone", "setns", "setresgid 0", "setresuid 0", "setsid", "execveat", "setns pid", "clone", "unshare"}

// stepPid marks the message of a child that forked the init: the
// init's pid.
const stepPid = 0xffff

// forkArgs is everything the child needs, made before the fork: after it,
// the child may only make raw system calls (no allocation, no stack
// growth, no scheduler: its Go runtime has no other thread).
type forkArgs struct {
	userFd, exeFd, pipe uintptr
	pidFd               uintptr // ^0: none
	unshare             uintptr // the namespaces to make once in the user namespace
	fork                bool    // fork again before execve: pidFd or a new pid namespace
	path                *byte
	argv, envv          **byte
	mask                unix.Sigset_t
	msg                 [2]uint32 // the step that failed and its errno
}

// forkIntoUserNS forks a child of this process's parent (CLONE_PARENT)
// that joins the user namespace userFd, becomes its root and executes
// exeFd with argv and envv. It returns the child's pid once execve
// succeeded, or the step that failed (the pid too: the parent reaps it).
// Right after the user namespace it makes the namespaces of unshare
// (create's init in a user namespace joined by path: they belong to that
// one). With a pidFd (not -1) the child joins that pid namespace too.
// With a pid namespace joined or made, it forks (again a child of this process's parent) the one
// that executes: its pid is returned, and the first child's, which
// exited, as reap.
func forkIntoUserNS(userFd, pidFd, exeFd int, unshare uintptr, argv, envv []string) (int, int, error) {
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return 0, 0, err
	}
	envvp, err := syscall.SlicePtrFromStrings(envv)
	if err != nil {
		return 0, 0, err
	}
	path, _ := syscall.BytePtrFromString("")
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return 0, 0, fmt.Errorf("pipe: %w", err)
	}
	a := &forkArgs{userFd: uintptr(userFd), exeFd: uintptr(exeFd), pipe: uintptr(p[1]), path: path, argv: &argvp[0], envv: &envvp[0],
		pidFd: ^uintptr(0), unshare: unshare, fork: pidFd >= 0 || unshare&unix.CLONE_NEWPID != 0}
	if pidFd >= 0 {
		a.pidFd = uintptr(pidFd)
	}
	var all unix.Sigset_t
	for i := range all.Val {
		all.Val[i] = ^all.Val[i]
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// No signal handler of Go may run in the child; it restores the mask
	// before execve.
	syscall.ForkLock.Lock()
	unix.PthreadSigmask(unix.SIG_SETMASK, &all, &a.mask)
	pid, errno := rawForkIntoUserNS(a)
	unix.PthreadSigmask(unix.SIG_SETMASK, &a.mask, nil)
	syscall.ForkLock.Unlock()
	runtime.KeepAlive(a)
	runtime.KeepAlive(argvp)
	runtime.KeepAlive(envvp)
	unix.Close(p[1])
	r := os.NewFile(uintptr(p[0]), "fork-pipe")
	defer r.Close()
	if errno != 0 {
		return 0, 0, fmt.Errorf("clone: %w", errno)
	}
	// Nothing to read: execve closed the pipe. Else the failed step; a
	// child that forked says first whom.
	child, reap := int(pid), 0
	for {
		var b [8]byte
		n, err := io.ReadFull(r, b[:])
		if n == 0 && errors.Is(err, io.EOF) {
			if a.fork && reap == 0 {
				return child, 0, errors.New("the child did not fork")
			}
			return child, reap, nil
		}
		if n != len(b) {
			return child, reap, fmt.Errorf("read from the child: %v", err)
		}
		step := *(*uint32)(unsafe.Pointer(&b[0]))
		val := *(*uint32)(unsafe.Pointer(&b[4]))
		if step == stepPid {
			child, reap = int(val), child
			continue
		}
		name := "?"
		if int(step) < len(forkSteps) {
			name = forkSteps[step]
		}
		return child, reap, fmt.Errorf("%s: %w", name, syscall.Errno(val))
	}
}

// rawForkIntoUserNS is the fork; the child never returns. Clone's flags
// come first, but on s390x, where the stack (none: 0) does.
//
//go:nosplit
//go:norace
func rawForkIntoUserNS(a *forkArgs) (uintptr, syscall.Errno) {
	a1, a2 := unix.CLONE_PARENT|uintptr(unix.SIGCHLD), uintptr(0)
	if runtime.GOARCH == "s390x" {
		a1, a2 = a2, a1
	}
	pid, _, e := syscall.RawSyscall6(unix.SYS_CLONE, a1, a2, 0, 0, 0, 0)
	if e != 0 || pid != 0 {
		return pid, e
	}
	step := uint32(1)
	_, _, e = syscall.RawSyscall(unix.SYS_SETNS, a.userFd, unix.CLONE_NEWUSER, 0)
	// Made before the child becomes root, as runc's nsexec makes them: the
	// new IPC namespace's mqueue belongs to the runtime's (unmapped) uid.
	if e == 0 && a.unshare != 0 {
		step = 8
		_, _, e = syscall.RawSyscall(unix.SYS_UNSHARE, a.unshare, 0, 0)
	}
	if e == 0 {
		step = 2
		_, _, e = syscall.RawSyscall(unix.SYS_SETRESGID, 0, 0, 0)
	}
	if e == 0 {
		step = 3
		_, _, e = syscall.RawSyscall(unix.SYS_SETRESUID, 0, 0, 0)
	}
	if e == 0 && a.pidFd != ^uintptr(0) {
		step = 6
		_, _, e = syscall.RawSyscall(unix.SYS_SETNS, a.pidFd, unix.CLONE_NEWPID, 0)
	}
	if e == 0 && a.fork {
		step = 7
		var child uintptr
		child, _, e = syscall.RawSyscall6(unix.SYS_CLONE, a1, a2, 0, 0, 0, 0)
		if e == 0 && child != 0 {
			a.msg[0], a.msg[1] = stepPid, uint32(child)
			syscall.RawSyscall(unix.SYS_WRITE, a.pipe, uintptr(unsafe.Pointer(&a.msg)), unsafe.Sizeof(a.msg))
			for {
				syscall.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
			}
		}
	}
	if e == 0 {
		step = 4
		_, _, e = syscall.RawSyscall(unix.SYS_SETSID, 0, 0, 0)
	}
	if e == 0 {
		step = 5
		syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&a.mask)), 0, unsafe.Sizeof(a.mask), 0, 0)
		_, _, e = syscall.RawSyscall6(unix.SYS_EXECVEAT, a.exeFd, uintptr(unsafe.Pointer(a.path)),
			uintptr(unsafe.Pointer(a.argv)), uintptr(unsafe.Pointer(a.envv)), unix.AT_EMPTY_PATH, 0)
	}
	a.msg[0], a.msg[1] = step, uint32(e)
	syscall.RawSyscall(unix.SYS_WRITE, a.pipe, uintptr(unsafe.Pointer(&a.msg)), unsafe.Sizeof(a.msg))
	for {
		syscall.RawSyscall(unix.SYS_EXIT_GROUP, 127, 0, 0)
	}
}

// execHandshake serves exec's init until the program runs and returns the
// process that runs it: the init itself, or (userns) the init it forked
// into the container's user namespace, which then gets the config too.
func execHandshake(cmd *exec.Cmd, sock *os.File, cfg *initConfig, userns bool) (*os.Process, error) {
	if !userns {
		if err := handshake(sock, cfg, nil); err != nil {
			cmd.Wait()
			return nil, err
		}
		return cmd.Process, nil
	}
	p, err := forkedInit(cmd, sock, cfg)
	if err != nil {
		return nil, err
	}
	if err := handshake(sock, cfg, nil); err != nil {
		p.Wait()
		return nil, err
	}
	return p, nil
}

// forkedInit sends the first init its config and returns the init it
// forked into the user namespace, once the first one has exited; the
// caller goes on with handshake. On error nothing of them is left.
func forkedInit(cmd *exec.Cmd, sock *os.File, cfg *initConfig) (*os.Process, error) {
	defer cmd.Wait() // the first init exits once it has forked
	if err := json.NewEncoder(sock).Encode(cfg); err != nil {
		return nil, fmt.Errorf("send config to the container init: %w", err)
	}
	var r forkReply
	if err := json.NewDecoder(sock).Decode(&r); err != nil {
		if err == io.EOF {
			return nil, errors.New("container init exited before it was ready")
		}
		return nil, fmt.Errorf("read from the container init: %w", err)
	}
	if r.Reap > 0 {
		if c, err := os.FindProcess(r.Reap); err == nil {
			c.Wait()
		}
	}
	var p *os.Process
	if r.Pid > 0 {
		var err error
		if p, err = os.FindProcess(r.Pid); err != nil {
			return nil, err
		}
	}
	if r.Error == "" && p == nil {
		return nil, fmt.Errorf("container init: unexpected reply %+v", r)
	}
	if r.Error != "" {
		if p != nil {
			p.Wait()
		}
		return nil, errors.New(r.Error)
	}
	return p, nil
}
