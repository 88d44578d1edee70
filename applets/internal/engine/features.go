package engine

import "sort"

// Features is what this engine supports, as runc's `features` prints it
// (runtime-spec features.md).
func Features() map[string]any {
	opts := []string{}
	for o := range mountFlags {
		opts = append(opts, o)
	}
	for o := range propagation {
		opts = append(opts, o)
	}
	sort.Strings(opts)
	return map[string]any{
		"ociVersionMin": "1.0.0",
		"ociVersionMax": SpecVersion,
		"hooks":         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		"mountOptions":  opts,
		"linux": map[string]any{
			"namespaces":   []string{"cgroup", "ipc", "mount", "network", "pid", "user", "uts"},
			"capabilities": capNames(),
			"cgroup":       map[string]any{"v1": true, "v2": true, "systemd": false, "systemdUser": false},
			"seccomp": map[string]any{
				"enabled":   true,
				"actions":   seccompActions(),
				"operators": seccompOperators(),
			},
			// runtime-spec: whether the runtime supports them, not the host (lsm.go).
			"apparmor": map[string]any{"enabled": true},
			"selinux":  map[string]any{"enabled": true},
		},
		"annotations": map[string]string{"org.opencontainers.runc.version": Version, "io.github.tupperware.runtime": "tw-runc"},
	}
}
