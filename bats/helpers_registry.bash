# Helpers for the image tests (tw-commit, tw-pull): a real registry on
# 127.0.0.1, a fake one that answers 500, and checks on OCI layouts.
# Load after helpers: `load helpers; load helpers_registry`.
# shellcheck shell=bash

# free_port: a TCP port nobody listens on right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL [TRIES]: wait until URL answers at all (any status).
wait_http() {
	local i
	for ((i = 0; i < ${2:-100}; i++)); do
		curl -s -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.1
	done
	echo "wait_http: $1 never answered" >&2
	return 1
}

# start_registry: Debian's docker-registry on 127.0.0.1 and a free port,
# with its own config and storage. Sets REGISTRY (host:port) and
# REGISTRY_PID. Call from setup_file; stop_registry in teardown_file.
start_registry() {
	local dir=${BATS_FILE_TMPDIR:-$BATS_TMPDIR}/registry
	mkdir -p "$dir/storage"
	REGISTRY_PORT=$(free_port)
	REGISTRY=127.0.0.1:$REGISTRY_PORT
	cat >"$dir/config.yml" <<-CONF
		version: 0.1
		log:
		  level: error
		  accesslog:
		    disabled: true
		storage:
		  filesystem:
		    rootdirectory: $dir/storage
		  delete:
		    enabled: true
		http:
		  addr: $REGISTRY
	CONF
	/usr/bin/docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
	REGISTRY_PID=$!
	export REGISTRY REGISTRY_PORT REGISTRY_PID
	wait_http "http://$REGISTRY/v2/"
}

stop_registry() {
	if [ -n "${REGISTRY_PID:-}" ]; then
		kill "$REGISTRY_PID" 2>/dev/null || true
		wait "$REGISTRY_PID" 2>/dev/null || true
	fi
	REGISTRY_PID=''
}

# start_fake_registry STATUS: a tiny HTTP server on 127.0.0.1 that answers
# every request with STATUS. Sets FAKE (host:port) and FAKE_PID.
start_fake_registry() {
	FAKE_PORT=$(free_port)
	FAKE=127.0.0.1:$FAKE_PORT
	python3 - "$FAKE_PORT" "$1" <<-'PY' &
		import http.server, sys
		port, status = int(sys.argv[1]), int(sys.argv[2])
		class H(http.server.BaseHTTPRequestHandler):
		    def answer(self):
		        body = b'{"errors":[{"code":"UNKNOWN","message":"boom"}]}'
		        self.send_response(status)
		        self.send_header("Content-Type", "application/json")
		        self.send_header("Content-Length", str(len(body)))
		        self.end_headers()
		        if self.command != "HEAD":
		            self.wfile.write(body)
		    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = answer
		    def log_message(self, *a):
		        pass
		http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
	PY
	FAKE_PID=$!
	export FAKE FAKE_PORT FAKE_PID
	wait_http "http://$FAKE/v2/"
}

stop_fake_registry() {
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
	FAKE_PID=''
}

# layout_state DIR: what a layout holds (index.json and every blob's name
# and checksum), to compare before and after a command that must not
# damage it.
layout_state() {
	cat "$1/index.json"
	echo
	(cd "$1" && find . -type f ! -name index.json -print0 | sort -z | xargs -0r sha256sum)
}

# layout_ok DIR[:TAG]: the layout is valid in umoci's eyes (and the tag
# resolves, when given).
layout_ok() {
	local dir=${1%%:*} tag=''
	[ "$dir" != "$1" ] && tag=${1#*:}
	[ -f "$dir/oci-layout" ] && [ -f "$dir/index.json" ] || return 1
	jq -e . "$dir/index.json" >/dev/null || return 1
	if [ -n "$tag" ]; then
		umoci stat --image "$dir:$tag" >/dev/null || return 1
	fi
}

# image_digests DIR TAG: the manifest, config and layer digests of TAG.
image_digests() {
	local m
	m=$(jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$1/index.json")
	echo "manifest $m"
	jq -r '"config " + .config.digest, (.layers[] | "layer " + .digest)' "$1/blobs/${m%%:*}/${m#*:}"
}
