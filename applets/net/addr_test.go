package net

import (
	"net/netip"
	"strings"
	"testing"
)

func TestCheckBridgeName(t *testing.T) {
	for name, want := range map[string]string{
		"tw0":              "",
		"twt0":             "",
		"tw_lab_0123456":   "",
		"tw_lab_01234567":  "",
		"tw_lab_012345678": "--bridge tw_lab_012345678: longer than 15 characters",
		"tw":               `--bridge tw: must be "tw" followed by letters or digits`,
		"eth0":             `--bridge eth0: must be "tw" followed by letters or digits`,
		"":                 `--bridge : must be "tw" followed by letters or digits`,
		"tw-0":             "--bridge tw-0: only letters, digits and '_' are allowed",
		"tw/0":             "--bridge tw/0: only letters, digits and '_' are allowed",
		"tw 0":             "--bridge tw 0: only letters, digits and '_' are allowed",
	} {
		err := CheckBridgeName(name)
		if got := errString(err); got != want {
			t.Errorf("%q: got %q, want %q", name, got, want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestParseSubnet(t *testing.T) {
	for s, want := range map[string]string{
		"10.88.0.0/16":   "",
		"10.201.0.0/24":  "",
		"192.168.7.4/30": "",
		"10.0.0.0/31":    "--subnet 10.0.0.0/31: too small, /30 at most",
		"10.88.0.1/16":   "--subnet 10.88.0.1/16: host bits set (the network is 10.88.0.0/16)",
		"10.88.0.0":      "--subnet 10.88.0.0: not an IPv4 CIDR",
		"10.88.0.0/33":   "--subnet 10.88.0.0/33: not an IPv4 CIDR",
		"fd00::/64":      "--subnet fd00::/64: not an IPv4 CIDR",
		"ten/8":          "--subnet ten/8: not an IPv4 CIDR",
	} {
		_, err := ParseSubnet(s)
		if got := errString(err); got != want {
			t.Errorf("%q: got %q, want %q", s, got, want)
		}
	}
}

func TestParseAddr(t *testing.T) {
	for _, tc := range []struct{ in, addr, subnet, err string }{
		{"10.88.0.2/16", "10.88.0.2", "10.88.0.0/16", ""},
		{"10.201.0.9/24", "10.201.0.9", "10.201.0.0/24", ""},
		{"10.201.0.9", "10.201.0.9", "invalid Prefix", ""},
		{"10.201.0.300/24", "", "", "--addr 10.201.0.300/24: not an IPv4 address or CIDR"},
		{"10.201.0.3/", "", "", "--addr 10.201.0.3/: not an IPv4 address or CIDR"},
		{"fd00::2/64", "", "", "--addr fd00::2/64: not an IPv4 address or CIDR"},
		{"fd00::2", "", "", "--addr fd00::2: not an IPv4 address or CIDR"},
		{"10.201.0.1/31", "", "", "--addr 10.201.0.1/31: subnet too small, /30 at most"},
	} {
		a, p, err := ParseAddr(tc.in)
		if got := errString(err); got != tc.err {
			t.Errorf("%q: error %q, want %q", tc.in, got, tc.err)
			continue
		}
		if err == nil && (a.String() != tc.addr || p.String() != tc.subnet) {
			t.Errorf("%q: got %s %s, want %s %s", tc.in, a, p, tc.addr, tc.subnet)
		}
	}
}

func TestGatewayBroadcast(t *testing.T) {
	for _, tc := range []struct{ subnet, gw, bcast string }{
		{"10.88.0.0/16", "10.88.0.1", "10.88.255.255"},
		{"10.201.0.0/24", "10.201.0.1", "10.201.0.255"},
		{"10.201.0.128/25", "10.201.0.129", "10.201.0.255"},
		{"192.168.7.4/30", "192.168.7.5", "192.168.7.7"},
		{"10.0.0.0/8", "10.0.0.1", "10.255.255.255"},
	} {
		p := netip.MustParsePrefix(tc.subnet)
		if g := Gateway(p).String(); g != tc.gw {
			t.Errorf("%s: gateway %s, want %s", p, g, tc.gw)
		}
		if b := Broadcast(p).String(); b != tc.bcast {
			t.Errorf("%s: broadcast %s, want %s", p, b, tc.bcast)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	p := netip.MustParsePrefix("10.201.0.0/24")
	for a, want := range map[string]string{
		"10.201.0.2":   "",
		"10.201.0.254": "",
		"10.201.0.1":   "10.201.0.1: address in use by the bridge",
		"10.201.0.0":   "10.201.0.0: is the network address of 10.201.0.0/24",
		"10.201.0.255": "10.201.0.255: is the broadcast address of 10.201.0.0/24",
		"10.201.1.2":   "10.201.1.2: not in the bridge's subnet 10.201.0.0/24",
	} {
		if got := errString(CheckAddr(netip.MustParseAddr(a), p)); got != want {
			t.Errorf("%s: got %q, want %q", a, got, want)
		}
	}
}

func TestAllocate(t *testing.T) {
	p := netip.MustParsePrefix("10.201.0.0/24")
	used := map[netip.Addr]bool{}
	for i := 2; i <= 254; i++ {
		a, err := Allocate(p, used)
		if err != nil {
			t.Fatalf("address %d: %v", i, err)
		}
		if want := netip.AddrFrom4([4]byte{10, 201, 0, byte(i)}); a != want {
			t.Fatalf("got %s, want %s", a, want)
		}
		used[a] = true
	}
	if _, err := Allocate(p, used); errString(err) != "subnet 10.201.0.0/24: no free address" {
		t.Errorf("full subnet: %v", err)
	}
	// A freed address is given again, the lowest first.
	delete(used, netip.MustParseAddr("10.201.0.77"))
	delete(used, netip.MustParseAddr("10.201.0.9"))
	if a, _ := Allocate(p, used); a.String() != "10.201.0.9" {
		t.Errorf("got %s, want 10.201.0.9", a)
	}
	// A /30 has room for one container only.
	small := netip.MustParsePrefix("192.168.7.4/30")
	a, err := Allocate(small, nil)
	if err != nil || a.String() != "192.168.7.6" {
		t.Errorf("/30: %s %v", a, err)
	}
	if _, err := Allocate(small, map[netip.Addr]bool{a: true}); err == nil {
		t.Errorf("/30 with its address used: no error")
	}
}

func TestOverlap(t *testing.T) {
	routes := []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/0"), // the default route overlaps nothing
		netip.MustParsePrefix("192.168.1.0/24"),
		netip.MustParsePrefix("10.0.0.0/8"),
	}
	for s, want := range map[string]string{
		"10.88.0.0/16":   "10.0.0.0/8",
		"192.168.0.0/16": "192.168.1.0/24",
		"192.168.1.0/30": "192.168.1.0/24",
		"172.31.0.0/16":  "",
	} {
		r, ok := Overlap(netip.MustParsePrefix(s), routes)
		got := ""
		if ok {
			got = r.String()
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", s, got, want)
		}
	}
}

func TestVethName(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		n := VethName()
		if len(n) != 10 || !strings.HasPrefix(n, Prefix) || len(n) > maxName {
			t.Fatalf("bad name %q", n)
		}
		seen[n] = true
	}
	if len(seen) < 99 {
		t.Errorf("only %d distinct names in 100", len(seen))
	}
}

func TestNatRules(t *testing.T) {
	got := NatRules("twt0", netip.MustParsePrefix("10.201.0.0/24"))
	for _, want := range []string{
		"table ip twt0\ndelete table ip twt0\ntable ip twt0 {",
		`ip saddr 10.201.0.0/24 oifname != "twt0" masquerade`,
		`iifname "twt0" accept`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rules lack %q:\n%s", want, got)
		}
	}
}
