package btrfs

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The numbers printed by a C program that includes <linux/btrfs.h>
// (linux-libc-dev for kernel 6.x), e.g. printf("%lx", BTRFS_IOC_SNAP_CREATE_V2).
func TestIoctlNumbers(t *testing.T) {
	for _, c := range []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"BTRFS_IOC_SNAP_CREATE", iocSnapCreate, 0x50009401},
		{"BTRFS_IOC_SUBVOL_CREATE", iocSubvolCreate, 0x5000940e},
		{"BTRFS_IOC_SNAP_DESTROY", iocSnapDestroy, 0x5000940f},
		{"BTRFS_IOC_TREE_SEARCH", iocTreeSearch, 0xd0009411},
		{"BTRFS_IOC_INO_LOOKUP", iocInoLookup, 0xd0009412},
		{"BTRFS_IOC_SNAP_CREATE_V2", iocSnapCreateV2, 0x50009417},
		{"BTRFS_IOC_SUBVOL_CREATE_V2", iocSubvolCreateV2, 0x50009418},
		{"BTRFS_IOC_SUBVOL_GETFLAGS", iocSubvolGetflags, 0x80089419},
		{"BTRFS_IOC_SUBVOL_SETFLAGS", iocSubvolSetflags, 0x4008941a},
		{"BTRFS_IOC_GET_SUBVOL_INFO", iocGetSubvolInfo, 0x81f8943c},
		{"BTRFS_IOC_SNAP_DESTROY_V2", iocSnapDestroyV2, 0x5000943f},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

// sizeof and offsetof from the same C program.
func TestStructLayout(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(struct btrfs_ioctl_vol_args)", unsafe.Sizeof(volArgs{}), 4096},
		{"sizeof(struct btrfs_ioctl_vol_args_v2)", unsafe.Sizeof(volArgsV2{}), 4096},
		{"offsetof(btrfs_ioctl_vol_args_v2, name)", unsafe.Offsetof(volArgsV2{}.Name), 56},
		{"sizeof(struct btrfs_ioctl_ino_lookup_args)", unsafe.Sizeof(inoLookupArgs{}), 4096},
		{"sizeof(struct btrfs_ioctl_search_key)", unsafe.Sizeof(searchKey{}), searchKeySize},
		{"sizeof(struct btrfs_ioctl_search_header)", unsafe.Sizeof(searchHeader{}), searchHdrSize},
		{"sizeof(struct btrfs_ioctl_search_args)", unsafe.Sizeof(searchArgs{}), 4096},
		{"sizeof(struct btrfs_ioctl_timespec)", unsafe.Sizeof(ioctlTimespec{}), 16},
		{"sizeof(struct btrfs_ioctl_get_subvol_info_args)", unsafe.Sizeof(subvolInfoArgs{}), 504},
		{"offsetof(get_subvol_info_args, parent_id)", unsafe.Offsetof(subvolInfoArgs{}.ParentID), 264},
		{"offsetof(get_subvol_info_args, uuid)", unsafe.Offsetof(subvolInfoArgs{}.UUID), 296},
		{"offsetof(get_subvol_info_args, parent_uuid)", unsafe.Offsetof(subvolInfoArgs{}.ParentUUID), 312},
		{"offsetof(get_subvol_info_args, ctransid)", unsafe.Offsetof(subvolInfoArgs{}.Ctransid), 344},
		{"offsetof(get_subvol_info_args, otransid)", unsafe.Offsetof(subvolInfoArgs{}.Otransid), 352},
		{"offsetof(get_subvol_info_args, ctime)", unsafe.Offsetof(subvolInfoArgs{}.Ctime), 376},
		{"offsetof(get_subvol_info_args, otime)", unsafe.Offsetof(subvolInfoArgs{}.Otime), 392},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestSearchHeaderMatchesStruct(t *testing.T) {
	// The decoder in Search reads the header by offsets; they must be
	// the struct's.
	if unsafe.Offsetof(searchHeader{}.ObjectID) != 8 || unsafe.Offsetof(searchHeader{}.Offset) != 16 ||
		unsafe.Offsetof(searchHeader{}.Type) != 24 || unsafe.Offsetof(searchHeader{}.Len) != 28 {
		t.Fatal("search header offsets differ from linux/btrfs.h")
	}
	if unsafe.Offsetof(searchKey{}.MinType) != 56 || unsafe.Offsetof(searchKey{}.NrItems) != 64 {
		t.Fatal("search key offsets differ from linux/btrfs.h")
	}
}

func TestSetName(t *testing.T) {
	var a volArgsV2
	copy(a.Name[:], "a-much-longer-old-name")
	if err := setName(a.Name[:], "short"); err != nil {
		t.Fatal(err)
	}
	if got := cString(a.Name[:]); got != "short" {
		t.Fatalf("name = %q, want %q (old bytes must be cleared)", got, "short")
	}
	long := make([]byte, len(a.Name))
	for i := range long {
		long[i] = 'x'
	}
	if err := setName(a.Name[:], string(long)); !errors.Is(err, unix.ENAMETOOLONG) {
		t.Fatalf("setName of %d bytes: %v, want ENAMETOOLONG", len(long), err)
	}
}

func TestCheckName(t *testing.T) {
	long := string(make([]byte, 256))
	for _, c := range []struct {
		name string
		want error
	}{
		{"alpine", nil},
		{string(make([]byte, 255)), nil},
		{long, unix.ENAMETOOLONG},
		{"", unix.EINVAL},
		{".", unix.EINVAL},
		{"..", unix.EINVAL},
		{"a/b", unix.EINVAL},
	} {
		if err := CheckName(c.name); err != c.want {
			t.Errorf("CheckName(%.10q…) = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestUUIDString(t *testing.T) {
	if s := (UUID{}).String(); s != "-" {
		t.Errorf("zero UUID = %q, want -", s)
	}
	u := UUID{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	if s, want := u.String(), "12345678-9abc-def0-0123-456789abcdef"; s != want {
		t.Errorf("UUID = %q, want %q", s, want)
	}
}

func TestParseRef(t *testing.T) {
	// struct btrfs_root_ref { __le64 dirid; __le64 sequence; __le16 name_len; } + name
	d := make([]byte, 18, 18+6)
	binary.LittleEndian.PutUint64(d, 261)
	binary.LittleEndian.PutUint64(d[8:], 3)
	binary.LittleEndian.PutUint16(d[16:], 6)
	d = append(d, "alpine"...)
	r, ok := parseRef(257, 5, d)
	if !ok || r != (Ref{ID: 257, ParentID: 5, DirID: 261, Name: "alpine"}) {
		t.Fatalf("parseRef = %+v, %v", r, ok)
	}
	if _, ok := parseRef(257, 5, d[:20]); ok {
		t.Fatal("parseRef accepted a truncated name")
	}
	if _, ok := parseRef(257, 5, d[:10]); ok {
		t.Fatal("parseRef accepted a truncated item")
	}
}

func TestPathError(t *testing.T) {
	err := PathError("snapshot", "containers/c1", unix.EEXIST)
	if got, want := err.Error(), "containers/c1: file exists"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Op != "snapshot" || pe.Path != "containers/c1" {
		t.Fatalf("not an *os.PathError underneath: %#v", err)
	}
	if !errors.Is(err, os.ErrExist) {
		t.Fatal("errors.Is(err, os.ErrExist) = false")
	}
	// An *os.PathError from the os package keeps only its cause.
	_, oerr := os.Open("/nonexistent/x")
	if got := PathError("open", "x", oerr).Error(); got != "x: no such file or directory" {
		t.Fatalf("message %q", got)
	}
	if PathError("x", "y", nil) != nil {
		t.Fatal("PathError of nil is not nil")
	}
}
