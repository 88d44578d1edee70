package untar

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ent is one tar entry of a test layer.
type ent struct {
	typ  byte // tar.TypeReg, TypeDir, TypeSymlink, TypeLink, TypeChar…
	name string
	arg  string // contents, or link target
	mode int64
	size int64 // when not len(arg): a header that lies
	maj  int64
	min  int64
}

func layerOf(t testing.TB, ents ...ent) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range ents {
		h := &tar.Header{Typeflag: e.typ, Name: e.name, Mode: e.mode, ModTime: time.Unix(1600000000, 0), Format: tar.FormatPAX}
		if h.Mode == 0 {
			h.Mode = 0o644
			if e.typ == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		switch e.typ {
		case tar.TypeReg:
			h.Size = int64(len(e.arg))
		case tar.TypeSymlink, tar.TypeLink:
			h.Linkname = e.arg
		case tar.TypeChar, tar.TypeBlock:
			h.Devmajor, h.Devminor = e.maj, e.min
		}
		if e.size != 0 {
			h.Size = e.size
		}
		if err := tw.WriteHeader(h); err != nil {
			continue // not encodable (a fuzzed name with NUL): left out
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.arg)) // a lying size leaves the archive short
		}
	}
	tw.Flush()
	return b.Bytes()
}

// sandbox is a root to extract into and, beside it, an outside that no
// entry may touch: a directory with a file, its state recorded.
type sandbox struct {
	root, outside string
	before        string
}

func newSandbox(t testing.TB) *sandbox {
	base := t.TempDir()
	s := &sandbox{root: filepath.Join(base, "root"), outside: filepath.Join(base, "outside")}
	for _, d := range []string{s.root, s.outside, s.outside + "/dir"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(s.outside+"/victim", []byte("victim"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.outside+"/dir/victim", []byte("victim"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.before = state(t, s.outside)
	return s
}

// state describes a tree: path, type, mode, owner, nlink, contents.
func state(t testing.TB, dir string) string {
	var lines []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			lines = append(lines, p+" "+err.Error())
			return nil
		}
		var st unix.Stat_t
		unix.Lstat(p, &st)
		l := fmt.Sprintf("%s %o %d:%d n%d", strings.TrimPrefix(p, dir), st.Mode, st.Uid, st.Gid, st.Nlink)
		if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			l += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			l += " -> " + target
		}
		lines = append(lines, l)
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func (s *sandbox) apply(t testing.TB, layers ...[]byte) error {
	x := &Extractor{Root: s.root}
	if err := x.Open(); err != nil {
		t.Fatal(err)
	}
	var err error
	for _, l := range layers {
		if err = x.Apply(bytes.NewReader(l)); err != nil {
			break
		}
	}
	if cerr := x.Close(); err == nil {
		err = cerr
	}
	return err
}

func (s *sandbox) outsideUntouched(t testing.TB) {
	t.Helper()
	if now := state(t, s.outside); now != s.before {
		t.Fatalf("outside the root changed:\n%s\nwas:\n%s", now, s.before)
	}
}

func lstat(t *testing.T, p string) (unix.Stat_t, bool) {
	var st unix.Stat_t
	return st, unix.Lstat(p, &st) == nil
}

func readFile(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

func TestExtractHostile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: owners and device nodes")
	}
	for _, c := range []struct {
		name    string
		layers  func(s *sandbox) [][]byte
		wantErr string // "" for success; a part of the error otherwise
		check   func(t *testing.T, s *sandbox)
	}{
		{name: "dotdot and absolute names land inside",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeReg, name: "../../outside/victim", arg: "a"},
					ent{typ: tar.TypeReg, name: "/abs", arg: "b"}, ent{typ: tar.TypeReg, name: "x/../../../y", arg: "c"},
					ent{typ: tar.TypeReg, name: s.outside + "/victim", arg: "d"})}
			},
			check: func(t *testing.T, s *sandbox) {
				for p, want := range map[string]string{"outside/victim": "a", "abs": "b", "y": "c"} {
					if got := readFile(filepath.Join(s.root, p)); got != want {
						t.Errorf("%s = %q, want %q", p, got, want)
					}
				}
				if got := readFile(filepath.Join(s.root, s.outside, "victim")); got != "d" {
					t.Errorf("absolute host path: %q", got)
				}
			}},
		{name: "a file through a symlink to the host lands inside",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeSymlink, name: "abs", arg: s.outside},
					ent{typ: tar.TypeSymlink, name: "rel", arg: "../../../../../../../../" + s.outside},
					ent{typ: tar.TypeReg, name: "abs/victim", arg: "x"}, ent{typ: tar.TypeReg, name: "rel/dir/victim", arg: "y"},
					ent{typ: tar.TypeDir, name: "abs/newdir"})}
			},
			check: func(t *testing.T, s *sandbox) {
				if got := readFile(filepath.Join(s.root, s.outside, "victim")); got != "x" {
					t.Errorf("abs/victim went to %q", got)
				}
				if got := readFile(filepath.Join(s.root, s.outside, "dir/victim")); got != "y" {
					t.Errorf("rel/dir/victim went to %q", got)
				}
			}},
		{name: "whiteouts and opaque directories through symlinks stay inside",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeReg, name: "keep", arg: "k"},
					ent{typ: tar.TypeSymlink, name: "abs", arg: s.outside}, ent{typ: tar.TypeSymlink, name: "up", arg: "../outside"},
					ent{typ: tar.TypeSymlink, name: "dirlink", arg: s.outside + "/dir"}),
					layerOf(t, ent{typ: tar.TypeReg, name: "abs/.wh.victim"}, ent{typ: tar.TypeReg, name: "up/.wh.dir"},
						ent{typ: tar.TypeReg, name: "dirlink/.wh..wh..opq"}, ent{typ: tar.TypeReg, name: "up/dir/.wh..wh..opq"})}
			},
			check: func(t *testing.T, s *sandbox) {
				if readFile(filepath.Join(s.root, "keep")) != "k" {
					t.Error("a whiteout through a symlink removed a file of the root")
				}
			}},
		{name: "whiteouts named .wh., .wh.. and .wh... are refused and remove nothing",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeReg, name: "d/keep", arg: "k"}, ent{typ: tar.TypeReg, name: "top", arg: "t"}),
					layerOf(t, ent{typ: tar.TypeReg, name: "d/.wh.."})}
			},
			wantErr: `invalid whiteout ".wh.."`,
			check: func(t *testing.T, s *sandbox) {
				if readFile(filepath.Join(s.root, "top")) != "t" || readFile(filepath.Join(s.root, "d/keep")) != "k" {
					t.Error("a .wh.. whiteout removed files")
				}
				for _, wh := range []string{"d/.wh.", "d/.wh...", ".wh..", ".wh..."} {
					err := s.apply(t, layerOf(t, ent{typ: tar.TypeReg, name: wh}))
					if err == nil || !strings.Contains(err.Error(), "invalid whiteout") {
						t.Errorf("%s: %v", wh, err)
					}
				}
				if readFile(filepath.Join(s.root, "top")) != "t" || readFile(filepath.Join(s.root, "d/keep")) != "k" {
					t.Error("a .wh. whiteout removed files")
				}
			}},
		{name: "a hardlink to a symlink links the symlink, not its target",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeSymlink, name: "s", arg: s.outside + "/victim"},
					ent{typ: tar.TypeLink, name: "h", arg: "s"})}
			},
			check: func(t *testing.T, s *sandbox) {
				st, ok := lstat(t, filepath.Join(s.root, "h"))
				if !ok || st.Mode&unix.S_IFMT != unix.S_IFLNK {
					t.Errorf("h is not the symlink: mode %o", st.Mode)
				}
			}},
		{name: "a hardlink out of the root is refused",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeLink, name: "h", arg: "../outside/victim"})}
			},
			wantErr: "no such file or directory"},
		{name: "a hardlink through a symlink to the host is refused",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeSymlink, name: "abs", arg: s.outside},
					ent{typ: tar.TypeLink, name: "h", arg: "abs/victim"})}
			},
			wantErr: "no such file or directory"},
		{name: "a symlink through itself is an error, not a loop",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeSymlink, name: "loop", arg: "loop"},
					ent{typ: tar.TypeReg, name: "loop/x", arg: "x"})}
			},
			wantErr: "too many levels of symbolic links"},
		{name: "two symlinks through each other are an error",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeSymlink, name: "a", arg: "b/x"}, ent{typ: tar.TypeSymlink, name: "b", arg: "/a"},
					ent{typ: tar.TypeDir, name: "a/sub"})}
			},
			wantErr: "too many levels of symbolic links"},
		{name: "a dangling symlink as a parent makes its target, inside",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeSymlink, name: "d", arg: s.outside + "/new"},
					ent{typ: tar.TypeReg, name: "d/f", arg: "f"})}
			},
			check: func(t *testing.T, s *sandbox) {
				if got := readFile(filepath.Join(s.root, s.outside, "new/f")); got != "f" {
					t.Errorf("d/f: %q", got)
				}
			}},
		{name: "duplicate entries: the last one wins, whatever the types",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeReg, name: "f", arg: "one"}, ent{typ: tar.TypeReg, name: "f", arg: "two"},
					ent{typ: tar.TypeReg, name: "d", arg: "file"}, ent{typ: tar.TypeDir, name: "d"}, ent{typ: tar.TypeReg, name: "d/in", arg: "in"},
					ent{typ: tar.TypeDir, name: "e"}, ent{typ: tar.TypeReg, name: "e/in", arg: "in"}, ent{typ: tar.TypeReg, name: "e", arg: "file"},
					ent{typ: tar.TypeDir, name: "m", mode: 0o700}, ent{typ: tar.TypeDir, name: "m", mode: 0o750},
					ent{typ: tar.TypeSymlink, name: "l", arg: "x"}, ent{typ: tar.TypeSymlink, name: "l", arg: "y"})}
			},
			check: func(t *testing.T, s *sandbox) {
				for p, want := range map[string]string{"f": "two", "d/in": "in", "e": "file"} {
					if got := readFile(filepath.Join(s.root, p)); got != want {
						t.Errorf("%s = %q, want %q", p, got, want)
					}
				}
				if st, _ := lstat(t, filepath.Join(s.root, "m")); st.Mode&0o7777 != 0o750 {
					t.Errorf("m: mode %o", st.Mode&0o7777)
				}
				if l, _ := os.Readlink(filepath.Join(s.root, "l")); l != "y" {
					t.Errorf("l -> %q", l)
				}
			}},
		{name: "device nodes and a fifo are made as the header says",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeChar, name: "null", maj: 1, min: 3, mode: 0o666},
					ent{typ: tar.TypeBlock, name: "loop", maj: 7, min: 200, mode: 0o660}, ent{typ: tar.TypeFifo, name: "fifo", mode: 0o600})}
			},
			check: func(t *testing.T, s *sandbox) {
				for p, want := range map[string][3]uint32{"null": {unix.S_IFCHR | 0o666, 1, 3}, "loop": {unix.S_IFBLK | 0o660, 7, 200}, "fifo": {unix.S_IFIFO | 0o600, 0, 0}} {
					st, _ := lstat(t, filepath.Join(s.root, p))
					if st.Mode != want[0] || unix.Major(st.Rdev) != want[1] || unix.Minor(st.Rdev) != want[2] {
						t.Errorf("%s: mode %o dev %d:%d", p, st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev))
					}
				}
			}},
		{name: "a huge size with a short stream is an error, and writes no huge file",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeReg, name: "big", arg: "tiny", size: 1 << 40})}
			},
			wantErr: "unexpected EOF",
			check: func(t *testing.T, s *sandbox) {
				if st, ok := lstat(t, filepath.Join(s.root, "big")); ok && st.Blocks > 8 {
					t.Errorf("big: %d blocks", st.Blocks)
				}
			}},
		{name: "the root entry cannot change type",
			layers: func(s *sandbox) [][]byte {
				return [][]byte{layerOf(t, ent{typ: tar.TypeSymlink, name: "./", arg: s.outside})}
			},
			wantErr: "refusing to change type of root directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(t)
			err := s.apply(t, c.layers(s)...)
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case c.wantErr != "" && c.wantErr != "-" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("error %v, want one with %q", err, c.wantErr)
			}
			s.outsideUntouched(t)
			if c.check != nil {
				c.check(t, s)
			}
		})
	}
}

// Fuzzing: whatever the layer, nothing outside the root changes and
// nothing panics.

// entriesOf decodes fuzz bytes into entries: lines "T NAME[ ARG]".
func entriesOf(data []byte) []ent {
	var out []ent
	for _, line := range strings.Split(string(data), "\n") {
		if len(line) < 3 {
			continue
		}
		f := strings.SplitN(line[2:], " ", 2)
		e := ent{name: f[0]}
		if len(f) > 1 {
			e.arg = f[1]
		}
		switch line[0] {
		case 'f':
			e.typ = tar.TypeReg
		case 'd':
			e.typ = tar.TypeDir
		case 's':
			e.typ = tar.TypeSymlink
		case 'h':
			e.typ = tar.TypeLink
		case 'p':
			e.typ = tar.TypeFifo
		default:
			continue
		}
		out = append(out, e)
	}
	return out
}

var fuzzSeeds = []string{
	"s evil /OUTSIDE\nf evil/victim x\nf evil/dir/.wh.victim\nf evil/.wh..wh..opq",
	"s up ../../../OUTSIDE\nd up/new\nh h up/victim\nf up/dir/victim y",
	"s loop loop\nf loop/x x\ns a b\ns b a\nd a/x",
	"f ../../OUTSIDE/victim x\nf /OUTSIDE/dir/victim y\nh h ../OUTSIDE/victim",
	"d d\nf d/f 1\nf d 2\nd d\ns d/l /\nf d/l/x z\nf d/.wh..\nf .wh...",
	"s s /OUTSIDE/victim\nh h s\nf h over",
}

func FuzzExtract(f *testing.F) {
	if os.Geteuid() != 0 {
		f.Skip("needs root")
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), []byte(""))
	}
	f.Add([]byte("f a 1"), []byte("f a/.wh..wh..opq\ns a /OUTSIDE\nf a/.wh.victim"))
	f.Fuzz(func(t *testing.T, l1, l2 []byte) {
		s := newSandbox(t)
		var layers [][]byte
		for _, l := range [][]byte{l1, l2} {
			es := entriesOf(bytes.ReplaceAll(l, []byte("/OUTSIDE"), []byte(s.outside)))
			for i := range es {
				es[i].arg = strings.ReplaceAll(es[i].arg, "/OUTSIDE", s.outside)
			}
			layers = append(layers, layerOf(t, es...))
		}
		s.apply(t, layers...) // errors are fine; escapes and panics are not
		s.outsideUntouched(t)
	})
}

// FuzzExtractRaw feeds arbitrary bytes as a tar stream.
func FuzzExtractRaw(f *testing.F) {
	if os.Geteuid() != 0 {
		f.Skip("needs root")
	}
	for _, s := range fuzzSeeds {
		f.Add(layerOf(f, entriesOf([]byte(s))...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newSandbox(t)
		s.apply(t, data)
		s.outsideUntouched(t)
	})
}

// FuzzResolve: CleanPath always gives a clean relative name, and
// openInRoot never opens anything outside the root, whatever symlinks
// the root holds.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"a/b", "../../x", "/abs/../..", "loop/x", "up/victim", "abs/dir", ".", "", "a//b/./c/..", "..."} {
		f.Add(s)
	}
	base := f.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
	os.MkdirAll(root+"/a/b", 0o755)
	os.MkdirAll(outside+"/dir", 0o755)
	for name, target := range map[string]string{"abs": outside, "up": "../outside", "loop": "loop", "a/b/c": "../../..", "rootlink": "/"} {
		os.Symlink(target, filepath.Join(root, name))
	}
	x := &Extractor{Root: root}
	if err := x.Open(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		c := CleanPath(p)
		if p != "" && (strings.HasPrefix(c, "/") || c == ".." || strings.HasPrefix(c, "../") || filepath.Clean(c) != c || CleanPath(c) != c) {
			t.Fatalf("CleanPath(%q) = %q", p, c)
		}
		fd, err := x.openInRoot(p, unix.O_PATH)
		if err != nil {
			return
		}
		defer unix.Close(fd)
		got, err := os.Readlink(procPath(fd))
		if err != nil {
			t.Fatal(err)
		}
		if got != x.abs && !strings.HasPrefix(got, x.abs+"/") {
			t.Fatalf("openInRoot(%q) opened %s, outside %s", p, got, x.abs)
		}
	})
}
