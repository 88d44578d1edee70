package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// State is one container, kept in ROOT/ID/state.json: what `state` prints,
// as runc does (Public, whose fields JSON flattens into the same object),
// and what the other commands need.
type State struct {
	Public

	InitStart uint64              `json:"initStart"`
	Cgroup    *Cgroup             `json:"cgroup,omitempty"`
	Namespace map[string]string   `json:"namespaces,omitempty"` // type → path joined at create
	Process   *specs.Process      `json:"process,omitempty"`
	Seccomp   *specs.LinuxSeccomp `json:"seccomp,omitempty"`
	Hooks     *specs.Hooks        `json:"hooks,omitempty"`
}

// Public is what `state` prints.
type Public struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

const (
	stateFile = "state.json"
	fifoFile  = "exec.fifo"
)

// Status names, as runc's.
const (
	Creating = "creating"
	Created  = "created"
	Running  = "running"
	Paused   = "paused"
	Stopped  = "stopped"
)

// validID is runc's ^[\w+\-.]+$ without a regexp compiled at every start.
func validID(id string) bool {
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '+' || c == '-' || c == '.'
		if !ok {
			return false
		}
	}
	return id != ""
}

// checkID refuses an ID that is not a plain file name, as runc does.
func checkID(id string) error {
	if id == "" {
		return errors.New("container id cannot be empty")
	}
	if !validID(id) || id == "." || id == ".." {
		return fmt.Errorf("invalid container id format: %s", id)
	}
	return nil
}

func (r *Runtime) dir(id string) string { return filepath.Join(r.Root, id) }

// ErrNotExist is runc's phrasing, which containerd's shim matches.
var ErrNotExist = errors.New("container does not exist")

// ErrNotRunning is runc's phrasing, which containerd's shim matches.
var ErrNotRunning = errors.New("container not running")

// Load reads the state of container id and works out its status.
func (r *Runtime) Load(id string) (*State, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	b, err := readFile(filepath.Join(r.dir(id), stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", id, ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(r.dir(id), stateFile), err)
	}
	st.Status = r.status(&st)
	return &st, nil
}

// save writes the state atomically.
func (r *Runtime) save(st *State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(r.dir(st.ID), stateFile), b, 0o600)
}

// status is runc's rule: stopped when the init is gone (or a zombie, or
// another process that got its pid), paused when frozen, created while
// the start gate exists, running otherwise.
func (r *Runtime) status(st *State) string {
	if st.Pid <= 0 {
		return Stopped
	}
	start, state, err := procStat(st.Pid)
	if err != nil || start != st.InitStart || state == 'Z' || state == 'X' {
		return Stopped
	}
	if st.Cgroup != nil && st.Cgroup.Frozen() {
		return Paused
	}
	if _, err := os.Lstat(filepath.Join(r.dir(st.ID), fifoFile)); err == nil {
		return Created
	}
	return Running
}

// pfExiting is the flag (field 9 of /proc/PID/stat) of a process that is
// exiting: the init of a pid namespace stays so until every process of its
// namespace is reaped, which may take the reaper (outside) a while.
const pfExiting = 0x4

// procStat returns the start time (field 22) and state (field 3) of pid;
// an exiting process has state 'X'.
func procStat(pid int) (uint64, byte, error) {
	b, err := readFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name may hold spaces and parentheses: skip past the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	state := f[0][0]
	if flags, _ := strconv.ParseUint(f[6], 10, 64); flags&pfExiting != 0 {
		state = 'X'
	}
	return start, state, err
}

// alive reports whether the init of st still runs (not a zombie).
func alive(st *State) bool {
	start, state, err := procStat(st.Pid)
	return err == nil && start == st.InitStart && state != 'Z' && state != 'X'
}

// writeFileAtomic writes a temporary file and renames it, so that a reader
// (containerd reads the pid file) never sees half of it.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	var tmp string
	var fd int
	for i := 0; ; i++ {
		tmp = fmt.Sprintf("%s/.%s.%d.%d", filepath.Dir(path), filepath.Base(path), os.Getpid(), i)
		var err error
		fd, err = openFile(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || i == 100 {
			return err
		}
	}
	err := writeAll(fd, tmp, b)
	if err == nil {
		if e := unix.Fchmod(fd, uint32(mode.Perm())); e != nil {
			err = &os.PathError{Op: "chmod", Path: tmp, Err: e}
		}
	}
	if e := unix.Close(fd); err == nil && e != nil {
		err = &os.PathError{Op: "close", Path: tmp, Err: e}
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		unix.Unlink(tmp)
	}
	return err
}
