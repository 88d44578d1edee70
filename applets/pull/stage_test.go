package pull

import (
	"os"
	"path/filepath"
	"testing"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func entries(t *testing.T, dir string) int {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func TestStageFreshAbort(t *testing.T) {
	root := t.TempDir()
	st, err := stage("oci:" + root + "/a/b/img:1")
	if err != nil {
		t.Fatal(err)
	}
	if !st.fresh || st.image != "1" || st.created != root+"/a" {
		t.Errorf("staging = %+v", st)
	}
	write(t, st.dir+"/index.json", "{}")
	st.abort()
	if entries(t, root) != 0 {
		t.Errorf("abort left %d entries in %s", entries(t, root), root)
	}
}

func TestStageFreshCommit(t *testing.T) {
	root := t.TempDir()
	st, err := stage("oci:" + root + "/img")
	if err != nil {
		t.Fatal(err)
	}
	write(t, st.dir+"/index.json", "new")
	if err := st.commit(); err != nil {
		t.Fatal(err)
	}
	st.abort() // after a commit: nothing to undo
	if read(t, root+"/img/index.json") != "new" || entries(t, root) != 1 {
		t.Errorf("commit: %s holds %d entries", root, entries(t, root))
	}
	if fi, _ := os.Stat(root + "/img"); fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v", fi.Mode())
	}
}

func TestStageEmptyDirectory(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(root+"/img", 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := stage("oci:" + root + "/img:x")
	if err != nil {
		t.Fatal(err)
	}
	write(t, st.dir+"/index.json", "new")
	if err := st.commit(); err != nil {
		t.Fatal(err)
	}
	if read(t, root+"/img/index.json") != "new" {
		t.Error("empty directory not replaced")
	}
}

const (
	oldIndex = `{"schemaVersion":2,"manifests":[]}`
	newIndex = `{"schemaVersion":2,"manifests":[{"mediaType":"m","digest":"sha256:bb","size":8,"annotations":{"org.opencontainers.image.ref.name":"2"}}]}`
	// what another run published meanwhile: tag 3
	otherIndex = `{"schemaVersion":2,"manifests":[{"mediaType":"m","digest":"sha256:cc","size":8,"annotations":{"org.opencontainers.image.ref.name":"3"}}]}`
	merged     = `{"manifests":[{"mediaType":"m","digest":"sha256:cc","size":8,"annotations":{"org.opencontainers.image.ref.name":"3"}},{"mediaType":"m","digest":"sha256:bb","size":8,"annotations":{"org.opencontainers.image.ref.name":"2"}}],"schemaVersion":2}`
)

func TestStageExistingLayout(t *testing.T) {
	root := t.TempDir()
	img := root + "/img"
	write(t, img+"/oci-layout", `{"imageLayoutVersion":"1.0.0"}`)
	write(t, img+"/index.json", oldIndex)
	write(t, img+"/blobs/sha256/aa", "blob")
	st, err := stage("oci:" + img + ":2")
	if err != nil {
		t.Fatal(err)
	}
	if st.fresh || filepath.Dir(st.dir) != img {
		t.Errorf("staging = %+v", st)
	}
	if read(t, st.dir+"/index.json") != oldIndex || read(t, st.dir+"/blobs/sha256/aa") != "blob" {
		t.Error("staging does not see the layout")
	}
	write(t, st.dir+"/blobs/sha256/bb", "new blob") // lands in the layout
	write(t, st.dir+"/index.json", newIndex)
	if read(t, img+"/index.json") != oldIndex {
		t.Error("index.json changed before the commit")
	}
	write(t, img+"/index.json", otherIndex) // another run, meanwhile
	if err := st.commit(); err != nil {
		t.Fatal(err)
	}
	st.abort()
	if read(t, img+"/index.json") != merged || read(t, img+"/blobs/sha256/bb") != "new blob" {
		t.Errorf("commit did not publish and merge: %s", read(t, img+"/index.json"))
	}
	if entries(t, img) != 3 {
		t.Errorf("%s holds %d entries, want oci-layout, index.json, blobs", img, entries(t, img))
	}
}

func TestStageRefuses(t *testing.T) {
	root := t.TempDir()
	write(t, root+"/notalayout/file", "x")
	if _, err := stage("oci:" + root + "/notalayout:1"); err == nil || err.Error() != root+"/notalayout: not an OCI image layout" {
		t.Errorf("not a layout: %v", err)
	}
	write(t, root+"/file", "x")
	if _, err := stage("oci:" + root + "/file"); err == nil || err.Error() != root+"/file: not a directory" {
		t.Errorf("a file: %v", err)
	}
	if entries(t, root+"/notalayout") != 1 {
		t.Error("refused layout was touched")
	}
}
