// Package pull is tw-pull: copy an image from one place to another with
// skopeo copy's semantics (go.podman.io/image/v5); a push is a pull whose
// destination is a registry.
package pull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/configfile"

	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/imageref"
	"github.com/tupperware/tw/applets/internal/ocidir"
	"github.com/tupperware/tw/applets/internal/stale"
)

var Applet = cli.Applet{Name: "pull", Summary: "copy an image between registries, OCI layouts and archives", Main: Main}

const usage = `Usage: tw-pull [OPTIONS] SRC DST

Copy the image SRC to DST, as skopeo copy does. SRC and DST are
TRANSPORT:REFERENCE with one of these transports:

  docker://HOST[:PORT]/NAME[:TAG|@DIGEST]  a registry (v2 API)
  oci:PATH[:TAG]                           an OCI image layout
  oci-archive:PATH[:TAG]                   a tar of an OCI image layout
  docker-archive:PATH[:NAME:TAG]           a docker save tar
  dir:PATH                                 a directory of blobs

A push is a pull whose destination is docker://. An oci: destination
is made, parents and all, when missing; its index.json is replaced in
one atomic step at the end, so a failed or interrupted pull leaves the
layout as it was (new blobs may remain).

The manifest keeps the source's format unless --format asks for oci or
v2s2 or the destination needs another. Layers are copied as they come;
--dest-compress-format and --dest-compress-level recompress them, but a
layer the destination already holds is reused as it is. With
--preserve-digests any change of the image's or the list's digest is an
error. Where skopeo silently does something else, tw-pull refuses before
it writes anything: a compression flag for a docker-archive: or dir:
destination, zstd in a v2s2 manifest, or recompression with
--preserve-digests.

From a list of images only this system's image is copied
(--override-os and --override-arch pick another one); --all and
--multi-arch all copy the list and every image in it, --multi-arch
index-only the list alone. --additional-tag gives a docker-archive:
destination more NAME:TAG names. Signatures are copied with the image
(an oci: destination cannot hold them: that is an error);
--remove-signatures drops them.

Registries: HTTPS, verified (--src-tls-verify, --dest-tls-verify and
--tls-verify turn that off); registries.conf as skopeo reads it.
Credentials come from --src-creds and --dest-creds, else the --authfile;
--src-no-creds and --dest-no-creds go anonymous; --src-registry-token
and --dest-registry-token send a Bearer token. --src-cert-dir and
--dest-cert-dir add CAs and a client certificate (a missing directory
is an error, where skopeo goes on without it). --retry-times N tries a
copy that failed on the network or a server error again, N times.

Signature policy: --policy FILE, else $CONTAINERS_POLICY_JSON,
~/.config/containers/policy.json or /etc/containers/policy.json as
skopeo reads them; when none exists, every image is accepted
(insecureAcceptAnything).

Progress goes to stderr, one line per blob (bars when stderr is a
terminal; --quiet: none); stdout gets only the digest of the manifest
written, which --digestfile also writes to a file.

Not here: skopeo copy's signing (--sign-by…), encryption
(--encryption-key, --decryption-key, --encrypt-layer), --src-authfile
and --dest-authfile, --src-username and the like, the shared blob
directories, the docker daemon's host, --dest-compress,
--dest-decompress, --dest-oci-accept-uncompressed-layers and
--dest-precompute-digests.
`

// options are tw-pull's flags.
type options struct {
	srcTLSVerify, destTLSVerify, tlsVerify bool
	srcCreds, destCreds                    string
	authfile                               string
	overrideOS, overrideArch               string
	retryTimes                             int
	quiet                                  bool
	digestfile                             string
	policy                                 string
	all                                    bool
	cf                                     copyFlags // skopeo copy's other flags (copyflags.go)
}

// Main runs tw-pull.
func Main(args []string, stdio cli.IO) error {
	var o options
	fs := cli.NewFlagSet("tw-pull", true)
	o.register(fs)
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 2, 2); err != nil {
		return err
	}
	srcRef, err := imageref.Parse(fs.Arg(0))
	if err != nil {
		return cli.Usagef("%s", err)
	}
	if err := checkSource(fs.Arg(0)); err != nil {
		return err
	}
	// An oci: destination may not exist yet (its reference cannot be
	// resolved); it is checked by stage() below.
	var destRef types.ImageReference
	if !strings.HasPrefix(fs.Arg(1), "oci:") {
		if destRef, err = imageref.Parse(fs.Arg(1)); err != nil {
			return cli.Usagef("%s", err)
		}
	}
	srcCtx, destCtx, err := SystemContexts(fs, o)
	if err != nil {
		return cli.Usagef("%s", err)
	}
	copyOpts := &copy.Options{
		SourceCtx:      srcCtx,
		DestinationCtx: destCtx,
	}
	if err := o.cf.apply(fs, o, fs.Arg(1), srcCtx, destCtx, copyOpts); err != nil {
		return err
	}
	policy, err := loadPolicy(o.policy, nil)
	if err != nil {
		return err
	}
	pc, err := signature.NewPolicyContext(policy)
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	defer pc.Destroy()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// An oci: destination is filled under a temporary name and published
	// by one rename at the end.
	var st *staging
	if destRef == nil {
		if err := checkOCI(fs.Arg(1)); err != nil {
			return cli.Usagef("%s", err)
		}
		if st, err = stage(fs.Arg(1)); err != nil {
			return err
		}
		defer st.abort()
		if destRef, err = layout.NewReference(st.dir, st.image); err != nil {
			return cli.Usagef("%s: %s", fs.Arg(1), imageref.LowerFirst(err.Error()))
		}
	}

	if !o.quiet {
		copyOpts.ReportWriter = stdio.Stderr
	}
	if o.all {
		copyOpts.ImageListSelection = copy.CopyAllImages
	}
	written, err := copyImage(ctx, pc, destRef, srcRef, copyOpts, o, stdio.Stderr)
	if ctx.Err() != nil {
		return cli.Exit(130, fmt.Errorf("interrupted"))
	}
	if err != nil {
		return errors.New(unstaged(imageref.Explain(err), st))
	}
	if st != nil {
		if err := st.commit(); err != nil {
			return err
		}
	}
	d, err := manifest.Digest(written)
	if err != nil {
		return err
	}
	if o.digestfile != "" {
		if err := os.WriteFile(o.digestfile, []byte(d.String()), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdio.Stdout, d)
	return nil
}

// register defines tw-pull's flags in fs, into o.
func (o *options) register(fs *pflag.FlagSet) {
	fs.BoolVar(&o.srcTLSVerify, "src-tls-verify", true, "require HTTPS and verify certificates of a source registry")
	fs.BoolVar(&o.destTLSVerify, "dest-tls-verify", true, "require HTTPS and verify certificates of a destination registry")
	fs.BoolVar(&o.tlsVerify, "tls-verify", true, "set both --src-tls-verify and --dest-tls-verify")
	fs.StringVar(&o.srcCreds, "src-creds", "", "`USER[:PASSWORD]` for the source registry")
	fs.StringVar(&o.destCreds, "dest-creds", "", "`USER[:PASSWORD]` for the destination registry")
	fs.StringVar(&o.authfile, "authfile", os.Getenv("REGISTRY_AUTH_FILE"), "registry credentials `FILE` (default $REGISTRY_AUTH_FILE, then podman's and docker's)")
	fs.StringVar(&o.overrideOS, "override-os", "", "pick the image for `OS` from a list instead of this one")
	fs.StringVar(&o.overrideArch, "override-arch", "", "pick the image for `ARCH` from a list instead of this one")
	fs.IntVar(&o.retryTimes, "retry-times", 0, "retry a failed copy `N` times on network errors")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress on stderr")
	fs.StringVar(&o.digestfile, "digestfile", "", "write the digest of the manifest written to `FILE`")
	fs.StringVar(&o.policy, "policy", "", "signature policy `FILE` (see above for the default)")
	fs.BoolVarP(&o.all, "all", "a", false, "copy every image of a list, not just this system's")
	o.cf.register(fs)
}

// copyImage is copy.Image, tried again --retry-times times after network
// errors, waiting 1s, 2s, 4s… in between, as skopeo's retry does.
func copyImage(ctx context.Context, pc *signature.PolicyContext, dest, src types.ImageReference, opts *copy.Options, o options, stderr io.Writer) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		written, err := copy.Image(ctx, pc, dest, src, opts)
		if err == nil || attempt >= o.retryTimes || !retryable(err) || ctx.Err() != nil {
			return written, err
		}
		delay := time.Duration(1<<attempt) * time.Second
		if !o.quiet {
			fmt.Fprintf(stderr, "tw-pull: attempt %d of %d failed: %v; retrying in %s\n", attempt+1, o.retryTimes+1, err, delay)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// checkOCI checks what it can of an oci:PATH[:TAG] reference before PATH
// exists; the tag is checked by the oci transport on the staging copy.
func checkOCI(s string) error {
	if path, _, _ := strings.Cut(strings.TrimPrefix(s, "oci:"), ":"); path == "" {
		return fmt.Errorf("%s: empty path", s)
	}
	return nil
}

// checkSource names a source layout that is not one, which the oci
// transport only reports as a missing index.json.
func checkSource(s string) error {
	path, _, _ := strings.Cut(strings.TrimPrefix(s, "oci:"), ":")
	if !strings.HasPrefix(s, "oci:") {
		return nil
	}
	if _, err := os.Stat(filepath.Join(path, "oci-layout")); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(path); err != nil {
			return err
		}
		return fmt.Errorf("%s: not an OCI image layout", path)
	}
	return nil
}

// SystemContexts turns the flags into the source's and the destination's
// settings.
func SystemContexts(fs *pflag.FlagSet, o options) (src, dest *types.SystemContext, err error) {
	// as in skopeo, --override-* and --authfile apply to both sides
	src = &types.SystemContext{
		AuthFilePath:       o.authfile,
		OSChoice:           o.overrideOS,
		ArchitectureChoice: o.overrideArch,
	}
	copied := *src
	dest = &copied
	verify := func(own string, v bool) types.OptionalBool {
		switch {
		case fs.Changed(own):
			return types.NewOptionalBool(!v)
		case fs.Changed("tls-verify"):
			return types.NewOptionalBool(!o.tlsVerify)
		}
		return types.OptionalBoolUndefined
	}
	src.DockerInsecureSkipTLSVerify = verify("src-tls-verify", o.srcTLSVerify)
	dest.DockerInsecureSkipTLSVerify = verify("dest-tls-verify", o.destTLSVerify)
	src.DockerDaemonInsecureSkipTLSVerify = src.DockerInsecureSkipTLSVerify == types.OptionalBoolTrue
	dest.DockerDaemonInsecureSkipTLSVerify = dest.DockerInsecureSkipTLSVerify == types.OptionalBoolTrue
	if src.DockerAuthConfig, err = creds("--src-creds", o.srcCreds); err != nil {
		return nil, nil, err
	}
	if dest.DockerAuthConfig, err = creds("--dest-creds", o.destCreds); err != nil {
		return nil, nil, err
	}
	return src, dest, nil
}

// creds parses USER[:PASSWORD] as skopeo does.
func creds(flag, s string) (*types.DockerAuthConfig, error) {
	if s == "" {
		return nil, nil
	}
	user, pass, _ := strings.Cut(s, ":")
	if user == "" {
		return nil, fmt.Errorf("%s: empty user name", flag)
	}
	return &types.DockerAuthConfig{Username: user, Password: pass}, nil
}

// loadPolicy reads --policy FILE, else the system's policy (sys may point
// its files elsewhere), else accepts every image; a policy file named in
// $CONTAINERS_POLICY_JSON must exist.
func loadPolicy(file string, sys *types.SystemContext) (*signature.Policy, error) {
	if file != "" {
		p, err := signature.NewPolicyFromFile(file)
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		return p, nil
	}
	p, err := signature.DefaultPolicy(sys)
	if errors.Is(err, configfile.ErrConfigFileNotFound) {
		return &signature.Policy{Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return p, nil
}

// retryable tells network trouble and server errors, worth another try,
// from answers that will not change.
func retryable(err error) bool {
	var ne net.Error
	var se docker.UnexpectedHTTPStatusError
	switch {
	case errors.As(err, &se):
		return se.StatusCode >= 500 || se.StatusCode == 429
	case errors.As(err, &ne), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return true
	}
	return false
}

// staging is an oci: destination being filled under a temporary name.
type staging struct {
	final   string // the layout's path
	dir     string // where the copy writes
	image   string // the tag, as in oci:PATH:TAG
	fresh   bool   // the layout did not exist: rename dir to final
	created string // the first parent directory we made, removed on failure
	base    []byte // index.json as it was when we started (nil: fresh)
	held    int    // descriptor of dir, its stale lock held while we run
}

// stage prepares an oci: destination. A new layout is made in a temporary
// directory next to it; an existing one gets a temporary directory inside
// it with a copy of its index.json and its own blobs/ linked in, so blobs
// land in place and only index.json is swapped at the end.
func stage(arg string) (*staging, error) {
	path, image, _ := strings.Cut(strings.TrimPrefix(arg, "oci:"), ":")
	st := &staging{final: filepath.Clean(path), image: image, held: -1}
	sweep(st.final)
	fi, err := os.Stat(st.final)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		st.fresh = true
	case err != nil:
		return nil, err
	case !fi.IsDir():
		return nil, fmt.Errorf("%s: not a directory", st.final)
	default:
		ents, err := os.ReadDir(st.final)
		if err != nil {
			return nil, err
		}
		if len(ents) == 0 {
			st.fresh = true // rename(2) replaces an empty directory
		} else if _, err := os.Stat(filepath.Join(st.final, "index.json")); err != nil {
			return nil, fmt.Errorf("%s: not an OCI image layout", st.final)
		}
	}
	if st.fresh {
		parent := filepath.Dir(st.final)
		if st.created, err = mkdirAll(parent); err != nil {
			return nil, err
		}
		if st.dir, err = os.MkdirTemp(parent, freshPrefix(st.final)+pidPart()); err != nil {
			st.abort()
			return nil, err
		}
		if err := st.hold(); err != nil {
			st.abort()
			return nil, err
		}
		if err := os.Chmod(st.dir, 0o755); err != nil {
			st.abort()
			return nil, err
		}
		return st, nil
	}
	if st.dir, err = os.MkdirTemp(st.final, innerPrefix+pidPart()); err != nil {
		return nil, err
	}
	if err := st.hold(); err != nil {
		st.abort()
		return nil, err
	}
	if st.base, err = os.ReadFile(filepath.Join(st.final, "index.json")); err != nil {
		st.abort()
		return nil, err
	}
	for _, f := range []string{"index.json", "oci-layout"} {
		if err := copyFile(filepath.Join(st.final, f), filepath.Join(st.dir, f)); err != nil {
			st.abort()
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Join(st.final, "blobs"), 0o755); err != nil {
		st.abort()
		return nil, err
	}
	if err := os.Symlink("../blobs", filepath.Join(st.dir, "blobs")); err != nil {
		st.abort()
		return nil, err
	}
	return st, nil
}

// commit publishes the copied image under the layout's lock: a new layout
// is renamed into place, or, when another run made it meanwhile, joins it;
// in an existing layout our change is merged into index.json as it is now
// (other runs may have tagged images since we started) and the result
// replaces it in one step.
func (st *staging) commit() error {
	unlock, err := ocidir.Lock(st.final)
	if err != nil {
		return err
	}
	defer unlock()
	if st.fresh {
		// rename(2) itself, not os.Rename: it replaces an empty directory
		err := syscall.Rename(st.dir, st.final)
		if err == nil {
			st.dir, st.created = "", ""
			return nil
		}
		if !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) {
			return &os.LinkError{Op: "rename", Old: st.dir, New: st.final, Err: err}
		}
		if _, serr := os.Stat(filepath.Join(st.final, "index.json")); serr != nil {
			return &os.LinkError{Op: "rename", Old: st.dir, New: st.final, Err: err}
		}
		// Another run made the layout meanwhile: join it.
		st.created = ""
		if err := ocidir.MoveBlobs(st.dir, st.final); err != nil {
			return err
		}
	}
	ours, err := os.ReadFile(filepath.Join(st.dir, "index.json"))
	if err != nil {
		return err
	}
	current, err := os.ReadFile(filepath.Join(st.final, "index.json"))
	if err != nil {
		return err
	}
	merged, err := ocidir.Merge(st.base, ours, current)
	if err != nil {
		return fmt.Errorf("%s: %w", st.final, err)
	}
	return ocidir.Replace(st.final, merged)
}

// hold locks the staging directory for as long as this run lives, so that
// no other run takes it for debris.
func (st *staging) hold() error {
	fd, err := syscall.Open(st.dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: st.dir, Err: err}
	}
	st.held = fd
	if err := stale.Hold(fd); err != nil {
		return &os.PathError{Op: "lock", Path: st.dir, Err: err}
	}
	return nil
}

// The staging directories of a layout: .NAME.tw-pull-PID-* beside a new
// one, .tw-pull-PID-* inside an existing one.
const innerPrefix = ".tw-pull-"

func freshPrefix(final string) string { return "." + filepath.Base(final) + ".tw-pull-" }
func pidPart() string                 { return strconv.Itoa(os.Getpid()) + "-" }

// sweep removes the staging directories a killed tw-pull left at this
// layout (never those of a run still going).
func sweep(final string) {
	stale.SweepDir(filepath.Dir(final), freshPrefix(final))
	stale.SweepDir(final, innerPrefix)
}

// abort removes what staging made (after a commit: the temporary
// directory, whose blobs/ is only a link).
func (st *staging) abort() {
	if st.dir != "" {
		os.RemoveAll(st.dir)
	}
	if st.created != "" {
		os.RemoveAll(st.created)
	}
	if st.held >= 0 {
		syscall.Close(st.held)
		st.held = -1
	}
}

// mkdirAll is os.MkdirAll that returns the first directory it made.
func mkdirAll(dir string) (string, error) {
	first := ""
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		first = d
	}
	return first, os.MkdirAll(dir, 0o755)
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
