package hugeheap

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// vma is the /proc/self/smaps entry of the mapping that holds addr: its
// VmFlags and its AnonHugePages in kB.
func vma(t *testing.T, addr uintptr) (flags string, hugeKB int) {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	in := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x ", &lo, &hi); n == 2 && strings.Contains(strings.Fields(line)[0], "-") {
			in = lo <= addr && addr < hi
			continue
		}
		if !in {
			continue
		}
		if v, ok := strings.CutPrefix(line, "AnonHugePages:"); ok {
			fmt.Sscanf(strings.TrimSpace(v), "%d", &hugeKB)
		}
		if v, ok := strings.CutPrefix(line, "VmFlags:"); ok {
			return v, hugeKB
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return "", 0
}

// The init asked for huge pages where the heap starts, and the kernel made
// the first 2 MiB one (unless THP is off on this machine).
func TestHeapStartIsHuge(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("transparent huge pages are off here (%q, %v)", mode, err)
	}
	addr := uintptr(unsafe.Pointer(first))
	flags, hugeKB := vma(t, addr)
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("heap mapping at %#x has VmFlags %q, want hg (MADV_HUGEPAGE)", addr, flags)
	}
	if hugeKB < 2048 {
		t.Errorf("heap mapping at %#x has %d kB of huge pages, want the collapsed 2048", addr, hugeKB)
	}
}

func TestPolicy(t *testing.T) {
	for line, want := range map[string]string{
		"always [madvise] never\n": "madvise",
		"always madvise [never]\n": "never",
		"[always] madvise never\n": "always",
		"always madvise never\n":   "",
		"[never":                   "",
		"":                         "",
	} {
		if got := policy([]byte(line)); got != want {
			t.Errorf("policy(%q) = %q, want %q", line, got, want)
		}
	}
}
