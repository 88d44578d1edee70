// Package unpack is tw-unpack: an image of an OCI layout becomes a runtime
// bundle (walkthrough step 4, `umoci unpack`), or a root filesystem written
// straight into an empty directory such as a fresh subvolume (step 6).
package unpack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/apex/log"
	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
	"github.com/moby/sys/userns"
	"github.com/opencontainers/go-digest"
	ispec "github.com/opencontainers/image-spec/specs-go/v1"
	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/umoci"
	"github.com/opencontainers/umoci/oci/cas"
	"github.com/opencontainers/umoci/oci/cas/dir"
	"github.com/opencontainers/umoci/oci/casext"
	"github.com/opencontainers/umoci/oci/casext/mediatype"
	"github.com/opencontainers/umoci/oci/layer"
	"github.com/opencontainers/umoci/pkg/fseval"
	"github.com/opencontainers/umoci/pkg/hardening"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/untar"
)

// Applet is tw-unpack.
var Applet = cli.Applet{Name: "unpack", Summary: "unpack an image into a runtime bundle or an empty directory", Main: Main}

const usage = `Usage: tw-unpack [OPTIONS] --image LAYOUT[:TAG] BUNDLE
       tw-unpack [OPTIONS] --image LAYOUT[:TAG] --rootfs-only DIR

Unpack the image TAG (default "latest") of the OCI image layout LAYOUT into
the runtime bundle BUNDLE, as 'umoci unpack' does: BUNDLE/rootfs holds the
root filesystem, BUNDLE/config.json the runtime configuration made from the
image's configuration. BUNDLE must not exist; on failure nothing is left.

With --rootfs-only the root filesystem is written straight into DIR, an
existing empty directory (typically a fresh btrfs subvolume), and no
config.json is made; on failure DIR is left empty. The image's root entry
never widens access to DIR (its owner stays, its mode can only lose
bits), and a DIR that users other than root can reach gets a warning:
an image's setuid programs would be theirs to run. Keep images below a
directory only root can enter, as umoci's 0700 bundle does.

Whiteouts, opaque directories, hardlinks, symlinks, device nodes, setuid
bits, xattrs, ownership and times come out as 'umoci unpack' makes them.
Entries cannot reach outside the root filesystem ("../", absolute paths and
symlinks resolve inside it). Layer and blob digests are verified.
`

type options struct {
	image      string
	rootfsOnly string
	rootless   bool
	uidMaps    []string
	gidMaps    []string
	mtree      bool
}

// Main runs tw-unpack.
func Main(args []string, stdio cli.IO) error {
	var o options
	fs := cli.NewFlagSet("unpack", true)
	fs.StringVar(&o.image, "image", "", "the image: `LAYOUT[:TAG]`, TAG \"latest\" when left out")
	fs.StringVar(&o.rootfsOnly, "rootfs-only", "", "write only the root filesystem, into `DIR`, an existing empty directory")
	fs.BoolVar(&o.rootless, "rootless", false, "unpack as an unprivileged user (owners kept in the user.rootlesscontainers xattr)")
	fs.StringArrayVar(&o.uidMaps, "uid-map", nil, "map container uids to host uids: `CONTAINER:HOST[:SIZE]` (repeatable)")
	fs.StringArrayVar(&o.gidMaps, "gid-map", nil, "map container gids to host gids: `CONTAINER:HOST[:SIZE]` (repeatable)")
	fs.BoolVar(&o.mtree, "mtree", false, "also write umoci's mtree manifest and umoci.json (for 'umoci repack')")
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	bundle := ""
	if o.rootfsOnly != "" {
		if err := cli.Args(fs, 0, 0); err != nil {
			return err
		}
		if o.mtree {
			return cli.Usagef("--mtree needs a bundle, not --rootfs-only")
		}
	} else {
		if err := cli.Args(fs, 1, 1); err != nil {
			return err
		}
		bundle = fs.Arg(0)
		if bundle == "" {
			return cli.Usagef("bundle path is empty")
		}
	}
	if o.image == "" {
		return cli.Usagef("missing --image LAYOUT[:TAG]")
	}
	layout, tag, err := parseImage(o.image)
	if err != nil {
		return err
	}
	maps, err := mapOptions(o.rootless, o.uidMaps, o.gidMaps)
	if err != nil {
		return err
	}

	// Refuse a destination we may not write before reading the image.
	if bundle != "" {
		if _, err := os.Lstat(bundle); !errors.Is(err, os.ErrNotExist) {
			if err == nil {
				return fmt.Errorf("%s: bundle already exists", bundle)
			}
			return err
		}
	} else if err := checkEmptyDir(o.rootfsOnly); err != nil {
		return err
	}

	// umoci's library logs through apex/log: only its warnings, as ours.
	log.SetHandler(log.HandlerFunc(func(e *log.Entry) error {
		_, err := fmt.Fprintf(stdio.Stderr, "tw-unpack: warning: %s\n", e.Message)
		return err
	}))
	log.SetLevel(log.WarnLevel)

	engine, err := dir.Open(layout)
	if err != nil {
		if errors.Is(err, cas.ErrInvalid) || errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: not an OCI image layout", layout)
		}
		return fmt.Errorf("open %s: %w", layout, err)
	}
	ext := casext.NewEngine(engine)
	// Ctrl-C or a TERM stops the unpack between reads; what was made is
	// removed as after any failure.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
	defer stop()
	err = rootlessHint(unpack(ctx, ext, layout, tag, bundle, o, maps), maps.Rootless)
	if err != nil && ctx.Err() != nil {
		err = errors.New("interrupted")
	}
	if cerr := engine.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", layout, cerr)
	}
	if err == nil && bundle == "" {
		// Once there is a tree to reach: a failure leaves none.
		warnReachable(o.rootfsOnly, stdio.Stderr)
	}
	return err
}

// parseImage splits LAYOUT[:TAG] at the first colon, as umoci does.
func parseImage(image string) (layout, tag string, err error) {
	layout, tag, found := strings.Cut(image, ":")
	if !found {
		tag = "latest"
	}
	if layout == "" {
		return "", "", cli.Usagef("--image %s: layout path is empty", image)
	}
	if tag == "" || !casext.IsValidReferenceName(tag) {
		return "", "", cli.Usagef("--image %s: invalid tag %q", image, tag)
	}
	return layout, tag, nil
}

// parseMapping parses CONTAINER:HOST[:SIZE], umoci's --uid-map syntax.
func parseMapping(s string) (rspec.LinuxIDMapping, error) { return untar.ParseMapping(s) }

// mapOptions builds umoci's map options: --rootless maps root to the
// caller unless told otherwise.
func mapOptions(rootless bool, uidMaps, gidMaps []string) (layer.MapOptions, error) {
	m, err := untar.MapOptions(rootless, uidMaps, gidMaps)
	if err != nil {
		return m, cli.Usagef("%v", err)
	}
	return m, nil
}

func checkEmptyDir(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close() //nolint:errcheck // read-only
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", path)
	}
	if names, _ := f.Readdirnames(1); len(names) > 0 {
		return fmt.Errorf("%s: directory not empty", path)
	}
	return nil
}

// unpack resolves the tag to a manifest and makes the bundle (or fills the
// directory), removing what it made when it fails.
func unpack(ctx context.Context, engine casext.Engine, layout, tag, bundle string, o options, maps layer.MapOptions) (err error) {
	paths, err := engine.ResolveReference(ctx, tag)
	if err != nil {
		return fmt.Errorf("%s: resolve tag %s: %w", layout, tag, err)
	}
	switch {
	case len(paths) == 0:
		return fmt.Errorf("%s: tag not found: %s", layout, tag)
	case len(paths) > 1:
		return fmt.Errorf("%s: tag is ambiguous: %s", layout, tag)
	}
	from := paths[0]
	manifestBlob, err := engine.FromDescriptor(ctx, from.Descriptor())
	if err != nil {
		return fmt.Errorf("manifest %s: %w", from.Descriptor().Digest, blobErr(err))
	}
	defer closeBlob(&err, manifestBlob)
	manifest, ok := manifestBlob.Data.(ispec.Manifest)
	if !ok {
		return fmt.Errorf("%s:%s: not an image manifest: %s", layout, tag, manifestBlob.Descriptor.MediaType)
	}

	rootfs := o.rootfsOnly
	if bundle != "" {
		// As umoci does: the bundle's parents are made when missing, and
		// the bundle is 0700, since the rootfs may hold setuid files.
		if err := os.MkdirAll(filepath.Dir(bundle), 0o755); err != nil {
			return err
		}
		if err := os.Mkdir(bundle, 0o700); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				_ = os.RemoveAll(bundle) // it's too late to care
			}
		}()
		rootfs = filepath.Join(bundle, layer.RootfsName)
		if err := os.Mkdir(rootfs, 0o755); err != nil {
			return err
		}
	} else {
		empty := emptier(rootfs)
		defer func() {
			if err != nil {
				empty() // it's too late to care about errors
			}
		}()
	}

	if err := unpackRootfs(ctx, engine, rootfs, manifest, maps, bundle == ""); err != nil {
		return err
	}
	if bundle == "" {
		return nil
	}
	if err := writeConfig(ctx, engine, bundle, rootfs, manifest, maps); err != nil {
		return err
	}
	if o.mtree {
		meta := umoci.Meta{Version: umoci.MetaVersion, From: from, MapOptions: maps}
		fsEval := fseval.Default
		if maps.Rootless {
			fsEval = fseval.Rootless
		}
		mtreeName := strings.Replace(from.Descriptor().Digest.String(), ":", "_", 1)
		if err := umoci.GenerateBundleManifest(mtreeName, bundle, fsEval); err != nil {
			return fmt.Errorf("%s: %w", bundle, err)
		}
		if err := umoci.WriteBundleMeta(bundle, meta); err != nil {
			return fmt.Errorf("%s: %w", bundle, err)
		}
	}
	return nil
}

// emptier returns what empties a directory we did not make after a failed
// unpack, and gives it back the owner, mode and times it has now.
func emptier(dir string) func() {
	var st unix.Stat_t
	if unix.Lstat(dir, &st) != nil {
		return func() {}
	}
	return func() {
		if names, err := readdirnames(dir); err == nil {
			for _, n := range names {
				_ = os.RemoveAll(filepath.Join(dir, n))
			}
		}
		_ = unix.Lchown(dir, int(st.Uid), int(st.Gid))
		_ = unix.Chmod(dir, st.Mode&0o7777)
		_ = unix.UtimesNano(dir, []unix.Timespec{st.Atim, st.Mtim})
	}
}

func readdirnames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only
	return f.Readdirnames(-1)
}

// blobErr says plainly what a failed digest or size check means.
func blobErr(err error) error {
	switch {
	case errors.Is(err, hardening.ErrDigestMismatch):
		return errors.New("content does not match its digest")
	case errors.Is(err, hardening.ErrSizeMismatch):
		return errors.New("size does not match its descriptor")
	case errors.Is(err, cas.ErrNotExist):
		return errors.New("blob missing from the layout")
	}
	return err
}

func closeBlob(err *error, b *casext.Blob) {
	if cerr := b.Close(); *err == nil && cerr != nil {
		*err = fmt.Errorf("close blob %s: %w", b.Descriptor.Digest, cerr)
	}
}

// unpackRootfs applies the manifest's layers in order, as umoci's
// layer.UnpackRootfs does, checking each layer's diff id.
// With private (--rootfs-only: no 0700 bundle around the tree) the image's
// root entry may not widen access to rootfs (keepRoot).
func unpackRootfs(ctx context.Context, engine casext.Engine, rootfs string, manifest ispec.Manifest, maps layer.MapOptions, private bool) (err error) {
	configBlob, err := engine.FromDescriptor(ctx, manifest.Config)
	if err != nil {
		return fmt.Errorf("config %s: %w", manifest.Config.Digest, blobErr(err))
	}
	defer closeBlob(&err, configBlob)
	config, ok := configBlob.Data.(ispec.Image)
	if !ok {
		return fmt.Errorf("config %s: not an image configuration: %s", manifest.Config.Digest, configBlob.Descriptor.MediaType)
	}
	if config.RootFS.Type != "layers" {
		return fmt.Errorf("config %s: unsupported rootfs.type: %s", manifest.Config.Digest, config.RootFS.Type)
	}
	if len(config.RootFS.DiffIDs) != len(manifest.Layers) {
		return fmt.Errorf("config %s: %d diff ids for %d layers", manifest.Config.Digest, len(config.RootFS.DiffIDs), len(manifest.Layers))
	}

	// The root belongs to (mapped) root; its time is the epoch until a
	// layer says otherwise, so that unpacking is reproducible.
	rootUID, err := untar.ToHost(0, maps.UIDMappings)
	if err != nil {
		return fmt.Errorf("--uid-map: %w", err)
	}
	rootGID, err := untar.ToHost(0, maps.GIDMappings)
	if err != nil {
		return fmt.Errorf("--gid-map: %w", err)
	}
	if !maps.Rootless {
		if err := os.Lchown(rootfs, rootUID, rootGID); err != nil {
			return err
		}
	}
	epoch := time.Unix(0, 0)
	if err := os.Chtimes(rootfs, epoch, epoch); err != nil {
		return err
	}
	if private {
		restore, err := keepRoot(rootfs)
		if err != nil {
			return err
		}
		defer func() {
			if rerr := restore(); err == nil {
				err = rerr
			}
		}()
	}

	// umoci's own extractor where ownership must be faked (rootless, or
	// inside a user namespace); ours everywhere else.
	x := &untar.Extractor{Root: rootfs, UIDMappings: maps.UIDMappings, GIDMappings: maps.GIDMappings}
	lean := !maps.Rootless && !userns.RunningInUserNS()
	if lean {
		if err := x.Open(); err != nil {
			return err
		}
		defer func() {
			if cerr := x.Close(); err == nil && cerr != nil {
				err = cerr
			}
		}()
	}
	for i, desc := range manifest.Layers {
		apply := x.Apply
		if !lean {
			apply = func(r io.Reader) error {
				return layer.UnpackLayer(rootfs, r, &layer.UnpackOptions{OnDiskFormat: layer.DirRootfs{MapOptions: maps}})
			}
		}
		if err := unpackLayer(ctx, engine, desc, config.RootFS.DiffIDs[i], apply); err != nil {
			return fmt.Errorf("layer %s: %w", desc.Digest, blobErr(err))
		}
	}
	return nil
}

// unpackLayer reads one layer blob (its digest checked as it is read),
// decompresses it, applies it and checks the diff id.
func unpackLayer(ctx context.Context, engine casext.Engine, desc ispec.Descriptor, diffID digest.Digest, apply func(io.Reader) error) (err error) {
	base, compression := mediatype.SplitMediaTypeSuffix(desc.MediaType)
	if base != ispec.MediaTypeImageLayer && base != ispec.MediaTypeImageLayerNonDistributable { //nolint:staticcheck // still found in the wild
		return fmt.Errorf("unsupported media type %s", desc.MediaType)
	}
	blob, err := engine.GetVerifiedBlob(ctx, desc)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := blob.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()

	// Large reads of the blob: the decompressor asks for a few KiB at a time.
	in := ctxReader{ctx, bufio.NewReaderSize(blob, 1<<20)}
	var raw io.Reader = in
	switch compression {
	case "":
	case "gzip":
		gz, err := pgzip.NewReader(in)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		defer gz.Close() //nolint:errcheck // a reader; errors come from Read
		raw = gz
	case "zstd":
		zr, err := zstd.NewReader(in)
		if err != nil {
			return fmt.Errorf("zstd: %w", err)
		}
		defer zr.Close()
		raw = zr
	default:
		return fmt.Errorf("unsupported compression %q", compression)
	}

	digester := digest.SHA256.Digester()
	tr := io.TeeReader(raw, digester.Hash())
	if err := apply(tr); err != nil {
		return err
	}
	// Tar writers pad archives, gzip writers streams: read both to the end,
	// so that the diff id and the blob digest see every byte.
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, blob); err != nil {
		return err
	}
	if got := digester.Digest(); got != diffID {
		return fmt.Errorf("diff id mismatch: got %s, want %s", got, diffID)
	}
	return nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if c.ctx.Err() != nil {
		return 0, errors.New("interrupted")
	}
	return c.r.Read(p)
}

// writeConfig makes BUNDLE/config.json from the image configuration.
func writeConfig(ctx context.Context, engine casext.Engine, bundle, rootfs string, manifest ispec.Manifest, maps layer.MapOptions) (err error) {
	path := filepath.Join(bundle, "config.json")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if err := layer.UnpackRuntimeJSON(ctx, engine, f, rootfs, manifest, &maps); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
