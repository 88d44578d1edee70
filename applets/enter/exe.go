package enter

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/memexec"
)

// execError is the error of prog's execve that the trampoline reported on
// r, read once the child has ended: what chain.Exec would have said, or
// nil. The read does not wait: a process of the container that reopened
// the pipe's write end (through /proc/PID/fd/3 of the trampoline) could
// otherwise keep tw-enter from ending.
func execError(r *os.File, prog string) error {
	fd := int(r.Fd())
	var b [4]byte
	n := 0
	if unix.SetNonblock(fd, true) == nil {
		n, _ = unix.Read(fd, b[:])
	}
	if n < 0 {
		n = 0
	}
	errno := memexec.ReportedErrno(b[:n])
	if errno == 0 {
		return nil
	}
	err := &os.PathError{Op: "exec", Path: prog, Err: errno}
	return cli.Exit(chain.ExitCode(err), err)
}
