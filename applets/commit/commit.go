// Package commit is tw-commit: a directory becomes an image in an OCI image
// layout, the reverse of tw-unpack (umoci repack, bocker commit).
package commit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apex/log"
	"github.com/apex/log/handlers/discard"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/opencontainers/umoci/oci/cas"
	"github.com/opencontainers/umoci/oci/cas/dir"
	"github.com/opencontainers/umoci/oci/casext"
	"github.com/opencontainers/umoci/oci/casext/blobcompress"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ocidir"
	"github.com/tupperware/tw/applets/internal/stale"
)

var Applet = cli.Applet{Name: "commit", Summary: "turn a directory into an image in an OCI layout", Main: Main}

const usage = `Usage: tw-commit [OPTIONS] DIR LAYOUT[:TAG]

Pack the directory DIR into one layer (gzip-compressed unless --compress
says zstd or none) and tag the image
as TAG (default latest) in the OCI image layout LAYOUT, the reverse of
tw-unpack (umoci repack, bocker commit). The layer keeps ownership,
modes, mtimes, xattrs, hardlinks, symlinks and device nodes, and its
entries are sorted, so the same tree gives the same layer digest.

LAYOUT is created when missing (all at once: a failed commit leaves no
half-made layout). In an existing layout the tag is added, or replaced
when it exists (as umoci does; the old digest is named on stderr). New
blobs are written first and index.json last, atomically, so a failure
leaves the layout as it was. A commit works in .LAYOUT.tw-commit-PID-*
beside a new layout, or LAYOUT/.tw-commit-PID-* in an existing one; what
a killed commit leaves there is removed by the next commit to LAYOUT,
never what a live one is writing.

With --from the image is a child of an existing image: its layers, then
DIR as one more layer (with --overlayfs, whiteouts in DIR delete files
of the layers below). The image's manifest digest is printed on stdout.
SOURCE_DATE_EPOCH, when set, clamps file mtimes and sets the creation
time, as in umoci.

--rootless, --uid-map and --gid-map read DIR as tw-unpack wrote it with
the same flags, so that unpack and commit round-trip the owners: with
--rootless the owners recorded in the user.rootlesscontainers xattr, and
the caller's own files as root's.
`

// options are tw-commit's flags.
type options struct {
	from          string
	overlayfs     bool
	cmd           []string
	entrypoint    []string
	env           []string
	workingdir    string
	user          string
	author        string
	comment       string
	createdBy     string
	quiet         bool
	compress      string
	setCmd        bool // --config.cmd given: replace the parent's
	setEntrypoint bool
}

// Main runs tw-commit.
func Main(args []string, stdio cli.IO) error {
	var o options
	fs := cli.NewFlagSet("tw-commit", true)
	fs.StringVar(&o.from, "from", "", "add DIR as a new layer on top of the image `LAYOUT[:TAG]`")
	fs.BoolVar(&o.overlayfs, "overlayfs", false, "DIR is an overlayfs upper directory: its whiteouts become OCI whiteouts")
	fs.StringArrayVar(&o.cmd, "config.cmd", nil, "set the command, one `ARG` per flag")
	fs.StringArrayVar(&o.entrypoint, "config.entrypoint", nil, "set the entrypoint, one `ARG` per flag")
	fs.StringArrayVar(&o.env, "config.env", nil, "set an environment variable `NAME=VALUE` (repeatable)")
	fs.StringVar(&o.workingdir, "config.workingdir", "", "set the working `DIR`")
	fs.StringVar(&o.user, "config.user", "", "set the `USER[:GROUP]` the process runs as")
	fs.StringVar(&o.author, "author", "", "set the image's `AUTHOR`")
	fs.StringVar(&o.comment, "history.comment", "", "the `TEXT` of the layer's history entry")
	fs.StringVar(&o.createdBy, "history.created_by", "tw-commit", "the `COMMAND` the history entry names")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "say nothing on stderr")
	fs.StringVar(&o.compress, "compress", "gzip", "compress the layer with `ALGO`: gzip, zstd or none")
	var ids idFlags
	ids.add(fs)
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 2, 2); err != nil {
		return err
	}
	maps, err := ids.maps()
	if err != nil {
		return err
	}
	o.setCmd = fs.Changed("config.cmd")
	o.setEntrypoint = fs.Changed("config.entrypoint")
	src := fs.Arg(0)
	layout, tag, err := ParseImage(fs.Arg(1))
	if err != nil {
		return cli.Usagef("%s", err)
	}
	algo, mediaType, err := compression(o.compress)
	if err != nil {
		return cli.Usagef("%s", err)
	}
	created, epoch, err := sourceDate()
	if err != nil {
		return err
	}
	if fi, err := os.Stat(src); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", src)
	}
	// umoci's libraries log through apex/log; errors reach us anyway.
	log.SetHandler(discard.Default)

	// SIGINT or SIGTERM stops the layer on its way, and the deferred
	// clean-ups run: a new layout is not left half-made.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var parent *image
	if o.from != "" {
		fromLayout, fromTag, err := ParseImage(o.from)
		if err != nil {
			return cli.Usagef("--from: %s", err)
		}
		if parent, err = readImage(ctx, fromLayout, fromTag); err != nil {
			return err
		}
		defer parent.close()
	}

	// A new layout is made under a temporary name and renamed into place
	// at the end; an existing one is written through a staging directory
	// inside it, which gets the new blobs in place and umoci's temporary
	// files, and its index.json is renamed over the layout's at the end.
	// Either is removed by the next run when this one is killed.
	shown, final, inner := layout, "", ""
	if _, err := os.Lstat(layout); errors.Is(err, os.ErrNotExist) {
		final = layout
		var held int
		layout, held, err = tempLayout(layout)
		if err != nil {
			return err
		}
		defer unix.Close(held)
		defer os.RemoveAll(layout) // gone after the rename
	} else {
		e, err := openLayout(layout, shown)
		if err != nil {
			return err
		}
		e.Close()
		inner = layout
		var held int
		if layout, held, err = stageInside(inner); err != nil {
			return fmt.Errorf("%s: %w", shown, err)
		}
		defer unix.Close(held)
		defer os.RemoveAll(layout)
	}
	engine, err := openLayout(layout, shown)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			engine.Close()
		}
	}()
	ext := casext.NewEngine(engine)

	// umoci's layer, but every file read through the root's descriptor
	// (walk.go): a running container cannot slip a host file in.
	tarball := generateLayer(src, walkOptions{sourceDateEpoch: epoch, overlayfs: o.overlayfs, maps: maps})
	defer tarball.Close()
	go func() {
		<-ctx.Done()
		tarball.Close()
	}()
	layerDesc, diffID, err := putLayer(ctx, engine, tarball, algo, mediaType)
	if ctx.Err() != nil {
		return cli.Exit(130, errors.New("interrupted"))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}

	var config ispec.Image
	var layers []ispec.Descriptor
	if parent != nil {
		config = parent.config
		layers = parent.manifest.Layers
		if err := copyBlobs(ctx, parent.engine, engine, layout, layers); err != nil {
			return fmt.Errorf("%s: %w", o.from, err)
		}
	}
	config = BuildConfig(config, o, created, diffID)
	configDesc, err := putJSON(ctx, ext, ispec.MediaTypeImageConfig, config)
	if err != nil {
		return err
	}
	manifest := ispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    append(append([]ispec.Descriptor{}, layers...), layerDesc),
	}
	manifestDesc, err := putJSON(ctx, ext, ispec.MediaTypeImageManifest, manifest)
	if err != nil {
		return err
	}
	manifestDesc.Platform = &ispec.Platform{OS: config.OS, Architecture: config.Architecture, Variant: config.Variant}

	// The index is read, changed and replaced under the layout's lock, so
	// that commits and pulls into one layout at once keep every tag.
	unlock, err := ocidir.Lock(shown)
	if err != nil {
		return err
	}
	defer unlock()
	if inner != "" { // the index as it is now, other runs' tags and all
		if err := copyFile(filepath.Join(inner, "index.json"), filepath.Join(layout, "index.json")); err != nil {
			return fmt.Errorf("%s: %w", shown, err)
		}
	}
	if old, err := ext.ResolveReference(ctx, tag); err == nil && len(old) > 0 && !o.quiet {
		fmt.Fprintf(stdio.Stderr, "tw-commit: replacing %s:%s (was %s)\n", shown, tag, old[0].Descriptor().Digest)
	}
	if err := ext.UpdateReference(ctx, tag, manifestDesc); err != nil {
		return fmt.Errorf("%s: %w", shown, err)
	}
	closed = true
	if err := engine.Close(); err != nil {
		return fmt.Errorf("%s: %w", shown, err)
	}
	if inner != "" {
		if err := os.Rename(filepath.Join(layout, "index.json"), filepath.Join(inner, "index.json")); err != nil {
			return err
		}
	}
	if final != "" {
		if err := publish(layout, final); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdio.Stdout, manifestDesc.Digest)
	return nil
}

// publish renames the new layout made at tmp into place; when another run
// made a layout there meanwhile, the new one joins it: its blobs move over
// and its tag is merged into the index (under the layout's lock).
func publish(tmp, final string) error {
	err := unix.Rename(tmp, final)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
		return &os.LinkError{Op: "rename", Old: tmp, New: final, Err: err}
	}
	ours, rerr := os.ReadFile(filepath.Join(tmp, "index.json"))
	if rerr != nil {
		return rerr
	}
	current, cerr := os.ReadFile(filepath.Join(final, "index.json"))
	if cerr != nil {
		return &os.LinkError{Op: "rename", Old: tmp, New: final, Err: err}
	}
	if err := ocidir.MoveBlobs(tmp, final); err != nil {
		return err
	}
	merged, err := ocidir.Merge(nil, ours, current)
	if err != nil {
		return fmt.Errorf("%s: %w", final, err)
	}
	return ocidir.Replace(final, merged)
}

// ParseImage splits LAYOUT[:TAG] as umoci's --image does: at the last colon
// when what follows is a valid tag, and "latest" when there is none.
func ParseImage(s string) (layout, tag string, err error) {
	layout, tag = s, "latest"
	if i := strings.LastIndexByte(s, ':'); i >= 0 && !strings.Contains(s[i+1:], "/") {
		layout, tag = s[:i], s[i+1:]
	}
	if layout == "" {
		return "", "", fmt.Errorf("%q: empty layout path", s)
	}
	if !casext.IsValidReferenceName(tag) {
		return "", "", fmt.Errorf("%q: invalid tag %q", s, tag)
	}
	return layout, tag, nil
}

// BuildConfig applies the flags to an image configuration (the parent's, or
// a zero one for a new image) and records the new layer.
func BuildConfig(c ispec.Image, o options, created time.Time, diffID digest.Digest) ispec.Image {
	if c.OS == "" {
		c.OS = "linux"
	}
	if c.Architecture == "" {
		c.Architecture = runtime.GOARCH
	}
	c.Created = &created
	if o.author != "" {
		c.Author = o.author
	}
	if o.setCmd {
		c.Config.Cmd = append([]string{}, o.cmd...)
	}
	if o.setEntrypoint {
		c.Config.Entrypoint = append([]string{}, o.entrypoint...)
	}
	for _, kv := range o.env {
		c.Config.Env = setEnv(c.Config.Env, kv)
	}
	if o.workingdir != "" {
		c.Config.WorkingDir = o.workingdir
	}
	if o.user != "" {
		c.Config.User = o.user
	}
	c.RootFS.Type = "layers"
	c.RootFS.DiffIDs = append(append([]digest.Digest{}, c.RootFS.DiffIDs...), diffID)
	c.History = append(append([]ispec.History{}, c.History...), ispec.History{
		Created:   &created,
		CreatedBy: o.createdBy,
		Author:    c.Author,
		Comment:   o.comment,
	})
	return c
}

// setEnv sets NAME=VALUE in env, replacing an earlier NAME.
func setEnv(env []string, kv string) []string {
	name, _, _ := strings.Cut(kv, "=")
	out := make([]string, 0, len(env)+1)
	for _, e := range env {
		if n, _, _ := strings.Cut(e, "="); n != name {
			out = append(out, e)
		}
	}
	return append(out, kv)
}

// sourceDate is the creation time, and the mtime clamp when
// SOURCE_DATE_EPOCH is set.
func sourceDate() (time.Time, *time.Time, error) {
	s, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok || s == "" {
		return time.Now().UTC(), nil, nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("SOURCE_DATE_EPOCH=%s: not a number of seconds", s)
	}
	t := time.Unix(sec, 0).UTC()
	return t, &t, nil
}

// tempLayout makes a fresh layout next to where path will be, named
// .NAME.tw-commit-PID-* and locked (the descriptor returned holds the
// lock) as internal/stale wants it; first it removes what killed runs
// left there, never a live run's.
func tempLayout(path string) (string, int, error) {
	parent := filepath.Dir(path)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", -1, err
	}
	prefix := "." + filepath.Base(path) + ".tw-commit-"
	_ = stale.SweepDir(parent, prefix) // what is left is no reason to fail
	tmp, err := os.MkdirTemp(parent, prefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return "", -1, err
	}
	os.Remove(tmp) // dir.Create wants to make it itself (our live PID covers the gap)
	if err := dir.Create(tmp); err != nil {
		os.RemoveAll(tmp)
		return "", -1, fmt.Errorf("%s: create layout: %w", path, err)
	}
	fd, err := hold(tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return "", -1, err
	}
	return tmp, fd, nil
}

// innerPrefix starts the name of the staging directory in an existing
// layout: .tw-commit-PID-*.
const innerPrefix = ".tw-commit-"

// stageInside makes the staging directory in the existing layout at path,
// locked (the descriptor returned holds the lock), after removing those
// of killed runs: copies of oci-layout and index.json, and blobs/ a link
// to the layout's own.
func stageInside(path string) (string, int, error) {
	_ = stale.SweepDir(path, innerPrefix) // what is left is no reason to fail
	tmp, err := os.MkdirTemp(path, innerPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return "", -1, err
	}
	fd, err := hold(tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return "", -1, err
	}
	fail := func(err error) (string, int, error) {
		unix.Close(fd)
		os.RemoveAll(tmp)
		return "", -1, err
	}
	// umoci gives what it writes, when root, the owner of the directory
	// it writes to: the layout's, as before
	if os.Geteuid() == 0 {
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			return fail(&os.PathError{Op: "stat", Path: path, Err: err})
		}
		if err := os.Lchown(tmp, int(st.Uid), int(st.Gid)); err != nil {
			return fail(err)
		}
	}
	for _, f := range []string{"oci-layout", "index.json"} {
		if err := copyFile(filepath.Join(path, f), filepath.Join(tmp, f)); err != nil {
			return fail(err)
		}
	}
	if err := os.Symlink("../blobs", filepath.Join(tmp, "blobs")); err != nil {
		return fail(err)
	}
	return tmp, fd, nil
}

// hold opens the directory at path and takes its internal/stale lock,
// held while the descriptor returned is open.
func hold(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if err := stale.Hold(fd); err != nil {
		unix.Close(fd)
		return -1, &os.PathError{Op: "lock", Path: path, Err: err}
	}
	return fd, nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}

// openLayout opens the layout at path; messages name it shown.
func openLayout(path, shown string) (cas.Engine, error) {
	engine, err := dir.Open(path)
	if err != nil {
		if errors.Is(err, cas.ErrInvalid) || errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: not an OCI image layout", shown)
		}
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	return engine, nil
}

// putLayer compresses a tar stream into a blob of the given media type and
// returns its descriptor and the digest of the uncompressed tar (the diff ID).
func putLayer(ctx context.Context, engine cas.Engine, tarball io.Reader, algo blobcompress.Algorithm, mediaType string) (ispec.Descriptor, digest.Digest, error) {
	diff := digest.Canonical.Digester()
	z, err := algo.Compress(io.TeeReader(tarball, diff.Hash()))
	if err != nil {
		return ispec.Descriptor{}, "", err
	}
	defer z.Close()
	d, size, err := engine.PutBlob(ctx, z)
	if err != nil {
		return ispec.Descriptor{}, "", err
	}
	return ispec.Descriptor{MediaType: mediaType, Digest: d, Size: size}, diff.Digest(), nil
}

func putJSON(ctx context.Context, ext casext.Engine, mediaType string, v any) (ispec.Descriptor, error) {
	d, size, err := ext.PutBlobJSON(ctx, v)
	if err != nil {
		return ispec.Descriptor{}, fmt.Errorf("write %s: %w", mediaType, err)
	}
	return ispec.Descriptor{MediaType: mediaType, Digest: d, Size: size}, nil
}

// image is a parent image opened for --from.
type image struct {
	engine   cas.Engine
	manifest ispec.Manifest
	config   ispec.Image
}

func (i *image) close() { i.engine.Close() }

// readImage opens LAYOUT and resolves TAG to one image manifest.
func readImage(ctx context.Context, layout, tag string) (_ *image, err error) {
	engine, err := openLayout(layout, layout)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			engine.Close()
		}
	}()
	ext := casext.NewEngine(engine)
	paths, err := ext.ResolveReference(ctx, tag)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", layout, tag, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s:%s: no such tag", layout, tag)
	}
	if len(paths) > 1 {
		return nil, fmt.Errorf("%s:%s: tag names %d images", layout, tag, len(paths))
	}
	desc := paths[0].Descriptor()
	if desc.MediaType != ispec.MediaTypeImageManifest {
		return nil, fmt.Errorf("%s:%s: not an OCI image manifest: %s", layout, tag, desc.MediaType)
	}
	img := &image{engine: engine}
	if err := readJSON(ctx, ext, desc, &img.manifest); err != nil {
		return nil, fmt.Errorf("%s:%s: %w", layout, tag, err)
	}
	if err := readJSON(ctx, ext, img.manifest.Config, &img.config); err != nil {
		return nil, fmt.Errorf("%s:%s: %w", layout, tag, err)
	}
	return img, nil
}

func readJSON(ctx context.Context, ext casext.Engine, desc ispec.Descriptor, v any) error {
	r, err := ext.GetVerifiedBlob(ctx, desc)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", desc.Digest, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w", desc.Digest, err)
	}
	return nil
}

// copyBlobs copies the parent's layers into the new layout, checking each
// digest on the way.
func copyBlobs(ctx context.Context, from, to cas.Engine, toPath string, descs []ispec.Descriptor) error {
	for _, d := range descs {
		if _, err := os.Stat(filepath.Join(toPath, "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded())); err == nil {
			continue // already there
		}
		r, err := from.GetBlob(ctx, d.Digest)
		if err != nil {
			return err
		}
		got, _, err := to.PutBlob(ctx, r)
		if cerr := r.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("copy %s: %w", d.Digest, err)
		}
		if got != d.Digest {
			return fmt.Errorf("copy %s: content has digest %s", d.Digest, got)
		}
	}
	return nil
}
