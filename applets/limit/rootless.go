package limit

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cgroup"
	"github.com/tupperware/tw/applets/internal/ns"
)

// delegated is, for a caller without root in the host's user namespace
// whose cgroup v2 cgroup is delegated to it (systemd's Delegate=yes), the
// place of the new cgroup below that one: tw-limit moves into a leaf
// NAME.self there first (cgroup v2 hands controllers down only from a
// cgroup without processes). nil, nil when there is no delegated cgroup:
// then tw-limit works as root does, and a user gets userHint's error.
func delegated(mounts []cgroup.Mount, self map[string]string, want []string, name string) (*cgroup.Delegation, error) {
	if ns.HostRoot() {
		return nil, nil
	}
	dir := cgroup.Delegated(mounts, self)
	if dir == "" {
		return nil, nil
	}
	return cgroup.Delegate(dir, name+".self", want)
}

// undo takes back what delegated did (nothing when d is nil).
func undo(d *cgroup.Delegation) error {
	if d == nil {
		return nil
	}
	return d.Undo()
}

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
