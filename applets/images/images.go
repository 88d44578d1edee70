// Package images lists the image applets, the ones that link
// go.podman.io/image and umoci. It is apart from package applets so that a
// tw binary can be built without them (see cmd/tw/split.go).
package images

import (
	"github.com/tupperware/tw/applets/internal/cli"

	"github.com/tupperware/tw/applets/commit"
	"github.com/tupperware/tw/applets/inspect"
	"github.com/tupperware/tw/applets/pull"
	"github.com/tupperware/tw/applets/unpack"
)

// All are the image applets, in the order of applets.Images.
var All = []cli.Applet{
	commit.Applet,
	inspect.Applet,
	pull.Applet,
	unpack.Applet,
}
