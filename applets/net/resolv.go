package net

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Resolv is the resolv.conf for a container: nameserver lines for dns,
// or else the host's resolv.conf (hostConf) without its loopback
// nameservers, which the container cannot reach.
func Resolv(dns []netip.Addr, hostConf []byte) ([]byte, error) {
	var b bytes.Buffer
	for _, a := range dns {
		fmt.Fprintf(&b, "nameserver %s\n", a)
	}
	if len(dns) > 0 {
		return b.Bytes(), nil
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(hostConf))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err != nil || a.IsLoopback() {
				continue
			}
			n++
		}
		b.WriteString(line + "\n")
	}
	if n == 0 {
		return nil, errors.New("the host has no nameserver a container can reach: give --dns")
	}
	return b.Bytes(), nil
}

// WriteResolv writes data to ROOT/etc/resolv.conf. A symbolic link in the
// rootfs is resolved inside it, never on the host, and resolv.conf itself
// is replaced, not followed.
func WriteResolv(root string, data []byte) error {
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rfd)
	etc, err := unix.Openat2(rfd, "etc", &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return &os.PathError{Op: "open", Path: root + "/etc", Err: err}
	}
	defer unix.Close(etc)
	tmp := ".resolv.conf.tw"
	fd, err := unix.Openat(etc, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if errors.Is(err, unix.EEXIST) {
		unix.Unlinkat(etc, tmp, 0)
		fd, err = unix.Openat(etc, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	}
	if err != nil {
		return &os.PathError{Op: "create", Path: root + "/etc/" + tmp, Err: err}
	}
	f := os.NewFile(uintptr(fd), root+"/etc/"+tmp)
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(etc, tmp, etc, "resolv.conf")
	}
	if err != nil {
		unix.Unlinkat(etc, tmp, 0)
		return &os.PathError{Op: "write", Path: root + "/etc/resolv.conf", Err: err}
	}
	return nil
}
