package seccomp

import "sync"

// Syscalls are the native syscalls by name (nil on an architecture
// without a table), for a profile that names them. The map is built on
// first use from the generated syscallNames, not at the start of every
// tw process.
var Syscalls = sync.OnceValue(func() map[string]uint32 {
	if len(syscallNames) == 0 {
		return nil
	}
	m := make(map[string]uint32, len(syscallNames))
	for nr, name := range syscallNames {
		if name != "" {
			m[name] = uint32(nr)
		}
	}
	return m
})
