package cgroup

import (
	"os"
	"path"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
)

// Procs are the cgroup.procs files of a cgroup's directories, open for
// writing: the child of a fork of package chain joins the cgroup through
// them right before it executes its program (JoinLater), whatever mount
// namespace and root it has by then. tw-limit's forked PROG and tw-runc's
// forked init join their cgroups so.
type Procs struct {
	fds   []int
	paths []string
}

// OpenProcs opens the cgroup.procs of each of dirs. The caller closes
// them once the child has forked.
func OpenProcs(dirs []string) (*Procs, error) {
	p := &Procs{}
	for _, d := range dirs {
		name := path.Join(d, "cgroup.procs")
		fd, err := unix.Open(name, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			p.Close()
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		p.fds, p.paths = append(p.fds, fd), append(p.paths, name)
	}
	return p, nil
}

// zero is what the child writes to a cgroup.procs: itself.
var zero = []byte("0")

// JoinLater records for the child of the next fork (chain.Fork,
// chain.ForkExec) a write of "0" to each file, then its close: the child
// joins the cgroup. wrap makes the caller's error of a failed write, an
// *os.PathError as OpenProcs's.
func (p *Procs) JoinLater(applet string, wrap func(error) error) {
	for i, fd := range p.fds {
		name := p.paths[i]
		chain.CallLater(applet, 0, func(e syscall.Errno) error {
			return wrap(&os.PathError{Op: "write", Path: name, Err: e})
		}, unix.SYS_WRITE, uintptr(fd), chain.Ptr(&zero[0]), 1)
		chain.TryLater(unix.SYS_CLOSE, uintptr(fd))
	}
}

// Close closes the files (again: nothing).
func (p *Procs) Close() {
	for _, fd := range p.fds {
		unix.Close(fd)
	}
	p.fds = nil
}
