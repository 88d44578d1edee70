// Package applets is the table of tw's applets, one package each below
// this directory, and the names the dispatcher in cmd/tw needs from the
// shared internal/cli package.
package applets

import (
	"github.com/tupperware/tw/applets/internal/cli"

	"github.com/tupperware/tw/applets/commit"
	"github.com/tupperware/tw/applets/harden"
	"github.com/tupperware/tw/applets/limit"
	"github.com/tupperware/tw/applets/mountdev"
	"github.com/tupperware/tw/applets/mountproc"
	"github.com/tupperware/tw/applets/mountsys"
	"github.com/tupperware/tw/applets/pivot"
	"github.com/tupperware/tw/applets/pull"
	"github.com/tupperware/tw/applets/runc"
	"github.com/tupperware/tw/applets/snapshot"
	"github.com/tupperware/tw/applets/subvol"
	"github.com/tupperware/tw/applets/unpack"
	"github.com/tupperware/tw/applets/unshare"
)

type (
	// Applet is one command of the tw binary.
	Applet = cli.Applet
	// IO is an applet's standard streams.
	IO = cli.IO
	// ExitError carries an exit code; UsageError means exit 2.
	ExitError  = cli.ExitError
	UsageError = cli.UsageError
)

var (
	Register = cli.Register
	Lookup   = cli.Lookup
	Get      = cli.Get
	Names    = cli.Names
	ExitCode = cli.ExitCode
)

// All are the applets of this binary.
var All = []Applet{
	commit.Applet,
	harden.Applet,
	limit.Applet,
	mountdev.Applet,
	mountproc.Applet,
	mountsys.Applet,
	pivot.Applet,
	pull.Applet,
	runc.Applet,
	snapshot.Applet,
	subvol.Applet,
	unpack.Applet,
	unshare.Applet,
}
