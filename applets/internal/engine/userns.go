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

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

// exec into a container with a user namespace.
//
// A process joins a user namespace with setns only while it is single
// threaded, and a Go process never is: runc joins it in C before its Go
// runtime starts (nsexec.c). Here the exec's init (this binary, started
// by exec in no namespace of the container) forks a child with
// chain.Fork, a copy of its one locked thread that runs raw system calls
// only (chain steps); the child joins the container's user namespace,
// becomes its root (setresgid/setresuid 0, as nsexec), starts a session
// and executes this binary again: that second init, in
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

// forkIntoUserNS forks a child of this process's parent (CLONE_PARENT)
// that joins the user namespace userFd, becomes its root and executes
// exeFd with argv and envv, as chain steps. It returns the child's pid
// once execve succeeded, or the step that failed (the pid too: the
// parent reaps it). Right after the user namespace it makes the
// namespaces of unshare (create's init in a user namespace joined by
// path: they belong to that one). With a pidFd (not -1) the child joins
// that pid namespace too. With a pid namespace joined or made, it forks
// (again a child of this process's parent) the one that executes: its
// pid is returned, and the first child's, which exited, as reap.
func forkIntoUserNS(userFd, pidFd, exeFd int, unshare uintptr, argv, envv []string) (child, reap int, err error) {
	chain.TakeSteps() // a record of nothing
	defer chain.TakeSteps()
	fail := func(step string) func(e syscall.Errno) error {
		return func(e syscall.Errno) error { return fmt.Errorf("%s: %w", step, e) }
	}
	chain.CallLater("", 0, fail("setns"), unix.SYS_SETNS, uintptr(userFd), unix.CLONE_NEWUSER)
	// Made before the child becomes root, as runc's nsexec makes them: the
	// new IPC namespace's mqueue belongs to the runtime's (unmapped) uid.
	if unshare != 0 {
		chain.CallLater("", 0, fail("unshare"), unix.SYS_UNSHARE, unshare)
	}
	chain.CallLater("", 0, fail("setresgid 0"), unix.SYS_SETRESGID, 0, 0, 0)
	chain.CallLater("", 0, fail("setresuid 0"), unix.SYS_SETRESUID, 0, 0, 0)
	if pidFd >= 0 {
		chain.CallLater("", 0, fail("setns pid"), unix.SYS_SETNS, uintptr(pidFd), unix.CLONE_NEWPID)
	}
	if pidFd >= 0 || unshare&unix.CLONE_NEWPID != 0 {
		chain.ForkLater("", fail("clone"))
	}
	chain.CallLater("", 0, fail("setsid"), unix.SYS_SETSID)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var pids []int
	_, err = chain.Fork(&chain.Spawn{Flags: unix.CLONE_PARENT, Steps: chain.TakeSteps(), Gate: -1,
		ExecFd: exeFd, Argv: argv, Env: envv, Pids: &pids})
	if n := len(pids); n > 0 {
		child = pids[n-1]
		if n > 1 {
			reap = pids[0]
		}
	}
	return child, reap, err
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
