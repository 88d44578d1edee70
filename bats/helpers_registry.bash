# Helpers for the image tests (tw-commit, tw-pull): a real registry on
# 127.0.0.1, a fake one that answers 500, and checks on OCI layouts.
# Load after helpers: `load helpers; load helpers_registry`.
# shellcheck shell=bash

# free_port: a TCP port nobody listens on right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL [TRIES]: wait until URL answers at all (any status, any
# certificate).
wait_http() {
	local i
	for ((i = 0; i < ${2:-100}; i++)); do
		curl -sk -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.1
	done
	echo "wait_http: $1 never answered" >&2
	return 1
}

# start_registry [--as VAR] [--dir DIR] [--tls] [--htpasswd USER:PASSWORD]
# [USER:PASSWORD]: Debian's docker-registry on 127.0.0.1 and a free port,
# with its own config and storage in DIR (default: registry, or VAR in
# lower case, in $BATS_FILE_TMPDIR). --htpasswd (or a lone USER:PASSWORD)
# asks for htpasswd authentication; --tls serves HTTPS with a self-signed
# certificate for 127.0.0.1, also DIR/certs/ca.crt (for --*-cert-dir).
# Sets VAR (host:port, default REGISTRY), VAR_PORT and VAR_PID. Call from
# setup_file (or a test); stop_registry [VAR] stops it, in teardown_file
# (or teardown).
start_registry() {
	local var=REGISTRY dir='' tls='' user='' http='' auth='' port
	while [ $# -gt 0 ]; do
		case "$1" in
		--as) var=$2 && shift ;;
		--dir) dir=$2 && shift ;;
		--tls) tls=1 ;;
		--htpasswd) user=$2 && shift ;;
		*) user=$1 ;;
		esac
		shift
	done
	[ "$var" = REGISTRY ] || : "${dir:=${BATS_FILE_TMPDIR:-$BATS_TMPDIR}/${var,,}}"
	: "${dir:=${BATS_FILE_TMPDIR:-$BATS_TMPDIR}/registry}"
	mkdir -p "$dir/storage" "$dir/certs"
	if [ -n "$user" ]; then
		python3 -W ignore -c 'import crypt, sys; u, p = sys.argv[1].split(":", 1); print(u + ":" + crypt.crypt(p, crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$user" >"$dir/htpasswd"
		auth="auth:
  htpasswd:
    realm: tw-test
    path: $dir/htpasswd"
	fi
	if [ -n "$tls" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
			-addext subjectAltName=IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
		cp "$dir/cert.pem" "$dir/certs/ca.crt"
		http="  tls:
    certificate: $dir/cert.pem
    key: $dir/key.pem"
	fi
	port=$(free_port)
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
		  addr: 127.0.0.1:$port
		$http
		$auth
	CONF
	/usr/bin/docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 3>&- &
	printf -v "$var" %s "127.0.0.1:$port"
	printf -v "${var}_PORT" %s "$port"
	printf -v "${var}_PID" %s "$!"
	export "${var?}" "${var}_PORT" "${var}_PID"
	wait_http "http${tls:+s}://127.0.0.1:$port/v2/" || {
		cat "$dir/log" >&2
		stop_registry "$var"
		return 1
	}
}

# stop_registry [VAR]: stop the registry start_registry [--as VAR] started.
stop_registry() {
	local pid=${1:-REGISTRY}_PID
	if [ -n "${!pid:-}" ]; then
		kill "${!pid}" 2>/dev/null || true
		wait "${!pid}" 2>/dev/null || true
	fi
	printf -v "$pid" %s ''
}

# start_fake_registry STATUS | proxy UPSTREAM | token TOKEN UPSTREAM: a
# tiny HTTP server on 127.0.0.1 that either answers /v2/ with 200 and
# everything else with STATUS, or passes requests on to the registry
# UPSTREAM (host:port): as a proxy that trickles blobs back slowly (64 KiB
# every 0.2 s), so that a copy can be interrupted in the middle; or as a
# registry that wants "Authorization: Bearer TOKEN" on every request (its
# challenge names a Bearer realm that hands out no token). Sets FAKE
# (host:port), FAKE_PORT and FAKE_PID; stop_fake_registry stops it.
start_fake_registry() {
	FAKE_PORT=$(free_port)
	FAKE=127.0.0.1:$FAKE_PORT
	python3 - "$FAKE_PORT" "$@" >"${BATS_FILE_TMPDIR:-$BATS_TMPDIR}/fake.log" 2>&1 3>&- <<-'PY' &
		import http.server, sys, time, urllib.request, urllib.error
		port, mode, upstream = int(sys.argv[1]), sys.argv[2], sys.argv[-1]
		token = sys.argv[3] if mode == "token" else None
		here = "http://127.0.0.1:%d" % port
		class H(http.server.BaseHTTPRequestHandler):
		    protocol_version = "HTTP/1.1"
		    def send(self, status, headers, body, slow=False):
		        self.send_response(status)
		        length = str(len(body))
		        for k, v in headers:
		            if k.lower() == "content-length" and self.command == "HEAD":
		                length = v
		            elif k.lower() not in ("connection", "transfer-encoding", "date", "server", "content-length"):
		                self.send_header(k, v.replace("http://" + upstream, here))
		        self.send_header("Content-Length", length)
		        self.end_headers()
		        if self.command == "HEAD":
		            return
		        for i in range(0, len(body), 65536 if slow else len(body) or 1):
		            self.wfile.write(body[i:i + 65536] if slow else body)
		            self.wfile.flush()
		            if slow:
		                time.sleep(0.2)
		    def answer(self):
		        n = int(self.headers.get("Content-Length") or 0)
		        data = self.rfile.read(n) if n else None
		        if mode not in ("proxy", "token"):
		            if self.path.rstrip("/") == "/v2":
		                return self.send(200, [("Content-Type", "application/json")], b"{}")
		            body = b'{"errors":[{"code":"UNKNOWN","message":"boom"}]}'
		            return self.send(int(mode), [("Content-Type", "application/json")], body)
		        if token and self.headers.get("Authorization") != "Bearer " + token:
		            body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
		            return self.send(401, [("WWW-Authenticate", 'Bearer realm="%s/token",service="tw"' % here),
		                                   ("Content-Type", "application/json")], body)
		        drop = ("host", "authorization") if token else ("host",)
		        headers = {k: ", ".join(self.headers.get_all(k)) for k in set(self.headers.keys()) if k.lower() not in drop}
		        req = urllib.request.Request("http://" + upstream + self.path, data=data, method=self.command, headers=headers)
		        try:
		            r = urllib.request.urlopen(req)
		        except urllib.error.HTTPError as e:
		            r = e
		        body = r.read()
		        self.send(r.status if hasattr(r, "status") else r.code, r.headers.items(), body, mode == "proxy" and "/blobs/" in self.path)
		    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = answer
		    def log_message(self, *a):
		        pass
		http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
	PY
	FAKE_PID=$!
	export FAKE FAKE_PORT FAKE_PID
	wait_http "http://$FAKE/v2/" || {
		stop_fake_registry
		return 1
	}
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

# tree_state DIR: one line per path below DIR (sorted): type, mode with
# setuid/setgid/sticky bits, uid, gid, size of regular files, symlink
# target, device numbers, mtime in seconds, hardlink group (the first path
# of the same inode) and xattrs: what an image must carry over.
tree_state() {
	python3 - "$1" <<-'PY'
		import os, stat, sys
		root = sys.argv[1]
		seen = {}
		paths = []
		for d, dirs, files in os.walk(root):
		    dirs.sort()
		    for n in sorted(dirs + files):
		        paths.append(os.path.join(d, n))
		for p in sorted(paths):
		    st = os.lstat(p)
		    rel = os.path.relpath(p, root)
		    kind = stat.S_IFMT(st.st_mode)
		    f = [rel, "%o" % kind, "%04o" % stat.S_IMODE(st.st_mode), str(st.st_uid), str(st.st_gid)]
		    f.append(str(st.st_size) if stat.S_ISREG(kind) else "-")
		    f.append(os.readlink(p) if stat.S_ISLNK(kind) else "-")
		    f.append("%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)) if stat.S_ISCHR(kind) or stat.S_ISBLK(kind) else "-")
		    f.append(str(int(st.st_mtime)))
		    link = "-"
		    if not stat.S_ISDIR(kind) and st.st_nlink > 1:
		        link = seen.setdefault((st.st_dev, st.st_ino), rel)
		    f.append(link)
		    xs = [] if stat.S_ISLNK(kind) else sorted(x for x in os.listxattr(p, follow_symlinks=False) if not x.startswith("security."))
		    f.append(",".join("%s=%s" % (x, os.getxattr(p, x, follow_symlinks=False).decode(errors="replace")) for x in xs) or "-")
		    print(" ".join(f))
	PY
}

# special_tree DIR: a tree with everything a layer must keep: a setuid
# and a setgid file, a hardlink pair, symlinks (relative, absolute,
# dangling), character and block devices, a fifo, a sticky directory,
# other owners, an xattr and an old mtime.
special_tree() {
	local d=$1
	mkdir -p "$d/bin" "$d/dev" "$d/etc" "$d/tmp" "$d/home/user" "$d/empty"
	cp /bin/busybox "$d/bin/busybox"
	ln "$d/bin/busybox" "$d/bin/sh"
	ln -s busybox "$d/bin/ls"
	ln -s /bin/busybox "$d/bin/cat"
	ln -s /nowhere "$d/bin/dangling"
	echo secret >"$d/bin/suid"
	chmod 4755 "$d/bin/suid"
	echo group >"$d/bin/sgid"
	chmod 2711 "$d/bin/sgid"
	mknod "$d/dev/null" c 1 3
	mknod "$d/dev/loop9" b 7 9
	mkfifo "$d/dev/fifo"
	chmod 1777 "$d/tmp"
	echo hello >"$d/home/user/file"
	chown -R 1000:1000 "$d/home/user"
	chmod 0600 "$d/home/user/file"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$d/etc/passwd"
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.tw", b"kept")' "$d/etc/passwd"
	touch -h -d '2001-02-03 04:05:06' "$d/etc/passwd" "$d/bin/ls" "$d/empty" "$d/home/user"
}

# pull_bad STATUS MESSAGE ARGS… (the last two are SRC DST), in the test's
# directory: tw-pull -q fails with STATUS and the one-line MESSAGE (and the
# hint after a usage error); the layout ./existing (tagged old, made from
# the tree $EXISTING_TREE when missing) is as it was and still valid, and
# no staging directory of tw-pull is left.
pull_bad() {
	local status=$1 msg=$2 before
	shift 2
	[ -d existing ] || tw-commit -q "${EXISTING_TREE:?}" existing:old >/dev/null
	before=$(layout_state existing)
	run tw-pull -q "$@"
	assert_failure "$status"
	assert_line --index 0 "$msg"
	# shellcheck disable=SC2154 # lines: from bats run
	[ "${#lines[@]}" = "$((status == 2 ? 2 : 1))" ]
	[ "$(layout_state existing)" = "$before" ]
	layout_ok existing:old
	[ -z "$(find . -name '.*tw-pull*')" ]
}
