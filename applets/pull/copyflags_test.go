package pull

import (
	"testing"

	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/types"

	"github.com/tupperware/tw/applets/internal/cli"
)

// applyFlags parses args as tw-pull's copy flags and applies them for the
// destination dst.
func applyFlags(t *testing.T, dst string, args ...string) (src, dest *types.SystemContext, opts *copy.Options, err error) {
	t.Helper()
	var o options
	fs := cli.NewFlagSet("tw-pull", true)
	fs.StringVar(&o.srcCreds, "src-creds", "", "")
	fs.BoolVarP(&o.all, "all", "a", false, "")
	o.cf.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	src, dest, opts = &types.SystemContext{}, &types.SystemContext{}, &copy.Options{}
	err = o.cf.apply(fs, o, dst, src, dest, opts)
	return src, dest, opts, err
}

func TestCopyFlagsErrors(t *testing.T) {
	for _, c := range []struct {
		dst  string
		args []string
		err  string
	}{
		{"oci:x", []string{"--format", "v2s1"}, `--format "v2s1": want oci or v2s2`},
		{"oci:x", []string{"--dest-compress-format", "xz"}, `--dest-compress-format "xz": want gzip or zstd`},
		{"oci:x", []string{"--dest-compress-format", "zstd:chunked"}, `--dest-compress-format "zstd:chunked": want gzip or zstd`},
		{"oci:x", []string{"--dest-compress-level", "10"}, "--dest-compress-level 10: gzip takes -2 to 9"},
		{"oci:x", []string{"--dest-compress-format", "zstd", "--dest-compress-level", "0"}, "--dest-compress-level 0: zstd takes 1 to 22"},
		{"oci:x", []string{"--dest-compress-format", "zstd", "--dest-compress-level", "23"}, "--dest-compress-level 23: zstd takes 1 to 22"},
		{"docker-archive:x.tar", []string{"--dest-compress-format", "zstd"}, "--dest-compress-format zstd: a docker-archive: destination holds uncompressed layers"},
		{"dir:x", []string{"--dest-compress-level", "1"}, "--dest-compress-level: a dir: destination keeps layers as they come"},
		{"docker://h/x", []string{"--format", "v2s2", "--dest-compress-format", "zstd"}, "--dest-compress-format zstd: a v2s2 manifest cannot name zstd layers (use --format oci)"},
		{"oci:x", []string{"--preserve-digests", "--dest-compress-format", "gzip"}, "--dest-compress-format gzip: recompressed layers get new digests, which --preserve-digests forbids"},
		{"oci:x", []string{"--multi-arch", "some"}, `--multi-arch "some": want system, all or index-only`},
		{"oci:x", []string{"--multi-arch", "all", "--all"}, "--all and --multi-arch cannot be used together"},
		{"oci:x", []string{"--additional-tag", "a:b"}, "--additional-tag: only a docker-archive: destination holds more tags"},
		{"docker-archive:x", []string{"--additional-tag", "a"}, `--additional-tag "a": want NAME:TAG`},
		{"docker-archive:x", []string{"--additional-tag", "A:b"}, `--additional-tag "A:b": invalid reference format: repository name must be lowercase`},
		{"oci:x", []string{"--src-creds", "u:p", "--src-no-creds"}, "--src-creds and --src-no-creds cannot be used together"},
		{"oci:x", []string{"--dest-cert-dir", "/nonexistent"}, "--dest-cert-dir: stat /nonexistent: no such file or directory"},
	} {
		_, _, _, err := applyFlags(t, c.dst, c.args...)
		if err == nil || err.Error() != c.err {
			t.Errorf("%s %q: error = %v, want %q", c.dst, c.args, err, c.err)
		}
	}
}

func TestCopyFlagsApplied(t *testing.T) {
	dir := t.TempDir()
	src, dest, opts, err := applyFlags(t, "docker-archive:x.tar",
		"--format", "oci", "--preserve-digests", "--remove-signatures", "--multi-arch", "index-only",
		"--src-no-creds", "--dest-registry-token", "tok", "--src-cert-dir", dir,
		"--additional-tag", "a:1,b:2", "--additional-tag", "c:3")
	if err != nil {
		t.Fatal(err)
	}
	if opts.ForceManifestMIMEType != "application/vnd.oci.image.manifest.v1+json" || !opts.PreserveDigests || !opts.RemoveSignatures || opts.ImageListSelection != copy.CopySpecificImages || len(opts.Instances) != 0 {
		t.Errorf("options = %+v", opts)
	}
	if src.DockerAuthConfig == nil || *src.DockerAuthConfig != (types.DockerAuthConfig{}) || src.DockerCertPath != dir || src.DockerBearerRegistryToken != "" {
		t.Errorf("source context = %+v", src)
	}
	if dest.DockerAuthConfig != nil || dest.DockerBearerRegistryToken != "tok" || dest.DockerCertPath != "" {
		t.Errorf("destination context = %+v", dest)
	}
	if len(dest.DockerArchiveAdditionalTags) != 3 || dest.DockerArchiveAdditionalTags[1].String() != "docker.io/library/b:2" {
		t.Errorf("additional tags = %v", dest.DockerArchiveAdditionalTags)
	}

	_, dest, _, err = applyFlags(t, "oci:x", "--dest-compress-format", "zstd", "--dest-compress-level", "19")
	if err != nil {
		t.Fatal(err)
	}
	if dest.CompressionFormat == nil || dest.CompressionFormat.Name() != "zstd" || dest.CompressionLevel == nil || *dest.CompressionLevel != 19 {
		t.Errorf("compression = %v level %v", dest.CompressionFormat, dest.CompressionLevel)
	}
	// a level alone is gzip's, the default compressor's; no format is set
	_, dest, _, err = applyFlags(t, "docker://h/x", "--dest-compress-level", "-2")
	if err != nil || dest.CompressionFormat != nil || *dest.CompressionLevel != -2 {
		t.Errorf("gzip level: %v, %v", dest.CompressionFormat, err)
	}
}

func TestUnstaged(t *testing.T) {
	fresh := &staging{final: "img", dir: "./.img.tw-pull-123"}
	existing := &staging{final: "a/img", dir: "a/img/.tw-pull-9"}
	for _, c := range []struct {
		st       *staging
		msg, out string
	}{
		{fresh, "can not copy signatures to oci:./.img.tw-pull-123:1: no", "can not copy signatures to oci:img:1: no"},
		{existing, "writing to oci:a/img/.tw-pull-9:x: boom", "writing to oci:a/img:x: boom"},
		{nil, "as it was", "as it was"},
	} {
		if got := unstaged(c.msg, c.st); got != c.out {
			t.Errorf("unstaged(%q) = %q, want %q", c.msg, got, c.out)
		}
	}
}
