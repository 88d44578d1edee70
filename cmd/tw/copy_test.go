package main

import (
	"bytes"
	"slices"
	"testing"
)

// sizes records the length of each write.
type sizes struct {
	bytes.Buffer
	n []int
}

func (s *sizes) Write(p []byte) (int, error) {
	s.n = append(s.n, len(p))
	return s.Buffer.Write(p)
}

// Every write is one whole huge page but the last, so that each lands at a
// multiple of hugePage.
func TestCopyHuge(t *testing.T) {
	for _, n := range []int{0, 1, hugePage - 1, hugePage, hugePage + 1, 3*hugePage + 4096} {
		src := bytes.Repeat([]byte{7}, n)
		var out sizes
		if err := copyHuge(&out, bytes.NewReader(src)); err != nil {
			t.Fatal(err)
		}
		var want []int
		for left := n; left > 0; left -= hugePage {
			want = append(want, min(left, hugePage))
		}
		if !slices.Equal(out.n, want) || !bytes.Equal(out.Bytes(), src) {
			t.Errorf("%d bytes: writes %v, want %v (equal: %v)", n, out.n, want, bytes.Equal(out.Bytes(), src))
		}
	}
}
