// Package spec names the media types of encrypted OCI layers, the only part
// of ocicrypt's spec package that go.podman.io/image refers to. tw copies
// such layers as they are and never encrypts or decrypts one.
package spec

// The OCI image spec's layer media types with "+encrypted" appended, as
// ocicrypt defines them.
const (
	MediaTypeLayerEnc     = "application/vnd.oci.image.layer.v1.tar+encrypted"
	MediaTypeLayerGzipEnc = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted"
	MediaTypeLayerZstdEnc = "application/vnd.oci.image.layer.v1.tar+zstd+encrypted"

	MediaTypeLayerNonDistributableEnc     = "application/vnd.oci.image.layer.nondistributable.v1.tar+encrypted"
	MediaTypeLayerNonDistributableGzipEnc = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip+encrypted"
	MediaTypeLayerNonDistributableZstdEnc = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd+encrypted"
)
