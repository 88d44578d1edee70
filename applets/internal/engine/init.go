package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/caps"
	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/mount"
	"github.com/tupperware/tw/applets/internal/ns"
)

// IsInit reports whether this process is a container's init: this binary
// started again by Create or Exec, which must call Init (`tw-runc init`).
func IsInit() bool { return os.Getenv(envInit) != "" }

// Init is the container's init: started by Create (or Exec) in the new
// namespaces, it reads its config from the sync socket, builds the
// container, replies ready and waits at the start gate; then it executes
// the program, which replaces tw before anything of the container runs.
//
// Everything runs on one locked thread: namespaces joined with setns,
// credentials, capabilities, no_new_privs and the seccomp filter belong to
// a thread, and the program inherits those of the thread that executes it.
func Init(stdio cli.IO) error {
	runtime.LockOSThread()
	// No process of the container may open /proc/PID/exe of tw.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	var fds initFds
	if _, err := fmt.Sscanf(os.Getenv(envInit), "%d,%d,%d,%d", &fds.Sync, &fds.Fifo, &fds.Console, &fds.Preserve); err != nil {
		return fmt.Errorf("init: %s: %w", envInit, err)
	}
	os.Unsetenv(envInit)
	sync := os.NewFile(uintptr(fds.Sync), "sync")
	dec := json.NewDecoder(sync)
	var cfg initConfig
	if err := dec.Decode(&cfg); err != nil {
		return fmt.Errorf("init: read config: %w", err)
	}
	in := &initProc{cfg: &cfg, fds: fds, sync: sync, dec: dec, stdio: stdio}
	run := in.run
	if in.inUserNS() {
		run = in.forkInUserNS // exec with a user namespace: userns.go
	}
	err := run()
	if !in.ready {
		// create is waiting for this reply; it reports the error.
		json.NewEncoder(sync).Encode(initReply{Error: err.Error()})
		return cli.Status(1)
	}
	return err
}

type initProc struct {
	cfg   *initConfig
	fds   initFds
	sync  *os.File
	dec   *json.Decoder
	stdio cli.IO
	ready bool
}

func (in *initProc) run() error {
	spec := in.cfg.Spec
	proc := spec.Process
	if in.cfg.Rootless && !in.cfg.Exec {
		if err := becomeRoot(); err != nil { // rootless.go
			return err
		}
	}
	if in.cfg.Exec {
		if err := in.joinContainer(); err != nil {
			return err
		}
	} else if err := in.buildContainer(); err != nil {
		return err
	}
	if proc.Terminal {
		if err := in.console(); err != nil {
			return err
		}
	}
	if proc.OOMScoreAdj != nil {
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(*proc.OOMScoreAdj)), 0); err != nil {
			return fmt.Errorf("oom_score_adj: %w", err)
		}
	}
	if err := unix.Chdir(proc.Cwd); err != nil {
		return &os.PathError{Op: "chdir", Path: proc.Cwd, Err: err}
	}
	env := withHome(proc.Env, proc.User.UID)
	path, err := chain.LookPath(proc.Args[0], getenv(env, "PATH"))
	if err != nil {
		return err
	}
	for _, r := range proc.Rlimits {
		if err := (caps.Rlimit{Name: r.Type, Resource: rlimitResource(r.Type), Soft: r.Soft, Hard: r.Hard}).Set(); err != nil {
			return err
		}
	}
	if proc.User.Umask != nil {
		unix.Umask(int(*proc.User.Umask))
	}
	// AppArmor and SELinux, first part (lsm.go).
	if err := in.writeLSM(beforeCreds); err != nil {
		return err
	}
	sec, err := newSeccomp(in.seccomp())
	if err != nil {
		return err
	}
	// Only 0, 1, 2 and the preserved descriptors reach the program; marked
	// now, before a filter could refuse close_range.
	if err := chain.CloseExtraFiles(); err != nil {
		return err
	}
	for fd := 3; fd < 3+in.fds.Preserve; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			return fmt.Errorf("preserve fd %d: %w", fd, err)
		}
	}
	capSets := newCapSets(proc.Capabilities)
	// No groups where a joined user namespace refuses them, as runc.
	groups := !in.cfg.Rootless && !(in.cfg.InUser && setgroupsDenied())
	if err := setUser(proc.User, capSets, groups); err != nil {
		return err
	}
	// Without no_new_privs a filter needs CAP_SYS_ADMIN: the thread keeps
	// it until the filter is in, then takes its final capabilities.
	capsLast := !proc.NoNewPrivileges && sec.active()
	if capsLast {
		raiseAdmin()
	} else if err := applyCaps(capSets); err != nil {
		return err
	}
	if proc.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("no_new_privs: %w", err)
		}
	}
	// AppArmor and SELinux, second part (lsm.go).
	if err := in.writeLSM(afterCreds); err != nil {
		return err
	}
	if !in.cfg.Exec {
		if err := in.reply(initReply{Ready: true}); err != nil {
			return err
		}
		if err := in.gate(); err != nil {
			return err
		}
		if h := spec.Hooks; h != nil {
			// In the container, right before its program.
			if err := runHooks("startContainer", h.StartContainer, in.state(Running)); err != nil {
				return err
			}
		}
	}
	// The filter is the last step before execve: nothing after it may
	// need a syscall a profile can deny (but capset and prctl, which runc
	// too makes after it without no_new_privs).
	if err := sec.install(); err != nil {
		return err
	}
	if capsLast {
		if err := applyCaps(capSets); err != nil {
			return err
		}
	}
	err = unix.Exec(path, proc.Args, env)
	err = &os.PathError{Op: "exec", Path: proc.Args[0], Err: err}
	return cli.Exit(chain.ExitCode(err), err)
}

func (in *initProc) seccomp() *specs.LinuxSeccomp {
	if in.cfg.Spec.Linux == nil {
		return nil
	}
	return in.cfg.Spec.Linux.Seccomp
}

// reply tells create the container is ready; from here on errors go to
// the container's stderr.
func (in *initProc) reply(r initReply) error {
	err := json.NewEncoder(in.sync).Encode(r)
	in.sync.Close()
	in.ready = true
	if err != nil {
		return fmt.Errorf("sync socket: %w", err)
	}
	return nil
}

// ask has create run the hooks of kind in the runtime's namespaces and
// waits until it has.
func (in *initProc) ask(kind string) error {
	if err := json.NewEncoder(in.sync).Encode(initReply{Hooks: kind}); err != nil {
		return fmt.Errorf("sync socket: %w", err)
	}
	var r initReply
	if err := in.dec.Decode(&r); err != nil || !r.Ready {
		return fmt.Errorf("%s hooks: create gave up", kind)
	}
	return nil
}

// state is the container's state for the hooks the init runs.
func (in *initProc) state(status string) Public {
	return Public{OCIVersion: in.cfg.Spec.Version, ID: in.cfg.ID, Pid: in.cfg.InitPid, Status: status,
		Bundle: in.cfg.Bundle, Annotations: in.cfg.Spec.Annotations}
}

// gate blocks until start writes a byte into the fifo; EOF or an error
// means create's caller gave up on the container.
func (in *initProc) gate() error {
	f := os.NewFile(uintptr(in.fds.Fifo), fifoFile)
	defer f.Close()
	var b [1]byte
	n, err := f.Read(b[:])
	if n != 1 {
		return fmt.Errorf("start gate: %v", err)
	}
	return nil
}

// buildContainer makes the container's filesystem and identity: mounts,
// devices, pivot_root, read-only paths, hostname, sysctls.
func (in *initProc) buildContainer() error {
	spec, rootfs := in.cfg.Spec, in.cfg.Rootfs
	for _, n := range spec.Linux.Namespaces {
		// The user namespace it was born in (joinuser.go).
		if n.Path != "" && n.Type != specs.PIDNamespace && n.Type != specs.UserNamespace {
			if n.Type == specs.MountNamespace {
				// A thread shares its root and cwd with the others: it
				// may change its mount namespace only after unsharing them.
				if err := unix.Unshare(unix.CLONE_FS); err != nil {
					return fmt.Errorf("unshare fs: %w", err)
				}
			}
			if err := ns.Enter(n.Path, int(nsFlags[n.Type])); err != nil {
				return err
			}
		}
	}
	if newNS(spec, specs.CgroupNamespace) {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("new cgroup namespace: %w", err)
		}
	}
	// Without a mount namespace of its own the container's mounts are
	// made in the runtime's, as runc makes them; its propagation is left
	// alone.
	if hasNS(spec, specs.MountNamespace) {
		if err := prepareRoot(rootfs, spec.Linux.RootfsPropagation); err != nil {
			return err
		}
	}
	for _, m := range spec.Mounts {
		if err := in.mount(rootfs, m); err != nil {
			return err
		}
	}
	if err := makeDevices(rootfs, spec.Linux.Devices, hasNS(spec, specs.UserNamespace)); err != nil {
		return err
	}
	if h := spec.Hooks; h != nil {
		if len(h.Prestart)+len(h.CreateRuntime) > 0 {
			if err := in.ask("createRuntime"); err != nil {
				return err
			}
		}
		// In the container's namespaces, before pivot_root.
		if err := runHooks("createContainer", h.CreateContainer, in.state(Creating)); err != nil {
			return err
		}
	}
	if err := jail(spec, rootfs); err != nil {
		return err
	}
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("sethostname %s: %w", spec.Hostname, err)
		}
	}
	if spec.Domainname != "" {
		if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
			return fmt.Errorf("setdomainname %s: %w", spec.Domainname, err)
		}
	}
	for k, v := range spec.Linux.Sysctl {
		if err := os.WriteFile(sysctlPath(k), []byte(v), 0); err != nil {
			return fmt.Errorf("sysctl %s: %w", k, err)
		}
	}
	if err := mount.Mask(spec.Linux.MaskedPaths, spec.Linux.ReadonlyPaths, maskLabel(spec.Linux.MountLabel)...); err != nil {
		return err
	}
	if spec.Root.Readonly {
		if err := mount.Remount("/", unix.MS_RDONLY); err != nil {
			return err
		}
	}
	return nil
}

// mount mounts one entry of config.json's mounts below rootfs; the
// destination is resolved inside rootfs, symbolic links included.
func (in *initProc) mount(rootfs string, m specs.Mount) error {
	dest, err := securejoin.SecureJoin(rootfs, m.Destination)
	if err != nil {
		return fmt.Errorf("mount %s: %w", m.Destination, err)
	}
	if err := checkProcMount(rootfs, dest, m); err != nil {
		return err
	}
	flags, prop, data := mountOptions(labelled(m, in.cfg.Spec.Linux.MountLabel)) // linux.mountLabel: lsm.go
	switch {
	case isBind(m):
		if err := bindMount(m.Source, dest, flags); err != nil {
			return fmt.Errorf("mount %s: %w", m.Destination, err)
		}
	case m.Type == "cgroup" || m.Type == "cgroup2":
		if err := in.mountCgroup(dest, m.Type, flags); err != nil {
			return fmt.Errorf("mount %s: %w", m.Destination, err)
		}
	default:
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return fmt.Errorf("mount %s: %w", m.Destination, err)
		}
		src := m.Source
		if src == "" {
			src = m.Type
		}
		if err := unix.Mount(src, dest, m.Type, flags, data); err != nil {
			return fmt.Errorf("mount %s: %w", m.Destination, &os.PathError{Op: "mount " + m.Type, Path: dest, Err: err})
		}
	}
	if err := labelMqueue(m, dest, in.cfg.Spec.Linux.MountLabel, selinuxEnabled); err != nil {
		return fmt.Errorf("mount %s: %w", m.Destination, err)
	}
	for _, p := range prop {
		if err := unix.Mount("", dest, "", p, ""); err != nil {
			return fmt.Errorf("mount %s: %w", m.Destination, &os.PathError{Op: "set propagation", Path: dest, Err: err})
		}
	}
	return nil
}

// bindMount binds src onto dest (made as a directory or an empty file
// like src), then applies the flags that a bind takes only on remount.
func bindMount(src, dest string, flags uintptr) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		err = os.MkdirAll(dest, 0o755)
	} else if err = os.MkdirAll(filepath.Dir(dest), 0o755); err == nil {
		var f *os.File
		if f, err = os.OpenFile(dest, os.O_CREATE|os.O_WRONLY|unix.O_CLOEXEC, 0o644); err == nil {
			f.Close()
		}
	}
	if err != nil {
		return err
	}
	if err := unix.Mount(src, dest, "", unix.MS_BIND|flags&unix.MS_REC, ""); err != nil {
		return &os.PathError{Op: "bind mount " + src, Path: dest, Err: err}
	}
	if rest := flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT); rest != 0 {
		if err := unix.Mount("", dest, "", unix.MS_BIND|unix.MS_REMOUNT|rest, ""); err != nil {
			return &os.PathError{Op: "remount bind", Path: dest, Err: err}
		}
	}
	return nil
}

// mountCgroup gives the container its cgroups at dest: on cgroup v1 a
// tmpfs with one directory per hierarchy, each a cgroup mount (in a new
// cgroup namespace its root is the container's cgroup) or a bind of the
// container's cgroup directory; on v2 the unified hierarchy likewise.
func (in *initProc) mountCgroup(dest, typ string, flags uintptr) error {
	cg := in.cfg.Cgroup
	if cg == nil {
		// Rootless without a cgroup: the runtime's (rootless.go).
		var err error
		if cg, err = selfCgroup(); err != nil {
			return err
		}
	}
	ownNS := newNS(in.cfg.Spec, specs.CgroupNamespace)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	if cg.V2 || typ == "cgroup2" {
		if ownNS {
			if err := unix.Mount("cgroup2", dest, "cgroup2", flags, ""); err != nil {
				return &os.PathError{Op: "mount cgroup2", Path: dest, Err: err}
			}
			return nil
		}
		return bindMount(cg.Paths[""], dest, flags|unix.MS_REC)
	}
	if err := unix.Mount("tmpfs", dest, "tmpfs", flags&^unix.MS_RDONLY, labelData("mode=755", in.cfg.Spec.Linux.MountLabel)); err != nil {
		return &os.PathError{Op: "mount tmpfs", Path: dest, Err: err}
	}
	for m, dir := range cg.Paths {
		sub := filepath.Join(dest, filepath.Base(m))
		if err := os.Mkdir(sub, 0o755); err != nil {
			return err
		}
		if ownNS {
			if err := unix.Mount("cgroup", sub, "cgroup", flags, cg.Opts[m]); err != nil {
				return &os.PathError{Op: "mount cgroup " + cg.Opts[m], Path: sub, Err: err}
			}
		} else if err := bindMount(dir, sub, flags); err != nil {
			return err
		}
	}
	if flags&unix.MS_RDONLY != 0 {
		return mount.Remount(dest, unix.MS_RDONLY)
	}
	return nil
}

// withHome adds HOME when the environment lacks it, from the container's
// /etc/passwd, else /, as runc does.
func withHome(env []string, uid uint32) []string {
	if getenv(env, "HOME") != "" {
		return env
	}
	home := "/"
	if b, err := os.ReadFile("/etc/passwd"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Split(line, ":")
			if len(f) >= 6 && f[2] == strconv.FormatUint(uint64(uid), 10) {
				home = f[5]
				break
			}
		}
	}
	return append(env[:len(env):len(env)], "HOME="+home)
}

func getenv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}
