package net

// tw-net --lo: loopback only, what a user namespace allows. A bridge and
// the host's end of a veth live in the host's network namespace, which
// only root there may change; the container's own network namespace is
// the user's to set up when it belongs to the user's user namespace (the
// kernel asks for CAP_NET_ADMIN in the namespace's owner, and setns(2) for
// CAP_SYS_ADMIN in the caller's own user namespace too). So in a user
// namespace tw-net brings lo up and nothing else, as bubblewrap's
// --unshare-net does; nothing is recorded under /run/tupperware.

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

// checkLo refuses what --lo leaves out: a bridge, addresses, NAT, state.
func (o *options) checkLo(fs interface{ Changed(string) bool }) error {
	for _, n := range []string{"bridge", "subnet", "addr", "nat", "resolv", "dns", "up", "down"} {
		if fs.Changed(n) {
			return cli.Usagef("--lo takes only --pid or PROG, not --%s", n)
		}
	}
	return nil
}

// runLo makes a new network namespace on this thread, brings its lo up
// and executes argv there (tw-* applets in this process, on this thread,
// as in the first form). The thread stays locked for good.
func (o *options) runLo(argv []string, stdio cli.IO) error {
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return userHint(fmt.Errorf("new network namespace: %w", err),
			"(not root: run tw-net --lo in a user namespace: tw-unshare -r tw-net --lo PROG)")
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	err = loUp(h)
	h.Close()
	if err != nil {
		return err
	}
	return chain.Exec(argv, stdio)
}

// loPid brings lo up in the network namespace of the running process
// o.pid, another one than tw-net's; from outside the user namespace that
// owns it, through a child that joins that user namespace first.
func (o *options) loPid() error {
	fd, err := otherNetns(o.pid)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	h, err := handleAt(fd)
	if err != nil && errors.Is(err, unix.EPERM) && ns.Differs(o.pid, "user") {
		return o.loInUser()
	}
	if err != nil {
		return userHint(fmt.Errorf("pid %d: %w", o.pid, err),
			"(its network namespace belongs to a user namespace where you lack CAP_SYS_ADMIN: you are not its root)")
	}
	defer h.Close()
	return loUp(h)
}

// loInUser is tw-net --lo --pid again in a child that joins the user
// namespace of o.pid first, as nsenter --user --preserve-credentials does
// (its owner may; this process, multithreaded, may not): chain.Fork's
// child, a vfork, whose steps are its parent-death signal and the setns,
// executes tw; its status is passed on.
func (o *options) loInUser() error {
	p := fmt.Sprintf("/proc/%d/ns/user", o.pid)
	ufd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("pid %d: %w", o.pid, &os.PathError{Op: "open", Path: p, Err: err})
	}
	defer unix.Close(ufd)
	chain.TakeSteps() // a record of nothing
	chain.TryLater(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL))
	chain.CallLater("", 0, func(e syscall.Errno) error { return fmt.Errorf("join the user namespace of %d: %w", o.pid, e) },
		unix.SYS_SETNS, uintptr(ufd), unix.CLONE_NEWUSER)
	const exe = "/proc/self/exe"
	s := &chain.Spawn{Steps: chain.TakeSteps(), Gate: -1, Path: exe, Vfork: true,
		Argv: []string{"tw-net", "--lo", "--pid", strconv.Itoa(o.pid)}, Env: os.Environ()}
	runtime.LockOSThread() // Pdeathsig follows the thread
	defer runtime.UnlockOSThread()
	pid, err := chain.Fork(s)
	var se *chain.StepError
	var pe *os.PathError
	switch {
	case errors.As(err, &se):
		err = se.Err
	case errors.As(err, &pe) && pe.Op == "exec":
		err = &os.PathError{Op: "exec", Path: exe, Err: pe.Err}
	}
	if err != nil {
		return fmt.Errorf("pid %d: %w", o.pid, err)
	}
	ws, err := chain.Wait(pid)
	if err != nil {
		return err
	}
	return cli.Status(chain.ExitStatus(ws))
}

// handleAt is a netlink handle in the network namespace fd, as
// netlink.NewHandleAt makes it but with setns's errno kept.
func handleAt(fd int) (*netlink.Handle, error) {
	runtime.LockOSThread()
	cur, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, &os.PathError{Op: "open", Path: "/proc/thread-self/ns/net", Err: err}
	}
	defer unix.Close(cur)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("join its network namespace: %w", err)
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	// Back to the namespace it left, when the user namespace allows (not
	// from a user namespace to the host's): else the thread stays locked,
	// in the other namespace, for good.
	if unix.Setns(cur, unix.CLONE_NEWNET) == nil {
		runtime.UnlockOSThread()
	}
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	return h, nil
}

func loUp(h *netlink.Handle) error {
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("lo: up: %w", err)
	}
	return nil
}

// otherNetns opens the network namespace of pid, which must be another
// one than this process's: tw-net changes no namespace it runs in.
func otherNetns(pid int) (int, error) {
	p := fmt.Sprintf("/proc/%d/ns/net", pid)
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
		return -1, fmt.Errorf("pid %d: no such process", pid)
	}
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: p, Err: err}
	}
	var theirs, ours unix.Stat_t
	err = unix.Fstat(fd, &theirs)
	if err == nil {
		err = unix.Stat("/proc/thread-self/ns/net", &ours)
	}
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("pid %d: network namespace: %w", pid, err)
	}
	if theirs.Ino == ours.Ino && theirs.Dev == ours.Dev {
		unix.Close(fd)
		return -1, fmt.Errorf("pid %d: runs in this network namespace (start it with tw-unshare --net)", pid)
	}
	return fd, nil
}

// userHint adds hint to a refusal (EPERM) met without root in the host's
// user namespace, or in a user namespace that does not own what was asked.
func userHint(err error, hint string) error {
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%w %s", err, hint)
	}
	return err
}

// rootHint explains the refusal of a bridge, a veth or the state directory
// to a caller without root in the host's user namespace: only --lo is left.
func rootHint(err error) error {
	if err != nil && !ns.HostRoot() && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)) {
		return fmt.Errorf("%w (not root: a bridge and veths need root in the host's namespaces; --lo gives loopback only)", err)
	}
	return err
}
