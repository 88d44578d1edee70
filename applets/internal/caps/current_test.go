package caps

import (
	"os"
	"runtime"
	"testing"
)

// Current reads what Apply set: on a thread of its own, locked and never
// unlocked, so that the Go runtime drops it with its capabilities.
func TestCurrentReadsApply(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		eff, perm, _, err := Current()
		if err != nil || eff&^perm != 0 || !perm.Has(SYS_ADMIN) {
			t.Errorf("Current() = %v, %v, _, %v: want root's sets", eff, perm, err)
			done <- nil
			return
		}
		// Without NET_RAW (13), CHOWN (0) inheritable.
		want := eff &^ (1 << 13)
		if err := Apply(want, perm, 1<<0); err != nil {
			done <- err
			return
		}
		e, p, i, err := Current()
		if err == nil && (e != want || p != perm || i != 1<<0) {
			t.Errorf("Current() after Apply = %v, %v, %v", e, p, i)
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
