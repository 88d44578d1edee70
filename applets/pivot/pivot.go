// Package pivot is tw-pivot: make a directory the root of this mount
// namespace, with nothing of the old root left (walkthrough steps 13, 15).
package pivot

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/mount"
	"github.com/tupperware/tw/applets/internal/ns"
)

var Applet = cli.Applet{Name: "pivot", Summary: "make a directory the root, then run a program", Main: Main}

const usage = `Usage: tw-pivot [--force] NEWROOT [PROG [ARGS…]]

Make NEWROOT the root directory of this mount namespace, detach the old
root, and execute PROG (default /bin/sh), looked up inside the new root; a
tw-* applet named as PROG runs in this process. NEWROOT may be any
directory, a btrfs subvolume for instance: it is bind-mounted onto itself to
become a mount point, after every mount was made private, and the current
directory does not matter. Afterwards the cwd is /, no "oldroot" directory
is left and no mount of the host is visible.

Under tw-unshare, a nameless file open for writing on NEWROOT's filesystem
is held by tw-unshare while the container lives: the kernel then refuses
to remount that filesystem read-only, which umount -a in the container
would otherwise do to the host's btrfs too (umount of one's own root).
When NEWROOT cannot be written (a read-only subvolume), the file is made
in the nearest directory above it, on the same mount, that can be.

tw-pivot refuses to act in the host's mount namespace: its own must differ
from the one tw-unshare left, or from its parent's. Run it under
tw-unshare --mount.
`

// ErrCurrentRoot refuses a NEWROOT that is the root already.
var ErrCurrentRoot = errors.New("is the current root")

func Main(args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("pivot", false)
	force := ns.ForceFlag(fs)
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 1, -1); err != nil {
		return err
	}
	root, argv := fs.Arg(0), chain.Argv(fs.Args()[1:])
	if err := checkRoot(root); err != nil {
		return err
	}
	if err := ns.CheckMountNS(*force); err != nil {
		return err
	}
	if err := mount.Pivot(root); err != nil {
		return err
	}
	return chain.Exec(argv, stdio)
}

// checkRoot refuses a NEWROOT that is missing, not a directory, or the
// current root.
func checkRoot(root string) error {
	var st, cur unix.Stat_t
	if err := unix.Stat(root, &st); err != nil {
		return &os.PathError{Op: "new root", Path: root, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return &os.PathError{Op: "new root", Path: root, Err: unix.ENOTDIR}
	}
	if err := unix.Stat("/", &cur); err != nil {
		return &os.PathError{Op: "stat", Path: "/", Err: err}
	}
	if st.Dev == cur.Dev && st.Ino == cur.Ino {
		return &os.PathError{Op: "new root", Path: root, Err: ErrCurrentRoot}
	}
	return nil
}
