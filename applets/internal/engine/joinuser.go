package engine

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A container in a user namespace joined by path
// (linux.namespaces: {"type": "user", "path": "/proc/PID/ns/user"}).
//
// The user namespace comes first, as in runc (nsexec.c joins it before
// the others, and makes the new ones from inside it, so that they belong
// to it). A Go process cannot join one, being multithreaded: create starts
// the Go init in no new namespace (startInit, flags 0), which forks a
// child with chain.Fork as exec's init does (userns.go): the child joins
// the user namespace, becomes its root, joins the pid namespace of the
// config if any, unshares the new namespaces and, for a pid namespace,
// forks again; the last one executes this binary, the container's init,
// a child of create (CLONE_PARENT). It gets the config with InUser set
// and builds the container as one with a user namespace of its own, but
// for making it and writing its maps.
//
// The config's uidMappings and gidMappings are checked as runc 1.1.5
// checks them (root mapped, the process's user mapped) and otherwise
// ignored: the namespace has its maps already. runc 1.1.5 does not compare
// them with the namespace's (runc 1.2 refuses a config whose maps differ).

// joinsUser reports whether this create's init is the first one, which
// forks into the user namespace the config joins.
func (in *initProc) joinsUser() bool {
	return !in.cfg.InUser && joined(in.cfg.Spec)["user"] != ""
}

// forkJoinedUser is the first init's fork of create's init into the user
// namespace the config joins (see above).
func (in *initProc) forkJoinedUser() (child, reap int, err error) {
	paths := joined(in.cfg.Spec)
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	open := func(p string, flags int) (int, error) {
		fd, err := unix.Open(p, flags|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, &os.PathError{Op: "open namespace", Path: p, Err: err}
		}
		fds = append(fds, fd)
		return fd, nil
	}
	userFd, err := open(paths["user"], unix.O_RDONLY)
	if err != nil {
		return 0, 0, err
	}
	pidFd := -1
	if p := paths["pid"]; p != "" {
		if pidFd, err = open(p, unix.O_RDONLY); err != nil {
			return 0, 0, err
		}
	}
	// The sealed binary this init runs from (exe.go).
	exeFd, err := open("/proc/self/exe", unix.O_PATH)
	if err != nil {
		return 0, 0, err
	}
	env := fmt.Sprintf("%s=%d,%d,%d,%d", envInit, in.fds.Sync, in.fds.Fifo, in.fds.Console, in.fds.Preserve)
	child, reap, err = forkIntoUserNS(userFd, pidFd, exeFd, cloneFlags(in.cfg.Spec), []string{"tw-runc", "init"}, []string{env})
	if err != nil {
		return child, reap, fmt.Errorf("join the user namespace %s: %w", paths["user"], err)
	}
	return child, reap, nil
}

// checkJoinedUser checks the maps of a config that joins a user namespace
// by path as runc 1.1.5 does (its HostRootUID, HostRootGID, then the
// process's user in setupUser), in its words.
func checkJoinedUser(s *specs.Spec) error {
	if joined(s)["user"] == "" {
		return nil
	}
	for _, k := range []struct {
		what, kind string
		maps       []specs.LinuxIDMapping
	}{{"uid", "user", s.Linux.UIDMappings}, {"gid", "group", s.Linux.GIDMappings}} {
		if len(k.maps) == 0 {
			return fmt.Errorf("User namespaces enabled, but no %s mappings found", k.what)
		}
		if !mapped(0, k.maps) {
			return fmt.Errorf("User namespaces enabled, but no %s mapping found", k.kind)
		}
	}
	if !mapped(s.Process.User.UID, s.Linux.UIDMappings) {
		return errors.New("cannot set uid to unmapped user in user namespace")
	}
	if !mapped(s.Process.User.GID, s.Linux.GIDMappings) {
		return errors.New("cannot set gid to unmapped user in user namespace")
	}
	return nil
}

// setgroupsDenied reports whether this process's user namespace refuses
// setgroups (one made by a user), where runc sets no groups.
func setgroupsDenied() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(b)) == "deny"
}
