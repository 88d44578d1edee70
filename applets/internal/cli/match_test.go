package cli

import (
	"math/rand"
	"reflect"
	"regexp"
	"testing"
)

// The regexps the matchers stand for (match.go): the oracle here, kept out
// of tw itself.
var (
	flagLineRe    = regexp.MustCompile(`^\s+(?:-(\S), )?--([A-Za-z0-9][A-Za-z0-9_.-]*)(\[=[^\]]*\])?(?: (\S+))?(?:\s{2,}(.*))?$`)
	subcommandRe  = regexp.MustCompile(`^tw-[a-z]+ ([a-z][a-z-]*)\b`)
	commandLineRe = regexp.MustCompile(`(?:^  |, )([a-z][a-z-]*)\b`)
)

// pieces are what help lines are made of, hostile ones included.
var pieces = []string{" ", "  ", "\t", "-", "--", ", ", ",", "[=", "]", "[", "=", "a", "z", "Q", "0", "_", ".",
	"…", "é", "\u00a0", "x-y", "tw-", "tw-subvol", "create", "DIR", "string", "-h, --help", "--mount-proc",
	"[=\"/proc\"]", "[=true|false]", "text", "\f", "\r"}

func randomLine(r *rand.Rand) string {
	n := r.Intn(9)
	s := [...]string{"", "  ", "      --", "  -x, --", "tw-x ", "  a, "}[r.Intn(6)]
	for i := 0; i < n; i++ {
		s += pieces[r.Intn(len(pieces))]
	}
	return s
}

func TestMatchersAgreeWithRegexps(t *testing.T) {
	lines := []string{
		"  -b, --bundle DIR          the bundle DIR (default \".\")",
		"      --json                print JSON",
		"      --mount-proc DIR[=\"/proc\"]   mount proc",
		"      --env stringArray     set K=V",
		"  -h, --help                print this help and exit",
		"  -q, --quiet[=true|false]   text",
		"      --x y z", "      --x y  z", "  --x", " --x ", "  --x  ", "--x", "  -é, --x", "  -, --x",
		"  --, --x", "  --x[=a]b", "  --x[=a] b  c", "  --x[=a", "tw-subvol create PATH", "tw-x delete [-f] ID…",
		"tw-x foo- bar", "tw-x fooX", "tw-x foo_", "tw-x foo-bar", "tw-x  foo", "tw-", "tw-x ", "  start ID",
		"  pause ID, resume ID", "  a, b-, c-d, , e", ", x", "  -x, y", "  x,y, z",
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200000; i++ {
		lines = append(lines, randomLine(r))
	}
	var flags, subs, cmds int
	for _, l := range lines {
		got, wantFlag := matchFlagLine(l), flagLineRe.FindStringSubmatch(l)
		if !reflect.DeepEqual(got, wantFlag) {
			t.Fatalf("flag line %q: %q, regexp %q", l, got, wantFlag)
		}
		if got != nil {
			flags++
		}
		want := ""
		if m := subcommandRe.FindStringSubmatch(l); m != nil {
			want = m[1]
		}
		if got := matchSubcommand(l); got != want {
			t.Fatalf("subcommand %q: %q, regexp %q", l, got, want)
		}
		if want != "" {
			subs++
		}
		var wants []string
		for _, m := range commandLineRe.FindAllStringSubmatch(l, -1) {
			wants = append(wants, m[1])
		}
		if got := matchCommands(l); !reflect.DeepEqual(got, wants) {
			t.Fatalf("commands %q: %q, regexp %q", l, got, wants)
		}
		cmds += len(wants)
	}
	// the generated lines match too, not only fail alike
	if flags < 1000 || subs < 100 || cmds < 1000 {
		t.Errorf("matches: %d flag lines, %d subcommands, %d commands", flags, subs, cmds)
	}
}
