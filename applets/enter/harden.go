package enter

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
	"github.com/tupperware/tw/applets/internal/seccomp"
)

// hardening is what tw-harden (or tw-runc) left on a container's process,
// as /proc/PID/status and /proc/PID/limits show it.
type hardening struct {
	bounding, effective, permitted caps.Set
	uid, gid                       int
	groups                         []int
	noNewPrivs                     bool
	seccomp                        bool                // in filter mode
	filters                        [][]unix.SockFilter // the seccomp filters, oldest first
	rlimits                        map[int]unix.Rlimit
}

// readHardening reads pid's hardening from the host's /proc.
func readHardening(pid int) (*hardening, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := parseStatus(f)
	if err != nil {
		return nil, err
	}
	g, err := os.Open(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return nil, err
	}
	defer g.Close()
	if h.rlimits, err = parseLimits(g); err != nil {
		return nil, err
	}
	return h, nil
}

// parseStatus reads the lines of /proc/PID/status that hardening needs.
func parseStatus(r io.Reader) (*hardening, error) {
	h := &hardening{uid: -1, gid: -1}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		var err error
		switch key {
		case "CapBnd", "CapEff", "CapPrm":
			if len(f) != 1 {
				return nil, fmt.Errorf("status: %s: %q", key, val)
			}
			v, perr := strconv.ParseUint(f[0], 16, 64)
			err = perr
			switch key {
			case "CapBnd":
				h.bounding = caps.Set(v)
			case "CapEff":
				h.effective = caps.Set(v)
			case "CapPrm":
				h.permitted = caps.Set(v)
			}
		case "Uid", "Gid":
			if len(f) < 1 {
				return nil, fmt.Errorf("status: %s: %q", key, val)
			}
			var id int
			if id, err = strconv.Atoi(f[0]); err == nil {
				if key == "Uid" {
					h.uid = id
				} else {
					h.gid = id
				}
			}
		case "Groups":
			for _, s := range f {
				var id int
				if id, err = strconv.Atoi(s); err != nil {
					break
				}
				h.groups = append(h.groups, id)
			}
		case "NoNewPrivs":
			h.noNewPrivs = len(f) == 1 && f[0] == "1"
		case "Seccomp":
			h.seccomp = len(f) == 1 && f[0] == "2"
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("status: %s: %w", key, err)
		}
		seen[key] = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, k := range []string{"CapBnd", "CapEff", "CapPrm", "Uid", "Gid"} {
		if !seen[k] {
			return nil, fmt.Errorf("status: no %s", k)
		}
	}
	return h, nil
}

// parseLimits reads /proc/PID/limits: a header, then one line per
// resource in the order of their numbers (RLIMIT_CPU = 0 …), the name in
// 26 columns, then the soft and the hard limit, "unlimited" or a number.
func parseLimits(r io.Reader) (map[int]unix.Rlimit, error) {
	out := map[int]unix.Rlimit{}
	sc := bufio.NewScanner(r)
	n := -1
	for sc.Scan() {
		line := sc.Text()
		if n++; n == 0 {
			continue // "Limit  Soft Limit  Hard Limit  Units"
		}
		if len(line) < 26 {
			return nil, fmt.Errorf("limits: line %d: %q", n+1, line)
		}
		f := strings.Fields(line[26:])
		if len(f) < 2 {
			return nil, fmt.Errorf("limits: line %d: %q", n+1, line)
		}
		soft, err1 := limit(f[0])
		hard, err2 := limit(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("limits: line %d: %q", n+1, line)
		}
		out[n-1] = unix.Rlimit{Cur: soft, Max: hard}
	}
	return out, sc.Err()
}

func limit(s string) (uint64, error) {
	if s == "unlimited" {
		return math.MaxUint64, nil
	}
	return strconv.ParseUint(s, 10, 64)
}

// apply gives this thread the hardening, in tw-harden's order: limits,
// bounding set, user, capabilities, no_new_privs, seccomp.
func (h *hardening) apply() error {
	for res, lim := range h.rlimits {
		lim := lim
		if err := unix.Setrlimit(res, &lim); err != nil {
			return fmt.Errorf("setrlimit %d: %w", res, err)
		}
	}
	if err := caps.DropBounding(h.bounding); err != nil {
		return err
	}
	if err := syscall.Setgroups(h.groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setresgid(h.gid, h.gid, h.gid); err != nil {
		return fmt.Errorf("setresgid %d: %w", h.gid, err)
	}
	if err := syscall.Setresuid(h.uid, h.uid, h.uid); err != nil {
		return fmt.Errorf("setresuid %d: %w", h.uid, err)
	}
	if err := caps.Apply(h.effective, h.permitted, 0); err != nil {
		return err
	}
	if h.noNewPrivs || h.seccomp {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("no_new_privs: %w", err)
		}
	}
	if h.seccomp && len(h.filters) == 0 {
		return errors.New("seccomp: the container's filter was not read")
	}
	for _, f := range h.filters {
		if err := seccomp.Install(f); err != nil {
			return fmt.Errorf("seccomp: %w", err)
		}
	}
	return nil
}
