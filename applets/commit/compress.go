package commit

import (
	"fmt"

	ispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/opencontainers/umoci/oci/casext/blobcompress"
)

// compressions are tw-commit --compress's choices: the layer's compressor
// and its media type.
var compressions = map[string]struct {
	algo      blobcompress.Algorithm
	mediaType string
}{
	"gzip": {blobcompress.Gzip, ispec.MediaTypeImageLayerGzip},
	"zstd": {blobcompress.Zstd, ispec.MediaTypeImageLayerZstd},
	"none": {blobcompress.Noop, ispec.MediaTypeImageLayer},
}

// compression looks up --compress NAME.
func compression(name string) (blobcompress.Algorithm, string, error) {
	c, ok := compressions[name]
	if !ok {
		return nil, "", fmt.Errorf("--compress %q: want gzip, zstd or none", name)
	}
	return c.algo, c.mediaType, nil
}
