package cgroup

import (
	"errors"
	"os"
	"os/exec"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestMissing(t *testing.T) {
	if got := Missing([]string{"cpu", "hugetlb", "pids"}, []string{"cpu", "memory", "pids"}); !reflect.DeepEqual(got, []string{"memory"}) {
		t.Errorf("Missing: %v", got)
	}
	if got := Missing(nil, []string{"pids"}); !reflect.DeepEqual(got, []string{"pids"}) {
		t.Errorf("Missing: %v", got)
	}
	if got := Missing([]string{"pids"}, []string{"pids"}); got != nil {
		t.Errorf("Missing: %v", got)
	}
}

// v2Test is a fresh cgroup below the root of this machine's cgroup v2
// mount and a controller the root hands down (skipped when there is
// none, or without root). This process is moved into it (and back into
// the root's cgroup after, which the test needs it to be in).
func v2Test(t *testing.T) (dir, controller string) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	mounts, self, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	var root string
	for _, m := range mounts {
		if m.V2 && self[""] == "/" && m.Root == "/" {
			root = m.Point
			break
		}
	}
	if root == "" {
		t.Skip("not in the root cgroup of a cgroup v2 mount")
	}
	sub, _ := os.ReadFile(path.Join(root, "cgroup.subtree_control"))
	f := strings.Fields(string(sub))
	if len(f) == 0 {
		t.Skip("cgroup v2 hands no controller down here")
	}
	dir = path.Join(root, "tw-delegate-test-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		Join([]string{root})
		os.Remove(path.Join(dir, "c"))
		os.Remove(path.Join(dir, "x.self"))
		if err := os.Remove(dir); err != nil {
			t.Error(err)
		}
	})
	return dir, f[0]
}

// A delegated cgroup with a controller: tw-limit's leaf, the controller
// turned on for its cgroup, and all of it taken back by Undo.
func TestDelegate(t *testing.T) {
	dir, c := v2Test(t)
	if _, err := Delegate(dir, "x.self", []string{"no-such-controller"}); !errors.Is(err, ErrNotDelegated) ||
		!strings.Contains(err.Error(), dir+": no-such-controller not delegated to you (it has "+c) {
		t.Fatalf("Delegate without the controller: %v", err)
	}
	if err := Join([]string{dir}); err != nil {
		t.Fatal(err)
	}
	d, err := Delegate(dir, "x.self", []string{c})
	if err != nil {
		t.Fatal(err)
	}
	g, err := Create(true, []Place{d.Place([]string{c})}, "c", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := Controllers(path.Join(dir, "c")); !slices.Contains(got, c) {
		t.Errorf("the new cgroup has %v, not %s", got, c)
	}
	if b, _ := os.ReadFile(path.Join(dir, "x.self", "cgroup.procs")); strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("the leaf holds %q", b)
	}
	if err := g.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := d.Undo(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path.Join(dir, "cgroup.subtree_control")); strings.TrimSpace(string(b)) != "" {
		t.Errorf("cgroup.subtree_control left with %q", b)
	}
	if _, err := os.Stat(path.Join(dir, "x.self")); !os.IsNotExist(err) {
		t.Errorf("the leaf is left: %v", err)
	}
}

// Another process in the delegated cgroup: refused, nothing made.
func TestDelegateOthers(t *testing.T) {
	dir, c := v2Test(t)
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	if err := os.WriteFile(path.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(sleep.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	if err := Join([]string{dir}); err != nil {
		t.Fatal(err)
	}
	_, err := Delegate(dir, "x.self", []string{c})
	if err == nil || !strings.Contains(err.Error(), "holds other processes ("+strconv.Itoa(sleep.Process.Pid)+")") {
		t.Fatalf("Delegate with another process: %v", err)
	}
	if _, err := os.Stat(path.Join(dir, "x.self")); !os.IsNotExist(err) {
		t.Errorf("a leaf was made: %v", err)
	}
	sleep.Process.Kill()
	sleep.Wait()
}
