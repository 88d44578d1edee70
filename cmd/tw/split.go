//go:build twsplit

// The split build (`make build`, tag twsplit): tw stays one file, but the
// image applets run in a second program that tw carries inside.
//
// Why: Go runs the init of every linked package before main. The image
// applets link go.podman.io/image and umoci, ~190 packages (regexps,
// sigstore, openpgp, protobuf…) whose init takes several milliseconds, and
// every tw start would pay them: the chainloaders most, as each link of the
// one-line container (tw-unshare starts its child from /proc/self/exe) is a
// start of tw. So this binary links only applets.Core, and for the image
// applets stubs with the same names and summaries (tw --list, --install and
// chain lookups see no difference).
//
// How: the Makefile first builds cmd/tw without the tag, every applet
// linked, into tw-full.bin (gitignored), then this binary with the tag,
// embedding it. A stub copies it into a sealed memfd and executes that as
// tw-NAME with the same arguments, environment and standard streams, so the
// same dispatcher and applet code run there, with the same messages and
// exit codes. The copy of ~17 MB into the memfd costs ~9 ms (~15 ms per
// image command in all), against ~7 ms saved at every start of a container;
// compressing it would only add the time to inflate it.
package main

import (
	_ "embed"

	"github.com/tupperware/tw/applets"
)

//go:embed tw-full.bin
var full []byte

var imageApplets = applets.Embedded(full, applets.Images)
