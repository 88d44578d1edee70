package harden

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cli"
)

func TestParseRlimit(t *testing.T) {
	inf := uint64(unix.RLIM_INFINITY)
	for in, want := range map[string]Rlimit{
		"nofile=1024:1024":     {"nofile", unix.RLIMIT_NOFILE, 1024, 1024},
		"nofile=512":           {"nofile", unix.RLIMIT_NOFILE, 512, 512},
		"RLIMIT_NPROC=10:20":   {"nproc", unix.RLIMIT_NPROC, 10, 20},
		"core=0:unlimited":     {"core", unix.RLIMIT_CORE, 0, inf},
		"stack=-1":             {"stack", unix.RLIMIT_STACK, inf, inf},
		"memlock=unlimited:-1": {"memlock", unix.RLIMIT_MEMLOCK, inf, inf},
	} {
		if got, err := ParseRlimit(in); err != nil || got != want {
			t.Errorf("ParseRlimit(%q) = %+v, %v", in, got, err)
		}
	}
	for in, msg := range map[string]string{
		"nofile":         "nofile: expected TYPE=SOFT[:HARD]",
		"nofile=abc":     `nofile=abc: not a number: "abc"`,
		"nofile=1:x":     `nofile=1:x: not a number: "x"`,
		"nofile=":        `nofile=: not a number: ""`,
		"bogus=1":        `bogus=1: unknown resource "bogus"`,
		"nofile=10:5":    "nofile=10:5: soft limit above the hard limit",
		"nofile=1:2:3":   `nofile=1:2:3: not a number: "2:3"`,
		"nofile=-2":      `nofile=-2: not a number: "-2"`,
		"nofile=1e3:1e3": `nofile=1e3:1e3: not a number: "1e3"`,
	} {
		if _, err := ParseRlimit(in); err == nil || err.Error() != msg {
			t.Errorf("ParseRlimit(%q): %v, want %s", in, err, msg)
		}
	}
}

func TestParseRlimitsLaterWins(t *testing.T) {
	got, err := ParseRlimits([]string{"nofile=1024:1024", "core=0", "nofile=10:20"})
	if err != nil || len(got) != 2 || got[0].Soft != 10 || got[0].Hard != 20 || got[1].Name != "core" {
		t.Errorf("got %+v, %v", got, err)
	}
}

func TestParseUser(t *testing.T) {
	for in, want := range map[string][2]int{"0": {0, 0}, "1000": {1000, 1000}, "1000:1001": {1000, 1001}, "7:0": {7, 0}} {
		if u, g, err := ParseUser(in); err != nil || u != want[0] || g != want[1] {
			t.Errorf("ParseUser(%q) = %d, %d, %v", in, u, g, err)
		}
	}
	for _, in := range []string{"", "root", ":1", "1:", "-1", "1:x", "4294967295", "99999999999"} {
		if _, _, err := ParseUser(in); err == nil {
			t.Errorf("ParseUser(%q): no error", in)
		}
	}
}

func TestPlanChecksEverythingFirst(t *testing.T) {
	o := options{capAdd: []string{"CHOWN"}, rlimits: []string{"nofile=10"}, user: "5:6", seccomp: true}
	p, err := o.plan()
	if err != nil {
		t.Fatal(err)
	}
	if p.keep != 0x20000421 || p.uid != 5 || p.gid != 6 || len(p.rlimits) != 1 || p.rlimits[0].Soft != 10 || len(p.filter) == 0 {
		t.Errorf("plan %+v", p)
	}
	for _, bad := range []options{{capDrop: []string{"NOPE"}}, {rlimits: []string{"x=1"}}, {user: "x"}} {
		if _, err := bad.plan(); cli.ExitCode(err) != 2 {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
