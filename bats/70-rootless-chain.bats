#!/usr/bin/env bats
# The chain as an ordinary user: tw-unshare's user namespace (-U, -r,
# --map-user/--map-group, --map-auto, --setgroups) held to util-linux
# unshare(1), and the container's isolation proofs, on a loop btrfs the
# user owns. Every case runs as a throwaway user (helpers_rootless).
load helpers
load helpers_rootless

setup_file() {
	rootless_setup_file
	# a user whose /etc/subgid range newgidmap refuses ("subuid overflow
	# detected": its end is past 2^32) though it reads as one
	RUSER_BADGID=twg$$
	export RUSER_BADGID
	useradd -M -d "$RDIR/home-badgid" -s /bin/sh -K SUB_GID_COUNT=0 "$RUSER_BADGID"
	usermod --add-subgids 4000000000-4294967295 "$RUSER_BADGID"
	requires btrfs unshare
	rootless_btrfs store
	ROOT=$RDIR/store/root
	export ROOT
	as_user "$BATS_TEST_DIRNAME/../scripts/busybox-rootfs.sh" "$ROOT"
}

teardown_file() {
	[ -z "${RUSER_BADGID:-}" ] || userdel "$RUSER_BADGID" 2>/dev/null || true
	rootless_teardown_file
}

setup() {
	HOST_MOUNTS_BEFORE=$(host_mounts)
}

# The one-line chain for a user: proc, sysfs and /dev mounted at the new
# root before tw-pivot (a user namespace mounts proc and sysfs only while
# another is visible), as rootless runc does. chain MAP PROG…: MAP are the
# user namespace's options.
chain() {
	local map=$1
	shift
	# shellcheck disable=SC2086 # map is several options
	as_user tw-unshare $map --mount --uts --ipc --net --pid --fork --hostname tupperware \
		tw-mountproc --target "$ROOT/proc" tw-mountsys --target "$ROOT/sys" tw-mountdev --target "$ROOT/dev" \
		tw-pivot "$ROOT" tw-harden "$@"
}

@test "without root and without -U tw-unshare says to add -U/-r" {
	run -1 --separate-stderr as_user tw-unshare --mount --pid --fork true
	assert_equal "$stderr" "tw-unshare: new namespaces: fork/exec /usr/bin/true: operation not permitted (not root: add -U/--user with -r/--map-root-user or --map-auto)"
	run -1 --separate-stderr as_user tw-unshare -muinpf tw-pivot "$ROOT" true
	assert_equal "$stderr" "tw-unshare: new namespaces: fork/exec /proc/self/exe: operation not permitted (not root: add -U/--user with -r/--map-root-user or --map-auto)"
	host_unchanged
}

@test "-r, --map-user, --map-group, -U give the maps and setgroups of unshare(1)" {
	local args
	for args in "-r" "-U" "--map-user=1000 --map-group=1000" "--map-user=0" "-U --setgroups=deny" "-U --setgroups=allow"; do
		# shellcheck disable=SC2086 # args are several options
		run -0 as_user unshare $args cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups
		local want=$output
		# shellcheck disable=SC2086
		run -0 as_user tw-unshare $args cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups
		assert_equal "$output" "$want"
		# tw's own child in between (a tw applet next) maps alike
		# shellcheck disable=SC2086
		run -0 as_user tw-unshare $args --uts --hostname x cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups
		assert_equal "$output" "$want"
	done
}

@test "--map-auto maps /etc/subuid and /etc/subgid through newuidmap as unshare(1) does" {
	local args
	for args in "--map-auto" "--map-auto -r" "--map-auto --map-user=1000 --map-group=1000"; do
		# shellcheck disable=SC2086
		run -0 as_user unshare $args cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups
		local want=$output
		# shellcheck disable=SC2086
		run -0 as_user tw-unshare $args cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups
		assert_equal "$output" "$want"
	done
	run -0 as_user tw-unshare --map-auto -r cat /proc/self/uid_map
	assert_line --regexp "^ +1 +$(grep "^$RUSER:" /etc/subuid | cut -d: -f2) +65535\$"
}

@test "--map-auto: newgidmap refusing the range fails with its one line, newuidmap's when both fail; nothing left, id files unchanged" {
	local sums
	sums=$(sha256sum "${ROOTLESS_ID_FILES[@]}" 2>/dev/null)
	# util-linux's unshare --map-auto fails alike: exit 1, newgidmap's line
	run -1 --separate-stderr setpriv --reuid="$RUSER_BADGID" --regid="$RUSER_BADGID" --init-groups \
		env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin unshare --map-auto true
	assert_equal "$stderr" "newgidmap: subuid overflow detected."
	# newuidmap maps the user's range; newgidmap refuses its: the usual way
	# and the one-start chain say so alike, and end their child
	for chain in "true" "-muinpf tw-pivot $ROOT /bin/true"; do
		# shellcheck disable=SC2086 # chain is several words
		run -1 --separate-stderr setpriv --reuid="$RUSER_BADGID" --regid="$RUSER_BADGID" --init-groups \
			env -i PATH="$TW_BIN:/usr/bin:/bin:/usr/sbin:/sbin" tw-unshare --map-auto $chain
		assert_equal "${#stderr_lines[@]}" 1
		assert_regex "$stderr" "^tw-unshare: user namespace: newgidmap [0-9]+ 0 4000000000 294967296: newgidmap: subuid overflow detected\.\$"
		assert_equal "$output" ""
	done
	# both refuse (the caller's real group is not its own): newuidmap's error
	run -1 --separate-stderr setpriv --reuid="$RUSER" --regid="$RUSER_NOSUB" --clear-groups \
		env -i PATH="$TW_BIN:/usr/bin:/bin:/usr/sbin:/sbin" tw-unshare --map-auto -muinpf tw-pivot "$ROOT" /bin/true
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "^tw-unshare: user namespace: newuidmap [0-9]+ 0 [0-9]+ 65536: newuidmap: Target process [0-9]+ is owned by a different user: "
	run -1 pgrep -u "$RUSER_BADGID,$RUSER"
	assert_equal "$(sha256sum "${ROOTLESS_ID_FILES[@]}" 2>/dev/null)" "$sums"
	host_unchanged
}

@test "the user's capabilities inside are those of unshare(1): all as root, none as another uid, no ambient left" {
	local args
	for args in "-r" "--map-user=1000 --map-group=1000" "--map-auto -r" "--map-auto"; do
		# shellcheck disable=SC2086
		run -0 as_user unshare $args grep ^Cap /proc/self/status
		local want=$output
		# shellcheck disable=SC2086
		run -0 as_user tw-unshare $args --uts --hostname x grep ^Cap /proc/self/status
		assert_equal "$output" "$want"
	done
}

@test "errors: no subordinate range, a bad --setgroups, -r with --map-user, an unknown user" {
	run -1 --separate-stderr as_user_nosub tw-unshare --map-auto true
	assert_equal "$stderr" "tw-unshare: /etc/subuid: no range for user $RUSER_NOSUB ($(id -u "$RUSER_NOSUB")): ask root for one (usermod --add-subuids/--add-subgids)"
	run -2 --separate-stderr as_user tw-unshare -U --setgroups=maybe true
	assert_equal "${stderr_lines[0]}" "tw-unshare: unsupported --setgroups argument: maybe"
	run -2 --separate-stderr as_user tw-unshare --setgroups=deny true
	assert_equal "${stderr_lines[0]}" "tw-unshare: --setgroups needs --user"
	run -2 --separate-stderr as_user tw-unshare -r --setgroups=allow true
	assert_equal "${stderr_lines[0]}" "tw-unshare: --setgroups=allow and --map-group exclude each other without root"
	run -2 --separate-stderr as_user tw-unshare -r --map-user=5 true
	assert_equal "${stderr_lines[0]}" "tw-unshare: --map-root-user and --map-user/--map-group exclude each other"
	run -2 --separate-stderr as_user tw-unshare --map-user=no-such-user-$$ true
	assert_equal "${stderr_lines[0]}" "tw-unshare: no such user: no-such-user-$$"
	# -r with --setgroups=deny: deny is written before the gid map (unshare(1) writes it after, and fails)
	run -0 as_user tw-unshare -r --setgroups=deny cat /proc/self/setgroups
	assert_output deny
}

@test "the chain as a user: PID 1, hostname, only the container's mounts, only fds 0-2, root inside, host untouched" {
	local hostname_before
	hostname_before=$(hostname)
	for map in "-r" "-r --map-auto"; do
		run -0 --separate-stderr chain "$map" /bin/sh -c 'echo $$; hostname; id -u; cut -d" " -f5 /proc/self/mountinfo; ls /proc/self/fd; touch /dev/null /THIS_IS_TUPPERWAAAARE' 3>"$RDIR/f"
		assert_line --index 0 1
		assert_line --index 1 tupperware
		assert_line --index 2 0
		refute_line --partial "$RDIR"
		refute_line --regexp '^/(tmp|work|home|etc)'
		assert_line /proc
		assert_line /sys
		assert_line /dev/pts
		# ls's own descriptor for the directory it reads is 3
		assert_equal "$(printf '%s\n' "$output" | tail -4 | tr '\n' ' ')" "0 1 2 3 "
	done
	[ -O "$ROOT/THIS_IS_TUPPERWAAAARE" ] || [ "$(stat -c %u "$ROOT/THIS_IS_TUPPERWAAAARE")" = "$RUID" ]
	assert_equal "$(hostname)" "$hostname_before"
	host_unchanged
}

@test "files made as root inside belong to the user outside; --map-auto ids land in the subordinate range" {
	local sub
	sub=$(grep "^$RUSER:" /etc/subuid | cut -d: -f2)
	run -0 as_user tw-unshare -r --map-auto -muinpf tw-pivot "$ROOT" /bin/sh -c 'touch /mine; touch /theirs; chown 1000:1000 /theirs'
	assert_equal "$(stat -c %u:%g "$ROOT/mine")" "$RUID:$RGID"
	assert_equal "$(stat -c %u "$ROOT/theirs")" "$((sub + 999))"
	rm -f "$ROOT/mine" "$ROOT/theirs"
}

@test "the guards still refuse the host's namespaces as a user" {
	run -1 --separate-stderr as_user tw-pivot "$ROOT" true
	assert_equal "$stderr" "tw-pivot: refusing to change mounts in the host's mount namespace: mnt:[4026531832] is the initial one"
	run -1 --separate-stderr as_user tw-unshare -r --uts --pid --fork tw-pivot "$ROOT" true
	assert_equal "$stderr" "tw-pivot: refusing to change mounts in the host's mount namespace: mnt:[4026531832] is the initial one"
	run -1 --separate-stderr as_user tw-unshare -r --uts --pid --fork tw-mountproc true
	assert_equal "$stderr" "tw-mountproc: refusing to change mounts in the host's mount namespace: mnt:[4026531832] is the initial one"
	run -1 --separate-stderr as_user tw-unshare -r --mount --fork tw-mountproc true
	assert_equal "$stderr" "tw-mountproc: not in a new pid namespace: a fresh proc would list the host's processes (run under tw-unshare --pid --fork, or pass --host-pids)"
	run -1 --separate-stderr as_user tw-unshare -r --uts tw-harden true
	assert_equal "$stderr" "tw-harden: refusing to change mounts in the host's mount namespace: mnt:[4026531832] is the initial one"
	host_unchanged
}

@test "where a user namespace refuses: proc and sysfs after tw-pivot, a device node by mknod" {
	run -1 --separate-stderr as_user tw-unshare -r -muinpf tw-pivot "$ROOT" tw-mountproc true
	assert_equal "$stderr" "tw-mountproc: mount proc /proc: operation not permitted (a user namespace needs a pid namespace of its own (--pid) and the mount before tw-pivot: --target NEWROOT/proc)"
	run -1 --separate-stderr as_user tw-unshare -r -muinpf tw-pivot "$ROOT" tw-mountsys true
	assert_equal "$stderr" "tw-mountsys: mount sysfs /sys: operation not permitted (a user namespace needs a network namespace of its own (--net) and the mount before tw-pivot: --target NEWROOT/sys)"
	run -1 --separate-stderr as_user tw-unshare -r -muinpf tw-pivot "$ROOT" tw-mountdev true
	assert_equal "$stderr" "tw-mountdev: mknod /dev/null: operation not permitted (and no host node /dev/null to bind: run tw-mountdev before tw-pivot, --target NEWROOT/dev)"
	# sysfs needs a network namespace of the user's own
	run -1 --separate-stderr as_user tw-unshare -r -muipf tw-mountsys --target "$ROOT/sys" true
	assert_equal "$stderr" "tw-mountsys: mount sysfs $ROOT/sys: operation not permitted (a user namespace needs a network namespace of its own (--net) and the mount before tw-pivot: --target NEWROOT/sys)"
	host_unchanged
}

@test "tw-limit as a user without a delegated cgroup v2 subtree: a clear error, nothing made" {
	[ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ] || skip "cgroup v2: the user may have a delegated subtree here"
	run -1 --separate-stderr as_user tw-limit --pids 10 --memory 64M true
	assert_output ""
	[[ "$stderr" =~ ^tw-limit:\ mkdir\ /sys/fs/cgroup/[^\ ]+/tw-limit-[0-9a-f]+:\ permission\ denied\ \(not\ root:\ limits\ need\ a\ cgroup\ v2\ subtree\ delegated\ to\ you,\ and\ this\ machine\'s\ controllers\ are\ on\ cgroup\ v1\)$ ]] || fail "$stderr"
}

# limit_delegated NAME ARGS…: tw-limit ARGS… run as the user in a cgroup
# NAME delegated to it as systemd's Delegate=yes does (the directory,
# cgroup.procs, cgroup.subtree_control, cgroup.threads chowned), in a
# private mount namespace where cgroup2 alone is at /sys/fs/cgroup, as on
# a cgroup v2 host (the hierarchy is this machine's own, the v1 mounts
# are hidden; the host's mounts stay as they are). With OTHER=1 (in the
# environment) another process shares the cgroup. Prints tw-limit's output, its exit status,
# and what is left in the cgroup.
limit_delegated() {
	unshare -m --propagation private bash -c '
		mount -t cgroup2 none /sys/fs/cgroup || exit 99
		d=/sys/fs/cgroup/$1
		shift
		mkdir "$d" || exit 99
		chown "$RUSER:" "$d" "$d/cgroup.procs" "$d/cgroup.subtree_control" "$d/cgroup.threads"
		other=""
		if [ -n "${OTHER:-}" ]; then
			sleep 60 &
			other=$!
			echo "$other" >"$d/cgroup.procs"
		fi
		bash -c "echo \$\$ >$d/cgroup.procs; exec setpriv --reuid=$RUSER --regid=$RUSER --init-groups env -i PATH=$TW_BIN:/usr/bin:/bin \"\$@\"" sh "$@" 2>&1
		echo "rc=$?"
		if [ -n "$other" ]; then kill "$other"; wait "$other"; fi
		echo "left: $(cd "$d" && find . -mindepth 1 -type d | wc -l) [$(cat "$d/cgroup.subtree_control")]"
		rmdir "$d"
	' sh "$@"
}

@test "tw-limit as a user in a delegated cgroup v2 cgroup: limits where it has the controllers, else what is missing; nothing left" {
	local v2 name=tw-deleg-$$-$BATS_TEST_NUMBER has
	v2=$(findmnt -n -t cgroup2 -o TARGET | head -1)
	[ -n "$v2" ] || skip "no cgroup v2 mount"
	has=$(sed 's/ /, /g' "$v2/cgroup.subtree_control")
	if grep -qw pids "$v2/cgroup.subtree_control"; then
		run -0 limit_delegated "$name" tw-limit --pids 10 sh -c 'cat /proc/self/cgroup; cat "/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/pids.max"'
		assert_line --regexp "^0::/$name/tw-limit-[0-9a-f]+\$"
		assert_line 10
		assert_line rc=0
	else
		# this machine's v2 hierarchy lacks pids: tw-limit names it, and the cgroup
		run -0 limit_delegated "$name" tw-limit --pids 10 true
		assert_line "tw-limit: cgroup v2 /sys/fs/cgroup/$name: pids not delegated to you (it has ${has:-none})"
		assert_line rc=1
	fi
	assert_line "left: 0 []"
	# Another process in the cgroup: v2 hands controllers down only from
	# a cgroup without any (where pids is missing, that comes first; the
	# go test of package cgroup holds Delegate to it with any controller).
	if grep -qw pids "$v2/cgroup.subtree_control"; then
		OTHER=1 run -0 limit_delegated "$name" tw-limit --pids 10 true
		assert_line --regexp "^tw-limit: cgroup v2 /sys/fs/cgroup/$name: holds other processes \([0-9]+\): "
		assert_line rc=1
		assert_line "left: 0 []"
	fi
	[ ! -e "$v2/$name" ] || { rmdir "$v2/$name"; fail "cgroup $name left"; }
}

@test "the usual rootless chain (tw-net --lo, tw-mountproc/tw-mountsys --target, tw-pivot, PROG) starts tw once and gives what tw's own child gives" {
	local probe='echo $$; hostname; id -u; id -g; cut -d" " -f5 /proc/self/mountinfo; ls /proc/self/fd; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status; ls /'
	local map fast slow
	for map in "-r" "--map-user=1000 --map-group=1000" "-U" "-U --setgroups=deny" "-r --setgroups=deny" "-r --map-auto" "--map-auto --setgroups=allow"; do
		# tw-pivot --force takes the usual way: tw's child runs the applets
		# shellcheck disable=SC2086 # map is several options
		run -0 --separate-stderr as_user env GODEBUG=inittrace=1 tw-unshare $map -muinpf --hostname c1 tw-mountproc --target "$ROOT/proc" tw-pivot "$ROOT" sh -c "$probe" 3>"$RDIR/f"
		fast=$output
		assert_equal "$(grep -c '^init runtime ' <<<"$stderr")" 1
		# shellcheck disable=SC2086
		run -0 --separate-stderr as_user env GODEBUG=inittrace=1 tw-unshare $map -muinpf --hostname c1 tw-mountproc --target "$ROOT/proc" tw-pivot --force "$ROOT" sh -c "$probe" 3>"$RDIR/f"
		slow=$output
		assert_equal "$(grep -c '^init runtime ' <<<"$stderr")" 2
		assert_equal "$fast" "$slow"
	done
	run -0 as_user tw-unshare -r -muinpf --hostname c1 tw-mountproc --target="$ROOT/proc" tw-pivot "$ROOT" sh -c "$probe"
	assert_line --index 0 1
	assert_line --index 1 c1
	assert_line --index 2 0
	assert_line /proc
	refute_line --partial "$RDIR"
	# PROG's failures and status as tw-pivot's (the same both ways)
	for force in "" --force; do
		# shellcheck disable=SC2086 # force is an option or none
		run -127 --separate-stderr as_user tw-unshare -r -muinpf tw-mountproc --target "$ROOT/proc" tw-pivot $force "$ROOT" no-such-prog
		assert_equal "$stderr" "tw-pivot: exec no-such-prog: command not found"
		# shellcheck disable=SC2086
		run -126 --separate-stderr as_user tw-unshare -r -muinpf tw-pivot $force "$ROOT" /etc/passwd
		assert_equal "$stderr" "tw-pivot: exec /etc/passwd: permission denied"
		# shellcheck disable=SC2086
		run -7 as_user tw-unshare -r -muinpf tw-pivot $force "$ROOT" sh -c 'exit 7'
	done
	# tw-mountsys --target too, in any order with tw-mountproc (with
	# --net: without, the usual way says what sysfs needs)
	probe='cut -d" " -f5,6 /proc/self/mountinfo; ls /sys/class/net; echo $$'
	run -0 --separate-stderr as_user env GODEBUG=inittrace=1 tw-unshare -r -muinpf tw-mountsys --target "$ROOT/sys" tw-mountproc --target "$ROOT/proc" tw-pivot "$ROOT" sh -c "$probe"
	fast=$output
	assert_equal "$(grep -c '^init runtime ' <<<"$stderr")" 1
	run -0 --separate-stderr as_user env GODEBUG=inittrace=1 tw-unshare -r -muinpf tw-mountsys --target "$ROOT/sys" tw-mountproc --target "$ROOT/proc" tw-pivot --force "$ROOT" sh -c "$probe"
	assert_equal "$(grep -c '^init runtime ' <<<"$stderr")" 2
	assert_equal "$fast" "$output"
	assert_line "/sys ro,nosuid,nodev,noexec,relatime"
	assert_line lo
	run -1 --separate-stderr as_user tw-unshare -r -muipf tw-mountsys --target "$ROOT/sys" tw-pivot "$ROOT" true
	assert_equal "$stderr" "tw-mountsys: mount sysfs $ROOT/sys: operation not permitted (a user namespace needs a network namespace of its own (--net) and the mount before tw-pivot: --target NEWROOT/sys)"
	# and tw-net --lo first (its network namespace, lo up; tw-mountsys
	# then needs no --net)
	probe='ip -o link show lo | cut -d" " -f2-3; ip -o addr show lo | awk "{ print \$2, \$3, \$4 }"; ls /sys/class/net; hostname; echo $$'
	run -0 --separate-stderr as_user env GODEBUG=inittrace=1 tw-unshare -r -muipf --hostname c1 tw-net --lo tw-mountproc --target "$ROOT/proc" tw-mountsys --target "$ROOT/sys" tw-pivot "$ROOT" sh -c "$probe"
	fast=$output
	assert_equal "$(grep -c '^init runtime ' <<<"$stderr")" 1
	run -0 --separate-stderr as_user env GODEBUG=inittrace=1 tw-unshare -r -muipf --hostname c1 tw-net --lo tw-mountproc --target "$ROOT/proc" tw-mountsys --target "$ROOT/sys" tw-pivot --force "$ROOT" sh -c "$probe"
	assert_equal "$(grep -c '^init runtime ' <<<"$stderr")" 2
	assert_equal "$fast" "$output"
	assert_line --index 0 'lo: <LOOPBACK,UP,LOWER_UP>'
	assert_line 'lo inet 127.0.0.1/8'
	host_unchanged
}

@test "the one-start rootless chain executes PROG through the sealed trampoline where the user could write tw: a '#!/proc/self/exe' script cannot reach it; execve's errors as tw's own child gives them" {
	# the root is the user's: a script there whose interpreter is
	# /proc/self/exe would run the host's tw again (here tw-unshare with
	# the script as its argument, over and over); through the trampoline
	# the kernel runs the trampoline, which finds no program "unshare"
	# and exits 127 (SIGKILL: PID 1 ignores timeout's SIGTERM, and its
	# parent-death signal ends it with tw-unshare)
	printf '#!/proc/self/exe unshare\n' | as_user tee "$ROOT/evil" >/dev/null
	printf 'garbage\n' | as_user tee "$ROOT/garbage" >/dev/null
	printf '#!/nonexistent/interp\n' | as_user tee "$ROOT/badinterp" >/dev/null
	as_user chmod 0755 "$ROOT/evil" "$ROOT/garbage" "$ROOT/badinterp"
	# (only a tw the user could write needs it: the user's own copy)
	as_user mkdir "$RDIR/store/bin"
	as_user cp "$TW_BIN/tw" "$RDIR/store/bin/tw-unshare"
	run -127 as_user timeout -s KILL 5 "$RDIR/store/bin/tw-unshare" -r -muinpf tw-mountproc --target "$ROOT/proc" tw-pivot "$ROOT" /evil
	cmp "$TW_BIN/tw" "$RDIR/store/bin/tw-unshare"
	local tw
	for tw in tw-unshare "$RDIR/store/bin/tw-unshare"; do
		run -0 as_user "$tw" -r -muinpf tw-mountproc --target "$ROOT/proc" tw-pivot "$ROOT" sh -c 'readlink /proc/self/exe; ls /proc/self/fd'
		assert_output $'/bin/busybox\n0\n1\n2\n3'
		run -126 --separate-stderr as_user "$tw" -r -muinpf tw-pivot "$ROOT" /garbage
		assert_equal "$stderr" "tw-pivot: exec /garbage: exec format error"
	done
	as_user rm -r "$RDIR/store/bin"
	local force
	for force in "" --force; do
		# shellcheck disable=SC2086 # force is an option or none
		run -126 --separate-stderr as_user tw-unshare -r -muinpf tw-pivot $force "$ROOT" /garbage
		assert_equal "$stderr" "tw-pivot: exec /garbage: exec format error"
		# shellcheck disable=SC2086
		run -127 --separate-stderr as_user tw-unshare -r -muinpf tw-pivot $force "$ROOT" /badinterp
		assert_equal "$stderr" "tw-pivot: exec /badinterp: no such file or directory"
		# shellcheck disable=SC2086
		run -126 --separate-stderr as_user tw-unshare -r -muinpf tw-pivot $force "$ROOT" /
		assert_equal "$stderr" "tw-pivot: exec /: permission denied"
		# shellcheck disable=SC2086 # and --map-auto's child, which shares tw's memory while it waits
		run -126 --separate-stderr as_user tw-unshare -r --map-auto -muinpf tw-pivot $force "$ROOT" /garbage
		assert_equal "$stderr" "tw-pivot: exec /garbage: exec format error"
	done
	as_user rm -f "$ROOT/evil" "$ROOT/garbage" "$ROOT/badinterp"
	host_unchanged
}
