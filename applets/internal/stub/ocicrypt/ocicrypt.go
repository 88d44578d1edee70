// Package ocicrypt is a stub: tw neither encrypts nor decrypts layers.
package ocicrypt

import (
	"errors"
	"io"

	"github.com/containers/ocicrypt/config"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var errUnsupported = errors.New("encrypted layers are not supported")

type EncryptLayerFinalizer func() (map[string]string, error)

func EncryptLayer(ec *config.EncryptConfig, r io.Reader, desc ocispec.Descriptor) (io.Reader, EncryptLayerFinalizer, error) {
	return nil, nil, errUnsupported
}

func DecryptLayer(dc *config.DecryptConfig, r io.Reader, desc ocispec.Descriptor, unwrapOnly bool) (io.Reader, digest.Digest, error) {
	return nil, "", errUnsupported
}
