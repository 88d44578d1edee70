package net

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
)

// The firewall part of tw-net: one nftables table per bridge, named like
// the bridge, holding every rule --nat installs; removing the table
// removes them all and touches no other rule of the host.

// IPForward is the sysctl that makes the host route between interfaces.
const IPForward = "/proc/sys/net/ipv4/ip_forward"

// NatRules is the nft script that (re)makes the table of bridge: masquerade
// what leaves subnet through another interface, and accept forwarding for
// the bridge (a drop policy of another table still wins).
func NatRules(bridge string, subnet netip.Prefix) string {
	return fmt.Sprintf(`table ip %[1]s
delete table ip %[1]s
table ip %[1]s {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr %[2]s oifname != "%[1]s" masquerade
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "%[1]s" accept
		oifname "%[1]s" ct state established,related accept
	}
}
`, bridge, subnet)
}

// nft runs nft(8) with script on its standard input.
func nft(script string) error {
	cmd := exec.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(strings.SplitN(out.String(), "\n", 2)[0])
		if msg == "" {
			return fmt.Errorf("nft: %w", err)
		}
		return fmt.Errorf("nft: %w: %s", err, msg)
	}
	return nil
}

// AddNat installs the table of bridge and turns IP forwarding on. It
// returns the ip_forward value it found.
func AddNat(bridge string, subnet netip.Prefix) (string, error) {
	old, err := os.ReadFile(IPForward)
	if err != nil {
		return "", err
	}
	if err := nft(NatRules(bridge, subnet)); err != nil {
		return "", fmt.Errorf("nat: %w", err)
	}
	if err := os.WriteFile(IPForward, []byte("1\n"), 0o644); err != nil {
		DelNat(bridge)
		return "", fmt.Errorf("nat: %w", err)
	}
	return strings.TrimSpace(string(old)), nil
}

// HasNat tells whether the table of bridge exists.
func HasNat(bridge string) bool {
	if _, err := exec.LookPath("nft"); err != nil {
		return false
	}
	return exec.Command("nft", "list", "table", "ip", bridge).Run() == nil
}

// DelNat removes the table of bridge.
func DelNat(bridge string) error {
	if err := nft("delete table ip " + bridge + "\n"); err != nil {
		return fmt.Errorf("nat: %w", err)
	}
	return nil
}
