package snapshot

import (
	"errors"
	"strings"
	"testing"

	"github.com/tupperware/tw/applets/internal/cli"
)

func TestHelp(t *testing.T) {
	out, _, err := cli.Run(Main, "--help")
	if err != nil || !strings.HasPrefix(out, "Usage: tw-snapshot [-r] SRC DST…") || !strings.Contains(out, "--readonly") {
		t.Errorf("--help: err %v, output\n%s", err, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{nil, "expected at least 2 argument(s), got 0"},
		{[]string{"/nonexistent"}, "expected at least 2 argument(s), got 1"},
		{[]string{"-x", "/nonexistent", "/nonexistent2"}, "unknown shorthand flag: 'x' in -x"},
	} {
		_, _, err := cli.Run(Main, c.args...)
		var ue *cli.UsageError
		if !errors.As(err, &ue) || err.Error() != c.msg {
			t.Errorf("%q: got %v, want usage error %q", c.args, err, c.msg)
		}
	}
}

func TestSourceMissing(t *testing.T) {
	_, _, err := cli.Run(Main, "/nonexistent/img", "/nonexistent/c1")
	if err == nil || err.Error() != "/nonexistent/img: no such file or directory" || cli.ExitCode(err) != 1 {
		t.Fatalf("got %v, want /nonexistent/img: no such file or directory, exit 1", err)
	}
}
