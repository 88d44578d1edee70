package readdir

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNames(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b", ".hidden"} {
		if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// through an O_PATH descriptor, as tw-commit's walk holds them
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	names, err := Names(fd, "x")
	slices.Sort(names)
	if err != nil || !slices.Equal(names, []string{".hidden", "a", "b"}) {
		t.Errorf("Names: %q, %v", names, err)
	}
	// a file is no directory: the error names the name given
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ffd, err := unix.Open(file, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ffd)
	_, err = Names(ffd, "some/f")
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Op != "open" || pe.Path != "some/f" || !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("Names of a file: %v", err)
	}
}
