package runc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{"9": unix.SIGKILL, "KILL": unix.SIGKILL, "sigterm": unix.SIGTERM, "SIGUSR1": unix.SIGUSR1, "15": unix.SIGTERM} {
		if got, err := parseSignal(in); err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0", "65", "NOPE", "-1"} {
		if _, err := parseSignal(in); err == nil {
			t.Errorf("parseSignal(%q) accepted", in)
		}
	}
}

func TestToRootless(t *testing.T) {
	s := exampleSpec()
	toRootless(s, 1000, 1001)
	var nss []string
	for _, n := range s.Linux.Namespaces {
		nss = append(nss, string(n.Type))
	}
	if got := strings.Join(nss, " "); got != "pid ipc uts mount user" {
		t.Errorf("namespaces: %s", got)
	}
	if m := s.Linux.UIDMappings; len(m) != 1 || m[0].HostID != 1000 || m[0].ContainerID != 0 || m[0].Size != 1 {
		t.Errorf("uid map: %+v", m)
	}
	if m := s.Linux.GIDMappings; len(m) != 1 || m[0].HostID != 1001 {
		t.Errorf("gid map: %+v", m)
	}
	if s.Linux.Resources != nil {
		t.Error("resources kept")
	}
	for _, m := range s.Mounts {
		for _, o := range m.Options {
			if strings.HasPrefix(o, "gid=") || strings.HasPrefix(o, "uid=") {
				t.Errorf("%s keeps %s", m.Destination, o)
			}
		}
		if m.Destination == "/sys" && (m.Type != "none" || m.Source != "/sys" || m.Options[0] != "rbind") {
			t.Errorf("/sys: %+v", m)
		}
	}
	// the default one keeps devpts' gid=5 (tty)
	if o := exampleSpec().Mounts[2].Options; o[len(o)-1] != "gid=5" {
		t.Errorf("devpts: %v", o)
	}
}

func TestWriteNew(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.json")
	if err := writeNew(p, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := writeNew(p, []byte("other")); err != errSpecExists {
		t.Errorf("over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "{}" {
		t.Errorf("overwritten: %q", b)
	}
}
