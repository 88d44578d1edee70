// Package mountproc is tw-mountproc: mount a fresh proc for a new pid
// namespace, then run a program (walkthrough step 14).
package mountproc

import (
	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/mount"
	"github.com/tupperware/tw/applets/internal/ns"
)

var Applet = cli.Applet{Name: "mountproc", Summary: "mount a fresh proc, then run a program", Main: Main}

const usage = `Usage: tw-mountproc [--target DIR] [--host-pids] [--force] [PROG [ARGS…]]

Mount a fresh proc filesystem (nosuid,nodev,noexec) at /proc or DIR and
execute PROG (default /bin/sh); a tw-* applet named as PROG runs in this
process. Nothing propagates to the host: mounts that are shared are made
slaves first.

A fresh proc shows the processes of the pid namespace tw-mountproc runs in:
without a new one (tw-unshare --pid --fork) it would list the host's, so
tw-mountproc refuses unless --host-pids is given. Like tw-pivot it refuses
to act in the host's mount namespace.

In a user namespace (tw-unshare -r) the kernel mounts proc only while
another proc is visible, which it no longer is after tw-pivot: mount it
before, at NEWROOT/proc (tw-mountproc --target NEWROOT/proc tw-pivot
NEWROOT …), as rootless runc does; tw-mountsys and tw-mountdev likewise.
`

func Main(args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("mountproc", false)
	target := fs.String("target", "/proc", "mount proc at `DIR`")
	hostPids := fs.Bool("host-pids", false, "mount even without a new pid namespace")
	force := ns.ForceFlag(fs)
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	argv := chain.Argv(fs.Args())
	if err := ns.CheckMountNS(*force); err != nil {
		return err
	}
	if !*hostPids {
		if err := ns.CheckPidNS(); err != nil {
			return err
		}
	}
	if chain.Threaded() {
		// Only a process of the new pid namespace can mount its proc:
		// the child tw-unshare starts does, before it executes PROG.
		if err := ns.Slave(); err != nil {
			return err
		}
		chain.MountProcLater(*target)
		return chain.Exec(argv, stdio)
	}
	if err := ns.Slave(); err != nil {
		return err
	}
	if err := mount.Proc(*target); err != nil {
		return ns.UserHint(err, "/proc", "a pid namespace of its own (--pid) and ")
	}
	return chain.Exec(argv, stdio)
}
