package pull

import (
	"errors"
	"fmt"
	"os"
	"strings"

	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/types"

	"github.com/tupperware/tw/applets/internal/cli"
)

// copyFlags are skopeo copy's flags for the manifest format, the layers'
// compression, signatures, lists of images, and each side's registry
// access. They mean what skopeo's mean; where skopeo silently ignores a
// request it cannot honour (zstd into a docker-archive, a dir: or with
// --preserve-digests), tw-pull refuses it before touching anything.
type copyFlags struct {
	format           string
	compressFormat   string
	compressLevel    int
	preserveDigests  bool
	removeSignatures bool
	srcCertDir       string
	destCertDir      string
	srcNoCreds       bool
	destNoCreds      bool
	srcToken         string
	destToken        string
	multiArch        string
	additionalTags   []string
}

// Compression levels tw-pull accepts: pgzip's range, and zstd's own
// (containers/image would map any number to one of four zstd speeds).
var levels = map[string][2]int{"gzip": {-2, 9}, "zstd": {1, 22}}

func (c *copyFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&c.format, "format", "f", "", "write the manifest as `FORMAT`, oci or v2s2 (default: the source's, converted when the destination needs it)")
	fs.StringVar(&c.compressFormat, "dest-compress-format", "", "compress layers with `FORMAT`, gzip or zstd; layers compressed otherwise are recompressed")
	fs.IntVar(&c.compressLevel, "dest-compress-level", 0, "compress at `LEVEL`: gzip -2 to 9, zstd 1 to 22")
	fs.BoolVar(&c.preserveDigests, "preserve-digests", false, "fail rather than change the digest of the image or of a list")
	fs.BoolVar(&c.removeSignatures, "remove-signatures", false, "do not copy the source's signatures")
	fs.StringVar(&c.srcCertDir, "src-cert-dir", "", "TLS certificates of the source registry in `DIR` (*.crt CAs, *.cert/*.key client)")
	fs.StringVar(&c.destCertDir, "dest-cert-dir", "", "TLS certificates of the destination registry in `DIR`")
	fs.BoolVar(&c.srcNoCreds, "src-no-creds", false, "access the source registry anonymously (no --authfile credentials)")
	fs.BoolVar(&c.destNoCreds, "dest-no-creds", false, "access the destination registry anonymously")
	fs.StringVar(&c.srcToken, "src-registry-token", "", "send `TOKEN` as a Bearer token to the source registry")
	fs.StringVar(&c.destToken, "dest-registry-token", "", "send `TOKEN` as a Bearer token to the destination registry")
	fs.StringVar(&c.multiArch, "multi-arch", "", "of a list of images copy `WHICH`: system (this system's image, the default), all, or index-only")
	fs.StringSliceVar(&c.additionalTags, "additional-tag", nil, "also tag the image `NAME:TAG` (a docker-archive: destination; repeatable)")
}

// apply checks the flags against each other and the destination DST, and
// sets them in the source's and the destination's contexts and the copy
// options. Nothing has been touched when it fails.
func (c *copyFlags) apply(fs *pflag.FlagSet, o options, dst string, src, dest *types.SystemContext, opts *copy.Options) error {
	transport, _, _ := strings.Cut(dst, ":")
	switch c.format {
	case "":
	case "oci":
		opts.ForceManifestMIMEType = imgspecv1.MediaTypeImageManifest
	case "v2s2":
		opts.ForceManifestMIMEType = manifest.DockerV2Schema2MediaType
	default:
		return cli.Usagef("--format %q: want oci or v2s2", c.format)
	}

	if fs.Changed("dest-compress-format") || fs.Changed("dest-compress-level") {
		if err := c.compression(fs, transport, dest); err != nil {
			return err
		}
	}
	opts.PreserveDigests = c.preserveDigests
	opts.RemoveSignatures = c.removeSignatures

	switch c.multiArch {
	case "":
	case "system":
		opts.ImageListSelection = copy.CopySystemImage
	case "all":
		opts.ImageListSelection = copy.CopyAllImages
	case "index-only":
		opts.ImageListSelection = copy.CopySpecificImages // and no instance
	default:
		return cli.Usagef("--multi-arch %q: want system, all or index-only", c.multiArch)
	}
	if c.multiArch != "" && o.all {
		return cli.Usagef("--all and --multi-arch cannot be used together")
	}

	if len(c.additionalTags) > 0 && transport != "docker-archive" {
		return cli.Usagef("--additional-tag: only a docker-archive: destination holds more tags")
	}
	for _, t := range c.additionalTags {
		ref, err := reference.ParseNormalizedNamed(t)
		if err != nil {
			return cli.Usagef("--additional-tag %q: %v", t, err)
		}
		tagged, ok := ref.(reference.NamedTagged)
		if !ok {
			return cli.Usagef("--additional-tag %q: want NAME:TAG", t)
		}
		dest.DockerArchiveAdditionalTags = append(dest.DockerArchiveAdditionalTags, tagged)
	}

	for _, side := range []struct {
		name    string
		ctx     *types.SystemContext
		certDir string
		noCreds bool
		creds   string
		token   string
	}{
		{"src", src, c.srcCertDir, c.srcNoCreds, o.srcCreds, c.srcToken},
		{"dest", dest, c.destCertDir, c.destNoCreds, o.destCreds, c.destToken},
	} {
		if side.noCreds && side.creds != "" {
			return cli.Usagef("--%s-creds and --%s-no-creds cannot be used together", side.name, side.name)
		}
		if side.noCreds {
			side.ctx.DockerAuthConfig = &types.DockerAuthConfig{} // anonymous, as skopeo
		}
		if fs.Changed(side.name + "-registry-token") {
			side.ctx.DockerBearerRegistryToken = side.token
		}
		if side.certDir != "" {
			// skopeo goes on without a missing directory; a typo here
			// would silently trust only the system's CAs
			if err := isDir(side.certDir); err != nil {
				return fmt.Errorf("--%s-cert-dir: %w", side.name, err)
			}
			side.ctx.DockerCertPath = side.certDir
		}
	}
	return nil
}

// compression checks --dest-compress-format and --dest-compress-level and
// sets them in the destination's context.
func (c *copyFlags) compression(fs *pflag.FlagSet, transport string, dest *types.SystemContext) error {
	name := c.compressFormat
	if name == "" {
		name = "gzip" // what containers/image compresses with by default
	}
	flag := "--dest-compress-format " + name
	if !fs.Changed("dest-compress-format") {
		flag = "--dest-compress-level"
	}
	r, ok := levels[name]
	if !ok {
		return cli.Usagef("--dest-compress-format %q: want gzip or zstd", name)
	}
	switch transport {
	case "docker-archive":
		return cli.Usagef("%s: a docker-archive: destination holds uncompressed layers", flag)
	case "dir":
		return cli.Usagef("%s: a dir: destination keeps layers as they come", flag)
	}
	if name == "zstd" && c.format == "v2s2" {
		return cli.Usagef("%s: a v2s2 manifest cannot name zstd layers (use --format oci)", flag)
	}
	if c.preserveDigests {
		return cli.Usagef("%s: recompressed layers get new digests, which --preserve-digests forbids", flag)
	}
	if fs.Changed("dest-compress-level") {
		if c.compressLevel < r[0] || c.compressLevel > r[1] {
			return cli.Usagef("--dest-compress-level %d: %s takes %d to %d", c.compressLevel, name, r[0], r[1])
		}
		level := c.compressLevel
		dest.CompressionLevel = &level
	}
	if fs.Changed("dest-compress-format") {
		algo, err := compression.AlgorithmByName(name)
		if err != nil {
			return err
		}
		dest.CompressionFormat = &algo
	}
	return nil
}

func isDir(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &os.PathError{Op: "stat", Path: path, Err: errors.New("not a directory")}
	}
	return nil
}

// unstaged names the destination the user gave in msg, not the temporary
// directory the copy wrote to.
func unstaged(msg string, st *staging) string {
	if st == nil || st.dir == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, "./"+st.dir, st.final)
	return strings.ReplaceAll(msg, st.dir, st.final)
}
