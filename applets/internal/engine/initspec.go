package engine

import (
	"encoding/json"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// config.json is read into types that hide parts of specs.Spec behind raw
// JSON: the first json.Unmarshal into a type builds encoding/json's field
// tables of every type it can reach, and from specs.Spec those are 63
// structs, a few ms at each start of tw-runc and again at each start of
// its init, which waits for them. A field of the outer struct hides the
// embedded one of the same name, whose type is then never looked at.
//
// tw-runc hides the other platforms (Windows, Solaris, VM, z/OS, FreeBSD),
// which it ignores as runc does: 38 structs are left (a config that has
// one, or has an error, is read again into specs.Spec). The init hides also
// what create has used up or Validate has refused already: linux.resources
// and linux.cgroupsPath (the cgroup is made by create) and the linux
// fields tw-runc does not support: 20 structs are left.

// readSpec reads config.json's bytes for LoadSpec as json.Unmarshal into
// specs.Spec does, as runc does, errors included.
func readSpec(b []byte) (*specs.Spec, error) {
	type Spec struct {
		specs.Spec
		Solaris json.RawMessage `json:"solaris,omitempty"`
		Windows json.RawMessage `json:"windows,omitempty"`
		VM      json.RawMessage `json:"vm,omitempty"`
		ZOS     json.RawMessage `json:"zos,omitempty"`
		FreeBSD json.RawMessage `json:"freebsd,omitempty"`
	}
	var s Spec
	err := json.Unmarshal(b, &s)
	if err != nil || s.Solaris != nil || s.Windows != nil || s.VM != nil || s.ZOS != nil || s.FreeBSD != nil {
		// Bad JSON or another platform's part: what runc makes of it.
		var full specs.Spec
		if err := json.Unmarshal(b, &full); err != nil {
			return nil, err
		}
		return &full, nil
	}
	return &s.Spec, nil
}

// initSpec is the spec as the init reads it.
type initSpec struct {
	specs.Spec
	Linux   *initLinux      `json:"linux,omitempty"`
	Solaris json.RawMessage `json:"solaris,omitempty"`
	Windows json.RawMessage `json:"windows,omitempty"`
	VM      json.RawMessage `json:"vm,omitempty"`
	ZOS     json.RawMessage `json:"zos,omitempty"`
	FreeBSD json.RawMessage `json:"freebsd,omitempty"`
}

// initLinux is specs.Linux without what create used up and what Validate
// refuses.
type initLinux struct {
	specs.Linux
	Resources    json.RawMessage `json:"resources,omitempty"`
	CgroupsPath  json.RawMessage `json:"cgroupsPath,omitempty"`
	NetDevices   json.RawMessage `json:"netDevices,omitempty"`
	IntelRdt     json.RawMessage `json:"intelRdt,omitempty"`
	MemoryPolicy json.RawMessage `json:"memoryPolicy,omitempty"`
	Personality  json.RawMessage `json:"personality,omitempty"`
	TimeOffsets  json.RawMessage `json:"timeOffsets,omitempty"`
}

// UnmarshalJSON reads the config as it is, but its spec as initSpec.
func (c *initConfig) UnmarshalJSON(b []byte) error {
	type plain initConfig // without this method
	v := struct {
		*plain
		Spec *initSpec `json:"spec"` // hides plain's
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	c.Spec = nil
	if s := v.Spec; s != nil {
		c.Spec = &s.Spec
		if s.Linux != nil {
			c.Spec.Linux = &s.Linux.Linux
		}
	}
	return nil
}
