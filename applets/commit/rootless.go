package commit

import (
	"archive/tar"
	"fmt"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/umoci/oci/layer"
	rootlesscontainers "github.com/rootless-containers/proto/go-proto"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"

	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/untar"
)

// idFlags are tw-commit's --rootless, --uid-map and --gid-map, tw-unpack's
// (and umoci's) flags read the other way: a tree that tw-unpack --rootless
// wrote (owners in the user.rootlesscontainers xattr, files the user's)
// or wrote with --uid-map/--gid-map comes back with the image's owners.
type idFlags struct {
	rootless         bool
	uidMaps, gidMaps []string
}

func (f *idFlags) add(fs *pflag.FlagSet) {
	fs.BoolVar(&f.rootless, "rootless", false, "DIR was unpacked with tw-unpack --rootless: owners from the user.rootlesscontainers xattr, the caller's files as root's")
	fs.StringArrayVar(&f.uidMaps, "uid-map", nil, "map host uids back to container uids: `CONTAINER:HOST[:SIZE]` (repeatable)")
	fs.StringArrayVar(&f.gidMaps, "gid-map", nil, "map host gids back to container gids: `CONTAINER:HOST[:SIZE]` (repeatable)")
}

// maps are the id maps to read DIR with; nil when no flag asks for any.
func (f *idFlags) maps() (*layer.MapOptions, error) {
	if !f.rootless && len(f.uidMaps) == 0 && len(f.gidMaps) == 0 {
		return nil, nil
	}
	m, err := untar.MapOptions(f.rootless, f.uidMaps, f.gidMaps)
	if err != nil {
		return nil, cli.Usagef("%v", err)
	}
	return &m, nil
}

// owners gives hdr the owners the image has, as umoci's mapHeader does:
// host ids mapped back to the container's, or with --rootless root's
// unless the user.rootlesscontainers xattr records others (the xattr is
// a marker, never part of the layer). Without maps hdr is left alone.
func owners(hdr *tar.Header, m *layer.MapOptions) error {
	if m == nil {
		return nil
	}
	uid, gid := 0, 0
	if !m.Rootless {
		var err error
		if uid, err = toContainer(hdr.Uid, m.UIDMappings); err != nil {
			return fmt.Errorf("map uid to container: %w", err)
		}
		if gid, err = toContainer(hdr.Gid, m.GIDMappings); err != nil {
			return fmt.Errorf("map gid to container: %w", err)
		}
	}
	//nolint:staticcheck // Xattrs, as umoci writes them
	if v, ok := hdr.Xattrs[rootlesscontainers.Keyname]; ok && m.Rootless {
		var r rootlesscontainers.Resource
		if err := proto.Unmarshal([]byte(v), &r); err != nil {
			return fmt.Errorf("unmarshal rootlesscontainers payload: %w", err)
		}
		if r.GetUid() != rootlesscontainers.NoopID {
			uid = int(r.GetUid())
		}
		if r.GetGid() != rootlesscontainers.NoopID {
			gid = int(r.GetGid())
		}
		delete(hdr.Xattrs, rootlesscontainers.Keyname) //nolint:staticcheck // as above
	}
	hdr.Uid, hdr.Gid = uid, gid
	return nil
}

// toContainer maps a host id to a container id; no mappings map ids to
// themselves (untar.ToHost the other way).
func toContainer(id int, maps []rspec.LinuxIDMapping) (int, error) {
	if len(maps) == 0 {
		return id, nil
	}
	for _, m := range maps {
		if uint32(id) >= m.HostID && uint32(id) < m.HostID+m.Size {
			return int(m.ContainerID + (uint32(id) - m.HostID)), nil
		}
	}
	return -1, fmt.Errorf("host id %d is not mapped into the container", id)
}
