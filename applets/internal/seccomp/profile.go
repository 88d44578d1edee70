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
	f.Rules = append(f.Rules, personality(), socketNotVsock())
	if !have.Has(caps.SYS_ADMIN) {
		f.Rules = append(f.Rules, cloneNoNamespaces(), Rule{Nr: unix.SYS_CLONE3, Cases: []Case{{Ret: Errno(unix.ENOSYS)}}})
	}
	return f, nil
}

// personality is allowed for PER_LINUX, PER_LINUX32, UNAME26,
// UNAME26|PER_LINUX32 and the query 0xffffffff only.
func personality() Rule {
	r := Rule{Nr: unix.SYS_PERSONALITY}
	for _, v := range []uint64{0x0, 0x8, 0x20000, 0x20008, 0xffffffff} {
		r.Cases = append(r.Cases, Case{Conds: []Cond{{Index: 0, Op: EQ, Value: v}}, Ret: retAllow})
	}
	return r
}

// socketNotVsock allows socket(2) for every family but AF_VSOCK.
func socketNotVsock() Rule {
	return Rule{Nr: unix.SYS_SOCKET, Cases: []Case{{Conds: []Cond{{Index: 0, Op: NE, Value: unix.AF_VSOCK}}, Ret: retAllow}}}
}

// NamespaceFlags are the clone flags that make namespaces.
const NamespaceFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWUSER |
	unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP

// cloneNoNamespaces allows clone(2) when its flags (argument 0 on x86 and
// arm) ask for no new namespace.
func cloneNoNamespaces() Rule {
	return Rule{Nr: unix.SYS_CLONE, Cases: []Case{{Conds: []Cond{{Index: 0, Op: MaskedEQ, Value: NamespaceFlags}}, Ret: retAllow}}}
}
