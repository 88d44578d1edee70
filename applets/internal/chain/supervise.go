package chain

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// Signals are those an applet that waits for its child passes on to it:
// what a terminal or a service manager sends to end a program.
var Signals = []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT}

// Forwarder catches Signals for a child: from Catch on, so that none is
// lost while the child starts, and hands them on once To says to whom.
type Forwarder struct{ sigs chan os.Signal }

// Catch starts catching Signals; Stop ends it.
func Catch() *Forwarder {
	f := &Forwarder{make(chan os.Signal, 4)}
	signal.Notify(f.sigs, Signals...)
	return f
}

// To hands each caught signal, those caught already first, to send (an
// (*os.Process).Signal, or a kill of the child's pid), in a goroutine of
// its own until Stop.
func (f *Forwarder) To(send func(os.Signal) error) {
	go func() {
		for s := range f.sigs {
			send(s)
		}
	}()
}

// Stop gives Signals back to their default action and ends To.
func (f *Forwarder) Stop() {
	signal.Stop(f.sigs)
	close(f.sigs)
}

// Catching is Catch made on another goroutine while the caller goes on
// (os/signal's start is two threads and a round trip with one of them per
// signal), and taken when the signals are to be passed on.
type Catching struct {
	c chan *Forwarder
	f *Forwarder
}

// CatchLater is a Catching whose Catch the caller starts on a goroutine:
// go c.Catch(), or at the end of one it starts for more.
func CatchLater() *Catching { return &Catching{c: make(chan *Forwarder, 1)} }

// Catch catches the signals (see Catch), once.
func (c *Catching) Catch() { c.c <- Catch() }

// Forwarder is Catch's Forwarder, waited for the first time.
func (c *Catching) Forwarder() *Forwarder {
	if c.f == nil {
		c.f = <-c.c
	}
	return c.f
}

// ExitStatus is the exit code that passes a child's wait status on: its
// exit code, or 128+N when signal N killed it, as a shell reports it.
func ExitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// Wait waits for the child pid to end and returns its wait status,
// waiting again when a signal interrupts it.
func Wait(pid int) (syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err == nil {
			return ws, nil
		}
		if err != syscall.EINTR {
			return 0, fmt.Errorf("wait: %w", err)
		}
	}
}
