package commit

import (
	"github.com/opencontainers/umoci/oci/layer"
	"github.com/spf13/pflag"

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

// format is the on-disk format to read DIR as, with the maps; nil when no
// flag asks for one.
func (f *idFlags) format(overlayfs bool) (layer.OnDiskFormat, error) {
	if !f.rootless && len(f.uidMaps) == 0 && len(f.gidMaps) == 0 {
		return nil, nil
	}
	m, err := untar.MapOptions(f.rootless, f.uidMaps, f.gidMaps)
	if err != nil {
		return nil, cli.Usagef("%v", err)
	}
	if overlayfs {
		return layer.OverlayfsRootfs{MapOptions: m}, nil
	}
	return layer.DirRootfs{MapOptions: m}, nil
}
