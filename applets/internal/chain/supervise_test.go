package chain

import (
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		ws   syscall.WaitStatus
		want int
	}{
		{0, 0},
		{7 << 8, 7},
		{255 << 8, 255},
		{syscall.WaitStatus(syscall.SIGKILL), 137},
		{syscall.WaitStatus(syscall.SIGTERM), 143},
		{syscall.WaitStatus(syscall.SIGSEGV) | 0x80, 139}, // core dumped
	} {
		if got := ExitStatus(tc.ws); got != tc.want {
			t.Errorf("wait status %#x: exit %d, want %d", uint32(tc.ws), got, tc.want)
		}
	}
}

// sleeper starts a child that sleeps until a signal ends it.
func sleeper(t *testing.T) int {
	t.Helper()
	p, err := os.StartProcess("/bin/sleep", []string{"sleep", "60"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Pid
}

// killedBy waits for pid and checks that signal s ended it.
func killedBy(t *testing.T, pid int, s syscall.Signal) {
	t.Helper()
	ws, err := Wait(pid)
	if err != nil || !ws.Signaled() || ws.Signal() != s {
		t.Errorf("child %d: wait status %#x, %v; want killed by %v", pid, uint32(ws), err, s)
	}
}

// A signal caught before To is passed on once To names the receiver, one
// caught after at once; To(0) keeps them again, and ToEach passes those
// kept and those after on to each process its list gives.
func TestForwarder(t *testing.T) {
	t.Run("raw", testForwarder)
	noRaw = true
	defer func() { noRaw = false }()
	t.Run("os/signal", testForwarder)
}

func testForwarder(t *testing.T) {
	f := Catch()
	if f.raw != (rawSignalsOK && !noRaw) {
		t.Fatalf("raw %v, want %v", f.raw, rawSignalsOK && !noRaw)
	}
	if err := unix.Kill(os.Getpid(), unix.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // (caught, kept: this process goes on)
	a := sleeper(t)
	f.To(a)
	killedBy(t, a, unix.SIGHUP)
	b := sleeper(t)
	f.To(b)
	unix.Kill(os.Getpid(), unix.SIGQUIT)
	killedBy(t, b, unix.SIGQUIT)
	f.To(0)
	unix.Kill(os.Getpid(), unix.SIGTERM)
	time.Sleep(10 * time.Millisecond)
	c, d := sleeper(t), sleeper(t)
	f.ToEach(func() []int { return []int{c, d} })
	killedBy(t, c, unix.SIGTERM)
	killedBy(t, d, unix.SIGTERM)
	e := sleeper(t)
	f.ToEach(func() []int { return []int{e} })
	unix.Kill(os.Getpid(), unix.SIGINT)
	killedBy(t, e, unix.SIGINT)
	f.Stop()
}

// A Forwarder made while another catches takes the signals until it
// stops; then they go where the first one sends them.
func TestForwarderNested(t *testing.T) {
	outer := Catch()
	defer outer.Stop()
	a := sleeper(t)
	outer.To(a)
	inner := Catch()
	b := sleeper(t)
	inner.To(b)
	unix.Kill(os.Getpid(), unix.SIGHUP)
	killedBy(t, b, unix.SIGHUP)
	inner.Stop()
	unix.Kill(os.Getpid(), unix.SIGTERM)
	killedBy(t, a, unix.SIGTERM)
}

// Wait returns a child's status, and a wait for no child of its own fails.
func TestWait(t *testing.T) {
	p, err := os.StartProcess("/bin/sh", []string{"sh", "-c", "exit 7"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := Wait(p.Pid)
	if err != nil || ExitStatus(ws) != 7 {
		t.Errorf("Wait: %v, %v, want exit 7", ws, err)
	}
	if _, err := Wait(p.Pid); err == nil || err.Error() != "wait: no child processes" {
		t.Errorf("Wait again: %v, want no child", err)
	}
}

// A Catching's Forwarder is the one its Catch made, the same each time,
// and it has caught the signals: one sent now is passed on by To.
func TestCatching(t *testing.T) {
	c := CatchLater()
	go c.Catch()
	testCatching(t, c)
	testCatching(t, CatchSoon())
}

func testCatching(t *testing.T, c *Catching) {
	f := c.Forwarder()
	if c.Forwarder() != f {
		t.Fatal("a second Forwarder")
	}
	defer f.Stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	a := sleeper(t)
	f.To(a)
	killedBy(t, a, syscall.SIGHUP)
}
