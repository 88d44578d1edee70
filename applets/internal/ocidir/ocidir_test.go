package ocidir

import (
	"encoding/json"
	"reflect"
	"testing"
)

func desc(digest, tag string) string {
	if tag == "" {
		return `{"mediaType":"m","digest":"` + digest + `","size":1}`
	}
	return `{"mediaType":"m","digest":"` + digest + `","size":1,"annotations":{"` + RefName + `":"` + tag + `"}}`
}

func index(descs ...string) []byte {
	s := `{"schemaVersion":2,"manifests":[`
	for i, d := range descs {
		if i > 0 {
			s += ","
		}
		s += d
	}
	return []byte(s + `]}`)
}

// tags lists "digest:tag" of an index, in order.
func tags(t *testing.T, data []byte) []string {
	t.Helper()
	var idx struct {
		SchemaVersion int `json:"schemaVersion"`
		Manifests     []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	if idx.SchemaVersion != 2 {
		t.Fatalf("schemaVersion lost: %s", data)
	}
	out := []string{}
	for _, m := range idx.Manifests {
		out = append(out, m.Digest+":"+m.Annotations[RefName])
	}
	return out
}

func TestMerge(t *testing.T) {
	for _, c := range []struct {
		name                string
		base, ours, current []byte
		want                []string
	}{
		{"four pulls, each adds its tag", index(), index(desc("d", "d")), index(desc("a", "a"), desc("b", "b"), desc("c", "c")),
			[]string{"a:a", "b:b", "c:c", "d:d"}},
		{"fresh layout joins one made meanwhile", nil, index(desc("b", "b")), index(desc("a", "a")),
			[]string{"a:a", "b:b"}},
		{"a retag replaces the tag in current, also when another run moved it", index(desc("x", "t")), index(desc("y", "t")), index(desc("z", "t"), desc("a", "a")),
			[]string{"a:a", "y:t"}},
		{"nothing changed by us keeps current", index(desc("a", "a")), index(desc("a", "a")), index(desc("a", "a"), desc("b", "b")),
			[]string{"a:a", "b:b"}},
		{"an untagged manifest is added once", index(), index(desc("u", "")), index(desc("u", ""), desc("a", "a")),
			[]string{"a:a", "u:"}},
		{"what we dropped is dropped", index(desc("a", "a"), desc("b", "b")), index(desc("a", "a")), index(desc("a", "a"), desc("b", "b"), desc("c", "c")),
			[]string{"a:a", "c:c"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Merge(c.base, c.ours, c.current)
			if err != nil {
				t.Fatal(err)
			}
			if g := tags(t, got); !reflect.DeepEqual(g, c.want) {
				t.Errorf("got %v, want %v", g, c.want)
			}
		})
	}
}

func TestMergeBadIndex(t *testing.T) {
	if _, err := Merge(nil, index(), []byte("{")); err == nil {
		t.Error("a corrupt index.json was merged")
	}
	if _, err := Merge(nil, index(), []byte(`{"manifests":{}}`)); err == nil {
		t.Error("manifests that are no list were merged")
	}
}
