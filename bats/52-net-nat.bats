#!/usr/bin/env bats
# tw-net --nat: the rules it installs (one nftables table named like the
# bridge) and removes. No packet is sent out.
load helpers
load helpers_net

setup_file() {
	requires nft
	net_setup_file twt52 10.201.52
	FORWARD_BEFORE=$(cat /proc/sys/net/ipv4/ip_forward)
	export FORWARD_BEFORE
}

teardown_file() {
	net_teardown_file
	# In case a test failed between --nat and --down.
	if [ -n "${FORWARD_BEFORE:-}" ]; then
		echo "$FORWARD_BEFORE" >/proc/sys/net/ipv4/ip_forward
	fi
}

teardown() {
	net_stop_all
	tw-net --down -b "$BR" >/dev/null 2>&1 || true
	net_check_host
}

# others: the host's ruleset without the test's table.
others() {
	nft list ruleset | awk -v t="table ip $BR {" '$0 == t { skip = 1 } !skip { print } skip && $0 == "}" { skip = 0 }'
}

@test "--up --nat installs one table with the masquerade rule, --down removes it" {
	local before
	before=$(others)
	run -0 --separate-stderr tw-net --up -b "$BR" --subnet "$NET.0/24" --nat
	assert_output ""
	[ -z "$stderr" ]
	run -0 nft list table ip "$BR"
	assert_line --regexp "^[[:space:]]+ip saddr $NET\.0/24 oifname != \"$BR\" masquerade\$"
	assert_line --regexp "^[[:space:]]+type nat hook postrouting priority srcnat; policy accept;\$"
	assert_line --regexp "^[[:space:]]+iifname \"$BR\" accept\$"
	assert_equal "$(cat /proc/sys/net/ipv4/ip_forward)" 1
	assert_equal "$(others)" "$before"
	run -0 ip -o -4 addr show dev "$BR"
	assert_output --partial "inet $NET.1/24"
	run -0 cat "$NET_STATE/$BR/nat"
	assert_output "$FORWARD_BEFORE"

	run -0 --separate-stderr tw-net --down -b "$BR"
	[ -z "$stderr" ]
	run -1 nft list table ip "$BR"
	run -1 ip link show "$BR"
	assert_equal "$(cat /proc/sys/net/ipv4/ip_forward)" "$FORWARD_BEFORE"
	assert_equal "$(others)" "$before"
	[ ! -e "$NET_STATE/$BR" ]
}

@test "--nat on every container keeps one table, and the container runs" {
	local before
	before=$(others)
	run -0 net_container "$C1" --nat -- ip -o -4 addr show eth0
	assert_output --regexp "eth0 +inet $NET\.2/24 "
	run -0 net_container "$C2" --nat -- true
	run -0 nft list table ip "$BR"
	assert_equal "$(grep -c masquerade <<<"$output")" 1
	run -0 nft list tables
	assert_equal "$(grep -c "table ip $BR\$" <<<"$output")" 1
	run -0 tw-net --down -b "$BR"
	run -1 nft list table ip "$BR"
	assert_equal "$(others)" "$before"
	assert_equal "$(cat /proc/sys/net/ipv4/ip_forward)" "$FORWARD_BEFORE"
}

@test "without --nat no rule is installed" {
	local before
	before=$(nft list ruleset)
	run -0 net_container "$C1" -- true
	assert_equal "$(nft list ruleset)" "$before"
	run -0 tw-net --down -b "$BR"
}

@test "a run that fails after --nat took effect takes its rules back" {
	local before
	before=$(nft list ruleset)
	run -1 --separate-stderr tw-net -b "$BR" --subnet "$NET.0/24" --nat --resolv "$BATS_TEST_TMPDIR/nosuch" true
	assert_equal "$stderr" "tw-net: open $BATS_TEST_TMPDIR/nosuch: no such file or directory"
	assert_equal "$(nft list ruleset)" "$before"
	assert_equal "$(cat /proc/sys/net/ipv4/ip_forward)" "$FORWARD_BEFORE"
	run -1 ip link show "$BR"
	[ ! -e "$NET_STATE/$BR" ]
}

@test "a failed --nat run on a bridge in use keeps its containers' records" {
	start_container "$C1" -a "$NET.2"
	local entry
	entry=$(cat "$NET_STATE/$BR/$NET.2")
	run -1 --separate-stderr tw-net -b "$BR" --nat --resolv "$BATS_TEST_TMPDIR/nosuch" true
	assert_equal "$stderr" "tw-net: open $BATS_TEST_TMPDIR/nosuch: no such file or directory"
	run -1 nft list table ip "$BR"
	[ ! -e "$NET_STATE/$BR/nat" ]
	assert_equal "$(cat /proc/sys/net/ipv4/ip_forward)" "$FORWARD_BEFORE"
	assert_equal "$(cat "$NET_STATE/$BR/$NET.2")" "$entry"
	run -0 inside "$CINIT" ping -c1 -W2 "$NET.1"
	stop_container "$C1" "$CPID"
}
