package limit

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cgroup"
	"github.com/tupperware/tw/applets/internal/cli"
)

func TestLimits(t *testing.T) {
	o := options{memory: "32M", pids: 20, cpus: "1.5", weight: 500}
	l, err := o.Limits()
	if err != nil || l != (cgroup.Limits{Memory: 32 << 20, Pids: 20, CPUQuota: 150000, CPUWeight: 500}) {
		t.Errorf("Limits = %+v, %v", l, err)
	}
	for _, c := range []struct {
		o   options
		msg string
	}{
		{options{}, "no limit given: --memory, --pids, --cpus or --cpu-weight"},
		{options{memory: "1X"}, `--memory not a positive size: "1X"`},
		{options{pids: -3}, "--pids -3: not a positive number"},
		{options{cpus: "0.004"}, "--cpus 0.004: below the kernel's minimum of 0.01 CPU (a quota of 1ms per 100ms)"},
		{options{weight: 10001}, "--cpu-weight 10001: out of range 1…10000"},
		{options{pids: 1, name: "a/b"}, "--name a/b: not a single path component"},
		{options{pids: 1, name: ".."}, "--name ..: not a single path component"},
	} {
		_, err := c.o.Limits()
		if cli.ExitCode(err) != 2 || err.Error() != c.msg {
			t.Errorf("%+v: %v, want %s", c.o, err, c.msg)
		}
	}
}

func TestRandomName(t *testing.T) {
	a, b := randomName(), randomName()
	if a == b || len(a) != len("tw-limit-")+12 || !strings.HasPrefix(a, "tw-limit-") {
		t.Errorf("names %s %s", a, b)
	}
}

func TestInheritedKeepsNumbersOfOpenDescriptors(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], 0); err != nil { // not close-on-exec
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	var q [2]int
	if err := unix.Pipe2(q[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(q[0])
	defer unix.Close(q[1])
	files, err := inherited(cli.IO{})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) <= p[1] || files[p[0]] == nil || files[p[1]] == nil {
		t.Fatalf("pipe %v not passed on: %v", p, files)
	}
	if len(files) > q[0] && files[q[0]] != nil {
		t.Errorf("close-on-exec descriptor %d passed on", q[0])
	}
	if int(files[p[0]].Fd()) == p[0] {
		t.Errorf("descriptor %d passed itself, not a dup", p[0])
	}
	for _, f := range files[3:] {
		if f != nil {
			f.Close()
		}
	}
	if _, err := unix.FcntlInt(uintptr(p[0]), unix.F_GETFD, 0); err != nil {
		t.Errorf("closing the dups closed the original: %v", err)
	}
}

func TestHow(t *testing.T) {
	chainArgv := strings.Fields("tw-unshare -muinpf tw-pivot R tw-mountproc tw-mountsys tw-mountdev tw-harden /bin/true")
	for _, c := range []struct {
		argv          string
		root, canFork bool
		want          way
	}{
		{"", true, true, unshareJoins}, // chainArgv
		{"", false, true, enter},
		{"", true, false, enter},
		{"sleep 1", true, true, forkJoins},
		{"sleep 1", false, true, forkJoins},
		{"sleep 1", true, false, reexec},
		{"/bin/sh -c tw-pivot", true, true, forkJoins},
		{"tw-pivot R sh", true, true, reexec},
		{"tw-nosuch", true, true, reexec},
		{"tw-unshare -m -u -i -n -p -f sh", true, true, unshareJoins},
		{"tw-unshare --mount --uts --ipc --net --pid --fork sh", true, true, unshareJoins},
		{"tw-unshare -mu --propagation slave --hostname c1 sh", true, true, unshareJoins},
		{"tw-unshare -mu --propagation=slave --hostname=c1 -- sh", true, true, unshareJoins},
		{"tw-unshare", true, true, unshareJoins}, // /bin/sh
		{"tw-unshare -muinpf --hostname", true, true, enter},
		{"tw-unshare -muinpfC sh", true, true, enter}, // the cgroup namespace
		{"tw-unshare -C sh", true, true, enter},
		{"tw-unshare --cgroup sh", true, true, enter},
		{"tw-unshare -muinpf --mount-proc sh", true, true, enter},
		{"tw-unshare -muinpf --mount-proc=/proc sh", true, true, enter},
		{"tw-unshare -Ur sh", true, true, enter},
		{"tw-unshare --user sh", true, true, enter},
		{"tw-unshare --map-root-user sh", true, true, enter},
		{"tw-unshare --mount=false sh", true, true, enter},
		{"tw-unshare -m tw-mountproc tw-pivot R sh", true, true, enter},
		{"tw-unshare -m tw-pivot R tw-harden tw-mountdev sh", true, true, enter},
		{"tw-unshare -m tw-pivot R tw-harden sh -c tw-x", true, true, enter},
		{"tw-unshare -m tw-net --lo sh", true, true, enter},
		{"tw-unshare -m tw-limit --pids 5 sh", true, true, enter},
		{"tw-unshare -m -- tw-limit --pids 5 sh", true, true, enter},
	} {
		argv := strings.Fields(c.argv)
		if c.argv == "" {
			argv = chainArgv
		}
		if got := how(argv, c.root, c.canFork); got != c.want {
			t.Errorf("how(%q, root %v, canFork %v) = %d, want %d", argv, c.root, c.canFork, got, c.want)
		}
	}
}
