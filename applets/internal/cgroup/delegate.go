package cgroup

// A cgroup v2 subtree delegated to a user, as systemd's Delegate=yes
// makes one (and rootless podman, runc and crun use): the user owns the
// cgroup's directory, its cgroup.procs, cgroup.subtree_control and
// cgroup.threads, and so may make cgroups below it, move its processes
// between them, and hand down the controllers the cgroup has.

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Delegated is this process's cgroup v2 directory when the caller may
// write it, its cgroup.procs and its cgroup.subtree_control; "" when not.
func Delegated(mounts []Mount, self map[string]string) string {
	cg, ok := self[""]
	if !ok {
		return ""
	}
	for _, m := range mounts {
		if !m.V2 {
			continue
		}
		d := m.Dir(cg)
		if writable(d) && writable(path.Join(d, "cgroup.procs")) && writable(path.Join(d, "cgroup.subtree_control")) {
			return d
		}
	}
	return ""
}

func writable(p string) bool { return unix.Access(p, unix.W_OK) == nil }

// Missing are the controllers of want that have lacks.
func Missing(have, want []string) []string {
	var out []string
	for _, w := range want {
		if !contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

// ErrNotDelegated is wrapped when a delegated cgroup lacks controllers.
var ErrNotDelegated = errors.New("not delegated")

// Delegation is tw-limit's place in a delegated cgroup Dir: cgroup v2
// hands controllers down only from a cgroup without processes, so this
// process first moves into a leaf of its own (Leaf), then the controllers
// are enabled in Dir, and its new cgroups go below Dir. Undo takes all of
// that back.
type Delegation struct {
	Dir, Leaf string
	enabled   []string // added to Dir's cgroup.subtree_control here
}

// Delegate prepares dir (from Delegated) for cgroups with the
// controllers want, with leaf as this process's own: dir must have them
// (cgroup.controllers), and hold no process but this one.
func Delegate(dir, leaf string, want []string) (*Delegation, error) {
	have := Controllers(dir)
	if miss := Missing(have, want); len(miss) > 0 {
		has := strings.Join(have, ", ")
		if has == "" {
			has = "none"
		}
		return nil, fmt.Errorf("cgroup v2 %s: %s %w to you (it has %s)", dir, strings.Join(miss, ", "), ErrNotDelegated, has)
	}
	b, err := os.ReadFile(path.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	me := os.Getpid()
	for _, pid := range parsePids(b, nil) {
		if pid != me {
			return nil, fmt.Errorf("cgroup v2 %s: holds other processes (%d): cgroup v2 hands controllers down only from a cgroup without any; run tw-limit in a cgroup of its own (systemd-run --user --scope -p Delegate=yes tw-limit …)", dir, pid)
		}
	}
	sub, err := os.ReadFile(path.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return nil, err
	}
	d := &Delegation{Dir: dir, Leaf: path.Join(dir, leaf)}
	for _, c := range want {
		if !contains(strings.Fields(string(sub)), c) {
			d.enabled = append(d.enabled, c)
		}
	}
	if err := os.Mkdir(d.Leaf, 0o755); err != nil {
		return nil, err
	}
	if err := Join([]string{d.Leaf}); err != nil {
		os.Remove(d.Leaf)
		return nil, err
	}
	return d, nil
}

// Place is where the cgroup goes: below Dir, this process coming back to
// its leaf.
func (d *Delegation) Place(want []string) Place {
	return Place{Parent: d.Dir, Origin: d.Leaf, Controllers: want}
}

// Undo turns off the controllers Delegate's cgroups turned on, moves this
// process back into Dir and removes its leaf.
func (d *Delegation) Undo() error {
	if len(d.enabled) > 0 {
		off := make([]string, len(d.enabled))
		for i, c := range d.enabled {
			off[i] = "-" + c
		}
		if err := os.WriteFile(path.Join(d.Dir, "cgroup.subtree_control"), []byte(strings.Join(off, " ")), 0); err != nil {
			return fmt.Errorf("cgroup v2 %s: turn %s off again: %w", d.Dir, strings.Join(d.enabled, ", "), err)
		}
	}
	if err := os.WriteFile(path.Join(d.Dir, "cgroup.procs"), []byte(strconv.Itoa(0)), 0); err != nil {
		return fmt.Errorf("back to cgroup %s: %w", d.Dir, err)
	}
	return os.Remove(d.Leaf)
}
