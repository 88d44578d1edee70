// Package btrfs talks to the btrfs kernel driver through its ioctls, with
// golang.org/x/sys/unix and without cgo. x/sys knows the magic number but
// none of the ioctls, so their numbers and argument structs are defined
// here after the kernel's uapi header linux/btrfs.h (and btrfs_tree.h for
// the on-disk items that TREE_SEARCH returns).
package btrfs

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Constants from linux/btrfs.h and linux/btrfs_tree.h.
const (
	Magic = unix.BTRFS_SUPER_MAGIC // statfs f_type of a btrfs

	ioctlMagic = 0x94

	NameMax         = 255  // BTRFS_VOL_NAME_MAX: one path component
	pathNameMax     = 4087 // BTRFS_PATH_NAME_MAX
	subvolNameMax   = 4039 // BTRFS_SUBVOL_NAME_MAX
	inoLookupPath   = 4080 // BTRFS_INO_LOOKUP_PATH_MAX
	searchKeySize   = 104  // sizeof(struct btrfs_ioctl_search_key)
	searchHdrSize   = 32   // sizeof(struct btrfs_ioctl_search_header)
	searchBufSize   = 4096 - searchKeySize
	uuidSize        = 16
	subvolRdonly    = 1 << 1 // BTRFS_SUBVOL_RDONLY, vol_args_v2.flags and SUBVOL_GETFLAGS
	rootSubvolRdonl = 1 << 0 // BTRFS_ROOT_SUBVOL_RDONLY, root_item.flags and subvol_info.flags

	RootTreeID   = 1   // BTRFS_ROOT_TREE_OBJECTID
	FSTreeID     = 5   // BTRFS_FS_TREE_OBJECTID: the top-level subvolume
	FirstFreeID  = 256 // BTRFS_FIRST_FREE_OBJECTID: a subvolume's root inode and the first subvolume id
	lastFreeID   = ^uint64(0) - 255
	rootItemKey  = 132 // BTRFS_ROOT_ITEM_KEY
	rootBackref  = 144 // BTRFS_ROOT_BACKREF_KEY
	rootRefKey   = 156 // BTRFS_ROOT_REF_KEY
	rootItemSize = 439 // sizeof(struct btrfs_root_item)
)

// _IOC from asm-generic/ioctl.h.
const (
	iocWrite = 1
	iocRead  = 2
)

func ioc(dir, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | ioctlMagic<<8 | nr
}

// The ioctls. Each number carries the size of its argument struct, so the
// Go structs below must match the C layout byte for byte (see the tests).
var (
	iocSnapCreate     = ioc(iocWrite, 1, unsafe.Sizeof(volArgs{}))
	iocSubvolCreate   = ioc(iocWrite, 14, unsafe.Sizeof(volArgs{}))
	iocSnapDestroy    = ioc(iocWrite, 15, unsafe.Sizeof(volArgs{}))
	iocTreeSearch     = ioc(iocRead|iocWrite, 17, unsafe.Sizeof(searchArgs{}))
	iocInoLookup      = ioc(iocRead|iocWrite, 18, unsafe.Sizeof(inoLookupArgs{}))
	iocSnapCreateV2   = ioc(iocWrite, 23, unsafe.Sizeof(volArgsV2{}))
	iocSubvolGetflags = ioc(iocRead, 25, unsafe.Sizeof(uint64(0)))
	iocSubvolSetflags = ioc(iocWrite, 26, unsafe.Sizeof(uint64(0)))
	iocGetSubvolInfo  = ioc(iocRead, 60, unsafe.Sizeof(subvolInfoArgs{}))
	iocSnapDestroyV2  = ioc(iocWrite, 63, unsafe.Sizeof(volArgsV2{}))
	iocSubvolCreateV2 = ioc(iocWrite, 24, unsafe.Sizeof(volArgsV2{}))
	_                 = iocSnapCreate
	_                 = iocSubvolCreateV2
)

// struct btrfs_ioctl_vol_args
type volArgs struct {
	Fd   int64
	Name [pathNameMax + 1]byte
}

// struct btrfs_ioctl_vol_args_v2 (the unions as their first member:
// the qgroup fields as Unused, the name rather than devid/subvolid).
type volArgsV2 struct {
	Fd      int64
	Transid uint64
	Flags   uint64
	Unused  [4]uint64
	Name    [subvolNameMax + 1]byte
}

// struct btrfs_ioctl_ino_lookup_args
type inoLookupArgs struct {
	TreeID   uint64
	ObjectID uint64
	Name     [inoLookupPath]byte
}

// struct btrfs_ioctl_search_key
type searchKey struct {
	TreeID      uint64
	MinObjectID uint64
	MaxObjectID uint64
	MinOffset   uint64
	MaxOffset   uint64
	MinTransid  uint64
	MaxTransid  uint64
	MinType     uint32
	MaxType     uint32
	NrItems     uint32
	_           uint32
	_           [4]uint64
}

// struct btrfs_ioctl_search_header
type searchHeader struct {
	Transid  uint64
	ObjectID uint64
	Offset   uint64
	Type     uint32
	Len      uint32
}

// struct btrfs_ioctl_search_args
type searchArgs struct {
	Key searchKey
	Buf [searchBufSize]byte
}

// struct btrfs_ioctl_timespec (not packed: 16 bytes)
type ioctlTimespec struct {
	Sec  uint64
	Nsec uint32
	_    uint32
}

// struct btrfs_ioctl_get_subvol_info_args
type subvolInfoArgs struct {
	TreeID       uint64
	Name         [NameMax + 1]byte
	ParentID     uint64
	DirID        uint64
	Generation   uint64
	Flags        uint64
	UUID         [uuidSize]byte
	ParentUUID   [uuidSize]byte
	ReceivedUUID [uuidSize]byte
	Ctransid     uint64
	Otransid     uint64
	Stransid     uint64
	Rtransid     uint64
	Ctime        ioctlTimespec
	Otime        ioctlTimespec
	Stime        ioctlTimespec
	Rtime        ioctlTimespec
	_            [8]uint64
}

// ioctl runs one ioctl with a pointer argument.
func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

// setName copies a NUL-terminated name into a fixed buffer.
func setName(dst []byte, name string) error {
	if len(name) >= len(dst) {
		return unix.ENAMETOOLONG
	}
	n := copy(dst, name)
	clear(dst[n:])
	return nil
}

// cString reads a NUL-terminated string from a fixed buffer.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
