// Package ns is the guard of the chainloaders that change mounts: they must
// never act in the host's mount namespace. tw-unshare records the
// namespaces it left in the environment of its child; tw-pivot and
// tw-mountproc compare their own namespaces with that record and with their
// parent's, and refuse when they cannot show that they run in another one.
package ns

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

// EnvLeft is the environment variable in which tw-unshare records the
// namespaces it left, as "mnt:[4026531832] pid:[4026531836] uts:[…]".
// Only tw applets running in the same process read it: chain removes it
// before executing a program.
const EnvLeft = "TW_UNSHARE_LEFT"

// EnvChild marks the process tw-unshare starts in the new namespaces; the
// child removes it as it starts. It proves nothing: the child's work is
// guarded like tw-pivot's.
const EnvChild = "TW_UNSHARE_CHILD"

// The inode numbers of the initial namespaces are fixed (enum init_ns_ino
// in linux include/uapi/linux/nsfs.h); a namespace made later gets a
// dynamic number from 0xF0000000 up. Older kernels give the initial mount
// namespace a dynamic number too, and the host may itself be a container,
// so only "is initial" can be concluded from these, never "is not the
// host's".
var initial = map[string]string{
	"mnt": "mnt:[4026531832]", // MNT_NS_INIT_INO 0xEFFFFFF8
	"uts": "uts:[4026531838]", // UTS_NS_INIT_INO 0xEFFFFFFE
	"pid": "pid:[4026531836]", // PID_NS_INIT_INO 0xEFFFFFFC
}

// Read returns the namespace of kind ("mnt", "pid", "uts"…) of process pid
// (0 for this process) as the kernel names it, "mnt:[4026531832]".
func Read(pid int, kind string) (string, error) {
	p := "/proc/thread-self/ns/" + kind // a thread's own (see EnterThread)
	if pid != 0 {
		p = fmt.Sprintf("/proc/%d/ns/%s", pid, kind)
	}
	return os.Readlink(p)
}

// Record is the value of EnvLeft for the namespaces of this process.
func Record(kinds ...string) (string, error) {
	ids := make([]string, 0, len(kinds))
	for _, k := range kinds {
		id, err := Read(0, k)
		if err != nil {
			return "", err
		}
		ids = append(ids, id)
	}
	return strings.Join(ids, " "), nil
}

// Left returns the namespace of kind that tw-unshare recorded, or "".
func Left(record, kind string) string {
	for _, id := range strings.Fields(record) {
		if strings.HasPrefix(id, kind+":") {
			return id
		}
	}
	return ""
}

// Facts are what a guard knows about one kind of namespace. An empty
// string means unknown (not recorded, or not readable).
type Facts struct {
	Kind   string // "mnt" or "pid"
	Self   string // this process's namespace
	Left   string // the one tw-unshare left (EnvLeft)
	Parent string // the parent process's
	PPid   int    // 0: the parent is outside our pid namespace
	Pid    int    // our pid as we see it
}

// Gather reads the facts about kind for this process.
func Gather(kind string) Facts {
	f := Facts{Kind: kind, Left: Left(os.Getenv(EnvLeft), kind), PPid: os.Getppid(), Pid: os.Getpid()}
	f.Self, _ = Read(0, kind)
	if f.PPid > 0 {
		f.Parent, _ = Read(f.PPid, kind)
	}
	return f
}

// Initial reports whether f.Self is the initial namespace of its kind.
func (f Facts) Initial() bool { return f.Self != "" && f.Self == initial[f.Kind] }

// Shown reports whether f shows that this process runs in another
// namespace than the host's: it differs from the one tw-unshare left and
// from its parent's, and at least one of them is known. (tw applets see
// the record only in the process tw-unshare forked, whose parent is
// tw-unshare itself, outside; so a forged record does not pass where the
// parent is visible.)
func (f Facts) Shown() bool {
	if f.Self == "" || f.Initial() || f.Left == f.Self || f.Parent == f.Self {
		return false
	}
	return f.Left != "" || f.Parent != ""
}

// ErrHostMount is wrapped by every refusal of CheckMount.
var ErrHostMount = errors.New("refusing to change mounts in the host's mount namespace")

// verified is set once this process has shown that it runs in a mount
// namespace of its own. It cannot leave it again (no tw applet calls
// setns), so a later guard in the same process may trust it when /proc is
// gone, as after tw-pivot.
var verified bool

// CheckMount decides from f (kind "mnt") whether the caller may change
// mounts. force accepts a namespace that cannot be shown to be another one
// than the host's, but never the initial one nor the one tw-unshare left.
func CheckMount(f Facts, force bool) error {
	switch {
	case f.Self == "" && verified:
		return nil
	case f.Self == "":
		return fmt.Errorf("%w: cannot read /proc/self/ns/mnt", ErrHostMount)
	case f.Initial():
		return fmt.Errorf("%w: %s is the initial one", ErrHostMount, f.Self)
	case f.Left == f.Self:
		return fmt.Errorf("%w: %s is the one tw-unshare was started in (add --mount)", ErrHostMount, f.Self)
	case f.Shown(), force:
		verified = true
		return nil
	}
	return fmt.Errorf("%w: cannot show that %s is another one (run under tw-unshare --mount, or pass --force)", ErrHostMount, f.Self)
}

// CheckMountNS is CheckMount on this process; in thread mode, where
// tw-unshare's thread made a new mount namespace, it passes.
func CheckMountNS(force bool) error {
	if thread.on && thread.newMnt {
		return nil
	}
	return CheckMount(Gather("mnt"), force)
}

// ErrHostPid is returned by CheckPid.
var ErrHostPid = errors.New("not in a new pid namespace: a fresh proc would list the host's processes (run under tw-unshare --pid --fork, or pass --host-pids)")

// CheckPid decides from f (kind "pid") whether this process runs in a pid
// namespace other than the one it was started from.
func CheckPid(f Facts) error {
	switch {
	case f.Self == "" && f.Pid == 1: // no /proc yet: only the init of a new one
		return nil
	case f.Shown():
		return nil
	case f.Self != "" && !f.Initial() && f.Left == "" && f.PPid == 0: // the parent is outside
		return nil
	}
	return ErrHostPid
}

// CheckPidNS is CheckPid on this process; in thread mode, whether tw-unshare
// showed that the children of its thread go into a new pid namespace.
func CheckPidNS() error {
	if thread.on {
		if thread.newPid {
			return nil
		}
		return ErrHostPid
	}
	return CheckPid(Gather("pid"))
}

// thread is tw-unshare's thread mode (see package chain): the chain runs
// on a locked thread of tw-unshare, which keeps the pins itself; those
// still being made (see Pin) are pending.
var thread struct {
	on, newPid     bool
	newMnt, newUTS bool
	pins           []int
	pending        []chan pin
}

// pin is a pin made on another thread, or why it could not be.
type pin struct {
	fd  int
	err error
}

// EnterThread puts the guards in thread mode. newPid: the thread's
// children go into a new pid namespace (its unshare(CLONE_NEWPID) did it).
func EnterThread(newPid bool) { thread.on, thread.newPid = true, newPid }

// EnterThreadNS tells the guards that the thread of thread mode made new
// mount (newMnt) and UTS (newUTS) namespaces for itself, as its
// unshare(2) did: what the guards check is shown without reading /proc.
func EnterThreadNS(newMnt, newUTS bool) { thread.newMnt, thread.newUTS = newMnt, newUTS }

// LeaveThread ends thread mode and lets its pins go.
func LeaveThread() {
	PinsMade()
	for _, fd := range thread.pins {
		unix.Close(fd)
	}
	thread.on, thread.newPid, thread.newMnt, thread.newUTS, thread.pins = false, false, false, false, nil
}

// Pinned reports whether this process holds a pin (thread mode).
func Pinned() bool { return len(thread.pins) > 0 }

// ErrHostUTS is returned by CheckUTS.
var ErrHostUTS = errors.New("refusing to set the hostname of the host's UTS namespace")

// CheckUTS decides from f (kind "uts") whether this process may set the
// hostname: only in a UTS namespace shown to be another one.
func CheckUTS(f Facts) error {
	if !f.Shown() {
		return ErrHostUTS
	}
	return nil
}

// CheckUTSNS is CheckUTS on this process; in thread mode, where
// tw-unshare's thread made a new UTS namespace, it passes.
func CheckUTSNS() error {
	if thread.on && thread.newUTS {
		return nil
	}
	return CheckUTS(Gather("uts"))
}

// ForceFlag adds --force, the override of the guard that every applet
// changing mounts offers.
func ForceFlag(fs *pflag.FlagSet) *bool {
	return fs.Bool("force", false, "act although this mount namespace cannot be shown to be another one than the host's (never in the initial one)")
}

// Slave makes the shared mounts of this namespace slaves (private and slave
// ones stay as they are), so that nothing mounted next can propagate to the
// host.
func Slave() error {
	if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return &os.PathError{Op: "make mounts slaves", Path: "/", Err: err}
	}
	return nil
}
