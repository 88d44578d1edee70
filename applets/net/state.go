package net

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// StateDir holds what tw-net gave out: StateDir/BRIDGE/ADDR is one
// container's address, holding "VETH PID"; StateDir/BRIDGE/nat records
// that --nat installed rules, with the ip_forward value found before.
// StateDir/lock serialises every tw-net.
const StateDir = "/run/tupperware/net"

// State is the locked state directory.
type State struct {
	dir  string
	lock *os.File
}

// Entry is one address given to a container: the host end of its veth
// and the container's process (tw-net's own, which becomes PROG, or the
// --pid one). It is stale once the veth is gone (it disappears with the
// container's network namespace) or the process ended.
type Entry struct {
	Veth string
	Pid  int
}

// Lock opens dir (made if missing) and takes its lock, waiting for
// another tw-net to finish.
func Lock(dir string) (*State, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "lock", Path: f.Name(), Err: err}
	}
	return &State{dir: dir, lock: f}, nil
}

// Unlock releases the lock.
func (s *State) Unlock() {
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

// Entries reads the addresses given out on bridge.
func (s *State) Entries(bridge string) (map[netip.Addr]Entry, error) {
	ents, err := os.ReadDir(filepath.Join(s.dir, bridge))
	if errors.Is(err, os.ErrNotExist) {
		return map[netip.Addr]Entry{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[netip.Addr]Entry, len(ents))
	for _, de := range ents {
		a, err := netip.ParseAddr(de.Name())
		if err != nil {
			continue // "nat", temporary files
		}
		p := filepath.Join(s.dir, bridge, de.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		e, err := parseEntry(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out[a] = e
	}
	return out, nil
}

func parseEntry(s string) (Entry, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return Entry{}, errors.New("not \"VETH PID\"")
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil {
		return Entry{}, errors.New("not \"VETH PID\"")
	}
	return Entry{Veth: f[0], Pid: pid}, nil
}

// Get reads the entry of a on bridge.
func (s *State) Get(bridge string, a netip.Addr) (Entry, bool) {
	b, err := os.ReadFile(filepath.Join(s.dir, bridge, a.String()))
	if err != nil {
		return Entry{}, false
	}
	e, err := parseEntry(string(b))
	return e, err == nil
}

// Put records that a was given out on bridge.
func (s *State) Put(bridge string, a netip.Addr, e Entry) error {
	return s.write(bridge, a.String(), fmt.Sprintf("%s %d\n", e.Veth, e.Pid))
}

// Remove forgets a.
func (s *State) Remove(bridge string, a netip.Addr) error {
	return ignoreNotExist(os.Remove(filepath.Join(s.dir, bridge, a.String())))
}

// SetNat records that --nat installed rules on bridge, and the value of
// ip_forward before (the first record wins).
func (s *State) SetNat(bridge, forward string) error {
	if _, ok, err := s.Nat(bridge); err != nil || ok {
		return err
	}
	return s.write(bridge, "nat", forward+"\n")
}

// ClearNat forgets the NAT record of bridge.
func (s *State) ClearNat(bridge string) error {
	return ignoreNotExist(os.Remove(filepath.Join(s.dir, bridge, "nat")))
}

// Nat tells whether --nat installed rules on bridge, and the ip_forward
// value found before.
func (s *State) Nat(bridge string) (forward string, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(s.dir, bridge, "nat"))
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	return strings.TrimSpace(string(b)), err == nil, err
}

// OtherNat tells whether a bridge other than bridge has NAT rules.
func (s *State) OtherNat(bridge string) bool {
	m, _ := filepath.Glob(filepath.Join(s.dir, "*", "nat"))
	for _, p := range m {
		if filepath.Base(filepath.Dir(p)) != bridge {
			return true
		}
	}
	return false
}

// Drop forgets bridge entirely.
func (s *State) Drop(bridge string) error {
	return os.RemoveAll(filepath.Join(s.dir, bridge))
}

// Has tells whether anything is recorded for bridge.
func (s *State) Has(bridge string) bool {
	_, err := os.Stat(filepath.Join(s.dir, bridge))
	return err == nil
}

// write replaces dir/bridge/name with data atomically.
func (s *State) write(bridge, name, data string) error {
	d := filepath.Join(s.dir, bridge)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(d, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(d, name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func ignoreNotExist(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Alive tells whether process pid exists and is no zombie.
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return true
	}
	return b[i+2] != 'Z' && b[i+2] != 'X'
}
