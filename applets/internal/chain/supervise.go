package chain

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Signals are those an applet that waits for its child passes on to it:
// what a terminal or a service manager sends to end a program.
var Signals = []syscall.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT}

// Forwarder catches Signals for a child: from Catch on, so that none is
// lost while the child starts, and passes them on once To names it.
//
// On amd64 the catching is a handler of a few instructions (sigHandler in
// sigfwd_amd64.s) that the kernel calls on whichever thread the signal
// comes to, and which calls kill(2) itself: no os/signal, whose start is
// two more threads (its receiver and a locked one) that every start of a
// container then also pays to end: 3-7 % of the chain's time on the
// project's virtual machine. Elsewhere, and once ToEach has been called,
// it is os/signal's.
type Forwarder struct {
	raw  bool
	old  [4]sigaction     // Signals' actions before the raw handler
	prev int32            // the target of the Forwarder this one nests in
	top  bool             // it installed the raw handler
	sigs chan os.Signal   // os/signal's
	pid  atomic.Int64     // where os/signal's go: 0 keeps them, -1 each of list
	held []syscall.Signal // kept (os/signal's), under mu
	list func() []int
	mu   sync.Mutex
}

// fwdTarget is where the raw handler passes signals on (0: none yet),
// fwdPending the set of those it caught meanwhile (bit N: signal N);
// fwdDepth counts the Forwarders catching raw, nested: the last one made
// names the target until it stops.
var (
	fwdTarget  int32
	fwdPending uint64
	fwdDepth   int
	fwdMu      sync.Mutex
)

// noRaw has Catch take os/signal's way (tests).
var noRaw bool

// Catch starts catching Signals; Stop ends it.
func Catch() *Forwarder {
	f := &Forwarder{}
	fwdMu.Lock()
	defer fwdMu.Unlock()
	switch {
	case fwdDepth > 0:
		f.raw, f.prev = true, atomic.SwapInt32(&fwdTarget, 0)
	case !noRaw && rawCatch(Signals, f.old[:]):
		f.raw, f.top = true, true
	default:
		f.notify()
		return f
	}
	fwdDepth++
	return f
}

// notify catches Signals through os/signal, passing each on as f.pid
// says.
func (f *Forwarder) notify() {
	f.sigs = make(chan os.Signal, 4)
	for _, s := range Signals {
		signal.Notify(f.sigs, s)
	}
	go func(sigs chan os.Signal) {
		for s := range sigs {
			f.pass(s.(syscall.Signal))
		}
	}(f.sigs)
}

func (f *Forwarder) pass(s syscall.Signal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch pid := f.pid.Load(); {
	case pid > 0:
		unix.Kill(int(pid), s)
	case pid < 0:
		for _, p := range f.list() {
			unix.Kill(p, s)
		}
	default:
		f.held = append(f.held, s)
	}
}

// To passes each signal caught on to pid, those caught already first; To(0)
// keeps them again.
func (f *Forwarder) To(pid int) {
	if f.raw {
		atomic.StoreInt32(&fwdTarget, int32(pid))
		if pid > 0 {
			for _, s := range signalsIn(atomic.SwapUint64(&fwdPending, 0)) {
				unix.Kill(pid, s)
			}
		}
		return
	}
	f.mu.Lock()
	f.pid.Store(int64(pid))
	held := f.held
	f.held = nil
	f.mu.Unlock()
	for _, s := range held {
		f.pass(s)
	}
}

// ToEach passes each signal caught on to every process that list gives at
// the time, those kept (To(0)) first: what a subreaper passes on to the
// processes left to it.
func (f *Forwarder) ToEach(list func() []int) {
	f.mu.Lock()
	f.list = list
	f.pid.Store(-1)
	held := f.held
	f.held = nil
	f.mu.Unlock()
	if f.raw && f.top {
		// os/signal's handler takes over before the raw one goes, so that
		// none of Signals meets Go's default action (the end of tw);
		// then what the raw one kept is passed on.
		f.notify()
		f.stopRaw(true)
	}
	for _, s := range held {
		f.pass(s)
	}
}

// signalsIn lists the signals set in bits (bit N: signal N).
func signalsIn(bits uint64) []syscall.Signal {
	var sigs []syscall.Signal
	for s := syscall.Signal(1); s < 64; s++ {
		if bits&(1<<s) != 0 {
			sigs = append(sigs, s)
		}
	}
	return sigs
}

// Stop gives Signals back their previous action, or the target back to the
// Forwarder this one nests in; those caught and not passed on are dropped.
func (f *Forwarder) Stop() {
	if f.raw {
		f.stopRaw(false)
	}
	if f.sigs != nil {
		signal.Stop(f.sigs)
		close(f.sigs)
		f.sigs = nil
	}
}

// stopRaw ends the raw catching; pass: what it kept goes through f.pass.
func (f *Forwarder) stopRaw(pass bool) {
	fwdMu.Lock()
	fwdDepth--
	if f.top {
		rawRestore(Signals, f.old[:])
	}
	kept := atomic.SwapUint64(&fwdPending, 0)
	atomic.StoreInt32(&fwdTarget, f.prev)
	f.raw = false
	fwdMu.Unlock()
	if pass {
		for _, s := range signalsIn(kept) {
			f.pass(s)
		}
	}
}

// Catching is Catch made on another goroutine while the caller goes on
// (os/signal's start is two threads and a round trip with one of them per
// signal), and taken when the signals are to be passed on.
type Catching struct {
	c chan *Forwarder
	f *Forwarder
}

// CatchLater is a Catching whose Catch the caller starts on a goroutine:
// go c.Catch(), or at the end of one it starts for more. Where the raw
// handler catches (amd64) it catches at once, which costs four system
// calls, and c.Catch does nothing.
func CatchLater() *Catching {
	c := &Catching{c: make(chan *Forwarder, 1)}
	if rawSignalsOK {
		c.f = Catch()
	}
	return c
}

// CatchSoon is CatchLater with its Catch started on a goroutine where
// it is still to do (not on amd64, where CatchLater has caught).
func CatchSoon() *Catching {
	c := CatchLater()
	if c.f == nil {
		go c.Catch()
	}
	return c
}

// Catch catches the signals (see Catch), once.
func (c *Catching) Catch() {
	if c.f == nil {
		c.c <- Catch()
	}
}

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
