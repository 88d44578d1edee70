package engine

import (
	"encoding/json"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The init reads its config into these types, not into specs.Spec: the
// first json.Unmarshal into a type builds encoding/json's field tables of
// every type it can reach, and from specs.Spec those are some 90 types
// (linux.resources alone, Windows, Solaris, VM, z/OS, FreeBSD), a few ms
// at each start of the init, which waits for them. What the init leaves
// out, create has used up or Validate has refused already:
// linux.resources and linux.cgroupsPath (the cgroup is made by create),
// the linux fields tw-runc does not support and the other platforms'.
// TestInitSpecFields holds them to specs.Spec.

// initSpec is specs.Spec without the other platforms.
type initSpec struct {
	Version     string            `json:"ociVersion"`
	Process     *specs.Process    `json:"process,omitempty"`
	Root        *specs.Root       `json:"root,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Domainname  string            `json:"domainname,omitempty"`
	Mounts      []specs.Mount     `json:"mounts,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       *initLinux        `json:"linux,omitempty"`
}

// initLinux is specs.Linux without what create used up and what
// Validate refuses.
type initLinux struct {
	UIDMappings       []specs.LinuxIDMapping `json:"uidMappings,omitempty"`
	GIDMappings       []specs.LinuxIDMapping `json:"gidMappings,omitempty"`
	Sysctl            map[string]string      `json:"sysctl,omitempty"`
	Namespaces        []specs.LinuxNamespace `json:"namespaces,omitempty"`
	Devices           []specs.LinuxDevice    `json:"devices,omitempty"`
	Seccomp           *specs.LinuxSeccomp    `json:"seccomp,omitempty"`
	RootfsPropagation string                 `json:"rootfsPropagation,omitempty"`
	MaskedPaths       []string               `json:"maskedPaths,omitempty"`
	ReadonlyPaths     []string               `json:"readonlyPaths,omitempty"`
	MountLabel        string                 `json:"mountLabel,omitempty"`
}

// initSpecLeftOut are the fields of specs.Spec and specs.Linux the init
// does not read.
var initSpecLeftOut = map[string]bool{
	"Solaris": true, "Windows": true, "VM": true, "ZOS": true, "FreeBSD": true,
	"Linux.Resources": true, "Linux.CgroupsPath": true, "Linux.NetDevices": true, "Linux.IntelRdt": true,
	"Linux.MemoryPolicy": true, "Linux.Personality": true, "Linux.TimeOffsets": true,
}

// UnmarshalJSON reads the config as it is, but its spec through initSpec.
func (c *initConfig) UnmarshalJSON(b []byte) error {
	type plain initConfig // without this method
	v := struct {
		*plain
		Spec *initSpec `json:"spec"` // hides plain's
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	c.Spec = v.Spec.spec()
	return nil
}

func (s *initSpec) spec() *specs.Spec {
	if s == nil {
		return nil
	}
	out := &specs.Spec{Version: s.Version, Process: s.Process, Root: s.Root, Hostname: s.Hostname,
		Domainname: s.Domainname, Mounts: s.Mounts, Hooks: s.Hooks, Annotations: s.Annotations}
	if l := s.Linux; l != nil {
		out.Linux = &specs.Linux{UIDMappings: l.UIDMappings, GIDMappings: l.GIDMappings, Sysctl: l.Sysctl,
			Namespaces: l.Namespaces, Devices: l.Devices, Seccomp: l.Seccomp, RootfsPropagation: l.RootfsPropagation,
			MaskedPaths: l.MaskedPaths, ReadonlyPaths: l.ReadonlyPaths, MountLabel: l.MountLabel}
	}
	return out
}
