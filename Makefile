# tupperware — build, test, bench. Everything runs as root on a Linux box
# with btrfs, loop devices and namespaces (see README.md).
SHELL := /bin/bash
GO ?= go
PREFIX ?= /usr/local
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# One static binary: no cgo, pure-Go openpgp, no containers/storage.
TAGS := containers_image_openpgp containers_image_storage_stub containers_image_docker_daemon_stub exclude_graphdriver_btrfs exclude_graphdriver_devicemapper
export CGO_ENABLED := 0
export PATH := /usr/local/go/bin:$(PATH)
GOBUILD := $(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION)'
BATS ?= bats
BATS_FILES ?= bats

.PHONY: all build test unit bats bench install lint deps demo demo-rootless clean

all: build

# bin/tw carries a second build of itself with every applet linked, which
# it runs for the image applets only; its own start stays fast (cmd/tw/split.go).
build:
	$(GOBUILD) -tags '$(TAGS)' -o cmd/tw/tw-full.bin ./cmd/tw
	$(GOBUILD) -tags '$(TAGS) twsplit' -o bin/tw ./cmd/tw
	bin/tw --install bin

unit:
	$(GO) vet -tags '$(TAGS)' ./...
	$(GO) test -tags '$(TAGS)' -count=1 ./...

bats: build
	$(BATS) --timing $(BATS_FILES)

test: deps build unit bats

bench: build
	bash scripts/bench.sh

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 bin/tw $(DESTDIR)$(PREFIX)/bin/tw
	$(DESTDIR)$(PREFIX)/bin/tw --install $(DESTDIR)$(PREFIX)/bin

lint:
	@out=$$(gofmt -l cmd applets); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet -tags '$(TAGS)' ./...
	shellcheck -S warning -x scripts/*.sh scripts/bench/*.sh bats/*.bash .ci/run

deps:
	bash scripts/deps.sh

demo: deps build
	bash scripts/tupperware.sh --demo --fresh

# The walkthrough as the ordinary user RUSER, in a loop btrfs root hands over.
demo-rootless: deps build
	@[ -n "$(RUSER)" ] || { echo "make demo-rootless RUSER=NAME: an existing ordinary user" >&2; exit 2; }
	bash scripts/rootless-store.sh "$(RUSER)" --demo

clean:
	rm -rf bin cmd/tw/tw-full.bin
