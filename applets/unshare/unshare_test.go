package unshare

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tupperware/tw/applets/internal/chain"
	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/ns"
)

// parse parses args as Main does, without creating any namespace.
func parse(t *testing.T, args ...string) (*options, []string, error) {
	t.Helper()
	fs := cli.NewFlagSet("unshare", false)
	o := newOptions(fs)
	done, err := cli.Parse(fs, args, usage, &bytes.Buffer{})
	if done {
		t.Fatalf("%q: parse printed help", args)
	}
	if err == nil {
		err = o.check()
	}
	return o, fs.Args(), err
}

func TestCloneflags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want uintptr
	}{
		{[]string{"true"}, 0},
		{[]string{"--mount", "true"}, unix.CLONE_NEWNS},
		{[]string{"-m", "-u", "-i", "-n", "-p", "-C", "-f", "true"},
			unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP},
		{[]string{"-muinpf", "true"},
			unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWPID},
		{[]string{"--uts", "--ipc", "--net", "--pid", "--cgroup", "--fork", "true"},
			unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP},
		{[]string{"--mount-proc", "true"}, unix.CLONE_NEWNS},
		{[]string{"-pf", "--mount-proc=/mnt/proc", "true"}, unix.CLONE_NEWNS | unix.CLONE_NEWPID},
		{[]string{"-u", "--hostname", "box", "true"}, unix.CLONE_NEWUTS},
	} {
		o, _, err := parse(t, tc.args...)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if got := o.cloneflags(); got != tc.want {
			t.Errorf("%q: cloneflags %#x, want %#x", tc.args, got, tc.want)
		}
	}
}

func TestOptions(t *testing.T) {
	o, argv, err := parse(t, "-muinpf", "--hostname", "tupperware", "tw-pivot", "/r", "sh", "-c", "echo $$", "--pid")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tw-pivot", "/r", "sh", "-c", "echo $$", "--pid"}; !slices.Equal(argv, want) {
		t.Errorf("argv %q, want %q: options after PROG belong to PROG", argv, want)
	}
	if o.hostname != "tupperware" || o.propagation != "private" || o.mountProc != "" {
		t.Errorf("options %+v", o)
	}
	o, argv, _ = parse(t, "--mount-proc", "/x")
	if o.mountProc != "/proc" || !o.mount || !slices.Equal(argv, []string{"/x"}) {
		t.Errorf("--mount-proc /x: mountProc %q mount %v argv %q; want /proc, true, [/x]", o.mountProc, o.mount, argv)
	}
	o, _, _ = parse(t, "--mount-proc=/x", "--propagation", "slave", "--", "-m")
	if o.mountProc != "/x" || o.propagation != "slave" {
		t.Errorf("--mount-proc=/x: %+v", o)
	}
}

func TestBadOptions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--bogus", "true"}, "unknown flag: --bogus"},
		{[]string{"-x", "true"}, "unknown shorthand flag: 'x' in -x"},
		{[]string{"--propagation", "rprivate", "true"}, "unsupported propagation mode: rprivate"},
		{[]string{"--hostname", "box", "true"}, "--hostname needs --uts: it would rename the host"},
	} {
		_, _, err := parse(t, tc.args...)
		var ue *cli.UsageError
		if !errors.As(err, &ue) || err.Error() != tc.msg {
			t.Errorf("%q: error %v, want usage error %q", tc.args, err, tc.msg)
		}
	}
}

func TestCommand(t *testing.T) {
	o, _, _ := parse(t, "-mpf", "true")
	env := []string{"PATH=/bin", ns.EnvLeft + "=stale", ns.EnvChild + "=stale", ns.EnvPin + "=7", "HOME=/root"}
	pins := os.NewFile(^uintptr(0), "pins")
	cmd := o.command([]string{"-mpf", "true"}, env, "mnt:[1] pid:[2] uts:[3]", pins, cli.IO{})
	if cmd.Path != "/proc/self/exe" {
		t.Errorf("path %q", cmd.Path)
	}
	if want := []string{"tw-unshare", "-mpf", "true"}; !slices.Equal(cmd.Args, want) {
		t.Errorf("args %q, want %q", cmd.Args, want)
	}
	want := []string{"PATH=/bin", "HOME=/root", ns.EnvLeft + "=mnt:[1] pid:[2] uts:[3]", ns.EnvChild + "=1", ns.EnvPin + "=3"}
	if !slices.Equal(cmd.Env, want) {
		t.Errorf("env %q, want %q", cmd.Env, want)
	}
	if len(cmd.ExtraFiles) != 1 || cmd.ExtraFiles[0] != pins {
		t.Errorf("ExtraFiles %v: want the pins' end as descriptor 3", cmd.ExtraFiles)
	}
	if cmd.SysProcAttr.Cloneflags != unix.CLONE_NEWNS|unix.CLONE_NEWPID || cmd.SysProcAttr.Pdeathsig != syscall.SIGKILL {
		t.Errorf("SysProcAttr %+v", cmd.SysProcAttr)
	}
}

func TestDirect(t *testing.T) {
	cli.Register(cli.Applet{Name: "unshare-test", Main: func([]string, cli.IO) error { return nil }})
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"-muinpf", "true"}, true},
		{[]string{"-m", "--propagation", "unchanged", "true"}, true},
		{[]string{"-m", "--propagation", "slave", "true"}, false},
		{[]string{"--propagation", "slave", "true"}, true}, // ignored without --mount
		{[]string{"-pf", "--mount-proc", "true"}, false},
		{[]string{"-u", "--hostname", "box", "true"}, false},
		{[]string{"-m", "tw-unshare-test"}, false},
	} {
		o, argv, err := parse(t, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.direct(argv); got != tc.want {
			t.Errorf("%q: direct %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestDirectCommand(t *testing.T) {
	o, argv, _ := parse(t, "-mpf", "true", "-x")
	cmd := o.directCommand("/bin/true", argv, []string{"A=1", ns.EnvLeft + "=x"}, cli.IO{})
	if cmd.Path != "/bin/true" || !slices.Equal(cmd.Args, []string{"true", "-x"}) || !slices.Equal(cmd.Env, []string{"A=1"}) {
		t.Errorf("cmd %q %q env %q", cmd.Path, cmd.Args, cmd.Env)
	}
	// Private propagation: Go makes / MS_REC|MS_PRIVATE after unshare(CLONE_NEWNS).
	if a := cmd.SysProcAttr; a.Cloneflags != unix.CLONE_NEWPID || a.Unshareflags != unix.CLONE_NEWNS || a.Pdeathsig != syscall.SIGKILL {
		t.Errorf("SysProcAttr %+v", a)
	}
	o, argv, _ = parse(t, "-mpf", "--propagation", "unchanged", "true")
	if a := o.directCommand("/bin/true", argv, nil, cli.IO{}).SysProcAttr; a.Cloneflags != unix.CLONE_NEWNS|unix.CLONE_NEWPID || a.Unshareflags != 0 {
		t.Errorf("unchanged: SysProcAttr %+v", a)
	}
}

func TestStartError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{&os.PathError{Op: "fork/exec", Path: "/x", Err: unix.ENOEXEC}, 126, "exec x: exec format error"},
		{&os.PathError{Op: "fork/exec", Path: "/x", Err: unix.ENOENT}, 127, "exec x: no such file or directory"},
		{&os.PathError{Op: "fork/exec", Path: "/x", Err: unix.EPERM}, 1, "new namespaces: fork/exec /x: operation not permitted"},
	} {
		err := startError(tc.err, "x")
		if cli.ExitCode(err) != tc.code || err.Error() != tc.msg {
			t.Errorf("%v: %v (exit %d), want %q (exit %d)", tc.err, err, cli.ExitCode(err), tc.msg, tc.code)
		}
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if err := Main([]string{"--help"}, cli.IO{Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "Usage: tw-unshare ") || !strings.Contains(out.String(), "--mount-proc") {
		t.Errorf("help:\n%s", out.String())
	}
}

func TestThreaded(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"-muinpf", "tw-pivot", "r", "tw-mountproc", "true"}, true},
		{[]string{"-muinpf", "--hostname", "h", "true"}, true},
		{[]string{"-muinpf", "tw-pivot", "r", "tw-mountproc", "tw-mountsys", "tw-mountdev", "true"}, true},
		{[]string{"-muinpf", "tw-pivot", "r", "tw-mountproc", "tw-limit", "true"}, false},
		{[]string{"-muinpf", "tw-pivot", "r", "tw-mountproc", "tw-mountsys", "tw-mountdev", "tw-harden", "--seccomp", "true"}, true},
		{[]string{"-muinpf", "tw-pivot", "r", "tw-harden", "tw-mountproc", "true"}, false},          // tw-harden must come last
		{[]string{"-muinpf", "tw-mountproc", "--target", "r/proc", "tw-pivot", "r", "true"}, false}, // --target is resolved before the pivot
		{[]string{"-muinpf", "tw-pivot", "r", "sh", "-c", "tw-net"}, false},                         // any word: to be safe
		{[]string{"-mpf", "--mount-proc", "tw-pivot", "r", "true"}, false},
	} {
		o, argv, err := parse(t, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.threaded(argv); got != tc.want {
			t.Errorf("%q: threaded %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestUserOptions(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		uids   []ns.IDMap
		direct bool
		err    string
	}{
		{[]string{"-U", "true"}, nil, true, ""},
		{[]string{"-r", "true"}, []ns.IDMap{{Inner: 0, Outer: 4321, Count: 1}}, true, ""},
		{[]string{"--map-user", "7", "true"}, []ns.IDMap{{Inner: 7, Outer: 4321, Count: 1}}, true, ""},
		{[]string{"-U", "--setgroups", "deny", "true"}, nil, false, ""},
		{[]string{"-r", "--setgroups", "deny", "true"}, []ns.IDMap{{Inner: 0, Outer: 4321, Count: 1}}, true, ""},
		{[]string{"--setgroups", "deny", "true"}, nil, false, "--setgroups needs --user"},
		{[]string{"-U", "--setgroups", "maybe", "true"}, nil, false, "unsupported --setgroups argument: maybe"},
		{[]string{"-r", "--setgroups", "allow", "true"}, nil, false, "--setgroups=allow and --map-group exclude each other without root"},
		{[]string{"-r", "--map-user", "5", "true"}, nil, false, "--map-root-user and --map-user/--map-group exclude each other"},
		{[]string{"--map-user", "no-such-user-here", "true"}, nil, false, "no such user: no-such-user-here"},
	} {
		fs := cli.NewFlagSet("unshare", false)
		o := newOptions(fs)
		if _, err := cli.Parse(fs, tc.args, usage, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		err := o.user.check(4321, 4321, false)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: %v, want %s", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !slices.Equal(o.user.uids, tc.uids) || o.user.direct() != tc.direct || o.cloneflags()&unix.CLONE_NEWUSER == 0 {
			t.Errorf("%q: uids %v direct %v flags %#x", tc.args, o.user.uids, o.user.direct(), o.cloneflags())
		}
		// tw's own child gets ambient capabilities unless it is root
		// inside at its execve already (execve gives it all then).
		attr := &syscall.SysProcAttr{}
		o.user.apply(attr, true)
		rootAtExec := len(tc.uids) > 0 && tc.uids[0].Inner == 0
		if (len(attr.AmbientCaps) == 0) != rootAtExec || len(attr.UidMappings) != len(tc.uids) {
			t.Errorf("%q: attr %+v", tc.args, attr)
		}
	}
}

func TestFast(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(root+"/proc", 0o755)
	os.Mkdir(root+"/sys", 0o755)
	file := root + "/file"
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		args   []string
		mounts []fastMount
		argv   []string
	}{
		{[]string{"-r", "-muinpf", "--hostname", "c", "tw-mountproc", "--target", root + "/proc", "tw-pivot", root, "true", "-x"}, []fastMount{{false, root + "/proc"}}, []string{"true", "-x"}},
		{[]string{"-r", "-mpf", "tw-mountproc", "--target=" + root + "/proc", "tw-mountproc", "--target", root, "tw-pivot", root}, []fastMount{{false, root + "/proc"}, {false, root}}, []string{"/bin/sh"}},
		{[]string{"-r", "-mnpf", "tw-mountsys", "--target", root + "/sys", "tw-mountproc", "--target", root + "/proc", "tw-mountsys", "--target=" + root, "tw-pivot", root, "ls"},
			[]fastMount{{true, root + "/sys"}, {false, root + "/proc"}, {true, root}}, []string{"ls"}},
		// tw-net --lo first makes the network namespace tw-mountsys needs
		{[]string{"-r", "-mpf", "tw-net", "--lo", "tw-mountsys", "--target", root + "/sys", "tw-pivot", root, "ls"}, []fastMount{{true, root + "/sys"}}, []string{"ls"}},
		{[]string{"-r", "-mnpf", "tw-net", "--lo", "tw-pivot", root, "ls"}, nil, []string{"ls"}},
		{[]string{"-U", "-mp", "tw-pivot", root, "sh"}, nil, []string{"sh"}},
		{[]string{"--map-user=7", "--map-group=7", "-mp", "tw-pivot", root, "sh"}, nil, []string{"sh"}},
		// not the shape: the usual way
		{[]string{"-r", "-mf", "tw-pivot", root, "true"}, nil, nil},                                              // no --pid
		{[]string{"-r", "-pf", "tw-pivot", root, "true"}, nil, nil},                                              // no --mount
		{[]string{"-muinpf", "tw-pivot", root, "true"}, nil, nil},                                                // no user namespace
		{[]string{"-r", "-mpf", "--propagation", "slave", "tw-pivot", root, "true"}, nil, nil},                   // not private
		{[]string{"-r", "-mpf", "--mount-proc", "tw-pivot", root, "true"}, nil, nil},                             // tw-unshare's proc
		{[]string{"-U", "-mpf", "--setgroups", "allow", "tw-pivot", root, "true"}, nil, nil},                     // the child writes setgroups itself
		{[]string{"-r", "-mpf", "tw-pivot", root, "tw-mountproc", "true"}, nil, nil},                             // an applet after tw-pivot
		{[]string{"-r", "-mpf", "tw-pivot", "--force", root, "true"}, nil, nil},                                  // an option
		{[]string{"-r", "-mpf", "tw-mountproc", "tw-pivot", root, "true"}, nil, nil},                             // mountproc without --target
		{[]string{"-r", "-mpf", "tw-mountproc", "--target", root + "/none", "tw-pivot", root}, nil, nil},         // a missing target
		{[]string{"-r", "-mpf", "tw-mountsys", "--target", root, "tw-pivot", root, "true"}, nil, nil},            // sysfs without --net
		{[]string{"-r", "-mnpf", "tw-mountsys", "tw-pivot", root, "true"}, nil, nil},                             // mountsys without --target
		{[]string{"-r", "-mnpf", "tw-mountdev", "--target", root, "tw-pivot", root, "true"}, nil, nil},           // another applet
		{[]string{"-r", "-mpf", "tw-net", "tw-pivot", root, "true"}, nil, nil},                                   // tw-net without --lo
		{[]string{"-r", "-mpf", "tw-net", "--lo", "--pid", "1", "tw-pivot", root, "true"}, nil, nil},             // an option of tw-net
		{[]string{"-r", "-mpf", "tw-mountproc", "--target", root, "tw-net", "--lo", "tw-pivot", root}, nil, nil}, // tw-net --lo not first
		{[]string{"-r", "-mpf", "tw-pivot", file, "true"}, nil, nil},                                             // not a directory
		{[]string{"-r", "-mpf", "tw-pivot", "/", "true"}, nil, nil},                                              // the current root
		{[]string{"-r", "-mpf", "true"}, nil, nil},                                                               // no tw-pivot
	} {
		fs := cli.NewFlagSet("unshare", false)
		o := newOptions(fs)
		if _, err := cli.Parse(fs, tc.args, usage, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		if err := o.user.check(4321, 4321, false); err != nil {
			t.Fatal(err)
		}
		p, ok := o.fast(fs.Args())
		if ok != (tc.argv != nil) {
			t.Errorf("%q: fast %v", tc.args, ok)
			continue
		}
		if ok && (!slices.Equal(p.mounts, tc.mounts) || p.root != root || !slices.Equal(p.argv, tc.argv) || p.lo != slices.Contains(tc.args, "--lo")) {
			t.Errorf("%q: plan %+v", tc.args, p)
		}
	}
}

// Steps left by an applet before tw-unshare (tw-limit's join of its
// cgroup) are made only by thread mode's fork: other ways refuse before
// they create anything, rather than start PROG without them.
func TestPendingStepsNeedThreadMode(t *testing.T) {
	chain.TryLater(unix.SYS_GETPID)
	defer chain.TakeSteps()
	var stderr bytes.Buffer
	err := Main([]string{"--mount-proc", "-mpf", "/bin/true"}, cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: &stderr})
	if err == nil || err.Error() != "the steps of the applet before tw-unshare need its thread mode, which these options do not take" {
		t.Errorf("Main with steps pending: %v", err)
	}
}
