// Package harden is tw-harden: the last step before the container's
// program, which takes away what runc's default spec takes away: the
// kernel files of /proc and /sys, capabilities, the gain of privileges
// through setuid files, unbounded descriptors, and (with --seccomp) the
// syscalls Docker's default profile forbids.
package harden

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/mount"
	"github.com/tupperware/tw/applets/internal/ns"
	"github.com/tupperware/tw/applets/internal/seccomp"
)

var Applet = cli.Applet{Name: "harden", Summary: "drop capabilities, mask /proc, set limits, then run a program", Main: Main}

const usage = `Usage: tw-harden [--cap-add CAPS] [--cap-drop CAPS] [--rlimit TYPE=SOFT[:HARD]]…
                 [--user UID[:GID]] [--seccomp] [--no-mask] [--force] [PROG [ARGS…]]

Take away from this process what runc's default spec takes away from a
container, then execute PROG (default /bin/sh). In this order:

 1. mask: /dev/null is bind-mounted over the files and an empty read-only
    tmpfs over the directories /proc/acpi /proc/asound /proc/kcore
    /proc/keys /proc/latency_stats /proc/timer_list /proc/timer_stats
    /proc/sched_debug /proc/scsi /sys/firmware; /proc/bus /proc/fs
    /proc/irq /proc/sys /proc/sysrq-trigger become read-only (runc's
    maskedPaths and readonlyPaths; missing ones are skipped); the root is
    remounted nodev, so that device nodes the image brought along cannot
    be opened (runc shuts them with a devices cgroup). --no-mask skips
    this step, the only one that needs a mount namespace of its own and
    the real /dev/null of tw-mountdev
 2. rlimits: RLIMIT_NOFILE 1024:1024 unless --rlimit says otherwise
 3. capabilities: the bounding set is cut to the kept set, which is runc's
    default AUDIT_WRITE, KILL, NET_BIND_SERVICE (CapEff 0000000020000420)
    plus --cap-add minus --cap-drop (CAP_ prefix and case optional, ALL is
    every one; --cap-drop ALL --cap-add X keeps exactly X). As root the
    kept set is also the effective and permitted set; with --user only the
    bounding set (CapEff 0, as Docker does); nothing is inheritable or
    ambient. Docker's 14 are
    --cap-add CHOWN,DAC_OVERRIDE,FOWNER,FSETID,MKNOD,NET_RAW,SETGID,SETUID,SETFCAP,SETPCAP,SYS_CHROOT
    (MKNOD is safe only with a devices cgroup, which tw does not set up)
 4. user: --user UID[:GID] (numbers; GID defaults to UID) switches to that
    user with no supplementary groups
 5. no_new_privs: set always, so setuid files and file capabilities give
    nothing
 6. seccomp (--seccomp): Docker's default profile as a BPF filter; a
    forbidden syscall fails with EPERM; the syscalls of each kept
    capability are allowed, as Docker allows them

tw-harden must come last in the chain: what follows runs without the
capabilities to mount. Under tw-unshare, which runs such a chain on a
thread of its own (see tw-unshare --help), these steps are made by PROG's
own process, right before it executes PROG: nothing of tw-unshare's is
taken away. The order of a whole container is
  [tw-limit LIMITS] tw-unshare -muinpf [--hostname H] tw-pivot ROOT
  tw-mountproc tw-mountsys tw-mountdev tw-harden [OPTIONS] PROG…
`

type options struct {
	capAdd, capDrop []string
	rlimits         []string
	user            string
	seccomp         bool
	noMask          bool
	force           bool
}

// plan is what the options mean, computed before anything is changed.
type plan struct {
	keep     caps.Set
	rlimits  []caps.Rlimit
	uid, gid int // -1: stay root
	filter   []unix.SockFilter
}

func Main(args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("harden", false)
	var o options
	fs.StringSliceVar(&o.capAdd, "cap-add", nil, "keep these capabilities too (comma-separated, ALL)")
	fs.StringSliceVar(&o.capDrop, "cap-drop", nil, "drop these capabilities (comma-separated, ALL)")
	fs.StringArrayVar(&o.rlimits, "rlimit", nil, "set a resource limit, TYPE=SOFT[:HARD] (nofile=1024:1024, nproc=64, core=0; unlimited)")
	fs.StringVar(&o.user, "user", "", "run as `UID[:GID]`")
	fs.BoolVar(&o.seccomp, "seccomp", false, "install Docker's default seccomp profile")
	fs.BoolVar(&o.noMask, "no-mask", false, "leave /proc and /sys as they are")
	fs.BoolVar(&o.force, "force", false, "mask although this mount namespace cannot be shown to be another one than the host's")
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	argv := chain.Argv(fs.Args())
	p, err := o.plan()
	if err != nil {
		return err
	}
	if chain.Threaded() {
		if err := o.later(p); err != nil {
			return err
		}
		return chain.Exec(argv, stdio)
	}
	// Capabilities, no_new_privs and seccomp belong to a thread, and
	// PROG inherits those of the thread that executes it: this one.
	runtime.LockOSThread()
	if !o.noMask {
		if err := ns.CheckMountNS(o.force); err != nil {
			return err
		}
		if err := mount.Mask(mount.Masked, mount.ReadOnly); err != nil {
			return maskError(err)
		}
		if err := mount.Remount("/", unix.MS_NODEV); err != nil {
			return err
		}
	}
	if err := p.apply(); err != nil {
		return err
	}
	// through the sealed trampoline (runc CVE-2019-5736), which cannot
	// report a failed execve here: that ends in status 127
	return chain.ExecSealed(argv, stdio, false)
}

func maskError(err error) error {
	if errors.As(err, new(mount.DevNullError)) {
		err = fmt.Errorf("mask paths: %w (run tw-mountdev first, or pass --no-mask)", err)
	}
	return err
}

// later is tw-harden in thread mode (see tw-unshare): this thread is
// tw-unshare's, and the program is its child, forked after the chain. So
// the same steps, in the same order, are left to that child, which makes
// them right before execve, after the proc of tw-mountproc is mounted
// (which the masks need): nothing of this thread is changed.
func (o *options) later(p *plan) error {
	if !o.noMask {
		if err := ns.CheckMountNS(o.force); err != nil {
			return err
		}
		if err := mount.CheckDevNull(); err != nil {
			return maskError(err)
		}
		chain.MaskLater("harden", mount.Masked, mount.ReadOnly)
		chain.RemountLater("harden", "/", unix.MS_NODEV)
	}
	eff := p.keep
	if p.uid > 0 {
		eff = 0
	}
	chain.RestrictLater("harden", chain.Restrict{
		Rlimits: p.rlimits, Keep: p.keep, UID: p.uid, GID: p.gid, Caps: eff, Filter: p.filter,
	})
	return nil
}

// plan checks every option; nothing is changed yet.
func (o *options) plan() (*plan, error) {
	keep, err := caps.Compute(caps.Default, o.capAdd, o.capDrop)
	if err != nil {
		return nil, cli.Usagef("%v", err)
	}
	p := &plan{keep: keep, uid: -1, gid: -1}
	p.rlimits, err = caps.ParseRlimits(append([]string{"nofile=1024:1024"}, o.rlimits...))
	if err != nil {
		return nil, cli.Usagef("--rlimit %v", err)
	}
	if o.user != "" {
		if p.uid, p.gid, err = ParseUser(o.user); err != nil {
			return nil, cli.Usagef("--user %s: %v", o.user, err)
		}
	}
	if o.seccomp {
		f, err := seccomp.Docker(keep)
		if err != nil {
			return nil, fmt.Errorf("seccomp: %w", err)
		}
		if p.filter, err = f.Build(); err != nil {
			return nil, fmt.Errorf("seccomp: %w", err)
		}
	}
	return p, nil
}

// apply changes this thread: rlimits, bounding set, user, capabilities,
// no_new_privs, seccomp — each step while it is still permitted.
func (p *plan) apply() error {
	for _, r := range p.rlimits {
		if err := r.Set(); err != nil {
			return err
		}
	}
	if err := caps.DropBounding(p.keep); err != nil {
		return err
	}
	if p.uid >= 0 {
		// syscall's wrappers change every thread of the process, as
		// setuid(2) of a libc does.
		if err := syscall.Setgroups(nil); err != nil {
			return fmt.Errorf("setgroups: %w", err)
		}
		if err := syscall.Setresgid(p.gid, p.gid, p.gid); err != nil {
			return fmt.Errorf("setresgid %d: %w", p.gid, err)
		}
		if err := syscall.Setresuid(p.uid, p.uid, p.uid); err != nil {
			return fmt.Errorf("setresuid %d: %w", p.uid, err)
		}
	}
	eff := p.keep
	if p.uid > 0 {
		eff = 0
	}
	if err := caps.Apply(eff, eff, 0); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if p.filter != nil {
		return seccomp.Install(p.filter)
	}
	return nil
}

// ParseUser reads UID[:GID], numbers only; GID defaults to UID.
func ParseUser(s string) (uid, gid int, err error) {
	u, g, hasGid := strings.Cut(s, ":")
	if uid, err = parseID(u); err != nil {
		return -1, -1, err
	}
	gid = uid
	if hasGid {
		if gid, err = parseID(g); err != nil {
			return -1, -1, err
		}
	}
	return uid, gid, nil
}

func parseID(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return -1, fmt.Errorf("not a numeric id: %q", s)
	}
	return int(n), nil
}
