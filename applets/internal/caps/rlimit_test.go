package caps

import (
	"testing"

	"golang.org/x/sys/unix"
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
