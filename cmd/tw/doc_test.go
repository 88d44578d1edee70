package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/tupperware/tw/applets"
)

// The positional arguments of a synopsis, up to PROG, and what completes them.
func TestPositionals(t *testing.T) {
	for syn, want := range map[string][]string{
		"tw-pivot [--force] NEWROOT [PROG [ARGS…]]":                              {"dir", "prog"},
		"tw-unshare [-muinpCf] [--mount-proc[=DIR]] [--] [PROG [ARGS…]]":         {"prog"},
		"tw-limit [--memory SIZE] [--name NAME] [--] PROG [ARGS…]":               {"prog"},
		"tw-enter [--harden] [--no-cgroup] TARGET [PROG [ARGS…]]":                {"container", "prog"},
		"tw-pull [OPTIONS] SRC DST":                                              {"image", "image"},
		"tw-commit [OPTIONS] DIR LAYOUT[:TAG]":                                   {"dir", "dir"},
		"tw-snapshot [-r] SRC DST…":                                              {"subvol", "file"},
		"tw-ps [--json] [-q]":                                                    nil,
		"tw-harden [--cap-add CAPS] [--rlimit TYPE=SOFT[:HARD]]… [PROG [ARGS…]]": {"prog"},
	} {
		applet := strings.TrimPrefix(strings.Fields(syn)[0], "tw-")
		if got := positionals(applet, syn); !reflect.DeepEqual(got, want) {
			t.Errorf("positionals(%q) = %q, want %q", syn, got, want)
		}
	}
}

// The man page's roff: no line may start a request by accident, and
// backslashes are printed, not interpreted.
func TestRoffText(t *testing.T) {
	var b bytes.Buffer
	text(&b, ".hidden request\n'also\na \\n backslash\n\n  an indented\n  block")
	out := b.String()
	for _, l := range strings.Split(out, "\n") {
		if (strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'")) && l != ".PP" && l != ".nf" && l != ".fi" {
			t.Errorf("line %q starts a request", l)
		}
	}
	if !strings.Contains(out, `a \en backslash`) || !strings.Contains(out, ".nf\n  an indented\n  block\n.fi") {
		t.Errorf("text =\n%s", out)
	}
}

func TestCompletionRefusesOtherShells(t *testing.T) {
	applets.Register()
	if err := completion(&bytes.Buffer{}, "fish"); err == nil {
		t.Error("fish accepted")
	}
}
