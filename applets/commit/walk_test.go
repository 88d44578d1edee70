package commit

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apex/log"
	"github.com/apex/log/handlers/discard"
	"github.com/opencontainers/umoci/oci/layer"
	"golang.org/x/sys/unix"
)

// richTree makes a tree with every kind of entry a layer carries.
func richTree(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: device nodes, owners, trusted xattrs")
	}
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"bin", "etc/conf.d", "tmp", "dev", "home/user", "opq/sub", "empty"} {
		must(os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	must(os.WriteFile(filepath.Join(root, "bin/su"), []byte("#!/bin/sh\n"), 0o755))
	must(os.Chmod(filepath.Join(root, "bin/su"), 0o4755|os.ModeSetuid))
	must(unix.Chmod(filepath.Join(root, "bin/su"), 0o4755))
	must(unix.Chmod(filepath.Join(root, "tmp"), 0o1777))
	must(os.WriteFile(filepath.Join(root, "etc/shadow"), bytes.Repeat([]byte("x"), 70000), 0o600))
	must(os.Link(filepath.Join(root, "etc/shadow"), filepath.Join(root, "etc/shadow.hard")))
	must(os.Symlink("/etc/shadow", filepath.Join(root, "abs")))
	must(os.Symlink("../etc", filepath.Join(root, "bin/rel")))
	must(os.Symlink("nowhere", filepath.Join(root, "dangling")))
	must(unix.Mknod(filepath.Join(root, "dev/null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(unix.Mknod(filepath.Join(root, "dev/loop9"), unix.S_IFBLK|0o660, int(unix.Mkdev(7, 9))))
	must(unix.Mkfifo(filepath.Join(root, "dev/fifo"), 0o644))
	must(os.Lchown(filepath.Join(root, "home/user"), 1000, 1000))
	must(os.Lchown(filepath.Join(root, "dangling"), 7, 8))
	must(unix.Lsetxattr(filepath.Join(root, "etc/conf.d"), "trusted.tw", []byte("v"), 0))
	must(unix.Lsetxattr(filepath.Join(root, "abs"), "trusted.link", []byte("l"), 0))
	must(unix.Lsetxattr(filepath.Join(root, "empty"), "trusted.empty", nil, 0))
	// overlayfs' own: a whiteout device, an opaque directory, an
	// xattr whiteout and an escaped xattr
	must(unix.Mknod(filepath.Join(root, "etc/gone"), unix.S_IFCHR, 0))
	must(unix.Lsetxattr(filepath.Join(root, "opq"), "trusted.overlay.opaque", []byte("y"), 0))
	must(os.WriteFile(filepath.Join(root, "bin/xwh"), nil, 0o644))
	must(unix.Lsetxattr(filepath.Join(root, "bin/xwh"), "trusted.overlay.whiteout", []byte("y"), 0))
	must(unix.Lsetxattr(filepath.Join(root, "bin"), "trusted.overlay.overlay.keep", []byte("k"), 0))
	old := time.Unix(1_000_000_000, 0)
	must(os.Chtimes(filepath.Join(root, "etc/conf.d"), old, old))
	return root
}

func readAllOf(t *testing.T, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSameLayerAsUmoci: our walk writes the bytes umoci's does.
func TestSameLayerAsUmoci(t *testing.T) {
	root := richTree(t)
	log.SetHandler(discard.Default)
	epoch := time.Unix(1_500_000_000, 0)
	for _, c := range []struct {
		name string
		opt  walkOptions
		ropt layer.RepackOptions
	}{
		{"plain", walkOptions{}, layer.RepackOptions{}},
		{"overlayfs", walkOptions{overlayfs: true}, layer.RepackOptions{OnDiskFormat: layer.OverlayfsRootfs{}}},
		{"SOURCE_DATE_EPOCH", walkOptions{sourceDateEpoch: &epoch}, layer.RepackOptions{SourceDateEpoch: &epoch}},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := readAllOf(t, layer.GenerateInsertLayer(root, "/", false, &c.ropt))
			got := readAllOf(t, generateLayer(root, c.opt))
			if !bytes.Equal(got, want) {
				t.Errorf("layer differs from umoci's: %d bytes, umoci %d", len(got), len(want))
				diffTars(t, got, want)
			}
		})
	}
}

// TestLayerStaysInRoot: symlinks in the tree, absolute or climbing, are
// entries, never followed; the host file they name is not read.
func TestLayerStaysInRoot(t *testing.T) {
	root := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("HOSTSECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"abs": secret, "up": "../../../../../../" + secret, "dir": filepath.Dir(secret)} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	got := readAllOf(t, generateLayer(root, walkOptions{}))
	if bytes.Contains(got, []byte("HOSTSECRET")) {
		t.Error("a host file got into the layer")
	}
}

func TestSocketIsAnError(t *testing.T) {
	root := t.TempDir()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: filepath.Join(root, "sock")}); err != nil {
		t.Fatal(err)
	}
	r := generateLayer(root, walkOptions{})
	defer r.Close()
	if _, err := io.ReadAll(r); err == nil {
		t.Error("a socket was packed")
	}
}

func diffTars(t *testing.T, a, b []byte) {
	ra, rb := tar.NewReader(bytes.NewReader(a)), tar.NewReader(bytes.NewReader(b))
	for {
		ha, ea := ra.Next()
		hb, eb := rb.Next()
		if ea != nil || eb != nil {
			return
		}
		if fmt.Sprintf("%+v", *ha) != fmt.Sprintf("%+v", *hb) {
			t.Logf("ours  %+v\numoci %+v", *ha, *hb)
		}
	}
}
