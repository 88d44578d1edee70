package enter

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseStatus(t *testing.T) {
	status := `Name:	sh
Uid:	1000	1000	1000	1000
Gid:	100	100	100	100
Groups:	100 27 
NoNewPrivs:	1
Seccomp:	2
CapPrm:	0000000000000000
CapEff:	0000000000000000
CapBnd:	0000000020000420
`
	h, err := parseStatus(strings.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	if h.uid != 1000 || h.gid != 100 || len(h.groups) != 2 || h.groups[1] != 27 || !h.noNewPrivs || !h.seccomp ||
		h.bounding != 0x20000420 || h.effective != 0 || h.permitted != 0 {
		t.Errorf("parseStatus = %+v", h)
	}
	if _, err := parseStatus(strings.NewReader("Uid:\t0\t0\t0\t0\n")); err == nil {
		t.Error("a status without capabilities was accepted")
	}
	if _, err := parseStatus(strings.NewReader(strings.Replace(status, "0000000020000420", "zz", 1))); err == nil {
		t.Error("a bad CapBnd was accepted")
	}
}

func TestParseLimits(t *testing.T) {
	limits := `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max data size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max core file size        0                    unlimited            bytes     
Max resident set          unlimited            unlimited            bytes     
Max processes             77                   77                   processes 
Max open files            1024                 1024                 files     
`
	got, err := parseLimits(strings.NewReader(limits))
	if err != nil {
		t.Fatal(err)
	}
	if got[unix.RLIMIT_NOFILE] != (unix.Rlimit{Cur: 1024, Max: 1024}) || got[unix.RLIMIT_NPROC] != (unix.Rlimit{Cur: 77, Max: 77}) ||
		got[unix.RLIMIT_STACK] != (unix.Rlimit{Cur: 8388608, Max: math.MaxUint64}) || len(got) != 8 {
		t.Errorf("parseLimits = %v", got)
	}
	if _, err := parseLimits(strings.NewReader("Limit\nMax cpu time              lots                 unlimited\n")); err == nil {
		t.Error("a bad limit was accepted")
	}
}

func TestFiltersEncoding(t *testing.T) {
	filters := [][]unix.SockFilter{
		{{Code: 0x20, K: 4}, {Code: 0x15, Jt: 1, Jf: 2, K: 0xc000003e}, {Code: 0x06, K: 0x7fff0000}},
		{{Code: 0x06, K: 0x00050001}},
	}
	got, err := decodeFilters(encodeFilters(filters))
	if err != nil || !reflect.DeepEqual(got, filters) {
		t.Errorf("round trip: %v, %v", got, err)
	}
	if got, err := decodeFilters(""); got != nil || err != nil {
		t.Errorf("none: %v, %v", got, err)
	}
	for _, bad := range []string{"zz", "0102", ",", "2000000004000000,"} {
		if _, err := decodeFilters(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}
