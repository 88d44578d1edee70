package mountdev

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tupperware/tw/applets/internal/cli"
)

func TestUsage(t *testing.T) {
	err := Main([]string{"--bogus"}, cli.IO{Stdout: &bytes.Buffer{}})
	if cli.ExitCode(err) != 2 || err.Error() != "unknown flag: --bogus" {
		t.Errorf("--bogus: %v", err)
	}
	var out bytes.Buffer
	if err := Main([]string{"--help"}, cli.IO{Stdout: &out}); err != nil || !strings.HasPrefix(out.String(), "Usage: tw-mountdev ") {
		t.Errorf("--help: %v\n%s", err, out.String())
	}
}

func TestNodesAreRuncs(t *testing.T) {
	var got []string
	for _, n := range Nodes {
		got = append(got, n.Name)
	}
	if strings.Join(got, " ") != "null zero full random urandom tty" || Nodes[5] != (Node{"tty", 5, 0}) {
		t.Errorf("nodes %v", Nodes)
	}
}
