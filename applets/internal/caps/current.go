package caps

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Current returns the effective, permitted and inheritable sets of this
// thread.
func Current() (eff, perm, inh Set, err error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, 0, 0, fmt.Errorf("capget: %w", err)
	}
	set := func(lo, hi uint32) Set { return Set(lo) | Set(hi)<<32 }
	return set(data[0].Effective, data[1].Effective), set(data[0].Permitted, data[1].Permitted),
		set(data[0].Inheritable, data[1].Inheritable), nil
}
