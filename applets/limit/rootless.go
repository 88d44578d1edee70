package limit

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// userHint explains to a user without root why no cgroup could be made:
// a user needs a cgroup v2 subtree delegated to them (systemd's
// Delegate=yes, as rootless podman and runc use); cgroup v1 has none.
func userHint(err error, v2 bool) error {
	if os.Geteuid() == 0 || !(errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS)) {
		return err
	}
	if !v2 {
		return fmt.Errorf("%w (not root: limits need a cgroup v2 subtree delegated to you, and this machine's controllers are on cgroup v1)", err)
	}
	return fmt.Errorf("%w (not root: limits need a cgroup v2 subtree delegated to you, e.g. systemd-run --user --scope -p Delegate=yes tw-limit …)", err)
}
