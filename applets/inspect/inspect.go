// Package inspect is tw-inspect: what skopeo inspect and skopeo list-tags
// print about an image, read with go.podman.io/image/v5 from any transport
// tw-pull reads.
package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/types"

	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/imageref"
)

var Applet = cli.Applet{Name: "inspect", Summary: "print an image's manifest, config or summary, or a repository's tags", Main: Main}

const usage = `Usage: tw-inspect [OPTIONS] IMAGE
       tw-inspect --raw [--config] IMAGE
       tw-inspect --config IMAGE
       tw-inspect --tags docker://HOST[:PORT]/NAME | docker-archive:PATH

Print what 'skopeo inspect' prints about the image IMAGE, a
TRANSPORT:REFERENCE as tw-pull reads it (docker://, oci:, oci-archive:,
docker-archive:, dir:): a JSON summary with skopeo's field names (Name,
Digest, RepoTags, Created, DockerVersion, Labels, Architecture, Os,
Layers, LayersData, Env). Digest is the digest of the manifest IMAGE
names (of the list, for a multi-platform image); the other fields are
the image of the list for this system (--override-os, --override-arch).
RepoTags lists the repository's tags for docker:// (--no-tags skips it).

--raw prints the manifest as stored, byte for byte; --config the image's
configuration as OCI JSON, or as stored with --raw. --tags prints the
repository's tags as 'skopeo list-tags' does.
`

// options are tw-inspect's flags.
type options struct {
	raw, config, tags, noTags bool
	tlsVerify                 bool
	creds, authfile, certDir  string
	overrideOS, overrideArch  string
}

// Main runs tw-inspect.
func Main(args []string, stdio cli.IO) error {
	var o options
	fs := cli.NewFlagSet("tw-inspect", true)
	fs.BoolVar(&o.raw, "raw", false, "print the manifest (with --config, the configuration) as stored")
	fs.BoolVar(&o.config, "config", false, "print the image's configuration")
	fs.BoolVar(&o.tags, "tags", false, "print the repository's tags, as skopeo list-tags")
	fs.BoolVarP(&o.noTags, "no-tags", "n", false, "do not list the repository's tags in RepoTags")
	fs.BoolVar(&o.tlsVerify, "tls-verify", true, "require HTTPS and verify certificates of a registry")
	fs.StringVar(&o.creds, "creds", "", "`USER[:PASSWORD]` for the registry")
	fs.StringVar(&o.authfile, "authfile", os.Getenv("REGISTRY_AUTH_FILE"), "registry credentials `FILE` (default $REGISTRY_AUTH_FILE, then podman's and docker's)")
	fs.StringVar(&o.certDir, "cert-dir", "", "use certificates in `DIR` (*.crt, *.cert, *.key) for the registry")
	fs.StringVar(&o.overrideOS, "override-os", "", "pick the image for `OS` from a list instead of this one")
	fs.StringVar(&o.overrideArch, "override-arch", "", "pick the image for `ARCH` from a list instead of this one")
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := cli.Args(fs, 1, 1); err != nil {
		return err
	}
	if o.tags && (o.raw || o.config) {
		return cli.Usagef("--tags cannot be combined with --raw or --config")
	}
	ref, err := imageref.Parse(fs.Arg(0))
	if err != nil {
		return cli.Usagef("%s", err)
	}
	sys, err := o.systemContext(fs.Changed("tls-verify"))
	if err != nil {
		return cli.Usagef("%s", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.tags {
		err = listTags(ctx, sys, fs.Arg(0), ref, stdio.Stdout)
	} else {
		err = o.inspect(ctx, sys, ref, stdio.Stdout)
	}
	if ctx.Err() != nil {
		return cli.Exit(130, errors.New("interrupted"))
	}
	if err != nil {
		var ue *cli.UsageError
		if errors.As(err, &ue) {
			return err
		}
		return errors.New(imageref.Explain(err))
	}
	return nil
}

func (o *options) systemContext(tlsChanged bool) (*types.SystemContext, error) {
	sys := &types.SystemContext{
		AuthFilePath:       o.authfile,
		DockerCertPath:     o.certDir,
		OSChoice:           o.overrideOS,
		ArchitectureChoice: o.overrideArch,
	}
	if tlsChanged {
		sys.DockerInsecureSkipTLSVerify = types.NewOptionalBool(!o.tlsVerify)
	}
	if o.creds != "" {
		user, pass, _ := strings.Cut(o.creds, ":")
		if user == "" {
			return nil, errors.New("--creds: empty user name")
		}
		sys.DockerAuthConfig = &types.DockerAuthConfig{Username: user, Password: pass}
	}
	return sys, nil
}

// Output is skopeo inspect's summary, field for field (skopeo's
// cmd/skopeo/inspect/output.go), so that scripts and jq filters written
// for skopeo read it unchanged.
type Output struct {
	Name          string `json:",omitempty"`
	Tag           string `json:",omitempty"`
	Digest        digest.Digest
	RepoTags      []string
	Created       *time.Time
	DockerVersion string
	Labels        map[string]string
	Architecture  string
	Variant       string `json:",omitempty"`
	Os            string
	Layers        []string
	LayersData    []types.ImageInspectLayer
	Env           []string
}

func (o *options) inspect(ctx context.Context, sys *types.SystemContext, ref types.ImageReference, w io.Writer) error {
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return err
	}
	defer src.Close()
	raw, _, err := src.GetManifest(ctx, nil)
	if err != nil {
		return fmt.Errorf("read the manifest: %w", err)
	}
	if o.raw && !o.config {
		_, err := w.Write(raw)
		return err
	}
	img, err := image.FromUnparsedImage(ctx, sys, image.UnparsedInstance(src, nil))
	if err != nil {
		return err
	}
	if o.config {
		if o.raw {
			blob, err := img.ConfigBlob(ctx)
			if err != nil {
				return fmt.Errorf("read the configuration: %w", err)
			}
			_, err = w.Write(blob)
			return err
		}
		cfg, err := img.OCIConfig(ctx)
		if err != nil {
			return fmt.Errorf("read the configuration: %w", err)
		}
		return printJSON(w, cfg)
	}
	info, err := img.Inspect(ctx)
	if err != nil {
		return err
	}
	out := Output{
		Tag:           info.Tag,
		RepoTags:      []string{},
		Created:       info.Created,
		DockerVersion: info.DockerVersion,
		Labels:        info.Labels,
		Architecture:  info.Architecture,
		Variant:       info.Variant,
		Os:            info.Os,
		Layers:        info.Layers,
		LayersData:    info.LayersData,
		Env:           info.Env,
	}
	if out.Digest, err = manifest.Digest(raw); err != nil {
		return err
	}
	if named := ref.DockerReference(); named != nil {
		out.Name = named.Name()
	}
	if ref.Transport() == docker.Transport && !o.noTags {
		if out.RepoTags, err = docker.GetRepositoryTags(ctx, sys, ref); err != nil {
			return fmt.Errorf("list the repository's tags: %w", err)
		}
	}
	return printJSON(w, out)
}

// tagList is skopeo list-tags' output.
type tagList struct {
	Repository string `json:",omitempty"`
	Tags       []string
}

// listTags prints the tags of a registry's repository, or the names an
// archive made by docker save holds.
func listTags(ctx context.Context, sys *types.SystemContext, arg string, ref types.ImageReference, w io.Writer) error {
	switch ref.Transport().Name() {
	case "docker":
		named := ref.DockerReference()
		if n, err := reference.ParseNormalizedNamed(strings.TrimPrefix(arg, "docker://")); err != nil || !reference.IsNameOnly(n) {
			return cli.Usagef("%s: --tags takes a repository, without tag or digest", arg)
		}
		tags, err := docker.GetRepositoryTags(ctx, sys, ref)
		if err != nil {
			return fmt.Errorf("list the repository's tags: %w", err)
		}
		return printJSON(w, tagList{Repository: named.Name(), Tags: tags})
	case "docker-archive":
		path, _, _ := strings.Cut(ref.StringWithinTransport(), ":")
		r, err := archive.NewReader(sys, path)
		if err != nil {
			return err
		}
		defer r.Close()
		lists, err := r.List()
		if err != nil {
			return err
		}
		tags := []string{}
		for _, refs := range lists {
			for _, t := range refs {
				if named := t.DockerReference(); named != nil {
					tags = append(tags, named.String())
				}
			}
		}
		return printJSON(w, tagList{Tags: tags})
	}
	return cli.Usagef("--tags: %s: only docker:// and docker-archive: have tags to list", ref.Transport().Name())
}

// printJSON prints v as skopeo does: indented by four spaces, one newline.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
