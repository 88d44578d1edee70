package cli

import (
	"strings"
	"unicode/utf8"
)

// The help parser's patterns, matched by hand: package regexp (and the
// unicode tables it keeps) would cost every start of tw its init, ~1 ms
// of a container's start, for --man and --completion only. help_test.go
// holds each to the regexp it stands for.

// isSpace is regexp's \s: [\t\n\f\r ].
func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r' }

func isWord(b byte) bool {
	return b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

func isLower(b byte) bool { return 'a' <= b && b <= 'z' }

func spaces(s string) int {
	n := 0
	for n < len(s) && isSpace(s[n]) {
		n++
	}
	return n
}

// matchFlagLine is
// ^\s+(?:-(\S), )?--([A-Za-z0-9][A-Za-z0-9_.-]*)(\[=[^\]]*\])?(?: (\S+))?(?:\s{2,}(.*))?$
// on a line without newlines: short, long, "[=…]", argument, help.
func matchFlagLine(l string) []string {
	n := spaces(l)
	if n == 0 {
		return nil
	}
	r := l[n:]
	var short string
	if len(r) > 1 && r[0] == '-' && r[1] != '-' || len(r) > 1 && r[0] == '-' && strings.HasPrefix(r[1:], "-, --") {
		_, size := utf8.DecodeRuneInString(r[1:])
		if c := r[1 : 1+size]; !isSpace(c[0]) && strings.HasPrefix(r[1+size:], ", --") {
			short, r = c, r[1+size+2:]
		}
	}
	if !strings.HasPrefix(r, "--") {
		return nil
	}
	r = r[2:]
	i := 0
	for i < len(r) && (isWord(r[i]) && r[i] != '_' || i > 0 && (r[i] == '_' || r[i] == '.' || r[i] == '-')) {
		i++
	}
	if i == 0 {
		return nil
	}
	long, r := r[:i], r[i:]
	var opt string
	if strings.HasPrefix(r, "[=") {
		if j := strings.IndexByte(r, ']'); j >= 0 {
			opt, r = r[:j+1], r[j+1:]
		}
	}
	help := func(r string) (string, bool) {
		if r == "" {
			return "", true
		}
		if n := spaces(r); n >= 2 && !strings.Contains(r, "\n") {
			return r[n:], true
		}
		return "", false
	}
	if len(r) > 1 && r[0] == ' ' && !isSpace(r[1]) {
		j := 1
		for j < len(r) && !isSpace(r[j]) {
			j++
		}
		if h, ok := help(r[j:]); ok {
			return []string{l, short, long, opt, r[1:j], h}
		}
	}
	if h, ok := help(r); ok {
		return []string{l, short, long, opt, "", h}
	}
	return nil
}

// lowerWord is ([a-z][a-z-]*)\b at s[i:]: the word, or "" when none.
func lowerWord(s string, i int) string {
	if i >= len(s) || !isLower(s[i]) {
		return ""
	}
	j := i + 1
	for j < len(s) && (isLower(s[j]) || s[j] == '-') {
		j++
	}
	for ; j > i; j-- {
		if next := j < len(s) && isWord(s[j]); isWord(s[j-1]) != next {
			return s[i:j]
		}
	}
	return ""
}

// matchSubcommand is ^tw-[a-z]+ ([a-z][a-z-]*)\b: the subcommand of a
// synopsis line ("tw-subvol create PATH"), or "".
func matchSubcommand(u string) string {
	if !strings.HasPrefix(u, "tw-") {
		return ""
	}
	i := 3
	for i < len(u) && isLower(u[i]) {
		i++
	}
	if i == 3 || i >= len(u) || u[i] != ' ' {
		return ""
	}
	return lowerWord(u, i+1)
}

// matchCommands is every (?:^  |, )([a-z][a-z-]*)\b of l, left to right.
func matchCommands(l string) []string {
	var out []string
	at := 0
	if strings.HasPrefix(l, "  ") {
		if w := lowerWord(l, 2); w != "" {
			out, at = append(out, w), 2+len(w)
		}
	}
	for {
		k := strings.Index(l[at:], ", ")
		if k < 0 {
			return out
		}
		start := at + k + 2
		if w := lowerWord(l, start); w != "" {
			out, at = append(out, w), start+len(w)
		} else {
			at += k + 1
		}
	}
}
