package net

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cli"
)

// parse parses args as Main does, without touching the network.
func parse(t *testing.T, args ...string) (*options, []string, error) {
	t.Helper()
	fs := cli.NewFlagSet("net", false)
	o := newOptions(fs)
	done, err := cli.Parse(fs, args, usage, &bytes.Buffer{})
	if done {
		t.Fatalf("%q: parse printed help", args)
	}
	if err == nil {
		err = o.check(fs)
	}
	return o, fs.Args(), err
}

func TestOptions(t *testing.T) {
	o, argv, err := parse(t, "-b", "twt0", "-a", "10.201.0.2/24", "tw-unshare", "-muipf", "sh", "-c", "true")
	if err != nil {
		t.Fatal(err)
	}
	if o.bridge != "twt0" || o.addr.String() != "10.201.0.2" || o.subnet.String() != "10.201.0.0/24" || !o.explicit {
		t.Errorf("options: %+v", o)
	}
	if strings.Join(argv, " ") != "tw-unshare -muipf sh -c true" {
		t.Errorf("argv %q", argv)
	}
	o, _, err = parse(t)
	if err != nil || o.bridge != "tw0" || o.explicit || o.addr.IsValid() {
		t.Errorf("defaults: %+v %v", o, err)
	}
	o, _, err = parse(t, "--subnet", "10.201.0.0/24", "--addr", "10.201.0.7")
	if err != nil || o.addr.String() != "10.201.0.7" || o.subnet.String() != "10.201.0.0/24" {
		t.Errorf("--subnet and --addr IP: %+v %v", o, err)
	}
	o, _, err = parse(t, "--resolv", "/r", "--dns", "192.0.2.1", "--dns", "192.0.2.2")
	if err != nil || len(o.dns) != 2 {
		t.Errorf("--dns: %+v %v", o, err)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-b", "eth0"}, `--bridge eth0: must be "tw" followed by letters or digits`},
		{[]string{"-b", "twabcdefghijklmn"}, "--bridge twabcdefghijklmn: longer than 15 characters"},
		{[]string{"-a", "10.201.0.300/24"}, "--addr 10.201.0.300/24: not an IPv4 address or CIDR"},
		{[]string{"--subnet", "10.201.0.0/33"}, "--subnet 10.201.0.0/33: not an IPv4 CIDR"},
		{[]string{"--subnet", "10.201.0.0/24", "-a", "10.201.1.2/24"}, "--addr 10.201.1.2/24: not in --subnet 10.201.0.0/24"},
		{[]string{"--subnet", "10.201.0.0/24", "-a", "10.201.1.2"}, "--addr 10.201.1.2: not in the bridge's subnet 10.201.0.0/24"},
		{[]string{"-a", "10.201.0.1/24"}, "--addr 10.201.0.1: address in use by the bridge"},
		{[]string{"-a", "10.201.0.255/24"}, "--addr 10.201.0.255: is the broadcast address of 10.201.0.0/24"},
		{[]string{"--down", "-a", "10.201.0.2"}, "--down takes only --bridge"},
		{[]string{"--down", "true"}, "--down takes only --bridge"},
		{[]string{"--up", "--pid", "1"}, "--up takes only --bridge, --subnet and --nat"},
		{[]string{"--pid", "0"}, "--pid 0: not a process id"},
		{[]string{"--pid", "7", "sh"}, "--pid takes no PROG"},
		{[]string{"--dns", "192.0.2.1"}, "--dns needs --resolv"},
		{[]string{"--resolv", "/r", "--dns", "dns.example"}, "--dns dns.example: not an IP address"},
		{[]string{"--nosuch"}, "unknown flag: --nosuch"},
	} {
		_, _, err := parse(t, tc.args...)
		var ue *cli.UsageError
		if !errors.As(err, &ue) || err.Error() != tc.want {
			t.Errorf("%q: got %v, want usage error %q", tc.args, err, tc.want)
		}
	}
}

// TestForkFollowsLockedThread shows what tw-net relies on: after
// unshare(CLONE_NEWNET) on a locked thread, every child os/exec starts
// from that goroutine is in the new namespace, however busy the runtime
// is, while children started from other goroutines stay in the host's.
func TestForkFollowsLockedThread(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	host, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	childNS := func() string {
		out, err := exec.Command("/bin/readlink", "/proc/self/ns/net").Output()
		if err != nil {
			t.Error(err)
		}
		return strings.TrimSpace(string(out))
	}
	// Keep the scheduler busy so that unlocked goroutines move between
	// threads.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					runtime.Gosched()
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		mine, _ := os.Readlink("/proc/thread-self/ns/net")
		if mine == host {
			done <- errors.New("unshare left the namespace unchanged")
			return
		}
		for i := 0; i < 20; i++ {
			runtime.GC()
			runtime.Gosched()
			if got := childNS(); got != mine {
				done <- errors.New("child " + got + ", want " + mine)
				return
			}
			// Other goroutines (and the threads the runtime makes for
			// them) stay in the host's namespace.
			other := make(chan string)
			go func() { other <- childNS() }()
			if got := <-other; got != host {
				done <- errors.New("child of another goroutine in " + got + ", want " + host)
				return
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := childNS(); got != host {
		t.Errorf("test goroutine's child in %s, want %s", got, host)
	}
}
