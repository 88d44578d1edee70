package ns

import (
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// A pin sent by Pin arrives at Pins and holds a file open for writing on
// the directory's filesystem until Release.
func TestPins(t *testing.T) {
	p, child, err := NewPins()
	if err != nil {
		t.Fatal(err)
	}
	p.Receive()
	t.Setenv(EnvPin, strconv.Itoa(int(child.Fd())))
	dir := t.TempDir()
	if err := Pin(dir); err != nil {
		t.Fatal(err)
	}
	if err := Pin(dir); err != nil {
		t.Fatal(err)
	}
	child.Close() // as the child's exec does
	<-p.done
	if len(p.files) != 2 {
		t.Fatalf("received %d pins, want 2", len(p.files))
	}
	for _, fd := range p.files {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil || flags&unix.O_ACCMODE != unix.O_WRONLY {
			t.Errorf("pin %d: flags %#o, %v; want open for writing", fd, flags, err)
		}
	}
	p.Release()
}

// Release does not wait for a child end that someone else still holds.
func TestPinsReleaseWhileHeld(t *testing.T) {
	p, child, err := NewPins()
	if err != nil {
		t.Fatal(err)
	}
	defer child.Close()
	p.Receive()
	p.Release()
}

func TestPinWithoutTwUnshare(t *testing.T) {
	t.Setenv(EnvPin, "")
	if err := Pin(t.TempDir()); err != nil {
		t.Errorf("Pin outside tw-unshare: %v", err)
	}
	t.Setenv(EnvPin, "x")
	if err := Pin(t.TempDir()); err == nil || err.Error() != EnvPin+"=x: not a descriptor" {
		t.Errorf("Pin with %s=x: %v", EnvPin, err)
	}
}

// In thread mode the pin is made on another goroutine: Pin returns at
// once, PinsMade waits for it and holds it, LeaveThread lets it go; a pin
// that cannot be made fails PinsMade with Pin's error.
func TestPinThreadMode(t *testing.T) {
	EnterThread(false)
	defer LeaveThread()
	if err := Pin(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if Pinned() {
		t.Fatal("pinned before PinsMade")
	}
	if err := PinsMade(); err != nil {
		t.Fatal(err)
	}
	if !Pinned() {
		t.Fatal("no pin held after PinsMade")
	}
	missing := t.TempDir() + "/missing"
	if err := Pin(missing); err != nil {
		t.Fatal(err)
	}
	err := PinsMade()
	if err == nil || err.Error() != "pin "+missing+": no such file or directory" {
		t.Fatalf("PinsMade = %v", err)
	}
	LeaveThread()
	if Pinned() {
		t.Fatal("pin held after LeaveThread")
	}
}
