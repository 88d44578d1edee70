package net

import (
	"fmt"
	"os"
	"testing"
)

// TestLoInUserErrors: the child's setns and the parent's open fail with
// tw-net's messages (joining one's own user namespace is EINVAL, for any
// user).
func TestLoInUserErrors(t *testing.T) {
	me := os.Getpid()
	err := (&options{pid: me}).loInUser()
	if want := fmt.Sprintf("pid %d: join the user namespace of %d: invalid argument", me, me); err == nil || err.Error() != want {
		t.Errorf("own user namespace: %v, want %q", err, want)
	}
	err = (&options{pid: 1 << 30}).loInUser()
	if want := "pid 1073741824: open /proc/1073741824/ns/user: no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("no such process: %v, want %q", err, want)
	}
}
