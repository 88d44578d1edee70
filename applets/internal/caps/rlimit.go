package caps

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Rlimit is one --rlimit TYPE=SOFT[:HARD].
type Rlimit struct {
	Name       string
	Resource   int
	Soft, Hard uint64
}

// rlimitNames are the resources by their prlimit(1)/Docker names (an
// array, not a map: a map would be built at every start of tw).
var rlimitNames = [...]struct {
	name     string
	resource int
}{
	{"as", unix.RLIMIT_AS}, {"core", unix.RLIMIT_CORE}, {"cpu", unix.RLIMIT_CPU},
	{"data", unix.RLIMIT_DATA}, {"fsize", unix.RLIMIT_FSIZE}, {"locks", unix.RLIMIT_LOCKS},
	{"memlock", unix.RLIMIT_MEMLOCK}, {"msgqueue", unix.RLIMIT_MSGQUEUE}, {"nice", unix.RLIMIT_NICE},
	{"nofile", unix.RLIMIT_NOFILE}, {"nproc", unix.RLIMIT_NPROC}, {"rss", unix.RLIMIT_RSS},
	{"rtprio", unix.RLIMIT_RTPRIO}, {"rttime", unix.RLIMIT_RTTIME}, {"sigpending", unix.RLIMIT_SIGPENDING},
	{"stack", unix.RLIMIT_STACK},
}

func rlimitResource(name string) (int, bool) {
	for _, r := range rlimitNames {
		if r.name == name {
			return r.resource, true
		}
	}
	return 0, false
}

// ParseRlimit reads TYPE=SOFT[:HARD]; HARD defaults to SOFT, "unlimited"
// (or -1) is RLIM_INFINITY; the type may carry Docker's RLIMIT_ prefix.
func ParseRlimit(s string) (Rlimit, error) {
	name, val, ok := strings.Cut(s, "=")
	if !ok {
		return Rlimit{}, fmt.Errorf("%s: expected TYPE=SOFT[:HARD]", s)
	}
	name = strings.TrimPrefix(strings.ToLower(name), "rlimit_")
	res, ok := rlimitResource(name)
	if !ok {
		return Rlimit{}, fmt.Errorf("%s: unknown resource %q", s, name)
	}
	soft, hard, hasHard := strings.Cut(val, ":")
	r := Rlimit{Name: name, Resource: res}
	var err error
	if r.Soft, err = parseLimit(soft); err != nil {
		return Rlimit{}, fmt.Errorf("%s: %v", s, err)
	}
	r.Hard = r.Soft
	if hasHard {
		if r.Hard, err = parseLimit(hard); err != nil {
			return Rlimit{}, fmt.Errorf("%s: %v", s, err)
		}
	}
	if r.Soft > r.Hard {
		return Rlimit{}, fmt.Errorf("%s: soft limit above the hard limit", s)
	}
	return r, nil
}

func parseLimit(s string) (uint64, error) {
	if s == "unlimited" || s == "-1" {
		return unix.RLIM_INFINITY, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a number: %q", s)
	}
	return n, nil
}

// ParseRlimits reads a list; a later one for the same resource wins.
func ParseRlimits(list []string) ([]Rlimit, error) {
	var out []Rlimit
	at := map[int]int{}
	for _, s := range list {
		r, err := ParseRlimit(s)
		if err != nil {
			return nil, err
		}
		if i, ok := at[r.Resource]; ok {
			out[i] = r
			continue
		}
		at[r.Resource] = len(out)
		out = append(out, r)
	}
	return out, nil
}

// Set makes r a limit of this process.
func (r Rlimit) Set() error {
	lim := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
	if err := unix.Setrlimit(r.Resource, &lim); err != nil {
		return fmt.Errorf("setrlimit %s: %w", r.Name, err)
	}
	return nil
}
