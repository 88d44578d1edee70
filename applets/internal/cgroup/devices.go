package cgroup

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DeviceRules are a container's device rules as runc builds them: deny
// every device, then linux.resources.devices, then runc's defaults, then
// an allow rule for each char and block device of linux.devices (the
// runtime-spec says they MUST be available; runc 1.1 leaves them to the
// rules). A FIFO needs no rule. The last rule that matches decides.
func DeviceRules(r *specs.LinuxResources, devices []specs.LinuxDevice) []specs.LinuxDeviceCgroup {
	rules := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	if r != nil {
		rules = append(rules, r.Devices...)
	}
	rules = append(rules, DefaultDevices...)
	for _, d := range devices {
		typ := d.Type
		switch typ {
		case "u":
			typ = "c"
		case "c", "b":
		default:
			continue
		}
		rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: typ, Major: i64(d.Major), Minor: i64(d.Minor), Access: "rwm"})
	}
	return rules
}

// DefaultDevices are allowed in every container: runc's list (mknod of
// any node; null, random, full, tty, zero, urandom; the ptys; ptmx; tun).
var DefaultDevices = []specs.LinuxDeviceCgroup{
	{Allow: true, Type: "c", Access: "m"},
	{Allow: true, Type: "b", Access: "m"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(8), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(7), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(0), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(5), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(9), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(136), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(2), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(10), Minor: i64(200), Access: "rwm"},
}

func i64(n int64) *int64 { return &n }

// DeviceWrites are the writes of the rules to cgroup v1's devices
// controller, in order (on v2, DeviceFilter compiles them instead).
func DeviceWrites(rules []specs.LinuxDeviceCgroup) []Write {
	var w []Write
	for _, r := range rules {
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		w = append(w, Write{Controller: "devices", File: file, Value: deviceRule(r)})
	}
	return w
}

// deviceRule is "c 1:3 rwm"; a rule for every type and number is "a".
func deviceRule(r specs.LinuxDeviceCgroup) string {
	typ := r.Type
	if typ == "" {
		typ = "a"
	}
	num := func(n *int64) string {
		if n == nil || *n < 0 {
			return "*"
		}
		return strconv.FormatInt(*n, 10)
	}
	access := r.Access
	if access == "" {
		access = "rwm"
	}
	if typ == "a" && r.Major == nil && r.Minor == nil {
		return "a"
	}
	return fmt.Sprintf("%s %s:%s %s", typ, num(r.Major), num(r.Minor), access)
}
