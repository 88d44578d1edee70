package applets

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// An applet imports applets/internal/… only, never another applet: what
// two applets share lives once below internal. The lists of applets (this
// package and images) are the only importers of applets.
func TestAppletsImportNoOtherApplet(t *testing.T) {
	const prefix = "github.com/tupperware/tw/applets/"
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "internal" || d.Name() == "images" {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(d.Name(), "*.go"))
		for _, f := range files {
			ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range ast.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if strings.HasPrefix(p, prefix) && !strings.HasPrefix(p, prefix+"internal/") {
					t.Errorf("%s imports the applet %s", f, p)
				}
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("only %d files checked", checked)
	}
}
