//go:build !amd64 && !arm64

package memexec

// No trampoline is written for this architecture: Trampoline fails.
const trampolineMachine = 0

var trampolineHex []string
