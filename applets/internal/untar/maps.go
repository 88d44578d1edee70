package untar

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/umoci/oci/layer"
)

// ParseMapping parses CONTAINER:HOST[:SIZE], umoci's --uid-map syntax.
func ParseMapping(s string) (rspec.LinuxIDMapping, error) {
	parts := strings.Split(s, ":")
	if len(parts) == 2 {
		parts = append(parts, "1")
	}
	if len(parts) != 3 {
		return rspec.LinuxIDMapping{}, fmt.Errorf("invalid mapping %q: want CONTAINER:HOST[:SIZE]", s)
	}
	var n [3]uint32
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return rspec.LinuxIDMapping{}, fmt.Errorf("invalid mapping %q: %q is not a number", s, p)
		}
		n[i] = uint32(v)
	}
	return rspec.LinuxIDMapping{ContainerID: n[0], HostID: n[1], Size: n[2]}, nil
}

// MapOptions builds umoci's map options from --rootless, --uid-map and
// --gid-map (tw-unpack's and tw-commit's): --rootless maps root to the
// caller unless told otherwise. Errors name the flag.
func MapOptions(rootless bool, uidMaps, gidMaps []string) (layer.MapOptions, error) {
	m := layer.MapOptions{Rootless: rootless}
	if rootless && len(uidMaps) == 0 {
		uidMaps = []string{fmt.Sprintf("0:%d:1", os.Geteuid())}
	}
	if rootless && len(gidMaps) == 0 {
		gidMaps = []string{fmt.Sprintf("0:%d:1", os.Getegid())}
	}
	for _, s := range uidMaps {
		idm, err := ParseMapping(s)
		if err != nil {
			return m, fmt.Errorf("--uid-map: %w", err)
		}
		m.UIDMappings = append(m.UIDMappings, idm)
	}
	for _, s := range gidMaps {
		idm, err := ParseMapping(s)
		if err != nil {
			return m, fmt.Errorf("--gid-map: %w", err)
		}
		m.GIDMappings = append(m.GIDMappings, idm)
	}
	return m, nil
}
