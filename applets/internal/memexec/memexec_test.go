package memexec

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/cli"
)

// The test binary plays both parts: with MEMEXEC_EXEC set it runs itself
// through Exec; with MEMEXEC_INNER set (the program Exec started) it
// reports what it got and exits 7.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv("MEMEXEC_EXEC") != "" && os.Getenv("MEMEXEC_INNER") == "":
		self, err := os.ReadFile("/proc/self/exe")
		if err == nil {
			env := append(os.Environ(), "MEMEXEC_INNER=1")
			// stdout and stderr swapped: the program gets them as given.
			err = Exec(self, []string{"tw-inner", "a b", "c"}, env, cli.IO{Stdin: os.Stdin, Stdout: os.Stderr, Stderr: os.Stdout})
		}
		os.Stderr.WriteString("exec: " + err.Error() + "\n")
		os.Exit(1)
	case os.Getenv("MEMEXEC_TRAMPOLINE") != "":
		// run argv[1:] through ExecTrampoline, reporting to descriptor 3
		args := strings.Fields(os.Getenv("MEMEXEC_TRAMPOLINE"))
		err := ExecTrampoline(args[0], args, []string{"A=1"}, os.Getenv("MEMEXEC_REPORT") != "")
		os.Stderr.WriteString("exec: " + err.Error() + "\n")
		os.Exit(1)
	case os.Getenv("MEMEXEC_INNER") != "":
		exe, _ := os.Readlink("/proc/self/exe")
		os.Stdout.WriteString(strings.Join(os.Args, "|") + "\n" + exe + "\n")
		os.Stderr.WriteString("to stderr\n")
		os.Exit(7)
	}
	os.Exit(m.Run())
}

func TestExec(t *testing.T) {
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), "MEMEXEC_EXEC=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("exit: %v, want status 7; stderr %q", err, stderr.String())
	}
	lines := strings.Split(stderr.String(), "\n")
	if len(lines) != 3 || lines[0] != "tw-inner|a b|c" || !strings.HasPrefix(lines[1], "/memfd:tw-inner") {
		t.Errorf("the program's stdout (our stderr) = %q, want argv and a memfd as its executable", stderr.String())
	}
	if stdout.String() != "to stderr\n" {
		t.Errorf("the program's stderr (our stdout) = %q", stdout.String())
	}
}

func TestExecNeedsFiles(t *testing.T) {
	err := Exec([]byte("not run"), []string{"tw-x"}, nil, cli.IO{Stdin: os.Stdin, Stdout: &bytes.Buffer{}, Stderr: os.Stderr})
	if err == nil || err.Error() != "standard stream 1 is not a file" {
		t.Errorf("Exec with a buffer for stdout: %v", err)
	}
}

// Sealed's file holds what was copied and refuses any change to it.
func TestSealed(t *testing.T) {
	f, err := Sealed("tw-test", strings.NewReader("contents"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := os.ReadFile("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil || string(got) != "contents" {
		t.Fatalf("read back %q, %v", got, err)
	}
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, unix.EPERM) {
		t.Errorf("write to the sealed memfd: %v, want EPERM", err)
	}
	if err := f.Truncate(1); !errors.Is(err, unix.EPERM) {
		t.Errorf("truncate the sealed memfd: %v, want EPERM", err)
	}
	if s, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0); err != nil || s != seals {
		t.Errorf("seals %#x, %v; want %#x", s, err, seals)
	}
}
