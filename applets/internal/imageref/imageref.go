// Package imageref is what the image applets share about image names:
// TRANSPORT:REFERENCE for the transports tw speaks, and containers/image's
// errors made into tw's one lower-case line.
package imageref

import (
	"fmt"
	"strings"

	"go.podman.io/image/v5/transports"
	"go.podman.io/image/v5/types"

	// The transports tw speaks, and no others (no storage, no daemon).
	_ "go.podman.io/image/v5/directory"
	_ "go.podman.io/image/v5/docker"
	_ "go.podman.io/image/v5/docker/archive"
	_ "go.podman.io/image/v5/oci/archive"
	_ "go.podman.io/image/v5/oci/layout"
)

// Parse parses TRANSPORT:REFERENCE for the transports tw knows.
func Parse(s string) (types.ImageReference, error) {
	name, within, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("%s: expected TRANSPORT:REFERENCE", s)
	}
	t := transports.Get(name)
	if t == nil {
		return nil, fmt.Errorf("%s: unknown transport %q", s, name)
	}
	ref, err := t.ParseReference(within)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", s, LowerFirst(err.Error()))
	}
	return ref, nil
}

// Explain makes containers/image's long error chains into tw's one
// lower-case line.
func Explain(err error) string {
	return LowerFirst(strings.ReplaceAll(err.Error(), "\n", " "))
}

// LowerFirst lower-cases the first letter of s, unless it starts an
// acronym.
func LowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	if len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z' {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
