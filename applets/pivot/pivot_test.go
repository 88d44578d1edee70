package pivot

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tupperware/tw/applets/internal/cli"
)

func TestCheckRoot(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ root, msg string }{
		{dir, ""},
		{dir + "/nosuch", "new root " + dir + "/nosuch: no such file or directory"},
		{file, "new root " + file + ": not a directory"},
		{"/", "new root /: is the current root"},
		{"/usr/..", "new root /usr/..: is the current root"},
	} {
		err := checkRoot(tc.root)
		if tc.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.root, err)
			}
			continue
		}
		var pe *os.PathError
		if err == nil || err.Error() != tc.msg || !errors.As(err, &pe) {
			t.Errorf("%s: error %v, want *os.PathError %q", tc.root, err, tc.msg)
		}
	}
}

// Usage errors come before anything is looked at or changed.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{nil, "expected at least 1 argument(s), got 0"},
		{[]string{"--bogus", "/"}, "unknown flag: --bogus"},
	} {
		err := Main(tc.args, cli.IO{Stdout: &bytes.Buffer{}})
		if cli.ExitCode(err) != 2 || err.Error() != tc.msg {
			t.Errorf("%q: %v (exit %d), want %q", tc.args, err, cli.ExitCode(err), tc.msg)
		}
	}
	var out bytes.Buffer
	if err := Main([]string{"--help", "/"}, cli.IO{Stdout: &out}); err != nil || !strings.HasPrefix(out.String(), "Usage: tw-pivot ") {
		t.Errorf("--help: %v\n%s", err, out.String())
	}
}
