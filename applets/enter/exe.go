package enter

import (
	"io"
	"os"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/memexec"
)

// execError is the error of PROG's execve that the trampoline reported on
// r, after the child ended: what chain.Exec would have said, or nil.
func execError(r io.Reader, prog string) error {
	b, _ := io.ReadAll(r)
	errno := memexec.ReportedErrno(b)
	if errno == 0 {
		return nil
	}
	err := &os.PathError{Op: "exec", Path: prog, Err: errno}
	return cli.Exit(chain.ExitCode(err), err)
}
