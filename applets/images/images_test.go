package images

import (
	"testing"

	"github.com/tupperware/tw/applets"
)

// The split build's stubs take their names and summaries from
// applets.Images: they must be the applets' own.
func TestImagesNamesAndSummaries(t *testing.T) {
	if len(All) != len(applets.Images) {
		t.Fatalf("images.All has %d applets, applets.Images %d", len(All), len(applets.Images))
	}
	for i, a := range All {
		s := applets.Images[i]
		if a.Name != s.Name || a.Summary != s.Summary {
			t.Errorf("applets.Images[%d] = {%q, %q}, want {%q, %q}", i, s.Name, s.Summary, a.Name, a.Summary)
		}
		if s.Main != nil {
			t.Errorf("applets.Images[%d] (%s) has a Main", i, s.Name)
		}
	}
	for _, c := range applets.Core {
		for _, a := range All {
			if c.Name == a.Name {
				t.Errorf("%s is both a core and an image applet", a.Name)
			}
		}
	}
}
