package net

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "net")
	st, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Unlock()
	if st.Has("twt0") {
		t.Fatal("empty state has twt0")
	}
	ents, err := st.Entries("twt0")
	if err != nil || len(ents) != 0 {
		t.Fatalf("empty state: %v %v", ents, err)
	}
	a2, a3 := netip.MustParseAddr("10.201.0.2"), netip.MustParseAddr("10.201.0.3")
	if err := st.Put("twt0", a2, Entry{Veth: "tw0000abcd", Pid: 42}); err != nil {
		t.Fatal(err)
	}
	if err := st.Put("twt0", a3, Entry{Veth: "tw0000abce", Pid: 43}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetNat("twt0", "0"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetNat("twt0", "1"); err != nil { // the first value found wins
		t.Fatal(err)
	}
	ents, err = st.Entries("twt0")
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 || ents[a2] != (Entry{"tw0000abcd", 42}) || ents[a3] != (Entry{"tw0000abce", 43}) {
		t.Errorf("entries: %v", ents)
	}
	if fwd, ok, err := st.Nat("twt0"); fwd != "0" || !ok || err != nil {
		t.Errorf("nat: %q %v %v", fwd, ok, err)
	}
	if st.OtherNat("twt0") || !st.OtherNat("twt1") {
		t.Errorf("OtherNat wrong")
	}
	if err := st.ClearNat("twt0"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.Nat("twt0"); ok {
		t.Errorf("nat record left after ClearNat")
	}
	if ents, _ := st.Entries("twt0"); len(ents) != 2 {
		t.Errorf("ClearNat removed entries: %v", ents)
	}
	if err := st.Remove("twt0", a2); err != nil {
		t.Fatal(err)
	}
	if err := st.Remove("twt0", a2); err != nil {
		t.Errorf("second remove: %v", err)
	}
	if ents, _ = st.Entries("twt0"); len(ents) != 1 {
		t.Errorf("after remove: %v", ents)
	}
	if err := st.Drop("twt0"); err != nil || st.Has("twt0") {
		t.Errorf("drop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "lock")); err != nil {
		t.Errorf("lock file: %v", err)
	}
}

func TestStateBadEntry(t *testing.T) {
	dir := t.TempDir()
	st, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Unlock()
	os.MkdirAll(filepath.Join(dir, "twt0"), 0o700)
	os.WriteFile(filepath.Join(dir, "twt0", "10.201.0.2"), []byte("garbage\n"), 0o600)
	if _, err := st.Entries("twt0"); err == nil {
		t.Error("garbage entry accepted")
	}
}

func TestResolv(t *testing.T) {
	host := []byte("# generated\nsearch example.org\nnameserver 127.0.0.53\nnameserver 192.0.2.53\noptions edns0\n")
	got, err := Resolv(nil, host)
	if err != nil {
		t.Fatal(err)
	}
	if want := "# generated\nsearch example.org\nnameserver 192.0.2.53\noptions edns0\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	got, err = Resolv([]netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}, host)
	if err != nil || string(got) != "nameserver 192.0.2.1\nnameserver 2001:db8::1\n" {
		t.Errorf("--dns: %q %v", got, err)
	}
	if _, err := Resolv(nil, []byte("nameserver 127.0.0.1\nnameserver ::1\n")); err == nil {
		t.Error("loopback only: no error")
	}
}

func TestWriteResolvStaysInRoot(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(t.TempDir(), "host-resolv.conf")
	os.WriteFile(outside, []byte("host\n"), 0o644)
	// An image whose /etc is a link to an absolute path and whose
	// resolv.conf points outside.
	os.MkdirAll(filepath.Join(root, "real-etc"), 0o755)
	os.Symlink("/real-etc", filepath.Join(root, "etc"))
	os.Symlink(outside, filepath.Join(root, "real-etc", "resolv.conf"))
	if err := WriteResolv(root, []byte("nameserver 192.0.2.1\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "host\n" {
		t.Errorf("host file changed: %q", b)
	}
	p := filepath.Join(root, "real-etc", "resolv.conf")
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("%s: %v %v", p, fi, err)
	}
	if b, _ := os.ReadFile(p); string(b) != "nameserver 192.0.2.1\n" {
		t.Errorf("resolv.conf: %q", b)
	}
	if err := WriteResolv(filepath.Join(root, "nosuch"), nil); err == nil {
		t.Error("missing root: no error")
	}
}

func TestAlive(t *testing.T) {
	if !Alive(os.Getpid()) {
		t.Error("this process is not alive")
	}
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	for i := 0; i < 100 && Alive(pid); i++ { // a zombie until waited for
		time.Sleep(10 * time.Millisecond)
	}
	if Alive(pid) {
		t.Error("a zombie is alive")
	}
	cmd.Wait()
	if Alive(pid) {
		t.Error("a reaped process is alive")
	}
}
