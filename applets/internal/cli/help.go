package cli

import "strings"

// Help is an applet's --help text read back into its parts, so that the
// man pages and the shell completion are made from the one usage string
// and FlagSet that --help prints (PrintHelp), never from a second copy.
type Help struct {
	Usage    []string // the synopsis lines, without "Usage: "
	Text     string   // the description, as written
	Options  []Option // from the "Options:" list
	Commands []string // subcommands named in the synopsis or a "Commands:" list
}

// Option is one flag of an Options list.
type Option struct {
	Short, Long string // "q", "quiet"
	Arg         string // the value's name (FILE, string…), "" for none
	Optional    bool   // the value may be left out (--mount-proc[=DIR])
	Help        string
}

// ParseHelp reads what PrintHelp printed.
func ParseHelp(s string) Help {
	var h Help
	body, opts, _ := strings.Cut(s, "\nOptions:\n")
	lines := strings.Split(body, "\n")
	i := 0
	for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
		l := strings.TrimSpace(strings.TrimPrefix(lines[i], "Usage:"))
		h.Usage = append(h.Usage, l)
	}
	h.Text = strings.Trim(strings.Join(lines[i:], "\n"), "\n")
	for _, l := range strings.Split(opts, "\n") {
		m := matchFlagLine(l) // a line of pflag's FlagUsages: "  -q, --quiet[=true|false]   text"
		switch {
		case m != nil:
			o := Option{Short: m[1], Long: m[2], Arg: m[4], Help: m[5]}
			if a, _, ok := strings.Cut(m[4], "[="); ok { // --mount-proc DIR[="/proc"]
				o.Arg, o.Optional = a, true
			}
			if m[3] != "" && m[3] != "[=true|false]" {
				o.Arg, o.Optional = strings.TrimSuffix(strings.TrimPrefix(m[3], "[="), "]"), true
				if m[4] != "" {
					o.Arg = m[4]
				}
			}
			h.Options = append(h.Options, o)
		case strings.TrimSpace(l) != "" && len(h.Options) > 0:
			o := &h.Options[len(h.Options)-1]
			o.Help = strings.TrimSpace(o.Help + " " + strings.TrimSpace(l))
		}
	}
	h.Commands = commands(h.Usage, h.Text)
	return h
}

// commands finds subcommands: "tw-subvol create PATH…" synopsis lines,
// or the first words of a "Commands:" list ("  pause ID, resume ID").
func commands(usage []string, text string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(c string) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	if len(usage) > 1 {
		for _, u := range usage {
			if c := matchSubcommand(u); c != "" {
				add(c)
			}
		}
		if len(out) != len(usage) {
			out, seen = nil, map[string]bool{}
		}
	}
	_, list, ok := strings.Cut(text, "Commands:\n")
	if !ok {
		return out
	}
	for _, l := range strings.Split(list, "\n") {
		if strings.TrimSpace(l) == "" {
			break
		}
		if !strings.HasPrefix(l, "  ") || strings.HasPrefix(l, "   ") {
			continue
		}
		if i := strings.Index(l[2:], "  "); i >= 0 {
			l = l[:i+2] // the synopsis, not the description beside it
		}
		for _, c := range matchCommands(l) {
			add(c)
		}
	}
	return out
}
