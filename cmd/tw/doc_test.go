package main

import (
	"bytes"
	"math/rand"
	"reflect"
	"regexp"
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

// upperWord is the regexp it stands for, on generated tokens.
func TestUpperWord(t *testing.T) {
	re := regexp.MustCompile(`^[A-Z][A-Z_]*(\[[^ ]*\])?…?$`)
	pieces := []string{"A", "Z", "_", "a", "0", "[", "]", "…", " ", "\t", ":", "TAG", "[:TAG]", "é", "-"}
	r := rand.New(rand.NewSource(1))
	toks := []string{"", "NEWROOT", "ID…", "SRC[:TAG]", "A[x]…", "A……", "A[…", "A[…]…", "A]…", "a", "A B"}
	for i := 0; i < 100000; i++ {
		tok := ""
		for n := r.Intn(7); n > 0; n-- {
			tok += pieces[r.Intn(len(pieces))]
		}
		toks = append(toks, tok)
	}
	matched := 0
	for _, tok := range toks {
		if got, want := upperWord(tok), re.MatchString(tok); got != want {
			t.Fatalf("upperWord(%q) = %v, regexp %v", tok, got, want)
		}
		if re.MatchString(tok) {
			matched++
		}
	}
	if matched < 1000 {
		t.Errorf("only %d tokens matched", matched)
	}
}
