// Package running finds the containers that the chain (tw-unshare, alone
// or under tw-limit or tw-net) started and that still run, from what the
// kernel shows in /proc and tw-net records: no daemon, no state of its own.
// tw-ps lists them, tw-enter joins one.
//
// What tw-unshare leaves behind is read in one place, Scan's use of
// chainArgs: the tw process that ran tw-unshare (the parent) keeps its
// whole command line — the chain with --hostname NAME and tw-pivot ROOT —
// and its child, the container's first process, lives in other
// namespaces. Should tw-unshare come to record more, only this file reads
// it.
package running

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cgroup"
)

// NetStateDir is where tw-net records the addresses it gave:
// NetStateDir/BRIDGE/ADDR holds "VETH PID" (see applets/net/state.go).
const NetStateDir = "/run/tupperware/net"

// Container is one running container.
type Container struct {
	Name     string        `json:"name"`     // --hostname given to tw-unshare ("" if none)
	Pid      int           `json:"pid"`      // its first process, as the host numbers it
	Parent   int           `json:"parent"`   // the tw process that started it and waits for it
	Root     string        `json:"root"`     // tw-pivot's NEWROOT, absolute ("" if none)
	Hostname string        `json:"hostname"` // of its UTS namespace now
	Uptime   time.Duration `json:"-"`
	Seconds  int64         `json:"uptime"`  // Uptime in seconds
	Address  string        `json:"address"` // from tw-net: IP ("" if none)
	Bridge   string        `json:"bridge"`  // tw-net's bridge ("" if none)
	Cgroup   string        `json:"cgroup"`  // its cgroup where not the caller's (v2, else pids or memory)
}

// proc is what Scan reads of one process.
type proc struct {
	pid, ppid int
	start     uint64 // clock ticks after boot
	comm      string
	argv      []string // read for tw processes only
}

// Scan lists the running containers, oldest first.
func Scan() ([]Container, error) {
	procs, err := readProcs()
	if err != nil {
		return nil, err
	}
	children := map[int][]*proc{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p)
	}
	addrs := netAddrs(NetStateDir)
	up := uptime()
	self, _ := Cgroups(os.Getpid())
	var out []Container
	for _, p := range procs {
		name, root, ok := chainArgs(p.argv)
		if !ok {
			continue
		}
		for _, c := range children[p.pid] {
			if !otherNamespaces(p.pid, c.pid) {
				continue
			}
			ct := Container{Name: name, Pid: c.pid, Parent: p.pid, Root: root}
			if root != "" && !filepath.IsAbs(root) {
				if cwd, err := cwdOutside(p.pid, c.pid); err == nil {
					ct.Root = filepath.Join(cwd, root)
				}
			}
			ct.Hostname, _ = Hostname(c.pid)
			if up > 0 {
				ct.Uptime = (up - time.Duration(c.start)*time.Second/ticks).Truncate(time.Second)
				ct.Seconds = int64(ct.Uptime / time.Second)
			}
			for _, pid := range []int{c.pid, p.pid} {
				if a, ok := addrs[pid]; ok {
					ct.Bridge, ct.Address = a[0], a[1]
					break
				}
			}
			ct.Cgroup = cgroupOf(c.pid, self)
			out = append(out, ct)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Seconds > out[j].Seconds || out[i].Seconds == out[j].Seconds && out[i].Pid < out[j].Pid
	})
	return out, nil
}

// ticks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports.
const ticks = 100

// chainArgs reads a command line: whether it runs tw-unshare (argv[0] a tw
// applet, tw-unshare in it, or `tw unshare`), and the --hostname given to
// tw-unshare and the NEWROOT given to tw-pivot.
func chainArgs(argv []string) (name, root string, ok bool) {
	if len(argv) == 0 || !strings.HasPrefix(filepath.Base(argv[0]), "tw") {
		return "", "", false
	}
	start := -1
	for i, a := range argv {
		if filepath.Base(a) == "tw-unshare" || i == 1 && a == "unshare" && filepath.Base(argv[0]) == "tw" {
			start = i
			break
		}
	}
	if start < 0 {
		return "", "", false
	}
	for i := start + 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--hostname" && i+1 < len(argv) && name == "":
			name = argv[i+1]
			i++
		case strings.HasPrefix(a, "--hostname=") && name == "":
			name = strings.TrimPrefix(a, "--hostname=")
		case filepath.Base(a) == "tw-pivot" && root == "":
			for j := i + 1; j < len(argv); j++ {
				if argv[j] == "--" {
					if j+1 < len(argv) {
						root = argv[j+1]
					}
					break
				}
				if !strings.HasPrefix(argv[j], "-") {
					root = argv[j]
					break
				}
			}
			return name, root, true
		}
	}
	return name, root, true
}

// otherNamespaces reports whether child lives in a mount or pid namespace
// that is not parent's: a container, not a helper process.
// cwdOutside is the working directory tw-unshare resolved tw-pivot's
// relative ROOT against: that of a thread of the parent still in the
// mount namespace it started in. In thread mode one of its threads (the
// leader, whose cwd /proc/PID/cwd shows, as often as not) has entered the
// container's and works in its root.
func cwdOutside(parent, child int) (string, error) {
	mnt, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", child))
	if err != nil {
		return "", err
	}
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", parent))
	for _, t := range tasks {
		dir := fmt.Sprintf("/proc/%d/task/%s/", parent, t.Name())
		if m, err := os.Readlink(dir + "ns/mnt"); err == nil && m != mnt {
			if cwd, err := os.Readlink(dir + "cwd"); err == nil {
				return cwd, nil
			}
		}
	}
	return os.Readlink(fmt.Sprintf("/proc/%d/cwd", parent))
}

func otherNamespaces(parent, child int) bool {
	for _, kind := range []string{"mnt", "pid"} {
		a, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", parent, kind))
		b, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", child, kind))
		if err1 == nil && err2 == nil && a != b {
			return true
		}
	}
	return false
}

// readProcs reads every process's parent, start time and command line.
func readProcs() ([]*proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []*proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, err := readProc(pid)
		if err != nil {
			continue // gone meanwhile, or a kernel thread
		}
		out = append(out, p)
	}
	return out, nil
}

func readProc(pid int) (*proc, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	p, err := parseStat(stat)
	if err != nil {
		return nil, err
	}
	p.pid = pid
	// Only a tw process can run tw-unshare: its command name is tw,
	// tw-NAME, or exe when it was started as /proc/self/exe.
	if !strings.HasPrefix(p.comm, "tw") && p.comm != "exe" {
		return p, nil
	}
	cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil, err
	}
	if cmd = bytes.TrimSuffix(cmd, []byte{0}); len(cmd) > 0 {
		p.argv = strings.Split(string(cmd), "\x00")
	}
	return p, nil
}

// parseStat reads the parent (field 4) and the start time (field 22) of
// /proc/PID/stat; the command name (field 2) may hold spaces and ")".
func parseStat(b []byte) (*proc, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, errors.New("stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return nil, errors.New("stat: too few fields")
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return nil, fmt.Errorf("stat: ppid: %w", err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("stat: starttime: %w", err)
	}
	comm := ""
	if j := bytes.IndexByte(b, '('); j >= 0 && j < i {
		comm = string(b[j+1 : i])
	}
	return &proc{ppid: ppid, start: start, comm: comm}, nil
}

// uptime is the time since boot, 0 when unknown.
func uptime() time.Duration {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	s, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

// netAddrs reads tw-net's records: by process, the bridge and the address.
func netAddrs(dir string) map[int][2]string {
	out := map[int][2]string{}
	bridges, _ := os.ReadDir(dir)
	for _, br := range bridges {
		if !br.IsDir() {
			continue
		}
		ents, _ := os.ReadDir(filepath.Join(dir, br.Name()))
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, br.Name(), e.Name()))
			if err != nil {
				continue
			}
			f := strings.Fields(string(b))
			if len(f) != 2 {
				continue // "nat", temporary files
			}
			if pid, err := strconv.Atoi(f[1]); err == nil {
				out[pid] = [2]string{br.Name(), e.Name()}
			}
		}
	}
	return out
}

// cgroupOf is the cgroup of pid where it is not the caller's: the v2
// one, else the pids or memory one; "" when it is in the caller's.
func cgroupOf(pid int, self map[string]string) string {
	g, err := Cgroups(pid)
	if err != nil {
		return ""
	}
	for _, k := range []string{"", "pids", "memory"} {
		if p, ok := g[k]; ok && p != self[k] {
			return p
		}
	}
	return ""
}

// Cgroups reads /proc/PID/cgroup: the cgroup of each v1 controller, and
// the v2 one under "".
func Cgroups(pid int) (map[string]string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return cgroup.ParseProcCgroup(bufio.NewReader(f))
}

// Hostname reads the hostname of pid's UTS namespace: on a thread of its
// own that joins the namespace and leaves it again (a thread that cannot
// leave it ends with its goroutine).
func Hostname(pid int) (string, error) {
	theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/uts", pid))
	if err != nil {
		return "", err
	}
	if ours, err := os.Readlink("/proc/self/ns/uts"); err == nil && ours == theirs {
		return os.Hostname()
	}
	type result struct {
		name string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		name, err, back := hostnameOn(pid)
		if back {
			runtime.UnlockOSThread()
		}
		ch <- result{name, err}
	}()
	r := <-ch
	return r.name, r.err
}

func hostnameOn(pid int) (name string, err error, back bool) {
	self, err := unix.Open("/proc/thread-self/ns/uts", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err, true
	}
	defer unix.Close(self)
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/uts", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err, true
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWUTS); err != nil {
		return "", err, true
	}
	var u unix.Utsname
	err = unix.Uname(&u)
	back = unix.Setns(self, unix.CLONE_NEWUTS) == nil
	return unix.ByteSliceToString(u.Nodename[:]), err, back
}

// ErrNotFound is wrapped when no container has the name asked for.
var ErrNotFound = errors.New("no such running container")

// Find picks a container: target is its name (or, failing that, its
// hostname) or a PID — of its first process or of the tw process that
// started it. Any other PID names that process, as for nsenter -t; its
// Container has only Pid set.
func Find(list []Container, target string) (Container, error) {
	if pid, err := strconv.Atoi(target); err == nil {
		if pid <= 0 {
			return Container{}, fmt.Errorf("%s: not a PID", target)
		}
		for _, c := range list {
			if c.Pid == pid || c.Parent == pid {
				return c, nil
			}
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			return Container{}, fmt.Errorf("%d: no such process", pid)
		}
		return Container{Pid: pid}, nil
	}
	for _, field := range []func(Container) string{
		func(c Container) string { return c.Name },
		func(c Container) string { return c.Hostname },
	} {
		var found []Container
		for _, c := range list {
			if field(c) == target {
				found = append(found, c)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		pids := make([]string, len(found))
		for i, c := range found {
			pids[i] = strconv.Itoa(c.Pid)
		}
		return Container{}, fmt.Errorf("%s: %d containers have that name (PIDs %s): give a PID", target, len(found), strings.Join(pids, " "))
	}
	return Container{}, fmt.Errorf("%s: %w", target, ErrNotFound)
}
