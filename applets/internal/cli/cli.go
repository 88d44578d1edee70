// Package cli holds what every applet shares: the applet type, the error
// types that carry an exit code, and flag parsing that keeps DESIGN.md's
// conventions (--help on stdout with exit 0, usage errors exit 2).
package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// IO is what an applet may touch of the outside world besides the system:
// its standard streams.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Run calls an applet's Main with args, no input, and its output in
// buffers, as the applets' Go tests do.
func Run(main func([]string, IO) error, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = main(args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return out.String(), errOut.String(), err
}

// Applet is one command of the tw binary.
type Applet struct {
	Name    string // without the "tw-" prefix
	Summary string // one line for `tw --list`
	Main    func(args []string, stdio IO) error
}

// UsageError is a mistake in the command line: exit 2 and a hint.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef makes a UsageError.
func Usagef(format string, a ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, a...)}
}

// ExitError carries an exit code other than 1. With Silent set nothing is
// printed: it passes on the status of a program that already spoke for
// itself (a forked child's exit status, 128+N for a signal).
type ExitError struct {
	Code   int
	Silent bool
	Err    error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exit makes an ExitError that prints err.
func Exit(code int, err error) error { return &ExitError{Code: code, Err: err} }

// Status makes a silent ExitError that passes a status on.
func Status(code int) error { return &ExitError{Code: code, Silent: true} }

// ExitCode maps an applet's error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var ue *UsageError
	if errors.As(err, &ue) || errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

var errUsage = errors.New("usage")

// NewFlagSet makes a FlagSet that returns errors instead of exiting and
// prints nothing by itself. Chainloaders pass interspersed=false so that
// options after PROG belong to PROG.
func NewFlagSet(name string, interspersed bool) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(interspersed)
	fs.Usage = func() {}
	fs.SortFlags = false
	return fs
}

// Parse parses args. On --help it prints usage and the flags to stdout and
// returns done=true; a parse error becomes a UsageError.
func Parse(fs *pflag.FlagSet, args []string, usage string, stdout io.Writer) (done bool, err error) {
	fs.BoolP("help", "h", false, "print this help and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			PrintHelp(fs, usage, stdout)
			return true, nil
		}
		return false, &UsageError{Msg: err.Error()}
	}
	if h, _ := fs.GetBool("help"); h {
		PrintHelp(fs, usage, stdout)
		return true, nil
	}
	return false, nil
}

// PrintHelp writes the usage text followed by the flag list.
func PrintHelp(fs *pflag.FlagSet, usage string, w io.Writer) {
	fmt.Fprint(w, usage)
	if fs.HasFlags() {
		fmt.Fprintf(w, "\nOptions:\n%s", fs.FlagUsages())
	}
}

// Args checks the number of positional arguments: at least min and, when
// max >= 0, at most max.
func Args(fs *pflag.FlagSet, min, max int) error {
	n := fs.NArg()
	switch {
	case n < min && min == max:
		return Usagef("expected %d argument(s), got %d", min, n)
	case n < min:
		return Usagef("expected at least %d argument(s), got %d", min, n)
	case max >= 0 && n > max:
		return Usagef("expected at most %d argument(s), got %d", max, n)
	}
	return nil
}

// The applets of this binary, registered once by the dispatcher, so that a
// chainloader can run the next tw applet in its own process (no new
// process start, and no tw binary needed inside a new root).
var registry = map[string]Applet{}

// Register adds applets; a duplicate name is a programming error.
func Register(as ...Applet) {
	for _, a := range as {
		if _, dup := registry[a.Name]; dup {
			panic("tw: applet registered twice: " + a.Name)
		}
		registry[a.Name] = a
	}
}

// Lookup finds the applet that a command name calls: tw-NAME runs applet
// NAME; a name without the "tw-" prefix is no applet's.
func Lookup(name string) (Applet, bool) {
	if len(name) > 3 && name[:3] == "tw-" {
		a, ok := registry[name[3:]]
		return a, ok
	}
	return Applet{}, false
}

// Names lists the registered applets, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Get finds an applet by its bare name.
func Get(name string) (Applet, bool) {
	a, ok := registry[name]
	return a, ok
}

// Report prints an applet's error as DESIGN.md says — one line,
// "tw-NAME: what failed: why", and a hint after a usage error — and returns
// the exit code. A silent ExitError passes its code on without a word. The
// dispatcher and a chainloader running the next applet in-process share it.
func Report(a Applet, err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) && ee.Silent {
		return ee.Code
	}
	fmt.Fprintf(stderr, "tw-%s: %v\n", a.Name, err)
	var ue *UsageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "Try 'tw-%s --help' for more information.\n", a.Name)
	}
	return ExitCode(err)
}
