#!/usr/bin/env bats
# tw-runc on a bundle, directly: runc's lifecycle (create, start, state,
# kill, delete), its errors in runc's words, and nothing left behind.
load helpers
load helpers_runc

setup_file() {
	requires root jq python3
	runc_setup_file
}

setup() {
	requires root jq
	runc_setup
	mkdir "$BATS_TEST_TMPDIR/out"
	config "$BUNDLE" '.mounts += [{"destination": "/out", "type": "bind", "source": $out, "options": ["rbind", "rw"]}]' \
		--arg out "$BATS_TEST_TMPDIR/out"
}

teardown() {
	runc_teardown
}

@test "create, start, state, kill, delete: runc's lifecycle" {
	runc_args sh -c 'echo ran >/out/marker; exec sleep 1000'
	run -0 twrd create --bundle "$BUNDLE" --pid-file pid c1
	assert_output ''
	pid=$(cat pid)
	run -0 twr state c1
	assert_equal "$(jq -r .status <<<"$output")" created
	assert_equal "$(jq -r .pid <<<"$output")" "$pid"
	assert_equal "$(jq -r .id <<<"$output")" c1
	assert_equal "$(jq -r .bundle <<<"$output")" "$BUNDLE"
	assert_equal "$(jq -r .rootfs <<<"$output")" "$BUNDLE/rootfs"
	assert_equal "$(jq -r .ociVersion <<<"$output")" "$(jq -r .ociVersion "$BUNDLE/config.json")"
	jq -e '.created | fromdateiso8601? // (sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601)' <<<"$output" >/dev/null
	# nothing of the program ran: the init waits at the gate, is tw (forked
	# from create, not executed again), in the cgroup
	sleep 0.2
	[ ! -e out/marker ]
	cmp /proc/"$pid"/exe "$TW_BIN/tw"
	# CVE-2019-5736: the init is not dumpable until it executes the
	# program, so no process without CAP_SYS_PTRACE (root without it here,
	# as a container's root is) can open its /proc/PID/exe, the host's tw,
	# for writing or at all
	for mode in O_WRONLY O_RDONLY; do
		run -1 setpriv --inh-caps=-all --bounding-set=-sys_ptrace -- \
			python3 -c 'import os, sys; os.open(sys.argv[1], getattr(os, sys.argv[2]))' /proc/"$pid"/exe "$mode"
		assert_output --partial 'Permission denied'
	done
	run -1 setpriv --inh-caps=-all --bounding-set=-sys_ptrace -- readlink /proc/"$pid"/exe
	grep -qx "$pid" /sys/fs/cgroup/pids/c1/cgroup.procs
	run -0 twr start c1
	assert_output ''
	wait_status c1 running
	for _ in $(seq 50); do [ -e out/marker ] && break; sleep 0.05; done
	assert_equal "$(cat out/marker)" ran
	# the pid of the pid file became the program
	[ "$(readlink /proc/"$pid"/exe)" = /bin/busybox ]
	run -0 twr ps --format json c1
	assert_output "[$pid]"
	run -0 twr kill c1 KILL
	wait_status c1 stopped
	run -0 twr state c1
	assert_equal "$(jq -r .pid <<<"$output")" 0
	run -1 twr kill c1 KILL
	assert_output 'tw-runc: container not running'
	run -0 twr delete c1
	nothing_left c1
}

@test "the Go init (for what the forked one cannot do) runs from a sealed tw" {
	# _TW_RUNC_GO_INIT takes the Go init, as a user namespace or a hook in
	# the container do
	runc_args sh -c 'echo ran >/out/marker; exec sleep 1000'
	_TW_RUNC_GO_INIT=1 run -0 twrd create --bundle "$BUNDLE" --pid-file pid cg
	pid=$(cat pid)
	sleep 0.2
	[ ! -e out/marker ]
	[ "$(readlink /proc/"$pid"/exe)" = /tw ]
	cmp /proc/"$pid"/exe "$TW_BIN/tw"
	# CVE-2019-5736: the tw of the init cannot be opened for writing
	run -1 python3 -c 'import os, sys; os.open(sys.argv[1], os.O_WRONLY)' /proc/"$pid"/exe
	assert_output --partial 'Read-only file system'
	run -0 twr start cg
	for _ in $(seq 50); do [ -e out/marker ] && break; sleep 0.05; done
	assert_equal "$(cat out/marker)" ran
	run -0 twr delete --force cg
	nothing_left cg
}

@test "start lets exactly one program through; a second start is refused" {
	runc_args sh -c 'exit 0'
	run -0 twrd create --bundle "$BUNDLE" c2
	run -0 twr start c2
	run -1 twr start c2
	assert_output --regexp '^tw-runc: cannot start (an already running container|a container that has stopped)$'
	wait_status c2 stopped
	run -1 twr start c2
	assert_output 'tw-runc: cannot start a container that has stopped'
	assert_equal "$(last_log_error)" 'cannot start a container that has stopped'
	run -0 twr delete c2
	nothing_left c2
}

@test "run without --detach passes the output and the status on, and deletes" {
	runc_args sh -c 'echo hi from $(hostname); exit 7'
	config "$BUNDLE" '.hostname = "box"'
	run -7 twr run --bundle "$BUNDLE" r1
	assert_output 'hi from box'
	nothing_left r1
}

@test "a duplicate ID is refused and the first container is untouched" {
	run -0 twrd create --bundle "$BUNDLE" dup
	run -1 twrd create --bundle "$BUNDLE" dup
	assert_output 'tw-runc: container with id exists: dup'
	assert_equal "$(last_log_error)" 'container with id exists: dup'
	assert_equal "$(status dup)" created
	run -0 twr delete dup
	nothing_left dup
}

@test "an unknown ID: does not exist, for every command; delete --force is quiet" {
	for cmd in state start delete pause resume ps; do
		run -1 twr "$cmd" nope
		assert_output 'tw-runc: nope: container does not exist'
	done
	run -1 twr kill nope 9
	assert_output 'tw-runc: nope: container does not exist'
	run -1 twr exec nope true
	assert_output 'tw-runc: nope: container does not exist'
	assert_equal "$(last_log_error)" 'nope: container does not exist'
	run -0 twr delete --force nope
	run -1 twr state ../etc
	assert_output 'tw-runc: invalid container id format: ../etc'
	nothing_left nope
}

@test "delete of a running container needs --force" {
	run -0 twrd run --detach --bundle "$BUNDLE" busy
	assert_equal "$(status busy)" running
	run -1 twr delete busy
	assert_output 'tw-runc: cannot delete container busy that is not stopped: running'
	assert_equal "$(status busy)" running
	run -0 twr delete --force busy
	nothing_left busy
}

@test "delete of a created container kills its init" {
	run -0 twrd create --bundle "$BUNDLE" --pid-file pid made
	pid=$(cat pid)
	run -0 twr delete made
	! kill -0 "$pid" 2>/dev/null || [ "$(awk '{print $3}' /proc/"$pid"/stat)" = Z ]
	nothing_left made
}

@test "a config.json with an error: one clear message, in the log too, nothing left" {
	cp "$BUNDLE/config.json" good.json
	check() { # JQ MESSAGE
		jq "$1" good.json >"$BUNDLE/config.json"
		run -1 twrd create --bundle "$BUNDLE" bad
		assert_output "tw-runc: $2"
		assert_equal "$(last_log_error)" "${2}"
		nothing_left bad
	}
	cfg=$BUNDLE/config.json
	check '.ociVersion = "2.0.0"' "$cfg: unsupported ociVersion \"2.0.0\": need 1.x"
	check '.process.args = []' "$cfg: process.args is empty"
	check '.hooks = {"prestart": [{"path": "true"}]}' "$cfg: hooks: path \"true\" is not absolute"
	check '.hooks = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo no way >&2; exit 3"]}]}' \
		"createRuntime hook /bin/sh: exit status 3: no way"
	check '.linux.namespaces += [{"type": "time"}]' "$cfg: linux.namespaces: the time namespace is not supported"
	check '.linux.namespaces = [.linux.namespaces[] | select(.type != "mount")]' \
		"$cfg: unable to restrict sys entries without a private MNT namespace"
	check '.linux.namespaces = [.linux.namespaces[] | select(.type != "network")] | .linux.sysctl = {"net.ipv4.ip_forward": "1"}' \
		"$cfg: sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace"
	check '.mounts += [{"destination": "/x", "type": "overlay", "source": "none"}]' "$cfg: mounts: type \"overlay\" (at /x) is not supported"
	check '.process.capabilities.bounding += ["CAP_FLY"]' "$cfg: process.capabilities: unknown capability \"CAP_FLY\""
	check '.process.rlimits += [{"type": "RLIMIT_FUN", "hard": 1, "soft": 1}]' "$cfg: process.rlimits: unknown type \"RLIMIT_FUN\""
	check '.linux.seccomp = {"defaultAction": "SCMP_ACT_NOTIFY"}' "$cfg: linux.seccomp.defaultAction \"SCMP_ACT_NOTIFY\" is not supported"
	check '.root.path = "nowhere"' "root: stat $BUNDLE/nowhere: no such file or directory"
	check '.process.args = ["nosuch"]' "exec nosuch: command not found"
	check '.process.cwd = "/nowhere"' "chdir /nowhere: no such file or directory"
	check '.mounts += [{"destination": "/x", "type": "bind", "source": "/nowhere", "options": ["bind"]}]' \
		"mount /x: stat /nowhere: no such file or directory"
	echo '{' >"$cfg"
	run -1 twrd create --bundle "$BUNDLE" bad
	assert_output "tw-runc: $cfg: unexpected end of JSON input"
	nothing_left bad
	rm "$cfg"
	run -1 twrd create --bundle "$BUNDLE" bad
	assert_output "tw-runc: open $cfg: no such file or directory"
	nothing_left bad
}

@test "usage errors: exit 2 and a hint" {
	run -2 tw-runc
	assert_line -n 0 'tw-runc: no command given'
	run -2 tw-runc frobnicate x
	assert_line -n 0 'tw-runc: unknown command: frobnicate'
	run -2 tw-runc init
	assert_line -n 0 'tw-runc: unknown command: init'
	run -2 tw-runc --root "$RUNC_ROOT" create
	assert_line -n 0 'tw-runc: expected 1 argument(s), got 0'
	run -1 tw-runc --root "$RUNC_ROOT" kill x NOSIG
	assert_output 'tw-runc: invalid signal: NOSIG'
}

@test "kill sends the signal to the init; kill --all to every process" {
	runc_args sh -c 'trap "echo usr1 >/out/sig" USR1; sleep 1000 & sleep 1000 & while :; do wait; done'
	run -0 twrd run -d --bundle "$BUNDLE" k1
	for _ in $(seq 50); do [ "$(twr ps --format json k1 | jq length)" = 3 ] && break; sleep 0.05; done
	run -0 twr ps --format json k1
	[ "$(jq length <<<"$output")" = 3 ]
	run -0 twr kill k1 USR1
	for _ in $(seq 50); do [ -s out/sig ] && break; sleep 0.05; done
	assert_equal "$(cat out/sig)" usr1
	assert_equal "$(status k1)" running
	run -0 twr kill --all k1 9
	wait_status k1 stopped
	run -0 twr ps --format json k1
	assert_output '[]'
	run -0 twr kill --all k1 9
	run -0 twr delete k1
	nothing_left k1
}

@test "pause and resume through the cgroup freezer" {
	run -0 twrd run -d --bundle "$BUNDLE" p1
	run -0 twr pause p1
	assert_equal "$(status p1)" paused
	assert_equal "$(cat /sys/fs/cgroup/freezer/p1/freezer.state)" FROZEN
	run -1 twr pause p1
	assert_output 'tw-runc: container not running'
	run -0 twr resume p1
	assert_equal "$(status p1)" running
	run -1 twr resume p1
	assert_output 'tw-runc: container not paused'
	# a frozen container is thawed to die
	run -0 twr pause p1
	run -0 twr delete --force p1
	nothing_left p1
}

@test "exec runs a process in the container's namespaces and cgroup" {
	config "$BUNDLE" '.hostname = "inside"'
	run -0 twrd run -d --bundle "$BUNDLE" --pid-file pid e1
	run -4 twr exec e1 sh -c 'hostname; cat /proc/1/cmdline | tr "\0" " "; echo; exit 4'
	assert_line -n 0 inside
	assert_line -n 1 'sleep 1000 '
	cat >proc.json <<-'JSON'
		{"args": ["sh", "-c", "echo $$ $X >/out/exec; sleep 1000"], "cwd": "/tmp", "env": ["X=from-process-json"], "user": {"uid": 0, "gid": 0}}
	JSON
	run -0 twrd exec --process proc.json --detach --pid-file epid e1
	for _ in $(seq 50); do [ -s out/exec ] && break; sleep 0.05; done
	assert_equal "$(cat out/exec)" "$(twr exec e1 sh -c 'pidof sleep | tr " " "\n" | sort -n | tail -1' | tr -d '\n') from-process-json" ||
		[[ "$(cat out/exec)" == *" from-process-json" ]]
	grep -qx "$(cat epid)" /sys/fs/cgroup/memory/e1/cgroup.procs
	run -0 twr ps --format json e1
	[ "$(jq length <<<"$output")" = 2 ]
	run -1 twr exec e1 nosuch
	assert_output 'tw-runc: exec nosuch: command not found'
	run -0 twr delete --force e1
	nothing_left e1
}

@test "features prints runc's JSON" {
	run -0 tw-runc features
	assert_equal "$(jq -r .ociVersionMin <<<"$output")" 1.0.0
	jq -e '.linux.namespaces | index("mount")' <<<"$output" >/dev/null
	jq -e '.linux.capabilities | index("CAP_SYS_ADMIN")' <<<"$output" >/dev/null
	jq -e '.linux.seccomp.enabled' <<<"$output" >/dev/null
	jq -e '.hooks | index("createRuntime")' <<<"$output" >/dev/null
}

@test "list, ps as a table, --help, a text log" {
	run -0 twrd run -d --bundle "$BUNDLE" --pid-file pid l1
	run -0 twr list --quiet
	assert_output l1
	run -0 twr list --format json
	assert_equal "$(jq -r '.[0].id + " " + .[0].status' <<<"$output")" 'l1 running'
	run -0 twr list
	assert_line -n 0 --regexp '^ID +PID +STATUS +BUNDLE +CREATED +OWNER$'
	assert_line -n 1 --regexp "^l1 +$(cat pid) +running +$BUNDLE "
	run -0 twr ps l1
	assert_output "PID
$(cat pid)"
	run -0 tw-runc --help
	assert_line -n 0 'Usage: tw-runc [GLOBAL OPTIONS] COMMAND [OPTIONS] ID [ARGS…]'
	run -1 tw-runc --root "$RUNC_ROOT" --log text.log kill nope
	grep -q 'level=error msg="nope: container does not exist"' text.log
	run -0 twr delete --force l1
	nothing_left l1
}

@test "update changes the resources of the cgroup, as containerd's shim asks" {
	run -0 twrd run -d --bundle "$BUNDLE" u1
	run -0 twr update --resources - u1 <<<'{"memory": {"limit": 41943040}, "pids": {"limit": 9}, "cpu": {"shares": 256}}'
	assert_equal "$(cat /sys/fs/cgroup/memory/u1/memory.limit_in_bytes)" 41943040
	assert_equal "$(cat /sys/fs/cgroup/pids/u1/pids.max)" 9
	assert_equal "$(cat /sys/fs/cgroup/cpu/u1/cpu.shares)" 256
	run -0 twr update --memory 50331648 --pids-limit 12 u1
	assert_equal "$(cat /sys/fs/cgroup/memory/u1/memory.limit_in_bytes)" 50331648
	assert_equal "$(cat /sys/fs/cgroup/pids/u1/pids.max)" 12
	run -1 twr update --resources - u1 <<<'{"memory": '
	assert_output 'tw-runc: resources from stdin: unexpected EOF'
	run -0 twr delete --force u1
	run -1 twr update --memory 1 u1
	assert_output 'tw-runc: u1: container does not exist'
	nothing_left u1
}

@test "hooks: each kind runs where and when the runtime-spec says, with the state on stdin" {
	hook() { # KIND DIR: a hook that saves its stdin and where it ran
		jq -n --arg k "$1" --arg d "$2" '{"path": "/bin/sh", "args": ["sh", "-c",
			"cat >\($d)/\($k).json; readlink /proc/self/ns/mnt >\($d)/\($k).mnt"], "env": ["PATH=/bin:/usr/bin"]}'
	}
	out=$BATS_TEST_TMPDIR/out
	config "$BUNDLE" '.hooks = {"prestart": [$pre], "createRuntime": [$cr], "createContainer": [$cc],
		"startContainer": [$sc], "poststart": [$ps], "poststop": [$pst]}' \
		--argjson pre "$(hook prestart "$out")" --argjson cr "$(hook createRuntime "$out")" \
		--argjson cc "$(hook createContainer "$out")" --argjson sc "$(hook startContainer /out)" \
		--argjson ps "$(hook poststart "$out")" --argjson pst "$(hook poststop "$out")"
	run -0 twrd create --bundle "$BUNDLE" --pid-file pid h1
	pid=$(cat pid)
	for k in prestart createRuntime createContainer; do
		assert_equal "$(jq -r '.id + " " + .status + " " + (.pid | tostring)' "out/$k.json")" "h1 creating $pid"
	done
	[ ! -e out/startContainer.json ] && [ ! -e out/poststart.json ]
	# the runtime's hooks in the host's mount namespace, createContainer in the container's
	assert_equal "$(cat out/createRuntime.mnt)" "$(readlink /proc/self/ns/mnt)"
	assert_equal "$(cat out/createContainer.mnt)" "$(readlink /proc/"$pid"/ns/mnt)"
	run -0 twr start h1
	for _ in $(seq 50); do [ -s out/startContainer.json ] && break; sleep 0.05; done
	assert_equal "$(jq -r .status out/startContainer.json)" running
	assert_equal "$(cat out/startContainer.mnt)" "$(readlink /proc/"$pid"/ns/mnt)"
	assert_equal "$(jq -r .status out/poststart.json)" running
	[ ! -e out/poststop.json ]
	run -0 twr delete --force h1
	assert_equal "$(jq -r .status out/poststop.json)" stopped
	nothing_left h1
}

@test "run in the foreground with process.terminal: the container's terminal is joined to ours" {
	requires script
	config "$BUNDLE" '.process.terminal = true | .process.args = ["sh", "-c", "tty; stty size; exit 3"]'
	run -3 script -qec "stty cols 100 rows 30; tw-runc --root $RUNC_ROOT run --bundle $BUNDLE t1" /dev/null
	assert_output --partial '/dev/pts/0'
	assert_output --partial '30 100'
	nothing_left t1
	run -1 twrd run -d --bundle "$BUNDLE" t2
	assert_output 'tw-runc: cannot allocate tty if runc will detach without setting console socket'
	nothing_left t2
}

@test "the forked init and the Go init make the same container, for a generated family of configs" {
	# what the program sees: identity, limits, capabilities, mounts (sorted:
	# the forked init mounts proc and the cgroups after the others), cgroup,
	# descriptors, environment; a seccomp filter that denies mkdir
	runc_args sh -c 'id; pwd; hostname; ulimit -n; ulimit -Hn; ulimit -u; umask; cat /proc/self/oom_score_adj
		grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status; cat /proc/sys/kernel/msgmax
		mount | sort; cat /proc/self/cgroup; ls /proc/self/fd; env | sort; mkdir /tmp/m$$ 2>&1 && rmdir /tmp/m$$; touch /x 2>&1 && rm /x; exit 3'
	local -a family=(
		'.'
		'.linux.namespaces |= map(select(.type != "cgroup"))'
		'.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [5, 7], "umask": 63} | .process.cwd = "/tmp"'
		'.process.noNewPrivileges = false | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
			"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
		'.process.user.uid = 1000 | .process.noNewPrivileges = false | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
			"syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
		'.root.readonly = true | .process.oomScoreAdj = 100 | .linux.sysctl = {"kernel.msgmax": "4096"} |
			.process.rlimits = [{"type": "RLIMIT_NPROC", "soft": 50, "hard": 60}] | .hostname = "fam"'
		'.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_SETUID"], "effective": ["CAP_CHOWN"],
			"permitted": ["CAP_CHOWN", "CAP_SETUID"], "inheritable": ["CAP_SETUID"], "ambient": ["CAP_SETUID"]}'
		'.linux.maskedPaths = ["/proc/kcore", "/proc/acpi", "/nonexistent"] | .linux.readonlyPaths = ["/proc/sys", "/etc"]'
	)
	cp "$BUNDLE/config.json" base.json
	local f fork goinit id n=0 all=
	for f in "${family[@]}"; do
		n=$((n + 1))
		id=fam$n
		jq "$f" base.json >"$BUNDLE/config.json"
		run -3 twr run --bundle "$BUNDLE" "$id"
		fork=$output
		_TW_RUNC_GO_INIT=1 run -3 twr run --bundle "$BUNDLE" "$id"
		goinit=$output
		[ "$fork" = "$goinit" ] || { echo "config $f:"; diff <(echo "$goinit") <(echo "$fork"); return 1; }
		nothing_left "$id"
		all+=$fork
	done
	# the family is not empty: the filter and the read-only root showed
	[[ "$all" == *"Read-only file system"* && "$all" == *"Operation not permitted"* && "$all" == *"uid=1000"* ]]
}
