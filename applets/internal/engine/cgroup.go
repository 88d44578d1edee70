package engine

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tupperware/tw/applets/internal/cgroup"
)

// Cgroup is a container's cgroup, made and filled by the one cgroup
// manager that tw-limit uses too.
type Cgroup = cgroup.Container

// cgroupPath turns linux.cgroupsPath into a path below each hierarchy's
// root: "/default/ID" as it is, a relative one below "/", an empty one
// "/ID" as runc does, and with --systemd-cgroup "slice:prefix:name" the
// path systemd would give it (/slice/prefix-name.scope). No form reaches
// above the hierarchy's root: ".." is cleaned away, and systemd's names
// may not hold "/" or be "." or "..".
func cgroupPath(p, id string, systemd bool) (string, error) {
	if systemd {
		f := strings.Split(p, ":")
		if p == "" {
			f = []string{"", "runc", id} // runc's default
		}
		if len(f) != 3 {
			return "", fmt.Errorf("expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups, got %q instead", p)
		}
		slice := f[0]
		if slice == "" {
			slice = "system.slice"
		}
		if !strings.HasSuffix(slice, ".slice") || strings.Contains(slice, "/") || strings.HasPrefix(slice, "-") ||
			strings.Contains(slice, "--") || strings.HasSuffix(slice, "-.slice") {
			return "", fmt.Errorf("invalid slice name: %s", slice)
		}
		unit := f[2] + ".scope"
		if f[1] != "" {
			unit = f[1] + "-" + unit
		}
		if strings.Contains(unit, "/") || strings.HasPrefix(unit, ".") {
			return "", fmt.Errorf("cgroupsPath %q: invalid unit name %q", p, unit)
		}
		return "/" + filepath.Join(sliceDirs(slice), unit), nil
	}
	if p == "" {
		p = id
	}
	p = filepath.Clean("/" + p)
	if p == "/" {
		return "", fmt.Errorf("cgroupsPath %q: refusing the root cgroup", p)
	}
	return p, nil
}

// sliceDirs is systemd's nesting of a slice: a-b-c.slice lives in
// a.slice/a-b.slice/a-b-c.slice.
func sliceDirs(slice string) string {
	name := strings.TrimSuffix(slice, ".slice")
	parts := strings.Split(name, "-")
	dirs := make([]string, 0, len(parts))
	for i := range parts {
		dirs = append(dirs, strings.Join(parts[:i+1], "-")+".slice")
	}
	return filepath.Join(dirs...)
}

// ErrNoFreezer is the reason pause and resume fail without a freezer.
var ErrNoFreezer = cgroup.ErrNoFreezer
