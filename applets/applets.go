// Package applets is the table of tw's applets, one package each below
// this directory, and the names the dispatcher in cmd/tw needs from the
// shared internal/cli package.
package applets

import (
	"os"

	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/memexec"

	"github.com/tupperware/tw/applets/enter"
	"github.com/tupperware/tw/applets/harden"
	"github.com/tupperware/tw/applets/limit"
	"github.com/tupperware/tw/applets/mountdev"
	"github.com/tupperware/tw/applets/mountproc"
	"github.com/tupperware/tw/applets/mountsys"
	"github.com/tupperware/tw/applets/net"
	"github.com/tupperware/tw/applets/pivot"
	"github.com/tupperware/tw/applets/ps"
	"github.com/tupperware/tw/applets/runc"
	"github.com/tupperware/tw/applets/snapshot"
	"github.com/tupperware/tw/applets/subvol"
	"github.com/tupperware/tw/applets/unshare"
)

type (
	// Applet is one command of the tw binary.
	Applet = cli.Applet
	// IO is an applet's standard streams.
	IO = cli.IO
	// Help is an applet's --help read back, for man pages and completion.
	Help   = cli.Help
	Option = cli.Option
)

var (
	Register = cli.Register
	Lookup   = cli.Lookup
	Get      = cli.Get
	Names    = cli.Names
	ExitCode = cli.ExitCode
	Report   = cli.Report
	// ParseHelp reads what an applet's --help printed.
	ParseHelp = cli.ParseHelp
	Usagef    = cli.Usagef
)

// Core are the applets that every tw process links: storage, namespaces,
// network, hardening. They start fast, which the chainloaders need most:
// each link of the one-line container pays tw's start-up.
var Core = []Applet{
	enter.Applet,
	harden.Applet,
	limit.Applet,
	mountdev.Applet,
	mountproc.Applet,
	mountsys.Applet,
	net.Applet,
	pivot.Applet,
	ps.Applet,
	runc.Applet,
	snapshot.Applet,
	subvol.Applet,
	unshare.Applet,
}

// Images names the image applets, the ones that link go.podman.io/image and
// umoci: ~190 packages whose init would slow every start of tw. Package
// applets/images has the applets themselves; here are only their names and
// summaries, without Main, for the stubs of the split build (cmd/tw/split.go),
// which run them from a second program. A test in applets/images keeps the
// two lists equal.
var Images = []Applet{
	{Name: "commit", Summary: "turn a directory into an image in an OCI layout"},
	{Name: "inspect", Summary: "print an image's manifest, config or summary, or a repository's tags"},
	{Name: "pull", Summary: "copy an image between registries, OCI layouts and archives"},
	{Name: "unpack", Summary: "unpack an image into a runtime bundle or an empty directory"},
}

// Embedded returns copies of as whose Main executes prog, a tw binary that
// links them, as tw-NAME with the same arguments, environment and standard
// streams: prog's exit status and messages become this process's. Main
// returns only when prog cannot be executed (exit 126).
func Embedded(prog []byte, as []Applet) []Applet {
	out := make([]Applet, len(as))
	for i, a := range as {
		argv0 := "tw-" + a.Name
		a.Main = func(args []string, stdio IO) error {
			argv := append([]string{argv0}, args...)
			return cli.Exit(126, memexec.Exec(prog, argv, os.Environ(), stdio))
		}
		out[i] = a
	}
	return out
}
