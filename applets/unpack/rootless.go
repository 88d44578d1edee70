package unpack

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// rootlessHint explains to a user without root why the owners could not
// be set: the image's owners need --rootless (kept in an xattr) or a user
// namespace with the subordinate range (tw-unshare --map-auto -r).
func rootlessHint(err error, rootless bool) error {
	if err == nil || rootless || os.Geteuid() == 0 || !errors.Is(err, unix.EPERM) {
		return err
	}
	return fmt.Errorf("%w (not root: add --rootless, or unpack inside tw-unshare --map-auto -r)", err)
}
