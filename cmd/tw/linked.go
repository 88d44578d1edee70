//go:build !twsplit

package main

import "github.com/tupperware/tw/applets/images"

// imageApplets are linked into this binary: a plain `go build ./cmd/tw`
// needs no generated file (see split.go for `make build`).
var imageApplets = images.All
