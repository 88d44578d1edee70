package engine

import (
	"fmt"
	"os"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ipcSysctls are the sysctls of the IPC namespace (with fs.mqueue.*).
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// sysctlName is a key in the dotted form: "net/ipv4/conf/eth0.100/x"
// (sysctl.d(5)'s slashes) is "net.ipv4.conf.eth0/100.x".
func sysctlName(key string) string {
	if i := strings.IndexAny(key, "./"); i < 0 || key[i] == '.' {
		return key
	}
	return swapDotSlash(key)
}

func swapDotSlash(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, s)
}

// sysctlPath is the file of a sysctl below /proc/sys.
func sysctlPath(key string) string { return "/proc/sys/" + swapDotSlash(sysctlName(key)) }

// checkSysctls allows, as runc's configs/validate does, only the sysctls
// of a namespace the container has (new or joined by path): the IPC ones,
// net.* (not in the runtime's own network namespace), and
// kernel.domainname with a UTS namespace; every other one is refused.
func checkSysctls(s *specs.Spec) error {
	keys := make([]string, 0, len(s.Linux.Sysctl))
	for k := range s.Linux.Sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := sysctlName(k)
		for _, part := range strings.Split(swapDotSlash(name), "/") {
			if part == "" || part == "." || part == ".." {
				return fmt.Errorf("linux.sysctl: invalid key %q", k)
			}
		}
		switch {
		case ipcSysctls[name] || strings.HasPrefix(name, "fs.mqueue."):
			if !hasNS(s, specs.IPCNamespace) {
				return fmt.Errorf("sysctl %q is not allowed in the hosts ipc namespace", name)
			}
		case strings.HasPrefix(name, "net."):
			host, err := hostNetNS(s)
			if err != nil {
				return fmt.Errorf("invalid netns path: %w", err)
			}
			if host {
				return fmt.Errorf("sysctl %q not allowed in host network namespace", name)
			}
		case name == "kernel.domainname" && hasNS(s, specs.UTSNamespace):
		case name == "kernel.hostname" && hasNS(s, specs.UTSNamespace):
			return fmt.Errorf("sysctl %q is not allowed as it conflicts with the OCI %q field", name, "hostname")
		default:
			return fmt.Errorf("sysctl %q is not in a separate kernel namespace", name)
		}
	}
	return nil
}

// hostNetNS reports whether the container's network namespace is the
// runtime's: none of its own, or the runtime's joined by path.
func hostNetNS(s *specs.Spec) (bool, error) {
	for _, n := range s.Linux.Namespaces {
		if n.Type != specs.NetworkNamespace {
			continue
		}
		if n.Path == "" {
			return false, nil
		}
		var self, other unix.Stat_t
		if err := unix.Stat("/proc/self/ns/net", &self); err != nil {
			return false, &os.PathError{Op: "stat", Path: "/proc/self/ns/net", Err: err}
		}
		if err := unix.Stat(n.Path, &other); err != nil {
			return false, &os.PathError{Op: "stat", Path: n.Path, Err: err}
		}
		return self.Dev == other.Dev && self.Ino == other.Ino, nil
	}
	return true, nil
}
