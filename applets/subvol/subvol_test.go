package subvol

import (
	"errors"
	"strings"
	"testing"

	"github.com/tupperware/tw/applets/internal/cli"
)

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"create", "--help"}, {"delete", "-h"}, {"list", "--help"}} {
		out, _, err := cli.Run(Main, args...)
		if err != nil || !strings.HasPrefix(out, "Usage: tw-subvol create PATH…") {
			t.Errorf("%q: err %v, output %.40q", args, err, out)
		}
	}
	out, _, _ := cli.Run(Main, "delete", "--help")
	if !strings.Contains(out, "--recursive") {
		t.Errorf("delete --help does not list --recursive:\n%s", out)
	}
}

// Usage errors are found before any file is touched: the paths here do
// not exist, so reaching the filesystem would give another error.
func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{nil, "expected a command: create, delete, list, show or ro"},
		{[]string{"frob"}, `unknown command "frob"`},
		{[]string{"create"}, "expected at least 1 argument(s), got 0"},
		{[]string{"delete", "-x", "/nonexistent"}, "unknown shorthand flag: 'x' in -x"},
		{[]string{"list", "/a", "/b"}, "expected at most 1 argument(s), got 2"},
		{[]string{"show"}, "expected 1 argument(s), got 0"},
		{[]string{"ro", "/nonexistent", "yes"}, `ro: expected true or false, got "yes"`},
		{[]string{"ro", "/nonexistent", "true", "x"}, "expected at most 2 argument(s), got 3"},
		{[]string{"-r", "delete", "/nonexistent"}, "unknown shorthand flag: 'r' in -r"},
	} {
		_, _, err := cli.Run(Main, c.args...)
		var ue *cli.UsageError
		if !errors.As(err, &ue) || err.Error() != c.msg {
			t.Errorf("%q: got %v (%T), want usage error %q", c.args, err, err, c.msg)
		}
		if cli.ExitCode(err) != 2 {
			t.Errorf("%q: exit code %d, want 2", c.args, cli.ExitCode(err))
		}
	}
}

func TestSplit(t *testing.T) {
	for _, c := range []struct{ in, dir, name string }{
		{"a", ".", "a"},
		{"a/", ".", "a"},
		{"x/y//z/", "x/y", "z"},
		{"/mnt/images/alpine", "/mnt/images", "alpine"},
	} {
		if d, n := split(c.in); d != c.dir || n != c.name {
			t.Errorf("split(%q) = %q, %q; want %q, %q", c.in, d, n, c.dir, c.name)
		}
	}
}
