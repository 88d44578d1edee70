package chain

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/tupperware/tw/applets/internal/ns"
)

// startOutput gives what exec.Cmd's CombinedOutput gives: stdout and
// stderr together, and its errors' words; the same where clone3 is
// refused (Start's child is a vfork then).
func TestOutput(t *testing.T) {
	t.Cleanup(func() { noClone3 = false })
	for _, refused := range []bool{false, true} {
		noClone3 = refused
		testOutput(t)
	}
}

func testOutput(t *testing.T) {
	for _, c := range []struct{ script, out, err string }{
		{"echo out; echo err >&2", "out\nerr\n", ""},
		{"echo out; echo err >&2; exit 3", "out\nerr\n", "exit status 3"},
		{"read x; echo \"[$x]\"; kill -9 $$", "[]\n", "signal: killed"},
	} {
		out, err := startOutput("/bin/sh", []string{"sh", "-c", c.script})()
		want, werr := exec.Command("/bin/sh", "-c", c.script).CombinedOutput()
		if string(out) != c.out || string(want) != c.out {
			t.Errorf("%q: output %q, os/exec %q, want %q", c.script, out, want, c.out)
		}
		got := ""
		if err != nil {
			got = err.Error()
		}
		oserr := ""
		if werr != nil {
			oserr = werr.Error()
		}
		if got != c.err || oserr != c.err {
			t.Errorf("%q: error %q, os/exec %q, want %q", c.script, got, oserr, c.err)
		}
	}
	if _, err := startOutput("/nonexistent", []string{"x"})(); err == nil || err.Error() != "fork/exec /nonexistent: no such file or directory" {
		t.Errorf("missing program: %v", err)
	}
}

// Both helpers run; when both fail the error is newuidmap's, in the words
// of the helper (its last line), under "user namespace".
func TestNewIDMaps(t *testing.T) {
	for _, h := range []string{"newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(h); err != nil {
			t.Skip("needs " + h)
		}
	}
	// a pid that no process has (pid_max is at most 2^22)
	const pid = 1 << 23
	m := []ns.IDMap{{Inner: 0, Outer: 100000, Count: 1}}
	err := NewIDMaps(pid, m, m)
	if err == nil || !strings.HasPrefix(err.Error(), "user namespace: newuidmap 8388608 0 100000 1: newuidmap: ") ||
		strings.Contains(err.Error(), "\n") {
		t.Errorf("both failing: %v", err)
	}
	err = startIDMap("tw-no-such-helper", pid, m)()
	if err == nil || err.Error() != "tw-no-such-helper not found (install uidmap): needed to map subordinate ids" {
		t.Errorf("missing helper: %v", err)
	}
}
