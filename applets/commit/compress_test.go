package commit

import (
	"bytes"
	"io"
	"testing"
)

func TestCompression(t *testing.T) {
	for name, mt := range map[string]string{
		"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
		"zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
		"none": "application/vnd.oci.image.layer.v1.tar",
	} {
		algo, got, err := compression(name)
		if err != nil || got != mt {
			t.Errorf("compression(%q) = %q, %v; want %q", name, got, err, mt)
			continue
		}
		// what it compresses, its own decompressor gives back
		z, err := algo.Compress(bytes.NewReader([]byte("layer data")))
		if err != nil {
			t.Fatal(err)
		}
		packed, err := io.ReadAll(z)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := algo.Decompress(bytes.NewReader(packed))
		if err != nil {
			t.Fatal(err)
		}
		if back, err := io.ReadAll(plain); err != nil || string(back) != "layer data" {
			t.Errorf("%s: round trip = %q, %v", name, back, err)
		}
	}
	for _, bad := range []string{"", "xz", "Zstd", "zstd:chunked"} {
		if _, _, err := compression(bad); err == nil || err.Error() != `--compress "`+bad+`": want gzip, zstd or none` {
			t.Errorf("compression(%q) error = %v", bad, err)
		}
	}
}
