#!/usr/bin/env bats
# tw-runc honours config.json: process (user, env, cwd, rlimits,
# capabilities, noNewPrivileges), root, hostname, mounts, namespaces (new
# and joined), id mappings, masked and read-only paths, devices,
# resources, sysctl, seccomp. Each checked from inside the container with
# `tw-runc run`, and against runc where the two must agree.
load helpers
load helpers_runc

setup_file() {
	requires root jq
	runc_setup_file
}

setup() {
	requires root jq
	runc_setup
}

teardown() {
	runc_teardown
}

# in_container SCRIPT: run sh -c SCRIPT in a container of the bundle.
in_container() {
	runc_args sh -c "$1"
	twr run --bundle "$BUNDLE" "ct$BATS_TEST_NUMBER"
}

@test "process: user with additional groups, env, cwd, umask, oomScoreAdj" {
	config "$BUNDLE" '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [5, 7], "umask": 63}
		| .process.env = ["PATH=/bin", "GREETING=hello there"] | .process.cwd = "/tmp" | .process.oomScoreAdj = 567'
	run -0 in_container 'id; echo "$GREETING"; pwd; umask; echo $HOME; cat /proc/self/oom_score_adj'
	assert_line -n 0 'uid=1000 gid=1001 groups=5,7'
	assert_line -n 1 'hello there'
	assert_line -n 2 '/tmp'
	assert_line -n 3 '0077'
	assert_line -n 4 '/'
	assert_line -n 5 567
	nothing_left "ct$BATS_TEST_NUMBER"
}

@test "process: rlimits, capabilities and noNewPrivileges as runc sets them" {
	config "$BUNDLE" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}, {"type": "RLIMIT_NPROC", "soft": 77, "hard": 77}]
		| .process.capabilities = {"bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"], "effective": ["CAP_KILL", "CAP_CHOWN"],
			"permitted": ["CAP_KILL", "CAP_CHOWN"], "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}'
	script='ulimit -n; ulimit -Hn; ulimit -u; grep -E "^(Cap|NoNewPrivs)" /proc/self/status'
	run -0 in_container "$script"
	tw=$output
	assert_line -n 0 321
	assert_line -n 1 654
	assert_line -n 2 77
	assert_line 'CapBnd:	0000000000002021'
	assert_line 'CapEff:	0000000000000021'
	assert_line 'CapAmb:	0000000000000020'
	assert_line 'NoNewPrivs:	1'
	requires runc
	run -0 runc --root "$BATS_TEST_TMPDIR/runc" run --bundle "$BUNDLE" "rc$BATS_TEST_NUMBER"
	assert_equal "$tw" "$output"
}

@test "root.readonly, hostname, tmpfs and bind mounts, masked and read-only paths" {
	mkdir data && echo from-host >data/file
	config "$BUNDLE" '.root.readonly = true | .hostname = "roomy"
		| .mounts += [{"destination": "/data", "type": "bind", "source": $d, "options": ["rbind", "ro"]},
			{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=700"]}]
		| .linux.maskedPaths = ["/proc/keys", "/proc/acpi", "/nope"] | .linux.readonlyPaths = ["/proc/sys"]' \
		--arg d "$PWD/data"
	run -0 in_container 'hostname; cat /data/file; touch /x 2>&1; touch /data/y 2>&1
		echo ok >/scratch/z && cat /scratch/z; stat -c %a /scratch
		wc -c </proc/keys; ls /proc/acpi | wc -l; echo 1 >/proc/sys/kernel/domainname 2>&1; :'
	assert_line -n 0 roomy
	assert_line -n 1 from-host
	assert_line -n 2 "touch: /x: Read-only file system"
	assert_line -n 3 "touch: /data/y: Read-only file system"
	assert_line -n 4 ok
	assert_line -n 5 700
	assert_line -n 6 0
	assert_line -n 7 0
	assert_line -n 8 --partial "Read-only file system"
	[ ! -e data/y ]
	nothing_left "ct$BATS_TEST_NUMBER"
}

@test "resources with cgroupsPath: memory, pids, cpu in the cgroup v1 hierarchies" {
	config "$BUNDLE" '.linux.cgroupsPath = "/twtest/res" | .linux.resources += {"memory": {"limit": 33554432},
		"pids": {"limit": 17}, "cpu": {"shares": 512, "quota": 50000, "period": 100000}}'
	runc_args sleep 1000
	run -0 twrd create --bundle "$BUNDLE" res
	[ "$(cat /sys/fs/cgroup/memory/twtest/res/memory.limit_in_bytes)" = 33554432 ]
	[ "$(cat /sys/fs/cgroup/pids/twtest/res/pids.max)" = 17 ]
	[ "$(cat /sys/fs/cgroup/cpu/twtest/res/cpu.shares)" = 512 ]
	[ "$(cat /sys/fs/cgroup/cpu/twtest/res/cpu.cfs_quota_us)" = 50000 ]
	grep -qx "$(twr state res | jq .pid)" /sys/fs/cgroup/memory/twtest/res/cgroup.procs
	# the device rules: deny all but runc's defaults
	grep -qx 'c 1:3 rwm' /sys/fs/cgroup/devices/twtest/res/devices.list
	! grep -q '^a ' /sys/fs/cgroup/devices/twtest/res/devices.list
	run -0 twr delete --force res
	[ ! -e /sys/fs/cgroup/memory/twtest/res ] && [ ! -e /sys/fs/cgroup/pids/twtest/res ]
	rmdir /sys/fs/cgroup/*/twtest
}

@test "sysctl in the container's own namespaces" {
	config "$BUNDLE" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4321"}'
	run -0 in_container 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax'
	assert_output $'1\n4321'
	[ "$(cat /proc/sys/kernel/msgmax)" != 4321 ]
}

@test "linux.seccomp: errno rules with and without argument conditions" {
	config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
		"syscalls": [
			{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
			{"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
				"args": [{"index": 2, "value": 511, "op": "SCMP_CMP_EQ"}]},
			{"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
				"args": [{"index": 1, "value": 511, "op": "SCMP_CMP_EQ"}]},
			{"names": ["no_such_syscall"], "action": "SCMP_ACT_ERRNO"}]}'
	run -0 in_container 'mkdir /tmp/d 2>&1; touch /tmp/f; chmod 777 /tmp/f 2>&1; chmod 700 /tmp/f && stat -c %a /tmp/f
		grep -E "^Seccomp:" /proc/self/status'
	assert_line -n 0 "mkdir: can't create directory '/tmp/d': Operation not permitted"
	assert_line -n 1 "chmod: /tmp/f: Permission denied"
	assert_line -n 2 700
	assert_line -n 3 'Seccomp:	2'
}

@test "linux.seccomp: an allow list with the default errno, as Docker's profile" {
	# every syscall busybox sh and echo need, nothing else: mkdir is missing
	allowed=$(jq -n '[ "read","write","open","openat","close","fstat","newfstatat","lstat","stat","mmap","mprotect",
		"munmap","brk","rt_sigaction","rt_sigprocmask","rt_sigreturn","ioctl","access","getpid","getppid","getuid",
		"geteuid","getgid","getegid","execve","exit","exit_group","fcntl","getdents64","getcwd","arch_prctl",
		"set_tid_address","wait4","clone","fork","vfork","dup2","dup3","statx","prlimit64","getrandom","lseek",
		"set_robust_list","rseq","futex","readlink","poll","ppoll","setpgid","getpgrp","sigaltstack" ]')
	config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
		"syscalls": [{"names": $a, "action": "SCMP_ACT_ALLOW"}]}' --argjson a "$allowed"
	run -0 in_container 'echo still here; mkdir /tmp/x 2>&1; :'
	assert_line -n 0 'still here'
	assert_line -n 1 "mkdir: can't create directory '/tmp/x': Function not implemented"
}

@test "a user namespace from uidMappings and gidMappings" {
	userns_bundle
	runc_args sh -c 'id -u; cat /proc/self/uid_map; sleep 1000'
	run -0 twrd create --bundle "$BUNDLE" userns
	pid=$(twr state userns | jq .pid)
	run -0 twr start userns
	for _ in $(seq 50); do [ -s c.out ] && break; sleep 0.05; done
	sleep 0.1
	run -0 cat c.out
	assert_line -n 0 0
	assert_line -n 1 --regexp '^ +0 +100000 +65536$'
	[ "$(stat -c %u /proc/"$pid")" = 100000 ]
	run -0 twr delete --force userns
	nothing_left userns
}

@test "namespaces joined by path: the network and uts of another container" {
	config "$BUNDLE" '.hostname = "first"'
	run -0 twrd run -d --bundle "$BUNDLE" first
	pid=$(twr state first | jq .pid)
	cp -a "$BUNDLE" second
	config second '.hostname = "" | .linux.namespaces = [.linux.namespaces[]
		| if .type == "network" then .path = $p + "/net" elif .type == "uts" then .path = $p + "/uts" else . end]' \
		--arg p "/proc/$pid/ns"
	config second '.process.args = ["sh", "-c", "hostname; readlink /proc/self/ns/net"]'
	run -0 twr run --bundle "$BATS_TEST_TMPDIR/second" second
	assert_line -n 0 first
	assert_line -n 1 "$(readlink /proc/"$pid"/ns/net)"
	run -0 twr delete --force first
	nothing_left first
	nothing_left second
}

@test "--preserve-fds passes descriptors from 3 on; others are closed" {
	runc_args sh -c 'for fd in 3 4 5 6; do [ -e /proc/$$/fd/$fd ] && echo open $fd; done; cat <&3'
	echo through-fd-3 >f
	run -0 twr run --preserve-fds 1 --bundle "$BUNDLE" pfd 3<f 4</dev/null
	assert_output $'open 3\nthrough-fd-3'
}

@test "linux.devices are made; the devices cgroup refuses the others" {
	config "$BUNDLE" '.linux.devices = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 384, "uid": 0, "gid": 6},
			{"path": "/dev/sub/mem", "type": "c", "major": 1, "minor": 1, "fileMode": 384}]
		| .linux.resources.devices = [{"allow": false, "access": "rwm"}]
		| .mounts += [{"destination": "/dev/hostfuse", "type": "bind", "source": "/dev/fuse", "options": ["bind"]}]'
	run -0 in_container 'stat -c "%t:%T %a %u:%g" /dev/mynull; echo x >/dev/mynull && echo written
		stat -c "%t:%T" /dev/sub/mem; head -c 4 /dev/zero | wc -c; (exec 3</dev/hostfuse) 2>&1; :'
	assert_line -n 0 '1:3 600 0:6'
	assert_line -n 1 written
	assert_line -n 2 1:1
	assert_line -n 3 4
	assert_line -n 4 "sh: can't open /dev/hostfuse: Operation not permitted"
	# the devices cgroup, not a capability, said no: allowed, it opens
	config "$BUNDLE" '.linux.resources.devices += [{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}]'
	run -0 in_container 'exec 3</dev/hostfuse && echo opened'
	assert_output opened
	nothing_left "ct$BATS_TEST_NUMBER"
}

@test "cgroup v2: the device rules become an eBPF program attached to the cgroup" {
	requires unshare
	grep -q ' - cgroup2 ' /proc/self/mountinfo || skip "no cgroup2 hierarchy mounted"
	config "$BUNDLE" '.linux.cgroupsPath = "/twv2/dev" | .linux.resources.devices = [{"allow": false, "access": "rwm"}]
		| .mounts += [{"destination": "/dev/hostfuse", "type": "bind", "source": "/dev/fuse", "options": ["bind"]}]'
	runc_args sh -c 'echo x >/dev/null && echo null-ok; head -c 2 /dev/urandom | wc -c; (exec 3</dev/hostfuse) 2>&1; :'
	v2() { # run the bundle with the unified hierarchy alone
		# shellcheck disable=SC2016
		unshare -m sh -euc 'umount -R /sys/fs/cgroup; mount -t cgroup2 none /sys/fs/cgroup
			tw-runc --root "$1" run --bundle "$2" v2dev; rmdir /sys/fs/cgroup/twv2' sh "$RUNC_ROOT" "$BUNDLE"
	}
	run -0 v2
	assert_output $'null-ok\n2\nsh: can\'t open /dev/hostfuse: Operation not permitted'
	config "$BUNDLE" '.linux.resources.devices += [{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "w"}]'
	run -0 v2
	assert_line -n 2 "sh: can't open /dev/hostfuse: Operation not permitted"
	config "$BUNDLE" '.linux.resources.devices += [{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}]'
	run -0 v2
	assert_output $'null-ok\n2'
	nothing_left v2dev
}

@test "cgroup v2: with the unified hierarchy alone (in a private mount namespace), the same lifecycle" {
	requires unshare
	grep -q ' - cgroup2 ' /proc/self/mountinfo || skip "no cgroup2 hierarchy mounted"
	config "$BUNDLE" '.linux.cgroupsPath = "/twv2/c"'
	runc_args sh -c 'cat /proc/self/cgroup | grep "^0::"; ls /sys/fs/cgroup/cgroup.freeze; sleep 1000'
	# shellcheck disable=SC2016
	run -0 unshare -m sh -euc '
		umount -R /sys/fs/cgroup
		mount -t cgroup2 none /sys/fs/cgroup
		r="tw-runc --root $1"
		$r run -d --bundle "$2" v2 </dev/null >"$3" 2>&1
		pid=$($r state v2 | jq .pid)
		grep -qx "$pid" /sys/fs/cgroup/twv2/c/cgroup.procs
		$r pause v2
		$r state v2 | jq -r .status
		cat /sys/fs/cgroup/twv2/c/cgroup.freeze
		$r resume v2
		$r ps --format json v2
		$r delete --force v2
		[ ! -e /sys/fs/cgroup/twv2/c ] && echo removed
		rmdir /sys/fs/cgroup/twv2' sh "$RUNC_ROOT" "$BUNDLE" "$BATS_TEST_TMPDIR/c.out"
	assert_line -n 0 paused
	assert_line -n 1 1
	assert_line -n 2 --regexp '^\[[0-9]+\]$'
	assert_line -n 3 removed
	run -0 cat c.out
	assert_line -n 0 '0::/'
	assert_line -n 1 /sys/fs/cgroup/cgroup.freeze
	nothing_left v2
}

@test "a bundle without a /dev mount: the nodes go to the root's /dev, twice" {
	config "$BUNDLE" '.mounts = [.mounts[] | select(.destination | startswith("/dev") | not)]'
	run -0 in_container 'echo x >/dev/null && echo null-ok; readlink /dev/stdout'
	assert_output $'null-ok\n/proc/self/fd/1'
	run -0 in_container 'echo x >/dev/null && echo null-ok; readlink /dev/stdout'
	assert_output $'null-ok\n/proc/self/fd/1'
	[ "$(stat -c %t:%T "$BUNDLE/rootfs/dev/null")" = 1:3 ]
	nothing_left "ct$BATS_TEST_NUMBER"
}
