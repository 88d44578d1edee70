#!/usr/bin/env bats
# tw-runc as an ordinary user, as rootless runc 1.1 runs: a bundle from
# `tw-unpack --rootless` (a user namespace mapping the user's own ids, no
# network namespace) and one unpacked inside `tw-unshare --map-auto -r`
# (subordinate ranges, mapped through newuidmap/newgidmap), each run by
# tw-runc and by runc (the oracle) as the same throwaway user, with the
# state under $XDG_RUNTIME_DIR; bad input refused before anything is left
# behind (no state, no mounts, no cgroups).
load helpers
load helpers_rootless

setup_file() {
	rootless_setup_file
	requires jq runc
	local t=$RDIR/tree
	busybox_rootfs "$t"
	mkdir -p "$t/home/alice"
	echo secret >"$t/home/alice/secret"
	chmod 600 "$t/home/alice/secret"
	chmod 700 "$t/home/alice"
	chown -R 1000:1000 "$t/home/alice"
	echo 'root:*:1::::::' >"$t/etc/shadow"
	chown 0:42 "$t/etc/shadow"
	chmod 640 "$t/etc/shadow"
	SOURCE_DATE_EPOCH=0 tw-commit -q "$t" "$RDIR/layout:mo" >/dev/null
	chmod -R a+rX "$RDIR/layout"
	SUB=$(grep "^$RUSER:" /etc/subuid | cut -d: -f2)
	SUBG=$(grep "^$RUSER:" /etc/subgid | cut -d: -f2)
	export SUB SUBG
	# the bundles, made once by the user: --rootless, and in its ranges
	B1=$RDIR/home/b1 B2=$RDIR/home/b2
	export B1 B2
	as_user tw-unpack --rootless --image "$RDIR/layout:mo" "$B1" 2>/dev/null
	as_user mkdir -p "$B2/rootfs"
	as_user tw-unshare --map-auto -r tw-unpack --image "$RDIR/layout:mo" --rootfs-only "$B2/rootfs" 2>/dev/null
	jq --argjson u "$RUID" --argjson g "$RGID" --argjson s "$SUB" --argjson sg "$SUBG" \
		'.linux.uidMappings = [{containerID: 0, hostID: $u, size: 1}, {containerID: 1, hostID: $s, size: 65535}]
		| .linux.gidMappings = [{containerID: 0, hostID: $g, size: 1}, {containerID: 1, hostID: $sg, size: 65535}]' \
		"$B1/config.json" | as_user tee "$B2/config.json" >/dev/null
	as_user cp "$B1/config.json" "$RDIR/home/b1.json"
	as_user cp "$B2/config.json" "$RDIR/home/b2.json"
}

teardown_file() {
	rootless_teardown_file
}

setup() {
	requires jq runc
	XDG=$RDIR/home/run$BATS_TEST_NUMBER
	as_user mkdir -m 700 "$XDG"
	cd "$RDIR/home" || return
	as_user cp b1.json "$B1/config.json"
	as_user cp b2.json "$B2/config.json"
	CID=c$$_$BATS_TEST_NUMBER
}

teardown() {
	local rt id
	[ -z "${HOLDER:-}" ] || kill -KILL "$HOLDER" 2>/dev/null || true
	for rt in runc tw-runc; do
		for id in "$XDG/$rt"/*; do
			[ ! -e "$id" ] || ur "$rt" delete --force "$(basename "$id")" >/dev/null 2>&1 || true
		done
	done
	# the delegated cgroups of the test that made them
	for id in /sys/fs/cgroup/*/tw66d$$_* /sys/fs/cgroup/tw66d$$_*; do
		[ ! -d "$id" ] || find "$id" -depth -type d -exec rmdir {} +
	done
}

# ur CMD…: CMD as the user, with its XDG_RUNTIME_DIR.
ur() {
	as_user env XDG_RUNTIME_DIR="$XDG" "$@"
}

# urd CMD…: ur for the commands that leave a container running (create,
# exec -d): its stdio are files, so that bats' run does not wait for it.
urd() {
	ur "$@" </dev/null >"$BATS_TEST_TMPDIR/c.out" 2>"$BATS_TEST_TMPDIR/c.err" 3>&-
}

# args BUNDLE PROG…: the bundle's program, without a terminal.
args() {
	local b=$1 json a
	shift
	json=$(for a in "$@"; do printf '%s' "$a" | jq -Rs .; done | jq -s .)
	jq ".process.terminal = false | .process.args = $json" "$b/config.json" | as_user tee "$b/config.json.new" >/dev/null
	as_user mv "$b/config.json.new" "$b/config.json"
}

# edit BUNDLE JQ [JQ-ARGS…]: edit the bundle's config.
edit() {
	jq "${@:3}" "$2" "$1/config.json" | as_user tee "$1/config.json.new" >/dev/null
	as_user mv "$1/config.json.new" "$1/config.json"
}

# nothing_left ID: no state of ID under either runtime's root, no cgroup
# of ID, no mount below RDIR.
nothing_left() {
	local d
	for d in "$XDG/tw-runc/$1" "$XDG/runc/$1" /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
		[ ! -e "$d" ] || { echo "$d left" >&2; return 1; }
	done
	! awk '{ print $5 }' /proc/self/mountinfo | grep -F "$RDIR/" >&2 || { echo "mounts left below $RDIR" >&2; return 1; }
}

# step CMD…: CMD, and its status when it fails (not failing the test).
step() {
	local rc=0
	"$@" || rc=$?
	[ "$rc" -eq 0 ] || echo "rc $rc"
}

# both ID: `run` of the bundle's program by runc and by tw-runc as the user;
# both must agree on status and output.
both() {
	run ur runc run -b "$BUNDLE" "r$1" </dev/null
	rc_runc=$status out_runc=$output
	run ur tw-runc run -b "$BUNDLE" "t$1" </dev/null
	assert_equal "$status" "$rc_runc"
	assert_equal "$output" "$out_runc"
	nothing_left "r$1"
	nothing_left "t$1"
}

probe='id; hostname; stat -c "%n %u:%g %a" /home/alice /etc/shadow /bin/busybox; cat /proc/self/uid_map /proc/self/gid_map; grep -E "^(Cap|NoNewPrivs|Groups)" /proc/self/status; stat -c "%n %t:%T %U:%G" /dev/null /dev/tty /dev/urandom; readlink /proc/self/ns/net; mount | wc -l'

@test "run as a user: root inside, the user outside, the image's owners in its xattr (all root's inside), as runc" {
	BUNDLE=$B1
	args "$B1" sh -c "$probe"
	both "$CID"
	assert_line --index 0 'uid=0(root) gid=0(root) groups=0(root)'
	assert_line --index 1 umoci-default
	assert_line --index 2 '/home/alice 0:0 700'
	assert_line --index 3 '/etc/shadow 0:0 640'
	assert_line --regexp "^ +0 +$RUID +1\$"
	# the host's device nodes are bound in, as mknod is not allowed
	assert_line '/dev/null 1:3 nobody:nogroup'
	# the network namespace is the host's (tw-unpack --rootless drops it)
	assert_line "$(readlink /proc/self/ns/net)"
	# the state directory is under $XDG_RUNTIME_DIR, 0700 and sticky, as runc's
	assert_equal "$(stat -c '%U %a' "$XDG/tw-runc")" "$RUSER 1700"
	assert_equal "$(stat -c '%U %a' "$XDG/runc")" "$RUSER 1700"
}

@test "run as a user: subordinate ranges through newuidmap/newgidmap, the image's owners right inside, as runc" {
	BUNDLE=$B2
	args "$B2" sh -c "$probe"
	both "$CID"
	assert_line --index 2 '/home/alice 1000:1000 700'
	assert_line --index 3 '/etc/shadow 0:42 640'
	assert_line --regexp "^ +1 +$SUB +65535\$"
	# as a user of the image: what is theirs, and no more
	args "$B2" sh -c 'cat /home/alice/secret; id; cat /etc/shadow'
	edit "$B2" '.process.user = {uid: 1000, gid: 1000}'
	both "u$CID"
	assert_line --index 0 secret
	assert_line --index 1 'uid=1000 gid=1000 groups=0(root)'
	assert_line --partial 'Permission denied'
}

@test "run with a terminal (tw-unpack's default) as a user: a devpts of the container's own, as runc" {
	requires script
	edit "$B1" '.process.args = ["sh", "-c", "tty; id; stat -c \"%U:%G %a %t:%T\" $(tty)"]'
	# as_user, for script's sh
	local u="setpriv --reuid=$RUSER --regid=$RUSER --init-groups env -i PATH=$TW_BIN:/usr/bin:/bin:/usr/sbin:/sbin HOME=$RDIR/home XDG_RUNTIME_DIR=$XDG"
	run -0 timeout 20 script -qec "$u runc run -b $B1 r$CID" /dev/null </dev/null
	out_runc=$output
	run -0 timeout 20 script -qec "$u tw-runc run -b $B1 t$CID" /dev/null </dev/null
	assert_equal "$output" "$out_runc"
	assert_line --partial '/dev/pts/0'
	assert_line --partial 'root:root 620 88:0'
	nothing_left "r$CID"
	nothing_left "t$CID"
}

@test "runc spec --rootless's own config (/sys bound, /sys/fs/cgroup of the runtime's cgroups: none of its own) runs as with runc" {
	BUNDLE=$RDIR/home/spec$BATS_TEST_NUMBER
	as_user mkdir "$BUNDLE"
	(cd "$BUNDLE" && as_user runc spec --rootless)
	edit "$BUNDLE" '.root.path = $r' --arg r "$B1/rootfs"
	args "$BUNDLE" sh -c 'id; ls /sys/fs/cgroup; cat /proc/self/cgroup; mount | grep -c cgroup; grep ^Cap /proc/self/status'
	both "$CID"
	assert_line --index 0 'uid=0(root) gid=0(root) groups=0(root)'
	assert_line memory
	# and with a cgroup namespace (tw-unpack's), the hierarchies are mounted anew
	args "$B1" sh -c 'ls /sys/fs/cgroup; cat /proc/self/cgroup; mount | grep -c cgroup'
	edit "$B1" '.mounts += [{destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "ro"]}]'
	BUNDLE=$B1
	both "n$CID"
	assert_line memory
}

@test "a user namespace the user owns, joined by path: the container's namespaces made in it, as rootless runc 1.1.5 runs it" {
	as_user unshare --user --map-root-user sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	local u
	for _ in $(seq 50); do
		u=$(pgrep -n -u "$RUSER" -x sleep) && [ "$(readlink "/proc/$u/ns/user")" != "$(readlink /proc/self/ns/user)" ] && break
		sleep 0.1
	done
	HOLDER=$u
	BUNDLE=$B1
	args "$B1" sh -c "$probe; readlink /proc/self/ns/user; cat /proc/self/setgroups"
	edit "$B1" '.linux.namespaces = [.linux.namespaces[] | select(.type != "user")] + [{type: "user", path: "/proc/\($u)/ns/user"}]' --arg u "$u"
	both "$CID"
	assert_line --index 0 --partial 'uid=0(root) gid=0(root)'
	assert_line --regexp "^ +0 +$RUID +1\$"
	assert_line "$(readlink "/proc/$u/ns/user")"
	# the user's namespace denies setgroups
	assert_line deny
}

@test "tw-runc spec --rootless as a user: runc's config (its ids mapped; but the spec version), and it runs as runc's" {
	local r=$RDIR/home/rspec$BATS_TEST_NUMBER t=$RDIR/home/tspec$BATS_TEST_NUMBER
	as_user mkdir "$r" "$t"
	(cd "$r" && as_user runc spec --rootless)
	run -0 ur tw-runc spec --rootless -b "$t"
	assert_output ''
	# ociVersion differs on purpose: the spec version each implements
	assert_equal "$(jq -S 'del(.ociVersion)' "$t/config.json")" "$(jq -S 'del(.ociVersion)' "$r/config.json")"
	assert_equal "$(jq -c '[.linux.uidMappings, .linux.gidMappings]' "$t/config.json")" \
		"[[{\"containerID\":0,\"hostID\":$RUID,\"size\":1}],[{\"containerID\":0,\"hostID\":$RGID,\"size\":1}]]"
	assert_equal "$(stat -c %U "$t/config.json")" "$RUSER"
	run -1 --separate-stderr ur tw-runc spec --rootless -b "$t"
	assert_equal "$stderr" 'tw-runc: File config.json exists. Remove it first'
	# the busybox root of the image, and the probe: both runtimes agree
	BUNDLE=$t
	edit "$t" '.root.path = $r' --arg r "$B1/rootfs"
	args "$t" sh -c "$probe"
	both "$CID"
	assert_line --index 0 'uid=0(root) gid=0(root) groups=0(root)'
	assert_line --index 1 runc
	assert_line --regexp "^ +0 +$RUID +1\$"
}

@test "create, start, state, exec, kill, delete, list under the user's root, as runc" {
	local rt id tr
	for b in "$B1" "$B2"; do
		args "$b" sleep 1000
		for rt in runc tw-runc; do
			id=$rt$CID
			tr=$BATS_TEST_TMPDIR/$rt.$(basename "$b")
			{
				step urd "$rt" create -b "$b" "$id" ; echo "create done"
				step ur "$rt" state "$id" | jq -r .status
				step ur "$rt" list -q
				step ur "$rt" start "$id" ; echo "start done"
				step ur "$rt" state "$id" | jq -r .status
				step ur "$rt" exec "$id" sh -c 'id; echo "$(tr "\0" " " </proc/1/cmdline)"; ls -ln /home/alice 2>/dev/null; echo "ls $?"' </dev/null
				# b1 maps one id only: no user 1000 there
				if [ "$b" = "$B2" ]; then
					step ur "$rt" exec --user 1000:1000 "$id" cat /home/alice/secret </dev/null
				fi
				step ur "$rt" kill "$id" KILL ; echo "kill done"
				for _ in $(seq 100); do [ "$(ur "$rt" state "$id" | jq -r .status)" = stopped ] && break; sleep 0.05; done
				step ur "$rt" state "$id" | jq -r .status
				step ur "$rt" delete "$id" ; echo "delete done"
				step ur "$rt" list -q
				ur "$rt" state "$id" >/dev/null 2>&1 || echo "state after delete: rc $?"
			} >"$tr" 2>&1
			sed -i "s/$id/ID/g" "$tr"
			nothing_left "$id"
		done
		cat "$BATS_TEST_TMPDIR/tw-runc.$(basename "$b")"
		# the transcripts agree
		run diff "$BATS_TEST_TMPDIR/runc.$(basename "$b")" "$BATS_TEST_TMPDIR/tw-runc.$(basename "$b")"
		assert_success
	done
	# in b2 the owners are right inside: alice's files are alice's (root
	# of the container has no CAP_DAC_OVERRIDE), in b1 they are root's
	run cat "$BATS_TEST_TMPDIR/tw-runc.b2"
	assert_output "$(printf '%s\n' 'create done' created ID 'start done' running 'uid=0(root) gid=0(root) groups=0(root)' \
		'sleep 1000 ' \
		'total 0' 'ls 1' secret 'kill done' stopped 'delete done' \
		'state after delete: rc 1')"
}

@test "exec -d -t --console-socket as a user: the terminal's master through the socket, as runc" {
	requires python3
	# the console socket's end, the user's: take the master, print what comes
	console_receiver | as_user tee "$RDIR/home/recv.py" >/dev/null
	local b rt sock pid
	for b in "$B1" "$B2"; do
		args "$b" sleep 1000
		for rt in runc tw-runc; do
			sock=$RDIR/home/$rt$BATS_TEST_NUMBER.sock
			run -0 urd "$rt" run -d -b "$b" "$rt$CID"
			as_user python3 "$RDIR/home/recv.py" "$sock" >"$BATS_TEST_TMPDIR/$rt.tty" 2>&1 </dev/null 3>&- &
			pid=$!
			for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
			# runc takes a console socket only with --detach
			run -0 urd "$rt" exec -d -t --console-socket "$sock" "$rt$CID" \
				sh -c 'tty; id; stat -c "%U:%G %a %t" $(tty); cat /proc/self/uid_map'
			wait "$pid"
			rm -f "$sock"
			run -0 ur "$rt" delete --force "$rt$CID"
			nothing_left "$rt$CID"
		done
		cat "$BATS_TEST_TMPDIR/tw-runc.tty"
		assert_equal "$(cat "$BATS_TEST_TMPDIR/tw-runc.tty")" "$(cat "$BATS_TEST_TMPDIR/runc.tty")"
		run cat "$BATS_TEST_TMPDIR/tw-runc.tty"
		assert_line --index 0 /dev/pts/0
		assert_line --index 1 'uid=0(root) gid=0(root) groups=0(root)'
		assert_line --index 2 'root:root 620 88'
		assert_line --regexp "^ +0 +$RUID +1\$"
	done
	# and without a socket to take it: refused, as runc, the container untouched
	args "$B1" sleep 1000
	run -0 urd tw-runc run -d -b "$B1" "t$CID"
	run -1 --separate-stderr ur tw-runc exec -d -t --console-socket "$RDIR/home/nosock" "t$CID" true
	[[ "$stderr" == "tw-runc: "*"nosock"*": no such file or directory" ]] || fail "$stderr"
	run -0 urd runc run -d -b "$B1" "r$CID"
	run ur runc exec -d -t --console-socket "$RDIR/home/nosock" "r$CID" true
	[ "$status" != 0 ]
	assert_output --partial 'no such file or directory'
	for rt in runc tw-runc; do
		id=${rt:0:1}$CID
		[ "$(ur "$rt" state "$id" | jq -r .status)" = running ]
		run -0 ur "$rt" delete --force "$id"
		nothing_left "$id"
	done
}

@test "without a cgroup: ps, pause and kill --all fail as with runc; kill --all KILL kills the pid namespace (runc fails it)" {
	local rt
	args "$B2" sh -c 'sleep 1000 & exec sleep 1000'
	for rt in runc tw-runc; do
		run -0 urd "$rt" run -d -b "$B2" "$rt$CID"
		run -1 ur "$rt" ps "$rt$CID"
		run -1 ur "$rt" pause "$rt$CID"
		run -1 ur "$rt" kill --all "$rt$CID" TERM
		[ "$(ur "$rt" state "$rt$CID" | jq -r .status)" = running ]
	done
	run -1 --separate-stderr ur tw-runc ps "tw-runc$CID"
	assert_equal "$stderr" 'tw-runc: the container has no cgroup (rootless, without the permission to make one)'
	run -1 --separate-stderr ur tw-runc pause "tw-runc$CID"
	assert_equal "$stderr" 'tw-runc: the cgroup freezer is not available'
	# on purpose: SIGKILL to the init of the container's own pid namespace
	# reaches every process of it, which is what --all asks
	run -1 ur runc kill --all "runc$CID" KILL
	run -0 ur tw-runc kill --all "tw-runc$CID" KILL
	for _ in $(seq 100); do [ "$(ur tw-runc state "tw-runc$CID" | jq -r .status)" = stopped ] && break; sleep 0.05; done
	[ "$(ur tw-runc state "tw-runc$CID" | jq -r .status)" = stopped ]
	for rt in runc tw-runc; do
		run -0 ur "$rt" delete --force "$rt$CID"
		nothing_left "$rt$CID"
	done
	for _ in $(seq 100); do pgrep -u "$RUSER" sleep >/dev/null || break; sleep 0.05; done
	run -1 pgrep -u "$RUSER" sleep
}

@test "a delegated cgroup (a subtree root hands the user): limits, ps, pause, kill --all, delete, as runc" {
	local d rt cg=tw66d$$_$BATS_TEST_NUMBER
	for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		if [ -e "${d}cgroup.procs" ] && [ "$d" != /sys/fs/cgroup/unified/ ]; then
			mkdir "$d$cg"
			chown -R "$RUSER:" "$d$cg"
		fi
	done
	args "$B2" sh -c 'sleep 1000 & exec sleep 1000'
	for rt in runc tw-runc; do
		edit "$B2" '.linux.cgroupsPath = $p | .linux.resources = {pids: {limit: 20}}' --arg p "/$cg/$rt"
		run -0 urd "$rt" run -d -b "$B2" "$rt$CID"
		d=$(find /sys/fs/cgroup -maxdepth 3 -path "*/$cg/$rt" -name "$rt" | grep -m1 pids || find /sys/fs/cgroup/"$cg/$rt" -maxdepth 0)
		assert_equal "$(cat "$d/pids.max")" 20
		run -0 --separate-stderr ur "$rt" ps --format json "$rt$CID"
		assert_equal "$(jq length <<<"$output")" 2
		run -0 ur "$rt" pause "$rt$CID"
		assert_equal "$(ur "$rt" state "$rt$CID" | jq -r .status)" paused
		run -0 ur "$rt" resume "$rt$CID"
		run -0 ur "$rt" kill --all "$rt$CID" KILL
		for _ in $(seq 100); do [ "$(ur "$rt" state "$rt$CID" | jq -r .status)" = stopped ] && break; sleep 0.05; done
		assert_equal "$(ur "$rt" state "$rt$CID" | jq -r .status)" stopped
		run -0 ur "$rt" delete "$rt$CID"
		nothing_left "$rt$CID"
		[ ! -e "$d" ]
	done
}

@test "bad input as a user: runc's refusals, one line, exit 1, nothing left behind" {
	# (a single-id map without the container's root: the kernel refused
	# the init's setresuid with EINVAL before tw-runc said it as runc does)
	local t=$BATS_TEST_TMPDIR
	args "$B1" true
	for c in 'del(.linux.namespaces[] | select(.type == "user")) | del(.linux.uidMappings, .linux.gidMappings)@@rootless container requires user namespaces' \
		'.mounts[2].options += ["uid=7"]@@cannot specify uid= mount options for unmapped uid in rootless containers' \
		'.process.user.additionalGids = [0]@@cannot set any additional groups in a rootless container' \
		'.process.user.uid = 7@@cannot set uid to unmapped user in user namespace' \
		".linux.uidMappings[0].containerID = 1000 | .linux.gidMappings[0].containerID = 1000 | .process.user = {uid: 1000, gid: 1000}@@User namespaces enabled, but no user mapping found" \
		".linux.gidMappings[0].containerID = 1000 | .process.user.gid = 1000@@User namespaces enabled, but no group mapping found" \
		".linux.uidMappings[0].containerID = 1000@@User namespaces enabled, but no user mapping found" \
		".linux.uidMappings[0].containerID = 1000 | .mounts[2].options += [\"uid=7\"]@@User namespaces enabled, but no user mapping found"; do
		edit "$B1" "${c%%@@*}"
		run -1 --separate-stderr ur tw-runc run -b "$B1" "t$CID"
		assert_equal "$stderr" "tw-runc: ${c#*@@}"
		# runc refuses too (its message: the same words, after its prefixes)
		run -1 --separate-stderr ur runc run -b "$B1" "r$CID"
		[[ "$stderr" == *"${c#*@@}"* ]] || fail "runc: $stderr"
		nothing_left "t$CID"
		nothing_left "r$CID"
		as_user cp b1.json "$B1/config.json"
		args "$B1" true
	done
}

@test "a mapping of ids the user does not own: newuidmap's refusal, nothing left behind" {
	args "$B1" true
	edit "$B1" '.linux.uidMappings += [{containerID: 1, hostID: 100, size: 5}]'
	run -1 --separate-stderr ur tw-runc run -b "$B1" "t$CID"
	assert_output ''
	assert_equal "${#stderr_lines[@]}" 1
	[[ "$stderr" =~ ^"tw-runc: user namespace: newuidmap "[0-9]+" 0 $RUID 1 1 100 5: newuidmap: uid range [1-6) -> [100-105) not allowed"$ ]] || fail "$stderr"
	run -1 ur runc run -b "$B1" "r$CID"
	assert_output --partial 'not allowed'
	nothing_left "t$CID"
	nothing_left "r$CID"
	# the gid map likewise
	as_user cp b1.json "$B1/config.json"
	args "$B1" true
	edit "$B1" '.linux.gidMappings = [{containerID: 0, hostID: 0, size: 1}]'
	run -1 --separate-stderr ur tw-runc run -b "$B1" "t$CID"
	[[ "$stderr" =~ ^"tw-runc: user namespace: newgidmap "[0-9]+" 0 0 1: newgidmap: gid range [0-1) -> [0-1) not allowed"$ ]] || fail "$stderr"
	run -1 ur runc run -b "$B1" "r$CID"
	nothing_left "t$CID"
	nothing_left "r$CID"
}

@test "limits without a delegated cgroup: a clear error; cgroupsPath likewise; --rootless=false fails as root would" {
	args "$B1" true
	edit "$B1" '.linux.resources = {pids: {limit: 10}}'
	run -1 --separate-stderr ur tw-runc run -b "$B1" "t$CID"
	assert_equal "${#stderr_lines[@]}" 1
	[[ "$stderr" == "tw-runc: rootless needs no limits + no cgrouppath when no permission is granted for cgroups: mkdir /sys/fs/cgroup/"*": permission denied" ]] || fail "$stderr"
	# runc refuses too, in other words on cgroup v1 ("cannot set pids limit:
	# container could not join or create cgroup"): tw-runc says it as runc's
	# cgroup v2 manager does, before the init starts
	run -1 ur runc run -b "$B1" "r$CID"
	nothing_left "t$CID"
	nothing_left "r$CID"
	as_user cp b1.json "$B1/config.json"
	args "$B1" true
	edit "$B1" '.linux.cgroupsPath = $p' --arg p "/tw$CID"
	run -1 --separate-stderr ur tw-runc run -b "$B1" "t$CID"
	[[ "$stderr" == "tw-runc: cgroup /tw$CID: mkdir /sys/fs/cgroup/"*"/tw$CID: permission denied" ]] || fail "$stderr"
	run -1 ur runc run -b "$B1" "r$CID"
	nothing_left "tw$CID"
	as_user cp b1.json "$B1/config.json"
	args "$B1" true
	run -1 --separate-stderr ur tw-runc --rootless=false run -b "$B1" "t$CID"
	[[ "$stderr" == "tw-runc: cgroup /t$CID: mkdir /sys/fs/cgroup/"*"/t$CID: permission denied" ]] || fail "$stderr"
	run -1 ur runc --rootless=false run -b "$B1" "r$CID"
	nothing_left "t$CID"
	nothing_left "r$CID"
	run -2 --separate-stderr ur tw-runc --rootless=maybe list
	assert_equal "${stderr_lines[0]}" 'tw-runc: invalid value "maybe" for --rootless: want true, false or auto'
}

@test "root keeps /run/tw-runc whatever XDG_RUNTIME_DIR says, as runc" {
	run -0 env XDG_RUNTIME_DIR="$XDG" tw-runc list -q
	[ ! -e "$XDG/tw-runc" ]
	# and --root wins for a user, made as it is (not sticky)
	run -0 ur tw-runc --root "$XDG/mine" list -q
	assert_output ''
}
