package applets_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tupperware/tw/applets"
	"github.com/tupperware/tw/applets/images"
)

// Every applet keeps the conventions of DESIGN.md: --help prints its usage
// on stdout and succeeds; an unknown flag is a usage error (exit 2).
func TestEveryAppletHelpAndUnknownFlag(t *testing.T) {
	all := append(append([]applets.Applet{}, applets.Core...), images.All...)
	for _, a := range all {
		var out bytes.Buffer
		err := a.Main([]string{"--help"}, applets.IO{Stdout: &out, Stderr: &bytes.Buffer{}})
		if err != nil || !strings.HasPrefix(out.String(), "Usage: tw-"+a.Name+" ") {
			t.Errorf("tw-%s --help: %v\n%s", a.Name, err, out.String())
		}
		err = a.Main([]string{"--bogus"}, applets.IO{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
		if applets.ExitCode(err) != 2 || err.Error() != "unknown flag: --bogus" {
			t.Errorf("tw-%s --bogus: %v (exit %d), want usage error", a.Name, err, applets.ExitCode(err))
		}
	}
}
