package unpack

import (
	"bytes"
	"errors"
	"testing"

	rspec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tupperware/tw/applets/internal/cli"
)

func TestParseImage(t *testing.T) {
	for _, c := range []struct{ in, layout, tag string }{
		{"img", "img", "latest"},
		{"img:v1", "img", "v1"},
		{"dir/img:v1.2-rc_3", "dir/img", "v1.2-rc_3"},
		{"img:a:b", "img", "a:b"}, // umoci cuts at the first colon
	} {
		layout, tag, err := parseImage(c.in)
		if err != nil || layout != c.layout || tag != c.tag {
			t.Errorf("parseImage(%q) = %q, %q, %v; want %q, %q", c.in, layout, tag, err, c.layout, c.tag)
		}
	}
	for _, bad := range []string{":v1", "img:", ""} {
		if _, _, err := parseImage(bad); cli.ExitCode(err) != 2 {
			t.Errorf("parseImage(%q): want a usage error, got %v", bad, err)
		}
	}
}

func TestParseMapping(t *testing.T) {
	for in, want := range map[string]rspec.LinuxIDMapping{
		"0:1000":         {ContainerID: 0, HostID: 1000, Size: 1},
		"0:100000:65536": {ContainerID: 0, HostID: 100000, Size: 65536},
	} {
		got, err := parseMapping(in)
		if err != nil || got != want {
			t.Errorf("parseMapping(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "0:x", "a:1:1", "1:2:3:4", "0:1:-1", ""} {
		if _, err := parseMapping(bad); err == nil {
			t.Errorf("parseMapping(%q): want an error", bad)
		}
	}
}

func TestMapOptionsRootlessDefaults(t *testing.T) {
	m, err := mapOptions(true, nil, []string{"0:5:1"})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Rootless || len(m.UIDMappings) != 1 || m.UIDMappings[0].Size != 1 || m.GIDMappings[0].HostID != 5 {
		t.Errorf("mapOptions = %+v", m)
	}
	if _, err := mapOptions(false, []string{"x"}, nil); cli.ExitCode(err) != 2 {
		t.Errorf("a bad --uid-map: want a usage error, got %v", err)
	}
}

func TestMainUsage(t *testing.T) {
	var out bytes.Buffer
	io := cli.IO{Stdout: &out, Stderr: &out}
	for _, args := range [][]string{
		{"bundle"},
		{"--image", "img"},
		{"--image", "img", "--rootfs-only", "d", "bundle"},
		{"--image", "img", "--rootfs-only", "d", "--mtree"},
		{"--image", "img", "a", "b"},
	} {
		err := Main(args, io)
		var ue *cli.UsageError
		if !errors.As(err, &ue) {
			t.Errorf("Main(%q) = %v; want a usage error", args, err)
		}
	}
	out.Reset()
	if err := Main([]string{"--help"}, io); err != nil || !bytes.Contains(out.Bytes(), []byte("Usage: tw-unpack")) {
		t.Errorf("--help: %v, %q", err, out.String())
	}
}
