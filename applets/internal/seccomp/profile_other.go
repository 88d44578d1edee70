//go:build linux && !amd64

package seccomp

import "errors"

// ErrArch: the profile lists syscall numbers for amd64 only.
var ErrArch = errors.New("the built-in profile has no syscall table for this architecture")

func native() (uint32, []uint32, map[int][]uint32, error) {
	return 0, nil, nil, ErrArch
}

// NativeArch is 0: there is no syscall table for this architecture.
const NativeArch = 0

var syscallNames []string
