package caps

import "testing"

func TestNamesMatchTheKernelNumbers(t *testing.T) {
	for name, bit := range map[string]int{"CHOWN": 0, "KILL": 5, "NET_BIND_SERVICE": 10, "NET_RAW": 13,
		"SYS_CHROOT": 18, "SYS_ADMIN": SYS_ADMIN, "MKNOD": MKNOD, "AUDIT_WRITE": 29, "SETFCAP": 31,
		"CHECKPOINT_RESTORE": 40} {
		if Names[bit] != name {
			t.Errorf("Names[%d] = %s, want %s", bit, Names[bit], name)
		}
	}
}

func TestDefaultIsRuncs(t *testing.T) {
	if Default != 0x20000420 {
		t.Errorf("Default = %#x", uint64(Default))
	}
	if got := Default.String(); got != "CAP_AUDIT_WRITE,CAP_KILL,CAP_NET_BIND_SERVICE" {
		t.Errorf("Default.String() = %s", got)
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"KILL", "kill", "CAP_KILL", "cap_Kill"} {
		if c, err := Parse(s); err != nil || c != 1<<5 {
			t.Errorf("Parse(%q) = %#x, %v", s, uint64(c), err)
		}
	}
	if c, err := Parse("all"); err != nil || c != All || All != 1<<41-1 {
		t.Errorf("Parse(all) = %#x, %v", uint64(c), err)
	}
	for _, s := range []string{"", "CAP_", "BOGUS", "CAP_KILLS"} {
		if _, err := Parse(s); err == nil || err.Error() != "unknown capability: "+s {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
}

func TestCompute(t *testing.T) {
	for _, c := range []struct {
		add, drop []string
		want      Set
	}{
		{nil, nil, Default},
		{[]string{"CHOWN,cap_sys_chroot"}, []string{"kill"}, 0x20040401},
		{nil, []string{"ALL"}, 0},
		{[]string{"NET_RAW"}, []string{"ALL"}, 1 << 13},
		{[]string{"ALL"}, []string{"SYS_ADMIN"}, All &^ (1 << 21)},
		{[]string{"MKNOD", "SETUID,,SETGID"}, nil, Default | 1<<27 | 1<<7 | 1<<6},
	} {
		got, err := Compute(Default, c.add, c.drop)
		if err != nil || got != c.want {
			t.Errorf("Compute(%v, %v) = %#x, %v; want %#x", c.add, c.drop, uint64(got), err, uint64(c.want))
		}
	}
	if _, err := Compute(Default, []string{"CHOWN,NOPE"}, nil); err == nil || err.Error() != "unknown capability: NOPE" {
		t.Errorf("bad add: %v", err)
	}
	if _, err := Compute(Default, nil, []string{"NOPE"}); err == nil {
		t.Errorf("bad drop: no error")
	}
}
