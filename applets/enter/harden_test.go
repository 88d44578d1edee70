package enter

import (
	"math"
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
