#!/usr/bin/env bats
# tw-runc held to runc, bundle by bundle: each bundle runs through `runc run`
# and `tw-runc run`, each with its own --root, and both must agree: ran or
# refused, exit status, what the program printed, and nothing left under
# --root, in the cgroups or in the mount table. Where tw-runc differs on
# purpose, the test says why. The bundles are the ones that went wrong on
# main (issue 11) and a generated family of variations.
load helpers
load helpers_runc

setup_file() {
	requires root jq runc unshare
	export LAYOUT=$BATS_FILE_TMPDIR/layout
	make_image "$LAYOUT"
}

setup() {
	requires root jq runc unshare
	RUNC_ROOT=$BATS_TEST_TMPDIR/root
	RUNC_LOG=$BATS_TEST_TMPDIR/log.json
	BUNDLE=$BATS_TEST_TMPDIR/bundle
	make_bundle "$LAYOUT" "$BUNDLE"
	cp "$BUNDLE/config.json" "$BATS_TEST_TMPDIR/good.json"
	# a cgroup of this test's own below every hierarchy
	CG=tworacle$$_$BATS_TEST_NUMBER
	config "$BUNDLE" '.linux.cgroupsPath = $cg' --arg cg "/$CG/c"
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	local rt id d
	# shellcheck disable=SC2086 # pids; unshare --fork ignores TERM, KILL takes its child too (--kill-child)
	[ -z "${HOLDERS:-}" ] || kill -KILL $HOLDERS 2>/dev/null || true
	for rt in runc tw-runc; do
		for id in $(ls "$BATS_TEST_TMPDIR/$rt" 2>/dev/null); do
			"$rt" --root "$BATS_TEST_TMPDIR/$rt" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	for d in /sys/fs/cgroup/*/"$CG"; do
		[ ! -d "$d" ] || find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# same JQ [JQ-ARGS…]: start again from the test's bundle config, edited.
same() {
	jq "${@:2}" "$1" good.json >"$BUNDLE/config.json"
}

# both SCRIPT [WRAP…]: run sh -c SCRIPT in a container of the bundle with
# runc, then with tw-runc (under WRAP, e.g. unshare -m); sets rc_runc,
# rc_tw, out_runc, out_tw, err_runc, err_tw and checks that neither left
# anything behind.
both() {
	local rt st id
	runc_args sh -c "$1"
	shift
	for rt in runc tw-runc; do
		id=o$$_${BATS_TEST_NUMBER}_$((++N))
		st=0
		"$@" "$rt" --root "$BATS_TEST_TMPDIR/$rt" run --bundle "$BUNDLE" "$id" </dev/null \
			>"$rt.out" 2>"$rt.err" || st=$?
		[ "$rt" = runc ] && rc_runc=$st out_runc=$(cat runc.out) err_runc=$(cat runc.err)
		[ "$rt" = tw-runc ] && rc_tw=$st out_tw=$(cat tw-runc.out) err_tw=$(cat tw-runc.err)
		left "$rt" "$id"
	done
}
N=0
HOLDERS=

# left RUNTIME ID: no state under its --root, no cgroup, no mount below
# the test's directory.
left() {
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/$1" 2>/dev/null)" ] ||
		{ echo "$1 left state: $(ls -A "$BATS_TEST_TMPDIR/$1")" >&2; return 1; }
	local d
	for d in /sys/fs/cgroup/*/"$CG"/c /sys/fs/cgroup/*/"$2"; do
		[ ! -e "$d" ] || { echo "$1 left cgroup $d" >&2; return 1; }
	done
	! awk '{ print $5 }' /proc/self/mountinfo | grep -F "$BATS_TEST_TMPDIR" >&2 ||
		{ echo "$1 left mounts below $BATS_TEST_TMPDIR" >&2; return 1; }
}

# agree: both ran with the same status and output.
agree() {
	if [ "$rc_runc" != "$rc_tw" ] || [ "$out_runc" != "$out_tw" ]; then
		printf 'runc (%s):\n%s\n%s\ntw-runc (%s):\n%s\n%s\n' "$rc_runc" "$out_runc" "$err_runc" \
			"$rc_tw" "$out_tw" "$err_tw" >&2
		return 1
	fi
}

# ran: tw-runc ran the program (and so did runc, after agree).
ran() {
	[ "$rc_tw" = 0 ] || { printf 'tw-runc (%s): %s\n%s\n' "$rc_tw" "$out_tw" "$err_tw" >&2; return 1; }
}

# refused MESSAGE: both refused the bundle, saying MESSAGE.
refused() {
	# runc's log line escapes the quotes
	if [ "$rc_runc" = 0 ] || [ "$rc_tw" = 0 ] || [[ "${err_runc//\\/}" != *"$1"* ]] || [[ "$err_tw" != *"$1"* ]]; then
		printf 'want both to refuse with %s\nrunc (%s): %s %s\ntw-runc (%s): %s %s\n' "$1" "$rc_runc" \
			"$out_runc" "$err_runc" "$rc_tw" "$out_tw" "$err_tw" >&2
		return 1
	fi
}

# agree_or_refused WANT: agree when WANT is empty, else both refused with WANT.
agree_or_refused() {
	if [ -z "$1" ]; then agree; else refused "$1"; fi
}

CAPS='grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status; grep NoNewPrivs /proc/self/status; id'

@test "runc spec's own config, ambient capabilities included, runs as with runc" {
	rm "$BUNDLE/config.json"
	(cd "$BUNDLE" && runc spec)
	config "$BUNDLE" '.process.terminal = false | .root.path = "rootfs"'
	both "$CAPS; hostname"
	agree
	ran
	[[ "$out_tw" == *"CapAmb:	0000000000000000"* ]]
}

@test "capabilities, ambient ones and users: a generated family" {
	local i=0 caps user nnp
	for caps in '["CAP_KILL"]|["CAP_KILL"]|["CAP_KILL"]' '["CAP_KILL"]|[]|["CAP_KILL"]' \
		'["CAP_KILL","CAP_CHOWN","CAP_NET_RAW"]|["CAP_KILL","CAP_CHOWN"]|["CAP_CHOWN","CAP_NET_RAW"]' '[]|[]|[]'; do
		for user in '{"uid": 0, "gid": 0}' '{"uid": 1000, "gid": 1000, "additionalGids": [5, 7], "umask": 63}'; do
			for nnp in true false; do
				IFS='|' read -r all inh amb <<<"$caps"
				same '.process.user = ($u | fromjson) | .process.noNewPrivileges = ($n | fromjson)
					| .process.capabilities = {"bounding": ($a | fromjson), "effective": ($a | fromjson),
						"permitted": ($a | fromjson), "inheritable": ($i | fromjson), "ambient": ($m | fromjson)}' \
					--arg u "$user" --arg n "$nnp" --arg a "$all" --arg i "$inh" --arg m "$amb"
				both "$CAPS; umask"
				agree || { echo "caps $caps, user $user, noNewPrivileges $nnp" >&2; return 1; }
				i=$((i + 1))
			done
		done
	done
	[ "$i" = 16 ]
}

@test "rlimits: a generated family" {
	local r
	for r in '[{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}]' '[{"type": "RLIMIT_NPROC", "soft": 7, "hard": 7}]' \
		'[{"type": "RLIMIT_CORE", "soft": 0, "hard": 0}, {"type": "RLIMIT_STACK", "soft": 1048576, "hard": 2097152}]' '[]'; do
		same '.process.rlimits = ($r | fromjson)' --arg r "$r"
		both 'ulimit -n; ulimit -Hn; ulimit -u; ulimit -c; ulimit -s'
		agree || { echo "rlimits $r" >&2; return 1; }
	done
}

@test "seccomp: a profile written before close_range, new and old profiles, with and without no_new_privs" {
	# every syscall busybox needs, from before 2019: no close_range, statx,
	# clone3, faccessat2, rseq
	old='["read","write","open","openat","close","fstat","newfstatat","lstat","stat","mmap","mprotect","munmap","brk",
		"rt_sigaction","rt_sigprocmask","rt_sigreturn","ioctl","access","getpid","getppid","getuid","geteuid","getgid",
		"getegid","execve","exit","exit_group","fcntl","getdents64","getcwd","arch_prctl","set_tid_address","wait4",
		"clone","fork","vfork","dup2","dup3","prlimit64","getrandom","lseek","set_robust_list","futex","readlink",
		"poll","ppoll","setpgid","getpgrp","sigaltstack","uname","capget","capset","prctl","setgroups","setresuid",
		"setresgid","setuid","setgid","chdir","fchdir","getdents","umask","sethostname","setns","nanosleep",
		"epoll_create1","epoll_ctl","epoll_pwait","epoll_wait","sched_yield","gettid","tgkill","madvise","mincore",
		"pipe2","sched_getaffinity","clock_gettime","getrlimit","setrlimit","kill","statfs","fstatfs","pread64",
		"faccessat"]'
	new=$(jq -n --argjson o "$old" '$o + ["close_range","statx","clone3","faccessat2","rseq","pidfd_open"]')
	local p nnp user
	for p in "$old" "$new"; do
		for nnp in true false; do
			for user in '{"uid": 0, "gid": 0}' '{"uid": 1000, "gid": 1000}'; do
				same '.process.noNewPrivileges = ($n | fromjson) | .process.user = ($u | fromjson)
					| .linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
						"syscalls": [{"names": $p, "action": "SCMP_ACT_ALLOW"}]}' \
					--argjson p "$p" --arg n "$nnp" --arg u "$user"
				both 'echo ran; ls / >/dev/null && echo ls-ok; mkdir /tmp/x 2>&1; grep Seccomp: /proc/self/status; :'
				agree || { echo "profile $p, noNewPrivileges $nnp, user $user" >&2; return 1; }
				assert_equal "$rc_tw" 0
			done
		done
	done
	# a syscall newer than the profile gets ENOSYS, an older one denied EPERM
	[[ "$out_tw" == *"mkdir: can't create directory '/tmp/x': Operation not permitted"* ]]
	# Without faccessat runc 1.1 cannot start the program: its init looks
	# the program up after the filter is in. tw-runc's filter is its last
	# step before execve, so it runs (on purpose: the issue's point).
	same '.process.noNewPrivileges = false | .linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO",
		"syscalls": [{"names": ($p - ["faccessat"]), "action": "SCMP_ACT_ALLOW"}]}' --argjson p "$old"
	both 'echo ran'
	[ "$rc_runc" = 1 ] && [[ "$err_runc" == *"exec /bin/sh: operation not permitted"* ]]
	assert_equal "$rc_tw/$out_tw" 0/ran
}

@test "linux.devices of every type: a FIFO is made without a cgroup rule; char (c, u) and block nodes" {
	same '.linux.devices = [{"path": "/dev/myfifo", "type": "p", "fileMode": 420},
		{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 438},
		{"path": "/dev/myloop", "type": "b", "major": 7, "minor": 0, "fileMode": 384},
		{"path": "/dev/myzero", "type": "u", "major": 1, "minor": 5, "fileMode": 438}]
		| .linux.resources.devices += [{"allow": true, "type": "b", "major": 7, "minor": 0, "access": "rwm"}]'
	both 'stat -c "%F %a %t:%T" /dev/myfifo /dev/mynull /dev/myloop /dev/myzero; echo x >/dev/mynull && echo written
		head -c 3 /dev/myzero | wc -c'
	agree
	[[ "$out_tw" == "fifo 644 0:0"* ]]
}

@test "linux.devices without a rule: runc 1.1 leaves it shut, tw-runc opens it (on purpose)" {
	# runtime-spec: linux.devices "MUST be available in the container";
	# runc 1.1 makes the node but adds no cgroup rule for it.
	same '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}]'
	both '(exec 3</dev/fuse) 2>&1 && echo opened; :'
	assert_equal "$out_runc" "sh: can't open /dev/fuse: Operation not permitted"
	assert_equal "$out_tw" opened
}

@test "no linux.resources: the device cgroup still denies a node shipped in the image" {
	# the host's fuse device: anyone may open it, but for the cgroup
	mknod "$BUNDLE/rootfs/evil" c 10 229
	mknod "$BUNDLE/rootfs/evilblk" b 7 0
	for r in 'del(.linux.resources)' '.linux.resources = {}' '.linux.resources = {"devices": []}'; do
		same "$r"
		both '(exec 3<>/evil) 2>&1; (exec 3</evilblk) 2>&1; head -c 1 /dev/zero | wc -c'
		agree
		assert_equal "$out_tw" "sh: can't create /evil: Operation not permitted"$'\n'"sh: can't open /evilblk: Operation not permitted"$'\n1'
	done
}

@test "cgroup v2 (eBPF): no linux.resources still denies a node shipped in the image" {
	grep -q ' - cgroup2 ' /proc/self/mountinfo || skip "no cgroup2 hierarchy mounted"
	mknod "$BUNDLE/rootfs/evil" c 10 229
	same 'del(.linux.resources)'
	# shellcheck disable=SC2016
	both '(exec 3<>/evil) 2>&1; head -c 1 /dev/zero | wc -c' \
		unshare -m sh -euc 'umount -R /sys/fs/cgroup; mount -t cgroup2 none /sys/fs/cgroup; st=0; "$@" || st=$?
			rmdir /sys/fs/cgroup/'"$CG"' 2>/dev/null || :; exit $st' sh
	agree
	assert_equal "$out_tw" "sh: can't create /evil: Operation not permitted"$'\n1'
}

@test "sysctls: allowed only in a namespace of the container's own, in runc's words" {
	nsless() { jq -c --arg t "$1" '[.linux.namespaces[] | select(.type != $t)]' good.json; }
	# the runtime's own ip_forward, which a refused bundle must not change
	fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	while IFS='|' read -r ns sysctl want; do
		same 'del(.hostname) | .linux.namespaces = ($n | fromjson) | .linux.sysctl = ($s | fromjson)' --arg n "$ns" --arg s "$sysctl"
		both 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax /proc/sys/kernel/domainname'
		agree_or_refused "$want" || { echo "namespaces $ns, sysctl $sysctl" >&2; return 1; }
	done <<-EOF
		$(nsless none)|{"net.ipv4.ip_forward": "1", "kernel.msgmax": "4321", "kernel.domainname": "dom"}|
		$(nsless network)|{"net.ipv4.ip_forward": "1"}|sysctl "net.ipv4.ip_forward" not allowed in host network namespace
		$(nsless ipc)|{"kernel.msgmax": "4321"}|sysctl "kernel.msgmax" is not allowed in the hosts ipc namespace
		$(nsless ipc)|{"fs.mqueue.msg_max": "9"}|sysctl "fs.mqueue.msg_max" is not allowed in the hosts ipc namespace
		$(nsless uts)|{"kernel.domainname": "dom"}|sysctl "kernel.domainname" is not in a separate kernel namespace
		$(nsless none)|{"kernel.hostname": "h"}|sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field
		$(nsless none)|{"vm.swappiness": "1"}|sysctl "vm.swappiness" is not in a separate kernel namespace
		$(nsless none)|{"net/ipv4/ip_forward": "1"}|
	EOF
	[ "$(cat /proc/sys/kernel/domainname)" != dom ]
	assert_equal "$(cat /proc/sys/net/ipv4/ip_forward)" "$fwd"
}

@test "sysctl net.* in the runtime's network namespace joined by path is refused" {
	same '.linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = "/proc/self/ns/net" else . end]
		| .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	both 'cat /proc/sys/net/ipv4/ip_forward'
	refused 'sysctl "net.ipv4.ip_forward" not allowed in host network namespace'
}

@test "no mount namespace: the mounts are made in the runtime's, chroot (in a private namespace of this test)" {
	same '.linux.namespaces = [.linux.namespaces[] | select(.type != "mount")] | .linux.maskedPaths = []
		| .linux.readonlyPaths = [] | .process.args = ["sh"]'
	# shellcheck disable=SC2016
	both 'ls /; cat /proc/self/cgroup | grep -c . >/dev/null && echo cg; readlink /proc/self/ns/mnt >/dev/null && echo ns' \
		unshare -m
	agree
	ran
	# masked paths need one: runc's message
	same '.linux.namespaces = [.linux.namespaces[] | select(.type != "mount")]'
	both true unshare -m
	refused "unable to restrict sys entries without a private MNT namespace"
	# root.readonly: runc ignores it without a mount namespace, and the
	# program writes to the bundle; tw-runc refuses (on purpose: it cannot
	# be honoured without remounting the runtime's own mounts)
	same '.linux.namespaces = [.linux.namespaces[] | select(.type != "mount")] | .linux.maskedPaths = []
		| .linux.readonlyPaths = [] | .root.readonly = true'
	both 'touch /written && echo written' unshare -m
	assert_equal "$rc_runc/$out_runc" 0/written
	[ "$rc_tw" = 1 ] && [[ "$err_tw" == *"root.readonly needs a mount namespace"* ]]
	rm "$BUNDLE/rootfs/written"
}

@test "a mount namespace and a uts namespace joined by path, with a hostname (in a private namespace of this test)" {
	# A fresh mount namespace (of this test's private one) per runtime: the
	# container's pivot_root makes the bundle's root that namespace's root.
	same '.linux.namespaces = [.linux.namespaces[]
			| if .type == "mount" then .path = $d + "/mnt" elif .type == "uts" then .path = $d + "/uts" else . end]
		| .hostname = "joined"' --arg d "$BATS_TEST_TMPDIR/ns"
	# shellcheck disable=SC2016
	wrap() {
		unshare -m sh -euc 'd=$1; shift; mkdir -p "$d"; mount -t tmpfs ns "$d"; mount --make-private "$d"
			touch "$d/mnt" "$d/uts"
			# unshare(1) may bind its parent'"'"'s namespace (a race): again then
			# (seen under load: runc then fails "setns into mnt namespace: Invalid argument");
			# a bind that nsenter can enter is the one wanted
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				if unshare --mount="$d/mnt" --uts="$d/uts" true 2>/dev/null && nsenter --mount="$d/mnt" --uts="$d/uts" true 2>/dev/null; then break; fi
				umount "$d/mnt" "$d/uts" 2>/dev/null || true; sleep 0.1
			done
			st=0; "$@" || st=$?
			nsenter --uts="$d/uts" hostname; umount "$d/mnt" "$d/uts"; exit $st' sh "$BATS_TEST_TMPDIR/ns" "$@"
	}
	both 'hostname; ls /bin/busybox' wrap
	agree
	ran
	assert_equal "$out_tw" $'joined\n/bin/busybox\njoined'
}

@test "mounts onto /proc: runc's allow-list" {
	echo 42 >up
	mkdir dir
	while IFS='|' read -r mount want; do
		same '.mounts += [$m | fromjson]' --arg m "$mount"
		both 'cat /proc/uptime | head -c 2; echo'
		agree_or_refused "$want" || { echo "mount $mount" >&2; return 1; }
	done <<-EOF
		{"destination": "/proc/uptime", "type": "bind", "source": "$PWD/up", "options": ["bind"]}|
		{"destination": "/proc/sys", "type": "bind", "source": "$PWD/dir", "options": ["rbind"]}|cannot be mounted because it is inside /proc
		{"destination": "/proc", "type": "bind", "source": "$PWD/dir", "options": ["rbind"]}|cannot be mounted because it is not of type proc
		{"destination": "/proc/kcore", "type": "bind", "source": "$PWD/up", "options": ["bind"]}|cannot be mounted because it is inside /proc
		{"destination": "/proc/self/x", "type": "devpts", "source": "devpts"}|cannot be mounted because it is inside /proc
	EOF
}

@test "a tmpfs onto /proc/sys: runc 1.1 mounts it, tw-runc refuses as runc 1.2+ does (on purpose)" {
	# runc 1.1's checkProcMount skipped tmpfs; a writable tmpfs over
	# /proc/sys hides the read-only one. runc 1.2 checks every mount.
	same '.mounts += [{"destination": "/proc/sys", "type": "tmpfs", "source": "tmpfs"}]'
	both 'echo ran'
	assert_equal "$out_runc" ran
	[ "$rc_tw" = 1 ] && [[ "$err_tw" == *'cannot be mounted because it is inside /proc'* ]]
}

@test "cgroupsPath forms: absolute, relative, empty" {
	for p in "/$CG/c" "$CG/c" ""; do
		same '.linux.cgroupsPath = $p' --arg p "$p"
		both 'grep -E "^[0-9]+:(memory|pids):" /proc/self/cgroup | sed "s/_[0-9]*$/_N/"'
		agree || { echo "cgroupsPath '$p'" >&2; return 1; }
	done
}

@test "a failed create in the cgroup of a running container leaves that container running" {
	for rt in runc tw-runc; do
		"$rt" --root "$BATS_TEST_TMPDIR/$rt" run -d --bundle "$BUNDLE" "first$$" </dev/null >/dev/null 2>&1
		pid=$("$rt" --root "$BATS_TEST_TMPDIR/$rt" state "first$$" | jq .pid)
		cp -a "$BUNDLE" second
		config second '.process.args = ["/no/such/program"]'
		run ! "$rt" --root "$BATS_TEST_TMPDIR/$rt" run --bundle second "second$$" </dev/null
		kill -0 "$pid" || { echo "$rt: the failed create killed the running container" >&2; return 1; }
		# nor does a container that ran there and is deleted
		config second '.process.args = ["true"]'
		"$rt" --root "$BATS_TEST_TMPDIR/$rt" run --bundle second "third$$" </dev/null
		kill -0 "$pid" || { echo "$rt: deleting another container killed the running one" >&2; return 1; }
		grep -qx "$pid" "/sys/fs/cgroup/pids/$CG/c/cgroup.procs"
		assert_equal "$("$rt" --root "$BATS_TEST_TMPDIR/$rt" state "first$$" | jq -r .status)" running
		"$rt" --root "$BATS_TEST_TMPDIR/$rt" delete --force "first$$"
		rm -rf second
		left "$rt" "first$$"
	done
}

@test "--systemd-cgroup: a cgroupsPath with .. never leaves the cgroup root" {
	# runc asks systemd, which this machine may not run: tw-runc alone.
	for p in 'system.slice:p:../../../../tmp/X' '../../x.slice:p:n' 'system.slice:..:..' 'nope'; do
		same '.linux.cgroupsPath = $p' --arg p "$p"
		run -1 tw-runc --systemd-cgroup --root "$BATS_TEST_TMPDIR/tw-runc" run --bundle "$BUNDLE" "sd$$" </dev/null
		[[ "$output" == *"invalid"* || "$output" == *"expected cgroupsPath"* ]]
		left tw-runc "sd$$"
	done
	[ ! -e /sys/fs/cgroup/pids/tmp/X.scope ] && [ ! -e /sys/fs/cgroup/tmp ]
}

@test "mount propagation: rslave and rshared binds see what the host mounts after start; rshared passes back, rslave not" {
	# All in a private mount namespace of this test, with a shared tmpfs
	# of its own as the host's volume.
	same '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"]
		| .process.capabilities.permitted += ["CAP_SYS_ADMIN"]
		| .mounts += [{"destination": "/slave", "type": "bind", "source": ($v + "/slave"), "options": ["rbind", "rslave"]},
			{"destination": "/shared", "type": "bind", "source": ($v + "/shared"), "options": ["rbind", "rshared"]}]
		| .linux.rootfsPropagation = "rshared"' --arg v "$BATS_TEST_TMPDIR/vol"
	# the container waits for the host's mounts, then mounts one back
	script='for _ in $(seq 100); do [ -e /slave/in/f ] && [ -e /shared/in/f ] && break; sleep 0.05; done
		cat /slave/in/f /shared/in/f; mkdir -p /shared/back /slave/back
		mount -t tmpfs back /slave/back; echo from-container >/slave/back/f
		mount -t tmpfs back /shared/back; echo from-container >/shared/back/f; sleep 0.3'
	# shellcheck disable=SC2016
	wrap() {
		unshare -m sh -euc 'v=$1; shift; mkdir -p "$v"; mount -t tmpfs vol "$v"; mount --make-shared "$v"
			mkdir -p "$v/slave/in" "$v/shared/in"
			"$@" & pid=$!
			sleep 0.3
			for d in slave shared; do mount -t tmpfs in "$v/$d/in"; echo "host-$d" >"$v/$d/in/f"; done
			for _ in $(seq 60); do [ -e "$v/shared/back/f" ] && break; sleep 0.05; done
			cat "$v/shared/back/f" >&2 2>/dev/null || echo no-back >&2
			# rslave: nothing passes back
			cat "$v/slave/back/f" >&2 2>/dev/null || echo slave-kept >&2
			wait $pid' sh "$BATS_TEST_TMPDIR/vol" "$@"
	}
	both "$script" wrap
	agree
	assert_equal "$out_tw" $'host-slave\nhost-shared'
	grep -qx from-container runc.err
	grep -qx from-container tw-runc.err
	grep -qx slave-kept runc.err
	grep -qx slave-kept tw-runc.err
}

@test "spec and spec --rootless write runc's config (but the spec version); never over one; the config runs as runc's" {
	local v
	v=$(tw-runc features | jq -r .ociVersionMax)
	for flag in "" --rootless; do
		rm -rf r t
		mkdir r t
		(cd r && runc spec $flag)
		run -0 tw-runc spec $flag --bundle t
		assert_output ''
		# ociVersion differs on purpose: the spec version each implements
		# (runc 1.1.5's is 1.0.2-dev)
		assert_equal "$(jq -r .ociVersion t/config.json)" "$v"
		assert_equal "$(jq -S 'del(.ociVersion)' t/config.json)" "$(jq -S 'del(.ociVersion)' r/config.json)"
		assert_equal "$(stat -c %a t/config.json)" "$(stat -c %a r/config.json)"
		# in the current directory (-b's default) too, runc's tabs and all
		(cd t && rm config.json && tw-runc spec $flag)
		assert_equal "$(sed '/"ociVersion"/d' t/config.json)" "$(sed '/"ociVersion"/d' r/config.json)"
		# never over an existing config, in runc's words; the file untouched
		echo '{"mine": true}' >t/config.json
		run -1 --separate-stderr tw-runc spec $flag -b t
		# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
		assert_equal "$stderr" 'tw-runc: File config.json exists. Remove it first'
		run -1 --separate-stderr runc spec $flag -b t
		[[ "$stderr" == *'File config.json exists. Remove it first'* ]]
		assert_equal "$(cat t/config.json)" '{"mine": true}'
	done
	# a bundle directory that is missing: refused by both, nothing made
	run -1 --separate-stderr tw-runc spec -b nodir
	assert_equal "$stderr" 'tw-runc: open nodir/config.json: no such file or directory'
	run -1 runc spec -b nodir
	[ ! -e nodir ]
	run -2 tw-runc spec extra
	# tw-runc's config in the bundle of this test, and runs as runc's does
	rm "$BUNDLE/config.json"
	tw-runc spec -b "$BUNDLE"
	config "$BUNDLE" '.process.terminal = false'
	both "$CAPS; hostname; touch /x 2>&1; :"
	agree
	ran
	[[ "$out_tw" == *"CapAmb:	0000000000000000"* ]]
	# its hostname, and root.readonly
	[[ "$out_tw" == *$'\nrunc\n'*"touch: /x: Read-only file system" ]]
}

@test "a user namespace whose maps lack the container's root: refused in runc's words, as root" {
	# before: the kernel's EINVAL at the init's fork ("fork/exec …: invalid argument")
	for m in '[{"containerID": 1000, "hostID": 100000, "size": 1}]|[{"containerID": 1000, "hostID": 100000, "size": 1}]|user' \
		'[{"containerID": 0, "hostID": 100000, "size": 65536}]|[{"containerID": 1, "hostID": 100000, "size": 65535}]|group'; do
		IFS='|' read -r um gm what <<<"$m"
		same '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = ($u | fromjson) | .linux.gidMappings = ($g | fromjson)
			| .process.user = {"uid": 1000, "gid": 1000}' --arg u "$um" --arg g "$gm"
		both 'id'
		refused "User namespaces enabled, but no $what mapping found" || { echo "maps $um $gm" >&2; return 1; }
		assert_equal "$err_tw" "tw-runc: User namespaces enabled, but no $what mapping found"
	done
}

@test "namespaces present, absent, joined by path: a generated family" {
	# a holder of a namespace of each type, to join by path
	local t n holder kinds='pid ipc uts network cgroup'
	declare -A file=([pid]=pid [ipc]=ipc [uts]=uts [network]=net [cgroup]=cgroup)
	declare -A opt=([pid]=--pid [ipc]=--ipc [uts]=--uts [network]=--net [cgroup]=--cgroup)
	declare -A held
	for t in $kinds; do
		unshare "${opt[$t]}" --fork --kill-child sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
		HOLDERS+=" $!" # killed by teardown
		for _ in $(seq 50); do holder=$(pgrep -P "$!" sleep) && break; sleep 0.05; done
		held[$t]=$holder
	done
	# what the program sees of each namespace: the runtime's, one held by
	# the test, or one of its own
	local probe='for n in pid ipc uts net cgroup; do i=$(readlink /proc/self/ns/$n); eval "h=\$H_$n j=\${J_$n:-}"
		if [ "$i" = "$h" ]; then echo "$n host"; elif [ "$i" = "$j" ]; then echo "$n joined"; else echo "$n own"; fi; done'
	local env='[]'
	for n in pid ipc uts net cgroup; do
		env=$(jq -c --arg h "H_$n=$(readlink /proc/self/ns/$n)" '. + [$h]' <<<"$env")
	done
	for t in $kinds; do
		for form in absent path; do
			n=${file[$t]}
			same '.process.env += ($e | fromjson) + [$j]
				| .linux.namespaces = [.linux.namespaces[] | select(.type != $t)]
					+ (if $f == "path" then [{"type": $t, "path": $p}] else [] end)
				| if $t == "uts" and $f == "absent" then del(.hostname) else . end' \
				--arg e "$env" --arg j "J_$n=$(readlink "/proc/${held[$t]}/ns/$n")" --arg t "$t" --arg f "$form" \
				--arg p "/proc/${held[$t]}/ns/$n"
			both "$probe"
			agree || { echo "namespace $t $form" >&2; return 1; }
			ran
			[[ "$out_tw" == *"$n $([ "$form" = absent ] && echo host || echo joined)"* ]] ||
				{ echo "namespace $t $form: $out_tw" >&2; return 1; }
		done
	done
	# all of them new: each the container's own
	same '.process.env += ($e | fromjson)
		| .linux.namespaces = [.linux.namespaces[] | select(.type != "cgroup")] + [{"type": "cgroup"}]' --arg e "$env"
	both "$probe"
	agree
	ran
	assert_equal "$out_tw" $'pid own\nipc own\nuts own\nnet own\ncgroup own'
}

@test "mounts onto sensitive and hostile destinations: /sys, /dev, .., symlinks out of the root, a generated family" {
	echo 42 >src
	mkdir dir out
	ln -s /../../../../../../"$PWD"/out "$BUNDLE/rootfs/escape"
	ln -s ../../../../../../../.. "$BUNDLE/rootfs/up"
	while IFS='|' read -r mount want; do
		same '.mounts += [$m | fromjson]' --arg m "$mount"
		both 'ls /escape /up /sys/kernel /dev >/dev/null 2>&1; echo ran'
		agree_or_refused "$want" || { echo "mount $mount" >&2; return 1; }
		# whatever the runtime did, nothing landed outside the root
		[ -z "$(ls -A out)" ] || { echo "mount $mount: wrote to $(ls -A out) outside the root" >&2; return 1; }
	done <<-EOF
		{"destination": "/sys/kernel/x", "type": "tmpfs", "source": "tmpfs"}|
		{"destination": "/sys", "type": "bind", "source": "$PWD/dir", "options": ["rbind"]}|
		{"destination": "/dev/urandom", "type": "bind", "source": "$PWD/src", "options": ["bind"]}|
		{"destination": "/dev/pts/ptmx", "type": "bind", "source": "$PWD/src", "options": ["bind"]}|
		{"destination": "/escape/x", "type": "tmpfs", "source": "tmpfs"}|
		{"destination": "/up/tmp/x", "type": "tmpfs", "source": "tmpfs"}|
		{"destination": "/../../../x", "type": "tmpfs", "source": "tmpfs"}|
		{"destination": "/a/../../b", "type": "bind", "source": "$PWD/dir", "options": ["bind"]}|
		{"destination": "/escape", "type": "bind", "source": "$PWD/dir", "options": ["rbind"]}|
	EOF
	# A file bound over /dev/null: runc 1.1 binds that file over every
	# masked path; tw-runc refuses, as runc 1.2.8+ does (CVE-2025-31133),
	# and runs it without masked paths.
	same '.mounts += [{"destination": "/dev/null", "type": "bind", "source": $s, "options": ["bind"]}]' --arg s "$PWD/src"
	both 'cat /proc/kcore 2>&1 | head -c 2; echo'
	assert_equal "$rc_runc" 0
	[ "$rc_tw" = 1 ] && [[ "$err_tw" == *'/dev/null is not the null device'* ]]
	same '.linux.maskedPaths = [] | .mounts += [{"destination": "/dev/null", "type": "bind", "source": $s, "options": ["bind"]}]' --arg s "$PWD/src"
	echo 42 >src
	both 'read -r x </dev/null; echo "$x"'
	# runc 1.1 runs it too, but its init takes the program's stdout (a
	# file, as the one over /dev/null) for /dev/null and reopens it as the
	# container's: the output goes into that file (as it did above)
	assert_equal "$rc_runc/$out_runc/$(cat src)" 0//42
	assert_equal "$rc_tw/$out_tw" 0/42
}

# userns_holder [UNSHARE-FLAGS…]: a process in a new user namespace (and
# the namespaces of the flags) mapping 0 to 100000 for 65536 ids, as
# root maps it (setgroups allowed), or denying setgroups first with
# DENY=1; sets U to its pid, and chowns the bundle's root to that root.
userns_holder() {
	unshare --user "$@" --fork --kill-child sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	HOLDERS+=" $!"
	local d
	U=
	for _ in $(seq 50); do U=$(pgrep -P "$!" sleep) && break; sleep 0.05; done
	[ -n "$U" ]
	echo '0 100000 65536' >"/proc/$U/uid_map"
	[ -z "${DENY:-}" ] || echo deny >"/proc/$U/setgroups"
	echo '0 100000 65536' >"/proc/$U/gid_map"
	# the root the namespace's root can reach (userns_bundle's way)
	chown -R 100000:100000 "$BUNDLE/rootfs"
	d=$BUNDLE
	while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
}

# JOINUSER is the jq edit that joins the user namespace of $U (--arg u)
# with maps (HOST, SIZE: --argjson h, s), no cgroup mounts.
JOINUSER='.mounts = [.mounts[] | select(.type != "cgroup")]
	| .linux.namespaces = [.linux.namespaces[] | select(.type != "user")] + [{"type": "user", "path": "/proc/\($u)/ns/user"}]
	| .linux.uidMappings = [{"containerID": 0, "hostID": $h, "size": $s}]
	| .linux.gidMappings = [{"containerID": 0, "hostID": $h, "size": $s}]'

@test "a user namespace joined by path: runs as with runc, the namespace's maps whatever config.json's say" {
	userns_holder
	local show='id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; readlink /proc/self/ns/user
		grep -E "^(Cap|Groups)" /proc/self/status; ls -ln /dev | grep -v " -> " | cut -c1-40; touch /t && ls -ln /t'
	same "$JOINUSER" --arg u "$U" --argjson h 100000 --argjson s 65536
	both "$show"
	agree
	ran
	[[ "$out_tw" == 'uid=0(root) gid=0(root)'*'0     100000      65536'*"$(readlink "/proc/$U/ns/user")"* ]]
	# the file the container's root made belongs to the namespace's root
	assert_equal "$(stat -c %u:%g "$BUNDLE/rootfs/t")" 100000:100000
	# Maps that are not the namespace's: runc 1.1.5 neither compares nor
	# uses them (runc 1.2 refuses them), nor does tw-runc.
	same "$JOINUSER" --arg u "$U" --argjson h 200000 --argjson s 1000
	both "$show"
	agree
	ran
	[[ "$out_tw" == 'uid=0(root) gid=0(root)'*'0     100000      65536'* ]]
	# a user the config maps, the namespace too
	same "$JOINUSER | .process.user = {uid: 999, gid: 999, additionalGids: [5]}" --arg u "$U" --argjson h 200000 --argjson s 1000
	both 'id'
	agree
	ran
	assert_equal "$out_tw" 'uid=999 gid=999 groups=5'
	# exec into it, as runc execs
	same "$JOINUSER" --arg u "$U" --argjson h 100000 --argjson s 65536
	runc_args sleep 1000
	local rt id out=()
	for rt in runc tw-runc; do
		id=e$$_$rt
		"$rt" --root "$BATS_TEST_TMPDIR/$rt" create --bundle "$BUNDLE" "$id" </dev/null >/dev/null
		"$rt" --root "$BATS_TEST_TMPDIR/$rt" start "$id"
		out+=("$("$rt" --root "$BATS_TEST_TMPDIR/$rt" exec "$id" sh -c 'id; readlink /proc/self/ns/user; tr "\0" " " </proc/1/cmdline' </dev/null)")
		"$rt" --root "$BATS_TEST_TMPDIR/$rt" delete --force "$id"
		left "$rt" "$id"
	done
	assert_equal "${out[1]}" "${out[0]}"
	assert_equal "${out[1]}" "uid=0(root) gid=0(root)
$(readlink "/proc/$U/ns/user")
sleep 1000 "
}

@test "a user namespace joined by path: maps runc 1.1.5 refuses, the same way; no user namespace at the path" {
	userns_holder
	while IFS='|' read -r edit want; do
		same "$JOINUSER | $edit" --arg u "$U" --argjson h 100000 --argjson s 1000
		both 'echo ran'
		refused "$want" || { echo "$edit" >&2; return 1; }
	done <<-EOF
		del(.linux.uidMappings)|User namespaces enabled, but no uid mappings found
		del(.linux.gidMappings)|User namespaces enabled, but no gid mappings found
		.linux.uidMappings[0].containerID = 1|User namespaces enabled, but no user mapping found
		.linux.gidMappings[0].containerID = 1|User namespaces enabled, but no group mapping found
		.process.user.uid = 1000|cannot set uid to unmapped user in user namespace
		.process.user.gid = 1000|cannot set gid to unmapped user in user namespace
	EOF
	# no user namespace at the path: both fail (runc in its own words),
	# tw-runc in one line, nothing left behind (both checks it)
	while IFS='|' read -r path want; do
		same "$JOINUSER | (.linux.namespaces[] | select(.type == \"user\")).path = \$p" --arg u "$U" --arg p "$path" --argjson h 100000 --argjson s 65536
		both 'echo ran'
		assert_equal "$rc_runc/$rc_tw/$out_tw" 1/1/
		assert_equal "$err_tw" "tw-runc: $want"
	done <<-EOF
		/proc/999999/ns/user|open namespace /proc/999999/ns/user: no such file or directory
		/proc/$U/ns/net|join the user namespace /proc/$U/ns/net: setns: invalid argument
		$BUNDLE/config.json|join the user namespace $BUNDLE/config.json: setns: invalid argument
	EOF
}

@test "a user namespace joined by path with its pid, network and IPC namespaces, or its setgroups denied: as with runc" {
	userns_holder --pid --net --ipc
	local more='.linux.namespaces = [.linux.namespaces[] | select(.type != "pid" and .type != "network" and .type != "ipc")]
		+ [{type: "pid", path: "/proc/\($u)/ns/pid"}, {type: "network", path: "/proc/\($u)/ns/net"}, {type: "ipc", path: "/proc/\($u)/ns/ipc"}]'
	same "$JOINUSER | $more" --arg u "$U" --argjson h 100000 --argjson s 65536
	both 'id; tr "\0" " " </proc/1/cmdline; echo; readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; ip -o link | cut -d: -f2; ls -ln /dev | grep mqueue | cut -c1-40'
	agree
	ran
	[[ "$out_tw" == *"sleep 1000 "*"$(readlink "/proc/$U/ns/net")"*"$(readlink "/proc/$U/ns/ipc")"* ]]
	# Setgroups denied (a namespace a user made): no groups are set, even
	# those asked for, as runc.
	DENY=1 userns_holder
	same "$JOINUSER | .process.user.additionalGids = [5]" --arg u "$U" --argjson h 100000 --argjson s 65536
	both 'id; cat /proc/self/setgroups; grep Groups /proc/self/status'
	agree
	ran
	[[ "$out_tw" == *deny* ]]
}

@test "resources tw-runc refuses by name: realtime CPU and per-device blockIO, which runc 1.1 applies (a gap); hugetlb, rdma, net_cls" {
	# Refused by name rather than ignored: a limit asked for is never
	# silently dropped. runc applies each where the controller exists.
	while IFS='|' read -r res name ctl; do
		same '.linux.resources += ($r | fromjson)' --arg r "$res"
		both 'echo ran'
		[ "$rc_tw" = 1 ] && [[ "$err_tw" == *"$name is not supported" ]] || { echo "$name: $err_tw" >&2; return 1; }
		if [ -d "/sys/fs/cgroup/$ctl" ]; then
			assert_equal "$rc_runc/$out_runc" 0/ran
		else
			# this machine has no such controller: runc fails too
			[ "$rc_runc" = 1 ] && [[ "$err_runc" == *"cannot set "*" limit: container could not join or create cgroup"* ]]
		fi
	done <<-EOF
		{"cpu": {"realtimeRuntime": 0, "realtimePeriod": 1000000}}|linux.resources.cpu.realtimeRuntime|cpu
		{"blockIO": {"throttleReadBpsDevice": [{"major": 7, "minor": 0, "rate": 1048576}]}}|linux.resources.blockIO per device|blkio
		{"hugepageLimits": [{"pageSize": "2MB", "limit": 1073741824}]}|linux.resources.hugepageLimits|hugetlb
		{"rdma": {"mlx5_0": {"hcaHandles": 3}}}|linux.resources.rdma|rdma
		{"network": {"classID": 1048577}}|linux.resources.network|net_cls
	EOF
}
