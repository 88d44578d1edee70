package chain

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Steps of the child for tw-unshare's rootless chain (see Fork): tw-pivot's
// pivot into the new root, and tw-net --lo's lo up.

// PivotLater records tw-pivot's move into root: root bound onto itself,
// then pivot_root with the old root on top of the new one and detached,
// as mount.Pivot does. fail makes the error of a stage: 0 the bind, 1
// open root, 2 open the old root, 3 chdir root, 4 pivot_root, 5 chdir
// to the old root, 6 its detach, 7 chdir /.
func PivotLater(applet, root string, fail func(stage int, errno syscall.Errno) error) {
	later(applet, step{kind: stepPivot, a: [6]uintptr{cstring(root)}}, fail)
}

// ifreqFlags is struct ifreq with its flags (SIOCGIFFLAGS, SIOCSIFFLAGS).
type ifreqFlags struct {
	name  [unix.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

// LinkUpLater records the interface name brought up as netlink's LinkSetUp
// makes it: its flags read, IFF_UP added. fail makes the error of a stage:
// 0 the socket, 1 reading the flags, 2 writing them.
func LinkUpLater(applet, name string, fail func(stage int, errno syscall.Errno) error) {
	ifr := &ifreqFlags{}
	copy(ifr.name[:unix.IFNAMSIZ-1], name)
	later(applet, step{kind: stepLinkUp, ifr: ifr}, fail)
}

// Constants the child passes to its system calls.
var (
	slashName = [...]byte{'/', 0}
	dotName   = [...]byte{'.', 0}
)

// pivot makes a stepPivot (see PivotLater). Raw system calls only: see
// child.
//
//go:nosplit
//go:norace
func pivot(root uintptr) (int, syscall.Errno) {
	slash, dot := uintptr(unsafe.Pointer(&slashName[0])), uintptr(unsafe.Pointer(&dotName[0]))
	if _, _, e := syscall.RawSyscall6(unix.SYS_MOUNT, root, root, 0, unix.MS_BIND|unix.MS_REC, 0, 0); e != 0 {
		return 0, e
	}
	const dir = unix.O_DIRECTORY | unix.O_RDONLY | unix.O_CLOEXEC
	newroot, _, e := syscall.RawSyscall6(unix.SYS_OPENAT, atFDCWD, root, dir, 0, 0, 0)
	if e != 0 {
		return 1, e
	}
	oldroot, _, e := syscall.RawSyscall6(unix.SYS_OPENAT, atFDCWD, slash, dir, 0, 0, 0)
	if e != 0 {
		syscall.RawSyscall(unix.SYS_CLOSE, newroot, 0, 0)
		return 2, e
	}
	stage := 3
	if _, _, e = syscall.RawSyscall(unix.SYS_FCHDIR, newroot, 0, 0); e == 0 {
		stage = 4
		if _, _, e = syscall.RawSyscall(unix.SYS_PIVOT_ROOT, dot, dot, 0); e == 0 {
			stage = 5
			if _, _, e = syscall.RawSyscall(unix.SYS_FCHDIR, oldroot, 0, 0); e == 0 {
				stage = 6
				if _, _, e = syscall.RawSyscall(unix.SYS_UMOUNT2, dot, unix.MNT_DETACH, 0); e == 0 {
					stage = 7
					_, _, e = syscall.RawSyscall(unix.SYS_CHDIR, slash, 0, 0)
				}
			}
		}
	}
	syscall.RawSyscall(unix.SYS_CLOSE, newroot, 0, 0)
	syscall.RawSyscall(unix.SYS_CLOSE, oldroot, 0, 0)
	return stage, e
}

// linkUp makes a stepLinkUp (see LinkUpLater). Raw system calls only: see
// child.
//
//go:nosplit
//go:norace
func linkUp(ifr *ifreqFlags) (int, syscall.Errno) {
	fd, _, e := syscall.RawSyscall(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if e != 0 {
		return 0, e
	}
	stage := 1
	if _, _, e = syscall.RawSyscall(unix.SYS_IOCTL, fd, unix.SIOCGIFFLAGS, uintptr(unsafe.Pointer(ifr))); e == 0 {
		stage = 2
		ifr.flags |= unix.IFF_UP
		_, _, e = syscall.RawSyscall(unix.SYS_IOCTL, fd, unix.SIOCSIFFLAGS, uintptr(unsafe.Pointer(ifr)))
	}
	syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
	return stage, e
}
