package untar

import (
	"testing"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"a/b":             "a/b",
		"./a/b/":          "a/b",
		"/etc/passwd":     "etc/passwd",
		"../../etc":       "etc",
		"a/../../../b":    "b",
		"/":               ".",
		"./":              ".",
		"..":              ".",
		"a/./b/.wh..wh..": "a/b/.wh..wh..",
		"":                "",
	} {
		if got := CleanPath(in); got != want {
			t.Errorf("CleanPath(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestToHost(t *testing.T) {
	maps := []rspec.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}, {ContainerID: 5000, HostID: 7, Size: 1}}
	for id, want := range map[int]int{0: 100000, 999: 100999, 5000: 7} {
		if got, err := ToHost(id, maps); err != nil || got != want {
			t.Errorf("ToHost(%d) = %d, %v; want %d", id, got, err, want)
		}
	}
	for _, id := range []int{1000, 4999, 5001} {
		if _, err := ToHost(id, maps); err == nil {
			t.Errorf("ToHost(%d): want an error", id)
		}
	}
	if got, err := ToHost(42, nil); err != nil || got != 42 {
		t.Errorf("ToHost without maps = %d, %v", got, err)
	}
}
