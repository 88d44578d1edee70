// Package mountdev is tw-mountdev: a minimal /dev for the container, as
// runc makes it, then run a program.
package mountdev

import (
	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/mount"
	"github.com/tupperware/tw/applets/internal/ns"
)

var Applet = cli.Applet{Name: "mountdev", Summary: "mount a minimal /dev, then run a program", Main: Main}

const usage = `Usage: tw-mountdev [--target DIR] [--force] [PROG [ARGS…]]

Mount a fresh /dev (or DIR) the way runc does and execute PROG (default
/bin/sh); a tw-* applet named as PROG runs in this process:

  /dev          tmpfs, nosuid, mode 755, 64M
  null zero full random urandom tty
                character devices, mode 666 (made with mknod; where mknod is
                not permitted, the node of the same name in the /dev seen
                before the mount is bind-mounted instead)
  pts           devpts, newinstance, ptmxmode=0666, mode=620, gid=5
                (no gid=5 in a user namespace that does not map it)
  ptmx          -> pts/ptmx
  shm           tmpfs, nosuid, nodev, noexec, mode 1777, 64M
  mqueue        mqueue, nosuid, nodev, noexec
  fd stdin stdout stderr
                -> /proc/self/fd, /proc/self/fd/0, 1, 2

Run it after tw-pivot (or before, with --target NEWROOT/dev, so that the
host's nodes can be bound where mknod is not permitted). Like tw-pivot it
refuses to act in the host's mount namespace.
`

func Main(args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("mountdev", false)
	target := fs.String("target", "/dev", "mount the new /dev at `DIR`")
	force := ns.ForceFlag(fs)
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	argv := chain.Argv(fs.Args())
	if err := ns.CheckMountNS(*force); err != nil {
		return err
	}
	if err := mount.Dev(*target); err != nil {
		return err
	}
	return chain.Exec(argv, stdio)
}
