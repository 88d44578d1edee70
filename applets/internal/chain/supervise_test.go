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

// A signal caught before To is handed on once To names the receiver.
func TestForwarder(t *testing.T) {
	f := Catch()
	got := make(chan os.Signal, 4)
	if err := unix.Kill(os.Getpid(), unix.SIGHUP); err != nil {
		t.Fatal(err)
	}
	f.To(func(s os.Signal) error { got <- s; return nil })
	select {
	case s := <-got:
		if s != unix.SIGHUP {
			t.Errorf("handed on %v, want SIGHUP", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SIGHUP was not handed on")
	}
	unix.Kill(os.Getpid(), unix.SIGQUIT)
	if s := <-got; s != unix.SIGQUIT {
		t.Errorf("handed on %v, want SIGQUIT", s)
	}
	f.Stop()
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
// and it has caught the signals: one sent now waits in it.
func TestCatching(t *testing.T) {
	c := CatchLater()
	go c.Catch()
	f := c.Forwarder()
	if c.Forwarder() != f {
		t.Fatal("a second Forwarder")
	}
	defer f.Stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-f.sigs:
		if s != syscall.SIGHUP {
			t.Errorf("caught %v, want SIGHUP", s)
		}
	case <-time.After(5 * time.Second):
		t.Error("SIGHUP not caught")
	}
}
