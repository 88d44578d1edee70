package ns

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSubID(t *testing.T) {
	const file = "alice:100000:65536\n1001:200000:1000\nbob:300000:65536\nbob:400000:10\n"
	for _, tc := range []struct {
		name string
		id   uint32
		want IDMap
		ok   bool
	}{
		{"alice", 1000, IDMap{0, 100000, 65536}, true},
		{"carol", 1001, IDMap{0, 200000, 1000}, true}, // by number
		{"bob", 1002, IDMap{0, 300000, 65536}, true},  // the first line, as util-linux
		{"dave", 1003, IDMap{}, false},
	} {
		got, ok, err := ParseSubID(strings.NewReader(file), tc.name, tc.id)
		if err != nil || ok != tc.ok || got != tc.want {
			t.Errorf("%s: %v %v %v, want %v %v", tc.name, got, ok, err, tc.want, tc.ok)
		}
	}
	if _, _, err := ParseSubID(strings.NewReader("eve:x:10\n"), "eve", 5); err == nil {
		t.Error("a bad line is accepted")
	}
	if _, _, err := ParseSubID(strings.NewReader("eve:10:0\n"), "eve", 5); err == nil {
		t.Error("an empty range is accepted")
	}
}

// The maps util-linux unshare(1) gives for --map-auto with -r and with
// --map-user (read from /proc/self/uid_map under unshare 2.38).
func TestAddSingle(t *testing.T) {
	r := []IDMap{{0, 100000, 65536}}
	for _, tc := range []struct {
		inner uint32
		want  []IDMap
	}{
		{0, []IDMap{{0, 1001, 1}, {1, 100000, 65535}}},
		{1000, []IDMap{{1000, 1001, 1}, {0, 100000, 1000}, {1001, 101000, 64535}}},
		{65535, []IDMap{{65535, 1001, 1}, {0, 100000, 65535}}},
		{70000, []IDMap{{70000, 1001, 1}, {0, 100000, 65536}}},
	} {
		if got := AddSingle(r, 1001, tc.inner); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("inner %d: %v, want %v", tc.inner, got, tc.want)
		}
	}
	if got := Args([]IDMap{{0, 1001, 1}, {1, 100000, 65535}}); strings.Join(got, " ") != "0 1001 1 1 100000 65535" {
		t.Errorf("Args: %q", got)
	}
}
