package net

import (
	"errors"
	"fmt"
	"math/rand/v2"
	gonet "net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The netlink part of tw-net: the bridge and the veth on the host's side,
// lo, eth0 and the default route in the container's network namespace.

// Bridge is the host's bridge of a tw network.
type Bridge struct {
	Link    netlink.Link
	Subnet  netip.Prefix
	Created bool // by this run of tw-net
}

// Gateway is the bridge's address, the containers' default route.
func (b *Bridge) Gateway() netip.Addr { return Gateway(b.Subnet) }

// retry repeats a netlink dump that another process interrupted by
// changing what it lists.
func retry[T any](f func() (T, error)) (T, error) {
	for i := 0; ; i++ {
		v, err := f()
		if !errors.Is(err, netlink.ErrDumpInterrupted) || i == 9 {
			return v, err
		}
	}
}

// FindBridge returns the bridge name with its subnet, or nil when there
// is no such link. A link of that name which is no bridge is an error.
func FindBridge(h *netlink.Handle, name string) (*Bridge, error) {
	l, err := h.LinkByName(name)
	if errors.As(err, &netlink.LinkNotFoundError{}) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if l.Type() != "bridge" {
		return nil, fmt.Errorf("%s: exists and is a %s, not a bridge", name, l.Type())
	}
	addrs, err := retry(func() ([]netlink.Addr, error) { return h.AddrList(l, netlink.FAMILY_V4) })
	if err != nil {
		return nil, fmt.Errorf("%s: addresses: %w", name, err)
	}
	b := &Bridge{Link: l}
	for _, a := range addrs {
		if p, ok := prefixOf(a.IPNet); ok {
			b.Subnet = p.Masked()
			break
		}
	}
	return b, nil
}

// CreateBridge makes the bridge name with the first address of subnet,
// up, after checking that no route of the host overlaps subnet.
func CreateBridge(h *netlink.Handle, name string, subnet netip.Prefix) (*Bridge, error) {
	routes, err := retry(func() ([]netlink.Route, error) { return h.RouteList(nil, netlink.FAMILY_V4) })
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var dsts []netip.Prefix
	for _, r := range routes {
		if p, ok := prefixOf(r.Dst); ok {
			dsts = append(dsts, p)
		}
	}
	if r, ok := Overlap(subnet, dsts); ok {
		return nil, fmt.Errorf("subnet %s overlaps the host's route to %s", subnet, r)
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := h.LinkAdd(br); err != nil {
		return nil, fmt.Errorf("create bridge %s: %w", name, err)
	}
	b := &Bridge{Link: br, Subnet: subnet, Created: true}
	if err := b.Configure(h); err != nil {
		h.LinkDel(br)
		return nil, err
	}
	return b, nil
}

// Configure gives the bridge its address, when missing, and brings it up.
func (b *Bridge) Configure(h *netlink.Handle) error {
	name := b.Link.Attrs().Name
	gw := netip.PrefixFrom(b.Gateway(), b.Subnet.Bits())
	err := h.AddrAdd(b.Link, &netlink.Addr{IPNet: ipNet(gw)})
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("%s: add address %s: %w", name, gw, err)
	}
	if err := h.LinkSetUp(b.Link); err != nil {
		return fmt.Errorf("%s: up: %w", name, err)
	}
	return nil
}

// VethName is a fresh name for the host's end of a veth: "tw" and eight
// random hex digits.
func VethName() string {
	return fmt.Sprintf("%s%08x", Prefix, rand.Uint32())
}

// AddVeth makes a veth pair: one end, named name, on the bridge and up,
// the other in the network namespace nsfd, named eth0.
func AddVeth(h *netlink.Handle, b *Bridge, name string, nsfd int) (netlink.Link, error) {
	v := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{
			Name:        name,
			MasterIndex: b.Link.Attrs().Index,
			MTU:         b.Link.Attrs().MTU,
		},
		PeerName:      "eth0",
		PeerNamespace: netlink.NsFd(nsfd),
	}
	if err := h.LinkAdd(v); err != nil {
		return nil, fmt.Errorf("create veth %s: %w", name, err)
	}
	if err := h.LinkSetUp(v); err != nil {
		h.LinkDel(v)
		return nil, fmt.Errorf("%s: up: %w", name, err)
	}
	return v, nil
}

// ConfigureInside brings lo up, gives eth0 the address a on subnet and
// brings it up, and routes by default through gw. h is a handle in the
// container's network namespace.
func ConfigureInside(h *netlink.Handle, a netip.Addr, subnet netip.Prefix, gw netip.Addr) error {
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("lo: up: %w", err)
	}
	eth, err := h.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("eth0: %w", err)
	}
	p := netip.PrefixFrom(a, subnet.Bits())
	if err := h.AddrAdd(eth, &netlink.Addr{IPNet: ipNet(p)}); err != nil {
		return fmt.Errorf("eth0: add address %s: %w", p, err)
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("eth0: up: %w", err)
	}
	def := &netlink.Route{LinkIndex: eth.Attrs().Index, Gw: gonet.IP(gw.AsSlice())}
	if err := h.RouteAdd(def); err != nil {
		return fmt.Errorf("default route via %s: %w", gw, err)
	}
	return nil
}

// HasLink tells whether the link name exists (in h's namespace).
func HasLink(h *netlink.Handle, name string) bool {
	_, err := h.LinkByName(name)
	return err == nil
}

// DelLink removes the link name, if it exists.
func DelLink(h *netlink.Handle, name string) error {
	l, err := h.LinkByName(name)
	if errors.As(err, &netlink.LinkNotFoundError{}) {
		return nil
	}
	if err == nil {
		err = h.LinkDel(l)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// Ports lists the veths of tw-net attached to bridge b.
func Ports(h *netlink.Handle, b *Bridge) ([]netlink.Link, error) {
	links, err := retry(h.LinkList)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var out []netlink.Link
	for _, l := range links {
		a := l.Attrs()
		if a.MasterIndex == b.Link.Attrs().Index && l.Type() == "veth" && len(a.Name) > len(Prefix) && a.Name[:len(Prefix)] == Prefix {
			out = append(out, l)
		}
	}
	return out, nil
}

func prefixOf(n *gonet.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

func ipNet(p netip.Prefix) *gonet.IPNet {
	return &gonet.IPNet{IP: gonet.IP(p.Addr().AsSlice()), Mask: gonet.CIDRMask(p.Bits(), 32)}
}
