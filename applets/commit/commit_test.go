package commit

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/tupperware/tw/applets/internal/cli"
)

func TestParseImage(t *testing.T) {
	for _, c := range []struct{ in, layout, tag, err string }{
		{"oci", "oci", "latest", ""},
		{"oci:v1", "oci", "v1", ""},
		{"a/b:c/d", "a/b:c/d", "latest", ""}, // a colon in a directory name
		{"a:b:c", "a:b", "c", ""},            // the last colon, as umoci
		{"/abs/path:1.0", "/abs/path", "1.0", ""},
		{":tag", "", "", `":tag": empty layout path`},
		{"oci:bad tag", "", "", `"oci:bad tag": invalid tag "bad tag"`},
		{"oci:", "", "", `"oci:": invalid tag ""`},
	} {
		layout, tag, err := ParseImage(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("ParseImage(%q) error = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || layout != c.layout || tag != c.tag {
			t.Errorf("ParseImage(%q) = %q, %q, %v; want %q, %q", c.in, layout, tag, err, c.layout, c.tag)
		}
	}
}

func TestBuildConfigNew(t *testing.T) {
	now := time.Unix(1700000000, 0).UTC()
	o := options{
		cmd: []string{"/bin/sh", "-c", "true"}, setCmd: true,
		env:        []string{"A=1", "B=2", "A=3"},
		workingdir: "/w", user: "1:2", author: "me", comment: "c", createdBy: "tw-commit",
	}
	c := BuildConfig(ispec.Image{}, o, now, digest.FromString("layer"))
	if c.OS != "linux" || c.Architecture == "" {
		t.Errorf("platform = %s/%s", c.OS, c.Architecture)
	}
	if strings.Join(c.Config.Cmd, " ") != "/bin/sh -c true" || c.Config.Entrypoint != nil {
		t.Errorf("cmd %q entrypoint %q", c.Config.Cmd, c.Config.Entrypoint)
	}
	if strings.Join(c.Config.Env, ",") != "B=2,A=3" {
		t.Errorf("env = %q", c.Config.Env)
	}
	if c.Config.WorkingDir != "/w" || c.Config.User != "1:2" || c.Author != "me" {
		t.Errorf("config = %+v", c)
	}
	if c.RootFS.Type != "layers" || len(c.RootFS.DiffIDs) != 1 || c.RootFS.DiffIDs[0] != digest.FromString("layer") {
		t.Errorf("rootfs = %+v", c.RootFS)
	}
	if len(c.History) != 1 || c.History[0].Comment != "c" || c.History[0].Author != "me" || !c.History[0].Created.Equal(now) {
		t.Errorf("history = %+v", c.History)
	}
	if !c.Created.Equal(now) {
		t.Errorf("created = %v", c.Created)
	}
}

func TestBuildConfigKeepsParent(t *testing.T) {
	parent := ispec.Image{
		Platform: ispec.Platform{OS: "linux", Architecture: "arm64"},
		Config:   ispec.ImageConfig{Cmd: []string{"/bin/sh"}, Env: []string{"PATH=/bin"}},
		RootFS:   ispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString("base")}},
		History:  []ispec.History{{CreatedBy: "base"}},
	}
	c := BuildConfig(parent, options{env: []string{"PATH=/usr/bin"}, createdBy: "tw-commit"}, time.Now(), digest.FromString("top"))
	if c.Architecture != "arm64" || strings.Join(c.Config.Cmd, " ") != "/bin/sh" {
		t.Errorf("parent settings lost: %+v", c)
	}
	if strings.Join(c.Config.Env, ",") != "PATH=/usr/bin" {
		t.Errorf("env = %q", c.Config.Env)
	}
	if len(c.RootFS.DiffIDs) != 2 || c.RootFS.DiffIDs[1] != digest.FromString("top") || len(c.History) != 2 {
		t.Errorf("layers = %+v history = %+v", c.RootFS, c.History)
	}
	if len(parent.RootFS.DiffIDs) != 1 || len(parent.History) != 1 {
		t.Errorf("parent modified: %+v", parent)
	}
	// setCmd with no values (only from Go) clears the parent's command
	c = BuildConfig(parent, options{setCmd: true, cmd: nil}, time.Now(), digest.FromString("top"))
	if len(c.Config.Cmd) != 0 {
		t.Errorf("cleared cmd = %q", c.Config.Cmd)
	}
}

func TestMainUsage(t *testing.T) {
	var out, errb bytes.Buffer
	err := Main([]string{"only-one"}, cli.IO{Stdout: &out, Stderr: &errb})
	if cli.ExitCode(err) != 2 {
		t.Errorf("one argument: %v (exit %d)", err, cli.ExitCode(err))
	}
	if err := Main([]string{"--help"}, cli.IO{Stdout: &out, Stderr: &errb}); err != nil || !strings.HasPrefix(out.String(), "Usage: tw-commit") {
		t.Errorf("--help: %v, %q", err, out.String())
	}
}
