// Package net is tw-net: give a container a network, a veth from a bridge
// on the host (the walkthrough's step 16, "Networking. TBD").
package net

import (
	"errors"
	"fmt"
	gonet "net"
	"net/netip"
	"os"
	"runtime"
	"strconv"

	"github.com/spf13/pflag"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
)

var Applet = cli.Applet{Name: "net", Summary: "give a container a network: bridge, veth, address, route", Main: Main}

const usage = `Usage: tw-net [-b BRIDGE] [--subnet CIDR] [-a IP[/LEN]] [--nat] [--resolv ROOT [--dns IP]…] [PROG [ARGS…]]
       tw-net --pid PID [-b BRIDGE] [--subnet CIDR] [-a IP[/LEN]] [--nat] [--resolv ROOT [--dns IP]…]
       tw-net --up [-b BRIDGE] [--subnet CIDR] [--nat]
       tw-net --down [-b BRIDGE]
       tw-net --lo [--pid PID | PROG [ARGS…]]

Give a container a network (walkthrough step 16): a bridge on the host,
made once with the first address of its subnet; per container a veth pair,
one end on the bridge, the other inside named eth0 with the container's
address and a default route via the bridge; and lo up.

In the first form tw-net makes a new network namespace, sets it up and
executes PROG (default /bin/sh) in it. A tw-* applet named as PROG runs in
this process, on the thread that holds the new namespace, so the
namespaces tw-unshare makes next are inside it (give tw-unshare no -n):

  tw-net -b tw0 -a 10.88.0.2/16 tw-unshare -muipf --hostname c1 \
      tw-pivot ROOT tw-mountproc /bin/sh

The veth goes when the namespace goes (when the container's last process
ends); tw-net makes no process of its own.

With --pid, tw-net sets up the network namespace of the running process
PID instead (one started with tw-unshare --net, which has no eth0 yet) and
prints the address it gave, as IP/LEN. --up only makes the bridge (and
its NAT rules); --down removes the bridge, the veths of tw-net on it and
its NAT rules.

The subnet is --subnet, else the one of --addr IP/LEN, else the existing
bridge's, else 10.88.0.0/16. Without --addr a container gets the lowest
free address. The addresses in use are recorded in /run/tupperware/net
with the container's process (tw-net's own, which becomes PROG, or PID);
one whose process ended or whose veth is gone is free again.

--nat masquerades what the containers send out through other interfaces
and turns IP forwarding on, for outbound access where the host has it:
the rules are in an nftables table named like the bridge (needs nft(8));
--down deletes the table and turns forwarding off again if tw-net turned
it on. --resolv writes ROOT/etc/resolv.conf: the --dns servers, or the
host's resolv.conf without loopback nameservers.

tw-net makes only interfaces and tables whose names start with "tw", and
refuses a subnet that overlaps a route of the host.

Without root only loopback is possible: the bridge and the host's end of
a veth are in the host's network namespace. --lo brings lo up and nothing
else (no bridge, no veth, nothing recorded), as bubblewrap --unshare-net
does: in a new network namespace before PROG, which tw-net makes in the
user namespace it runs in (tw-unshare -r -muipf tw-net --lo tw-pivot ROOT
sh), or with --pid in the network namespace of PID, not tw-net's own:
from outside PID's user namespace, which must be the user's, tw-net runs
again in a child that joins it first (as nsenter --user
--preserve-credentials -t PID tw-net --lo --pid PID would).
`

type options struct {
	bridge, subnetArg, addrArg, resolv string
	dnsArgs                            []string
	pid                                int
	nat, up, down, lo                  bool

	subnet   netip.Prefix // valid when given by --subnet or --addr IP/LEN
	addr     netip.Addr   // valid when given by --addr
	dns      []netip.Addr
	explicit bool // subnet was given
}

func newOptions(fs *pflag.FlagSet) *options {
	o := &options{}
	fs.StringVarP(&o.bridge, "bridge", "b", "tw0", "the host's bridge `NAME` (\"tw…\", at most 15 characters)")
	fs.StringVar(&o.subnetArg, "subnet", "", "the bridge's IPv4 `CIDR`, when tw-net makes it")
	fs.StringVarP(&o.addrArg, "addr", "a", "", "the container's `IP`, or IP/LEN with the subnet's length (default: the first free one)")
	fs.BoolVar(&o.nat, "nat", false, "masquerade outbound traffic and turn IP forwarding on")
	fs.StringVar(&o.resolv, "resolv", "", "write `ROOT`/etc/resolv.conf")
	fs.StringArrayVar(&o.dnsArgs, "dns", nil, "nameserver `IP` for --resolv (repeatable)")
	fs.IntVar(&o.pid, "pid", 0, "set up the network namespace of the running process `PID`")
	fs.BoolVar(&o.up, "up", false, "only make the bridge")
	fs.BoolVar(&o.down, "down", false, "remove the bridge, its veths and its NAT rules")
	fs.BoolVar(&o.lo, "lo", false, "loopback only: bring lo up, no bridge, no veth (what a user namespace allows)")
	return o
}

// check validates the options and parses the addresses; every error is a
// usage error.
func (o *options) check(fs *pflag.FlagSet) error {
	if err := CheckBridgeName(o.bridge); err != nil {
		return cli.Usagef("%v", err)
	}
	changed := func(names ...string) string {
		for _, n := range names {
			if fs.Changed(n) {
				return "--" + n
			}
		}
		return ""
	}
	if o.lo {
		if err := o.checkLo(fs); err != nil {
			return err
		}
	}
	switch {
	case o.down && (changed("subnet", "addr", "nat", "resolv", "dns", "pid", "up") != "" || fs.NArg() > 0):
		return cli.Usagef("--down takes only --bridge")
	case o.up && (changed("addr", "resolv", "dns", "pid") != "" || fs.NArg() > 0):
		return cli.Usagef("--up takes only --bridge, --subnet and --nat")
	case fs.Changed("pid") && o.pid <= 0:
		return cli.Usagef("--pid %d: not a process id", o.pid)
	case o.pid > 0 && fs.NArg() > 0:
		return cli.Usagef("--pid takes no PROG")
	case len(o.dnsArgs) > 0 && o.resolv == "":
		return cli.Usagef("--dns needs --resolv")
	}
	if o.subnetArg != "" {
		p, err := ParseSubnet(o.subnetArg)
		if err != nil {
			return cli.Usagef("%v", err)
		}
		o.subnet, o.explicit = p, true
	}
	if o.addrArg != "" {
		a, p, err := ParseAddr(o.addrArg)
		if err != nil {
			return cli.Usagef("%v", err)
		}
		if p.IsValid() {
			if o.explicit && p != o.subnet {
				return cli.Usagef("--addr %s: not in --subnet %s", o.addrArg, o.subnet)
			}
			o.subnet, o.explicit = p, true
		}
		if o.explicit {
			if err := CheckAddr(a, o.subnet); err != nil {
				return cli.Usagef("--addr %v", err)
			}
		}
		o.addr = a
	}
	for _, s := range o.dnsArgs {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return cli.Usagef("--dns %s: not an IP address", s)
		}
		o.dns = append(o.dns, a)
	}
	return nil
}

func Main(args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("net", false)
	o := newOptions(fs)
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if err := o.check(fs); err != nil {
		return err
	}
	argv := chain.Argv(fs.Args())
	switch {
	case o.lo && o.pid > 0:
		return o.loPid()
	case o.lo:
		return o.runLo(argv, stdio)
	case o.down:
		return rootHint(o.teardown())
	case o.up:
		return rootHint(o.bringUp())
	case o.pid > 0:
		return rootHint(o.attach(stdio))
	}
	return rootHint(o.run(argv, stdio))
}

// undo is what to take back when a later step fails, last first.
type undo []func()

func (u *undo) push(f func()) { *u = append(*u, f) }

func (u undo) run() {
	for i := len(u) - 1; i >= 0; i-- {
		u[i]()
	}
}

// session is one tw-net at work: the locked state, a netlink handle in
// the host's network namespace, and what to undo on failure.
type session struct {
	o      *options
	st     *State
	host   *netlink.Handle
	undo   undo
	subnet netip.Prefix
}

func (o *options) open() (*session, error) {
	st, err := Lock(StateDir)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		st.Unlock()
		return nil, fmt.Errorf("netlink: %w", err)
	}
	return &session{o: o, st: st, host: h}, nil
}

// close releases the lock; on failure it first undoes what was done.
func (s *session) close(failed bool) {
	if failed {
		s.undo.run()
	}
	s.undo = nil
	s.st.Unlock()
}

// bridge finds or makes the bridge, and installs the NAT rules when asked.
func (s *session) bridge() (*Bridge, error) {
	o := s.o
	b, err := FindBridge(s.host, o.bridge)
	if err != nil {
		return nil, err
	}
	want := o.subnet
	if !o.explicit {
		want = DefaultSubnet
	}
	switch {
	case b == nil:
		if b, err = CreateBridge(s.host, o.bridge, want); err != nil {
			return nil, err
		}
		s.undo.push(func() {
			s.host.LinkDel(b.Link)
			s.st.Drop(o.bridge)
		})
	case !b.Subnet.IsValid(): // made, but not given its address
		b.Subnet = want
		if err := b.Configure(s.host); err != nil {
			return nil, err
		}
	case o.explicit && b.Subnet != o.subnet:
		return nil, fmt.Errorf("bridge %s: has subnet %s, not %s", o.bridge, b.Subnet, o.subnet)
	case b.Link.Attrs().Flags&gonet.FlagUp == 0:
		if err := s.host.LinkSetUp(b.Link); err != nil {
			return nil, fmt.Errorf("%s: up: %w", o.bridge, err)
		}
	}
	if o.addr.IsValid() {
		if err := CheckAddr(o.addr, b.Subnet); err != nil {
			return nil, err
		}
	}
	if o.nat {
		_, had, err := s.st.Nat(o.bridge)
		if err != nil {
			return nil, err
		}
		old, err := AddNat(o.bridge, b.Subnet)
		if err != nil {
			return nil, err
		}
		if !had {
			s.undo.push(func() {
				DelNat(o.bridge)
				os.WriteFile(IPForward, []byte(old+"\n"), 0o644)
			})
		}
		if err := s.st.SetNat(o.bridge, old); err != nil {
			return nil, err
		}
		if !had {
			s.undo.push(func() { s.st.ClearNat(o.bridge) })
		}
	}
	return b, nil
}

// address picks the container's address: --addr if free, else the lowest
// free one. An entry whose veth is gone is stale and removed; one whose
// process ended too, but its veth is removed first if --addr asks for it.
func (s *session) address(b *Bridge) (netip.Addr, error) {
	ents, err := s.st.Entries(s.o.bridge)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("state: %w", err)
	}
	used := map[netip.Addr]bool{}
	for a, e := range ents {
		veth := HasLink(s.host, e.Veth)
		switch {
		case veth && Alive(e.Pid):
			used[a] = true
			continue
		case veth && a != s.o.addr:
			// The container ended and the kernel is still removing its
			// namespace: the address is free once the veth is gone.
			used[a] = true
			continue
		case veth:
			// Asked for by --addr: remove the veth now.
			if err := DelLink(s.host, e.Veth); err != nil {
				return netip.Addr{}, err
			}
		}
		if err := s.st.Remove(s.o.bridge, a); err != nil {
			return netip.Addr{}, fmt.Errorf("state: %w", err)
		}
	}
	if a := s.o.addr; a.IsValid() {
		if used[a] {
			return netip.Addr{}, fmt.Errorf("%s: %w (pid %d, veth %s)", a, ErrInUse, ents[a].Pid, ents[a].Veth)
		}
		return a, nil
	}
	return Allocate(b.Subnet, used)
}

// connect adds the veth between the bridge and the network namespace
// nsfd, configures the inside and records the address for pid.
func (s *session) connect(b *Bridge, a netip.Addr, nsfd, pid int) (string, error) {
	name := VethName()
	v, err := AddVeth(s.host, b, name, nsfd)
	if err != nil {
		return "", err
	}
	s.undo.push(func() { s.host.LinkDel(v) })
	h, err := netlink.NewHandleAt(netns.NsHandle(nsfd), unix.NETLINK_ROUTE)
	if err != nil {
		return "", fmt.Errorf("netlink in the container: %w", err)
	}
	defer h.Close()
	if err := ConfigureInside(h, a, b.Subnet, b.Gateway()); err != nil {
		return "", err
	}
	if err := s.st.Put(s.o.bridge, a, Entry{Veth: name, Pid: pid}); err != nil {
		return "", fmt.Errorf("state: %w", err)
	}
	s.undo.push(func() { s.st.Remove(s.o.bridge, a) })
	if s.o.resolv != "" {
		if err := s.writeResolv(); err != nil {
			return "", err
		}
	}
	return name, nil
}

func (s *session) writeResolv() error {
	var host []byte
	if len(s.o.dns) == 0 {
		var err error
		if host, err = os.ReadFile("/etc/resolv.conf"); err != nil {
			return fmt.Errorf("--resolv: %w", err)
		}
	}
	data, err := Resolv(s.o.dns, host)
	if err != nil {
		return fmt.Errorf("--resolv: %w", err)
	}
	return WriteResolv(s.o.resolv, data)
}

// run makes a new network namespace, connects it and executes argv in it.
func (o *options) run(argv []string, stdio cli.IO) error {
	s, err := o.open()
	if err != nil {
		return err
	}
	defer s.host.Close()
	a, veth, err := s.newNamespace()
	s.close(err != nil)
	if err != nil {
		return err
	}
	err = chain.Exec(argv, stdio)
	var ee *cli.ExitError
	if errors.As(err, &ee) && !ee.Silent {
		// PROG could not be executed: take everything back.
		if st, lerr := Lock(StateDir); lerr == nil {
			if e, ok := st.Get(o.bridge, a); ok && e.Veth == veth {
				DelLink(s.host, veth)
				st.Remove(o.bridge, a)
			}
			st.Unlock()
		}
	}
	// Otherwise the container ended. Its veth goes with the namespace
	// when this process exits (deleting it here would cost more than the
	// container's start), and its address is free once the veth or this
	// process is gone: the next tw-net reclaims the entry.
	return err
}

// newNamespace moves this thread into a new network namespace and
// connects it. The thread stays locked for good: a namespace made by
// unshare(2) belongs to one thread, and the child that tw-unshare forks
// next must be forked from it (os/exec forks on the calling thread, and
// the Go runtime makes no new thread from a locked one).
func (s *session) newNamespace() (netip.Addr, string, error) {
	b, err := s.bridge()
	if err != nil {
		return netip.Addr{}, "", err
	}
	a, err := s.address(b)
	if err != nil {
		return netip.Addr{}, "", err
	}
	hostns, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return netip.Addr{}, "", &os.PathError{Op: "open", Path: "/proc/thread-self/ns/net", Err: err}
	}
	s.undo.push(func() { unix.Close(hostns) })
	// Lock before unshare: the first lock starts the runtime's template
	// thread, from which the threads made later are cloned, here in the
	// host's namespace.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return netip.Addr{}, "", fmt.Errorf("new network namespace: %w", err)
	}
	// What was done before (nft, ip_forward) is undone in the host's.
	s.undo.push(func() { unix.Setns(hostns, unix.CLONE_NEWNET) })
	nsfd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return netip.Addr{}, "", &os.PathError{Op: "open", Path: "/proc/thread-self/ns/net", Err: err}
	}
	defer unix.Close(nsfd)
	veth, err := s.connect(b, a, nsfd, selfPid())
	if err != nil {
		return netip.Addr{}, "", err
	}
	unix.Close(hostns)
	return a, veth, nil
}

// attach connects the network namespace of the running process o.pid and
// prints the address it gave.
func (o *options) attach(stdio cli.IO) error {
	nsfd, err := openNetns(o.pid)
	if err != nil {
		return err
	}
	defer unix.Close(nsfd)
	s, err := o.open()
	if err != nil {
		return err
	}
	defer s.host.Close()
	a, err := s.attach(nsfd)
	s.close(err != nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Stdout, "%s\n", netip.PrefixFrom(a, s.subnet.Bits()))
	return nil
}

func (s *session) attach(nsfd int) (netip.Addr, error) {
	b, err := s.bridge()
	if err != nil {
		return netip.Addr{}, err
	}
	s.subnet = b.Subnet
	a, err := s.address(b)
	if err != nil {
		return netip.Addr{}, err
	}
	if _, err := s.connect(b, a, nsfd, s.o.pid); err != nil {
		return netip.Addr{}, err
	}
	return a, nil
}

// openNetns opens the network namespace of pid, which must be another
// one than this process's and have no eth0.
func openNetns(pid int) (int, error) {
	fd, err := otherNetns(pid)
	if err != nil {
		return -1, err
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(fd), unix.NETLINK_ROUTE)
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("pid %d: netlink: %w", pid, err)
	}
	defer h.Close()
	if HasLink(h, "eth0") {
		unix.Close(fd)
		return -1, fmt.Errorf("pid %d: has an eth0 already", pid)
	}
	return fd, nil
}

// bringUp makes the bridge (and its NAT rules) only.
func (o *options) bringUp() error {
	s, err := o.open()
	if err != nil {
		return err
	}
	defer s.host.Close()
	_, err = s.bridge()
	s.close(err != nil)
	return err
}

// teardown removes the bridge, the veths of tw-net on it, its NAT table
// and its state, and turns IP forwarding off when tw-net turned it on and
// no other bridge has NAT.
func (o *options) teardown() error {
	s, err := o.open()
	if err != nil {
		return err
	}
	defer s.host.Close()
	defer s.close(false)
	b, err := FindBridge(s.host, o.bridge)
	if err != nil {
		return err
	}
	fwd, natRec, err := s.st.Nat(o.bridge)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	nat := HasNat(o.bridge)
	if b == nil && !nat && !s.st.Has(o.bridge) {
		return fmt.Errorf("%s: no such bridge", o.bridge)
	}
	if b != nil {
		ports, err := Ports(s.host, b)
		if err != nil {
			return err
		}
		for _, p := range ports {
			if err := DelLink(s.host, p.Attrs().Name); err != nil {
				return err
			}
		}
		if err := DelLink(s.host, o.bridge); err != nil {
			return err
		}
	}
	if nat {
		if err := DelNat(o.bridge); err != nil {
			return err
		}
	}
	if natRec && fwd == "0" && !s.st.OtherNat(o.bridge) {
		if err := os.WriteFile(IPForward, []byte("0\n"), 0o644); err != nil {
			return fmt.Errorf("nat: %w", err)
		}
	}
	if err := s.st.Drop(o.bridge); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// selfPid is this process's pid as /proc shows it: the host's pid when
// tw-net runs in a pid namespace that still sees the host's /proc, as
// the next tw-net will.
func selfPid() int {
	if s, err := os.Readlink("/proc/self"); err == nil {
		if pid, err := strconv.Atoi(s); err == nil {
			return pid
		}
	}
	return os.Getpid()
}
