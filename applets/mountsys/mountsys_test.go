package mountsys

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
	if err := Main([]string{"--help"}, cli.IO{Stdout: &out}); err != nil || !strings.HasPrefix(out.String(), "Usage: tw-mountsys ") {
		t.Errorf("--help: %v\n%s", err, out.String())
	}
}
