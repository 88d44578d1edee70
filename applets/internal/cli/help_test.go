package cli

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"testing"
)

// ParseHelp reads back what PrintHelp writes: the usage, the text, every
// flag with its value's name, and subcommands.
func TestParseHelpRoundTrip(t *testing.T) {
	fs := NewFlagSet("x", true)
	fs.StringP("bundle", "b", ".", "the bundle `DIR`")
	fs.Bool("json", false, "print JSON\nover two lines")
	fs.String("mount-proc", "", "mount proc at `DIR`")
	fs.Lookup("mount-proc").NoOptDefVal = "/proc"
	fs.StringArray("env", nil, "set K=V")
	fs.BoolP("help", "h", false, "print this help and exit")
	usage := "Usage: tw-x create ID\n       tw-x delete [-f] ID…\n\nDo x.\n\n  a table\n"
	var b bytes.Buffer
	PrintHelp(fs, usage, &b)
	h := ParseHelp(b.String())
	if want := []string{"tw-x create ID", "tw-x delete [-f] ID…"}; !reflect.DeepEqual(h.Usage, want) {
		t.Errorf("Usage = %q, want %q", h.Usage, want)
	}
	if h.Text != "Do x.\n\n  a table" {
		t.Errorf("Text = %q", h.Text)
	}
	want := []Option{
		{Short: "b", Long: "bundle", Arg: "DIR", Help: `the bundle DIR (default ".")`},
		{Long: "json", Help: "print JSON over two lines"},
		{Long: "mount-proc", Arg: "DIR", Optional: true, Help: "mount proc at DIR"},
		{Long: "env", Arg: "stringArray", Help: "set K=V"},
		{Short: "h", Long: "help", Help: "print this help and exit"},
	}
	if !reflect.DeepEqual(h.Options, want) {
		t.Errorf("Options =\n%+v\nwant\n%+v", h.Options, want)
	}
	if want := []string{"create", "delete"}; !reflect.DeepEqual(h.Commands, want) {
		t.Errorf("Commands = %q, want %q", h.Commands, want)
	}
}

// A "Commands:" list gives the first words of its synopsis lines, not
// words of the descriptions beside them.
func TestParseHelpCommandList(t *testing.T) {
	h := ParseHelp("Usage: tw-r [G] COMMAND ID\n\nCommands:\n  start ID      let it run, as runc does\n  pause ID, resume ID\n                freeze, thaw\n  list          the containers\n\nMore.\n")
	if want := []string{"start", "pause", "resume", "list"}; !reflect.DeepEqual(h.Commands, want) {
		t.Errorf("Commands = %q, want %q", h.Commands, want)
	}
	// synopsis lines that are not all subcommands name none
	h = ParseHelp("Usage: tw-n [-b B] [PROG]\n       tw-n --up\n\nText.\n")
	if len(h.Commands) != 0 {
		t.Errorf("Commands = %q, want none", h.Commands)
	}
}

func TestRun(t *testing.T) {
	main := func(args []string, stdio IO) error {
		in, _ := io.ReadAll(stdio.Stdin)
		fmt.Fprintf(stdio.Stdout, "%q %q", args, in)
		fmt.Fprint(stdio.Stderr, "to stderr")
		return Usagef("bad")
	}
	out, errOut, err := Run(main, "a", "b c")
	if out != `["a" "b c"] ""` || errOut != "to stderr" || err == nil || err.Error() != "bad" {
		t.Errorf("Run: %q %q %v", out, errOut, err)
	}
}
