#!/usr/bin/env bats
# tw-runc against runc on the same bundles: AppArmor profiles and SELinux
# labels (process.apparmorProfile, process.selinuxLabel, linux.mountLabel,
# exec --apparmor/--process-label/--process), and exec into a container
# with a user namespace. Each outcome is runc's: the same success, or the
# same refusal (up front, or the kernel's at the init's write or mount)
# with the same errno, and nothing left behind by either.
load helpers
load helpers_runc

setup_file() {
	requires root jq runc
	runc_setup_file
}

setup() {
	requires root jq runc
	REF_ROOT=$BATS_TEST_TMPDIR/runc-root
	runc_setup
}

teardown() {
	runc_teardown runc "$REF_ROOT"
}

# ref ARGS…: runc with the test's root; the container's stdio are files,
# as twrd does for tw-runc.
ref() {
	local rc=0
	runc --root "$REF_ROOT" "$@" </dev/null >"$BATS_TEST_TMPDIR/r.out" 2>"$BATS_TEST_TMPDIR/r.err" 3>&- || rc=$?
	cat "$BATS_TEST_TMPDIR/r.err"
	return "$rc"
}

# errno MESSAGE: the part after the last ": " (the kernel's word, or the
# whole sentence of a refusal), without runc's logrus quoting.
errno() {
	local m=${1%\"}
	printf '%s\n' "${m##*: }"
}

# same_refusal ID CMD…: `tw-runc CMD… ID'` and `runc CMD… ID` both fail,
# with the same errno; sets TW_ERR and REF_ERR to the two messages.
# runc's exec fails with 255, tw's with 1 (DESIGN.md: 1 is a failure).
same_refusal() {
	local id=$1
	shift
	run twrd "$@" "tw$id"
	[ "$status" = 1 ] || { echo "tw-runc $*: status $status: $output" >&2; return 1; }
	TW_ERR=$output
	run ref "$@" "ref$id"
	[ "$status" != 0 ] || { echo "runc $*: succeeded" >&2; return 1; }
	REF_ERR=$(grep -v '^$' <<<"$output" | tail -n 1)
	echo "tw-runc: $TW_ERR" >&2
	echo "runc:    $REF_ERR" >&2
	assert_equal "$(errno "$TW_ERR")" "$(errno "$REF_ERR")"
	assert_equal "$(last_log_error)" "${TW_ERR#tw-runc: }"
}

# ref_left ID: nothing of runc's container ID is left (its nothing_left).
ref_left() {
	RUNC_ROOT=$REF_ROOT nothing_left "$1"
}

@test "process.apparmorProfile: the init's write to attr/exec, refused by this kernel as runc's" {
	config "$BUNDLE" '.process.apparmorProfile = "cri-containerd.apparmor.d"'
	if ! same_refusal a create --bundle "$BUNDLE"; then
		# A host with AppArmor and the profile: both run it under the profile.
		run -0 twrd create --bundle "$BUNDLE" twa
		skip "AppArmor took the profile: $output"
	fi
	assert_output --partial 'unable to apply apparmor profile: apparmor failed to apply profile: write /proc/'
	assert_regex "$TW_ERR" '^tw-runc: unable to apply apparmor profile: apparmor failed to apply profile: write /proc/thread-self/attr/(apparmor/)?exec: [a-z ]+$'
	[[ $REF_ERR == *'unable to apply apparmor profile: apparmor failed to apply profile: write /proc/'*'/attr/'* ]]
	if [ ! -e /sys/module/apparmor ]; then
		# no AppArmor: the old file, which no LSM takes
		assert_equal "$(errno "$TW_ERR")" 'invalid argument'
	fi
	nothing_left twa
	ref_left refa
	# run too
	run -1 twr run --bundle "$BUNDLE" twa2
	assert_output "$TW_ERR"
	nothing_left twa2
}

@test "process.selinuxLabel: refused up front where SELinux is off, in runc's words" {
	config "$BUNDLE" '.process.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2"'
	[ ! -d /sys/fs/selinux ] || skip "this host has SELinux"
	same_refusal s create --bundle "$BUNDLE"
	assert_equal "$TW_ERR" "tw-runc: $BUNDLE/config.json: selinux label is specified in config, but selinux is disabled or not supported"
	[[ $REF_ERR == *': selinux label is specified in config, but selinux is disabled or not supported'* ]]
	nothing_left tws
	ref_left refs
	# with a mount label too: the same refusal, before any mount
	config "$BUNDLE" '.linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"'
	same_refusal sm create --bundle "$BUNDLE"
	assert_equal "$TW_ERR" "tw-runc: $BUNDLE/config.json: selinux label is specified in config, but selinux is disabled or not supported"
	nothing_left twsm
	ref_left refsm
}

@test "linux.mountLabel: the context= option of the tmpfs mounts, refused by this kernel as runc's" {
	config "$BUNDLE" '.linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"'
	[ ! -d /sys/fs/selinux ] || skip "this host has SELinux"
	same_refusal m create --bundle "$BUNDLE"
	# the first tmpfs of the bundle, /dev, both times
	assert_equal "$TW_ERR" "tw-runc: mount /dev: mount tmpfs $BUNDLE/rootfs/dev: invalid argument"
	[[ $REF_ERR == *'to rootfs at \"/dev\"'*'context=\"system_u:object_r:container_file_t:s0:c1,c2\"'* ]] ||
		[[ $REF_ERR == *'to rootfs at "/dev"'*'context='* ]]
	nothing_left twm
	ref_left refm
	# without the /dev tmpfs: the next one, devpts, likewise
	config "$BUNDLE" '.mounts = [.mounts[] | select(.destination != "/dev")]'
	same_refusal m2 create --bundle "$BUNDLE"
	assert_equal "$TW_ERR" "tw-runc: mount /dev/pts: mount devpts $BUNDLE/rootfs/dev/pts: invalid argument"
	nothing_left twm2
	ref_left refm2
	# only proc, sysfs and mqueue, which take no label: the tmpfs that masks
	# a directory does, both times
	config "$BUNDLE" '.mounts = [.mounts[] | select(.type == "proc" or .type == "sysfs" or .type == "mqueue")]
		| .process.args = ["sh", "-c", "grep -c context= /proc/self/mountinfo; exit 0"]'
	same_refusal m3 create --bundle "$BUNDLE"
	assert_equal "$TW_ERR" 'tw-runc: mask /sys/firmware: invalid argument'
	[[ $REF_ERR == *"can't mask path /sys/firmware: "*'context='* ]]
	nothing_left twm3
	ref_left refm3
	# the tmpfs that holds cgroup v1's hierarchies too
	config "$BUNDLE" '.linux.maskedPaths = [] | .mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}]'
	if [ "$(stat -fc %T /sys/fs/cgroup)" = tmpfs ]; then
		same_refusal m5 create --bundle "$BUNDLE"
		assert_equal "$TW_ERR" "tw-runc: mount /sys/fs/cgroup: mount tmpfs $BUNDLE/rootfs/sys/fs/cgroup: invalid argument"
		[[ $REF_ERR == *'/sys/fs/cgroup'*'context='*'invalid argument'* ]]
		nothing_left twm5
		ref_left refm5
	fi
	# and without masked paths or cgroups: nothing to label, both run
	config "$BUNDLE" '.mounts = [.mounts[] | select(.type != "cgroup")]'
	run -0 twr run --bundle "$BUNDLE" twm4
	assert_output 0
	run -0 ref run --bundle "$BUNDLE" refm4
	assert_equal "$(cat r.out)" 0
	nothing_left twm4
	ref_left refm4
	# no container to exec into, for either
	run -1 twr exec twm true
	assert_output 'tw-runc: twm: container does not exist'
	run ref exec refm true
	[ "$status" != 0 ]
	assert_output --partial 'container does not exist'
}

@test "exec --apparmor, --process-label and --process with a profile or a label: runc's outcome, the container untouched" {
	run -0 twrd run -d --bundle "$BUNDLE" twe
	run -0 ref run -d --bundle "$BUNDLE" refe
	exec_both() { # NAME ARGS… (the ID last)
		local name=$1
		shift
		run twr exec "$@" twe true
		[ "$status" = 1 ] || { echo "tw-runc exec $*: status $status: $output" >&2; return 1; }
		TW_ERR=$output
		run ref exec "$@" refe true
		[ "$status" = 255 ] || { echo "runc exec $*: status $status: $output" >&2; return 1; }
		REF_ERR=$output
		echo "$name: tw-runc: $TW_ERR / runc: $REF_ERR" >&2
		assert_equal "$(errno "$TW_ERR")" "$(errno "$REF_ERR")"
	}
	exec_both apparmor --apparmor cri-containerd.apparmor.d
	assert_regex "$TW_ERR" '^tw-runc: apparmor failed to apply profile: write /proc/thread-self/attr/(apparmor/)?exec: [a-z ]+$'
	[[ $REF_ERR == *'apparmor failed to apply profile: write /proc/'*'/attr/'* ]]
	jq '.process | .args = ["true"] | .apparmorProfile = "cri-containerd.apparmor.d"' "$BUNDLE/config.json" >pa.json
	exec_both apparmor-process --process pa.json
	assert_regex "$TW_ERR" '^tw-runc: apparmor failed to apply profile: write /proc/thread-self/attr/(apparmor/)?exec: [a-z ]+$'
	if [ ! -d /sys/fs/selinux ]; then
		exec_both selinux --process-label system_u:system_r:container_t:s0
		assert_equal "$TW_ERR" 'tw-runc: selinux label is specified in config, but selinux is disabled or not supported'
		jq '.process | .args = ["true"] | .selinuxLabel = "system_u:system_r:container_t:s0"' "$BUNDLE/config.json" >ps.json
		exec_both selinux-process --process ps.json
		assert_equal "$TW_ERR" 'tw-runc: selinux label is specified in config, but selinux is disabled or not supported'
	fi
	# --process wins over the flags, as in runc: the file has neither
	jq '.process | .args = ["sh", "-c", "exit 4"]' "$BUNDLE/config.json" >plain.json
	run -4 twr exec --apparmor cri-containerd.apparmor.d --process plain.json twe
	run -4 ref exec --apparmor cri-containerd.apparmor.d --process plain.json refe
	# both containers still run their one process, and exec still works
	assert_equal "$(twr ps --format json twe)" "$(twr state twe | jq -c '[.pid]')"
	assert_equal "$(runc --root "$REF_ROOT" ps --format json refe)" "$(runc --root "$REF_ROOT" state refe | jq -c '[.pid]')"
	run -0 twr exec twe echo fine
	assert_output fine
	run -0 twr delete --force twe
	run -0 runc --root "$REF_ROOT" delete --force refe
	nothing_left twe
	ref_left refe
}

@test "features: apparmor and selinux supported, as runc 1.1 says" {
	run -0 tw-runc features
	tw=$output
	run -0 runc features
	for k in apparmor selinux; do
		assert_equal "$(jq -c ".linux.$k" <<<"$tw")" "$(jq -c ".linux.$k" <<<"$output")"
	done
	assert_equal "$(jq -c '.linux.apparmor' <<<"$tw")" '{"enabled":true}'
}

@test "exec into a container with a user namespace: the user namespace first, then the others, as runc" {
	userns_bundle '.hostname = "userns"'
	run -0 twrd run -d --bundle "$BUNDLE" twu
	run -0 ref run -d --bundle "$BUNDLE" refu
	# what the exec'd process sees of itself: the same for both
	script='id; cat /proc/self/uid_map /proc/self/gid_map; hostname
		for n in user mnt net ipc uts pid cgroup; do
			[ "$(readlink /proc/self/ns/$n)" = "$(readlink /proc/1/ns/$n)" ] && echo same $n
		done
		grep -E "^(Cap|NoNewPrivs)" /proc/self/status; exit 3'
	run -3 twr exec twu sh -c "$script"
	tw=$output
	run -3 ref exec refu sh -c "$script"
	assert_equal "$tw" "$(cat r.out)"
	assert_equal "${tw%%$'\n'*}" 'uid=0(root) gid=0(root)'
	[[ $tw == *'same user'*'same mnt'*'same net'*'same ipc'*'same uts'*'same pid'*'same cgroup'* ]]
	# another user of the namespace
	run -0 twr exec --user 1000:1000 twu id
	assert_output 'uid=1000 gid=1000'
	# detached, with a pid file: the pid runs the program, a child of no
	# tw process, as the container's uid 0 (host 100000), in its cgroup
	run -0 twrd exec -d --pid-file epid twu sleep 1000
	pid=$(cat epid)
	[ "$(readlink /proc/"$pid"/exe)" = /bin/busybox ]
	[ "$(awk '/^Uid:/ { print $2 }' /proc/"$pid"/status)" = 100000 ]
	[ "$(awk '/^NSpid:/ { print NF }' /proc/"$pid"/status)" = 3 ]
	grep -qx "$pid" /sys/fs/cgroup/pids/twu/cgroup.procs
	run -0 twr ps --format json twu
	[ "$(jq length <<<"$output")" = 2 ]
	kill "$pid"
	# the errors: a program that is missing, a uid the namespace does not map
	run -1 twr exec twu nosuch
	assert_output 'tw-runc: exec nosuch: command not found'
	run -255 ref exec refu nosuch
	run -1 twr exec --user 70000 twu id
	assert_output 'tw-runc: setuid 70000: invalid argument'
	run -255 ref exec --user 70000 refu id
	assert_output --partial 'cannot set uid to unmapped user in user namespace'
	# nothing left of the execs: the container's one process
	for _ in $(seq 50); do [ "$(twr ps --format json twu | jq length)" = 1 ] && break; sleep 0.05; done
	run -0 twr ps --format json twu
	assert_output "[$(twr state twu | jq .pid)]"
	run -0 twr delete --force twu
	run -0 runc --root "$REF_ROOT" delete --force refu
	nothing_left twu
	ref_left refu
}

@test "exec -t into a container with a user namespace: the terminal through the console socket, as runc" {
	requires python3
	userns_bundle '.hostname = "userns"'
	run -0 twrd run -d --bundle "$BUNDLE" twt
	run -0 ref run -d --bundle "$BUNDLE" reft
	# a console socket: take the terminal's master, print what comes
	console_receiver >recv.py
	for rt in tw ref; do
		python3 recv.py "$PWD/$rt.sock" >"$rt.tty" 2>&1 </dev/null 3>&- &
		pid=$!
		for _ in $(seq 50); do [ -S "$rt.sock" ] && break; sleep 0.05; done
		# runc takes a console socket only with --detach
		if [ "$rt" = tw ]; then
			run -0 twr exec -d -t --console-socket "$PWD/tw.sock" twt sh -c 'tty; id'
		else
			run -0 runc --root "$REF_ROOT" exec -d -t --console-socket "$PWD/ref.sock" reft sh -c 'tty; id'
		fi
		wait "$pid"
	done
	assert_equal "$(cat tw.tty)" "$(cat ref.tty)"
	assert_equal "$(cat tw.tty)" $'/dev/pts/0\nuid=0(root) gid=0(root)'
	run -0 twr delete --force twt
	run -0 runc --root "$REF_ROOT" delete --force reft
	nothing_left twt
	ref_left reft
}

# steps FILE: what the init did up to its write of the attr file, from an
# strace log, one word per step: pivot_root, setuid (to uid 1000), capset,
# nnp (no_new_privs), then attr; sorted when SORT is set (the order among
# the credentials' steps is each runtime's own).
steps() {
	grep -oE 'pivot_root\(|set(res)?uid\(1000|capset\(|PR_SET_NO_NEW_PRIVS|/attr/(apparmor/)?exec"' "$1" |
		sed -E 's/^pivot_root\(/pivot_root/; s/^set.*/setuid/; s/^capset\(/capset/; s/^PR_SET.*/nnp/; s/^\/attr.*/attr/' |
		sed '/^attr$/q' | { if [ -n "${SORT:-}" ]; then sort; else cat; fi; } | tr '\n' ' '
}

@test "when the profile is written (strace): create after pivot_root and before the credentials, exec after them, as runc" {
	requires strace
	local rt
	config "$BUNDLE" '.process.apparmorProfile = "p" | .process.user = {"uid": 1000, "gid": 1000}'
	for rt in tw-runc runc; do
		strace -f -qq -o "$rt.create" -e trace=pivot_root,openat,capset,setresuid,setuid,prctl \
			"$rt" --root "$BATS_TEST_TMPDIR/$rt" run --bundle "$BUNDLE" "c$rt" </dev/null >/dev/null 2>&1 || true
	done
	echo "create: tw-runc: $(steps tw-runc.create) / runc: $(steps runc.create)" >&2
	[ "$(steps tw-runc.create)" = "pivot_root attr " ]
	assert_equal "$(steps tw-runc.create)" "$(steps runc.create)"
	config "$BUNDLE" 'del(.process.apparmorProfile) | .process.user = {"uid": 0, "gid": 0}'
	for rt in tw-runc runc; do
		"$rt" --root "$BATS_TEST_TMPDIR/$rt" run -d --bundle "$BUNDLE" "e$rt" </dev/null >/dev/null 2>&1 3>&-
		strace -f -qq -o "$rt.exec" -e trace=pivot_root,openat,capset,setresuid,setuid,prctl \
			"$rt" --root "$BATS_TEST_TMPDIR/$rt" exec --apparmor p --user 1000:1000 "e$rt" true </dev/null >/dev/null 2>&1 || true
		"$rt" --root "$BATS_TEST_TMPDIR/$rt" delete --force "e$rt"
	done
	echo "exec: tw-runc: $(steps tw-runc.exec) / runc: $(steps runc.exec)" >&2
	[ "$(SORT=1 steps tw-runc.exec)" = "attr capset nnp setuid " ]
	assert_equal "$(SORT=1 steps tw-runc.exec)" "$(SORT=1 steps runc.exec)"
	# and the write is the last of them for tw-runc (runc sets no_new_privs first)
	[[ "$(steps tw-runc.exec)" == *" attr " ]]
	for rt in tw-runc runc; do
		[ -z "$(ls -A "$BATS_TEST_TMPDIR/$rt")" ] || { echo "$rt left state" >&2; return 1; }
	done
}
