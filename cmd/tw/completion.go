package main

// completionFunc is the bash code of `tw --completion bash`; the tables it
// reads come before it, made from the applets' --help (doc.go):
//
//	_tw_flags_KEY   every flag of applet KEY (or KEY_COMMAND)
//	_tw_values_KEY  the flags that take a value, as FLAG=KIND
//	_tw_pos_KEY     the kinds of the positional arguments, the last repeats
//	_tw_commands_A  the subcommands of applet A
//
// A KIND is prog (a command: a tw-* applet after a chainloader starts over
// with that applet), image (TRANSPORT:REFERENCE), container (tw-ps),
// runc (tw-runc IDs under --root), subvol, dir, file, command or none.
const completionFunc = `
# _tw_value KEY FLAG: the kind of FLAG's value, if it takes one.
_tw_value() {
	local e
	for e in $(eval "echo \$_tw_values_$1"); do
		if [ "${e%%=*}" = "$2" ]; then
			echo "${e#*=}"
			return 0
		fi
	done
	return 1
}

# _tw_kind KIND CUR ROOT: the candidates for CUR, a KIND, in COMPREPLY.
_tw_kind() {
	local cur=$2 d t
	COMPREPLY=()
	case $1 in
	prog)
		while IFS= read -r d; do COMPREPLY+=("$d"); done < <({
			for d in $_tw_applets; do echo "tw-$d"; done
			compgen -c
		} | grep -F -- "$cur" | grep -- "^$cur" | sort -u)
		;;
	image)
		case $cur in
		oci:* | oci-archive:* | docker-archive:* | dir:*)
			t=${cur%%:*}
			while IFS= read -r d; do
				[ -d "$d" ] && d=$d/
				COMPREPLY+=("$t:$d")
			done < <(compgen -f -- "${cur#*:}")
			compopt -o nospace 2>/dev/null
			;;
		docker:*) ;;
		*)
			while IFS= read -r d; do COMPREPLY+=("$d"); done < <(compgen -W "docker:// oci: oci-archive: docker-archive: dir:" -- "$cur")
			compopt -o nospace 2>/dev/null
			;;
		esac
		;;
	container)
		while IFS= read -r d; do COMPREPLY+=("$d"); done < <(compgen -W "$(tw-ps 2>/dev/null | awk 'NR > 1 { if ($1 != "-") print $1; print $2 }')" -- "$cur")
		;;
	runc)
		while IFS= read -r d; do COMPREPLY+=("$d"); done < <(compgen -W "$(ls "${3:-/run/tw-runc}" 2>/dev/null)" -- "$cur")
		;;
	subvol)
		# subvolumes (inode 256 on btrfs) as they are, other directories
		# with a slash to go on into them
		while IFS= read -r d; do
			if [ "$(stat -c %i -- "$d" 2>/dev/null)" = 256 ] && [ "$(stat -f -c %T -- "$d" 2>/dev/null)" = btrfs ]; then
				COMPREPLY+=("$d")
			else
				COMPREPLY+=("$d/")
			fi
		done < <(compgen -d -- "$cur")
		[ ${#COMPREPLY[@]} -eq 1 ] && [[ ${COMPREPLY[0]} == */ ]] && compopt -o nospace 2>/dev/null
		;;
	dir)
		while IFS= read -r d; do COMPREPLY+=("$d"); done < <(compgen -d -- "$cur")
		compopt -o filenames 2>/dev/null
		;;
	file)
		while IFS= read -r d; do COMPREPLY+=("$d"); done < <(compgen -f -- "$cur")
		compopt -o filenames 2>/dev/null
		;;
	esac
	return 0
}

_tw() {
	local cur=${COMP_WORDS[COMP_CWORD]} i=1 applet key w kind root= n=0 d
	local -a pos
	if [ "${COMP_WORDS[0]##*/}" = tw ]; then
		if [ "$COMP_CWORD" -eq 1 ]; then
			COMPREPLY=()
			while IFS= read -r d; do COMPREPLY+=("$d"); done < <(compgen -W "$_tw_applets --list --install --man --completion --version --help" -- "$cur")
			return 0
		fi
		case ${COMP_WORDS[1]} in
		--completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return 0 ;;
		--install | --man) _tw_kind dir "$cur"; return 0 ;;
		-*) COMPREPLY=(); return 0 ;;
		esac
		applet=${COMP_WORDS[1]#tw-}
		i=2
	else
		applet=${COMP_WORDS[0]##*/}
		applet=${applet#tw-}
	fi
	[[ " $_tw_applets " == *" $applet "* ]] || return 0
	key=$applet
	eval "pos=(\$_tw_pos_${key//-/_})"
	while [ "$i" -lt "$COMP_CWORD" ]; do
		w=${COMP_WORDS[i]}
		case $w in
		--) ;;
		--root=*) root=${w#--root=} ;;
		-*)
			if kind=$(_tw_value "${key//-/_}" "$w") || kind=$(_tw_value "$applet" "$w"); then
				[ "$w" = --root ] && root=${COMP_WORDS[i+1]}
				i=$((i + 1))
				if [ "$i" -eq "$COMP_CWORD" ]; then
					_tw_kind "$kind" "$cur" "$root"
					return 0
				fi
			fi
			;;
		*)
			kind=${pos[n]:-${pos[${#pos[@]}-1]:-none}}
			case $kind in
			command)
				key=${applet}_$w
				eval "pos=(\$_tw_pos_${key//-/_})"
				n=-1
				;;
			prog)
				if [[ $w == tw-* && " $_tw_applets " == *" ${w#tw-} "* ]]; then
					applet=${w#tw-}
					key=$applet
					eval "pos=(\$_tw_pos_${key//-/_})"
					n=-1
				else
					# a program of its own: complete as its command line
					if declare -F _command_offset >/dev/null; then
						_command_offset "$i"
					else
						_tw_kind file "$cur"
					fi
					return 0
				fi
				;;
			esac
			n=$((n + 1))
			;;
		esac
		i=$((i + 1))
	done
	if [[ $cur == -* ]]; then
		COMPREPLY=()
		while IFS= read -r d; do COMPREPLY+=("$d"); done < <(compgen -W "$(eval "echo \$_tw_flags_${key//-/_}")" -- "$cur")
		return 0
	fi
	kind=${pos[n]:-${pos[${#pos[@]}-1]:-none}}
	if [ "$kind" = command ]; then
		COMPREPLY=($(compgen -W "$(eval "echo \$_tw_commands_$applet")" -- "$cur"))
		return 0
	fi
	_tw_kind "$kind" "$cur" "$root"
}

complete -F _tw tw $(for _tw_a in $_tw_applets; do printf 'tw-%s ' "$_tw_a"; done)
unset _tw_a
`
