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
LDFLAGS := -s -w -X main.version=$(VERSION)
GOBUILD := $(GO) build -trimpath -ldflags '$(LDFLAGS)'
BATS ?= bats
BATS_FILES ?= bats

.PHONY: all build test unit bats bench install man completion lint deps demo demo-rootless clean fuzz fuzz-short

all: build

# bin/tw carries a second build of itself with every applet linked, which
# it runs for the image applets only; its own start stays fast (cmd/tw/split.go).
# bin/tw is a copy of what the linker wrote, made as `make install` makes
# one (tw --install --copy, cmd/tw/copy.go): its segments start on 2 MiB
# boundaries (-R), and it is written 2 MiB at a time, so that the page cache
# holds its text and read-only data on huge pages (make bench measures tw as
# installed). A start of the file as the linker left it (written through
# mmap, in 4 KiB pages) took 0.4 ms longer than of a copy.
build:
	$(GOBUILD) -tags '$(TAGS)' -o cmd/tw/tw-full.bin ./cmd/tw
	$(GO) build -trimpath -ldflags '$(LDFLAGS) -R 0x200000' -tags '$(TAGS) twsplit' -o bin/tw.link ./cmd/tw
	bin/tw.link --install --copy bin && rm -f bin/tw.link

unit:
	$(GO) vet -tags '$(TAGS)' ./...
	$(GO) test -tags '$(TAGS)' -count=1 ./...

# Go fuzz targets of the extractor (tw-unpack's security boundary) and its
# path resolver: a few seconds each in `make test`, FUZZTIME each in `make fuzz`.
# `make test` counts inputs (Nx), not seconds: go1.26's coordinator can fail a
# target with "context deadline exceeded" when a -fuzztime deadline races a
# worker on a loaded machine (go.dev/issue/75804, fixed in go1.27).
FUZZ_PKG := ./applets/internal/untar
FUZZ_TARGETS := FuzzExtract FuzzExtractRaw FuzzResolve
FUZZ_SHORT := FuzzExtract=4000x FuzzExtractRaw=4000x FuzzResolve=200000x
FUZZTIME ?= 10m
fuzz-short:
	@for t in $(FUZZ_SHORT); do $(GO) test -tags '$(TAGS)' -run '^$$' -fuzz "^$${t%%=*}\$$" -fuzztime $${t#*=} $(FUZZ_PKG) || exit 1; done

fuzz:
	@for f in $(FUZZ_TARGETS); do $(GO) test -tags '$(TAGS)' -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $(FUZZ_PKG) || exit 1; done

bats: build
	$(BATS) --timing $(BATS_FILES)

test: deps build unit fuzz-short bats

bench: build
	bash scripts/bench.sh

# Man pages and completion, made from the applets' own --help (cmd/tw/doc.go).
man: build
	rm -rf bin/man1
	bin/tw --man bin/man1

completion: build
	bin/tw --completion bash >bin/tw.bash
	bin/tw --completion zsh >bin/_tw

# bash-completion loads completions/NAME when NAME is first completed:
# one file for tw, a link to it for each tw-NAME.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions

install: build man completion
	bin/tw --install --copy $(DESTDIR)$(PREFIX)/bin
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 bin/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0644 bin/tw.bash $(DESTDIR)$(BASHCOMPDIR)/tw
	for a in $$(bin/tw --list); do ln -sf tw $(DESTDIR)$(BASHCOMPDIR)/$$a; done
	install -m 0644 bin/_tw $(DESTDIR)$(ZSHCOMPDIR)/_tw

# Both build configurations: every applet linked, and the split core
# (twsplit), which embeds the first and so needs it built; and arm64, whose
# assembly and stand-ins (os/signal, a real fork) no test here runs.
lint: build
	@out=$$(gofmt -l cmd applets); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet -tags '$(TAGS)' ./...
	$(GO) vet -tags '$(TAGS) twsplit' ./cmd/tw
	GOARCH=arm64 $(GO) vet -tags '$(TAGS)' ./...
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
