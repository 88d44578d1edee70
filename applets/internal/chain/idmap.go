package chain

// newuidmap and newgidmap, the setuid helpers that write the ranges of
// /etc/subuid and /etc/subgid into a user namespace for a caller without
// root (tw-unshare --map-auto, tw-runc's rootless init), as util-linux
// unshare(1) runs them.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/ns"
)

// NewIDMaps runs newuidmap for uids and newgidmap for gids of pid at the
// same time (each is the start of a setuid program): both started from
// this goroutine, neither waiting for the other's execve (Start), then
// waited for; when both fail, the error is newuidmap's.
func NewIDMaps(pid int, uids, gids []ns.IDMap) error {
	u := startIDMap("newuidmap", pid, uids)
	g := startIDMap("newgidmap", pid, gids)
	uerr, gerr := u(), g()
	if uerr != nil {
		return fmt.Errorf("user namespace: %w", uerr)
	}
	if gerr != nil {
		return fmt.Errorf("user namespace: %w", gerr)
	}
	return nil
}

// startIDMap starts helper (newuidmap or newgidmap) to write maps for pid,
// and returns what waits for it: its own message, when it fails, is the
// reason.
func startIDMap(helper string, pid int, maps []ns.IDMap) (wait func() error) {
	path, err := exec.LookPath(helper)
	if err != nil {
		return func() error {
			return fmt.Errorf("%s not found (install uidmap): needed to map subordinate ids", helper)
		}
	}
	args := ns.Args(maps)
	run := startOutput(path, append([]string{helper, strconv.Itoa(pid)}, args...))
	return func() error {
		out, err := run()
		if err == nil {
			return nil
		}
		msg := strings.TrimSpace(string(out))
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s %d %s: %s", helper, pid, strings.Join(args, " "), msg)
	}
}

// startOutput starts path with argv, stdin /dev/null (Start), and returns
// what reads what it writes to stdout and stderr to the end and waits for
// it, as exec.Cmd's CombinedOutput does, with its errors' words ("exit
// status N", "signal: NAME", "fork/exec PATH: …"). Not through os/exec
// (whose first start in a process forks a throwaway child to test pidfds,
// and which copies the output in a goroutine), nor syscall.ForkExec
// (which returns once the program is executed).
func startOutput(path string, argv []string) (wait func() ([]byte, error)) {
	fail := func(err error) func() ([]byte, error) {
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Op == "exec" {
			err = &os.PathError{Op: "fork/exec", Path: path, Err: pe.Err}
		}
		return func() ([]byte, error) { return nil, err }
	}
	null, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail(&os.PathError{Op: "open", Path: os.DevNull, Err: err})
	}
	defer unix.Close(null)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return fail(os.NewSyscallError("pipe2", err))
	}
	pid, started, err := Start(path, argv, os.Environ(), [3]int{null, p[1], p[1]})
	unix.Close(p[1])
	if err != nil {
		unix.Close(p[0])
		return fail(err)
	}
	return func() ([]byte, error) {
		defer unix.Close(p[0])
		if err := started(); err != nil {
			return fail(err)()
		}
		var out []byte
		var rerr error
		buf := make([]byte, 512)
		for {
			n, err := unix.Read(p[0], buf)
			if err == unix.EINTR {
				continue
			}
			if n <= 0 {
				if err != nil {
					rerr = os.NewSyscallError("read", err)
				}
				break
			}
			out = append(out, buf[:n]...)
		}
		ws, err := Wait(pid)
		switch {
		case err != nil:
			return out, err
		case ws.Signaled():
			return out, errors.New("signal: " + ws.Signal().String())
		case ws.ExitStatus() != 0:
			return out, fmt.Errorf("exit status %d", ws.ExitStatus())
		}
		return out, rerr
	}
}
