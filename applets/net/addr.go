package net

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// The pure part of tw-net: names, subnets and address allocation.

// Prefix is the start of every name tw-net gives: bridges, veths and
// nftables tables, so that they can be found and removed.
const Prefix = "tw"

// maxName is the longest interface name Linux accepts (IFNAMSIZ-1).
const maxName = 15

// DefaultSubnet is the bridge's subnet when neither --subnet nor --addr
// with a length names one (podman's default network).
var DefaultSubnet = netip.MustParsePrefix("10.88.0.0/16")

// CheckBridgeName accepts a name tw-net may create and remove: "tw" then
// letters, digits or '_', at most 15 characters (also a valid nftables
// table name).
func CheckBridgeName(name string) error {
	switch {
	case len(name) > maxName:
		return fmt.Errorf("--bridge %s: longer than %d characters", name, maxName)
	case !strings.HasPrefix(name, Prefix) || len(name) == len(Prefix):
		return fmt.Errorf("--bridge %s: must be %q followed by letters or digits", name, Prefix)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("--bridge %s: only letters, digits and '_' are allowed", name)
		}
	}
	return nil
}

// ParseSubnet parses --subnet: an IPv4 network in CIDR notation, with room
// for the bridge and at least one container (/30 or larger).
func ParseSubnet(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("--subnet %s: not an IPv4 CIDR", s)
	}
	if p.Bits() > 30 {
		return netip.Prefix{}, fmt.Errorf("--subnet %s: too small, /30 at most", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("--subnet %s: host bits set (the network is %s)", s, p.Masked())
	}
	return p, nil
}

// ParseAddr parses --addr: an IPv4 address, alone or with the length of
// the bridge's subnet (10.88.0.2/16). The subnet is invalid when none was
// given.
func ParseAddr(s string) (netip.Addr, netip.Prefix, error) {
	bad := fmt.Errorf("--addr %s: not an IPv4 address or CIDR", s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Addr{}, netip.Prefix{}, bad
		}
		return a, netip.Prefix{}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Addr{}, netip.Prefix{}, bad
	}
	if p.Bits() > 30 {
		return netip.Addr{}, netip.Prefix{}, fmt.Errorf("--addr %s: subnet too small, /30 at most", s)
	}
	return p.Addr(), p.Masked(), nil
}

// Gateway is the bridge's address: the first one of the subnet.
func Gateway(p netip.Prefix) netip.Addr { return p.Masked().Addr().Next() }

// Broadcast is the last address of an IPv4 subnet.
func Broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(b)
}

// ErrInUse is the reason an address cannot be given to a container.
var ErrInUse = errors.New("address in use")

// CheckAddr accepts a for a container on a bridge with subnet p: inside p,
// neither the network, the broadcast nor the bridge's own address.
func CheckAddr(a netip.Addr, p netip.Prefix) error {
	switch {
	case !p.Contains(a):
		return fmt.Errorf("%s: not in the bridge's subnet %s", a, p)
	case a == p.Masked().Addr():
		return fmt.Errorf("%s: is the network address of %s", a, p)
	case a == Broadcast(p):
		return fmt.Errorf("%s: is the broadcast address of %s", a, p)
	case a == Gateway(p):
		return fmt.Errorf("%s: %w by the bridge", a, ErrInUse)
	}
	return nil
}

// Allocate returns the lowest address of p after the bridge's that is not
// in used.
func Allocate(p netip.Prefix, used map[netip.Addr]bool) (netip.Addr, error) {
	last := Broadcast(p)
	for a := Gateway(p).Next(); a.IsValid() && a.Less(last); a = a.Next() {
		if !used[a] {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("subnet %s: no free address", p)
}

// Overlap returns the first of routes that overlaps p, if any: a bridge
// on p would take traffic from the host's own networks.
func Overlap(p netip.Prefix, routes []netip.Prefix) (netip.Prefix, bool) {
	for _, r := range routes {
		if r.Bits() > 0 && r.Overlaps(p) {
			return r, true
		}
	}
	return netip.Prefix{}, false
}
