// Package mountsys is tw-mountsys: a read-only sysfs for the container,
// then run a program.
package mountsys

import (
	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/mount"
	"github.com/tupperware/tw/applets/internal/ns"
)

var Applet = cli.Applet{Name: "mountsys", Summary: "mount a read-only sysfs, then run a program", Main: Main}

const usage = `Usage: tw-mountsys [--target DIR] [--force] [PROG [ARGS…]]

Mount sysfs read-only (nosuid, nodev, noexec) at /sys or DIR, as runc's
default spec does, and execute PROG (default /bin/sh); a tw-* applet named
as PROG runs in this process. sysfs shows the network devices of the
network namespace it is mounted in: give the container its own
(tw-unshare --net) so that it sees only its own. Like tw-pivot it refuses
to act in the host's mount namespace. tw-harden masks /sys/firmware.
`

func Main(args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("mountsys", false)
	target := fs.String("target", "/sys", "mount sysfs at `DIR`")
	force := ns.ForceFlag(fs)
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	argv := chain.Argv(fs.Args())
	if err := ns.CheckMountNS(*force); err != nil {
		return err
	}
	if err := ns.Slave(); err != nil {
		return err
	}
	if err := mount.Sysfs(*target); err != nil {
		return ns.UserHint(err, "/sys", "a network namespace of its own (--net) and ")
	}
	return chain.Exec(argv, stdio)
}
