package mount

import (
	"strings"
	"testing"
)

func TestNodesAreRuncs(t *testing.T) {
	var got []string
	for _, n := range Nodes {
		got = append(got, n.Name)
	}
	if strings.Join(got, " ") != "null zero full random urandom tty" || Nodes[5] != (Node{"tty", 5, 0}) {
		t.Errorf("nodes %v", Nodes)
	}
}
