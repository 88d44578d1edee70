package imageref

import (
	"errors"
	"fmt"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct{ in, transport, err string }{
		{"docker://127.0.0.1:5000/busybox:1", "docker", ""},
		{"docker://127.0.0.1:5000/busybox@sha256:" + fmt.Sprintf("%064x", 0), "docker", ""},
		{"oci-archive:/tmp/x.tar:tag", "oci-archive", ""},
		{"docker-archive:/tmp/x.tar", "docker-archive", ""},
		{"dir:/tmp/x", "dir", ""},
		{"busybox", "", "busybox: expected TRANSPORT:REFERENCE"},
		{"foo:bar", "", `foo:bar: unknown transport "foo"`},
		{"containers-storage:x", "", `containers-storage:x: unknown transport "containers-storage"`},
		{"docker://x/Y", "", "docker://x/Y: invalid reference format: repository name must be lowercase"},
	} {
		ref, err := Parse(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("Parse(%q) error = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || ref.Transport().Name() != c.transport {
			t.Errorf("Parse(%q) = %v, %v; want transport %s", c.in, ref, err, c.transport)
		}
	}
}

func TestExplain(t *testing.T) {
	for in, want := range map[string]string{
		"Source image rejected: x": "source image rejected: x",
		"OCI thing":                "OCI thing",
		"a\nb":                     "a b",
		"":                         "",
	} {
		if got := Explain(errors.New(in)); got != want {
			t.Errorf("Explain(%q) = %q, want %q", in, got, want)
		}
	}
}
