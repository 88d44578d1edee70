package running

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestChainArgs(t *testing.T) {
	for _, c := range []struct {
		argv       string
		name, root string
		ok         bool
	}{
		{"tw-unshare -muinpf --hostname c1 tw-pivot containers/c1 tw-mountproc sh", "c1", "containers/c1", true},
		{"/usr/bin/tw-limit --pids 9 tw-unshare -muipf --hostname=web tw-pivot --force /srv/r sh", "web", "/srv/r", true},
		{"tw-net -b tw0 tw-unshare -m tw-pivot -- r", "", "r", true},
		{"tw unshare -m --hostname x sh", "x", "", true},
		// tw-pivot's own --hostname-looking argument is PROG's, not tw-unshare's
		{"tw-unshare -m tw-pivot r sh --hostname no", "", "r", true},
		{"pgrep -f tw-unshare", "", "", false},
		{"bash -c tw-unshare -m sh", "", "", false},
		{"tw-pull a b", "", "", false},
		{"", "", "", false},
	} {
		var argv []string
		if c.argv != "" {
			argv = strings.Fields(c.argv)
		}
		name, root, ok := chainArgs(argv)
		if name != c.name || root != c.root || ok != c.ok {
			t.Errorf("chainArgs(%q) = %q, %q, %v; want %q, %q, %v", c.argv, name, root, ok, c.name, c.root, c.ok)
		}
	}
}

func TestParseStat(t *testing.T) {
	stat := "4242 (a) b (c)) S 17 4242 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100"
	p, err := parseStat([]byte(stat))
	if err != nil || p.ppid != 17 || p.start != 987654 || p.comm != "a) b (c)" {
		t.Fatalf("parseStat = %+v, %v; want ppid 17, start 987654", p, err)
	}
	for _, bad := range []string{"", "1 (x) S 2", "1 x S"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
}

func TestNetAddrs(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(dir+"/tw0", 0o755)
	os.WriteFile(dir+"/tw0/10.88.0.2", []byte("twv1 4242\n"), 0o644)
	os.WriteFile(dir+"/tw0/nat", []byte("1\n"), 0o644)
	os.WriteFile(dir+"/lock", nil, 0o644)
	got := netAddrs(dir)
	if len(got) != 1 || got[4242] != [2]string{"tw0", "10.88.0.2"} {
		t.Errorf("netAddrs = %v", got)
	}
}

func TestFind(t *testing.T) {
	list := []Container{
		{Name: "a", Pid: 10, Parent: 9, Hostname: "a"},
		{Name: "b", Pid: 20, Parent: 19, Hostname: "renamed"},
		{Name: "b", Pid: 30, Parent: 29, Hostname: "b"},
		{Pid: 40, Parent: 39, Hostname: "h"},
	}
	for target, pid := range map[string]int{"a": 10, "10": 10, "9": 10, "renamed": 20, "h": 40, "39": 40} {
		c, err := Find(list, target)
		if err != nil || c.Pid != pid {
			t.Errorf("Find(%q) = %d, %v; want %d", target, c.Pid, err, pid)
		}
	}
	if _, err := Find(list, "b"); err == nil || err.Error() != "b: 2 containers have that name (PIDs 20 30): give a PID" {
		t.Errorf("Find(b) error = %v", err)
	}
	if _, err := Find(list, "zz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find(zz) error = %v, want ErrNotFound", err)
	}
	// any process is a target, as for nsenter -t
	self := strconv.Itoa(os.Getpid())
	if c, err := Find(nil, self); err != nil || c.Pid != os.Getpid() {
		t.Errorf("Find(self) = %+v, %v", c, err)
	}
	for _, bad := range []string{"0", "-3"} {
		if _, err := Find(list, bad); err == nil {
			t.Errorf("Find(%q) accepted", bad)
		}
	}
}
