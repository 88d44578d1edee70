#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# Man pages and shell completion, made from the applets' own --help.

load helpers

setup_file() {
	requires man groff
	export MANDIR=$BATS_FILE_TMPDIR/man1 COMP=$BATS_FILE_TMPDIR/tw.bash
	tw --man "$MANDIR"
	tw --completion bash >"$COMP"
}

setup() {
	requires man groff
	cd "$BATS_TEST_TMPDIR" || exit
}

# complete_words WORD…: what _tw offers for the last WORD, one per line,
# as bash would call it (COMP_WORDS, COMP_CWORD).
complete_words() {
	# shellcheck disable=SC1090
	bash -c '. "$COMP"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _tw; printf "%s\n" "${COMPREPLY[@]}"' tw "$@"
}

@test "tw --man: a page for tw and for every applet, which man -l renders without a warning" {
	pages=$(cd "$MANDIR" && ls)
	assert_equal "$pages" "$( (echo tw.1; tw --list | sed 's/$/.1/') | sort)"
	for a in tw $(tw --list); do
		run -0 --separate-stderr env LC_ALL=C.UTF-8 MANWIDTH=200 man --warnings -l "$MANDIR/$a.1"
		[ -z "$stderr" ] || fail "$a.1: $stderr"
		assert_line --regexp "^NAME"
		[[ "$(tr -s ' ' <<<"$output")" == *" $a - "* ]] || fail "$a.1: no NAME line"
	done
}

@test "tw --man: each page is the applet's --help: synopsis, every option, its text" {
	for a in $(tw --list); do
		page=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$MANDIR/$a.1" 2>/dev/null | sed 's/‐//g' | tr -s ' ')
		help=$("$a" --help)
		# the synopsis: the first line of --help without "Usage: "
		syn=$(head -1 <<<"$help" | sed 's/^Usage: //' | tr -s ' ')
		[[ "$page" == *"$syn"* ]] || fail "$a: synopsis '$syn' missing"
		# every long option
		for o in $(grep -oE -- '--[a-z][a-z0-9.-]*' <<<"$(sed -n '/^Options:/,$p' <<<"$help")" | awk '!/^--help$/' | sort -u); do
			[[ "$page" == *"$o"* ]] || fail "$a: $o missing"
		done
		# the summary of tw --help
		summary=$(tw --help | awk -v a="$a" '$1 == a { $1 = ""; sub(/^ +/, ""); print }')
		[[ "$page" == *"$a - $summary"* ]] || fail "$a: summary '$summary' missing"
	done
}

@test "tw --man and --completion: bad input" {
	run -2 --separate-stderr tw --man
	assert_equal "$stderr" "tw: --man: expected one directory"
	run -2 --separate-stderr tw --completion fish
	assert_equal "$stderr" "tw: --completion: expected bash or zsh"
	touch file
	run -1 --separate-stderr tw --man file/man1
	[[ "$stderr" == "tw: man: "* ]]
}

@test "completion: complete -p names tw and every applet" {
	# shellcheck disable=SC1090
	run -0 bash -c '. "$COMP"; complete -p'
	assert_line "complete -F _tw tw"
	for a in $(tw --list); do
		assert_line "complete -F _tw $a"
	done
}

@test "completion: applet names, and every flag of every applet" {
	run -0 complete_words tw ''
	for a in $(tw --list); do assert_line "${a#tw-}"; done
	run -0 complete_words tw pu
	assert_output pull
	for a in $(tw --list); do
		run -0 complete_words "$a" --
		for o in $("$a" --help | sed -n '/^Options:/,$p' | grep -oE -- '^ +(-[a-z], )?--[a-z][a-z0-9._-]*' | grep -oE -- '--[a-z][a-z0-9._-]*'); do
			assert_line "$o"
		done
	done
	run -0 complete_words tw-pull --dest-t
	assert_output --dest-tls-verify
}

@test "completion: transports after tw-pull and tw-inspect, then paths" {
	mkdir layout
	run -0 complete_words tw-pull ''
	assert_equal "$output" "$(printf '%s\n' docker:// oci: oci-archive: docker-archive: dir:)"
	run -0 complete_words tw-pull oci:lay
	assert_output oci:layout/
	run -0 complete_words tw inspect --raw oci-a
	assert_output oci-archive:
	run -0 complete_words tw-pull --authfile lay
	assert_output layout
}

@test "completion: a chain goes on with the next applet; PROG is a command" {
	mkdir root
	run -0 complete_words tw-unshare -muinpf --hostname x tw-piv
	assert_output tw-pivot
	run -0 complete_words tw-unshare -muinpf --hostname x tw-pivot ro
	assert_output root
	run -0 complete_words tw-unshare -muinpf tw-pivot root tw-mountproc --ta
	assert_output --target
	run -0 complete_words tw-unshare -m bas
	assert_line bash
}

@test "completion: tw-runc container IDs from --root, subcommands and their flags" {
	mkdir -p state/c1 state/c2
	run -0 complete_words tw-runc ''
	assert_line exec
	assert_line resume
	run -0 complete_words tw-runc --root state kill ''
	assert_equal "$output" "$(printf '%s\n' c1 c2)"
	run -0 complete_words tw-runc --root=state exec c
	assert_equal "$output" "$(printf '%s\n' c1 c2)"
	run -0 complete_words tw-runc exec --t
	assert_line --tty
}

@test "completion: subvolume paths for tw-subvol and tw-snapshot" {
	requires btrfs
	setup_btrfs
	mkdir "$BTRFS/plain"
	btrfs subvolume create "$BTRFS/sv" >/dev/null
	run -0 complete_words tw-subvol delete "$BTRFS/"
	assert_line "$BTRFS/sv"
	assert_line "$BTRFS/plain/"
	run -0 complete_words tw-snapshot "$BTRFS/s"
	assert_output "$BTRFS/sv"
	run -0 complete_words tw-subvol ''
	assert_equal "$output" "$(printf '%s\n' create delete list show ro)"
	btrfs subvolume delete "$BTRFS/sv" >/dev/null
	teardown_btrfs
}

@test "completion: tw-enter completes running containers' names and PIDs" {
	requires root /bin/busybox
	busybox_rootfs root
	name=ux-comp-$$
	tw-unshare -muinpf --hostname "$name" tw-pivot root tw-mountproc /bin/sleep 1000 3>&- &
	pid=$!
	for _ in $(seq 50); do tw-ps | grep -q "^$name " && break; sleep 0.1; done
	run -0 complete_words tw-enter ux-comp-
	assert_line "$name"
	# and by PID: the one tw-ps shows
	cpid=$(tw-ps | awk -v n="$name" '$1 == n { print $2 }')
	run -0 complete_words tw-enter "$cpid"
	assert_line "$cpid"
	kill -KILL "$pid"
	wait "$pid" || true
}

@test "tw --completion zsh loads in zsh through bashcompinit" {
	requires zsh
	tw --completion zsh >_tw
	run -0 zsh -c 'autoload -U compinit && compinit -u; . ./_tw; whence -w _tw'
	assert_output '_tw: function'
	# bashcompinit calls _tw under "emulate sh"; zsh itself then keeps the
	# candidates that match the word (its compgen -W does not filter)
	# shellcheck disable=SC2016
	run -0 zsh -c 'autoload -U compinit && compinit -u; . ./_tw; emulate sh
		COMP_WORDS=(tw-pull --de); COMP_CWORD=1; _tw; printf "%s\n" "${COMPREPLY[@]}"
		COMP_WORDS=(tw inspect o); COMP_CWORD=2; _tw; printf "%s\n" "${COMPREPLY[@]}"'
	assert_line --dest-tls-verify
	assert_line oci:
}

@test "make install puts the pages and the completion where man and bash-completion look" {
	requires make
	run -0 make -s -C "$BATS_TEST_DIRNAME/.." install DESTDIR="$BATS_TEST_TMPDIR/d" PREFIX=/usr
	[ -f d/usr/share/man/man1/tw.1 ]
	for a in $(tw --list); do
		[ -f "d/usr/share/man/man1/$a.1" ]
		[ "$(readlink "d/usr/share/bash-completion/completions/$a")" = tw ]
	done
	run -0 env MANPATH="$BATS_TEST_TMPDIR/d/usr/share/man" man -w tw-pull
	assert_output "$BATS_TEST_TMPDIR/d/usr/share/man/man1/tw-pull.1"
	cmp d/usr/share/bash-completion/completions/tw "$COMP"
	# and the zsh one where zsh's own functions look
	cmp d/usr/share/zsh/vendor-completions/_tw <(tw --completion zsh)
	# bash-completion's own loader finds it there, for tw and for a tw-* name
	if [ -f /usr/share/bash-completion/bash_completion ]; then
		for a in tw tw-pull; do
			run -0 env XDG_DATA_DIRS="$BATS_TEST_TMPDIR/d/usr/share" bash -c '. /usr/share/bash-completion/bash_completion; __load_completion "$1"; complete -p "$1"' _ "$a"
			assert_output "complete -F _tw $a"
		done
	fi
}
