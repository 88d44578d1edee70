package harden

import (
	"testing"

	"github.com/tupperware/tw/applets/internal/cli"
)

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
