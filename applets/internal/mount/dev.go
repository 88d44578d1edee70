package mount

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/ns"
)

// Node is one device node of the container's /dev.
type Node struct {
	Name         string
	Major, Minor uint32
}

// Nodes are runc's default devices.
var Nodes = []Node{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}}

// Links are the symbolic links of the container's /dev.
var Links = [][2]string{
	{"ptmx", "pts/ptmx"},
	{"fd", "/proc/self/fd"},
	{"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
}

// Dev builds the container's /dev at dir, as tw-mountdev documents it.
func Dev(dir string) error {
	// The nodes that can stand in for mknod, opened before the tmpfs
	// hides them.
	host := map[string]int{}
	for _, n := range Nodes {
		if fd, err := unix.Open("/dev/"+n.Name, unix.O_PATH|unix.O_CLOEXEC, 0); err == nil {
			host[n.Name] = fd
			defer unix.Close(fd)
		}
	}
	// Mounts must not propagate to the host.
	if err := ns.Slave(); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_STRICTATIME, "mode=755,size=65536k"); err != nil {
		return &os.PathError{Op: "mount tmpfs", Path: dir, Err: err}
	}
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, n := range Nodes {
		if err := node(dir, n, host[n.Name]); err != nil {
			return err
		}
	}
	mounts := []struct {
		name, fstype string
		flags        uintptr
		data         string
	}{
		{"pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
		{"shm", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "mode=1777,size=65536k"},
		{"mqueue", "mqueue", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	}
	for _, m := range mounts {
		p := filepath.Join(dir, m.name)
		if err := unix.Mkdir(p, 0o755); err != nil {
			return &os.PathError{Op: "mkdir", Path: p, Err: err}
		}
		if err := mountOne(m.fstype, p, m.flags, m.data); err != nil {
			return &os.PathError{Op: "mount " + m.fstype, Path: p, Err: err}
		}
	}
	for _, l := range Links {
		p := filepath.Join(dir, l[0])
		if err := unix.Symlink(l[1], p); err != nil {
			return &os.PathError{Op: "symlink", Path: p, Err: err}
		}
	}
	return nil
}

// mountOne mounts fstype at p. In a user namespace without gid 5 (tty)
// mapped devpts refuses gid=5 (EINVAL): the ptys then belong to the
// mounter's group, as rootless runc has them.
func mountOne(fstype, p string, flags uintptr, data string) error {
	err := unix.Mount(fstype, p, fstype, flags, data)
	if err == unix.EINVAL && fstype == "devpts" && strings.Contains(data, ",gid=5") {
		err = unix.Mount(fstype, p, fstype, flags, strings.Replace(data, ",gid=5", "", 1))
	}
	return err
}

// node makes one device node with mknod, or where that is not permitted
// binds the host's node (hostFd, 0 when none) onto an empty file.
func node(dir string, n Node, hostFd int) error {
	p := filepath.Join(dir, n.Name)
	err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(n.Major, n.Minor)))
	if err == nil || (err != unix.EPERM && err != unix.EACCES) {
		if err != nil {
			return &os.PathError{Op: "mknod", Path: p, Err: err}
		}
		return nil
	}
	var st unix.Stat_t
	if hostFd == 0 || unix.Fstat(hostFd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR ||
		st.Rdev != unix.Mkdev(n.Major, n.Minor) {
		return fmt.Errorf("%w (and no host node /dev/%s to bind: run tw-mountdev before tw-pivot, --target NEWROOT/dev)", &os.PathError{Op: "mknod", Path: p, Err: err}, n.Name)
	}
	f, err := unix.Open(p, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o666)
	if err != nil {
		return &os.PathError{Op: "create", Path: p, Err: err}
	}
	unix.Close(f)
	src := fmt.Sprintf("/proc/self/fd/%d", hostFd)
	if err := unix.Mount(src, p, "", unix.MS_BIND, ""); err != nil {
		return &os.PathError{Op: "bind mount /dev/" + n.Name, Path: p, Err: err}
	}
	return nil
}
