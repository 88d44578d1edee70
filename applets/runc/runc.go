// Package runc is tw-runc: tw as an OCI runtime with runc's command line,
// so that containerd's runc shim (and so Kubernetes through containerd)
// can run containers with tw. A container is made of the same steps as
// the one-line container: new namespaces, mounts, pivot_root, proc, /dev,
// masks, capabilities and limits, read from the bundle's config.json.
package runc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/tupperware/tw/applets/internal/cli"
	"github.com/tupperware/tw/applets/internal/engine"
)

var Applet = cli.Applet{Name: "runc", Summary: "an OCI runtime with runc's command line", Main: Main}

const usage = `Usage: tw-runc [GLOBAL OPTIONS] COMMAND [OPTIONS] ID [ARGS…]

Run OCI bundles as runc does, with runc's command line, so that containerd's
runc shim can drive tw (ctr run --runc-binary $(command -v tw-runc) …).

Commands:
  create --bundle DIR [--pid-file FILE] [--console-socket SOCK] ID
                prepare the container of bundle DIR (config.json, rootfs):
                its init waits at a start gate; nothing of the program runs
  start ID      let the program of a created container run
  run [--bundle DIR] [--detach] [--pid-file FILE] ID
                create and start; without --detach wait and pass its status on
  state ID      print the container's state as JSON
  kill [--all] ID [SIGNAL]
                send SIGNAL (default SIGTERM) to the init, or to every process
  delete [--force] ID
                remove a stopped container (--force kills a running one)
  ps [--format table|json] ID
                list the host pids of the container's processes
  exec [--process FILE] [--detach] [--pid-file FILE] [--console-socket SOCK]
       [--tty] [--cwd DIR] [--env K=V] ID [PROG [ARGS…]]
                run another process in a running container
  pause ID, resume ID
                freeze and thaw every process (cgroup freezer)
  update [--resources FILE|-] [--memory BYTES] [--pids-limit N] ID
                change the resources of the container's cgroup
  list          the containers under --root
  spec [--bundle DIR] [--rootless]
                write runc's starter config.json into DIR (default: here);
                --rootless: runc's variant for a user without root
  features      what this runtime supports, as JSON

Errors are printed on stderr and, with --log, appended to FILE as a JSON
line ({"level":"error","msg":…}), where containerd's shim reads them.
The containers' state lives in --root (default /run/tw-runc), one
directory per container: state.json and, until start, the gate exec.fifo.

Rootless, as runc: a user without root runs a bundle with a user namespace
and uid/gid mappings (tw-unpack --rootless makes one), its state by default
in $XDG_RUNTIME_DIR/tw-runc. Mappings other than the user's own uid and gid
go through newuidmap/newgidmap (/etc/subuid, /etc/subgid). Where the user
may not make a cgroup (below its own on cgroup v2 without cgroupsPath), the
container has none unless it sets limits or cgroupsPath (--rootless=false:
fail as root would).
`

// globals are runc's global options, and the engine's directory of
// containers they name.
type globals struct {
	engine.Runtime
	log, logFormat string
	debug          bool
}

type command struct {
	name string
	run  func(g *globals, args []string, stdio cli.IO) error
}

// commands are sorted by name; a slice, not a map, so that nothing of
// tw-runc runs at the start of every tw process.
var commands = []command{
	{"create", cmdCreate},
	{"delete", cmdDelete},
	{"exec", cmdExec},
	{"features", cmdFeatures},
	{"init", cmdInit}, // the container's init; internal
	{"kill", cmdKill},
	{"list", cmdList},
	{"pause", cmdPause},
	{"ps", cmdPs},
	{"resume", cmdResume},
	{"run", cmdRun},
	{"spec", cmdSpec},
	{"start", cmdStart},
	{"state", cmdState},
	{"update", cmdUpdate},
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func Main(args []string, stdio cli.IO) error {
	fs := cli.NewFlagSet("runc", false)
	var g globals
	euid, userns := os.Geteuid(), engine.InUserNS()
	root, xdg := engine.DefaultRoot(euid, userns, os.LookupEnv)
	fs.StringVar(&g.Root, "root", root, "keep the containers' state in `DIR`")
	fs.StringVar(&g.log, "log", "", "append errors to `FILE`")
	fs.StringVar(&g.logFormat, "log-format", "text", "log as text or json")
	fs.BoolVar(&g.debug, "debug", false, "accepted for runc compatibility")
	fs.BoolVar(&g.SystemdCgroup, "systemd-cgroup", false, "read cgroupsPath as slice:prefix:name")
	fs.String("criu", "", "accepted for runc compatibility")
	rootless := fs.String("rootless", "auto", "ignore cgroup permission errors (true, false, auto)")
	fs.Bool("version", false, "")
	fs.MarkHidden("version")
	if done, err := cli.Parse(fs, args, usage, stdio.Stdout); done || err != nil {
		return err
	}
	if v, _ := fs.GetBool("version"); v {
		fmt.Fprintf(stdio.Stdout, "tw-runc version %s\nspec: %s\n", engine.Version, engine.SpecVersion)
		return nil
	}
	if fs.NArg() == 0 {
		return cli.Usagef("no command given")
	}
	var err error
	if g.RootlessCgroups, err = engine.RootlessCgroups(*rootless, euid, userns); err != nil {
		return cli.Usagef("%v", err)
	}
	if xdg && !fs.Changed("root") {
		if err := engine.MakeXDGRoot(g.Root); err != nil {
			return err
		}
	}
	name := fs.Arg(0)
	c, ok := lookup(name)
	if !ok || (name == "init" && !engine.IsInit()) {
		return cli.Usagef("unknown command: %s", name)
	}
	g.Warn = func(msg string) { g.logf("warning", "%s", msg) }
	err = c.run(&g, fs.Args()[1:], stdio)
	if err != nil && name != "init" {
		g.logError(err)
	}
	return err
}

// logError appends err to the --log file as runc's logrus does: in JSON
// for containerd's shim, which shows the msg of the last error line.
func (g *globals) logError(err error) {
	var ee *cli.ExitError
	if errors.As(err, &ee) && ee.Silent {
		return
	}
	g.logf("error", "%v", err)
}

// logf appends one line of level to the --log file, and a warning to
// stderr too.
func (g *globals) logf(level, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if level == "warning" {
		fmt.Fprintf(os.Stderr, "tw-runc: warning: %s\n", msg)
	}
	if g.log == "" {
		return
	}
	f, err := os.OpenFile(g.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	now := time.Now().Format(time.RFC3339Nano)
	if g.logFormat == "json" {
		line, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": now})
		fmt.Fprintf(f, "%s\n", line)
		return
	}
	fmt.Fprintf(f, "time=%q level=%s msg=%q\n", now, level, msg)
}
