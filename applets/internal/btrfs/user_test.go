package btrfs

import (
	"testing"
	"unsafe"
)

// The numbers of linux/btrfs.h: _IOWR(0x94, 61/62, 4096).
func TestUserIoctls(t *testing.T) {
	if n := unsafe.Sizeof(rootrefArgs{}); n != 4096 {
		t.Errorf("sizeof(btrfs_ioctl_get_subvol_rootref_args) = %d, want 4096", n)
	}
	if n := unsafe.Sizeof(inoLookupUserArgs{}); n != 4096 {
		t.Errorf("sizeof(btrfs_ioctl_ino_lookup_user_args) = %d, want 4096", n)
	}
	if iocGetSubvolRootref != 0xd000943d || iocInoLookupUser != 0xd000943e {
		t.Errorf("ioctl numbers %#x %#x", iocGetSubvolRootref, iocInoLookupUser)
	}
}
