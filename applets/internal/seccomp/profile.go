package seccomp

import (
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
)

// Docker returns Docker's default seccomp profile (moby
// profiles/seccomp/default_linux.go) for a container that holds the
// capabilities have: an allowlist, personality and socket decided by
// their arguments, clone without namespace flags and clone3 answered
// ENOSYS (so that libcs fall back to clone) unless CAP_SYS_ADMIN is held,
// and the syscalls of each capability held. Everything else fails with
// EPERM. Only the native ABI is allowed (Docker also allows the 32-bit
// x86 and x32 ABIs on amd64).
func Docker(have caps.Set) (*Filter, error) {
	arch, allow, byCap, err := native()
	if err != nil {
		return nil, err
	}
	f := &Filter{Arch: arch, Allow: append([]uint32(nil), allow...), Default: Errno(unix.EPERM)}
	for c, nrs := range byCap {
		if have.Has(c) {
			f.Allow = append(f.Allow, nrs...)
		}
	}
	f.Rules = append(f.Rules, Rule{Nr: unix.SYS_PERSONALITY, Code: personality()})
	f.Rules = append(f.Rules, Rule{Nr: unix.SYS_SOCKET, Code: socketNotVsock()})
	if !have.Has(caps.SYS_ADMIN) {
		f.Rules = append(f.Rules,
			Rule{Nr: unix.SYS_CLONE, Code: cloneNoNamespaces()},
			Rule{Nr: unix.SYS_CLONE3, Code: []unix.SockFilter{ret(Errno(unix.ENOSYS))}},
		)
	}
	return f, nil
}

// personality is allowed for PER_LINUX, PER_LINUX32, UNAME26,
// UNAME26|PER_LINUX32 and the query 0xffffffff only.
func personality() []unix.SockFilter {
	ok := []uint32{0x0, 0x8, 0x20000, 0x20008, 0xffffffff}
	p := []unix.SockFilter{
		argHi(0),
		jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, 0, 1, 0),
		ret(Errno(unix.EPERM)),
		argLo(0),
	}
	for i, v := range ok {
		// Each test jumps to the allow at the end: over the tests
		// left and the deny.
		p = append(p, jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, v, uint8(len(ok)-i), 0))
	}
	return append(p, ret(Errno(unix.EPERM)), ret(retAllow))
}

// socketNotVsock allows socket(2) for every family but AF_VSOCK.
func socketNotVsock() []unix.SockFilter {
	return []unix.SockFilter{
		argHi(0),
		jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, 0, 1, 0),
		ret(retAllow),
		argLo(0),
		jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, unix.AF_VSOCK, 0, 1),
		ret(Errno(unix.EPERM)),
		ret(retAllow),
	}
}

// NamespaceFlags are the clone flags that make namespaces.
const NamespaceFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWUSER |
	unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP

// cloneNoNamespaces allows clone(2) when its flags (argument 0 on x86 and
// arm) ask for no new namespace.
func cloneNoNamespaces() []unix.SockFilter {
	return []unix.SockFilter{
		argLo(0),
		jump(unix.BPF_JMP|unix.BPF_JSET|unix.BPF_K, NamespaceFlags, 0, 1),
		ret(Errno(unix.EPERM)),
		ret(retAllow),
	}
}
