package ns

import (
	"errors"
	"strings"
	"testing"
)

const (
	host  = "mnt:[4026532100]" // a host that is not the initial namespace (a CI container)
	other = "mnt:[4026532200]"
)

func TestCheckMount(t *testing.T) {
	for _, tc := range []struct {
		what  string
		f     Facts
		force bool
		msg   string // "" accepts
	}{
		{what: "under tw-unshare --mount", f: Facts{Kind: "mnt", Self: other, Left: host}},
		{what: "PID 1 under tw-unshare --mount --pid", f: Facts{Kind: "mnt", Self: other, Left: host, PPid: 0}},
		{what: "under unshare -m", f: Facts{Kind: "mnt", Self: other, Parent: host, PPid: 42}},
		{what: "forked by tw-unshare, parent seen", f: Facts{Kind: "mnt", Self: other, Left: host, Parent: host, PPid: 42}},
		{what: "in the host", f: Facts{Kind: "mnt", Self: host, Parent: host, PPid: 42},
			msg: "cannot show that mnt:[4026532100] is another one (run under tw-unshare --mount, or pass --force)"},
		{what: "in the host, parent unreadable", f: Facts{Kind: "mnt", Self: host, PPid: 42},
			msg: "cannot show that mnt:[4026532100] is another one"},
		{what: "in the host, no parent", f: Facts{Kind: "mnt", Self: host}, msg: "cannot show that"},
		{what: "in the host, forged record", f: Facts{Kind: "mnt", Self: host, Left: other, Parent: host, PPid: 42},
			msg: "cannot show that mnt:[4026532100] is another one"},
		{what: "in the host, forced", f: Facts{Kind: "mnt", Self: host, Parent: host, PPid: 42}, force: true},
		{what: "initial namespace", f: Facts{Kind: "mnt", Self: initial["mnt"], Parent: other, PPid: 42}, force: true,
			msg: "mnt:[4026531832] is the initial one"},
		{what: "initial namespace, forged record", f: Facts{Kind: "mnt", Self: initial["mnt"], Left: other}, force: true,
			msg: "is the initial one"},
		{what: "tw-unshare without --mount", f: Facts{Kind: "mnt", Self: host, Left: host, Parent: other, PPid: 42}, force: true,
			msg: "mnt:[4026532100] is the one tw-unshare was started in (add --mount)"},
		{what: "no /proc, nothing shown before", f: Facts{Kind: "mnt", Left: host, Pid: 1},
			msg: "cannot read /proc/self/ns/mnt"},
	} {
		verified = false
		err := CheckMount(tc.f, tc.force)
		switch {
		case tc.msg == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.what, err)
		case tc.msg != "" && (err == nil || !errors.Is(err, ErrHostMount) || !strings.Contains(err.Error(), tc.msg)):
			t.Errorf("%s: error %v, want %q", tc.what, err, tc.msg)
		}
	}
}

// After tw-pivot there is no /proc: a later guard in the same process
// trusts the earlier one.
func TestCheckMountRemembers(t *testing.T) {
	verified = false
	if err := CheckMount(Facts{Kind: "mnt", Self: host, Parent: host, PPid: 9}, false); err == nil {
		t.Fatal("host accepted")
	}
	if err := CheckMount(Facts{Kind: "mnt"}, false); err == nil {
		t.Fatal("no /proc accepted before any check passed")
	}
	if err := CheckMount(Facts{Kind: "mnt", Self: other, Left: host}, false); err != nil {
		t.Fatal(err)
	}
	if err := CheckMount(Facts{Kind: "mnt", Left: host}, false); err != nil {
		t.Errorf("no /proc after a passed check: %v", err)
	}
	if err := CheckMount(Facts{Kind: "mnt", Self: initial["mnt"]}, true); err == nil {
		t.Errorf("initial namespace accepted after a passed check")
	}
	verified = false
}

func TestCheckPid(t *testing.T) {
	const h, o = "pid:[4026532100]", "pid:[4026532200]"
	for _, tc := range []struct {
		what string
		f    Facts
		ok   bool
	}{
		{"PID 1 under tw-unshare --pid", Facts{Kind: "pid", Self: o, Left: h, Pid: 1}, true},
		{"under tw-unshare without --pid", Facts{Kind: "pid", Self: h, Left: h, Parent: o, PPid: 5, Pid: 7}, false},
		{"under unshare -pf", Facts{Kind: "pid", Self: o, PPid: 0, Pid: 1}, true},
		{"child of another pid namespace", Facts{Kind: "pid", Self: o, Parent: h, PPid: 3, Pid: 4}, true},
		{"same as the parent's", Facts{Kind: "pid", Self: h, Parent: h, PPid: 3, Pid: 4}, false},
		{"parent unreadable", Facts{Kind: "pid", Self: h, PPid: 3, Pid: 4}, false},
		{"initial pid namespace", Facts{Kind: "pid", Self: initial["pid"], PPid: 0, Pid: 1}, false},
		{"no /proc, PID 1", Facts{Kind: "pid", Left: h, Pid: 1}, true},
		{"no /proc, not PID 1", Facts{Kind: "pid", Left: h, PPid: 1, Pid: 5}, false},
	} {
		err := CheckPid(tc.f)
		if tc.ok != (err == nil) || (err != nil && err != ErrHostPid) {
			t.Errorf("%s: %v", tc.what, err)
		}
	}
}

func TestCheckUTS(t *testing.T) {
	const h, o = "uts:[4026532100]", "uts:[4026532200]"
	for _, tc := range []struct {
		what string
		f    Facts
		ok   bool
	}{
		{"under tw-unshare --uts", Facts{Kind: "uts", Self: o, Left: h}, true},
		{"under unshare -u", Facts{Kind: "uts", Self: o, Parent: h, PPid: 3}, true},
		{"under tw-unshare without --uts", Facts{Kind: "uts", Self: h, Left: h, Parent: o, PPid: 3}, false},
		{"no record, same as the parent's", Facts{Kind: "uts", Self: h, Parent: h, PPid: 3}, false},
		{"no record, no parent", Facts{Kind: "uts", Self: h}, false},
		{"forged record, same as the parent's", Facts{Kind: "uts", Self: h, Left: o, Parent: h, PPid: 3}, false},
		{"unreadable", Facts{Kind: "uts", Left: h}, false},
		{"initial", Facts{Kind: "uts", Self: "uts:[4026531838]", Left: h}, false},
	} {
		if err := CheckUTS(tc.f); tc.ok != (err == nil) {
			t.Errorf("%s: %v", tc.what, err)
		}
	}
}

func TestLeft(t *testing.T) {
	rec := "mnt:[1] pid:[2] uts:[3]"
	for kind, want := range map[string]string{"mnt": "mnt:[1]", "pid": "pid:[2]", "uts": "uts:[3]", "net": "", "mn": ""} {
		if got := Left(rec, kind); got != want {
			t.Errorf("Left(%q) = %q, want %q", kind, got, want)
		}
	}
	if got := Left("", "mnt"); got != "" {
		t.Errorf("Left of nothing = %q", got)
	}
}

// This process (go test, on the host) must never pass the guard.
func TestThisProcessIsRefused(t *testing.T) {
	verified = false
	t.Setenv(EnvLeft, "")
	if err := CheckMountNS(false); err == nil {
		t.Errorf("go test passed the mount namespace guard: %+v", Gather("mnt"))
	}
}
